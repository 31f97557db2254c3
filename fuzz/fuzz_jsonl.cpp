// Fuzzes record parsing: arbitrary bytes as one JSONL chunk.
// Checks: no crash; exactly one record per line, in order, whose raw bytes
// rebuild the chunk; every ok record's text and id are valid UTF-8; and the
// JSON string writer's output parses back to the (repaired) bytes.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "neardup/io.hpp"

namespace io = neardup::io;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static io::record_parser parser;
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  io::record_options options;
  if (mode & 1) options.text_field = "/t/0";
  if (mode & 2) options.id_field = "/i";
  if (mode & 4) options.id_field = "";

  io::input_chunk chunk;
  chunk.byte_offset = (mode & 8) ? 0 : 7;
  chunk.first_line = 1;
  chunk.data.assign(bytes);

  std::string rebuilt;
  std::uint64_t expected_line = 1;
  io::parse_chunk(chunk, options, parser, [&](const io::record& r) {
    check(r.line == expected_line++);
    check(r.byte_offset == chunk.byte_offset + rebuilt.size());
    rebuilt.append(r.raw);
    rebuilt.push_back('\n');
    if (r.status == io::record_status::ok) {
      check(valid_utf8(r.text));
      check(valid_utf8(r.id));  // strings are repaired, numbers and bools are ASCII
    } else {
      check(r.text.empty() && !r.error.empty());
    }
  });
  if (!bytes.empty() && bytes.back() != '\n') rebuilt.pop_back();
  check(rebuilt == bytes);

  // Whole-file document path.
  chunk.whole_file_document = true;
  int docs = 0;
  io::parse_chunk(chunk, options, parser, [&](const io::record& r) {
    ++docs;
    check(r.raw == bytes && valid_utf8(r.text));
  });
  check(docs == 1);

  // Writer -> reader round trip: {"text": <escaped bytes>} parses back.
  std::string line = "{\"text\":";
  io::append_json_string(line, bytes);
  line += "}";
  check(valid_utf8(line));
  io::input_chunk one;
  one.byte_offset = 1;
  one.data.assign(line);
  io::parse_chunk(one, {}, parser, [&](const io::record& r) {
    check(r.status == io::record_status::ok);
    std::string a, b;
    io::append_json_string(a, r.text);
    io::append_json_string(b, bytes);
    check(a == b);
  });
  return 0;
}

// Tests of neardup::io: sources, decompression, chunking, record parsing,
// atomic outputs, JSON/TSV writing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "neardup/io.hpp"
#include "neardup/utf8.hpp"
#include "test_util.hpp"

namespace io = neardup::io;
namespace fs = std::filesystem;

namespace {

using neardup_test::small_scale;
using neardup_test::zstd_decompress;

class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "neardup_io_test_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  std::string operator/(std::string_view name) const { return (fs::path(path_) / name).string(); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

void write_file(const std::string& path, std::string_view bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string gzip(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(std::string_view data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A record with owned strings, for comparing after the chunk is gone.
struct rec {
  std::string source;
  std::uint64_t line;
  std::uint64_t offset;
  std::string raw, text, id;
  io::record_status status;
  std::uint8_t flags;
};

std::vector<rec> read_all(const std::vector<io::source_info>& sources, const io::record_options& ro = {},
                          std::size_t chunk_bytes = 64) {
  std::vector<rec> out;
  io::corpus_reader reader(sources, {.chunk_bytes = chunk_bytes});
  io::input_chunk chunk;
  io::record_parser parser;
  while (reader.next(chunk)) {
    io::parse_chunk(chunk, ro, parser, [&](const io::record& r) {
      out.push_back({std::string(chunk.source_name), r.line, r.byte_offset, std::string(r.raw), std::string(r.text),
                     std::string(r.id), r.status, r.flags});
    });
  }
  return out;
}

std::vector<rec> read_paths(const std::vector<std::string>& paths, const io::record_options& ro = {},
                            std::size_t chunk_bytes = 64) {
  return read_all(io::expand_inputs(paths).sources, ro, chunk_bytes);
}

// Parses a single line held in a chunk.
rec parse_one(std::string_view line, const io::record_options& ro = {}) {
  io::input_chunk chunk;
  chunk.byte_offset = 100;  // not at the start of a file: no BOM handling
  chunk.data.assign(line);
  io::record_parser parser;
  std::vector<rec> out;
  io::parse_chunk(chunk, ro, parser, [&](const io::record& r) {
    out.push_back({"", r.line, r.byte_offset, std::string(r.raw), std::string(r.text), std::string(r.id), r.status,
                   r.flags});
  });
  EXPECT_EQ(out.size(), 1u) << line;
  return out.empty() ? rec{} : out[0];
}

std::string make_jsonl(int n, std::string_view prefix = "doc") {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += R"({"id":")" + std::string(prefix) + std::to_string(i) + R"(","text":"line )" + std::to_string(i) +
         R"( with some words \"quoted\" \u00e9"})" + "\n";
  }
  return s;
}

std::string expect_runtime_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected std::runtime_error";
  return {};
}

}  // namespace

// ---------------------------------------------------------------- records

TEST(Record, ParsesTextAndId) {
  const rec r = parse_one(R"({"id":"a1","text":"hello\nworld \"q\" \u00e9 \ud83d\ude00","x":[1,2,{"y":null}]})");
  EXPECT_EQ(r.status, io::record_status::ok);
  EXPECT_EQ(r.text, "hello\nworld \"q\" \xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(r.id, "a1");
  EXPECT_EQ(r.flags, 0);
}

TEST(Record, NumericAndMissingIds) {
  EXPECT_EQ(parse_one(R"({"id": 12.5e3 , "text":"a"})").id, "12.5e3");
  EXPECT_EQ(parse_one(R"({"id":true,"text":"a"})").id, "true");
  EXPECT_EQ(parse_one(R"({"id":null,"text":"a"})").id, "");
  EXPECT_EQ(parse_one(R"({"id":[1],"text":"a"})").id, "");
  EXPECT_EQ(parse_one(R"({"text":"a"})").id, "");
  EXPECT_EQ(io::default_record_id("x/y.jsonl", 7), "x/y.jsonl:7");
}

TEST(Record, StatusOfBadLines) {
  EXPECT_EQ(parse_one(" \t\r").status, io::record_status::blank);
  EXPECT_EQ(parse_one(R"({"text":"a")").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one(R"({"text":"a"} junk)").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one(R"({"text":"a"}})").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one(R"({"text":"a"}{"text":"b"})").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one(R"({"a" 1})").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one(R"({"text":"bad \x escape"})").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one("not json").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one("[1,,2]").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one("nul").status, io::record_status::malformed_json);
  EXPECT_EQ(parse_one("null").status, io::record_status::not_object);
  EXPECT_EQ(parse_one("[1,2]").status, io::record_status::not_object);
  EXPECT_EQ(parse_one(R"("just a string")").status, io::record_status::not_object);
  EXPECT_EQ(parse_one(R"({"id":"x"})").status, io::record_status::missing_text);
  EXPECT_EQ(parse_one(R"({"text":null})").status, io::record_status::missing_text);
  EXPECT_EQ(parse_one(R"({"text":5})").status, io::record_status::text_not_string);
  EXPECT_EQ(parse_one(R"({"text":["a"]})").status, io::record_status::text_not_string);
  EXPECT_EQ(parse_one(R"({"text":{"a":1}})").status, io::record_status::text_not_string);
  // Malformed records still carry their raw bytes (for reporting).
  EXPECT_EQ(parse_one("not json").raw, "not json");
  EXPECT_EQ(neardup::name(io::record_status::text_not_string), "text_not_string");
}

TEST(Record, TextTokenLocatesTheLiteralInRaw) {
  io::input_chunk chunk;
  chunk.byte_offset = 1;
  chunk.data.assign("{\"id\":1, \"text\" : \"a\\nb\"  , \"x\":2}\n{\"text\":\"bad \xFF\"}\n{\"text\":7}");
  io::record_parser parser;
  std::vector<std::string> tokens;
  io::parse_chunk(chunk, {}, parser, [&](const io::record& r) { tokens.emplace_back(r.text_token); });
  // In place: the literal as written; repaired lines and non-strings: empty.
  EXPECT_EQ(tokens, (std::vector<std::string>{"\"a\\nb\"", "", ""}));
}

TEST(Record, ForEachLineAndBlankLinesAgreeWithParseChunk) {
  io::input_chunk chunk;
  chunk.byte_offset = 0;
  chunk.first_line = 1;
  chunk.data.assign("\xEF\xBB\xBF \r\n{\"text\":\"a\"}\n\t\n\xEF\xBB\xBF\nx");
  std::vector<bool> blank_by_bytes;
  std::vector<std::uint64_t> lines;
  io::for_each_line(chunk, [&](std::size_t b, std::size_t e, std::uint64_t line) {
    blank_by_bytes.push_back(io::is_blank_record_line({chunk.data.data() + b, e - b}, chunk.byte_offset + b));
    lines.push_back(line);
  });
  std::vector<bool> blank_by_parse;
  io::record_parser parser;
  io::parse_chunk(chunk, {}, parser,
                  [&](const io::record& r) { blank_by_parse.push_back(r.status == io::record_status::blank); });
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  // A BOM is only ignored at the start of a source: line 4 is not blank.
  EXPECT_EQ(blank_by_bytes, (std::vector<bool>{true, false, true, false, false}));
  EXPECT_EQ(blank_by_parse, blank_by_bytes);
}

TEST(Record, DuplicateKeysLastWins) {
  EXPECT_EQ(parse_one(R"({"text":"first","text":"second"})").text, "second");
}

TEST(Record, LoneSurrogatesBecomeReplacementChar) {
  const rec hi = parse_one(R"({"text":"a\ud800b","id":"x\udc00"})");
  EXPECT_EQ(hi.status, io::record_status::ok);
  EXPECT_EQ(hi.text, "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(hi.id, "x\xEF\xBF\xBD");
  EXPECT_TRUE(hi.flags & io::record_flags::lone_surrogate);
  const rec two = parse_one(R"({"text":"\ud800\u0041 \udc00\ud800 \ud83d\ude00"})");
  EXPECT_EQ(two.status, io::record_status::ok);
  EXPECT_EQ(two.text, "\xEF\xBF\xBD" "A \xEF\xBF\xBD\xEF\xBF\xBD \xF0\x9F\x98\x80");
}

TEST(Record, InvalidUtf8IsReplacedAndFlagged) {
  const rec r = parse_one("{\"text\":\"caf\xE9 \xF0\x9F\x98 ok \xC3\xA9\",\"id\":\"\xFF\"}");
  EXPECT_EQ(r.status, io::record_status::ok);
  EXPECT_EQ(r.text, "caf\xEF\xBF\xBD \xEF\xBF\xBD ok \xC3\xA9");
  EXPECT_EQ(r.id, "\xEF\xBF\xBD");
  EXPECT_TRUE(r.flags & io::record_flags::invalid_utf8);
  EXPECT_EQ(r.raw, "{\"text\":\"caf\xE9 \xF0\x9F\x98 ok \xC3\xA9\",\"id\":\"\xFF\"}");  // raw untouched
  // Invalid UTF-8 outside a string cannot be repaired into JSON.
  EXPECT_EQ(parse_one("{\"text\":\"a\"}\xFF").status, io::record_status::malformed_json);
}

TEST(Record, RawControlCharsAcceptedAndFlagged) {
  const rec r = parse_one("{\"text\":\"a\tb\x01" "c\"}");
  EXPECT_EQ(r.status, io::record_status::ok);
  EXPECT_EQ(r.text, "a\tb\x01" "c");
  EXPECT_TRUE(r.flags & io::record_flags::control_chars);
  // A tab between tokens is ordinary whitespace.
  const rec ws = parse_one("{\"text\":\t\"a\"}");
  EXPECT_EQ(ws.status, io::record_status::ok);
  EXPECT_EQ(ws.flags, 0);
}

TEST(Record, FieldOptionsAndJsonPointers) {
  const std::string line = R"({"content":"c","meta":{"uid":7,"src":"w"},"text":"t"})";
  EXPECT_EQ(parse_one(line, {.text_field = "content", .id_field = "meta"}).text, "c");
  const rec p = parse_one(line, {.text_field = "content", .id_field = "/meta/uid"});
  EXPECT_EQ(p.status, io::record_status::ok);
  EXPECT_EQ(p.text, "c");
  EXPECT_EQ(p.id, "7");
  const rec q = parse_one(line, {.text_field = "/meta/src", .id_field = ""});
  EXPECT_EQ(q.text, "w");
  EXPECT_EQ(q.id, "");
  EXPECT_EQ(parse_one(line, {.text_field = "/meta/none", .id_field = "id"}).status, io::record_status::missing_text);
  // Both looked up by pointer: the id lookup must not clobber the text.
  const rec both = parse_one(R"({"t":["text \n value"],"i":"the id"})", {.text_field = "/t/0", .id_field = "/i"});
  EXPECT_EQ(both.text, "text \n value");
  EXPECT_EQ(both.id, "the id");
  EXPECT_EQ(parse_one(line, {.text_field = "/meta/uid", .id_field = "id"}).status,
            io::record_status::text_not_string);
}

TEST(Record, EveryLineOfAChunkYieldsOneRecordInOrder) {
  io::input_chunk chunk;
  chunk.first_line = 10;
  chunk.byte_offset = 5;
  chunk.data.assign("{\"text\":\"a\"}\n\nbad\n{\"text\":\"b\"}");
  io::record_parser parser;
  std::vector<std::uint64_t> lines, offsets;
  std::vector<io::record_status> st;
  io::parse_chunk(chunk, {}, parser, [&](const io::record& r) {
    lines.push_back(r.line);
    offsets.push_back(r.byte_offset);
    st.push_back(r.status);
  });
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{10, 11, 12, 13}));
  EXPECT_EQ(offsets, (std::vector<std::uint64_t>{5, 18, 19, 23}));
  EXPECT_EQ(st, (std::vector<io::record_status>{io::record_status::ok, io::record_status::blank,
                                                io::record_status::malformed_json, io::record_status::ok}));
}

// ---------------------------------------------------------------- reading files

TEST(Reader, PlainGzipZstdGiveTheSameRecords) {
  temp_dir d;
  const std::string data = make_jsonl(200);
  write_file(d / "a.jsonl", data);
  write_file(d / "a.jsonl.gz", gzip(data));
  write_file(d / "a.jsonl.zst", zstd(data));
  const auto plain = read_paths({d / "a.jsonl"});
  ASSERT_EQ(plain.size(), 200u);
  for (const std::string name : {"a.jsonl.gz", "a.jsonl.zst"}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{100}, std::size_t{1} << 20}) {
      const auto got = read_paths({d / name}, {}, chunk);
      ASSERT_EQ(got.size(), plain.size()) << name;
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].raw, plain[i].raw);
        EXPECT_EQ(got[i].text, plain[i].text);
        EXPECT_EQ(got[i].line, i + 1);
        EXPECT_EQ(got[i].offset, plain[i].offset);
      }
    }
  }
  EXPECT_EQ(plain[3].id, "doc3");
  EXPECT_EQ(plain[3].text, "line 3 with some words \"quoted\" \xC3\xA9");
}

TEST(Reader, MultiMemberGzipAndMultiFrameZstd) {
  temp_dir d;
  const std::string a = make_jsonl(50, "a"), b = make_jsonl(70, "b");
  // The member/frame boundary falls inside a line: lines span members.
  const std::string all = a + b;
  const std::size_t cut = a.size() + 17;
  write_file(d / "m.jsonl.gz", gzip(all.substr(0, cut)) + gzip(all.substr(cut)) + gzip(""));
  write_file(d / "m.jsonl.zst", zstd(all.substr(0, cut)) + zstd("") + zstd(all.substr(cut)));
  for (const std::string name : {"m.jsonl.gz", "m.jsonl.zst"}) {
    const auto got = read_paths({d / name}, {}, 256);
    ASSERT_EQ(got.size(), 120u) << name;
    EXPECT_EQ(got[50].id, "b0");
    EXPECT_EQ(got[119].id, "b69");
    for (const auto& r : got) EXPECT_EQ(r.status, io::record_status::ok);
  }
}

TEST(Reader, GzipTrailingZerosToleratedGarbageRejected) {
  temp_dir d;
  const std::string z = gzip(make_jsonl(3));
  write_file(d / "zeros.jsonl.gz", z + std::string(512, '\0'));
  EXPECT_EQ(read_paths({d / "zeros.jsonl.gz"}).size(), 3u);
  write_file(d / "junk.jsonl.gz", z + "junk");
  const std::string msg = expect_runtime_error([&] { read_paths({d / "junk.jsonl.gz"}); });
  EXPECT_NE(msg.find("junk.jsonl.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("trailing garbage"), std::string::npos) << msg;
}

TEST(Reader, TruncatedAndCorruptStreamsNameTheFile) {
  temp_dir d;
  const std::string data = make_jsonl(2000);
  const std::string gz = gzip(data), zs = zstd(data);
  write_file(d / "t.jsonl.gz", gz.substr(0, gz.size() / 2));
  write_file(d / "t.jsonl.zst", zs.substr(0, zs.size() / 2));
  write_file(d / "t2.jsonl.gz", gz.substr(0, gz.size() - 4));  // only the trailer's size field missing
  std::string bad = gz;
  for (std::size_t i = 20; i < 60; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  write_file(d / "c.jsonl.gz", bad);
  std::string badz = zs;
  for (std::size_t i = 20; i < 60; ++i) badz[i] = static_cast<char>(badz[i] ^ 0x5a);
  write_file(d / "c.jsonl.zst", badz);
  write_file(d / "e.jsonl.gz", "");
  write_file(d / "e.jsonl.zst", "");
  for (const std::string name : {"t.jsonl.gz", "t.jsonl.zst", "t2.jsonl.gz", "c.jsonl.gz", "c.jsonl.zst",
                                 "e.jsonl.gz", "e.jsonl.zst"}) {
    const std::string msg = expect_runtime_error([&] { read_paths({d / name}, {}, 4096); });
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
  const std::string msg = expect_runtime_error([&] { read_paths({d / "t.jsonl.zst"}); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(Reader, LinesEdgeCases) {
  temp_dir d;
  // BOM, CRLF, blank lines, invalid UTF-8 in the middle, last line without '\n'.
  const std::string data =
      "\xEF\xBB\xBF{\"text\":\"bom\"}\r\n"
      "{\"text\":\"crlf\"}\r\n"
      "\n"
      "   \n"
      "{\"text\":\"bad \xFF utf8\"}\n"
      "{\"text\":\"after\"}\n"
      "{\"nope\":1}\n"
      "{\"text\":\"last\"}";
  write_file(d / "e.jsonl", data);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 16}) {
    const auto got = read_paths({d / "e.jsonl"}, {}, chunk);
    ASSERT_EQ(got.size(), 8u);
    EXPECT_EQ(got[0].status, io::record_status::ok);
    EXPECT_EQ(got[0].text, "bom");
    EXPECT_EQ(got[0].raw, "\xEF\xBB\xBF{\"text\":\"bom\"}\r");
    EXPECT_TRUE(got[0].flags & io::record_flags::bom);
    EXPECT_EQ(got[1].text, "crlf");
    EXPECT_EQ(got[1].raw, "{\"text\":\"crlf\"}\r");
    EXPECT_EQ(got[2].status, io::record_status::blank);
    EXPECT_EQ(got[3].status, io::record_status::blank);
    EXPECT_EQ(got[4].status, io::record_status::ok);
    EXPECT_EQ(got[4].text, "bad \xEF\xBF\xBD utf8");
    EXPECT_EQ(got[5].text, "after");
    EXPECT_EQ(got[6].status, io::record_status::missing_text);
    EXPECT_EQ(got[7].text, "last");
    EXPECT_EQ(got[7].raw, "{\"text\":\"last\"}");
    EXPECT_EQ(got[7].line, 8u);
    // raw + '\n' reproduces the file (plus the final newline it lacked).
    std::string rebuilt;
    for (const auto& r : got) rebuilt += r.raw + "\n";
    EXPECT_EQ(rebuilt, data + "\n");
  }
}

TEST(Reader, HugeSingleLine) {
  temp_dir d;
  // ~100 MB plain (4 MB under NEARDUP_TEST_SCALE=small); a quarter of that
  // through zstd, which exercises the same growth path.
  const std::size_t big = small_scale() ? (std::size_t{4} << 20) : (std::size_t{100} << 20);
  const auto make = [](std::size_t n) {
    std::string data = "{\"id\":\"small\",\"text\":\"x\"}\n{\"id\":\"big\",\"text\":\"";
    data.append(n, 'a');
    data += "\"}\n{\"text\":\"tail\"}\n";
    return data;
  };
  write_file(d / "big.jsonl", make(big));
  write_file(d / "big.jsonl.zst", zstd(make(big / 4), 1));
  for (const std::string name : {"big.jsonl", "big.jsonl.zst"}) {
    const std::size_t n = name == "big.jsonl" ? big : big / 4;
    const auto sources = io::expand_inputs({d / name}).sources;
    io::corpus_reader reader(sources, {.chunk_bytes = 1 << 20});
    io::input_chunk chunk;
    io::record_parser parser;
    std::vector<std::pair<std::uint64_t, std::size_t>> seen;  // line, text size
    io::record_options no_limit;
    no_limit.max_line_bytes = 0;  // past the default --max-line-mb
    while (reader.next(chunk)) {
      io::parse_chunk(chunk, no_limit, parser, [&](const io::record& r) {
        EXPECT_EQ(r.status, io::record_status::ok) << r.line;
        seen.emplace_back(r.line, r.text.size());
      });
    }
    ASSERT_EQ(seen.size(), 3u) << name;
    EXPECT_EQ(seen[1], (std::pair<std::uint64_t, std::size_t>{2, n}));
    EXPECT_EQ(seen[2].first, 3u);
  }
}

TEST(Reader, MissingAndUnreadableInputs) {
  temp_dir d;
  const std::string missing = d / "missing.jsonl";
  std::string msg = expect_runtime_error([&] { io::expand_inputs({missing}); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;

  // A file deleted between expansion and reading.
  write_file(d / "gone.jsonl", "{\"text\":\"a\"}\n");
  const auto sources = io::expand_inputs({d / "gone.jsonl"}).sources;
  fs::remove(d / "gone.jsonl");
  msg = expect_runtime_error([&] { read_all(sources); });
  EXPECT_NE(msg.find("gone.jsonl"), std::string::npos) << msg;

  write_file(d / "locked.jsonl", "{\"text\":\"a\"}\n");
  ::chmod((d / "locked.jsonl").c_str(), 0);
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: chmod 000 does not make a file unreadable";
  msg = expect_runtime_error([&] { read_paths({d / "locked.jsonl"}); });
  EXPECT_NE(msg.find("locked.jsonl"), std::string::npos) << msg;
}

TEST(Reader, RereadingGivesTheSameRecords) {
  temp_dir d;
  write_file(d / "x/a.jsonl", make_jsonl(30));
  write_file(d / "x/b.txt", "plain text");
  const auto sources = io::expand_inputs({d / "x"}).sources;
  const auto first = read_all(sources, {}, 100);
  const auto second = read_all(sources, {}, 1 << 20);
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].raw, second[i].raw);
    EXPECT_EQ(first[i].line, second[i].line);
  }
}

TEST(Reader, DuplicateIdsAreNotTheReadersBusiness) {
  temp_dir d;
  write_file(d / "dup.jsonl", "{\"id\":\"1\",\"text\":\"a\"}\n{\"id\":\"1\",\"text\":\"b\"}\n");
  const auto got = read_paths({d / "dup.jsonl"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, got[1].id);
}

// ---------------------------------------------------------------- directories

TEST(Directory, RecursiveSortedMixedKinds) {
  temp_dir d;
  const std::string root = d / "corpus";
  write_file(root + "/b/z.jsonl", "{\"id\":\"z1\",\"text\":\"zz\"}\n{\"text\":\"zz2\"}\n");
  write_file(root + "/a.txt", "text file a\n");
  write_file(root + "/a/x.md", "\xEF\xBB\xBFmarkdown \xFF x");
  write_file(root + "/a/y.jsonl.gz", gzip("{\"text\":\"from gz\"}\n"));
  write_file(root + "/a/w.txt.zst", zstd("compressed text doc"));
  write_file(root + "/.hidden", "hidden doc");
  write_file(root + "/empty.txt", "");
  write_file(root + "/empty.jsonl", "");
  ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0600), 0);

  const auto ex = io::expand_inputs({root});
  std::vector<std::string> names;
  for (const auto& s : ex.sources) names.push_back(s.name);
  // Byte order of the relative path: ".hidden" < "a.txt" < "a/..." ('.' < '/').
  std::vector<std::string> want = {".hidden", "a.txt", "a/w.txt.zst", "a/x.md", "a/y.jsonl.gz", "b/z.jsonl",
                                   "empty.jsonl", "empty.txt"};
  for (auto& w : want) w = root + "/" + w;  // names (and ids) start with the directory INPUT
  EXPECT_EQ(names, want);
  ASSERT_EQ(ex.skipped.size(), 1u);
  EXPECT_NE(ex.skipped[0].find("fifo"), std::string::npos);
  EXPECT_EQ(ex.sources[1].kind, io::source_kind::text_file);
  EXPECT_EQ(ex.sources[4].kind, io::source_kind::jsonl);
  EXPECT_EQ(ex.sources[4].codec, io::compression::gzip);

  const auto got = read_all(ex.sources);
  ASSERT_EQ(got.size(), 8u);  // 5 text docs (incl. empty) + 1 gz line + 2 lines
  EXPECT_EQ(got[0].id, root + "/.hidden");
  EXPECT_EQ(got[1].id, root + "/a.txt");
  EXPECT_EQ(got[1].text, "text file a\n");
  EXPECT_EQ(got[2].text, "compressed text doc");
  EXPECT_EQ(got[3].id, root + "/a/x.md");
  EXPECT_EQ(got[3].text, "markdown \xEF\xBF\xBD x");
  EXPECT_EQ(got[3].raw, "\xEF\xBB\xBFmarkdown \xFF x");
  EXPECT_TRUE(got[3].flags & io::record_flags::invalid_utf8);
  EXPECT_TRUE(got[3].flags & io::record_flags::bom);
  EXPECT_EQ(got[4].text, "from gz");
  EXPECT_EQ(got[5].id, "z1");
  EXPECT_EQ(got[6].line, 2u);
  EXPECT_EQ(got[7].id, root + "/empty.txt");
  EXPECT_EQ(got[7].text, "");

  const auto no_hidden = io::expand_inputs({root}, {.skip_hidden = true});
  EXPECT_EQ(no_hidden.sources.size(), 7u);
}

TEST(Directory, SymlinkLoopsAreWalkedOnce) {
  temp_dir d;
  const std::string root = d / "loop";
  write_file(root + "/sub/f.txt", "doc");
  fs::create_directory_symlink(root, root + "/sub/back");  // loop
  fs::create_symlink(root + "/sub/f.txt", root + "/link.txt");
  fs::create_symlink(root + "/nowhere", root + "/dangling");
  EXPECT_THROW((void)io::expand_inputs({root}), std::runtime_error);  // the dangling link
  const auto ex = io::expand_inputs({root}, {.skip_unreadable = true});
  std::vector<std::string> names;
  for (const auto& s : ex.sources) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{root + "/link.txt", root + "/sub/f.txt"}));
  EXPECT_EQ(ex.skipped.size(), 1u);  // the loop
  ASSERT_EQ(ex.unreadable.size(), 1u);
  EXPECT_NE(ex.unreadable[0].find("dangling"), std::string::npos);
}

TEST(Directory, InputsKeepCommandLineOrder) {
  temp_dir d;
  write_file(d / "z.jsonl", "{\"text\":\"z\"}\n");
  write_file(d / "dir/a.jsonl", "{\"text\":\"a\"}\n");
  const auto got = read_paths({d / "z.jsonl", d / "dir"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].text, "z");
  EXPECT_EQ(got[0].source, d / "z.jsonl");
  EXPECT_EQ(got[1].source, d / "dir/a.jsonl");
}

TEST(Names, Extensions) {
  EXPECT_EQ(io::compression_from_name("a.jsonl.gz"), io::compression::gzip);
  EXPECT_EQ(io::compression_from_name("a.jsonl.zst"), io::compression::zstd);
  EXPECT_EQ(io::compression_from_name("a.jsonl.zstd"), io::compression::zstd);
  EXPECT_EQ(io::compression_from_name("a.jsonl"), io::compression::none);
  EXPECT_TRUE(io::is_jsonl_name("x/a.jsonl.gz"));
  EXPECT_TRUE(io::is_jsonl_name("a.ndjson"));
  EXPECT_TRUE(io::is_jsonl_name("a.json.zst"));
  EXPECT_FALSE(io::is_jsonl_name("a.txt.gz"));
  EXPECT_FALSE(io::is_jsonl_name("jsonl/readme"));
}

// ---------------------------------------------------------------- outputs

TEST(AtomicFile, CommitRenames) {
  temp_dir d;
  const std::string path = d / "out.jsonl";
  {
    io::atomic_file f(path, {.buffer_bytes = 8});
    f.write_line("hello");
    f.write(std::string(100, 'x'));
    f.put('\n');
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(f.temp_path()));
    f.commit();
    EXPECT_TRUE(f.committed());
    EXPECT_EQ(f.bytes_written(), 107u);
  }
  EXPECT_EQ(read_file(path), "hello\n" + std::string(100, 'x') + "\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(d.str()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, NoFileAfterAnException) {
  temp_dir d;
  const std::string path = d / "out.tsv";
  std::string temp;
  try {
    io::atomic_file f(path);
    temp = f.temp_path();
    f.write("partial");
    throw std::logic_error("boom");
  } catch (const std::logic_error&) {
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(temp));
  // An existing file is only replaced on commit.
  write_file(path, "old");
  {
    io::atomic_file f(path);
    f.write("new");
  }
  EXPECT_EQ(read_file(path), "old");
}

TEST(AtomicFile, ZstdRoundTrips) {
  temp_dir d;
  const std::string path = d / "out.jsonl.zst";
  std::string expected;
  {
    io::atomic_file f(path, {.compression = io::output_compression_from_name(path), .buffer_bytes = 1000});
    for (int i = 0; i < 5000; ++i) {
      const std::string line = "{\"id\":" + std::to_string(i) + "}";
      f.write_line(line);
      expected += line + "\n";
    }
    f.write(std::string(5000, 'q'));  // larger than the buffer
    expected += std::string(5000, 'q');
    f.commit();
  }
  const std::string compressed = read_file(path);
  EXPECT_LT(compressed.size(), expected.size() / 3);
  EXPECT_EQ(zstd_decompress(compressed), expected);
  // And it reads back through the reader.
  EXPECT_EQ(read_paths({path}).size(), 5001u);
}

TEST(AtomicFile, ErrorsNameTheFile) {
  temp_dir d;
  const std::string path = d / "no/such/dir/out.txt";
  const std::string msg = expect_runtime_error([&] { io::atomic_file f(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_THROW(io::atomic_file(d / "x", {.compression = io::output_compression::zstd, .zstd_level = 40}),
               std::invalid_argument);
}

TEST(AtomicFile, WriteFailureNamesTheFileAndLeavesNothing) {
  // A file-size limit makes write() fail with EFBIG, like a full disk.
  temp_dir d;
  const std::string path = d / "big.out";
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = 1 << 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  std::string msg;
  try {
    io::atomic_file f(path, {.buffer_bytes = 4096});
    for (int i = 0; i < 100; ++i) f.write(std::string(4096, 'x'));
    f.commit();
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(std::distance(fs::directory_iterator(d.str()), fs::directory_iterator()), 0);
}

// Bytes that are not text (so nothing can depend on lines), from a fixed LCG.
std::string pattern_bytes(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// A file descriptor closed at the end of the scope.
struct open_fd {
  explicit open_fd(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~open_fd() {
    if (fd >= 0) ::close(fd);
  }
  open_fd(const open_fd&) = delete;
  open_fd& operator=(const open_fd&) = delete;
  int fd;
};

TEST(AtomicFile, CopyFromCopiesByteRangesAmongBufferedWrites) {
  temp_dir d;
  const std::string src = pattern_bytes((std::size_t{3} << 20) + 17);
  write_file(d / "src.bin", src);
  const open_fd in(d / "src.bin");
  ASSERT_GE(in.fd, 0);
  // pread + write by default; NEARDUP_COPY_FILE_RANGE=1 lets the kernel copy;
  // zstd output always reads.
  for (const bool kernel : {true, false}) {
    for (const auto compression : {io::output_compression::none, io::output_compression::zstd}) {
      const bool zstd = compression == io::output_compression::zstd;
      const std::string what = std::string(kernel ? "kernel" : "read") + (zstd ? ", zstd" : "");
      if (kernel) ::setenv("NEARDUP_COPY_FILE_RANGE", "1", 1);
      const std::string path = d / "out.bin";
      std::string expected;
      {
        io::atomic_file f(path, {.compression = compression, .buffer_bytes = 4096});
        f.write("head");
        expected += "head";
        EXPECT_EQ(f.copy_from(in.fd, 10, 100), 100u) << what;
        expected += src.substr(10, 100);
        f.write_line("mid");
        expected += "mid\n";
        EXPECT_EQ(f.copy_from(in.fd, std::size_t{1} << 20, std::size_t{2} << 20), std::size_t{2} << 20) << what;
        expected += src.substr(std::size_t{1} << 20, std::size_t{2} << 20);
        EXPECT_EQ(f.copy_from(in.fd, 0, 0), 0u) << what;
        EXPECT_EQ(f.copy_from(in.fd, 0, 7), 7u) << what;
        expected += src.substr(0, 7);
        // The file ends first: a short count, nothing invented.
        EXPECT_EQ(f.copy_from(in.fd, src.size() - 5, 100), 5u) << what;
        expected += src.substr(src.size() - 5);
        EXPECT_EQ(f.copy_from(in.fd, src.size() + 10, 5), 0u) << what;
        f.put('!');
        expected += '!';
        EXPECT_EQ(f.bytes_written(), expected.size()) << what;
        f.commit();
      }
      ::unsetenv("NEARDUP_COPY_FILE_RANGE");
      const std::string out = read_file(path);
      EXPECT_TRUE((zstd ? zstd_decompress(out) : out) == expected) << what;
      EXPECT_EQ(::lseek(in.fd, 0, SEEK_CUR), 0) << what;  // the input's offset is not moved
    }
  }
}

TEST(AtomicFile, CopyFromADeviceReadsAndWrites) {
  // copy_file_range(2) refuses /dev/zero (not a regular file): copy_from
  // reads and writes instead. A regular file afterwards is copied again.
  temp_dir d;
  const open_fd zero("/dev/zero");
  ASSERT_GE(zero.fd, 0);
  const std::string src = pattern_bytes(100'000);
  write_file(d / "src.bin", src);
  const open_fd in(d / "src.bin");
  const std::string path = d / "out.bin";
  {
    io::atomic_file f(path);
    EXPECT_EQ(f.copy_from(zero.fd, 0, (std::size_t{3} << 20) + 1), (std::size_t{3} << 20) + 1);
    EXPECT_EQ(f.copy_from(in.fd, 1, src.size()), src.size() - 1);
    EXPECT_EQ(f.copy_from(zero.fd, 12345, 3), 3u);
    f.commit();
  }
  EXPECT_TRUE(read_file(path) == std::string((std::size_t{3} << 20) + 1, '\0') + src.substr(1) + std::string(3, '\0'));
}

TEST(AtomicFile, CopyFromAPipeFailsNamingTheFile) {
  temp_dir d;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(::write(pipe_fds[1], "abc", 3), 3);
  const std::string path = d / "out.bin";
  const std::string msg = expect_runtime_error([&] {
    io::atomic_file f(path);
    f.copy_from(pipe_fds[0], 0, 3);
  });
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_EQ(std::distance(fs::directory_iterator(d.str()), fs::directory_iterator()), 0);
}

TEST(AtomicFile, WriteFileAtomic) {
  temp_dir d;
  io::write_file_atomic(d / "s.json", "{}\n");
  EXPECT_EQ(read_file(d / "s.json"), "{}\n");
}

// ---------------------------------------------------------------- JSON / TSV

TEST(Json, StringEscaping) {
  std::string s;
  io::append_json_string(s, "a\"b\\c\n\t\r\b\f\x01\x1f\x7f \xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\x7f \xC3\xA9 \xF0\x9F\x98\x80\"");
  s.clear();
  io::append_json_string(s, "bad \xFF\xC3 x \xED\xA0\x80");  // invalid, truncated, surrogate
  EXPECT_EQ(s, "\"bad \xEF\xBF\xBD\xEF\xBF\xBD x \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

// Repair writes one U+FFFD per maximal invalid subpart of utf8::decode, the
// decoder the tokenizers use too (Unicode's Table 3-8 example).
TEST(Json, RepairWritesOneReplacementPerMaximalSubpart) {
  const std::string_view bytes("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64");
  std::string want = "\"";
  for (std::size_t i = 0; i < bytes.size();) {
    const auto d = neardup::utf8::decode(bytes, i);
    want += d.code_point == neardup::utf8::invalid ? std::string("\xEF\xBF\xBD") : std::string(bytes.substr(i, d.length));
    i += d.length;
  }
  want += "\"";
  EXPECT_EQ(want, "\"a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d\"");
  std::string s;
  io::append_json_string(s, bytes);
  EXPECT_EQ(s, want);
  const rec r = parse_one("{\"text\":\"" + std::string(bytes) + "\"}");
  EXPECT_EQ(r.status, io::record_status::ok);
  EXPECT_EQ("\"" + r.text + "\"", want);
  EXPECT_TRUE(r.flags & io::record_flags::invalid_utf8);
}

TEST(Json, EscapedStringsParseBackThroughTheReader) {
  // Whatever the bytes, {"text": <escaped>} parses back to the (repaired) text.
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (const std::string& text : {std::string("plain"), all, std::string("\xF0\x9F\x98\x80 \\u0041")}) {
    std::string line = "{\"text\":";
    io::append_json_string(line, text);
    line += "}";
    const rec r = parse_one(line);
    ASSERT_EQ(r.status, io::record_status::ok) << line;
    std::string repaired;
    io::append_json_string(repaired, text);
    std::string again;
    io::append_json_string(again, r.text);
    EXPECT_EQ(again, repaired);
    EXPECT_EQ(r.flags, 0);
  }
}

TEST(Json, WriterPrettyAndCompact) {
  std::string out;
  io::json_writer w(out);
  w.begin_object();
  w.key("n");
  w.value(std::uint64_t{42});
  w.key("neg");
  w.value(std::int64_t{-3});
  w.key("x");
  w.value(0.25);
  w.key("nan");
  w.value(std::numeric_limits<double>::quiet_NaN());
  w.key("list");
  w.begin_array();
  w.value("a");
  w.value(true);
  w.null();
  w.end_array();
  w.key("empty");
  w.begin_object();
  w.end_object();
  w.end_object();
  EXPECT_EQ(out,
            "{\n  \"n\": 42,\n  \"neg\": -3,\n  \"x\": 0.25,\n  \"nan\": null,\n  \"list\": [\n    \"a\",\n    true,\n"
            "    null\n  ],\n  \"empty\": {}\n}");
  std::string c;
  io::json_writer cw(c, 0);
  cw.begin_object();
  cw.key("id");
  cw.value("a\tb");
  cw.key("v");
  cw.begin_array();
  cw.value(1);
  cw.value(2u);
  cw.end_array();
  cw.end_object();
  EXPECT_EQ(c, "{\"id\":\"a\\tb\",\"v\":[1,2]}");
}

TEST(Tsv, FieldEscaping) {
  std::string s;
  io::append_tsv_field(s, std::string_view("a\tb\nc\rd\\e \xFF \0", 13));
  // Invalid UTF-8 becomes U+FFFD, as in JSON strings; NUL is escaped.
  EXPECT_EQ(s, "a\\tb\\nc\\rd\\\\e \xEF\xBF\xBD \\0");
}

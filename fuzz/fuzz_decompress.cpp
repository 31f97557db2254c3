// Fuzzes compression detection (detect_magic, resolve_compression) and the
// reader's decompression and chunking: arbitrary bytes read as a .gz, a .zst
// and a plain source (JSONL and whole-file). Each read must end in
// data or a std::runtime_error, never a crash; chunks hold whole lines.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/io.hpp"

namespace io = neardup::io;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("neardup_fuzz", 0);
  if (fd < 0) std::abort();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);

  // Detection by magic bytes: any head gives a verdict or a std::runtime_error.
  const std::string_view head(reinterpret_cast<const char*>(data), size < 8 ? size : 8);
  (void)io::detect_magic(head);
  for (const char* name : {"fuzz.jsonl", "fuzz.jsonl.gz", "fuzz.zst"}) {
    std::string note;
    try {
      const io::compression c = io::resolve_compression(name, head, &note);
      check(c != io::compression::none || io::detect_magic(head) == io::magic::none);
    } catch (const std::runtime_error&) {
    }
  }

  for (const io::compression codec : {io::compression::gzip, io::compression::zstd, io::compression::none}) {
    for (const io::source_kind kind : {io::source_kind::jsonl, io::source_kind::text_file}) {
      std::vector<io::source_info> sources(1);
      sources[0].path = path;
      sources[0].name = "fuzz";
      sources[0].codec = codec;
      sources[0].kind = kind;
      io::corpus_reader reader(sources, {.chunk_bytes = 1 + size % 97});
      io::input_chunk chunk;
      std::uint64_t total = 0;
      std::uint64_t next_line = 1;
      bool last_complete = true;
      try {
        while (reader.next(chunk)) {
          check(last_complete);  // only the final chunk may end without '\n'
          check(chunk.byte_offset == total);
          total += chunk.data.size();
          if (kind == io::source_kind::jsonl) {
            check(!chunk.data.empty());
            check(chunk.first_line == next_line);
            for (char c : chunk.data.view()) next_line += c == '\n';
            last_complete = chunk.data.view().back() == '\n';
          }
        }
        if (codec == io::compression::none) check(total == size);
      } catch (const std::runtime_error&) {
        check(codec != io::compression::none);
      }
    }
  }
  return 0;
}

// Fuzzes the part reader of jobs/parts.hpp (what neardup.dask ships between
// workers): arbitrary bytes given as the part of a small fixed source must be
// refused with std::runtime_error / std::invalid_argument, or merged and run
// to the end (writing the outputs), never a crash or an out-of-bounds read.
// Byte 0 is a mode: bit 0 set means the trailing XXH3-64 checksum is set right
// first, so that mutations reach the field checks behind it; bit 1 selects
// `exact` (no signatures) instead of `dedup`. Seeds: fuzz/corpus/parts/ (parts
// of the fixed source made by scan_part, mode byte first).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/parts.hpp"

namespace {

namespace fs = std::filesystem;
namespace io = neardup::io;
namespace jobs = neardup::jobs;

// The source every part is merged against (same text as the seed corpus).
constexpr std::string_view kSource =
    "{\"id\":\"a\",\"text\":\"the quick brown fox jumps over the lazy dog\"}\n"
    "{\"id\":\"b\",\"text\":\"the quick brown fox jumps over the lazy cat\"}\n"
    "not json\n"
    "\n"
    "{\"text\":\"the quick brown fox jumps over the lazy dog\"}\n";

struct fixture {
  fs::path dir;
  std::vector<io::source_info> sources;
  fixture() {
    dir = fs::temp_directory_path() / ("neardup_fuzz_parts." + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "in.jsonl", std::ios::binary) << kSource;
    sources = io::expand_inputs({(dir / "in.jsonl").string()}).sources;
  }
  ~fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string part(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((mode & 1) && part.size() >= 8) {
    std::uint64_t sum = neardup::hash64(std::string_view(part).substr(0, part.size() - 8), 0);
    for (std::size_t i = 0; i < 8; ++i, sum >>= 8) part[part.size() - 8 + i] = static_cast<char>(sum & 0xFF);
  }
  jobs::dedup_options o;
  o.near = (mode & 2) == 0;
  o.threads = 1;
  o.max_reported_errors = 0;
  const std::vector<std::string_view> parts{part};
  const std::vector<std::uint32_t> part_sources{0};
  try {
    (void)jobs::run_dedup_parts(f.sources, parts, part_sources, (f.dir / "out").string(), o);
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

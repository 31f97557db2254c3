// Fuzzes `neardup report` over arbitrary run outputs: the input is split at
// "\n@@\n" into stats.json, evidence.tsv, near_misses.tsv, sources.tsv and
// false_merges.tsv (inputs are not re-read). Checks: no crash or sanitizer error; a malformed
// file is rejected with std::runtime_error; the page never holds a <script
// element, whatever the ids and names in the files.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "neardup/jobs/report.hpp"

namespace {

const std::string& run_dir() {
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path().string() + "/fuzz_report." + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const char* name : {"stats.json", "evidence.tsv", "near_misses.tsv", "sources.tsv", "false_merges.tsv"}) {
    const std::size_t cut = in.find("\n@@\n");
    std::ofstream(run_dir() + "/" + name, std::ios::binary | std::ios::trunc) << in.substr(0, cut);
    in = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 4);
  }
  neardup::jobs::report_options o;
  o.read_texts = false;
  try {
    const std::string page = neardup::jobs::render_report(run_dir(), o);
    if (page.find("<script") != std::string::npos) std::abort();
  } catch (const std::runtime_error&) {
  }
  return 0;
}

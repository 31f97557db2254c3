// Fuzzes the stored index's reader (jobs/stored_index.hpp) over arbitrary
// MANIFEST and segment bytes. Input: byte 0 even -> the rest is a MANIFEST;
// odd -> u16 documents, u16 kept (little-endian), then the bytes of a
// segment that a valid MANIFEST names with that size (the options below).
// Checks: no crash or sanitizer error; bad bytes give index_error; an index
// that opens answers query(), prior() and info().
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "neardup/hash.hpp"
#include "neardup/jobs/stored_index.hpp"

namespace {

namespace nj = neardup::jobs;

const std::string& dir() {
  static const std::string d = [] {
    std::string p = std::filesystem::temp_directory_path().string() + "/fuzz_stored_index." + std::to_string(::getpid());
    std::filesystem::remove_all(p);
    nj::index_settings s;  // the options of fuzz/corpus/stored_index/ (made with these)
    s.num_perm = 16;
    s.ngram = 2;
    s.threshold = 0.5;
    s.lsh = neardup::lsh_params{4, 4};
    nj::index_writer w(p, &s);  // writes a MANIFEST with no segment
    return p;
  }();
  return d;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string empty_manifest = read(dir() + "/MANIFEST");
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    write(dir() + "/MANIFEST", in);
  } else {
    if (in.size() < 4) return 0;
    const unsigned docs = static_cast<unsigned char>(in[0]) | static_cast<unsigned char>(in[1]) << 8;
    const unsigned kept = static_cast<unsigned char>(in[2]) | static_cast<unsigned char>(in[3]) << 8;
    in.remove_prefix(4);
    write(dir() + "/seg-000001", in);
    std::string body = empty_manifest.substr(0, empty_manifest.rfind("checksum "));
    body += "segment seg-000001 " + std::to_string(docs) + " " + std::to_string(kept) + " " +
            std::to_string(in.size()) + "\n";
    char sum[40];
    std::snprintf(sum, sizeof sum, "checksum %016llx\n",
                  static_cast<unsigned long long>(neardup::hash64(body, 0x6e6469786d616e69ULL)));
    write(dir() + "/MANIFEST", body + sum);
  }
  try {
    const nj::stored_index idx = nj::stored_index::open(dir());
    for (const auto& m : idx.query("a b c d e f g", {.top_k = 0, .threshold = 0.01})) {
      if (m.jaccard < 0 || m.jaccard > 1) std::abort();
    }
    const nj::prior_documents p = idx.prior();
    for (std::size_t d = 0; d < p.size; ++d) (void)p.id(static_cast<neardup::doc_id>(d)).size();
  } catch (const nj::index_error&) {
  }
  return 0;
}

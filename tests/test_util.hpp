// tests/test_util.hpp — helpers the test binaries share: the test scale, one
// executor per thread count, scratch directories, whole-file I/O, gzip/zstd
// compression of test inputs.
#pragma once

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <stdlib.h>

#include "neardup/executor.hpp"

namespace neardup_test {

namespace fs = std::filesystem;

// Tricky texts whose tokens (tokenize_test) and n-gram hashes and
// fingerprints (shingle_test) are frozen as golden vectors: accents in both
// normal forms, Greek and Cyrillic, unspaced Han and kana, emoji, invalid
// UTF-8, a lone surrogate, a BOM, CRLF, blank text, code, title case.
inline const std::vector<std::string> golden_inputs = {
  "Hello, World!",
  "na\xc3\xafve caf\xc3\xa9",
  "e\xcc\x81" "cole E\xcc\x81" "COLE",
  "\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91 \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
  "\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc 2024\xe5\xb9\xb4",
  "x_1 foo_bar __init__ 42 3.14",
  "I \xe2\x9d\xa4 emoji \xf0\x9f\x8e\x89\xf0\x9f\x8e\x89!",
  "bad\xff" "byte",
  "lone\xed\xa0\x80surrogate",
  "\xef\xbb\xbf" "BOM start",
  "line1\r\nline2\r\n",
  "",
  "  \t\n ",
  "if (x->y <<= 0x1F) { return a::b; } // Done",
  "\xc7\x85ungla \xc4\xb0stanbul KELVIN \xe2\x84\xaa",
  "\xd9\xa1\xd9\xa2\xd9\xa3 abc\xd9\xa3",
  "Don't stop-believing, it's 1999!",
  "the quick brown fox jumps over the lazy dog and the quick brown fox sleeps",
};

// NEARDUP_TEST_SCALE=small (sanitizer runs) shrinks the corpora.
inline bool small_scale() {
  const char* s = std::getenv("NEARDUP_TEST_SCALE");
  return s != nullptr && std::string_view(s) == "small";
}

// One executor per thread count, shared by the tests of a binary.
inline neardup::executor* pool_of(std::size_t threads) {
  static std::map<std::size_t, std::unique_ptr<neardup::executor>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<neardup::executor>(threads);
  return p.get();
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents at the end.
class temp_dir {
 public:
  explicit temp_dir(std::string_view tag = "neardup") {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + std::string(tag) + ".XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const noexcept { return path_; }
  fs::path operator/(std::string_view name) const { return path_ / std::string(name); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& p, std::string_view bytes) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Names of the entries of a directory, sorted.
inline std::vector<std::string> list_dir(const fs::path& p) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(p, ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// gzip (one member) and zstd (one frame, level 3) of `data`; zstd_decompress
// below reads it back.
inline std::string gzip(std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string zstd_compress(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error("ZSTD_compress");
  out.resize(n);
  return out;
}

// Every zstd frame of `data`, decompressed (frames with or without a content
// size, one after another); throws on a bad or truncated frame.
inline std::string zstd_decompress(std::string_view data) {
  std::string out;
  ZSTD_DStream* ds = ZSTD_createDStream();
  ZSTD_initDStream(ds);
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::string buf(1 << 16, '\0');
  std::size_t ret = 0;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    ret = ZSTD_decompressStream(ds, &o, &in);
    if (ZSTD_isError(ret)) break;
    out.append(buf.data(), o.pos);
  }
  ZSTD_freeDStream(ds);
  if (ZSTD_isError(ret)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(ret));
  if (ret != 0) throw std::runtime_error("zstd: truncated frame");
  return out;
}

// `s` in single quotes for /bin/sh.
inline std::string quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  q += '\'';
  return q;
}

}  // namespace neardup_test

// Private helpers shared by src/io/*.cpp (not installed, not public API).
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/utf8.hpp"

namespace neardup::io::detail {

// True if s is valid UTF-8 (SIMD, runtime dispatched): the same answer as
// utf8::is_valid (neardup/utf8.hpp, the one decoder), faster on long text.
bool is_valid_utf8(std::string_view s) noexcept;

// Appends s to out with every maximal invalid UTF-8 subpart (utf8::decode)
// replaced by U+FFFD. If `json_strings` is set, raw control characters (< 0x20) found
// inside JSON string literals are appended as \u00XX escapes. Returns
// record_flags bits describing what was changed (0 = copied unchanged).
std::uint8_t repair_line(std::string_view s, bool json_strings, std::string& out);

// Unescapes a JSON string token (starting at its opening quote; bytes after
// the closing quote are ignored) into out, replacing lone UTF-16 surrogate
// escapes by U+FFFD (sets `lone_surrogate`). Returns false if the token is
// not a well-formed string (bad escape, missing closing quote).
bool unescape_json_string(std::string_view token, std::string& out, bool& lone_surrogate);

// Appends the UTF-8 form of the scalar value `cp` (utf8::encode).
inline void append_utf8(std::string& out, char32_t cp) {
  char buf[4];
  out.append(buf, utf8::encode(cp, buf));
}

// A file's modification time in ns since the epoch (source_info::mtime_ns).
inline std::int64_t mtime_ns(const struct stat& st) noexcept {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(st.st_mtim.tv_nsec);
}

// The files atomic_file::commit() renamed into place, in order, for the
// whole process (output_run lists those of its OUTDIR in _SUCCESS, with
// their digests). Thread-safe.
struct committed_file {
  std::string path;
  // XXH3-64 (seed 0) of the bytes written, made as they were written; not
  // known when some went around the writer (copy_file_range).
  bool has_digest = false;
  std::uint64_t bytes = 0;
  std::uint64_t xxh3 = 0;
  dev_t dev = 0;  // the file committed: a digest holds for it alone
  ino_t ino = 0;
};
std::size_t commit_log_size();
std::vector<committed_file> commit_log_since(std::size_t first);

// True if s (whitespace around it allowed) is one complete JSON value.
bool is_json_value(std::string_view s);

inline constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace neardup::io::detail

// Private helpers shared by src/io/*.cpp (not installed, not public API).
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace neardup::io::detail {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if s[i] starts a
// maximal invalid subpart. `invalid_len` then receives that subpart's length
// (>= 1), following the Unicode "maximal subpart" practice (one U+FFFD each).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::size_t& invalid_len) noexcept;

// True if s is valid UTF-8 (SIMD, runtime dispatched).
bool is_valid_utf8(std::string_view s) noexcept;

// Appends s to out with every maximal invalid UTF-8 subpart replaced by
// U+FFFD. If `json_strings` is set, raw control characters (< 0x20) found
// inside JSON string literals are appended as \u00XX escapes. Returns
// record_flags bits describing what was changed (0 = copied unchanged).
std::uint8_t repair_line(std::string_view s, bool json_strings, std::string& out);

// Unescapes a JSON string token (starting at its opening quote; bytes after
// the closing quote are ignored) into out, replacing lone UTF-16 surrogate
// escapes by U+FFFD (sets `lone_surrogate`). Returns false if the token is
// not a well-formed string (bad escape, missing closing quote).
bool unescape_json_string(std::string_view token, std::string& out, bool& lone_surrogate);

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A file's modification time in ns since the epoch (source_info::mtime_ns).
inline std::int64_t mtime_ns(const struct stat& st) noexcept {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(st.st_mtim.tv_nsec);
}

// The paths atomic_file::commit() renamed into place, in order, for the whole
// process (output_run lists those of its OUTDIR in _SUCCESS). Thread-safe.
std::size_t commit_log_size();
std::vector<std::string> commit_log_since(std::size_t first);

// True if s (whitespace around it allowed) is one complete JSON value.
bool is_json_value(std::string_view s);

inline constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace neardup::io::detail

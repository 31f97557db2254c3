// neardup/utf8.hpp — strict UTF-8 decoding of untrusted bytes.
//
// Corpora contain broken text (truncated files, Latin-1 mislabelled as UTF-8,
// CESU-8 surrogates). neardup never rejects a document for that: it decodes
// one code point at a time, and every byte that does not start a well-formed
// sequence is reported as ONE invalid byte, after which decoding resumes at the
// next byte. The tokenizers treat each invalid byte as a separator.
//
//   std::string_view s = "a\xffé";
//   for (std::size_t i = 0; i < s.size();) {
//     const neardup::utf8::decoded d = neardup::utf8::decode(s, i);
//     // d.code_point == 'a', then utf8::invalid (length 1), then U+00E9 (length 2)
//     i += d.length;
//   }
//
// Well-formed means exactly the Unicode definition (Table 3-7): no overlong
// forms, no encoded surrogates U+D800..U+DFFF, nothing above U+10FFFF, no
// truncated sequence. This matches utf8proc_iterate(). A byte order mark
// (U+FEFF) decodes as an ordinary code point; callers decide what it means.
//
// Guarantees: never reads outside [s.data(), s.data() + s.size()); pure and
// constexpr. Not promised: no normalization (NFC/NFKC) happens here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace neardup::utf8 {

// Returned as decoded::code_point for an invalid byte.
inline constexpr char32_t invalid = 0xFFFFFFFFu;

struct decoded {
  char32_t code_point = invalid;  // a Unicode scalar value, or `invalid`
  std::uint32_t length = 1;       // bytes consumed: 1..4 (always 1 when invalid)
};

// Decodes the code point starting at s[pos].
// REQUIRES: pos < s.size().
constexpr decoded decode(std::string_view s, std::size_t pos) noexcept {
  const std::size_t avail = s.size() - pos;
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[pos + k]); };
  const unsigned c0 = b(0);
  if (c0 < 0x80) return {c0, 1};
  const auto cont = [](unsigned c) { return (c & 0xC0u) == 0x80u; };
  if (c0 < 0xC2) return {};  // continuation byte or overlong 2-byte lead (C0, C1)
  if (c0 < 0xE0) {
    if (avail < 2 || !cont(b(1))) return {};
    return {((c0 & 0x1Fu) << 6) | (b(1) & 0x3Fu), 2};
  }
  if (c0 < 0xF0) {
    if (avail < 3) return {};
    const unsigned c1 = b(1);
    // E0 needs A0..BF (no overlong); ED needs 80..9F (no surrogates).
    const unsigned lo = c0 == 0xE0 ? 0xA0u : 0x80u;
    const unsigned hi = c0 == 0xED ? 0x9Fu : 0xBFu;
    if (c1 < lo || c1 > hi || !cont(b(2))) return {};
    return {((c0 & 0x0Fu) << 12) | ((c1 & 0x3Fu) << 6) | (b(2) & 0x3Fu), 3};
  }
  if (c0 < 0xF5) {
    if (avail < 4) return {};
    const unsigned c1 = b(1);
    // F0 needs 90..BF (no overlong); F4 needs 80..8F (nothing above U+10FFFF).
    const unsigned lo = c0 == 0xF0 ? 0x90u : 0x80u;
    const unsigned hi = c0 == 0xF4 ? 0x8Fu : 0xBFu;
    if (c1 < lo || c1 > hi || !cont(b(2)) || !cont(b(3))) return {};
    return {((c0 & 0x07u) << 18) | ((c1 & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu), 4};
  }
  return {};  // F5..FF never appear in UTF-8
}

// Writes the UTF-8 form of `cp` to out[0..n) and returns n (1..4).
// REQUIRES: cp is a Unicode scalar value (<= U+10FFFF, not a surrogate);
//           out has room for 4 bytes.
constexpr std::size_t encode(char32_t cp, char* out) noexcept {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0u | (cp >> 6));
    out[1] = static_cast<char>(0x80u | (cp & 0x3Fu));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0u | (cp >> 12));
    out[1] = static_cast<char>(0x80u | ((cp >> 6) & 0x3Fu));
    out[2] = static_cast<char>(0x80u | (cp & 0x3Fu));
    return 3;
  }
  out[0] = static_cast<char>(0xF0u | (cp >> 18));
  out[1] = static_cast<char>(0x80u | ((cp >> 12) & 0x3Fu));
  out[2] = static_cast<char>(0x80u | ((cp >> 6) & 0x3Fu));
  out[3] = static_cast<char>(0x80u | (cp & 0x3Fu));
  return 4;
}

// True when every byte of `s` belongs to a well-formed sequence.
constexpr bool is_valid(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const decoded d = decode(s, i);
    if (d.code_point == invalid) return false;
    i += d.length;
  }
  return true;
}

}  // namespace neardup::utf8

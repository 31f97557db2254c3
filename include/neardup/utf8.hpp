// neardup/utf8.hpp — THE UTF-8 decoder of neardup, for untrusted bytes.
//
// Corpora contain broken text (truncated files, Latin-1 mislabelled as UTF-8,
// CESU-8 surrogates). neardup never rejects a document for that. Every part
// of the library that reads UTF-8 (the tokenizers, the record repair and JSON
// escaping of neardup::io) decodes with decode() below, so they all agree on
// what is valid and where an invalid sequence ends.
//
//   std::string_view s = "a\xff\xe2\x82é";
//   for (std::size_t i = 0; i < s.size();) {
//     const neardup::utf8::decoded d = neardup::utf8::decode(s, i);
//     // 'a' (1 byte), then utf8::invalid (1 byte: FF), then utf8::invalid
//     // (2 bytes: E2 82, a truncated 3-byte sequence), then U+00E9 (2 bytes)
//     i += d.length;
//   }
//
// Valid means exactly the Unicode definition (Table 3-7): no overlong forms,
// no encoded surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated
// sequence. This matches utf8proc_iterate() and simdjson::validate_utf8.
// A byte order mark (U+FEFF) decodes as an ordinary code point; callers decide
// what it means.
//
// Invalid bytes: decoding never fails. Where no valid sequence starts, decode()
// returns utf8::invalid with the length of the MAXIMAL SUBPART there (Unicode
// §3.9, "U+FFFD substitution of maximal subparts", as the WHATWG encoding
// standard and Python do): the longest prefix of a well-formed sequence, or
// else one byte; decoding resumes after it. So each of its 1..3 bytes is
// invalid wherever decoding starts, and what follows it decodes the same. The
// users' documented rules on top of this one decoder:
//   - record repair (neardup::io) and JSON escaping write ONE U+FFFD per
//     invalid subpart;
//   - the tokenizers treat every invalid byte as a separator (in character
//     mode without whitespace collapsing, every invalid byte is one " " token).
//
// Guarantees: never reads outside [s.data(), s.data() + s.size()); pure and
// constexpr. Not promised: no normalization (NFC/NFKC) happens here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace neardup::utf8 {

// Returned as decoded::code_point for an invalid subpart.
inline constexpr char32_t invalid = 0xFFFFFFFFu;

struct decoded {
  char32_t code_point = invalid;  // a Unicode scalar value, or `invalid`
  std::uint32_t length = 1;       // bytes consumed: 1..4; 1..3 when invalid (the maximal subpart)
};

// Decodes the code point (or the maximal invalid subpart) starting at s[pos].
// REQUIRES: pos < s.size().
[[nodiscard]] constexpr decoded decode(std::string_view s, std::size_t pos) noexcept {
  const std::size_t avail = s.size() - pos;
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[pos + k]); };
  const unsigned c0 = b(0);
  if (c0 < 0x80) return {c0, 1};
  const auto cont = [](unsigned c) { return (c & 0xC0u) == 0x80u; };
  // An invalid subpart of `len` bytes.
  const auto bad = [](std::uint32_t len) { return decoded{invalid, len}; };
  if (c0 < 0xC2) return bad(1);  // continuation byte or overlong 2-byte lead (C0, C1)
  if (c0 < 0xE0) {
    if (avail < 2 || !cont(b(1))) return bad(1);
    return {((c0 & 0x1Fu) << 6) | (b(1) & 0x3Fu), 2};
  }
  if (c0 < 0xF0) {
    // E0 needs A0..BF (no overlong); ED needs 80..9F (no surrogates).
    const unsigned lo = c0 == 0xE0 ? 0xA0u : 0x80u;
    const unsigned hi = c0 == 0xED ? 0x9Fu : 0xBFu;
    if (avail < 2 || b(1) < lo || b(1) > hi) return bad(1);
    if (avail < 3 || !cont(b(2))) return bad(2);
    return {((c0 & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu), 3};
  }
  if (c0 < 0xF5) {
    // F0 needs 90..BF (no overlong); F4 needs 80..8F (nothing above U+10FFFF).
    const unsigned lo = c0 == 0xF0 ? 0x90u : 0x80u;
    const unsigned hi = c0 == 0xF4 ? 0x8Fu : 0xBFu;
    if (avail < 2 || b(1) < lo || b(1) > hi) return bad(1);
    if (avail < 3 || !cont(b(2))) return bad(2);
    if (avail < 4 || !cont(b(3))) return bad(3);
    return {((c0 & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu), 4};
  }
  return bad(1);  // F5..FF never appear in UTF-8
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
[[nodiscard]] constexpr bool is_valid(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const decoded d = decode(s, i);
    if (d.code_point == invalid) return false;
    i += d.length;
  }
  return true;
}

}  // namespace neardup::utf8

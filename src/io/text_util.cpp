// UTF-8 repair and lenient JSON string unescaping (see io_internal.hpp).
#include <simdjson.h>

#include "io_internal.hpp"
#include "neardup/io/input.hpp"
#include "neardup/utf8.hpp"

namespace neardup::io::detail {

bool is_valid_utf8(std::string_view s) noexcept { return simdjson::validate_utf8(s.data(), s.size()); }

std::uint8_t repair_line(std::string_view s, bool json_strings, std::string& out) {
  std::uint8_t flags = 0;
  bool in_string = false;
  bool escaped = false;
  out.reserve(out.size() + s.size() + 16);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const utf8::decoded d = utf8::decode(s, i);
      if (d.code_point != utf8::invalid) {
        out.append(s.data() + i, d.length);
      } else {  // one U+FFFD per maximal invalid subpart
        out.append(replacement_char);
        flags |= record_flags::invalid_utf8;
      }
      i += d.length;
      escaped = false;
      continue;
    }
    ++i;
    if (!json_strings) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      if (c < 0x20) {
        static constexpr char hex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(esc, 6);
        flags |= record_flags::control_chars;
        escaped = false;
        continue;
      }
    } else if (c == '"') {
      in_string = true;
    }
    out.push_back(static_cast<char>(c));
  }
  return flags;
}

namespace {
int hex_value(char ch) noexcept {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}
// Reads "\uXXXX" at token[i] (i at the backslash); returns -1 if absent.
long read_u_escape(std::string_view t, std::size_t i) noexcept {
  if (i + 6 > t.size() || t[i] != '\\' || t[i + 1] != 'u') return -1;
  long v = 0;
  for (std::size_t k = 2; k < 6; ++k) {
    const int h = hex_value(t[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}
}  // namespace

bool unescape_json_string(std::string_view t, std::string& out, bool& lone_surrogate) {
  out.clear();
  if (t.empty() || t[0] != '"') return false;
  std::size_t i = 1;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '"') return true;
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= t.size()) return false;
    const char e = t[i + 1];
    switch (e) {
      case '"': out.push_back('"'); i += 2; continue;
      case '\\': out.push_back('\\'); i += 2; continue;
      case '/': out.push_back('/'); i += 2; continue;
      case 'b': out.push_back('\b'); i += 2; continue;
      case 'f': out.push_back('\f'); i += 2; continue;
      case 'n': out.push_back('\n'); i += 2; continue;
      case 'r': out.push_back('\r'); i += 2; continue;
      case 't': out.push_back('\t'); i += 2; continue;
      case 'u': break;
      default: return false;
    }
    const long u = read_u_escape(t, i);
    if (u < 0) return false;
    i += 6;
    if (u >= 0xD800 && u <= 0xDBFF) {
      const long lo = read_u_escape(t, i);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        append_utf8(out, static_cast<char32_t>(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)));
        i += 6;
      } else {
        out.append(replacement_char);
        lone_surrogate = true;
      }
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      out.append(replacement_char);
      lone_surrogate = true;
    } else {
      append_utf8(out, static_cast<char32_t>(u));
    }
  }
  return false;  // no closing quote
}

}  // namespace neardup::io::detail

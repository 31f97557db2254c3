// Internal: removing lines from a text while it stays a JSON string literal,
// so that every byte of what is kept is the input's own (its escapes, lone
// surrogate escapes, escaped U+2028, CRLF), as `neardup lines` promises.
#pragma once

#include <string>
#include <string_view>

#include "io_internal.hpp"

namespace neardup::io::detail {

// `token` is a JSON string literal, quotes included (record::text_token).
// Its text splits into lines at each newline escape ("\n" or "\u000a"); each
// line is unescaped (lone surrogates as U+FFFD, a CR escape before the newline
// kept in it, as the parsed text has it) and passed to keep(line). Appends to
// `out` the literal with the lines keep() refused removed, each with the
// newline escape before it (or, for the first line kept, after it); when the
// text's last line is removed, a CR escape ending the new last line goes too,
// so "a\r\nb" without "b" is "a", not "a\r". Returns false (out unchanged) if
// the token is not a well-formed literal.
template <class Keep>
bool rewrite_literal_lines(std::string_view token, Keep&& keep, std::string& out) {
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
  const std::string_view body = token.substr(1, token.size() - 2);
  auto newline_escape = [&](std::size_t i) -> std::size_t {  // its length at body[i], or 0
    if (body.substr(i, 2) == "\\n") return 2;
    if (body.size() - i >= 6 && body.substr(i, 5) == "\\u000" && (body[i + 5] | 0x20) == 'a') return 6;
    return 0;
  };
  auto cr_escape_before = [&](std::string_view piece) -> std::size_t {  // length of a CR escape ending piece
    if (piece.size() >= 2 && piece.substr(piece.size() - 2) == "\\r" &&
        (piece.size() < 3 || piece[piece.size() - 3] != '\\')) {
      return 2;
    }
    if (piece.size() >= 6 && piece.substr(piece.size() - 6, 5) == "\\u000" && (piece.back() | 0x20) == 'd') return 6;
    return 0;
  };
  std::string kept(1, '"');
  std::string unescaped;
  std::string scratch;
  bool any_kept = false;
  bool last_removed = false;
  std::string_view pending_sep;  // the newline escape before the next line
  std::size_t begin = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t sep = 0;
    while (i < body.size()) {
      if (body[i] == '\\') {
        sep = newline_escape(i);
        if (sep != 0) break;
        i += body.size() - i >= 2 && body[i + 1] == 'u' ? 6 : 2;
        continue;
      }
      ++i;
    }
    if (i > body.size()) return false;  // an escape runs past the end
    const std::string_view piece = body.substr(begin, i - begin);
    scratch.clear();
    scratch.push_back('"');
    scratch.append(piece);
    scratch.push_back('"');
    bool lone = false;
    unescaped.clear();
    if (!unescape_json_string(scratch, unescaped, lone)) return false;
    last_removed = !keep(std::string_view(unescaped));
    if (!last_removed) {
      if (any_kept) kept.append(pending_sep);
      kept.append(piece);
      any_kept = true;
    }
    if (i >= body.size()) break;
    pending_sep = body.substr(i, sep);
    i += sep;
    begin = i;
  }
  if (last_removed && any_kept) {
    const std::size_t cr = cr_escape_before(std::string_view(kept).substr(1));
    if (cr != 0 && cr < kept.size()) kept.erase(kept.end() - static_cast<std::ptrdiff_t>(cr), kept.end());
  }
  kept.push_back('"');
  out += kept;
  return true;
}

}  // namespace neardup::io::detail

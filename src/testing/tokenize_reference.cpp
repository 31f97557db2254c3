// The reference tokenizer: one utf8proc call per code point, no tables, no
// SIMD. Written from the rules in tokenize.hpp, independently of tokenize.cpp.
#include "neardup/detail/tokenize_reference.hpp"

#include <utf8proc.h>

#include <cstddef>

namespace neardup::detail {
namespace {

bool is_word(std::int32_t cp) {
  if (cp == '_') return true;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_punct(std::int32_t cp) {  // P* except '_'
  if (cp == '_') return false;
  const utf8proc_category_t c = utf8proc_category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

bool is_symbol(std::int32_t cp) {
  const utf8proc_category_t c = utf8proc_category(cp);
  return c >= UTF8PROC_CATEGORY_SM && c <= UTF8PROC_CATEGORY_SO;
}

bool is_space(std::int32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) return true;
  const utf8proc_category_t c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

std::int32_t normalize(std::int32_t cp, const tokenize_options& o) {
  if (o.fold_digits && utf8proc_category(cp) == UTF8PROC_CATEGORY_ND) return '0';
  if (o.lowercase) return utf8proc_tolower(cp);
  return cp;
}

void append(std::string& s, std::int32_t cp) {
  utf8proc_uint8_t b[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(cp, b);
  s.append(reinterpret_cast<const char*>(b), static_cast<std::size_t>(n));
}

std::vector<std::int32_t> decode_all(std::string_view text) {
  std::vector<std::int32_t> cps;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    std::int32_t cp = -1;
    const utf8proc_ssize_t n =
        utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {
      cps.push_back(-1);
      i += 1;
    } else {
      cps.push_back(cp);
      i += static_cast<std::size_t>(n);
    }
  }
  return cps;
}

std::vector<std::string> words(const std::vector<std::int32_t>& cps, const tokenize_options& o) {
  std::vector<std::string> out;
  std::string cur;
  for (const std::int32_t cp : cps) {
    if (cp >= 0 && is_word(cp)) {
      append(cur, normalize(cp, o));
    } else if (cp >= 0 && o.strip_punctuation && is_punct(cp)) {
      // deleted: neither joins nor splits
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<std::string> characters(const std::vector<std::int32_t>& cps, const tokenize_options& o) {
  struct item {
    bool space;
    std::string text;
  };
  std::vector<item> items;
  for (const std::int32_t cp : cps) {
    std::string s;
    if (cp < 0) {
      items.push_back({true, " "});
    } else if (is_space(cp)) {
      append(s, cp);
      items.push_back({true, s});
    } else if (o.strip_punctuation && is_punct(cp)) {
      continue;
    } else {
      append(s, normalize(cp, o));
      items.push_back({false, s});
    }
  }
  std::vector<std::string> out;
  if (!o.collapse_whitespace) {
    for (auto& it : items) out.push_back(it.text);
    return out;
  }
  bool gap = false;
  for (auto& it : items) {
    if (it.space) {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out.push_back(" ");
    gap = false;
    out.push_back(it.text);
  }
  return out;
}

bool ascii_digit(std::int32_t cp) { return cp >= '0' && cp <= '9'; }
bool ascii_alnum(std::int32_t cp) {
  return ascii_digit(cp) || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

std::vector<std::string> code(const std::vector<std::int32_t>& cps, const tokenize_options& o) {
  std::vector<std::string> out;
  const std::size_t n = cps.size();
  const auto at = [&](std::size_t k) { return k < n ? cps[k] : std::int32_t{-1}; };
  std::size_t i = 0;
  while (i < n) {
    const std::int32_t cp = cps[i];
    if (cp < 0) {
      ++i;
      continue;
    }
    if (ascii_digit(cp) || (cp == '.' && ascii_digit(at(i + 1)))) {
      // pp-number: digits, letters, '_', '.', sign after an exponent letter, digit separator '
      std::string s;
      append(s, normalize(cp, o));
      std::int32_t prev = cp;
      ++i;
      while (i < n) {
        const std::int32_t c = cps[i];
        const bool exp_sign =
            (c == '+' || c == '-') && (prev == 'e' || prev == 'E' || prev == 'p' || prev == 'P');
        const bool sep = c == '\'' && (ascii_alnum(at(i + 1)) || at(i + 1) == '_');
        if (!(ascii_alnum(c) || c == '_' || c == '.' || exp_sign || sep)) break;
        append(s, normalize(c, o));
        prev = c;
        ++i;
      }
      out.push_back(s);
    } else if (is_word(cp)) {
      std::string s;
      while (i < n && cps[i] >= 0 && is_word(cps[i])) append(s, normalize(cps[i++], o));
      out.push_back(s);
    } else if (is_punct(cp) || is_symbol(cp) || cp == '_') {
      std::size_t len = 1;
      if (cp < 0x80) {
        for (const std::string_view op : code_operators) {
          bool match = true;
          for (std::size_t k = 0; k < op.size() && match; ++k)
            match = at(i + k) == static_cast<unsigned char>(op[k]);
          if (match) {
            len = op.size();
            break;
          }
        }
      }
      std::string s;
      for (std::size_t k = 0; k < len; ++k) append(s, normalize(cps[i + k], o));
      i += len;
      if (!o.strip_punctuation) out.push_back(s);
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> reference_tokenize(std::string_view text, const tokenize_options& options) {
  const std::vector<std::int32_t> cps = decode_all(text);
  switch (options.kind) {
    case token_kind::character:
      return characters(cps, options);
    case token_kind::code:
      return code(cps, options);
    case token_kind::word:
    default:
      return words(cps, options);
  }
}

std::vector<std::uint64_t> reference_hash_tokens(std::string_view text, const tokenize_options& options,
                                                 std::uint64_t seed) {
  std::vector<std::uint64_t> out;
  const std::uint64_t s = token_seed(seed);
  for (const std::string& t : reference_tokenize(text, options)) out.push_back(hash_token(t, s));
  return out;
}

}  // namespace neardup::detail

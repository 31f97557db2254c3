// Tokenizer fast paths. Word mode scans 64-byte blocks with SSE2: a block of
// pure ASCII is lowercased (and digit-folded) in registers, stored to the
// normalized buffer, and its word/non-word transitions become token bounds via
// a bit mask; a block with a non-ASCII byte is walked code point by code point
// with the exact Unicode rules. Character and code modes are table-driven
// scalar loops. tests/tokenize_test.cpp and fuzz/fuzz_tokenize.cpp check every
// path against detail::reference_tokenize.
#include "neardup/tokenize.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>

#include "neardup/detail/tokenize_reference.hpp"
#include "neardup/utf8.hpp"
#include "xxh3_inline.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#define NEARDUP_TOKENIZE_SSE2 1
#endif

namespace neardup {
namespace {

// Byte classes stored in the high byte of tokenizer::ascii_.
enum : std::uint8_t {
  k_sep = 0,    // separator (whitespace / punctuation / control)
  k_word = 1,   // token byte (word char; every non-space char in character mode)
  k_del = 2,    // deleted by strip_punctuation
  k_multi = 3,  // >= 0x80: start (or junk) of a multi-byte sequence
  k_digit = 4,  // code mode: ASCII digit (starts a number)
  k_punct = 5,  // code mode: ASCII punctuation or symbol
};

constexpr bool ascii_is_punct(unsigned c) {  // general category P*, minus '_'
  switch (c) {
    case '!': case '"': case '#': case '%': case '&': case '\'': case '(': case ')':
    case '*': case ',': case '-': case '.': case '/': case ':': case ';': case '?':
    case '@': case '[': case '\\': case ']': case '{': case '}':
      return true;
    default:
      return false;
  }
}
constexpr bool ascii_is_symbol(unsigned c) {  // general category S*
  switch (c) {
    case '$': case '+': case '<': case '=': case '>': case '^': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}
constexpr bool ascii_is_space(unsigned c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }
constexpr bool ascii_is_digit(unsigned c) { return c >= '0' && c <= '9'; }
constexpr bool ascii_is_alpha(unsigned c) { return (c | 0x20u) >= 'a' && (c | 0x20u) <= 'z'; }
constexpr bool ascii_is_alnum(unsigned c) { return ascii_is_digit(c) || ascii_is_alpha(c); }

// Unicode White_Space (stable list, PropList.txt).
constexpr bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

enum class cp_class : std::uint8_t { word, punct, symbol, other };

cp_class classify(utf8proc_category_t c) {
  if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO) return cp_class::word;
  if (c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO) return cp_class::punct;
  if (c >= UTF8PROC_CATEGORY_SM && c <= UTF8PROC_CATEGORY_SO) return cp_class::symbol;
  return cp_class::other;
}

// General category and simple lowercase of every BMP code point, packed as
// category << 24 | lowercase and built on first use (65536 utf8proc lookups,
// ~1 ms), so that the hot loops make no call into utf8proc for the scripts
// most text is written in. Supplementary planes ask utf8proc directly.
const std::uint32_t* bmp_table() {
  static const std::vector<std::uint32_t> table = [] {
    std::vector<std::uint32_t> t(0x10000);
    for (std::int32_t cp = 0; cp < 0x10000; ++cp) {
      const auto cat = static_cast<std::uint32_t>(utf8proc_category(cp));
      const auto low = static_cast<std::uint32_t>(utf8proc_tolower(cp));
      t[static_cast<std::size_t>(cp)] = (cat << 24) | low;
    }
    return t;
  }();
  return table.data();
}

utf8proc_category_t category(char32_t cp) {
  if (cp < 0x10000) return static_cast<utf8proc_category_t>(bmp_table()[cp] >> 24);
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

char32_t lowercase(char32_t cp) {
  if (cp < 0x10000) return bmp_table()[cp] & 0xFFFFFFu;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

char32_t normalize(char32_t cp, utf8proc_category_t cat, const tokenize_options& o) {
  if (o.fold_digits && cat == UTF8PROC_CATEGORY_ND) return U'0';
  if (o.lowercase) return lowercase(cp);
  return cp;
}

// `flatten` inlines XXH3 into the scan loops (+10-20%). Sanitizer builds skip
// it: instrumenting the 16 fully flattened scanners took GCC almost 4 minutes
// for this one file, and the behaviour does not depend on inlining.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define NEARDUP_TOKENIZE_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NEARDUP_TOKENIZE_SANITIZED 1
#endif
#if defined(__GNUC__) && !defined(NEARDUP_TOKENIZE_SANITIZED)
#define NEARDUP_INLINE inline __attribute__((always_inline, flatten))
#define NEARDUP_FLATTEN __attribute__((flatten))
#else
#define NEARDUP_INLINE inline
#define NEARDUP_FLATTEN
#endif

// emit(p, n) reads exactly [p, p + n); emit_padded(p, n) may read 16 bytes at
// p (the caller guarantees they are readable), which keeps the hash of short
// tokens free of length-dependent branches and copies.
struct hash_sink {
  std::uint64_t* w;  // next output slot; the caller sized the vector for every token
  std::uint64_t seed;
  const std::array<std::uint64_t, 128>* ascii_hash;  // pointers, not references: assignable
  const std::array<detail::short_token_params, 17>* params;
  NEARDUP_INLINE std::uint64_t short_hash(const char* p, std::size_t n) const {
    const auto& q = (*params)[n];
    return detail::hash_short_token_padded(p, q.lo_mask, q.hi_mask, q.seed);
  }
  NEARDUP_INLINE void emit_padded(const char* p, std::size_t n) {
    *w++ = n - 1 < 16 ? short_hash(p, n) : detail::xxh3_64(p, n, seed);
  }
  NEARDUP_INLINE void emit(const char* p, std::size_t n) {
    if (n - 1 < 16) {
      char padded[16] = {};
      std::memcpy(padded, p, n);
      *w++ = short_hash(padded, n);
    } else {
      *w++ = detail::xxh3_64(p, n, seed);
    }
  }
  NEARDUP_INLINE void emit_ascii(unsigned char b) { *w++ = (*ascii_hash)[b]; }
};

struct string_sink {
  std::vector<std::string>* out;
  void emit(const char* p, std::size_t n) { out->emplace_back(p, n); }
  void emit_padded(const char* p, std::size_t n) { out->emplace_back(p, n); }
  void emit_ascii(unsigned char b) { out->emplace_back(1, static_cast<char>(b)); }
};

#if NEARDUP_TOKENIZE_SSE2
// Normalizes 64 ASCII bytes into out[0..64) and returns the word-char mask;
// `stop` receives the mask of bytes left to the exact walk: bytes >= 0x80 and,
// with Strip, ASCII punctuation (to be deleted); results past the first stop
// byte are unused. `changed` is the mask of bytes that normalization altered.
template <bool Lower, bool Fold, bool Strip>
inline std::uint64_t ascii_block(const unsigned char* in, char* out, std::uint64_t& stop,
                                 std::uint64_t& changed) {
  std::uint64_t word = 0;
  std::uint64_t hi = 0;
  std::uint64_t chg = 0;
  const __m128i k20 = _mm_set1_epi8(0x20);
  for (int k = 0; k < 4; ++k) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * k));
    const __m128i l = _mm_or_si128(x, k20);
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
                                         _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1)));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                        _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
    const __m128i w = _mm_or_si128(_mm_or_si128(letter, digit), _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
    __m128i y = x;
    if constexpr (Lower) {
      const __m128i upper = _mm_and_si128(letter, _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
      y = _mm_add_epi8(y, _mm_and_si128(upper, k20));
    }
    if constexpr (Fold) {
      y = _mm_or_si128(_mm_andnot_si128(digit, y), _mm_and_si128(digit, _mm_set1_epi8('0')));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * k), y);
    if constexpr (Lower || Fold) {
      const auto same = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)));
      chg |= static_cast<std::uint64_t>(~same & 0xFFFFu) << (16 * k);
    }
    word |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(w))) << (16 * k);
    __m128i s = x;  // sign bit set = stop
    if constexpr (Strip) {
      // P* = printable, not a word byte, not one of the symbols $ + < = > ^ ` | ~
      const __m128i printable = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x20)),
                                              _mm_cmplt_epi8(x, _mm_set1_epi8(0x7F)));
      __m128i sym = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('<' - 1)),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8('>' + 1)));
      for (const char c : {'$', '+', '^', '`', '|', '~'})
        sym = _mm_or_si128(sym, _mm_cmpeq_epi8(x, _mm_set1_epi8(c)));
      s = _mm_or_si128(s, _mm_andnot_si128(_mm_or_si128(w, sym), printable));
    }
    hi |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(s))) << (16 * k);
  }
  stop = hi;
  changed = chg;
  return word;
}
#endif

// Word-mode state machine shared by the block scanner and the scalar walker.
// Tokens are written contiguously into buf; `tok` is where the open token began.
template <bool Lower, bool Fold, bool Strip, class Sink>
NEARDUP_FLATTEN void words_impl(std::string_view text, const tokenize_options& o,
                const std::array<std::uint16_t, 256>& ascii, char* buf, Sink& sink_out) {
  Sink sink = sink_out;  // a local copy keeps the output pointer in a register
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  std::size_t i = 0;
  std::size_t pos = 0;  // write position in buf
  std::size_t tok = 0;  // start of the open token in buf
  bool open = false;
  // Tokens in buf may be hashed with 16-byte reads: buf has >= 64 bytes of slack.
  const auto close = [&] {
    if (open) sink.emit_padded(buf + tok, pos - tok);
    open = false;
  };
  // One code point (ASCII or not) by the exact rules.
  const auto step = [&] {
    const unsigned c = in[i];
    const std::uint16_t v = ascii[c];
    const unsigned cls = v >> 8;
    if (cls == k_word) {
      if (!open) {  // earlier tokens are emitted: restart at the (cache-hot) buffer front
        open = true;
        tok = pos = 0;
      }
      buf[pos++] = static_cast<char>(v & 0xFF);
      ++i;
    } else if (cls == k_sep) {
      close();
      ++i;
    } else if (cls == k_del) {
      ++i;
    } else {
      const utf8::decoded d = utf8::decode(text, i);
      i += d.length;
      if (d.code_point == utf8::invalid) {
        close();
        return;
      }
      const utf8proc_category_t cat = category(d.code_point);
      const cp_class k = classify(cat);
      if (k == cp_class::word && is_unspaced_script(d.code_point)) {
        close();  // a token of its own
        pos = utf8::encode(normalize(d.code_point, cat, o), buf);
        sink.emit_padded(buf, pos);
      } else if (k == cp_class::word) {
        if (!open) {
          open = true;
          tok = pos = 0;
        }
        pos += utf8::encode(normalize(d.code_point, cat, o), buf + pos);
      } else if (!(k == cp_class::punct && o.strip_punctuation)) {
        close();
      }
    }
  };
#if NEARDUP_TOKENIZE_SSE2
  const auto blocks = [&] {
  while (n - i >= 64) {
    if (!open) pos = 0;  // only an open token needs its bytes kept
    std::uint64_t stop = 0;
    std::uint64_t changed = 0;
    std::uint64_t word = ascii_block<Lower, Fold, Strip>(in + i, buf + pos, stop, changed);
    // The first f bytes are plain ASCII: their tokens come from the masks.
    const auto f = static_cast<unsigned>(std::countr_zero(stop));  // 64 if none
    if (f > 0) {
      const std::uint64_t limit = f == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << f) - 1;
      word &= limit;
      // starts: word bytes after a non-word byte; ends: non-word bytes after
      // a word byte. They alternate, so the k-th end closes the k-th start
      // (or, first, the token left open before these bytes).
      const std::uint64_t prev = (word << 1) | static_cast<std::uint64_t>(open);
      std::uint64_t starts = word & ~prev;
      std::uint64_t ends = ~word & prev & limit;
      if (open && ends != 0) {
        sink.emit_padded(buf + tok, pos + static_cast<std::size_t>(std::countr_zero(ends)) - tok);
        ends &= ends - 1;
      }
      while (ends != 0) {
        const auto b = static_cast<std::size_t>(std::countr_zero(starts));
        const auto e = static_cast<std::size_t>(std::countr_zero(ends));
        starts &= starts - 1;
        ends &= ends - 1;
        // A token that normalization left unchanged is hashed straight from
        // the input (when 16 bytes can be read there): reading back the bytes
        // just stored would stall on store-to-load forwarding.
        const bool same = ((changed >> b) & ((std::uint64_t{1} << (e - b)) - 1)) == 0 && b + 16 <= n - i;
        const char* src = same ? text.data() + i + b : buf + pos + b;
        sink.emit_padded(src, e - b);
      }
      if (starts != 0) tok = pos + static_cast<std::size_t>(std::countr_zero(starts));
      open = ((word >> (f - 1)) & 1) != 0;
      i += f;
      pos += f;
    }
    // Then the stop byte and any following non-ASCII code points (and deleted
    // punctuation) by the exact rules; step() always advances.
    if (f < 64) {
      step();
      while (i < n && (ascii[in[i]] >> 8) >= k_del) step();
    }
  }
  };
  blocks();
  // The rest, shorter than a block (all of a short text: a title, a chat
  // turn), padded with separators to a whole block so that it takes the
  // block path too instead of a byte at a time. Separators after the end
  // change no token (the open one ends at the first of them, as it would at
  // the end), and a code point cut by the end decodes the same before a
  // space as before the end (invalid, of the same length).
  alignas(16) char padded[64 + 16];  // 16 bytes of slack for 16-byte token reads
  if (i < n) {
    const std::size_t rest = n - i;
    std::memcpy(padded, text.data() + i, rest);
    std::memset(padded + rest, ' ', sizeof padded - rest);
    text = std::string_view(padded, 64);
    in = reinterpret_cast<const unsigned char*>(padded);
    n = 64;
    i = 0;
    blocks();
  }
#endif
  while (i < n) step();
  close();
  sink_out = sink;
}

}  // namespace

bool is_unspaced_script(char32_t cp) noexcept {
  struct range {
    char32_t first, last;
  };
  static constexpr range ranges[] = {
#include "unspaced_scripts.inc"
  };
  if (cp < ranges[0].first) return false;  // Latin, Greek, Cyrillic, Arabic, Indic, ...
  const range* r = std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                                    [](char32_t c, const range& x) { return c < x.first; });
  return cp <= r[-1].last && classify(category(cp)) == cp_class::word;
}

tokenizer::tokenizer(const tokenize_options& options, std::uint64_t seed)
    : options_(options), seed_(seed), token_seed_(token_seed(seed)), ascii_{}, ascii_hash_{}, short_params_{}, op_starts_{} {
  const tokenize_options& o = options_;
  if (o.kind != token_kind::word && o.kind != token_kind::character && o.kind != token_kind::code) {
    throw std::invalid_argument("tokenize_options.kind = " + std::to_string(static_cast<int>(o.kind)) +
                                " is not a token_kind (word = 0, character = 1, code = 2)");
  }
  for (unsigned c = 0; c < 256; ++c) {
    unsigned out = c;
    if (o.lowercase && c >= 'A' && c <= 'Z') out = c + 0x20;
    if (o.fold_digits && ascii_is_digit(c)) out = '0';
    unsigned cls = k_sep;
    if (c >= 0x80) {
      cls = k_multi;
    } else if (o.kind == token_kind::word) {
      if (ascii_is_alnum(c) || c == '_') cls = k_word;
      else if (ascii_is_punct(c) && o.strip_punctuation) cls = k_del;
    } else if (o.kind == token_kind::character) {
      if (ascii_is_space(c)) cls = k_sep;
      else if (ascii_is_punct(c) && o.strip_punctuation) cls = k_del;
      else cls = k_word;
    } else {  // code
      if (ascii_is_digit(c)) cls = k_digit;
      else if (ascii_is_alpha(c) || c == '_') cls = k_word;
      else if (ascii_is_punct(c) || ascii_is_symbol(c)) cls = k_punct;
    }
    ascii_[c] = static_cast<std::uint16_t>((cls << 8) | out);
  }
  static_assert(std::size(detail::code_operators) <= 64);
  for (std::size_t k = 0; k < std::size(detail::code_operators); ++k)
    op_starts_[static_cast<unsigned char>(detail::code_operators[k][0])] |= std::uint64_t{1} << k;
  for (std::size_t len = 1; len < short_params_.size(); ++len) {
    short_params_[len] = {token_length_seed(token_seed_, len), detail::short_token_lo_mask(len),
                          detail::short_token_hi_mask(len)};
  }
  for (unsigned c = 0; c < 128; ++c) {
    const char b = static_cast<char>(c);
    ascii_hash_[c] = hash_token(&b, 1, token_seed_);
  }
}

template <class Sink>
void tokenizer::run_words(std::string_view text, Sink& sink) {
  char* buf = buf_.data();
  const tokenize_options& o = options_;
  const int variant = (o.lowercase ? 1 : 0) | (o.fold_digits ? 2 : 0) | (o.strip_punctuation ? 4 : 0);
  switch (variant) {
    case 0: return words_impl<false, false, false>(text, o, ascii_, buf, sink);
    case 1: return words_impl<true, false, false>(text, o, ascii_, buf, sink);
    case 2: return words_impl<false, true, false>(text, o, ascii_, buf, sink);
    case 3: return words_impl<true, true, false>(text, o, ascii_, buf, sink);
    case 4: return words_impl<false, false, true>(text, o, ascii_, buf, sink);
    case 5: return words_impl<true, false, true>(text, o, ascii_, buf, sink);
    case 6: return words_impl<false, true, true>(text, o, ascii_, buf, sink);
    default: return words_impl<true, true, true>(text, o, ascii_, buf, sink);
  }
}

template <class Sink>
void tokenizer::run_characters(std::string_view text, Sink& sink) {
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  const bool collapse = options_.collapse_whitespace;
  bool gap = false;  // a whitespace run is pending (collapse mode)
  bool any = false;  // a token was emitted (collapse mode drops leading runs)
  char tmp[4];
  const auto space = [&](const char* p, std::size_t len) {
    if (collapse) {
      gap = any;
    } else if (len == 1) {
      sink.emit_ascii(static_cast<unsigned char>(*p));
    } else {
      sink.emit(p, len);
    }
  };
  const auto before_token = [&] {
    if (gap) sink.emit_ascii(' ');
    gap = false;
    any = true;
  };
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = in[i];
    const std::uint16_t v = ascii_[c];
    const unsigned cls = v >> 8;
    if (cls == k_word) {
      before_token();
      sink.emit_ascii(static_cast<unsigned char>(v & 0xFF));
      ++i;
    } else if (cls == k_sep) {
      space(text.data() + i, 1);
      ++i;
    } else if (cls == k_del) {
      ++i;
    } else {
      const utf8::decoded d = utf8::decode(text, i);
      const char* raw = text.data() + i;
      i += d.length;
      if (d.code_point == utf8::invalid) {
        for (std::uint32_t k = 0; k < d.length; ++k) space(" ", 1);  // one per invalid byte
      } else if (is_white_space(d.code_point)) {
        space(raw, d.length);
      } else {
        const utf8proc_category_t cat = category(d.code_point);
        if (options_.strip_punctuation && classify(cat) == cp_class::punct) continue;
        before_token();
        const char32_t cp = normalize(d.code_point, cat, options_);
        if (cp < 0x80) {
          sink.emit_ascii(static_cast<unsigned char>(cp));
        } else {
          sink.emit(tmp, utf8::encode(cp, tmp));
        }
      }
    }
  }
}

template <class Sink>
void tokenizer::run_code(std::string_view text, Sink& sink) {
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  char* buf = buf_.data();
  const tokenize_options& o = options_;
  const auto out_byte = [&](unsigned c) { return static_cast<char>(ascii_[c] & 0xFF); };
  // Identifier run starting at i (word chars, ASCII or not); returns its length in buf.
  const auto identifier = [&](std::size_t& i) {
    std::size_t len = 0;
    while (i < n) {
      const unsigned c = in[i];
      const unsigned cls = ascii_[c] >> 8;
      if (cls == k_word || cls == k_digit) {
        buf[len++] = out_byte(c);
        ++i;
        continue;
      }
      if (cls != k_multi) break;
      const utf8::decoded d = utf8::decode(text, i);
      if (d.code_point == utf8::invalid) break;
      const utf8proc_category_t cat = category(d.code_point);
      if (classify(cat) != cp_class::word) break;
      len += utf8::encode(normalize(d.code_point, cat, o), buf + len);
      i += d.length;
    }
    return len;
  };
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = in[i];
    const unsigned cls = ascii_[c] >> 8;
    if (cls == k_sep) {
      ++i;
    } else if (cls == k_word) {
      sink.emit_padded(buf, identifier(i));
    } else if (cls == k_digit || (c == '.' && i + 1 < n && ascii_is_digit(in[i + 1]))) {
      std::size_t len = 0;
      buf[len++] = out_byte(c);
      unsigned prev = c;
      ++i;
      while (i < n) {
        const unsigned d = in[i];
        if (ascii_is_alnum(d) || d == '_' || d == '.' ||
            ((d == '+' || d == '-') && ((prev | 0x20u) == 'e' || (prev | 0x20u) == 'p')) ||
            (d == '\'' && i + 1 < n && (ascii_is_alnum(in[i + 1]) || in[i + 1] == '_'))) {
          buf[len++] = out_byte(d);
          prev = d;
          ++i;
        } else {
          break;
        }
      }
      sink.emit_padded(buf, len);
    } else if (cls == k_punct) {
      std::size_t len = 1;
      for (std::uint64_t m = op_starts_[c]; m != 0; m &= m - 1) {
        const std::string_view op = detail::code_operators[std::countr_zero(m)];
        if (text.substr(i, op.size()) == op) {
          len = op.size();
          break;
        }
      }
      if (!o.strip_punctuation) sink.emit(text.data() + i, len);
      i += len;
    } else {  // k_multi
      const utf8::decoded d = utf8::decode(text, i);
      if (d.code_point == utf8::invalid) {
        i += d.length;
        continue;
      }
      const utf8proc_category_t cat = category(d.code_point);
      const cp_class k = classify(cat);
      if (k == cp_class::word) {
        sink.emit_padded(buf, identifier(i));
        continue;
      }
      i += d.length;
      if ((k == cp_class::punct || k == cp_class::symbol) && !o.strip_punctuation) {
        char tmp[4];
        sink.emit(tmp, utf8::encode(normalize(d.code_point, cat, o), tmp));
      }
    }
  }
}

template <class Sink>
void tokenizer::run(std::string_view text, Sink& sink) {
  // Normalized bytes never exceed twice the input: ASCII maps to ASCII and a
  // multi-byte code point maps to at most 4 bytes (tokenize_test checks every
  // code point). The block scanner may store 64 bytes past the last token.
  const std::size_t need = 2 * text.size() + 128;
  if (buf_.size() < need) buf_.resize(need);
  switch (options_.kind) {
    case token_kind::word:
      run_words(text, sink);
      break;
    case token_kind::character:
      run_characters(text, sink);
      break;
    case token_kind::code:
      run_code(text, sink);
      break;
  }
  if (text.size() >= large_text_bytes) decltype(buf_)().swap(buf_);  // one huge line stays no longer
}

std::span<const std::uint64_t> tokenizer::hash_tokens(std::string_view text) {
  // At most one token per input byte (word and code tokens are at least one
  // byte; character mode emits at most one token per byte). Writing through a
  // pointer into a buffer that only ever grows (and is never zero-filled: only
  // the hashes written are resident) keeps the per-token cost to one store.
  if (hashes_.size() < text.size()) hashes_.resize(text.size());
  hash_sink sink{hashes_.data(), token_seed_, &ascii_hash_, &short_params_};
  run(text, sink);
  return {hashes_.data(), static_cast<std::size_t>(sink.w - hashes_.data())};
}

void tokenizer::hash_tokens(std::string_view text, std::vector<std::uint64_t>& out) {
  const std::span<const std::uint64_t> h = hash_tokens(text);
  out.assign(h.begin(), h.end());
}

void tokenizer::release_scratch() noexcept {
  decltype(buf_)().swap(buf_);
  decltype(hashes_)().swap(hashes_);
}

void tokenizer::tokens(std::string_view text, std::vector<std::string>& out) {
  out.clear();
  string_sink sink{&out};
  run(text, sink);
}

std::vector<std::string> tokenize(std::string_view text, const tokenize_options& options) {
  std::vector<std::string> out;
  tokenizer(options).tokens(text, out);
  return out;
}

}  // namespace neardup

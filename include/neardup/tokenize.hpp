// neardup/tokenize.hpp — text (or source code) to a sequence of token hashes.
//
// Tokenizing is the first stage of the pipeline and the hottest one: in word
// mode, ASCII runs go through a 64-byte SSE2 block scanner, everything else
// through exact Unicode rules (utf8proc general categories and simple case
// mapping); character and code modes are table-driven for ASCII. Every path
// produces the same tokens as a straightforward reference tokenizer
// (detail/tokenize_reference.hpp), which the tests and the fuzzer check.
//
//   neardup::tokenizer tok;                       // words, lowercased
//   std::vector<std::uint64_t> hashes;            // reused across documents
//   tok.hash_tokens("Hello, World! naïve café", hashes);   // 4 hashes
//   neardup::tokenize("Hello, World!");           // {"hello", "world"} (debug helper)
//
// TOKEN KINDS
//   word (default)  A token is a maximal run of code points whose general
//                   category is L* (letters), M* (combining marks), N* (digits,
//                   numerals) or the underscore '_'. Everything else separates
//                   tokens, and so does every invalid UTF-8 byte (see utf8.hpp).
//                   This is the `\W+` split of text-dedup/datatrove, except that
//                   combining marks stay inside their word ("e\u0301" is one
//                   token). A byte order mark is a separator like any symbol.
//                   Scripts written without spaces between words are the
//                   exception: each letter, mark or number of Han, Hiragana,
//                   Katakana, Thai, Lao, Khmer or Myanmar (is_unspaced_script)
//                   is a token of its own and ends the token before it, as
//                   Unicode word segmentation (UAX #29) does for ideographs.
//                   "日本語のtext" -> "日" "本" "語" "の" "text". So a Chinese
//                   or Thai document has one token per character, and n-grams
//                   of them are character n-grams.
//   character       Every code point is a token, so n-grams of tokens are
//                   character n-grams. Invalid bytes count as whitespace.
//   code            For source files: identifiers (runs of L*/M*/N*/'_' not
//                   starting with an ASCII digit), numbers (C "pp-number" rule:
//                   0x1F, 3.14, 1e-5, 1'000, 10ULL, .5), operators (longest
//                   match among common multi-char operators such as == -> ::
//                   <<= ... => &&, else one ASCII punctuation/symbol char), and
//                   each non-ASCII punctuation or symbol code point (P*, S*).
//                   Whitespace, control/format characters and invalid bytes
//                   separate. Comments are not special: their words become
//                   identifiers and "//" or "/*" become operator tokens.
//
// OPTIONS (tokenize_options; each applies after classification, so it never
// changes where a token starts or ends, except strip_punctuation in word mode)
//   lowercase            Unicode simple lowercase mapping (utf8proc_tolower) of
//                        every code point. Default on for word/character, off
//                        for code (tokenize_options::for_code()): case matters
//                        in code.
//   fold_digits          Every decimal digit (category Nd, any script) becomes
//                        ASCII '0': "2023" -> "0000", "x86" -> "x00". All kinds.
//   strip_punctuation    word: punctuation code points (P* except '_') are
//                        deleted: they neither join nor split, so "don't" ->
//                        "dont" and "e-mail" -> "email" (datatrove-style
//                        simplification). character: P* code points (except
//                        '_') produce no token. code: no operator/punctuation
//                        tokens at all (only identifiers and numbers).
//   collapse_whitespace  character only (the other kinds never emit
//                        whitespace): a run of whitespace code points (Unicode
//                        White_Space) and invalid bytes becomes one " " token,
//                        and leading/trailing runs are dropped. When off, each
//                        whitespace code point is a token of its own bytes and
//                        each invalid byte is a " " token.
//
// HASHES
//   hash_tokens() writes hash_token(normalized UTF-8 bytes of the token,
//   token_seed(seed)) per token, in text order (hash.hpp: a branch-free
//   mix64 construction for 1..16 bytes, XXH3 for longer tokens). The value is a stable function
//   of (token string, seed): frozen by golden vectors in tests/tokenize_test.cpp.
//
// NOT PROMISED: no Unicode normalization (NFC/NFKC): precomposed "é" and
// "e\u0301" are different tokens; no language-aware word breaking (CJK runs
// are split into single code points, not into dictionary words); case
// mapping is simple (1:1), so "ß" stays "ß". Categories follow the Unicode
// version of the linked utf8proc (2.8 = Unicode 15); code points assigned in a
// later version may change class when utf8proc is upgraded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/detail/uninitialized.hpp"
#include "neardup/enum_names.hpp"
#include "neardup/hash.hpp"

namespace neardup {

enum class token_kind : std::uint8_t { word, character, code };

// Spellings (enum_names.hpp): word, char, code; as `--tokens` takes them.
constexpr std::array<enum_name<token_kind>, 3> enum_names(token_kind) noexcept {
  return {{{token_kind::word, "word"}, {token_kind::character, "char"}, {token_kind::code, "code"}}};
}

struct tokenize_options {
  token_kind kind = token_kind::word;
  bool lowercase = true;
  bool fold_digits = false;
  bool strip_punctuation = false;
  bool collapse_whitespace = true;

  // Defaults for each kind (word and character lowercase; code keeps case).
  static constexpr tokenize_options for_words() noexcept { return {}; }
  static constexpr tokenize_options for_characters() noexcept {
    tokenize_options o;
    o.kind = token_kind::character;
    return o;
  }
  static constexpr tokenize_options for_kind(token_kind kind) noexcept {
    return kind == token_kind::character ? for_characters() : kind == token_kind::code ? for_code() : for_words();
  }
  static constexpr tokenize_options for_code() noexcept {
    tokenize_options o;
    o.kind = token_kind::code;
    o.lowercase = false;
    return o;
  }
  friend constexpr bool operator==(const tokenize_options&, const tokenize_options&) = default;
};

// Stream constant for derive_seed(): token hashes use token_seed(seed).
inline constexpr std::uint64_t token_hash_stream = 0x746f6b656e733031ULL;  // "tokens01"
[[nodiscard]] constexpr std::uint64_t token_seed(std::uint64_t seed) noexcept {
  return derive_seed(seed, token_hash_stream);
}

namespace detail {
// hash_token parameters of one token length: token_length_seed and byte masks.
struct short_token_params {
  std::uint64_t seed = 0, lo_mask = 0, hi_mask = 0;
};
}  // namespace detail

// True if `cp` belongs to a script written without spaces between words:
// its Script_Extensions include Han, Hiragana, Katakana, Thai, Lao, Khmer or
// Myanmar (Unicode 14 data, table generated by scripts/gen_unspaced_scripts.pl),
// and it is a letter, mark or number. In word mode each such code point is a
// token of its own. E.g. true for U+4E2D (中), U+3042 (あ), U+0E01 (ก); false
// for 'a', U+3002 (。), U+AC00 (가: Hangul is written with spaces).
bool is_unspaced_script(char32_t cp) noexcept;

// Reusable tokenizer. Holds scratch buffers, so a tokenizer object must not be
// used by two threads at once: give each thread its own (they are cheap to
// construct and copy). Output is a pure function of (text, options, seed).
class tokenizer {
 public:
  // Throws std::invalid_argument if options.kind is not a token_kind value.
  explicit tokenizer(const tokenize_options& options = {}, std::uint64_t seed = default_seed);

  // Clears `out`, then appends one hash per token, in text order. Capacity of
  // `out` is reused: no allocation per token or per document once warm.
  void hash_tokens(std::string_view text, std::vector<std::uint64_t>& out);
  // The same hashes without the copy: a view of the tokenizer's own buffer,
  // valid until the next call or release_scratch().
  [[nodiscard]] std::span<const std::uint64_t> hash_tokens(std::string_view text);

  // Frees the scratch buffers (they grow to the largest text seen: one hash
  // per token). The tokenizer frees its normalized bytes itself after a text
  // of large_text_bytes or more; callers done with the hashes of such a text
  // call this, so that one huge line does not stay resident.
  void release_scratch() noexcept;
  static constexpr std::size_t large_text_bytes = std::size_t{16} << 20;

  // Clears `out`, then appends the normalized tokens (UTF-8). For tests,
  // debugging and golden files; allocates per token.
  void tokens(std::string_view text, std::vector<std::string>& out);

  [[nodiscard]] const tokenize_options& options() const noexcept { return options_; }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

 private:
  template <class Sink>
  void run(std::string_view text, Sink& sink);
  template <class Sink>
  void run_words(std::string_view text, Sink& sink);
  template <class Sink>
  void run_characters(std::string_view text, Sink& sink);
  template <class Sink>
  void run_code(std::string_view text, Sink& sink);

  tokenize_options options_;
  std::uint64_t seed_;
  std::uint64_t token_seed_;
  std::array<std::uint16_t, 256> ascii_;      // per-kind byte class << 8 | output byte
  std::array<std::uint64_t, 128> ascii_hash_;  // hash of each one-byte token
  std::array<detail::short_token_params, 17> short_params_;  // per token length 1..16
  std::array<std::uint64_t, 128> op_starts_;   // code: operators (bit k) starting with a byte
  // Scratch sized by upper bounds, never zero-filled: only the bytes written
  // are resident.
  detail::uninitialized_vector<char> buf_;              // normalized bytes of the document
  detail::uninitialized_vector<std::uint64_t> hashes_;  // token hashes before the copy to `out`
};

// Convenience: the normalized tokens of `text` (allocates; for tests/debug).
[[nodiscard]] std::vector<std::string> tokenize(std::string_view text, const tokenize_options& options = {});

}  // namespace neardup

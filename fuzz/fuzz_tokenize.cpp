// Differential fuzzer: on arbitrary bytes, for every token kind and the option
// bits taken from the first input byte, the fast tokenizer must equal the
// reference tokenizer (tokens and hashes), the UTF-8 decoder must equal
// utf8proc_iterate, and shingles/fingerprints must keep their invariants.
#include <utf8proc.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/detail/tokenize_reference.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/shingle.hpp"
#include "neardup/tokenize.hpp"
#include "neardup/utf8.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_decoder(std::string_view s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    const neardup::utf8::decoded d = neardup::utf8::decode(s, i);
    utf8proc_int32_t cp = -1;
    const utf8proc_ssize_t n = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) {
      // one maximal invalid subpart (Unicode 3.9): 1 to 3 bytes
      check(d.code_point == neardup::utf8::invalid && d.length >= 1 && d.length <= 3 && d.length <= s.size() - i);
    } else {
      check(d.code_point == static_cast<char32_t>(cp) && d.length == static_cast<std::uint32_t>(n));
    }
    i += d.length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned bits = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_decoder(text);
  for (const neardup::token_kind kind :
       {neardup::token_kind::word, neardup::token_kind::character, neardup::token_kind::code}) {
    neardup::tokenize_options o;
    o.kind = kind;
    o.lowercase = (bits & 1) != 0;
    o.fold_digits = (bits & 2) != 0;
    o.strip_punctuation = (bits & 4) != 0;
    o.collapse_whitespace = (bits & 8) != 0;
    const std::uint64_t seed = bits >> 4;
    neardup::tokenizer t(o, seed);
    std::vector<std::string> tokens;
    t.tokens(text, tokens);
    check(tokens == neardup::detail::reference_tokenize(text, o));
    std::vector<std::uint64_t> hashes;
    t.hash_tokens(text, hashes);
    check(hashes == neardup::detail::reference_hash_tokens(text, o, seed));

    const std::size_t n = 1 + (bits >> 4) % 6;
    std::vector<std::uint64_t> grams, set;
    neardup::ngram_hashes(hashes, n, seed, grams);
    check(grams.size() == (hashes.empty() ? 0 : hashes.size() < n ? 1 : hashes.size() - n + 1));
    neardup::shingler sh({.tokens = o, .n = n, .seed = seed});
    sh.shingles(text, set);
    check(std::is_sorted(set.begin(), set.end()) &&
          std::adjacent_find(set.begin(), set.end()) == set.end());
    std::sort(grams.begin(), grams.end());
    grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
    check(grams == set);
    check(neardup::exact_jaccard(set, set) == (set.empty() ? 0.0 : 1.0));
    check(neardup::fingerprint(hashes, seed) == neardup::fingerprint(text, o, seed));
  }
  return 0;
}

// neardup/shingle.hpp — shingles (token n-grams), exact n-gram hashes and the
// exact Jaccard similarity of shingle sets.
//
// A shingle is n consecutive tokens. Its hash is hash_ngram (hash.hpp) of the
// n token hashes, seeded with shingle_seed(seed): a 128-bit sum of the token
// hashes times per-position constants, folded by mix64. It is order-sensitive
// and, for n <= 8, two different token sequences collide with probability
// about 2^-63 (the bound is derived in hash.hpp). Since token hashes are a
// stable function of the token strings (tokenize.hpp), so is every shingle
// hash, on every machine (defined on integer values: byte order plays no part).
//
//   neardup::shingler sh({.tokens = {}, .n = 5, .seed = neardup::default_seed});
//   std::vector<std::uint64_t> a, b;
//   sh.shingles("one two three four five six seven", a);   // sorted, unique
//   sh.shingles("One two three, four five six EIGHT", b);
//   double j = neardup::exact_jaccard(a, b);   // 2 shared of 4 distinct 5-grams: 0.5
//
// Conventions (what a datatrove / text-dedup user expects):
//   - T >= n tokens give T - n + 1 n-grams, in text order.
//   - 1 <= T < n tokens give ONE shingle of all T tokens, so short documents
//     still compare (its hash is that of a T-gram).
//   - T = 0 tokens give no shingles: an empty document is never a duplicate
//     of anything (exact_jaccard of two empty sets is 0).
//
// Not promised: shingle hashes are 64-bit, so two distinct n-grams collide
// with probability ~2^-64 per pair; they are not a cryptographic commitment.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/tokenize.hpp"

namespace neardup {

// Stream constant for derive_seed(): shingle hashes use shingle_seed(seed).
inline constexpr std::uint64_t shingle_hash_stream = 0x7368696e676c6531ULL;  // "shingle1"
constexpr std::uint64_t shingle_seed(std::uint64_t seed) noexcept {
  return derive_seed(seed, shingle_hash_stream);
}

// Largest n accepted by shingler and the functions below.
inline constexpr std::size_t max_ngram = 1 << 16;

namespace detail {

inline void check_ngram(std::size_t n) {
  if (n < 1 || n > max_ngram) {
    throw std::invalid_argument("shingle n = " + std::to_string(n) + " is outside [1, " +
                                std::to_string(max_ngram) + "]");
  }
}

// Hashes `windows` windows of N token hashes; N is a constant so the
// multipliers become immediates and the loop unrolls.
template <std::size_t N>
inline void hash_windows_fixed(const std::uint64_t* t, std::size_t windows, std::uint64_t seed,
                               std::uint64_t* out) noexcept {
  for (std::size_t i = 0; i < windows; ++i) {
    uint128_t acc = 0;
    for (std::size_t j = 0; j < N; ++j) acc += static_cast<uint128_t>(t[i + j]) * ngram_multipliers[j];
    out[i] = finish_ngram(acc, seed);
  }
}

inline void hash_windows(const std::uint64_t* t, std::size_t windows, std::size_t n, std::uint64_t seed,
                         std::uint64_t* out) noexcept {
  switch (n) {
    case 1: return hash_windows_fixed<1>(t, windows, seed, out);
    case 2: return hash_windows_fixed<2>(t, windows, seed, out);
    case 3: return hash_windows_fixed<3>(t, windows, seed, out);
    case 4: return hash_windows_fixed<4>(t, windows, seed, out);
    case 5: return hash_windows_fixed<5>(t, windows, seed, out);
    case 6: return hash_windows_fixed<6>(t, windows, seed, out);
    case 7: return hash_windows_fixed<7>(t, windows, seed, out);
    case 8: return hash_windows_fixed<8>(t, windows, seed, out);
    default:
      for (std::size_t i = 0; i < windows; ++i) out[i] = hash_ngram(t + i, n, seed);
  }
}

// The token hashes as little-endian bytes: the span itself on little-endian
// machines, a byte-swapped copy in `scratch` elsewhere.
inline const std::uint64_t* as_little_endian(std::span<const std::uint64_t> h,
                                             std::vector<std::uint64_t>& scratch) {
  if constexpr (std::endian::native == std::endian::little) {
    return h.data();
  } else {
    scratch.resize(h.size());
    for (std::size_t i = 0; i < h.size(); ++i) {
      std::uint64_t x = h[i], y = 0;
      for (int b = 0; b < 8; ++b, x >>= 8) y = (y << 8) | (x & 0xFF);
      scratch[i] = y;
    }
    return scratch.data();
  }
}

}  // namespace detail

// Clears `out`, then writes the hash of every n-gram of `token_hashes` in text
// order (max(T - n + 1, 1) values for T >= 1 tokens, none for T = 0): value i
// is hash_ngram(&token_hashes[i], n, shingle_seed(seed)), and the single value
// for T < n is hash_ngram(token_hashes.data(), T, shingle_seed(seed)). No
// allocation: windows are hashed in place.
// Throws std::invalid_argument unless 1 <= n <= max_ngram.
inline void ngram_hashes(std::span<const std::uint64_t> token_hashes, std::size_t n, std::uint64_t seed,
                         std::vector<std::uint64_t>& out) {
  detail::check_ngram(n);
  out.clear();
  const std::size_t t = token_hashes.size();
  if (t == 0) return;
  const std::uint64_t s = shingle_seed(seed);
  if (t < n) {
    out.push_back(hash_ngram(token_hashes.data(), t, s));
    return;
  }
  out.resize(t - n + 1);
  detail::hash_windows(token_hashes.data(), out.size(), n, s, out.data());
}

namespace detail {

// Reusable buffers for sort_unique().
struct sort_scratch {
  std::vector<std::uint64_t> tmp;
  std::vector<std::uint32_t> count;
};

// Sorts `v` and removes duplicates. Shingle hashes are uniform, so one
// counting pass on the top bits spreads them over ~n buckets that insertion
// sort finishes in linear expected time; a bucket that is large anyway
// (crafted input) falls back to std::sort, keeping O(n log n) worst case.
inline void sort_unique(std::vector<std::uint64_t>& v, sort_scratch& s) {
  const std::size_t n = v.size();
  if (n < 128) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return;
  }
  const int bits = std::min(16, static_cast<int>(std::bit_width(n)) - 1);
  const int shift = 64 - bits;
  const std::size_t buckets = std::size_t{1} << bits;
  s.count.assign(buckets + 1, 0);
  for (const std::uint64_t x : v) ++s.count[(x >> shift) + 1];
  for (std::size_t b = 0; b < buckets; ++b) s.count[b + 1] += s.count[b];
  s.tmp.resize(n);
  for (const std::uint64_t x : v) s.tmp[s.count[x >> shift]++] = x;  // count[b] -> end of bucket b
  std::uint64_t* t = s.tmp.data();
  std::size_t begin = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t end = s.count[b];
    if (end - begin > 32) {
      std::sort(t + begin, t + end);
    } else {
      for (std::size_t i = begin + 1; i < end; ++i) {
        const std::uint64_t x = t[i];
        std::size_t j = i;
        for (; j > begin && t[j - 1] > x; --j) t[j] = t[j - 1];
        t[j] = x;
      }
    }
    begin = end;
  }
  std::size_t out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (out == 0 || t[i] != v[out - 1]) v[out++] = t[i];
  }
  v.resize(out);
}

}  // namespace detail

// Sorts `v` and removes duplicates: turns n-gram hashes into a shingle set.
inline void make_set(std::vector<std::uint64_t>& v) {
  detail::sort_scratch scratch;
  detail::sort_unique(v, scratch);
}

// Clears `out`, then writes the shingle SET: sorted, without duplicates.
inline void shingle_set(std::span<const std::uint64_t> token_hashes, std::size_t n, std::uint64_t seed,
                        std::vector<std::uint64_t>& out) {
  ngram_hashes(token_hashes, n, seed, out);
  make_set(out);
}

// |A ∩ B| / |A ∪ B| by a linear merge. Both empty -> 0.0 (empty documents are
// never duplicates).
// REQUIRES: both spans sorted ascending without duplicates (as made by shingle_set).
inline double exact_jaccard(std::span<const std::uint64_t> sorted_a,
                            std::span<const std::uint64_t> sorted_b) noexcept {
  std::size_t i = 0, j = 0, common = 0;
  while (i < sorted_a.size() && j < sorted_b.size()) {
    const std::uint64_t x = sorted_a[i], y = sorted_b[j];
    common += x == y;
    i += x <= y;
    j += y <= x;
  }
  const std::size_t unite = sorted_a.size() + sorted_b.size() - common;
  return unite == 0 ? 0.0 : static_cast<double>(common) / static_cast<double>(unite);
}

// exact_jaccard(a, b) >= threshold, decided without finishing the merge when
// possible: it stops as soon as the shared count still reachable falls below
// the count the threshold needs (length filter first). Same answer as the
// comparison, always; much faster on dissimilar candidates.
// REQUIRES: as exact_jaccard.
inline bool jaccard_at_least(std::span<const std::uint64_t> sorted_a, std::span<const std::uint64_t> sorted_b,
                             double threshold) noexcept {
  const std::size_t na = sorted_a.size(), nb = sorted_b.size();
  if (na + nb == 0) return 0.0 >= threshold;
  auto reaches = [&](std::size_t c) {
    return static_cast<double>(c) / static_cast<double>(na + nb - c) >= threshold;
  };
  // The fewest shared elements that reach the threshold (J grows with c).
  const std::size_t most = std::min(na, nb);
  if (!reaches(most)) return false;
  std::size_t need = 0;
  if (!reaches(0)) {
    std::size_t lo = 0, hi = most;  // reaches(hi), !reaches(lo)
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      (reaches(mid) ? hi : lo) = mid;
    }
    need = hi;
  }
  std::size_t i = 0, j = 0, common = 0;
  while (i < na && j < nb) {
    const std::uint64_t x = sorted_a[i], y = sorted_b[j];
    common += x == y;
    i += x <= y;
    j += y <= x;
    if (common + std::min(na - i, nb - j) < need) return false;
  }
  return common >= need;
}

struct shingle_options {
  tokenize_options tokens{};
  std::size_t n = 5;
  std::uint64_t seed = default_seed;
};

// Text -> shingles with reused buffers. Not thread-safe: use one shingler per
// thread (construction is cheap). Results are a pure function of
// (text, options); shingles(t) == shingle_set(token hashes of t, n, seed).
class shingler {
 public:
  // Throws std::invalid_argument unless 1 <= options.n <= max_ngram.
  explicit shingler(const shingle_options& options = {})
      : options_(options), tokenizer_((detail::check_ngram(options.n), options.tokens), options.seed) {}

  // Clears `out`, then writes the sorted unique shingle hashes of `text`.
  void shingles(std::string_view text, std::vector<std::uint64_t>& out) {
    ngram_hashes(text, out);
    detail::sort_unique(out, sort_);
  }

  // Clears `out`, then writes every n-gram hash of `text` in order, repeats
  // included (enough for MinHash, which ignores multiplicity; skips the sort).
  void ngram_hashes(std::string_view text, std::vector<std::uint64_t>& out) {
    tokenizer_.hash_tokens(text, tokens_);
    neardup::ngram_hashes(tokens_, options_.n, options_.seed, out);
  }

  // Token hashes of the text last passed to shingles()/ngram_hashes(), e.g.
  // for fingerprint() without tokenizing twice.
  const std::vector<std::uint64_t>& token_hashes() const noexcept { return tokens_; }

  const shingle_options& options() const noexcept { return options_; }

 private:
  shingle_options options_;
  tokenizer tokenizer_;
  std::vector<std::uint64_t> tokens_;
  detail::sort_scratch sort_;
};

}  // namespace neardup

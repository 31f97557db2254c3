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
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/detail/intersect_kernels.hpp"
#include "neardup/hash.hpp"
#include "neardup/tokenize.hpp"
#include "neardup/types.hpp"

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
// counting pass on the top bits spreads them over 1-2 buckets per value (few
// buckets hold two, so the insertion sort that finishes rarely moves a value
// and its branch is predictable), in linear expected time; a bucket that is large anyway
// (crafted input) falls back to std::sort, keeping O(n log n) worst case.
inline void sort_unique(std::vector<std::uint64_t>& v, sort_scratch& s) {
  const std::size_t n = v.size();
  if (n < 16) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return;
  }
  const int bits = std::min(17, static_cast<int>(std::bit_width(n)));
  const int shift = 64 - bits;
  const std::size_t buckets = std::size_t{1} << bits;
  s.count.assign(buckets + 1, 0);
  for (const std::uint64_t x : v) ++s.count[(x >> shift) + 1];
  std::uint32_t largest = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    largest = std::max(largest, s.count[b + 1]);
    s.count[b + 1] += s.count[b];
  }
  s.tmp.resize(n);
  for (const std::uint64_t x : v) s.tmp[s.count[x >> shift]++] = x;  // count[b] -> end of bucket b
  std::uint64_t* t = s.tmp.data();
  if (largest <= 32) {
    // Every value is at most 31 places from its sorted place: one insertion
    // sort over the whole array, nearly always a single comparison per value.
    for (std::size_t i = 1; i < n; ++i) {
      const std::uint64_t x = t[i];
      std::size_t j = i;
      for (; j > 0 && t[j - 1] > x; --j) t[j] = t[j - 1];
      t[j] = x;
    }
  } else {
    std::size_t begin = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::size_t end = s.count[b];
      std::sort(t + begin, t + end);
      begin = end;
    }
  }
  std::size_t out = 1;
  v[0] = t[0];
  for (std::size_t i = 1; i < n; ++i) {
    v[out] = t[i];
    out += t[i] != t[i - 1];
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

// |A ∩ B| of two sorted sets, by the process's kernel (default_kernel() in
// signature.hpp: AVX-512, AVX2 or scalar, NEARDUP_KERNEL to force one), or by
// `kernel`. Every kernel returns the same count.
// REQUIRES: both spans sorted ascending without duplicates.
std::size_t count_shared(std::span<const std::uint64_t> sorted_a, std::span<const std::uint64_t> sorted_b) noexcept;
std::size_t count_shared(std::span<const std::uint64_t> sorted_a, std::span<const std::uint64_t> sorted_b,
                         sig_kernel kernel) noexcept;

namespace detail {

// Runs a merge (detail/intersect_kernels.hpp) by the process's kernel.
void merge(merge_task& t) noexcept;

// The fewest shared elements c with c / (na + nb - c) >= threshold (J grows
// with c), or min(na, nb) + 1 when no c reaches it.
inline std::size_t jaccard_need(std::size_t na, std::size_t nb, double threshold) noexcept {
  auto reaches = [&](std::size_t c) {
    return na + nb == c ? 0.0 >= threshold
                        : static_cast<double>(c) / static_cast<double>(na + nb - c) >= threshold;
  };
  const std::size_t most = std::min(na, nb);
  if (!reaches(most)) return most + 1;
  // c / (na + nb - c) >= t  <=>  c >= t (na + nb) / (1 + t): start there and
  // correct for rounding with the comparison itself.
  const double guess = std::ceil(threshold * static_cast<double>(na + nb) / (1.0 + threshold));
  std::size_t c = guess <= 0.0 ? 0 : std::min(most, static_cast<std::size_t>(guess));
  while (c < most && !reaches(c)) ++c;
  while (c > 0 && reaches(c - 1)) --c;
  return c;
}

// The first stage of a staged intersection covers about this many values of
// both sets together.
inline constexpr std::size_t first_stage_values = 1024;

}  // namespace detail

// exact_jaccard(a, b) >= threshold, usually decided before the whole sets
// are read.
//
// The sets are intersected in stages over hash ranges [0, 2^64 / 2^s), s
// falling to 0, each stage about twice the last. After each stage it answers
// true as soon as the shared count reaches what the threshold needs, and
// false as soon as the count still reachable falls below it (a length filter
// comes first). With max_miss = 0 that is all: the answer always equals the
// comparison.
//
// With 0 < max_miss < 1 it may also answer false from a sample. Shingle
// hashes are uniform, so the m values of A u B in a stage's range are a
// uniform random sample of A u B, and the shared ones among them a
// hypergeometric draw with mean m * J. When so few are shared that a pair
// with J >= threshold would show that few with probability below max_miss
// (Bernstein's inequality, which holds for sampling without replacement), the
// answer is false. Then:
//   - true  => exact_jaccard(a, b) >= threshold, always;
//   - false => exact_jaccard(a, b) <  threshold, except with probability at
//     most 64 * max_miss (one test per stage) for a pair at or above the
//     threshold, over the choice of hash seed (ideal hashing assumed).
// Either way the answer is a deterministic function of the sets and the
// arguments, the same on every run, thread, kernel and machine.
//
//   bool dup = neardup::jaccard_at_least(set_a, set_b, 0.8);          // exact
//   bool fast = neardup::jaccard_at_least(set_a, set_b, 0.8, 1e-9);   // sampled rejection
//
// REQUIRES: as exact_jaccard; 0 <= max_miss < 1.
inline bool jaccard_at_least(std::span<const std::uint64_t> sorted_a, std::span<const std::uint64_t> sorted_b,
                             double threshold, double max_miss = 0.0) noexcept {
  const std::size_t na = sorted_a.size(), nb = sorted_b.size();
  if (na + nb == 0) return 0.0 >= threshold;
  const std::size_t need = detail::jaccard_need(na, nb, threshold);
  if (need == 0) return true;
  if (need > std::min(na, nb)) return false;
  // Bernstein: P(shared <= m t - x) <= exp(-x^2 / (2 (m v + x / 3))) = max_miss
  // at x = L/3 + sqrt(L^2/9 + 2 m v L), L = log(1 / max_miss); v = J (1 - J)
  // maximized over J >= t.
  // (Only pairs merged in several stages are tested; most are one stage, so
  // L is computed when first needed.)
  const bool sampled = max_miss > 0.0 && max_miss < 1.0;
  double log_inv = 0.0;
  int s = 0;
  while (s < 62 && ((na + nb) >> (s + 1)) >= detail::first_stage_values) ++s;
  std::size_t i = 0, j = 0, common = 0;
  for (;; --s) {
    std::size_t ia = na, jb = nb;
    if (s > 0) {
      const std::uint64_t end = std::uint64_t{1} << (64 - s);  // this stage: hashes below end
      ia = static_cast<std::size_t>(std::lower_bound(sorted_a.begin() + i, sorted_a.end(), end) - sorted_a.begin());
      jb = static_cast<std::size_t>(std::lower_bound(sorted_b.begin() + j, sorted_b.end(), end) - sorted_b.begin());
    }
    // The merge of this stage stops as soon as it can decide the pair.
    detail::merge_task t{sorted_a.data() + i, ia - i, sorted_b.data() + j, jb - j, need - common, need - common,
                         na - ia, nb - jb, 0, 0, 0, false};
    detail::merge(t);
    common += t.common;
    if (common >= need) return true;
    if (t.stopped) return false;  // need is out of reach
    i = ia;
    j = jb;
    if (s == 0 || common + std::min(na - i, nb - j) < need) return false;
    if (sampled) {
      if (log_inv == 0.0) log_inv = -std::log(max_miss);
      const double var = threshold >= 0.5 ? threshold * (1.0 - threshold) : 0.25;
      const double m = static_cast<double>(i + j - common);  // values of A u B seen
      const double x = log_inv / 3.0 + std::sqrt(log_inv * log_inv / 9.0 + 2.0 * m * var * log_inv);
      if (static_cast<double>(common) < m * threshold - x) return false;
    }
  }
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

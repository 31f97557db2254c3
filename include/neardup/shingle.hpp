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
#include "neardup/types.hpp"

namespace neardup {

// Stream constant for derive_seed(): shingle hashes use shingle_seed(seed).
inline constexpr std::uint64_t shingle_hash_stream = 0x7368696e676c6531ULL;  // "shingle1"
[[nodiscard]] constexpr std::uint64_t shingle_seed(std::uint64_t seed) noexcept {
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

// ---- set operations
//
// A shingle set is a span of uint64 sorted ascending without duplicates, as
// shingle_set(), make_set() and shingler::shingles() make it. exact_jaccard,
// count_shared and jaccard_at_least REQUIRE sets: given unsorted n-gram hashes
// they would return a wrong number, not an error. So they check their inputs
// when NEARDUP_CHECK_SETS is 1, which is the default unless NDEBUG is defined
// (debug builds), and throw std::invalid_argument naming the function, the
// argument and the first position out of order. Release builds skip the O(n)
// check (define NEARDUP_CHECK_SETS=1 to keep it).
#ifndef NEARDUP_CHECK_SETS
#ifdef NDEBUG
#define NEARDUP_CHECK_SETS 0
#else
#define NEARDUP_CHECK_SETS 1
#endif
#endif

// True iff `values` is strictly ascending (sorted, no duplicates): a set.
[[nodiscard]] constexpr bool is_set(std::span<const std::uint64_t> values) noexcept {
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i - 1] >= values[i]) return false;
  }
  return true;
}

namespace detail {

// Throws the std::invalid_argument that explains why `values` is not a set.
[[noreturn]] void throw_not_a_set(std::span<const std::uint64_t> values, const char* function,
                                  const char* argument);

inline void check_set([[maybe_unused]] std::span<const std::uint64_t> values, [[maybe_unused]] const char* function,
                      [[maybe_unused]] const char* argument) {
#if NEARDUP_CHECK_SETS
  if (!is_set(values)) throw_not_a_set(values, function, argument);
#endif
}

std::size_t count_shared_unchecked(std::span<const std::uint64_t> sorted_a,
                                   std::span<const std::uint64_t> sorted_b) noexcept;
std::size_t count_shared_unchecked(std::span<const std::uint64_t> sorted_a, std::span<const std::uint64_t> sorted_b,
                                   sig_kernel kernel);
bool jaccard_at_least_unchecked(std::span<const std::uint64_t> sorted_a, std::span<const std::uint64_t> sorted_b,
                                double threshold, double max_miss);

}  // namespace detail

// |A ∩ B| / |A ∪ B| by a linear merge. Both empty -> 0.0 (empty documents are
// never duplicates).
// REQUIRES: both spans are sets (checked when NEARDUP_CHECK_SETS, see above).
[[nodiscard]] inline double exact_jaccard(std::span<const std::uint64_t> sorted_a,
                                          std::span<const std::uint64_t> sorted_b) {
  detail::check_set(sorted_a, "exact_jaccard", "sorted_a");
  detail::check_set(sorted_b, "exact_jaccard", "sorted_b");
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
// REQUIRES: both spans are sets (checked when NEARDUP_CHECK_SETS); `kernel`
// supported by this CPU (else std::invalid_argument, as for minhasher).
[[nodiscard]] inline std::size_t count_shared(std::span<const std::uint64_t> sorted_a,
                                              std::span<const std::uint64_t> sorted_b) {
  detail::check_set(sorted_a, "count_shared", "sorted_a");
  detail::check_set(sorted_b, "count_shared", "sorted_b");
  return detail::count_shared_unchecked(sorted_a, sorted_b);
}
[[nodiscard]] inline std::size_t count_shared(std::span<const std::uint64_t> sorted_a,
                                              std::span<const std::uint64_t> sorted_b, sig_kernel kernel) {
  detail::check_set(sorted_a, "count_shared", "sorted_a");
  detail::check_set(sorted_b, "count_shared", "sorted_b");
  return detail::count_shared_unchecked(sorted_a, sorted_b, kernel);
}

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
// REQUIRES: both spans are sets (checked when NEARDUP_CHECK_SETS);
// 0 <= threshold <= 1 and 0 <= max_miss < 1 (always checked:
// std::invalid_argument).
[[nodiscard]] inline bool jaccard_at_least(std::span<const std::uint64_t> sorted_a,
                                           std::span<const std::uint64_t> sorted_b, double threshold,
                                           double max_miss = 0.0) {
  detail::check_set(sorted_a, "jaccard_at_least", "sorted_a");
  detail::check_set(sorted_b, "jaccard_at_least", "sorted_b");
  return detail::jaccard_at_least_unchecked(sorted_a, sorted_b, threshold, max_miss);
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
    tokens_ = tokenizer_.hash_tokens(text);
    neardup::ngram_hashes(tokens_, options_.n, options_.seed, out);
  }

  // Token hashes of the text last passed to shingles()/ngram_hashes(), e.g.
  // for fingerprint() without tokenizing twice; valid until the next call or
  // release_scratch().
  [[nodiscard]] std::span<const std::uint64_t> token_hashes() const noexcept { return tokens_; }

  // Frees the scratch buffers, which grow to the largest text seen
  // (tokenizer::release_scratch); token_hashes() is empty afterwards.
  void release_scratch() noexcept {
    tokenizer_.release_scratch();
    tokens_ = {};
    sort_ = {};
  }

  [[nodiscard]] const shingle_options& options() const noexcept { return options_; }

 private:
  shingle_options options_;
  tokenizer tokenizer_;
  std::span<const std::uint64_t> tokens_;  // in tokenizer_'s buffer
  detail::sort_scratch sort_;
};

}  // namespace neardup

// neardup/signature.hpp — MinHash signatures of shingle sets and Jaccard
// estimates from them.
//
// A signature is k = num_perm values of `sig_value` (uint32). Two signatures
// agree at a position with probability ~J, the Jaccard similarity of the two
// input sets, so the fraction of equal positions estimates J. Three schemes:
//
//   classic          k multiply-add-shift hash functions, the minimum of each:
//                    h_i(x) = ((a_i * x + b_i) mod 2^64) >> 32, a_i odd.
//                    O(n*k); the reference. SIMD kernels (AVX2, AVX-512).
//   one_permutation  (default) one hash per shingle picks a bin and a value;
//                    empty bins are filled by fast densification (Mai et
//                    al., UAI 2019; one random rotation of the bins per
//                    round). O(n + k log k) for every set size: a 1-shingle
//                    set signs in well under 1 us at k = 128.
//   superminhash     Ertl 2017: a shared random permutation per shingle gives
//                    lower variance than classic for sets with n <~ k.
//                    Expected O(n + k log^2 k). Scalar only (sequential).
//
//   neardup::minhasher mh({.scheme = neardup::minhash_scheme::one_permutation,
//                          .num_perm = 128});
//   std::vector<neardup::sig_value> a(mh.num_perm()), b(mh.num_perm());
//   mh.sign(shingles_of_doc_a, a);   // std::span<const std::uint64_t>
//   mh.sign(shingles_of_doc_b, b);
//   neardup::jaccard_bounds j = neardup::jaccard(a, b);  // j.lower <= j.estimate <= j.upper
//
// Input: 64-bit shingle hashes that are already well mixed (e.g. hash_ngram from
// hash.hpp). Order and duplicates do not change the signature.
//
// Guarantees
//  - A signature is a pure function of (set of input values, scheme, num_perm,
//    seed). It is bit-identical on every x86-64 CPU and for every kernel
//    (scalar, avx2, avx512), and fixed for a given `signature_version`
//    (frozen vectors in tests/signature_test.cpp).
//  - The empty set gets the sentinel signature: every value is
//    `empty_sig_value` (0xFFFFFFFF). A non-empty set never contains
//    0xFFFFFFFF (values are clamped to 0xFFFFFFFE), so `is_empty_signature`
//    is exact. Empty documents are never near-duplicates of anything:
//    `jaccard` returns {0, 0, 0} for them and banding emits no band keys.
//  - `minhasher` is immutable after construction; `sign` may be called
//    concurrently from many threads on one instance.
//
// Not promised: sig values are opaque (only equality is meaningful; do not
// compare them by <). Signatures of different schemes, num_perm or seeds are
// not comparable. Not cryptographic: an adversary can craft collisions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/types.hpp"

namespace neardup {

enum class minhash_scheme { classic, one_permutation, superminhash };

// Spellings (enum_names.hpp): oph (one_permutation), classic, superminhash;
// as `--scheme` takes them and stats.json writes them.
constexpr std::array<enum_name<minhash_scheme>, 3> enum_names(minhash_scheme) noexcept {
  return {{{minhash_scheme::one_permutation, "oph"},
           {minhash_scheme::classic, "classic"},
           {minhash_scheme::superminhash, "superminhash"}}};
}
// Changes whenever the signature of any input under any scheme changes;
// signatures of different versions are not comparable. 1: neardup 0.1.0.
// 2: one_permutation fills empty bins by fast densification instead of
// optimal densification (sets with 2 <= e < k non-empty bins change; classic
// and superminhash do not).
inline constexpr unsigned signature_version = 2;

// Every value of the signature of the empty set.
inline constexpr sig_value empty_sig_value = 0xFFFFFFFFU;

// Limits of `minhash_options::num_perm`.
inline constexpr std::size_t min_num_perm = 1;
inline constexpr std::size_t max_num_perm = 4096;

struct minhash_options {
  minhash_scheme scheme = minhash_scheme::one_permutation;
  std::size_t num_perm = 128;  // k, in [min_num_perm, max_num_perm]
  std::uint64_t seed = default_seed;
  // Only speed depends on this, never the output.
  sig_kernel kernel = sig_kernel::automatic;
};

class minhasher {
 public:
  // Throws std::invalid_argument if num_perm is outside [1, 4096], scheme is
  // not a minhash_scheme, or `kernel` names a kernel this CPU does not
  // support (see "kernels" below).
  explicit minhasher(const minhash_options& options = {});

  // Writes the signature of the set of values in `shingles` into `out`.
  // No allocation (superminhash reuses a per-thread scratch buffer that grows
  // once).
  // REQUIRES: out.size() == num_perm() (throws std::invalid_argument otherwise).
  void sign(std::span<const std::uint64_t> shingles, std::span<sig_value> out) const;

  // Convenience: allocates and returns the signature.
  [[nodiscard]] std::vector<sig_value> sign(std::span<const std::uint64_t> shingles) const;

  [[nodiscard]] std::size_t num_perm() const noexcept { return k_; }
  [[nodiscard]] minhash_scheme scheme() const noexcept { return scheme_; }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
  // The kernel actually used (never `automatic`).
  [[nodiscard]] sig_kernel kernel() const noexcept { return kernel_; }

 private:
  minhash_scheme scheme_;
  std::size_t k_;
  std::uint64_t seed_;
  sig_kernel kernel_;
  std::uint64_t mix_seed_ = 0;    // one_permutation / superminhash value hash
  // one_permutation: the order in which densification tries the offsets
  // 0..k-1, and each offset's position in it (stored twice in a row).
  std::vector<std::uint16_t> densify_order_;
  std::vector<std::uint16_t> densify_rank_;
  // classic: a_i (odd) and b_i, zero-padded to a multiple of 64 functions.
  std::vector<std::uint64_t> mul_;
  std::vector<std::uint64_t> add_;
};

// True iff every value is `empty_sig_value` (the signature of the empty set).
// An empty span is not a signature: returns false.
[[nodiscard]] bool is_empty_signature(std::span<const sig_value> sig) noexcept;

// Jaccard estimate with a two-sided confidence interval.
struct jaccard_bounds {
  double lower = 0;
  double estimate = 0;
  double upper = 0;
};

// estimate = fraction of equal positions, m/k. [lower, upper] is the Wilson
// score interval for a binomial proportion with k trials and normal quantile
// z (1.96 ~ 95% two-sided, 2.576 ~ 99%). For classic MinHash the binomial
// model is exact given ideal hashing. SuperMinHash has lower variance (the
// interval is conservative; ~0.5x the variance for |A u B| << k). For
// one_permutation the variance is below binomial once |A u B| >~ k/2 but up
// to ~1.1x above it for sets much smaller than k (densified bins are copies),
// where the interval is slightly too narrow (measured with 2000 pairs, k =
// 128: 1.05-1.11x at |A u B| = 20, 0.94-0.98x at 60, 0.87x at 128, 0.75-0.80x
// at 400; optimal densification, signature_version 1, gave 1.35-1.37x at 20).
// If either signature is the empty sentinel, returns {0, 0, 0}.
// REQUIRES: a.size() == b.size() >= 1, z > 0 (throws std::invalid_argument).
[[nodiscard]] jaccard_bounds jaccard(std::span<const sig_value> a, std::span<const sig_value> b,
                       double z = 1.96);

// The same interval from the count of equal positions m out of k (what
// jaccard() computes after its checks), for callers that precompute the
// counts a threshold needs. REQUIRES: m <= k, k >= 1, z > 0 (throws
// std::invalid_argument).
[[nodiscard]] jaccard_bounds jaccard_from_count(std::size_t m, std::size_t k, double z = 1.96);

// The number of positions where a and b hold equal values: jaccard()'s m.
// REQUIRES: a.size() == b.size().
[[nodiscard]] std::size_t equal_positions(std::span<const sig_value> a, std::span<const sig_value> b) noexcept;

// equal_positions(a, b) >= m, reading a and b only until the answer is
// known: past m equal positions, or past k - m unequal ones (a verifier's
// MinHash pre-check, where most pairs are decided well before the end).
// REQUIRES: a.size() == b.size().
[[nodiscard]] bool equal_positions_at_least(std::span<const sig_value> a, std::span<const sig_value> b,
                                            std::size_t m) noexcept;

// ---- kernels (for tests and benchmarks; results never depend on them)
//
// One rule for every CPU-specific kernel family (signatures here, the set
// merge of count_shared/jaccard_at_least in shingle.hpp):
//   - sig_kernel::automatic is default_kernel(), resolved once per process;
//   - a kernel named explicitly (minhash_options::kernel, count_shared(a, b,
//     kernel)) that this CPU does not support is rejected with
//     std::invalid_argument;
//   - NEARDUP_KERNEL=scalar|avx2|avx512 in the environment picks
//     default_kernel(); an unknown or unsupported value is ignored (the best
//     kernel is used) and kernel_override_warning() says why. The library
//     never prints it; the neardup executable does.

// Whether this CPU can run `kernel` (scalar and automatic: always).
[[nodiscard]] bool kernel_supported(sig_kernel kernel) noexcept;

// Kernels this CPU supports, scalar first.
[[nodiscard]] std::vector<sig_kernel> supported_kernels();

// The kernel used for `sig_kernel::automatic`, resolved once per process:
// the best supported kernel (avx512 > avx2 > scalar), unless the environment
// variable NEARDUP_KERNEL=scalar|avx2|avx512 forces a supported one.
[[nodiscard]] sig_kernel default_kernel() noexcept;

// Empty, or why NEARDUP_KERNEL was ignored, e.g. "NEARDUP_KERNEL=avx512 is
// not supported by this CPU; using avx2" (for the caller to report).
[[nodiscard]] std::string_view kernel_override_warning() noexcept;

}  // namespace neardup

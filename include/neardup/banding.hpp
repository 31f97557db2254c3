// neardup/banding.hpp — LSH banding of MinHash signatures: band keys, the
// S-curve, and choosing (bands, rows) for a Jaccard threshold.
//
// A signature of k values is cut into `bands` bands of `rows` consecutive
// values (bands * rows <= k; trailing values are unused). Two documents become
// a candidate pair if any band's values are all equal, which for Jaccard j
// happens with probability 1 - (1 - j^rows)^bands (the S-curve).
//
//   const auto p = neardup::choose_params(0.8, 128);       // (bands, rows)
//   neardup::bander bands(p, 128, neardup::default_seed);
//   std::vector<std::uint64_t> keys(p.bands);
//   if (bands.keys(signature, keys)) { /* insert keys[j] into table j */ }
//
// Band key j = hash64 of the rows * 4 little-endian bytes of
// sig[j*rows .. j*rows + rows), seeded with derive_seed(seed, j). Keys of
// different bands are therefore independent even for equal values.
//
// Guarantees: keys are a pure function of (signature, params, seed), stable
// across machines and versions (frozen vectors in tests/banding_test.cpp).
// The empty-set signature (see signature.hpp) never produces keys, so empty
// documents are never candidates. The choosers are deterministic.
// Not promised: which (bands, rows) the choosers pick may change between
// versions if the numeric integration improves (ties are broken by order:
// fewer bands first, then fewer rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/types.hpp"

namespace neardup {

struct lsh_params {
  std::uint32_t bands = 1;
  std::uint32_t rows = 1;
  friend constexpr bool operator==(const lsh_params&, const lsh_params&) = default;
};

// Throws std::invalid_argument unless bands >= 1, rows >= 1 and
// bands * rows <= num_perm.
void validate_lsh_params(lsh_params params, std::size_t num_perm);

// P(candidate | Jaccard j) = 1 - (1 - j^rows)^bands; j is clamped to [0, 1].
// REQUIRES: bands >= 1, rows >= 1 (throws std::invalid_argument).
[[nodiscard]] double candidate_probability(double j, lsh_params params);

// Integral of candidate_probability over [0, threshold] (false-positive area)
// and of 1 - candidate_probability over [threshold, 1] (false-negative area),
// by adaptive Simpson quadrature (absolute error ~1e-10; the integral over
// [0, 1] is in closed form via the Beta function).
// REQUIRES: 0 <= threshold <= 1, bands >= 1, rows >= 1 (throws
// std::invalid_argument).
[[nodiscard]] double false_positive_area(double threshold, lsh_params params);
[[nodiscard]] double false_negative_area(double threshold, lsh_params params);

// The (bands, rows) with bands * rows <= num_perm minimizing
// fp_weight * false_positive_area + fn_weight * false_negative_area
// (the criterion of datasketch's MinHashLSH). Cost ~ num_perm * ln(num_perm)
// quadratures: ~25 ms for num_perm = 128, ~1.3 s for 4096.
// REQUIRES: 0 < threshold < 1; weights finite, >= 0, not both 0;
// 1 <= num_perm <= 4096 (throws std::invalid_argument).
[[nodiscard]] lsh_params choose_params(double threshold, std::size_t num_perm, double fp_weight = 0.5,
                         double fn_weight = 0.5);

// The (bands, rows) with candidate_probability(threshold) >= target_recall
// that minimizes the false-positive area (the first such in (bands, rows)
// order). Cost: at most num_perm quadratures, one per band count (~3 ms for
// num_perm = 128).
// REQUIRES: 0 < threshold < 1, 0 < target_recall < 1, 1 <= num_perm <= 4096;
// throws std::invalid_argument if no (bands, rows) reaches the target.
[[nodiscard]] lsh_params choose_params_for_recall(double threshold, std::size_t num_perm, double target_recall);

// What choose_params_for_verified aims at: P(candidate) for a pair exactly
// at the threshold. When every candidate is verified, a false candidate costs
// one comparison while a missed pair is lost for good, so the banding favours
// recall: 0.999 at the threshold (e.g. 18 bands of 5 rows for 0.8 and k = 128,
// against 0.992 for 16 x 6, which the target of 0.99 chose before).
inline constexpr double verified_recall_at_threshold = 0.999;

// The banding for runs that verify every candidate: choose_params_for_recall
// with target verified_recall_at_threshold; if no (bands, rows) reaches it
// (few permutations or a low threshold, e.g. num_perm = 2), the banding of
// highest recall, num_perm bands of one row, instead of refusing.
//   choose_params_for_verified(0.8, 128) == lsh_params{18, 5}
// REQUIRES: 0 < threshold < 1, 1 <= num_perm <= 4096 (std::invalid_argument).
lsh_params choose_params_for_verified(double threshold, std::size_t num_perm);

// One band key of one document, for grouping a whole corpus one band at a
// time (see bander::column).
struct band_entry {
  std::uint64_t key = 0;
  doc_id doc = 0;
};

class bander {
 public:
  // Throws std::invalid_argument for invalid params (see validate_lsh_params).
  bander(lsh_params params, std::size_t num_perm, std::uint64_t seed = default_seed);

  // Writes the `bands` keys of `sig` into `out`. Returns false and leaves
  // `out` untouched if `sig` is the empty-set signature: an empty document
  // has no band keys, and using `out` anyway would reuse the previous
  // document's keys (hence [[nodiscard]]).
  // REQUIRES: sig.size() == num_perm(), out.size() == params().bands
  // (throws std::invalid_argument otherwise).
  [[nodiscard]] bool keys(std::span<const sig_value> sig, std::span<std::uint64_t> out) const;

  // Key of band `band` only; nullopt for the empty-set signature.
  // REQUIRES: sig.size() == num_perm(), band < params().bands (throws).
  [[nodiscard]] std::optional<std::uint64_t> key(std::span<const sig_value> sig, std::uint32_t band) const;

  // Band `band` of every document of a row-major array of signatures
  // (document i = signatures[i*num_perm .. (i+1)*num_perm)). Writes
  // {key, i} for each non-empty document, in document order, and returns how
  // many were written.
  // REQUIRES: signatures.size() is a multiple of num_perm(); out.size() >=
  // number of documents; number of documents <= 2^32; band < bands (throws).
  [[nodiscard]] std::size_t column(std::span<const sig_value> signatures, std::uint32_t band,
                     std::span<band_entry> out) const;

  [[nodiscard]] lsh_params params() const noexcept { return params_; }
  [[nodiscard]] std::size_t num_perm() const noexcept { return num_perm_; }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

 private:
  std::uint64_t band_hash(const sig_value* sig, std::uint32_t band) const noexcept;

  lsh_params params_;
  std::size_t num_perm_;
  std::uint64_t seed_;
  std::vector<std::uint64_t> band_seeds_;  // derive_seed(seed, j)
};

}  // namespace neardup

// neardup/pipeline/options.hpp — what the dedup stages decide with.
//
// One struct per concept, each defined here once and reused by the in-memory
// engine (pipeline/dedup.hpp), the file jobs (jobs/*.hpp), the CLI and the
// Python package:
//   similarity_options  text -> shingles -> MinHash -> LSH -> verification
//   dedup_options       similarity + which document a cluster keeps
// Every enum has its spelling table beside it (enum_names.hpp: neardup::name,
// neardup::parse<E>, neardup::spellings<E>), so each value is spelled the same
// way on the command line, in stats.json and in Python.
//
//   neardup::pipeline::dedup_options o;
//   o.threshold = 0.7;
//   o.num_perm = 256;
//   o.verify = neardup::parse<neardup::pipeline::verify_mode>("exact").value();
//   o.validate();                       // std::invalid_argument naming the field
//
// There is one seed: it seeds the token and shingle hashes, the fingerprints,
// the MinHash permutations and the band keys alike.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "neardup/banding.hpp"
#include "neardup/enum_names.hpp"
#include "neardup/hash.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"

namespace neardup::pipeline {

// How a candidate pair is confirmed before its documents are merged.
enum class verify_mode : std::uint8_t {
  none,      // merge every LSH candidate (datatrove's behaviour)
  estimate,  // MinHash estimate of Jaccard >= threshold
  exact,     // exact Jaccard of the shingle sets >= threshold (default)
};
// Spellings (enum_names.hpp): none, estimate, exact.
constexpr std::array<enum_name<verify_mode>, 3> enum_names(verify_mode) noexcept {
  return {{{verify_mode::none, "none"}, {verify_mode::estimate, "estimate"}, {verify_mode::exact, "exact"}}};
}

// Which document of a cluster is kept.
enum class keep_policy : std::uint8_t {
  first,    // the first document of a cluster in input order
  longest,  // the longest text (bytes); ties go to the first
};
// Spellings (enum_names.hpp): first, longest.
constexpr std::array<enum_name<keep_policy>, 2> enum_names(keep_policy) noexcept {
  return {{{keep_policy::first, "first"}, {keep_policy::longest, "longest"}}};
}

struct similarity_options {
  std::uint64_t seed = default_seed;   // every hash of the run
  tokenize_options tokens{};           // word tokens by default
  std::size_t ngram = 5;               // shingle size in tokens, in [1, max_ngram]
  double threshold = 0.8;              // Jaccard in (0, 1]
  std::size_t num_perm = 128;          // MinHash size k
  minhash_scheme scheme = minhash_scheme::one_permutation;
  sig_kernel kernel = sig_kernel::automatic;  // speed only, never the output
  std::optional<lsh_params> lsh;       // chosen from threshold and num_perm when absent
  verify_mode verify = verify_mode::exact;

  shingle_options shingles() const noexcept { return {tokens, ngram, seed}; }
  minhash_options minhash() const noexcept { return {scheme, num_perm, seed, kernel}; }
  // `lsh`, or default_lsh_params() when it is not set.
  lsh_params banding() const;
  // Throws std::invalid_argument naming the first field out of range and its
  // range (threshold, ngram, num_perm, bands/rows).
  void validate() const;
};

struct dedup_options : similarity_options {
  keep_policy keep = keep_policy::first;
  bool exact_first = true;  // collapse exact duplicates before LSH
  bool near = true;         // false: exact duplicates only (`neardup exact`), no MinHash
};

// The (bands, rows) used when similarity_options::lsh is not set. With
// verification: the fewest false candidates that still give P(candidate) >=
// default_recall_at_threshold for a pair exactly at the threshold
// (choose_params_for_recall). Without: datasketch's balance of false
// positives and false negatives (choose_params).
inline constexpr double default_recall_at_threshold = 0.99;
lsh_params default_lsh_params(double threshold, std::size_t num_perm, verify_mode verify);

}  // namespace neardup::pipeline

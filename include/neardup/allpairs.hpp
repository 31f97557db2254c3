// neardup/allpairs.hpp — exact all-pairs Jaccard join over shingle sets.
//
// Finds EVERY pair of documents whose shingle sets have Jaccard similarity
// >= threshold, with the exact similarity; no sketching, no false negatives,
// no false positives. It is the exact counterpart of MinHash + LSH, practical
// for high thresholds (0.7 .. 1.0), where prefix filtering prunes almost all
// pairs.
//
//   neardup::flat_sets sets;
//   sets.push_back(shingles_of_doc0);        // sorted unique uint64 hashes
//   sets.push_back(shingles_of_doc1);
//   auto pairs = neardup::allpairs_join(sets.view(), {.threshold = 0.8});
//   for (const neardup::similar_pair& p : pairs)
//     std::printf("%u %u %.3f\n", p.pair.first, p.pair.second, p.jaccard);
//
// Algorithm (AllPairs / PPJoin): tokens are ordered globally by increasing
// document frequency (ties by hash value), documents are processed by
// increasing size, and only a short prefix of each sorted set is indexed and
// probed (prefix filter), with the length filter and PPJoin's positional
// filter; surviving candidates are verified by a merge with early exit.
// Tokens that occur in one document only can never be shared, so they are
// dropped up front and only counted; on real corpora this removes most of
// the work.
//
// Guarantees:
//  - Exact: a pair (i, j), i < j, is reported iff both sets are non-empty and
//      double(|Si ∩ Sj|) / double(|Si ∪ Sj|) >= threshold
//    evaluated in IEEE double, i.e. the same result as a brute-force loop.
//    Empty sets never pair. Identical non-empty sets always pair (J = 1).
//  - Output sorted by pair, each pair once, first < second.
//  - Deterministic: a pure function of (sets, threshold), independent of the
//    thread count and of hash values (which only fix the order of work).
//
// Not promised: a bound on output size (a corpus of identical documents has
// n(n-1)/2 pairs) or on time for low thresholds, where prefixes grow long.
// Extra memory peaks at about the size of the input values (a partitioned
// copy used to count token frequencies); the join itself then holds ~4 bytes
// per occurrence of a token shared by >= 2 sets, ~48 bytes per such distinct
// token, and 8 bytes per distinct shared token per thread, plus the output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "neardup/executor.hpp"
#include "neardup/types.hpp"

namespace neardup {

// A non-owning view of n sets in compressed-row layout: set i is
// values[offsets[i] .. offsets[i+1]). This is what a pipeline stage can fill
// cheaply (append shingles, push the new end offset) and store as two flat
// arrays.
// REQUIRES: offsets.size() == n + 1, offsets[0] == 0, offsets non-decreasing,
//           offsets[n] == values.size(), each set sorted strictly increasing.
struct sets_view {
  std::span<const std::uint64_t> values;
  std::span<const std::uint64_t> offsets;

  [[nodiscard]] std::size_t size() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::span<const std::uint64_t> operator[](std::size_t i) const noexcept {
    return values.subspan(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

// Owning builder of the same layout.
class flat_sets {
 public:
  flat_sets() = default;

  // Appends one set; its id is the previous size().
  // REQUIRES: set sorted strictly increasing (checked by allpairs_join).
  void push_back(std::span<const std::uint64_t> set) {
    values_.insert(values_.end(), set.begin(), set.end());
    offsets_.push_back(values_.size());
  }
  void reserve(std::size_t sets, std::size_t values) {
    offsets_.reserve(sets + 1);
    values_.reserve(values);
  }
  [[nodiscard]] std::size_t size() const noexcept { return offsets_.size() - 1; }
  std::span<const std::uint64_t> operator[](std::size_t i) const noexcept { return view()[i]; }
  [[nodiscard]] sets_view view() const noexcept { return {values_, offsets_}; }

 private:
  std::vector<std::uint64_t> values_;
  std::vector<std::uint64_t> offsets_{0};
};

struct allpairs_options {
  // Report pairs with Jaccard >= threshold. REQUIRES: 0 < threshold <= 1.
  double threshold = 0.8;
  // Where the join runs: the pool's threads (at most 64 of them), or the
  // calling thread alone when null. Results do not depend on it.
  executor* pool = nullptr;
};

// One verified pair with its exact similarity.
struct similar_pair {
  doc_pair pair;                // pair.first < pair.second, ids = set positions
  double jaccard = 0.0;         // intersection / union_size
  std::uint64_t intersection = 0;  // |Si ∩ Sj|
  std::uint64_t union_size = 0;    // |Si ∪ Sj|
  friend bool operator==(const similar_pair&, const similar_pair&) = default;
};

// Exact similarity join. Throws std::invalid_argument when the threshold is
// outside (0, 1], the layout is malformed, a set is not strictly increasing,
// there are more than 2^32 - 1 sets, or a set has more than 2^32 - 1 values.
[[nodiscard]] std::vector<similar_pair> allpairs_join(const sets_view& sets, const allpairs_options& options = {});

}  // namespace neardup

// neardup/detail/signature_reference.hpp — the densification of
// one_permutation signatures with its evaluation order exposed, and earlier
// versions of the scheme kept as baselines. Internal: not part of the public
// API.
//
// Used by tests/signature_test.cpp (the new densification's variance is
// compared with the old one's on the same pairs) and by bench/short_docs_bench.cpp
// (the in-run baseline). Nothing in the library calls them.
#pragma once

#include <cstdint>
#include <span>

#include "neardup/signature.hpp"

namespace neardup::detail {

// How densify_rotations() evaluates its rule (see signature.cpp); every
// order gives the same bins. `automatic` picks the cheapest for the set.
enum class densify_order { automatic, argmin, pull, push, bitmap };

// Fills the empty bins (empty_sig_value) of a one_permutation signature of k
// bins: bin i takes the value of bin (i - d) mod k for the first offset d in
// `order` (a permutation of 0..k-1) at which that bin is non-empty. rank2
// holds each offset's position in `order`, twice in a row:
// rank2[order[r]] == rank2[k + order[r]] == r. All bins empty (the empty set)
// stay empty.
// `kernel` evaluates the argmin order (speed only; automatic: the active
// kernel).
// REQUIRES: 1 <= bins.size() <= max_num_perm; order holds k entries and
// rank2 2k entries as described; kernel is automatic or supported by this CPU.
void densify_rotations(std::span<const std::uint16_t> order, std::span<const std::uint16_t> rank2,
                       std::span<sig_value> bins, densify_order how = densify_order::automatic,
                       sig_kernel kernel = sig_kernel::automatic) noexcept;

// The one_permutation signature of signature_version 1 (neardup 0.1.0):
// the same bins as today, then optimal densification (Shrivastava, ICML
// 2017): each empty bin probes bins with a hash of (bin, attempt) until one
// that was non-empty, which costs ~k * k / e probes for e non-empty bins.
// REQUIRES: out.size() == options.num_perm, in [1, max_num_perm].
void sign_one_permutation_v1(const minhash_options& options, std::span<const std::uint64_t> shingles,
                             std::span<sig_value> out);

}  // namespace neardup::detail

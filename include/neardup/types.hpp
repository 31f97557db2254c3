// neardup/types.hpp — the plain data passed between pipeline stages.
//
// Stages (signatures -> band keys -> candidate pairs -> clusters) exchange
// only these types, so each stage can run on another machine and its output
// be stored as flat arrays.
#pragma once

#include <compare>
#include <cstdint>

namespace neardup {

// A document is named by its position in input order, never by its id string.
using doc_id = std::uint32_t;

// One MinHash value. Signatures are std::span<const sig_value> of length k.
using sig_value = std::uint32_t;

// CPU kernel for MinHash signatures (minhasher) and set intersection
// (count_shared). `automatic` = the process default, see `default_kernel()`
// in signature.hpp. Results never depend on the kernel.
enum class sig_kernel { automatic, scalar, avx2, avx512 };

// A candidate or verified pair; by convention first < second.
struct doc_pair {
  doc_id first = 0;
  doc_id second = 0;
  friend constexpr bool operator==(const doc_pair&, const doc_pair&) = default;
  friend constexpr auto operator<=>(const doc_pair&, const doc_pair&) = default;
};

}  // namespace neardup

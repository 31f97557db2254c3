// neardup/types.hpp — the plain data passed between pipeline stages.
//
// Stages (signatures -> band keys -> candidate pairs -> clusters) exchange
// only these types, so each stage can run on another machine and its output
// be stored as flat arrays.
#pragma once

#include <array>
#include <compare>
#include <cstdint>

#include "neardup/enum_names.hpp"

namespace neardup {

// A document is named by its position in input order, never by its id string.
using doc_id = std::uint32_t;

// One MinHash value. Signatures are std::span<const sig_value> of length k.
using sig_value = std::uint32_t;

// CPU kernel for MinHash signatures (minhasher) and set intersection
// (count_shared). `automatic` = the process default, see `default_kernel()`
// in signature.hpp. Results never depend on the kernel.
enum class sig_kernel { automatic, scalar, avx2, avx512 };

// Spellings (enum_names.hpp): automatic, scalar, avx2, avx512; as
// NEARDUP_KERNEL and stats.json's "kernel" spell them.
constexpr std::array<enum_name<sig_kernel>, 4> enum_names(sig_kernel) noexcept {
  return {{{sig_kernel::automatic, "automatic"},
           {sig_kernel::scalar, "scalar"},
           {sig_kernel::avx2, "avx2"},
           {sig_kernel::avx512, "avx512"}}};
}

// A candidate or verified pair; by convention first < second.
struct doc_pair {
  doc_id first = 0;
  doc_id second = 0;
  friend constexpr bool operator==(const doc_pair&, const doc_pair&) = default;
  friend constexpr auto operator<=>(const doc_pair&, const doc_pair&) = default;
};

}  // namespace neardup

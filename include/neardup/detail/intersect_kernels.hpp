// neardup/detail/intersect_kernels.hpp — the per-ISA kernels behind
// neardup::count_shared (shingle.hpp). Internal: not part of the public API.
//
// Like signature_kernels.hpp, this header is included by the kernel
// translation units (src/core/intersect_{avx2,avx512}.cpp) and must stay free
// of inline functions and templates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace neardup::detail {

// The number of values present in both a[0..na) and b[0..nb).
// REQUIRES: each array sorted ascending without duplicates.
std::size_t count_shared_scalar(const std::uint64_t* a, std::size_t na, const std::uint64_t* b,
                                std::size_t nb) noexcept;

// The SIMD part: counts the shared values of whole blocks (4 values for
// AVX2, 8 for AVX-512) and sets *i, *j to where the blocks stopped. Every
// shared value outside a[0..*i) and b[0..*j) is in a[*i..na) and b[*j..nb),
// counted by count_shared_scalar on those tails.
std::size_t count_shared_blocks_avx2(const std::uint64_t* a, std::size_t na, const std::uint64_t* b,
                                     std::size_t nb, std::size_t* i, std::size_t* j) noexcept;
std::size_t count_shared_blocks_avx512(const std::uint64_t* a, std::size_t na, const std::uint64_t* b,
                                       std::size_t nb, std::size_t* i, std::size_t* j) noexcept;

}  // namespace neardup::detail

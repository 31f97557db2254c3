// neardup/detail/intersect_kernels.hpp — the per-ISA kernels behind
// neardup::count_shared (shingle.hpp). Internal: not part of the public API.
//
// Like signature_kernels.hpp, this header is included by the kernel
// translation units (src/core/intersect_{avx2,avx512}.cpp) and must stay free
// of inline functions and templates (merge_blocks.hpp explains the one
// exception the kernels share).
#pragma once

#include <cstddef>
#include <cstdint>

namespace neardup::detail {

// One merge of sorted sets a[0..na) and b[0..nb) (ascending, no duplicates)
// that counts shared values from a[i], b[j] on, and may stop early: at the
// latest after each block of steps, once common >= accept_at, or once
//   common + min(na - i + a_after, nb - j + b_after) < reject_below
// (a_after, b_after: values beyond the arrays that might still be shared).
// accept_at = SIZE_MAX, reject_below = 0 counts everything. The merge moves
// i, j and common, and sets `stopped` when it stopped early; it never stops
// before a condition holds, so every kernel gives the same decision (the
// count of a stopped merge is not defined beyond that).
struct merge_task {
  const std::uint64_t* a;
  std::size_t na;
  const std::uint64_t* b;
  std::size_t nb;
  std::size_t accept_at;
  std::size_t reject_below;
  std::size_t a_after;
  std::size_t b_after;
  std::size_t i;
  std::size_t j;
  std::size_t common;
  bool stopped;
};

// To the end of either array or an early stop, one value at a time; nothing
// when t.stopped.
void merge_scalar(merge_task& t) noexcept;

// The SIMD part: whole blocks (4 values for AVX2, 8 for AVX-512) until fewer
// than a block is left in either array or an early stop. merge_scalar then
// finishes: every shared value not yet counted is in a[i..na) and b[j..nb).
void merge_blocks_avx2(merge_task& t) noexcept;
void merge_blocks_avx512(merge_task& t) noexcept;

}  // namespace neardup::detail

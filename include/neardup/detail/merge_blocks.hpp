// neardup/detail/merge_blocks.hpp — the block merge loop shared by the SIMD
// kernels of the set merge (src/core/intersect_{avx2,avx512}.cpp). Internal.
//
// Kernel translation units must not share inline code with the baseline build
// (the linker could keep an ISA-specific copy for everyone), so this header is
// included ONLY by kernel files, and its template is instantiated only with
// a block-compare type from the kernel file's anonymous namespace: each
// instantiation then has internal linkage and stays in its own file.
//
// Block merge: compare a[i..i+W) with b[j..j+W) all-against-all, then step
// past the block whose last value is smaller (both when equal). A shared
// value x sits in one block of each array, and neither block can be passed
// before the two meet: passing a's block needs a[i+W-1] <= b[j+W-1], and if
// b's block were still before x's, x <= a[i+W-1] <= b[j+W-1] < x. So every
// shared value is counted once, and what the blocks leave is merged one by
// one (merge_scalar on the tails).
#pragma once

#include <cstddef>
#include <cstdint>

#include "neardup/detail/intersect_kernels.hpp"

namespace neardup::detail {

// Compare::width values per block; Compare::shared(a, b) counts the values
// present in both blocks a[0..width) and b[0..width). With Checked, it stops
// as soon as the task's limits decide the pair (a few more instructions per
// block; counting everything skips them). (Splitting a large merge in two
// interleaved ones did not pay: the loop is bound by the compares, not by
// the wait for each step's loads.)
template <class Compare, bool Checked>
__attribute__((always_inline)) inline void merge_blocks(merge_task& t) noexcept {
  constexpr std::size_t w = Compare::width;
  const std::uint64_t *a = t.a, *b = t.b;
  const std::size_t na = t.na, nb = t.nb;
  std::size_t i = t.i, j = t.j, common = t.common;
  bool stop = false;
  while (i + w <= na && j + w <= nb) {
    common += Compare::shared(a + i, b + j);
    const std::uint64_t amax = a[i + w - 1], bmax = b[j + w - 1];
    i += amax <= bmax ? w : 0;
    j += bmax <= amax ? w : 0;
    if constexpr (Checked) {
      const std::size_t left_a = na - i + t.a_after, left_b = nb - j + t.b_after;
      if ((stop = common >= t.accept_at || common + (left_a < left_b ? left_a : left_b) < t.reject_below)) break;
    }
  }
  t.i = i;
  t.j = j;
  t.common = common;
  t.stopped = stop;
}

template <class Compare>
void merge_blocks(merge_task& t) noexcept {
  if (t.stopped) return;
  if (t.accept_at == static_cast<std::size_t>(-1) && t.reject_below == 0) {
    merge_blocks<Compare, false>(t);
  } else {
    merge_blocks<Compare, true>(t);
  }
}

}  // namespace neardup::detail

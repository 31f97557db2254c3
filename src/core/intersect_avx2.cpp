// AVX2 kernel of count_shared: blocks of 4 against blocks of 4. Built with
// -mavx2; called only after a CPUID check. Same count as the scalar merge
// (tests/intersect_test.cpp). Include nothing that defines inline functions or
// templates: see detail/intersect_kernels.hpp.
#include <immintrin.h>

#include "neardup/detail/intersect_kernels.hpp"

namespace neardup::detail {

// Block merge: compare a[i..i+4) with b[j..j+4) all-against-all, then step
// past the block whose last value is smaller (both when equal). A shared
// value x sits in one block of each array, and neither block can be passed
// before the two meet: passing a's block needs a[i+3] <= b[j+3], and if b's
// block were still before x's, x <= a[i+3] <= b[j+3] < x. So every shared
// value is counted once, and what the blocks leave is merged one by one
// (count_shared_scalar on the tails).
std::size_t count_shared_blocks_avx2(const std::uint64_t* a, std::size_t na, const std::uint64_t* b,
                                     std::size_t nb, std::size_t* i_end, std::size_t* j_end) noexcept {
  std::size_t i = 0, j = 0, common = 0;
  if (na >= 4 && nb >= 4) {
    while (i + 4 <= na && j + 4 <= nb) {
      const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
      const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j));
      const __m256i r1 = _mm256_permute4x64_epi64(vb, 0x39);  // b1 b2 b3 b0
      const __m256i r2 = _mm256_permute4x64_epi64(vb, 0x4e);  // b2 b3 b0 b1
      const __m256i r3 = _mm256_permute4x64_epi64(vb, 0x93);  // b3 b0 b1 b2
      const __m256i eq = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi64(va, vb), _mm256_cmpeq_epi64(va, r1)),
                                         _mm256_or_si256(_mm256_cmpeq_epi64(va, r2), _mm256_cmpeq_epi64(va, r3)));
      common += static_cast<std::size_t>(__builtin_popcount(
          static_cast<unsigned>(_mm256_movemask_pd(_mm256_castsi256_pd(eq)))));
      const std::uint64_t amax = a[i + 3], bmax = b[j + 3];
      i += amax <= bmax ? 4 : 0;
      j += bmax <= amax ? 4 : 0;
    }
  }
  *i_end = i;
  *j_end = j;
  return common;
}

}  // namespace neardup::detail

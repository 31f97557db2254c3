// AVX-512 kernel of count_shared: blocks of 8 against blocks of 8 (the block
// merge argued in intersect_avx2.cpp). Built with -mavx512f; called only after
// a CPUID check. Include nothing that defines inline functions or templates:
// see detail/intersect_kernels.hpp.
#include <immintrin.h>

#include "neardup/detail/intersect_kernels.hpp"

namespace neardup::detail {

std::size_t count_shared_blocks_avx512(const std::uint64_t* a, std::size_t na, const std::uint64_t* b,
                                       std::size_t nb, std::size_t* i_end, std::size_t* j_end) noexcept {
  std::size_t i = 0, j = 0, common = 0;
  if (na >= 8 && nb >= 8) {
    while (i + 8 <= na && j + 8 <= nb) {
      const __m512i va = _mm512_loadu_si512(a + i);
      // Each b value broadcast against all of a: eight independent compares.
      __mmask8 eq = 0;
      for (int r = 0; r < 8; ++r) {
        eq = static_cast<__mmask8>(eq | _mm512_cmpeq_epi64_mask(va, _mm512_set1_epi64(static_cast<long long>(b[j + r]))));
      }
      common += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(eq)));
      const std::uint64_t amax = a[i + 7], bmax = b[j + 7];
      i += amax <= bmax ? 8 : 0;
      j += bmax <= amax ? 8 : 0;
    }
  }
  *i_end = i;
  *j_end = j;
  return common;
}

}  // namespace neardup::detail

// AVX-512 kernel of the set merge (count_shared, jaccard_at_least): blocks of
// 8 against blocks of 8 (detail/merge_blocks.hpp). Built with -mavx512f;
// called only after a CPUID check. Same counts and decisions as merge_scalar
// (tests/shingle_test.cpp).
#include <immintrin.h>

#include "neardup/detail/merge_blocks.hpp"

namespace neardup::detail {

namespace {

struct compare8 {
  static constexpr std::size_t width = 8;
  static std::size_t shared(const std::uint64_t* a, const std::uint64_t* b) noexcept {
    // Each b value broadcast against all of a: eight independent compares.
    const __m512i va = _mm512_loadu_si512(a);
    __mmask8 eq = 0;
    for (int r = 0; r < 8; ++r) {
      eq = static_cast<__mmask8>(eq | _mm512_cmpeq_epi64_mask(va, _mm512_set1_epi64(static_cast<long long>(b[r]))));
    }
    return static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(eq)));
  }
};

}  // namespace

void merge_blocks_avx512(merge_task& t) noexcept { merge_blocks<compare8>(t); }

}  // namespace neardup::detail

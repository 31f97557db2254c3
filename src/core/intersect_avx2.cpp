// AVX2 kernel of the set merge (count_shared, jaccard_at_least): blocks of 4
// against blocks of 4 (detail/merge_blocks.hpp). Built with -mavx2; called
// only after a CPUID check. Same counts and decisions as merge_scalar
// (tests/shingle_test.cpp).
#include <immintrin.h>

#include "neardup/detail/merge_blocks.hpp"

namespace neardup::detail {

namespace {

struct compare4 {
  static constexpr std::size_t width = 4;
  static std::size_t shared(const std::uint64_t* a, const std::uint64_t* b) noexcept {
    const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
    const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i r1 = _mm256_permute4x64_epi64(vb, 0x39);  // b1 b2 b3 b0
    const __m256i r2 = _mm256_permute4x64_epi64(vb, 0x4e);  // b2 b3 b0 b1
    const __m256i r3 = _mm256_permute4x64_epi64(vb, 0x93);  // b3 b0 b1 b2
    const __m256i eq = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi64(va, vb), _mm256_cmpeq_epi64(va, r1)),
                                       _mm256_or_si256(_mm256_cmpeq_epi64(va, r2), _mm256_cmpeq_epi64(va, r3)));
    return static_cast<std::size_t>(
        __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(_mm256_castsi256_pd(eq)))));
  }
};

}  // namespace

void merge_blocks_avx2(merge_task& t) noexcept { merge_blocks<compare4>(t); }

}  // namespace neardup::detail

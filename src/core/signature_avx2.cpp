// AVX2 MinHash kernels. Built with -mavx2; called only after a CPUID check.
// Bit-identical to signature_scalar.cpp (tests/signature_test.cpp checks it).
// Include nothing that defines inline functions or templates: see
// detail/signature_kernels.hpp.
#include <immintrin.h>

#include "neardup/detail/signature_kernels.hpp"

namespace neardup::detail {

namespace {
// AVX2 has no 64x64 multiply; hi32(a*x + b mod 2^64) only needs
//   lo64(al*xl) + b + ((ah*xl + al*xh) << 32),
// three 32x32->64 multiplies. Only the upper 32 bits of each lane are kept,
// so the minimum is taken with an unsigned 32-bit min (the low halves are
// don't-care).
constexpr int kVecs = 8;  // 8 x 4 = 32 functions per pass over the shingles

// lo64(h * c) for a 64-bit constant c split into 32-bit halves (cl, ch).
inline __m256i mul64_const(__m256i h, __m256i cl, __m256i ch) {
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(h, 32), cl), _mm256_mul_epu32(h, ch));
  return _mm256_add_epi64(_mm256_mul_epu32(h, cl), _mm256_slli_epi64(cross, 32));
}
}  // namespace

void classic_min_avx2(const std::uint64_t* xs, std::size_t n, const std::uint64_t* mul,
                      const std::uint64_t* add, std::size_t k, std::uint32_t* out) noexcept {
  static_assert(classic_block % (kVecs * 4) == 0);
  for (std::size_t base = 0; base < k; base += kVecs * 4) {
    __m256i a[kVecs], ah[kVecs], b[kVecs], acc[kVecs];
    for (int v = 0; v < kVecs; ++v) {
      a[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mul + base + 4 * v));
      ah[v] = _mm256_srli_epi64(a[v], 32);
      b[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(add + base + 4 * v));
      acc[v] = _mm256_set1_epi32(-1);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const __m256i x = _mm256_set1_epi64x(static_cast<long long>(xs[i]));
      const __m256i xh = _mm256_srli_epi64(x, 32);
      for (int v = 0; v < kVecs; ++v) {
        const __m256i lo = _mm256_add_epi64(_mm256_mul_epu32(a[v], x), b[v]);
        const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(ah[v], x), _mm256_mul_epu32(a[v], xh));
        const __m256i h = _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
        acc[v] = _mm256_min_epu32(acc[v], h);
      }
    }
    alignas(32) std::uint64_t tmp[kVecs * 4];
    for (int v = 0; v < kVecs; ++v) _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 4 * v), acc[v]);
    const std::size_t m = k - base < kVecs * 4 ? k - base : kVecs * 4;
    for (std::size_t j = 0; j < m; ++j) out[base + j] = static_cast<std::uint32_t>(tmp[j] >> 32);
  }
}

void oph_bins_avx2(const std::uint64_t* xs, std::size_t n, std::uint64_t seed, std::uint32_t k,
                   sig_value* bins) noexcept {
  const __m256i vseed = _mm256_set1_epi64x(static_cast<long long>(seed));
  const __m256i golden = _mm256_set1_epi64x(static_cast<long long>(0x9e3779b97f4a7c15ULL));
  const __m256i c1l = _mm256_set1_epi64x(0xbf58476d1ce4e5b9LL & 0xFFFFFFFFLL);
  const __m256i c1h = _mm256_set1_epi64x(static_cast<long long>(0xbf58476d1ce4e5b9ULL >> 32));
  const __m256i c2l = _mm256_set1_epi64x(0x94d049bb133111ebLL & 0xFFFFFFFFLL);
  const __m256i c2h = _mm256_set1_epi64x(static_cast<long long>(0x94d049bb133111ebULL >> 32));
  const __m256i vk = _mm256_set1_epi64x(static_cast<long long>(k));
  alignas(32) std::uint64_t hs[4];
  alignas(32) std::uint64_t bin_buf[4];
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i h = _mm256_add_epi64(
        _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs + i)), vseed), golden);
    h = mul64_const(_mm256_xor_si256(h, _mm256_srli_epi64(h, 30)), c1l, c1h);
    h = mul64_const(_mm256_xor_si256(h, _mm256_srli_epi64(h, 27)), c2l, c2h);
    h = _mm256_xor_si256(h, _mm256_srli_epi64(h, 31));
    const __m256i bin = _mm256_srli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(h, 32), vk), 32);
    _mm256_store_si256(reinterpret_cast<__m256i*>(hs), h);
    _mm256_store_si256(reinterpret_cast<__m256i*>(bin_buf), bin);
    for (int j = 0; j < 4; ++j) {
      std::uint32_t v = static_cast<std::uint32_t>(hs[j]);
      v = v < 0xFFFFFFFEU ? v : 0xFFFFFFFEU;
      sig_value& slot = bins[bin_buf[j]];
      slot = v < slot ? v : slot;
    }
  }
  if (i < n) oph_bins_scalar(xs + i, n - i, seed, k, bins);
}

std::size_t occupied_bins_avx2(const sig_value* bins, std::size_t k, std::uint64_t* words) noexcept {
  const __m256i empty = _mm256_set1_epi32(-1);
  std::size_t e = 0;
  for (std::size_t w = 0; w * 64 < k; ++w) {
    std::uint64_t m = 0;
    std::size_t j = 64 * w;
    const std::size_t stop = k - j < 64 ? k : j + 64;
    for (; j + 8 <= stop; j += 8) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bins + j));
      const auto full = ~static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(x, empty)))) & 0xFFU;
      m |= static_cast<std::uint64_t>(full) << (j - 64 * w);
    }
    for (; j < stop; ++j) m |= static_cast<std::uint64_t>(bins[j] != 0xFFFFFFFFU) << (j - 64 * w);
    words[w] = m;
    e += static_cast<std::size_t>(_mm_popcnt_u64(m));
  }
  return e;
}

void densify_argmin_avx2(const std::uint16_t* rank2, const std::uint16_t* full, std::size_t e, std::size_t k,
                         sig_value* bins) noexcept {
  const __m256i empty = _mm256_set1_epi32(-1);
  std::size_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256i best = _mm256_set1_epi32(0x7FFFFFFF);
    __m256i value = _mm256_setzero_si256();
    for (std::size_t y = 0; y < e; ++y) {
      const __m256i rank = _mm256_cvtepu16_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(rank2 + (k - full[y]) + i)));
      const __m256i better = _mm256_cmpgt_epi32(best, rank);
      best = _mm256_min_epi32(best, rank);
      value = _mm256_blendv_epi8(value, _mm256_set1_epi32(static_cast<int>(bins[full[y]])), better);
    }
    const __m256i own = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bins + i));
    const __m256i out = _mm256_blendv_epi8(own, value, _mm256_cmpeq_epi32(own, empty));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(bins + i), out);
  }
  for (; i < k; ++i) {  // the last k % 8 bins
    if (bins[i] != 0xFFFFFFFFU) continue;
    std::uint32_t best = 0xFFFFFFFFU;
    for (std::size_t y = 0; y < e; ++y) {
      const std::uint32_t rank = rank2[(k - full[y]) + i];
      if (rank < best) {
        best = rank;
        bins[i] = bins[full[y]];
      }
    }
  }
}

}  // namespace neardup::detail

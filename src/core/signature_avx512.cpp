// AVX-512 (F, DQ, BW, VL) MinHash kernels. Built with -mavx512*; called only
// after a CPUID check. Bit-identical to signature_scalar.cpp
// (tests/signature_test.cpp checks it). Include nothing that defines inline
// functions or templates: see detail/signature_kernels.hpp.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports _mm512_undefined_epi32() inside its own intrinsics as
// maybe-uninitialized (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include "neardup/detail/signature_kernels.hpp"

namespace neardup::detail {

namespace {
constexpr int kVecs = 8;  // 8 x 8 = 64 functions per pass; a, b, acc stay in 24 zmm registers
}  // namespace

void classic_min_avx512(const std::uint64_t* xs, std::size_t n, const std::uint64_t* mul,
                        const std::uint64_t* add, std::size_t k, std::uint32_t* out) noexcept {
  static_assert(classic_block % (kVecs * 8) == 0);
  for (std::size_t base = 0; base < k; base += kVecs * 8) {
    __m512i a[kVecs], b[kVecs], acc[kVecs];
    for (int v = 0; v < kVecs; ++v) {
      a[v] = _mm512_loadu_si512(mul + base + 8 * v);
      b[v] = _mm512_loadu_si512(add + base + 8 * v);
      acc[v] = _mm512_set1_epi32(-1);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const __m512i x = _mm512_set1_epi64(static_cast<long long>(xs[i]));
      for (int v = 0; v < kVecs; ++v) {
        acc[v] = _mm512_min_epu64(acc[v], _mm512_add_epi64(_mm512_mullo_epi64(a[v], x), b[v]));
      }
    }
    alignas(64) std::uint64_t tmp[kVecs * 8];
    for (int v = 0; v < kVecs; ++v) _mm512_store_si512(tmp + 8 * v, acc[v]);
    const std::size_t m = k - base < kVecs * 8 ? k - base : kVecs * 8;
    for (std::size_t j = 0; j < m; ++j) out[base + j] = static_cast<std::uint32_t>(tmp[j] >> 32);
  }
}

void oph_bins_avx512(const std::uint64_t* xs, std::size_t n, std::uint64_t seed, std::uint32_t k,
                     sig_value* bins) noexcept {
  const __m512i vseed = _mm512_set1_epi64(static_cast<long long>(seed));
  const __m512i golden = _mm512_set1_epi64(static_cast<long long>(0x9e3779b97f4a7c15ULL));
  const __m512i c1 = _mm512_set1_epi64(static_cast<long long>(0xbf58476d1ce4e5b9ULL));
  const __m512i c2 = _mm512_set1_epi64(static_cast<long long>(0x94d049bb133111ebULL));
  const __m512i vk = _mm512_set1_epi64(static_cast<long long>(k));
  const __m512i vmax = _mm512_set1_epi64(0xFFFFFFFELL);
  const __m512i lo_mask = _mm512_set1_epi64(0xFFFFFFFFLL);
  std::size_t i = 0;
  alignas(64) std::uint64_t bin_buf[8];
  alignas(64) std::uint64_t val_buf[8];
  for (; i + 8 <= n; i += 8) {
    __m512i h = _mm512_add_epi64(_mm512_xor_si512(_mm512_loadu_si512(xs + i), vseed), golden);
    h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 30)), c1);
    h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64(h, 27)), c2);
    h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 31));
    const __m512i bin = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(h, 32), vk), 32);
    const __m512i val = _mm512_min_epu64(_mm512_and_si512(h, lo_mask), vmax);
    _mm512_store_si512(bin_buf, bin);
    _mm512_store_si512(val_buf, val);
    for (int j = 0; j < 8; ++j) {
      const auto v = static_cast<std::uint32_t>(val_buf[j]);
      sig_value& slot = bins[bin_buf[j]];
      slot = v < slot ? v : slot;
    }
  }
  for (; i < n; ++i) {
    std::uint64_t h = (xs[i] ^ seed) + 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    const auto bin = static_cast<std::uint32_t>(((h >> 32) * k) >> 32);
    std::uint32_t v = static_cast<std::uint32_t>(h);
    v = v < 0xFFFFFFFEU ? v : 0xFFFFFFFEU;
    bins[bin] = v < bins[bin] ? v : bins[bin];
  }
}

std::size_t occupied_bins_avx512(const sig_value* bins, std::size_t k, std::uint64_t* words) noexcept {
  const __m512i empty = _mm512_set1_epi32(-1);
  std::size_t e = 0;
  for (std::size_t w = 0; w * 64 < k; ++w) {
    std::uint64_t m = 0;
    for (std::size_t c = 0; c < 4; ++c) {
      const std::size_t at = 64 * w + 16 * c;
      if (at >= k) break;
      const __mmask16 lanes = k - at >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1U << (k - at)) - 1);
      const __m512i x = _mm512_maskz_loadu_epi32(lanes, bins + at);
      m |= static_cast<std::uint64_t>(_mm512_mask_cmpneq_epi32_mask(lanes, x, empty)) << (16 * c);
    }
    words[w] = m;
    e += static_cast<std::size_t>(_mm_popcnt_u64(m));
  }
  return e;
}

void densify_argmin_avx512(const std::uint16_t* rank2, const std::uint16_t* full, std::size_t e, std::size_t k,
                           sig_value* bins) noexcept {
  const __m512i empty = _mm512_set1_epi32(-1);
  for (std::size_t i = 0; i < k; i += 16) {
    const __mmask16 lanes = k - i >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1U << (k - i)) - 1);
    __m512i best = _mm512_set1_epi32(0x7FFFFFFF);
    __m512i value = _mm512_setzero_si512();
    for (std::size_t y = 0; y < e; ++y) {
      const __m512i rank = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, rank2 + (k - full[y]) + i));
      const __mmask16 better = _mm512_cmplt_epi32_mask(rank, best);
      best = _mm512_mask_mov_epi32(best, better, rank);
      value = _mm512_mask_set1_epi32(value, better, static_cast<int>(bins[full[y]]));
    }
    const __m512i own = _mm512_maskz_loadu_epi32(lanes, bins + i);
    const __mmask16 fill = _mm512_mask_cmpeq_epi32_mask(lanes, own, empty);
    _mm512_mask_storeu_epi32(bins + i, fill, value);
  }
}

}  // namespace neardup::detail

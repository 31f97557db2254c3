// Baseline x86-64 MinHash kernels: the bit-exact reference for the SIMD ones.
#include "neardup/detail/signature_kernels.hpp"

namespace neardup::detail {

void classic_min_scalar(const std::uint64_t* xs, std::size_t n, const std::uint64_t* mul,
                        const std::uint64_t* add, std::size_t k, std::uint32_t* out) noexcept {
  for (std::size_t base = 0; base < k; base += classic_block) {
    std::uint64_t acc[classic_block];
    for (std::size_t j = 0; j < classic_block; ++j) acc[j] = ~std::uint64_t{0};
    const std::uint64_t* a = mul + base;
    const std::uint64_t* b = add + base;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t x = xs[i];
      for (std::size_t j = 0; j < classic_block; ++j) {
        const std::uint64_t v = a[j] * x + b[j];
        acc[j] = v < acc[j] ? v : acc[j];
      }
    }
    const std::size_t m = k - base < classic_block ? k - base : classic_block;
    for (std::size_t j = 0; j < m; ++j) out[base + j] = static_cast<std::uint32_t>(acc[j] >> 32);
  }
}

void oph_bins_scalar(const std::uint64_t* xs, std::size_t n, std::uint64_t seed, std::uint32_t k,
                     sig_value* bins) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    // splitmix64 finalizer (neardup::mix64), spelled out to match the SIMD kernels.
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

std::size_t occupied_bins_scalar(const sig_value* bins, std::size_t k, std::uint64_t* words) noexcept {
  std::size_t e = 0;
  for (std::size_t w = 0; w * 64 < k; ++w) {
    const std::size_t n = k - 64 * w < 64 ? k - 64 * w : 64;
    // Four chains of ORs, not one: a quarter of the latency of a short
    // document's densification was this loop's dependency on one word.
    std::uint64_t m[4] = {0, 0, 0, 0};
    std::size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      for (std::size_t u = 0; u < 4; ++u) {
        m[u] |= static_cast<std::uint64_t>(bins[64 * w + j + u] != 0xFFFFFFFFU) << (j + u);
      }
    }
    for (; j < n; ++j) m[0] |= static_cast<std::uint64_t>(bins[64 * w + j] != 0xFFFFFFFFU) << j;
    words[w] = m[0] | m[1] | m[2] | m[3];
    // Counted by halving (the baseline has no popcount instruction).
    std::uint64_t x = words[w];
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    e += static_cast<std::size_t>((x * 0x0101010101010101ULL) >> 56);
  }
  return e;
}

void densify_argmin_scalar(const std::uint16_t* rank2, const std::uint16_t* full, std::size_t e, std::size_t k,
                           sig_value* bins) noexcept {
  // For all bins at once, one non-empty bin j at a time: rank << 12 | j
  // orders by rank, then keeps j. Signed (the values are below 2^24): a
  // signed 32-bit minimum vectorizes with the baseline x86-64 instructions,
  // an unsigned one did not.
  std::int32_t best[densify_max_bins];
  for (std::size_t i = 0; i < k; ++i) best[i] = 0x7FFFFFFF;
  for (std::size_t y = 0; y < e; ++y) {
    const auto j = static_cast<std::int32_t>(full[y]);
    const std::uint16_t* r = rank2 + (k - full[y]);
    for (std::size_t i = 0; i < k; ++i) {
      const std::int32_t v = (std::int32_t{r[i]} << 12) | j;
      best[i] = v < best[i] ? v : best[i];
    }
  }
  for (std::size_t i = 0; i < k; ++i) {
    if (bins[i] == 0xFFFFFFFFU) bins[i] = bins[best[i] & 0xFFF];  // a source is never empty
  }
}

}  // namespace neardup::detail

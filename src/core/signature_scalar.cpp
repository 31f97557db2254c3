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

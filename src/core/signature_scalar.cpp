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

}  // namespace neardup::detail

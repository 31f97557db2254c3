// count_shared (shingle.hpp): the scalar merge and the kernel dispatch. The
// AVX2 and AVX-512 kernels are in intersect_{avx2,avx512}.cpp.
#include "neardup/detail/intersect_kernels.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace neardup {

namespace detail {

std::size_t count_shared_scalar(const std::uint64_t* a, std::size_t na, const std::uint64_t* b,
                                std::size_t nb) noexcept {
  std::size_t i = 0, j = 0, common = 0;
  while (i < na && j < nb) {
    const std::uint64_t x = a[i], y = b[j];
    common += x == y;
    i += x <= y;
    j += y <= x;
  }
  return common;
}

}  // namespace detail

namespace {

std::size_t count_shared_with(sig_kernel kernel, std::span<const std::uint64_t> a,
                              std::span<const std::uint64_t> b) noexcept {
  std::size_t i = 0, j = 0, common = 0;
  if (kernel == sig_kernel::avx512) {
    common = detail::count_shared_blocks_avx512(a.data(), a.size(), b.data(), b.size(), &i, &j);
  } else if (kernel == sig_kernel::avx2) {
    common = detail::count_shared_blocks_avx2(a.data(), a.size(), b.data(), b.size(), &i, &j);
  }
  return common + detail::count_shared_scalar(a.data() + i, a.size() - i, b.data() + j, b.size() - j);
}

}  // namespace

std::size_t count_shared(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b,
                         sig_kernel kernel) noexcept {
  if (kernel == sig_kernel::automatic || !kernel_supported(kernel)) kernel = default_kernel();
  return count_shared_with(kernel, a, b);
}

std::size_t count_shared(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) noexcept {
  static const sig_kernel kernel = default_kernel();
  return count_shared_with(kernel, a, b);
}

}  // namespace neardup

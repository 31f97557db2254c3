// The set merge behind count_shared and jaccard_at_least (shingle.hpp): the
// scalar merge and the kernel dispatch. The AVX2 and AVX-512 block kernels are
// in intersect_{avx2,avx512}.cpp.
#include <algorithm>
#include <cstdint>

#include "neardup/detail/intersect_kernels.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace neardup {

namespace detail {

void merge_scalar(merge_task& t) noexcept {
  if (t.stopped) return;
  std::size_t i = t.i, j = t.j, common = t.common;
  auto decided = [&] {
    return common >= t.accept_at || common + std::min(t.na - i + t.a_after, t.nb - j + t.b_after) < t.reject_below;
  };
  while (i < t.na && j < t.nb) {
    if (decided()) {
      t.stopped = true;
      break;
    }
    // Each step advances i or j or both by one, so neither runs past its end.
    const std::size_t run = std::min({std::size_t{64}, t.na - i, t.nb - j});
    for (std::size_t s = 0; s < run; ++s) {
      const std::uint64_t x = t.a[i], y = t.b[j];
      common += x == y;
      i += x <= y;
      j += y <= x;
    }
  }
  t.i = i;
  t.j = j;
  t.common = common;
}

}  // namespace detail

namespace {

void merge_with(sig_kernel kernel, detail::merge_task& t) noexcept {
  if (kernel == sig_kernel::avx512) {
    detail::merge_blocks_avx512(t);
  } else if (kernel == sig_kernel::avx2) {
    detail::merge_blocks_avx2(t);
  }
  detail::merge_scalar(t);
}

sig_kernel process_kernel() noexcept {
  static const sig_kernel kernel = default_kernel();
  return kernel;
}

detail::merge_task counting(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) noexcept {
  return {a.data(), a.size(), b.data(), b.size(), SIZE_MAX, 0, 0, 0, 0, 0, 0, false};
}

}  // namespace

void detail::merge(merge_task& t) noexcept { merge_with(process_kernel(), t); }

std::size_t count_shared(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b,
                         sig_kernel kernel) noexcept {
  if (kernel == sig_kernel::automatic || !kernel_supported(kernel)) kernel = default_kernel();
  detail::merge_task t = counting(a, b);
  merge_with(kernel, t);
  return t.common;
}

std::size_t count_shared(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) noexcept {
  detail::merge_task t = counting(a, b);
  detail::merge(t);
  return t.common;
}

}  // namespace neardup

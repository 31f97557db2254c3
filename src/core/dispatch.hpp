// Private to src/core: the one kernel-dispatch object for every CPU-specific
// kernel family (MinHash signatures and the set merge), modelled on
// simdjson's `implementation`.
//
// Each `implementation` is one instruction set's kernels. There is one
// table of them (scalar, avx2, avx512), one active pointer resolved once per
// process, and one rule for every caller:
//   - sig_kernel::automatic means the active implementation: the best one the
//     CPU supports, unless NEARDUP_KERNEL=scalar|avx2|avx512 names another.
//     A NEARDUP_KERNEL value that is unknown or not supported by this CPU is
//     ignored (the best kernel is used) and the reason is kept for
//     kernel_override_warning(); the library prints nothing itself.
//   - a kernel named explicitly through the API (minhash_options::kernel,
//     count_shared(a, b, kernel)) that this CPU does not support is an error:
//     std::invalid_argument naming the kernel and the supported ones.
// Every implementation gives the same results; only speed differs.
//
//   const detail::implementation& impl = detail::implementation_for(kernel, "minhash_options::kernel");
//   impl.oph_bins(xs, n, seed, k, bins);
#pragma once

#include <span>
#include <string_view>

#include "neardup/detail/intersect_kernels.hpp"
#include "neardup/detail/signature_kernels.hpp"
#include "neardup/types.hpp"

namespace neardup::detail {

struct implementation {
  sig_kernel id;
  std::string_view name;  // "scalar", "avx2", "avx512"
  bool (*supported_by_runtime_system)() noexcept;
  // MinHash kernels (detail/signature_kernels.hpp).
  decltype(&classic_min_scalar) classic_min;
  decltype(&oph_bins_scalar) oph_bins;
  decltype(&occupied_bins_scalar) occupied_bins;
  decltype(&densify_argmin_scalar) densify_argmin;
  // The SIMD block loop of the set merge, or nullptr (scalar);
  // merge_scalar finishes what it leaves (detail/intersect_kernels.hpp).
  decltype(&merge_blocks_avx2) merge_blocks;

  // One whole merge (stops early as the task says).
  void merge(merge_task& t) const noexcept {
    if (merge_blocks != nullptr) merge_blocks(t);
    merge_scalar(t);
  }
};

// Every implementation compiled in, scalar first (supported or not).
std::span<const implementation> available_implementations() noexcept;

// The implementation of sig_kernel::automatic, resolved once per process.
const implementation& active_implementation() noexcept;

// The implementation of `kernel`: automatic -> active_implementation().
// Throws std::invalid_argument, naming `who`, if this CPU does not support
// `kernel` or `kernel` is not a sig_kernel value.
const implementation& implementation_for(sig_kernel kernel, const char* who);

// The implementation of a kernel that implementation_for() accepted, without
// the checks (for hot paths that resolved the kernel once, at construction).
// REQUIRES: kernel is scalar, avx2 or avx512.
const implementation& implementation_of(sig_kernel kernel) noexcept;

}  // namespace neardup::detail

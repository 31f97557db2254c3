// The kernel-dispatch object (dispatch.hpp): CPU detection, the table of
// implementations, the active one, and NEARDUP_KERNEL. Serves the MinHash
// kernels (minhasher) and the set merge (count_shared, jaccard_at_least) alike.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"
#include "neardup/signature.hpp"

namespace neardup {

namespace detail {
namespace {

bool cpu_has_scalar() noexcept { return true; }

bool cpu_has_avx2() noexcept {
  __builtin_cpu_init();
  // libgcc's check also requires OS support for the AVX state (XGETBV).
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
}

bool cpu_has_avx512() noexcept {
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

// Indexed by sig_kernel value - 1 (scalar, avx2, avx512; implementation_of relies on it).
constexpr implementation implementations[] = {
    {sig_kernel::scalar, "scalar", cpu_has_scalar, classic_min_scalar, oph_bins_scalar, occupied_bins_scalar,
     densify_argmin_scalar, nullptr},
    {sig_kernel::avx2, "avx2", cpu_has_avx2, classic_min_avx2, oph_bins_avx2, occupied_bins_avx2, densify_argmin_avx2,
     merge_blocks_avx2},
    {sig_kernel::avx512, "avx512", cpu_has_avx512, classic_min_avx512, oph_bins_avx512, occupied_bins_avx512,
     densify_argmin_avx512, merge_blocks_avx512},
};

const implementation* find(sig_kernel kernel) noexcept {
  for (const implementation& impl : implementations) {
    if (impl.id == kernel) return &impl;
  }
  return nullptr;
}

const implementation& best() noexcept {
  for (std::size_t i = std::size(implementations); i-- > 1;) {
    if (implementations[i].supported_by_runtime_system()) return implementations[i];
  }
  return implementations[0];
}

struct resolved {
  const implementation* active;
  std::string warning;  // why NEARDUP_KERNEL was ignored, or empty
};

resolved resolve() {
  const char* env = std::getenv("NEARDUP_KERNEL");
  const implementation& fallback = best();
  if (env == nullptr || *env == '\0' || std::strcmp(env, "automatic") == 0 || std::strcmp(env, "auto") == 0) {
    return {&fallback, {}};
  }
  for (const implementation& impl : implementations) {
    if (impl.name != env) continue;
    if (impl.supported_by_runtime_system()) return {&impl, {}};
    return {&fallback, "NEARDUP_KERNEL=" + std::string(env) + " is not supported by this CPU; using " +
                           std::string(fallback.name)};
  }
  return {&fallback, "NEARDUP_KERNEL=" + std::string(env) + " is not one of scalar|avx2|avx512; using " +
                         std::string(fallback.name)};
}

const resolved& process_choice() {
  static const resolved r = resolve();
  return r;
}

std::string supported_names() {
  std::string s;
  for (const implementation& impl : implementations) {
    if (!impl.supported_by_runtime_system()) continue;
    if (!s.empty()) s += ", ";
    s += impl.name;
  }
  return s;
}

}  // namespace

std::span<const implementation> available_implementations() noexcept { return implementations; }

const implementation& active_implementation() noexcept {
  static const implementation* const active = process_choice().active;
  return *active;
}

const implementation& implementation_of(sig_kernel kernel) noexcept {
  return implementations[static_cast<std::size_t>(kernel) - 1];
}

const implementation& implementation_for(sig_kernel kernel, const char* who) {
  if (kernel == sig_kernel::automatic) return active_implementation();
  const implementation* impl = find(kernel);
  if (impl == nullptr) {
    throw std::invalid_argument(std::string(who) + " = " + std::to_string(static_cast<int>(kernel)) +
                                " is not a sig_kernel");
  }
  if (!impl->supported_by_runtime_system()) {
    throw std::invalid_argument(std::string(who) + " = " + std::string(impl->name) +
                                " is not supported by this CPU (supported: " + supported_names() + ")");
  }
  return *impl;
}

}  // namespace detail

bool kernel_supported(sig_kernel kernel) noexcept {
  if (kernel == sig_kernel::automatic) return true;
  const detail::implementation* impl = detail::find(kernel);
  return impl != nullptr && impl->supported_by_runtime_system();
}

std::vector<sig_kernel> supported_kernels() {
  std::vector<sig_kernel> out;
  for (const detail::implementation& impl : detail::available_implementations()) {
    if (impl.supported_by_runtime_system()) out.push_back(impl.id);
  }
  return out;
}

sig_kernel default_kernel() noexcept { return detail::active_implementation().id; }

std::string_view kernel_override_warning() noexcept { return detail::process_choice().warning; }

}  // namespace neardup

// CPU detection and the process-wide default signature kernel.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "neardup/signature.hpp"

namespace neardup {

namespace {

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

sig_kernel best_kernel() noexcept {
  if (cpu_has_avx512()) return sig_kernel::avx512;
  if (cpu_has_avx2()) return sig_kernel::avx2;
  return sig_kernel::scalar;
}

sig_kernel resolve_default() noexcept {
  const char* env = std::getenv("NEARDUP_KERNEL");
  if (env == nullptr || *env == '\0') return best_kernel();
  const std::string_view text(env);
  const std::optional<sig_kernel> want = text == "auto" ? sig_kernel::automatic : parse<sig_kernel>(text);
  const sig_kernel best = best_kernel();
  if (want == sig_kernel::automatic) return best;
  if (!want) {
    std::fprintf(stderr,
                 "neardup: warning: NEARDUP_KERNEL=%s is not one of scalar|avx2|avx512; using %s\n", env,
                 name(best).data());
    return best;
  }
  if (!kernel_supported(*want)) {
    std::fprintf(stderr, "neardup: warning: NEARDUP_KERNEL=%s is not supported by this CPU; using %s\n", env,
                 name(best).data());
    return best;
  }
  return *want;
}

}  // namespace

bool kernel_supported(sig_kernel kernel) noexcept {
  switch (kernel) {
    case sig_kernel::automatic:
    case sig_kernel::scalar: return true;
    case sig_kernel::avx2: return cpu_has_avx2();
    case sig_kernel::avx512: return cpu_has_avx512();
  }
  return false;
}

std::vector<sig_kernel> supported_kernels() {
  std::vector<sig_kernel> out;
  for (sig_kernel k : {sig_kernel::scalar, sig_kernel::avx2, sig_kernel::avx512}) {
    if (kernel_supported(k)) out.push_back(k);
  }
  return out;
}

sig_kernel default_kernel() noexcept {
  static const sig_kernel resolved = resolve_default();
  return resolved;
}

}  // namespace neardup

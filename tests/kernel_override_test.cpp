// NEARDUP_KERNEL naming no kernel is ignored for every kernel family: the best
// supported kernel runs, and kernel_override_warning() says why (the library
// prints nothing). The variable is set before anything asks for the default.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace {

const bool kOverrideSet = [] { return ::setenv("NEARDUP_KERNEL", "avx9000", 1) == 0; }();

TEST(KernelOverride, UnknownNameIsIgnoredAndExplained) {
  ASSERT_TRUE(kOverrideSet);
  const neardup::sig_kernel best = neardup::supported_kernels().back();
  EXPECT_EQ(neardup::default_kernel(), best);
  EXPECT_EQ(std::string(neardup::kernel_override_warning()),
            "NEARDUP_KERNEL=avx9000 is not one of scalar|avx2|avx512; using " + std::string(neardup::name(best)));
  EXPECT_EQ(neardup::minhasher().kernel(), best);  // signatures
  const std::vector<std::uint64_t> a = {1, 2, 3}, b = {2, 3, 4};
  EXPECT_EQ(neardup::count_shared(a, b), 2u);  // intersection, through the same active kernel
}

}  // namespace

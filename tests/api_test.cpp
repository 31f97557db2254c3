// The public API's hygiene: out-of-range arguments are rejected with a
// message that names the argument, the value and the range; shingle sets are
// checked when NEARDUP_CHECK_SETS is on (forced on here); one kernel-dispatch
// rule serves signatures and set intersection; headers leak no xxHash macro.
#define NEARDUP_CHECK_SETS 1
#include "neardup/neardup.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(XXH_INLINE_ALL) || defined(XXH_VERSION_MAJOR) || defined(XXH3_64bits_withSeed)
#error "neardup's public headers must not include xxhash.h or define its macros"
#endif

namespace {

using neardup::sig_kernel;

// Runs f, expects std::invalid_argument, and checks that its message holds
// every one of `parts` (the argument's name, its value, the range).
template <class F>
void expect_rejected(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << parts.front();
  } catch (const std::invalid_argument& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " / " << p;
  }
}

const std::vector<std::uint64_t> kA = {1, 5, 9, 12};
const std::vector<std::uint64_t> kB = {1, 5, 10, 12};

TEST(CheckedArguments, JaccardAtLeastThresholdAndMaxMiss) {
  expect_rejected([] { (void)neardup::jaccard_at_least(kA, kB, 1.5); }, {"jaccard_at_least", "threshold = 1.5", "[0, 1]"});
  expect_rejected([] { (void)neardup::jaccard_at_least(kA, kB, -0.25); }, {"threshold = -0.25", "[0, 1]"});
  expect_rejected([] { (void)neardup::jaccard_at_least(kA, kB, std::nan("")); }, {"threshold = nan"});
  expect_rejected([] { (void)neardup::jaccard_at_least(kA, kB, 0.5, 1.0); }, {"max_miss = 1", "[0, 1)"});
  expect_rejected([] { (void)neardup::jaccard_at_least(kA, kB, 0.5, -1e-3); }, {"max_miss = -0.001"});
  // The ends of the ranges are accepted and mean what they say.
  EXPECT_TRUE(neardup::jaccard_at_least(kA, kB, 0.0));
  EXPECT_FALSE(neardup::jaccard_at_least(kA, kB, 1.0));
  EXPECT_TRUE(neardup::jaccard_at_least(kA, kA, 1.0));
  EXPECT_TRUE(neardup::jaccard_at_least(kA, kB, 0.6, 0.5));  // 3 of 5 shared
}

TEST(CheckedArguments, BandingCurves) {
  const neardup::lsh_params ok{16, 6};
  expect_rejected([&] { (void)neardup::false_positive_area(1.5, ok); }, {"false_positive_area", "threshold = 1.5", "[0, 1]"});
  expect_rejected([&] { (void)neardup::false_negative_area(-1.0, ok); }, {"false_negative_area", "threshold = -1"});
  expect_rejected([] { (void)neardup::false_positive_area(0.5, {0, 6}); }, {"bands = 0", "rows = 6", ">= 1"});
  expect_rejected([] { (void)neardup::candidate_probability(0.5, {4, 0}); }, {"candidate_probability", "rows = 0"});
  EXPECT_DOUBLE_EQ(neardup::candidate_probability(1.0, ok), 1.0);
  EXPECT_NEAR(neardup::false_positive_area(0.0, ok), 0.0, 1e-12);
  expect_rejected([] { (void)neardup::choose_params(1.0, 128); }, {"threshold = 1", "(0, 1)"});
  expect_rejected([] { (void)neardup::choose_params_for_recall(0.8, 5000, 0.99); }, {"num_perm = 5000", "[1, 4096]"});
  expect_rejected([] { neardup::bander b({20, 7}, 128); }, {"bands * rows", "140", "num_perm = 128"});
}

TEST(CheckedArguments, LinesContaminationAndClusters) {
  expect_rejected([] { (void)neardup::line_partition(42, 0); }, {"line_partition", "partitions = 0", ">= 1"});
  EXPECT_EQ(neardup::line_partition(~std::uint64_t{0}, 7), 6u);
  expect_rejected([] { (void)neardup::bloom_false_positive_rate(-1.0, 10.0, 3); }, {"bits = -1", ">= 0"});
  expect_rejected([] { (void)neardup::bloom_false_positive_rate(100.0, std::numeric_limits<double>::infinity(), 3); },
                  {"inserted = inf", "finite"});
  EXPECT_DOUBLE_EQ(neardup::bloom_false_positive_rate(0.0, 10.0, 3), 1.0);
  neardup::contamination_options bad_mode;
  bad_mode.mode = static_cast<neardup::contamination_mode>(7);
  expect_rejected([&] { neardup::contamination_index index(bad_mode); }, {"contamination_options::mode = 7"});
  expect_rejected([] { (void)neardup::contamination_options::bloom(100, 1.0); }, {"false_positive_rate = 1", "(0, 1)"});
  neardup::cluster_options bad_verify;
  bad_verify.mode = static_cast<neardup::verification>(3);
  expect_rejected([&] { neardup::clusterer c(4, nullptr, bad_verify); }, {"cluster_options::mode = 3"});
  const std::vector<neardup::doc_id> bad_labels = {0, 2, 2};
  expect_rejected([&] { (void)neardup::count_clusters(bad_labels); }, {"count_clusters", "representative[1] = 2"});
  const std::vector<neardup::doc_id> labels = {0, 0, 2};
  EXPECT_EQ(neardup::count_clusters(labels), 2u);
}

TEST(CheckedArguments, SignaturesAndShingles) {
  expect_rejected([] { neardup::minhasher m({.num_perm = 0}); }, {"num_perm = 0", "[1, 4096]"});
  expect_rejected([] { neardup::shingler s({.n = 0}); }, {"n = 0", "[1, 65536]"});
  const std::vector<neardup::sig_value> a(8, 1), b(8, 1);
  expect_rejected([&] { (void)neardup::jaccard(a, b, -1.0); }, {"z = -1", "> 0"});
  expect_rejected([] { (void)neardup::jaccard_from_count(9, 8); }, {"9 equal of 8"});
  expect_rejected([] { neardup::lsh_index index(0); }, {"bands is 0", ">= 1"});
}

// ---- sets

TEST(CheckedSets, IsSetMeansStrictlyAscending) {
  EXPECT_TRUE(neardup::is_set(std::vector<std::uint64_t>{}));
  EXPECT_TRUE(neardup::is_set(kA));
  EXPECT_FALSE(neardup::is_set(std::vector<std::uint64_t>{1, 1}));
  EXPECT_FALSE(neardup::is_set(std::vector<std::uint64_t>{2, 1}));
}

TEST(CheckedSets, UnsortedOrRepeatedHashesAreRejectedNotMisread) {
  const std::vector<std::uint64_t> unsorted = {9, 1, 5, 12};
  const std::vector<std::uint64_t> repeated = {1, 5, 5, 12};
  expect_rejected([&] { (void)neardup::exact_jaccard(unsorted, kA); },
                  {"exact_jaccard", "sorted_a is not a set", "[0] = 0x0000000000000009 > [1] = 0x0000000000000001", "make_set"});
  expect_rejected([&] { (void)neardup::exact_jaccard(kA, repeated); }, {"sorted_b is not a set", "[1]", "==", "[2]"});
  expect_rejected([&] { (void)neardup::count_shared(unsorted, kB); }, {"count_shared", "sorted_a"});
  expect_rejected([&] { (void)neardup::count_shared(kA, repeated, sig_kernel::scalar); }, {"count_shared", "sorted_b"});
  expect_rejected([&] { (void)neardup::jaccard_at_least(unsorted, kB, 0.5); }, {"jaccard_at_least", "sorted_a"});
  // Made into sets, the same values are accepted.
  std::vector<std::uint64_t> fixed = unsorted;
  neardup::make_set(fixed);
  EXPECT_DOUBLE_EQ(neardup::exact_jaccard(fixed, kA), 1.0);
  EXPECT_EQ(neardup::count_shared(fixed, kB), 3u);
}

// ---- one dispatch rule for both kernel families

TEST(KernelDispatch, ExplicitKernelsFollowOneRuleForSignaturesAndIntersection) {
  for (const sig_kernel k : {sig_kernel::automatic, sig_kernel::scalar, sig_kernel::avx2, sig_kernel::avx512}) {
    if (neardup::kernel_supported(k)) {
      const neardup::minhasher m({.kernel = k});
      EXPECT_EQ(m.kernel(), k == sig_kernel::automatic ? neardup::default_kernel() : k);
      EXPECT_EQ(neardup::count_shared(kA, kB, k), 3u);
    } else {  // only on a CPU without this kernel
      const std::string name(neardup::name(k));
      expect_rejected([&] { neardup::minhasher m({.kernel = k}); }, {"minhash_options::kernel = " + name, "not supported"});
      expect_rejected([&] { (void)neardup::count_shared(kA, kB, k); }, {"count_shared: kernel = " + name, "not supported"});
    }
  }
  const auto bogus = static_cast<sig_kernel>(9);
  expect_rejected([&] { neardup::minhasher m({.kernel = bogus}); }, {"minhash_options::kernel = 9", "not a sig_kernel"});
  expect_rejected([&] { (void)neardup::count_shared(kA, kB, bogus); }, {"count_shared: kernel = 9", "not a sig_kernel"});
}

TEST(KernelDispatch, DefaultIsTheBestSupportedUnlessOverridden) {
  const auto supported = neardup::supported_kernels();
  ASSERT_FALSE(supported.empty());
  EXPECT_EQ(supported.front(), sig_kernel::scalar);
  if (neardup::kernel_override_warning().empty() && std::getenv("NEARDUP_KERNEL") == nullptr) {
    EXPECT_EQ(neardup::default_kernel(), supported.back());
  }
  EXPECT_TRUE(neardup::kernel_supported(neardup::default_kernel()));
}

TEST(Version, OneVersionFromTheBuild) {
  EXPECT_STREQ(neardup::version_string(), NEARDUP_VERSION_STRING);
  EXPECT_EQ(std::to_string(NEARDUP_VERSION_MAJOR) + "." + std::to_string(NEARDUP_VERSION_MINOR) + "." +
                std::to_string(NEARDUP_VERSION_PATCH),
            NEARDUP_VERSION_STRING);
}

}  // namespace

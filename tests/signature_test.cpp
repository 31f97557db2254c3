#include "neardup/signature.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "neardup/detail/signature_reference.hpp"
#include "neardup/hash.hpp"
#include "test_util.hpp"

namespace {

using neardup::minhash_options;
using neardup::minhash_scheme;
using neardup::minhasher;
using neardup::sig_kernel;
using neardup::sig_value;

using neardup_test::small_scale;

std::vector<std::uint64_t> random_set(std::uint64_t seed, std::size_t n) {
  neardup::seed_sequence rng(seed);
  std::vector<std::uint64_t> out(n);
  for (auto& x : out) x = rng.next();
  return out;
}

struct set_pair {
  std::vector<std::uint64_t> a, b;
  double jaccard = 0;
};

// Two sets sharing `common` elements, each with `only` private ones:
// J = common / (common + 2 * only).
set_pair make_pair_exact(std::uint64_t seed, std::size_t common, std::size_t only) {
  const auto pool = random_set(seed, common + 2 * only);
  set_pair p;
  p.a.assign(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(common + only));
  p.b.assign(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(common));
  p.b.insert(p.b.end(), pool.begin() + static_cast<std::ptrdiff_t>(common + only), pool.end());
  p.jaccard = static_cast<double>(common) / static_cast<double>(common + 2 * only);
  return p;
}

// A pair with union size ~`u` and Jaccard ~`j` (exact value in .jaccard).
set_pair make_pair_j(std::uint64_t seed, double j, std::size_t u) {
  auto common = static_cast<std::size_t>(std::llround(j * static_cast<double>(u)));
  common = std::max<std::size_t>(common, 1);
  const std::size_t only = std::max<std::size_t>((u - std::min(u, common)) / 2, j < 1 ? 1 : 0);
  return make_pair_exact(seed, common, only);
}

double agreement(const std::vector<sig_value>& a, const std::vector<sig_value>& b) {
  std::size_t eq = 0;
  for (std::size_t i = 0; i < a.size(); ++i) eq += a[i] == b[i] ? 1U : 0U;
  return static_cast<double>(eq) / static_cast<double>(a.size());
}

const minhash_scheme all_schemes[] = {minhash_scheme::classic, minhash_scheme::one_permutation,
                                      minhash_scheme::superminhash};

std::string scheme_name(minhash_scheme s) { return std::string(neardup::name(s)); }

class MinHash : public ::testing::TestWithParam<minhash_scheme> {};

TEST_P(MinHash, IdenticalSetsGiveIdenticalSignatures) {
  const minhasher mh({.scheme = GetParam(), .num_perm = 128});
  const auto s = random_set(1, 300);
  EXPECT_EQ(mh.sign(s), mh.sign(s));
  const minhasher again({.scheme = GetParam(), .num_perm = 128});
  EXPECT_EQ(mh.sign(s), again.sign(s));  // determinism across instances
}

TEST_P(MinHash, OrderAndDuplicatesDoNotMatter) {
  const minhasher mh({.scheme = GetParam(), .num_perm = 100});
  for (std::size_t n : {1U, 2U, 5U, 50U, 99U, 100U, 101U, 700U}) {
    const auto s = random_set(n, n);
    auto shuffled = s;
    shuffled.insert(shuffled.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>((n + 1) / 2));
    std::mt19937_64 rng(n);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(mh.sign(s), mh.sign(shuffled)) << "n=" << n;
  }
}

TEST_P(MinHash, DifferentSeedsGiveDifferentSignatures) {
  const auto s = random_set(7, 500);
  const auto a = minhasher({.scheme = GetParam(), .num_perm = 128, .seed = 1}).sign(s);
  const auto b = minhasher({.scheme = GetParam(), .num_perm = 128, .seed = 2}).sign(s);
  // Independent hash families agree on a position with probability ~2^-32.
  EXPECT_LT(agreement(a, b), 0.05);
}

TEST_P(MinHash, EmptySetGivesSentinelAndNonEmptyNeverDoes) {
  for (std::size_t k : {1U, 7U, 128U}) {
    const minhasher mh({.scheme = GetParam(), .num_perm = k});
    const auto e = mh.sign(std::span<const std::uint64_t>{});
    EXPECT_TRUE(neardup::is_empty_signature(e));
    EXPECT_TRUE(std::all_of(e.begin(), e.end(), [](sig_value v) { return v == neardup::empty_sig_value; }));
    for (std::size_t n : {1U, 2U, 3U, 1000U}) {
      const auto s = mh.sign(random_set(100 + n, n));
      EXPECT_FALSE(neardup::is_empty_signature(s));
      EXPECT_EQ(std::count(s.begin(), s.end(), neardup::empty_sig_value), 0) << "k=" << k << " n=" << n;
    }
    const auto j = neardup::jaccard(e, e);
    EXPECT_EQ(j.estimate, 0.0);
    EXPECT_EQ(j.upper, 0.0);
  }
}

TEST_P(MinHash, SingleElementSetsAgreeOnlyWithThemselves) {
  const minhasher mh({.scheme = GetParam(), .num_perm = 64});
  const std::uint64_t x = 0x1234, y = 0x5678;
  const auto a = mh.sign(std::span<const std::uint64_t>(&x, 1));
  const auto b = mh.sign(std::span<const std::uint64_t>(&y, 1));
  EXPECT_EQ(neardup::jaccard(a, a).estimate, 1.0);
  EXPECT_LT(neardup::jaccard(a, b).estimate, 0.05);
}

// Mean error of the estimator over many pairs with known J must be within
// 4 sigma of 0, sigma = sqrt(J(1-J)/k) / sqrt(pairs) (binomial; see below for
// OPH). The mean squared error must also be close to the theory, within
// sampling noise: 1x the binomial variance for classic and SuperMinHash
// (whose variance is <= classic's), 1.15x for one_permutation, whose
// densified bins make the variance up to ~1.1x the binomial one on sets much
// smaller than k (measured with 2000 pairs, k = 128: 1.05-1.11x at |A u B| =
// 20, 0.94-0.98x at 60, 0.87x at 128, 0.75-0.80x at 400; 1.35-1.37x at 20
// with the optimal densification of signature_version 1).
TEST_P(MinHash, EstimatesAreUnbiasedWithinTheoreticalBounds) {
  const std::size_t k = 128;
  const minhasher mh({.scheme = GetParam(), .num_perm = k});
  const int pairs = small_scale() ? 60 : 200;
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> log_size(std::log(20.0), std::log(small_scale() ? 500.0 : 2000.0));
  for (double j : {0.1, 0.3, 0.5, 0.8, 0.95}) {
    double sum_err = 0, sum_sq = 0, sum_var = 0;
    for (int p = 0; p < pairs; ++p) {
      const auto u = static_cast<std::size_t>(std::exp(log_size(rng)));
      const auto pr = make_pair_j(rng(), j, u);
      const double est = agreement(mh.sign(pr.a), mh.sign(pr.b));
      sum_err += est - pr.jaccard;
      sum_sq += (est - pr.jaccard) * (est - pr.jaccard);
      sum_var += pr.jaccard * (1 - pr.jaccard) / static_cast<double>(k);
    }
    const double mean_err = sum_err / pairs;
    const double var_factor = GetParam() == minhash_scheme::one_permutation ? 1.15 : 1.0;
    const double sigma_mean = std::sqrt(var_factor * sum_var) / pairs;
    EXPECT_LT(std::fabs(mean_err), 4 * sigma_mean) << scheme_name(GetParam()) << " J=" << j;
    // A sum of `pairs` squared errors has relative sd ~sqrt(2 / pairs)
    // (chi-square); allow 5 of them for the binomial's heavier tails.
    const double mse_limit = var_factor * sum_var * (1 + 5 * std::sqrt(2.0 / pairs));
    EXPECT_LT(sum_sq, mse_limit) << scheme_name(GetParam()) << " J=" << j;
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, MinHash, ::testing::ValuesIn(all_schemes),
                         [](const auto& param_info) { return scheme_name(param_info.param); });

// Fast densification (signature_version 2) against the optimal densification
// it replaced (version 1, detail::sign_one_permutation_v1), on the same pairs:
// both unbiased (mean error within 4 sigma of 0), and the new squared errors
// not larger than the old ones (mean paired difference below 4 standard
// errors of itself). Sets from 2 to ~300 shingles at k = 128: where bins are
// empty and densification decides the estimate.
TEST(MinHash, FastDensificationIsUnbiasedAndNoWorseThanOptimal) {
  const std::size_t k = 128;
  const minhash_options opts{.scheme = minhash_scheme::one_permutation, .num_perm = k};
  const minhasher mh(opts);
  std::vector<sig_value> a1(k), b1(k);
  const int pairs = small_scale() ? 400 : 3000;
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> log_size(std::log(2.0), std::log(300.0));
  for (double j : {0.2, 0.5, 0.8}) {
    double err_new = 0, err_old = 0, var_theory = 0, sum_d = 0, sum_d2 = 0, sq_new = 0, sq_old = 0;
    for (int p = 0; p < pairs; ++p) {
      const auto u = static_cast<std::size_t>(std::exp(log_size(rng)));
      const auto pr = make_pair_j(rng(), j, std::max<std::size_t>(u, 2));
      const double e_new = agreement(mh.sign(pr.a), mh.sign(pr.b)) - pr.jaccard;
      neardup::detail::sign_one_permutation_v1(opts, pr.a, a1);
      neardup::detail::sign_one_permutation_v1(opts, pr.b, b1);
      const double e_old = agreement(a1, b1) - pr.jaccard;
      err_new += e_new;
      err_old += e_old;
      sq_new += e_new * e_new;
      sq_old += e_old * e_old;
      // Small sets: the estimate is a mean over the ~|A u B| non-empty bins.
      const double n = static_cast<double>(pr.a.size() + pr.b.size()) / (1 + pr.jaccard);
      var_theory += pr.jaccard * (1 - pr.jaccard) * (1 / static_cast<double>(k) + 1 / std::min(n, double(k)));
      const double d = e_new * e_new - e_old * e_old;
      sum_d += d;
      sum_d2 += d * d;
    }
    const double sigma_mean = std::sqrt(var_theory) / pairs;
    EXPECT_LT(std::fabs(err_new / pairs), 4 * sigma_mean) << "J=" << j;
    EXPECT_LT(std::fabs(err_old / pairs), 4 * sigma_mean) << "J=" << j;
    const double mean_d = sum_d / pairs;
    const double se_d = std::sqrt((sum_d2 / pairs - mean_d * mean_d) / pairs);
    EXPECT_LT(mean_d, 4 * se_d) << "J=" << j << " mse new " << sq_new / pairs << " old " << sq_old / pairs;
    std::printf("J=%.1f: mean error new %+.5f old %+.5f; mse new %.6f old %.6f (ratio %.3f)\n", j,
                err_new / pairs, err_old / pairs, sq_new / pairs, sq_old / pairs, sq_new / sq_old);
  }
}

// densify_rotations evaluates one rule in four orders (argmin, pull, push,
// bitmap); they must give the same bins for every k and number of non-empty
// bins.
TEST(Densify, EveryOrderGivesTheSameBins) {
  using neardup::detail::densify_order;
  std::mt19937_64 rng(77);
  for (std::size_t k : {1U, 2U, 3U, 63U, 64U, 65U, 127U, 128U, 129U, 200U, 256U, 1000U, 4096U}) {
    std::vector<std::uint16_t> order(k), rank2(2 * k);
    for (std::size_t d = 0; d < k; ++d) order[d] = static_cast<std::uint16_t>(d);
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t r = 0; r < k; ++r) rank2[order[r]] = rank2[k + order[r]] = static_cast<std::uint16_t>(r);
    for (std::size_t e : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5}, k / 8, k / 2, k - 1, k}) {
      if (e == 0 || e > k) continue;
      std::vector<sig_value> bins(k, neardup::empty_sig_value);
      std::vector<std::size_t> idx(k);
      for (std::size_t i = 0; i < k; ++i) idx[i] = i;
      std::shuffle(idx.begin(), idx.end(), rng);
      for (std::size_t x = 0; x < e; ++x) bins[idx[x]] = static_cast<sig_value>(rng() % 0xFFFFFFFEU);
      auto want = bins;
      neardup::detail::densify_rotations(order, rank2, want, densify_order::pull);
      EXPECT_EQ(std::count(want.begin(), want.end(), neardup::empty_sig_value), 0);
      for (densify_order how :
           {densify_order::argmin, densify_order::push, densify_order::bitmap, densify_order::automatic}) {
        auto got = bins;
        neardup::detail::densify_rotations(order, rank2, got, how);
        ASSERT_EQ(got, want) << "k=" << k << " e=" << e << " order=" << static_cast<int>(how);
      }
      for (sig_kernel kern : neardup::supported_kernels()) {  // the argmin order is a kernel
        auto got = bins;
        neardup::detail::densify_rotations(order, rank2, got, densify_order::argmin, kern);
        ASSERT_EQ(got, want) << "k=" << k << " e=" << e << " kernel=" << static_cast<int>(kern);
      }
    }
  }
}

// A set of 1..3 shingles at any k: a non-empty signature, the same on every
// kernel, and a single shingle fills every bin with its one value.
TEST(MinHash, TinySetsFillEveryBin) {
  for (std::size_t k : {1U, 2U, 64U, 128U, 4096U}) {
    const minhasher mh({.scheme = minhash_scheme::one_permutation, .num_perm = k});
    const std::uint64_t x = 99;
    const auto one = mh.sign(std::span<const std::uint64_t>(&x, 1));
    EXPECT_TRUE(std::all_of(one.begin(), one.end(), [&](sig_value v) { return v == one[0]; })) << "k=" << k;
    for (std::size_t n : {2U, 3U}) {
      const auto s = mh.sign(random_set(7 * n, n));
      EXPECT_EQ(std::count(s.begin(), s.end(), neardup::empty_sig_value), 0) << "k=" << k << " n=" << n;
    }
  }
}

TEST(MinHash, SuperMinHashHasLowerVarianceThanClassicOnSmallSets) {
  const std::size_t k = 128;
  const minhasher classic({.scheme = minhash_scheme::classic, .num_perm = k});
  const minhasher super({.scheme = minhash_scheme::superminhash, .num_perm = k});
  const int pairs = small_scale() ? 150 : 400;
  double sq_classic = 0, sq_super = 0;
  for (int p = 0; p < pairs; ++p) {
    const auto pr = make_pair_exact(9000 + static_cast<std::uint64_t>(p), 20, 10);  // |A u B| = 40 < k, J = 0.5
    sq_classic += std::pow(agreement(classic.sign(pr.a), classic.sign(pr.b)) - pr.jaccard, 2);
    sq_super += std::pow(agreement(super.sign(pr.a), super.sign(pr.b)) - pr.jaccard, 2);
  }
  // Ertl 2017: for |A u B| << k the variance is well below classic's
  // (measured ~0.5x at |A u B| = 20..60, k = 128); assert loosely.
  EXPECT_LT(sq_super, 0.8 * sq_classic);
}

// One minhasher shared by threads gives the same signatures as serially
// (SuperMinHash keeps per-thread scratch).
TEST(MinHash, ConcurrentSignIsSafeAndDeterministic) {
  for (minhash_scheme scheme : all_schemes) {
    const minhasher mh({.scheme = scheme, .num_perm = 64});
    std::vector<std::vector<std::uint64_t>> inputs;
    std::vector<std::vector<sig_value>> want;
    for (std::uint64_t i = 0; i < 40; ++i) {
      inputs.push_back(random_set(i, 10 + 37 * i));
      want.push_back(mh.sign(inputs.back()));
    }
    std::vector<std::vector<sig_value>> got(2 * inputs.size());
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t i = 0; i < inputs.size(); ++i) got[t * inputs.size() + i] = mh.sign(inputs[i]);
      });
    }
    for (auto& th : threads) th.join();
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i % inputs.size()]) << scheme_name(scheme);
  }
}

TEST(MinHash, RejectsBadOptions) {
  EXPECT_THROW(minhasher({.num_perm = 0}), std::invalid_argument);
  try {
    minhasher({.num_perm = 5000});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("5000"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("4096"), std::string::npos);
  }
  EXPECT_NO_THROW(minhasher({.num_perm = 4096}));
  EXPECT_NO_THROW(minhasher({.num_perm = 1}));
  const minhasher mh({.num_perm = 16});
  std::vector<sig_value> out(15);
  const auto s = random_set(3, 10);
  EXPECT_THROW((void)mh.sign(s, out), std::invalid_argument);
}

TEST(Jaccard, BoundsBracketTheEstimateAndCoverTheTruth) {
  const std::size_t k = 128;
  const minhasher mh({.scheme = minhash_scheme::classic, .num_perm = k});
  const auto s = random_set(5, 400);
  const auto sig = mh.sign(s);
  const auto same = neardup::jaccard(sig, sig);
  EXPECT_EQ(same.estimate, 1.0);
  EXPECT_EQ(same.upper, 1.0);
  EXPECT_GT(same.lower, 0.95);  // Wilson lower bound for 128/128 at z = 1.96 is ~0.971
  EXPECT_LT(same.lower, 1.0);
  // 95% intervals: coverage over many pairs must be near 0.95.
  const int pairs = small_scale() ? 100 : 300;
  int covered = 0;
  for (int p = 0; p < pairs; ++p) {
    const auto pr = make_pair_exact(777 + static_cast<std::uint64_t>(p), 150, 75);  // J = 0.5
    const auto b = neardup::jaccard(mh.sign(pr.a), mh.sign(pr.b));
    EXPECT_LE(b.lower, b.estimate);
    EXPECT_LE(b.estimate, b.upper);
    covered += (b.lower <= pr.jaccard && pr.jaccard <= b.upper) ? 1 : 0;
  }
  // Expected 0.95; binomial sd over `pairs` is <= 0.02: 4 sd below is ~0.87.
  EXPECT_GE(static_cast<double>(covered) / pairs, 0.86);
  std::vector<sig_value> shorter(k - 1);
  EXPECT_THROW((void)neardup::jaccard(sig, shorter), std::invalid_argument);
  EXPECT_THROW((void)neardup::jaccard(sig, sig, 0.0), std::invalid_argument);
}

TEST(Jaccard, EqualPositionsAtLeastAnswersAsTheFullCount) {
  // Sizes that are and are not multiples of the 16 values it reads at a time.
  for (const std::size_t k : {std::size_t{1}, std::size_t{16}, std::size_t{40}, std::size_t{128}}) {
    const minhasher mh({.num_perm = k});
    for (int p = 0; p < 20; ++p) {
      const auto pr = make_pair_exact(700 + static_cast<std::uint64_t>(p), 60 + p, 5 + 3 * p);
      const auto a = mh.sign(pr.a), b = mh.sign(pr.b);
      const std::size_t m = neardup::equal_positions(a, b);
      for (std::size_t want = 0; want <= k + 1; ++want) {
        ASSERT_EQ(neardup::equal_positions_at_least(a, b, want), m >= want) << k << " " << p << " " << want;
      }
    }
  }
}

TEST(Jaccard, FromCountIsWhatJaccardComputes) {
  const std::size_t k = 128;
  const minhasher mh({.num_perm = k});
  for (int p = 0; p < 50; ++p) {
    const auto pr = make_pair_exact(900 + static_cast<std::uint64_t>(p), 100 + p, 10 + 2 * p);
    const auto a = mh.sign(pr.a), b = mh.sign(pr.b);
    const std::size_t m = neardup::equal_positions(a, b);
    std::size_t expected = 0;
    for (std::size_t i = 0; i < k; ++i) expected += a[i] == b[i];
    ASSERT_EQ(m, expected);
    for (double z : {1.96, 5.0}) {
      const auto x = neardup::jaccard(a, b, z), y = neardup::jaccard_from_count(m, k, z);
      EXPECT_EQ(x.lower, y.lower);
      EXPECT_EQ(x.estimate, y.estimate);
      EXPECT_EQ(x.upper, y.upper);
    }
  }
  // The upper bound grows with the count, so "upper < T" is "count < some m".
  for (std::size_t m = 1; m <= k; ++m) {
    EXPECT_GE(neardup::jaccard_from_count(m, k, 5.0).upper, neardup::jaccard_from_count(m - 1, k, 5.0).upper);
  }
  EXPECT_THROW((void)neardup::jaccard_from_count(k + 1, k), std::invalid_argument);
  EXPECT_THROW((void)neardup::jaccard_from_count(0, 0), std::invalid_argument);
}

TEST(Kernels, ApiListsScalarAndResolvesDefault) {
  const auto ks = neardup::supported_kernels();
  ASSERT_FALSE(ks.empty());
  EXPECT_EQ(ks.front(), sig_kernel::scalar);
  EXPECT_TRUE(neardup::kernel_supported(neardup::default_kernel()));
  EXPECT_NE(neardup::default_kernel(), sig_kernel::automatic);
  EXPECT_EQ(neardup::name(sig_kernel::avx512), "avx512");
  EXPECT_EQ(minhasher({.kernel = sig_kernel::scalar}).kernel(), sig_kernel::scalar);
  EXPECT_EQ(minhasher().kernel(), neardup::default_kernel());
  for (sig_kernel k : {sig_kernel::avx2, sig_kernel::avx512}) {
    if (!neardup::kernel_supported(k)) {
      EXPECT_THROW(minhasher({.kernel = k}), std::invalid_argument);
    }
  }
}

// Every kernel must give the same bits as the scalar reference.
TEST(Kernels, EveryKernelMatchesScalarBitForBit) {
  const auto kernels = neardup::supported_kernels();
  std::printf("kernels on this CPU:");
  for (auto k : kernels) std::printf(" %s", std::string(neardup::name(k)).c_str());
  std::printf(" (default %s)\n", std::string(neardup::name(neardup::default_kernel())).c_str());
  std::uint64_t seed = 1;
  for (minhash_scheme scheme : all_schemes) {
    for (std::size_t k : {1U, 3U, 31U, 32U, 33U, 64U, 100U, 128U, 129U, 200U, 256U}) {
      const minhasher ref({.scheme = scheme, .num_perm = k, .seed = k, .kernel = sig_kernel::scalar});
      std::vector<std::size_t> sizes = {0, 1, 2, 7, 8, 9, 15, 16, 17, k - 1, k, k + 1, 1000};
      if (!small_scale()) sizes.push_back(5003);
      for (std::size_t n : sizes) {
        const auto s = random_set(++seed, n);
        const auto want = ref.sign(s);
        for (sig_kernel kern : kernels) {
          const minhasher mh({.scheme = scheme, .num_perm = k, .seed = k, .kernel = kern});
          ASSERT_EQ(mh.sign(s), want) << scheme_name(scheme) << " kernel=" << neardup::name(kern)
                                      << " k=" << k << " n=" << n;
        }
      }
    }
  }
}

// Extreme inputs (all-zero, all-ones, small integers) through every kernel.
TEST(Kernels, StructuredInputsMatchScalar) {
  std::vector<std::uint64_t> s = {0, ~std::uint64_t{0}, 1, 2, 3, 0x8000000000000000ULL, 0xFFFFFFFFULL,
                                  0x100000000ULL};
  for (minhash_scheme scheme : all_schemes) {
    const minhasher ref({.scheme = scheme, .num_perm = 128, .kernel = sig_kernel::scalar});
    for (sig_kernel kern : neardup::supported_kernels()) {
      const minhasher mh({.scheme = scheme, .num_perm = 128, .kernel = kern});
      EXPECT_EQ(mh.sign(s), ref.sign(s)) << scheme_name(scheme) << " " << neardup::name(kern);
    }
  }
}

struct golden {
  minhash_scheme scheme;
  std::size_t num_perm;
  std::size_t n;
  sig_value first[8];
  std::uint64_t digest;  // hash64 of all k values as little-endian bytes, seed 0
};

// Generated once by this test (print mode) and frozen: a change here breaks
// every stored signature, and must come with a new signature_version. These
// are version 2 (one_permutation's values changed from version 1 for sets
// with empty bins: fast densification).
TEST(Golden, SignaturesMatchFrozenVectors) {
  static_assert(neardup::signature_version == 2, "regenerate the vectors for a new signature_version");
  const golden cases[] = {
#include "golden/signature_golden.inc"
  };
  for (const golden& g : cases) {
    const auto input = random_set(42 + g.n, g.n);
    for (sig_kernel kern : neardup::supported_kernels()) {
      const minhasher mh({.scheme = g.scheme, .num_perm = g.num_perm, .kernel = kern});
      const auto sig = mh.sign(input);
      for (std::size_t i = 0; i < 8 && i < sig.size(); ++i) {
        EXPECT_EQ(sig[i], g.first[i]) << scheme_name(g.scheme) << " n=" << g.n << " i=" << i;
      }
      EXPECT_EQ(neardup::hash64(sig.data(), sig.size() * sizeof(sig_value), 0), g.digest)
          << scheme_name(g.scheme) << " n=" << g.n << " k=" << g.num_perm;
    }
  }
}

TEST(Golden, PrintVectorsWhenAsked) {
  if (std::getenv("NEARDUP_PRINT_GOLDEN") == nullptr) GTEST_SKIP();
  for (minhash_scheme scheme : all_schemes) {
    for (std::size_t k : {128U, 7U}) {
      for (std::size_t n : {1U, 10U, 400U}) {
        const minhasher mh({.scheme = scheme, .num_perm = k, .kernel = sig_kernel::scalar});
        const auto sig = mh.sign(random_set(42 + n, n));
        std::printf("{minhash_scheme::%s, %zu, %zu, {", scheme_name(scheme).c_str(), k, n);
        for (std::size_t i = 0; i < 8; ++i) std::printf("%s0x%08xU", i ? ", " : "", i < k ? sig[i] : 0U);
        std::printf("}, 0x%016llxULL},\n",
                    static_cast<unsigned long long>(neardup::hash64(sig.data(), sig.size() * 4, 0)));
      }
    }
  }
}

}  // namespace

#include "neardup/banding.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/signature.hpp"
#include "test_util.hpp"

namespace {

using neardup::bander;
using neardup::candidate_probability;
using neardup::lsh_params;
using neardup::sig_value;

using neardup_test::small_scale;

std::vector<std::uint64_t> random_values(std::uint64_t seed, std::size_t n) {
  neardup::seed_sequence rng(seed);
  std::vector<std::uint64_t> out(n);
  for (auto& x : out) x = rng.next();
  return out;
}

TEST(SCurve, FormulaValues) {
  EXPECT_NEAR(candidate_probability(0.5, {20, 5}), 1 - std::pow(1 - 1.0 / 32, 20), 1e-14);
  EXPECT_NEAR(candidate_probability(0.8, {9, 13}), 1 - std::pow(1 - std::pow(0.8, 13), 9), 1e-14);
  EXPECT_EQ(candidate_probability(0.0, {10, 10}), 0.0);
  EXPECT_EQ(candidate_probability(1.0, {10, 10}), 1.0);
  EXPECT_EQ(candidate_probability(-0.5, {10, 10}), 0.0);
  EXPECT_EQ(candidate_probability(1.5, {10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(candidate_probability(0.3, {1, 1}), 0.3);
  // Tiny probabilities stay accurate (no 1 - (1 - tiny) cancellation).
  EXPECT_NEAR(candidate_probability(0.01, {4, 8}) / (4 * std::pow(0.01, 8)), 1.0, 1e-9);
  double prev = 0;
  for (double j = 0.05; j < 1; j += 0.05) {
    const double p = candidate_probability(j, {16, 8});
    EXPECT_GT(p, prev);
    prev = p;
  }
}

TEST(SCurve, AreasMatchClosedForms) {
  // b = 1: integral of t^r over [0, x] = x^(r+1) / (r+1).
  for (std::uint32_t r : {1U, 3U, 17U}) {
    for (double x : {0.2, 0.5, 0.9}) {
      EXPECT_NEAR(neardup::false_positive_area(x, {1, r}), std::pow(x, r + 1) / (r + 1), 1e-9);
      EXPECT_NEAR(neardup::false_negative_area(x, {1, r}), (1 - x) - (1 - std::pow(x, r + 1)) / (r + 1), 1e-9);
    }
  }
  // r = 1: integral of 1 - (1-t)^b over [0, x] = x - (1 - (1-x)^(b+1)) / (b+1).
  for (std::uint32_t b : {2U, 20U, 128U}) {
    const double x = 0.4;
    EXPECT_NEAR(neardup::false_positive_area(x, {b, 1}), x - (1 - std::pow(1 - x, b + 1)) / (b + 1), 1e-9);
  }
  // A sharp curve against a fine midpoint rule.
  for (const lsh_params sharp : {lsh_params{200, 20}, lsh_params{1, 4096}, lsh_params{4096, 1}}) {
    const double x = 0.7;
    const int steps = 200000;
    double fp = 0;
    for (int i = 0; i < steps; ++i) fp += candidate_probability(x * (i + 0.5) / steps, sharp);
    fp *= x / steps;
    EXPECT_NEAR(neardup::false_positive_area(x, sharp), fp, 1e-8) << sharp.bands << "x" << sharp.rows;
  }
}

TEST(Params, ValidationNamesTheLimit) {
  EXPECT_THROW(neardup::validate_lsh_params({0, 4}, 128), std::invalid_argument);
  EXPECT_THROW(neardup::validate_lsh_params({4, 0}, 128), std::invalid_argument);
  EXPECT_NO_THROW(neardup::validate_lsh_params({16, 8}, 128));
  EXPECT_NO_THROW(neardup::validate_lsh_params({10, 12}, 128));  // trailing values unused
  try {
    neardup::validate_lsh_params({17, 8}, 128);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("136"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("128"), std::string::npos) << e.what();
  }
  EXPECT_THROW(bander({17, 8}, 128), std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_params(0.0, 128), std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_params(1.0, 128), std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_params(0.5, 0), std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_params(0.5, 128, 0, 0), std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_params(0.5, 128, -1, 1), std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_params_for_recall(0.5, 128, 1.0), std::invalid_argument);
  // (b, r) = (1, 1) gives recall 0.01 at threshold 0.01, the best possible with k = 1.
  EXPECT_THROW((void)neardup::choose_params_for_recall(0.01, 1, 0.5), std::invalid_argument);
}

// Brute-force reference of the weighted-error criterion.
lsh_params brute_choose(double t, std::size_t k, double wfp, double wfn) {
  lsh_params best{};
  double err = 1e9;
  for (std::uint32_t b = 1; b <= k; ++b) {
    for (std::uint32_t r = 1; std::size_t{b} * r <= k; ++r) {
      const double e = wfp * neardup::false_positive_area(t, {b, r}) + wfn * neardup::false_negative_area(t, {b, r});
      if (e < err) {
        err = e;
        best = {b, r};
      }
    }
  }
  return best;
}

TEST(Params, ChooserKnownValuesAndSanity) {
  // Values computed by this implementation and cross-checked with an
  // independent midpoint-rule script (same criterion as datasketch's
  // _optimal_param); the step (1/b)^(1/r) lies near the threshold.
  const lsh_params p50 = neardup::choose_params(0.5, 128);
  const lsh_params p80 = neardup::choose_params(0.8, 128);
  std::printf("choose_params(0.5, 128) = (%u, %u); choose_params(0.8, 128) = (%u, %u)\n", p50.bands, p50.rows,
              p80.bands, p80.rows);
  EXPECT_EQ(p50, (lsh_params{25, 5}));
  EXPECT_EQ(p80, (lsh_params{9, 13}));
  EXPECT_EQ(p50, brute_choose(0.5, 128, 0.5, 0.5));
  double prev_step = 0;
  for (double t = 0.3; t < 0.95; t += 0.1) {
    const lsh_params p = neardup::choose_params(t, 128);
    EXPECT_LE(std::size_t{p.bands} * p.rows, 128U);
    const double step = std::pow(1.0 / p.bands, 1.0 / p.rows);
    EXPECT_NEAR(step, t, 0.12) << "t=" << t;
    EXPECT_GT(step, prev_step) << "t=" << t;
    prev_step = step;
  }
  // Weighting false positives more never increases the false-positive area.
  const double t = 0.6;
  double prev_fp = 1;
  for (double w : {0.1, 0.3, 0.5, 0.7, 0.9}) {
    const lsh_params p = neardup::choose_params(t, 128, w, 1 - w);
    const double fp = neardup::false_positive_area(t, p);
    EXPECT_LE(fp, prev_fp + 1e-12) << "w=" << w;
    prev_fp = fp;
  }
}

TEST(Params, RecallChooserMeetsTargetAndMinimizesFalsePositives) {
  for (double target : {0.5, 0.9, 0.99}) {
    for (double t : {0.5, 0.7, 0.85}) {
      const lsh_params p = neardup::choose_params_for_recall(t, 128, target);
      EXPECT_GE(candidate_probability(t, p), target);
      const double fp = neardup::false_positive_area(t, p);
      for (std::uint32_t b = 1; b <= 128; ++b) {
        for (std::uint32_t r = 1; b * r <= 128; ++r) {
          if (candidate_probability(t, {b, r}) >= target) {
            ASSERT_GE(neardup::false_positive_area(t, {b, r}), fp - 1e-12);
          }
        }
      }
    }
  }
}

// The chooser integrates once per band count (the largest qualifying rows);
// it must pick exactly what the search over every (bands, rows) picks: the
// first, in (bands, rows) order, of the fewest false positives.
TEST(Params, RecallChooserEqualsExhaustiveSearch) {
  for (std::size_t k : {16U, 64U, 128U, 200U}) {
    for (double t = 0.3; t < 0.96; t += 0.05) {
      for (double target : {0.9, 0.99, 0.999}) {
        lsh_params best{0, 0};
        double best_fp = 2;
        for (std::uint32_t b = 1; b <= k; ++b) {
          for (std::uint32_t r = 1; std::size_t{b} * r <= k; ++r) {
            if (candidate_probability(t, {b, r}) < target) continue;
            const double fp = neardup::false_positive_area(t, {b, r});
            if (fp < best_fp) {
              best_fp = fp;
              best = {b, r};
            }
          }
        }
        if (best.bands == 0) {
          EXPECT_THROW((void)neardup::choose_params_for_recall(t, k, target), std::invalid_argument);
        } else {
          EXPECT_EQ(neardup::choose_params_for_recall(t, k, target), best) << k << " " << t << " " << target;
        }
      }
    }
  }
}

// The default for verified runs: P(candidate) >= 0.999 at the threshold where
// some banding reaches it, else the banding of highest recall.
TEST(Params, VerifiedChooserAimsAtNineNineNine) {
  EXPECT_EQ(neardup::choose_params_for_verified(0.8, 128), (lsh_params{18, 5}));
  for (double t : {0.5, 0.7, 0.8, 0.9}) {
    for (std::size_t k : {64U, 128U, 256U}) {
      const lsh_params p = neardup::choose_params_for_verified(t, k);
      EXPECT_GE(candidate_probability(t, p), neardup::verified_recall_at_threshold) << t << " " << k;
      EXPECT_EQ(p, neardup::choose_params_for_recall(t, k, neardup::verified_recall_at_threshold));
    }
  }
  EXPECT_EQ(neardup::choose_params_for_verified(0.8, 2), (lsh_params{2, 1}));  // 0.96 is the best there is
  EXPECT_THROW(neardup::choose_params_for_verified(1.0, 128), std::invalid_argument);
}

TEST(BandKeys, DefinitionAndGolden) {
  std::vector<sig_value> sig(128);
  std::iota(sig.begin(), sig.end(), 0U);
  const bander bands({16, 8}, 128);
  std::vector<std::uint64_t> keys(16);
  ASSERT_TRUE(bands.keys(sig, keys));
  for (std::uint32_t j = 0; j < 16; ++j) {
    // Definition: hash64 of the 8 x 4 little-endian bytes, seeded per band.
    unsigned char bytes[32];
    for (int i = 0; i < 8; ++i) {
      const sig_value v = sig[j * 8 + static_cast<std::uint32_t>(i)];
      for (int byte = 0; byte < 4; ++byte) bytes[4 * i + byte] = static_cast<unsigned char>(v >> (8 * byte));
    }
    EXPECT_EQ(keys[j], neardup::hash64(bytes, sizeof bytes, neardup::derive_seed(neardup::default_seed, j)));
    EXPECT_EQ(bands.key(sig, j), keys[j]);
  }
  // Frozen.
  EXPECT_EQ(keys[0], 0x731ed3c9100154afULL);
  EXPECT_EQ(keys[15], 0x00aeb91be2067696ULL);
  // Equal values in different bands give different keys.
  std::vector<sig_value> flat(128, 5);
  ASSERT_TRUE(bands.keys(flat, keys));
  EXPECT_NE(keys[0], keys[1]);
  // A different seed gives different keys.
  const bander other({16, 8}, 128, 1);
  EXPECT_NE(other.key(sig, 0), bands.key(sig, 0));
}

TEST(BandKeys, EmptySignatureHasNoKeys) {
  const neardup::minhasher mh({.num_perm = 64});
  const auto empty = mh.sign(std::span<const std::uint64_t>{});
  const bander bands({8, 8}, 64);
  std::vector<std::uint64_t> keys(8, 42);
  EXPECT_FALSE(bands.keys(empty, keys));
  EXPECT_EQ(keys, std::vector<std::uint64_t>(8, 42));
  EXPECT_FALSE(bands.key(empty, 3).has_value());
  std::vector<sig_value> bad(63);
  EXPECT_THROW((void)bands.key(bad, 0), std::invalid_argument);
  EXPECT_THROW((void)bands.key(empty, 8), std::invalid_argument);
  std::vector<std::uint64_t> short_keys(7);
  EXPECT_THROW((void)bands.keys(mh.sign(random_values(1, 10)), short_keys), std::invalid_argument);
}

TEST(BandKeys, ColumnSkipsEmptyDocumentsAndMatchesKey) {
  const neardup::minhasher mh({.num_perm = 32});
  const bander bands({4, 8}, 32);
  std::vector<sig_value> all;
  std::vector<std::vector<sig_value>> sigs;
  for (std::size_t d = 0; d < 10; ++d) {
    sigs.push_back(mh.sign(random_values(d, d % 3 == 0 ? 0 : 50)));  // docs 0, 3, 6, 9 empty
    all.insert(all.end(), sigs.back().begin(), sigs.back().end());
  }
  std::vector<neardup::band_entry> out(10);
  const std::size_t n = bands.column(all, 2, out);
  ASSERT_EQ(n, 6U);
  std::size_t w = 0;
  for (neardup::doc_id d = 0; d < 10; ++d) {
    if (d % 3 == 0) continue;
    EXPECT_EQ(out[w].doc, d);
    EXPECT_EQ(out[w].key, *bands.key(sigs[d], 2));
    ++w;
  }
  std::vector<neardup::band_entry> small(9);
  EXPECT_THROW((void)bands.column(all, 2, small), std::invalid_argument);
  EXPECT_THROW((void)bands.column(std::span<const sig_value>(all).first(31), 2, out), std::invalid_argument);
}

// The empirical candidate rate of band keys over random pairs with known J
// follows the S-curve within 4 binomial sigmas. With classic MinHash the
// positions agree independently with probability J, so the S-curve is exact.
class LshRecall : public ::testing::TestWithParam<neardup::minhash_scheme> {};

TEST_P(LshRecall, CandidateRateFollowsSCurve) {
  const std::size_t k = 128;
  const lsh_params params{16, 8};
  const neardup::minhasher mh({.scheme = GetParam(), .num_perm = k});
  const bander bands(params, k);
  const int pairs = small_scale() ? 150 : 500;
  std::vector<std::uint64_t> ka(params.bands), kb(params.bands);
  std::uint64_t seed = 1000;
  for (std::size_t common : {150U, 210U, 300U, 390U}) {  // |A u B| = 400: J = 0.375 .. 0.975
    const std::size_t only = (400 - common) / 2;
    const double j = static_cast<double>(common) / static_cast<double>(common + 2 * only);
    int hits = 0;
    for (int p = 0; p < pairs; ++p) {
      const auto pool = random_values(++seed, common + 2 * only);
      std::vector<std::uint64_t> a(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(common + only));
      std::vector<std::uint64_t> b(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(common));
      b.insert(b.end(), pool.begin() + static_cast<std::ptrdiff_t>(common + only), pool.end());
      ASSERT_TRUE(bands.keys(mh.sign(a), ka));
      ASSERT_TRUE(bands.keys(mh.sign(b), kb));
      bool hit = false;
      for (std::uint32_t i = 0; i < params.bands; ++i) hit = hit || ka[i] == kb[i];
      hits += hit ? 1 : 0;
    }
    const double want = candidate_probability(j, params);
    const double sigma = std::sqrt(want * (1 - want) / pairs);
    const double got = static_cast<double>(hits) / pairs;
    // 4 sigma, plus half a pair so p ~ 0 or 1 cannot fail on one outcome.
    EXPECT_NEAR(got, want, 4 * sigma + 0.5 / pairs) << "J=" << j;
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, LshRecall,
                         ::testing::Values(neardup::minhash_scheme::classic,
                                           neardup::minhash_scheme::one_permutation,
                                           neardup::minhash_scheme::superminhash));

}  // namespace

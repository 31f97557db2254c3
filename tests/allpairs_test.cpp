#include <map>
#include <memory>
#include "neardup/allpairs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "neardup/hash.hpp"
#include "test_util.hpp"

namespace {

using neardup_test::pool_of;

using neardup::allpairs_join;
using neardup::flat_sets;
using neardup::similar_pair;

using neardup_test::small_scale;

// Reference: every pair, exact double test, as documented.
struct pair_stats {
  neardup::doc_pair pair;
  std::uint64_t inter = 0, uni = 0;
};

std::vector<pair_stats> all_pair_stats(const flat_sets& sets) {
  std::vector<pair_stats> out;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    for (std::size_t j = i + 1; j < sets.size(); ++j) {
      const auto a = sets[i], b = sets[j];
      if (a.empty() || b.empty()) continue;
      std::uint64_t inter = 0;
      for (std::size_t p = 0, q = 0; p < a.size() && q < b.size();) {
        if (a[p] < b[q]) {
          ++p;
        } else if (b[q] < a[p]) {
          ++q;
        } else {
          ++inter, ++p, ++q;
        }
      }
      if (inter > 0) {
        out.push_back({{static_cast<neardup::doc_id>(i), static_cast<neardup::doc_id>(j)}, inter,
                       a.size() + b.size() - inter});
      }
    }
  }
  return out;
}

std::vector<similar_pair> brute_force(const std::vector<pair_stats>& stats, double threshold) {
  std::vector<similar_pair> out;
  for (const auto& s : stats) {
    const double jac = static_cast<double>(s.inter) / static_cast<double>(s.uni);
    if (jac >= threshold) out.push_back({s.pair, jac, s.inter, s.uni});
  }
  return out;
}

std::vector<std::uint64_t> sorted_unique(std::vector<std::uint64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Token ids -> values: either spread hashes or raw small integers (which all
// share their top bits, the worst case for the radix partition).
std::uint64_t token_value(std::uint64_t id, bool hashed) {
  return hashed ? neardup::hash64(&id, sizeof id, 12345) : id;
}

// A corpus of base documents plus mutated copies at several Jaccard levels,
// a few boilerplate-heavy documents, empty, single-element and identical sets.
flat_sets make_corpus(std::uint64_t seed, std::size_t bases, std::size_t vocab, bool hashed,
                      std::size_t max_len = 60) {
  std::mt19937_64 rng(seed);
  flat_sets sets;
  std::vector<std::vector<std::uint64_t>> docs;
  std::uniform_int_distribution<std::uint64_t> tok(0, vocab - 1);
  std::uniform_int_distribution<std::size_t> len(1, max_len);
  // Skewed "boilerplate" tokens shared by many documents.
  std::uniform_int_distribution<std::uint64_t> common(0, 15);
  for (std::size_t b = 0; b < bases; ++b) {
    std::vector<std::uint64_t> d;
    const std::size_t n = len(rng);
    for (std::size_t k = 0; k < n; ++k) d.push_back(rng() % 4 == 0 ? common(rng) : 100 + tok(rng));
    docs.push_back(sorted_unique(d));
    const int copies = static_cast<int>(rng() % 3);
    for (int c = 0; c < copies; ++c) {
      std::vector<std::uint64_t> m = docs.back();
      const double change = std::uniform_real_distribution<double>(0.0, 0.4)(rng);
      for (auto& v : m) {
        if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < change) v = 100 + tok(rng);
      }
      if (rng() % 2 == 0) m.push_back(100 + tok(rng));
      if (rng() % 2 == 0 && m.size() > 1) m.pop_back();
      docs.push_back(sorted_unique(m));
    }
    if (rng() % 10 == 0) docs.push_back(docs.back());  // identical
    if (rng() % 15 == 0) docs.push_back({});             // empty
    if (rng() % 15 == 0) docs.push_back({common(rng)});  // single element
  }
  std::shuffle(docs.begin(), docs.end(), rng);
  for (auto& d : docs) {
    for (auto& v : d) v = token_value(v, hashed);
    sets.push_back(sorted_unique(d));
  }
  return sets;
}

void expect_same(const std::vector<similar_pair>& got, const std::vector<similar_pair>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], want[i]) << "pair " << got[i].pair.first << "," << got[i].pair.second << " vs "
                               << want[i].pair.first << "," << want[i].pair.second;
  }
}

class AllPairsVsBruteForce : public ::testing::TestWithParam<double> {};

struct test_corpus {
  flat_sets sets;
  std::vector<pair_stats> stats;
};

// Built once, shared by every threshold.
const std::vector<test_corpus>& random_corpora() {
  static const std::vector<test_corpus> corpora = [] {
    std::vector<test_corpus> out;
    const int rounds = small_scale() ? 6 : 24;
    for (int round = 0; round < rounds; ++round) {
      const bool hashed = round % 2 == 0;
      const std::size_t vocab = round % 3 == 0 ? 40 : 2000;  // dense overlaps vs sparse
      test_corpus c{make_corpus(1000 + static_cast<std::uint64_t>(round), 120, vocab, hashed), {}};
      c.stats = all_pair_stats(c.sets);
      out.push_back(std::move(c));
    }
    return out;
  }();
  return corpora;
}

TEST_P(AllPairsVsBruteForce, EqualsBruteForceOnRandomCorpora) {
  const double threshold = GetParam();
  std::size_t reported = 0;
  for (const test_corpus& c : random_corpora()) {
    const auto want = brute_force(c.stats, threshold);
    const auto got = allpairs_join(c.sets.view(), {.threshold = threshold, .pool = pool_of(1)});
    expect_same(got, want);
    const auto got2 = allpairs_join(c.sets.view(), {.threshold = threshold, .pool = pool_of(2)});
    expect_same(got2, want);
    reported += want.size();
  }
  EXPECT_GT(reported, 0u) << "corpus generator produced no pairs; the test would be vacuous";
}

INSTANTIATE_TEST_SUITE_P(Thresholds, AllPairsVsBruteForce,
                         ::testing::Values(0.1, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0));

TEST(AllPairs, EqualsBruteForceOnLongSets) {
  // Realistic set sizes (up to 600 shingles), where prefixes are a small
  // fraction of each set and the positional filter prunes most candidates.
  const flat_sets sets = make_corpus(4242, small_scale() ? 60 : 150, 100000, true, 600);
  const auto stats = all_pair_stats(sets);
  for (double t : {0.5, 0.7, 0.8, 0.9, 0.97}) {
    const auto want = brute_force(stats, t);
    expect_same(allpairs_join(sets.view(), {.threshold = t, .pool = pool_of(2)}), want);
    if (t <= 0.8) {
      EXPECT_FALSE(want.empty()) << t;
    }
  }
}

TEST(AllPairs, ReportsPairsExactlyAtTheThreshold) {
  // For every fraction a/b, a pair with |∩| = a and |∪| = b is reported at
  // threshold a/b and not at the next double above it.
  for (std::uint64_t b = 1; b <= 40; ++b) {
    for (std::uint64_t a = 1; a <= b; ++a) {
      flat_sets sets;
      std::vector<std::uint64_t> x, y;
      for (std::uint64_t k = 0; k < a; ++k) {
        x.push_back(k);
        y.push_back(k);
      }
      const std::uint64_t extra = b - a;
      for (std::uint64_t k = 0; k < extra; ++k) (k % 2 == 0 ? x : y).push_back(1000 + k);
      sets.push_back(x);
      sets.push_back(y);
      const double t = static_cast<double>(a) / static_cast<double>(b);
      const auto at = allpairs_join(sets.view(), {.threshold = t});
      ASSERT_EQ(at.size(), 1u) << a << "/" << b;
      EXPECT_EQ(at[0].intersection, a);
      EXPECT_EQ(at[0].union_size, b);
      EXPECT_EQ(at[0].jaccard, t);
      if (a < b) {
        const auto above = allpairs_join(sets.view(), {.threshold = std::nextafter(t, 2.0)});
        EXPECT_TRUE(above.empty()) << a << "/" << b;
      }
    }
  }
}

TEST(AllPairs, EmptySetsNeverPairIdenticalSetsAlwaysDo) {
  flat_sets sets;
  sets.push_back({});
  sets.push_back({});
  const std::vector<std::uint64_t> one{42};
  sets.push_back(one);
  sets.push_back(one);
  sets.push_back({});
  const std::vector<std::uint64_t> many{1, 5, 9, 77, 1u << 31};
  sets.push_back(many);
  sets.push_back(many);
  sets.push_back(many);
  const auto got = allpairs_join(sets.view(), {.threshold = 1.0});
  const std::vector<neardup::doc_pair> want{{2, 3}, {5, 6}, {5, 7}, {6, 7}};
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].pair, want[i]);
    EXPECT_EQ(got[i].jaccard, 1.0);
  }
  // Disjoint single-element sets never pair, even at a tiny threshold.
  flat_sets singles;
  for (std::uint64_t v = 0; v < 50; ++v) singles.push_back(std::vector<std::uint64_t>{v});
  EXPECT_TRUE(allpairs_join(singles.view(), {.threshold = 1e-9}).empty());
}

TEST(AllPairs, AllIdenticalCorpusGivesEveryPair) {
  flat_sets sets;
  std::vector<std::uint64_t> doc;
  for (std::uint64_t k = 0; k < 30; ++k) doc.push_back(neardup::hash64(&k, sizeof k, 1));
  std::sort(doc.begin(), doc.end());
  const std::size_t n = 60;
  for (std::size_t i = 0; i < n; ++i) sets.push_back(doc);
  const auto got = allpairs_join(sets.view(), {.threshold = 0.9, .pool = pool_of(2)});
  EXPECT_EQ(got.size(), n * (n - 1) / 2);
}

TEST(AllPairs, EmptyInputGivesNoPairs) {
  EXPECT_TRUE(allpairs_join(neardup::sets_view{}, {}).empty());
  flat_sets sets;
  EXPECT_TRUE(allpairs_join(sets.view(), {}).empty());
  sets.push_back({});
  EXPECT_TRUE(allpairs_join(sets.view(), {}).empty());
}

TEST(AllPairs, RejectsBadSettingsAndMalformedInput) {
  flat_sets sets;
  sets.push_back(std::vector<std::uint64_t>{1, 2});
  EXPECT_THROW((void)allpairs_join(sets.view(), {.threshold = 0.0}), std::invalid_argument);
  EXPECT_THROW((void)allpairs_join(sets.view(), {.threshold = 1.5}), std::invalid_argument);
  EXPECT_THROW((void)allpairs_join(sets.view(), {.threshold = std::nan("")}), std::invalid_argument);
  flat_sets unsorted;
  unsorted.push_back(std::vector<std::uint64_t>{2, 1});
  EXPECT_THROW((void)allpairs_join(unsorted.view(), {}), std::invalid_argument);
  flat_sets dup;
  dup.push_back(std::vector<std::uint64_t>{3, 3});
  EXPECT_THROW((void)allpairs_join(dup.view(), {}), std::invalid_argument);
  const std::vector<std::uint64_t> values{1, 2, 3};
  const std::vector<std::uint64_t> bad_end{0, 2};
  EXPECT_THROW((void)allpairs_join({values, bad_end}, {}), std::invalid_argument);
  const std::vector<std::uint64_t> decreasing{0, 3, 2, 3};
  EXPECT_THROW((void)allpairs_join({values, decreasing}, {}), std::invalid_argument);
}

TEST(AllPairs, ResultIndependentOfThreadCountOnLargerCorpus) {
  const flat_sets sets = make_corpus(77, small_scale() ? 400 : 3000, 5000, true);
  const auto one = allpairs_join(sets.view(), {.threshold = 0.7, .pool = pool_of(1)});
  const auto two = allpairs_join(sets.view(), {.threshold = 0.7, .pool = pool_of(2)});
  const auto many = allpairs_join(sets.view(), {.threshold = 0.7, .pool = pool_of(5)});
  expect_same(two, one);
  expect_same(many, one);
  EXPECT_FALSE(one.empty());
  for (const auto& p : one) {
    EXPECT_LT(p.pair.first, p.pair.second);
    EXPECT_GE(p.jaccard, 0.7);
  }
}

}  // namespace

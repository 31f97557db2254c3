#include "neardup/contamination.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

using neardup::contamination_hit;
using neardup::contamination_index;
using neardup::contamination_mode;
using neardup::contamination_options;

using neardup_test::small_scale;

constexpr std::size_t ngram = 13;

// The caller's side: 13-gram hashes of a token-id sequence, in order.
std::vector<std::uint64_t> ngrams_of(const std::vector<std::uint64_t>& tokens) {
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i + ngram <= tokens.size(); ++i) {
    out.push_back(neardup::hash64(tokens.data() + i, ngram * sizeof(std::uint64_t), 17));
  }
  return out;
}

std::vector<std::uint64_t> random_tokens(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {
  std::vector<std::uint64_t> t(std::uniform_int_distribution<std::size_t>(lo, hi)(rng));
  // A small vocabulary, so single tokens and short runs repeat everywhere;
  // only long runs (13-grams) identify a passage.
  for (auto& v : t) v = rng() % 50;
  return t;
}

struct planted_corpus {
  std::vector<std::vector<std::uint64_t>> refs;  // token sequences
  std::vector<std::vector<std::uint64_t>> docs;
  std::vector<std::vector<std::uint32_t>> planted;  // refs with >= 13 planted tokens, per doc
};

planted_corpus make_planted(std::uint64_t seed, std::size_t num_refs, std::size_t num_docs) {
  std::mt19937_64 rng(seed);
  planted_corpus c;
  for (std::size_t r = 0; r < num_refs; ++r) c.refs.push_back(random_tokens(rng, 100, 300));
  for (std::size_t d = 0; d < num_docs; ++d) {
    auto doc = random_tokens(rng, 200, 500);
    std::vector<std::uint32_t> planted;
    if (rng() % 3 == 0) {
      const int passages = 1 + static_cast<int>(rng() % 3);
      for (int p = 0; p < passages; ++p) {
        const auto r = static_cast<std::uint32_t>(rng() % num_refs);
        const auto& ref = c.refs[r];
        const std::size_t len = std::min<std::size_t>(ref.size(), 8 + rng() % 60);  // some < 13: not a hit
        const std::size_t from = rng() % (ref.size() - len + 1);
        // Appended, then random filler: passages never split each other.
        doc.insert(doc.end(), ref.begin() + static_cast<std::ptrdiff_t>(from),
                   ref.begin() + static_cast<std::ptrdiff_t>(from + len));
        const auto filler = random_tokens(rng, 1, 40);
        doc.insert(doc.end(), filler.begin(), filler.end());
        if (len >= ngram) planted.push_back(r);
        // A second copy of the same passage must not change the count.
        if (rng() % 4 == 0) doc.insert(doc.end(), ref.begin() + static_cast<std::ptrdiff_t>(from),
                                       ref.begin() + static_cast<std::ptrdiff_t>(from + len));
      }
    }
    std::sort(planted.begin(), planted.end());
    planted.erase(std::unique(planted.begin(), planted.end()), planted.end());
    c.docs.push_back(std::move(doc));
    c.planted.push_back(std::move(planted));
  }
  return c;
}

// Brute force: distinct shared n-grams with every reference and with their union.
neardup::contamination_result brute_force(const std::vector<std::unordered_set<std::uint64_t>>& refs,
                                          const std::vector<std::uint64_t>& doc_grams) {
  const std::unordered_set<std::uint64_t> doc(doc_grams.begin(), doc_grams.end());
  neardup::contamination_result out;
  for (std::uint64_t h : doc) {
    out.shared_ngrams += std::any_of(refs.begin(), refs.end(), [&](const auto& r) { return r.count(h) > 0; });
  }
  for (std::size_t r = 0; r < refs.size(); ++r) {
    std::uint64_t shared = 0;
    for (std::uint64_t h : doc) shared += refs[r].count(h);
    if (shared > 0) out.refs.push_back({static_cast<neardup::ref_id>(r), shared});
  }
  return out;
}

TEST(ContaminationExact, FindsExactlyThePlantedPassages) {
  const auto c = make_planted(1, 40, small_scale() ? 60 : 300);
  contamination_index index;
  std::vector<std::unordered_set<std::uint64_t>> ref_sets;
  std::uint64_t stored = 0;
  for (std::size_t r = 0; r < c.refs.size(); ++r) {
    const auto grams = ngrams_of(c.refs[r]);
    EXPECT_EQ(index.add_reference(grams), r);
    ref_sets.emplace_back(grams.begin(), grams.end());
    stored += ref_sets.back().size();
  }
  index.finalize();
  EXPECT_EQ(index.references(), c.refs.size());
  EXPECT_EQ(index.stored_ngrams(), stored);
  EXPECT_EQ(index.false_positive_rate(), 0.0);
  std::size_t contaminated = 0;
  for (std::size_t d = 0; d < c.docs.size(); ++d) {
    const auto grams = ngrams_of(c.docs[d]);
    const auto got = index.query(grams);
    const auto want = brute_force(ref_sets, grams);
    ASSERT_EQ(got.shared_ngrams, want.shared_ngrams) << d;
    ASSERT_EQ(got.refs, want.refs) << d;
    EXPECT_EQ(index.shared_ngram_count(grams), got.shared_ngrams);
    std::vector<std::uint32_t> found;
    for (const contamination_hit& h : got.refs) found.push_back(h.ref);
    EXPECT_EQ(found, c.planted[d]) << "doc " << d;
    contaminated += !found.empty();
  }
  EXPECT_GT(contaminated, c.docs.size() / 10);
}

TEST(ContaminationExact, CountsDistinctNgramsOfOnePassage) {
  std::mt19937_64 rng(2);
  std::vector<std::uint64_t> ref(100);
  for (auto& v : ref) v = rng();
  contamination_index index;
  index.add_reference(ngrams_of(ref));
  index.add_reference(ngrams_of(ref));  // identical second reference
  index.finalize();
  for (std::size_t len : {12u, 13u, 14u, 40u}) {
    std::vector<std::uint64_t> doc(50);
    for (auto& v : doc) v = rng();
    doc.insert(doc.begin() + 20, ref.begin() + 30, ref.begin() + 30 + static_cast<std::ptrdiff_t>(len));
    const std::vector<std::uint64_t> once = doc;
    doc.insert(doc.end(), ref.begin() + 30, ref.begin() + 30 + static_cast<std::ptrdiff_t>(len));  // repeat
    for (const std::vector<std::uint64_t>* d : {&once, static_cast<const std::vector<std::uint64_t>*>(&doc)}) {
      const auto got = index.query(ngrams_of(*d));
      const std::uint64_t want = len >= ngram ? len - ngram + 1 : 0;
      EXPECT_EQ(got.shared_ngrams, want) << len;
      if (want == 0) {
        EXPECT_TRUE(got.refs.empty());
      } else {
        const std::vector<contamination_hit> both{{0, want}, {1, want}};
        EXPECT_EQ(got.refs, both);
      }
    }
  }
}

TEST(ContaminationExact, SmallIntegerHashesAndEmptyInputs) {
  contamination_index empty;
  empty.finalize();
  EXPECT_EQ(empty.query(std::vector<std::uint64_t>{1, 2, 3}).shared_ngrams, 0u);
  contamination_index index;
  index.add_reference(std::vector<std::uint64_t>{5, 1, 3, 3});
  index.add_reference({});
  index.add_reference(std::vector<std::uint64_t>{3, 4});
  index.finalize();
  EXPECT_EQ(index.stored_ngrams(), 5u);
  EXPECT_TRUE(index.contains(4));
  EXPECT_FALSE(index.contains(2));
  const auto got = index.query(std::vector<std::uint64_t>{3, 3, 4, 9, 1});
  EXPECT_EQ(got.shared_ngrams, 3u);
  const std::vector<contamination_hit> want{{0, 2}, {2, 2}};
  EXPECT_EQ(got.refs, want);
  EXPECT_EQ(index.query({}).shared_ngrams, 0u);
}

TEST(ContaminationExact, ConstQueriesAgreeAcrossThreads) {
  const auto c = make_planted(3, 20, small_scale() ? 40 : 200);
  contamination_index index;
  for (const auto& r : c.refs) index.add_reference(ngrams_of(r));
  index.finalize();
  std::vector<std::vector<std::uint64_t>> grams;
  for (const auto& d : c.docs) grams.push_back(ngrams_of(d));
  std::vector<std::uint64_t> serial, a(grams.size()), b(grams.size());
  for (const auto& g : grams) serial.push_back(index.query(g).shared_ngrams);
  std::thread t1([&] {
    for (std::size_t i = 0; i < grams.size(); ++i) a[i] = index.query(grams[i]).shared_ngrams;
  });
  std::thread t2([&] {
    for (std::size_t i = grams.size(); i-- > 0;) b[i] = index.query(grams[i]).shared_ngrams;
  });
  t1.join();
  t2.join();
  EXPECT_EQ(a, serial);
  EXPECT_EQ(b, serial);
}

TEST(ContaminationBloom, NeverMissesAndOnlyCounts) {
  const auto c = make_planted(4, 30, small_scale() ? 40 : 200);
  contamination_index exact;
  contamination_index bloom(contamination_options::bloom(30 * 300, 1e-4));
  for (const auto& r : c.refs) {
    exact.add_reference(ngrams_of(r));
    bloom.add_reference(ngrams_of(r));
  }
  exact.finalize();
  bloom.finalize();
  EXPECT_EQ(bloom.mode(), contamination_mode::bloom);
  std::uint64_t over = 0, total = 0;
  for (const auto& d : c.docs) {
    const auto grams = ngrams_of(d);
    const auto e = exact.query(grams);
    const auto b = bloom.query(grams);
    EXPECT_GE(b.shared_ngrams, e.shared_ngrams);  // no false negatives
    EXPECT_TRUE(b.refs.empty());
    over += b.shared_ngrams - e.shared_ngrams;
    total += grams.size();
  }
  // False positives at p ~ 1e-4 over ~total absent grams: mean <= total * 1e-4.
  EXPECT_LE(static_cast<double>(over), 10.0 + 5.0 * static_cast<double>(total) * 1e-4);
}

struct bloom_case {
  double bits_per_ngram;
  unsigned k;  // 0 = automatic
};

class BloomFalsePositives : public ::testing::TestWithParam<bloom_case> {};

TEST_P(BloomFalsePositives, EmpiricalRateMatchesFormula) {
  const auto [bits_per, k] = GetParam();
  const std::uint64_t n = small_scale() ? 20000 : 50000;
  const std::uint64_t queries = small_scale() ? 100000 : 400000;
  contamination_options o;
  o.mode = contamination_mode::bloom;
  o.expected_ngrams = n;
  o.bits_per_ngram = bits_per;
  o.hash_functions = k;
  o.seed = 99;
  contamination_index index(o);
  neardup::seed_sequence seq(1234);
  std::vector<std::uint64_t> members(n);
  for (auto& v : members) v = seq.next();
  // Several references, so the filter sees many add_reference calls.
  for (std::size_t i = 0; i < n; i += 1000) {
    index.add_reference(std::span(members).subspan(i, std::min<std::size_t>(1000, n - i)));
  }
  index.finalize();
  for (std::uint64_t v : members) ASSERT_TRUE(index.contains(v));
  const double p = index.false_positive_rate();
  EXPECT_NEAR(p, neardup::bloom_false_positive_rate(static_cast<double>(index.bloom_bits()), static_cast<double>(n),
                                                    index.bloom_hash_functions()),
              1e-15);
  std::uint64_t fp = 0;
  for (std::uint64_t q = 0; q < queries; ++q) fp += index.contains(seq.next());  // distinct from members whp
  // Binomial(queries, p) within 5 sd, plus 3% of the mean for the formula's
  // own approximation (it treats bit positions as independent).
  const double mean = static_cast<double>(queries) * p;
  const double sd = std::sqrt(mean * (1.0 - p));
  EXPECT_NEAR(static_cast<double>(fp), mean, 5.0 * sd + 0.03 * mean)
      << "m/n=" << bits_per << " k=" << index.bloom_hash_functions() << " p=" << p;
}

INSTANTIATE_TEST_SUITE_P(Configs, BloomFalsePositives,
                         ::testing::Values(bloom_case{4.0, 0}, bloom_case{8.0, 0}, bloom_case{10.0, 7},
                                           bloom_case{10.0, 2}, bloom_case{16.0, 0}));

TEST(ContaminationBloom, TargetRateOptions) {
  const auto o = contamination_options::bloom(1000000, 0.01);
  EXPECT_EQ(o.mode, contamination_mode::bloom);
  EXPECT_NEAR(o.bits_per_ngram, 9.585, 0.001);  // -ln(0.01) / ln(2)^2
  EXPECT_EQ(o.hash_functions, 7u);
  EXPECT_NEAR(neardup::bloom_false_positive_rate(o.bits_per_ngram, 1.0, o.hash_functions), 0.01, 0.0005);
  EXPECT_THROW((void)contamination_options::bloom(10, 0.0), std::invalid_argument);
  EXPECT_THROW((void)contamination_options::bloom(10, 1.0), std::invalid_argument);
}

TEST(Contamination, RejectsBadSettingsAndMisuse) {
  contamination_options o;
  o.mode = contamination_mode::bloom;
  EXPECT_THROW(contamination_index{o}, std::invalid_argument);  // expected_ngrams = 0
  o.expected_ngrams = 10;
  o.bits_per_ngram = 0.5;
  EXPECT_THROW(contamination_index{o}, std::invalid_argument);
  o.bits_per_ngram = 8;
  o.hash_functions = 33;
  EXPECT_THROW(contamination_index{o}, std::invalid_argument);
  o.hash_functions = 0;
  o.expected_ngrams = std::uint64_t{1} << 50;
  EXPECT_THROW(contamination_index{o}, std::invalid_argument);

  contamination_index index;
  index.add_reference(std::vector<std::uint64_t>{1});
  EXPECT_THROW((void)index.query(std::vector<std::uint64_t>{1}), std::logic_error);
  EXPECT_THROW(static_cast<void>(index.contains(1)), std::logic_error);
  index.finalize();
  EXPECT_THROW(index.add_reference(std::vector<std::uint64_t>{2}), std::logic_error);
  EXPECT_TRUE(index.contains(1));
}

}  // namespace

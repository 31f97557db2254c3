#include "neardup/candidates.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string_view>
#include <vector>

#include "neardup/detail/radix_sort.hpp"
#include "test_util.hpp"

namespace {

using neardup_test::pool_of;

using neardup::bucket_list;
using neardup::doc_id;
using neardup::doc_pair;
using neardup::detail::key_doc;

using neardup_test::small_scale;

// Key generators covering the cases the sort must survive.
enum class keys_kind { random, few_distinct, all_equal, low_bits_only, high_bits_only, clustered };

std::vector<std::uint64_t> make_keys(std::size_t n, keys_kind kind, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> k(n);
  for (auto& x : k) {
    switch (kind) {
      case keys_kind::random: x = rng(); break;
      case keys_kind::few_distinct: x = (rng() % 7) * 0x9e3779b97f4a7c15ULL; break;
      case keys_kind::all_equal: x = 0xdeadbeefcafef00dULL; break;
      case keys_kind::low_bits_only: x = rng() & 0xfff; break;
      case keys_kind::high_bits_only: x = rng() & 0xfff0000000000000ULL; break;
      case keys_kind::clustered:  // long runs of equal high bits, distinct low bits
        x = ((rng() % 3) << 60) | (rng() % 100000);
        break;
    }
  }
  return k;
}

template <unsigned Bits>  // Bits == 0: the MSD variant
void check_radix_matches_stable_sort(std::size_t n, keys_kind kind, std::uint64_t seed) {
  const auto keys = make_keys(n, kind, seed);
  std::vector<key_doc> recs(n), scratch(n);
  for (std::size_t d = 0; d < n; ++d) recs[d] = {keys[d], static_cast<doc_id>(d), 0};
  auto expected = recs;
  std::stable_sort(expected.begin(), expected.end(),
                   [](const key_doc& a, const key_doc& b) { return a.key < b.key; });
  if constexpr (Bits == 0) {
    neardup::detail::msd_radix_sort_key_doc(recs, scratch);
  } else {
    neardup::detail::radix_sort_key_doc<Bits>(recs, scratch);
  }
  ASSERT_EQ(recs.size(), expected.size());
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(recs[i].key, expected[i].key) << "n=" << n << " i=" << i;
    ASSERT_EQ(recs[i].doc, expected[i].doc) << "n=" << n << " i=" << i;
  }
}

class RadixSort : public ::testing::TestWithParam<keys_kind> {};

TEST_P(RadixSort, LsdAndMsdMatchStableSort) {
  const std::size_t big = small_scale() ? 20000 : 200000;
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{64},
                              std::size_t{65}, std::size_t{1000}, big}) {
    check_radix_matches_stable_sort<11>(n, GetParam(), n + 1);
    check_radix_matches_stable_sort<16>(n, GetParam(), n + 2);
    check_radix_matches_stable_sort<8>(n, GetParam(), n + 3);
    check_radix_matches_stable_sort<0>(n, GetParam(), n + 4);
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, RadixSort,
                         ::testing::Values(keys_kind::random, keys_kind::few_distinct,
                                           keys_kind::all_equal, keys_kind::low_bits_only,
                                           keys_kind::high_bits_only, keys_kind::clustered));

TEST(RadixSort, SortUniqueU64MatchesStd) {
  for (const std::size_t n : {0, 1, 5, 1000, 50000}) {
    auto v = make_keys(n, keys_kind::low_bits_only, 9);
    auto w = v;
    neardup::detail::radix_sort_unique_u64(v);
    std::sort(w.begin(), w.end());
    w.erase(std::unique(w.begin(), w.end()), w.end());
    EXPECT_EQ(v, w);
  }
}

// Reference grouping: std::map from key to the docs holding it.
bucket_list reference_buckets(std::span<const std::uint64_t> keys,
                              std::span<const std::uint8_t> excluded) {
  std::map<std::uint64_t, std::vector<doc_id>> by_key;
  for (std::size_t d = 0; d < keys.size(); ++d) {
    if (excluded.empty() || excluded[d] == 0) by_key[keys[d]].push_back(static_cast<doc_id>(d));
  }
  bucket_list out;
  for (const auto& [k, docs] : by_key) {
    if (docs.size() < 2) continue;
    out.docs.insert(out.docs.end(), docs.begin(), docs.end());
    out.offsets.push_back(static_cast<std::uint32_t>(out.docs.size()));
  }
  return out;
}

TEST(BandGrouper, BucketsMatchReferenceGrouping) {
  neardup::band_grouper g;  // one grouper reused across calls, as in the pipeline
  bucket_list out;
  for (const keys_kind kind : {keys_kind::random, keys_kind::few_distinct, keys_kind::all_equal,
                               keys_kind::low_bits_only}) {
    for (const std::size_t n : {0, 1, 2, 3, 100, 20000}) {
      const auto keys = make_keys(n, kind, 77 + n);
      g.group(keys, out);
      const bucket_list ref = reference_buckets(keys, {});
      EXPECT_EQ(out.docs, ref.docs) << "n=" << n;
      EXPECT_EQ(out.offsets, ref.offsets) << "n=" << n;
      for (std::size_t b = 0; b < out.size(); ++b) {
        EXPECT_GE(out[b].size(), 2u);
        EXPECT_TRUE(std::is_sorted(out[b].begin(), out[b].end()));
      }
    }
  }
}

// Bands from filter_min_documents on are filtered before the sort: the
// buckets stay those of the reference for every kind of key (small integers
// included), with excluded documents, and with no repeated key at all.
TEST(BandGrouper, FilteredBandsGiveTheSameBuckets) {
  const std::size_t n = neardup::band_grouper::filter_min_documents + 123;
  std::vector<std::uint8_t> excluded(n, 0);
  for (std::size_t d = 0; d < n; d += 7) excluded[d] = 1;
  for (const keys_kind kind : {keys_kind::random, keys_kind::few_distinct, keys_kind::all_equal,
                               keys_kind::low_bits_only}) {
    auto keys = make_keys(n, kind, 91);
    if (kind == keys_kind::random) {
      for (std::size_t d = 5; d < n; d += 1000) keys[d] = keys[d - 5];  // pairs among unique keys
    }
    for (const std::size_t threads : {1, 2}) {
      neardup::band_grouper g(pool_of(threads));
      bucket_list out;
      for (const bool with_excluded : {false, true}) {
        const std::span<const std::uint8_t> ex = with_excluded ? std::span<const std::uint8_t>(excluded) : std::span<const std::uint8_t>();
        g.group(keys, ex, out);
        const bucket_list ref = reference_buckets(keys, ex);
        EXPECT_EQ(out.docs, ref.docs) << static_cast<int>(kind) << " " << threads << " " << with_excluded;
        EXPECT_EQ(out.offsets, ref.offsets) << static_cast<int>(kind) << " " << threads << " " << with_excluded;
      }
    }
  }
  std::vector<std::uint64_t> unique(n);
  for (std::size_t d = 0; d < n; ++d) unique[d] = d * 0x9E3779B97F4A7C15ULL;
  EXPECT_EQ(neardup::group_band(unique).size(), 0u);
}

// Keys in pieces (pass 1's chunks: uneven, some empty) give the buckets of
// their concatenation, filtered or not, with or without exclusions.
TEST(BandGrouper, KeysInPiecesGiveTheBucketsOfTheirConcatenation) {
  for (const std::size_t n : {std::size_t{1000}, neardup::band_grouper::filter_min_documents + 4321}) {
    auto keys = make_keys(n, keys_kind::few_distinct, 17);
    for (std::size_t d = 3; d < n; d += 97) keys[d] = keys[d - 3];
    std::vector<std::uint8_t> excluded(n, 0);
    for (std::size_t d = 0; d < n; d += 11) excluded[d] = 1;
    const std::span<const std::uint64_t> all(keys);
    const std::size_t cuts[] = {0, 0, 1, 2, n / 5, n / 5, n / 2, n - 1, n, n};
    std::vector<std::span<const std::uint64_t>> pieces;
    for (std::size_t i = 0; i + 1 < std::size(cuts); ++i) pieces.push_back(all.subspan(cuts[i], cuts[i + 1] - cuts[i]));
    for (const bool with_excluded : {false, true}) {
      const std::span<const std::uint8_t> ex =
          with_excluded ? std::span<const std::uint8_t>(excluded) : std::span<const std::uint8_t>();
      neardup::band_grouper g;
      bucket_list out;
      g.group(std::span<const std::span<const std::uint64_t>>(pieces), ex, out);
      const bucket_list ref = reference_buckets(keys, ex);
      EXPECT_GT(ref.size(), 0u);
      EXPECT_EQ(out.docs, ref.docs) << n << " " << with_excluded;
      EXPECT_EQ(out.offsets, ref.offsets) << n << " " << with_excluded;
    }
  }
}

// group_records() over what a spilled band's merge gathers: sorted runs of
// increasing documents, concatenated; small (unfiltered) and large
// (filtered) slices give the buckets of group().
TEST(BandGrouper, RecordsFromSortedRunsGiveTheSameBuckets) {
  for (const std::size_t n : {std::size_t{5000}, neardup::band_grouper::filter_min_documents + 321}) {
    std::vector<std::uint8_t> excluded(n, 0);
    for (std::size_t d = 0; d < n; d += 9) excluded[d] = 1;
    for (const keys_kind kind : {keys_kind::random, keys_kind::few_distinct, keys_kind::all_equal}) {
      auto keys = make_keys(n, kind, 17);
      if (kind == keys_kind::random) {
        for (std::size_t d = 3; d < n; d += 500) keys[d] = keys[d - 3];
      }
      std::vector<neardup::detail::key_doc> records;
      const std::size_t run = n / 3 + 1;
      for (std::size_t first = 0; first < n; first += run) {
        const std::size_t begin = records.size();
        for (std::size_t d = first; d < std::min(n, first + run); ++d) {
          if (!excluded[d]) records.push_back({keys[d], static_cast<neardup::doc_id>(d), 0});
        }
        std::sort(records.begin() + static_cast<std::ptrdiff_t>(begin), records.end(),
                  [](const auto& a, const auto& b) { return a.key != b.key ? a.key < b.key : a.doc < b.doc; });
      }
      neardup::band_grouper g;
      bucket_list out;
      g.group_records(records, out);
      const bucket_list ref = reference_buckets(keys, excluded);
      EXPECT_EQ(out.docs, ref.docs) << n << " " << static_cast<int>(kind);
      EXPECT_EQ(out.offsets, ref.offsets) << n << " " << static_cast<int>(kind);
    }
  }
}

TEST(BandGrouper, LargeBandsTakeTheMsdPathWithTheSameBuckets) {
  const std::size_t n = neardup::detail::msd_threshold + 1000;
  const auto keys = make_keys(n, keys_kind::few_distinct, 5);
  auto mixed = make_keys(n, keys_kind::random, 6);
  for (std::size_t d = 0; d < n; d += 4) mixed[d] = keys[d];  // buckets among unique keys
  const bucket_list out = neardup::group_band(mixed);
  const bucket_list ref = reference_buckets(mixed, {});
  EXPECT_EQ(out.docs, ref.docs);
  EXPECT_EQ(out.offsets, ref.offsets);
  EXPECT_EQ(out.size(), 7u);
  for (const std::size_t threads : {2, 3, 8}) {
    neardup::band_grouper g(pool_of(threads));
    bucket_list par;
    g.group(mixed, par);
    EXPECT_EQ(par.docs, ref.docs) << threads;
    EXPECT_EQ(par.offsets, ref.offsets) << threads;
  }
}

TEST_P(RadixSort, ParallelMsdIsBitIdentical) {
  const std::size_t n = small_scale() ? 70000 : 300000;
  const auto keys = make_keys(n, GetParam(), 21);
  std::vector<key_doc> one(n), scratch(n);
  for (std::size_t d = 0; d < n; ++d) one[d] = {keys[d], static_cast<doc_id>(d), 0};
  auto many = one;
  neardup::detail::msd_radix_sort_key_doc(one, scratch);
  for (const std::size_t threads : {2, 3, 4}) {
    auto par = many;
    neardup::detail::msd_radix_sort_key_doc_parallel(par, scratch, pool_of(threads));
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(par[i].key, one[i].key) << threads << " " << i;
      ASSERT_EQ(par[i].doc, one[i].doc) << threads << " " << i;
    }
  }
  EXPECT_TRUE(std::is_sorted(one.begin(), one.end(),
                             [](const key_doc& x, const key_doc& y) { return x.key < y.key; }));
}

TEST(BandGrouper, ExcludedDocumentsAreInNoBucket) {
  const std::size_t n = 5000;
  auto keys = make_keys(n, keys_kind::low_bits_only, 3);
  std::vector<std::uint8_t> excluded(n, 0);
  for (std::size_t d = 0; d < n; d += 3) {
    excluded[d] = 1;
    keys[d] = 42;  // e.g. empty documents: all the same key
  }
  const bucket_list out = neardup::group_band(keys, excluded);
  const bucket_list ref = reference_buckets(keys, excluded);
  EXPECT_EQ(out.docs, ref.docs);
  EXPECT_EQ(out.offsets, ref.offsets);
  for (const doc_id d : out.docs) EXPECT_EQ(excluded[d], 0) << d;
}

TEST(BandGrouper, AllEqualKeysGiveOneBucketOfEveryDoc) {
  const std::vector<std::uint64_t> keys(1000, 5);
  const bucket_list out = neardup::group_band(keys);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), 1000u);
  EXPECT_EQ(out.pair_count(), 1000u * 999u / 2u);
}

TEST(BandGrouper, RejectsExcludedOfWrongSize) {
  const std::vector<std::uint64_t> keys(10, 1);
  const std::vector<std::uint8_t> excluded(9, 0);
  EXPECT_THROW((void)neardup::group_band(keys, excluded), std::invalid_argument);
}

TEST(BandGrouper, ReportsItsBuffers) {
  neardup::band_grouper g;
  bucket_list out;
  const auto keys = make_keys(10000, keys_kind::random, 1);
  g.group(keys, out);
  EXPECT_GE(g.bytes_reserved(), 10000u * 32u);
  EXPECT_LE(g.bytes_reserved(), 10000u * 32u * 2u);
  g.release();
  EXPECT_EQ(g.bytes_reserved(), 0u);
}

bucket_list make_bucket_list(const std::vector<std::vector<doc_id>>& buckets) {
  bucket_list out;
  for (const auto& b : buckets) {
    out.docs.insert(out.docs.end(), b.begin(), b.end());
    out.offsets.push_back(static_cast<std::uint32_t>(out.docs.size()));
  }
  return out;
}

TEST(CandidatePairs, SmallBucketsGiveAllPairs) {
  const bucket_list bl = make_bucket_list({{1, 4, 9}, {2, 3}});
  std::vector<doc_pair> pairs;
  EXPECT_EQ(neardup::append_candidate_pairs(bl, 8, pairs), 0u);
  neardup::sort_unique_pairs(pairs);
  const std::vector<doc_pair> expected{{1, 4}, {1, 9}, {2, 3}, {4, 9}};
  EXPECT_EQ(pairs, expected);
}

TEST(CandidatePairs, CapIsASlidingWindow) {
  std::vector<doc_id> big(100);
  for (doc_id i = 0; i < 100; ++i) big[i] = 10 * i;
  const bucket_list bl = make_bucket_list({big});
  std::vector<doc_pair> pairs;
  const std::uint64_t dropped = neardup::append_candidate_pairs(bl, 3, pairs);
  // Members 0..3 pair with all predecessors (0+1+2+3), the other 96 with 3 each.
  EXPECT_EQ(pairs.size(), 6u + 96u * 3u);
  EXPECT_EQ(pairs.size() + dropped, bl.pair_count());
  for (const doc_pair& p : pairs) {
    EXPECT_LT(p.first, p.second);
    EXPECT_LE(p.second - p.first, 30u);  // at most 3 positions apart
  }
  EXPECT_THROW(neardup::append_candidate_pairs(bl, 0, pairs), std::invalid_argument);
}

TEST(CandidatePairs, SortUniqueAcrossBands) {
  std::vector<doc_pair> pairs{{5, 7}, {1, 2}, {5, 7}, {0, 0xffffffffu}, {1, 2}, {1, 3}};
  neardup::sort_unique_pairs(pairs);
  const std::vector<doc_pair> expected{{0, 0xffffffffu}, {1, 2}, {1, 3}, {5, 7}};
  EXPECT_EQ(pairs, expected);
}

TEST(CandidatePairs, UnionOverBandsEqualsBruteForce) {
  // 3 bands of keys drawn from a small alphabet: every pair sharing a key in
  // some band must come out exactly once.
  const std::size_t n = 300, bands = 3;
  std::mt19937_64 rng(11);
  std::vector<std::vector<std::uint64_t>> cols(bands, std::vector<std::uint64_t>(n));
  for (auto& c : cols) {
    for (auto& k : c) k = rng() % 150;
  }
  std::vector<doc_pair> pairs;
  for (const auto& c : cols) {
    EXPECT_EQ(neardup::append_candidate_pairs(neardup::group_band(c), 1000, pairs), 0u);
  }
  neardup::sort_unique_pairs(pairs);
  std::vector<doc_pair> brute;
  for (doc_id a = 0; a < n; ++a) {
    for (doc_id b = a + 1; b < n; ++b) {
      for (const auto& c : cols) {
        if (c[a] == c[b]) {
          brute.push_back({a, b});
          break;
        }
      }
    }
  }
  EXPECT_EQ(pairs, brute);
}

}  // namespace

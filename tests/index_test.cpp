#include "neardup/index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>
#include <string_view>
#include <vector>

#include "neardup/candidates.hpp"
#include "test_util.hpp"

namespace {

using neardup::doc_id;
using neardup::lsh_index;

using neardup_test::small_scale;

std::vector<doc_id> brute_query(const std::vector<std::vector<std::uint64_t>>& keys,
                                const std::set<doc_id>& live, std::span<const std::uint64_t> q) {
  std::vector<doc_id> out;
  for (const doc_id d : live) {
    for (std::size_t j = 0; j < q.size(); ++j) {
      if (keys[d][j] == q[j]) {
        out.push_back(d);
        break;
      }
    }
  }
  return out;
}

TEST(LshIndex, InsertQueryRemove) {
  lsh_index idx(3);
  EXPECT_EQ(idx.bands(), 3u);
  const std::vector<std::uint64_t> a{1, 2, 3}, b{1, 20, 30}, c{10, 20, 3}, d{7, 8, 9};
  idx.insert(5, a);
  idx.insert(2, b);
  idx.insert(9, c);
  EXPECT_EQ(idx.size(), 3u);
  EXPECT_TRUE(idx.contains(9));
  EXPECT_FALSE(idx.contains(1));
  EXPECT_EQ(idx.query(a), (std::vector<doc_id>{2, 5, 9}));  // sorted, unique
  EXPECT_EQ(idx.query(b), (std::vector<doc_id>{2, 5, 9}));
  EXPECT_EQ(idx.query(d), std::vector<doc_id>{});
  // Keys match per band only: key 1 in band 1 is not key 1 in band 0.
  EXPECT_EQ(idx.query(std::vector<std::uint64_t>{0, 1, 0}), std::vector<doc_id>{});
  EXPECT_TRUE(idx.remove(5));
  EXPECT_FALSE(idx.remove(5));
  EXPECT_EQ(idx.query(a), (std::vector<doc_id>{2, 9}));
  EXPECT_TRUE(idx.remove(2));
  EXPECT_EQ(idx.query(a), (std::vector<doc_id>{9}));
  EXPECT_EQ(idx.size(), 1u);
  idx.insert(5, a);  // re-insert after remove
  EXPECT_EQ(idx.query(a), (std::vector<doc_id>{5, 9}));
}

TEST(LshIndex, RejectsMisuse) {
  EXPECT_THROW(lsh_index(0), std::invalid_argument);
  lsh_index idx(2);
  const std::vector<std::uint64_t> ok{1, 2}, bad{1, 2, 3};
  EXPECT_THROW(idx.insert(0, bad), std::invalid_argument);
  EXPECT_THROW(static_cast<void>(idx.query(bad)), std::invalid_argument);
  idx.insert(0, ok);
  EXPECT_THROW(idx.insert(0, ok), std::invalid_argument);
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_EQ(idx.query(ok), std::vector<doc_id>{0});
}

TEST(LshIndex, RandomOperationsMatchBruteForce) {
  const std::size_t bands = 4, docs = small_scale() ? 800 : 3000;
  std::mt19937_64 rng(17);
  // Small key alphabet so buckets of many sizes form.
  std::vector<std::vector<std::uint64_t>> keys(docs, std::vector<std::uint64_t>(bands));
  for (auto& k : keys) {
    for (auto& x : k) x = rng() % 60;
  }
  lsh_index idx(bands);
  std::set<doc_id> live;
  std::vector<doc_id> got;
  for (std::size_t step = 0; step < 4 * docs; ++step) {
    const doc_id d = static_cast<doc_id>(rng() % docs);
    switch (rng() % 3) {
      case 0:
        if (!live.count(d)) {
          idx.insert(d, keys[d]);
          live.insert(d);
        }
        break;
      case 1:
        EXPECT_EQ(idx.remove(d), live.erase(d) == 1);
        break;
      default:
        idx.query(keys[d], got);
        ASSERT_EQ(got, brute_query(keys, live, keys[d])) << "step " << step;
    }
    ASSERT_EQ(idx.size(), live.size());
  }
}

TEST(LshIndex, ResultDoesNotDependOnInsertionOrder) {
  const std::size_t bands = 3, docs = 500;
  std::mt19937_64 rng(3);
  std::vector<std::vector<std::uint64_t>> keys(docs, std::vector<std::uint64_t>(bands));
  for (auto& k : keys) {
    for (auto& x : k) x = rng() % 40;
  }
  std::vector<doc_id> order(docs);
  for (doc_id i = 0; i < docs; ++i) order[i] = i;
  lsh_index forward(bands), shuffled(bands);
  for (const doc_id d : order) forward.insert(d, keys[d]);
  std::shuffle(order.begin(), order.end(), rng);
  for (const doc_id d : order) shuffled.insert(d, keys[d]);
  for (doc_id d = 0; d < docs; ++d) EXPECT_EQ(forward.query(keys[d]), shuffled.query(keys[d]));
}

TEST(LshIndex, AgreesWithBatchBuckets) {
  // Every pair found by the batch path (band_grouper) is found by the index.
  const std::size_t bands = 5, docs = 2000;
  std::mt19937_64 rng(8);
  std::vector<std::vector<std::uint64_t>> cols(bands, std::vector<std::uint64_t>(docs));
  for (auto& c : cols) {
    for (auto& x : c) x = rng() % 900;
  }
  lsh_index idx(bands);
  std::vector<std::uint64_t> row(bands);
  for (doc_id d = 0; d < docs; ++d) {
    for (std::size_t j = 0; j < bands; ++j) row[j] = cols[j][d];
    idx.insert(d, row);
  }
  std::vector<neardup::doc_pair> batch;
  for (const auto& c : cols) neardup::append_candidate_pairs(neardup::group_band(c), 1u << 20, batch);
  neardup::sort_unique_pairs(batch);
  std::vector<neardup::doc_pair> online;
  for (doc_id d = 0; d < docs; ++d) {
    for (std::size_t j = 0; j < bands; ++j) row[j] = cols[j][d];
    for (const doc_id e : idx.query(row)) {
      if (e > d) online.push_back({d, e});
    }
  }
  EXPECT_EQ(online, batch);
}

}  // namespace

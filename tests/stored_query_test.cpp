// pipeline/stored_query.hpp: lookups in sorted band-key runs, with and
// without fences, against a linear scan; ranking of matches.
#include "neardup/pipeline/stored_query.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "neardup/pipeline/format.hpp"

namespace {

namespace np = neardup::pipeline;

TEST(StoredQuery, FindBandKeyMatchesALinearScan) {
  std::mt19937_64 rng(3);
  for (std::size_t n : {0u, 1u, 2u, 63u, 64u, 65u, 128u, 129u, 1000u, 5000u, 12000u}) {
    // Keys 0..n/3+1, and the same spread over all 64 bits (as hashes are),
    // which the fence directory's slots split.
    const std::uint64_t distinct = n / 3 + 4;
    for (const std::uint64_t scale : {std::uint64_t{1}, UINT64_MAX / distinct}) {
      std::vector<neardup::band_entry> run(n);
      for (std::size_t i = 0; i < n; ++i) run[i] = {(rng() % (distinct - 2)) * scale, static_cast<neardup::doc_id>(i)};
      std::sort(run.begin(), run.end(), [](auto& a, auto& b) { return a.key != b.key ? a.key < b.key : a.doc < b.doc; });
      const np::stage_data_options opt;
      const std::string file = np::write_band_keys(opt, {{16, 8}, 0}, run);
      const auto payload = np::byte_view(file).subspan(np::stage_header_bytes, n * np::band_record_bytes);
      const auto fences = np::band_fences(payload, n);
      EXPECT_EQ(fences.size(), (n + np::fence_stride - 1) / np::fence_stride);
      const auto directory = np::fence_directory(fences);
      for (std::uint64_t i = 0; i < distinct; ++i) {
        for (const std::uint64_t key : {i * scale, i * scale + 1}) {  // present or not, and absent
          std::vector<neardup::doc_id> want, with, without, directed;
          for (const auto& e : run) {
            if (e.key == key) want.push_back(e.doc);
          }
          np::find_band_key(payload, n, fences, key, with);
          np::find_band_key(payload, n, {}, key, without);
          np::find_band_key(payload, n, fences, key, directed, directory);
          EXPECT_EQ(with, want) << "n=" << n << " key=" << key;
          EXPECT_EQ(without, want) << "n=" << n << " key=" << key;
          EXPECT_EQ(directed, want) << "n=" << n << " key=" << key;
        }
      }
    }
  }
}

TEST(StoredQuery, MatchBandKeysEqualsOneLookupPerKey) {
  std::mt19937_64 rng(4);
  for (std::size_t n : {0u, 1u, 65u, 1000u, 20000u}) {
    std::vector<neardup::band_entry> run(n);
    for (std::size_t i = 0; i < n; ++i) run[i] = {rng() % (n + 5), static_cast<neardup::doc_id>(i)};
    std::sort(run.begin(), run.end(), [](auto& a, auto& b) { return a.key != b.key ? a.key < b.key : a.doc < b.doc; });
    const np::stage_data_options opt;
    const std::string file = np::write_band_keys(opt, {{16, 8}, 0}, run);
    const auto payload = np::byte_view(file).subspan(np::stage_header_bytes, n * np::band_record_bytes);
    const auto fences = np::band_fences(payload, n);
    for (std::size_t batch : {1u, 7u, 300u, 5000u}) {  // sparse and dense batches of keys
      std::vector<std::uint64_t> keys(batch);
      for (auto& k : keys) k = rng() % (n + 10);
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      std::vector<std::pair<std::uint32_t, neardup::doc_id>> want, got, got_without;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        std::vector<neardup::doc_id> docs;
        np::find_band_key(payload, n, fences, keys[i], docs);
        for (auto d : docs) want.emplace_back(static_cast<std::uint32_t>(i), d);
      }
      np::match_band_keys(payload, n, fences, keys, got);
      np::match_band_keys(payload, n, {}, keys, got_without);
      EXPECT_EQ(got, want) << "n=" << n << " batch=" << batch;
      EXPECT_EQ(got_without, want) << "n=" << n << " batch=" << batch;
    }
  }
}

TEST(StoredQuery, RankKeepsTheMostSimilarAboveTheThreshold) {
  std::vector<np::scored_doc> m = {{5, 0.9}, {2, 0.7}, {9, 0.95}, {1, 0.9}, {4, 0.85}};
  np::rank_matches(m, 0.8, 3);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].doc, 9u);
  EXPECT_EQ(m[1].doc, 1u);  // ties: smaller doc first
  EXPECT_EQ(m[2].doc, 5u);
  std::vector<np::scored_doc> all = {{1, 0.5}, {2, 0.6}};
  np::rank_matches(all, 0.55, 0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].doc, 2u);
}

}  // namespace

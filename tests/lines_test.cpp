#include "neardup/lines.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using neardup::line_count;
using neardup::line_counter;
using neardup::line_hash;

using neardup_test::small_scale;

TEST(LineNormalize, TrimsCollapsesAndLowercasesAsciiOnly) {
  EXPECT_EQ(neardup::normalize_line("  Hello \t  World \r\n"), "hello world");
  EXPECT_EQ(neardup::normalize_line("A\vB\fC"), "a b c");
  EXPECT_EQ(neardup::normalize_line("ÄÖÜ Straße"), "ÄÖÜ straße");  // non-ASCII bytes unchanged
  EXPECT_EQ(neardup::normalize_line("no\xc2\xa0" "break"), "no\xc2\xa0" "break");  // U+00A0 is not ASCII space
  EXPECT_EQ(neardup::normalize_line(std::string_view("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(neardup::normalize_line(""), "");
  EXPECT_EQ(neardup::normalize_line(" \t\r\n"), "");
}

TEST(LineNormalize, BlankLines) {
  EXPECT_TRUE(neardup::is_blank_line(""));
  EXPECT_TRUE(neardup::is_blank_line(" \t\r\n\v\f"));
  EXPECT_FALSE(neardup::is_blank_line(" . "));
  EXPECT_FALSE(neardup::is_blank_line("\xc2\xa0"));  // NBSP is content, by the documented rule
}

TEST(LineHash, EqualForVariantsOfOneLineDifferentOtherwise) {
  const std::uint64_t s = 99;
  EXPECT_EQ(line_hash("Accept all Cookies", s), line_hash("  accept   ALL cookies\r\n", s));
  EXPECT_NE(line_hash("accept all cookies", s), line_hash("accept all cookie", s));
  EXPECT_NE(line_hash("accept all cookies", s), line_hash("accept all cookies", s + 1));
  EXPECT_NE(line_hash("ab", s), line_hash("a b", s));
}

TEST(LineHash, IsTheDocumentedFunctionForShortAndLongLines) {
  std::mt19937_64 rng(5);
  for (std::size_t len : {0u, 1u, 100u, 511u, 512u, 513u, 2000u}) {
    std::string line;
    for (std::size_t i = 0; i < len; ++i) line.push_back("aB \t\r\nxZ\xc3"[rng() % 9]);
    const std::uint64_t want =
        neardup::hash64(neardup::normalize_line(line), neardup::derive_seed(7, neardup::line_hash_stream));
    EXPECT_EQ(line_hash(line, 7), want) << len;
  }
}

// Frozen: line hashes are compared across runs and machines.
TEST(Golden, LineHashMatchesFrozenVectors) {
  EXPECT_EQ(line_hash("Accept all cookies", neardup::default_seed), 0x072420506f36b734ULL);
  EXPECT_EQ(line_hash("", neardup::default_seed), 0xe97d5deb65866388ULL);
  EXPECT_EQ(line_hash("Copyright (c) 2024  Example Inc.", 1), 0x38fade92f4e2f915ULL);
}

TEST(LinePartition, CoversRangeAndIsBalanced) {
  EXPECT_EQ(neardup::line_partition(0, 7), 0u);
  EXPECT_EQ(neardup::line_partition(~0ULL, 7), 6u);
  EXPECT_EQ(neardup::line_partition(12345, 1), 0u);
  const std::size_t parts = 16, n = 160000;
  std::vector<std::size_t> hist(parts, 0);
  for (std::uint64_t i = 0; i < n; ++i) ++hist[neardup::line_partition(line_hash(std::to_string(i), 3), parts)];
  // Binomial(n, 1/16): sd = sqrt(n p (1-p)) ~ 97; allow 5 sd.
  const double mean = static_cast<double>(n) / parts;
  const double sd = std::sqrt(static_cast<double>(n) * (1.0 / parts) * (1.0 - 1.0 / parts));
  for (std::size_t c : hist) EXPECT_LT(std::abs(static_cast<double>(c) - mean), 5 * sd);
}

TEST(LinePartition, ChoosesPartitionsFromBudget) {
  const std::uint64_t b = line_counter::bytes_per_distinct_line;
  EXPECT_EQ(neardup::choose_line_partitions(0, 1000), 1u);
  EXPECT_EQ(neardup::choose_line_partitions(100, 100 * b), 1u);
  EXPECT_EQ(neardup::choose_line_partitions(101, 100 * b), 2u);
  EXPECT_EQ(neardup::choose_line_partitions(2'000'000'000, 16ULL << 30), 5u);  // 80 GB / 16 GiB
  EXPECT_THROW((void)neardup::choose_line_partitions(10, b - 1), std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_line_partitions(10, 0), std::invalid_argument);
}

// Lines with Zipf-like repeat counts; returns their hashes in corpus order.
std::vector<std::uint64_t> make_line_stream(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::uint64_t> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = static_cast<std::uint64_t>(std::exp(unit(rng) * std::log(static_cast<double>(n))));
    out.push_back(line_hash("line number " + std::to_string(id), seed));
  }
  return out;
}

TEST(LineCounter, PartitionedCountsEqualOneHashMap) {
  const std::size_t n = small_scale() ? 20000 : 200000;
  const auto stream = make_line_stream(n, 11);
  std::unordered_map<std::uint64_t, std::uint32_t> want;
  for (auto h : stream) ++want[h];
  for (std::size_t parts : {1u, 3u, 7u, 64u}) {
    std::vector<line_counter> counters;
    for (std::size_t p = 0; p < parts; ++p) counters.emplace_back(parts, p);
    for (auto& c : counters) {
      for (auto h : stream) c.count(h);
    }
    std::size_t distinct = 0;
    std::uint64_t total = 0;
    for (const auto& c : counters) {
      distinct += c.distinct();
      total += c.total();
    }
    EXPECT_EQ(distinct, want.size());
    EXPECT_EQ(total, n);
    for (const auto& [h, cnt] : want) {
      std::size_t owners = 0;
      for (const auto& c : counters) {
        if (!c.owns(h)) {
          EXPECT_EQ(c.count_of(h), 0u);
          EXPECT_FALSE(c.over(h, 0));
          continue;
        }
        ++owners;
        ASSERT_EQ(c.count_of(h), cnt);
        EXPECT_EQ(c.over(h, 6), cnt > 6);
      }
      ASSERT_EQ(owners, 1u);
    }
    // Per-partition top lists combine into the global top list.
    std::vector<line_count> combined;
    for (const auto& c : counters) {
      const auto t = c.top(20);
      combined.insert(combined.end(), t.begin(), t.end());
    }
    neardup::keep_top(combined, 20);
    std::vector<line_count> all;
    for (const auto& [h, cnt] : want) all.push_back({h, cnt});
    std::sort(all.begin(), all.end(), [](const line_count& a, const line_count& b) {
      return a.count != b.count ? a.count > b.count : a.hash < b.hash;
    });
    all.resize(20);
    EXPECT_EQ(combined, all);
  }
}

TEST(LineCounter, MergeOfPerThreadCountersEqualsOneCounter) {
  const auto stream = make_line_stream(small_scale() ? 10000 : 50000, 12);
  line_counter whole(4, 1), a(4, 1), b(4, 1);
  for (std::size_t i = 0; i < stream.size(); ++i) {
    whole.count(stream[i]);
    (i % 2 ? a : b).count(stream[i]);
  }
  a.merge(b);
  EXPECT_EQ(a.distinct(), whole.distinct());
  EXPECT_EQ(a.total(), whole.total());
  EXPECT_EQ(a.top(50), whole.top(50));
  for (auto h : stream) EXPECT_EQ(a.count_of(h), whole.count_of(h));
  line_counter other_partition(4, 2);
  EXPECT_THROW(a.merge(other_partition), std::invalid_argument);
}

TEST(LineCounter, RepeatedListsExactlyTheLinesOverTheLimitInTopOrder) {
  const auto stream = make_line_stream(small_scale() ? 10000 : 50000, 12);
  line_counter c;
  for (auto h : stream) c.count(h);
  for (std::uint32_t limit : {0u, 1u, 6u, 1000u}) {
    std::vector<line_count> want = c.top(c.distinct());
    want.erase(std::remove_if(want.begin(), want.end(), [&](const line_count& l) { return l.count <= limit; }),
               want.end());
    EXPECT_EQ(c.repeated(limit), want) << "limit " << limit;
  }
}

TEST(LineCounter, CountReportsOwnershipAndRejectsBadPartition) {
  line_counter c(2, 0);
  const std::uint64_t low = 1, high = ~0ULL;
  EXPECT_TRUE(c.count(low));
  EXPECT_FALSE(c.count(high));
  EXPECT_EQ(c.count_of(low), 1u);
  EXPECT_EQ(c.count_of(high), 0u);
  EXPECT_EQ(c.total(), 1u);
  EXPECT_THROW(line_counter(0, 0), std::invalid_argument);
  EXPECT_THROW(line_counter(3, 3), std::invalid_argument);
}

TEST(LineCounter, MemoryStaysWithinThePerLineBudget) {
  line_counter c;
  const std::size_t n = small_scale() ? 30000 : 300000;
  for (std::uint64_t i = 0; i < n; ++i) {
    c.count(neardup::mix64(i));
    const std::size_t d = i + 1;
    if (d >= 1000) {
      ASSERT_LE(c.memory_bytes(), d * line_counter::bytes_per_distinct_line) << d;
    }
  }
  EXPECT_EQ(c.distinct(), n);
}

TEST(LineSampler, KeepsSmallestTrimmedCutSampleIndependentOfOrder) {
  const std::uint64_t s = 3;
  const std::vector<std::string> variants{"  Accept ALL cookies  ", "accept all cookies\r\n", "ACCEPT all Cookies"};
  const std::uint64_t h = line_hash(variants[0], s);
  const std::vector<line_count> wanted{{h, 3}, {line_hash("never offered", s), 1}};
  std::vector<std::string> order = variants;
  std::sort(order.begin(), order.end());
  std::vector<std::string> first_result;
  do {
    neardup::line_sampler sampler(wanted);
    for (const auto& v : order) sampler.offer(line_hash(v, s), v);
    sampler.offer(line_hash("unrelated", s), "unrelated");
    const auto got = sampler.samples();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].hash, h);
    EXPECT_EQ(got[0].count, 3u);
    EXPECT_EQ(got[0].sample, "ACCEPT all Cookies");
    EXPECT_EQ(got[1].sample, "");
  } while (std::next_permutation(order.begin(), order.end()));

  neardup::line_sampler a(wanted), b(wanted);
  a.offer(h, variants[1]);
  b.offer(h, variants[2]);
  a.merge(b);
  EXPECT_EQ(a.samples()[0].sample, "ACCEPT all Cookies");
  EXPECT_TRUE(a.wants(h));
  EXPECT_FALSE(a.wants(h + 1));
}

TEST(LineSampler, CutsAtUtf8Boundary) {
  const std::string line = "ab\xc3\xa4\xc3\xa4";  // "abää"
  const std::vector<line_count> wanted{{line_hash(line, 1), 9}};
  neardup::line_sampler sampler(wanted, 3);  // a 3-byte cut would split the first 'ä'
  sampler.offer(wanted[0].hash, line);
  EXPECT_EQ(sampler.samples()[0].sample, "ab");
  neardup::line_sampler wide(wanted, 4);
  wide.offer(wanted[0].hash, line);
  EXPECT_EQ(wide.samples()[0].sample, "ab\xc3\xa4");
}

}  // namespace

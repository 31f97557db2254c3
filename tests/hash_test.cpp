#include "neardup/hash.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

// Frozen: these values are part of neardup's on-disk and cross-machine promise.
TEST(Golden, Hash64MatchesFrozenVectors) {
  EXPECT_EQ(neardup::hash64("", 0), 0x2d06800538d394c2ULL);  // XXH3_64("") per xxHash spec
  EXPECT_EQ(neardup::hash64("neardup", neardup::default_seed), 0xa1c346eae953463aULL);
}

TEST(Golden, Hash128AndMixMatchFrozenVectors) {
  const neardup::hash128 f = neardup::hash128_of("abc", 3, 7);
  EXPECT_EQ(f.low, 0x48ff56f569e39912ULL);
  EXPECT_EQ(f.high, 0x8a3c1b87ceb230eeULL);
  EXPECT_EQ(neardup::mix64(1), 0x910a2dec89025cc1ULL);
  neardup::seed_sequence s(42);
  EXPECT_EQ(s.next(), 0xbdd732262feb6e95ULL);
}

// hash64_stream: hash64() of the concatenation, however the bytes are cut.
TEST(Hash, StreamEqualsOneShotForAnyCut) {
  std::string bytes;
  for (int i = 0; i < 3000; ++i) bytes += static_cast<char>((i * 7919) % 251);
  for (const std::uint64_t seed : {std::uint64_t{0}, neardup::default_seed}) {
    for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{64}, std::size_t{240}, std::size_t{1000}}) {
      neardup::hash64_stream h(seed);
      for (std::size_t at = 0; at < bytes.size(); at += piece) h.update(std::string_view(bytes).substr(at, piece));
      EXPECT_EQ(h.digest(), neardup::hash64(bytes, seed)) << seed << " " << piece;
    }
    neardup::hash64_stream empty(seed);
    EXPECT_EQ(empty.digest(), neardup::hash64("", seed));
    neardup::hash64_stream moved(std::move(empty));
    moved.update("neardup");
    EXPECT_EQ(moved.digest(), neardup::hash64("neardup", seed));
  }
}

TEST(Hash, DerivedSeedsDifferPerStream) {
  EXPECT_NE(neardup::derive_seed(1, 0), neardup::derive_seed(1, 1));
  EXPECT_NE(neardup::derive_seed(1, 0), neardup::derive_seed(2, 0));
}

}  // namespace

#include "neardup/hash.hpp"

#include <gtest/gtest.h>

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

TEST(Hash, DerivedSeedsDifferPerStream) {
  EXPECT_NE(neardup::derive_seed(1, 0), neardup::derive_seed(1, 1));
  EXPECT_NE(neardup::derive_seed(1, 0), neardup::derive_seed(2, 0));
}

}  // namespace

// Shingle, exact Jaccard and fingerprint tests: the n-gram conventions, the
// hash definition, the bucket sort behind shingle sets, Jaccard against a
// brute-force set computation, and frozen golden vectors.
#include "neardup/detail/intersect_kernels.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using neardup::hash128;
using neardup::shingle_options;
using neardup::shingler;
using neardup::tokenize_options;
using u64s = std::vector<std::uint64_t>;

using neardup_test::golden_inputs;
using neardup_test::small_scale;

u64s token_hashes(std::string_view text, const tokenize_options& o = {}, std::uint64_t seed = neardup::default_seed) {
  u64s h;
  neardup::tokenizer(o, seed).hash_tokens(text, h);
  return h;
}

// The definition, spelled out independently of hash.hpp's code:
// mix64(L ^ s) + H, where H:L = sum of token[j] * c_j mod 2^128 and
// c_j = 2^(56+j) + (mix64("ngrams01" + j) >> 12) for j < 8, else mix64(...) | 1.
std::uint64_t shingle_by_definition(const u64s& tokens, std::size_t from, std::size_t count, std::uint64_t seed) {
  __extension__ typedef unsigned __int128 u128;
  u128 acc = 0;
  for (std::size_t j = 0; j < count; ++j) {
    const std::uint64_t r = neardup::mix64(0x6e6772616d733031ULL + j);
    const std::uint64_t c = j < 8 ? (std::uint64_t{1} << (56 + j)) + (r >> 12) : (r | 1);
    acc += static_cast<u128>(tokens[from + j]) * c;
  }
  return neardup::mix64(static_cast<std::uint64_t>(acc) ^ neardup::shingle_seed(seed)) +
         static_cast<std::uint64_t>(acc >> 64);
}

// The collision bound of hash_ngram rests on superincreasing multipliers for
// positions 0..7 whose sum stays below 2^64.
TEST(Ngrams, MultipliersAreSuperincreasingBelow2To64) {
  __extension__ typedef unsigned __int128 u128;
  u128 sum = 0;
  for (std::size_t j = 0; j < 8; ++j) {
    const std::uint64_t c = neardup::ngram_multiplier(j);
    EXPECT_GT(static_cast<u128>(c), sum) << j;
    sum += c;
  }
  EXPECT_LT(sum, static_cast<u128>(1) << 64);
  for (std::size_t j = 8; j < 64; ++j) EXPECT_EQ(neardup::ngram_multiplier(j) & 1, 1u) << j;
}

// Order matters, repeats matter, and lengths matter. (A token hash of exactly
// 0 would add nothing to the sum: a T-gram then equals the (T+1)-gram ending
// in it; real token hashes are 0 with probability 2^-64.)
TEST(Ngrams, HashIsOrderAndLengthSensitive) {
  const u64s t = {11, 22, 33, 44, 55, 66, 77};
  const u64s swapped = {22, 11, 33, 44, 55, 66, 77};
  const std::uint64_t s = neardup::shingle_seed(5);
  EXPECT_NE(neardup::hash_ngram(t.data(), 5, s), neardup::hash_ngram(swapped.data(), 5, s));
  EXPECT_NE(neardup::hash_ngram(t.data(), 5, s), neardup::hash_ngram(t.data(), 6, s));
  EXPECT_NE(neardup::hash_ngram(t.data(), 5, s), neardup::hash_ngram(t.data(), 5, s + 1));
  const u64s aab = {7, 7, 9}, abb = {7, 9, 9}, bba = {9, 9, 7};
  EXPECT_NE(neardup::hash_ngram(aab.data(), 3, s), neardup::hash_ngram(abb.data(), 3, s));
  EXPECT_NE(neardup::hash_ngram(aab.data(), 3, s), neardup::hash_ngram(bba.data(), 3, s));
}

// All 3-grams over a 24-token alphabet (13824 sequences, many with repeated
// tokens): no two collide, with the fixed-n path and the generic path.
TEST(Ngrams, NoCollisionsAmongAllShortSequences) {
  u64s alphabet = token_hashes("a b c d e f g h i j k l m n o p q r s t u v w x");
  ASSERT_EQ(alphabet.size(), 24u);
  std::vector<std::uint64_t> all;
  const std::uint64_t s = neardup::shingle_seed(neardup::default_seed);
  for (std::size_t a = 0; a < 24; ++a)
    for (std::size_t b = 0; b < 24; ++b)
      for (std::size_t c = 0; c < 24; ++c) {
        const u64s seq = {alphabet[a], alphabet[b], alphabet[c]};
        u64s out;
        neardup::ngram_hashes(seq, 3, neardup::default_seed, out);
        ASSERT_EQ(out.size(), 1u);
        ASSERT_EQ(out[0], neardup::hash_ngram(seq.data(), 3, s));
        all.push_back(out[0]);
      }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST(Ngrams, CountsFollowTheConventions) {
  const u64s t = token_hashes("a b c d e f g");  // 7 tokens
  u64s out;
  neardup::ngram_hashes(t, 5, 1, out);
  EXPECT_EQ(out.size(), 3u);  // T - n + 1
  neardup::ngram_hashes(t, 7, 1, out);
  EXPECT_EQ(out.size(), 1u);
  neardup::ngram_hashes(t, 9, 1, out);  // fewer tokens than n: one shingle of all tokens
  ASSERT_EQ(out.size(), 1u);
  u64s seven;
  neardup::ngram_hashes(t, 7, 1, seven);
  EXPECT_EQ(out, seven);
  neardup::ngram_hashes(u64s{}, 5, 1, out);  // no tokens: no shingles
  EXPECT_TRUE(out.empty());
  EXPECT_THROW(neardup::ngram_hashes(t, 0, 1, out), std::invalid_argument);
  EXPECT_THROW(neardup::ngram_hashes(t, neardup::max_ngram + 1, 1, out), std::invalid_argument);
}

TEST(Ngrams, HashFollowsTheDefinition) {
  const u64s t = token_hashes("one two three four five six seven eight nine ten eleven");
  for (std::size_t n = 1; n <= 11; ++n) {  // covers the fixed-n kernels and the generic loop
    u64s out;
    neardup::ngram_hashes(t, n, 77, out);
    ASSERT_EQ(out.size(), t.size() - n + 1);
    for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], shingle_by_definition(t, i, n, 77)) << n;
  }
  u64s a, b;
  neardup::ngram_hashes(t, 3, 77, a);
  neardup::ngram_hashes(t, 3, 78, b);
  EXPECT_NE(a, b);
}

TEST(Ngrams, ShingleHashDependsOnlyOnTokenStrings) {
  // Same word sequence, different case / spacing / punctuation / scripts around it.
  shingler sh({.tokens = {}, .n = 3, .seed = 5});
  u64s a, b;
  sh.ngram_hashes("Alpha beta, GAMMA delta", a);
  sh.ngram_hashes("\xe2\x80\x94 alpha   BETA gamma!! delta\xff", b);
  EXPECT_EQ(a, b);
  sh.ngram_hashes("alpha beta gamma epsilon", b);
  EXPECT_EQ(a[0], b[0]);
  EXPECT_NE(a[1], b[1]);
}

TEST(ShingleSet, SortedUniqueAndEqualToStdSort) {
  std::mt19937_64 rng(11);
  neardup::detail::sort_scratch scratch;
  const int rounds = small_scale() ? 100 : 600;
  for (int r = 0; r < rounds; ++r) {
    const std::size_t n = rng() % 3000;
    u64s v(n);
    for (auto& x : v) x = rng();
    for (std::size_t k = 0; k < n / 3; ++k) v[rng() % n] = v[rng() % n];  // duplicates
    if (r % 10 == 0)  // crafted: many distinct values in one bucket (top bits equal)
      for (auto& x : v) x >>= 20;
    u64s expected = v;
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    neardup::detail::sort_unique(v, scratch);
    ASSERT_EQ(v, expected) << "round " << r;
  }
}

TEST(ShingleSet, ShinglerMatchesFreeFunctions) {
  shingle_options so;
  so.n = 4;
  so.seed = 99;
  shingler sh(so);
  const std::string text = "It was the best of times, it was the worst of times, it was the age of wisdom";
  u64s set, ngrams, expected;
  sh.shingles(text, set);
  const u64s t = token_hashes(text, {}, 99);
  EXPECT_EQ(std::vector<std::uint64_t>(sh.token_hashes().begin(), sh.token_hashes().end()), t);
  neardup::shingle_set(t, 4, 99, expected);
  EXPECT_EQ(set, expected);
  EXPECT_TRUE(std::is_sorted(set.begin(), set.end()));
  EXPECT_EQ(std::adjacent_find(set.begin(), set.end()), set.end());
  sh.ngram_hashes(text, ngrams);
  EXPECT_EQ(ngrams.size(), t.size() - 3);
  EXPECT_LT(set.size(), ngrams.size());  // "it was the" repeats
  EXPECT_THROW(shingler({.tokens = {}, .n = 0, .seed = 1}), std::invalid_argument);
}

TEST(Jaccard, SmallCasesAndConventions) {
  EXPECT_EQ(neardup::exact_jaccard(u64s{}, u64s{}), 0.0);  // empty documents are never duplicates
  EXPECT_EQ(neardup::exact_jaccard(u64s{1, 2}, u64s{}), 0.0);
  EXPECT_EQ(neardup::exact_jaccard(u64s{1, 2, 3}, u64s{1, 2, 3}), 1.0);
  EXPECT_DOUBLE_EQ(neardup::exact_jaccard(u64s{1, 2, 3}, u64s{2, 3, 4, 5}), 2.0 / 5.0);
  EXPECT_DOUBLE_EQ(neardup::exact_jaccard(u64s{5}, u64s{1, 2, 3, 4, 5}), 1.0 / 5.0);
}

TEST(Jaccard, MatchesBruteForceSets) {
  std::mt19937_64 rng(3);
  for (int r = 0; r < 300; ++r) {
    std::set<std::uint64_t> a, b;
    const std::uint64_t universe = 1 + rng() % 200;
    for (std::uint64_t k = rng() % 150; k > 0; --k) a.insert(rng() % universe);
    for (std::uint64_t k = rng() % 150; k > 0; --k) b.insert(rng() % universe);
    std::size_t common = 0;
    for (const auto x : a) common += b.count(x);
    const std::size_t unite = a.size() + b.size() - common;
    const double expected = unite == 0 ? 0.0 : static_cast<double>(common) / static_cast<double>(unite);
    EXPECT_DOUBLE_EQ(neardup::exact_jaccard(u64s(a.begin(), a.end()), u64s(b.begin(), b.end())), expected);
  }
}

TEST(Jaccard, HeaderExampleHolds) {
  shingler sh({.tokens = {}, .n = 5, .seed = neardup::default_seed});
  u64s a, b;
  sh.shingles("one two three four five six seven", a);
  sh.shingles("One two three, four five six EIGHT", b);
  EXPECT_DOUBLE_EQ(neardup::exact_jaccard(a, b), 0.5);
}

// Sorted random sets of sizes na, nb sharing `shared` values, drawn uniform
// like shingle hashes.
std::pair<u64s, u64s> random_pair(std::mt19937_64& rng, std::size_t na, std::size_t nb, std::size_t shared) {
  u64s a, b;
  for (std::size_t i = 0; i < shared; ++i) {
    const std::uint64_t x = rng();
    a.push_back(x);
    b.push_back(x);
  }
  while (a.size() < na) a.push_back(rng());
  while (b.size() < nb) b.push_back(rng());
  neardup::make_set(a);
  neardup::make_set(b);
  return {a, b};
}

TEST(CountShared, EveryKernelMatchesTheMerge) {
  std::mt19937_64 rng(11);
  std::vector<std::pair<u64s, u64s>> cases;
  // Small values make dense, interleaved sets with runs of equal block ends.
  for (int t = 0; t < 3000; ++t) {
    const std::uint64_t range = 1 + rng() % 200;
    u64s a(rng() % 70), b(rng() % 70);
    for (auto& x : a) x = rng() % range;
    for (auto& x : b) x = rng() % range;
    neardup::make_set(a);
    neardup::make_set(b);
    cases.emplace_back(a, b);
  }
  for (int t = 0; t < 200; ++t) {
    const std::size_t na = rng() % 3000, nb = rng() % 3000;
    cases.push_back(random_pair(rng, na, nb, rng() % (std::min(na, nb) + 1)));
  }
  u64s all(1000);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i * 3;
  cases.emplace_back(all, all);
  cases.emplace_back(all, u64s(all.begin() + 1, all.end()));
  u64s odd, even;
  for (std::uint64_t i = 0; i < 500; ++i) (i % 2 ? odd : even).push_back(i);
  cases.emplace_back(odd, even);
  cases.emplace_back(u64s{~std::uint64_t{0}}, u64s{0, ~std::uint64_t{0}});
  for (const auto& [a, b] : cases) {
    std::vector<std::uint64_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    ASSERT_EQ(neardup::count_shared(a, b), both.size());
    for (auto k : neardup::supported_kernels()) {
      ASSERT_EQ(neardup::count_shared(a, b, k), both.size()) << neardup::name(k);
      ASSERT_EQ(neardup::count_shared(b, a, k), both.size()) << neardup::name(k);
    }
  }
}

// A merge with limits stops early only when the limits decide the answer,
// so every kernel decides each pair as the full count does.
TEST(CountShared, EarlyStopsDecideAsTheFullCountOnEveryKernel) {
  std::mt19937_64 rng(14);
  for (int t = 0; t < 3000; ++t) {
    const std::size_t na = rng() % 400, nb = rng() % 400;
    const auto [a, b] = random_pair(rng, na, nb, rng() % (std::min(na, nb) + 1));
    const std::size_t full = neardup::count_shared(a, b, neardup::sig_kernel::scalar);
    const std::size_t need = full == 0 ? rng() % 3 : full - 2 + rng() % 5;  // around the true count
    for (auto k : neardup::supported_kernels()) {
      neardup::detail::merge_task task{a.data(), a.size(), b.data(), b.size(), need, need, 0, 0, 0, 0, 0, false};
      if (k == neardup::sig_kernel::avx512) neardup::detail::merge_blocks_avx512(task);
      if (k == neardup::sig_kernel::avx2) neardup::detail::merge_blocks_avx2(task);
      neardup::detail::merge_scalar(task);
      ASSERT_LE(task.common, full);
      ASSERT_EQ(task.common >= need, full >= need) << neardup::name(k) << " need " << need << " of " << full;
      if (task.stopped) {
        ASSERT_TRUE(task.common >= need || full < need) << neardup::name(k);  // stopped only when decided
      } else {
        ASSERT_EQ(task.common, full) << neardup::name(k);
      }
    }
  }
}

TEST(JaccardAtLeast, ExactModeEqualsTheComparison) {
  std::mt19937_64 rng(12);
  for (int t = 0; t < 4000; ++t) {
    const std::size_t na = rng() % (t % 4 == 0 ? 5000 : 300), nb = rng() % (t % 4 == 0 ? 5000 : 300);
    const auto [a, b] = random_pair(rng, na, nb, rng() % (std::min(na, nb) + 1));
    const double j = neardup::exact_jaccard(a, b);
    for (double threshold : {0.01, 0.3, 0.5, 0.8, 0.95, 1.0, j}) {
      ASSERT_EQ(neardup::jaccard_at_least(a, b, threshold), j >= threshold)
          << na << " " << nb << " J=" << j << " T=" << threshold;
    }
  }
  EXPECT_FALSE(neardup::jaccard_at_least(u64s{}, u64s{}, 0.5));  // empty documents are never duplicates
  EXPECT_TRUE(neardup::jaccard_at_least(u64s{1, 2}, u64s{1, 2}, 1.0));
  EXPECT_FALSE(neardup::jaccard_at_least(u64s{1, 2}, u64s{1, 3}, 0.34));
  EXPECT_TRUE(neardup::jaccard_at_least(u64s{1, 2}, u64s{1, 3}, 1.0 / 3.0));
}

// With sampled rejection, true is always exact, and pairs at or above the
// threshold are never lost (max_miss 1e-9 per test: no miss expected here).
TEST(JaccardAtLeast, SampledRejectionKeepsEveryPairAtTheThreshold) {
  std::mt19937_64 rng(13);
  int below = 0;
  for (int t = 0; t < 3000; ++t) {
    const std::size_t n = 50 + rng() % 8000;
    const double target = 0.5 + 0.5 * static_cast<double>(rng() % 1000) / 1000.0;
    const auto shared = static_cast<std::size_t>(2.0 * target * static_cast<double>(n) / (1.0 + target));
    const auto [a, b] = random_pair(rng, n, n + rng() % 20, shared);
    const double j = neardup::exact_jaccard(a, b);
    for (double threshold : {0.5, 0.7, 0.8, 0.9, 1.0}) {
      const bool sampled = neardup::jaccard_at_least(a, b, threshold, 1e-9);
      if (j >= threshold) {
        ASSERT_TRUE(sampled) << n << " J=" << j << " T=" << threshold;
      } else {
        ASSERT_FALSE(sampled) << n << " J=" << j << " T=" << threshold;  // true answers are exact
        ++below;
      }
    }
  }
  EXPECT_GT(below, 1000);  // the case the sampling is for was exercised
}

TEST(Fingerprint, IgnoresWhatTheOptionsNormalize) {
  EXPECT_EQ(neardup::fingerprint("Hello,   World!"), neardup::fingerprint("hello world"));
  EXPECT_EQ(neardup::fingerprint("Hello\r\nWorld\xff"), neardup::fingerprint("HELLO -- world"));
  EXPECT_NE(neardup::fingerprint("hello world"), neardup::fingerprint("world hello"));
  EXPECT_NE(neardup::fingerprint("hello world"), neardup::fingerprint("hello world", {}, 2));
  tokenize_options strip;
  strip.strip_punctuation = true;
  EXPECT_NE(neardup::fingerprint("don't"), neardup::fingerprint("dont"));
  EXPECT_EQ(neardup::fingerprint("don't", strip), neardup::fingerprint("dont", strip));
  const auto code = tokenize_options::for_code();
  EXPECT_NE(neardup::fingerprint("Foo(x)", code), neardup::fingerprint("foo(x)", code));
  EXPECT_EQ(neardup::fingerprint("Foo( x )", code), neardup::fingerprint("Foo(x)", code));
}

TEST(Fingerprint, EmptyDocumentsShareOneValueAndSpanOverloadAgrees) {
  EXPECT_EQ(neardup::fingerprint(""), neardup::empty_fingerprint());
  EXPECT_EQ(neardup::fingerprint("  ...!! \xff"), neardup::empty_fingerprint());
  EXPECT_NE(neardup::fingerprint("a"), neardup::empty_fingerprint());
  const std::string text = "The same text, fingerprinted two ways.";
  shingler sh({.tokens = {}, .n = 5, .seed = 8});
  u64s s;
  sh.shingles(text, s);
  EXPECT_EQ(neardup::fingerprint(sh.token_hashes(), 8), neardup::fingerprint(text, {}, 8));
  // By definition: 128-bit XXH3 of the little-endian token hashes.
  const u64s t = token_hashes(text, {}, 8);
  std::string bytes;
  for (const auto h : t)
    for (int b = 0; b < 8; ++b) bytes += static_cast<char>((h >> (8 * b)) & 0xFF);
  EXPECT_EQ(neardup::fingerprint(t, 8), neardup::hash128_of(bytes.data(), bytes.size(), neardup::fingerprint_seed(8)));
}

// ---------------------------------------------------------------- golden vectors

// Generated once by neardup, reviewed (repeated n-grams repeat, "école" and
// "ÉCOLE" give equal 1-grams, short inputs give one shingle), then frozen.
// Input 4 (Han and Katakana) changed once, deliberately: one word token per
// code point of scripts written without spaces (tokenize.hpp).
TEST(Golden, NgramHashesMatchFrozenVectors) {
  const std::vector<std::size_t> ns = {1, 2, 5};
  const std::vector<std::vector<u64s>> expected = {
      // n = 1
      {
        {0xe97a8f8f1694ff1fULL, 0x0b8ff7cad3c4f724ULL},
        {0x013594e194d487f9ULL, 0xdd26b5685d020271ULL},
        {0x2fd27072cfa515eaULL, 0x2fd27072cfa515eaULL},
        {0xa485372a16a2ac2aULL, 0x639276fd53dbf904ULL},
        {0x42e82040f6a39743ULL, 0x594f2e366889d2c0ULL, 0x233ea71a14be542aULL, 0x9ad1f6e2bcd7eacdULL, 0xe6f5eb640c1124c8ULL, 0xe90fb553bf0db423ULL, 0xa3831b0d107293a8ULL},
        {0x640d175a21a465eeULL, 0xc5202491fdb0c96cULL, 0x04abcd05b84c3c9fULL, 0x49dfb77766d24bcbULL, 0x6b628a2c3caf0e4bULL, 0x0441c3c52db52829ULL},
        {0x4f8c6b310e6ed6f7ULL, 0x346ed539919c0874ULL},
        {0x7be83f0c01cee4ceULL, 0xd9b4da3fc3e7af55ULL},
        {0x06127251233e6d6dULL, 0x8c93d88098d19187ULL},
        {0xc6f0ca87235337e1ULL, 0x3758e2f5deca9722ULL},
        {0x013e939240b234e0ULL, 0x39639205ddb6d0ffULL},
        {},
        {},
        {0x3c546fde58ce181dULL, 0xdd9d915557ee09fbULL, 0xcbf9b5308ac72f4fULL, 0x2ab6bc9a82918679ULL, 0x80f0ff56288cd507ULL, 0xa29005a715952273ULL, 0xeaee7ceb586c294eULL, 0xa8b7ef97a3415a19ULL},
        {0xef619054c5d81b00ULL, 0x5e6904b979c8adfcULL, 0xd60cd71cba80dcb6ULL, 0x12f4104e9bf2f068ULL},
        {0x501403d92f0664baULL, 0x4354f77e1ca4dd3fULL},
        {0x30c0526ea00af528ULL, 0x03a87ac6531f7367ULL, 0x9e3850aaead70308ULL, 0x6d604d968e69d165ULL, 0xcf5af36ce1078f72ULL, 0x0b020c9b900c81ceULL, 0xc9848799acdb77b6ULL},
        {0x5dc7df56e4c293daULL, 0xca5c0626181f1053ULL, 0x8e27d1ff4cbbf206ULL, 0x8f8adfed446f96c9ULL, 0x3ec909fa29637d8cULL, 0x6361d4e235b08e77ULL, 0x5dc7df56e4c293daULL, 0x055ad5828fb4cfe2ULL, 0xfe52f3235781709dULL, 0x5ab0626e81760945ULL, 0x5dc7df56e4c293daULL, 0xca5c0626181f1053ULL, 0x8e27d1ff4cbbf206ULL, 0x8f8adfed446f96c9ULL, 0xc352cf4e30797b85ULL},
      },
      // n = 2
      {
        {0xd74f5375186d09b3ULL},
        {0x5945fe8742313bbcULL},
        {0x744af2f0a098c324ULL},
        {0xf017d881111ab7b4ULL},
        {0xec95728273054a1aULL, 0xd1ceb97c0fd5b8a9ULL, 0xc69466c4cbecc39cULL, 0x16d0d73e76a5b847ULL, 0x87a5561078fe59eeULL, 0x8b859d34b629fcdfULL},
        {0x46bbf5c3daf2d92bULL, 0x88452d98da6102e9ULL, 0xcfa92554e66cd99fULL, 0xf83ba3162c2430c4ULL, 0xbc0d82a29555e9fdULL},
        {0x42b4acb81e8cbf2dULL},
        {0x5651f1d3852ca9e5ULL},
        {0xa85e4982648fdabaULL},
        {0x0502b4b1233b14d7ULL},
        {0xb5692568bd8b6b1aULL},
        {},
        {},
        {0x2382f6dac1056101ULL, 0xc87cef5eda18bce8ULL, 0xe92e5e568d569111ULL, 0x85413101d841d95cULL, 0xc91a558018f0ab42ULL, 0x73d7c6ecbf63acbaULL, 0xd4c3f22f94d167ebULL},
        {0x51aa921b8124ab57ULL, 0xf0e4c972fb10fcc2ULL, 0x0d40d84362ccc9c1ULL},
        {0xd46284015e49b418ULL},
        {0x47c1733dad064eeaULL, 0x548c613d2c80935fULL, 0xa2b90989b86b56c3ULL, 0x303cebfb71edf237ULL, 0x38511dee07a4e6fcULL, 0x42d8190a1b63833dULL},
        {0xc0df94ed5f2ede80ULL, 0xd1f2ba22c1aaa21aULL, 0x87b8ddcc61432638ULL, 0xdb56eaefbf6b1fa7ULL, 0x7175ccbc4bf5c7d9ULL, 0x4121808da4365d01ULL, 0xa5bb6f03a39084a5ULL, 0x83d415624fc6ff64ULL, 0xce5026b7ac809e60ULL, 0x2510e7f45cdd23caULL, 0xc0df94ed5f2ede80ULL, 0xd1f2ba22c1aaa21aULL, 0x87b8ddcc61432638ULL, 0xef96302f2fd3c6d7ULL},
      },
      // n = 5
      {
        {0xd74f5375186d09b3ULL},
        {0x5945fe8742313bbcULL},
        {0x744af2f0a098c324ULL},
        {0xf017d881111ab7b4ULL},
        {0xe051b62350f73826ULL, 0x96912300e6f5e5fcULL, 0x567f736c25daf096ULL},
        {0x15f932296e55fa15ULL, 0x38d7563131a3515dULL},
        {0x42b4acb81e8cbf2dULL},
        {0x5651f1d3852ca9e5ULL},
        {0xa85e4982648fdabaULL},
        {0x0502b4b1233b14d7ULL},
        {0xb5692568bd8b6b1aULL},
        {},
        {},
        {0x05a61adc1b35e6edULL, 0x3275afc5f948f33dULL, 0x66852fbf4b9fe0cbULL, 0x472774cabfe344d5ULL},
        {0x63234b0d20768b85ULL},
        {0xd46284015e49b418ULL},
        {0x4eb242b37d4c43e5ULL, 0x8a79cc89efc7a8d4ULL, 0x6a2806f772fbeedbULL},
        {0xda6c3f0d2a6a7f70ULL, 0x779a0bfb314262b0ULL, 0xa0d9255a050a936bULL, 0xeb132a18ec3410d8ULL, 0xfb75b1564a8355f4ULL, 0x360e5d5c0108e487ULL, 0xe5df3badde55bb6bULL, 0x062890ed1aff47dcULL, 0x1defcc29c213070dULL, 0xb404d7b9e6df4bd1ULL, 0x71dde585dd58370bULL},
      },
  };
  ASSERT_EQ(expected.size(), ns.size());
  for (std::size_t k = 0; k < ns.size(); ++k) {
    shingler sh({.tokens = {}, .n = ns[k], .seed = neardup::default_seed});
    ASSERT_EQ(expected[k].size(), golden_inputs.size());
    u64s out;
    for (std::size_t i = 0; i < golden_inputs.size(); ++i) {
      sh.ngram_hashes(golden_inputs[i], out);
      EXPECT_EQ(out, expected[k][i]) << "n=" << ns[k] << " input " << i;
    }
  }
}

// Fingerprints for word, character and code tokens (default options and seed).
TEST(Golden, FingerprintsMatchFrozenVectors) {
  const std::vector<std::vector<hash128>> expected = {
      {{0x1954073737f5af18ULL, 0x4d0a16ebb255d95aULL}, {0x91b857ccfbee0394ULL, 0x1eb4f12e5fb78402ULL}, {0x627db29611cea8f2ULL, 0x33146078b2ef2f4dULL}},
      {{0x46eb20e553be1520ULL, 0x03321694eeb1689dULL}, {0xaefaac7a9ad335d7ULL, 0x0206fb7a3cd8d701ULL}, {0x46eb20e553be1520ULL, 0x03321694eeb1689dULL}},
      {{0x26435dd84a09ae70ULL, 0xfe46dcab5a01f2b7ULL}, {0x57e9f3c6ad3885a5ULL, 0x1d3304f9e8198507ULL}, {0x21df482e9cd21c69ULL, 0x4adeab687333e1e9ULL}},
      {{0xd8e67f0dba95f5f7ULL, 0x2bd0be50b4751aa5ULL}, {0x09048b5692d94a6dULL, 0x4cfc84830023d021ULL}, {0xdd6ab46341635b7cULL, 0x0ae80f5b15c70a6cULL}},
      {{0x0e4e49aa78676320ULL, 0xb941f65a9a5f8822ULL}, {0x772aefd41b3ea90fULL, 0x9829e51b6fcc3217ULL}, {0xea93a9adbca9b7b8ULL, 0xeee41712b7637380ULL}},
      {{0xe81e26e560e2189eULL, 0xffd02e321ce40057ULL}, {0x5ec1109e207f8b28ULL, 0x3ef1cd016a5e426dULL}, {0x054ce188f935343bULL, 0x9d2fd1e4f55eaa10ULL}},
      {{0x0726c50122030ea7ULL, 0x0665704880e6c8c4ULL}, {0x794e92234c912e9dULL, 0x4acc681dd52f3f1cULL}, {0x11050fc0077bb045ULL, 0x6796901884b86fd4ULL}},
      {{0x404fb0de41c47a31ULL, 0xcaa3d46385e19072ULL}, {0xfb94e8e99b9c141aULL, 0xcec847cbd1de00f6ULL}, {0x404fb0de41c47a31ULL, 0xcaa3d46385e19072ULL}},
      {{0xc97f60a5b399c72cULL, 0xe7f725db6577e157ULL}, {0x2e736ae6359ffc9dULL, 0x2bff5e18810d9ebaULL}, {0xc97f60a5b399c72cULL, 0xe7f725db6577e157ULL}},
      {{0xfaaee0f75f71684dULL, 0xdeaf751a664f6e07ULL}, {0x23472a3ba399ab00ULL, 0x0d84d103ab92abc9ULL}, {0xaf2a0b4b4a90715eULL, 0x03478f87649bcdb9ULL}},
      {{0xc39271aa0c5ed0cdULL, 0xf8812c91a11b9f04ULL}, {0x1c9544180283883dULL, 0x308f700795f5535bULL}, {0xc39271aa0c5ed0cdULL, 0xf8812c91a11b9f04ULL}},
      {{0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}},
      {{0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}},
      {{0x1d2df564f6b40b1eULL, 0xff7300327533101bULL}, {0xf953b0d30541731aULL, 0xb937a6a803aeb592ULL}, {0x9a93f54b0b7a5f8aULL, 0x3631cfc932bebfe3ULL}},
      {{0x4d3d5a69d71122f5ULL, 0xff02921ad6b5efd2ULL}, {0x85e3f7229014cc63ULL, 0xdb41a600473a2209ULL}, {0x56718c4fe8f0a79dULL, 0x5b8faf50d98d01bbULL}},
      {{0xc6c8a48cae8bfc29ULL, 0x40f5918989fb9c37ULL}, {0xab891c2cadf2efe5ULL, 0x4a1bf35676781d99ULL}, {0xc6c8a48cae8bfc29ULL, 0x40f5918989fb9c37ULL}},
      {{0x3940b72097dc642cULL, 0x1d660652a7e76e5dULL}, {0x88e33ae2a5c82b10ULL, 0xdb6cfecbde4851f9ULL}, {0x3163654e10cd06f8ULL, 0x06715a9560240015ULL}},
      {{0xdd7e4f84f96c834eULL, 0x605ab2da607fc95aULL}, {0xbe73cff0adc81211ULL, 0xf6796af28b7f629bULL}, {0xdd7e4f84f96c834eULL, 0x605ab2da607fc95aULL}},
  };
  const std::vector<tokenize_options> options = {tokenize_options::for_words(), tokenize_options::for_characters(),
                                                 tokenize_options::for_code()};
  ASSERT_EQ(expected.size(), golden_inputs.size());
  for (std::size_t i = 0; i < golden_inputs.size(); ++i)
    for (std::size_t k = 0; k < options.size(); ++k) {
      const hash128 f = neardup::fingerprint(golden_inputs[i], options[k]);
      EXPECT_EQ(f.low, expected[i][k].low) << "input " << i << " kind " << k;
      EXPECT_EQ(f.high, expected[i][k].high) << "input " << i << " kind " << k;
    }
}

}  // namespace

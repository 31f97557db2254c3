// Shingle, exact Jaccard and fingerprint tests: the n-gram conventions, the
// hash definition, the bucket sort behind shingle sets, Jaccard against a
// brute-force set computation, and frozen golden vectors.
#include "neardup/fingerprint.hpp"
#include "neardup/shingle.hpp"
#include "neardup/tokenize.hpp"

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

bool small_scale() {
  const char* s = std::getenv("NEARDUP_TEST_SCALE");
  return s != nullptr && std::string_view(s) == "small";
}

u64s token_hashes(std::string_view text, const tokenize_options& o = {}, std::uint64_t seed = neardup::default_seed) {
  u64s h;
  neardup::tokenizer(o, seed).hash_tokens(text, h);
  return h;
}

// The definition, spelled out: hash64 of the n token hashes as little-endian bytes.
std::uint64_t shingle_by_definition(const u64s& tokens, std::size_t from, std::size_t count, std::uint64_t seed) {
  std::string bytes;
  for (std::size_t k = from; k < from + count; ++k)
    for (int b = 0; b < 8; ++b) bytes += static_cast<char>((tokens[k] >> (8 * b)) & 0xFF);
  return neardup::hash64(bytes, neardup::shingle_seed(seed));
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

TEST(Ngrams, HashIsSeededHash64OfLittleEndianTokenHashes) {
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
  EXPECT_EQ(sh.token_hashes(), t);
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

// Same list as tokenize_test.cpp.
const std::vector<std::string> golden_inputs = {
  "Hello, World!",
  "na\xc3\xafve caf\xc3\xa9",
  "e\xcc\x81" "cole E\xcc\x81" "COLE",
  "\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91 \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
  "\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc 2024\xe5\xb9\xb4",
  "x_1 foo_bar __init__ 42 3.14",
  "I \xe2\x9d\xa4 emoji \xf0\x9f\x8e\x89\xf0\x9f\x8e\x89!",
  "bad\xff" "byte",
  "lone\xed\xa0\x80surrogate",
  "\xef\xbb\xbf" "BOM start",
  "line1\r\nline2\r\n",
  "",
  "  \t\n ",
  "if (x->y <<= 0x1F) { return a::b; } // Done",
  "\xc7\x85ungla \xc4\xb0stanbul KELVIN \xe2\x84\xaa",
  "\xd9\xa1\xd9\xa2\xd9\xa3 abc\xd9\xa3",
  "Don't stop-believing, it's 1999!",
  "the quick brown fox jumps over the lazy dog and the quick brown fox sleeps",
};

// Generated once by neardup, reviewed (repeated n-grams repeat, "école" and
// "ÉCOLE" give equal 1-grams, short inputs give one shingle), then frozen.
TEST(Golden, NgramHashesMatchFrozenVectors) {
  const std::vector<std::size_t> ns = {1, 2, 5};
  const std::vector<std::vector<u64s>> expected = {
      // n = 1
      {
        {0xc0b7de8c9c7cd67fULL, 0xe801f69e081053c8ULL},
        {0xa8b1e6d47eff9d43ULL, 0xe44b43b8d01ac3bfULL},
        {0x152d09d63827f99dULL, 0x152d09d63827f99dULL},
        {0x674d1c950660fc0aULL, 0x339ebb81a9e65e66ULL},
        {0xcff35c0bca8ce9e4ULL, 0x7c2aba6d257b1984ULL},
        {0xda30159fba4c67c7ULL, 0x1afe75034184cbccULL, 0xbfb59bac9104dcddULL, 0x3dc3801e7692294cULL, 0xcebc931702ce9588ULL, 0x28dc4f3b3304a97dULL},
        {0xc8f6733089fcaafeULL, 0x94e043392edb4231ULL},
        {0x29dd27031f19d50bULL, 0x9092271dbfef7213ULL},
        {0x24c0404e93e279a9ULL, 0xbca69a04e8dba6b7ULL},
        {0xe70148300eab07ccULL, 0xa19f3c02cf1479d1ULL},
        {0xf7494feb7612aaf4ULL, 0x74d0fb30e2f2db99ULL},
        {},
        {},
        {0xea1929747d50b8c9ULL, 0x9046fad4256a4af7ULL, 0xe456566a60113339ULL, 0xa27adb11b5ab95dfULL, 0x6e5eb6ec0aeaf85fULL, 0xa430d4c652fa23e5ULL, 0xb31e88d73134effdULL, 0xfce191c52951db6cULL},
        {0xfeea69698cd65ad6ULL, 0x7a88891d6945ce8fULL, 0xf77816d2cf5c8542ULL, 0xcdc69eb9dcaaea4dULL},
        {0xab5dc8247509a206ULL, 0x23fc67fbaf03954bULL},
        {0x44019052c7c37998ULL, 0xdaecb20575ef218dULL, 0x0e019c606a2bfc82ULL, 0xfebf515fbf119c39ULL, 0xf3a8e49646a065dbULL, 0x020b70c4d32508ffULL, 0x3df7cb686c3813eaULL},
        {0xc7c45aa35cd46136ULL, 0xc699c11ceb7ee108ULL, 0x2e67bba8dd2a69bdULL, 0x4f14a66d6c2e4ae1ULL, 0x1d89cade33597445ULL, 0xb6486506543cc6ecULL, 0xc7c45aa35cd46136ULL, 0x959f402565523fccULL, 0x92c4664eb3319d28ULL, 0x34b28da571e320d1ULL, 0xc7c45aa35cd46136ULL, 0xc699c11ceb7ee108ULL, 0x2e67bba8dd2a69bdULL, 0x4f14a66d6c2e4ae1ULL, 0x1a004c1ce5fac063ULL},
      },
      // n = 2
      {
        {0xb40753e800893187ULL},
        {0x1501bc81b87629c7ULL},
        {0xf0afe4fb31602106ULL},
        {0x9bb082aae6c37e99ULL},
        {0xb01a47c96ae0ea8cULL},
        {0xd36156596ef6bd41ULL, 0x6d1d316df35fec3cULL, 0x5634badaef5f375bULL, 0x95e5162049b0ccceULL, 0x78e1f9ff08da0d0fULL},
        {0x0b4dd7896ffea776ULL},
        {0x6188a43c1f1ef799ULL},
        {0x407b4b43b10d480bULL},
        {0x68629616effd4285ULL},
        {0x5f6f730b9070d20fULL},
        {},
        {},
        {0xb2bebdb2af73160eULL, 0x12c31a0fe7b4f644ULL, 0x199e3701292580b0ULL, 0x6c3422e65d9efe0bULL, 0x0822cd5a84518511ULL, 0xbecbba7ee11e1281ULL, 0x719156ed0c853d1fULL},
        {0x2decf58e0be3f3faULL, 0xe8235b74a2090753ULL, 0x5a5d6e52755b478fULL},
        {0x4b80d1cd5fc5bf56ULL},
        {0xd45ecfc2ca1e4f80ULL, 0x7bdd12d9e8e00fa6ULL, 0x2fa7ed0f2bbde08bULL, 0x608d4282ffc67d40ULL, 0x50662d156bda334cULL, 0x1ffd6cda495335b8ULL},
        {0x2c0e0eef254cb9fdULL, 0x435d384076ee7e47ULL, 0xfacdaa6c275958b6ULL, 0x620613212a7e4cddULL, 0x6ecddc4f62556db8ULL, 0xd116ee20f52e1af3ULL, 0x9d26bd4abefea8c0ULL, 0xd0e2334860480e96ULL, 0x3654359bd8b95fd4ULL, 0xbcdbd947e8636393ULL, 0x2c0e0eef254cb9fdULL, 0x435d384076ee7e47ULL, 0xfacdaa6c275958b6ULL, 0xc9e688c79d3c93e2ULL},
      },
      // n = 5
      {
        {0xb40753e800893187ULL},
        {0x1501bc81b87629c7ULL},
        {0xf0afe4fb31602106ULL},
        {0x9bb082aae6c37e99ULL},
        {0xb01a47c96ae0ea8cULL},
        {0xc23b81ce0eba2820ULL, 0x92e40dcb48639a2eULL},
        {0x0b4dd7896ffea776ULL},
        {0x6188a43c1f1ef799ULL},
        {0x407b4b43b10d480bULL},
        {0x68629616effd4285ULL},
        {0x5f6f730b9070d20fULL},
        {},
        {},
        {0x6c284d6d2387bfa9ULL, 0x409c1c3e852181f6ULL, 0xd06c319092a875b4ULL, 0x9aa278f4cec68bc6ULL},
        {0x60f41bed09bd4dedULL},
        {0x4b80d1cd5fc5bf56ULL},
        {0xfb3833e4f8445022ULL, 0xfe0f046934959a34ULL, 0x732c1b573c31c2d5ULL},
        {0xd81a597852051e1dULL, 0x0ddbde21783a4fa5ULL, 0x47c5fa0ba0d30eb5ULL, 0x1e774bee0fac9a40ULL, 0x67aec0111430c1a1ULL, 0x5956eff09a5bd70bULL, 0xddf14bd6cfeff0f0ULL, 0x74ceeeacbbefeb35ULL, 0x5c9319d00b56c925ULL, 0xec86e06e63b4b37cULL, 0x404d721ba9c68dd5ULL},
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
      {{0x226a6904f9dd690aULL, 0xf06d6a8c50052b00ULL}, {0x37647fa353a7ea4bULL, 0xa42f78fe5272f42cULL}, {0x9306c972283cf1abULL, 0xf9a293ab3841692aULL}},
      {{0x49169015e452cbcaULL, 0x13ad3e681f22efbaULL}, {0x3cceae436d524823ULL, 0x42ff84e9dadf69e5ULL}, {0x49169015e452cbcaULL, 0x13ad3e681f22efbaULL}},
      {{0x7fd0354d694138e5ULL, 0xfcf42922c8aabc91ULL}, {0x7268e9a34612bcb9ULL, 0x1f9883e73666597bULL}, {0xcacf78924a6fe690ULL, 0x6ff48a2fc92caad4ULL}},
      {{0x3c1d36c04565f535ULL, 0x2149d3ec68f62344ULL}, {0x6e67e2a9d41ded41ULL, 0xb197dd1fb879baa3ULL}, {0xadf5727ea006eb83ULL, 0x9d20aab03b2ea9e4ULL}},
      {{0x748f016fa302eb07ULL, 0x8eab6dd2f7e4b608ULL}, {0x8231f62d2b358c47ULL, 0x4c7db4fe7b17d0adULL}, {0x73f4267d92483035ULL, 0x93757478785b2092ULL}},
      {{0x8d36c0980bd9358fULL, 0xbd53ffeb55331123ULL}, {0x268fd54cb50fcaddULL, 0x8d501c773cbd4831ULL}, {0x71ab166ced213bbdULL, 0x8556af8b86978426ULL}},
      {{0x7a598f9b9d22f895ULL, 0x0d3c15030ed9edeeULL}, {0x9b5e997c87dc801aULL, 0xb0148bd7d7941a26ULL}, {0xeda35521c0c89b06ULL, 0xb7a7f6b319d5241fULL}},
      {{0x5decd203c6c87e74ULL, 0x3fb7b8940a114427ULL}, {0x323036ca613e7b2bULL, 0x233ac16f8bb1037eULL}, {0x5decd203c6c87e74ULL, 0x3fb7b8940a114427ULL}},
      {{0x31d0a40f0a818ccaULL, 0xc9ac6e7fec351727ULL}, {0x3e2488f3bc224dd6ULL, 0x60b78134e503e7acULL}, {0x31d0a40f0a818ccaULL, 0xc9ac6e7fec351727ULL}},
      {{0x273c299bc1094b6cULL, 0x755008bfcb04a31cULL}, {0x232f71de940b4790ULL, 0xc0b00bd0f568b35bULL}, {0x6fc473cca68a4051ULL, 0x5e23865a37996f3bULL}},
      {{0xf5f03aa73a569324ULL, 0x0dc714f7b74bc5baULL}, {0xa5693747c87a22ffULL, 0x4043d6e7a88befd1ULL}, {0xf5f03aa73a569324ULL, 0x0dc714f7b74bc5baULL}},
      {{0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}},
      {{0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}, {0x0e01bc9f69cd26afULL, 0x8891d53779198d95ULL}},
      {{0x1f064c26721ff0c4ULL, 0xf079bf5dab524d23ULL}, {0x263334c17a1e87cbULL, 0xdf653ba4a60b05d8ULL}, {0x2c7120bdefcec42bULL, 0x9ed79427a7a625a1ULL}},
      {{0xd508d5a2e30e641fULL, 0x7ff926caba870f99ULL}, {0xe11b35c0beaf409bULL, 0x81cf7f21caf49485ULL}, {0x4c0caf0d7c935868ULL, 0x05861e62b1c72177ULL}},
      {{0x1a22cd222f28cebbULL, 0xd929d51386edfe64ULL}, {0x171a208313d3f693ULL, 0x22cbd2502e558d07ULL}, {0x1a22cd222f28cebbULL, 0xd929d51386edfe64ULL}},
      {{0xda8c3988f7cbe60aULL, 0x81f673691bbdd0baULL}, {0xe957e7a4d1151e7fULL, 0x202607845a2d1ac1ULL}, {0xe4ff0e363333bbceULL, 0x82dce139c3fe3819ULL}},
      {{0x8ddea82c3bb06695ULL, 0x9dfe3173ad1edaebULL}, {0xea7480363cd44f0dULL, 0x6488932608fbd781ULL}, {0x8ddea82c3bb06695ULL, 0x9dfe3173ad1edaebULL}},
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

// Enum spellings (enum_names.hpp): one table per enum, and name/parse/
// spellings agree for every enum that the CLI, stats.json or messages spell.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "neardup/contamination.hpp"
#include "neardup/enum_names.hpp"
#include "neardup/pipeline/options.hpp"
#include "neardup/io/input.hpp"
#include "neardup/io/output.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"

namespace {

template <class E>
class EnumNames : public ::testing::Test {};

using named_enums = ::testing::Types<neardup::token_kind, neardup::minhash_scheme, neardup::sig_kernel,
                                     neardup::contamination_mode, neardup::pipeline::verify_mode,
                                     neardup::pipeline::keep_policy, neardup::io::output_compression,
                                     neardup::io::record_status>;
TYPED_TEST_SUITE(EnumNames, named_enums);

// Every enumerator is in the table (the enums are dense from 0), once, with a
// distinct non-empty lower-case spelling, and name and parse invert each other.
TYPED_TEST(EnumNames, NameAndParseRoundTripForEveryValue) {
  using E = TypeParam;
  const auto table = neardup::names<E>();
  std::set<std::string> seen;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const E value = static_cast<E>(i);
    const std::string_view name = neardup::name(value);
    ASSERT_FALSE(name.empty()) << "value " << i << " has no spelling";
    for (const char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << name;
    EXPECT_TRUE(seen.insert(std::string(name)).second) << "spelled twice: " << name;
    EXPECT_EQ(neardup::parse<E>(name), value) << name;
  }
  for (const auto& row : table) EXPECT_EQ(neardup::name(neardup::parse<E>(row.name).value()), row.name);
  // One past the last value is not spelled; unknown, empty or differently
  // cased text does not parse.
  EXPECT_EQ(neardup::name(static_cast<E>(table.size())), "");
  EXPECT_EQ(neardup::parse<E>(""), std::nullopt);
  EXPECT_EQ(neardup::parse<E>("no such value"), std::nullopt);
  std::string upper(table[0].name);
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  EXPECT_EQ(neardup::parse<E>(upper), std::nullopt);
}

TYPED_TEST(EnumNames, SpellingsListEveryNameInTableOrder) {
  using E = TypeParam;
  std::string want;
  for (const auto& row : neardup::names<E>()) {
    if (!want.empty()) want += '|';
    want += row.name;
  }
  EXPECT_EQ(neardup::spellings<E>(), want);
  EXPECT_EQ(neardup::spellings<E>(", ").find('|'), std::string::npos);
}

// The spellings users type and read: the CLI's option values, stats.json and
// NEARDUP_KERNEL. Changing one is a user-visible change.
TEST(EnumNames, FrozenSpellings) {
  EXPECT_EQ(neardup::spellings<neardup::token_kind>(), "word|char|code");
  EXPECT_EQ(neardup::spellings<neardup::minhash_scheme>(), "oph|classic|superminhash");
  EXPECT_EQ(neardup::name(neardup::minhash_scheme::one_permutation), "oph");
  EXPECT_EQ(neardup::parse<neardup::minhash_scheme>("one_permutation"), std::nullopt);
  EXPECT_EQ(neardup::spellings<neardup::sig_kernel>(), "automatic|scalar|avx2|avx512");
  EXPECT_EQ(neardup::spellings<neardup::contamination_mode>(), "exact|bloom");
  EXPECT_EQ(neardup::spellings<neardup::pipeline::verify_mode>(), "none|estimate|exact");
  EXPECT_EQ(neardup::spellings<neardup::pipeline::keep_policy>(), "first|longest");
  EXPECT_EQ(neardup::spellings<neardup::io::output_compression>(), "none|zstd");
  EXPECT_EQ(neardup::spellings<neardup::io::record_status>(),
            "ok|blank|malformed_json|not_object|missing_text|text_not_string");
}

TEST(EnumNames, UsableAtCompileTime) {
  static_assert(neardup::name(neardup::token_kind::character) == "char");
  static_assert(neardup::parse<neardup::pipeline::keep_policy>("longest") == neardup::pipeline::keep_policy::longest);
  static_assert(!neardup::parse<neardup::pipeline::keep_policy>("shortest").has_value());
  SUCCEED();
}

TEST(EnumNames, TokenizeOptionsForKindMatchesTheNamedDefaults) {
  using neardup::token_kind;
  using neardup::tokenize_options;
  EXPECT_EQ(tokenize_options::for_kind(token_kind::word).kind, token_kind::word);
  EXPECT_EQ(tokenize_options::for_kind(token_kind::character).kind, token_kind::character);
  const tokenize_options code = tokenize_options::for_kind(token_kind::code);
  EXPECT_EQ(code.kind, token_kind::code);
  EXPECT_EQ(code.lowercase, tokenize_options::for_code().lowercase);
  EXPECT_FALSE(code.lowercase);
}

}  // namespace

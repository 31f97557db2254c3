// neardup/enum_names.hpp — one spelling per enum value, shared by the CLI,
// stats.json and bindings.
//
// Each enum of the public API declares its spellings once, beside its type, as
// a function `enum_names(E)` found by argument-dependent lookup that returns a
// std::array<enum_name<E>, N>. The templates below turn that table into the
// three things every user needs, so no caller writes its own switch:
//
//   neardup::name(neardup::minhash_scheme::one_permutation)      // "oph"
//   neardup::parse<neardup::minhash_scheme>("superminhash")      // minhash_scheme::superminhash
//   neardup::parse<neardup::minhash_scheme>("one_permutation")   // std::nullopt
//   neardup::spellings<neardup::io::keep_policy>()               // "first|longest"
//
// Guarantees: name(parse<E>(s)) == s for every spelling s of the table, and
// parse<E>(name(e)) == e for every enumerator e (tests/enum_names_test.cpp
// checks both for every named enum). Spellings are lower case, stable across
// versions, and are what `neardup COMMAND --help` lists.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace neardup {

// One row of an enum's spelling table.
template <class E>
struct enum_name {
  E value;
  std::string_view name;
};

// An enum with a spelling table: `enum_names(E{})` is found by ADL.
template <class E>
concept named_enum = std::is_enum_v<E> && requires { enum_names(E{}); };

// Every spelling of E, in declaration order.
template <named_enum E>
constexpr auto names() noexcept {
  return enum_names(E{});
}

// The spelling of `value`; "" for a value outside the table (a cast integer).
template <named_enum E>
constexpr std::string_view name(E value) noexcept {
  for (const auto& row : enum_names(E{})) {
    if (row.value == value) return row.name;
  }
  return {};
}

// The value spelled `text` (exact, case-sensitive match), or nullopt.
template <named_enum E>
constexpr std::optional<E> parse(std::string_view text) noexcept {
  for (const auto& row : enum_names(E{})) {
    if (row.name == text) return row.value;
  }
  return std::nullopt;
}

// The accepted spellings joined by `separator`, for help and error messages:
// spellings<token_kind>() == "word|char|code".
template <named_enum E>
std::string spellings(std::string_view separator = "|") {
  std::string out;
  for (const auto& row : enum_names(E{})) {
    if (!out.empty()) out += separator;
    out += row.name;
  }
  return out;
}

}  // namespace neardup

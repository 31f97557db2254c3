// neardup/detail/tokenize_reference.hpp — the straightforward tokenizer that
// defines what neardup::tokenizer must output.
//
// It decodes with utf8proc_iterate (an independent UTF-8 decoder), calls
// utf8proc once per code point, and derives whitespace from general categories
// (Z* plus U+0009..U+000D, U+0085) instead of the fast path's hard-coded list.
// Slow by design; used by tests, the fuzzer and as the benchmark baseline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/tokenize.hpp"

namespace neardup::detail {

// Multi-character operators of token_kind::code, longest first. A position
// that matches none of them yields a one-character operator.
inline constexpr std::string_view code_operators[] = {
    ">>>=", "<<=", ">>=", "...", "->*", "<=>", "===", "!==", "**=", "//=", ">>>", "&&=", "||=",
    "\?\?=", "::",  "->",  "++",  "--",  "<<",  ">>",  "<=",  ">=",  "==",  "!=",  "&&",  "||",
    "+=",  "-=",  "*=",  "/=",  "%=",  "&=",  "|=",  "^=",  "=>",  "**",  "//",  ".*",  "##",
    ":=",  "?.",  "\?\?",  "/*",  "*/",  "<-",  "@="};

std::vector<std::string> reference_tokenize(std::string_view text, const tokenize_options& options);

// hash_token(token, token_seed(seed)) of each reference token.
std::vector<std::uint64_t> reference_hash_tokens(std::string_view text, const tokenize_options& options,
                                                 std::uint64_t seed);

}  // namespace neardup::detail

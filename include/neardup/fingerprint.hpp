// neardup/fingerprint.hpp — normalized whole-document fingerprints for exact
// duplicate detection.
//
// The fingerprint is a 128-bit XXH3 of the document's token-hash sequence (as
// 8-byte little-endian values), seeded with fingerprint_seed(seed). Two
// documents get the same fingerprint exactly when they have the same token
// sequence under the tokenize options (up to a ~2^-128 collision chance):
// with the defaults, documents that differ only in case, whitespace,
// punctuation or invalid bytes collide on purpose.
//
//   neardup::hash128 a = neardup::fingerprint("Hello,   World!");
//   neardup::hash128 b = neardup::fingerprint("hello world");
//   // a == b
//
//   // In a pipeline, reuse the tokens the shingler already computed:
//   sh.shingles(text, shingles);
//   neardup::hash128 f = neardup::fingerprint(sh.token_hashes(), sh.options().seed);
//
// Stable: a pure function of (token strings, seed), frozen by golden vectors.
// Note: every document without tokens (empty, only punctuation, ...) has the
// same fingerprint, empty_fingerprint(seed); callers that must not group those
// should check for it (shingle sets of such documents are empty instead).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/shingle.hpp"
#include "neardup/tokenize.hpp"

namespace neardup {

// Stream constant for derive_seed(): fingerprints use fingerprint_seed(seed).
inline constexpr std::uint64_t fingerprint_stream = 0x66696e6765723031ULL;  // "finger01"
[[nodiscard]] constexpr std::uint64_t fingerprint_seed(std::uint64_t seed) noexcept {
  return derive_seed(seed, fingerprint_stream);
}

// REQUIRES: token_hashes come from a tokenizer constructed with the same seed.
[[nodiscard]] inline hash128 fingerprint(std::span<const std::uint64_t> token_hashes, std::uint64_t seed = default_seed) {
  std::vector<std::uint64_t> scratch;
  const std::uint64_t* le = detail::as_little_endian(token_hashes, scratch);
  return hash128_of(le, token_hashes.size() * 8, fingerprint_seed(seed));
}

// The fingerprint shared by all documents that have no tokens.
[[nodiscard]] inline hash128 empty_fingerprint(std::uint64_t seed = default_seed) {
  return fingerprint(std::span<const std::uint64_t>{}, seed);
}

// Convenience: tokenizes `text` (allocates; use a tokenizer + the span overload in bulk).
[[nodiscard]] inline hash128 fingerprint(std::string_view text, const tokenize_options& options = {},
                           std::uint64_t seed = default_seed) {
  std::vector<std::uint64_t> tokens;
  tokenizer(options, seed).hash_tokens(text, tokens);
  return fingerprint(tokens, seed);
}

}  // namespace neardup

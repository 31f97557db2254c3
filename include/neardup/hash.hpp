// neardup/hash.hpp — the one place where neardup hashes bytes.
//
// Every persisted or compared value in neardup (fingerprints, band keys, long
// tokens) comes from seeded XXH3, whose output is frozen by its authors since
// xxHash 0.8.0 and is the same on every platform; token hashes of 1..16 bytes
// come from hash_token() and shingle hashes from hash_ngram() below, both
// built from mix64 and defined on integer values (byte order plays no part). Values produced here are
// therefore stable across machines, CPU kernels and neardup versions; golden
// vectors in tests/ check it.
//
//   std::uint64_t h = neardup::hash64("hello", neardup::default_seed);
//   neardup::hash128 f = neardup::hash128_of(bytes, seed);
//   std::uint64_t t = neardup::hash_token("hello", seed);             // one token
//   std::uint64_t g = neardup::hash_ngram(token_hashes, 5, seed);     // one 5-gram
//
// Not promised: nothing here is a cryptographic hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace neardup {

// The seed used when the caller gives none. Changing it changes every hash.
inline constexpr std::uint64_t default_seed = 0x6e65617264757021ULL;  // "neardup!"

// Seeded XXH3-64 of a byte range. Compiled into the library (src/core/hash.cpp):
// this header does not include xxhash.h, so no xxHash macro or symbol reaches
// the caller's translation unit.
[[nodiscard]] std::uint64_t hash64(const void* data, std::size_t len, std::uint64_t seed) noexcept;
[[nodiscard]] inline std::uint64_t hash64(std::string_view s, std::uint64_t seed) noexcept {
  return hash64(s.data(), s.size(), seed);
}

// hash64() of bytes that arrive in pieces: after update() with a, then b,
// digest() == hash64(a + b, seed). Used for checksums and file digests
// written as the data streams past. Not thread-safe; movable, not copyable.
//
//   neardup::hash64_stream h(seed);
//   h.update(block1); h.update(block2);
//   std::uint64_t sum = h.digest();
class hash64_stream {
 public:
  explicit hash64_stream(std::uint64_t seed = 0);
  ~hash64_stream();
  hash64_stream(hash64_stream&&) noexcept;
  hash64_stream& operator=(hash64_stream&&) noexcept;
  hash64_stream(const hash64_stream&) = delete;
  hash64_stream& operator=(const hash64_stream&) = delete;

  void update(const void* data, std::size_t len) noexcept;
  void update(std::string_view s) noexcept { update(s.data(), s.size()); }
  // Of everything so far; more may be added afterwards.
  [[nodiscard]] std::uint64_t digest() const noexcept;

 private:
  struct state;  // XXH3's, kept out of this header
  state* state_ = nullptr;
};

// 128-bit value for fingerprints, where 64 bits would collide on large corpora.
struct hash128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  friend constexpr bool operator==(const hash128&, const hash128&) = default;
  friend constexpr auto operator<=>(const hash128&, const hash128&) = default;
};

// Seeded XXH3-128 of a byte range (compiled into the library, as hash64).
[[nodiscard]] hash128 hash128_of(const void* data, std::size_t len, std::uint64_t seed) noexcept;

// Bijective 64-bit finalizer (splitmix64's). Used to derive independent
// parameters from one user seed; stable forever.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// ---- token hashes: a seeded 64-bit hash of one token's bytes.
//
// Tokens are mostly short, so lengths 1..16 (nearly every word) take a
// branch-free path: with lo, hi the little-endian 64-bit words of the bytes
// zero-padded to 16, hash_token = mix64(lo ^ s_len) + hi * K (K a fixed odd
// constant), where s_len = token_length_seed(seed, len) is a seed per length.
// Longer tokens (and the empty one) use XXH3: hash64(bytes, seed).
// Collisions: tokens of equal length <= 8 never collide (hi = 0 and mix64 is
// a bijection); equal length and equal lo force hi, hence hi * K, to differ;
// any other pair needs a 64-bit coincidence of seed-derived values
// (~2^-64 over the seed, treating mix64 as a random permutation).
//
// Not promised: not cryptographic.

// The per-length seed of hash_token for 1 <= len <= 16.
[[nodiscard]] constexpr std::uint64_t token_length_seed(std::uint64_t seed, std::size_t len) noexcept {
  return mix64(seed ^ mix64(0x746f6b6c656e3031ULL + len));  // "toklen01" + len
}

namespace detail {
inline constexpr std::uint64_t token_hi_multiplier = 0xd6e8feb86659fd93ULL;  // odd

inline std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t x = 0;
  for (int b = 7; b >= 0; --b) x = (x << 8) | p[b];  // compiles to one load (+ bswap on big-endian)
  return x;
}

// Masks of the bytes of a 1..16-byte token in its lo / hi 64-bit words.
constexpr std::uint64_t short_token_lo_mask(std::size_t len) noexcept {
  return len >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * len)) - 1;
}
constexpr std::uint64_t short_token_hi_mask(std::size_t len) noexcept {
  return len <= 8 ? 0 : len >= 16 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * (len - 8))) - 1;
}

// hash_token of a 1..16-byte token given its masks and s_len, reading 16
// bytes at p: bytes past the token are masked off, so they may hold anything.
// REQUIRES: masks and s_len of the token's length; p[0..16) readable.
inline std::uint64_t hash_short_token_padded(const char* p, std::uint64_t lo_mask, std::uint64_t hi_mask,
                                             std::uint64_t s_len) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  const std::uint64_t lo = load_le64(u) & lo_mask;
  const std::uint64_t hi = load_le64(u + 8) & hi_mask;
  return mix64(lo ^ s_len) + hi * token_hi_multiplier;
}
}  // namespace detail

// The token hash of the bytes [p, p + len).
[[nodiscard]] inline std::uint64_t hash_token(const char* p, std::size_t len, std::uint64_t seed) noexcept {
  if (len == 0 || len > 16) return hash64(p, len, seed);
  char padded[16] = {};
  for (std::size_t i = 0; i < len; ++i) padded[i] = p[i];
  return detail::hash_short_token_padded(padded, detail::short_token_lo_mask(len), detail::short_token_hi_mask(len),
                                         token_length_seed(seed, len));
}
[[nodiscard]] inline std::uint64_t hash_token(std::string_view s, std::uint64_t seed) noexcept {
  return hash_token(s.data(), s.size(), seed);
}

// ---- n-gram hashes: a seeded 64-bit hash of a sequence of n token hashes.
//
// hash_ngram(h, n, s) = mix64(L ^ s) + H where H:L is the 128-bit sum
// (mod 2^128) of h[j] * c_j, j = 0..n-1, with fixed 64-bit multipliers c_j
// (ngram_multiplier(j)). For j < 8 the c_j are superincreasing (c_j > c_0 +
// ... + c_{j-1}, c_0 + ... + c_7 < 2^64), so if the h[j] are independent
// uniform 64-bit values per distinct token, two different token sequences of
// length <= 8 (same or different lengths) give equal 128-bit sums with
// probability <= 2^-64: some token k has a nonzero integer coefficient
// a_k = sum of +-c_j with |a_k| < 2^64, and a_k * u over u in [0, 2^64) hits a
// residue mod 2^128 at most once. The sum is order-sensitive for the same
// reason. The fold to 64 bits adds ~2^-64 (equal L forces H to differ;
// different L needs mix64(L ^ s) - mix64(L' ^ s) = H' - H). For j >= 8 the c_j are
// pseudo-random odd constants (same behaviour in practice, not proven).
// Cost: n widening multiplies + 2 multiplies, and it inlines.
//
// Not promised: not cryptographic, and the bound assumes the inputs are
// hashes of tokens (as from hash64), not adversarially chosen integers.

namespace detail {
__extension__ typedef unsigned __int128 uint128_t;
inline constexpr std::uint64_t ngram_stream = 0x6e6772616d733031ULL;  // "ngrams01"
}  // namespace detail

// The multiplier of position j in hash_ngram (stable forever).
[[nodiscard]] constexpr std::uint64_t ngram_multiplier(std::size_t j) noexcept {
  const std::uint64_t r = mix64(detail::ngram_stream + j);
  if (j < 8) return (std::uint64_t{1} << (56 + j)) | (r >> 12);  // 2^(56+j) + [0, 2^52)
  return r | 1;
}

namespace detail {
inline constexpr std::uint64_t ngram_multipliers[8] = {
    ngram_multiplier(0), ngram_multiplier(1), ngram_multiplier(2), ngram_multiplier(3),
    ngram_multiplier(4), ngram_multiplier(5), ngram_multiplier(6), ngram_multiplier(7)};

constexpr std::uint64_t finish_ngram(uint128_t acc, std::uint64_t seed) noexcept {
  return mix64(static_cast<std::uint64_t>(acc) ^ seed) + static_cast<std::uint64_t>(acc >> 64);
}
}  // namespace detail

// The hash of the n-gram h[0], ..., h[n-1]. n = 0 is allowed (the hash of the
// empty sequence).
[[nodiscard]] inline std::uint64_t hash_ngram(const std::uint64_t* h, std::size_t n, std::uint64_t seed) noexcept {
  detail::uint128_t acc = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint64_t c = j < 8 ? detail::ngram_multipliers[j] : ngram_multiplier(j);
    acc += static_cast<detail::uint128_t>(h[j]) * c;
  }
  return detail::finish_ngram(acc, seed);
}

// Derives the seed of a sub-stream (e.g. "band keys", "token hashes") so that
// stages seeded from one user seed stay independent of each other.
[[nodiscard]] constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
  return mix64(seed ^ mix64(stream));
}

// Deterministic generator for hash-function parameters (splitmix64).
class seed_sequence {
 public:
  constexpr explicit seed_sequence(std::uint64_t seed) noexcept : state_(seed) {}
  constexpr std::uint64_t next() noexcept {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace neardup

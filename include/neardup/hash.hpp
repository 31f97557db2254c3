// neardup/hash.hpp — the one place where neardup hashes bytes.
//
// Every persisted or compared value in neardup (token hashes, shingle hashes,
// fingerprints, band keys) comes from seeded XXH3, whose output is frozen by
// its authors since xxHash 0.8.0 and is the same on every platform. Values
// produced here are therefore stable across machines, CPU kernels and neardup
// versions; golden vectors in tests/golden/ check it.
//
//   std::uint64_t h = neardup::hash64("hello", neardup::default_seed);
//   neardup::hash128 f = neardup::hash128_of(bytes, seed);
//
// Not promised: nothing here is a cryptographic hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

namespace neardup {

// The seed used when the caller gives none. Changing it changes every hash.
inline constexpr std::uint64_t default_seed = 0x6e65617264757021ULL;  // "neardup!"

// Seeded XXH3-64 of a byte range.
inline std::uint64_t hash64(const void* data, std::size_t len, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(data, len, seed);
}
inline std::uint64_t hash64(std::string_view s, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(s.data(), s.size(), seed);
}

// 128-bit value for fingerprints, where 64 bits would collide on large corpora.
struct hash128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  friend constexpr bool operator==(const hash128&, const hash128&) = default;
  friend constexpr auto operator<=>(const hash128&, const hash128&) = default;
};

inline hash128 hash128_of(const void* data, std::size_t len, std::uint64_t seed) noexcept {
  const XXH128_hash_t h = XXH3_128bits_withSeed(data, len, seed);
  return {h.low64, h.high64};
}

// Bijective 64-bit finalizer (splitmix64's). Used to derive independent
// parameters from one user seed; stable forever.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Derives the seed of a sub-stream (e.g. "band keys", "token hashes") so that
// stages seeded from one user seed stay independent of each other.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
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

// The out-of-line XXH3 entry points of hash.hpp. XXH3 is compiled in here
// (xxh3_inline.hpp), so a consumer's translation unit never sees xxhash.h.
#include "neardup/hash.hpp"

#include "xxh3_inline.hpp"

namespace neardup {

std::uint64_t hash64(const void* data, std::size_t len, std::uint64_t seed) noexcept {
  return detail::xxh3_64(data, len, seed);
}

hash128 hash128_of(const void* data, std::size_t len, std::uint64_t seed) noexcept {
  const XXH128_hash_t h = XXH3_128bits_withSeed(data, len, seed);
  return {h.low64, h.high64};
}

}  // namespace neardup

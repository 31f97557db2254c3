// Private to src/core: XXH3 inlined into the library's own hot loops
// (tokenize.cpp, banding.cpp, lines.cpp) and behind hash64()/hash128_of()
// (hash.cpp). Not installed.
//
// XXH_INLINE_ALL makes every xxHash function static in the including
// translation unit, which is why it may only be defined here, in a .cpp's
// private include: defined in a public header it would rename and redefine
// xxHash in every consumer's translation unit (and clash with a consumer that
// uses xxHash itself). The values are XXH3's, frozen by its authors since
// xxHash 0.8.0, so inlining changes speed only (tests/hash_test.cpp checks
// hash64 and hash128_of against the xxHash specification's values).
#pragma once

#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace neardup::detail {
namespace {

// Seeded XXH3-64 of [p, p + len): the value of neardup::hash64.
__attribute__((always_inline)) inline std::uint64_t xxh3_64(const void* p, std::size_t len,
                                                            std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(p, len, seed);
}

}  // namespace
}  // namespace neardup::detail

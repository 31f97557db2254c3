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

struct hash64_stream::state {
  XXH3_state_t xxh;
};

// Zeroed first (XXH3_INITSTATE): reset_withSeed skips making the seed's
// secret when the state's stale seed field already equals the seed.
hash64_stream::hash64_stream(std::uint64_t seed) : state_(new state{}) {
  XXH3_INITSTATE(&state_->xxh);
  (void)XXH3_64bits_reset_withSeed(&state_->xxh, seed);
}
hash64_stream::~hash64_stream() { delete state_; }
hash64_stream::hash64_stream(hash64_stream&& other) noexcept : state_(other.state_) { other.state_ = nullptr; }
hash64_stream& hash64_stream::operator=(hash64_stream&& other) noexcept {
  if (this != &other) {
    delete state_;
    state_ = other.state_;
    other.state_ = nullptr;
  }
  return *this;
}
void hash64_stream::update(const void* data, std::size_t len) noexcept {
  (void)XXH3_64bits_update(&state_->xxh, data, len);
}
std::uint64_t hash64_stream::digest() const noexcept { return XXH3_64bits_digest(&state_->xxh); }

}  // namespace neardup

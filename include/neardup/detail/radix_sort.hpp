// neardup/detail/radix_sort.hpp — LSD radix sort of (64-bit key, doc id) records.
//
// Used by candidates.cpp to group the documents of one LSH band by band key,
// and by the pair de-duplication. Internal: the public face is candidates.hpp.
//
//   std::vector<key_doc> recs = ..., scratch(recs.size());
//   detail::radix_sort_key_doc(recs, scratch);       // LSD, sorted by key, stable
//   detail::msd_radix_sort_key_doc(recs, scratch);   // MSD, same result
//
// Guarantees: stable (records with equal keys keep their input order, so input
// built in doc order comes out sorted by (key, doc)); the result is a pure
// function of the input. Passes in which every key has the same digit are
// skipped, so keys that use few bits (e.g. packed pairs of small ids) cost
// fewer passes.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "neardup/executor.hpp"
#include "neardup/types.hpp"

namespace neardup::detail {

// One record to sort; 16 bytes with the padding, so two buffers cost 32 bytes
// per record. The padding word is never read.
struct key_doc {
  std::uint64_t key;
  doc_id doc;
  std::uint32_t unused_;
};
static_assert(sizeof(key_doc) == 16);

// Sorts `data` by key, stably, using `scratch` as the second buffer.
// DigitBits = 11 gives 6 passes over 2048-entry histograms (cache-resident);
// 16 gives 4 passes over 65536 entries. The result is left in `data`.
// REQUIRES: scratch.size() >= data.size(); data.size() < 2^32.
template <unsigned DigitBits = 11>
void radix_sort_key_doc(std::span<key_doc> data, std::span<key_doc> scratch) {
  static_assert(DigitBits >= 4 && DigitBits <= 16);
  constexpr unsigned passes = (64 + DigitBits - 1) / DigitBits;
  constexpr std::size_t radix = std::size_t{1} << DigitBits;
  constexpr std::uint64_t mask = radix - 1;
  const std::size_t n = data.size();
  if (n < 2) return;
  if (n <= 64) {  // insertion sort: cheaper than histograms for tiny inputs
    for (std::size_t i = 1; i < n; ++i) {
      const key_doc x = data[i];
      std::size_t j = i;
      while (j > 0 && data[j - 1].key > x.key) {
        data[j] = data[j - 1];
        --j;
      }
      data[j] = x;
    }
    return;
  }

  // All histograms in one read pass.
  std::vector<std::uint32_t> counts(passes * radix, 0);
  for (const key_doc& r : data) {
    std::uint64_t k = r.key;
    for (unsigned p = 0; p < passes; ++p) {
      ++counts[p * radix + (k & mask)];
      k >>= DigitBits;
    }
  }

  key_doc* src = data.data();
  key_doc* dst = scratch.data();
  for (unsigned p = 0; p < passes; ++p) {
    std::uint32_t* c = counts.data() + p * radix;
    const unsigned shift = p * DigitBits;
    // Skip a pass when every record has the same digit: order is unchanged.
    if (c[(src[0].key >> shift) & mask] == n) continue;
    std::uint32_t sum = 0;
    for (std::size_t d = 0; d < radix; ++d) {
      const std::uint32_t t = c[d];
      c[d] = sum;
      sum += t;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const key_doc r = src[i];
      dst[c[(r.key >> shift) & mask]++] = r;
    }
    std::swap(src, dst);
  }
  if (src != data.data()) std::memcpy(data.data(), src, n * sizeof(key_doc));
}

namespace msd_internal {

inline void insertion_sort(key_doc* a, std::size_t n) {
  for (std::size_t i = 1; i < n; ++i) {
    const key_doc x = a[i];
    std::size_t j = i;
    while (j > 0 && a[j - 1].key > x.key) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = x;
  }
}

// Sorts a[0, n) by the low `hi` bits of the key (the higher bits are equal
// within the range), stably, using b[0, n) as scratch; result in a.
inline void sort(key_doc* a, key_doc* b, std::size_t n, unsigned hi) {
  while (true) {
    if (n <= 64 || hi == 0) {
      if (hi != 0) insertion_sort(a, n);
      return;
    }
    const unsigned bits = std::min(hi, n >= (std::size_t{1} << 16) ? 11u : 8u);
    const unsigned shift = hi - bits;
    const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
    const std::size_t radix = std::size_t{1} << bits;
    std::array<std::uint32_t, 2048 + 1> start{};
    for (std::size_t i = 0; i < n; ++i) ++start[((a[i].key >> shift) & mask) + 1];
    if (start[((a[0].key >> shift) & mask) + 1] == n) {  // one digit value: next digit
      hi = shift;
      continue;
    }
    for (std::size_t d = 1; d <= radix; ++d) start[d] += start[d - 1];
    std::array<std::uint32_t, 2048> next;
    std::copy(start.begin(), start.begin() + std::ptrdiff_t(radix), next.begin());
    for (std::size_t i = 0; i < n; ++i) b[next[(a[i].key >> shift) & mask]++] = a[i];
    for (std::size_t d = 0; d < radix; ++d) {
      const std::size_t s = start[d], e = start[d + 1];
      if (e - s > 1) sort(b + s, a + s, e - s, shift);
    }
    std::memcpy(a, b, n * sizeof(key_doc));
    return;
  }
}

}  // namespace msd_internal

// Same contract as radix_sort_key_doc, most significant digit first: one
// scatter pass over memory, then the buckets (which fit in cache for random
// keys) are sorted recursively, and buckets of <= 64 records by insertion
// sort. For hash keys this touches memory about 3 times instead of 12.
// REQUIRES: scratch.size() >= data.size(); data.size() < 2^32.
inline void msd_radix_sort_key_doc(std::span<key_doc> data, std::span<key_doc> scratch) {
  msd_internal::sort(data.data(), scratch.data(), data.size(), 64);
}

// The MSD sort on the pool's threads (the calling thread alone when null),
// same result bit for bit. The top-level
// histogram and scatter are split into contiguous slices of the input (slice
// t's records land after slice t-1's within each bucket, so the sort stays
// stable); the buckets are then sorted by whichever thread takes them.
// REQUIRES: scratch.size() >= data.size(); data.size() < 2^32.
inline void msd_radix_sort_key_doc_parallel(std::span<key_doc> data, std::span<key_doc> scratch,
                                            executor* pool) {
  const std::size_t n = data.size();
  const std::size_t threads = pool != nullptr ? pool->threads() : 1;
  if (threads <= 1 || n < (std::size_t{1} << 16)) {
    msd_radix_sort_key_doc(data, scratch);
    return;
  }
  constexpr unsigned bits = 11;
  constexpr unsigned shift = 64 - bits;
  constexpr std::size_t radix = std::size_t{1} << bits;
  key_doc* a = data.data();
  key_doc* b = scratch.data();
  auto run = [threads, pool](const auto& fn) { pool->run(threads, fn); };
  const auto slice = [n, threads](std::size_t t) { return n * t / threads; };

  std::vector<std::uint32_t> counts(threads * radix, 0);
  run([&](std::size_t t) {
    std::uint32_t* c = counts.data() + t * radix;
    for (std::size_t i = slice(t); i < slice(t + 1); ++i) ++c[a[i].key >> shift];
  });
  std::vector<std::uint32_t> start(radix + 1, 0);
  for (std::size_t d = 0; d < radix; ++d) {
    std::uint32_t sum = start[d];
    for (std::size_t t = 0; t < threads; ++t) {
      const std::uint32_t c = counts[t * radix + d];
      counts[t * radix + d] = sum;  // now: where slice t writes digit d
      sum += c;
    }
    start[d + 1] = sum;
  }
  if (start[(a[0].key >> shift) + 1] - start[a[0].key >> shift] == n) {  // one top digit
    msd_radix_sort_key_doc(data, scratch);
    return;
  }
  run([&](std::size_t t) {
    std::uint32_t* next = counts.data() + t * radix;
    for (std::size_t i = slice(t); i < slice(t + 1); ++i) b[next[a[i].key >> shift]++] = a[i];
  });
  std::atomic<std::size_t> next_digit{0};
  run([&](std::size_t) {
    constexpr std::size_t chunk = 16;
    for (;;) {
      const std::size_t first = next_digit.fetch_add(chunk, std::memory_order_relaxed);
      if (first >= radix) break;
      for (std::size_t d = first; d < std::min(radix, first + chunk); ++d) {
        const std::size_t lo = start[d], len = start[d + 1] - lo;
        if (len > 1) msd_internal::sort(b + lo, a + lo, len, shift);
        if (len > 0) std::memcpy(a + lo, b + lo, len * sizeof(key_doc));
      }
    }
  });
}

// Record count from which band_grouper uses the MSD sort.
inline constexpr std::size_t msd_threshold = std::size_t{1} << 19;

// Sorts and de-duplicates 64-bit values in place (radix sort through `scratch`).
inline void radix_sort_unique_u64(std::vector<std::uint64_t>& values) {
  const std::size_t n = values.size();
  if (n < 2) return;
  constexpr unsigned bits = 11;
  constexpr unsigned passes = (64 + bits - 1) / bits;
  constexpr std::size_t radix = std::size_t{1} << bits;
  constexpr std::uint64_t mask = radix - 1;
  std::vector<std::uint64_t> scratch(n);
  std::vector<std::size_t> counts(passes * radix, 0);
  for (const std::uint64_t v : values) {
    std::uint64_t k = v;
    for (unsigned p = 0; p < passes; ++p) {
      ++counts[p * radix + (k & mask)];
      k >>= bits;
    }
  }
  std::uint64_t* src = values.data();
  std::uint64_t* dst = scratch.data();
  for (unsigned p = 0; p < passes; ++p) {
    std::size_t* c = counts.data() + p * radix;
    const unsigned shift = p * bits;
    if (c[(src[0] >> shift) & mask] == n) continue;
    std::size_t sum = 0;
    for (std::size_t d = 0; d < radix; ++d) {
      const std::size_t t = c[d];
      c[d] = sum;
      sum += t;
    }
    for (std::size_t i = 0; i < n; ++i) dst[c[(src[i] >> shift) & mask]++] = src[i];
    std::swap(src, dst);
  }
  if (src != values.data()) std::memcpy(values.data(), src, n * sizeof(std::uint64_t));
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace neardup::detail

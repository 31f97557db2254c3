// neardup/pipeline/stored_query.hpp — the I/O-free parts of a query against
// stored band-key runs (jobs/stored_index.hpp keeps them in mmapped segments).
//
// A sorted band-key run (format.hpp, kind band_keys, sorted flag) is searched
// in place: its payload is n records of 12 unaligned bytes (key u64, doc u32,
// little-endian) in (key, doc) order, so the documents of one key are one
// binary search away.
//
//   std::vector<neardup::doc_id> docs;
//   const auto fences = neardup::pipeline::band_fences(payload, n);  // once per run
//   const auto dir = neardup::pipeline::fence_directory(fences);     // once per run
//   neardup::pipeline::find_band_key(payload, n, fences, key, docs, dir);  // appends, in doc order
//   neardup::pipeline::rank_matches(matches, 0.8, 10);
//
// REQUIRES: the payload was checked (inspect_stage_data) and is sorted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/types.hpp"

namespace neardup::pipeline {

inline constexpr std::size_t band_record_bytes = 12;

// Sorts entries into a run's order, (key, doc): by the keys' top bits into
// small buckets (the keys are hashes), then each bucket.
void sort_band_run(std::vector<band_entry>& run);

// Every fence_stride-th key of a run, held in memory so that a lookup reads
// the run itself in one small range (a few cache lines) instead of ~log2(n)
// scattered places.
inline constexpr std::size_t fence_stride = 64;
// fences[i] = key of record i * fence_stride.
std::vector<std::uint64_t> band_fences(std::span<const std::byte> payload, std::size_t n);

// A directory over the fences, so that a lookup does not binary-search
// them: directory[s] = the first fence whose key's top b bits are >= s, for
// s in [0, 2^b], with 2^b about the number of fences (the keys are hashes,
// so a slot holds one or two fences). 4 bytes per fence, roughly.
std::vector<std::uint32_t> fence_directory(std::span<const std::uint64_t> fences);

// Appends the documents of the records whose key is `key`. `fences`: empty,
// or band_fences() of the same run; `directory`: empty, or fence_directory()
// of those fences.
// REQUIRES: payload.size() >= n * band_record_bytes.
void find_band_key(std::span<const std::byte> payload, std::size_t n, std::span<const std::uint64_t> fences,
                   std::uint64_t key, std::vector<doc_id>& out, std::span<const std::uint32_t> directory = {});

// Many lookups at once (a query's bands in every segment) wait for memory
// one after the other; touching each lookup's next place first, for every
// lookup, before the next stage lets the cache misses overlap:
//   for (stage : {directory, fences, records}) for (each lookup) prefetch_band_key(..., stage);
//   for (each lookup) find_band_key(...);
// A hint only: it reads the directory and fences (after their stage) and
// changes nothing.
enum class lookup_stage { directory, fences, records };
void prefetch_band_key(std::span<const std::byte> payload, std::size_t n, std::span<const std::uint64_t> fences,
                       std::uint64_t key, std::span<const std::uint32_t> directory, lookup_stage stage);

// The sort-merge form of find_band_key for many keys at once (a batch
// deduplicated against the run): for `keys` in ascending order, appends
// {i, doc} for every record whose key is keys[i], in (i, doc) order. It walks
// the run forwards, galloping over the fences, so a batch as large as the run
// reads it about once, and a small batch costs a few cache lines per key.
// REQUIRES: payload.size() >= n * band_record_bytes; keys ascending.
void match_band_keys(std::span<const std::byte> payload, std::size_t n, std::span<const std::uint64_t> fences,
                     std::span<const std::uint64_t> keys, std::vector<std::pair<std::uint32_t, doc_id>>& out);

struct scored_doc {
  std::uint64_t doc = 0;  // a number across segments
  double similarity = 0;
};

// Keeps the entries with similarity >= threshold, most similar first (ties:
// smaller doc first), at most top_k of them (0: all).
void rank_matches(std::vector<scored_doc>& m, double threshold, std::size_t top_k);

}  // namespace neardup::pipeline

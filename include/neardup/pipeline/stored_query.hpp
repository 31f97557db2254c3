// neardup/pipeline/stored_query.hpp — the I/O-free parts of a query against
// stored band-key runs (jobs/stored_index.hpp keeps them in mmapped segments).
//
// A sorted band-key run (format.hpp, kind band_keys, sorted flag) is searched
// in place: its payload is n records of 12 unaligned bytes (key u64, doc u32,
// little-endian) in (key, doc) order, so the documents of one key are one
// binary search away.
//
//   std::vector<neardup::doc_id> docs;
//   neardup::pipeline::find_band_key(payload, n, key, docs);  // appends, in doc order
//   neardup::pipeline::rank_matches(matches, 0.8, 10);
//
// REQUIRES: the payload was checked (inspect_stage_data) and is sorted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "neardup/types.hpp"

namespace neardup::pipeline {

inline constexpr std::size_t band_record_bytes = 12;

// Appends the documents of the records whose key is `key`.
// REQUIRES: payload.size() >= n * band_record_bytes.
void find_band_key(std::span<const std::byte> payload, std::size_t n, std::uint64_t key, std::vector<doc_id>& out);

struct scored_doc {
  std::uint64_t doc = 0;  // a number across segments
  double similarity = 0;
};

// Keeps the entries with similarity >= threshold, most similar first (ties:
// smaller doc first), at most top_k of them (0: all).
void rank_matches(std::vector<scored_doc>& m, double threshold, std::size_t top_k);

}  // namespace neardup::pipeline

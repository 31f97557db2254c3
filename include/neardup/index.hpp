// neardup/index.hpp — incremental in-memory LSH index over band keys.
//
// For streaming / online deduplication: documents arrive one at a time; each
// is first queried against the documents already indexed, then (if kept)
// inserted. A document is described by its b band keys (banding.hpp), key j
// belonging to band j; two documents are candidates when they share the key of
// at least one band.
//
//   neardup::lsh_index index(bands);
//   for (neardup::doc_id d = 0; d < n; ++d) {
//     std::span<const std::uint64_t> keys = band_keys_of(d);   // bands keys
//     std::vector<neardup::doc_id> cands = index.query(keys);  // sorted, unique
//     if (!any_verified_duplicate(d, cands)) index.insert(d, keys);
//   }
//
// Complexity: insert and remove are O(b) expected (hash-table operations) plus
// O(bucket size) for remove; query is O(b + c log c) for c candidates. Memory
// is about 20-40 bytes per document per band plus 8 bytes per band per
// document for the stored keys (needed by remove()).
//
// Thread safety: not thread-safe for writes. Concurrent calls to const members
// (query, contains, size) are safe while no thread writes.
//
// Guarantees: query results are sorted ascending and unique, a pure function
// of the set of indexed (doc, keys) — independent of insertion order. Not
// promised: iteration order of anything internal; memory figures above are
// estimates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "neardup/types.hpp"

namespace neardup {

class lsh_index {
 public:
  // REQUIRES: bands >= 1 (otherwise std::invalid_argument).
  explicit lsh_index(std::size_t bands);
  ~lsh_index();
  lsh_index(lsh_index&&) noexcept;
  lsh_index& operator=(lsh_index&&) noexcept;
  lsh_index(const lsh_index&) = delete;
  lsh_index& operator=(const lsh_index&) = delete;

  [[nodiscard]] std::size_t bands() const noexcept;
  // Number of documents indexed.
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] bool contains(doc_id doc) const;

  // Indexes `doc` under its band keys.
  // REQUIRES: band_keys.size() == bands(); doc not already indexed
  // (otherwise std::invalid_argument; the index is unchanged).
  void insert(doc_id doc, std::span<const std::uint64_t> band_keys);

  // Documents sharing at least one band key with `band_keys`, sorted, unique.
  // REQUIRES: band_keys.size() == bands() (otherwise std::invalid_argument).
  [[nodiscard]] std::vector<doc_id> query(std::span<const std::uint64_t> band_keys) const;
  // Same, into `out` (cleared first), to reuse its allocation.
  void query(std::span<const std::uint64_t> band_keys, std::vector<doc_id>& out) const;

  // Removes `doc`; returns false if it was not indexed.
  bool remove(doc_id doc);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace neardup

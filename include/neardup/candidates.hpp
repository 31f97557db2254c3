// neardup/candidates.hpp — batch candidate generation, one LSH band at a time.
//
// Two documents are LSH candidates when they share the key of at least one
// band. The batch path never holds more than one band: for band j the caller
// passes keys[d] = key of band j for document d, and gets back the BUCKETS of
// that band — runs of documents sharing a key, only runs of two or more.
// Grouping is a radix sort of (key, doc) records — LSD with 11-bit digits for
// bands under 2^19 documents, MSD (one scatter pass, then cache-sized
// buckets; optionally on several threads) from 2^19 on — so it costs O(n) per band with no hash table and no
// pointer chasing. Both sorts give the same buckets.
//
//   neardup::band_grouper grouper;           // reuse across bands: keeps its buffers
//   neardup::bucket_list buckets;
//   for (std::size_t j = 0; j < bands; ++j) {
//     std::vector<std::uint64_t> keys = band_column(j);   // keys[d] for every doc d
//     grouper.group(keys, excluded, buckets);
//     for (std::size_t i = 0; i < buckets.size(); ++i)
//       use(buckets[i]);                     // std::span<const doc_id>, sorted, size >= 2
//   }
//
// Feed the buckets to neardup::clusterer (cluster.hpp) to cluster without ever
// materializing the m(m-1)/2 pairs of a bucket of m documents; use
// append_candidate_pairs() only when the pairs themselves are the output.
//
// Memory: group() keeps two arrays of 16-byte records (32 bytes per document
// of the band) between calls, plus the bucket list it fills (at most 4 bytes
// per document plus 4 bytes per bucket, i.e. <= 6 bytes per document). The
// caller's key column is another 8 bytes per document.
//
// Guarantees: buckets are deterministic — members sorted by doc id, buckets
// ordered by key — and independent of the thread count. Not promised: the
// order of buckets (by key) is not meaningful and changes with the hash seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "neardup/detail/radix_sort.hpp"
#include "neardup/executor.hpp"
#include "neardup/types.hpp"

namespace neardup {

// The buckets of one band, stored flat: bucket i is
// docs[offsets[i], offsets[i+1]). Every bucket has >= 2 members, sorted by
// doc id; a document appears in at most one bucket of a band.
struct bucket_list {
  std::vector<doc_id> docs;
  std::vector<std::uint32_t> offsets{0};  // size() + 1 entries

  [[nodiscard]] std::size_t size() const noexcept { return offsets.size() - 1; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  std::span<const doc_id> operator[](std::size_t i) const noexcept {
    return {docs.data() + offsets[i], docs.data() + offsets[i + 1]};
  }
  // Number of pairs sum m(m-1)/2 over buckets: what exhaustive verification costs.
  [[nodiscard]] std::uint64_t pair_count() const noexcept;
  void clear() noexcept {
    docs.clear();
    offsets.assign(1, 0);
  }
};

// Groups the documents of one band by key. Reuse one grouper for all bands so
// the buffers (up to 32 bytes per document, and 4 for a large band's filter)
// are allocated once.
class band_grouper {
 public:
  // Large bands (>= 2^19 documents) are sorted on the pool's threads when
  // one is given. Buckets are the same with or without it.
  explicit band_grouper(executor* pool = nullptr) : pool_(pool) {}

  // Bands of this many documents and more are filtered (a table of 4 bytes
  // per document, keeping every key seen twice) before they are sorted.
  static constexpr std::size_t filter_min_documents = std::size_t{1} << 16;

  // keys[d] is document d's key for this band. `excluded` is empty (no
  // document excluded) or has one byte per document; a nonzero byte leaves the
  // document out of every bucket (e.g. empty documents, which would all share
  // one key). Fills `out` (previous contents are discarded).
  // REQUIRES: keys.size() < 2^32; excluded.empty() || excluded.size() == keys.size()
  //           (otherwise std::invalid_argument).
  void group(std::span<const std::uint64_t> keys, std::span<const std::uint8_t> excluded,
             bucket_list& out);
  void group(std::span<const std::uint64_t> keys, bucket_list& out) { group(keys, {}, out); }
  // The same over a band's keys stored in pieces (e.g. one per input chunk,
  // as pass 1 makes them), documents numbered across the pieces in order:
  // the buckets group() gives for the pieces' concatenation, without making
  // it.
  void group(std::span<const std::span<const std::uint64_t>> pieces, std::span<const std::uint8_t> excluded,
             bucket_list& out);

  // The same over (key, doc) records instead of a key column: the records of
  // a band's excluded documents already left out, in an order that a stable
  // sort by key turns into (key, doc) order (e.g. the stretches of sorted
  // runs of increasing documents that one slice of the key space gathers
  // from disk). `records` is the buffer: its contents are consumed. Fills
  // `out` with the same buckets, in key order, that group() gives.
  void group_records(std::vector<detail::key_doc>& records, bucket_list& out);

  // Bytes currently held by the grouper's buffers.
  [[nodiscard]] std::size_t bytes_reserved() const noexcept;
  // Frees the buffers.
  void release() noexcept;

 private:
  std::vector<detail::key_doc> records_;
  std::vector<detail::key_doc> scratch_;
  std::vector<std::uint64_t> filter_;  // two bits per slot: seen, seen again
  executor* pool_ = nullptr;

  void sort_and_bucket(std::vector<detail::key_doc>& records, bucket_list& out);
};

// One-shot convenience: a fresh grouper for one band.
[[nodiscard]] bucket_list group_band(std::span<const std::uint64_t> keys,
                       std::span<const std::uint8_t> excluded = {});

// Appends the candidate pairs of `buckets` to `out`, with a cap: member i of a
// bucket (in doc-id order) is paired with its `max_partners` predecessors
// i-max_partners .. i-1. A bucket of m <= max_partners + 1 members thus yields
// all m(m-1)/2 pairs; a larger one yields fewer than m * max_partners pairs
// instead of m^2/2 (a sliding window, so documents close in input order are
// still paired). Returns the number of pairs left out because of the cap.
// Pairs come out with first < second, but neither sorted nor unique across
// bands: call sort_unique_pairs() once all bands are appended.
// REQUIRES: max_partners >= 1 (otherwise std::invalid_argument).
std::uint64_t append_candidate_pairs(const bucket_list& buckets, std::size_t max_partners,
                                     std::vector<doc_pair>& out);

// Sorts pairs by (first, second) and removes duplicates (radix sort, O(n);
// 16 bytes of scratch per pair while it runs).
void sort_unique_pairs(std::vector<doc_pair>& pairs);

}  // namespace neardup

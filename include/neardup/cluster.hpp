// neardup/cluster.hpp — deterministic union-find clustering of LSH buckets.
//
// The clusterer consumes the buckets of one band at a time (candidates.hpp),
// asks a caller-supplied VERIFIER whether two documents really are near
// duplicates (estimated or exact Jaccard, edit distance, ...), and unites the
// verified ones. It never enumerates the m(m-1)/2 pairs of a bucket: each
// member is compared with the DISTINCT components seen earlier in the bucket,
// and with a component only until one of its members verifies (at most
// max_comparisons_per_member calls in all), so a bucket of m near-identical
// documents costs about m verifications, and a bucket whose members are
// already connected costs none.
//
// The rule, per bucket: members are taken in doc-id order; a member belongs
// to the group of earlier members already in its component (no call), and is
// then compared with each other group, most recently active group first:
// with the group's FIRST bucket member, then with its other bucket members,
// newest first, until one says yes; every "yes" merges two groups and
// records a link. Most-recently-active first keeps a growing cluster
// reachable when a big bucket also holds many unrelated documents; trying
// every member of a group (not only its first) keeps a chain A-B-C together
// when C is similar to B but not to A.
//
// So, within the cap, a cluster is a connected component of the graph whose
// edges are the verified pairs among LSH candidates (pairs sharing a band
// key): a pair that shares a bucket is either verified or already connected.
// What is given up for speed: pairs that share no band key are never
// compared (LSH misses a pair at the threshold with probability
// 1 - candidate_probability, see banding.hpp), and the cap stops the
// comparisons of a member after max_comparisons_per_member calls
// (cluster_stats::capped counts the groups it never reached).
//
//   neardup::clusterer c(num_docs,
//                        [&](neardup::doc_id a, neardup::doc_id b) {
//                          return estimate_jaccard(sig(a), sig(b)) >= 0.8;
//                        },
//                        {.pool = &pool});   // a neardup::executor
//   neardup::band_grouper grouper;
//   neardup::bucket_list buckets;
//   for (std::size_t j = 0; j < bands; ++j) {
//     grouper.group(band_column(j), excluded, buckets);
//     c.add_band(buckets);
//   }
//   neardup::cluster_result r = c.result();   // r.representative[d] = smallest id in d's cluster
//
// Determinism (the guarantee): the result — components, representatives and
// every counter in cluster_stats — is a pure function of the sequence of bands
// given to add_band(), the verifier's answers and the options except
// `threads`. It does not depend on the thread count, on thread scheduling, on
// the order of buckets within a band, or on how a band's buckets are split
// into add_buckets() calls. How: within a band every bucket is
// processed against a SNAPSHOT of the components as they were before the band
// (a bucket's decisions depend only on that snapshot and on its own
// verifications); the verified links of all buckets are applied after the
// band, and union by minimum id makes the final partition and labels
// independent of the order in which links are applied.
//
// Not promised: that the clusters equal those components when the cap was
// reached (stats().capped > 0); then which pairs were compared depends on
// the band order and the result, deterministic as always, may change with
// it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "neardup/candidates.hpp"
#include "neardup/executor.hpp"
#include "neardup/types.hpp"

namespace neardup {

// Disjoint sets over doc ids 0..n-1 with union by minimum id and path
// halving: the root of every set is its smallest member, so labels are
// canonical (the same partition always gives the same labels).
// Invariant: parent(x) <= x for every x.
class union_find {
 public:
  // REQUIRES: n < 2^32.
  explicit union_find(std::size_t n);

  [[nodiscard]] std::size_t size() const noexcept { return parent_.size(); }
  // Root (= smallest member) of x's set; halves the path on the way.
  // REQUIRES: x < size().
  [[nodiscard]] doc_id find(doc_id x) noexcept {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  // Same as find() without writing: safe to call from many threads at once
  // while no thread writes.
  [[nodiscard]] doc_id find_const(doc_id x) const noexcept {
    while (parent_[x] != x) x = parent_[x];
    return x;
  }
  // Merges the sets of a and b; returns false if they were already one set.
  bool unite(doc_id a, doc_id b) noexcept {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    if (a < b) std::swap(a, b);
    parent_[a] = b;  // the larger root hangs under the smaller one
    return true;
  }
  [[nodiscard]] bool connected(doc_id a, doc_id b) noexcept { return find(a) == find(b); }
  // Points every element directly at its root, O(n). Afterwards
  // find_const() is one step.
  void flatten() noexcept;
  // representative()[d] = smallest doc id of d's set (flattens first).
  [[nodiscard]] std::vector<doc_id> representatives();

 private:
  std::vector<doc_id> parent_;
};

// The verifier: returns true when documents a and b (a < b) are duplicates.
// REQUIRES: a pure function of (a, b); safe to call concurrently when
// cluster_options::threads > 1.
using pair_verifier = std::function<bool(doc_id, doc_id)>;

enum class verification {
  // Unite every bucket member with the bucket's first member, no checks
  // (what datatrove does). Fast; short documents can chain into giant clusters.
  none,
  // Ask the verifier before uniting (the default).
  verify,
};

// One link between two documents, and the band (0-based, in add_band order)
// whose bucket produced it.
struct band_link {
  doc_id a = 0;  // a < b
  doc_id b = 0;
  std::uint32_t band = 0;
  friend bool operator==(const band_link&, const band_link&) = default;
};

// An optional record of why the clusterer merged what it merged
// (cluster_options::trace), for audit trails:
//   merges    every link that joined two components, in the order applied
//             (band by band; within a band sorted by (a, b)). They form a
//             spanning forest of the clusters: one link per merge.
//   rejected  a bounded sample of the pairs the verifier rejected: the
//             `max_rejected` distinct pairs with the smallest
//             mix64(seed ^ (a << 32 | b)), each with the first band that
//             rejected it, sorted by (a, b).
// Both are pure functions of what the result depends on (cluster.hpp's
// determinism guarantee): independent of the thread count. Applying links in
// sorted order costs a sort of each band's links; nothing else changes.
struct cluster_trace {
  std::size_t max_rejected = 0;
  std::uint64_t seed = 0;
  std::vector<band_link> merges;
  std::vector<band_link> rejected;
};

struct cluster_options {
  verification mode = verification::verify;
  // Verifier calls allowed per bucket member (over all the groups it is
  // compared with); bounds a bucket of m members to m * cap calls even when
  // nothing verifies (e.g. thousands of short documents sharing a key).
  // Must be >= 1.
  std::size_t max_comparisons_per_member = 64;
  // Where verification (and, in cluster_band_keys, the sorting of large
  // bands) runs: the pool's threads, or the calling thread alone when null.
  // Does not change any result.
  executor* pool = nullptr;
  // When set, filled as bands are added (see cluster_trace). Does not change
  // any result.
  cluster_trace* trace = nullptr;
  // Documents below this id were clustered among themselves before (a stored
  // index's documents, clustered when they were stored, see
  // add_known_clusters): in a bucket, such a member joins its component and is
  // compared with no other group (no verifier call, nothing counted); the
  // later members are compared with them as usual.
  doc_id settled = 0;
};

struct cluster_stats {
  std::uint64_t bands = 0;          // bands begun
  std::uint64_t buckets = 0;        // buckets seen
  std::uint64_t verifications = 0;  // verifier calls
  std::uint64_t verified = 0;       // calls that returned true
  std::uint64_t rejected = 0;       // calls that returned false
  std::uint64_t merges = 0;         // unions that joined two components
  std::uint64_t capped = 0;         // groups a member never reached because of the cap
  friend bool operator==(const cluster_stats&, const cluster_stats&) = default;
};

struct cluster_result {
  // representative[d] = smallest doc id in d's cluster; representative[d] == d
  // for the first document of each cluster and for singletons.
  std::vector<doc_id> representative;
  cluster_stats stats;
};

class clusterer {
 public:
  // REQUIRES: num_docs < 2^32; options.max_comparisons_per_member >= 1; a
  // verifier when options.mode == verification::verify (else
  // std::invalid_argument).
  clusterer(std::size_t num_docs, pair_verifier verify, cluster_options options = {});

  // Processes all the buckets of one band: begin_band(); add_buckets(b); end_band().
  // REQUIRES: every doc id < num_docs (else std::invalid_argument), each
  // bucket sorted ascending and holding all the band's documents with its key.
  // If it throws (bad id, or the verifier throws), the band is dropped whole
  // and the clusterer is as before the call.
  void add_band(const bucket_list& buckets);

  // The same in pieces, for a band whose buckets arrive in several lists
  // (chunks of a shuffle, several files): every bucket of the band is decided
  // against the components as they were at begin_band(), and the links are
  // applied at end_band(), so the result does not depend on how the band is
  // split. Calls out of order throw std::logic_error.
  void begin_band();
  void add_buckets(const bucket_list& buckets);
  void end_band();

  // Unites the members of each bucket without asking the verifier: clusters
  // known beforehand. Counts as one band: the trace records a link from each
  // bucket's first member to every other member that was not connected yet.
  // REQUIRES: doc ids < num_docs (else std::invalid_argument).
  void add_known_clusters(const bucket_list& clusters);

  [[nodiscard]] const cluster_stats& stats() const noexcept { return stats_; }
  // Current clusters; can be called between bands.
  [[nodiscard]] cluster_result result();
  // Bytes held by the clusterer: 4 per document (the union-find) plus the
  // largest per-band link buffers seen (at most 8 bytes per bucketed document).
  [[nodiscard]] std::size_t bytes_reserved() const noexcept;

 private:
  union_find sets_;
  pair_verifier verify_;
  cluster_options options_;
  cluster_stats stats_;
  std::vector<doc_pair> pending_;  // links of the current band
  std::size_t peak_link_bytes_ = 0;
  bool in_band_ = false;
};

// One call for the whole batch path: for each band j in 0..bands-1,
// keys_of_band(j) returns the key column of band j (one key per document,
// num_docs keys), which is grouped and clustered. Peak memory besides the
// caller's key column: ~32 bytes per document (grouping) + 4 (union-find) +
// links (<= 8 per document) + the output.
[[nodiscard]] cluster_result cluster_band_keys(
    std::size_t num_docs, std::size_t bands,
    const std::function<std::span<const std::uint64_t>(std::size_t band)>& keys_of_band,
    std::span<const std::uint8_t> excluded, pair_verifier verify, cluster_options options = {});

// Number of clusters (singletons included).
// REQUIRES: representative[d] <= d and representative[representative[d]] == representative[d]
// (throws std::invalid_argument otherwise).
[[nodiscard]] std::size_t count_clusters(std::span<const doc_id> representative);

// histogram[i] = {size, number of clusters of that size}, sorted by size.
[[nodiscard]] std::vector<std::pair<std::size_t, std::size_t>> cluster_size_histogram(
    std::span<const doc_id> representative);

// The sizes of the clusters of a labeling, in one pass: the histogram as
// cluster_size_histogram() gives it, the number of clusters, and the largest
// cluster (the smallest label among those of the largest size). Memory: one
// byte per document plus a map entry per cluster of 255 or more documents,
// not a 4-byte counter per document (100 M documents: 0.1 GB, not 0.4 GB).
// REQUIRES: a valid labeling, as for count_clusters().
struct cluster_sizes {
  std::vector<std::pair<std::size_t, std::size_t>> histogram;
  std::size_t clusters = 0;
  std::size_t largest = 0;          // 0 for no documents
  doc_id largest_representative = 0;
};
[[nodiscard]] cluster_sizes count_cluster_sizes(std::span<const doc_id> representative);

// For `--keep longest` and friends: returns keeper with keeper[d] = the doc
// kept for d's cluster, chosen as the member with the highest priority, ties
// broken by smallest doc id. Doc d survives deduplication iff keeper[d] == d.
// REQUIRES: priority.size() == representative.size(); representative is a
// valid labeling as above (otherwise std::invalid_argument).
[[nodiscard]] std::vector<doc_id> choose_kept(std::span<const doc_id> representative,
                                std::span<const std::uint64_t> priority);

}  // namespace neardup

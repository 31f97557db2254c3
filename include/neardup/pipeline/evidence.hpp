// neardup/pipeline/evidence.hpp — why each document was removed (an audit trail).
//
// With dedup_options::evidence.record, the dedup engine (pipeline/dedup.hpp)
// returns, besides its decisions, one removal_evidence per removed document
// and a bounded sample of rejected candidate pairs (near misses):
//
//   neardup::pipeline::dedup_options o;
//   o.evidence.record = true;
//   auto r = neardup::pipeline::dedup(texts, o);
//   for (const auto& e : r.evidence.removed)   // e.doc was removed; e.partner is in its cluster
//     std::printf("%u ~ %u: %s %.3f (band %u)\n", e.doc, e.partner, std::string(neardup::name(e.kind)).c_str(), e.similarity, e.band);
//
// What "verified against" means. The clusterer's links that merged two
// components (cluster_trace::merges) form a spanning forest of every near
// cluster. Root each tree at the kept document's first copy (exact-duplicate
// leader). For a removed document d:
//   - its text equals the kept one (same fingerprint): kind exact, partner =
//     the kept document;
//   - otherwise: the link through which d's text joined its cluster, i.e. the
//     first link on the path from d's first copy to the root: partner = the
//     other end of that link, band = the band whose bucket made them
//     candidates, similarity = their exact Jaccard (verify_mode::exact) or
//     their MinHash estimate (kind estimate, under verify_mode::estimate and
//     none; under none the link was never verified). A copy of an earlier
//     text reports that text's link: its shingle set is the same, so is the
//     similarity.
// The partner is always in d's cluster, and following partners from any
// removed document reaches the kept document.
//
// Near misses: up to evidence.near_misses distinct rejected pairs, with their
// similarity computed as above, concentrated just under the threshold: the
// clusterer samples up to near_miss_candidates × evidence.near_misses
// rejected pairs by a seeded hash of the pair (a uniform sample, bounded),
// and of those the evidence.near_misses most similar are kept (ties: by
// (a, b)). Both lists are pure functions of (texts, options), independent of
// the thread count.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "neardup/cluster.hpp"
#include "neardup/enum_names.hpp"
#include "neardup/executor.hpp"
#include "neardup/hash.hpp"
#include "neardup/types.hpp"

namespace neardup::pipeline {

enum class evidence_kind : std::uint8_t {
  exact,     // same normalized text as the partner
  jaccard,   // exact Jaccard of the shingle sets
  estimate,  // MinHash estimate of the Jaccard
};
// Spellings (enum_names.hpp), as written in evidence.tsv: exact, jaccard, estimate.
constexpr std::array<enum_name<evidence_kind>, 3> enum_names(evidence_kind) noexcept {
  return {{{evidence_kind::exact, "exact"}, {evidence_kind::jaccard, "jaccard"}, {evidence_kind::estimate, "estimate"}}};
}

// Rejected pairs sampled per near miss kept (see above).
inline constexpr std::size_t near_miss_candidates = 4;

struct evidence_options {
  bool record = false;           // fill dedup_result::evidence
  std::size_t near_misses = 1000;  // rejected pairs sampled, at most
};

struct removal_evidence {
  doc_id doc = 0;      // the removed document
  doc_id partner = 0;  // the document it was verified against (see above)
  evidence_kind kind = evidence_kind::exact;
  double similarity = 1;  // 1 for exact
  std::uint32_t band = 0;  // meaningless for exact
};

struct pair_evidence {
  doc_id a = 0, b = 0;  // a < b
  evidence_kind kind = evidence_kind::jaccard;
  double similarity = 0;
  std::uint32_t band = 0;  // the first band that made them candidates
};

struct dedup_evidence {
  std::vector<removal_evidence> removed;  // one per removed document, in document order
  std::vector<pair_evidence> near_misses;  // sorted by (a, b)
  std::uint64_t rejected = 0;              // rejected verifications in all (near_misses samples them)
};

// Similarity of two documents that took part in LSH (their first copies).
using pair_similarity = std::function<double(doc_id, doc_id)>;

// Builds the evidence from the engine's arrays: exact_leader (exact_groups),
// kept_of (choose_kept_documents), the clusterer's trace (may
// be null for exact-only runs) and the similarity of a linked pair, computed
// on `pool` when given. `kind` is what `similarity` returns. Of the trace's
// rejected pairs, the `near_misses` most similar are kept.
// A removed document is an exact copy of its kept document when both have
// one exact leader (equal fingerprints).
// REQUIRES: exact_leader, kept_of of one size.
dedup_evidence collect_evidence(std::span<const doc_id> exact_leader, std::span<const doc_id> kept_of,
                                const cluster_trace* trace,
                                const pair_similarity& similarity, evidence_kind kind, executor* pool,
                                std::size_t near_misses = SIZE_MAX);

}  // namespace neardup::pipeline

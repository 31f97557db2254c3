// neardup/jobs/pairs.hpp — similar pairs of a corpus, and the measurement of
// dedup's accuracy against the exact answer.
//
// run_pairs() lists every pair of documents whose shingle sets have Jaccard
// >= threshold: exactly (all-pairs join with prefix filtering, allpairs.hpp)
// or from MinHash LSH candidates checked with dedup's verification mode.
//
// run_eval() runs the dedup pipeline and the exact join on the same corpus
// and compares them: precision, recall and F1 of "has a near duplicate at
// Jaccard >= T", the fraction of exact pairs that dedup put in one cluster,
// and false merges (clusters that join documents not connected by any chain
// of pairs with Jaccard >= T), with the documents involved (false_merges.tsv).
//
//   neardup::jobs::pairs_options o;  o.threshold = 0.8;  o.exact = true;
//   auto r = neardup::jobs::run_pairs(sources, "out", o);   // out/pairs.tsv, out/stats.json
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "neardup/jobs/dedup.hpp"
#include "neardup/jobs/options.hpp"
#include "neardup/pipeline/options.hpp"

namespace neardup::jobs {

// job_options::compression must stay none: pairs.tsv is not compressed.
struct pairs_options : job_options, pipeline::similarity_options {
  bool exact = false;   // exact all-pairs join instead of LSH candidates
  // LSH mode: member i of a bucket is paired with its max_partners
  // predecessors (bounds work on huge buckets; see candidates.hpp).
  std::size_t max_partners = 256;
};

struct pairs_report {
  std::uint64_t documents = 0;
  std::uint64_t pairs = 0;
  std::uint64_t candidate_pairs = 0;  // LSH mode: before verification
  std::uint64_t capped_pairs = 0;     // LSH mode: left out by max_partners
  double seconds = 0;
};

// Writes OUTDIR/pairs.tsv (id1<TAB>id2<TAB>jaccard, sorted by document
// position; jaccard is exact unless verify is none/estimate in LSH mode, then
// it is the MinHash estimate) and OUTDIR/stats.json.
pairs_report run_pairs(std::span<const io::source_info> sources, const std::string& out_dir,
                       const pairs_options& options);

struct eval_report {
  double threshold = 0;
  std::uint64_t documents = 0;
  std::uint64_t truth_positive = 0;      // documents with an exact neighbour >= T
  std::uint64_t predicted_positive = 0;  // documents in a dedup cluster of size >= 2
  std::uint64_t true_positive = 0;
  double precision = 1;
  double recall = 1;
  double f1 = 1;
  std::uint64_t truth_pairs = 0;      // pairs with exact Jaccard >= T
  std::uint64_t pairs_recovered = 0;  // of those, pairs dedup put in one cluster
  double pair_recall = 1;
  std::uint64_t false_merge_clusters = 0;  // clusters spanning several exact components
  std::uint64_t false_merge_documents = 0;  // documents in such clusters
  std::uint64_t false_merges_listed = 0;    // rows of false_merges.tsv
  double dedup_seconds = 0;
  double exact_seconds = 0;
};

// Rows of false_merges.tsv at most.
inline constexpr std::uint64_t eval_false_merges_listed = 1000;

// Runs dedup (writing its outputs to out_dir) and the exact join; writes
// out_dir/eval.json and (with write_documents) out_dir/false_merges.tsv and
// returns the comparison.
// false_merges.tsv (id, kept_id, doc, kept_doc) lists the members of falsely
// merged clusters that are not connected to the document kept for them by a
// chain of pairs with exact Jaccard >= T (doc, kept_doc: positions in the
// corpus, as in evidence.tsv), in document order, at most
// eval_false_merges_listed rows; eval.json says how many it lists.
eval_report run_eval(std::span<const io::source_info> sources, const std::string& out_dir,
                     const dedup_options& options);

}  // namespace neardup::jobs

// neardup/pipeline/dedup.hpp — the dedup engine: stages chained, no I/O.
//
// dedup() takes texts in memory and returns, per document, the document its
// cluster keeps and the cluster it belongs to, with the counts of the run.
// It applies exactly what `neardup dedup` applies — exact duplicates first,
// LSH candidates, verification, union-find clustering, the keep policy — so
// the same texts in a JSONL file give the same decisions on the command line.
//
//   std::vector<std::string_view> texts = {"the cat sat on the mat ...", ...};
//   neardup::executor pool;                          // one thread per core
//   neardup::pipeline::dedup_options o;              // threshold 0.8, exact verification
//   neardup::pipeline::dedup_result r = neardup::pipeline::dedup(texts, o, &pool);
//   for (std::size_t d = 0; d < texts.size(); ++d)
//     if (r.kept_of[d] == d) keep(texts[d]);
//
// run_stages() is the same engine over documents already signed — what the
// file job calls after its first pass, with a set_provider that reads the
// shingle sets of candidates again from disk when they were not kept.
//
// Guarantees: the result is a pure function of (texts, options); not of the
// executor's thread count nor of the CPU kernel. A text without tokens is
// never a duplicate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "neardup/executor.hpp"
#include "neardup/pipeline/evidence.hpp"
#include "neardup/pipeline/options.hpp"
#include "neardup/pipeline/sink.hpp"
#include "neardup/pipeline/spill.hpp"
#include "neardup/pipeline/stages.hpp"
#include "neardup/types.hpp"

namespace neardup::pipeline {

struct stage_time {
  std::string name;
  double seconds = 0;
};

struct dedup_stats {
  std::uint64_t documents = 0;
  std::uint64_t empty_documents = 0;    // no tokens: never duplicates
  std::uint64_t short_documents = 0;    // fewer than ngram tokens: one shingle
  std::uint64_t kept = 0;
  std::uint64_t removed_exact = 0;      // removed as exact duplicates (equal fingerprints)
  std::uint64_t removed_near = 0;       // removed as near duplicates
  std::uint64_t clusters = 0;           // including singletons
  std::uint64_t largest_cluster = 0;
  doc_id largest_cluster_kept = 0;      // the document the largest cluster keeps
  std::vector<std::pair<std::size_t, std::size_t>> cluster_size_histogram;  // {size, clusters}
  lsh_params lsh{};                     // when near
  double candidate_probability_at_threshold = 0;
  std::uint64_t candidate_documents = 0;  // documents in at least one bucket
  std::uint64_t verifications = 0;
  std::uint64_t verified = 0;
  std::uint64_t rejected = 0;
  std::vector<stage_time> stages;       // seconds per stage, in order
  // Memory that grouping and clustering hold, per document: the sizes of the
  // arrays and buffers they allocate, added up (signatures and shingle sets
  // not included).
  double grouping_bytes_per_document = 0;
  std::string kernel;                   // signature kernel that ran
};

struct dedup_result {
  std::vector<doc_id> kept_of;  // per document: the document kept for its cluster (itself if kept)
  std::vector<doc_id> cluster;  // per document: its cluster's first document (its label)
  dedup_stats stats;
  dedup_evidence evidence;      // with options.evidence.record (pipeline/evidence.hpp)
};

// Documents already signed, as flat arrays of size() entries.
struct signed_documents {
  std::size_t size = 0;
  std::span<const sig_value> signatures;        // size x num_perm; may be empty when !options.near
  std::span<const hash128> fingerprints;
  std::span<const std::uint8_t> usable;         // 0: a bad record or no tokens, takes part in nothing
  std::span<const std::uint64_t> text_bytes;    // needed for keep_policy::longest only
  // Not null: signatures and band keys live on disk (pipeline/spill.hpp);
  // `signatures` is then empty and the engine reads them through this.
  spilled_stage_data* spilled = nullptr;
  // Set: every band's keys were made while signing; band_keys(b) gives band
  // b's key of every document, in pieces in document order (their sizes sum
  // to `size`; any value for a document that is not usable; the spans stay
  // valid for the run), and the engine groups those
  // instead of keying `signatures`, which is then empty: signature_of
  // (make_verifier) hands out the signatures, and, under verify_mode::exact,
  // an empty span for a document whose signature was not kept (it is made
  // again from its set when a pair needs it). The file job does this for
  // short documents: 144 bytes of keys and a set of a few values instead of
  // 512 bytes of signature (k = 128).
  std::function<std::vector<std::span<const std::uint64_t>>(std::uint32_t band)> band_keys;
  signature_lookup signature_of;
  // For fingerprints that do not sit in memory (a mapped file): the exact
  // grouping sorts at most this many bytes of them at a time and calls
  // release_fingerprints as it reads them (exact_groups); nothing else reads
  // them.
  std::uint64_t exact_sort_bytes = UINT64_MAX;
  std::function<void()> release_fingerprints;
  // false: dedup_result::cluster is left empty, for callers that need
  // kept_of alone (with keep_policy::first the labels are kept_of, and
  // are not copied: 4 bytes per document less).
  bool cluster_labels = true;
};

// Where exact verification finds shingle sets (sorted, unique values).
class set_provider {
 public:
  virtual ~set_provider() = default;
  // `wanted` marks the candidates. Clear the marks of documents whose sets
  // are at hand already; return true when some are left for load().
  virtual bool missing(std::vector<std::uint8_t>& wanted) = 0;
  // Makes the sets of the marked documents available.
  virtual void load(const std::vector<std::uint8_t>& wanted) = 0;
  // REQUIRES: d was a candidate.
  virtual std::span<const std::uint64_t> set(doc_id d) const = 0;
};

// How a run executes: where it runs, whom it tells.
struct run_context {
  executor* pool = nullptr;          // null: the calling thread only
  sink* events = nullptr;            // null: nobody
  std::uint64_t progress_total = 0;  // units a whole-corpus stage counts up to (bytes of input)
};

// The engine after signing: exact groups, candidates, set loading, clusters,
// the kept documents and the counts. `sets` is needed for verify_mode::exact
// only. stats.stages lists "exact", "candidates", ["load_candidates",]
// "cluster" (near) or "exact" (exact only), then "evidence" when
// options.evidence.record.
// Throws std::invalid_argument for bad options or arrays of the wrong size.
dedup_result run_stages(const signed_documents& docs, const dedup_options& options, set_provider* sets,
                        const run_context& context = {});

// The whole engine over texts in memory (signing included; stats.stages
// starts with "sign").
dedup_result dedup(std::span<const std::string_view> texts, const dedup_options& options,
                   executor* pool = nullptr, sink* events = nullptr);

}  // namespace neardup::pipeline

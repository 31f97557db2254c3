// neardup/io/dedup.hpp — the end-to-end near-duplicate removal job.
//
// run_dedup() reads a corpus (io/input.hpp), and writes to an output
// directory:
//   clusters.tsv   one line per input document, in input order: id<TAB>kept_id
//   deduped.jsonl  the kept documents (JSONL input: original lines byte for
//                  byte, in input order; text files: {"id":..,"text":..});
//                  deduped.jsonl.zst with output_compression::zstd
//   stats.json     counts, cluster-size histogram, parameters, stage timings
// Every file is written under a temporary name and renamed when complete.
//
//   neardup::io::dedup_options o;
//   o.threshold = 0.8;
//   const auto sources = neardup::io::expand_inputs({"corpus/"});
//   neardup::io::dedup_report r = neardup::io::run_dedup(sources.sources, "out", o);
//
// Passes over the input (each streams it; memory does not grow with the
// corpus except for k*4 bytes of signature and ~50 bytes of bookkeeping per
// document):
//   1. sign      parse, tokenize, shingle, fingerprint, MinHash (parallel)
//   2. exact     documents with equal fingerprints are exact duplicates
//   3. group     LSH band keys grouped by radix sort, one band at a time
//   4. verify    candidate pairs checked before merging (exact: re-reads the
//                candidate documents and compares their shingle sets)
//   5. write     outputs, in input order
//
// Guarantees: outputs are a pure function of (input bytes, options); they do
// not depend on `threads` or on the CPU's signature kernel. A document with
// no tokens is never a duplicate. Bad records are kept, reported (file:line)
// and counted, never dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/io/input.hpp"
#include "neardup/io/output.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"

namespace neardup::io {

// How a candidate pair is confirmed before its documents are merged.
enum class verify_mode : std::uint8_t {
  none,      // merge every LSH candidate (datatrove's behaviour)
  estimate,  // MinHash estimate of Jaccard >= threshold
  exact,     // exact Jaccard of the shingle sets >= threshold (default)
};

enum class keep_policy : std::uint8_t {
  first,    // the first document of a cluster in input order
  longest,  // the longest text (bytes); ties go to the first
};

struct dedup_options {
  record_options records;              // --text-field, --id-field
  tokenize_options tokens;             // --tokens word|char|code
  std::size_t ngram = 5;               // --ngram
  double threshold = 0.8;              // --threshold, Jaccard in (0, 1]
  minhash_options minhash;             // --num-perm, scheme, kernel; seed is set from `seed`
  std::optional<lsh_params> lsh;       // --bands/--rows; chosen from threshold when absent
  verify_mode verify = verify_mode::exact;
  keep_policy keep = keep_policy::first;
  bool exact_first = true;             // collapse exact duplicates before LSH
  bool near = true;                    // false: exact duplicates only (`neardup exact`), no MinHash
  std::uint64_t seed = default_seed;   // --seed
  std::size_t threads = 0;             // 0 = all cores; never changes the output
  output_compression compression = output_compression::none;  // --compress zstd
  bool progress = true;                // live progress on stderr (--quiet: false)
  std::size_t max_reported_errors = 20;  // file:line messages printed per kind
  reader_options reader;
  bool return_clusters = false;        // fill dedup_report::kept_of
  // false: write only stats.json, not clusters.tsv and the kept documents
  // (`neardup eval` without -o, which needs only dedup_report::kept_of).
  bool write_documents = true;
  // --verify exact needs the shingle sets of candidate documents. Pass 1 keeps
  // the sets of documents, in input order, while they fit in this many bytes;
  // candidates past that point are read and shingled again after grouping.
  // nullopt: a quarter of physical memory or of the cgroup's memory limit,
  // whichever is lower. 0: keep none (least memory; the candidates are
  // re-read). Never changes the output.
  std::optional<std::uint64_t> set_memory_bytes;  // --set-memory-mb
};

struct stage_time {
  std::string name;
  double seconds = 0;
};

struct dedup_report {
  std::uint64_t input_bytes = 0;        // bytes of all input files (as stored)
  std::uint64_t text_bytes = 0;         // bytes of text signed
  std::uint64_t documents = 0;          // non-blank records
  std::uint64_t blank_lines = 0;
  std::uint64_t skipped = 0;            // documents not deduplicated (bad records), kept as is
  std::uint64_t skipped_malformed_json = 0;
  std::uint64_t skipped_not_object = 0;
  std::uint64_t skipped_missing_text = 0;
  std::uint64_t skipped_text_not_string = 0;
  std::uint64_t skipped_line_too_long = 0;  // record_options::max_line_bytes
  std::uint64_t repaired_invalid_utf8 = 0;
  std::uint64_t repaired_lone_surrogate = 0;
  std::uint64_t repaired_control_chars = 0;
  std::uint64_t empty_documents = 0;    // no tokens: never duplicates
  std::uint64_t short_documents = 0;    // fewer than ngram tokens: one shingle
  std::uint64_t duplicate_ids = 0;      // documents whose id was seen before
  std::uint64_t kept = 0;
  std::uint64_t removed_exact = 0;      // removed as exact duplicates (equal fingerprints)
  std::uint64_t removed_near = 0;       // removed as near duplicates
  std::uint64_t clusters = 0;           // including singletons
  std::uint64_t largest_cluster = 0;
  std::string largest_cluster_kept_id;
  std::vector<std::pair<std::size_t, std::size_t>> cluster_size_histogram;
  lsh_params lsh{};
  double candidate_probability_at_threshold = 0;
  std::uint64_t candidate_documents = 0;  // documents in at least one bucket
  std::uint64_t verifications = 0;
  std::uint64_t verified = 0;
  std::uint64_t rejected = 0;
  std::vector<stage_time> stages;
  double seconds = 0;
  std::uint64_t peak_rss_bytes = 0;
  std::uint64_t peak_rss_before_grouping = 0;  // after signing: signatures + bookkeeping
  // Memory that grouping and clustering hold, per document: the sizes of the
  // arrays and buffers they allocate, added up (signatures and the shingle
  // sets of exact verification, verify_set_bytes, not included).
  double grouping_bytes_per_document = 0;
  std::uint64_t verify_set_bytes = 0;
  std::string kernel;                   // signature kernel that ran
  // Per document in input order (blank lines are not documents): the kept
  // document of its cluster (itself if kept). Filled when
  // dedup_options::return_clusters is set.
  std::vector<doc_id> kept_of;
};

// Runs the job. Throws std::invalid_argument for bad options and
// std::runtime_error for I/O errors (naming the file); on a throw no output
// file is left that looks finished.
dedup_report run_dedup(std::span<const source_info> sources, const std::string& out_dir,
                       const dedup_options& options);

// The (bands, rows) used when dedup_options::lsh is not set. With
// verification: the fewest false candidates that still give P(candidate) >=
// default_recall_at_threshold for a pair exactly at the threshold
// (choose_params_for_recall). Without: datasketch's balance of false
// positives and false negatives (choose_params).
inline constexpr double default_recall_at_threshold = 0.99;
lsh_params default_lsh_params(double threshold, std::size_t num_perm, verify_mode verify);

// Peak resident set size of this process so far (VmHWM), 0 if unknown.
std::uint64_t peak_rss_bytes();

std::string_view to_string(verify_mode m) noexcept;
std::string_view to_string(keep_policy k) noexcept;

}  // namespace neardup::io

// neardup/jobs/dedup.hpp — the file-to-file near-duplicate removal job.
//
// run_dedup() reads a corpus (io/input.hpp), runs the dedup engine
// (pipeline/dedup.hpp) and writes to an output directory:
//   clusters.tsv   one line per input document, in input order: id<TAB>kept_id
//   deduped.jsonl  the kept documents (JSONL input: original lines byte for
//                  byte, in input order; text files: {"id":..,"text":..});
//                  deduped.jsonl.zst with output_compression::zstd
//   stats.json     counts, cluster-size histogram, parameters, stage timings
//   evidence.tsv   the audit trail (pipeline/evidence.hpp), a header line, then
//                  one line per removed document in input order:
//                  id kept_id partner_id kind similarity band doc partner_doc kept_doc
//                  kind: exact | jaccard (exact Jaccard) | estimate (MinHash);
//                  band '-' for exact; *_doc: 0-based document numbers (the
//                  line of clusters.tsv); similarity reads back exactly
//   near_misses.tsv  a seeded sample of rejected candidate pairs, the most similar
//                  (at most options.evidence.near_misses; pipeline/evidence.hpp):
//                  a_id b_id kind similarity band a_doc b_doc
//   sources.tsv    per source in order: source path(absolute) kind documents kept
//                  removed_exact removed_near removed_text_bytes (a source's
//                  documents are the next `documents` document numbers)
// The evidence files are always written (evidence.record is ignored).
// Every file is written under a temporary name and renamed when complete.
//
//   neardup::jobs::dedup_options o;
//   o.threshold = 0.8;
//   const auto sources = neardup::io::expand_inputs({"corpus/"});
//   neardup::jobs::dedup_report r = neardup::jobs::run_dedup(sources.sources, "out", o);
//
// The job adds only I/O to the engine: pass 1 reads, parses and signs every
// record (pipeline::document_signer, in parallel chunks consumed in input
// order) and keeps shingle sets within a memory budget; the engine's stages
// run over the arrays it built (reading candidates' sets again when they
// were not kept); the write pass copies kept lines by byte range.
//
// Bounded memory (job_options::memory_bytes, tmp_dir): before pass 1 the job
// estimates the documents, the memory of an in-memory run and the disk a
// spilled one needs, and reports the plan ("plan: ...") to the events. When
// the in-memory run would pass the budget, pass 1 writes the document table
// (offsets, lines, ids, fingerprints) to mapped unnamed files whose pages
// each pass drops as it goes, and signatures and sorted band-key runs to
// unnamed files in tmp_dir (all freed however the process ends); the engine
// merges the runs band by band and sorts the fingerprints slice by slice; it
// refuses before pass 1 when the disk cannot hold them, and a full disk later
// fails the run with no outputs. What stays in memory: the engine's
// per-document arrays (about 32 bytes per document: flags, exact leaders,
// union-find, representatives, the kept document) and the shingle sets of
// the candidates for exact verification.
//
// Guarantees: outputs are a pure function of (input bytes, options); they do
// not depend on `threads`, on the memory budget or on the CPU's signature
// kernel. A document with
// no tokens is never a duplicate. Bad records are kept, reported (file:line)
// and counted, never dropped. The same texts given to pipeline::dedup() get
// the same decisions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "neardup/io/input.hpp"
#include "neardup/jobs/options.hpp"
#include "neardup/pipeline/dedup.hpp"
#include "neardup/pipeline/options.hpp"

namespace neardup::jobs {

using pipeline::keep_policy;
using pipeline::verify_mode;

// Documents deduplicated before this run (a stored index, jobs/stored_index.hpp).
// They come first in the engine's order, so with keep_policy::first an input
// document that joins a cluster of theirs is removed; their own decisions
// are not changed. Numbers: prior document p is p; input document d is size + d.
//
// The run never regroups them: it looks the input's band keys up in their
// sorted band-key runs (band_matches), and reads the signatures, sets and
// fingerprints of the prior documents that collide with the input only. Their
// clusters among themselves were decided when they were stored (cluster).
// All functions are called from many threads at once.
struct prior_documents {
  std::size_t size = 0;
  std::function<hash128(doc_id)> fingerprint;
  // Copies prior document p's num_perm signature values into `out`.
  std::function<void(doc_id, std::span<sig_value>)> signature;
  // The smallest prior document of p's cluster: the clusters of one run over
  // every prior document (what storing them decided, and what later inputs
  // joined, see prior_join).
  std::function<doc_id(doc_id)> cluster;
  // For band `band` and keys in ascending order, appends {i, p} for every
  // prior document p whose key in that band is keys[i] (any order).
  std::function<void(std::uint32_t band, std::span<const std::uint64_t> keys,
                     std::vector<std::pair<std::uint32_t, doc_id>>& out)>
      band_matches;
  std::function<std::string(doc_id)> id;   // names prior document p in clusters.tsv and evidence.tsv
  std::function<std::span<const std::uint64_t>(doc_id)> set;  // its shingle set (verify_mode::exact)
};

// Two clusters of prior documents that an input joined: the cluster whose
// smallest document is `from` now belongs to the one of `to` (to < from).
struct prior_join {
  doc_id from = 0;
  doc_id to = 0;
  friend bool operator==(const prior_join&, const prior_join&) = default;
};

// The input's documents as a run saw them, for a caller that stores them
// (dedup_options::on_signed). Valid during the call only.
struct signed_input {
  std::size_t size = 0;
  std::span<const sig_value> signatures;   // size x num_perm
  std::span<const hash128> fingerprints;
  std::span<const std::uint8_t> usable;
  std::span<const doc_id> kept_of;         // kept_of[d] == d: kept; >= size: kept by prior document kept_of[d] - size
  std::function<std::string(doc_id)> id;
  std::function<std::span<const std::uint64_t>(doc_id)> set;  // with dedup_options::keep_all_sets
  std::span<const prior_join> joins;       // prior clusters the input joined (with dedup_options::prior)
};

struct dedup_options : job_options, pipeline::dedup_options {
  // --verify exact needs the shingle sets of candidate documents. Pass 1 keeps
  // the sets of documents, in input order, while they fit in this many bytes;
  // candidates past that point are read and shingled again after grouping.
  // nullopt: a quarter of physical memory or of the cgroup's memory limit,
  // whichever is lower. 0: keep none (least memory; the candidates are
  // re-read). Never changes the output.
  std::optional<std::uint64_t> set_memory_bytes;  // --set-memory-mb
  bool return_clusters = false;                   // fill dedup_report::kept_of
  // false: write only stats.json, not clusters.tsv and the kept documents
  // (`neardup eval` without -o, which needs only dedup_report::kept_of).
  bool write_documents = true;
  // Deduplicate against these documents as well (REQUIRES keep_policy::first).
  const prior_documents* prior = nullptr;
  // Called after the engine, before the outputs are written.
  std::function<void(const signed_input&)> on_signed;
  // Keep the shingle set of every input document for on_signed (more memory).
  bool keep_all_sets = false;
};

// The engine's counts plus what the job read and wrote.
struct dedup_report : pipeline::dedup_stats {
  std::uint64_t input_bytes = 0;        // bytes of all input files (as stored)
  std::uint64_t text_bytes = 0;         // bytes of text signed
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
  std::uint64_t duplicate_ids = 0;      // documents whose id was seen before
  std::string largest_cluster_kept_id;
  double seconds = 0;
  std::uint64_t peak_rss_bytes = 0;
  std::uint64_t verify_set_bytes = 0;   // shingle sets held for exact verification
  // MinHash signatures held after pass 1: num_perm * 4 bytes per document,
  // or fewer when short documents' sets stand in for theirs (in memory with
  // verify_mode::exact).
  std::uint64_t signature_bytes = 0;
  // Bounded memory (job_options::memory_bytes): the budget, the plan made
  // before pass 1, and what was spilled to disk.
  std::uint64_t memory_budget_bytes = 0;
  std::uint64_t planned_documents = 0;   // estimated before pass 1
  std::uint64_t planned_disk_bytes = 0;  // 0: no spill planned
  bool spilled = false;
  std::uint64_t spill_bytes_written = 0;
  std::uint64_t spill_runs_per_band = 0;
  // Per document in input order (blank lines are not documents): the kept
  // document of its cluster (itself if kept). Filled when
  // dedup_options::return_clusters is set.
  std::vector<doc_id> kept_of;
};

// Runs the job. Throws std::invalid_argument for bad options and
// std::runtime_error for I/O errors (naming the file); on a throw no output
// file is left that looks finished.
dedup_report run_dedup(std::span<const io::source_info> sources, const std::string& out_dir,
                       const dedup_options& options);

}  // namespace neardup::jobs

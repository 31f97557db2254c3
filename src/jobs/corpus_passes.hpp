// Internal: the passes over a corpus that several commands share (dedup,
// exact, pairs, eval). Each pass streams the sources with parallel workers and
// consumes results in input order (chunk_pipeline.hpp), so what it builds is
// independent of the thread count.
//
//   scan_corpus        parse + tokenize + fingerprint (+ MinHash) every record,
//                      keeping shingle sets within a memory budget
//   load_shingle_sets  re-read and keep the shingle sets of chosen documents
//   write_kept         clusters.tsv + deduped.jsonl in input order
#pragma once

#include <bit>
#include <chrono>
#include <functional>
#include <memory>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/executor.hpp"
#include "neardup/io/input.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/output.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/jobs/options.hpp"
#include "neardup/pipeline/sink.hpp"
#include "neardup/pipeline/stages.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"
#include "neardup/types.hpp"
#include "spill.hpp"

namespace neardup::jobs::detail {

using namespace neardup::io;  // the passes are made of io: sources, records, outputs
using pipeline::sink;

// What the passes remember of a document (48 bytes + its id; its
// fingerprint and signature live in corpus_index's flat arrays).
struct doc_meta {
  std::uint64_t line = 0;
  std::uint64_t text_bytes = 0;
  std::uint64_t id_offset = 0;    // into corpus_index::ids
  std::uint64_t byte_offset = 0;  // of the line (record::raw) in the decompressed source
  std::uint32_t id_length = 0;    // 0: the id is SOURCE:LINE
  std::uint32_t source = 0;
  std::uint32_t raw_length = 0;   // bytes of record::raw; UINT32_MAX: that many or more
  record_status status = record_status::ok;
  std::uint8_t flags = 0;
  bool has_tokens = false;
  bool short_doc = false;       // fewer tokens than the n-gram size: one shingle
};

// Shingle sets that pass 1 kept (pass_options::keep_sets_bytes): those of
// documents [0, of.size()), in input order; documents without tokens, bad
// records and (with pass_options::sets_of_first_copy_only) repeated texts
// whose set is not small have an empty one. The values live in large blocks that are filled, never
// regrown, so keeping more never copies what is kept.
struct scanned_sets {
  std::vector<std::vector<std::uint64_t>> blocks;
  std::vector<std::span<const std::uint64_t>> of;  // of[d]: set of document d
  std::uint64_t bytes = 0;                         // values kept, in bytes
  bool complete = true;                            // false: the budget ended it early

  // Copies `set` into the blocks and returns where it now lives.
  std::span<const std::uint64_t> store(std::span<const std::uint64_t> set);
};

// Loops over a spilled document table drop its pages (release_table())
// every this many + 1 documents: 2^16, about 4 MiB of the table.
inline constexpr std::size_t table_release_mask = (std::size_t{1} << 16) - 1;
// Loops that read the table in another order (evidence, by removed
// document) drop its pages every this many + 1 documents: each read in no
// order maps up to 64 KiB around it (the kernel's fault-around), so 256
// documents of a few reads each keep about 50 MiB resident, not the table.
inline constexpr std::size_t scattered_release_mask = 255;

// Documents are the non-blank records, numbered in input order. The
// document table (docs, fingerprints, ids) is in memory, or, for a run past
// its memory budget (pass_options::spill_table), in mapped temporary files
// whose pages the passes drop from memory as they go (release_table()).
struct corpus_index {
  spill_array<doc_meta> docs;
  spill_array<hash128> fingerprints;           // one per document ({} without tokens)
  std::vector<sig_value> signatures;           // num_perm per document, when signed
  std::size_t num_perm = 0;                    // 0: no signatures
  // With pass_options::band_keys: band_keys[c][b] = band b's keys of the
  // documents of chunk c (moved from the worker that made them, which
  // faulted their pages in, not the ordered consumer), and only some
  // signatures are kept: document d's is signatures[signature_slot[d] *
  // num_perm, + num_perm), none for no_slot.
  std::vector<std::vector<std::vector<std::uint64_t>>> band_keys;
  std::size_t num_bands = 0;  // with band keys
  std::vector<std::uint32_t> signature_slot;
  static constexpr std::uint32_t no_slot = UINT32_MAX;
  spill_array<char> ids;
  std::vector<std::uint64_t> chunk_first_doc;  // first document of each chunk
  std::vector<std::uint64_t> source_bytes;     // decompressed bytes of each source
  scanned_sets sets;                           // when pass_options::keep_sets_bytes > 0
  // Sorted: documents whose id an earlier document already has. Their id is
  // written ID@SOURCE:LINE so that every clusters.tsv row names one document.
  std::vector<doc_id> repeated_ids;
  // Names documents numbered size() and up: documents of an earlier run
  // (dedup_options::prior), prior_id(d - size()).
  std::function<std::string(doc_id)> prior_id;

  std::size_t size() const noexcept { return docs.size(); }
  std::string_view id_bytes(const doc_meta& m) const noexcept { return {ids.data() + m.id_offset, m.id_length}; }
  // Drops the pages of a spilled document table from memory (no-op in
  // memory); the next access reads them back from the page cache or disk.
  void release_table() const noexcept {
    docs.release();
    fingerprints.release();
    ids.release();
  }
  // Writes band b's key of every document into `out` (size() entries).
  // Band `band`'s keys, one piece per chunk, in document order.
  std::vector<std::span<const std::uint64_t>> band_pieces(std::uint32_t band) const;
  // Empty when the signature was not kept (pass_options::band_keys).
  std::span<const sig_value> signature(doc_id d) const noexcept {
    const std::size_t slot = signature_slot.empty() ? d : signature_slot[d];
    if (slot == no_slot) return {};
    return {signatures.data() + slot * num_perm, num_perm};
  }
  // The document's id, or SOURCE:LINE when the record has none; a repeated
  // id (repeated_ids) is followed by @SOURCE:LINE.
  std::string id_of(std::span<const source_info> sources, doc_id d) const;
  // Appends append_tsv_field(id_of(sources, d)) without building the id.
  void append_id_field(std::string& out, std::span<const source_info> sources, doc_id d) const;
};

struct scan_counts {
  std::uint64_t blank_lines = 0;
  std::uint64_t text_bytes = 0;
  std::uint64_t skipped = 0;
  std::uint64_t skipped_by_status[8] = {};  // indexed by record_status
  std::uint64_t repaired_invalid_utf8 = 0;
  std::uint64_t repaired_lone_surrogate = 0;
  std::uint64_t repaired_control_chars = 0;
  std::uint64_t empty_documents = 0;
  std::uint64_t short_documents = 0;
  std::uint64_t duplicate_ids = 0;
};

// A shingle set of at most this many values takes at most half the bytes of
// a signature of num_perm values. Pass 1 lets such a set stand in for the
// document's signature (pass_options::band_keys) and keeps it even for a
// repeated text (pass_options::sets_of_first_copy_only): cheaper than looking
// the text up.
constexpr std::size_t small_set_values(std::size_t num_perm) noexcept { return num_perm / 4; }

struct pass_options {
  record_options records;
  shingle_options shingles;
  executor* pool = nullptr;  // null: the calling thread only
  reader_options reader;
  std::size_t max_reported_errors = 20;  // file:line lines printed per kind
  // scan_corpus keeps the shingle sets of documents, in input order, while
  // they fit in this many bytes (0: none), so that a later pass need not read
  // the corpus again for them.
  std::uint64_t keep_sets_bytes = 0;
  // A document whose text equals an earlier one's (same fingerprint) gets no
  // kept set, unless the set is small (small_set_values): for callers that
  // leave exact duplicates out of comparisons.
  bool sets_of_first_copy_only = false;
  // false: scan_corpus leaves ids alone (no warnings, no repeated_ids), for a
  // scan of one part of a corpus whose ids are checked once over all parts.
  bool check_duplicate_ids = true;
  // Set: scan_corpus hands each chunk's signatures, in input order, to this
  // (first document, values) instead of keeping them in
  // corpus_index::signatures (a run past its memory budget; spill.hpp).
  std::function<void(std::uint64_t first_doc, std::span<const sig_value> sigs)> spill_signatures;
  // Set (with a hasher, keep_sets_bytes and no spill_signatures):
  // scan_corpus makes every document's band keys right after signing it
  // (corpus_index::band_keys), and keeps the signature only of the documents
  // that the engine may need it for: not of a document that takes part in
  // nothing (no tokens, a bad record), nor of one whose kept set is small
  // (small_set_values: half the signature's bytes or less), which the
  // verifier makes again from the set when a pair passes on its sets
  // (pipeline::make_verifier over a signature_lookup). 1 million tiny
  // documents: 512 bytes per document become 144 of keys and ~32 of set.
  const bander* band_keys = nullptr;
  // An estimate of the number of documents (0: estimate it from the first
  // chunk). The per-document arrays are reserved once for a quarter more:
  // growing a vector holds the old and new copies at once, and untouched
  // reserved pages cost no memory.
  std::uint64_t expected_documents = 0;
  // Set: scan_corpus puts the document table (docs, fingerprints, ids) in
  // mapped temporary files in this directory, counted by spill_bytes.
  std::string spill_table_dir;
  spill_counter* spill_bytes = nullptr;
  // Sorts of a key per document (duplicate ids) hold at most this many
  // bytes at a time.
  std::uint64_t sort_bytes = UINT64_MAX;
  // write_kept: kept lines of plain inputs from this many bytes on are
  // written in two shares, the second by a pool thread (UINT64_MAX: never).
  std::uint64_t kept_split_min_bytes = std::uint64_t{4} << 20;
};

// The pass settings of a job's options (fields, reader, error reporting) and
// of its similarity options (tokens, n-gram, seed), running on `pool`.
pass_options pass_options_for(const job_options& job, const pipeline::similarity_options& similarity,
                              executor& pool);

// The smallest job_options::memory_bytes accepted (tests use it to run every
// spill path on small corpora; the CLI's --memory-mb starts at 1 MiB).
inline constexpr std::uint64_t min_memory_budget_bytes = std::uint64_t{64} << 10;

// Checks what the engine's validate() does not: the record settings and the
// memory budget.
void validate(const job_options& o);

// Where a job's progress and notices go: job_options::events, or a progress
// display on stderr.
class job_events {
 public:
  explicit job_events(const job_options& o);
  sink* get() noexcept { return sink_; }
  sink* operator->() noexcept { return sink_; }
  sink& operator*() noexcept { return *sink_; }

 private:
  std::unique_ptr<progress_meter> meter_;
  sink silent_;  // does nothing
  sink* sink_;
};

// Ends a command's stats.json object with "seconds" and "peak_rss_bytes" and
// writes it to OUT_DIR/stats.json (atomically). `w` writes into `json`.
void finish_stats(json_writer& w, std::string& json, double seconds, const std::string& out_dir);

// A record a pass does not process (bad JSON, no text field, ...).
struct record_problem {
  record_status status;
  std::uint32_t source;
  std::uint64_t line;
  std::string_view error;  // record::error, a static message
};

// Reports per-record problems to the job's sink as "FILE:LINE: ...", in
// input order (call it from a pass's consumer). At most max_per_kind lines
// per kind of problem, then one line saying the rest are only counted;
// max_per_kind = 0 (--quiet) prints nothing at all.
class problem_reporter {
 public:
  // `outcome` ends each skipped-record line, e.g. "kept in the output unchanged".
  problem_reporter(std::span<const source_info> sources, std::size_t max_per_kind, std::string outcome,
                   sink& meter)
      : sources_(sources), max_(max_per_kind), outcome_(std::move(outcome)), meter_(meter) {}
  // "skipped (STATUS: ERROR); OUTCOME"
  void skipped(const record_problem& p);
  // Any other notice about one record; counted as one kind of its own.
  void note(std::uint32_t source, std::uint64_t line, std::string_view what);

 private:
  bool admit(std::size_t kind, std::string_view kind_name);

  std::span<const source_info> sources_;
  std::size_t max_;
  std::string outcome_;
  sink& meter_;
  std::uint64_t seen_[9] = {};  // per record_status, and [8] for notes
};

// Pass 1. Signs documents with `hasher` when it is not null. Reports bad
// records as file:line through `meter` and counts them; warns on duplicate ids.
corpus_index scan_corpus(std::span<const source_info> sources, const pass_options& options,
                         const minhasher* hasher, sink& meter, scan_counts& counts);

// Counts (and warns about, at most max_reported_errors times) documents whose
// id an earlier document has, and fills corpus.repeated_ids. scan_corpus does
// this itself unless options.check_duplicate_ids is false.
void warn_duplicate_ids(std::span<const source_info> sources, corpus_index& corpus, const pass_options& options,
                        sink& meter, scan_counts& counts);

// Sorted shingle sets of the documents d with wanted[d] != 0, flat, in
// document order: 8 bytes per set plus 1.5 bits per document (a bitmap of
// the documents with a set, and a rank per 64 documents), so that a few
// candidates among many documents take little memory. Empty for the others.
// The values are in memory, or, after spill_to(), in an unnamed temporary
// file that add() moves them to every MiB (read() reads a set back).
struct shingle_sets {
  std::vector<std::uint64_t> values;          // those not in `file`
  std::vector<std::uint64_t> has;             // bit d: document d has a set
  std::vector<std::uint32_t> rank;            // sets before each 64 documents
  std::vector<std::uint64_t> begin = {0};     // set i = values [begin[i], begin[i+1]) of all added
  std::unique_ptr<spill_file> file;           // set: the values that were moved to disk
  std::uint64_t filed = 0;                    // values in `file`, which precede `values`

  // Puts the values in a temporary file in `dir`. REQUIRES: nothing added.
  void spill_to(const std::string& dir, spill_counter& counter);
  // Adds the set of document d. REQUIRES: d above every document added.
  void add(doc_id d, std::span<const std::uint64_t> set);
  // Ends the adding; `documents` is the size of the corpus.
  void finish(std::size_t documents);
  // Where each document's set begins, for all documents + 1 (sets_view's
  // begin): for callers that want every set.
  std::vector<std::uint64_t> dense_begin() const;
  std::size_t documents = 0;
  // REQUIRES: the values are in memory (no spill_to()).
  std::span<const std::uint64_t> operator[](doc_id d) const noexcept {
    const std::size_t i = index(d);
    if (i == SIZE_MAX) return {};
    return {values.data() + begin[i], begin[i + 1] - begin[i]};
  }
  // Document d's set, in memory or read from the file into `buf`.
  std::span<const std::uint64_t> read(doc_id d, std::vector<std::uint64_t>& buf) const;

 private:
  // The number of d's set; SIZE_MAX when d has none.
  std::size_t index(doc_id d) const noexcept {
    const std::uint64_t word = has[d >> 6], bit = std::uint64_t{1} << (d & 63);
    if ((word & bit) == 0) return SIZE_MAX;
    return rank[d >> 6] + static_cast<std::size_t>(std::popcount(word & (bit - 1)));
  }
  void flush();
};
// `spill`: with options.spill_table_dir set, the values go to a temporary
// file there (shingle_sets::spill_to) instead of staying in memory.
shingle_sets load_shingle_sets(std::span<const source_info> sources, const corpus_index& corpus,
                               std::span<const std::uint8_t> wanted, const pass_options& options,
                               sink& meter, bool spill = false);

// Documents of source s are [first[s], first[s + 1]) of the returned
// num_sources + 1 numbers (documents are numbered in input order).
std::vector<std::size_t> first_doc_of_sources(const corpus_index& corpus, std::size_t num_sources);

// Writes clusters.tsv (id<TAB>kept_id per document) and the kept documents
// (original JSONL lines; text files as {"id","text"}) in input order.
// keeper[d] == d: document d is kept. clusters.tsv comes from the index alone
// (with options.threads > 1, blocks of its rows are formatted on the pool's
// threads while the kept lines are copied, and written in order). The kept lines of plain
// JSONL files are copied by their byte ranges from pass 1, runs of adjacent
// lines at once (atomic_file::copy_from), after checking that each file has
// the size and modification time pass 1 saw; other sources (compressed, text
// files, files whose size does not match, such as /proc files) are re-read and
// every line checked against pass 1. A difference throws "the input changed".
// An empty kept_path writes clusters.tsv only (the kept lines are written
// elsewhere: write_kept_at). Returns the files written under their temporary
// names, in the order to commit them (clusters.tsv, then the kept lines): the
// caller commits them when its other outputs are written too; dropped, they
// are removed.
[[nodiscard]] std::vector<atomic_file> write_kept(std::span<const source_info> sources, const corpus_index& corpus,
                                                  std::span<const doc_id> keeper, const std::string& clusters_path,
                                                  const std::string& kept_path, output_compression compression,
                                                  const pass_options& options, sink& meter);

// The kept lines of one source (or byte range of one: a part, jobs/parts.hpp)
// as write_kept writes them, into the existing file `path` from byte `offset`
// on, with pwrite(2), so that parts written by different processes fill one
// file. corpus.source_bytes[0] must be the size of the whole file as pass 1
// saw it. Returns the bytes written.
std::uint64_t write_kept_at(const source_info& source, const corpus_index& corpus, std::span<const doc_id> keeper,
                            const std::string& path, std::uint64_t offset, const pass_options& options, sink& meter);

// Appends a record as an output JSONL line: the original line byte for byte,
// or {"id":..,"text":..} for a document read from a text file.
void append_document_line(std::string& out, const input_chunk& chunk, const record& r);

// Appends the record with its text replaced by `text`, every other byte of the
// line kept. Returns false (appending nothing) when the text literal's place
// in the line is unknown (record::text_token is empty).
bool append_rewritten_line(std::string& out, const input_chunk& chunk, const record& r, std::string_view text);

// Creates the output directory (and parents); throws naming it on failure.
void make_output_dir(const std::string& dir);

// Bytes of the sources as stored (for progress and MB/s).
std::uint64_t stored_bytes(std::span<const source_info> sources) noexcept;

// Wall-clock seconds of named stages, in order.
class stage_timer {
 public:
  void start(std::string name);
  void stop();
  const std::vector<std::pair<std::string, double>>& stages() const noexcept { return stages_; }

 private:
  std::vector<std::pair<std::string, double>> stages_;
  std::string name_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace neardup::jobs::detail

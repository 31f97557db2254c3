// neardup/jobs/stored_index.hpp — a stored index of deduplicated documents:
// deduplicate new batches against everything kept before, and ask which
// stored documents are near duplicates of a text, in milliseconds.
//
// (Not the in-memory neardup::lsh_index of index.hpp: this one lives on disk
// and outlives the process.)
//
//   namespace nj = neardup::jobs;
//   nj::dedup_options o;                        // threshold, k, n-gram, tokens, seed, ...
//   nj::build_index(sources_a, "idx", o);       // index A (A deduplicated first)
//   nj::run_dedup_against(sources_b, "out_b", o, "idx", /*update=*/true);
//   // out_b/deduped.jsonl: B without what duplicates A or an earlier B document
//   nj::stored_index idx = nj::stored_index::open("idx");
//   for (const nj::index_match& m : idx.query("some text", {.top_k = 5}))
//     std::printf("%s %.3f%s\n", m.id.c_str(), m.jaccard, m.exact ? "" : " (estimate)");
//
// SEMANTICS: deduplicating B against index(A) and adding it gives, for B's
// documents, exactly the decisions of one `neardup dedup A B --keep first`;
// the same for A, B, C in three steps (tests/stored_index_test.cpp). To make
// that hold through clusters that chain over removed documents, the index
// stores EVERY usable document of each batch with a kept flag; queries return
// kept documents only. The options of the index (seed, tokens, n-gram, k,
// scheme, threshold, bands x rows, verify, exact-first) are stored in it; a
// run with other options is refused naming the first difference.
//
// STORAGE (a directory):
//   MANIFEST       text: the options, the committed segments (name, documents,
//                  bytes), a checksum line; replaced atomically (write
//                  MANIFEST.tmp, fsync, rename, fsync the directory)
//   seg-NNNNNN     append-only segments, written under a temporary name,
//                  fsynced, renamed, then named by a new MANIFEST. Each holds
//                  format.hpp stage data (signature batch, fingerprint run,
//                  one SORTED band-key run per band, each with its checksum)
//                  and a documents block (kept flags, cluster labels, ids,
//                  shingle sets when verify is exact, the stored clusters
//                  the batch joined), XXH3-checksummed. Read with mmap.
//   LOCK           flock()ed by the one writer; readers take no lock.
// A crash at any step leaves the previous MANIFEST and the segments it names
// intact (a segment that no MANIFEST names is removed by the next writer).
// Every checksum is verified on open; a corrupt segment is an index_error
// naming it, and the other segments' files are never touched.
//
// THREAD SAFETY: a stored_index is immutable after open(); query() may be
// called from many threads. Readers opened while a writer adds keep the
// snapshot their MANIFEST named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/executor.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/pipeline/options.hpp"

namespace neardup::jobs {

// A damaged, missing or mismatched index. The message starts with "index PATH: ".
class index_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What an index stores about its options.
struct index_settings : pipeline::similarity_options {
  bool exact_first = true;
  bool stores_sets() const noexcept { return verify == pipeline::verify_mode::exact; }
  // Throws index_error("... was built with --num-perm 128, not 64") on the first difference.
  void check_same(const pipeline::dedup_options& o, const std::string& path) const;
};

struct segment_info {
  std::string name;
  std::uint64_t documents = 0;
  std::uint64_t kept = 0;
  std::uint64_t bytes = 0;
};

struct index_info {
  index_settings settings;
  std::vector<segment_info> segments;
  std::uint64_t documents = 0;  // stored (kept and removed)
  std::uint64_t kept = 0;       // what queries can return
  std::uint64_t bytes = 0;      // segments and MANIFEST
  std::uint64_t set_bytes = 0;  // of which shingle sets
};

struct query_options {
  std::size_t top_k = 10;   // 0: all
  double threshold = 0;     // 0: the index's threshold
};

struct index_match {
  std::string id;
  double jaccard = 0;
  bool exact = true;        // false: MinHash estimate (the index stores no sets)
  std::uint64_t doc = 0;    // number in the index (storing order)
};

class stored_index {
 public:
  // Opens for reading (no lock). Throws index_error.
  static stored_index open(const std::string& path);

  const index_info& info() const noexcept;
  const std::string& path() const noexcept;

  // Kept documents whose similarity to `text` is at least the threshold,
  // most similar first (ties by storing order), at most top_k.
  std::vector<index_match> query(std::string_view text, const query_options& q = {}) const;

  // The stored documents as the dedup engine's prior documents: views into
  // the segments (nothing copied), valid while this index lives.
  prior_documents prior() const;

  stored_index(stored_index&&) noexcept;
  stored_index& operator=(stored_index&&) noexcept;
  ~stored_index();

 private:
  friend class index_writer;
  static stored_index open_snapshot(const std::string& path);
  struct impl;
  explicit stored_index(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// The one writer of an index: holds PATH/LOCK (flock) from creation to
// destruction. Throws index_error when another writer holds it.
class index_writer {
 public:
  // Opens an existing index, or creates it with `settings` when PATH has no
  // MANIFEST and `create` is set.
  index_writer(const std::string& path, const index_settings* create);
  ~index_writer();
  index_writer(const index_writer&) = delete;
  index_writer& operator=(const index_writer&) = delete;

  const index_settings& settings() const noexcept;
  // The committed state, for deduplicating against it.
  const stored_index& current() const noexcept;

  // Writes a new segment with the usable documents of `docs` and commits a
  // MANIFEST naming it. Returns the number of documents stored.
  std::uint64_t add(const signed_input& docs);
  // add() in two steps: stage() writes the segment file (no MANIFEST names
  // it yet), commit_staged() commits it. A writer destroyed in between
  // leaves the index as it was.
  std::uint64_t stage(const signed_input& docs);
  void commit_staged();
  // Merges every segment into one (same documents, same order) and commits.
  // Streams: the sorted band runs are merged segment by segment into the new
  // file, so memory stays a write buffer and a cursor per segment.
  void compact();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// A run's counts (of the batch) and what it did to the index.
struct index_report : dedup_report {
  std::uint64_t prior_documents = 0;  // stored before the run
  std::uint64_t stored = 0;           // documents added to the index (0 without update)
};

// Creates (or adds to) the index at `index_path` from a corpus: the corpus is
// deduplicated against the index (empty at first) and stored.
index_report build_index(std::span<const io::source_info> sources, const std::string& index_path,
                         const dedup_options& options);

// `neardup dedup NEW... --against INDEX`: deduplicates the sources against
// the index and each other (options.keep must be first), writes out_dir as
// run_dedup does, and with `update` adds the batch to the index after the
// outputs are written.
index_report run_dedup_against(std::span<const io::source_info> sources, const std::string& out_dir,
                               const dedup_options& options, const std::string& index_path, bool update);

// Adds texts in memory to the index at `path` (created with `create` when it
// has no MANIFEST): they are deduplicated against the index and each other as
// run_dedup_against would, then stored. ids[i] names texts[i] (empty ids:
// their number in the batch). Returns per text: itself if kept, else the
// number (>= texts.size(): stored document r - texts.size()) of its keeper.
// Texts without tokens are neither kept nor stored (their entry is itself).
std::vector<doc_id> add_texts(const std::string& path, std::span<const std::string_view> texts,
                              std::span<const std::string> ids, const index_settings* create,
                              executor* pool = nullptr);

// The settings an index built with these dedup options stores.
index_settings settings_of(const dedup_options& o);

}  // namespace neardup::jobs

// Internal: stage data on disk for a run past its memory budget
// (job_options::memory_bytes). Pass 1 hands each chunk's signatures to a
// spill_store, which writes them as signature batches (unless the job makes
// them again from the candidates' sets: keep_signatures) and cuts their band
// keys into sorted band-key runs (pipeline/format.hpp); the engine then reads
// each band's buckets from a k-way merge of that band's runs, and the
// signatures of compared pairs back from disk (pipeline/spill.hpp). A band
// grouped twice with the same exclusions is merged once: the second time its
// buckets are read back from disk.
//
// Files: one per band plus one for the signatures, each a sequence of whole
// stage-data files. They are created unnamed in the temporary directory
// (O_TMPFILE; else created and unlinked at once), so the kernel frees them
// when the process ends, on success, failure, SIGINT, SIGTERM or SIGKILL
// alike; a crash leaves nothing to clean up.
//
// Disk full (ENOSPC, or NEARDUP_SPILL_FAIL_AFTER_BYTES=N, which makes the
// write that would pass N bytes fail, for tests) throws std::runtime_error
// naming the directory and the bytes written; the job then ends before
// writing any output.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/candidates.hpp"
#include "neardup/detail/radix_sort.hpp"
#include "neardup/io/input.hpp"
#include "neardup/pipeline/format.hpp"
#include "neardup/pipeline/spill.hpp"

namespace neardup::jobs::detail {

// Shared by the files of one store: bytes written, and the injected limit.
struct spill_counter {
  std::atomic<std::uint64_t> written{0};
  std::uint64_t fail_after = fail_after_from_env();  // NEARDUP_SPILL_FAIL_AFTER_BYTES

  static std::uint64_t fail_after_from_env();
};

// One unnamed temporary file, appended to and read at offsets (pread, from
// many threads at once).
class spill_file {
 public:
  spill_file(const std::string& dir, spill_counter& counter);
  ~spill_file();
  spill_file(const spill_file&) = delete;
  spill_file& operator=(const spill_file&) = delete;

  void append(std::span<const std::byte> bytes);
  void read(std::uint64_t offset, std::span<std::byte> out) const;
  std::uint64_t size() const noexcept { return size_; }

 private:
  std::string dir_;
  spill_counter& counter_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The mapped-file half of spill_array: an unnamed temporary file of `bytes`
// bytes (allocated on disk up front, so a full disk throws here instead of
// faulting later), mapped shared and writable.
class mapped_spill {
 public:
  mapped_spill(const std::string& dir, spill_counter& counter);
  ~mapped_spill();
  mapped_spill(const mapped_spill&) = delete;
  mapped_spill& operator=(const mapped_spill&) = delete;

  // Grows the file and the mapping to at least `bytes`; the mapping may move.
  void grow(std::uint64_t bytes);
  std::byte* data() const noexcept { return map_; }
  std::uint64_t bytes() const noexcept { return bytes_; }
  // Drops the mapped pages from this process's resident memory; their bytes
  // stay in the file (and, while memory allows, in the page cache) and are
  // read back on the next access. Safe while other threads read the mapping.
  void release() const noexcept;

 private:
  std::string dir_;
  spill_counter& counter_;
  int fd_ = -1;
  std::byte* map_ = nullptr;
  std::uint64_t bytes_ = 0;
};

// A growable array of trivially copyable values that lives in memory, or,
// after spill_to(), in a mapped unnamed temporary file whose pages the owner
// drops from memory (release()) once it has read or written past them: the
// document table of a run past its memory budget, which is written once in
// input order in pass 1 and read in input order when the outputs are
// written. Same interface either way (a contiguous range, like a vector).
//
//   spill_array<doc_meta> docs;
//   docs.spill_to(dir, counter);   // optional; REQUIRES: empty()
//   docs.push_back(m);
//   docs.release();                // no-op in memory
template <class T>
class spill_array {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  void spill_to(const std::string& dir, spill_counter& counter) {
    if (!empty()) throw std::logic_error("spill_array::spill_to: not empty");
    std::vector<T>().swap(memory_);
    file_ = std::make_unique<mapped_spill>(dir, counter);
  }
  bool spilled() const noexcept { return file_ != nullptr; }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept { return file_ ? file_->bytes() / sizeof(T) : memory_.capacity(); }
  T* data() noexcept { return file_ ? reinterpret_cast<T*>(file_->data()) : memory_.data(); }
  const T* data() const noexcept { return file_ ? reinterpret_cast<const T*>(file_->data()) : memory_.data(); }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }

  void reserve(std::size_t n) {
    if (n <= capacity()) return;
    if (file_) {
      file_->grow(std::uint64_t{n} * sizeof(T));
    } else {
      memory_.reserve(n);
    }
  }
  void push_back(const T& v) { append(std::span<const T>(&v, 1)); }
  void append(std::span<const T> values) {
    if (values.empty()) return;
    const std::size_t want = size_ + values.size();
    // Geometric growth both ways (in memory, vector::insert's own): an exact
    // reserve per append made appending one by one quadratic.
    if (file_ && want > capacity()) reserve(std::max(want, std::max(capacity() * 2, grow_step)));
    if (file_) {
      std::memcpy(data() + size_, values.data(), values.size() * sizeof(T));
    } else {
      memory_.insert(memory_.end(), values.begin(), values.end());
    }
    size_ = want;
  }
  void release() const noexcept {
    if (file_) file_->release();
  }
  // Shrinks the in-memory array to its size (a spilled one takes no memory).
  void shrink_to_fit() {
    if (!file_) memory_.shrink_to_fit();
  }

 private:
  static constexpr std::size_t grow_step = (std::size_t{8} << 20) / sizeof(T);
  std::vector<T> memory_;  // when not spilled
  std::unique_ptr<mapped_spill> file_;
  std::size_t size_ = 0;
};

class spill_store final : public pipeline::spilled_stage_data {
 public:
  // `run_records`: band keys buffered per band before a sorted run is cut
  // (16 bytes each, times the number of bands + 1, in memory).
  // `merge_bytes`: memory for merging a band's runs (a slice of the key
  // space grouped at once, 48 bytes per record, and the runs' read buffers,
  // at least 64 KiB each).
  // `counter` (bytes written, shared with the run's other spill files)
  // must outlive the store. `keep_signatures` false: only the band keys are
  // written, for a caller that makes the signatures it needs again (from
  // the shingle sets); signature() then throws.
  spill_store(const std::string& dir, spill_counter& counter, const pipeline::stage_data_options& format,
              const bander& bands, std::size_t run_records, std::uint64_t merge_bytes,
              bool keep_signatures = true);
  ~spill_store() override;

  // Pass 1, in input order: the signatures of documents [first_doc,
  // first_doc + sigs.size() / num_perm).
  void add(std::uint64_t first_doc, std::span<const sig_value> sigs);
  // Writes the last runs. REQUIRES: before buckets().
  void finish();

  void buckets(std::uint32_t band, std::span<const std::uint8_t> excluded,
               const std::function<void(const bucket_list&)>& fn) override;
  void signature(doc_id d, std::span<sig_value> out) const override;

  std::size_t runs_per_band() const noexcept { return runs_.empty() ? 0 : runs_[0].size(); }

 private:
  struct run {
    std::uint64_t offset;
    std::uint64_t records;
  };
  struct batch {
    std::uint64_t first_doc;
    std::uint64_t offset;  // of the batch's first record
  };
  void cut_runs();
  // Merges the band's runs into buckets, to fn.
  void merge_band(std::uint32_t band, std::span<const std::uint8_t> excluded,
                  const std::function<void(const bucket_list&)>& fn);

  // The buckets a band's merge gave, kept on disk (bucket_file_) so that the
  // next grouping of the band with the same exclusions (the clustering after
  // the candidates' grouping) reads them instead of merging the runs again:
  // they hold only the documents of buckets, a fraction of the runs.
  // In-process scratch, read back by this object only: raw u32 arrays.
  struct bucket_piece {
    std::uint64_t offset;
    std::uint32_t docs;
    std::uint32_t buckets;
  };
  struct cached_band {
    std::uint64_t excluded_hash = 0;
    bool complete = false;
    std::vector<bucket_piece> pieces;
  };
  std::unique_ptr<spill_file> bucket_file_;
  std::vector<cached_band> cached_;  // per band

  pipeline::stage_data_options format_;
  const bander& bands_;
  std::size_t run_records_;
  spill_counter& counter_;
  std::unique_ptr<spill_file> signatures_;  // null: not kept
  std::vector<batch> batches_;
  std::vector<std::unique_ptr<spill_file>> band_files_;
  std::vector<std::vector<run>> runs_;             // per band
  std::uint64_t merge_bytes_;
  std::uint64_t documents_ = 0;
  std::vector<std::vector<neardup::detail::key_doc>> pending_;  // per band, not yet cut
  std::vector<neardup::detail::key_doc> scratch_;
};

// What a run expects to need, decided before pass 1 from the input's size
// and a sample of its first source (the number of documents is an estimate).
struct memory_plan {
  std::uint64_t budget = 0;              // bytes the run plans to stay within
  std::uint64_t documents = 0;           // estimated
  std::uint64_t in_memory_bytes = 0;     // estimated peak with nothing spilled
  std::uint64_t spilled_memory_bytes = 0;  // estimated peak when spilling
  std::uint64_t disk_bytes = 0;          // estimated spill, when spilling
  std::uint64_t disk_free = 0;           // free in the temporary directory
  bool spill = false;
  bool signatures = true;                // spilled with the band keys (else made again from sets)
  std::size_t run_records = 0;           // per band per sorted run, when spilling signatures
  std::uint64_t merge_bytes = 0;         // a band this large is grouped in memory
  std::uint64_t set_bytes = 0;           // shingle sets kept in pass 1, when spilling
  // Input chunk size for pass 1 (0: the reader's). Spilling: the chunks in
  // flight (two per thread) and their signatures take at most 1/8 of the
  // budget. Otherwise: smaller chunks for short documents, whose signatures
  // (4 * num_perm bytes each) are many times their text, so that a chunk's
  // results stay near 8 MiB and their buffers are reused from chunk to chunk
  // instead of faulting in afresh (1 M tiny documents: 68 MiB of signatures
  // per 8 MiB chunk).
  std::size_t chunk_bytes = 0;
  std::string tmp_dir;

  // One line for the job's events: "plan: ...".
  std::string describe() const;
};

// Bytes per document of an in-memory run besides signatures and band keys:
// the document table (doc_meta, fingerprint, id) and the engine's arrays.
inline constexpr std::uint64_t table_bytes_per_document = 128;
// Of those, the engine's per-document arrays that stay in memory when
// spilling, at their most: the usable and exclusion flags (1 + 1), exact
// leaders (4), the union-find and the representatives it gives (4 + 4), the
// candidate flags (1) and a byte per document counting cluster sizes; the
// kept documents are the representatives. An exact-only run holds 7.
inline constexpr std::uint64_t resident_bytes_per_document = 16;
// Disk per document of the spilled document table (doc_meta, fingerprint,
// a short id).
inline constexpr std::uint64_t table_disk_bytes_per_document = 80;

// `num_perm` 0: exact duplicates only (nothing to spill). `signatures`
// false: a spill keeps band keys but no signatures (spill_store's
// keep_signatures). Throws std::runtime_error, with the numbers, when the
// spill would not fit on the temporary directory's file system.
memory_plan plan_memory(std::span<const io::source_info> sources, std::size_t num_perm, std::uint32_t bands,
                        std::uint64_t budget, const std::string& tmp_dir, std::size_t threads,
                        bool signatures = true);

// Gives memory the allocator holds free back to the system (malloc_trim), so
// that what pass 1's workers freed does not stay resident.
void release_free_memory() noexcept;

}  // namespace neardup::jobs::detail

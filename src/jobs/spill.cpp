#include "spill.hpp"

#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "neardup/hash.hpp"
#include "neardup/pipeline/stages.hpp"

namespace neardup::jobs::detail {

namespace {

int open_unnamed(const std::string& dir) {
#ifdef O_TMPFILE
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
#endif
  // No O_TMPFILE on this file system: a named file, unlinked at once.
  std::string path = dir + "/.neardup-spill-XXXXXX";
  const int named = ::mkostemp(path.data(), O_CLOEXEC);
  if (named >= 0) ::unlink(path.c_str());
  return named;
}

}  // namespace

std::uint64_t spill_counter::fail_after_from_env() {
  const char* v = std::getenv("NEARDUP_SPILL_FAIL_AFTER_BYTES");
  if (v == nullptr || *v == '\0') return UINT64_MAX;
  return std::strtoull(v, nullptr, 10);
}

namespace {

std::runtime_error disk_full(const std::string& dir, std::uint64_t written, const char* why) {
  return std::runtime_error(dir + ": cannot spill stage data (" + why + ") after writing " +
                            std::to_string(written >> 20) +
                            " MiB there; free space, point --tmp-dir elsewhere or raise --memory-mb");
}

// Read per run being merged: at least, and at most (larger sequential reads
// when merge_bytes allows).
constexpr std::size_t read_piece_bytes = std::size_t{64} << 10;
constexpr std::size_t max_read_piece_bytes = std::size_t{4} << 20;
constexpr std::size_t bucket_piece_docs = std::size_t{1} << 16;

}  // namespace

spill_file::spill_file(const std::string& dir, spill_counter& counter) : dir_(dir), counter_(counter) {
  fd_ = open_unnamed(dir);
  if (fd_ < 0) throw std::runtime_error(dir + ": cannot create a temporary file: " + std::strerror(errno));
}

spill_file::~spill_file() {
  if (fd_ >= 0) ::close(fd_);
}

void spill_file::append(std::span<const std::byte> bytes) {
  const std::uint64_t before = counter_.written.fetch_add(bytes.size());
  if (before + bytes.size() > counter_.fail_after) throw disk_full(dir_, before, "injected: no space left on device");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(size_ + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      throw disk_full(dir_, before + done, n == 0 ? "nothing written" : std::strerror(errno));
    }
  }
  size_ += bytes.size();
}

void spill_file::read(std::uint64_t offset, std::span<std::byte> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      throw std::runtime_error(dir_ + ": a temporary file is shorter than written");
    } else if (errno != EINTR) {
      throw std::runtime_error(dir_ + ": cannot read a temporary file: " + std::strerror(errno));
    }
  }
}

mapped_spill::mapped_spill(const std::string& dir, spill_counter& counter) : dir_(dir), counter_(counter) {
  fd_ = open_unnamed(dir);
  if (fd_ < 0) throw std::runtime_error(dir + ": cannot create a temporary file: " + std::strerror(errno));
}

mapped_spill::~mapped_spill() {
  if (map_ != nullptr) ::munmap(map_, bytes_);
  if (fd_ >= 0) ::close(fd_);
}

void mapped_spill::grow(std::uint64_t bytes) {
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  bytes = (bytes + page - 1) / page * page;
  if (bytes <= bytes_) return;
  const std::uint64_t more = bytes - bytes_;
  const std::uint64_t before = counter_.written.fetch_add(more);
  if (before + more > counter_.fail_after) throw disk_full(dir_, before, "injected: no space left on device");
  // Blocks allocated now: a full disk is an error here, not a SIGBUS when a
  // page of the mapping is first written.
  const int err = ::posix_fallocate(fd_, static_cast<off_t>(bytes_), static_cast<off_t>(more));
  if (err != 0) throw disk_full(dir_, before, std::strerror(err));
  void* p = map_ == nullptr ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0)
                            : ::mremap(map_, bytes_, bytes, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::runtime_error(dir_ + ": cannot map a temporary file: " + std::strerror(errno));
  map_ = static_cast<std::byte*>(p);
  bytes_ = bytes;
}

void mapped_spill::release() const noexcept {
  if (map_ != nullptr) (void)::madvise(map_, bytes_, MADV_DONTNEED);
}

spill_store::spill_store(const std::string& dir, spill_counter& counter, const pipeline::stage_data_options& format,
                         const bander& bands, std::size_t run_records, std::uint64_t merge_bytes,
                         bool keep_signatures)
    : format_(format), bands_(bands), run_records_(std::max<std::size_t>(run_records, 1)), counter_(counter),
      merge_bytes_(merge_bytes) {
  const std::uint32_t b = bands.params().bands;
  if (keep_signatures) signatures_ = std::make_unique<spill_file>(dir, counter_);
  band_files_.reserve(b);
  for (std::uint32_t i = 0; i < b; ++i) band_files_.push_back(std::make_unique<spill_file>(dir, counter_));
  runs_.resize(b);
  pending_.resize(b);
  cached_.resize(b);
  bucket_file_ = std::make_unique<spill_file>(dir, counter_);
}

spill_store::~spill_store() = default;

void spill_store::add(std::uint64_t first_doc, std::span<const sig_value> sigs) {
  const std::size_t k = format_.num_perm;
  const std::size_t count = sigs.size() / k;
  if (count == 0) return;
  documents_ = first_doc + count;
  // The signatures: one sorted signature batch per call.
  if (signatures_) {
    spill_file& file = *signatures_;
    batches_.push_back({first_doc, file.size() + pipeline::stage_header_bytes});
    pipeline::stage_writer w = pipeline::stage_writer::signatures(
        [&file](std::span<const std::byte> bytes) { file.append(bytes); }, format_, count, true);
    for (std::size_t i = 0; i < count; ++i) w.add(static_cast<doc_id>(first_doc + i), sigs.subspan(i * k, k));
    w.finish();
  }
  // The band keys, buffered per band; documents without tokens get key 0 as
  // in band_column (the engine excludes them).
  for (std::size_t i = 0; i < count; ++i) {
    const std::span<const sig_value> sig = sigs.subspan(i * k, k);
    for (std::uint32_t b = 0; b < pending_.size(); ++b) {
      pending_[b].push_back({bands_.key(sig, b).value_or(0), static_cast<doc_id>(first_doc + i), 0});
    }
    if (pending_[0].size() >= run_records_) cut_runs();
  }
}

void spill_store::cut_runs() {
  for (std::uint32_t b = 0; b < pending_.size(); ++b) {
    std::vector<neardup::detail::key_doc>& p = pending_[b];
    if (p.empty()) continue;
    // Stable: records added in document order come out by (key, doc).
    if (scratch_.size() < p.size()) scratch_.resize(p.size());
    neardup::detail::msd_radix_sort_key_doc(p, scratch_);
    spill_file& file = *band_files_[b];
    runs_[b].push_back({file.size(), p.size()});
    pipeline::stage_writer w = pipeline::stage_writer::band_keys(
        [&file](std::span<const std::byte> bytes) { file.append(bytes); }, format_,
        pipeline::band_run_id{bands_.params(), b}, p.size(), true);
    band_entry staged[4096];
    for (std::size_t i = 0; i < p.size(); i += std::size(staged)) {
      const std::size_t m = std::min(std::size(staged), p.size() - i);
      for (std::size_t j = 0; j < m; ++j) staged[j] = {p[i + j].key, p[i + j].doc};
      w.add(std::span<const band_entry>(staged, m));
    }
    w.finish();
    p.clear();
  }
}

void spill_store::finish() {
  cut_runs();
  for (auto& p : pending_) std::vector<neardup::detail::key_doc>().swap(p);
  std::vector<neardup::detail::key_doc>().swap(scratch_);
}

namespace {

// Reads one sorted band-key run in pieces, checking it as it goes
// (stage_reader: header, order, and the checksum at the end).
class run_cursor {
 public:
  run_cursor(const spill_file& file, std::uint64_t offset, std::uint64_t records,
             const pipeline::stage_data_options& format, pipeline::band_run_id band, std::size_t piece_bytes)
      : file_(file),
        piece_bytes_(piece_bytes),
        pos_(offset),
        end_(offset + pipeline::stage_header_bytes + records * 12 + pipeline::stage_checksum_bytes),
        reader_(pipeline::stage_reader::band_keys(format, band)) {
    fill();
  }
  bool done() const noexcept { return at_ == buf_.size(); }
  const band_entry& top() const noexcept { return buf_[at_]; }
  void pop() {
    if (++at_ == buf_.size()) fill();
  }

 private:
  void fill() {
    buf_.clear();
    at_ = 0;
    while (buf_.empty() && pos_ < end_) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece_bytes_, end_ - pos_));
      raw_.resize(n);
      file_.read(pos_, raw_);
      pos_ += n;
      reader_.feed(raw_, buf_);
      if (pos_ == end_) reader_.finish();
    }
  }

  const spill_file& file_;
  std::size_t piece_bytes_;
  std::uint64_t pos_, end_;
  pipeline::stage_reader reader_;
  std::vector<std::byte> raw_;
  std::vector<band_entry> buf_;
  std::size_t at_ = 0;
};

}  // namespace

void spill_store::buckets(std::uint32_t band, std::span<const std::uint8_t> excluded,
                          const std::function<void(const bucket_list&)>& fn) {
  cached_band& cache = cached_[band];
  const std::uint64_t excluded_hash = hash64(excluded.data(), excluded.size(), default_seed);
  if (cache.complete && cache.excluded_hash == excluded_hash) {
    bucket_list out;
    for (const bucket_piece& p : cache.pieces) {
      out.docs.resize(p.docs);
      out.offsets.resize(std::size_t{p.buckets} + 1);
      bucket_file_->read(p.offset, std::as_writable_bytes(std::span<doc_id>(out.docs)));
      bucket_file_->read(p.offset + std::uint64_t{p.docs} * sizeof(doc_id),
                         std::as_writable_bytes(std::span<std::uint32_t>(out.offsets)));
      fn(out);
    }
    return;
  }
  cache = cached_band{excluded_hash, false, {}};
  merge_band(band, excluded, [&](const bucket_list& out) {
    cache.pieces.push_back({bucket_file_->size(), static_cast<std::uint32_t>(out.docs.size()),
                            static_cast<std::uint32_t>(out.size())});
    bucket_file_->append(std::as_bytes(std::span<const doc_id>(out.docs)));
    bucket_file_->append(std::as_bytes(std::span<const std::uint32_t>(out.offsets)));
    fn(out);
  });
  cache.complete = true;
}

void spill_store::merge_band(std::uint32_t band, std::span<const std::uint8_t> excluded,
                             const std::function<void(const bucket_list&)>& fn) {
  const pipeline::band_run_id id{bands_.params(), band};
  // The runs are merged slice by slice of the key space: the records of every
  // run with a key in the slice (a stretch of each sorted run) are gathered
  // and grouped together (band_grouper: a filter drops most unique keys, the
  // rest is radix-sorted). Band keys are hashes, spread evenly, so each of
  // the `slices` holds about documents / slices records (up to 48 bytes each
  // with the grouper's scratch, filter and buckets) within 3/4 of
  // merge_bytes; the runs' read buffers (about 28 bytes per 12-byte record
  // read ahead) take the last quarter, at least read_piece_bytes each.
  const std::vector<run>& runs = runs_[band];
  const std::uint64_t slice_bytes = std::max<std::uint64_t>(merge_bytes_ / 4 * 3, 1);
  const std::uint64_t slices = std::max<std::uint64_t>(1, (documents_ * 48 + slice_bytes - 1) / slice_bytes);
  const std::size_t piece = static_cast<std::size_t>(std::clamp<std::uint64_t>(
      merge_bytes_ / 4 / 3 / std::max<std::size_t>(runs.size(), 1), read_piece_bytes, max_read_piece_bytes));
  std::vector<run_cursor> cursors;
  cursors.reserve(runs.size());
  for (const run& r : runs) cursors.emplace_back(*band_files_[band], r.offset, r.records, format_, id, piece);
  std::vector<neardup::detail::key_doc> slice;
  band_grouper grouper;
  bucket_list grouped, out;
  const std::uint64_t width = slices == 1 ? 0 : UINT64_MAX / slices + 1;
  for (std::uint64_t i = 0; i < slices; ++i) {
    const bool last = i + 1 == slices;
    const std::uint64_t end = last ? 0 : width * (i + 1);  // keys < end (all, for the last)
    slice.clear();
    for (run_cursor& c : cursors) {
      for (; !c.done() && (last || c.top().key < end); c.pop()) {
        const band_entry& e = c.top();
        if (e.doc >= excluded.size()) throw std::runtime_error("spilled band keys name a document past the corpus");
        if (!excluded[e.doc]) slice.push_back({e.key, e.doc, 0});
      }
    }
    // Each run is in (key, doc) order and the runs hold increasing
    // documents, so a stable sort by key gives (key, doc) order.
    grouper.group_records(slice, grouped);
    // To fn in pieces of about bucket_piece_docs documents, every bucket whole.
    for (std::size_t b = 0; b < grouped.size(); ++b) {
      const std::span<const doc_id> bucket = grouped[b];
      out.docs.insert(out.docs.end(), bucket.begin(), bucket.end());
      out.offsets.push_back(static_cast<std::uint32_t>(out.docs.size()));
      if (out.docs.size() >= bucket_piece_docs) {
        fn(out);
        out.clear();
      }
    }
    if (!out.empty()) {
      fn(out);
      out.clear();
    }
  }
}

void spill_store::signature(doc_id d, std::span<sig_value> out) const {
  if (!signatures_) throw std::logic_error("spill_store: the signatures were not kept");
  // The batch holding d: the last one that starts at or before it.
  const auto it = std::upper_bound(batches_.begin(), batches_.end(), std::uint64_t{d},
                                   [](std::uint64_t doc, const batch& b) { return doc < b.first_doc; });
  if (it == batches_.begin()) throw std::out_of_range("spill_store: no signature for document " + std::to_string(d));
  const batch& b = *(it - 1);
  const std::size_t k = format_.num_perm;
  const std::uint64_t at = b.offset + (d - b.first_doc) * (4 + 4 * k) + 4;  // past the record's doc field
  std::vector<std::byte>& raw = [&]() -> std::vector<std::byte>& {
    thread_local std::vector<std::byte> buf;
    return buf;
  }();
  raw.resize(4 * k);
  signatures_->read(at, raw);
  // Little-endian u32 values (docs/FORMAT.md).
  for (std::size_t j = 0; j < k; ++j) {
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data() + 4 * j);
    out[j] = static_cast<sig_value>(p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24));
  }
}

namespace {

// Mean bytes per line in the first MiB of the first plain JSONL source; 0
// when there is none to sample.
double sampled_line_bytes(std::span<const io::source_info> sources) {
  for (const auto& src : sources) {
    if (src.kind != io::source_kind::jsonl || src.codec != io::compression::none) continue;
    const int fd = ::open(src.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::vector<char> buf(std::size_t{1} << 20);
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), 0);
    ::close(fd);
    if (n <= 0) continue;
    const auto lines = std::count(buf.begin(), buf.begin() + n, '\n');
    return static_cast<double>(n) / static_cast<double>(std::max<std::ptrdiff_t>(lines, 1));
  }
  return 0;
}

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; }

}  // namespace

memory_plan plan_memory(std::span<const io::source_info> sources, std::size_t num_perm, std::uint32_t bands,
                        std::uint64_t budget, const std::string& tmp_dir, std::size_t threads, bool signatures) {
  memory_plan plan;
  plan.budget = budget;
  plan.signatures = signatures;
  plan.tmp_dir = tmp_dir;
  // Compressed sources count 4 bytes of text per stored byte; without a
  // sample, 200 bytes per line.
  const double line_bytes = sampled_line_bytes(sources);
  double docs = 0;
  for (const auto& src : sources) {
    if (src.kind == io::source_kind::text_file) {
      docs += 1;
      continue;
    }
    const double bytes = static_cast<double>(src.file_bytes) * (src.codec == io::compression::none ? 1 : 4);
    docs += bytes / (line_bytes > 0 ? line_bytes : 200.0);
  }
  plan.documents = static_cast<std::uint64_t>(docs) + 1;
  // Signatures, and the band keys of the bands keyed together + the
  // grouper's 32 bytes per document.
  plan.in_memory_bytes =
      plan.documents *
      (table_bytes_per_document +
       (num_perm == 0 ? 0 : 4 * num_perm + 32 + 8 * pipeline::bands_keyed_together(bands, num_perm)));
  if (num_perm > 0 && line_bytes > 0) {
    plan.chunk_bytes = static_cast<std::size_t>(std::clamp(
        8.0 * 1024 * 1024 * line_bytes / static_cast<double>(4 * num_perm + 64), 1024.0 * 1024, 8.0 * 1024 * 1024));
  }
  if (plan.in_memory_bytes <= budget) return plan;

  plan.spill = true;
  const std::uint64_t table = plan.documents * resident_bytes_per_document;
  // What the resident arrays leave of the budget (at least a quarter) is
  // shared out: a quarter buffers band keys (16 bytes each, one buffer per
  // band and one to sort in) before they are cut into sorted runs, at least
  // 256 per band; a quarter keeps shingle sets for exact verification; an
  // eighth holds the chunks in flight in pass 1 (two per thread) with their
  // signatures; after pass 1, a quarter holds a band's keys (32 bytes per
  // document) when they fit, to group them in memory instead of merging runs.
  const std::uint64_t rest = std::max(budget > table ? budget - table : 0, budget / 4);
  plan.run_records =
      num_perm == 0 ? 0
                    : std::max<std::size_t>(256, static_cast<std::size_t>(rest / 4 / (16 * (std::uint64_t{bands} + 1))));
  plan.set_bytes = rest / 4;
  plan.merge_bytes = std::max<std::uint64_t>(rest / 4, 4096);
  const double per_byte = 1 + static_cast<double>(4 * num_perm + 64) / (line_bytes > 0 ? line_bytes : 200.0);
  plan.chunk_bytes = static_cast<std::size_t>(std::clamp(
      static_cast<double>(rest) / 8 / (2.0 * static_cast<double>(std::max<std::size_t>(threads, 1))) / per_byte,
      256.0 * 1024, 8.0 * 1024 * 1024));
  plan.spilled_memory_bytes = table + rest * 5 / 8;
  // Per document: its row of the document table, its signature record
  // (when kept) and one band-key record per band.
  plan.disk_bytes =
      plan.documents * (table_disk_bytes_per_document +
                        (num_perm == 0 ? 0 : (signatures ? 4 + 4 * num_perm : 0) + 12 * std::uint64_t{bands}));
  struct statvfs fs {};
  if (::statvfs(tmp_dir.c_str(), &fs) == 0) {
    plan.disk_free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (plan.disk_bytes > plan.disk_free) {
      throw std::runtime_error(tmp_dir + ": not enough free disk for the run: it needs about " +
                               mib(plan.disk_bytes) + " of temporary files (~" + std::to_string(plan.documents) +
                               " documents) and " + mib(plan.disk_free) +
                               " are free; free space, point --tmp-dir elsewhere or raise --memory-mb (needs about " +
                               mib(plan.in_memory_bytes) + " in memory)");
    }
  }
  return plan;
}

std::string memory_plan::describe() const {
  std::string s = "plan: ~" + std::to_string(documents) + " documents; in memory about " + mib(in_memory_bytes) +
                  ", budget " + mib(budget);
  if (!spill) return s + ": no spilling";
  s += std::string(": spilling the document table") +
       (run_records == 0 ? ""
        : signatures     ? ", signatures and band keys"
                         : " and band keys (signatures made again from the candidates' sets)") +
       " to " + tmp_dir + " (about " + mib(disk_bytes) + " of disk, " + mib(disk_free) + " free; about " +
       mib(spilled_memory_bytes) + " in memory)";
  const std::uint64_t resident = documents * resident_bytes_per_document;
  if (resident > budget) {
    s += "; the per-document arrays that stay in memory alone, about " + mib(resident) + ", pass the budget";
  }
  return s;
}

void release_free_memory() noexcept {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

}  // namespace neardup::jobs::detail

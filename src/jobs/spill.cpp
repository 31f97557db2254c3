#include "spill.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <stdexcept>
#include <string_view>

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

std::uint64_t fail_after_from_env() {
  const char* v = std::getenv("NEARDUP_SPILL_FAIL_AFTER_BYTES");
  if (v == nullptr || *v == '\0') return UINT64_MAX;
  return std::strtoull(v, nullptr, 10);
}

std::runtime_error disk_full(const std::string& dir, std::uint64_t written, const char* why) {
  return std::runtime_error(dir + ": cannot spill stage data (" + why + ") after writing " +
                            std::to_string(written >> 20) +
                            " MiB there; free space, point --tmp-dir elsewhere or raise --memory-mb");
}

constexpr std::size_t read_piece_bytes = std::size_t{256} << 10;
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
    } else if (n < 0 && errno != EINTR) {
      throw disk_full(dir_, before + done, std::strerror(errno));
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

spill_store::spill_store(const std::string& dir, const pipeline::stage_data_options& format, const bander& bands,
                         std::size_t run_records)
    : format_(format), bands_(bands), run_records_(std::max<std::size_t>(run_records, 1)) {
  counter_.fail_after = fail_after_from_env();
  const std::uint32_t b = bands.params().bands;
  signatures_ = std::make_unique<spill_file>(dir, counter_);
  band_files_.reserve(b);
  for (std::uint32_t i = 0; i < b; ++i) band_files_.push_back(std::make_unique<spill_file>(dir, counter_));
  runs_.resize(b);
  pending_.resize(b);
}

spill_store::~spill_store() = default;

void spill_store::add(std::uint64_t first_doc, std::span<const sig_value> sigs) {
  const std::size_t k = format_.num_perm;
  const std::size_t count = sigs.size() / k;
  if (count == 0) return;
  // The signatures: one sorted signature batch per call.
  spill_file& file = *signatures_;
  batches_.push_back({first_doc, file.size() + pipeline::stage_header_bytes});
  pipeline::stage_writer w = pipeline::stage_writer::signatures(
      [&file](std::span<const std::byte> bytes) { file.append(bytes); }, format_, count, true);
  for (std::size_t i = 0; i < count; ++i) w.add(static_cast<doc_id>(first_doc + i), sigs.subspan(i * k, k));
  w.finish();
  // The band keys, buffered per band; documents without tokens get key 0 as
  // in band_column (the engine excludes them).
  for (std::size_t i = 0; i < count; ++i) {
    const std::span<const sig_value> sig = sigs.subspan(i * k, k);
    for (std::uint32_t b = 0; b < pending_.size(); ++b) {
      pending_[b].push_back({bands_.key(sig, b).value_or(0), static_cast<doc_id>(first_doc + i)});
    }
    if (pending_[0].size() >= run_records_) cut_runs();
  }
}

void spill_store::cut_runs() {
  for (std::uint32_t b = 0; b < pending_.size(); ++b) {
    std::vector<band_entry>& p = pending_[b];
    if (p.empty()) continue;
    std::sort(p.begin(), p.end(), [](const band_entry& x, const band_entry& y) {
      return x.key != y.key ? x.key < y.key : x.doc < y.doc;
    });
    spill_file& file = *band_files_[b];
    runs_[b].push_back({file.size(), p.size()});
    pipeline::stage_writer w = pipeline::stage_writer::band_keys(
        [&file](std::span<const std::byte> bytes) { file.append(bytes); }, format_,
        pipeline::band_run_id{bands_.params(), b}, p.size(), true);
    w.add(std::span<const band_entry>(p));
    w.finish();
    p.clear();
  }
}

void spill_store::finish() {
  cut_runs();
  for (auto& p : pending_) std::vector<band_entry>().swap(p);
}

namespace {

// Reads one sorted band-key run in pieces, checking it as it goes
// (stage_reader: header, order, and the checksum at the end).
class run_cursor {
 public:
  run_cursor(const spill_file& file, std::uint64_t offset, std::uint64_t records,
             const pipeline::stage_data_options& format, pipeline::band_run_id band)
      : file_(file),
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
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(read_piece_bytes, end_ - pos_));
      raw_.resize(n);
      file_.read(pos_, raw_);
      pos_ += n;
      reader_.feed(raw_, buf_);
      if (pos_ == end_) reader_.finish();
    }
  }

  const spill_file& file_;
  std::uint64_t pos_, end_;
  pipeline::stage_reader reader_;
  std::vector<std::byte> raw_;
  std::vector<band_entry> buf_;
  std::size_t at_ = 0;
};

}  // namespace

void spill_store::buckets(std::uint32_t band, std::span<const std::uint8_t> excluded,
                          const std::function<void(const bucket_list&)>& fn) {
  const pipeline::band_run_id id{bands_.params(), band};
  std::vector<run_cursor> cursors;
  cursors.reserve(runs_[band].size());
  for (const run& r : runs_[band]) cursors.emplace_back(*band_files_[band], r.offset, r.records, format_, id);
  // Smallest (key, doc) first.
  auto later = [&](std::size_t x, std::size_t y) {
    const band_entry &a = cursors[x].top(), &b = cursors[y].top();
    return a.key != b.key ? a.key > b.key : a.doc > b.doc;
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
  for (std::size_t i = 0; i < cursors.size(); ++i) {
    if (!cursors[i].done()) heap.push(i);
  }
  bucket_list out;
  std::uint64_t key = 0;
  std::size_t bucket_begin = 0;  // in out.docs: the current key's documents
  auto close_bucket = [&] {
    const std::size_t size = out.docs.size() - bucket_begin;
    if (size >= 2) {
      out.offsets.push_back(static_cast<std::uint32_t>(out.docs.size()));
    } else {
      out.docs.resize(bucket_begin);
    }
    if (out.docs.size() >= bucket_piece_docs) {
      fn(out);
      out.clear();
    }
    bucket_begin = out.docs.size();
  };
  bool any = false;
  while (!heap.empty()) {
    const std::size_t i = heap.top();
    heap.pop();
    const band_entry e = cursors[i].top();
    cursors[i].pop();
    if (!cursors[i].done()) heap.push(i);
    if (e.doc >= excluded.size()) throw std::runtime_error("spilled band keys name a document past the corpus");
    if (excluded[e.doc]) continue;
    if (any && e.key != key) close_bucket();
    key = e.key;
    any = true;
    out.docs.push_back(e.doc);
  }
  if (any) close_bucket();
  if (!out.empty()) fn(out);
}

void spill_store::signature(doc_id d, std::span<sig_value> out) const {
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
                        std::uint64_t budget, const std::string& tmp_dir) {
  memory_plan plan;
  plan.budget = budget;
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
  const std::uint64_t table = plan.documents * table_bytes_per_document;
  // Signatures, and band keys + the grouper's 32 bytes per document.
  plan.in_memory_bytes = table + plan.documents * (4 * num_perm + 40);
  if (num_perm == 0 || plan.in_memory_bytes <= budget) return plan;

  plan.spill = true;
  // A quarter of the budget buffers band keys (16 bytes each) before they
  // are cut into sorted runs; at least 256 per band.
  plan.run_records = std::max<std::size_t>(256, static_cast<std::size_t>(budget / 4 / (16 * std::uint64_t{bands})));
  plan.spilled_memory_bytes = table + std::uint64_t{plan.run_records} * 16 * bands;
  // Per document: its signature record, one band-key record per band.
  plan.disk_bytes = plan.documents * ((4 + 4 * num_perm) + 12 * std::uint64_t{bands});
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
  return s + ": spilling signatures and band keys to " + tmp_dir + " (about " + mib(disk_bytes) + " of disk, " +
         mib(disk_free) + " free; about " + mib(spilled_memory_bytes) + " in memory)";
}

}  // namespace neardup::jobs::detail

// Dedup over a corpus scanned in parts (see neardup/jobs/parts.hpp).
#include "neardup/jobs/parts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "dedup_scanned.hpp"
#include "part_bytes.hpp"
#include "neardup/banding.hpp"
#include "neardup/detail/radix_sort.hpp"
#include "neardup/hash.hpp"
#include "neardup/pipeline/format.hpp"
#include "neardup/pipeline/spill.hpp"
#include "neardup/pipeline/stages.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace neardup::jobs {

using namespace detail;

namespace {

constexpr char kMagic[8] = {'N', 'D', 'P', 'A', 'R', 'T', '\0', '\0'};
constexpr std::uint32_t kVersion = 1;
constexpr char kPartSetsMagic[8] = {'N', 'D', 'P', 'S', 'E', 'T', 'S', '\0'};
constexpr std::size_t kCounts = 19;  // scan_counts without duplicate_ids, in the order below

// Keeps the notices of a scan to send them on with the part.
class notice_keeper final : public pipeline::sink {
 public:
  void message(const std::string& line) override { lines.push_back(line); }
  std::vector<std::string> lines;
};

std::array<std::uint64_t*, kCounts> count_fields(scan_counts& c) {
  return {&c.blank_lines,
          &c.text_bytes,
          &c.skipped,
          &c.skipped_by_status[0],
          &c.skipped_by_status[1],
          &c.skipped_by_status[2],
          &c.skipped_by_status[3],
          &c.skipped_by_status[4],
          &c.skipped_by_status[5],
          &c.skipped_by_status[6],
          &c.skipped_by_status[7],
          &c.repaired_invalid_utf8,
          &c.repaired_lone_surrogate,
          &c.repaired_control_chars,
          &c.empty_documents,
          &c.short_documents,
          // reserved: kept zero so that the layout has room without a new version
          nullptr,
          nullptr,
          nullptr};
}

pass_options scan_options(const dedup_options& options, executor& pool) {
  pass_options pass = pass_options_for(options, options, pool);
  pass.keep_sets_bytes = 0;            // candidates' sets are read again where the rest runs
  pass.check_duplicate_ids = false;    // ids are checked once over all parts
  return pass;
}

// An input file open for pread(2), closed on destruction.
struct input_file {
  const io::source_info& source;
  int fd;
  explicit input_file(const io::source_info& s) : source(s), fd(::open(s.path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd < 0) throw std::runtime_error(s.name + ": cannot read input: " + std::strerror(errno));
  }
  input_file(const input_file&) = delete;
  input_file& operator=(const input_file&) = delete;
  ~input_file() { ::close(fd); }
  // Reads exactly n bytes at offset `at`; throws naming the source if the
  // file ends before them or a read fails.
  void read(char* out, std::size_t n, std::uint64_t at) const {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(at + got));
      if (r > 0) {
        got += static_cast<std::size_t>(r);
      } else if (r == 0) {
        throw std::runtime_error(source.name + ": the input changed while neardup was reading it (shorter)");
      } else if (errno != EINTR) {
        throw std::runtime_error(source.name + ": read error: " + std::strerror(errno));
      }
    }
  }
};

}  // namespace

std::vector<part_range> part_ranges(const io::source_info& source, std::uint64_t part_bytes,
                                    const io::reader_options& reader) {
  if (part_bytes == 0) throw std::invalid_argument("part_ranges: part_bytes = 0");
  if (source.codec != io::compression::none || source.kind != io::source_kind::jsonl || source.is_range()) {
    return {{0, UINT64_MAX}};
  }
  const input_file file(source);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) return {{0, UINT64_MAX}};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size <= part_bytes) return {{0, UINT64_MAX}};

  // The last '\n' in [begin, end), searched backwards in blocks; end if none.
  std::vector<char> block(std::size_t{64} << 10);
  auto last_newline = [&](std::uint64_t begin, std::uint64_t end) -> std::uint64_t {
    for (std::uint64_t hi = end; hi > begin;) {
      const std::uint64_t lo = hi - std::min<std::uint64_t>(hi - begin, block.size());
      const auto n = static_cast<std::size_t>(hi - lo);
      file.read(block.data(), n, lo);
      if (const void* nl = ::memrchr(block.data(), '\n', n)) {
        return lo + static_cast<std::uint64_t>(static_cast<const char*>(nl) - block.data());
      }
      hi = lo;
    }
    return end;
  };
  // Where the chunk that starts at `o` ends, as io::corpus_reader cuts it:
  // the first chunk_bytes bytes up to their last '\n'; without one, the
  // next chunk_bytes too, and so on; the end of the file ends the chunk.
  const std::uint64_t target = reader.chunk_bytes;
  auto chunk_end = [&](std::uint64_t o) -> std::uint64_t {
    if (size - o < target) return size;
    std::uint64_t scanned = o, filled = o + target;
    while (true) {
      const std::uint64_t nl = last_newline(scanned, filled);
      if (nl != filled) return nl + 1;
      if (filled == size) return size;
      scanned = filled;
      filled += std::min<std::uint64_t>(target, size - filled);
    }
  };
  std::vector<part_range> ranges;
  std::uint64_t begin = 0;
  for (std::uint64_t o = 0; o < size;) {
    o = chunk_end(o);
    if (o - begin >= part_bytes || o == size) {
      ranges.push_back({begin, o});
      begin = o;
    }
  }
  return ranges;
}

std::uint64_t part_range_lines(const io::source_info& source, part_range range) {
  if (range.end < range.begin) throw std::invalid_argument("part_range_lines: end before begin");
  const input_file file(source);
  std::vector<char> block(std::size_t{1} << 20);
  std::uint64_t lines = 0;
  for (std::uint64_t at = range.begin; at < range.end;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(range.end - at, block.size()));
    file.read(block.data(), n, at);
    lines += io::count_newlines(block.data(), n);
    at += n;
  }
  return lines;
}

std::string scan_part(const io::source_info& source, const dedup_options& options, std::string* sets) {
  options.validate();
  validate(options);
  const auto t0 = std::chrono::steady_clock::now();
  executor pool(options.threads);
  pass_options pass = scan_options(options, pool);
  const bool keep_sets = sets != nullptr && options.near && options.verify == verify_mode::exact;
  if (keep_sets) pass.keep_sets_bytes = UINT64_MAX;
  const minhasher hasher(options.minhash());
  notice_keeper notices;
  scan_counts counts;
  const std::array<io::source_info, 1> one{source};
  const corpus_index corpus = scan_corpus(one, pass, options.near ? &hasher : nullptr, notices, counts);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  part_writer w(kMagic, kVersion);
  const std::size_t n = corpus.size();
  w.num<std::uint64_t>(n);
  w.num<std::uint64_t>(corpus.num_perm);
  w.num<std::uint64_t>(corpus.chunk_first_doc.size());
  w.num<std::uint64_t>(source.range_begin);
  for (const doc_meta& m : corpus.docs) {
    w.num<std::uint64_t>(m.line);
    w.num<std::uint64_t>(m.text_bytes);
    w.num<std::uint64_t>(m.id_offset);
    w.num<std::uint64_t>(m.byte_offset);
    w.num<std::uint32_t>(m.id_length);
    w.num<std::uint32_t>(m.raw_length);
    w.num<std::uint8_t>(static_cast<std::uint8_t>(m.status));
    w.num<std::uint8_t>(m.flags);
    w.num<std::uint8_t>(m.has_tokens);
    w.num<std::uint8_t>(m.short_doc);
  }
  w.blob(std::string_view(corpus.ids.data(), corpus.ids.size()));
  for (const std::uint64_t first : corpus.chunk_first_doc) w.num<std::uint64_t>(first);
  w.num<std::uint64_t>(corpus.source_bytes.at(0));
  for (const std::uint64_t* f : count_fields(counts)) w.num<std::uint64_t>(f ? *f : 0);
  w.num<double>(seconds);
  w.num<std::uint64_t>(notices.lines.size());
  for (const auto& line : notices.lines) w.blob(line);

  const auto stage = pipeline::stage_data_options::of(options);
  std::vector<doc_id> numbers(n);
  for (std::size_t d = 0; d < n; ++d) numbers[d] = static_cast<doc_id>(d);
  w.blob(corpus.num_perm != 0 ? pipeline::write_signatures(stage, numbers, corpus.signatures) : std::string());
  std::vector<pipeline::fingerprint_entry> fps(n);
  for (std::size_t d = 0; d < n; ++d) fps[d] = {corpus.fingerprints[d], static_cast<doc_id>(d)};
  w.blob(pipeline::write_fingerprints(stage, fps));
  if (sets != nullptr) {
    sets->clear();
    if (keep_sets) {
      if (!corpus.sets.complete || corpus.sets.of.size() != n) throw std::logic_error("scan_part: sets not kept");
      part_writer sw(kPartSetsMagic, kVersion);
      sw.reserve(8 * (1 + n) + corpus.sets.bytes);
      sw.num<std::uint64_t>(n);
      for (const auto& set : corpus.sets.of) sw.num<std::uint64_t>(set.size());
      for (const auto& set : corpus.sets.of) sw.u64s(set);
      *sets = sw.take();
    }
  }
  return w.take();
}

namespace {

constexpr std::size_t kDocBytes = 44;  // per document: 4 x u64, 2 x u32, 4 x u8

// The fields of a part (layout in parts.hpp), as views into its bytes.
struct part_view {
  std::uint64_t documents = 0, num_perm = 0, chunks = 0, range_begin = 0, range_end = 0;
  std::string_view docs;    // documents x kDocBytes
  std::string_view ids;
  std::string_view chunk_table;  // chunks x 8 bytes
  std::uint64_t counts[kCounts] = {};
  double seconds = 0;
  std::vector<std::string_view> notices;
  std::string_view signatures;    // stage data; empty in a part_metadata() part
  std::string_view fingerprints;  // stage data
};

part_view view_part(std::string_view part) {
  part_reader r(part, kMagic, kVersion);
  part_view v;
  v.documents = r.num<std::uint64_t>();
  v.num_perm = r.num<std::uint64_t>();
  v.chunks = r.num<std::uint64_t>();
  v.range_begin = r.num<std::uint64_t>();
  if (v.documents > part.size() / kDocBytes) part_reader::fail("truncated");
  v.docs = r.take(v.documents * kDocBytes);
  v.ids = r.blob();
  if (v.chunks > part.size() / 8) part_reader::fail("truncated");
  v.chunk_table = r.take(v.chunks * 8);
  v.range_end = r.num<std::uint64_t>();
  for (auto& c : v.counts) c = r.num<std::uint64_t>();
  v.seconds = r.num<double>();
  const auto messages = r.num<std::uint64_t>();
  if (messages > part.size() / 8) part_reader::fail("truncated");
  for (std::uint64_t m = 0; m < messages; ++m) v.notices.push_back(r.blob());
  v.signatures = r.blob();
  v.fingerprints = r.blob();
  if (!r.done()) part_reader::fail("trailing bytes");
  return v;
}

std::uint64_t le64(std::string_view b, std::size_t at) {
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < 8; ++i) u |= std::uint64_t{static_cast<unsigned char>(b[at + i])} << (8 * i);
  return u;
}

// The parts' bad-record notices under one cap per kind for the whole run, as
// one scan's problem_reporter gives them: each part capped its own, so its
// "further 'KIND' ..." line stands for its records past that cap.
class run_notices {
 public:
  run_notices(pipeline::sink& out, std::size_t max_per_kind) : out_(out), max_(max_per_kind) {}
  void add(std::string_view line) {
    std::string kind = "noted";  // problem_reporter::note
    if (line.rfind("further '", 0) == 0) {
      const std::size_t end = line.find('\'', 9);
      kind = std::string(line.substr(9, end == std::string_view::npos ? std::string_view::npos : end - 9));
      count(kind, {});
      return;
    }
    if (const std::size_t at = line.find(": skipped ("); at != std::string_view::npos) {
      const std::size_t begin = at + 11, end = line.find(':', begin);
      kind = std::string(line.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    }
    count(kind, line);
  }

 private:
  void count(const std::string& kind, std::string_view line) {
    const std::uint64_t n = seen_[kind]++;
    if (n < max_ && !line.empty()) {
      out_.message(std::string(line));
    } else if (n == max_ && max_ != 0) {
      out_.message("further '" + kind + "' records are counted in stats.json but not listed");
    }
  }
  pipeline::sink& out_;
  std::size_t max_;
  std::map<std::string, std::uint64_t> seen_;
};

// The fingerprint of a document that no other document repeats, when the
// exact groups were found in tasks (part_stages::exact): unique per document.
hash128 own_fingerprint(std::size_t d) { return {static_cast<std::uint64_t>(d), UINT64_MAX}; }

// Appends one part to `corpus` as source `s`. `expected_begin`: where its
// byte range must start. `signatures`: false for a part_metadata() part.
// `fingerprints_elsewhere`: a part without fingerprints (part_metadata(part,
// false)) gets a fingerprint of its own per document (exact groups as tasks).
void append_part(detail::scanned_corpus& scanned, run_notices& notices, std::string_view part, std::uint32_t s,
                 bool continues, std::uint64_t expected_begin, std::size_t k,
                 const pipeline::stage_data_options& stage, bool signatures, bool fingerprints_elsewhere = false) {
  corpus_index& corpus = scanned.corpus;
  const part_view v = view_part(part);
  const std::uint64_t n = v.documents;
  if (v.num_perm != k) part_reader::fail("made with another --num-perm or command");
  if (v.range_begin != expected_begin) {
    part_reader::fail("its byte range does not start where the previous part of the file ended");
  }
  if (n > UINT32_MAX - corpus.size()) {
    throw std::runtime_error("more than 2^32-1 documents in one run; split the corpus");
  }
  const std::size_t first_doc = corpus.size();
  const std::uint64_t id_base = corpus.ids.size();
  corpus.docs.reserve(first_doc + n);
  part_reader c = part_reader::fields(v.docs);
  for (std::uint64_t doc = 0; doc < n; ++doc) {
    doc_meta m;
    m.source = s;
    m.line = c.num<std::uint64_t>();
    m.text_bytes = c.num<std::uint64_t>();
    m.id_offset = c.num<std::uint64_t>() + id_base;
    m.byte_offset = c.num<std::uint64_t>();
    m.id_length = c.num<std::uint32_t>();
    m.raw_length = c.num<std::uint32_t>();
    const auto status = c.num<std::uint8_t>();
    if (status > static_cast<std::uint8_t>(io::record_status::line_too_long)) part_reader::fail("bad record status");
    m.status = static_cast<io::record_status>(status);
    m.flags = c.num<std::uint8_t>();
    m.has_tokens = c.num<std::uint8_t>() != 0;
    m.short_doc = c.num<std::uint8_t>() != 0;
    if (m.id_length != 0 && (m.id_offset < id_base || m.id_offset - id_base + m.id_length > v.ids.size())) {
      part_reader::fail("id out of range");
    }
    corpus.docs.push_back(m);
  }
  corpus.ids.append(std::span<const char>(v.ids.data(), v.ids.size()));
  std::uint64_t previous = 0;
  for (std::uint64_t ch = 0; ch < v.chunks; ++ch) {
    const std::uint64_t first = le64(v.chunk_table, ch * 8);
    if (first < previous || first > n || (ch == 0 && first != 0)) part_reader::fail("bad chunk table");
    previous = first;
    corpus.chunk_first_doc.push_back(first + first_doc);
  }
  if ((v.chunks == 0) != (n == 0)) part_reader::fail("bad chunk table");
  // Documents lie inside the range, in order, one per line: the later
  // passes index and read by these fields.
  std::uint64_t at = v.range_begin, line = 0;
  for (std::size_t d = first_doc; d < corpus.size(); ++d) {
    const doc_meta& m = corpus.docs[d];
    if (m.byte_offset < at || m.raw_length > v.range_end - m.byte_offset || m.byte_offset > v.range_end ||
        m.line <= line) {
      part_reader::fail("documents out of order or outside the range");
    }
    at = m.byte_offset + m.raw_length;
    line = m.line;
  }
  if (continues) {
    corpus.source_bytes.back() = v.range_end;
  } else {
    corpus.source_bytes.push_back(v.range_end);
  }
  std::size_t i = 0;
  for (std::uint64_t* f : count_fields(scanned.counts)) {
    if (f != nullptr) *f += v.counts[i];
    ++i;
  }
  scanned.seconds += v.seconds;
  for (const std::string_view m : v.notices) notices.add(m);
  if (k != 0 && (signatures || !v.signatures.empty())) {
    pipeline::signature_batch b = pipeline::read_signatures(pipeline::byte_view(v.signatures), stage);
    if (b.docs.size() != n) part_reader::fail("signature count differs from document count");
    if (corpus.signatures.empty()) {
      corpus.signatures = std::move(b.values);  // the first part: no copy
    } else {
      corpus.signatures.insert(corpus.signatures.end(), b.values.begin(), b.values.end());
    }
  }
  if (v.fingerprints.empty()) {
    if (!fingerprints_elsewhere) part_reader::fail("a part without fingerprints, and no exact groups");
    for (std::size_t d = first_doc; d < corpus.size(); ++d) corpus.fingerprints.push_back(own_fingerprint(d));
    return;
  }
  const auto fps = pipeline::read_fingerprints(pipeline::byte_view(v.fingerprints), stage);
  if (fps.size() != n) part_reader::fail("fingerprint count differs from document count");
  for (const auto& e : fps) corpus.fingerprints.push_back(e.fingerprint);
}

// Runs f, naming `name` in the part errors it throws.
template <class F>
auto naming(const std::string& name, F&& f) {
  try {
    return f();
  } catch (const pipeline::stage_data_error& e) {
    throw std::runtime_error(name + ": " + e.what());
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    if (what.rfind("neardup part: ", 0) == 0 || what.rfind("more than 2^32", 0) == 0) {
      throw std::runtime_error(name + ": " + what);
    }
    throw;
  }
}

constexpr char kKeysMagic[8] = {'N', 'D', 'B', 'K', 'E', 'Y', 'S', '\0'};
constexpr char kBucketsMagic[8] = {'N', 'D', 'B', 'U', 'C', 'K', 'T', '\0'};
constexpr char kCandidatesMagic[8] = {'N', 'D', 'C', 'A', 'N', 'D', '\0', '\0'};
constexpr char kSetsMagic[8] = {'N', 'D', 'C', 'S', 'E', 'T', 'S', '\0'};

// The banding (computed once: default_lsh_params integrates numerically).
lsh_params check_band_range(const dedup_options& options, std::uint32_t band_begin, std::uint32_t band_end) {
  if (!options.near) throw std::invalid_argument("band keys: `neardup exact` has no bands");
  const lsh_params lsh = options.banding();
  const std::uint32_t bands = lsh.bands;
  if (band_begin >= band_end || band_end > bands) {
    throw std::invalid_argument("band keys: bands [" + std::to_string(band_begin) + ", " +
                                std::to_string(band_end) + ") of " + std::to_string(bands));
  }
  return lsh;
}

// The buckets of bands [band_begin, band_end) (group_part_band_keys' bytes).
struct decoded_buckets {
  std::uint32_t band_begin = 0, band_end = 0;
  std::vector<std::uint64_t> part_documents;
  std::vector<bucket_list> bands;
};

// u64 parts | u64 documents of each part (of a blob of `size` bytes);
// `total` receives their sum.
std::vector<std::uint64_t> read_part_documents(part_reader& r, std::size_t size, std::uint64_t& total) {
  const auto parts = r.num<std::uint64_t>();
  if (parts > size / 8) part_reader::fail("truncated");
  std::vector<std::uint64_t> documents;
  total = 0;
  for (std::uint64_t i = 0; i < parts; ++i) {
    documents.push_back(r.num<std::uint64_t>());
    total += documents.back();
    if (total > UINT32_MAX) part_reader::fail("more than 2^32-1 documents");
  }
  return documents;
}

decoded_buckets read_buckets(std::string_view bytes) {
  part_reader r(bytes, kBucketsMagic, kVersion);
  decoded_buckets g;
  g.band_begin = r.num<std::uint32_t>();
  g.band_end = r.num<std::uint32_t>();
  if (g.band_end < g.band_begin) part_reader::fail("truncated");
  std::uint64_t total = 0;
  g.part_documents = read_part_documents(r, bytes.size(), total);
  for (std::uint32_t b = g.band_begin; b < g.band_end; ++b) {
    bucket_list& list = g.bands.emplace_back();
    const auto buckets = r.num<std::uint64_t>();
    const auto members = r.num<std::uint64_t>();
    if (buckets > bytes.size() / 4 || members > bytes.size() / 4) part_reader::fail("truncated");
    list.offsets.reserve(buckets + 1);
    std::uint64_t at = 0;
    for (std::uint64_t i = 0; i < buckets; ++i) {
      at += r.num<std::uint32_t>();
      if (at > members) part_reader::fail("bucket sizes exceed the members");
      list.offsets.push_back(static_cast<std::uint32_t>(at));
    }
    if (at != members) part_reader::fail("bucket sizes do not add up to the members");
    list.docs.reserve(members);
    for (std::uint64_t i = 0; i < members; ++i) {
      const auto d = r.num<std::uint32_t>();
      if (d >= total) part_reader::fail("document out of range");
      list.docs.push_back(d);
    }
  }
  if (!r.done()) part_reader::fail("trailing bytes");
  return g;
}

// Stage data that run_stages reads as if spilled: the buckets of every band
// (made by group_part_band_keys tasks) and the candidates' signatures (by
// part_candidate_data tasks). Also the candidates' shingle sets.
class distributed_stage_data final : public pipeline::spilled_stage_data, public pipeline::set_provider {
 public:
  distributed_stage_data(std::size_t documents, std::size_t num_perm, std::uint32_t bands)
      : k_(num_perm), band_index_(bands, nullptr), slot_(documents, UINT32_MAX) {}

  void add_buckets(decoded_buckets g) {
    groups_.push_back(std::move(g));
  }
  void index_bands() {
    for (auto& g : groups_) {
      for (std::uint32_t b = g.band_begin; b < g.band_end; ++b) {
        if (b >= band_index_.size() || band_index_[b] != nullptr) part_reader::fail("bands given twice or out of range");
        band_index_[b] = &g.bands[b - g.band_begin];
      }
    }
    for (const auto* b : band_index_) {
      if (b == nullptr) part_reader::fail("a band's buckets are missing");
    }
  }
  // One candidate: signature and (when verified exactly) its shingle set.
  void add_candidate(doc_id d, std::span<const sig_value> sig, std::span<const std::uint64_t> set) {
    if (d >= slot_.size() || slot_[d] != UINT32_MAX) part_reader::fail("candidate out of range or repeated");
    slot_[d] = static_cast<std::uint32_t>(set_begin_.size());
    signatures_.insert(signatures_.end(), sig.begin(), sig.end());
    set_begin_.push_back(set_values_.size());
    set_values_.insert(set_values_.end(), set.begin(), set.end());
  }

  // Verdicts of pairs verified elsewhere (verify_pairs); afterwards only the
  // pairs not among them are verified here, from the candidates' data.
  void add_verdicts(std::span<const std::uint64_t> keys, std::span<const std::uint8_t> duplicate,
                    std::span<const double> similarity) {
    decided_.reserve(decided_.size() + keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) decided_.push_back({keys[i], {duplicate[i] != 0, similarity[i]}});
    has_verdicts_ = true;
  }
  void index_verdicts() {
    std::sort(decided_.begin(), decided_.end(),
              [](const decided_entry& x, const decided_entry& y) { return x.key < y.key; });
    for (std::size_t i = 1; i < decided_.size(); ++i) {
      if (decided_[i].key == decided_[i - 1].key) part_reader::fail("a pair verified in two groups");
    }
  }
  std::optional<decided_pair> decided(doc_id a, doc_id b) const override {
    const std::uint64_t key = std::uint64_t{a} << 32 | b;
    const auto it = std::lower_bound(decided_.begin(), decided_.end(), key,
                                     [](const decided_entry& e, std::uint64_t k) { return e.key < k; });
    if (it == decided_.end() || it->key != key) return std::nullopt;
    return it->pair;
  }

  void buckets(std::uint32_t band, std::span<const std::uint8_t> excluded,
               const std::function<void(const bucket_list&)>& fn) override {
    const bucket_list& all = *band_index_.at(band);
    bucket_list kept;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const std::size_t before = kept.docs.size();
      for (const doc_id d : all[i]) {
        if (!excluded[d]) kept.docs.push_back(d);
      }
      if (kept.docs.size() - before >= 2) {
        kept.offsets.push_back(static_cast<std::uint32_t>(kept.docs.size()));
      } else {
        kept.docs.resize(before);
      }
    }
    fn(kept);
  }
  void signature(doc_id d, std::span<sig_value> out) const override {
    const std::uint32_t i = at(d);
    std::copy_n(signatures_.begin() + static_cast<std::ptrdiff_t>(std::size_t{i} * k_), k_, out.begin());
  }
  bool missing(std::vector<std::uint8_t>& wanted) override {
    // With verdicts, the pairs without one are those of buckets too large to
    // verify elsewhere, whose members' data was sent (plan_verification).
    if (has_verdicts_) {
      std::fill(wanted.begin(), wanted.end(), 0);
      return false;
    }
    bool left = false;
    for (std::size_t d = 0; d < wanted.size(); ++d) {
      if (wanted[d] && slot_[d] != UINT32_MAX) wanted[d] = 0;
      left = left || wanted[d] != 0;
    }
    return left;
  }
  void load(const std::vector<std::uint8_t>&) override {
    part_reader::fail("a candidate's shingle set was not sent by its part");
  }
  std::span<const std::uint64_t> set(doc_id d) const override {
    const std::uint32_t i = at(d);
    const std::uint64_t end = i + 1 < set_begin_.size() ? set_begin_[i + 1] : set_values_.size();
    return {set_values_.data() + set_begin_[i], end - set_begin_[i]};
  }

 private:
  std::uint32_t at(doc_id d) const {
    if (d >= slot_.size() || slot_[d] == UINT32_MAX) {
      // Consistent stage data never gets here; damaged (but well-formed) data may.
    part_reader::fail("document " + std::to_string(d) +
                      " is no candidate of any part, or has no data here for a pair without a verdict");
    }
    return slot_[d];
  }
  std::size_t k_;
  std::vector<decoded_buckets> groups_;
  std::vector<const bucket_list*> band_index_;
  std::vector<std::uint32_t> slot_;
  std::vector<sig_value> signatures_;
  std::vector<std::uint64_t> set_begin_;
  std::vector<std::uint64_t> set_values_;
  struct decided_entry {
    std::uint64_t key;  // a << 32 | b
    decided_pair pair;
  };
  std::vector<decided_entry> decided_;
  bool has_verdicts_ = false;
};

}  // namespace

std::string part_metadata(std::string_view part, bool fingerprints) {
  const part_view v = view_part(part);
  part_writer w(kMagic, kVersion);
  w.num<std::uint64_t>(v.documents);
  w.num<std::uint64_t>(v.num_perm);
  w.num<std::uint64_t>(v.chunks);
  w.num<std::uint64_t>(v.range_begin);
  w.bytes(v.docs.data(), v.docs.size());
  w.blob(v.ids);
  w.bytes(v.chunk_table.data(), v.chunk_table.size());
  w.num<std::uint64_t>(v.range_end);
  for (const std::uint64_t c : v.counts) w.num<std::uint64_t>(c);
  w.num<double>(v.seconds);
  w.num<std::uint64_t>(v.notices.size());
  for (const std::string_view m : v.notices) w.blob(m);
  w.blob(std::string_view());
  w.blob(fingerprints ? v.fingerprints : std::string_view());
  return w.take();
}

std::string part_band_keys(std::string_view part, const dedup_options& options, std::uint32_t band_begin,
                           std::uint32_t band_end) {
  options.validate();
  const lsh_params lsh = check_band_range(options, band_begin, band_end);
  const part_view v = view_part(part);
  const auto stage = pipeline::stage_data_options::of(options);
  if (v.num_perm != options.num_perm) part_reader::fail("made with another --num-perm or command");
  const pipeline::signature_batch b = pipeline::read_signatures(pipeline::byte_view(v.signatures), stage);
  if (b.docs.size() != v.documents) part_reader::fail("signature count differs from document count");
  const bander bands(lsh, options.num_perm, options.seed);
  part_writer w(kKeysMagic, kVersion);
  w.num<std::uint32_t>(band_begin);
  w.num<std::uint32_t>(band_end);
  w.num<std::uint64_t>(v.documents);
  std::vector<band_entry> column(v.documents);
  for (std::uint32_t band = band_begin; band < band_end; ++band) {
    const std::size_t got = bands.column(b.values, band, column);
    w.blob(pipeline::write_band_keys(stage, {lsh, band}, std::span<const band_entry>(column.data(), got)));
  }
  return w.take();
}

std::string group_part_band_keys(std::span<const std::string_view> keys, const dedup_options& options,
                                 std::uint32_t band_begin, std::uint32_t band_end) {
  options.validate();
  const lsh_params lsh = check_band_range(options, band_begin, band_end);
  const auto stage = pipeline::stage_data_options::of(options);
  std::vector<part_reader> readers;
  std::vector<std::uint64_t> first_doc;
  std::uint64_t total = 0;
  part_writer w(kBucketsMagic, kVersion);
  w.num<std::uint32_t>(band_begin);
  w.num<std::uint32_t>(band_end);
  w.num<std::uint64_t>(keys.size());
  for (const std::string_view k : keys) {
    part_reader& r = readers.emplace_back(k, kKeysMagic, kVersion);
    if (r.num<std::uint32_t>() != band_begin || r.num<std::uint32_t>() != band_end) {
      part_reader::fail("band keys of other bands");
    }
    const auto n = r.num<std::uint64_t>();
    first_doc.push_back(total);
    total += n;
    if (total > UINT32_MAX) part_reader::fail("more than 2^32-1 documents in one run; split the corpus");
    w.num<std::uint64_t>(n);
  }
  std::vector<neardup::detail::key_doc> records, scratch;
  for (std::uint32_t band = band_begin; band < band_end; ++band) {
    records.clear();
    for (std::size_t p = 0; p < readers.size(); ++p) {
      for (const band_entry& e : pipeline::read_band_keys(pipeline::byte_view(readers[p].blob()), stage, {lsh, band})) {
        if (e.doc >= (p + 1 < first_doc.size() ? first_doc[p + 1] : total) - first_doc[p]) {
          part_reader::fail("band key of a document outside its part");
        }
        records.push_back({e.key, static_cast<doc_id>(e.doc + first_doc[p]), 0});
      }
    }
    scratch.resize(records.size());
    neardup::detail::radix_sort_key_doc(std::span(records), std::span(scratch));  // stable: by (key, document)
    std::vector<std::uint32_t> sizes;
    std::vector<doc_id> members;
    for (std::size_t i = 0; i < records.size();) {
      std::size_t j = i + 1;
      while (j < records.size() && records[j].key == records[i].key) ++j;
      if (j - i >= 2) {
        sizes.push_back(static_cast<std::uint32_t>(j - i));
        for (std::size_t m = i; m < j; ++m) members.push_back(records[m].doc);
      }
      i = j;
    }
    w.num<std::uint64_t>(sizes.size());
    w.num<std::uint64_t>(members.size());
    for (const auto s : sizes) w.num<std::uint32_t>(s);
    for (const auto d : members) w.num<std::uint32_t>(d);
  }
  for (auto& r : readers) {
    if (!r.done()) part_reader::fail("trailing bytes");
  }
  return w.take();
}

std::vector<std::string> part_candidates(std::span<const std::string_view> buckets) {
  std::vector<std::uint64_t> part_documents;
  std::vector<std::uint8_t> candidate;
  for (const std::string_view b : buckets) {
    const decoded_buckets g = read_buckets(b);
    if (candidate.empty() && part_documents.empty()) {
      part_documents = g.part_documents;
      std::uint64_t total = 0;
      for (const auto n : part_documents) total += n;
      candidate.assign(total, 0);
    } else if (g.part_documents != part_documents) {
      part_reader::fail("buckets of other parts");
    }
    for (const bucket_list& list : g.bands) {
      for (const doc_id d : list.docs) candidate[d] = 1;
    }
  }
  std::vector<std::string> out;
  std::uint64_t first = 0;
  for (const std::uint64_t n : part_documents) {
    part_writer w(kCandidatesMagic, kVersion);
    w.num<std::uint64_t>(n);
    std::uint64_t count = 0;
    for (std::uint64_t d = 0; d < n; ++d) count += candidate[first + d];
    w.num<std::uint64_t>(count);
    for (std::uint64_t d = 0; d < n; ++d) {
      if (candidate[first + d]) w.num<std::uint32_t>(static_cast<std::uint32_t>(d));
    }
    out.push_back(w.take());
    first += n;
  }
  return out;
}

namespace {

// Parses a candidate list (the layout of a "NDCAND" blob's body, and of each
// destination of a route) of a part of `documents` documents.
std::vector<doc_id> read_doc_list(part_reader& r, std::uint64_t documents) {
  const auto count = r.num<std::uint64_t>();
  if (count > documents) part_reader::fail("more candidates than documents");
  std::vector<doc_id> docs;
  docs.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto d = r.num<std::uint32_t>();
    if (d >= documents || (!docs.empty() && d <= docs.back())) part_reader::fail("bad candidate list");
    docs.push_back(d);
  }
  return docs;
}

// Candidate data (signatures and, for verify_mode::exact, shingle sets) of
// each list of a part's documents; the sets are loaded once for all lists.
std::vector<std::string> candidate_data_of(const io::source_info& source, std::string_view part,
                                           const std::function<std::vector<std::vector<doc_id>>(std::uint64_t)>& lists_of,
                                           const dedup_options& options, std::string_view part_sets) {
  options.validate();
  validate(options);
  if (!options.near) throw std::invalid_argument("part_candidate_data: `neardup exact` has no candidates");
  const auto stage = pipeline::stage_data_options::of(options);
  detail::scanned_corpus scanned;
  scanned.corpus.num_perm = options.num_perm;
  pipeline::sink quiet;
  run_notices none(quiet, 0);
  append_part(scanned, none, part, 0, false, source.range_begin, options.num_perm, stage, true);
  const corpus_index& corpus = scanned.corpus;
  const std::vector<std::vector<doc_id>> lists = lists_of(corpus.size());
  std::vector<std::uint8_t> wanted(corpus.size());
  bool any = false;
  for (const auto& docs : lists) {
    for (const doc_id d : docs) wanted[d] = 1;
    any = any || !docs.empty();
  }
  const bool sets = options.verify == verify_mode::exact;
  // The sets of the wanted documents: pass 1's (kept by scan_part), or read again.
  std::vector<std::uint64_t> set_begin(corpus.size() + 1, 0);
  std::string_view kept;
  detail::shingle_sets loaded;
  const bool from_pass1 = sets && any && !part_sets.empty();
  if (from_pass1) {
    part_reader r2(part_sets, kPartSetsMagic, kVersion);
    if (r2.num<std::uint64_t>() != corpus.size()) part_reader::fail("shingle sets of another part");
    std::uint64_t total = 0;
    for (std::size_t d = 0; d < corpus.size(); ++d) {
      const auto m = r2.num<std::uint64_t>();
      total += m;
      if (m > part_sets.size() / 8 || total > part_sets.size() / 8) part_reader::fail("truncated");
      set_begin[d + 1] = total;
    }
    kept = r2.take(total * 8);
    if (!r2.done()) part_reader::fail("trailing bytes");
  } else if (sets && any) {
    executor pool(options.threads);
    loaded = load_shingle_sets(std::span<const io::source_info>(&source, 1), corpus, wanted,
                               scan_options(options, pool), quiet);
  }
  std::vector<std::string> out;
  std::vector<sig_value> values;
  for (const auto& docs : lists) {
    values.clear();
    values.reserve(docs.size() * options.num_perm);
    for (const doc_id d : docs) {
      const auto sig = corpus.signature(d);
      values.insert(values.end(), sig.begin(), sig.end());
    }
    part_writer w(kSetsMagic, kVersion);
    if (sets) {  // one allocation for the sets (the signatures are a small share)
      std::uint64_t values_bytes = 0;
      for (const doc_id d : docs) {
        values_bytes += 8 + 8 * (from_pass1 ? set_begin[d + 1] - set_begin[d] : loaded[d].size());
      }
      w.reserve(values_bytes + 256 + values.size() * sizeof(sig_value));
    }
    w.num<std::uint64_t>(corpus.size());
    w.blob(pipeline::write_signatures(stage, docs, values));
    w.num<std::uint8_t>(sets ? 1 : 0);
    if (sets) {
      for (const doc_id d : docs) {
        if (from_pass1) {
          w.num<std::uint64_t>(set_begin[d + 1] - set_begin[d]);
          w.bytes(kept.data() + set_begin[d] * 8, (set_begin[d + 1] - set_begin[d]) * 8);
        } else {
          const auto set = loaded[d];
          w.num<std::uint64_t>(set.size());
          w.u64s(set);
        }
      }
    }
    out.push_back(w.take());
  }
  return out;
}

}  // namespace

std::string part_candidate_data(const io::source_info& source, std::string_view part, std::string_view candidates,
                                const dedup_options& options, std::string_view part_sets) {
  const auto lists_of = [&](std::uint64_t documents) {
    part_reader r(candidates, kCandidatesMagic, kVersion);
    if (r.num<std::uint64_t>() != documents) part_reader::fail("candidates of another part");
    std::vector<std::vector<doc_id>> lists{read_doc_list(r, documents)};
    if (!r.done()) part_reader::fail("trailing bytes");
    return lists;
  };
  return std::move(candidate_data_of(source, part, lists_of, options, part_sets).front());
}

namespace {

constexpr char kRouteMagic[8] = {'N', 'D', 'R', 'O', 'U', 'T', 'E', '\0'};
constexpr char kPairsMagic[8] = {'N', 'D', 'P', 'A', 'I', 'R', 'S', '\0'};
constexpr char kVerdictsMagic[8] = {'N', 'D', 'V', 'E', 'R', 'D', 'T', '\0'};

// The pairs of one verification group (plan_verification's bytes).
struct decoded_pairs {
  std::uint32_t group = 0, groups = 0, max_bucket = 0;
  std::vector<std::uint64_t> part_documents;
  std::vector<std::uint64_t> keys;  // a << 32 | b, a < b, ascending
};

decoded_pairs read_pairs(std::string_view bytes) {
  part_reader r(bytes, kPairsMagic, kVersion);
  decoded_pairs p;
  p.group = r.num<std::uint32_t>();
  p.groups = r.num<std::uint32_t>();
  p.max_bucket = r.num<std::uint32_t>();
  if (p.group >= p.groups) part_reader::fail("bad verification group");
  std::uint64_t total = 0;
  p.part_documents = read_part_documents(r, bytes.size(), total);
  const auto count = r.num<std::uint64_t>();
  if (count > bytes.size() / 8) part_reader::fail("truncated");
  p.keys.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto key = r.num<std::uint64_t>();
    const std::uint64_t a = key >> 32, b = key & UINT32_MAX;
    if (a >= b || b >= total || (!p.keys.empty() && key <= p.keys.back())) part_reader::fail("bad pair list");
    p.keys.push_back(key);
  }
  if (!r.done()) part_reader::fail("trailing bytes");
  return p;
}

// What a verdict table must agree on with the run that reads it.
void write_verdict_header(part_writer& w, const dedup_options& options) {
  w.num<std::uint8_t>(static_cast<std::uint8_t>(options.verify));
  w.num<double>(options.threshold);
  w.num<std::uint64_t>(options.num_perm);
  w.num<std::uint64_t>(options.seed);
}

void check_verdict_header(part_reader& r, const dedup_options& options) {
  const auto verify = r.num<std::uint8_t>();
  const auto threshold = r.num<double>();
  const auto num_perm = r.num<std::uint64_t>();
  const auto seed = r.num<std::uint64_t>();
  if (verify != static_cast<std::uint8_t>(options.verify) || threshold != options.threshold ||
      num_perm != options.num_perm || seed != options.seed) {
    part_reader::fail("verdicts made with another --verify, --threshold, --num-perm or --seed");
  }
}

}  // namespace

verification_plan plan_verification(std::span<const std::string_view> buckets, std::uint32_t max_bucket,
                                    std::uint32_t groups) {
  if (groups == 0 || groups > max_verification_groups) {
    throw std::invalid_argument("plan_verification: groups = " + std::to_string(groups) + ", expected 1.." +
                                std::to_string(max_verification_groups));
  }
  if (max_bucket > max_verified_bucket) {
    throw std::invalid_argument("plan_verification: max_bucket = " + std::to_string(max_bucket) +
                                ", at most " + std::to_string(max_verified_bucket));
  }
  std::vector<decoded_buckets> decoded;
  for (const std::string_view b : buckets) {
    decoded.push_back(read_buckets(b));
    if (decoded.back().part_documents != decoded.front().part_documents) part_reader::fail("buckets of other parts");
  }
  // Bands in order: a pair's group is that of its first bucket (in band order).
  std::sort(decoded.begin(), decoded.end(),
            [](const decoded_buckets& x, const decoded_buckets& y) { return x.band_begin < y.band_begin; });
  const std::vector<std::uint64_t> part_documents =
      decoded.empty() ? std::vector<std::uint64_t>{} : decoded.front().part_documents;
  std::vector<std::uint64_t> first_doc{0};
  for (const auto n : part_documents) first_doc.push_back(first_doc.back() + n);
  const std::uint64_t total = first_doc.back();

  std::vector<std::uint8_t> large(total, 0);
  struct pair_group {
    std::uint64_t key;
    std::uint32_t group;
  };
  std::vector<pair_group> found;
  for (const decoded_buckets& g : decoded) {
    for (const bucket_list& list : g.bands) {
      for (std::size_t i = 0; i < list.size(); ++i) {
        const auto bucket = list[i];
        if (bucket.size() > max_bucket) {
          for (const doc_id d : bucket) large[d] = 1;
          continue;
        }
        // All of a small bucket's pairs, to the group of its first member:
        // a cluster's buckets mostly share their first member, so its
        // documents mostly travel to one group.
        const auto group = static_cast<std::uint32_t>(mix64(bucket[0]) % groups);
        for (std::size_t x = 0; x < bucket.size(); ++x) {
          for (std::size_t y = x + 1; y < bucket.size(); ++y) {
            if (bucket[x] >= bucket[y]) part_reader::fail("bucket not sorted");
            found.push_back({std::uint64_t{bucket[x]} << 32 | bucket[y], group});
          }
        }
      }
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const pair_group& x, const pair_group& y) { return x.key < y.key; });
  std::vector<std::vector<std::uint64_t>> keys(groups);
  std::vector<std::vector<doc_id>> docs(groups);
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (i > 0 && found[i].key == found[i - 1].key) continue;  // the first bucket's group decides
    keys[found[i].group].push_back(found[i].key);
    docs[found[i].group].push_back(static_cast<doc_id>(found[i].key >> 32));
    docs[found[i].group].push_back(static_cast<doc_id>(found[i].key & UINT32_MAX));
  }
  std::vector<pair_group>().swap(found);

  verification_plan plan;
  for (std::uint32_t h = 0; h < groups; ++h) {
    part_writer w(kPairsMagic, kVersion);
    w.num<std::uint32_t>(h);
    w.num<std::uint32_t>(groups);
    w.num<std::uint32_t>(max_bucket);
    w.num<std::uint64_t>(part_documents.size());
    for (const auto n : part_documents) w.num<std::uint64_t>(n);
    w.num<std::uint64_t>(keys[h].size());
    for (const auto k : keys[h]) w.num<std::uint64_t>(k);
    plan.pairs.push_back(w.take());
    std::vector<std::uint64_t>().swap(keys[h]);
    std::sort(docs[h].begin(), docs[h].end());
    docs[h].erase(std::unique(docs[h].begin(), docs[h].end()), docs[h].end());
  }
  // Per part, per destination (the groups, then the finishing task): its documents there.
  std::vector<std::size_t> at(groups, 0);
  for (std::size_t i = 0; i < part_documents.size(); ++i) {
    part_writer w(kRouteMagic, kVersion);
    w.num<std::uint64_t>(part_documents[i]);
    w.num<std::uint32_t>(groups);
    w.num<std::uint32_t>(max_bucket);
    for (std::uint32_t h = 0; h < groups; ++h) {
      const std::size_t begin = at[h];
      while (at[h] < docs[h].size() && docs[h][at[h]] < first_doc[i + 1]) ++at[h];
      w.num<std::uint64_t>(at[h] - begin);
      for (std::size_t j = begin; j < at[h]; ++j) w.num<std::uint32_t>(static_cast<std::uint32_t>(docs[h][j] - first_doc[i]));
    }
    std::uint64_t count = 0;
    for (std::uint64_t d = first_doc[i]; d < first_doc[i + 1]; ++d) count += large[d];
    w.num<std::uint64_t>(count);
    for (std::uint64_t d = first_doc[i]; d < first_doc[i + 1]; ++d) {
      if (large[d]) w.num<std::uint32_t>(static_cast<std::uint32_t>(d - first_doc[i]));
    }
    plan.routes.push_back(w.take());
  }
  return plan;
}

std::vector<std::string> part_verification_data(const io::source_info& source, std::string_view part,
                                                std::string_view route, const dedup_options& options,
                                                std::string_view part_sets) {
  if (options.verify == verify_mode::none) {
    throw std::invalid_argument("part_verification_data: --verify none verifies no pairs");
  }
  const auto lists_of = [&](std::uint64_t documents) {
    part_reader r(route, kRouteMagic, kVersion);
    if (r.num<std::uint64_t>() != documents) part_reader::fail("route of another part");
    const auto groups = r.num<std::uint32_t>();
    (void)r.num<std::uint32_t>();
    if (groups == 0 || groups > max_verification_groups) part_reader::fail("bad verification groups");
    std::vector<std::vector<doc_id>> lists;
    for (std::uint32_t h = 0; h <= groups; ++h) lists.push_back(read_doc_list(r, documents));
    if (!r.done()) part_reader::fail("trailing bytes");
    return lists;
  };
  return candidate_data_of(source, part, lists_of, options, part_sets);
}

std::string verify_pairs(std::string_view pairs, std::span<const std::string_view> data,
                         const dedup_options& options) {
  options.validate();
  if (!options.near || options.verify == verify_mode::none) {
    throw std::invalid_argument("verify_pairs: only --verify exact and estimate verify pairs");
  }
  const decoded_pairs p = read_pairs(pairs);
  if (data.size() != p.part_documents.size()) {
    throw std::invalid_argument("verify_pairs: " + std::to_string(data.size()) + " candidate data for " +
                                std::to_string(p.part_documents.size()) + " parts");
  }
  const auto stage = pipeline::stage_data_options::of(options);
  const std::size_t k = options.num_perm;
  const bool exact = options.verify == verify_mode::exact;
  // The documents sent, in run-wide order (parts in order, each ascending).
  std::vector<doc_id> docs;
  std::vector<sig_value> signatures;
  // Each document's set where it lies in its part's data (checked here,
  // copied out only when a pair asks for it: set_of below).
  std::vector<std::string_view> set_bytes;
  // At most this many signatures: reserved (not touched) at once, so that
  // they are copied in without regrowing.
  std::size_t data_bytes = 0;
  for (const std::string_view d : data) data_bytes += d.size();
  signatures.reserve(data_bytes / sizeof(sig_value));
  std::uint64_t first = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    part_reader r(data[i], kSetsMagic, kVersion);
    if (r.num<std::uint64_t>() != p.part_documents[i]) part_reader::fail("candidate data of another part");
    const pipeline::signature_batch b = pipeline::read_signatures(pipeline::byte_view(r.blob()), stage);
    const bool sets = r.num<std::uint8_t>() != 0;
    if (sets != exact) part_reader::fail("made with another --verify");
    for (std::size_t j = 0; j < b.docs.size(); ++j) {
      if (b.docs[j] >= p.part_documents[i]) part_reader::fail("candidate outside its part");
      docs.push_back(static_cast<doc_id>(b.docs[j] + first));
      std::string_view raw;
      if (sets) {
        const auto m = r.num<std::uint64_t>();
        if (m > data[i].size() / 8) part_reader::fail("truncated");
        raw = r.take(m * 8);
        for (std::uint64_t x = 1; x < m; ++x) {
          if (le64(raw, x * 8) <= le64(raw, (x - 1) * 8)) part_reader::fail("a shingle set out of order");
        }
      }
      set_bytes.push_back(raw);
    }
    signatures.insert(signatures.end(), b.values.begin(), b.values.end());
    if (!r.done()) part_reader::fail("trailing bytes");
    first += p.part_documents[i];
  }
  const auto slot = [&](doc_id d) -> std::size_t {
    const auto it = std::lower_bound(docs.begin(), docs.end(), d);
    if (it == docs.end() || *it != d) {
      part_reader::fail("document " + std::to_string(d) + " of a pair was not sent by its part");
    }
    return static_cast<std::size_t>(it - docs.begin());
  };
  for (std::size_t i = 1; i < docs.size(); ++i) {
    if (docs[i] <= docs[i - 1]) part_reader::fail("candidate data out of order");
  }
  const auto signature_of = [&](doc_id d) {
    return std::span<const sig_value>(signatures).subspan(slot(d) * k, k);
  };
  // A set, copied into one of two buffers of the calling thread, in turn:
  // the verifier and the similarity below each take the two sets of one
  // pair (two calls) before asking for others.
  const auto set_of = [&](doc_id d) -> std::span<const std::uint64_t> {
    thread_local std::vector<std::uint64_t> buffers[2];
    thread_local unsigned turn = 0;
    std::vector<std::uint64_t>& buf = buffers[turn++ & 1];
    const std::string_view raw = set_bytes[slot(d)];
    buf.resize(raw.size() / 8);
    if constexpr (std::endian::native == std::endian::little) {
      if (!raw.empty()) std::memcpy(buf.data(), raw.data(), raw.size());
    } else {
      for (std::size_t x = 0; x < buf.size(); ++x) buf[x] = le64(raw, x * 8);
    }
    return buf;
  };
  // The run's own verifier (the same answers as the clusterer's), and the
  // similarity its evidence reports.
  const pair_verifier verify = pipeline::make_verifier(options, signature_of, set_of);
  std::vector<std::uint8_t> verdicts(p.keys.size());
  std::vector<double> similarity(p.keys.size());
  executor pool(options.threads);
  run_on(&pool, p.keys.size(), [&](std::size_t i) {
    const auto a = static_cast<doc_id>(p.keys[i] >> 32), b = static_cast<doc_id>(p.keys[i] & UINT32_MAX);
    verdicts[i] = verify(a, b) ? 1 : 0;
    similarity[i] = exact ? exact_jaccard(set_of(a), set_of(b)) : jaccard(signature_of(a), signature_of(b)).estimate;
  });
  part_writer w(kVerdictsMagic, kVersion);
  w.num<std::uint32_t>(p.group);
  w.num<std::uint32_t>(p.groups);
  w.num<std::uint32_t>(p.max_bucket);
  write_verdict_header(w, options);
  w.num<std::uint64_t>(first);
  w.num<std::uint64_t>(p.keys.size());
  for (const auto key : p.keys) w.num<std::uint64_t>(key);
  for (const auto v : verdicts) w.num<std::uint8_t>(v);
  for (const double x : similarity) w.num<double>(x);
  return w.take();
}

namespace {

// Reads every group's verdicts (verify_pairs) into `data`: one table per
// group of one plan, made with the run's options, over its n documents.
void read_verdicts(distributed_stage_data& data, std::span<const std::string_view> tables, std::uint64_t n,
                   const dedup_options& options) {
  if (options.verify == verify_mode::none) part_reader::fail("--verify none has no verdicts");
  std::vector<std::uint8_t> seen(tables.size(), 0);
  std::uint32_t max_bucket = 0;
  for (std::size_t ti = 0; ti < tables.size(); ++ti) {
    const std::string_view t = tables[ti];
    part_reader r(t, kVerdictsMagic, kVersion);
    const auto group = r.num<std::uint32_t>();
    const auto groups = r.num<std::uint32_t>();
    const auto bucket = r.num<std::uint32_t>();
    if (groups != tables.size() || group >= groups || seen[group]) {
      part_reader::fail("verdicts of another plan, or a group given twice");
    }
    if (ti > 0 && bucket != max_bucket) part_reader::fail("verdicts of another plan");
    seen[group] = 1;
    max_bucket = bucket;
    check_verdict_header(r, options);
    if (r.num<std::uint64_t>() != n) part_reader::fail("verdicts of other parts");
    const auto count = r.num<std::uint64_t>();
    if (count > t.size() / 17) part_reader::fail("truncated");
    std::vector<std::uint64_t> keys(count);
    std::vector<std::uint8_t> duplicate(count);
    std::vector<double> similarity(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      keys[i] = r.num<std::uint64_t>();
      if ((keys[i] >> 32) >= (keys[i] & UINT32_MAX) || (keys[i] & UINT32_MAX) >= n ||
          (i > 0 && keys[i] <= keys[i - 1])) {
        part_reader::fail("bad pair list");
      }
    }
    for (auto& v : duplicate) {
      v = r.num<std::uint8_t>();
      if (v > 1) part_reader::fail("bad verdict");
    }
    for (auto& x : similarity) {
      x = r.num<double>();
      if (!(x >= 0 && x <= 1)) part_reader::fail("bad similarity");  // NaN too
    }
    if (!r.done()) part_reader::fail("trailing bytes");
    data.add_verdicts(keys, duplicate, similarity);
  }
  data.index_verdicts();
}

}  // namespace

namespace {

constexpr char kFingerprintPieceMagic[8] = {'N', 'D', 'F', 'P', 'P', 'C', 'E', '\0'};
constexpr char kExactMagic[8] = {'N', 'D', 'E', 'X', 'A', 'C', 'T', '\0'};

void check_groups(std::uint32_t group, std::uint32_t groups) {
  if (groups == 0 || groups > max_verification_groups || group >= groups) part_reader::fail("bad fingerprint group");
}

// Sets the fingerprints of the documents listed by every exact group
// (group_part_fingerprints) in `corpus`, whose parts have part_first[i]
// documents before them.
void read_exact_groups(corpus_index& corpus, std::span<const std::string_view> tables,
                       std::span<const std::size_t> part_first) {
  std::vector<std::uint8_t> seen(tables.size(), 0);
  for (const std::string_view t : tables) {
    part_reader r(t, kExactMagic, kVersion);
    const auto group = r.num<std::uint32_t>();
    const auto groups = r.num<std::uint32_t>();
    check_groups(group, groups);
    if (groups != tables.size() || seen[group]) part_reader::fail("exact groups of another run, or a group given twice");
    seen[group] = 1;
    std::uint64_t total = 0;
    const std::vector<std::uint64_t> documents = read_part_documents(r, t.size(), total);
    if (documents.size() != part_first.size() || total != corpus.size()) part_reader::fail("exact groups of other parts");
    for (std::size_t i = 0; i < documents.size(); ++i) {
      const std::size_t end = i + 1 < part_first.size() ? part_first[i + 1] : corpus.size();
      if (documents[i] != end - part_first[i]) part_reader::fail("exact groups of other parts");
    }
    const auto count = r.num<std::uint64_t>();
    if (count > t.size() / 20) part_reader::fail("truncated");
    std::vector<doc_id> docs(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      docs[i] = r.num<std::uint32_t>();
      if (docs[i] >= total || (i > 0 && docs[i] <= docs[i - 1])) part_reader::fail("bad exact group list");
    }
    for (const doc_id d : docs) {
      hash128 fp;
      fp.low = r.num<std::uint64_t>();
      fp.high = r.num<std::uint64_t>();
      corpus.fingerprints[d] = fp;
    }
    if (!r.done()) part_reader::fail("trailing bytes");
  }
}

}  // namespace

std::vector<std::string> part_fingerprints(std::string_view part, const dedup_options& options,
                                           std::uint32_t groups) {
  if (groups == 0 || groups > max_verification_groups) {
    throw std::invalid_argument("part_fingerprints: groups = " + std::to_string(groups) + ", expected 1.." +
                                std::to_string(max_verification_groups));
  }
  const auto stage = pipeline::stage_data_options::of(options);
  const part_view v = view_part(part);
  const auto fps = pipeline::read_fingerprints(pipeline::byte_view(v.fingerprints), stage);
  if (fps.size() != v.documents) part_reader::fail("fingerprint count differs from document count");
  std::vector<std::vector<pipeline::fingerprint_entry>> by_group(groups);
  for (const auto& e : fps) {
    if (e.doc >= v.documents) part_reader::fail("fingerprint of a document outside its part");
    // The usable documents only (status ok, with tokens: doc_meta's bytes 40 and 42): the others take part in no group.
    const std::size_t at = std::size_t{e.doc} * kDocBytes;
    if (v.docs[at + 40] != static_cast<char>(io::record_status::ok) || v.docs[at + 42] == 0) continue;
    by_group[e.fingerprint.low % groups].push_back(e);
  }
  std::vector<std::string> out;
  for (std::uint32_t g = 0; g < groups; ++g) {
    part_writer w(kFingerprintPieceMagic, kVersion);
    w.num<std::uint32_t>(g);
    w.num<std::uint32_t>(groups);
    w.num<std::uint64_t>(v.documents);
    w.blob(pipeline::write_fingerprints(stage, by_group[g]));
    out.push_back(w.take());
  }
  return out;
}

std::string group_part_fingerprints(std::span<const std::string_view> pieces, const dedup_options& options) {
  const auto stage = pipeline::stage_data_options::of(options);
  struct entry {
    hash128 fingerprint;
    doc_id doc;
  };
  std::vector<entry> all;
  std::vector<std::uint64_t> documents;
  std::uint32_t group = 0, groups = 0;
  std::uint64_t first = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    part_reader r(pieces[i], kFingerprintPieceMagic, kVersion);
    const auto g = r.num<std::uint32_t>();
    const auto gs = r.num<std::uint32_t>();
    check_groups(g, gs);
    if (i > 0 && (g != group || gs != groups)) part_reader::fail("fingerprint pieces of other groups");
    group = g;
    groups = gs;
    const auto n = r.num<std::uint64_t>();
    documents.push_back(n);
    if (n > UINT32_MAX - first) part_reader::fail("more than 2^32-1 documents in one run; split the corpus");
    for (const auto& e : pipeline::read_fingerprints(pipeline::byte_view(r.blob()), stage)) {
      if (e.doc >= n || e.fingerprint.low % groups != group) part_reader::fail("fingerprint outside its part or group");
      all.push_back({e.fingerprint, static_cast<doc_id>(e.doc + first)});
    }
    if (!r.done()) part_reader::fail("trailing bytes");
    first += n;
  }
  std::sort(all.begin(), all.end(), [](const entry& x, const entry& y) {
    return x.fingerprint != y.fingerprint ? x.fingerprint < y.fingerprint : x.doc < y.doc;
  });
  std::vector<entry> shared;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i + 1;
    while (j < all.size() && all[j].fingerprint == all[i].fingerprint) ++j;
    if (j - i >= 2) shared.insert(shared.end(), all.begin() + static_cast<std::ptrdiff_t>(i),
                                  all.begin() + static_cast<std::ptrdiff_t>(j));
    i = j;
  }
  std::sort(shared.begin(), shared.end(), [](const entry& x, const entry& y) { return x.doc < y.doc; });
  part_writer w(kExactMagic, kVersion);
  w.num<std::uint32_t>(group);
  w.num<std::uint32_t>(groups);
  w.num<std::uint64_t>(documents.size());
  for (const auto n : documents) w.num<std::uint64_t>(n);
  w.num<std::uint64_t>(shared.size());
  for (const entry& e : shared) w.num<std::uint32_t>(e.doc);
  for (const entry& e : shared) {
    w.num<std::uint64_t>(e.fingerprint.low);
    w.num<std::uint64_t>(e.fingerprint.high);
  }
  return w.take();
}

namespace {

constexpr char kKeepMagic[8] = {'N', 'D', 'K', 'E', 'E', 'P', '\0', '\0'};

// True when every kept line's size is known from pass 1 (part_writes): JSONL
// sources only (a text file's line is a JSON object made from its text), no
// line of 4 GiB or more.
bool sizes_known(std::span<const io::source_info> sources, const corpus_index& corpus) {
  for (const auto& src : sources) {
    if (src.kind != io::source_kind::jsonl) return false;
  }
  for (std::size_t d = 0; d < corpus.size(); ++d) {
    if (corpus.docs[d].raw_length == UINT32_MAX) return false;
  }
  return true;
}

// deduped.jsonl through the parts' write tasks (part_writes): a keep list per
// part, the temporary file at its final size, `writes`, then the commit.
void write_through_parts(const corpus_index& corpus, std::span<const doc_id> keeper, const std::string& path,
                         std::span<const std::size_t> part_first, std::span<const std::uint64_t> part_begin,
                         std::span<const std::uint32_t> part_sources, const part_writes& writes) {
  const std::size_t parts = part_first.size();
  std::vector<std::string> keep(parts);
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < parts; ++i) {
    const std::size_t first = part_first[i], last = i + 1 < parts ? part_first[i + 1] : corpus.size();
    std::uint64_t bytes = 0, count = 0;
    for (std::size_t d = first; d < last; ++d) {
      if (keeper[d] != d) continue;
      bytes += std::uint64_t{corpus.docs[d].raw_length} + 1;  // the line and its '\n'
      ++count;
    }
    part_writer w(kKeepMagic, kVersion);
    w.num<std::uint64_t>(last - first);
    w.num<std::uint64_t>(part_begin[i]);
    w.num<std::uint64_t>(corpus.source_bytes.at(part_sources[i]));
    w.num<std::uint64_t>(at);
    w.num<std::uint64_t>(bytes);
    w.num<std::uint64_t>(count);
    for (std::size_t d = first; d < last; ++d) {
      if (keeper[d] == d) w.num<std::uint32_t>(static_cast<std::uint32_t>(d - first));
    }
    keep[i] = w.take();
    at += bytes;
  }
  io::atomic_file out(path);
  if (at > 0) {
    if (::truncate(out.temp_path().c_str(), static_cast<off_t>(at)) != 0) {
      throw std::runtime_error(path + ": cannot size the temporary file: " + std::strerror(errno));
    }
    writes(keep, out.temp_path());
    struct stat st {};
    if (::stat(out.temp_path().c_str(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != at) {
      throw std::runtime_error(path + ": the parts' writes did not leave " + std::to_string(at) + " bytes");
    }
  }
  out.commit();
}

}  // namespace

dedup_report run_dedup_parts(std::span<const io::source_info> sources, std::span<const std::string_view> parts,
                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                             const dedup_options& options, const part_stages* stages,
                             const part_writes* writes) {
  options.validate();
  validate(options);
  check_part_order("run_dedup_parts", sources.size(), parts.size(), part_sources);
  const std::size_t k = options.near ? options.num_perm : 0;
  const auto stage = pipeline::stage_data_options::of(options);
  job_events events(options);
  scanned_corpus scanned;
  corpus_index& corpus = scanned.corpus;
  corpus.num_perm = stages != nullptr ? 0 : k;
  if (stages != nullptr && !options.near &&
      (!stages->buckets.empty() || !stages->candidate_data.empty() || !stages->verdicts.empty())) {
    throw std::invalid_argument("run_dedup_parts: `exact` has no bands: of the part stages, only exact groups");
  }
  if (stages != nullptr && options.near && stages->candidate_data.size() != parts.size()) {
    throw std::invalid_argument("run_dedup_parts: " + std::to_string(stages->candidate_data.size()) +
                                " candidate data for " + std::to_string(parts.size()) + " parts");
  }
  std::vector<std::size_t> part_first(parts.size());
  std::vector<std::uint64_t> part_begin(parts.size());  // the parts' byte ranges' starts
  run_notices notices(*events, options.max_reported_errors);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::uint32_t s = part_sources[i];
    const bool continues = i > 0 && part_sources[i - 1] == s;  // another range of the same file
    part_first[i] = corpus.size();
    part_begin[i] = continues ? corpus.source_bytes.back() : 0;
    naming(sources[s].name, [&] {
      append_part(scanned, notices, parts[i], s, continues, part_begin[i], k, stage, stages == nullptr,
                  stages != nullptr && !stages->exact.empty());
    });
  }
  if (stages != nullptr && !stages->exact.empty()) {
    naming("exact groups", [&] { read_exact_groups(corpus, stages->exact, part_first); });
  }
  if (writes != nullptr && *writes && options.compression == io::output_compression::none &&
      sizes_known(sources, corpus)) {
    scanned.write_documents = [&](const corpus_index& c, std::span<const doc_id> keeper, const std::string& path) {
      write_through_parts(c, keeper, path, part_first, part_begin, part_sources, *writes);
    };
  }
  std::unique_ptr<distributed_stage_data> data;
  if (stages != nullptr && options.near) {
    const std::size_t n = corpus.size();
    data = std::make_unique<distributed_stage_data>(n, k, options.banding().bands);
    for (const std::string_view b : stages->buckets) {
      decoded_buckets g = naming("buckets", [&] { return read_buckets(b); });
      for (std::size_t i = 0; i < g.part_documents.size(); ++i) {
        const std::uint64_t expect = (i + 1 < parts.size() ? part_first[i + 1] : n) - part_first[i];
        if (g.part_documents.size() != parts.size() || g.part_documents[i] != expect) {
          throw std::runtime_error("buckets: made from other parts");
        }
      }
      data->add_buckets(std::move(g));
    }
    naming("buckets", [&] { data->index_bands(); });
    for (std::size_t i = 0; i < parts.size(); ++i) {
      naming(sources[part_sources[i]].name, [&] {
        part_reader r(stages->candidate_data[i], kSetsMagic, kVersion);
        const std::uint64_t count = (i + 1 < parts.size() ? part_first[i + 1] : n) - part_first[i];
        if (r.num<std::uint64_t>() != count) part_reader::fail("candidate data of another part");
        const pipeline::signature_batch b = pipeline::read_signatures(pipeline::byte_view(r.blob()), stage);
        const bool sets = r.num<std::uint8_t>() != 0;
        if (sets != (options.verify == verify_mode::exact)) part_reader::fail("made with another --verify");
        std::vector<std::uint64_t> set;
        for (std::size_t j = 0; j < b.docs.size(); ++j) {
          if (b.docs[j] >= count) part_reader::fail("candidate outside its part");
          set.clear();
          if (sets) {
            const auto m = r.num<std::uint64_t>();
            if (m > stages->candidate_data[i].size() / 8) part_reader::fail("truncated");
            const std::string_view raw = r.take(m * 8);
            set.resize(m);
            for (std::uint64_t x = 0; x < m; ++x) set[x] = le64(raw, x * 8);
          }
          data->add_candidate(static_cast<doc_id>(b.docs[j] + part_first[i]),
                              std::span<const sig_value>(b.values).subspan(j * k, k), set);
        }
        if (!r.done()) part_reader::fail("trailing bytes");
      });
    }
    if (!stages->verdicts.empty()) {
      naming("verdicts", [&] { read_verdicts(*data, stages->verdicts, n, options); });
    }
    scanned.stage_data = data.get();
    scanned.sets = data.get();
  }
  executor pool(1);
  warn_duplicate_ids(sources, corpus, pass_options_for(options, options, pool), *events, scanned.counts);
  return run_dedup_scanned(sources, out_dir, options, &scanned);
}

std::uint64_t write_part_kept(const io::source_info& source, std::string_view part, std::string_view keep,
                              const std::string& path, const dedup_options& options) {
  options.validate();
  validate(options);
  return naming(source.name, [&] {
    scanned_corpus scanned;
    pipeline::sink quiet;
    run_notices none(quiet, 0);
    append_part(scanned, none, part, 0, false, source.range_begin, options.near ? options.num_perm : 0,
                pipeline::stage_data_options::of(options), false, true);  // fingerprints are not needed here
    corpus_index& corpus = scanned.corpus;
    const std::size_t n = corpus.size();
    part_reader r(keep, kKeepMagic, kVersion);
    if (r.num<std::uint64_t>() != n || r.num<std::uint64_t>() != source.range_begin) {
      part_reader::fail("keep list of another part");
    }
    const auto source_bytes = r.num<std::uint64_t>();
    const auto offset = r.num<std::uint64_t>();
    const auto bytes = r.num<std::uint64_t>();
    const std::vector<doc_id> kept = read_doc_list(r, n);
    if (!r.done()) part_reader::fail("trailing bytes");
    if (source_bytes < corpus.source_bytes.at(0)) part_reader::fail("keep list of another part");
    std::vector<doc_id> keeper(n);
    for (std::size_t d = 0; d < n; ++d) keeper[d] = static_cast<doc_id>(d + 1);  // removed (any other document)
    std::uint64_t expected = 0;
    for (const doc_id d : kept) {
      keeper[d] = d;
      expected += std::uint64_t{corpus.docs[d].raw_length} + 1;
    }
    if (expected != bytes) part_reader::fail("keep list of another part (its byte count differs)");
    struct stat st {};  // the run made the file at its final size: a part writes inside it
    if (::stat(path.c_str(), &st) != 0) {
      throw std::runtime_error(path + ": cannot write the kept lines into it: " + std::strerror(errno));
    }
    if (offset > static_cast<std::uint64_t>(st.st_size) || bytes > static_cast<std::uint64_t>(st.st_size) - offset) {
      part_reader::fail("keep list of another run (it writes past the end of " + path + ")");
    }
    corpus.source_bytes.assign(1, source_bytes);  // write_kept_at checks the whole file's size
    executor pool(options.threads);
    const std::uint64_t wrote = write_kept_at(source, corpus, keeper, path, offset, scan_options(options, pool), quiet);
    if (wrote != bytes) {
      throw std::runtime_error(source.name + ": the input changed while neardup was reading it (" +
                               std::to_string(bytes) + " kept bytes expected, " + std::to_string(wrote) + " written)");
    }
    return wrote;
  });
}

}  // namespace neardup::jobs

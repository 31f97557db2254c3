// The stored index (see neardup/jobs/stored_index.hpp): segments of stage
// data plus a MANIFEST, read with mmap, written append-only by one writer.
#include "neardup/jobs/stored_index.hpp"

#include "prior_run.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "neardup/banding.hpp"
#include "neardup/hash.hpp"
#include "neardup/pipeline/format.hpp"
#include "neardup/pipeline/stages.hpp"
#include "neardup/pipeline/stored_query.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace neardup::jobs {

namespace {

namespace fs = std::filesystem;
using pipeline::stage_kind;

constexpr char kSegmentMagic[8] = {'N', 'D', 'I', 'X', 'S', 'E', 'G', '1'};
constexpr char kDocsMagic[8] = {'N', 'D', 'I', 'X', 'D', 'O', 'C', '2'};
constexpr std::uint64_t kDocsSeed = 0x6e646978646f6373ULL;      // "ndixdocs"
constexpr std::uint64_t kManifestSeed = 0x6e6469786d616e69ULL;  // "ndixmani"
constexpr const char* kManifestHeader = "neardup-index 1";

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw index_error("index " + path + ": " + what);
}

// Test hook: NEARDUP_INDEX_CRASH_AT=STEP ends the process (no cleanup, as a
// crash would) when the writer reaches STEP.
void crash_point(const char* step) {
  const char* at = std::getenv("NEARDUP_INDEX_CRASH_AT");
  if (at != nullptr && std::strcmp(at, step) == 0) _exit(77);
}

// ---- bytes -------------------------------------------------------------------

void put64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint64_t get64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}
void put32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t get32(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
// Appends u64 values little-endian, in bulk where the host is little-endian.
void put64s(std::string& s, std::span<const std::uint64_t> v) {
  if constexpr (std::endian::native == std::endian::little) {
    s.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(std::uint64_t));
  } else {
    for (auto x : v) put64(s, x);
  }
}
void pad8(std::string& s) {
  while (s.size() % 8 != 0) s += '\0';
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t w = ::write(fd, bytes.data(), bytes.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(path, std::string("write failed: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Writes dir/name.tmp with fill(fd, its path), fsyncs, renames to dir/name,
// fsyncs dir.
void write_file_durably(const std::string& dir, const std::string& name,
                        const std::function<void(int, const std::string&)>& fill, const char* crash_written,
                        const char* crash_renamed) {
  const std::string tmp = dir + "/" + name + ".tmp", final_path = dir + "/" + name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(dir, "cannot create " + tmp + ": " + std::strerror(errno));
  try {
    fill(fd, tmp);
    if (::fsync(fd) != 0) fail(dir, "fsync " + tmp + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  crash_point(crash_written);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) fail(dir, "rename " + tmp + ": " + std::strerror(errno));
  crash_point(crash_renamed);
  fsync_dir(dir);
}

void write_file_durably(const std::string& dir, const std::string& name, std::span<const std::string> parts,
                        const char* crash_written, const char* crash_renamed) {
  write_file_durably(
      dir, name, [&](int fd, const std::string& tmp) { for (const std::string& p : parts) write_all(fd, p, tmp); },
      crash_written, crash_renamed);
}

// Appends to a file through a buffer; counts what it appended.
class file_appender {
 public:
  file_appender(int fd, const std::string& path, const std::string& index_path)
      : fd_(fd), path_(path), index_path_(index_path) {}
  void write(std::string_view bytes) {
    buf_ += bytes;
    offset_ += bytes.size();
    if (buf_.size() >= (std::size_t{1} << 20)) flush();
  }
  void write(std::span<const std::byte> bytes) { write({reinterpret_cast<const char*>(bytes.data()), bytes.size()}); }
  void flush() {
    write_all(fd_, buf_, path_);
    buf_.clear();
  }
  std::uint64_t offset() const noexcept { return offset_; }
  // Overwrites 8 bytes written earlier with v, little-endian.
  void patch64(std::uint64_t at, std::uint64_t v) {
    flush();
    std::string b;
    put64(b, v);
    if (::pwrite(fd_, b.data(), b.size(), static_cast<off_t>(at)) != 8) {
      fail(index_path_, "write failed: " + path_ + ": " + std::strerror(errno));
    }
  }

 private:
  int fd_;
  const std::string& path_;
  const std::string& index_path_;
  std::string buf_;
  std::uint64_t offset_ = 0;
};

// A segment the MANIFEST named was removed meanwhile (a writer compacted):
// the reader reads the new MANIFEST.
struct segment_gone : index_error {
  using index_error::index_error;
};

// A read-only mapping of a whole file.
class mapped_file {
 public:
  mapped_file() = default;
  mapped_file(const std::string& path, const std::string& index_path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) throw segment_gone("index " + index_path + ": " + path + " is missing");
    if (fd < 0) fail(index_path, "cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd, &st);
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        fail(index_path, "cannot map " + path + ": " + std::strerror(errno));
      }
      data_ = static_cast<const std::byte*>(p);
    }
    ::close(fd);
  }
  mapped_file(mapped_file&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  mapped_file& operator=(mapped_file&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~mapped_file() {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
  }
  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// ---- settings in the MANIFEST ------------------------------------------------

std::string describe(const index_settings& s) {
  std::ostringstream o;
  o.precision(17);
  o << "seed " << s.seed << "\ntokens " << name(s.tokens.kind) << ' ' << s.tokens.lowercase << ' '
    << s.tokens.fold_digits << ' ' << s.tokens.strip_punctuation << ' ' << s.tokens.collapse_whitespace
    << "\nngram " << s.ngram << "\nnum_perm " << s.num_perm << "\nscheme " << name(s.scheme) << "\nthreshold "
    << s.threshold << "\nbands " << s.banding().bands << "\nrows " << s.banding().rows << "\nverify "
    << name(s.verify) << "\nexact_first " << s.exact_first << '\n';
  return o.str();
}

template <class E>
E parse_or_fail(const std::string& text, const std::string& path, const char* field) {
  const auto v = parse<E>(text);
  if (!v) fail(path, std::string("MANIFEST: bad ") + field + " '" + text + "'");
  return *v;
}

struct manifest {
  index_settings settings;
  std::vector<segment_info> segments;
  std::uint64_t next_segment = 1;
};

std::string manifest_text(const manifest& m) {
  std::string s = std::string(kManifestHeader) + "\n" + describe(m.settings);
  s += "next_segment " + std::to_string(m.next_segment) + "\n";
  for (const auto& g : m.segments) {
    s += "segment " + g.name + " " + std::to_string(g.documents) + " " + std::to_string(g.kept) + " " +
         std::to_string(g.bytes) + "\n";
  }
  char sum[40];
  std::snprintf(sum, sizeof sum, "checksum %016llx\n", static_cast<unsigned long long>(hash64(s, kManifestSeed)));
  return s + sum;
}

manifest read_manifest(const std::string& path) {
  const std::string file = path + "/MANIFEST";
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) {
    fail(path, errno == ENOENT ? "no MANIFEST: not an index (create one with 'neardup index build')"
                               : std::string("cannot read MANIFEST: ") + std::strerror(errno));
  }
  std::string text;
  char buf[4096];
  while (std::size_t r = std::fread(buf, 1, sizeof buf, f)) text.append(buf, r);
  std::fclose(f);
  const std::size_t last = text.rfind("checksum ");
  if (last == std::string::npos || text.compare(0, std::strlen(kManifestHeader), kManifestHeader) != 0) {
    fail(path, "MANIFEST is damaged (no header or checksum line)");
  }
  const std::string body = text.substr(0, last);
  if (std::strtoull(text.c_str() + last + 9, nullptr, 16) != hash64(body, kManifestSeed)) {
    fail(path, "MANIFEST checksum does not match: the file is damaged");
  }
  manifest m;
  index_settings& s = m.settings;
  std::istringstream in(body);
  std::string line, key;
  std::getline(in, line);  // header
  std::uint32_t bands = 0, rows = 0;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    l >> key;
    std::string v;
    if (key == "seed") {
      l >> s.seed;
    } else if (key == "tokens") {
      l >> v >> s.tokens.lowercase >> s.tokens.fold_digits >> s.tokens.strip_punctuation >>
          s.tokens.collapse_whitespace;
      s.tokens.kind = parse_or_fail<token_kind>(v, path, "tokens");
    } else if (key == "ngram") {
      l >> s.ngram;
    } else if (key == "num_perm") {
      l >> s.num_perm;
    } else if (key == "scheme") {
      l >> v;
      s.scheme = parse_or_fail<minhash_scheme>(v, path, "scheme");
    } else if (key == "threshold") {
      l >> s.threshold;
    } else if (key == "bands") {
      l >> bands;
    } else if (key == "rows") {
      l >> rows;
    } else if (key == "verify") {
      l >> v;
      s.verify = parse_or_fail<pipeline::verify_mode>(v, path, "verify");
    } else if (key == "exact_first") {
      l >> s.exact_first;
    } else if (key == "next_segment") {
      l >> m.next_segment;
    } else if (key == "segment") {
      segment_info g;
      l >> g.name >> g.documents >> g.kept >> g.bytes;
      m.segments.push_back(g);
    } else {
      fail(path, "MANIFEST: unknown line '" + line + "'");
    }
    if (l.fail()) fail(path, "MANIFEST: bad line '" + line + "'");
  }
  s.lsh = lsh_params{bands, rows};
  try {
    s.validate();
  } catch (const std::invalid_argument& e) {
    fail(path, std::string("MANIFEST: ") + e.what());
  }
  return m;
}

// ---- segments ----------------------------------------------------------------

// What a new segment holds: n documents.
struct segment_input {
  std::size_t n = 0;
  std::function<std::span<const sig_value>(std::size_t)> signature;
  std::function<hash128(std::size_t)> fingerprint;
  std::function<bool(std::size_t)> kept;
  std::function<std::string(std::size_t)> id;
  std::function<std::span<const std::uint64_t>(std::size_t)> set;  // when the index stores sets
  // The smallest document (numbered across segments) of its cluster when stored.
  std::function<doc_id(std::size_t)> cluster;
  std::vector<prior_join> joins;  // clusters of earlier segments that these documents joined
};

pipeline::stage_data_options stage_options(const index_settings& s) {
  return pipeline::stage_data_options::of(s);
}

// The blocks of a segment, in order: signatures, fingerprints, band runs, documents.
std::vector<std::string> segment_blocks(const segment_input& in, const index_settings& s, executor* pool) {
  const std::size_t n = in.n, k = s.num_perm;
  const auto opt = stage_options(s);
  std::vector<std::string> blocks;
  std::vector<doc_id> docs(n);
  std::vector<sig_value> values(n * k);
  std::vector<pipeline::fingerprint_entry> fps(n);
  for (std::size_t i = 0; i < n; ++i) {
    docs[i] = static_cast<doc_id>(i);
    const auto sig = in.signature(i);
    std::copy(sig.begin(), sig.end(), values.begin() + static_cast<std::ptrdiff_t>(i * k));
    fps[i] = {in.fingerprint(i), static_cast<doc_id>(i)};
  }
  blocks.push_back(pipeline::write_signatures(opt, docs, values));
  blocks.push_back(pipeline::write_fingerprints(opt, fps));
  const lsh_params lsh = s.banding();
  const bander bands(lsh, k, s.seed);
  blocks.resize(2 + lsh.bands);
  // Every document's keys at once (bander::keys looks at the signature once).
  std::vector<std::uint64_t> all_keys(n * lsh.bands, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::span<std::uint64_t> out(all_keys.data() + i * lsh.bands, lsh.bands);
    if (!bands.keys(std::span<const sig_value>(values).subspan(i * k, k), out)) std::fill(out.begin(), out.end(), 0);
  }
  auto band_block = [&](std::size_t b) {
    std::vector<band_entry> run(n);
    for (std::size_t i = 0; i < n; ++i) run[i] = {all_keys[i * lsh.bands + b], static_cast<doc_id>(i)};
    pipeline::sort_band_run(run);
    blocks[2 + b] = pipeline::write_band_keys(opt, {lsh, static_cast<std::uint32_t>(b)}, run);
  };
  if (pool != nullptr) {
    pool->run(lsh.bands, [&](std::size_t b) { band_block(b); });
  } else {
    for (std::size_t b = 0; b < lsh.bands; ++b) band_block(b);
  }

  // Documents block: magic | n | id bytes | set values | joins | kept[n] pad | cluster[n] (u32) pad |
  // id_end[n] | set_end[n] | ids pad | sets | joins (u32 from, u32 to) | checksum
  std::string ids;
  std::vector<std::uint64_t> id_end(n), set_end(n);
  std::uint64_t set_values = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ids += in.id(i);
    id_end[i] = ids.size();
    if (s.stores_sets()) set_values += in.set(i).size();
    set_end[i] = set_values;
  }
  std::string d(kDocsMagic, 8);
  put64(d, n);
  put64(d, ids.size());
  put64(d, set_values);
  put64(d, in.joins.size());
  for (std::size_t i = 0; i < n; ++i) d += static_cast<char>(in.kept(i) ? 1 : 0);
  pad8(d);
  for (std::size_t i = 0; i < n; ++i) put32(d, in.cluster(i));
  pad8(d);
  put64s(d, id_end);
  put64s(d, set_end);
  d += ids;
  pad8(d);
  if (s.stores_sets()) {
    d.reserve(d.size() + set_values * 8 + 8);
    for (std::size_t i = 0; i < n; ++i) put64s(d, in.set(i));
  }
  for (const prior_join& j : in.joins) {
    put32(d, j.from);
    put32(d, j.to);
  }
  put64(d, hash64(d.data(), d.size(), kDocsSeed));
  blocks.push_back(std::move(d));
  return blocks;
}

// The container: magic | u32 version | u32 blocks | per block: u64 length, bytes, pad to 8.
std::vector<std::string> segment_file(std::vector<std::string> blocks) {
  std::string head(kSegmentMagic, 8);
  const std::uint64_t count = blocks.size();
  put64(head, 1 | (count << 32));
  std::vector<std::string> parts;
  parts.push_back(std::move(head));
  for (std::string& b : blocks) {
    std::string len;
    put64(len, b.size());
    parts.push_back(std::move(len));
    pad8(b);
    parts.push_back(std::move(b));
  }
  return parts;
}

// A segment open for reading: views into its mapping.
struct segment {
  std::string name;
  mapped_file file;
  std::size_t n = 0;
  const std::byte* signatures = nullptr;    // n records of 4 + 4k bytes
  const std::byte* fingerprints = nullptr;  // n records of 20 bytes
  std::vector<std::span<const std::byte>> bands;  // payloads, n_b records each
  std::vector<std::size_t> band_records;
  std::vector<std::vector<std::uint64_t>> fences;  // pipeline::band_fences of each band run
  std::vector<std::vector<std::uint32_t>> directories;  // pipeline::fence_directory of each
  const std::uint8_t* kept = nullptr;
  const std::byte* clusters = nullptr;  // u32 per document
  std::vector<prior_join> joins;
  const std::byte* id_end = nullptr;
  const std::byte* set_end = nullptr;
  const char* ids = nullptr;
  const std::byte* sets = nullptr;
  std::uint64_t set_bytes = 0;

  std::uint64_t id_begin_of(std::size_t i) const { return i == 0 ? 0 : get64(id_end + 8 * (i - 1)); }
  std::string id(std::size_t i) const {
    const auto b = id_begin_of(i);
    return std::string(ids + b, get64(id_end + 8 * i) - b);
  }
  std::span<const std::uint64_t> set(std::size_t i) const {
    if (sets == nullptr) return {};
    const std::uint64_t b = i == 0 ? 0 : get64(set_end + 8 * (i - 1)), e = get64(set_end + 8 * i);
    return {reinterpret_cast<const std::uint64_t*>(sets) + b, e - b};  // 8-aligned in the mapping
  }
  void signature(std::size_t i, std::size_t k, sig_value* out) const {
    const std::byte* p = signatures + i * (4 + 4 * k) + 4;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(out, p, 4 * k);
    } else {
      for (std::size_t j = 0; j < k; ++j) out[j] = get32(p + 4 * j);
    }
  }
  doc_id cluster(std::size_t i) const { return get32(clusters + 4 * i); }
  hash128 fingerprint(std::size_t i) const {
    const std::byte* p = fingerprints + i * 20;
    return {get64(p), get64(p + 8)};
  }
};

void check_header(const pipeline::stage_header& h, stage_kind kind, const index_settings& s, std::size_t n,
                  const std::string& what) {
  const auto opt = stage_options(s);
  if (h.kind != kind || h.num_perm != opt.num_perm || h.ngram != opt.ngram || h.scheme != opt.scheme ||
      h.tokens != opt.tokens || h.seed_hash != pipeline::stage_seed_hash(opt.seed) || h.records > n) {
    throw pipeline::stage_data_error(what + " does not match the MANIFEST's options");
  }
}

// `base`: the number of the segment's first document across segments.
segment open_segment(const std::string& path, const segment_info& info, const index_settings& s, std::uint64_t base) {
  segment g;
  g.name = info.name;
  const std::string file = path + "/" + info.name;
  g.file = mapped_file(file, path);
  const auto bytes = g.file.bytes();
  const lsh_params lsh = s.banding();
  try {
    if (bytes.size() != info.bytes) {
      throw pipeline::stage_data_error("has " + std::to_string(bytes.size()) + " bytes, the MANIFEST says " +
                                       std::to_string(info.bytes));
    }
    if (bytes.size() < 16 || std::memcmp(bytes.data(), kSegmentMagic, 8) != 0) {
      throw pipeline::stage_data_error("not a segment (bad magic)");
    }
    const std::uint64_t vc = get64(bytes.data() + 8);
    if ((vc & 0xffffffff) != 1) throw pipeline::stage_data_error("segment version " + std::to_string(vc & 0xffffffff) + " unknown");
    const std::size_t count = vc >> 32;
    if (count != 3 + lsh.bands) throw pipeline::stage_data_error("has " + std::to_string(count) + " blocks");
    std::vector<std::span<const std::byte>> blocks;
    std::size_t at = 16;
    for (std::size_t b = 0; b < count; ++b) {
      if (bytes.size() - at < 8) throw pipeline::stage_data_error("truncated");
      const std::uint64_t len = get64(bytes.data() + at);
      at += 8;
      if (len > bytes.size() - at) throw pipeline::stage_data_error("truncated");
      blocks.push_back(bytes.subspan(at, len));
      at += (len + 7) / 8 * 8;
    }
    g.n = info.documents;
    const auto sh = pipeline::inspect_stage_data(blocks[0]);
    check_header(sh, stage_kind::signatures, s, g.n, "signature batch");
    if (sh.records != g.n) throw pipeline::stage_data_error("signature batch has the wrong number of documents");
    g.signatures = blocks[0].data() + pipeline::stage_header_bytes;
    const auto fh = pipeline::inspect_stage_data(blocks[1]);
    check_header(fh, stage_kind::fingerprints, s, g.n, "fingerprint run");
    if (fh.records != g.n) throw pipeline::stage_data_error("fingerprint run has the wrong number of documents");
    g.fingerprints = blocks[1].data() + pipeline::stage_header_bytes;
    for (std::uint32_t b = 0; b < lsh.bands; ++b) {
      const auto bh = pipeline::inspect_stage_data(blocks[2 + b]);
      check_header(bh, stage_kind::band_keys, s, g.n, "band-key run " + std::to_string(b));
      if (!bh.sorted || !(bh.band.params == lsh) || bh.band.band != b) {
        throw pipeline::stage_data_error("band-key run " + std::to_string(b) + " is not the sorted run of band " +
                                         std::to_string(b));
      }
      g.bands.push_back(blocks[2 + b].subspan(pipeline::stage_header_bytes, bh.payload_bytes));
      g.band_records.push_back(bh.records);
      g.fences.push_back(pipeline::band_fences(g.bands.back(), bh.records));
      g.directories.push_back(pipeline::fence_directory(g.fences.back()));
    }
    const auto d = blocks.back();
    if (d.size() >= 8 && std::memcmp(d.data(), kDocsMagic, 7) == 0 && d[7] == std::byte{'1'}) {
      throw pipeline::stage_data_error("written by an earlier development version of neardup without cluster labels: "
                                       "build the index again");
    }
    if (d.size() < 48 || std::memcmp(d.data(), kDocsMagic, 8) != 0) throw pipeline::stage_data_error("documents block: bad magic");
    if (get64(d.data() + d.size() - 8) != hash64(d.data(), d.size() - 8, kDocsSeed)) {
      throw pipeline::stage_data_error("documents block: checksum does not match");
    }
    const std::uint64_t n = get64(d.data() + 8), id_bytes = get64(d.data() + 16), set_values = get64(d.data() + 24),
                        n_joins = get64(d.data() + 32);
    if (n != g.n || id_bytes > d.size() || set_values > d.size() / 8 || n_joins > d.size() / 8) {
      throw pipeline::stage_data_error("documents block has the wrong size");
    }
    const std::uint64_t kept_bytes = (n + 7) / 8 * 8, cluster_bytes = (4 * n + 7) / 8 * 8;
    const std::uint64_t sets_at = 40 + kept_bytes + cluster_bytes + 16 * n + (id_bytes + 7) / 8 * 8;
    const std::uint64_t want = sets_at + 8 * set_values + 8 * n_joins + 8;
    if (want != d.size()) throw pipeline::stage_data_error("documents block has the wrong size");
    g.kept = reinterpret_cast<const std::uint8_t*>(d.data() + 40);
    g.clusters = d.data() + 40 + kept_bytes;
    g.id_end = g.clusters + cluster_bytes;
    g.set_end = g.id_end + 8 * n;
    g.ids = reinterpret_cast<const char*>(g.set_end + 8 * n);
    if (s.stores_sets()) {
      g.sets = d.data() + sets_at;
      g.set_bytes = 8 * set_values;
    }
    const std::byte* joins = d.data() + sets_at + 8 * set_values;
    for (std::uint64_t j = 0; j < n_joins; ++j) {
      const prior_join pj{get32(joins + 8 * j), get32(joins + 8 * j + 4)};
      if (!(pj.to < pj.from && pj.from < base)) throw pipeline::stage_data_error("documents block: bad cluster join");
      g.joins.push_back(pj);
    }
    std::uint64_t prev_id = 0, prev_set = 0, kept = 0;
    for (std::size_t i = 0; i < n; ++i) {  // offsets must stay inside the block
      const std::uint64_t ie = get64(g.id_end + 8 * i), se = get64(g.set_end + 8 * i);
      if (ie < prev_id || ie > id_bytes || se < prev_set || se > set_values) {
        throw pipeline::stage_data_error("documents block: bad offsets");
      }
      if (g.cluster(i) > base + i) throw pipeline::stage_data_error("documents block: bad cluster label");
      prev_id = ie;
      prev_set = se;
      kept += g.kept[i] != 0;
    }
    if (kept != info.kept) throw pipeline::stage_data_error("documents block: kept count differs from the MANIFEST");
  } catch (const pipeline::stage_data_error& e) {
    fail(path, "segment " + info.name + " is corrupt (" + e.what() +
                   "); the other segments are untouched: restore this file from a backup, or remove its line "
                   "from the MANIFEST to drop its documents");
  }
  return g;
}

}  // namespace

// ---- settings ----------------------------------------------------------------

index_settings settings_of(const dedup_options& o) {
  index_settings s;
  static_cast<pipeline::similarity_options&>(s) = o;
  s.lsh = o.banding();
  s.exact_first = o.exact_first;
  return s;
}

void index_settings::check_same(const pipeline::dedup_options& o, const std::string& path) const {
  auto differ = [&](const char* option, const std::string& stored, const std::string& given) {
    fail(path, std::string("was built with ") + option + " " + stored + ", not " + given +
                   " (an index keeps the options it was built with)");
  };
  auto str = [](auto v) { return std::to_string(v); };
  if (seed != o.seed) differ("--seed", str(seed), str(o.seed));
  if (tokens.kind != o.tokens.kind) differ("--tokens", std::string(name(tokens.kind)), std::string(name(o.tokens.kind)));
  auto flag = [&](const char* option, bool mine, bool theirs) {
    if (mine != theirs) differ(option, mine ? "on" : "off", theirs ? "on" : "off");
  };
  flag("lowercase", tokens.lowercase, o.tokens.lowercase);
  flag("fold-digits", tokens.fold_digits, o.tokens.fold_digits);
  flag("strip-punctuation", tokens.strip_punctuation, o.tokens.strip_punctuation);
  flag("collapse-whitespace", tokens.collapse_whitespace, o.tokens.collapse_whitespace);
  if (ngram != o.ngram) differ("--ngram", str(ngram), str(o.ngram));
  if (num_perm != o.num_perm) differ("--num-perm", str(num_perm), str(o.num_perm));
  if (scheme != o.scheme) differ("--scheme", std::string(name(scheme)), std::string(name(o.scheme)));
  if (threshold != o.threshold) {
    std::ostringstream a, b;
    a << threshold;
    b << o.threshold;
    differ("--threshold", a.str(), b.str());
  }
  const lsh_params mine = banding(), theirs = o.banding();
  if (!(mine == theirs)) {
    differ("--bands/--rows", str(mine.bands) + "x" + str(mine.rows), str(theirs.bands) + "x" + str(theirs.rows));
  }
  if (verify != o.verify) differ("--verify", std::string(name(verify)), std::string(name(o.verify)));
  if (exact_first != o.exact_first) differ("exact-first", exact_first ? "on" : "off", o.exact_first ? "on" : "off");
}

// ---- reader ------------------------------------------------------------------

struct stored_index::impl {
  std::string path;
  index_info info;
  std::vector<segment> segments;
  std::vector<std::uint64_t> base;  // first document number of each segment, and the total
  std::optional<minhasher> hasher;  // of the settings, made once
  std::optional<bander> bands;
  // The cluster joins of every segment: from -> to.
  std::unordered_map<doc_id, doc_id> joined;

  // The smallest document of doc's cluster, joins applied.
  doc_id cluster(doc_id doc) const {
    const auto [seg, i] = locate(doc);
    doc_id c = seg->cluster(i);
    for (auto it = joined.find(c); it != joined.end(); it = joined.find(c)) c = it->second;
    return c;
  }

  std::pair<const segment*, std::size_t> locate(std::uint64_t doc) const {
    const auto it = std::upper_bound(base.begin(), base.end(), doc) - 1;
    const auto s = static_cast<std::size_t>(it - base.begin());
    return {&segments[s], static_cast<std::size_t>(doc - *it)};
  }
};

stored_index::stored_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
stored_index::stored_index(stored_index&&) noexcept = default;
stored_index& stored_index::operator=(stored_index&&) noexcept = default;
stored_index::~stored_index() = default;

stored_index stored_index::open(const std::string& path) {
  // A writer may compact between our reading the MANIFEST and mapping its
  // segments; the new MANIFEST is then in place: read it again.
  for (int attempt = 0;; ++attempt) {
    try {
      return open_snapshot(path);
    } catch (const segment_gone&) {
      if (attempt == 10) throw;
    }
  }
}

stored_index stored_index::open_snapshot(const std::string& path) {
  auto p = std::make_unique<impl>();
  p->path = path;
  const manifest m = read_manifest(path);
  p->info.settings = m.settings;
  p->info.segments = m.segments;
  std::uint64_t total = 0;
  for (const segment_info& g : m.segments) {
    p->base.push_back(total);
    p->segments.push_back(open_segment(path, g, m.settings, total));
    for (const prior_join& j : p->segments.back().joins) {
      if (!p->joined.emplace(j.from, j.to).second) {
        fail(path, "segment " + g.name + " is corrupt (joins cluster " + std::to_string(j.from) + " twice)");
      }
    }
    p->info.documents += g.documents;
    p->info.kept += g.kept;
    p->info.bytes += g.bytes;
    p->info.set_bytes += p->segments.back().set_bytes;
    total += g.documents;
  }
  p->base.push_back(total);
  p->hasher.emplace(m.settings.minhash());
  p->bands.emplace(m.settings.banding(), m.settings.num_perm, m.settings.seed);
  std::error_code ec;
  p->info.bytes += fs::file_size(path + "/MANIFEST", ec);
  return stored_index(std::move(p));
}

const index_info& stored_index::info() const noexcept { return impl_->info; }
const std::string& stored_index::path() const noexcept { return impl_->path; }

std::vector<index_match> stored_index::query(std::string_view text, const query_options& q) const {
  const index_settings& s = impl_->info.settings;
  const std::size_t k = s.num_perm;
  const bool exact = s.stores_sets();
  thread_local std::vector<sig_value> sig;
  sig.resize(k);
  pipeline::document_signer signer(s.shingles(), &*impl_->hasher);
  const pipeline::signed_text t = signer.sign(text, sig, exact);
  if (!t.has_tokens) return {};
  const std::vector<std::uint64_t> query_set(signer.set().begin(), signer.set().end());
  std::vector<std::uint64_t> keys(s.banding().bands);
  if (!impl_->bands->keys(sig, keys)) return {};
  std::vector<pipeline::scored_doc> scored;
  std::vector<doc_id> found;
  std::vector<sig_value> other(k);
  // Every segment's lookups, their memory touched stage by stage first.
  for (const auto stage : {pipeline::lookup_stage::directory, pipeline::lookup_stage::fences,
                           pipeline::lookup_stage::records}) {
    for (const segment& seg : impl_->segments) {
      for (std::size_t b = 0; b < keys.size(); ++b) {
        pipeline::prefetch_band_key(seg.bands[b], seg.band_records[b], seg.fences[b], keys[b], seg.directories[b], stage);
      }
    }
  }
  for (std::size_t g = 0; g < impl_->segments.size(); ++g) {
    const segment& seg = impl_->segments[g];
    found.clear();
    for (std::size_t b = 0; b < keys.size(); ++b) pipeline::find_band_key(seg.bands[b], seg.band_records[b], seg.fences[b], keys[b], found, seg.directories[b]);
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    for (doc_id d : found) {
      if (seg.kept[d] == 0) continue;
      double j = 0;
      if (exact) {
        j = exact_jaccard(query_set, seg.set(d));
      } else {
        seg.signature(d, k, other.data());
        j = jaccard(sig, other).estimate;
      }
      scored.push_back({impl_->base[g] + d, j});
    }
  }
  pipeline::rank_matches(scored, q.threshold > 0 ? q.threshold : s.threshold, q.top_k);
  std::vector<index_match> out;
  for (const auto& m : scored) {
    const auto [seg, i] = impl_->locate(m.doc);
    out.push_back({seg->id(i), m.similarity, exact, m.doc});
  }
  return out;
}

prior_documents stored_index::prior() const {
  const impl& p = *impl_;
  const std::size_t k = p.info.settings.num_perm;
  prior_documents d;
  d.size = p.base.back();
  d.fingerprint = [&p](doc_id doc) {
    const auto [seg, i] = p.locate(doc);
    return seg->fingerprint(i);
  };
  d.signature = [&p, k](doc_id doc, std::span<sig_value> out) {
    const auto [seg, i] = p.locate(doc);
    seg->signature(i, k, out.data());
  };
  d.cluster = [&p](doc_id doc) { return p.cluster(doc); };
  d.band_matches = [&p](std::uint32_t band, std::span<const std::uint64_t> keys,
                        std::vector<std::pair<std::uint32_t, doc_id>>& out) {
    for (std::size_t g = 0; g < p.segments.size(); ++g) {
      const segment& seg = p.segments[g];
      const std::size_t from = out.size();
      pipeline::match_band_keys(seg.bands[band], seg.band_records[band], seg.fences[band], keys, out);
      for (std::size_t i = from; i < out.size(); ++i) out[i].second = static_cast<doc_id>(out[i].second + p.base[g]);
    }
  };
  d.id = [&p](doc_id doc) {
    const auto [seg, i] = p.locate(doc);
    return seg->id(i);
  };
  d.set = [&p](doc_id doc) {
    const auto [seg, i] = p.locate(doc);
    return seg->set(i);
  };
  return d;
}

// ---- writer ------------------------------------------------------------------

struct index_writer::impl {
  std::string path;
  int lock_fd = -1;
  manifest m;
  std::optional<stored_index> current;
  std::optional<segment_info> staged;  // written, not yet in the MANIFEST

  void commit(segment_info added, bool replace_all) {
    manifest next = m;
    if (replace_all) next.segments.clear();
    next.segments.push_back(std::move(added));
    const std::string text = manifest_text(next);
    write_file_durably(path, "MANIFEST", std::span<const std::string>(&text, 1), "manifest_written",
                       "manifest_renamed");
    const manifest old = std::exchange(m, std::move(next));
    if (replace_all) {
      for (const auto& g : old.segments) ::unlink((path + "/" + g.name).c_str());
    }
    current.reset();
    current = stored_index::open(path);
  }

  segment_info write_segment(const segment_input& in) {
    executor pool(0);
    const std::string name = [&] {
      char buf[32];
      std::snprintf(buf, sizeof buf, "seg-%06llu", static_cast<unsigned long long>(m.next_segment++));
      return std::string(buf);
    }();
    std::vector<std::string> parts = segment_file(segment_blocks(in, m.settings, &pool));
    segment_info info{name, in.n, 0, 0};
    for (const auto& p : parts) info.bytes += p.size();
    for (std::size_t i = 0; i < in.n; ++i) info.kept += in.kept(i) ? 1 : 0;
    crash_point("segment_start");
    write_file_durably(path, name, parts, "segment_written", "segment_renamed");
    return info;
  }
};

index_writer::index_writer(const std::string& path, const index_settings* create) : impl_(std::make_unique<impl>()) {
  impl& p = *impl_;
  p.path = path;
  std::error_code ec;
  if (create != nullptr) {
    fs::create_directories(path, ec);
    if (ec) fail(path, "cannot create the directory: " + ec.message());
  } else if (!fs::exists(path + "/MANIFEST")) {
    fail(path, "no MANIFEST: not an index (create one with 'neardup index build')");
  }
  const std::string lock = path + "/LOCK";
  p.lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (p.lock_fd < 0) fail(path, "cannot open LOCK: " + std::string(std::strerror(errno)));
  if (::flock(p.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(p.lock_fd);
    fail(path, "another writer is adding to this index (it holds " + lock + "); try again when it is done");
  }
  try {
    if (!fs::exists(path + "/MANIFEST")) {
      if (create == nullptr) fail(path, "no MANIFEST: not an index (create one with 'neardup index build')");
      create->validate();
      p.m.settings = *create;
      p.m.settings.lsh = create->banding();
      const std::string text = manifest_text(p.m);
      write_file_durably(path, "MANIFEST", std::span<const std::string>(&text, 1), "", "");
    }
    p.m = read_manifest(path);
    if (create != nullptr) {  // an existing index: the options must agree
      pipeline::dedup_options o;
      static_cast<pipeline::similarity_options&>(o) = *create;
      o.exact_first = create->exact_first;
      p.m.settings.check_same(o, path);
    }
    // Files a crashed writer left behind: segments no MANIFEST names, temporaries.
    for (const auto& e : fs::directory_iterator(path)) {
      const std::string f = e.path().filename().string();
      const bool named = std::any_of(p.m.segments.begin(), p.m.segments.end(), [&](auto& g) { return g.name == f; });
      if ((f.rfind("seg-", 0) == 0 && !named) || (f.size() > 4 && f.ends_with(".tmp"))) fs::remove(e.path(), ec);
    }
    p.current = stored_index::open(path);
  } catch (...) {
    ::close(p.lock_fd);
    throw;
  }
}

index_writer::~index_writer() {
  if (impl_ && impl_->lock_fd >= 0) ::close(impl_->lock_fd);  // releases the flock
}

const index_settings& index_writer::settings() const noexcept { return impl_->m.settings; }
const stored_index& index_writer::current() const noexcept { return *impl_->current; }

std::uint64_t index_writer::add(const signed_input& docs) {
  const std::uint64_t n = stage(docs);
  commit_staged();
  return n;
}

void index_writer::commit_staged() {
  if (!impl_->staged) return;
  segment_info g = std::move(*impl_->staged);
  impl_->staged.reset();
  impl_->commit(std::move(g), false);
}

std::uint64_t index_writer::stage(const signed_input& docs) {
  if (impl_->staged) throw std::logic_error("index_writer::stage: a segment is staged already");
  std::vector<std::size_t> pick;
  for (std::size_t d = 0; d < docs.size; ++d) {
    if (docs.usable[d]) pick.push_back(d);
  }
  if (pick.empty()) return 0;
  const std::size_t k = impl_->m.settings.num_perm;
  segment_input in;
  in.n = pick.size();
  in.signature = [&](std::size_t i) { return docs.signatures.subspan(pick[i] * k, k); };
  in.fingerprint = [&](std::size_t i) { return docs.fingerprints[pick[i]]; };
  in.kept = [&](std::size_t i) { return docs.kept_of[pick[i]] == pick[i]; };
  in.id = [&](std::size_t i) { return docs.id(static_cast<doc_id>(pick[i])); };
  in.set = [&](std::size_t i) { return docs.set(static_cast<doc_id>(pick[i])); };
  // Cluster labels across segments: a stored keeper is the prior document it
  // names, or its place among the documents stored here.
  const std::uint64_t base = impl_->current->info().documents;
  std::vector<doc_id> stored_as(docs.size, 0);
  for (std::size_t i = 0; i < pick.size(); ++i) stored_as[pick[i]] = static_cast<doc_id>(base + i);
  in.cluster = [&](std::size_t i) {
    const doc_id keeper = docs.kept_of[pick[i]];
    return keeper >= docs.size ? static_cast<doc_id>(keeper - docs.size) : stored_as[keeper];
  };
  in.joins.assign(docs.joins.begin(), docs.joins.end());
  impl_->staged = impl_->write_segment(in);
  return pick.size();
}

void index_writer::compact() {
  impl& p = *impl_;
  if (p.m.segments.size() <= 1) return;
  const stored_index& cur = *p.current;
  const index_settings& s = p.m.settings;
  const std::size_t k = s.num_perm;
  const auto& segs = cur.impl_->segments;
  const auto& base = cur.impl_->base;
  const std::uint64_t n = base.back();
  const lsh_params lsh = s.banding();
  const auto opt = stage_options(s);
  // Streams the merged segment (the bytes segment_file(segment_blocks(...))
  // would give for the same documents in the same order) straight to the
  // file: memory stays a buffer and one cursor per segment, whatever the size.
  segment_info info{"", n, 0, 0};
  for (const segment& g : segs) {
    for (std::size_t i = 0; i < g.n; ++i) info.kept += g.kept[i] != 0;
  }
  info.name = [&] {
    char buf[32];
    std::snprintf(buf, sizeof buf, "seg-%06llu", static_cast<unsigned long long>(p.m.next_segment++));
    return std::string(buf);
  }();
  auto fill = [&](int fd, const std::string& tmp) {
    file_appender out(fd, tmp, p.path);
    out.write(std::string_view(kSegmentMagic, 8));
    std::string word;
    put64(word, 1 | (std::uint64_t{3 + lsh.bands} << 32));
    out.write(word);
    const pipeline::byte_sink sink = [&out](std::span<const std::byte> b) { out.write(b); };
    auto block = [&](const auto& body) {  // u64 length, the block, pad to 8
      const std::uint64_t at = out.offset();
      out.write(std::string_view("\0\0\0\0\0\0\0\0", 8));
      body();
      const std::uint64_t len = out.offset() - at - 8;
      out.write(std::string_view("\0\0\0\0\0\0\0", (8 - len % 8) % 8));
      out.patch64(at, len);
    };
    auto each = [&](const auto& f) {  // f(segment, document in it, number across segments)
      for (std::size_t g = 0; g < segs.size(); ++g) {
        for (std::size_t i = 0; i < segs[g].n; ++i) f(segs[g], i, static_cast<doc_id>(base[g] + i));
      }
    };
    block([&] {
      auto w = pipeline::stage_writer::signatures(sink, opt, n, true);
      std::vector<sig_value> sig(k);
      each([&](const segment& g, std::size_t i, doc_id d) {
        g.signature(i, k, sig.data());
        w.add(d, sig);
      });
      w.finish();
    });
    block([&] {
      bool sorted = true;  // as write_fingerprints decides it
      pipeline::fingerprint_entry last{};
      each([&](const segment& g, std::size_t i, doc_id d) {
        const pipeline::fingerprint_entry e{g.fingerprint(i), d};
        if (d > 0 && !(last <= e)) sorted = false;
        last = e;
      });
      auto w = pipeline::stage_writer::fingerprints(sink, opt, n, sorted);
      each([&](const segment& g, std::size_t i, doc_id d) { w.add(pipeline::fingerprint_entry{g.fingerprint(i), d}); });
      w.finish();
    });
    for (std::uint32_t b = 0; b < lsh.bands; ++b) {  // the segments' sorted runs merged
      block([&] {
        auto w = pipeline::stage_writer::band_keys(sink, opt, {lsh, b}, n, true);
        std::vector<std::size_t> at(segs.size(), 0);
        auto entry = [&](std::size_t g) {
          const std::byte* r = segs[g].bands[b].data() + at[g] * pipeline::band_record_bytes;
          return band_entry{get64(r), static_cast<doc_id>(get32(r + 8) + base[g])};
        };
        for (std::uint64_t left = n; left > 0; --left) {
          std::size_t best = segs.size();
          band_entry e{};
          for (std::size_t g = 0; g < segs.size(); ++g) {
            if (at[g] == segs[g].band_records[b]) continue;
            const band_entry c = entry(g);
            if (best == segs.size() || c.key < e.key || (c.key == e.key && c.doc < e.doc)) {
              best = g;
              e = c;
            }
          }
          ++at[best];
          w.add(e);
        }
        w.finish();
      });
    }
    block([&] {  // the documents block, as segment_blocks lays it out
      hash64_stream sum(kDocsSeed);
      auto put = [&](std::string_view bytes) {
        sum.update(bytes);
        out.write(bytes);
      };
      std::uint64_t id_bytes = 0, set_values = 0;
      each([&](const segment& g, std::size_t i, doc_id) {
        id_bytes += get64(g.id_end + 8 * i) - g.id_begin_of(i);
        set_values += g.set(i).size();
      });
      std::string head(kDocsMagic, 8);
      put64(head, n);
      put64(head, id_bytes);
      put64(head, set_values);
      put64(head, 0);  // joins: applied to the labels
      put(head);
      const std::string_view zeros("\0\0\0\0\0\0\0", 7);
      each([&](const segment& g, std::size_t i, doc_id) { put(g.kept[i] != 0 ? "\1" : std::string_view("\0", 1)); });
      put(zeros.substr(0, (8 - n % 8) % 8));
      std::string v;
      each([&](const segment&, std::size_t, doc_id d) {
        v.clear();
        put32(v, cur.impl_->cluster(d));
        put(v);
      });
      put(zeros.substr(0, (8 - 4 * n % 8) % 8));
      std::uint64_t end = 0;
      each([&](const segment& g, std::size_t i, doc_id) {
        end += get64(g.id_end + 8 * i) - g.id_begin_of(i);
        v.clear();
        put64(v, end);
        put(v);
      });
      end = 0;
      each([&](const segment& g, std::size_t i, doc_id) {
        end += g.set(i).size();
        v.clear();
        put64(v, end);
        put(v);
      });
      each([&](const segment& g, std::size_t i, doc_id) {
        const std::uint64_t b0 = g.id_begin_of(i);
        put(std::string_view(g.ids + b0, get64(g.id_end + 8 * i) - b0));
      });
      put(zeros.substr(0, (8 - id_bytes % 8) % 8));
      each([&](const segment& g, std::size_t i, doc_id) {
        v.clear();
        put64s(v, g.set(i));
        put(v);
      });
      v.clear();
      put64(v, sum.digest());
      out.write(v);
    });
    out.flush();
    info.bytes = out.offset();
  };
  crash_point("segment_start");
  write_file_durably(p.path, info.name, fill, "segment_written", "segment_renamed");
  p.commit(info, true);
}

// ---- jobs --------------------------------------------------------------------

index_report run_dedup_against(std::span<const io::source_info> sources, const std::string& out_dir,
                               const dedup_options& options, const std::string& index_path, bool update) {
  options.validate();
  std::optional<index_writer> writer;
  std::optional<stored_index> reader;
  if (update) {
    writer.emplace(index_path, nullptr);
  } else {
    reader = stored_index::open(index_path);
  }
  const stored_index& idx = update ? writer->current() : *reader;
  idx.info().settings.check_same(options, index_path);
  const prior_documents prior = idx.prior();
  dedup_options o = options;
  o.prior = &prior;
  o.keep_all_sets = update && idx.info().settings.stores_sets();
  std::uint64_t stored = 0;
  // The segment is written while the batch's arrays are at hand, and
  // committed only after the outputs are complete.
  if (update) {
    o.on_signed = [&](const signed_input& docs) { stored = writer->stage(docs); };
  }
  index_report r;
  static_cast<dedup_report&>(r) = run_dedup(sources, out_dir, o);
  if (update) writer->commit_staged();
  r.stored = stored;
  r.prior_documents = prior.size;
  return r;
}

std::vector<doc_id> add_texts(const std::string& path, std::span<const std::string_view> texts,
                              std::span<const std::string> ids, const index_settings* create, executor* pool) {
  if (!ids.empty() && ids.size() != texts.size()) {
    throw std::invalid_argument("add_texts: " + std::to_string(ids.size()) + " ids for " +
                                std::to_string(texts.size()) + " texts");
  }
  index_writer w(path, create);
  const index_settings& s = w.settings();
  pipeline::dedup_options o;
  static_cast<pipeline::similarity_options&>(o) = s;
  o.exact_first = s.exact_first;
  const pipeline::signed_batch batch = pipeline::sign_batch(texts, s, pool, {.signatures = true, .sets = s.stores_sets()});
  const std::size_t n = batch.size();
  std::vector<hash128> fingerprints(n);
  std::vector<std::uint8_t> usable(n);
  for (std::size_t d = 0; d < n; ++d) {
    fingerprints[d] = batch.docs[d].fingerprint;
    usable[d] = batch.docs[d].has_tokens ? 1 : 0;
  }
  pipeline::signed_documents docs;
  docs.size = n;
  docs.signatures = batch.signatures;
  docs.fingerprints = fingerprints;
  docs.usable = usable;
  struct flat_provider final : pipeline::set_provider {
    const pipeline::flat_sets& sets;
    explicit flat_provider(const pipeline::flat_sets& f) : sets(f) {}
    bool missing(std::vector<std::uint8_t>&) override { return false; }
    void load(const std::vector<std::uint8_t>&) override {}
    std::span<const std::uint64_t> set(doc_id d) const override { return sets[d]; }
  } sets(batch.sets);
  const prior_documents prior = w.current().prior();
  std::vector<prior_join> joins;
  pipeline::dedup_result r = detail::run_against(prior, docs, o, s.stores_sets() ? &sets : nullptr,
                                                 pipeline::run_context{pool, nullptr, 0}, &joins);
  w.add(signed_input{.size = n,
                     .signatures = batch.signatures,
                     .fingerprints = fingerprints,
                     .usable = usable,
                     .kept_of = r.kept_of,
                     .id = [&](doc_id d) { return ids.empty() ? std::to_string(d) : ids[d]; },
                     .set = [&](doc_id d) { return batch.sets.size() > d ? batch.sets[d] : std::span<const std::uint64_t>{}; },
                     .joins = joins});
  return std::move(r.kept_of);
}

index_report build_index(std::span<const io::source_info> sources, const std::string& index_path,
                         const dedup_options& options) {
  options.validate();
  const index_settings s = settings_of(options);
  {
    index_writer create(index_path, &s);  // creates the MANIFEST if there is none
  }
  const std::string scratch = index_path + "/.build";
  dedup_options o = options;
  o.write_documents = false;
  index_report r = run_dedup_against(sources, scratch, o, index_path, true);
  std::error_code ec;
  fs::remove_all(scratch, ec);
  return r;
}

}  // namespace neardup::jobs

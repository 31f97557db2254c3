// Dedup over a corpus scanned in parts (see neardup/jobs/parts.hpp).
#include "neardup/jobs/parts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "dedup_scanned.hpp"
#include "part_bytes.hpp"
#include "neardup/pipeline/format.hpp"

namespace neardup::jobs {

using namespace detail;

namespace {

constexpr char kMagic[8] = {'N', 'D', 'P', 'A', 'R', 'T', '\0', '\0'};
constexpr std::uint32_t kVersion = 1;
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

}  // namespace

std::vector<part_range> part_ranges(const io::source_info& source, std::uint64_t part_bytes,
                                    const io::reader_options& reader) {
  if (part_bytes == 0) throw std::invalid_argument("part_ranges: part_bytes = 0");
  if (source.codec != io::compression::none || source.kind != io::source_kind::jsonl || source.is_range()) {
    return {{0, UINT64_MAX}};
  }
  const int fd = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(source.name + ": cannot read input: " + std::strerror(errno));
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return {{0, UINT64_MAX}};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size <= part_bytes) return {{0, UINT64_MAX}};

  // The last '\n' in [begin, end), searched backwards in blocks; end if none.
  std::vector<char> block(std::size_t{64} << 10);
  auto last_newline = [&](std::uint64_t begin, std::uint64_t end) -> std::uint64_t {
    for (std::uint64_t hi = end; hi > begin;) {
      const std::uint64_t lo = hi - std::min<std::uint64_t>(hi - begin, block.size());
      const auto n = static_cast<std::size_t>(hi - lo);
      std::size_t got = 0;
      while (got < n) {
        const ssize_t r = ::pread(fd, block.data() + got, n - got, static_cast<off_t>(lo + got));
        if (r > 0) {
          got += static_cast<std::size_t>(r);
        } else if (r == 0) {
          throw std::runtime_error(source.name + ": the input changed while neardup was reading it (shorter)");
        } else if (errno != EINTR) {
          throw std::runtime_error(source.name + ": read error: " + std::strerror(errno));
        }
      }
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

std::string scan_part(const io::source_info& source, const dedup_options& options) {
  options.validate();
  validate(options);
  const auto t0 = std::chrono::steady_clock::now();
  executor pool(options.threads);
  const pass_options pass = scan_options(options, pool);
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
  return w.take();
}

dedup_report run_dedup_parts(std::span<const io::source_info> sources, std::span<const std::string_view> parts,
                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                             const dedup_options& options) {
  options.validate();
  validate(options);
  check_part_order("run_dedup_parts", sources.size(), parts.size(), part_sources);
  const std::size_t k = options.near ? options.num_perm : 0;
  const auto stage = pipeline::stage_data_options::of(options);
  job_events events(options);
  scanned_corpus scanned;
  corpus_index& corpus = scanned.corpus;
  corpus.num_perm = k;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::uint32_t s = part_sources[i];
    const bool continues = i > 0 && part_sources[i - 1] == s;  // another range of the same file
    try {
      part_reader r(parts[i], kMagic, kVersion);
      const auto n = r.num<std::uint64_t>();
      if (r.num<std::uint64_t>() != k) part_reader::fail("made with another --num-perm or command");
      const auto chunks = r.num<std::uint64_t>();
      const auto range_begin = r.num<std::uint64_t>();
      if (range_begin != (continues ? corpus.source_bytes.back() : 0)) {
        part_reader::fail("its byte range does not start where the previous part of the file ended");
      }
      if (n > UINT32_MAX - corpus.size()) {
        throw std::runtime_error(sources[s].name + ": more than 2^32-1 documents in one run; split the corpus");
      }
      const std::size_t first_doc = corpus.size();
      const std::uint64_t id_base = corpus.ids.size();
      if (n > parts[i].size() / 40) part_reader::fail("truncated");  // 40 bytes per document at least
      corpus.docs.reserve(first_doc + n);
      for (std::uint64_t doc = 0; doc < n; ++doc) {
        doc_meta m;
        m.source = static_cast<std::uint32_t>(s);
        m.line = r.num<std::uint64_t>();
        m.text_bytes = r.num<std::uint64_t>();
        m.id_offset = r.num<std::uint64_t>() + id_base;
        m.byte_offset = r.num<std::uint64_t>();
        m.id_length = r.num<std::uint32_t>();
        m.raw_length = r.num<std::uint32_t>();
        const auto status = r.num<std::uint8_t>();
        if (status > static_cast<std::uint8_t>(io::record_status::line_too_long)) {
          part_reader::fail("bad record status");
        }
        m.status = static_cast<io::record_status>(status);
        m.flags = r.num<std::uint8_t>();
        m.has_tokens = r.num<std::uint8_t>() != 0;
        m.short_doc = r.num<std::uint8_t>() != 0;
        corpus.docs.push_back(m);
      }
      const std::string_view ids = r.blob();
      for (std::size_t d = first_doc; d < corpus.size(); ++d) {
        const doc_meta& m = corpus.docs[d];
        if (m.id_length != 0 && (m.id_offset < id_base || m.id_offset - id_base + m.id_length > ids.size())) {
          part_reader::fail("id out of range");
        }
      }
      corpus.ids.append(std::span<const char>(ids.data(), ids.size()));
      if (chunks > parts[i].size() / 8) part_reader::fail("truncated");
      std::uint64_t previous = 0;
      for (std::uint64_t c = 0; c < chunks; ++c) {
        const auto first = r.num<std::uint64_t>();
        if (first < previous || first > n || (c == 0 && first != 0)) part_reader::fail("bad chunk table");
        previous = first;
        corpus.chunk_first_doc.push_back(first + first_doc);
      }
      if ((chunks == 0) != (n == 0)) part_reader::fail("bad chunk table");
      const auto end = r.num<std::uint64_t>();
      // Documents lie inside the range, in order, one per line: the later
      // passes index and read by these fields.
      std::uint64_t at = range_begin, line = 0;
      for (std::size_t d = first_doc; d < corpus.size(); ++d) {
        const doc_meta& m = corpus.docs[d];
        if (m.byte_offset < at || m.raw_length > end - m.byte_offset || m.byte_offset > end || m.line <= line) {
          part_reader::fail("documents out of order or outside the range");
        }
        at = m.byte_offset + m.raw_length;
        line = m.line;
      }
      if (continues) {
        corpus.source_bytes.back() = end;
      } else {
        corpus.source_bytes.push_back(end);
      }
      for (std::uint64_t* f : count_fields(scanned.counts)) {
        const auto v = r.num<std::uint64_t>();
        if (f != nullptr) *f += v;
      }
      scanned.seconds += r.num<double>();
      const auto messages = r.num<std::uint64_t>();
      for (std::uint64_t m = 0; m < messages; ++m) events->message(std::string(r.blob()));
      const std::string_view sigs = r.blob();
      if (k != 0) {
        pipeline::signature_batch b = pipeline::read_signatures(pipeline::byte_view(sigs), stage);
        if (b.docs.size() != n) part_reader::fail("signature count differs from document count");
        corpus.signatures.insert(corpus.signatures.end(), b.values.begin(), b.values.end());
      }
      const auto fps = pipeline::read_fingerprints(pipeline::byte_view(r.blob()), stage);
      if (fps.size() != n) part_reader::fail("fingerprint count differs from document count");
      for (const auto& e : fps) corpus.fingerprints.push_back(e.fingerprint);
      if (!r.done()) part_reader::fail("trailing bytes");
    } catch (const pipeline::stage_data_error& e) {
      throw std::runtime_error(sources[s].name + ": " + e.what());
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      if (what.rfind("neardup part: ", 0) == 0) throw std::runtime_error(sources[s].name + ": " + what);
      throw;
    }
  }
  executor pool(1);
  warn_duplicate_ids(sources, corpus, pass_options_for(options, options, pool), *events, scanned.counts);
  return run_dedup_scanned(sources, out_dir, options, &scanned);
}

}  // namespace neardup::jobs

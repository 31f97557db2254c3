// Source expansion, decompression and chunking (see neardup/io/input.hpp).
#include "neardup/io/input.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>

#include "io_internal.hpp"
#include "neardup/hash.hpp"

namespace neardup::io {

namespace detail {

// The first complete read of a source (see "Passes agree" in input.hpp).
struct read_ledger {
  std::mutex mutex;
  bool recorded = false;
  std::uint64_t bytes = 0;
  std::uint64_t digest = 0;

  // Records the first read; throws if a later one differs.
  void check(std::string_view name, std::uint64_t got_bytes, std::uint64_t got_digest) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!recorded) {
      recorded = true;
      bytes = got_bytes;
      digest = got_digest;
      return;
    }
    if (bytes == got_bytes && digest == got_digest) return;
    std::string msg = std::string(name) + ": the input changed while neardup was reading it (";
    msg += bytes == got_bytes ? "same length, different bytes"
                              : "the first pass read " + std::to_string(bytes) + " bytes, a later one " +
                                    std::to_string(got_bytes);
    msg += "); was it written to during the run, or is it a stream that cannot be read twice?";
    throw std::runtime_error(msg);
  }
};

}  // namespace detail

namespace {

// Extensions are matched without regard to ASCII case ("A.JSONL.GZ").
bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  if (s.size() < suffix.size()) return false;
  const std::string_view tail = s.substr(s.size() - suffix.size());
  for (std::size_t i = 0; i < tail.size(); ++i) {
    char c = tail[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

std::string_view strip_compression_ext(std::string_view name) noexcept {
  for (std::string_view ext : {".gz", ".zst", ".zstd"}) {
    if (ends_with(name, ext)) return name.substr(0, name.size() - ext.size());
  }
  return name;
}

[[noreturn]] void fail(std::string_view path, std::string_view what) {
  std::string msg(path);
  msg += ": ";
  msg += what;
  throw std::runtime_error(msg);
}

[[noreturn]] void fail_errno(std::string_view path, std::string_view what, int err) {
  std::string w(what);
  w += ": ";
  w += std::strerror(err);
  fail(path, w);
}

bool is_json_lines(const source_info& s);

// "ROOT/" for a directory INPUT as given ("data/" and "data" give "data/"), so
// that ids of files from two directories differ.
std::string root_prefix(std::string_view input) {
  while (input.size() > 1 && input.back() == '/') input.remove_suffix(1);
  std::string out(input);
  if (out != "/") out.push_back('/');
  return out;
}

std::string_view base_name(std::string_view path) noexcept {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The first bytes of an open file (fewer if it is shorter).
std::string read_head(int fd) {
  char head[8];
  ssize_t got = 0;
  while (true) {
    got = ::pread(fd, head, sizeof head, 0);
    if (got >= 0 || errno != EINTR) break;
  }
  return got > 0 ? std::string(head, static_cast<std::size_t>(got)) : std::string();
}

// The same, by path; empty if it cannot be opened.
std::string read_head(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return {};
  std::string head = read_head(fd);
  ::close(fd);
  return head;
}

std::string_view magic_name(magic m) noexcept {
  switch (m) {
    case magic::gzip: return "gzip";
    case magic::zstd: return "zstd";
    case magic::xz: return "xz";
    case magic::bzip2: return "bzip2";
    case magic::lz4: return "lz4";
    case magic::none: break;
  }
  return "uncompressed";
}

std::string hex_head(std::string_view head) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < head.size() && i < 4; ++i) {
    if (i != 0) out += ' ';
    out += digits[static_cast<unsigned char>(head[i]) >> 4];
    out += digits[static_cast<unsigned char>(head[i]) & 15];
  }
  return out.empty() ? "nothing (empty file)" : out;
}

}  // namespace

magic detect_magic(std::string_view head) noexcept {
  auto starts = [&](std::string_view m) { return head.substr(0, m.size()) == m; };
  if (starts("\x1f\x8b")) return magic::gzip;
  if (starts("\x28\xb5\x2f\xfd")) return magic::zstd;
  // A zstd skippable frame: 0x184D2A50..5F, little endian.
  if (head.size() >= 4 && (static_cast<unsigned char>(head[0]) & 0xf0) == 0x50 && head.substr(1, 3) == "\x2a\x4d\x18") {
    return magic::zstd;
  }
  if (starts(std::string_view("\xfd" "7zXZ\0", 6))) return magic::xz;
  if (head.size() >= 4 && starts("BZh") && head[3] >= '1' && head[3] <= '9') return magic::bzip2;
  if (starts("\x04\x22\x4d\x18")) return magic::lz4;
  return magic::none;
}

compression resolve_compression(std::string_view name, std::string_view head, std::string* note) {
  const compression by_name = compression_from_name(name);
  const magic m = detect_magic(head);
  if (m == magic::xz || m == magic::bzip2 || m == magic::lz4) {
    fail(name, std::string("holds ") + std::string(magic_name(m)) +
                   "-compressed data, which neardup does not read (it reads gzip and zstd): decompress it first");
  }
  if (m == magic::gzip || m == magic::zstd) {
    const compression by_magic = m == magic::gzip ? compression::gzip : compression::zstd;
    if (by_magic != by_name && note != nullptr) {
      *note = std::string(name) + ": its name does not say " + std::string(magic_name(m)) +
              ", but its first bytes do; read as " + std::string(magic_name(m));
    }
    return by_magic;
  }
  if (by_name != compression::none) {
    const std::string_view want = by_name == compression::gzip ? "gzip" : "zstd";
    fail(name, "named as " + std::string(want) + " but its first bytes (" + hex_head(head) + ") are not " +
                   std::string(want) + " data: a corrupt, truncated or mislabelled file");
  }
  return compression::none;
}

namespace {

// "NAME.tmp.PID.N", an atomic_file's temporary name (output.hpp).
bool is_temporary_output_name(std::string_view n) noexcept {
  const auto at = n.rfind(".tmp.");
  if (at == std::string_view::npos || at == 0) return false;
  const std::string_view tail = n.substr(at + 5);
  const auto dot = tail.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == tail.size()) return false;
  for (std::size_t i = 0; i < tail.size(); ++i) {
    if (i != dot && (tail[i] < '0' || tail[i] > '9')) return false;
  }
  return true;
}

struct dir_walker {
  const expand_options& options;
  expanded_inputs& out;
  std::set<std::pair<dev_t, ino_t>> visited;
  std::optional<struct stat> output_dir;  // expand_options::output_dir, if it exists

  struct entry {
    std::string rel;
    std::string path;
    std::uint64_t size;
    std::int64_t mtime_ns;
    std::string head;  // the first bytes, for resolve_compression
  };

  // A file in a directory that cannot be read: an error, or with
  // expand_options::skip_unreadable an entry of expanded_inputs::unreadable.
  void unreadable(const std::string& path, std::string_view what, int err) {
    if (!options.skip_unreadable) {
      fail_errno(path, std::string(what) + " (give --skip-unreadable to skip such files and list them in stats.json)",
                 err);
    }
    out.unreadable.push_back(path + " (" + std::string(what) + ": " + std::strerror(err) + ")");
  }

  // Appends the regular files under `dir` (relative prefix `rel`) to files.
  void walk(const std::string& dir, const std::string& rel, std::vector<entry>& files) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) fail_errno(dir, "cannot stat directory", errno);
    if (output_dir && output_dir->st_dev == st.st_dev && output_dir->st_ino == st.st_ino) {
      fail(dir, "is the output directory (-o), inside an input directory: its outputs would be read as input. "
                "Choose an output directory outside the inputs");
    }
    if (!visited.insert({st.st_dev, st.st_ino}).second) {
      out.skipped.push_back(dir + " (directory already visited: symlink loop or duplicate)");
      return;
    }
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) fail_errno(dir, "cannot open directory", errno);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
      const std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      if (options.skip_hidden && n.front() == '.') continue;
      if (is_temporary_output_name(n)) {
        out.skipped.push_back(dir + "/" + std::string(n) + " (a temporary file left by an interrupted neardup run)");
        continue;
      }
      names.emplace_back(n);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) fail_errno(dir, "cannot read directory", err);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      std::string path = dir;
      if (path.empty() || path.back() != '/') path.push_back('/');
      path += n;
      std::string child_rel = rel.empty() ? n : rel + "/" + n;
      struct stat cs {};
      if (::stat(path.c_str(), &cs) != 0) {
        unreadable(path, "cannot stat it (a dangling symbolic link, or no permission)", errno);
        continue;
      }
      if (S_ISDIR(cs.st_mode)) {
        walk(path, child_rel, files);
      } else if (S_ISREG(cs.st_mode)) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
          unreadable(path, "cannot open it", errno);
          continue;
        }
        std::string head = read_head(fd);
        ::close(fd);
        files.push_back({std::move(child_rel), std::move(path), static_cast<std::uint64_t>(cs.st_size),
                         detail::mtime_ns(cs), std::move(head)});
      } else {
        out.skipped.push_back(path + " (not a regular file)");
      }
    }
  }
};

}  // namespace

compression compression_from_name(std::string_view name) noexcept {
  if (ends_with(name, ".gz")) return compression::gzip;
  if (ends_with(name, ".zst") || ends_with(name, ".zstd")) return compression::zstd;
  return compression::none;
}

bool is_jsonl_name(std::string_view name) noexcept {
  const std::string_view n = strip_compression_ext(base_name(name));
  return ends_with(n, ".jsonl") || ends_with(n, ".ndjson") || ends_with(n, ".json");
}

namespace {

// A descriptor closed when the last owner lets go.
std::shared_ptr<const int> own_fd(int fd) {
  return std::shared_ptr<const int>(new int(fd), [](const int* p) {
    ::close(*p);
    delete p;
  });
}

// Standard input as a path that can be opened again: itself when it is a
// regular file, otherwise an unlinked copy in $TMPDIR.
std::string spool_stdin(expanded_inputs& out) {
  struct stat st {};
  if (::fstat(0, &st) != 0) fail_errno("-", "cannot read standard input", errno);
  if (S_ISREG(st.st_mode)) return "/proc/self/fd/0";
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {  // a file system without O_TMPFILE: create, then unlink at once
    std::string tmpl = dir + "/neardup-stdin.XXXXXX";
    fd = ::mkstemp(tmpl.data());
    if (fd < 0) fail_errno(dir, "cannot create a temporary file to hold standard input", errno);
    ::unlink(tmpl.c_str());
  }
  out.stdin_spool = own_fd(fd);
  std::unique_ptr<char[]> block(new char[std::size_t{1} << 20]);
  while (true) {
    const ssize_t r = ::read(0, block.get(), std::size_t{1} << 20);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      fail_errno("-", "cannot read standard input", errno);
    }
    for (ssize_t done = 0; done < r;) {
      const ssize_t w = ::write(fd, block.get() + done, static_cast<std::size_t>(r - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        fail_errno(dir, "cannot copy standard input into a temporary file", errno);
      }
      done += w;
    }
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// Throws unless `path` (stat `st`, not a directory) can be read more than once.
void require_rereadable(const std::string& path, const struct stat& st) {
  bool seekable = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
  if (S_ISCHR(st.st_mode)) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    seekable = fd >= 0 && ::lseek(fd, 0, SEEK_CUR) >= 0;
    if (fd >= 0) ::close(fd);
  }
  if (!seekable) {
    fail(path, std::string(S_ISFIFO(st.st_mode) ? "a pipe or FIFO" : S_ISSOCK(st.st_mode) ? "a socket" : "not seekable") +
                   ": neardup reads its input more than once and cannot read this twice; give '-' to read "
                   "standard input (it is copied to $TMPDIR first), or save the stream to a file");
  }
}

}  // namespace

void check_output_dir(std::span<const std::string> inputs, const std::string& output_dir) {
  std::error_code ec;
  const std::filesystem::path out = std::filesystem::weakly_canonical(output_dir, ec);
  if (ec) return;  // cannot resolve it: the walker's check still applies
  for (const std::string& input : inputs) {
    if (input == "-") continue;
    const std::filesystem::path in = std::filesystem::weakly_canonical(input, ec);
    if (ec) continue;
    if (std::filesystem::is_directory(in, ec)) {
      const auto [end, _] = std::mismatch(in.begin(), in.end(), out.begin(), out.end());
      if (end == in.end()) {
        fail(output_dir, "the output directory (-o) is inside the input directory " + input +
                             ": its outputs would be read as input. Choose an output directory outside the inputs");
      }
    } else if (in.parent_path() == out) {
      fail(input, "this input is in the output directory (-o " + output_dir +
                      "), whose earlier outputs a run removes first. Move it, or choose another output directory");
    }
  }
}

expanded_inputs expand_inputs(std::span<const std::string> inputs, const expand_options& options) {
  expanded_inputs out;
  dir_walker walker{options, out, {}, {}};
  if (!options.output_dir.empty()) {
    check_output_dir(inputs, options.output_dir);
    struct stat st {};
    if (::stat(options.output_dir.c_str(), &st) == 0) walker.output_dir = st;
  }
  for (const std::string& input : inputs) {
    if (input == "-") {
      if (out.stdin_spool || std::count(inputs.begin(), inputs.end(), "-") > 1) {
        fail("-", "standard input given twice");
      }
      source_info s;
      s.path = spool_stdin(out);
      s.name = "-";
      s.codec = resolve_compression("-", read_head(s.path), nullptr);
      struct stat st {};
      if (::stat(s.path.c_str(), &st) == 0) {
        s.file_bytes = static_cast<std::uint64_t>(st.st_size);
        s.mtime_ns = detail::mtime_ns(st);
      }
      out.sources.push_back(std::move(s));
      continue;
    }
    struct stat st {};
    if (::stat(input.c_str(), &st) != 0) fail_errno(input, "cannot read input", errno);
    if (S_ISDIR(st.st_mode)) {
      std::vector<dir_walker::entry> files;
      walker.walk(input, "", files);
      // Order by the bytes of the relative path (directory-first order from
      // the walk is not the same: "a/b" vs "a.txt").
      std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.rel < b.rel; });
      for (auto& f : files) {
        source_info s;
        s.kind = is_jsonl_name(f.rel) ? source_kind::jsonl : source_kind::text_file;
        std::string note;
        s.codec = resolve_compression(f.path, f.head, &note);
        if (!note.empty()) out.notes.push_back(std::move(note));
        s.file_bytes = f.size;
        s.mtime_ns = f.mtime_ns;
        s.path = std::move(f.path);
        s.name = root_prefix(input) + f.rel;
        // A ".json" file may hold one pretty-printed value, not JSON Lines:
        // then it is one document, never a run of line fragments.
        if (s.kind == source_kind::jsonl && ends_with(strip_compression_ext(s.name), ".json") && !is_json_lines(s)) {
          s.kind = source_kind::text_file;
          out.notes.push_back(s.path + ": not JSON Lines (its first lines are not JSON values): read as one document");
        }
        out.sources.push_back(std::move(s));
      }
    } else {
      require_rereadable(input, st);
      source_info s;
      s.path = input;
      s.name = input;
      s.kind = source_kind::jsonl;
      std::string note;
      s.codec = S_ISREG(st.st_mode) ? resolve_compression(input, read_head(input), &note) : compression_from_name(input);
      if (!note.empty()) out.notes.push_back(std::move(note));
      s.file_bytes = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
      s.mtime_ns = S_ISREG(st.st_mode) ? detail::mtime_ns(st) : 0;
      out.sources.push_back(std::move(s));
    }
  }
  // A file given twice (or a directory and a file in it) gets "NAME#2", ...:
  // ids of the form SOURCE:LINE then name one document each.
  std::map<std::string, std::size_t, std::less<>> seen;
  for (auto& s : out.sources) {
    const std::size_t n = ++seen[s.name];
    if (n > 1) s.name += "#" + std::to_string(n);
    s.ledger = std::make_shared<detail::read_ledger>();
  }
  return out;
}

std::string default_record_id(std::string_view source_name, std::uint64_t line) {
  std::string id(source_name);
  id.push_back(':');
  id += std::to_string(line);
  return id;
}

// ---------------------------------------------------------------- decoding

namespace {

// A file descriptor read in large blocks.
class file_input {
 public:
  explicit file_input(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_errno(path, "cannot open", errno);
    struct stat st {};
    if (::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
    if (S_ISDIR(st.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      fail(path, "is a directory");
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  ~file_input() {
    if (fd_ >= 0) ::close(fd_);
  }
  file_input(const file_input&) = delete;
  file_input& operator=(const file_input&) = delete;

  // Reads up to n bytes; returns 0 only at end of file.
  std::size_t read(char* dst, std::size_t n) {
    while (true) {
      const ssize_t r = ::read(fd_, dst, std::min<std::size_t>(n, std::size_t{1} << 30));
      if (r >= 0) {
        offset_ += static_cast<std::uint64_t>(r);
        return static_cast<std::size_t>(r);
      }
      if (errno != EINTR) fail_errno(path_, "read error", errno);
    }
  }
  // Moves to byte `offset` of a regular file.
  void seek(std::uint64_t offset) {
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) fail_errno(path_, "cannot seek", errno);
    offset_ = offset;
  }
  std::uint64_t offset() const noexcept { return offset_; }
  std::uint64_t size() const noexcept { return size_; }  // 0 if unknown
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t offset_ = 0;
  std::uint64_t size_ = 0;
};

class decoder {
 public:
  explicit decoder(const std::string& path) : in_(path) {}
  virtual ~decoder() = default;
  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;
  // Fills dst with up to n decoded bytes; 0 only at the (verified) end.
  virtual std::size_t read(char* dst, std::size_t n) = 0;
  std::uint64_t compressed_offset() const noexcept { return in_.offset(); }

 protected:
  file_input in_;
};

class plain_decoder final : public decoder {
 public:
  using decoder::decoder;
  std::size_t read(char* dst, std::size_t n) override {
    std::size_t got = 0;
    while (got < n) {
      const std::size_t r = in_.read(dst + got, n - got);
      if (r == 0) break;
      got += r;
    }
    return got;
  }
};

// Bytes [begin, end) of a plain file (source_info::range_begin/range_end).
class range_decoder final : public decoder {
 public:
  range_decoder(const std::string& path, std::uint64_t begin, std::uint64_t end)
      : decoder(path), left_(end >= begin ? end - begin : 0) {
    in_.seek(begin);
  }
  std::size_t read(char* dst, std::size_t n) override {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, left_));
    std::size_t got = 0;
    while (got < n) {
      const std::size_t r = in_.read(dst + got, n - got);
      if (r == 0) break;
      got += r;
    }
    left_ -= got;
    return got;
  }

 private:
  std::uint64_t left_;
};

constexpr std::size_t compressed_block = std::size_t{1} << 20;

// Compressed bytes buffered from the file.
class compressed_buffer {
 public:
  // Small files get a small buffer (cheap readers for tiny inputs and fuzzing).
  explicit compressed_buffer(file_input& in)
      : in_(in),
        capacity_(in.size() == 0 ? compressed_block
                                 : static_cast<std::size_t>(std::clamp<std::uint64_t>(in.size() + 1, 4096, compressed_block))),
        buf_(new unsigned char[capacity_]) {}
  // Makes at least `want` bytes available if the file has them; keeps unread bytes.
  void fill(std::size_t want) {
    want = std::min(want, capacity_);
    if (avail_ >= want || eof_) return;
    if (pos_ != 0) {
      std::memmove(buf_.get(), buf_.get() + pos_, avail_);
      pos_ = 0;
    }
    while (avail_ < want && !eof_) {
      const std::size_t r = in_.read(reinterpret_cast<char*>(buf_.get()) + avail_, capacity_ - avail_);
      if (r == 0) eof_ = true;
      avail_ += r;
    }
  }
  unsigned char* data() noexcept { return buf_.get() + pos_; }
  std::size_t avail() const noexcept { return avail_; }
  void consume(std::size_t n) noexcept {
    pos_ += n;
    avail_ -= n;
  }
  bool eof() const noexcept { return eof_; }
  // File offset of data()[0].
  std::uint64_t offset() const noexcept { return in_.offset() - avail_; }

 private:
  file_input& in_;
  std::size_t capacity_;
  std::unique_ptr<unsigned char[]> buf_;
  std::size_t pos_ = 0;
  std::size_t avail_ = 0;
  bool eof_ = false;
};

std::string at_offset(std::string_view what, std::uint64_t offset) {
  std::string s(what);
  s += " (compressed offset ";
  s += std::to_string(offset);
  s += ")";
  return s;
}

class gzip_decoder final : public decoder {
 public:
  explicit gzip_decoder(const std::string& path) : decoder(path), buf_(in_) {
    std::memset(&z_, 0, sizeof z_);
    if (inflateInit2(&z_, 15 + 16) != Z_OK) fail(path, "cannot initialize zlib");
  }
  ~gzip_decoder() override { inflateEnd(&z_); }

  std::size_t read(char* dst, std::size_t n) override {
    std::size_t got = 0;
    while (got < n && !done_) {
      if (!in_member_) {
        // Between members: end of input, trailing zeros (tolerated), or the next member.
        buf_.fill(2);
        if (buf_.avail() == 0) {
          if (!any_member_) fail(in_.path(), "empty gzip file");
          done_ = true;
          break;
        }
        if (buf_.avail() < 2 || buf_.data()[0] != 0x1f || buf_.data()[1] != 0x8b) {
          if (!any_member_) fail(in_.path(), "not gzip data: no gzip member at its start");
          skip_trailing_zeros();
          break;
        }
        in_member_ = true;
        any_member_ = true;
      }
      buf_.fill(1);
      if (buf_.avail() == 0) fail(in_.path(), at_offset("truncated gzip stream", buf_.offset()));
      z_.next_in = buf_.data();
      z_.avail_in = static_cast<uInt>(std::min<std::size_t>(buf_.avail(), UINT32_MAX));
      z_.next_out = reinterpret_cast<Bytef*>(dst + got);
      z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - got, UINT32_MAX));
      const uInt in_before = z_.avail_in;
      const uInt out_before = z_.avail_out;
      const int ret = inflate(&z_, Z_NO_FLUSH);
      buf_.consume(in_before - z_.avail_in);
      got += out_before - z_.avail_out;
      if (ret == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&z_);
      } else if (ret == Z_BUF_ERROR) {
        // No progress: input exhausted (refilled next round) — impossible
        // here unless the output is full, which ends the loop.
        if (in_before == z_.avail_in && out_before == z_.avail_out && buf_.eof())
          fail(in_.path(), at_offset("truncated gzip stream", buf_.offset()));
      } else if (ret != Z_OK) {
        std::string what = "corrupt gzip stream";
        if (z_.msg != nullptr) {
          what += ": ";
          what += z_.msg;
        }
        fail(in_.path(), at_offset(what, buf_.offset()));
      }
    }
    return got;
  }

 private:
  void skip_trailing_zeros() {
    while (true) {
      buf_.fill(std::size_t{1} << 30);  // as much as the buffer holds
      if (buf_.avail() == 0) break;
      const unsigned char* p = buf_.data();
      for (std::size_t i = 0; i < buf_.avail(); ++i) {
        if (p[i] != 0) fail(in_.path(), at_offset("trailing garbage after gzip member", buf_.offset() + i));
      }
      buf_.consume(buf_.avail());
    }
    done_ = true;
  }

  compressed_buffer buf_;
  z_stream z_{};
  bool in_member_ = false;
  bool any_member_ = false;
  bool done_ = false;
};

class zstd_decoder final : public decoder {
 public:
  explicit zstd_decoder(const std::string& path) : decoder(path), buf_(in_), dctx_(ZSTD_createDCtx()) {
    if (dctx_ == nullptr) fail(path, "cannot initialize zstd");
  }
  ~zstd_decoder() override { ZSTD_freeDCtx(dctx_); }

  std::size_t read(char* dst, std::size_t n) override {
    ZSTD_outBuffer out{dst, n, 0};
    while (out.pos < out.size && !done_) {
      buf_.fill(1);
      if (buf_.avail() > 0) any_input_ = true;
      ZSTD_inBuffer in{buf_.data(), buf_.avail(), 0};
      const std::size_t before_out = out.pos;
      const std::size_t ret = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(ret)) {
        std::string what = "corrupt zstd stream: ";
        what += ZSTD_getErrorName(ret);
        fail(in_.path(), at_offset(what, buf_.offset()));
      }
      buf_.consume(in.pos);
      const bool progress = in.pos != 0 || out.pos != before_out;
      if (progress) frame_complete_ = ret == 0;
      if (!progress && buf_.avail() == 0 && buf_.eof()) {
        if (!any_input_) fail(in_.path(), "empty zstd file");
        if (!frame_complete_) fail(in_.path(), at_offset("truncated zstd stream", buf_.offset()));
        done_ = true;
      }
    }
    return out.pos;
  }

 private:
  compressed_buffer buf_;
  ZSTD_DCtx* dctx_;
  bool any_input_ = false;
  bool frame_complete_ = false;
  bool done_ = false;
};

}  // namespace

// Eight bytes at a time, exact per byte (no carries between bytes), byte
// counters folded every 255 words.
std::uint64_t count_newlines(const char* p, std::size_t n) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
  std::uint64_t total = 0;
  std::size_t i = 0;
  while (n - i >= 8) {
    std::uint64_t acc = 0;
    const std::size_t words = std::min<std::size_t>((n - i) / 8, 255);
    for (std::size_t w = 0; w < words; ++w, i += 8) {
      std::uint64_t x;
      std::memcpy(&x, p + i, 8);
      x ^= ones * '\n';
      const std::uint64_t t = ~(((x & low7) + low7) | x | low7);  // 0x80 where x's byte is 0
      acc += t >> 7;
    }
    total += (acc * ones) >> 56;
  }
  for (; i < n; ++i) total += p[i] == '\n';
  return total;
}

namespace {

std::unique_ptr<decoder> open_decoder(const source_info& s) {
  if (s.is_range()) {
    if (s.codec != compression::none || s.kind != source_kind::jsonl) {
      fail(s.name, "a byte range of a compressed or text file cannot be read on its own");
    }
    return std::make_unique<range_decoder>(s.path, s.range_begin, s.range_end);
  }
  switch (s.codec) {
    case compression::gzip: return std::make_unique<gzip_decoder>(s.path);
    case compression::zstd: return std::make_unique<zstd_decoder>(s.path);
    case compression::none: break;
  }
  return std::make_unique<plain_decoder>(s.path);
}

// JSON Lines unless the first two non-blank lines of the first 64 KiB both
// fail to parse as JSON values (as with a pretty-printed object or array). A
// first line longer than that is taken for JSON Lines.
bool is_json_lines(const source_info& s) {
  const auto dec = open_decoder(s);
  std::string head(std::size_t{64} << 10, '\0');
  std::size_t size = 0;
  while (size < head.size()) {
    const std::size_t r = dec->read(head.data() + size, head.size() - size);
    if (r == 0) break;
    size += r;
  }
  head.resize(size);
  std::size_t begin = 0;
  int failed = 0;
  while (begin < head.size() && failed < 2) {
    const auto nl = head.find('\n', begin);
    if (nl == std::string::npos && size == (std::size_t{64} << 10)) break;  // a line may go on
    const std::string_view line = std::string_view(head).substr(begin, nl == std::string::npos ? std::string::npos : nl - begin);
    begin = nl == std::string::npos ? head.size() : nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos || (begin == 4 && line == "\xEF\xBB\xBF")) continue;
    std::string_view json = line;
    if (json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);
    if (detail::is_json_value(json)) return true;
    ++failed;
  }
  return failed < 2;
}

}  // namespace

// ---------------------------------------------------------------- reader

struct corpus_reader::impl {
  std::span<const source_info> sources;
  reader_options options;
  std::size_t current = 0;
  std::unique_ptr<decoder> dec;
  std::string carry;  // partial last line of the previous chunk
  std::uint64_t next_line = 1;
  std::uint64_t next_offset = 0;
  std::uint64_t closed_bytes = 0;  // compressed bytes of finished sources
  hash64_stream digest;              // of the current source's decoded bytes
  std::uint64_t decoded = 0;         // decoded bytes of the current source

  std::size_t decode(char* dst, std::size_t n) {
    const std::size_t r = dec->read(dst, n);
    if (sources[current].ledger) digest.update(dst, r);
    decoded += r;
    return r;
  }

  // A chunk could not grow to hold its last line (a line too long for
  // memory, or an endless one from a decompression bomb): say where.
  [[noreturn]] void out_of_memory(const source_info& src, const char* data, std::size_t size) {
    const void* nl = size == 0 ? nullptr : ::memrchr(data, '\n', size);
    const std::size_t start = nl == nullptr ? 0 : static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
    const std::uint64_t line = next_line + count_newlines(data, start);
    fail(src.name + ":" + std::to_string(line),
         "out of memory holding this line (it starts at decompressed byte " + std::to_string(next_offset + start) +
             "; " + std::to_string(size - start) +
             " bytes of it were read); a line must fit in memory about 1.5 times over");
  }

  // At the end of the current source.
  void finish_source() {
    const source_info& src = sources[current];
    if (src.ledger && !src.is_range()) src.ledger->check(src.name, decoded, digest.digest());
    if (dec) closed_bytes += dec->compressed_offset();
    dec.reset();
    carry.clear();
    next_line = 1;
    next_offset = 0;
    ++current;
  }

  bool next(input_chunk& chunk) {
    while (current < sources.size()) {
      const source_info& src = sources[current];
      if (!dec) {
        dec = open_decoder(src);
        digest = hash64_stream();
        decoded = 0;
        next_offset = src.range_begin;
        next_line = src.range_first_line;
      }
      chunk.source = static_cast<std::uint32_t>(current);
      chunk.source_name = src.name;
      chunk.first_line = next_line;
      chunk.byte_offset = next_offset;
      chunk.whole_file_document = src.kind == source_kind::text_file;
      byte_buffer& data = chunk.data;

      if (chunk.whole_file_document) {
        data.clear();
        std::size_t size = 0;
        data.reserve(static_cast<std::size_t>(src.file_bytes) + 1);
        while (true) {
          if (size == data.capacity()) {
            try {
              data.reserve(size + size / 2 + 4096);
            } catch (const std::bad_alloc&) {
              fail(src.name, "out of memory holding this file as one document (" + std::to_string(size) +
                                 " bytes of it were read)");
            }
          }
          data.resize(data.capacity());
          const std::size_t r = decode(data.data() + size, data.capacity() - size);
          if (r == 0) break;
          size += r;
        }
        data.resize(size);
        finish_source();
        return true;
      }

      const std::size_t target = options.chunk_bytes;
      data.reserve(carry.size() + target);
      data.resize(carry.size());
      if (!carry.empty()) std::memcpy(data.data(), carry.data(), carry.size());
      std::size_t size = carry.size();
      std::size_t scanned = size;  // carry holds no '\n'
      std::size_t cut = 0;         // bytes of whole lines
      bool eof = false;
      while (true) {
        if (size >= target) {
          const void* nl = ::memrchr(data.data() + scanned, '\n', size - scanned);
          if (nl != nullptr) {
            cut = static_cast<std::size_t>(static_cast<const char*>(nl) - data.data()) + 1;
            break;
          }
          scanned = size;
        }
        const std::size_t want = size >= target ? target : target - size;
        if (data.capacity() < size + want) {
          try {
            data.reserve(size + want);
          } catch (const std::bad_alloc&) {
            out_of_memory(src, data.data(), size);
          }
        }
        data.resize(data.capacity());
        const std::size_t r = decode(data.data() + size, want);
        if (r == 0) {
          eof = true;
          cut = size;
          break;
        }
        size += r;
      }
      carry.assign(data.data() + cut, size - cut);
      data.resize(cut);
      if (eof) {
        finish_source();
      } else {
        next_offset += cut;
        next_line += count_newlines(data.data(), cut);
      }
      if (cut == 0) continue;  // empty source
      return true;
    }
    return false;
  }
};

corpus_reader::corpus_reader(std::span<const source_info> sources, const reader_options& options)
    : impl_(std::make_unique<impl>()) {
  if (options.chunk_bytes == 0) throw std::invalid_argument("reader_options.chunk_bytes = 0: must be at least 1");
  impl_->sources = sources;
  impl_->options = options;
}
corpus_reader::~corpus_reader() = default;
corpus_reader::corpus_reader(corpus_reader&&) noexcept = default;
corpus_reader& corpus_reader::operator=(corpus_reader&&) noexcept = default;

bool corpus_reader::next(input_chunk& chunk) {
  try {
    return impl_->next(chunk);
  } catch (...) {
    impl_->dec.reset();
    impl_->current = impl_->sources.size();
    throw;
  }
}

std::uint64_t corpus_reader::bytes_read() const noexcept {
  return impl_->closed_bytes + (impl_->dec ? impl_->dec->compressed_offset() : 0);
}

}  // namespace neardup::io

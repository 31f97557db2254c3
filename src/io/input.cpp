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
#include <set>
#include <stdexcept>
#include <utility>

#include "io_internal.hpp"

namespace neardup::io {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
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

std::string_view base_name(std::string_view path) noexcept {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

struct dir_walker {
  const expand_options& options;
  expanded_inputs& out;
  std::set<std::pair<dev_t, ino_t>> visited;

  struct entry {
    std::string rel;
    std::string path;
    std::uint64_t size;
    std::int64_t mtime_ns;
  };

  // Appends the regular files under `dir` (relative prefix `rel`) to files.
  void walk(const std::string& dir, const std::string& rel, std::vector<entry>& files) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) fail_errno(dir, "cannot stat directory", errno);
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
        out.skipped.push_back(path + " (" + std::strerror(errno) + ")");
        continue;
      }
      if (S_ISDIR(cs.st_mode)) {
        walk(path, child_rel, files);
      } else if (S_ISREG(cs.st_mode)) {
        files.push_back(
            {std::move(child_rel), std::move(path), static_cast<std::uint64_t>(cs.st_size), detail::mtime_ns(cs)});
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

expanded_inputs expand_inputs(std::span<const std::string> inputs, const expand_options& options) {
  expanded_inputs out;
  dir_walker walker{options, out, {}};
  for (const std::string& input : inputs) {
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
        s.codec = compression_from_name(f.rel);
        s.file_bytes = f.size;
        s.mtime_ns = f.mtime_ns;
        s.path = std::move(f.path);
        s.name = std::move(f.rel);
        out.sources.push_back(std::move(s));
      }
    } else if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
      source_info s;
      s.path = input;
      s.name = input;
      s.kind = source_kind::jsonl;
      s.codec = compression_from_name(input);
      s.file_bytes = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
      s.mtime_ns = S_ISREG(st.st_mode) ? detail::mtime_ns(st) : 0;
      out.sources.push_back(std::move(s));
    } else {
      fail(input, "not a file or directory");
    }
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

// Number of '\n' in [p, p+n): eight bytes at a time, exact per byte (no
// carries between bytes), byte counters folded every 255 words.
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

std::unique_ptr<decoder> open_decoder(const source_info& s) {
  switch (s.codec) {
    case compression::gzip: return std::make_unique<gzip_decoder>(s.path);
    case compression::zstd: return std::make_unique<zstd_decoder>(s.path);
    case compression::none: break;
  }
  return std::make_unique<plain_decoder>(s.path);
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

  void finish_source() {
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
      if (!dec) dec = open_decoder(src);
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
          if (size == data.capacity()) data.reserve(size + size / 2 + 4096);
          data.resize(data.capacity());
          const std::size_t r = dec->read(data.data() + size, data.capacity() - size);
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
        if (data.capacity() < size + want) data.reserve(size + want);
        data.resize(data.capacity());
        const std::size_t r = dec->read(data.data() + size, want);
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

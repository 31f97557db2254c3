// Atomic output files (see neardup/io/output.hpp).
#include "neardup/io/output.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "io_internal.hpp"
#include "neardup/hash.hpp"

namespace neardup::io {

namespace {

[[noreturn]] void fail_errno(const std::string& path, std::string_view what, int err) {
  std::string msg = path;
  msg += ": ";
  msg += what;
  if (err != 0) {
    msg += ": ";
    msg += std::strerror(err);
  }
  throw std::runtime_error(msg);
}

std::atomic<std::uint64_t> temp_counter{0};

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// copy_file_range(2) errors that say the kernel will not copy between these
// two files (not an I/O failure): reading and writing the bytes may work.
bool kernel_cannot_copy(int err) noexcept {
  switch (err) {
    case EXDEV:       // different file systems (before Linux 5.3, and again for most since 5.19)
    case ENOSYS:      // no such system call
    case EINVAL:      // not regular files, or offsets out of range
    case EOPNOTSUPP:  // the file system does not support it
    case EBADF:       // let pread/write say what is wrong with the descriptors
    case EPERM:
    case ETXTBSY:
    case EOVERFLOW:
      return true;
    default:
#if ENOTSUP != EOPNOTSUPP
      return err == ENOTSUP;
#else
      return false;
#endif
  }
}

// Bytes per pread() when copy_from() reads and writes.
constexpr std::size_t copy_block_bytes = std::size_t{1} << 20;

// Temporary files (and scratch directories) to remove on SIGINT/SIGTERM. A
// signal handler may only touch lock-free state: fixed slots whose bytes stay
// valid while the slot is claimed (state 1 = being filled or cleared, 2 =
// ready). More than kCleanupSlots at once are not registered (neardup keeps a
// handful).
constexpr std::size_t kCleanupSlots = 64;
constexpr std::size_t kCleanupPathMax = 4096;
struct cleanup_slot {
  std::atomic<int> state{0};
  bool is_dir = false;
  char path[kCleanupPathMax];
};
cleanup_slot cleanup_slots[kCleanupSlots];

int claim_cleanup_slot(std::string_view path, bool is_dir) noexcept {
  if (path.size() >= kCleanupPathMax) return -1;
  for (std::size_t i = 0; i < kCleanupSlots; ++i) {
    int expected = 0;
    if (cleanup_slots[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(cleanup_slots[i].path, path.data(), path.size());
      cleanup_slots[i].path[path.size()] = '\0';
      cleanup_slots[i].is_dir = is_dir;
      cleanup_slots[i].state.store(2);
      return static_cast<int>(i);
    }
  }
  return -1;
}

void release_cleanup_slot(int slot) noexcept {
  if (slot >= 0) cleanup_slots[slot].state.store(0);
}

// Async-signal-safe: unlink, rmdir and byte copies only.
void remove_registered_files() noexcept {
  for (auto& slot : cleanup_slots) {
    if (slot.state.load() == 2 && !slot.is_dir) ::unlink(slot.path);
  }
  for (auto& slot : cleanup_slots) {
    if (slot.state.load() != 2 || !slot.is_dir) continue;
    // The outputs a run can write there, then the directory itself.
    char buf[kCleanupPathMax + 64];
    const std::size_t n = std::strlen(slot.path);
    for (const std::string_view name : {"clusters.tsv", "deduped.jsonl", "deduped.jsonl.zst", "stats.json",
                                        "eval.json", "pairs.tsv", "_SUCCESS"}) {
      if (n + 1 + name.size() >= sizeof buf) continue;
      std::memcpy(buf, slot.path, n);
      buf[n] = '/';
      std::memcpy(buf + n + 1, name.data(), name.size());
      buf[n + 1 + name.size()] = '\0';
      ::unlink(buf);
    }
    ::rmdir(slot.path);
  }
}

extern "C" void neardup_cleanup_on_signal(int sig) {
  remove_registered_files();
  ::signal(sig, SIG_DFL);  // then die of the signal, as without the handler
  ::raise(sig);
}

std::mutex commit_log_mutex;
std::vector<detail::committed_file>& commit_log() {
  static std::vector<detail::committed_file> log;
  return log;
}

}  // namespace

std::size_t detail::commit_log_size() {
  const std::lock_guard<std::mutex> lock(commit_log_mutex);
  return commit_log().size();
}

std::vector<detail::committed_file> detail::commit_log_since(std::size_t first) {
  const std::lock_guard<std::mutex> lock(commit_log_mutex);
  const auto& log = commit_log();
  return first >= log.size()
             ? std::vector<committed_file>{}
             : std::vector<committed_file>(log.begin() + static_cast<std::ptrdiff_t>(first), log.end());
}

void remove_temporary_files_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = neardup_cleanup_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    // A signal the caller ignores (nohup) stays ignored.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

scratch_dir_guard::scratch_dir_guard(const std::string& dir) : slot_(claim_cleanup_slot(dir, true)) {}
scratch_dir_guard::~scratch_dir_guard() { release_cleanup_slot(slot_); }

output_compression output_compression_from_name(std::string_view path) noexcept {
  return ends_with(path, ".zst") || ends_with(path, ".zstd") ? output_compression::zstd : output_compression::none;
}

struct atomic_file::impl {
  std::string path;
  std::string temp;
  output_options options;
  int fd = -1;
  bool committed = false;
  std::string buf;  // uncompressed pending bytes
  std::string zbuf;  // compressed output block
  ZSTD_CCtx* cctx = nullptr;
  std::uint64_t written = 0;
  bool kernel_copy = false;            // copy_from() may use copy_file_range(2)
  bool refused = false;                // copy_file_range(2) refused an input on refused_dev
  dev_t refused_dev = 0;
  std::unique_ptr<char[]> copy_block;  // copy_block_bytes, when copy_from() reads
  int cleanup_slot = -1;               // temp's entry for the signal handler
  hash64_stream digest;                // of the bytes written to fd (_SUCCESS lists it)
  bool digest_complete = true;         // false once bytes went around write(2)

  ~impl() {
    if (cctx != nullptr) ZSTD_freeCCtx(cctx);
    if (fd >= 0) ::close(fd);
    if (!committed && !temp.empty()) ::unlink(temp.c_str());
    release_cleanup_slot(cleanup_slot);
  }

  void raw_write(const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, p, std::min<std::size_t>(n, std::size_t{1} << 30));
      if (w < 0) {
        if (errno == EINTR) continue;
        fail_errno(path, "write error", errno);
      }
      digest.update(p, static_cast<std::size_t>(w));
      p += w;
      n -= static_cast<std::size_t>(w);
      file_bytes += static_cast<std::uint64_t>(w);
    }
    start_writeback();
  }

  void start_writeback() {
    // Start writeback of what is written so far, without waiting, so the
    // fsync in commit() finds little left to do (Linux; a no-op elsewhere).
    if (file_bytes - writeback_started >= writeback_step) {
#ifdef SYNC_FILE_RANGE_WRITE
      (void)::sync_file_range(fd, static_cast<off_t>(writeback_started),
                              static_cast<off_t>(file_bytes - writeback_started), SYNC_FILE_RANGE_WRITE);
#endif
      writeback_started = file_bytes;
    }
  }
  static constexpr std::uint64_t writeback_step = std::uint64_t{8} << 20;
  std::uint64_t file_bytes = 0;         // bytes written to fd
  std::uint64_t writeback_started = 0;  // bytes handed to writeback

  void compress(std::string_view in, ZSTD_EndDirective mode) {
    ZSTD_inBuffer zin{in.data(), in.size(), 0};
    while (true) {
      ZSTD_outBuffer zout{zbuf.data(), zbuf.size(), 0};
      const std::size_t left = ZSTD_compressStream2(cctx, &zout, &zin, mode);
      if (ZSTD_isError(left)) fail_errno(path, std::string("zstd compression error: ") + ZSTD_getErrorName(left), 0);
      raw_write(zbuf.data(), zout.pos);
      const bool finished = mode == ZSTD_e_continue ? zin.pos == zin.size : left == 0;
      if (finished) break;
    }
  }

  void flush_buffer(ZSTD_EndDirective mode) {
    if (cctx != nullptr) {
      compress(buf, mode);
    } else {
      raw_write(buf.data(), buf.size());
    }
    buf.clear();
  }

  bool refuses(int in) const noexcept {
    if (!refused) return false;
    struct stat st {};
    return ::fstat(in, &st) != 0 || st.st_dev == refused_dev;
  }

  std::uint64_t copy_from(int in, std::uint64_t offset, std::uint64_t length) {
    std::uint64_t done = 0;
#ifdef __linux__
    if (cctx == nullptr && kernel_copy && length != 0 && !refuses(in)) {
      flush_buffer(ZSTD_e_continue);
      while (done < length) {
        auto in_offset = static_cast<off_t>(offset + done);
        const ssize_t n = ::copy_file_range(in, &in_offset, fd, nullptr,
                                            std::min<std::uint64_t>(length - done, std::uint64_t{1} << 30), 0);
        if (n > 0) {
          digest_complete = false;  // copied by the kernel: read back for _SUCCESS
          done += static_cast<std::uint64_t>(n);
          written += static_cast<std::uint64_t>(n);
          file_bytes += static_cast<std::uint64_t>(n);
          start_writeback();
          continue;
        }
        // 0: the end of the input, or a file system that reports none
        // (older kernels on /proc and /sys files); pread() below tells which.
        if (n == 0) break;
        if (errno == EINTR) continue;
        if (!kernel_cannot_copy(errno)) fail_errno(path, "cannot copy into it", errno);
        // Later inputs on that file system are read and written straight away.
        struct stat st {};
        if (::fstat(in, &st) == 0) {
          refused = true;
          refused_dev = st.st_dev;
        }
        break;
      }
    }
#endif
    while (done < length) {
      if (!copy_block) copy_block.reset(new char[copy_block_bytes]);
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(length - done, copy_block_bytes));
      const ssize_t n = ::pread(in, copy_block.get(), want, static_cast<off_t>(offset + done));
      if (n > 0) {
        write(std::string_view(copy_block.get(), static_cast<std::size_t>(n)));
        done += static_cast<std::uint64_t>(n);
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        fail_errno(path, "cannot read the input copied into it", errno);
      }
    }
    return done;
  }

  void write(std::string_view s) {
    written += s.size();
    if (buf.size() + s.size() <= options.buffer_bytes) {
      buf.append(s);
      return;
    }
    flush_buffer(ZSTD_e_continue);
    if (s.size() >= options.buffer_bytes) {
      if (cctx != nullptr) {
        compress(s, ZSTD_e_continue);
      } else {
        raw_write(s.data(), s.size());
      }
    } else {
      buf.append(s);
    }
  }
};

atomic_file::atomic_file(std::string path, const output_options& options) : impl_(std::make_unique<impl>()) {
  if (options.buffer_bytes == 0) throw std::invalid_argument("output_options.buffer_bytes = 0: must be at least 1");
  if (options.compression == output_compression::zstd && (options.zstd_level < 1 || options.zstd_level > 19)) {
    throw std::invalid_argument("output_options.zstd_level = " + std::to_string(options.zstd_level) +
                                ": must be in [1, 19]");
  }
  impl& m = *impl_;
  m.path = std::move(path);
  m.options = options;
  m.temp = m.path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(temp_counter.fetch_add(1));
  m.cleanup_slot = claim_cleanup_slot(m.temp, false);  // before the file exists: no window
  m.fd = ::open(m.temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (m.fd < 0) {
    const int err = errno;
    m.temp.clear();  // nothing to remove
    fail_errno(m.path, "cannot create temporary file", err);
  }
  m.buf.reserve(options.buffer_bytes);
  const char* kernel_copy = std::getenv("NEARDUP_COPY_FILE_RANGE");
  m.kernel_copy = kernel_copy != nullptr && std::string_view(kernel_copy) == "1";
  if (options.compression == output_compression::zstd) {
    m.cctx = ZSTD_createCCtx();
    if (m.cctx == nullptr) fail_errno(m.path, "cannot initialize zstd", 0);
    ZSTD_CCtx_setParameter(m.cctx, ZSTD_c_compressionLevel, options.zstd_level);
    ZSTD_CCtx_setParameter(m.cctx, ZSTD_c_checksumFlag, 1);
    m.zbuf.resize(ZSTD_CStreamOutSize());
  }
}

atomic_file::~atomic_file() = default;
atomic_file::atomic_file(atomic_file&&) noexcept = default;
atomic_file& atomic_file::operator=(atomic_file&&) noexcept = default;

void atomic_file::write(std::string_view bytes) { impl_->write(bytes); }

void atomic_file::write_line(std::string_view bytes) {
  impl& m = *impl_;
  if (m.buf.size() + bytes.size() + 1 <= m.options.buffer_bytes) {
    m.buf.append(bytes);
    m.buf.push_back('\n');
    m.written += bytes.size() + 1;
    return;
  }
  m.write(bytes);
  m.write("\n");
}

void atomic_file::put(char c) { impl_->write(std::string_view(&c, 1)); }

std::uint64_t atomic_file::copy_from(int fd, std::uint64_t offset, std::uint64_t length) {
  return impl_->copy_from(fd, offset, length);
}

void atomic_file::adopt(std::uint64_t bytes) {
  impl& m = *impl_;
  if (m.cctx != nullptr) throw std::logic_error(m.path + ": adopt() on a compressed file");
  m.flush_buffer(ZSTD_e_continue);
  const int in = ::open(m.temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail_errno(m.path, "cannot read back its temporary file", errno);
  if (!m.copy_block) m.copy_block.reset(new char[copy_block_bytes]);
  std::uint64_t done = 0;
  while (done < bytes) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - done, copy_block_bytes));
    const ssize_t n = ::pread(in, m.copy_block.get(), want, static_cast<off_t>(m.file_bytes));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      ::close(in);
      fail_errno(m.path, n < 0 ? "cannot read back its temporary file" : "the bytes written into it are missing", err);
    }
    m.digest.update(m.copy_block.get(), static_cast<std::size_t>(n));
    m.file_bytes += static_cast<std::uint64_t>(n);
    m.written += static_cast<std::uint64_t>(n);
    done += static_cast<std::uint64_t>(n);
  }
  ::close(in);
  // Later writes go after the adopted bytes.
  if (::lseek(m.fd, static_cast<off_t>(m.file_bytes), SEEK_SET) < 0) fail_errno(m.path, "cannot seek", errno);
  m.writeback_started = m.file_bytes;  // the other writer started its own writeback
}

void atomic_file::commit() {
  impl& m = *impl_;
  m.flush_buffer(ZSTD_e_end);
  if (::fsync(m.fd) != 0) fail_errno(m.path, "fsync failed", errno);
  detail::committed_file entry{.path = m.path, .has_digest = m.digest_complete, .bytes = m.file_bytes,
                               .xxh3 = m.digest.digest()};
  struct stat st {};
  if (::fstat(m.fd, &st) != 0) {
    entry.has_digest = false;
  } else {
    entry.dev = st.st_dev;
    entry.ino = st.st_ino;
  }
  const int fd = m.fd;
  m.fd = -1;
  if (::close(fd) != 0) fail_errno(m.path, "close failed", errno);
  if (::rename(m.temp.c_str(), m.path.c_str()) != 0) fail_errno(m.path, "cannot rename temporary file", errno);
  m.committed = true;
  release_cleanup_slot(m.cleanup_slot);
  m.cleanup_slot = -1;
  {
    const std::lock_guard<std::mutex> lock(commit_log_mutex);
    commit_log().push_back(std::move(entry));
  }
  // Make the rename durable; some file systems refuse fsync on directories.
  const auto slash = m.path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : m.path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

const std::string& atomic_file::path() const noexcept { return impl_->path; }
const std::string& atomic_file::temp_path() const noexcept { return impl_->temp; }
std::uint64_t atomic_file::bytes_written() const noexcept { return impl_->written; }
bool atomic_file::committed() const noexcept { return impl_->committed; }

void write_file_atomic(const std::string& path, std::string_view contents, const output_options& options) {
  atomic_file f(path, options);
  f.write(contents);
  f.commit();
}

}  // namespace neardup::io

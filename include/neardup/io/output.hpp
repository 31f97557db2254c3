// neardup/io/output.hpp — output files that appear complete or not at all.
//
// An atomic_file writes to a temporary file next to the target
// ("<path>.tmp.<pid>.<n>", same directory, so the final rename cannot cross
// file systems). commit() flushes, fsyncs and renames it over <path>. If the
// atomic_file is destroyed without commit() (an exception, an early return),
// the temporary file is removed: a crash or error never leaves a
// finished-looking output behind. (A process killed by SIGKILL can leave a
// ".tmp." file, never a partial <path>.)
//
//   neardup::io::atomic_file out("deduped.jsonl.zst",
//                                {.compression = neardup::io::output_compression::zstd});
//   for (const auto& line : kept) out.write_line(line);
//   out.commit();  // now deduped.jsonl.zst exists, complete
//
// Writes are buffered (output_options::buffer_bytes). Errors (cannot create,
// disk full, fsync/rename failure) throw std::runtime_error naming the target
// path; the temporary file is then removed.
//
// Compression: zstd (single-threaded, one frame) at output_options::zstd_level.
// Not promised: compressed bytes are identical across zstd library versions
// (the decompressed bytes are).
//
// Copying from another file (copy_from): the bytes are read with pread(2) in
// large blocks and written like any other. NEARDUP_COPY_FILE_RANGE=1 in the
// environment (read when an atomic_file is constructed) makes it ask the
// kernel to copy file to file instead (copy_file_range(2)), which pays off
// only where the file system copies without moving the data (e.g. NFS 4.2
// server-side copy): on ext4 it was slower than pread + write, 0.34 s against
// 0.21 s for the 505 MB of kept lines of the 1.16 GB benchmark corpus. Where
// the kernel refuses (different file systems on some kernels, a source that
// is not a regular file, an old kernel), copy_from falls back to reading and
// writing, with the same result.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "neardup/enum_names.hpp"

namespace neardup::io {

enum class output_compression : std::uint8_t { none, zstd };

// Spellings (enum_names.hpp): none, zstd; as `--compress` takes them.
constexpr std::array<enum_name<output_compression>, 2> enum_names(output_compression) noexcept {
  return {{{output_compression::none, "none"}, {output_compression::zstd, "zstd"}}};
}

// zstd if the name ends in ".zst" or ".zstd", otherwise none.
output_compression output_compression_from_name(std::string_view path) noexcept;

struct output_options {
  output_compression compression = output_compression::none;
  int zstd_level = 3;                          // 1..19 (checked at construction)
  std::size_t buffer_bytes = std::size_t{1} << 20;  // >= 1
};

class atomic_file {
 public:
  // Creates the temporary file. Throws std::runtime_error naming `path` if it
  // cannot be created, std::invalid_argument for bad options.
  explicit atomic_file(std::string path, const output_options& options = {});
  // Removes the temporary file unless commit() succeeded. Never throws.
  ~atomic_file();
  atomic_file(atomic_file&&) noexcept;
  atomic_file& operator=(atomic_file&&) noexcept;
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;

  // REQUIRES (all three): not committed.
  void write(std::string_view bytes);
  void write_line(std::string_view bytes);  // bytes, then '\n'
  void put(char c);

  // Appends `length` bytes of the file open as `fd`, starting at byte
  // `offset`, exactly as write() of those bytes would (bytes_written() counts
  // them; buffered bytes go first). fd's own file offset is neither used nor
  // moved. Returns the bytes copied: fewer than `length` only when the file
  // ends first. Throws std::runtime_error naming path() on a read or write
  // error.
  // REQUIRES: not committed; fd is open for reading and supports pread(2)
  // (a regular file or a device, not a pipe).
  std::uint64_t copy_from(int fd, std::uint64_t offset, std::uint64_t length);

  // Flushes, finishes the zstd frame, fsyncs, renames onto path(), fsyncs the
  // directory. REQUIRES: not committed.
  void commit();

  // Takes `bytes` bytes that another writer put into temp_path() right
  // after this object's own (positioned writes of a second thread's share):
  // they become part of the file as if written here (bytes_written() counts
  // them; they are read back once for the digest that _SUCCESS lists).
  // Flushes first. Throws std::runtime_error naming path() if they are not
  // all there.
  // REQUIRES: not committed; no compression.
  void adopt(std::uint64_t bytes);

  const std::string& path() const noexcept;
  const std::string& temp_path() const noexcept;
  std::uint64_t bytes_written() const noexcept;  // before compression
  bool committed() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Makes SIGINT, SIGTERM and SIGHUP remove every atomic_file's temporary file
// (and every scratch_dir_guard's directory) before the process dies of the
// signal as it would have without the handler. Signals the process ignores
// stay ignored. For programs (the neardup CLI calls it first thing); a library
// never installs handlers on its own. SIGKILL cannot be caught: it can still
// leave "NAME.tmp.PID.N" files, which the next output_run into that directory
// removes and a directory walk skips.
void remove_temporary_files_on_signals();

// While alive, a signal handled by remove_temporary_files_on_signals() also
// removes `dir`'s neardup outputs and then `dir` (if empty): for a scratch
// output directory such as `neardup eval`'s without -o.
class scratch_dir_guard {
 public:
  explicit scratch_dir_guard(const std::string& dir);
  ~scratch_dir_guard();
  scratch_dir_guard(const scratch_dir_guard&) = delete;
  scratch_dir_guard& operator=(const scratch_dir_guard&) = delete;

 private:
  int slot_;
};

// Writes `contents` to `path` atomically (convenience for small files).
void write_file_atomic(const std::string& path, std::string_view contents, const output_options& options = {});

}  // namespace neardup::io

// The outputs of one run as one unit (see neardup/io/output_run.hpp).
#include "neardup/io/output_run.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "io_internal.hpp"
#include "neardup/hash.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/output.hpp"

namespace neardup::io {

namespace {

constexpr std::array<std::string_view, 15> kOutputNames = {
    "clusters.tsv",    "deduped.jsonl", "deduped.jsonl.zst", "stats.json",      "pairs.tsv",
    "eval.json",       "contamination.tsv", "clean.jsonl",   "clean.jsonl.zst", "evidence.tsv",
    "near_misses.tsv", "sources.tsv",   "report.html",       "false_merges.tsv", completion_marker_name};

[[noreturn]] void fail(const std::string& dir, std::string_view what, int err = 0) {
  std::string msg = dir + ": " + std::string(what);
  if (err != 0) {
    msg += ": ";
    msg += std::strerror(err);
  }
  throw std::runtime_error(msg);
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.substr(0, prefix.size()) == prefix;
}

// A name this or an earlier run may have written: an output or a leftover
// temporary file of one ("NAME.tmp.PID.N").
bool is_stale_output(std::string_view name) noexcept {
  for (const std::string_view out : kOutputNames) {
    if (name == out) return true;
    if (starts_with(name, out) && starts_with(name.substr(out.size()), ".tmp.")) return true;
  }
  return false;
}

void sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

bool same_file(const struct stat& a, const struct stat& b) noexcept {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

struct file_digest {
  std::uint64_t bytes = 0;
  std::uint64_t xxh3 = 0;
};

file_digest digest_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot read back an output of this run", errno);
  hash64_stream state(0);
  std::unique_ptr<char[]> block(new char[std::size_t{1} << 20]);
  file_digest d;
  while (true) {
    const ssize_t r = ::read(fd, block.get(), std::size_t{1} << 20);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail(path, "cannot read back an output of this run", err);
    }
    state.update(block.get(), static_cast<std::size_t>(r));
    d.bytes += static_cast<std::uint64_t>(r);
  }
  ::close(fd);
  d.xxh3 = state.digest();
  return d;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::span<const std::string_view> stale_output_names() noexcept { return kOutputNames; }

output_run::output_run(std::string dir, std::string command) : dir_(std::move(dir)), command_(std::move(command)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) fail(dir_, "cannot create output directory: " + ec.message());
  // flock on the directory itself: nothing is left behind, and the lock goes
  // with the process however it ends.
  lock_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock_fd_ < 0) fail(dir_, "cannot open output directory", errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      fail(dir_, "another neardup run is writing this output directory; use another -o, or wait for it to end");
    }
    fail(dir_, "cannot lock the output directory", err);
  }
  if (::faccessat(AT_FDCWD, dir_.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    fail(dir_, "output directory is not writable", errno);
  }
  // The marker goes first, so that from now on nothing in OUTDIR looks finished.
  const std::string marker = dir_ + "/" + std::string(completion_marker_name);
  if (::unlink(marker.c_str()) != 0 && errno != ENOENT) fail(marker, "cannot remove the marker of an earlier run", errno);
  sync_dir(dir_);
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) fail(dir_, "cannot read output directory", errno);
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    if (is_stale_output(e->d_name)) stale.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const std::string& name : stale) {
    const std::string path = dir_ + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail(path, "cannot remove the output of an earlier run", errno);
  }
  first_commit_ = detail::commit_log_size();
}

output_run::~output_run() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void output_run::add_to_stats(std::string_view key, std::span<const std::string> values) {
  if (values.empty()) return;
  const std::string path = dir_ + "/stats.json";
  std::string json;
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, "cannot read it back", errno);
    char buf[1 << 16];
    ssize_t r;
    while ((r = ::read(fd, buf, sizeof buf)) > 0) json.append(buf, static_cast<std::size_t>(r));
    ::close(fd);
  }
  const auto close = json.rfind('}');
  if (close == std::string::npos) fail(path, "is not a JSON object");
  std::string add = ",\n  ";
  append_json_string(add, key);
  add += ": [";
  for (std::size_t i = 0; i < values.size(); ++i) {
    add += i == 0 ? "\n    " : ",\n    ";
    append_json_string(add, values[i]);
  }
  add += "\n  ]\n";
  // The object's last member ends before its closing brace (and newline).
  std::size_t end = close;
  while (end > 0 && (json[end - 1] == '\n' || json[end - 1] == ' ')) --end;
  json.replace(end, close - end, add);
  write_file_atomic(path, json);
}

void output_run::complete() {
  struct stat dir_st {};
  if (::stat(dir_.c_str(), &dir_st) != 0) fail(dir_, "cannot stat output directory", errno);
  // Each file's last commit in this run: its digest, made while it was
  // written, stands if the file is still the one committed (same inode and
  // size); otherwise the file is read back.
  std::vector<std::pair<std::string, detail::committed_file>> files;
  for (detail::committed_file& c : detail::commit_log_since(first_commit_)) {
    const std::filesystem::path p(c.path);
    struct stat parent {};
    const std::string parent_dir = p.has_parent_path() ? p.parent_path().string() : ".";
    if (::stat(parent_dir.c_str(), &parent) != 0 || !same_file(parent, dir_st)) continue;
    std::string name = p.filename().string();
    if (name == completion_marker_name) continue;
    const auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.first == name; });
    if (it == files.end()) {
      files.emplace_back(std::move(name), std::move(c));
    } else {
      it->second = std::move(c);
    }
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string json;
  json_writer w(json);
  w.begin_object();
  w.field("format", "neardup-run");
  w.field("version", 1);
  w.field("command", command_);
  w.key("files");
  w.begin_array();
  for (const auto& [name, committed] : files) {
    const std::string path = dir_ + "/" + name;
    struct stat st {};
    const bool unchanged = committed.has_digest && ::stat(path.c_str(), &st) == 0 && st.st_dev == committed.dev &&
                           st.st_ino == committed.ino && static_cast<std::uint64_t>(st.st_size) == committed.bytes;
    const file_digest d = unchanged ? file_digest{committed.bytes, committed.xxh3} : digest_of(path);
    w.begin_object();
    w.field("name", name);
    w.field("bytes", d.bytes);
    w.field("xxh3_64", hex64(d.xxh3));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  json += '\n';
  write_file_atomic(dir_ + "/" + std::string(completion_marker_name), json);
}

}  // namespace neardup::io

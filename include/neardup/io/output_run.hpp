// neardup/io/output_run.hpp — the outputs of one run as one unit.
//
// Each output file is written atomically (atomic_file), but a run writes
// several, and a consumer must not pair a new clusters.tsv with an old
// stats.json. An output_run makes the set one unit, as Hadoop and Spark jobs
// do with _SUCCESS:
//
//   1. Opening: creates OUTDIR, takes an exclusive lock on it (flock(2) on
//      the directory, released when the process ends however it ends; a
//      second run into the same OUTDIR fails at once), checks that it is
//      writable (before any input is read), removes OUTDIR/_SUCCESS, then
//      every output an earlier run may have left (stale_output_names(), and
//      their "NAME.tmp.*" leftovers).
//   2. The command writes its files with atomic_file.
//   3. complete(): writes OUTDIR/_SUCCESS last, atomically. It lists every
//      file committed into OUTDIR by this process since step 1, with its
//      size and XXH3-64 (read back from disk), as JSON:
//        {"format": "neardup-run", "version": 1, "command": "dedup",
//         "files": [{"name": "clusters.tsv", "bytes": 123,
//                    "xxh3_64": "0123456789abcdef"}, ...]}
//
// A consumer knows a run is complete when OUTDIR/_SUCCESS exists, and can
// check each file against it. Without _SUCCESS, whatever OUTDIR holds is
// not a finished run (a run that failed, was killed, or is still going).
//
//   neardup::io::output_run run("out", "dedup");
//   neardup::io::write_file_atomic("out/stats.json", "{}\n");
//   run.complete();  // out/_SUCCESS now lists stats.json
//
// Not promised: removal of files that are not neardup outputs; OUTDIR may
// hold other files, which _SUCCESS does not list.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace neardup::io {

// The name of the completion marker in OUTDIR.
inline constexpr std::string_view completion_marker_name = "_SUCCESS";

// Names of the files any neardup command writes into OUTDIR; an output_run
// removes them (and their temporary leftovers) before the run starts.
std::span<const std::string_view> stale_output_names() noexcept;

class output_run {
 public:
  // Steps 1 above. Throws std::runtime_error naming OUTDIR if it cannot be
  // created or written, or if another run holds its lock.
  output_run(std::string dir, std::string command);
  // Releases the lock. Never throws.
  ~output_run();
  output_run(const output_run&) = delete;
  output_run& operator=(const output_run&) = delete;

  // Adds `values` as a JSON array of strings under `key` to OUTDIR/stats.json
  // (rewritten atomically) before the marker; for facts the command could not
  // know, such as files skipped as unreadable. Does nothing if values is empty.
  // REQUIRES: before complete(); the command wrote stats.json.
  void add_to_stats(std::string_view key, std::span<const std::string> values);

  // Writes OUTDIR/_SUCCESS listing the files committed since construction.
  // Throws std::runtime_error if a listed file cannot be read back.
  void complete();

  const std::string& dir() const noexcept { return dir_; }

 private:
  std::string dir_;
  std::string command_;
  int lock_fd_ = -1;
  std::size_t first_commit_ = 0;  // position in the process's commit log
};

}  // namespace neardup::io

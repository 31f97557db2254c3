// neardup/io/progress.hpp — progress reporting for long passes over a corpus.
//
// On a terminal, a live status line on stderr (stage, documents, MB/s, ETA),
// redrawn a few times a second; otherwise (a pipe, a log file) one plain line
// every `log_interval`. Disabled, it prints nothing and costs two relaxed
// atomic adds per chunk.
//
//   neardup::io::progress_meter meter({.enabled = !quiet});
//   meter.begin_stage("sign", total_input_bytes);
//   ... meter.add(bytes, docs) from any thread ...
//   meter.end_stage();
//
// A binding can take the lines instead of stderr: while a
// redirect_progress_lines lives on a thread, every progress_meter constructed
// on that thread hands its lines (one per second while a stage runs, each
// stage's summary, notices) to the handler, from the meter's own thread.
//
//   neardup::io::redirect_progress_lines to_callback([](std::string_view line) { ... });
//   neardup::jobs::run_dedup(sources, out, options);   // its meter reports to the lambda
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "neardup/pipeline/sink.hpp"

namespace neardup::io {

struct progress_options {
  bool enabled = true;
  // Put before every message() line, e.g. "neardup: " (the program's name).
  std::string prefix{};
  // Live line when stderr is a terminal; periodic lines otherwise.
  std::chrono::milliseconds redraw_interval{250};
  std::chrono::seconds log_interval{10};
};

// Receives whole progress lines (no newline, no terminal control).
using line_handler = std::function<void(std::string_view line)>;

// Sends the lines of the progress_meters constructed on this thread to
// `handler` until destroyed (then the previous handler, if any, is back).
class redirect_progress_lines {
 public:
  explicit redirect_progress_lines(line_handler handler);
  ~redirect_progress_lines();
  redirect_progress_lines(const redirect_progress_lines&) = delete;
  redirect_progress_lines& operator=(const redirect_progress_lines&) = delete;

 private:
  line_handler previous_;
};

// The display of a run on stderr: a pipeline::sink the jobs report to.
class progress_meter final : public pipeline::sink {
 public:
  explicit progress_meter(const progress_options& options = {});
  ~progress_meter();
  progress_meter(const progress_meter&) = delete;
  progress_meter& operator=(const progress_meter&) = delete;

  // Starts a stage over `total_bytes` of input (0 if unknown: no ETA).
  void begin_stage(std::string name, std::uint64_t total_bytes) override;
  // Ends the current stage and prints its summary line (when enabled).
  void end_stage() override;
  // Thread-safe.
  void add(std::uint64_t bytes, std::uint64_t docs) noexcept override {
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    docs_.fetch_add(docs, std::memory_order_relaxed);
  }
  // Prints a line of its own (a warning), keeping the live line intact.
  void message(const std::string& line) override;

 private:
  void run();
  std::string status_line(bool final_line);
  void emit(const std::string& line);  // to the line handler, or stderr as a line of its own

  progress_options options_;
  line_handler lines_;  // the thread's handler at construction, if any
  bool tty_ = false;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> docs_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool active_ = false;
  std::string stage_;
  std::uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_log_;
  std::thread thread_;
};

}  // namespace neardup::io

#include "neardup/io/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace neardup::io {

namespace {
thread_local line_handler current_handler;
constexpr std::chrono::seconds handler_interval{1};
}  // namespace

redirect_progress_lines::redirect_progress_lines(line_handler handler) : previous_(std::move(current_handler)) {
  current_handler = std::move(handler);
}
redirect_progress_lines::~redirect_progress_lines() { current_handler = std::move(previous_); }

progress_meter::progress_meter(const progress_options& options) : options_(options), lines_(current_handler) {
  tty_ = !lines_ && ::isatty(STDERR_FILENO) != 0;
  if (lines_) options_.log_interval = handler_interval;
  if (options_.enabled) thread_ = std::thread([this] { run(); });
}

progress_meter::~progress_meter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void progress_meter::begin_stage(std::string name, std::uint64_t total_bytes) {
  std::lock_guard lock(mutex_);
  stage_ = std::move(name);
  total_ = total_bytes;
  bytes_.store(0, std::memory_order_relaxed);
  docs_.store(0, std::memory_order_relaxed);
  start_ = last_log_ = std::chrono::steady_clock::now();
  active_ = true;
}

void progress_meter::end_stage() {
  std::lock_guard lock(mutex_);
  if (!active_) return;
  active_ = false;
  if (!options_.enabled) return;
  const std::string line = status_line(true);
  if (tty_) std::fputs("\r\033[K", stderr);
  emit(line);
}

void progress_meter::message(const std::string& line) {
  std::lock_guard lock(mutex_);
  if (tty_ && options_.enabled) std::fputs("\r\033[K", stderr);
  emit(options_.prefix + line);
}

void progress_meter::emit(const std::string& line) {
  if (lines_) {
    lines_(line);
    return;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string progress_meter::status_line(bool final_line) {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double mb = static_cast<double>(bytes_.load(std::memory_order_relaxed)) / 1e6;
  const std::uint64_t docs = docs_.load(std::memory_order_relaxed);
  const double rate = secs > 0 ? mb / secs : 0.0;
  char buf[256];
  if (final_line) {
    std::snprintf(buf, sizeof buf, "[%s] done: %llu docs, %.1f MB in %.2fs (%.1f MB/s)", stage_.c_str(),
                  static_cast<unsigned long long>(docs), mb, secs, rate);
  } else {
    char eta[48] = "";
    if (total_ > 0 && rate > 0) {
      const double left = (static_cast<double>(total_) / 1e6 - mb) / rate;
      if (left >= 0) std::snprintf(eta, sizeof eta, ", ETA %.0fs", left);
    }
    const double pct = total_ > 0 ? 100.0 * mb * 1e6 / static_cast<double>(total_) : 0.0;
    std::snprintf(buf, sizeof buf, "[%s] %llu docs, %.1f MB (%.0f%%), %.1f MB/s%s", stage_.c_str(),
                  static_cast<unsigned long long>(docs), mb, pct, rate, eta);
  }
  return buf;
}

void progress_meter::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, options_.redraw_interval);
    if (stop_ || !active_) continue;
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", status_line(false).c_str());
      std::fflush(stderr);
    } else if (now - last_log_ >= options_.log_interval) {
      last_log_ = now;
      emit(status_line(false));
    }
  }
}

}  // namespace neardup::io

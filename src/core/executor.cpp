#include "neardup/executor.hpp"

#include <utility>

namespace neardup {

namespace {
thread_local const executor* current_pool = nullptr;
}  // namespace

std::size_t resolve_threads(std::size_t requested) noexcept {
  if (requested != 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

struct executor::group::state {
  std::function<void(std::size_t)> fn;
  std::mutex mutex;
  std::condition_variable done_cv;
  std::size_t remaining = 0;
  std::exception_ptr error;

  void call(std::size_t i) {
    try {
      fn(i);
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!error) error = std::current_exception();
    }
    std::lock_guard lock(mutex);
    if (--remaining == 0) done_cv.notify_all();
  }
};

executor::group& executor::group::operator=(group&& other) noexcept {
  if (this != &other) {
    if (state_) {
      std::unique_lock lock(state_->mutex);
      state_->done_cv.wait(lock, [&] { return state_->remaining == 0; });
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

executor::group::~group() {
  if (!state_) return;
  std::unique_lock lock(state_->mutex);
  state_->done_cv.wait(lock, [&] { return state_->remaining == 0; });
}

void executor::group::wait() {
  if (!state_) return;
  std::exception_ptr error;
  {
    std::unique_lock lock(state_->mutex);
    state_->done_cv.wait(lock, [&] { return state_->remaining == 0; });
    error = std::exchange(state_->error, nullptr);
  }
  state_.reset();
  if (error) std::rethrow_exception(error);
}

executor::executor(std::size_t threads) {
  const std::size_t n = resolve_threads(threads);
  workers_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this] { worker_loop(); });
}

executor::~executor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

bool executor::on_worker_thread() const noexcept { return current_pool == this; }

void executor::worker_loop() {
  current_pool = this;
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    j.state->call(j.index);
  }
}

executor::group executor::start(std::size_t n, std::function<void(std::size_t)> fn) {
  group g;
  g.state_ = std::make_shared<group::state>();
  g.state_->fn = std::move(fn);
  g.state_->remaining = n;
  if (n == 0) return g;
  if (on_worker_thread()) {  // nested: waiting for our own pool could deadlock
    for (std::size_t i = 0; i < n; ++i) g.state_->call(i);
    return g;
  }
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < n; ++i) queue_.push_back({g.state_, i});
  }
  cv_.notify_all();
  return g;
}

void executor::run(std::size_t n, const std::function<void(std::size_t)>& fn) {
  group g = start(n, fn);
  g.wait();
}

void run_on(executor* pool, std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (pool != nullptr && n > 1) {
    pool->run(n, fn);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) fn(i);
}

}  // namespace neardup

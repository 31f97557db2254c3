// neardup/executor.hpp — the one thread pool of the library.
//
// Nothing in neardup creates threads on its own: the stages that can use
// several cores (clustering, band grouping, the exact join, the pipeline and
// job passes) take an executor from the caller, and run on the calling thread
// alone when they get none. A program makes one executor and hands it to
// everything, so a run never holds more worker threads than asked for.
//
//   neardup::executor pool(4);                 // 4 worker threads; 0 = one per core
//   std::vector<int> out(1000);
//   pool.run(out.size(), [&](std::size_t i) { out[i] = f(i); });   // blocks until done
//
//   auto running = pool.start(2, [&](std::size_t w) { consume(w); });  // long-running tasks
//   produce();                                  // meanwhile, on the calling thread
//   running.wait();                             // joins; rethrows the first exception
//
// Guarantees: run() and start() call fn(i) exactly once for every i, on the
// pool's threads (at most threads() at once); the first exception thrown by
// a call is rethrown by run()/wait() after every call has returned (calls not
// yet begun are still made; fn decides whether to stop early). A call made
// from one of the pool's own threads (nesting) runs every fn(i) inline on that
// thread instead of waiting for itself. Results never depend on the number of
// threads: the library's stages are written so (see each stage's header).
// Not promised: which thread runs which i, or in which order.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace neardup {

// The one thread-count rule: `requested` threads, or one per core (at least
// one) when `requested` is 0.
std::size_t resolve_threads(std::size_t requested) noexcept;

class executor {
 public:
  // Starts resolve_threads(threads) worker threads.
  explicit executor(std::size_t threads = 0);
  ~executor();
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  std::size_t threads() const noexcept { return workers_.size(); }

  // Tasks started by start(); wait() returns when every fn(i) has returned.
  class group {
   public:
    group() = default;
    group(group&&) noexcept = default;
    group& operator=(group&&) noexcept;
    ~group();  // waits (errors are dropped: call wait() to see them)
    // Blocks until every task returned; rethrows the first exception.
    void wait();

   private:
    friend class executor;
    struct state;
    std::shared_ptr<state> state_;
  };

  // Queues fn(0), ..., fn(n - 1) and returns at once. `fn` must outlive the
  // group's wait().
  [[nodiscard]] group start(std::size_t n, std::function<void(std::size_t)> fn);

  // start() + wait().
  void run(std::size_t n, const std::function<void(std::size_t)>& fn);

  // True on one of this executor's worker threads.
  bool on_worker_thread() const noexcept;

 private:
  void worker_loop();

  struct job {
    std::shared_ptr<group::state> state;
    std::size_t index;
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<job> queue_;  // pending calls, first queued first run
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// Runs fn(0..n-1) on `pool`, or inline on the calling thread when `pool` is
// null: what a stage does with the executor its caller may or may not give.
void run_on(executor* pool, std::size_t n, const std::function<void(std::size_t)>& fn);

}  // namespace neardup

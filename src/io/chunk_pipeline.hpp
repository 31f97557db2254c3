// Internal: runs one pass over a corpus with parallel workers and in-order
// consumption. The calling thread reads chunks (corpus_reader is
// sequential); tasks on the executor's threads turn each chunk into a Result; the Results are consumed strictly in
// chunk order, so everything downstream is independent of the thread count.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "neardup/executor.hpp"
#include "neardup/io/input.hpp"

namespace neardup::io::detail {

// make_worker() is called once on each worker thread and returns that
// thread's work function, which owns its per-thread state (parser, scratch):
// work(const input_chunk&, std::size_t seq, Result&). consume(std::size_t seq,
// const input_chunk&, Result&) runs in chunk order, one call at a time.
// Exceptions from the reader, a worker or the consumer stop the pass and are
// rethrown here (the first one wins).
template <class Result, class MakeWorker, class Consume>
void for_each_chunk_ordered(std::span<const source_info> sources, const reader_options& reader_opts,
                            executor* pool, MakeWorker&& make_worker, Consume&& consume) {
  corpus_reader reader(sources, reader_opts);
  const std::size_t threads = pool != nullptr ? pool->threads() : 1;
  if (threads <= 1) {
    auto work = make_worker();
    input_chunk chunk;
    Result result{};
    for (std::size_t seq = 0; reader.next(chunk); ++seq) {
      work(static_cast<const input_chunk&>(chunk), seq, result);
      consume(seq, static_cast<const input_chunk&>(chunk), result);
    }
    return;
  }

  struct slot {
    input_chunk chunk;
    Result result{};
    std::size_t seq = 0;
  };
  const std::size_t max_in_flight = threads * 2;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<slot*> todo;               // read, waiting for a worker
  std::map<std::size_t, slot*> done;    // worked, waiting for their turn
  std::vector<slot*> free_slots;
  std::vector<std::unique_ptr<slot>> storage;
  for (std::size_t i = 0; i < max_in_flight; ++i) {
    storage.push_back(std::make_unique<slot>());
    free_slots.push_back(storage.back().get());
  }
  bool reading_done = false;
  bool failed = false;
  std::exception_ptr error;
  std::size_t next_to_consume = 0;
  bool consuming = false;

  auto fail = [&](std::exception_ptr e) {
    std::lock_guard lock(mutex);
    if (!failed) {
      failed = true;
      error = e;
    }
    cv.notify_all();
  };

  auto worker = [&] {
    std::optional<decltype(make_worker())> work;
    try {
      work.emplace(make_worker());
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    for (;;) {
      slot* s = nullptr;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return failed || !todo.empty() || reading_done; });
        if (failed) return;
        if (todo.empty()) return;  // reading_done
        s = todo.front();
        todo.pop_front();
      }
      try {
        (*work)(static_cast<const input_chunk&>(s->chunk), s->seq, s->result);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      std::unique_lock lock(mutex);
      done.emplace(s->seq, s);
      // Whoever finds the next chunk ready consumes it; one consumer at a time.
      while (!consuming && !failed) {
        auto it = done.find(next_to_consume);
        if (it == done.end()) break;
        slot* ready = it->second;
        done.erase(it);
        consuming = true;
        lock.unlock();
        try {
          consume(ready->seq, static_cast<const input_chunk&>(ready->chunk), ready->result);
        } catch (...) {
          lock.lock();
          consuming = false;
          lock.unlock();
          fail(std::current_exception());
          return;
        }
        lock.lock();
        consuming = false;
        ++next_to_consume;
        free_slots.push_back(ready);
        cv.notify_all();
      }
    }
  };

  executor::group workers = pool->start(threads, [&](std::size_t) { worker(); });

  try {
    for (std::size_t seq = 0;; ++seq) {
      slot* s = nullptr;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return failed || !free_slots.empty(); });
        if (failed) break;
        s = free_slots.back();
        free_slots.pop_back();
      }
      if (!reader.next(s->chunk)) {
        std::lock_guard lock(mutex);
        free_slots.push_back(s);
        break;
      }
      s->seq = seq;
      std::lock_guard lock(mutex);
      todo.push_back(s);
      cv.notify_all();
    }
  } catch (...) {
    fail(std::current_exception());
  }
  {
    std::lock_guard lock(mutex);
    reading_done = true;
  }
  cv.notify_all();
  workers.wait();  // the workers catch their own exceptions (fail())
  if (error) std::rethrow_exception(error);
  // Consume anything still waiting (all workers have exited; nothing failed).
  while (!done.empty()) {
    auto it = done.find(next_to_consume);
    if (it == done.end()) break;
    consume(it->second->seq, static_cast<const input_chunk&>(it->second->chunk), it->second->result);
    done.erase(it);
    ++next_to_consume;
  }
}

}  // namespace neardup::io::detail

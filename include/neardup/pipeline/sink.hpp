// neardup/pipeline/sink.hpp — where stages report progress and notices.
//
// Stages never print. They tell a sink that the caller passes in (or none):
// the CLI's progress display (io/progress.hpp) is one, a Python callback is
// another. All methods default to doing nothing.
//
//   struct counter final : neardup::pipeline::sink {
//     std::atomic<std::uint64_t> docs{0};
//     void add(std::uint64_t, std::uint64_t d) noexcept override { docs += d; }
//   };
#pragma once

#include <cstdint>
#include <string>

namespace neardup::pipeline {

class sink {
 public:
  virtual ~sink() = default;
  // A stage begins; `total` is the amount of work add() will count up to
  // (bytes of input, or 0 when unknown).
  virtual void begin_stage(std::string /*name*/, std::uint64_t /*total*/) {}
  virtual void end_stage() {}
  // Work done: `units` toward the stage's total, `documents` processed.
  // Called from any thread.
  virtual void add(std::uint64_t /*units*/, std::uint64_t /*documents*/) noexcept {}
  // A notice about the run (a warning, a bad record), one line without a
  // trailing newline and without a program-name prefix.
  virtual void message(const std::string& /*line*/) {}
};

}  // namespace neardup::pipeline

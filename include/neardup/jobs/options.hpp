// neardup/jobs/options.hpp — the settings every file job shares, once.
//
// Each job's options derive from job_options (how records are read, how many
// threads, progress and error reporting, output compression) and from the
// pipeline options of its algorithm (pipeline/options.hpp), so a setting has
// one name and one meaning in every job, on the command line and in Python.
#pragma once

#include <cstddef>
#include <cstdint>

#include "neardup/io/input.hpp"
#include "neardup/io/output.hpp"
#include "neardup/pipeline/sink.hpp"

namespace neardup::jobs {

struct job_options {
  io::record_options records;        // --text-field, --id-field
  io::reader_options reader;
  std::size_t threads = 0;           // --threads; 0 = one per core; never changes the output
  // --compress: how the job's document output (deduped.jsonl) is written.
  // Jobs without a document output (pairs, eval) reject anything but none.
  io::output_compression compression = io::output_compression::none;
  bool progress = true;              // live progress on stderr (--quiet: false)
  std::size_t max_reported_errors = 20;  // file:line messages per kind of problem (--quiet: 0)
  // Where progress and notices go. Null: a progress display on stderr
  // (io/progress.hpp) when `progress` is set; notices are then printed up
  // to max_reported_errors per kind.
  pipeline::sink* events = nullptr;
};

}  // namespace neardup::jobs

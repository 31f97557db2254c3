// neardup/jobs/options.hpp — the settings every file job shares, once.
//
// Each job's options derive from job_options (how records are read, how many
// threads, progress and error reporting, output compression) and from the
// pipeline options of its algorithm (pipeline/options.hpp), so a setting has
// one name and one meaning in every job, on the command line and in Python.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

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
  std::size_t max_reported_errors = 20;  // file:line notices per kind of problem (--quiet: 0)
  // Where progress and notices go (the CLI passes its display,
  // io::progress_meter; Python a callback). Null: nowhere, unless
  // `progress` asks for an io::progress_meter on stderr. The library itself
  // never writes to stderr.
  pipeline::sink* events = nullptr;
  bool progress = false;
  // --memory-mb: the memory the job plans to stay within. nullopt:
  // io::default_memory_budget_bytes() (half of RAM or of the cgroup limit).
  // `dedup`, `exact` and `pairs` (jobs/dedup.hpp, jobs/pairs.hpp) spill
  // their document table, signatures and band keys to `tmp_dir` when the
  // in-memory run would not fit; `decontaminate` (jobs/decontaminate.hpp)
  // reads its corpus in smaller chunks and refuses a reference index past
  // its share of the budget.
  std::optional<std::uint64_t> memory_bytes;
  // --tmp-dir: where spilled runs go; empty: OUTDIR. The files are unnamed
  // (O_TMPFILE or unlinked at once): nothing is left behind, however the
  // process ends.
  std::string tmp_dir;
};

}  // namespace neardup::jobs

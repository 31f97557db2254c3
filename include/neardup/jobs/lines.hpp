// neardup/jobs/lines.hpp — remove boilerplate lines repeated across a corpus.
//
// Every line whose normalized hash (lines.hpp: trimmed, inner whitespace
// collapsed, ASCII lowercased) occurs more than max_repeats times in the
// corpus is removed from every document; this is how Llama 3 strips
// navigation, cookie banners and licence headers. Blank lines are never
// counted or removed. A document that this leaves with only blank lines is
// dropped; one that was blank already is kept.
//
//   neardup::jobs::line_dedup_options o;  o.max_repeats = 6;
//   auto r = neardup::jobs::run_line_dedup(sources, "out", o);
//
// Outputs: OUTDIR/deduped.jsonl (JSONL input: each line with only its text
// field replaced, every other byte kept; unchanged documents byte for byte;
// text files as {"id","text"}), OUTDIR/stats.json (counts and the most
// repeated lines removed, with their counts and a sample).
//
// Memory: counts are exact and hash-partitioned: with P partitions the corpus
// is read P+1 times and one partition's counts are held at a time
// (line_counter::bytes_per_distinct_line per distinct line). P is chosen from
// memory_budget_bytes and the input size.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "neardup/io/input.hpp"
#include "neardup/io/output.hpp"
#include "neardup/jobs/options.hpp"
#include "neardup/lines.hpp"

namespace neardup::jobs {

struct line_dedup_options : job_options {
  std::uint32_t max_repeats = 6;  // remove lines seen more than this many times
  std::uint64_t seed = default_seed;
  std::uint64_t memory_budget_bytes = std::uint64_t{8} << 30;
  std::size_t partitions = 0;     // 0 = chosen from the budget
  std::size_t top_lines = 50;     // most repeated lines listed in stats.json
};

struct line_dedup_report {
  std::uint64_t documents = 0;       // non-blank records
  std::uint64_t skipped = 0;         // bad records, kept unchanged
  std::uint64_t modified = 0;        // documents that lost lines
  std::uint64_t dropped = 0;         // documents left with no non-blank line
  std::uint64_t not_rewritten = 0;   // would lose lines, but the line was repaired before parsing: kept
  std::uint64_t lines = 0;           // non-blank lines read
  std::uint64_t lines_removed = 0;
  std::uint64_t distinct_lines = 0;
  std::uint64_t repeated_distinct = 0;  // distinct lines over max_repeats
  std::size_t partitions = 1;
  std::vector<repeated_line> top;     // most repeated lines removed
  double seconds = 0;
};

line_dedup_report run_line_dedup(std::span<const io::source_info> sources, const std::string& out_dir,
                                 const line_dedup_options& options);

}  // namespace neardup::jobs

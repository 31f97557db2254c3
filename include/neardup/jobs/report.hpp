// neardup/jobs/report.hpp — one self-contained HTML page that shows a dedup run.
//
// write_report() reads the output directory of `neardup dedup` (or `exact`):
// stats.json, evidence.tsv, near_misses.tsv, sources.tsv, and eval.json and
// false_merges.tsv when `neardup eval` wrote them; it re-reads the input
// documents it shows (the paths listed in sources.tsv: absolute, as the dedup
// job writes them; a relative one, from an older run, is taken from the
// current directory). It writes a single HTML file: no script, no network, no
// external font or style; the charts are inline SVG with axes and labels:
//   - the run at a glance (documents read, kept, removed exact / near, bad
//     records by reason, bytes saved, parameters, seconds per stage);
//   - the S-curve of the run's (bands, rows) with the threshold and the
//     expected miss rate of a pair at the threshold;
//   - the similarity of verified links and of the sampled rejected pairs
//     around the threshold;
//   - the cluster-size histogram (log scale);
//   - the largest clusters and the removals closest to the threshold, each
//     removed text beside the text it was verified against, differing words
//     highlighted, with ids and similarity; the near misses just under the
//     threshold;
//   - removals by source file; precision, recall and false merges (eval).
// Its size is bounded whatever the corpus size: it shows samples and says so.
// Every text from the corpus or the run (ids, file names, texts) is
// HTML-escaped, so a document full of <script> shows as text.
//
//   neardup::jobs::report_summary s = neardup::jobs::write_report("out", "out/report.html");
//   // s.bytes: size of the page; s.texts_missing: documents whose text could not be read
//
// Throws std::runtime_error naming the file when stats.json or a TSV file is
// missing or malformed; a missing input file only leaves its texts out (the
// page says so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace neardup::jobs {

struct report_options {
  std::size_t largest_clusters = 5;      // clusters shown with their members
  std::size_t members_shown = 3;         // removed members shown per large cluster
  std::size_t near_threshold_shown = 8;  // removals with the lowest similarity
  std::size_t near_misses_shown = 4;     // rejected pairs with the highest similarity
  std::size_t false_merges_shown = 4;    // eval: rows of false_merges.tsv shown with their texts
  std::size_t sources_shown = 20;        // rows of the removal-by-source table and chart
  bool read_texts = true;                // false: show no texts (the inputs are not opened)
  std::size_t max_words_shown = 400;     // words of a text shown (the rest is cut, and marked); beyond
                                         // ~2000, words are marked by presence in the other text instead
                                         // of by the longest common word sequence
};

struct report_summary {
  std::uint64_t bytes = 0;             // size of the page
  std::size_t documents_shown = 0;     // texts on the page
  std::size_t texts_missing = 0;       // texts that could not be read again
};

// Builds the page from `run_dir` and returns it.
std::string render_report(const std::string& run_dir, const report_options& options = {},
                          report_summary* summary = nullptr);

// render_report(), written atomically to `html_path`.
report_summary write_report(const std::string& run_dir, const std::string& html_path,
                            const report_options& options = {});

}  // namespace neardup::jobs

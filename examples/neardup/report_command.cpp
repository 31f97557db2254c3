// neardup report: one self-contained HTML page showing a dedup run.
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "neardup/jobs/report.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup report OUTDIR [-o report.html] [options]

Reads the output directory of 'neardup dedup', 'exact' or 'eval' (stats.json,
evidence.tsv, near_misses.tsv, sources.tsv, and eval.json and
false_merges.tsv when present) and
writes one self-contained HTML page: no script, no network, no external font;
inline SVG charts. It re-reads the input documents it shows (the paths in
sources.tsv). Its size stays bounded: it shows samples and says so.
)";

struct report_cli {
  neardup::jobs::report_options options;
  std::string out;
  bool quiet = false;
};

// Every option of `neardup report`.
option_table report_table(report_cli& s, std::string intro) {
  option_table t("report", std::move(intro));
  neardup::jobs::report_options& o = s.options;
  option run_dir;
  run_dir.positional = true;
  run_dir.value_name = "OUTDIR";
  run_dir.help = "the output directory of a dedup run";
  t.add(std::move(run_dir));
  option out = text("output", "FILE", s.out, "the page to write");
  out.short_name = 'o';
  out.default_text = "OUTDIR/report.html";
  t.add(std::move(out));
  t.add(integer("clusters", "N", o.largest_clusters, 0, 1000, "largest clusters shown"));
  t.add(integer("near-threshold", "N", o.near_threshold_shown, 0, 1000, "removals closest to the threshold shown"));
  t.add(integer("near-misses", "N", o.near_misses_shown, 0, 1000, "rejected pairs just under the threshold shown"));
  t.add(integer("false-merges", "N", o.false_merges_shown, 0, 1000, "eval: falsely merged documents shown"));
  t.add(integer("words", "N", o.max_words_shown, 1, 20000, "words shown of each text"));
  t.add(flag("quiet", "no summary line on stderr", [&s] { s.quiet = true; }));
  return t;
}

}  // namespace

std::vector<std::string> report_option_names() {
  report_cli s;
  return names_of(report_table(s, ""));
}

int run_report(int argc, char** argv) {
  report_cli s;
  const option_table t = report_table(s, kHelp);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  if (p.positional.size() != 1) throw usage_error("expected one OUTDIR (the output directory of a dedup run)");
  const std::string dir = p.positional[0];
  if (s.out.empty()) s.out = dir + "/report.html";
  const auto t0 = std::chrono::steady_clock::now();
  const neardup::jobs::report_summary r = neardup::jobs::write_report(dir, s.out, s.options);
  if (!s.quiet) {
    std::fprintf(stderr, "neardup report: %llu bytes, %zu texts shown%s; %.2fs -> %s\n",
                 static_cast<unsigned long long>(r.bytes), r.documents_shown,
                 r.texts_missing ? " (some texts could not be read again: see the page)" : "",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), s.out.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

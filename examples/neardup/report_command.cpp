// neardup report: one self-contained HTML page showing a dedup run.
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "neardup/jobs/report.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup report OUTDIR [-o report.html] [options]

Reads the output directory of 'neardup dedup' or 'neardup exact' (stats.json,
evidence.tsv, near_misses.tsv, sources.tsv, and eval.json when present) and
writes one self-contained HTML page: no script, no network, no external font;
inline SVG charts. It re-reads the input documents it shows (the paths in
sources.tsv). Its size stays bounded: it shows samples and says so.

  -o FILE                the page to write [OUTDIR/report.html]
  --clusters N           largest clusters shown [5]
  --near-threshold N     removals closest to the threshold shown [8]
  --near-misses N        rejected pairs just under the threshold shown [4]
  --words N              words shown of each text [400]
  --quiet                no summary line on stderr
)";

}  // namespace

int run_report(int argc, char** argv) {
  const args a(argc, argv, 2, {"output", "clusters", "near-threshold", "near-misses", "words"}, {"help", "quiet"});
  if (a.flag("help")) {
    std::printf("%s", kHelp);
    return 0;
  }
  if (a.positional().size() != 1) throw usage_error("expected one OUTDIR (the output directory of a dedup run)");
  const std::string dir = a.positional()[0];
  const std::string out = a.get_string("output", dir + "/report.html");
  neardup::jobs::report_options o;
  o.largest_clusters = a.get_uint("clusters", o.largest_clusters, 0, 1000);
  o.near_threshold_shown = a.get_uint("near-threshold", o.near_threshold_shown, 0, 1000);
  o.near_misses_shown = a.get_uint("near-misses", o.near_misses_shown, 0, 1000);
  o.max_words_shown = a.get_uint("words", o.max_words_shown, 1, 20000);
  const auto t0 = std::chrono::steady_clock::now();
  const neardup::jobs::report_summary s = neardup::jobs::write_report(dir, out, o);
  if (!a.flag("quiet")) {
    std::fprintf(stderr, "neardup report: %llu bytes, %zu texts shown%s; %.2fs -> %s\n",
                 static_cast<unsigned long long>(s.bytes), s.documents_shown,
                 s.texts_missing ? " (some texts could not be read again: see the page)" : "",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), out.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

// neardup lines: boilerplate line removal.
#include <cstdio>

#include "commands.hpp"
#include "neardup/jobs/lines.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup lines INPUT... -o OUTDIR [--max-repeats N] [options]

Removes every line that occurs more than N times in the corpus (after trimming,
collapsing inner whitespace and lowercasing ASCII) from every document:
navigation, cookie banners, licence headers. Blank lines are kept. Documents
left with no non-blank line are dropped.

outputs in OUTDIR:
  deduped.jsonl   JSONL input: each line with only its text field replaced (other
                  fields byte for byte); text files as {"id": ..., "text": ...}
  stats.json      counts and the most repeated lines removed, with their counts

  --max-repeats N        remove lines seen more than N times [6]
  --memory-mb M          memory for line counts; more partitions (passes) when
                         the corpus needs more [8192]
  --compress none|zstd   write deduped.jsonl.zst [none]
)";

}  // namespace

int run_lines(int argc, char** argv) {
  auto value_opts = common_value_options();
  for (const char* o : {"max-repeats", "memory-mb", "compress"}) value_opts.emplace_back(o);
  const args a(argc, argv, 2, value_opts, common_flag_options());
  if (a.flag("help")) {
    std::printf("%s\n%s", kHelp, kCommonOptionsHelp);
    return 0;
  }
  const common_settings common = read_common(a, true);
  neardup::jobs::line_dedup_options o;
  o.records = common.records;
  o.seed = common.seed;
  o.threads = common.threads;
  o.progress = !common.quiet;
  o.events = common.display.get();
  o.max_reported_errors = common.quiet ? 0 : 20;
  o.max_repeats = static_cast<std::uint32_t>(a.get_uint("max-repeats", 6, 1, UINT32_MAX - 1));
  o.memory_budget_bytes = a.get_uint("memory-mb", 8192, 16, std::uint64_t{1} << 30) << 20;
  o.compression = a.get_choice("compress", "none", {"none", "zstd"}) == "zstd"
                      ? neardup::io::output_compression::zstd
                      : neardup::io::output_compression::none;
  const auto r = neardup::jobs::run_line_dedup(common.sources.sources, common.out_dir, o);
  if (!common.quiet) {
    std::fprintf(stderr,
                 "neardup lines: %llu documents, %llu modified, %llu dropped (left empty), %llu skipped; "
                 "removed %llu of %llu lines (%llu distinct lines over %u repeats); %.2fs -> %s/\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.modified),
                 static_cast<unsigned long long>(r.dropped), static_cast<unsigned long long>(r.skipped),
                 static_cast<unsigned long long>(r.lines_removed), static_cast<unsigned long long>(r.lines),
                 static_cast<unsigned long long>(r.repeated_distinct), o.max_repeats, r.seconds,
                 common.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

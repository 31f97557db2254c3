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
)";

struct lines_cli {
  neardup::jobs::line_dedup_options options;
  job_cli job;
};

// Every option of `neardup lines`.
option_table lines_table(lines_cli& s, std::string intro) {
  option_table t("lines", std::move(intro));
  neardup::jobs::line_dedup_options& o = s.options;
  t.add(integer("max-repeats", "N", o.max_repeats, 1, UINT32_MAX - 1, "remove lines seen more than N times"));
  t.add(integer("memory-mb", "M", o.memory_budget_bytes, 16, std::uint64_t{1} << 30,
                "memory for line counts; more partitions (passes) when\nthe corpus needs more", std::uint64_t{1} << 20));
  shared_bindings b = job_bindings(o);
  b.compression = &o.compression;
  add_shared_options(t, s.job, b, output_dir::required);
  return t;
}

}  // namespace

std::vector<std::string> lines_option_names() {
  lines_cli s;
  return names_of(lines_table(s, ""));
}

int run_lines(int argc, char** argv) {
  lines_cli s;
  const option_table t = lines_table(s, kHelp);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  finish_job(s.job, p, output_dir::required);
  s.options.events = s.job.display.get();
  const neardup::jobs::line_dedup_options& o = s.options;
  const auto r = neardup::jobs::run_line_dedup(s.job.sources.sources, s.job.out_dir, o);
  if (!s.job.quiet) {    std::fprintf(stderr,
                 "neardup lines: %llu documents, %llu modified, %llu dropped (left empty), %llu skipped; "
                 "removed %llu of %llu lines (%llu distinct lines over %u repeats); %.2fs -> %s/\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.modified),
                 static_cast<unsigned long long>(r.dropped), static_cast<unsigned long long>(r.skipped),
                 static_cast<unsigned long long>(r.lines_removed), static_cast<unsigned long long>(r.lines),
                 static_cast<unsigned long long>(r.repeated_distinct), o.max_repeats, r.seconds,
                 s.job.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

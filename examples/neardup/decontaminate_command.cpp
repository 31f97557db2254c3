// neardup decontaminate: remove documents that share n-grams with benchmarks.
#include <cstdio>

#include "commands.hpp"
#include "neardup/jobs/decontaminate.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup decontaminate INPUT... --reference BENCH... -o OUTDIR [options]

Finds corpus documents that share word n-grams with reference (benchmark)
documents and removes those that share more than --max-shared of them.
A reference shorter than n tokens is matched as a whole, anywhere in a document.

outputs in OUTDIR:
  contamination.tsv  id<TAB>shared_ngram_count<TAB>reference ids (comma-separated),
                     one line per document sharing at least one n-gram
  clean.jsonl        the corpus without the removed documents (original lines)
  stats.json         per reference, how many corpus documents it contaminates
)";

}  // namespace

// Every option of `neardup decontaminate`.
option_table decontaminate_table(decontaminate_cli& s, std::string intro) {
  option_table t("decontaminate", std::move(intro));
  neardup::jobs::decontaminate_options& o = s.options;
  {
    option ref;
    ref.name = "reference";
    ref.value_name = "PATH";
    ref.help = "benchmark JSONL file or directory (repeatable)";
    ref.default_text = "required";
    ref.apply = [&s](const std::string& v) { s.references.push_back(v); };
    t.add(std::move(ref));
  }
  t.add(integer("ngram", "N", o.ngram, 1, 1 << 16, "n-gram size in word tokens"));
  t.add(integer("max-shared", "N", o.max_shared, 0, UINT64_MAX, "keep documents sharing at most N n-grams"));
  t.add(integer("min-reference-tokens", "N", o.min_reference_tokens, 0, 1 << 20,
                "references with fewer word tokens are not used, and are listed in\n"
                "stats.json; a reference that alone contaminates more than 5% of\n"
                "the documents is warned about and listed"));
  t.add(real("bloom-fp", "P", o.bloom_false_positive_rate, interval::closed(0, 0.5),
             "Bloom-filter mode for reference sets too large for memory,\n"
             "at false-positive rate P per n-gram (e.g. 0.001); counts\n"
             "may then be too high, never too low, and reference ids\n"
             "are not reported. P is per n-gram: a document of m n-grams\n"
             "is falsely flagged with chance ~ m*P, so pair it with\n"
             "--max-shared above 0 or a small P")
            .shows_default("0: exact mode"));
  shared_bindings b = job_bindings(o);
  b.tokens = &o.tokens;
  b.compression = &o.compression;
  b.memory = &o;
  add_shared_options(t, s.job, b, output_dir::required);
  return t;
}

std::vector<std::string> decontaminate_option_names() {
  decontaminate_cli s;
  return names_of(decontaminate_table(s, ""));
}

int run_decontaminate(int argc, char** argv) {
  decontaminate_cli s;
  const option_table t = decontaminate_table(s, kHelp);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  s.job.command = "decontaminate";
  finish_job(s.job, p, output_dir::required);
  s.options.events = s.job.display.get();
  if (s.references.empty()) throw usage_error("no --reference given");
  const auto ref_sources =
      neardup::io::expand_inputs(std::span<const std::string>(s.references), {.output_dir = s.job.out_dir});
  const neardup::jobs::decontaminate_options& o = s.options;
  const auto r = neardup::jobs::run_decontaminate(s.job.sources.sources, ref_sources.sources, s.job.out_dir, o);
  s.job.require_parsed(r.documents, r.skipped);
  s.job.require_parsed(r.references, 0, "reference");
  s.job.complete();
  if (!s.job.quiet) {
    std::fprintf(stderr,
                 "neardup decontaminate: %llu references (%llu n-grams), %llu documents, %llu contaminated, "
                 "%llu removed, %llu skipped; %.2fs -> %s/\n",
                 static_cast<unsigned long long>(r.references), static_cast<unsigned long long>(r.reference_ngrams),
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.contaminated),
                 static_cast<unsigned long long>(r.removed), static_cast<unsigned long long>(r.skipped), r.seconds,
                 s.job.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

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

  --reference PATH       benchmark JSONL file or directory (repeatable) [required]
  --ngram N              n-gram size in word tokens [13]
  --max-shared N         keep documents sharing at most N n-grams [0]
  --bloom-fp P           Bloom-filter mode for reference sets too large for memory,
                         at false-positive rate P per n-gram (e.g. 0.001); counts
                         may then be too high, never too low, and reference ids
                         are not reported [exact mode]. P is per n-gram: a document
                         of m n-grams is falsely flagged with chance ~ m*P, so
                         pair it with --max-shared above 0 or a small P
  --compress none|zstd   write clean.jsonl.zst [none]
)";

}  // namespace

int run_decontaminate(int argc, char** argv) {
  auto value_opts = common_value_options();
  for (const char* o : {"reference", "ngram", "max-shared", "bloom-fp", "compress"}) value_opts.emplace_back(o);
  const args a(argc, argv, 2, value_opts, common_flag_options());
  if (a.flag("help")) {
    std::printf("%s\n%s", kHelp, kCommonOptionsHelp);
    return 0;
  }
  const common_settings common = read_common(a, true);
  const std::vector<std::string> refs = a.values("reference");
  if (refs.empty()) throw usage_error("no --reference given");
  const auto ref_sources = neardup::io::expand_inputs(std::span<const std::string>(refs));
  neardup::jobs::decontaminate_options o;
  o.records = common.records;
  o.tokens = common.tokens;
  o.seed = common.seed;
  o.threads = common.threads;
  o.progress = !common.quiet;
  o.events = common.display.get();
  o.max_reported_errors = common.quiet ? 0 : 20;
  o.ngram = a.get_uint("ngram", 13, 1, 1 << 16);
  o.max_shared = a.get_uint("max-shared", 0, 0, UINT64_MAX);
  o.bloom_false_positive_rate = a.get_double("bloom-fp", 0.0, 0.0, 0.5);
  o.compression = a.get_choice("compress", "none", {"none", "zstd"}) == "zstd"
                      ? neardup::io::output_compression::zstd
                      : neardup::io::output_compression::none;
  const auto r = neardup::jobs::run_decontaminate(common.sources.sources, ref_sources.sources, common.out_dir, o);
  if (!common.quiet) {
    std::fprintf(stderr,
                 "neardup decontaminate: %llu references (%llu n-grams), %llu documents, %llu contaminated, "
                 "%llu removed, %llu skipped; %.2fs -> %s/\n",
                 static_cast<unsigned long long>(r.references), static_cast<unsigned long long>(r.reference_ngrams),
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.contaminated),
                 static_cast<unsigned long long>(r.removed), static_cast<unsigned long long>(r.skipped), r.seconds,
                 common.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

// neardup exact: exact-duplicate removal by normalized fingerprint.
#include <cstdio>

#include "commands.hpp"
#include "neardup/jobs/dedup.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup exact INPUT... -o OUTDIR [options]

Removes exact duplicates: documents whose token sequences are equal after
normalization (Unicode lowercasing; punctuation and whitespace separate tokens
and are otherwise ignored) share a 128-bit fingerprint and form one cluster.
Documents with no tokens are never duplicates.

outputs in OUTDIR: clusters.tsv, deduped.jsonl, stats.json, as for 'neardup dedup'.

  --keep first|longest   which document of a cluster is kept [first]
  --compress none|zstd   write deduped.jsonl.zst [none]
)";

}  // namespace

int run_exact(int argc, char** argv) {
  auto value_opts = common_value_options();
  for (const char* o : {"keep", "compress"}) value_opts.emplace_back(o);
  const args a(argc, argv, 2, value_opts, common_flag_options());
  if (a.flag("help")) {
    std::printf("%s\n%s", kHelp, kCommonOptionsHelp);
    return 0;
  }
  const common_settings common = read_common(a, true);
  neardup::jobs::dedup_options o;
  o.near = false;
  o.records = common.records;
  o.tokens = common.tokens;
  o.seed = common.seed;
  o.threads = common.threads;
  o.progress = !common.quiet;
  o.events = common.display.get();
  o.max_reported_errors = common.quiet ? 0 : 20;
  o.keep = a.get_choice("keep", "first", {"first", "longest"}) == "first" ? neardup::pipeline::keep_policy::first
                                                                          : neardup::pipeline::keep_policy::longest;
  o.compression = a.get_choice("compress", "none", {"none", "zstd"}) == "zstd"
                      ? neardup::io::output_compression::zstd
                      : neardup::io::output_compression::none;
  const auto r = neardup::jobs::run_dedup(common.sources.sources, common.out_dir, o);
  if (!common.quiet) {
    std::fprintf(stderr,
                 "neardup exact: %llu documents, kept %llu, removed %llu exact duplicates, skipped %llu bad "
                 "records (kept as is); %.2fs -> %s/\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.kept),
                 static_cast<unsigned long long>(r.removed_exact), static_cast<unsigned long long>(r.skipped),
                 r.seconds, common.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

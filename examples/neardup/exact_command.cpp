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

outputs in OUTDIR: clusters.tsv, deduped.jsonl, stats.json, evidence.tsv,
near_misses.tsv, sources.tsv, as for 'neardup dedup'.
)";

}  // namespace

// Every option of `neardup exact`.
option_table exact_table(exact_cli& s, std::string intro) {
  option_table t("exact", std::move(intro));
  neardup::jobs::dedup_options& o = s.options;
  shared_bindings b = job_bindings(o);
  b.tokens = &o.tokens;
  b.keep = &o.keep;
  b.compression = &o.compression;
  b.memory = &o;
  b.tmp_dir = &o.tmp_dir;
  add_shared_options(t, s.job, b, output_dir::required);
  return t;
}

std::vector<std::string> exact_option_names() {
  exact_cli s;
  return names_of(exact_table(s, ""));
}

int run_exact(int argc, char** argv) {
  exact_cli s;
  const option_table t = exact_table(s, kHelp);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  s.job.command = "exact";
  finish_job(s.job, p, output_dir::required);
  s.options.events = s.job.display.get();
  const auto r = neardup::jobs::run_dedup(s.job.sources.sources, s.job.out_dir, s.options);
  s.job.require_parsed(r.documents, r.skipped);
  s.job.complete();
  if (!s.job.quiet) {    std::fprintf(stderr,
                 "neardup exact: %llu documents, kept %llu, removed %llu exact duplicates, skipped %llu bad "
                 "records (kept as is); %.2fs -> %s/\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.kept),
                 static_cast<unsigned long long>(r.removed_exact), static_cast<unsigned long long>(r.skipped),
                 r.seconds, s.job.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

// neardup dedup: near-duplicate removal.
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/jobs/stored_index.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup dedup INPUT... -o OUTDIR [options]

Removes near-duplicate documents: MinHash signatures of word n-gram shingles,
LSH banding, verification of every candidate pair, union-find clustering.
Exact duplicates (same normalized text) are collapsed first.

outputs in OUTDIR (each written to a temporary name, renamed when complete):
  clusters.tsv     one line per input document, in input order: id<TAB>kept_id
  deduped.jsonl    kept documents: original JSONL lines byte for byte, in input order;
                   files from directories become {"id": ..., "text": ...}
  stats.json       counts, cluster-size histogram, parameters, seconds per stage
  evidence.tsv     per removed document: the document it was verified against, the
                   exact Jaccard (or MinHash estimate, marked) and the band, or "exact"
  near_misses.tsv  a seeded sample of rejected candidate pairs with their similarity
  sources.tsv      per input file: documents, kept, removed, text bytes removed
'neardup report OUTDIR' shows them as one HTML page.
)";

}  // namespace

void add_similarity_options(option_table& t, neardup::pipeline::similarity_options& o, similarity_cli& s) {
  const std::string g = "similarity";
  t.add(real("threshold", "T", o.threshold, interval::open_closed(0, 1),
             "Jaccard similarity of shingle sets that makes a duplicate")
            .in_group(g));
  t.add(integer("num-perm", "K", o.num_perm, neardup::min_num_perm, neardup::max_num_perm,
                "MinHash signature size")
            .in_group(g));
  t.add(integer("ngram", "N", o.ngram, 1, 1 << 16, "shingle size in tokens").in_group(g));
  t.add(optional_integer("bands", "B", s.bands, 1, 4096, "LSH bands, with --rows (B*R <= K)")
            .shows_default("chosen from T and K")
            .in_group(g));
  t.add(optional_integer("rows", "R", s.rows, 1, 4096, "LSH rows per band, with --bands")
            .shows_default("chosen from T and K")
            .in_group(g));
  t.add(choice("scheme", o.scheme, "MinHash scheme; oph: one permutation + densification").in_group(g));
  t.add(choice("verify", o.verify,
               "check candidate pairs before merging\n"
               "none: merge every LSH candidate (fast, false merges)\n"
               "estimate: MinHash estimate >= T\n"
               "exact: exact Jaccard of the shingle sets >= T")
            .in_group(g));
}

void finish_similarity(neardup::pipeline::similarity_options& o, const similarity_cli& s) {
  if (s.bands.has_value() != s.rows.has_value()) throw usage_error("--bands and --rows go together");
  if (s.bands) o.lsh = neardup::lsh_params{*s.bands, *s.rows};
}

// Every option of `neardup dedup` (and of `neardup eval`, which runs it).
option_table dedup_table(dedup_cli& s, std::string command, std::string intro, output_dir out) {
  option_table t(std::move(command), std::move(intro));
  neardup::jobs::dedup_options& o = s.options;
  add_similarity_options(t, o, s.similarity);
  t.add(flag("no-exact-first", "do not collapse exact duplicates before LSH", [&o] { o.exact_first = false; })
            .in_group("similarity"));
  t.add(optional_integer("set-memory-mb", "M", o.set_memory_bytes, 0, std::uint64_t{1} << 40,
                         "for --verify exact: keep first-pass shingle sets in up to M MiB\n"
                         "and read the other candidates again",
                         std::uint64_t{1} << 20)
            .shows_default("1/4 of RAM or cgroup limit")
            .in_group("similarity"));
  shared_bindings b = job_bindings(o);
  b.tokens = &o.tokens;
  b.keep = &o.keep;
  b.compression = &o.compression;
  b.memory = &o;
  b.tmp_dir = &o.tmp_dir;
  add_shared_options(t, s.job, b, out);
  t.add(integer("near-miss-sample", "N", o.evidence.near_misses, 0, std::uint64_t{1} << 24,
                "rejected candidate pairs in near_misses.tsv: the most similar\nof a seeded sample of 4*N")
            .in_group("output"));
  return t;
}

std::vector<std::string> dedup_option_names() {
  dedup_cli s;
  index_cli x;
  option_table t = dedup_table(s, "dedup", "", output_dir::required);
  add_index_options(t, x);
  return names_of(t);
}

int run_dedup(int argc, char** argv) {
  dedup_cli s;
  index_cli x;
  option_table t = dedup_table(s, "dedup", kHelp, output_dir::required);
  add_index_options(t, x);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  finish_similarity(s.options, s.similarity);
  if (x.update && x.against.empty()) throw usage_error("--update-index needs --against INDEX");
  s.job.command = "dedup";
  finish_job(s.job, p, output_dir::required);
  s.options.events = s.job.display.get();
  const neardup::jobs::dedup_options& o = s.options;
  const auto r = x.against.empty() ? neardup::jobs::run_dedup(s.job.sources.sources, s.job.out_dir, o)
                                   : neardup::jobs::run_dedup_against(s.job.sources.sources, s.job.out_dir, o,
                                                                      x.against, x.update);
  s.job.require_parsed(r.documents, r.skipped);
  s.job.complete();
  if (!s.job.quiet) {
    std::fprintf(stderr,
                 "neardup dedup: %llu documents, kept %llu, removed %llu (%llu exact, %llu near), "
                 "skipped %llu bad records (kept as is); %llu clusters, largest %llu; "
                 "bands=%u rows=%u; %.2fs, %.1f MB/s, peak RSS %.0f MB -> %s/\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.kept),
                 static_cast<unsigned long long>(r.removed_exact + r.removed_near),
                 static_cast<unsigned long long>(r.removed_exact), static_cast<unsigned long long>(r.removed_near),
                 static_cast<unsigned long long>(r.skipped), static_cast<unsigned long long>(r.clusters),
                 static_cast<unsigned long long>(r.largest_cluster), r.lsh.bands, r.lsh.rows, r.seconds,
                 r.seconds > 0 ? static_cast<double>(r.input_bytes) / 1e6 / r.seconds : 0.0,
                 static_cast<double>(r.peak_rss_bytes) / 1e6, s.job.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

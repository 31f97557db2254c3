// neardup dedup: near-duplicate removal.
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "neardup/jobs/dedup.hpp"

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
)";

}  // namespace

const char* const kDedupOptionsHelp = R"(similarity:
  --threshold T          Jaccard similarity of shingle sets that makes a duplicate [0.8]
  --num-perm K           MinHash signature size [128]
  --ngram N              shingle size in tokens [5]
  --bands B --rows R     LSH banding (B*R <= K) [chosen from T and K]
  --scheme oph|classic|superminhash  MinHash scheme [oph: one permutation + densification]
  --verify none|estimate|exact  check candidate pairs before merging [exact]
                           none: merge every LSH candidate (fast, false merges)
                           estimate: MinHash estimate >= T
                           exact: exact Jaccard of the shingle sets >= T
  --no-exact-first       do not collapse exact duplicates before LSH
  --set-memory-mb M      for --verify exact: keep first-pass shingle sets in up to M MiB
                         and read the other candidates again [1/4 of RAM or cgroup limit]
output:
  --keep first|longest   which document of a cluster is kept [first]
  --compress none|zstd   write deduped.jsonl.zst [none]
)";

std::vector<std::string> dedup_value_options() {
  auto value_opts = common_value_options();
  for (const char* o : {"threshold", "num-perm", "ngram", "bands", "rows", "verify", "keep", "compress", "scheme",
                        "set-memory-mb"}) {
    value_opts.emplace_back(o);
  }
  return value_opts;
}

std::vector<std::string> dedup_flag_options() {
  auto flag_opts = common_flag_options();
  flag_opts.emplace_back("no-exact-first");
  return flag_opts;
}

neardup::jobs::dedup_options read_dedup_options(const args& a, const common_settings& common) {
  neardup::jobs::dedup_options o;
  o.records = common.records;
  o.tokens = common.tokens;
  o.seed = common.seed;
  o.threads = common.threads;
  o.progress = !common.quiet;
  o.events = common.display.get();
  o.max_reported_errors = common.quiet ? 0 : 20;
  o.threshold = a.get_double("threshold", 0.8, 1e-9, 1.0);
  o.num_perm = a.get_uint("num-perm", 128, 1, 4096);
  o.ngram = a.get_uint("ngram", 5, 1, 1 << 16);
  const std::string scheme = a.get_choice("scheme", "oph", {"oph", "classic", "superminhash"});
  o.scheme = scheme == "classic"        ? neardup::minhash_scheme::classic
                     : scheme == "superminhash" ? neardup::minhash_scheme::superminhash
                                                : neardup::minhash_scheme::one_permutation;
  if (a.value("bands") || a.value("rows")) {
    if (!a.value("bands") || !a.value("rows")) throw usage_error("--bands and --rows go together");
    o.lsh = neardup::lsh_params{static_cast<std::uint32_t>(a.get_uint("bands", 1, 1, 4096)),
                                static_cast<std::uint32_t>(a.get_uint("rows", 1, 1, 4096))};
  }
  const std::string verify = a.get_choice("verify", "exact", {"none", "estimate", "exact"});
  o.verify = verify == "none"       ? neardup::pipeline::verify_mode::none
             : verify == "estimate" ? neardup::pipeline::verify_mode::estimate
                                    : neardup::pipeline::verify_mode::exact;
  o.keep = a.get_choice("keep", "first", {"first", "longest"}) == "first" ? neardup::pipeline::keep_policy::first
                                                                          : neardup::pipeline::keep_policy::longest;
  o.compression = a.get_choice("compress", "none", {"none", "zstd"}) == "zstd"
                      ? neardup::io::output_compression::zstd
                      : neardup::io::output_compression::none;
  o.exact_first = !a.flag("no-exact-first");
  if (a.value("set-memory-mb")) o.set_memory_bytes = a.get_uint("set-memory-mb", 0, 0, std::uint64_t{1} << 40) << 20;
  return o;
}

int run_dedup(int argc, char** argv) {
  const args a(argc, argv, 2, dedup_value_options(), dedup_flag_options());
  if (a.flag("help")) {
    std::printf("%s\n%s\n%s", kHelp, kDedupOptionsHelp, kCommonOptionsHelp);
    return 0;
  }
  const common_settings common = read_common(a, true);
  const neardup::jobs::dedup_options o = read_dedup_options(a, common);
  const auto r = neardup::jobs::run_dedup(common.sources.sources, common.out_dir, o);
  if (!common.quiet) {
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
                 static_cast<double>(r.peak_rss_bytes) / 1e6, common.out_dir.c_str());
  }
  return 0;
}

}  // namespace neardup_cli

// neardup pairs and neardup eval.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "commands.hpp"
#include "neardup/jobs/pairs.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kPairsHelp = R"(usage: neardup pairs INPUT... -o OUTDIR --threshold T [--exact] [options]

Lists every pair of documents whose shingle sets have Jaccard >= T.
  --exact     exact all-pairs join (prefix filtering): every pair, no false ones
  (default)   MinHash LSH candidates, checked with --verify like 'neardup dedup'

outputs in OUTDIR:
  pairs.tsv   id1<TAB>id2<TAB>jaccard, one line per pair, by document position
  stats.json  counts, parameters, seconds
)";

constexpr const char* kEvalHelp = R"(usage: neardup eval INPUT... [-o OUTDIR] [dedup options]

Runs 'neardup dedup' and the exact all-pairs join on the same corpus and
prints how well dedup did against exact Jaccard:
  precision, recall, F1   of "this document has a near duplicate at Jaccard >= T"
  pair recall             exact pairs >= T that dedup put in one cluster
  false merges            clusters joining documents that no chain of pairs
                          with Jaccard >= T connects
With -o, dedup's outputs and eval.json are kept in OUTDIR.
)";

}  // namespace

int run_pairs(int argc, char** argv) {
  auto flags = dedup_flag_options();
  flags.emplace_back("exact");
  const args a(argc, argv, 2, dedup_value_options(), flags);
  if (a.flag("help")) {
    std::printf("%s\n%s\n%s", kPairsHelp, kDedupOptionsHelp, kCommonOptionsHelp);
    return 0;
  }
  const common_settings common = read_common(a, true);
  neardup::jobs::pairs_options o;
  const neardup::jobs::dedup_options d = read_dedup_options(a, common);
  static_cast<neardup::jobs::job_options&>(o) = d;
  static_cast<neardup::pipeline::similarity_options&>(o) = d;
  o.exact = a.flag("exact");
  const auto r = neardup::jobs::run_pairs(common.sources.sources, common.out_dir, o);
  if (!common.quiet) {
    std::fprintf(stderr, "neardup pairs: %llu documents, %llu pairs with Jaccard >= %g (%s); %.2fs -> %s/pairs.tsv\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.pairs),
                 o.threshold, o.exact ? "exact" : "LSH", r.seconds, common.out_dir.c_str());
  }
  return 0;
}

int run_eval(int argc, char** argv) {
  const args a(argc, argv, 2, dedup_value_options(), dedup_flag_options());
  if (a.flag("help")) {
    std::printf("%s\n%s\n%s", kEvalHelp, kDedupOptionsHelp, kCommonOptionsHelp);
    return 0;
  }
  const common_settings common = read_common(a, false);
  const neardup::jobs::dedup_options o = read_dedup_options(a, common);
  std::string dir = common.out_dir.empty() ? a.get_string("output", "") : common.out_dir;
  bool temporary = false;
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "neardup-eval-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("neardup eval: cannot create a temporary directory");
    dir = tmpl;
    temporary = true;
  }
  neardup::jobs::eval_report r;
  try {
    r = neardup::jobs::run_eval(common.sources.sources, dir, o);
  } catch (...) {
    if (temporary) std::filesystem::remove_all(dir);
    throw;
  }
  if (temporary) std::filesystem::remove_all(dir);
  std::printf(
      "threshold            %.3f (verify=%s)\n"
      "documents            %llu\n"
      "with near duplicate  %llu (exact Jaccard), %llu (dedup), %llu both\n"
      "precision            %.4f\n"
      "recall               %.4f\n"
      "F1                   %.4f\n"
      "pair recall          %.4f (%llu of %llu exact pairs in one cluster)\n"
      "false merges         %llu clusters, %llu documents\n"
      "seconds              dedup %.2f, exact join %.2f\n",
      r.threshold, std::string(neardup::pipeline::name(o.verify)).c_str(),
      static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.truth_positive),
      static_cast<unsigned long long>(r.predicted_positive), static_cast<unsigned long long>(r.true_positive),
      r.precision, r.recall, r.f1, r.pair_recall, static_cast<unsigned long long>(r.pairs_recovered),
      static_cast<unsigned long long>(r.truth_pairs), static_cast<unsigned long long>(r.false_merge_clusters),
      static_cast<unsigned long long>(r.false_merge_documents), r.dedup_seconds, r.exact_seconds);
  return 0;
}

}  // namespace neardup_cli

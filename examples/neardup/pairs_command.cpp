// neardup pairs and neardup eval.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "commands.hpp"
#include "neardup/io/output.hpp"
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

struct pairs_cli {
  neardup::jobs::pairs_options options;
  similarity_cli similarity;
  job_cli job;
};

// Every option of `neardup pairs`.
option_table pairs_table(pairs_cli& s, std::string intro) {
  option_table t("pairs", std::move(intro));
  neardup::jobs::pairs_options& o = s.options;
  t.add(flag("exact", "exact all-pairs join instead of LSH candidates", [&s] { s.options.exact = true; }));
  add_similarity_options(t, o, s.similarity);
  shared_bindings b = job_bindings(o);
  b.tokens = &o.tokens;
  b.memory = &o;
  b.tmp_dir = &o.tmp_dir;
  add_shared_options(t, s.job, b, output_dir::required);
  return t;
}

}  // namespace

std::vector<std::string> pairs_option_names() {
  pairs_cli s;
  return names_of(pairs_table(s, ""));
}

std::vector<std::string> eval_option_names() {
  dedup_cli s;
  return names_of(dedup_table(s, "eval", "", output_dir::optional));
}

int run_pairs(int argc, char** argv) {
  pairs_cli s;
  const option_table t = pairs_table(s, kPairsHelp);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  if (s.options.exact) {
    for (const char* lsh_only : {"num-perm", "bands", "rows", "scheme", "verify"}) {
      t.reject_if_given(p, lsh_only, "with --exact (it sets the LSH candidates)");
    }
  }
  finish_similarity(s.options, s.similarity);
  s.job.command = "pairs";
  finish_job(s.job, p, output_dir::required);
  s.options.events = s.job.display.get();
  const neardup::jobs::pairs_options& o = s.options;
  const auto r = neardup::jobs::run_pairs(s.job.sources.sources, s.job.out_dir, o);
  s.job.require_parsed(r.documents, 0);
  s.job.complete();
  if (!s.job.quiet) {
    std::fprintf(stderr, "neardup pairs: %llu documents, %llu pairs with Jaccard >= %g (%s); %.2fs -> %s/pairs.tsv\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.pairs),
                 o.threshold, o.exact ? "exact" : "LSH", r.seconds, s.job.out_dir.c_str());
  }
  return 0;
}

int run_eval(int argc, char** argv) {
  dedup_cli s;
  const option_table t = dedup_table(s, "eval", kEvalHelp, output_dir::optional);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  finish_similarity(s.options, s.similarity);
  s.job.command = "eval";
  finish_job(s.job, p, output_dir::optional);
  s.options.events = s.job.display.get();
  std::string dir = s.job.out_dir;
  bool temporary = false;
  std::optional<neardup::io::scratch_dir_guard> scratch;
  if (dir.empty()) {
    // Only stats.json and eval.json, no copy of the corpus, in a scratch
    // directory that a signal removes too.
    std::string tmpl = (std::filesystem::temp_directory_path() / "neardup-eval-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("eval: cannot create a temporary directory");
    dir = tmpl;
    temporary = true;
    scratch.emplace(dir);
    s.options.write_documents = false;
  }
  const neardup::jobs::dedup_options& o = s.options;
  neardup::jobs::eval_report r;
  try {
    r = neardup::jobs::run_eval(s.job.sources.sources, dir, o);
  } catch (...) {
    if (temporary) std::filesystem::remove_all(dir);
    throw;
  }
  if (temporary) std::filesystem::remove_all(dir);
  s.job.require_parsed(r.documents, 0);
  s.job.complete();
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
      r.threshold, std::string(neardup::name(o.verify)).c_str(),
      static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.truth_positive),
      static_cast<unsigned long long>(r.predicted_positive), static_cast<unsigned long long>(r.true_positive),
      r.precision, r.recall, r.f1, r.pair_recall, static_cast<unsigned long long>(r.pairs_recovered),
      static_cast<unsigned long long>(r.truth_pairs), static_cast<unsigned long long>(r.false_merge_clusters),
      static_cast<unsigned long long>(r.false_merge_documents), r.dedup_seconds, r.exact_seconds);
  return 0;
}

}  // namespace neardup_cli

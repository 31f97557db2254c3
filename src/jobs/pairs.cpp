// neardup pairs and neardup eval (see neardup/jobs/pairs.hpp).
#include "neardup/jobs/pairs.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "corpus_passes.hpp"
#include "neardup/allpairs.hpp"
#include "neardup/candidates.hpp"
#include "neardup/cluster.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/memory.hpp"
#include "neardup/pipeline/stages.hpp"
#include "spill.hpp"

namespace neardup::jobs {

using namespace neardup::io;

namespace {

using clock_type = std::chrono::steady_clock;

std::vector<std::uint8_t> ok_documents(const detail::corpus_index& corpus) {
  std::vector<std::uint8_t> ok(corpus.size());
  for (std::size_t d = 0; d < corpus.size(); ++d) {
    ok[d] = corpus.docs[d].status == record_status::ok && corpus.docs[d].has_tokens;
  }
  return ok;
}

// Every pair of the corpus with exact Jaccard >= threshold.
std::vector<similar_pair> exact_pairs(std::span<const source_info> sources, const detail::corpus_index& corpus,
                                      const detail::pass_options& pass, double threshold, pipeline::sink& meter,
                                      std::uint64_t input_bytes) {
  const std::vector<std::uint8_t> wanted = ok_documents(corpus);
  meter.begin_stage("load shingles", input_bytes);
  const detail::shingle_sets sets = detail::load_shingle_sets(sources, corpus, wanted, pass, meter);
  meter.end_stage();
  meter.begin_stage("exact join", 0);
  allpairs_options ao;
  ao.threshold = threshold;
  ao.pool = pass.pool;
  const std::vector<std::uint64_t> begin = sets.dense_begin();
  auto pairs = allpairs_join(sets_view{sets.values, begin}, ao);
  meter.end_stage();
  return pairs;
}

}  // namespace

pairs_report run_pairs(std::span<const source_info> sources, const std::string& out_dir,
                       const pairs_options& options) {
  const pairs_options& o = options;
  o.validate();
  detail::validate(o);
  if (o.compression != output_compression::none) {
    throw std::invalid_argument("pairs writes pairs.tsv uncompressed: compression must be none");
  }
  if (o.max_partners < 1) throw std::invalid_argument("max_partners = 0: must be >= 1");
  const auto t0 = clock_type::now();
  executor pool(o.threads);
  detail::pass_options pass = detail::pass_options_for(o, o, pool);
  detail::make_output_dir(out_dir);
  const std::uint64_t input_bytes = detail::stored_bytes(sources);
  detail::job_events events(o);
  pipeline::sink& meter = *events;
  pairs_report report;

  const minhasher hasher(o.minhash());
  const std::size_t k = hasher.num_perm();
  const lsh_params lsh = o.banding();
  validate_lsh_params(lsh, k);
  const bander bands(lsh, k, o.seed);

  // Bounded memory, as in dedup (spill.hpp): past the budget, the document
  // table goes to mapped files and, in LSH mode, signatures and band keys to
  // sorted runs merged band by band.
  const detail::memory_plan plan =
      detail::plan_memory(sources, options.exact ? 0 : k, options.exact ? 0 : lsh.bands,
                          o.memory_bytes.value_or(default_memory_budget_bytes()),
                          o.tmp_dir.empty() ? out_dir : o.tmp_dir, pool.threads());
  if (o.max_reported_errors > 0) meter.message(plan.describe());
  pass.expected_documents = plan.documents;
  detail::spill_counter spilled_bytes;
  std::unique_ptr<detail::spill_store> spill;
  if (plan.spill) {
    pass.spill_table_dir = plan.tmp_dir;
    pass.spill_bytes = &spilled_bytes;
    pass.sort_bytes = plan.merge_bytes;
    pass.reader.chunk_bytes = std::min(pass.reader.chunk_bytes, plan.chunk_bytes);
    if (!options.exact) {
      spill = std::make_unique<detail::spill_store>(plan.tmp_dir, spilled_bytes, pipeline::stage_data_options::of(o),
                                                    bands, plan.run_records, plan.merge_bytes);
      pass.spill_signatures = [&spill](std::uint64_t first, std::span<const sig_value> sigs) {
        spill->add(first, sigs);
      };
    }
  }

  meter.begin_stage(options.exact ? "scan" : "sign", input_bytes);
  detail::scan_counts counts;
  const detail::corpus_index corpus =
      detail::scan_corpus(sources, pass, options.exact ? nullptr : &hasher, meter, counts);
  if (spill) spill->finish();
  meter.end_stage();
  const std::size_t n = corpus.size();
  report.documents = n;

  std::vector<similar_pair> result;
  if (options.exact) {
    result = exact_pairs(sources, corpus, pass, o.threshold, meter, input_bytes);
  } else {
    // The dedup stages: band columns grouped by key, then every candidate
    // pair (not only one per cluster) scored.
    std::vector<std::uint8_t> excluded = ok_documents(corpus);
    for (auto& e : excluded) e = !e;
    std::vector<doc_pair> candidates;
    // Buckets hold their documents in order either way, and the pairs are
    // sorted after: the same candidates from memory or from spilled runs.
    auto add = [&](const bucket_list& buckets) {
      report.capped_pairs += append_candidate_pairs(buckets, options.max_partners, candidates);
    };
    if (spill) {
      for (std::uint32_t b = 0; b < lsh.bands; ++b) spill->buckets(b, excluded, add);
    } else {
      pipeline::for_each_band_buckets(corpus.signatures, bands, excluded, &pool,
                                      [&](std::uint32_t, const bucket_list& buckets) { add(buckets); });
    }
    sort_unique_pairs(candidates);
    report.candidate_pairs = candidates.size();

    detail::shingle_sets sets;
    if (o.verify == verify_mode::exact) {
      std::vector<std::uint8_t> wanted(n, 0);
      for (const auto& p : candidates) wanted[p.first] = wanted[p.second] = 1;
      meter.begin_stage("load candidates", input_bytes);
      sets = detail::load_shingle_sets(sources, corpus, wanted, pass, meter);
      meter.end_stage();
    }
    for (const auto& p : candidates) {
      similar_pair sp;
      sp.pair = p;
      if (o.verify == verify_mode::exact) {
        sp.jaccard = exact_jaccard(sets[p.first], sets[p.second]);
      } else {
        if (spill) {
          std::vector<sig_value> a(k), b(k);
          spill->signature(p.first, a);
          spill->signature(p.second, b);
          sp.jaccard = jaccard(std::span<const sig_value>(a), std::span<const sig_value>(b)).estimate;
        } else {
          sp.jaccard = jaccard(corpus.signature(p.first), corpus.signature(p.second)).estimate;
        }
      }
      if (o.verify == verify_mode::none || sp.jaccard >= o.threshold) result.push_back(sp);
    }
  }
  report.pairs = result.size();

  atomic_file out(out_dir + "/pairs.tsv");
  std::string buf;
  std::size_t written = 0;
  for (const auto& p : result) {
    buf.clear();
    append_tsv_field(buf, corpus.id_of(sources, p.pair.first));
    buf += '\t';
    append_tsv_field(buf, corpus.id_of(sources, p.pair.second));
    char num[32];
    std::snprintf(num, sizeof num, "\t%.6f\n", p.jaccard);
    buf += num;
    out.write(buf);
    if ((++written & detail::table_release_mask) == 0) corpus.release_table();  // ids read at random
  }
  out.commit();
  report.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();

  std::string s;
  json_writer w(s);
  w.begin_object();
  w.field("command", "pairs");
  w.field("mode", options.exact ? "exact" : "lsh");
  w.field("threshold", o.threshold);
  w.field("ngram", static_cast<std::uint64_t>(o.ngram));
  if (!options.exact) {
    w.field("num_perm", static_cast<std::uint64_t>(k));
    w.field("bands", lsh.bands);
    w.field("rows", lsh.rows);
    w.field("verify", neardup::name(o.verify));
    w.field("candidate_pairs", report.candidate_pairs);
    w.field("capped_pairs", report.capped_pairs);
  }
  w.field("documents", report.documents);
  w.field("skipped", counts.skipped);
  w.field("pairs", report.pairs);
  w.key("spill");
  w.begin_object();
  w.field("budget_bytes", plan.budget);
  w.field("spilled", plan.spill);
  w.field("disk_bytes_written", spilled_bytes.written.load());
  w.end_object();
  detail::finish_stats(w, s, report.seconds, out_dir);
  return report;
}

eval_report run_eval(std::span<const source_info> sources, const std::string& out_dir,
                     const dedup_options& options) {
  eval_report ev;
  ev.threshold = options.threshold;
  dedup_options o = options;
  o.return_clusters = true;
  const auto t0 = clock_type::now();
  const dedup_report dr = run_dedup(sources, out_dir, o);
  const auto t1 = clock_type::now();
  ev.dedup_seconds = std::chrono::duration<double>(t1 - t0).count();

  executor pool(o.threads);
  const detail::pass_options pass = detail::pass_options_for(o, o, pool);
  detail::job_events events(o);
  pipeline::sink& meter = *events;
  const std::uint64_t input_bytes = detail::stored_bytes(sources);
  meter.begin_stage("scan", input_bytes);
  detail::scan_counts counts;
  detail::pass_options quiet_pass = pass;
  quiet_pass.max_reported_errors = 0;  // run_dedup already reported them
  const detail::corpus_index corpus = detail::scan_corpus(sources, quiet_pass, nullptr, meter, counts);
  meter.end_stage();
  const std::size_t n = corpus.size();
  if (n != dr.kept_of.size()) throw std::runtime_error("eval: the corpus changed during the run");
  const std::vector<similar_pair> truth = exact_pairs(sources, corpus, pass, o.threshold, meter, input_bytes);
  ev.exact_seconds = std::chrono::duration<double>(clock_type::now() - t1).count();

  ev.documents = n;
  std::vector<std::uint8_t> truth_pos(n, 0), pred_pos(n, 0);
  union_find components(n);
  for (const auto& p : truth) {
    truth_pos[p.pair.first] = truth_pos[p.pair.second] = 1;
    components.unite(p.pair.first, p.pair.second);
    ev.pairs_recovered += dr.kept_of[p.pair.first] == dr.kept_of[p.pair.second];
  }
  ev.truth_pairs = truth.size();
  std::vector<std::uint32_t> cluster_size(n, 0);
  for (std::size_t d = 0; d < n; ++d) ++cluster_size[dr.kept_of[d]];
  // A cluster is a false merge when its members lie in more than one
  // connected component of the exact >= T graph.
  std::vector<doc_id> cluster_component(n, UINT32_MAX);
  std::vector<std::uint8_t> cluster_false(n, 0);
  for (std::size_t d = 0; d < n; ++d) {
    const doc_id c = dr.kept_of[d];
    pred_pos[d] = cluster_size[c] > 1;
    const doc_id comp = components.find(static_cast<doc_id>(d));
    if (cluster_component[c] == UINT32_MAX) {
      cluster_component[c] = comp;
    } else if (cluster_component[c] != comp) {
      cluster_false[c] = 1;
    }
  }
  for (std::size_t d = 0; d < n; ++d) {
    ev.truth_positive += truth_pos[d];
    ev.predicted_positive += pred_pos[d];
    ev.true_positive += truth_pos[d] && pred_pos[d];
    ev.false_merge_documents += cluster_false[dr.kept_of[d]];
    ev.false_merge_clusters += dr.kept_of[d] == d && cluster_false[d];
  }
  ev.precision = ev.predicted_positive ? static_cast<double>(ev.true_positive) / static_cast<double>(ev.predicted_positive) : 1.0;
  ev.recall = ev.truth_positive ? static_cast<double>(ev.true_positive) / static_cast<double>(ev.truth_positive) : 1.0;
  ev.f1 = ev.precision + ev.recall > 0 ? 2 * ev.precision * ev.recall / (ev.precision + ev.recall) : 0.0;
  ev.pair_recall = ev.truth_pairs ? static_cast<double>(ev.pairs_recovered) / static_cast<double>(ev.truth_pairs) : 1.0;

  // false_merges.tsv: the members of falsely merged clusters that lie outside
  // the exact component of the document kept for them, in document order,
  // at most eval_false_merges_listed rows (the report shows them with their
  // texts). Not without documents (eval without -o): no copy of the corpus.
  if (o.write_documents) {
    std::string tsv = "id\tkept_id\tdoc\tkept_doc\n";
    for (std::size_t d = 0; d < n && ev.false_merges_listed < eval_false_merges_listed; ++d) {
      const doc_id k = dr.kept_of[d];
      if (!cluster_false[k] || components.find(static_cast<doc_id>(d)) == components.find(k)) continue;
      corpus.append_id_field(tsv, sources, static_cast<doc_id>(d));
      tsv += '\t';
      corpus.append_id_field(tsv, sources, k);
      tsv += '\t' + std::to_string(d) + '\t' + std::to_string(k) + '\n';
      ++ev.false_merges_listed;
    }
    write_file_atomic(out_dir + "/false_merges.tsv", tsv);
  }

  std::string s;
  json_writer w(s);
  w.begin_object();
  w.field("command", "eval");
  w.field("threshold", ev.threshold);
  w.field("verify", neardup::name(o.verify));
  w.field("bands", dr.lsh.bands);
  w.field("rows", dr.lsh.rows);
  w.field("documents", ev.documents);
  w.field("truth_positive_documents", ev.truth_positive);
  w.field("predicted_positive_documents", ev.predicted_positive);
  w.field("true_positive_documents", ev.true_positive);
  w.field("precision", ev.precision);
  w.field("recall", ev.recall);
  w.field("f1", ev.f1);
  w.field("truth_pairs", ev.truth_pairs);
  w.field("pairs_recovered", ev.pairs_recovered);
  w.field("pair_recall", ev.pair_recall);
  w.field("false_merge_clusters", ev.false_merge_clusters);
  w.field("false_merge_documents", ev.false_merge_documents);
  w.field("false_merges_listed", ev.false_merges_listed);
  w.field("dedup_seconds", ev.dedup_seconds);
  w.field("exact_seconds", ev.exact_seconds);
  w.end_object();
  s += '\n';
  write_file_atomic(out_dir + "/eval.json", s);
  return ev;
}

}  // namespace neardup::jobs

// neardup decontaminate (see neardup/jobs/decontaminate.hpp).
#include "neardup/jobs/decontaminate.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "../io/chunk_pipeline.hpp"
#include "corpus_passes.hpp"
#include "neardup/contamination.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/shingle.hpp"

namespace neardup::jobs {

using namespace neardup::io;
using neardup::io::detail::for_each_chunk_ordered;

namespace {

struct reference_doc {
  std::string id;
  std::vector<std::uint64_t> ngrams;
  std::size_t tokens = 0;
  detail::record_problem problem{};  // set for a bad record (tokens == SIZE_MAX)
};

struct reference_result {
  std::vector<reference_doc> docs;
  std::uint64_t bytes = 0;
};

// Reads the references in order; calls add(doc) for each usable one.
template <class Add>
void read_references(std::span<const source_info> refs, const decontaminate_options& o, executor& pool,
                     pipeline::sink& meter, std::uint64_t& skipped, Add&& add) {
  const shingle_options sh_opts{o.tokens, o.ngram, o.seed};
  detail::problem_reporter problems(refs, o.max_reported_errors, "not used as a reference", meter);
  for_each_chunk_ordered<reference_result>(
      refs, o.reader, &pool,
      [&] {
        return [&, parser = record_parser(), sh = shingler(sh_opts)](const input_chunk& chunk, std::size_t,
                                                                      reference_result& res) mutable {
          res.docs.clear();
          res.bytes = chunk.data.size();
          parse_chunk(chunk, o.records, parser, [&](const record& r) {
            if (r.status == record_status::blank) return;
            reference_doc doc;
            doc.id = r.id.empty() ? default_record_id(chunk.source_name, r.line) : std::string(r.id);
            if (r.status == record_status::ok) {
              sh.ngram_hashes(r.text, doc.ngrams);
              doc.tokens = sh.token_hashes().size();
            } else {
              doc.tokens = SIZE_MAX;  // marks a bad record
              doc.problem = {r.status, r.source, r.line, r.error};
            }
            res.docs.push_back(std::move(doc));
          });
        };
      },
      [&](std::size_t, const input_chunk&, reference_result& res) {
        for (auto& doc : res.docs) {
          if (doc.tokens == SIZE_MAX) {
            ++skipped;
            problems.skipped(doc.problem);
            continue;
          }
          add(doc);
        }
        meter.add(res.bytes, res.docs.size());
      });
}

}  // namespace

decontaminate_report run_decontaminate(std::span<const source_info> corpus,
                                       std::span<const source_info> references, const std::string& out_dir,
                                       const decontaminate_options& options) {
  options.validate();
  detail::validate(options);
  const auto t0 = std::chrono::steady_clock::now();
  executor pool(options.threads);
  detail::make_output_dir(out_dir);
  detail::job_events events(options);
  pipeline::sink& meter = *events;
  decontaminate_report report;
  const bool bloom = options.bloom_false_positive_rate > 0;

  // ---- index the references --------------------------------------------------
  const std::uint64_t ref_bytes = detail::stored_bytes(references);
  std::uint64_t ref_skipped = 0;
  std::uint64_t expected_ngrams = 0;
  if (bloom) {
    // Size the filter first: one pass to count the n-grams.
    meter.begin_stage("count reference n-grams", ref_bytes);
    read_references(references, options, pool, meter, ref_skipped,
                    [&](const reference_doc& d) { expected_ngrams += d.ngrams.size(); });
    meter.end_stage();
    ref_skipped = 0;
  }
  pipeline::reference_checker index(options, expected_ngrams);
  std::vector<std::string> ref_ids;
  meter.begin_stage("index references", ref_bytes);
  read_references(references, options, pool, meter, ref_skipped, [&](const reference_doc& d) {
    index.add(d.ngrams, d.tokens);
    if (!bloom) ref_ids.push_back(d.id);
    ++report.references;
    report.reference_ngrams += d.ngrams.size();
  });
  index.finalize();
  meter.end_stage();
  report.bloom_false_positive_rate = bloom ? index.false_positive_rate() : 0.0;
  if (report.references == 0 && options.max_reported_errors != 0) {  // like other warnings: silent when 0 (--quiet)
    meter.message("warning: no usable reference document; nothing can be contaminated");
  }

  // ---- scan the corpus ---------------------------------------------------------
  const std::uint64_t corpus_bytes = detail::stored_bytes(corpus);
  std::vector<std::uint64_t> per_ref(report.references, 0);
  output_options out_opts;
  out_opts.compression = options.compression;
  atomic_file tsv(out_dir + "/contamination.tsv");
  atomic_file clean(out_dir + (options.compression == output_compression::zstd ? "/clean.jsonl.zst" : "/clean.jsonl"),
                    out_opts);
  struct scan_result {
    std::string tsv, jsonl;
    std::vector<ref_id> hit_refs;  // for per-reference counts
    std::vector<detail::record_problem> problems;
    std::uint64_t docs = 0, skipped = 0, contaminated = 0, removed = 0, bytes = 0;
  };
  const shingle_options sh_opts{options.tokens, options.ngram, options.seed};
  detail::problem_reporter problems(corpus, options.max_reported_errors, "kept in clean.jsonl unchanged", meter);
  meter.begin_stage("scan corpus", corpus_bytes);
  for_each_chunk_ordered<scan_result>(
      corpus, options.reader, &pool,
      [&] {
        return [&, parser = record_parser(), sh = shingler(sh_opts), grams = std::vector<std::uint64_t>(),
                merged = std::map<ref_id, std::uint64_t>()](const input_chunk& chunk, std::size_t,
                                                            scan_result& res) mutable {
          res = scan_result{};
          res.bytes = chunk.data.size();
          parse_chunk(chunk, options.records, parser, [&](const record& r) {
            if (r.status == record_status::blank) return;
            ++res.docs;
            if (r.status != record_status::ok) {
              ++res.skipped;
              res.problems.push_back({r.status, r.source, r.line, r.error});
              detail::append_document_line(res.jsonl, chunk, r);
              return;
            }
            merged.clear();
            const std::uint64_t shared = index.check(sh, r.text, grams, bloom ? nullptr : &merged);
            if (shared > 0) {
              ++res.contaminated;
              append_tsv_field(res.tsv, r.id.empty() ? default_record_id(chunk.source_name, r.line) : r.id);
              res.tsv += '\t';
              res.tsv += std::to_string(shared);
              res.tsv += '\t';
              if (bloom) {
                res.tsv += '-';
              } else {
                bool first = true;
                for (const auto& [ref, count] : merged) {
                  if (!first) res.tsv += ',';
                  first = false;
                  append_tsv_field(res.tsv, ref_ids[ref]);
                  res.hit_refs.push_back(ref);
                }
              }
              res.tsv += '\n';
            }
            if (shared > options.max_shared) {
              ++res.removed;
            } else {
              detail::append_document_line(res.jsonl, chunk, r);
            }
          });
        };
      },
      [&](std::size_t, const input_chunk&, scan_result& res) {
        tsv.write(res.tsv);
        clean.write(res.jsonl);
        for (ref_id r : res.hit_refs) ++per_ref[r];
        for (const auto& p : res.problems) problems.skipped(p);
        report.documents += res.docs;
        report.skipped += res.skipped;
        report.contaminated += res.contaminated;
        report.removed += res.removed;
        meter.add(res.bytes, res.docs);
      });
  meter.end_stage();
  tsv.commit();
  clean.commit();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::string s;
  json_writer w(s);
  w.begin_object();
  w.field("command", "decontaminate");
  w.field("ngram", static_cast<std::uint64_t>(options.ngram));
  w.field("max_shared", options.max_shared);
  w.field("mode", name(bloom ? contamination_mode::bloom : contamination_mode::exact));
  if (bloom) {
    w.field("bloom_false_positive_rate", report.bloom_false_positive_rate);
  }
  w.field("references", report.references);
  w.field("references_skipped", ref_skipped);
  w.field("reference_ngrams", report.reference_ngrams);
  w.key("documents");
  w.begin_object();
  w.field("read", report.documents);
  w.field("contaminated", report.contaminated);
  w.field("removed", report.removed);
  w.field("kept", report.documents - report.removed);
  w.field("skipped", report.skipped);
  w.end_object();
  if (!bloom) {
    w.key("contaminating_references");
    w.value(static_cast<std::uint64_t>(std::count_if(per_ref.begin(), per_ref.end(), [](auto c) { return c > 0; })));
    w.key("per_reference");  // corpus documents each reference contaminates, references with none left out
    w.begin_array();
    for (std::size_t i = 0; i < per_ref.size(); ++i) {
      if (per_ref[i] == 0) continue;
      w.begin_object();
      w.field("id", ref_ids[i]);
      w.field("documents", per_ref[i]);
      w.end_object();
    }
    w.end_array();
  }
  detail::finish_stats(w, s, report.seconds, out_dir);
  return report;
}

}  // namespace neardup::jobs

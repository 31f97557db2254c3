// neardup decontaminate (see neardup/jobs/decontaminate.hpp).
#include "neardup/jobs/decontaminate.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "../io/chunk_pipeline.hpp"
#include "corpus_passes.hpp"
#include "part_bytes.hpp"
#include "neardup/contamination.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/memory.hpp"
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
void read_references(std::span<const source_info> refs, const decontaminate_options& o, const reader_options& reader,
                     executor& pool, pipeline::sink& meter, std::uint64_t& skipped, Add&& add) {
  const shingle_options sh_opts{o.tokens, o.ngram, o.seed};
  detail::problem_reporter problems(refs, o.max_reported_errors, "not used as a reference", meter);
  for_each_chunk_ordered<reference_result>(
      refs, reader, &pool,
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

// Bytes as MiB, rounded: KiB under 1 MiB, one decimal under 100 MiB.
std::string mib(std::uint64_t bytes) {
  if (bytes < (1 << 20)) return std::to_string((bytes + (1 << 9)) >> 10) + " KiB";
  if (bytes >= (std::uint64_t{100} << 20)) return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
  const std::uint64_t tenths = (bytes * 10 + (1 << 19)) >> 20;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MiB";
}

// The memory a run plans for (job_options::memory_bytes). Nothing grows with
// the corpus, which is streamed: its chunks in flight (two per thread, each
// with its pieces of clean.jsonl and contamination.tsv, about three times
// the chunk) take at most a quarter of the budget, in chunks of 64 KiB to
// the reader's size; the reference index (with the references' ids) may take
// the rest. Nothing is spilled: an index that outgrows its share stops the
// run while the references are read, before the corpus is.
struct memory_plan {
  std::uint64_t budget = 0;
  std::uint64_t reference_bytes = 0;  // stored bytes of the references
  std::size_t chunk_bytes = 0;
  std::uint64_t chunks_bytes = 0;     // the chunks in flight, with their results
  std::uint64_t index_limit = 0;      // the reference index's share

  // One line for the job's events: "plan: ...".
  std::string describe(bool bloom) const {
    // About one word token, hence one n-gram, per 6 bytes of reference text.
    const std::uint64_t ngrams = reference_bytes / 6;
    return "plan: references " + mib(reference_bytes) + " (about " + std::to_string(ngrams) + " n-grams: index about " +
           mib(ngrams * (bloom ? 2 : 36)) + " while built); budget " + mib(budget) + ": " + mib(chunks_bytes) +
           " for the corpus's chunks in flight, " + mib(index_limit) + " for the reference index";
  }
};

memory_plan plan_memory(std::span<const source_info> references, const decontaminate_options& options,
                        std::size_t threads) {
  memory_plan plan;
  plan.budget = options.memory_bytes.value_or(default_memory_budget_bytes());
  plan.reference_bytes = detail::stored_bytes(references);
  const std::uint64_t in_flight = 2 * std::max<std::size_t>(threads, 1);
  plan.chunk_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(
      std::max<std::uint64_t>(plan.budget / 4 / (3 * in_flight), std::uint64_t{64} << 10), options.reader.chunk_bytes));
  plan.chunks_bytes = 3 * in_flight * plan.chunk_bytes;
  plan.index_limit = plan.budget > plan.chunks_bytes ? plan.budget - plan.chunks_bytes : 0;
  return plan;
}

[[noreturn]] void index_too_large(const memory_plan& plan, std::uint64_t references, std::uint64_t ngrams,
                                  std::uint64_t bytes, bool bloom) {
  throw std::runtime_error(
      "the reference index does not fit in the memory budget (" + mib(plan.budget) + ", --memory-mb): " + (bloom ? "the Bloom filter for " + std::to_string(ngrams) + " n-grams"
                     : "after " + std::to_string(references) + " references (" + std::to_string(ngrams) +
                           " n-grams) of " + mib(plan.reference_bytes) + ", the index") +
      " needs about " + mib(bytes) + ", more than the " + mib(plan.index_limit) +
      " the budget leaves it (the corpus's chunks in flight take " + mib(plan.chunks_bytes) +
      "); raise --memory-mb" +
      (bloom ? ", or raise --bloom-fp" : ", or index the references as a Bloom filter (--bloom-fp P: about 1.2 bytes per n-gram at P = 0.01)"));
}

// The references, read and indexed (with their warnings to `meter`).
struct reference_set {
  std::unique_ptr<pipeline::reference_checker> index;
  std::vector<std::string> ids;  // exact mode: per ref_id
  std::uint64_t skipped = 0;     // bad reference records
};

reference_set load_references(std::span<const source_info> references, const decontaminate_options& options,
                              const memory_plan& plan, executor& pool, pipeline::sink& meter,
                              decontaminate_report& report) {
  const bool bloom = options.bloom_false_positive_rate > 0;
  reference_set set;
  const std::uint64_t ref_bytes = plan.reference_bytes;
  reader_options reader = options.reader;
  reader.chunk_bytes = plan.chunk_bytes;
  std::uint64_t expected_ngrams = 0;
  if (bloom) {
    // Size the filter first: one pass to count the n-grams.
    meter.begin_stage("count reference n-grams", ref_bytes);
    read_references(references, options, reader, pool, meter, set.skipped,
                    [&](const reference_doc& d) { expected_ngrams += d.ngrams.size(); });
    meter.end_stage();
    set.skipped = 0;
  }
  set.index = std::make_unique<pipeline::reference_checker>(options, expected_ngrams);
  pipeline::reference_checker& index = *set.index;
  if (index.memory_bytes() > plan.index_limit) {  // the Bloom filter, sized from the count
    index_too_large(plan, 0, expected_ngrams, index.memory_bytes(), true);
  }
  std::uint64_t id_bytes = 0;
  meter.begin_stage("index references", ref_bytes);
  read_references(references, options, reader, pool, meter, set.skipped, [&](const reference_doc& d) {
    if (d.tokens < options.min_reference_tokens) {
      report.short_references.push_back(d.id);
      return;
    }
    index.add(d.ngrams, d.tokens);
    if (!bloom) {
      set.ids.push_back(d.id);
      id_bytes += sizeof(std::string) + d.id.size() + sizeof(std::uint64_t);  // its id, its count (per_ref)
    }
    ++report.references;
    report.reference_ngrams += d.ngrams.size();
    if (index.memory_bytes() + id_bytes > plan.index_limit) {
      index_too_large(plan, report.references, report.reference_ngrams, index.memory_bytes() + id_bytes, false);
    }
  });
  index.finalize();
  meter.end_stage();
  report.bloom_false_positive_rate = bloom ? index.false_positive_rate() : 0.0;
  if (!report.short_references.empty() && options.max_reported_errors != 0) {
    meter.message("warning: " + std::to_string(report.short_references.size()) +
                  " references have fewer than " + std::to_string(options.min_reference_tokens) +
                  " tokens and are not used (--min-reference-tokens; listed in stats.json), the first: '" +
                  report.short_references.front() + "'");
  }
  if (report.references == 0 && options.max_reported_errors != 0) {  // like other warnings: silent when 0 (--quiet)
    meter.message("warning: no usable reference document; nothing can be contaminated");
  }
  return set;
}

// What the scan learns from one chunk (or, summed, from one part).
struct scan_result {
  std::string tsv, jsonl;
  std::vector<ref_id> hit_refs;  // for per-reference counts
  std::vector<detail::record_problem> problems;
  std::uint64_t docs = 0, skipped = 0, contaminated = 0, removed = 0, bytes = 0;
};

// Checks every document of `corpus` against the references; calls
// consume(result) per chunk, in input order.
template <class Consume>
void scan_documents(std::span<const source_info> corpus, const decontaminate_options& options,
                    const memory_plan& plan, executor& pool, const reference_set& refs, Consume&& consume) {
  reader_options reader = options.reader;
  reader.chunk_bytes = plan.chunk_bytes;
  const bool bloom = options.bloom_false_positive_rate > 0;
  const shingle_options sh_opts{options.tokens, options.ngram, options.seed};
  const pipeline::reference_checker& index = *refs.index;
  const std::vector<std::string>& ref_ids = refs.ids;
  for_each_chunk_ordered<scan_result>(
      corpus, reader, &pool,
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
      [&](std::size_t, const input_chunk&, scan_result& res) { consume(res); });
}

// plan_memory(), announced.
memory_plan planned(std::span<const source_info> references, const decontaminate_options& options,
                    const executor& pool, pipeline::sink& meter) {
  memory_plan plan = plan_memory(references, options, pool.threads());
  if (options.max_reported_errors > 0) meter.message(plan.describe(options.bloom_false_positive_rate > 0));
  return plan;
}

// One run's state from indexing the references to stats.json: the outputs'
// files, written in input order, the counts and the bad-record reporter.
struct job_run {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  executor pool;
  detail::job_events events;
  pipeline::sink& meter;
  memory_plan plan;
  decontaminate_report report;
  reference_set refs;
  std::vector<std::uint64_t> per_ref;
  atomic_file tsv;
  atomic_file clean;
  detail::problem_reporter problems;

  job_run(std::span<const source_info> corpus, std::span<const source_info> references, const std::string& out_dir,
          const decontaminate_options& options)
      : pool(options.threads),
        events((detail::make_output_dir(out_dir), options)),
        meter(*events),
        plan(planned(references, options, pool, meter)),
        refs(load_references(references, options, plan, pool, meter, report)),
        per_ref(report.references, 0),
        tsv(out_dir + "/contamination.tsv"),
        clean(out_dir + (options.compression == output_compression::zstd ? "/clean.jsonl.zst" : "/clean.jsonl"),
              output_options{.compression = options.compression}),
        problems(corpus, options.max_reported_errors, "kept in clean.jsonl unchanged", meter) {
    report.memory_budget_bytes = plan.budget;
    report.reference_index_bytes = refs.index->memory_bytes();
  }
};

// Broad-reference warnings and stats.json (the rest of report is filled).
void finish_report(const std::string& out_dir, const decontaminate_options& options, decontaminate_report& report,
                   const reference_set& refs, const std::vector<std::uint64_t>& per_ref, pipeline::sink& meter,
                   std::chrono::steady_clock::time_point t0) {
  const bool bloom = options.bloom_false_positive_rate > 0;
  const std::vector<std::string>& ref_ids = refs.ids;
  const std::uint64_t ref_skipped = refs.skipped;
  for (std::size_t i = 0; i < per_ref.size() && !bloom; ++i) {
    if (static_cast<double>(per_ref[i]) <= options.broad_reference_share * static_cast<double>(report.documents)) continue;
    report.broad_references.emplace_back(ref_ids[i], per_ref[i]);
    if (options.max_reported_errors != 0) {
      meter.message("warning: reference '" + ref_ids[i] + "' alone contaminates " +
                    std::to_string(per_ref[i]) + " of " + std::to_string(report.documents) +
                    " documents (more than " + std::to_string(static_cast<int>(options.broad_reference_share * 100)) +
                    "%): is it too short or too generic? (listed in stats.json as broad_references)");
    }
  }
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
  w.field("min_reference_tokens", static_cast<std::uint64_t>(options.min_reference_tokens));
  w.key("short_references");  // not used: fewer tokens than min_reference_tokens
  w.begin_array();
  for (const auto& id : report.short_references) w.value(id);
  w.end_array();
  w.field("broad_reference_share", options.broad_reference_share);
  w.key("broad_references");  // each alone contaminates more than that share of the documents
  w.begin_array();
  for (const auto& [id, docs] : report.broad_references) {
    w.begin_object();
    w.field("id", id);
    w.field("documents", docs);
    w.end_object();
  }
  w.end_array();
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
  w.key("memory");
  w.begin_object();
  w.field("budget_bytes", report.memory_budget_bytes);
  w.field("reference_index_bytes", report.reference_index_bytes);
  w.end_object();
  detail::finish_stats(w, s, report.seconds, out_dir);
}

}  // namespace

decontaminate_report run_decontaminate(std::span<const source_info> corpus,
                                       std::span<const source_info> references, const std::string& out_dir,
                                       const decontaminate_options& options) {
  options.validate();
  detail::validate(options);
  job_run run(corpus, references, out_dir, options);
  run.meter.begin_stage("scan corpus", detail::stored_bytes(corpus));
  scan_documents(corpus, options, run.plan, run.pool, run.refs, [&](const scan_result& res) {
    run.tsv.write(res.tsv);
    run.clean.write(res.jsonl);
    for (ref_id r : res.hit_refs) ++run.per_ref[r];
    for (const auto& p : res.problems) run.problems.skipped(p);
    run.report.documents += res.docs;
    run.report.skipped += res.skipped;
    run.report.contaminated += res.contaminated;
    run.report.removed += res.removed;
    run.meter.add(res.bytes, res.docs);
  });
  run.meter.end_stage();
  run.tsv.commit();
  run.clean.commit();
  finish_report(out_dir, options, run.report, run.refs, run.per_ref, run.meter, run.t0);
  return run.report;
}

namespace {

constexpr char kPartMagic[8] = {'N', 'D', 'D', 'C', 'P', 'A', 'R', 'T'};
constexpr std::uint32_t kPartVersion = 1;

// Discards the notices of a scan task: the finishing step reports the
// references' problems, and the part carries its records' problems.
class quiet_sink final : public pipeline::sink {
 public:
  void message(const std::string&) override {}
};

}  // namespace

std::string scan_decontaminate_part(const source_info& source, std::span<const source_info> references,
                                    const decontaminate_options& options) {
  options.validate();
  detail::validate(options);
  executor pool(options.threads);
  quiet_sink quiet;
  decontaminate_report report;
  const memory_plan plan = plan_memory(references, options, pool.threads());
  const reference_set refs = load_references(references, options, plan, pool, quiet, report);
  scan_result sum;
  std::vector<std::uint64_t> per_ref(report.references, 0);
  const std::array<source_info, 1> one{source};
  scan_documents(one, options, plan, pool, refs, [&](const scan_result& res) {
    sum.tsv += res.tsv;
    sum.jsonl += res.jsonl;
    for (ref_id r : res.hit_refs) ++per_ref[r];
    sum.problems.insert(sum.problems.end(), res.problems.begin(), res.problems.end());
    sum.docs += res.docs;
    sum.skipped += res.skipped;
    sum.contaminated += res.contaminated;
    sum.removed += res.removed;
  });

  detail::part_writer w(kPartMagic, kPartVersion);
  w.num<std::uint64_t>(report.references);
  w.num<std::uint64_t>(report.reference_ngrams);
  w.num<std::uint64_t>(source.range_begin);
  w.num<std::uint64_t>(source.range_end);
  w.num<std::uint64_t>(sum.docs);
  w.num<std::uint64_t>(sum.skipped);
  w.num<std::uint64_t>(sum.contaminated);
  w.num<std::uint64_t>(sum.removed);
  w.num<std::uint64_t>(per_ref.size());
  for (const std::uint64_t c : per_ref) w.num<std::uint64_t>(c);
  w.num<std::uint64_t>(sum.problems.size());
  for (const auto& p : sum.problems) {
    w.num<std::uint8_t>(static_cast<std::uint8_t>(p.status));
    w.num<std::uint64_t>(p.line);
    w.blob(p.error);
  }
  w.blob(sum.tsv);
  w.blob(sum.jsonl);
  return w.take();
}

decontaminate_report run_decontaminate_parts(std::span<const source_info> corpus,
                                             std::span<const source_info> references,
                                             std::span<const std::string_view> parts,
                                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                                             const decontaminate_options& options) {
  detail::check_part_order("run_decontaminate_parts", corpus.size(), parts.size(), part_sources);
  return run_decontaminate_parts(
      corpus, references, [&](std::size_t i) { return parts[i]; }, part_sources, out_dir, options);
}

decontaminate_report run_decontaminate_parts(std::span<const source_info> corpus,
                                             std::span<const source_info> references,
                                             const std::function<std::string_view(std::size_t)>& part,
                                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                                             const decontaminate_options& options) {
  options.validate();
  detail::validate(options);
  detail::check_part_order("run_decontaminate_parts", corpus.size(), part_sources.size(), part_sources);
  job_run run(corpus, references, out_dir, options);
  std::uint64_t previous_end = 0;
  for (std::size_t i = 0; i < part_sources.size(); ++i) {
    const std::uint32_t s = part_sources[i];
    const bool continues = i > 0 && part_sources[i - 1] == s;  // another range of the same file
    const std::string_view bytes = part(i);
    try {
      detail::part_reader r(bytes, kPartMagic, kPartVersion);
      const auto references_in_part = r.num<std::uint64_t>();
      if (references_in_part != run.report.references || r.num<std::uint64_t>() != run.report.reference_ngrams) {
        detail::part_reader::fail("made with other references or options");
      }
      const auto begin = r.num<std::uint64_t>();
      const auto end = r.num<std::uint64_t>();
      if (begin != (continues ? previous_end : 0) || end < begin) {
        detail::part_reader::fail("its byte range does not start where the previous part of the file ended");
      }
      previous_end = end;
      run.report.documents += r.num<std::uint64_t>();
      run.report.skipped += r.num<std::uint64_t>();
      run.report.contaminated += r.num<std::uint64_t>();
      run.report.removed += r.num<std::uint64_t>();
      if (r.num<std::uint64_t>() != run.per_ref.size()) detail::part_reader::fail("made with other references");
      for (auto& c : run.per_ref) c += r.num<std::uint64_t>();
      const auto n = r.num<std::uint64_t>();
      if (n > bytes.size() / 17) detail::part_reader::fail("truncated");  // 17 bytes per problem at least
      for (std::uint64_t k = 0; k < n; ++k) {
        const auto status = r.num<std::uint8_t>();
        if (status > static_cast<std::uint8_t>(record_status::line_too_long)) {
          detail::part_reader::fail("bad record status");
        }
        const auto line = r.num<std::uint64_t>();
        const std::string_view error = r.blob();
        run.problems.skipped({static_cast<record_status>(status), s, line, error});
      }
      run.tsv.write(r.blob());
      run.clean.write(r.blob());
      if (!r.done()) detail::part_reader::fail("trailing bytes");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      if (what.rfind("neardup part: ", 0) == 0) throw std::runtime_error(corpus[s].name + ": " + what);
      throw;
    }
  }
  run.tsv.commit();
  run.clean.commit();
  finish_report(out_dir, options, run.report, run.refs, run.per_ref, run.meter, run.t0);
  return run.report;
}

}  // namespace neardup::jobs

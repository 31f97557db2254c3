// The dedup job (see neardup/jobs/dedup.hpp): pass 1 -> engine -> write.
#include "neardup/jobs/dedup.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "corpus_passes.hpp"
#include "evidence_files.hpp"
#include "dedup_scanned.hpp"
#include "prior_run.hpp"
#include "spill.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/memory.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/version.hpp"

namespace neardup::jobs {

namespace {

using clock_type = std::chrono::steady_clock;
using io::json_writer;

void write_stats(const std::string& path, const dedup_report& r, const dedup_options& o,
                 std::span<const io::source_info> sources, std::size_t threads) {
  std::string s;
  json_writer w(s);
  w.begin_object();
  w.field("neardup_version", version_string());
  w.field("command", o.near ? "dedup" : "exact");
  w.key("inputs");
  w.begin_array();
  for (const auto& src : sources) w.value(src.name);
  w.end_array();
  w.key("documents");
  w.begin_object();
  w.field("read", r.documents);
  w.field("kept", r.kept);
  w.field("removed", r.removed_exact + r.removed_near);
  w.field("removed_exact_duplicates", r.removed_exact);
  w.field("removed_near_duplicates", r.removed_near);
  w.field("skipped", r.skipped);
  w.key("skipped_by_reason");
  w.begin_object();
  w.field("malformed_json", r.skipped_malformed_json);
  w.field("not_object", r.skipped_not_object);
  w.field("missing_text", r.skipped_missing_text);
  w.field("text_not_string", r.skipped_text_not_string);
  w.field("line_too_long", r.skipped_line_too_long);
  w.end_object();
  w.key("repaired");
  w.begin_object();
  w.field("invalid_utf8", r.repaired_invalid_utf8);
  w.field("lone_surrogate", r.repaired_lone_surrogate);
  w.field("control_chars", r.repaired_control_chars);
  w.end_object();
  w.field("blank_lines", r.blank_lines);
  w.field("empty", r.empty_documents);
  w.field("shorter_than_ngram", r.short_documents);
  w.field("duplicate_ids", r.duplicate_ids);
  if (o.prior != nullptr) w.field("stored_before", static_cast<std::uint64_t>(o.prior->size));  // --against
  w.end_object();
  w.key("clusters");
  w.begin_object();
  w.field("count", r.clusters);
  w.key("with_duplicates");
  std::uint64_t multi = 0;
  for (const auto& [size, count] : r.cluster_size_histogram) {
    if (size > 1) multi += count;
  }
  w.value(multi);
  w.key("largest");
  w.begin_object();
  w.field("size", r.largest_cluster);
  w.field("kept_id", r.largest_cluster_kept_id);
  w.end_object();
  w.key("size_histogram");
  w.begin_object();
  for (const auto& [size, count] : r.cluster_size_histogram) {
    w.field(std::to_string(size), static_cast<std::uint64_t>(count));
  }
  w.end_object();
  w.end_object();
  w.key("parameters");
  w.begin_object();
  w.field("tokens", name(o.tokens.kind));
  w.field("keep", name(o.keep));
  w.field("seed", o.seed);
  w.field("text_field", o.records.text_field);
  w.field("id_field", o.records.id_field);
  w.field("threads", static_cast<std::uint64_t>(threads));
  if (o.near) {  // `neardup exact` uses none of these
    w.field("threshold", o.threshold);
    w.field("num_perm", static_cast<std::uint64_t>(o.num_perm));
    w.field("scheme", name(o.scheme));
    w.field("ngram", static_cast<std::uint64_t>(o.ngram));
    w.field("bands", r.lsh.bands);
    w.field("rows", r.lsh.rows);
    w.field("candidate_probability_at_threshold", r.candidate_probability_at_threshold);
    w.field("expected_miss_rate_at_threshold", 1 - r.candidate_probability_at_threshold);
    w.key("s_curve");
    w.begin_object();
    for (double j : {0.5, 0.6, 0.7, 0.8, 0.9, 0.95}) {
      char name[16];
      std::snprintf(name, sizeof name, "%.2f", j);
      w.field(name, candidate_probability(j, r.lsh));
  }
  w.end_object();
  w.field("verify", name(o.verify));
  w.field("exact_first", o.exact_first);
  w.field("kernel", r.kernel);
  }
  w.end_object();
  w.key("lsh");
  w.begin_object();
  w.field("candidate_documents", r.candidate_documents);
  w.field("verifications", r.verifications);
  w.field("verified", r.verified);
  w.field("rejected", r.rejected);
  w.end_object();
  w.field("input_bytes", r.input_bytes);
  w.field("text_bytes", r.text_bytes);
  w.key("seconds");
  w.begin_object();
  for (const auto& st : r.stages) {
    w.field(st.name, st.seconds);
  }
  w.field("total", r.seconds);
  w.end_object();
  w.field("peak_rss_bytes", r.peak_rss_bytes);
  w.key("memory");
  w.begin_object();
  w.field("signature_bytes_per_document", r.documents > 0 ? r.signature_bytes / r.documents : 0);
  w.field("grouping_bytes_per_document", r.grouping_bytes_per_document);
  w.field("verification_shingle_set_bytes", r.verify_set_bytes);
  w.field("budget_bytes", r.memory_budget_bytes);
  w.end_object();
  w.key("spill");
  w.begin_object();
  w.field("spilled", r.spilled);
  w.field("disk_bytes_written", r.spill_bytes_written);
  w.field("runs_per_band", r.spill_runs_per_band);
  w.field("planned_documents", r.planned_documents);
  w.field("planned_disk_bytes", r.planned_disk_bytes);
  w.end_object();
  w.end_object();
  s += '\n';
  io::write_file_atomic(path, s);
}

// Shingle sets for exact verification: those pass 1 kept, then those
// read again for the candidates past the set budget. A run past its memory
// budget (`spill`) keeps the sets read again in a temporary file and reads
// each back when asked: set() then returns a span that stays valid until the
// second next call of set() on the same thread (the engine compares two sets
// at a time).
class corpus_sets final : public pipeline::set_provider {
 public:
  corpus_sets(std::span<const io::source_info> sources, const detail::corpus_index& corpus,
              const detail::pass_options& pass, pipeline::sink& events, bool spill)
      : sources_(sources), corpus_(corpus), pass_(pass), events_(events), scanned_(corpus.sets.of.size()),
        spill_(spill) {}

  bool missing(std::vector<std::uint8_t>& wanted) override {
    std::fill(wanted.begin(), wanted.begin() + static_cast<std::ptrdiff_t>(std::min(scanned_, wanted.size())), 0);
    return std::find(wanted.begin(), wanted.end(), 1) != wanted.end();
  }
  void load(const std::vector<std::uint8_t>& wanted) override {
    loaded_ = detail::load_shingle_sets(sources_, corpus_, wanted, pass_, events_, spill_);
  }
  std::span<const std::uint64_t> set(doc_id d) const override {
    if (d < scanned_) return corpus_.sets.of[d];
    if (!loaded_.file) return loaded_[d];
    thread_local std::vector<std::uint64_t> buffers[2];
    thread_local unsigned next = 0;
    next ^= 1;
    return loaded_.read(d, buffers[next]);
  }
  std::uint64_t bytes() const noexcept {
    return corpus_.sets.bytes + corpus_.sets.of.size() * sizeof(corpus_.sets.of[0]) +
           (loaded_.values.size() + loaded_.begin.size() + loaded_.has.size()) * sizeof(std::uint64_t) +
           loaded_.rank.size() * sizeof(std::uint32_t);
  }

 private:
  std::span<const io::source_info> sources_;
  const detail::corpus_index& corpus_;
  const detail::pass_options& pass_;
  pipeline::sink& events_;
  std::size_t scanned_;
  bool spill_;
  detail::shingle_sets loaded_;
};

// The stage data of a spilled run that verifies by exact Jaccard: the band
// keys from the spill store, and a candidate's signature made again from its
// shingle set (a signature is a function of the set: signature.hpp), which
// the verifier reads anyway. The signatures are then not spilled: 516 of the
// 827 bytes of disk per document measured on 10 M short documents.
class signatures_from_sets_data final : public pipeline::spilled_stage_data {
 public:
  signatures_from_sets_data(detail::spill_store& store, const pipeline::set_provider& sets, const minhasher& hasher)
      : store_(store), sets_(sets), hasher_(hasher) {}
  void buckets(std::uint32_t band, std::span<const std::uint8_t> excluded,
               const std::function<void(const bucket_list&)>& fn) override {
    store_.buckets(band, excluded, fn);
  }
  // REQUIRES: d is a candidate (its set is at hand).
  void signature(doc_id d, std::span<sig_value> out) const override { hasher_.sign(sets_.set(d), out); }

 private:
  detail::spill_store& store_;
  const pipeline::set_provider& sets_;
  const minhasher& hasher_;
};

}  // namespace

dedup_report run_dedup(std::span<const io::source_info> sources, const std::string& out_dir,
                       const dedup_options& options) {
  return detail::run_dedup_scanned(sources, out_dir, options, nullptr);
}

dedup_report detail::run_dedup_scanned(std::span<const io::source_info> sources, const std::string& out_dir,
                                       const dedup_options& options, scanned_corpus* scanned) {
  options.validate();
  detail::validate(options);
  const auto t_start = clock_type::now();
  executor pool(options.threads);
  detail::job_events events(options);
  const minhasher hasher(options.minhash());

  detail::pass_options pass = detail::pass_options_for(options, options, pool);
  if (options.near && options.verify == verify_mode::exact) {
    pass.keep_sets_bytes = options.set_memory_bytes ? *options.set_memory_bytes : io::usable_memory_bytes() / 4;
    pass.sets_of_first_copy_only = options.exact_first;  // exact duplicates are left out of LSH
    if (options.keep_all_sets) pass.keep_sets_bytes = UINT64_MAX;
  }

  detail::make_output_dir(out_dir);

  // ---- plan: memory and disk; spill past the budget ---------------------------
  const std::uint64_t budget = options.memory_bytes.value_or(io::default_memory_budget_bytes());
  const std::string tmp_dir = options.tmp_dir.empty() ? out_dir : options.tmp_dir;
  const std::optional<bander> spill_bands =
      options.near ? std::optional<bander>(std::in_place, options.banding(), options.num_perm, options.seed)
                   : std::nullopt;
  // Verifying by exact Jaccard, a spilled run makes the candidates'
  // signatures again from their sets (signatures_from_sets) instead of
  // spilling every signature.
  const bool signatures_from_sets = options.near && options.verify == verify_mode::exact;
  const detail::memory_plan plan = detail::plan_memory(
      sources, options.near ? options.num_perm : 0, options.near ? options.banding().bands : 0, budget, tmp_dir,
      pool.threads(), !signatures_from_sets);
  if (options.max_reported_errors > 0) events->message(plan.describe());
  pass.expected_documents = plan.documents;
  // Parts scanned elsewhere were cut at the reader's chunks: the later
  // passes keep them.
  if (scanned == nullptr && plan.chunk_bytes > 0) {
    pass.reader.chunk_bytes = std::min(pass.reader.chunk_bytes, plan.chunk_bytes);
  }
  detail::spill_counter spilled_bytes;  // every temporary file of the run
  std::unique_ptr<detail::spill_store> spill;
  // Spilling covers the plain run. Parts scanned elsewhere (jobs/parts.hpp)
  // arrive with their signatures, and a run against a stored index (or one
  // that adds to it) needs every signature in memory: those run unspilled.
  const bool spilling = plan.spill && scanned == nullptr && options.prior == nullptr && !options.on_signed;
  if (spilling) {
    // The document table goes to mapped files, and the per-document sorts
    // (duplicate ids, exact groups) run slice by slice within merge_bytes.
    pass.spill_table_dir = tmp_dir;
    pass.spill_bytes = &spilled_bytes;
    pass.sort_bytes = plan.merge_bytes;
    if (options.near) {
      spill = std::make_unique<detail::spill_store>(tmp_dir, spilled_bytes, pipeline::stage_data_options::of(options),
                                                    *spill_bands, plan.run_records, plan.merge_bytes,
                                                    !signatures_from_sets);
      pass.spill_signatures = [&spill](std::uint64_t first, std::span<const sig_value> sigs) {
        spill->add(first, sigs);
      };
      pass.keep_sets_bytes = std::min<std::uint64_t>(pass.keep_sets_bytes, plan.set_bytes);
    }
  }

  // A plain in-memory run that verifies by exact Jaccard makes the band
  // keys in pass 1 and keeps the signatures of short documents not at all
  // (pass_options::band_keys): the sets stand in for them. Parts scanned
  // elsewhere, a run against a stored index and on_signed want every
  // signature.
  if (signatures_from_sets && !spilling && scanned == nullptr && options.prior == nullptr && !options.on_signed) {
    pass.band_keys = &*spill_bands;
  }

  dedup_report report;
  report.input_bytes = detail::stored_bytes(sources);

  // ---- pass 1: parse, tokenize, fingerprint, sign ---------------------------
  const auto t_sign = clock_type::now();
  events->begin_stage(options.near ? "sign" : "fingerprint", report.input_bytes);
  detail::scan_counts counts;
  detail::corpus_index corpus =
      scanned != nullptr ? std::move(scanned->corpus)  // the parts' scans, merged (jobs/parts.hpp)
                         : detail::scan_corpus(sources, pass, options.near ? &hasher : nullptr, *events, counts);
  if (scanned != nullptr) counts = scanned->counts;
  if (spill) spill->finish();
  if (spilling) detail::release_free_memory();  // the chunks' buffers, before the engine allocates
  events->end_stage();
  const double sign_seconds = scanned != nullptr ? scanned->seconds
                                                 : std::chrono::duration<double>(clock_type::now() - t_sign).count();

  const std::size_t n = corpus.size();
  std::vector<std::uint8_t> usable(n);
  std::vector<std::uint64_t> text_bytes;
  if (options.keep == keep_policy::longest) text_bytes.resize(n);
  {
    const auto describe = [&](std::size_t d) {
      const detail::doc_meta& m = corpus.docs[d];
      usable[d] = m.status == io::record_status::ok && m.has_tokens;
      if (!text_bytes.empty()) text_bytes[d] = m.text_bytes;
    };
    if (!corpus.docs.spilled()) {  // in memory: block by block on the pool's threads
      constexpr std::size_t block = std::size_t{1} << 16;
      run_on(&pool, (n + block - 1) / block, [&](std::size_t b) {
        for (std::size_t d = b * block; d < std::min(n, (b + 1) * block); ++d) describe(d);
      });
    } else {
      for (std::size_t d = 0; d < n; ++d) {
        describe(d);
        if ((d & detail::table_release_mask) == 0) corpus.release_table();
      }
    }
  }
  corpus.release_table();
  pipeline::signed_documents docs;
  docs.size = n;
  const bool keyed = corpus.num_bands != 0;
  if (!keyed) {
    docs.signatures = corpus.signatures;
  } else {
    docs.band_keys = [&corpus](std::uint32_t band) { return corpus.band_pieces(band); };
    docs.signature_of = [&corpus](doc_id d) { return corpus.signature(d); };
  }
  docs.fingerprints = corpus.fingerprints;
  docs.usable = usable;
  docs.text_bytes = text_bytes;
  corpus_sets sets(sources, corpus, pass, *events, spilling);
  std::optional<signatures_from_sets_data> resigned;
  if (spill && signatures_from_sets) resigned.emplace(*spill, sets, hasher);
  docs.spilled = resigned   ? static_cast<pipeline::spilled_stage_data*>(&*resigned)
                 : spill    ? spill.get()
                 : scanned != nullptr ? scanned->stage_data
                                      : nullptr;
  docs.cluster_labels = false;  // the job writes kept_of alone
  if (spilling) {
    docs.exact_sort_bytes = plan.merge_bytes;
    docs.release_fingerprints = [&corpus] { corpus.fingerprints.release(); };
  }
  pipeline::set_provider* set_source = scanned != nullptr && scanned->sets != nullptr ? scanned->sets : &sets;
  pipeline::dedup_options engine_options = options;
  engine_options.evidence.record = true;  // the job always writes its audit trail
  const pipeline::run_context context{&pool, events.get(), report.input_bytes};
  std::vector<prior_join> joins;
  pipeline::dedup_result result =
      options.prior != nullptr ? detail::run_against(*options.prior, docs, engine_options, set_source, context, &joins)
                               : pipeline::run_stages(docs, engine_options, set_source, context);
  if (options.prior != nullptr) corpus.prior_id = options.prior->id;
  if (options.on_signed) {
    options.on_signed(signed_input{
        .size = n, .signatures = docs.signatures, .fingerprints = docs.fingerprints, .usable = usable,
        .kept_of = result.kept_of, .id = [&](doc_id d) { return corpus.id_of(sources, d); },
        .set = [&](doc_id d) { return corpus.sets.of[d]; }, .joins = joins});
  }
  std::vector<std::uint8_t>().swap(usable);
  report.verify_set_bytes = options.near ? sets.bytes() : 0;
  report.signature_bytes = !options.near ? 0
                           : !keyed       ? std::uint64_t{n} * options.num_perm * sizeof(sig_value)
                                          : corpus.signatures.size() * sizeof(sig_value);
  // The stage data of an in-memory run (band keys, shingle sets,
  // signatures: ~200 bytes per short document) is not read after the
  // engine: it is returned to the system on a worker while the outputs are
  // written, not by the main thread after them.
  executor::group released;
  if (scanned == nullptr && !spilling && options.prior == nullptr && pool.threads() > 1) {
    released = pool.start(1, [&corpus](std::size_t) {
      (void)std::exchange(corpus.band_keys, {});  // each temporary is freed here
      (void)std::exchange(corpus.sets, {});
      (void)std::exchange(corpus.signatures, {});
      (void)std::exchange(corpus.signature_slot, {});
    });
  }
  static_cast<pipeline::dedup_stats&>(report) = std::move(result.stats);
  report.stages.insert(report.stages.begin(), pipeline::stage_time{"sign", sign_seconds});

  report.documents = n;
  report.blank_lines = counts.blank_lines;
  report.text_bytes = counts.text_bytes;
  report.skipped = counts.skipped;
  report.skipped_malformed_json = counts.skipped_by_status[static_cast<int>(io::record_status::malformed_json)];
  report.skipped_not_object = counts.skipped_by_status[static_cast<int>(io::record_status::not_object)];
  report.skipped_missing_text = counts.skipped_by_status[static_cast<int>(io::record_status::missing_text)];
  report.skipped_text_not_string = counts.skipped_by_status[static_cast<int>(io::record_status::text_not_string)];
  report.skipped_line_too_long = counts.skipped_by_status[static_cast<int>(io::record_status::line_too_long)];
  report.repaired_invalid_utf8 = counts.repaired_invalid_utf8;
  report.repaired_lone_surrogate = counts.repaired_lone_surrogate;
  report.repaired_control_chars = counts.repaired_control_chars;
  report.empty_documents = counts.empty_documents;
  report.short_documents = counts.short_documents;
  report.duplicate_ids = counts.duplicate_ids;
  report.memory_budget_bytes = budget;
  report.planned_documents = plan.documents;
  report.planned_disk_bytes = plan.disk_bytes;
  report.spilled = plan.spill;
  report.spill_bytes_written = spilled_bytes.written.load();
  if (spill) {
    report.spill_runs_per_band = spill->runs_per_band();
    spill.reset();  // frees the stage data's temporary files before the outputs are written
  }
  if (n > 0) report.largest_cluster_kept_id = corpus.id_of(sources, report.largest_cluster_kept);

  // ---- write outputs in input order -----------------------------------------
  const auto t_write = clock_type::now();
  events->begin_stage("write", report.input_bytes);
  executor::group destroyed;  // the document table, freed on a worker
  if (options.write_documents) {
    const std::string kept_path =
        out_dir + (options.compression == io::output_compression::zstd ? "/deduped.jsonl.zst" : "/deduped.jsonl");
    const bool elsewhere = scanned != nullptr && scanned->write_documents;  // by the parts' write tasks
    // The evidence files need only the index and the verdicts: with more
    // than one worker they are written on one while the kept lines are
    // copied and clusters.tsv is written (a failure is rethrown by wait()),
    // and put in place after those, as before: a run that fails while
    // writing leaves none of them.
    std::vector<io::atomic_file> evidence;
    const auto write_evidence = [&] {
      evidence = detail::write_evidence_files(out_dir, sources, corpus, result.kept_of, result.evidence);
    };
    executor::group evidence_task;
    if (pool.threads() > 1) evidence_task = pool.start(1, [&](std::size_t) { write_evidence(); });
    std::vector<io::atomic_file> written =
        detail::write_kept(sources, corpus, result.kept_of, out_dir + "/clusters.tsv",
                           elsewhere ? std::string() : kept_path, options.compression, pass, *events);
    if (elsewhere) scanned->write_documents(corpus, result.kept_of, kept_path);
    if (pool.threads() > 1) {
      evidence_task.wait();
    } else {
      write_evidence();
    }
    // The document table is not read again: it is freed on a worker (~15 ms
    // of unmapping on 1 M tiny documents) while the files are committed here
    // (mostly waits for fsync).
    if (pool.threads() > 1) {
      released.wait();
      destroyed = pool.start(1, [&corpus](std::size_t) { const detail::corpus_index doomed(std::move(corpus)); });
    }
    for (std::vector<io::atomic_file>* files : {&written, &evidence}) {
      for (io::atomic_file& f : *files) f.commit();
    }
  }
  events->end_stage();
  report.stages.push_back({"write", std::chrono::duration<double>(clock_type::now() - t_write).count()});

  released.wait();
  if (options.return_clusters) report.kept_of = std::move(result.kept_of);
  report.seconds = std::chrono::duration<double>(clock_type::now() - t_start).count();
  report.peak_rss_bytes = io::peak_rss_bytes();
  write_stats(out_dir + "/stats.json", report, options, sources, pool.threads());
  destroyed.wait();
  return report;
}

}  // namespace neardup::jobs

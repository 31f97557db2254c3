// The in-memory engines for Python: texts in, per-document decisions out, by
// the engines of `neardup dedup` (pipeline::dedup) and `neardup
// decontaminate` (pipeline::decontaminate).
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "bindings.hpp"
#include "neardup/executor.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/pipeline/decontaminate.hpp"
#include "neardup/pipeline/dedup.hpp"

namespace neardup::python {

namespace {

py::dict stats_dict(const pipeline::dedup_stats& s) {
  py::dict d;
  d["documents"] = s.documents;
  d["empty_documents"] = s.empty_documents;
  d["short_documents"] = s.short_documents;
  d["kept"] = s.kept;
  d["removed_exact"] = s.removed_exact;
  d["removed_near"] = s.removed_near;
  d["clusters"] = s.clusters;
  d["largest_cluster"] = s.largest_cluster;
  d["largest_cluster_kept"] = s.largest_cluster_kept;
  py::list histogram;
  for (const auto& [size, count] : s.cluster_size_histogram) histogram.append(py::make_tuple(size, count));
  d["cluster_size_histogram"] = histogram;
  d["bands"] = s.lsh.bands;
  d["rows"] = s.lsh.rows;
  d["candidate_probability_at_threshold"] = s.candidate_probability_at_threshold;
  d["candidate_documents"] = s.candidate_documents;
  d["verifications"] = s.verifications;
  d["verified"] = s.verified;
  d["rejected"] = s.rejected;
  py::dict stages;
  for (const auto& st : s.stages) stages[py::str(st.name)] = st.seconds;
  d["seconds"] = stages;
  d["grouping_bytes_per_document"] = s.grouping_bytes_per_document;
  d["kernel"] = s.kernel;
  return d;
}

// Returns (kept_of, cluster, stats).
py::tuple dedup(py::handle texts, double threshold, std::size_t num_perm, std::size_t ngram,
                std::string_view tokens, std::optional<std::uint32_t> bands, std::optional<std::uint32_t> rows,
                std::string_view scheme, std::string_view verify, std::string_view keep, bool exact_first,
                std::uint64_t seed, py::handle threads, const std::string& text_field, py::handle progress) {
  pipeline::dedup_options o;
  static_cast<pipeline::similarity_options&>(o) = similarity(num_perm, scheme, ngram, tokens, seed);
  o.threshold = threshold;
  if (bands.has_value() != rows.has_value()) throw std::invalid_argument("bands and rows go together");
  if (bands) o.lsh = lsh_params{*bands, *rows};
  o.verify = parse_option<pipeline::verify_mode>("verify", verify);
  o.keep = parse_option<pipeline::keep_policy>("keep", keep);
  o.exact_first = exact_first;
  o.validate();

  std::optional<python_lines> lines;
  if (!progress.is_none() && !PyBool_Check(progress.ptr())) lines.emplace(py::reinterpret_borrow<py::function>(progress));
  const bool show = lines.has_value() || (PyBool_Check(progress.ptr()) && progress.ptr() == Py_True);

  const text_batch batch = collect_texts(texts, text_field);
  const std::size_t n = batch.texts.size();
  pipeline::dedup_result r;
  {
    py::gil_scoped_release release;
    io::redirect_progress_lines scope(lines ? lines->handler() : io::line_handler{});
    std::optional<io::progress_meter> meter;
    if (show) meter.emplace(io::progress_options{.enabled = true});
    executor pool(thread_count(threads, n));
    r = pipeline::dedup(batch.texts, o, &pool, meter ? &*meter : nullptr);
  }
  if (lines) lines->rethrow();
  return py::make_tuple(to_array(std::move(r.kept_of)), to_array(std::move(r.cluster)), stats_dict(r.stats));
}

// Returns (removed, shared_ngrams, refs, contaminated, references_used).
py::tuple decontaminate(py::handle texts, py::handle references, std::size_t ngram, std::uint64_t max_shared,
                        std::size_t min_reference_tokens, double bloom_fp, std::string_view tokens,
                        std::uint64_t seed, py::handle threads, const std::string& text_field) {
  pipeline::decontaminate_options o;
  o.tokens = parse_tokens(tokens);
  o.ngram = ngram;
  o.max_shared = max_shared;
  o.min_reference_tokens = min_reference_tokens;
  if (!(bloom_fp >= 0 && bloom_fp <= 0.5)) {  // the CLI's --bloom-fp range
    throw std::invalid_argument("bloom_fp = " + std::to_string(bloom_fp) + " is outside [0, 0.5]");
  }
  o.bloom_false_positive_rate = bloom_fp;
  o.seed = seed;
  o.validate();
  const text_batch corpus = collect_texts(texts, text_field);
  const text_batch refs = collect_texts(references, text_field);
  pipeline::decontaminate_result r;
  {
    py::gil_scoped_release release;
    executor pool(thread_count(threads, corpus.texts.size()));
    r = pipeline::decontaminate(corpus.texts, refs.texts, o, &pool);
  }
  py::array_t<bool> removed(static_cast<py::ssize_t>(r.removed.size()));
  std::copy(r.removed.begin(), r.removed.end(), removed.mutable_data());
  py::list matched;
  for (const auto& ids : r.refs) {
    py::list l;
    for (const ref_id id : ids) l.append(id);
    matched.append(std::move(l));
  }
  return py::make_tuple(removed, to_array(std::move(r.shared_ngrams)), matched, r.contaminated);
}

}  // namespace

void register_dedup(py::module_& m) {
  using namespace pybind11::literals;
  m.def("_dedup", &dedup, "texts"_a, "threshold"_a, "num_perm"_a, "ngram"_a, "tokens"_a, "bands"_a, "rows"_a,
        "scheme"_a, "verify"_a, "keep"_a, "exact_first"_a, "seed"_a, "threads"_a, "text_field"_a, "progress"_a,
        "The engine behind neardup.dedup(): returns (kept_of, cluster, stats).");
  m.def("_decontaminate", &decontaminate, "texts"_a, "references"_a, "ngram"_a, "max_shared"_a,
        "min_reference_tokens"_a, "bloom_fp"_a, "tokens"_a, "seed"_a, "threads"_a, "text_field"_a,
        "The engine behind neardup.decontaminate(): returns (removed, shared_ngrams, refs, contaminated).");
}

}  // namespace neardup::python

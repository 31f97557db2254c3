// neardup.StoredIndex: the stored index of jobs/stored_index.hpp (open,
// query, add, info). Conversion at the edge only; the GIL is released
// around queries and additions.
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "bindings.hpp"
#include "neardup/executor.hpp"
#include "neardup/jobs/stored_index.hpp"

namespace neardup::python {

namespace {

using jobs::stored_index;

// Index errors (damaged, mismatched, locked) are OSError, like I/O failures.
template <class F>
auto index_call(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const jobs::index_error& e) {
    PyErr_SetString(PyExc_OSError, e.what());
    throw py::error_already_set();
  }
}

class py_stored_index {
 public:
  explicit py_stored_index(const std::string& path)
      : index_(std::make_unique<stored_index>(index_call([&] { return stored_index::open(path); }))) {}

  static py_stored_index create(const std::string& path, double threshold, std::size_t num_perm, std::size_t ngram,
                                const std::string& tokens, const std::string& scheme, const std::string& verify,
                                std::uint64_t seed, std::optional<std::uint32_t> bands,
                                std::optional<std::uint32_t> rows) {
    jobs::index_settings s;
    static_cast<pipeline::similarity_options&>(s) = similarity(num_perm, scheme, ngram, tokens, seed);
    s.threshold = threshold;
    s.verify = parse_option<pipeline::verify_mode>("verify", verify);
    if (bands.has_value() != rows.has_value()) throw std::invalid_argument("bands and rows go together");
    if (bands) s.lsh = lsh_params{*bands, *rows};
    s.validate();
    index_call([&] {
      jobs::index_writer w(path, &s);
      return 0;
    });
    return py_stored_index(path);
  }

  py::list query(py::handle text, std::size_t top_k, double threshold) const {
    const std::string_view t = text_of(text);
    std::vector<jobs::index_match> m;
    {
      py::gil_scoped_release release;
      m = index_->query(t, {.top_k = top_k, .threshold = threshold});
    }
    py::list out;
    for (const auto& x : m) out.append(py::make_tuple(x.id, x.jaccard, x.exact));
    return out;
  }

  std::vector<bool> add(py::handle texts, std::optional<std::vector<std::string>> ids, py::handle threads,
                        const std::string& text_field) {
    const text_batch batch = collect_texts(texts, text_field);
    const std::size_t n = batch.texts.size();
    const std::vector<std::string> no_ids;
    const std::vector<std::string>& id_list = ids ? *ids : no_ids;
    std::vector<doc_id> kept_of;
    {
      py::gil_scoped_release release;
      executor pool(thread_count(threads, n));
      const std::string path = index_->path();
      kept_of = index_call([&] { return jobs::add_texts(path, batch.texts, id_list, nullptr, &pool); });
      index_ = std::make_unique<stored_index>(index_call([&] { return stored_index::open(path); }));
    }
    std::vector<bool> kept(n);
    for (std::size_t d = 0; d < n; ++d) kept[d] = kept_of[d] == d;
    return kept;
  }

  py::dict info() const {
    const jobs::index_info& i = index_->info();
    const jobs::index_settings& s = i.settings;
    py::dict options;
    options["threshold"] = s.threshold;
    options["num_perm"] = s.num_perm;
    options["ngram"] = s.ngram;
    options["tokens"] = std::string(name(s.tokens.kind));
    options["scheme"] = std::string(name(s.scheme));
    options["verify"] = std::string(name(s.verify));
    options["seed"] = s.seed;
    options["bands"] = s.banding().bands;
    options["rows"] = s.banding().rows;
    py::list segments;
    for (const auto& g : i.segments) {
      py::dict d;
      d["name"] = g.name;
      d["documents"] = g.documents;
      d["kept"] = g.kept;
      d["bytes"] = g.bytes;
      segments.append(d);
    }
    py::dict out;
    out["path"] = index_->path();
    out["options"] = options;
    out["documents"] = i.documents;
    out["kept"] = i.kept;
    out["bytes"] = i.bytes;
    out["set_bytes"] = i.set_bytes;
    out["segments"] = segments;
    return out;
  }

 private:
  std::unique_ptr<stored_index> index_;
};

}  // namespace

void register_stored_index(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<py_stored_index>(m, "StoredIndex",
                              "A stored index on disk (neardup index build): open, query, add, info.")
      .def(py::init<const std::string&>(), "path"_a, "Opens the index directory PATH (OSError if damaged).")
      .def_static("create", &py_stored_index::create, "path"_a, "threshold"_a = 0.8, "num_perm"_a = 128,
                  "ngram"_a = 5, "tokens"_a = "word", "scheme"_a = "oph", "verify"_a = "exact",
                  "seed"_a = default_seed, "bands"_a = py::none(), "rows"_a = py::none(),
                  "Creates an empty index with these options (opens it if it exists).")
      .def("query", &py_stored_index::query, "text"_a, "top_k"_a = 10, "threshold"_a = 0.0,
           "[(id, jaccard, exact)] of the kept documents similar to text, most similar first.")
      .def("add", &py_stored_index::add, "texts"_a, "ids"_a = py::none(), "threads"_a = py::none(),
           "text_field"_a = "text",
           "Deduplicates texts against the index and each other, stores them; returns kept flags.")
      .def("info", &py_stored_index::info, "Options, documents, bytes and segments.");
}

}  // namespace neardup::python

// Shingles, MinHash signatures and Jaccard similarity for Python.
#include <algorithm>
#include <stdexcept>
#include <thread>

#include "bindings.hpp"
#include "neardup/banding.hpp"
#include "neardup/executor.hpp"
#include "neardup/hash.hpp"
#include "neardup/pipeline/stages.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace neardup::python {

tokenize_options parse_tokens(std::string_view name) {
  return tokenize_options::for_kind(parse_option<token_kind>("tokens", name));
}

minhash_scheme parse_scheme(std::string_view name) { return parse_option<minhash_scheme>("scheme", name); }

std::string_view text_of(py::handle text) {
  if (PyUnicode_Check(text.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
    if (data == nullptr) throw py::error_already_set();  // lone surrogates: UnicodeEncodeError
    return {data, static_cast<std::size_t>(size)};
  }
  if (PyBytes_Check(text.ptr())) {
    return {PyBytes_AS_STRING(text.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(text.ptr()))};
  }
  throw py::type_error("expected a str or bytes text, got " + std::string(py::str(py::type::of(text).attr("__name__"))));
}

text_batch collect_texts(py::handle texts, const std::string& text_field) {
  if (PyUnicode_Check(texts.ptr()) || PyBytes_Check(texts.ptr())) {
    throw py::type_error("texts must be a sequence or iterable of texts, not a single str/bytes");
  }
  text_batch batch;
  if (py::hasattr(texts, "__len__")) batch.owners.reserve(py::len(texts));
  for (py::handle item : py::iter(texts)) {
    py::object text = py::reinterpret_borrow<py::object>(item);
    if (PyDict_Check(item.ptr())) {
      PyObject* field = PyDict_GetItemString(item.ptr(), text_field.c_str());  // borrowed
      if (field == nullptr) {
        throw py::key_error("document " + std::to_string(batch.owners.size()) + " has no field '" + text_field + "'");
      }
      text = py::reinterpret_borrow<py::object>(field);
    }
    batch.texts.push_back(text_of(text));
    batch.owners.push_back(std::move(text));
  }
  return batch;
}

pipeline::similarity_options similarity(std::size_t num_perm, std::string_view scheme, std::size_t ngram,
                                       std::string_view tokens, std::uint64_t seed) {
  pipeline::similarity_options o;
  o.num_perm = num_perm;
  o.scheme = parse_scheme(scheme);
  o.ngram = ngram;
  o.tokens = parse_tokens(tokens);
  o.seed = seed;
  return o;
}

std::size_t thread_count(py::handle threads, std::size_t work) {
  std::size_t n = 0;
  if (threads.is_none()) {
    n = std::max(1U, std::thread::hardware_concurrency());
  } else {
    const auto t = threads.cast<long long>();
    if (t < 1 || t > 1024) throw std::invalid_argument("threads = " + std::to_string(t) + " is outside [1, 1024]");
    n = static_cast<std::size_t>(t);
  }
  return std::max<std::size_t>(1, std::min(n, work));
}

namespace {

shingle_options make_shingle_options(std::size_t ngram, std::string_view tokens, std::uint64_t seed) {
  return {.tokens = parse_tokens(tokens), .n = ngram, .seed = seed};
}

py::array_t<std::uint64_t> shingles(py::handle text, std::size_t ngram, std::string_view tokens,
                                    std::uint64_t seed) {
  const std::string_view t = text_of(text);
  shingler sh(make_shingle_options(ngram, tokens, seed));
  std::vector<std::uint64_t> out;
  {
    py::gil_scoped_release release;
    sh.shingles(t, out);
  }
  return to_array(std::move(out));
}

py::array_t<sig_value> signatures(py::handle texts, std::size_t num_perm, std::string_view scheme,
                                  std::size_t ngram, std::string_view tokens, std::uint64_t seed,
                                  py::handle threads, const std::string& text_field) {
  pipeline::similarity_options o = similarity(num_perm, scheme, ngram, tokens, seed);
  o.validate();
  const text_batch batch = collect_texts(texts, text_field);
  const std::size_t n = batch.texts.size();
  std::vector<sig_value> sigs;
  {
    py::gil_scoped_release release;
    executor pool(thread_count(threads, n));
    sigs = pipeline::sign_batch(batch.texts, o, &pool).signatures;  // the dedup engine's sign stage
  }
  return to_array(std::move(sigs), {static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(o.num_perm)});
}

using sig_array = c_array<sig_value>;
using hash_array = c_array<std::uint64_t>;

std::span<const sig_value> signature_span(const sig_array& a, const char* name) {
  if (a.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be a 1-D signature");
  return {a.data(), static_cast<std::size_t>(a.size())};
}

std::span<const std::uint64_t> set_span(const hash_array& a, const char* name) {
  if (a.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be a 1-D array of shingle hashes");
  std::span<const std::uint64_t> s(a.data(), static_cast<std::size_t>(a.size()));
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i - 1] >= s[i]) {
      throw std::invalid_argument(std::string(name) + " is not sorted ascending without repeats (as shingles() returns)");
    }
  }
  return s;
}

// Classic MinHash over arbitrary items, updatable and mergeable by
// element-wise minimum (what neardup.datasketch.MinHash needs): item ->
// hash64(item bytes, item seed) -> minhasher(classic, num_perm, seed).
class classic_hasher {
 public:
  static constexpr std::uint64_t item_stream = 0x64736974656d3031ULL;  // "dsitem01"

  classic_hasher(std::size_t num_perm, std::uint64_t seed)
      : hasher_({.scheme = minhash_scheme::classic, .num_perm = num_perm, .seed = seed}),
        item_seed_(derive_seed(seed, item_stream)) {}

  void update(py::array_t<sig_value, py::array::c_style> values, py::handle items) const {
    const text_batch batch = collect_texts(items);
    std::vector<std::uint64_t> hashes(batch.texts.size());
    for (std::size_t i = 0; i < hashes.size(); ++i) hashes[i] = hash64(batch.texts[i], item_seed_);
    merge_into(values, hashes);
  }

  void update_hashes(py::array_t<sig_value, py::array::c_style> values, hash_array hashes) const {
    hashes = aligned(std::move(hashes));
    merge_into(values, {hashes.data(), static_cast<std::size_t>(hashes.size())});
  }

  std::uint64_t hash_item(py::handle item) const { return hash64(text_of(item), item_seed_); }
  std::size_t num_perm() const noexcept { return hasher_.num_perm(); }

 private:
  void merge_into(py::array_t<sig_value, py::array::c_style>& values, std::span<const std::uint64_t> hashes) const {
    if (values.ndim() != 1 || static_cast<std::size_t>(values.size()) != hasher_.num_perm()) {
      throw std::invalid_argument("hashvalues must hold num_perm = " + std::to_string(hasher_.num_perm()) + " values");
    }
    if (hashes.empty()) return;
    std::vector<sig_value> sig(hasher_.num_perm());
    hasher_.sign(hashes, sig);
    sig_value* v = values.mutable_data();
    for (std::size_t i = 0; i < sig.size(); ++i) v[i] = std::min(v[i], sig[i]);
  }

  minhasher hasher_;
  std::uint64_t item_seed_;
};

}  // namespace

void register_sketch(py::module_& m) {
  using namespace pybind11::literals;
  m.attr("DEFAULT_SEED") = py::int_(default_seed);
  m.attr("EMPTY_SIG_VALUE") = py::int_(empty_sig_value);
  m.attr("MAX_NUM_PERM") = py::int_(max_num_perm);

  m.def("shingles", &shingles, "text"_a, "ngram"_a = 5, "tokens"_a = "word", "seed"_a = default_seed,
        R"(The shingle set of `text`: sorted, unique uint64 hashes of its token n-grams.

A text of 1 <= T < ngram tokens gives one shingle of all its tokens; an empty
text (no tokens) gives none. Same hashes as the CLI for the same options.)");

  m.def("signatures", &signatures, "texts"_a, "num_perm"_a = 128, "scheme"_a = "oph", "ngram"_a = 5,
        "tokens"_a = "word", "seed"_a = default_seed, "threads"_a = py::none(), "text_field"_a = "text",
        R"(MinHash signatures of many texts: a uint32 array of shape (len(texts), num_perm).

`texts` is a sequence or iterable of str/bytes (or of dicts holding the text
under `text_field`). Runs on `threads` threads (None: all cores) with the GIL
released; row i is bit-identical to neardup::minhasher over the n-grams of
text i, whatever the thread count. An empty text gets the sentinel signature
(every value EMPTY_SIG_VALUE).)");

  py::class_<jaccard_bounds>(m, "JaccardBounds", "A Jaccard estimate with its confidence interval.")
      .def_readonly("lower", &jaccard_bounds::lower)
      .def_readonly("estimate", &jaccard_bounds::estimate)
      .def_readonly("upper", &jaccard_bounds::upper)
      .def("__iter__", [](const jaccard_bounds& j) { return py::iter(py::make_tuple(j.lower, j.estimate, j.upper)); })
      .def("__repr__", [](const jaccard_bounds& j) {
        return "JaccardBounds(lower=" + std::string(py::repr(py::float_(j.lower))) +
               ", estimate=" + std::string(py::repr(py::float_(j.estimate))) +
               ", upper=" + std::string(py::repr(py::float_(j.upper))) + ")";
      });

  m.def(
      "jaccard",
      [](sig_array a, sig_array b, double z) {
        a = aligned(std::move(a)), b = aligned(std::move(b));
        return jaccard(signature_span(a, "a"), signature_span(b, "b"), z);
      },
      "a"_a, "b"_a, "z"_a = 1.96,
      R"(Jaccard estimate of two signatures (fraction of equal positions) with its
Wilson score interval at normal quantile z (1.96: about 95%). Either signature
empty -> (0, 0, 0). ValueError if the lengths differ or z <= 0.)");

  m.def(
      "exact_jaccard",
      [](hash_array a, hash_array b) {
        a = aligned(std::move(a)), b = aligned(std::move(b));
        const auto sa = set_span(a, "a"), sb = set_span(b, "b");
        py::gil_scoped_release release;
        return exact_jaccard(sa, sb);
      },
      "a"_a, "b"_a,
      R"(Exact Jaccard |A & B| / |A | B| of two shingle sets as shingles() returns them
(sorted, unique). Two empty sets -> 0.0. ValueError if an array is not sorted
and unique.)");

  m.def(
      "choose_params",
      [](double threshold, std::size_t num_perm, double fp_weight, double fn_weight) {
        const lsh_params p = choose_params(threshold, num_perm, fp_weight, fn_weight);
        return py::make_tuple(p.bands, p.rows);
      },
      "threshold"_a, "num_perm"_a, "fp_weight"_a = 0.5, "fn_weight"_a = 0.5,
      "(bands, rows) minimizing the weighted false-positive and false-negative areas of the S-curve.");
  m.def(
      "choose_params_for_recall",
      [](double threshold, std::size_t num_perm, double recall) {
        const lsh_params p = choose_params_for_recall(threshold, num_perm, recall);
        return py::make_tuple(p.bands, p.rows);
      },
      "threshold"_a, "num_perm"_a, "recall"_a = 0.99,
      "(bands, rows) with P(candidate) >= recall at the threshold and the fewest false candidates "
      "(what `neardup dedup` uses with verification).");
  m.def(
      "default_lsh_params",
      [](double threshold, std::size_t num_perm, std::string_view verify) {
        const lsh_params p = pipeline::default_lsh_params(
            threshold, num_perm, parse_option<pipeline::verify_mode>("verify", verify));
        return py::make_tuple(p.bands, p.rows);
      },
      "threshold"_a, "num_perm"_a = 128, "verify"_a = "exact",
      "(bands, rows) that `neardup dedup` uses when --bands/--rows are not given, for this verify mode.");
  m.def(
      "candidate_probability",
      [](double j, std::uint32_t bands, std::uint32_t rows) { return candidate_probability(j, {bands, rows}); },
      "j"_a, "bands"_a, "rows"_a, "P(candidate | Jaccard j) = 1 - (1 - j**rows)**bands.");

  py::class_<classic_hasher>(m, "_ClassicHasher")
      .def(py::init<std::size_t, std::uint64_t>(), "num_perm"_a, "seed"_a)
      .def("update", &classic_hasher::update, "values"_a, "items"_a)
      .def("update_hashes", &classic_hasher::update_hashes, "values"_a, "hashes"_a)
      .def("hash_item", &classic_hasher::hash_item, "item"_a)
      .def_property_readonly("num_perm", &classic_hasher::num_perm);
}

}  // namespace neardup::python

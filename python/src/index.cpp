// The LSH index behind neardup.LSHIndex: band keys of signatures in a
// neardup::lsh_index, documents named by dense slots (the Python class maps
// its str/int keys to slots). Persistence is the stage-data format's LSH
// index kind (pipeline/format.hpp, format version 2): _write_lsh_index and
// _read_lsh_index convert between it and Python objects.
#include <algorithm>

#include "bindings.hpp"
#include "neardup/banding.hpp"
#include "neardup/index.hpp"
#include "neardup/pipeline/format.hpp"

namespace neardup::python {

namespace {

using sig_array = c_array<sig_value>;
using key_array = c_array<std::uint64_t>;

class band_index {
 public:
  band_index(std::size_t num_perm, std::uint32_t bands, std::uint32_t rows, std::uint64_t seed)
      : bander_({bands, rows}, num_perm, seed), index_(bands) {}

  // Indexes `slot` under the band keys of `sig`; returns false (and indexes
  // nothing) for the empty-set signature, which is never a candidate.
  bool insert(doc_id slot, sig_array sig) {
    sig = aligned(std::move(sig));
    std::vector<std::uint64_t> keys(bands());
    if (!bander_.keys(signature(sig), keys)) return false;
    insert_keys_impl(slot, keys);
    return true;
  }

  // Indexes `slot` under band keys saved by keys_of().
  void insert_keys(doc_id slot, key_array keys) {
    keys = aligned(std::move(keys));
    if (keys.ndim() != 1 || static_cast<std::size_t>(keys.size()) != bands()) {
      throw std::invalid_argument("band keys must be " + std::to_string(bands()) + " values");
    }
    insert_keys_impl(slot, {keys.data(), bands()});
  }

  py::array_t<doc_id> query(sig_array sig) const {
    sig = aligned(std::move(sig));
    std::vector<std::uint64_t> keys(bands());
    std::vector<doc_id> out;
    if (bander_.keys(signature(sig), keys)) index_.query(keys, out);
    return to_array(std::move(out));
  }

  bool remove(doc_id slot) {
    if (!index_.remove(slot)) return false;
    std::fill_n(keys_.begin() + static_cast<std::ptrdiff_t>(std::size_t{slot} * bands()), bands(), 0);
    return true;
  }

  // The band keys `slot` was indexed under (copy).
  py::array_t<std::uint64_t> keys_of(doc_id slot) const {
    if (!index_.contains(slot)) throw py::key_error("slot " + std::to_string(slot) + " is not indexed");
    const auto begin = keys_.begin() + static_cast<std::ptrdiff_t>(std::size_t{slot} * bands());
    return to_array(std::vector<std::uint64_t>(begin, begin + static_cast<std::ptrdiff_t>(bands())));
  }

  bool contains(doc_id slot) const { return index_.contains(slot); }
  std::size_t size() const noexcept { return index_.size(); }
  std::size_t bands() const noexcept { return bander_.params().bands; }
  std::size_t rows() const noexcept { return bander_.params().rows; }
  std::size_t num_perm() const noexcept { return bander_.num_perm(); }

 private:
  std::span<const sig_value> signature(const sig_array& sig) const {
    if (sig.ndim() != 1 || static_cast<std::size_t>(sig.size()) != num_perm()) {
      throw std::invalid_argument("signature must be 1-D with num_perm = " + std::to_string(num_perm()) +
                                  " values, got " + std::to_string(sig.size()));
    }
    return {sig.data(), num_perm()};
  }

  void insert_keys_impl(doc_id slot, std::span<const std::uint64_t> keys) {
    index_.insert(slot, keys);  // throws (unchanged) if slot is indexed
    const std::size_t need = (std::size_t{slot} + 1) * bands();
    if (keys_.size() < need) keys_.resize(std::max(need, keys_.size() * 2));
    std::copy(keys.begin(), keys.end(), keys_.begin() + static_cast<std::ptrdiff_t>(std::size_t{slot} * bands()));
  }

  bander bander_;
  lsh_index index_;
  std::vector<std::uint64_t> keys_;  // slot * bands .. : the keys of each indexed slot
};

// `entries`: (key, band keys or None) pairs in slot order, as LSHIndex._entries() gives them.
py::bytes write_lsh_index(std::size_t num_perm, std::uint32_t bands, std::uint32_t rows, std::uint64_t seed,
                          double threshold, std::string_view scheme, std::size_t ngram, std::string_view tokens,
                          const py::list& entries) {
  pipeline::stage_data_options o = pipeline::stage_data_options::of(similarity(num_perm, scheme, ngram, tokens, seed));
  pipeline::lsh_index_data d;
  d.params = {bands, rows};
  d.threshold = threshold;
  d.keys.reserve(entries.size());
  for (const py::handle entry : entries) {
    const auto pair = entry.cast<py::tuple>();
    pipeline::lsh_index_key k;
    if (py::isinstance<py::str>(pair[0])) {
      k.is_string = true;
      k.str_key = std::string(text_of(pair[0]));
    } else {
      k.int_key = pair[0].cast<std::int64_t>();
    }
    if (!pair[1].is_none()) {
      const auto keys = aligned(pair[1].cast<key_array>());
      if (keys.ndim() != 1 || static_cast<std::size_t>(keys.size()) != bands) {
        throw std::invalid_argument("band keys must be " + std::to_string(bands) + " values");
      }
      k.indexed = true;
      d.band_keys.insert(d.band_keys.end(), keys.data(), keys.data() + bands);
    }
    d.keys.push_back(std::move(k));
  }
  const std::string bytes = pipeline::write_lsh_index(o, d);
  return {bytes.data(), bytes.size()};
}

// A dict: num_perm, bands, rows, threshold, scheme, ngram, tokens, and
// `entries` as write_lsh_index takes them. ValueError for anything that is
// not an LSH index written with `seed` (the message names what is wrong).
py::dict read_lsh_index(const py::buffer& data, std::uint64_t seed) {
  const py::buffer_info info = data.request();
  const std::span<const std::byte> bytes(static_cast<const std::byte*>(info.ptr),
                                         static_cast<std::size_t>(info.size * info.itemsize));
  pipeline::stage_data_options o;
  pipeline::lsh_index_data d;
  try {
    d = pipeline::read_lsh_index(bytes, seed, &o);
  } catch (const pipeline::stage_data_error& e) {
    throw std::invalid_argument(std::string("LSHIndex: ") + e.what());
  }
  const std::size_t bands = d.params.bands;
  py::list entries;
  const std::uint64_t* band_key = d.band_keys.data();
  for (std::size_t i = 0; i < d.keys.size(); ++i) {
    const pipeline::lsh_index_key& k = d.keys[i];
    py::object key;
    if (k.is_string) {
      PyObject* str = PyUnicode_DecodeUTF8(k.str_key.data(), static_cast<Py_ssize_t>(k.str_key.size()), "strict");
      if (str == nullptr) {
        PyErr_Clear();
        throw std::invalid_argument("LSHIndex: key " + std::to_string(i) + " is not valid UTF-8");
      }
      key = py::reinterpret_steal<py::object>(str);
    } else {
      key = py::int_(k.int_key);
    }
    py::object keys = py::none();
    if (k.indexed) {
      keys = to_array(std::vector<std::uint64_t>(band_key, band_key + bands));
      band_key += bands;
    }
    entries.append(py::make_tuple(key, keys));
  }
  py::dict out;
  out["num_perm"] = o.num_perm;
  out["bands"] = d.params.bands;
  out["rows"] = d.params.rows;
  out["threshold"] = d.threshold;
  out["scheme"] = std::string(name(o.scheme));
  out["ngram"] = o.ngram;
  out["tokens"] = std::string(name(o.tokens.kind));
  out["entries"] = std::move(entries);
  return out;
}

}  // namespace

void register_index(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<band_index>(m, "_BandIndex")
      .def(py::init<std::size_t, std::uint32_t, std::uint32_t, std::uint64_t>(), "num_perm"_a, "bands"_a, "rows"_a,
           "seed"_a)
      .def("insert", &band_index::insert, "slot"_a, "signature"_a)
      .def("insert_keys", &band_index::insert_keys, "slot"_a, "keys"_a)
      .def("query", &band_index::query, "signature"_a)
      .def("remove", &band_index::remove, "slot"_a)
      .def("keys_of", &band_index::keys_of, "slot"_a)
      .def("__contains__", &band_index::contains)
      .def("__len__", &band_index::size)
      .def_property_readonly("bands", &band_index::bands)
      .def_property_readonly("rows", &band_index::rows)
      .def_property_readonly("num_perm", &band_index::num_perm);
  m.def("_write_lsh_index", &write_lsh_index, "num_perm"_a, "bands"_a, "rows"_a, "seed"_a, "threshold"_a,
        "scheme"_a, "ngram"_a, "tokens"_a, "entries"_a);
  m.def("_read_lsh_index", &read_lsh_index, "data"_a, "seed"_a);
}

}  // namespace neardup::python

// The LSH index behind neardup.LSHIndex: band keys of signatures in a
// neardup::lsh_index, documents named by dense slots (the Python class maps
// its str/int keys to slots and owns persistence).
#include <algorithm>

#include "bindings.hpp"
#include "neardup/banding.hpp"
#include "neardup/index.hpp"

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
}

}  // namespace neardup::python

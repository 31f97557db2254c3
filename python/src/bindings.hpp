// Shared helpers of the neardup._neardup extension module (python/src/*.cpp).
//
// The module converts at the edge and calls the library; it holds no
// algorithm. Errors: std::invalid_argument becomes ValueError (pybind11's
// default), I/O failures of the file jobs become OSError (cli_errors.hpp).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/enum_names.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/pipeline/options.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"

namespace neardup::python {

namespace py = pybind11;

// The CLI's spellings (enum_names.hpp): --tokens word|char|code, --scheme
// oph|classic|superminhash. Throws std::invalid_argument naming the option
// and the choices.
template <class E>
E parse_option(const char* option, std::string_view text) {
  if (const auto v = parse<E>(text)) return *v;
  throw std::invalid_argument(std::string(option) + " = '" + std::string(text) + "': expected one of " +
                              spellings<E>(", "));
}
tokenize_options parse_tokens(std::string_view name);
minhash_scheme parse_scheme(std::string_view name);

// The UTF-8 bytes of a str (cached inside the str object) or of a bytes
// object; valid while the object lives. TypeError for anything else.
std::string_view text_of(py::handle text);

// Holds every text of a Python sequence or iterable as string_views that stay
// valid without the GIL (the objects are kept alive here).
struct text_batch {
  std::vector<py::object> owners;
  std::vector<std::string_view> texts;
};
// `texts`: str/bytes items, or dicts holding a str under `text_field`.
// A single str is refused (TypeError): it is almost always a mistake.
text_batch collect_texts(py::handle texts, const std::string& text_field = "text");

// A NumPy array that takes ownership of `v` (no copy): its base is a capsule
// that deletes the vector. `shape` is C-order; default: 1-D.
template <class T>
py::array_t<T> to_array(std::vector<T>&& v, std::vector<py::ssize_t> shape = {}) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule base(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  if (shape.empty()) shape = {static_cast<py::ssize_t>(owned->size())};
  return py::array_t<T>(shape, owned->data(), base);
}

// The similarity options of the CLI's spellings (validated by the caller).
pipeline::similarity_options similarity(std::size_t num_perm, std::string_view scheme, std::size_t ngram,
                                       std::string_view tokens, std::uint64_t seed);

// Forwards progress lines to a Python callable from any thread (taking the
// GIL); the first exception the callable raises is kept for rethrow().
class python_lines {
 public:
  explicit python_lines(py::function fn);
  io::line_handler handler() const;
  // Raises the callable's first error, if any. Call with the GIL held.
  void rethrow();

 private:
  struct state;
  std::shared_ptr<state> state_;
};

// A NumPy array of T in C order, converted from any array-like when needed.
template <class T>
using c_array = py::array_t<T, py::array::c_style | py::array::forcecast>;

// `a`, or an aligned copy of it: pybind11 takes an unaligned array (e.g.
// np.frombuffer at an odd offset) as it is, and the library reads whole T.
template <class T>
c_array<T> aligned(c_array<T> a) {
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) == 0) return a;
  c_array<T> copy(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
  std::memcpy(copy.mutable_data(), a.data(), static_cast<std::size_t>(a.nbytes()));
  return copy;
}

// Worker threads for `threads` (None: every core), at least 1, at most `work`.
std::size_t thread_count(py::handle threads, std::size_t work);

void register_sketch(py::module_& m);
void register_index(py::module_& m);
void register_jobs(py::module_& m);
void register_dedup(py::module_& m);
void register_stored_index(py::module_& m);  // stored_index.cpp
void register_dask(py::module_& m);

}  // namespace neardup::python

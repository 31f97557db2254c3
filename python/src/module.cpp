// neardup._neardup: the extension module behind the `neardup` package.
#include <string_view>

#include "bindings.hpp"
#include "neardup/version.hpp"

static_assert(std::string_view(NEARDUP_VERSION_STRING) == NEARDUP_PROJECT_VERSION,
              "include/neardup/version.hpp and project(VERSION) in CMakeLists.txt disagree");

PYBIND11_MODULE(_neardup, m) {
  m.doc() = "neardup's C++ core: shingles, MinHash signatures, LSH, and the file jobs.";
  m.attr("__version__") = neardup::version_string();
  neardup::python::register_sketch(m);
  neardup::python::register_index(m);
  neardup::python::register_jobs(m);
  neardup::python::register_dedup(m);
}

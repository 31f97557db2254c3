// neardup._neardup: the extension module behind the `neardup` package.
#include "bindings.hpp"
#include "neardup/version.hpp"  // generated from project(VERSION): the one version

PYBIND11_MODULE(_neardup, m) {
  m.doc() = "neardup's C++ core: shingles, MinHash signatures, LSH, and the file jobs.";
  m.attr("__version__") = neardup::version_string();
  neardup::python::register_sketch(m);
  neardup::python::register_index(m);
  neardup::python::register_jobs(m);
  neardup::python::register_dedup(m);
  neardup::python::register_stored_index(m);
  neardup::python::register_dask(m);
}

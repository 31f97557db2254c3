// How the module runs the CLI's code (jobs.cpp, dask.cpp): without the GIL,
// with the CLI's errors mapped to Python's as the command line reports them.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <stdexcept>
#include <string>

#include "options.hpp"  // neardup_cli::usage_error

namespace neardup::python {

// Runs f() without the GIL. A usage error or std::invalid_argument raises
// ValueError, any other std::exception OSError, each as
// "neardup COMMAND: what". `before_raising()` runs first, with the GIL (to
// re-raise a Python exception of a callback, which then wins).
template <class F, class G = void (*)()>
void without_gil(const std::string& command, F&& f, G&& before_raising = [] {}) {
  std::string failure;
  enum { ok, usage, io_error } kind = ok;
  {
    pybind11::gil_scoped_release release;
    try {
      f();
    } catch (const neardup_cli::usage_error& e) {
      kind = usage, failure = e.what();
    } catch (const std::invalid_argument& e) {
      kind = usage, failure = e.what();
    } catch (const std::exception& e) {
      kind = io_error, failure = e.what();
    }
  }
  before_raising();
  if (kind == usage) throw pybind11::value_error("neardup " + command + ": " + failure);
  if (kind == io_error) {
    PyErr_SetString(PyExc_OSError, ("neardup " + command + ": " + failure).c_str());
    throw pybind11::error_already_set();
  }
}

}  // namespace neardup::python

// The file jobs (dedup, exact, lines, decontaminate, pairs) for Python: they
// run the CLI's own commands in this process, so option names, defaults,
// checks and outputs are exactly those of `neardup COMMAND`.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "bindings.hpp"
#include "cli_errors.hpp"
#include "commands.hpp"
#include "neardup/io/progress.hpp"

namespace neardup::python {

struct python_lines::state {
  py::function fn;
  std::mutex mutex;
  std::optional<py::error_already_set> first_error;
};

python_lines::python_lines(py::function fn) : state_(std::make_shared<state>()) { state_->fn = std::move(fn); }

io::line_handler python_lines::handler() const {
  // Copies of the handler hold the state, not Python references, so they may
  // be destroyed without the GIL; the state dies with *this, under the GIL.
  state* s = state_.get();
  return [s](std::string_view line) {
    py::gil_scoped_acquire gil;
    try {
      s->fn(py::str(line.data(), line.size()));
    } catch (py::error_already_set& e) {
      std::lock_guard lock(s->mutex);
      if (!s->first_error) s->first_error = std::move(e);
    }
  };
}

void python_lines::rethrow() {
  std::optional<py::error_already_set> e;
  {
    std::lock_guard lock(state_->mutex);
    e.swap(state_->first_error);
  }
  if (e) throw std::move(*e);
}

namespace {

// Runs `neardup argv[0] argv[1:]` without the GIL. usage errors and bad
// settings raise ValueError, everything else the job throws (I/O failures,
// which name the file) raises OSError; a callback's own error is re-raised.
void run_command(const std::vector<std::string>& argv, const std::optional<py::function>& progress) {
  if (argv.empty()) throw std::invalid_argument("no command given");
  const neardup_cli::command* found = nullptr;
  for (const auto& c : neardup_cli::commands()) {
    if (argv[0] == c.name) found = &c;
  }
  if (found == nullptr) throw std::invalid_argument("unknown command '" + argv[0] + "'");
  std::vector<std::string> storage;
  storage.reserve(argv.size() + 1);
  storage.emplace_back("neardup");
  storage.insert(storage.end(), argv.begin(), argv.end());
  std::vector<char*> cargv;
  for (auto& s : storage) cargv.push_back(s.data());
  cargv.push_back(nullptr);

  std::optional<python_lines> lines;
  if (progress) lines.emplace(*progress);
  without_gil(
      argv[0],
      [&] {
        io::redirect_progress_lines scope(lines ? lines->handler() : io::line_handler{});
        found->run(static_cast<int>(storage.size()), cargv.data());
      },
      [&] {
        if (lines) lines->rethrow();
      });
}

// Every --name of `neardup COMMAND`'s option table, and where the CLI would
// send an unknown one: the commands that declare it ("" for none).
py::tuple option_names(const std::string& command, const std::string& name) {
  for (const auto& c : neardup_cli::commands()) {
    if (command == c.name) return py::make_tuple(c.option_names(), neardup_cli::commands_using(name));
  }
  throw std::invalid_argument("unknown command '" + command + "'");
}

}  // namespace

void register_jobs(py::module_& m) {
  using namespace pybind11::literals;
  m.def("_run_command", &run_command, "argv"_a, "progress"_a = py::none(),
        "Runs `neardup ARGV...` in this process (see neardup.dedup_files and friends).");
  m.def("_option_names", &option_names, "command"_a, "name"_a,
        "(every --name of `neardup COMMAND`, the commands that declare --NAME): for option checks in Python.");
}

}  // namespace neardup::python

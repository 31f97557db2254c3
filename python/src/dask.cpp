// The pieces neardup.dask schedules (python/neardup/dask.py): plan a run,
// scan one source into a part, merge the parts and finish the run. Options
// are parsed with the CLI's own tables (`neardup dedup` / `exact` /
// `decontaminate`), so names, defaults and checks are the CLI's; the work is
// jobs/parts.hpp (dedup, exact) and jobs/decontaminate.hpp's parts.
#include <pybind11/stl.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "cli_errors.hpp"
#include "commands.hpp"
#include "neardup/jobs/decontaminate.hpp"
#include "neardup/jobs/parts.hpp"

namespace neardup::python {

namespace {

// One command's parsed settings: dedup, exact or decontaminate.
struct job_settings {
  neardup_cli::dedup_cli dedup;
  neardup_cli::exact_cli exact;
  neardup_cli::decontaminate_cli decontaminate;
  std::string command;
  bool near() const { return command == "dedup"; }
  bool decon() const { return command == "decontaminate"; }
  neardup::jobs::dedup_options& options() { return near() ? dedup.options : exact.options; }
  neardup::jobs::job_options& base() {
    return decon() ? static_cast<neardup::jobs::job_options&>(decontaminate.options) : options();
  }
  neardup_cli::job_cli& job() { return decon() ? decontaminate.job : near() ? dedup.job : exact.job; }
  std::vector<io::source_info> references;  // decontaminate with `finish`: --reference, expanded
};

// Parses `neardup COMMAND ARGS...`; with `finish`, also as the CLI does
// before reading (inputs and references expanded, OUTDIR checked, locked and
// cleared).
void parse(job_settings& s, const std::string& command, const std::vector<std::string>& args, bool finish) {
  if (command != "dedup" && command != "exact" && command != "decontaminate") {
    throw std::invalid_argument("neardup.dask runs dedup, exact and decontaminate, not '" + command + "'");
  }
  s.command = command;
  std::vector<std::string> storage{"neardup", command};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const neardup_cli::option_table t =
      s.decon()  ? neardup_cli::decontaminate_table(s.decontaminate, "")
      : s.near() ? neardup_cli::dedup_table(s.dedup, "dedup", "", neardup_cli::output_dir::required)
                 : neardup_cli::exact_table(s.exact, "");
  const neardup_cli::parsed p = t.parse(static_cast<int>(storage.size()), argv.data());
  if (p.help) throw std::invalid_argument("--help is not a run");
  if (s.near()) neardup_cli::finish_similarity(s.dedup.options, s.dedup.similarity);
  if (s.decon()) {
    s.decontaminate.options.validate();
    if (s.decontaminate.references.empty()) throw neardup_cli::usage_error("no --reference given");
  } else {
    s.options().validate();
  }
  s.job().command = s.decon() ? "decontaminate" : s.near() ? "dedup" : "exact";
  s.job().records = &s.base().records;
  for (const auto& input : p.positional) {
    if (input == "-") {
      throw std::invalid_argument("INPUT '-': neardup.dask reads files that every worker sees; standard input "
                                  "cannot be shared with them (save it to a file first)");
    }
  }
  if (finish) {
    neardup_cli::finish_job(s.job(), p, neardup_cli::output_dir::required);
    if (s.decon()) {  // as `neardup decontaminate` does
      s.references = io::expand_inputs(std::span<const std::string>(s.decontaminate.references),
                                       {.output_dir = s.job().out_dir})
                         .sources;
    }
  } else {
    s.job().inputs = p.positional;
  }
}

using source_tuple = std::tuple<std::string, std::string, int, int, std::uint64_t, std::int64_t>;

source_tuple to_tuple(const io::source_info& s) {
  return {s.path, s.name, static_cast<int>(s.kind), static_cast<int>(s.codec), s.file_bytes, s.mtime_ns};
}

io::source_info from_tuple(const source_tuple& t) {
  io::source_info s;
  s.path = std::get<0>(t);
  s.name = std::get<1>(t);
  s.kind = static_cast<io::source_kind>(std::get<2>(t));
  s.codec = static_cast<io::compression>(std::get<3>(t));
  s.file_bytes = std::get<4>(t);
  s.mtime_ns = std::get<5>(t);
  return s;
}

// Returns the freed heap of a task to the OS (glibc keeps it otherwise): a
// worker's memory, which Dask's nanny checks against its limit, then
// follows the data it holds, not the largest task it ran.
void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

// Keeps notices to hand them to Python.
class notices final : public pipeline::sink {
 public:
  void message(const std::string& line) override { lines.push_back(line); }
  std::vector<std::string> lines;
};

py::dict plan(const std::string& command, const std::vector<std::string>& args) {
  job_settings s;
  without_gil(command, [&] { parse(s, command, args, true); });
  py::list sources;
  for (const auto& src : s.job().sources.sources) sources.append(to_tuple(src));
  py::list references;
  for (const auto& src : s.references) references.append(to_tuple(src));
  py::dict d;
  d["sources"] = sources;
  d["references"] = references;
  d["out_dir"] = s.job().out_dir;
  d["quiet"] = s.job().quiet;
  d["skipped"] = s.job().sources.skipped;
  d["notes"] = s.job().sources.notes;
  d["unreadable"] = s.job().sources.unreadable;
  // Bands the stages after pass 1 are grouped in (0: `exact`, no bands).
  d["bands"] = s.near() ? s.options().banding().bands : 0u;
  // Scan tasks keep their shingle sets for the candidates' data (exact verification).
  d["keep_sets"] = s.near() && s.options().verify == pipeline::verify_mode::exact;
  d["verify"] = s.near() && s.options().verify != pipeline::verify_mode::none;
  return d;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges(const source_tuple& source, std::uint64_t part_bytes) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  without_gil("dedup", [&] {
    for (const auto& r : jobs::part_ranges(from_tuple(source), part_bytes)) out.emplace_back(r.begin, r.end);
  });
  return out;
}

std::uint64_t range_lines(const source_tuple& source, std::uint64_t begin, std::uint64_t end) {
  std::uint64_t lines = 0;
  without_gil("dedup", [&] { lines = jobs::part_range_lines(from_tuple(source), {begin, end}); });
  return lines;
}

// Stage data handed to Python without copying it: the bytes of a memoryview
// that owns them (hand_over). Dask sizes, keeps, sends and spills a
// memoryview as it does bytes; used for the large results that only these
// functions read (a scan's shingle sets, verification data for the groups).
struct owned_bytes {
  std::string data;
};

py::memoryview hand_over(std::string&& bytes) { return py::memoryview(py::cast(owned_bytes{std::move(bytes)})); }

// A bytes-like argument (bytes, or a memoryview of hand_over's or of Dask's
// frames after a transfer) seen as a string_view while this lives.
class bytes_like {
 public:
  explicit bytes_like(const py::buffer& b) : info_(b.request()) {
    if (info_.ndim > 1 || (info_.ndim == 1 && info_.strides[0] != info_.itemsize)) {
      throw py::type_error("neardup.dask: stage data must be contiguous bytes");
    }
  }
  std::string_view view() const {
    return {static_cast<const char*>(info_.ptr), static_cast<std::size_t>(info_.size * info_.itemsize)};
  }

 private:
  py::buffer_info info_;
};

// One byte range of a source of a plan; first_line: the line number at `begin`.
io::source_info range_of(const source_tuple& source, std::uint64_t begin, std::uint64_t end, std::uint64_t first_line) {
  io::source_info src = from_tuple(source);
  src.range_begin = begin;
  src.range_end = end;
  src.range_first_line = first_line;
  return src;
}

py::object scan(const std::string& command, const std::vector<std::string>& args, const source_tuple& source,
               std::uint64_t begin, std::uint64_t end, std::uint64_t first_line,
               const std::vector<source_tuple>& references, bool keep_sets) {
  job_settings s;
  std::string part, sets;
  without_gil(command, [&] {
    parse(s, command, args, false);
    s.base().progress = false;
    const io::source_info src = range_of(source, begin, end, first_line);
    if (s.decon()) {
      std::vector<io::source_info> refs;
      for (const auto& t : references) refs.push_back(from_tuple(t));
      part = jobs::scan_decontaminate_part(src, refs, s.decontaminate.options);
    } else {
      part = jobs::scan_part(src, s.options(), keep_sets ? &sets : nullptr);
    }
    release_free_memory();
  });
  // dedup's parts go to stage tasks only (hand_over); exact's and
  // decontaminate's to the finishing task, as bytes.
  py::object out = s.near() ? py::object(hand_over(std::move(part))) : py::object(py::bytes(part));
  if (keep_sets) return py::make_tuple(out, hand_over(std::move(sets)));
  return out;
}

std::string_view view_of(const py::bytes& b) {
  char* data = nullptr;
  py::ssize_t size = 0;
  if (PyBytes_AsStringAndSize(b.ptr(), &data, &size) != 0) throw py::error_already_set();
  return {data, static_cast<std::size_t>(size)};
}

std::vector<std::string_view> views_of(const std::vector<py::bytes>& list) {
  std::vector<std::string_view> out;
  for (const auto& b : list) out.push_back(view_of(b));
  return out;
}

// The dedup options of `neardup dedup ARGS...` (stage tasks).
jobs::dedup_options dedup_options_of(const std::vector<std::string>& args) {
  job_settings s;
  without_gil("dedup", [&] { parse(s, "dedup", args, false); });
  jobs::dedup_options o = s.options();
  o.progress = false;
  return o;
}

py::bytes part_metadata(const py::buffer& part, bool fingerprints) {
  std::string out;
  const bytes_like held(part);
  const std::string_view v = held.view();
  without_gil("dedup", [&] { out = jobs::part_metadata(v, fingerprints); });
  return py::bytes(out);
}

// The options of `neardup COMMAND ARGS...` (dedup or exact; stage tasks).
jobs::dedup_options options_of(const std::string& command, const std::vector<std::string>& args) {
  job_settings s;
  without_gil(command, [&] { parse(s, command, args, false); });
  if (s.decon()) throw std::invalid_argument("decontaminate has no exact groups");
  jobs::dedup_options o = s.options();
  o.progress = false;
  return o;
}

std::vector<py::bytes> part_fingerprints(const std::string& command, const std::vector<std::string>& args,
                                         const py::buffer& part, std::uint32_t groups) {
  const jobs::dedup_options o = options_of(command, args);
  std::vector<std::string> out;
  const bytes_like held(part);
  const std::string_view v = held.view();
  without_gil("dedup", [&] { out = jobs::part_fingerprints(v, o, groups); });
  std::vector<py::bytes> r;
  for (const auto& x : out) r.emplace_back(x);
  return r;
}

py::bytes exact_groups(const std::string& command, const std::vector<std::string>& args,
                       const std::vector<py::bytes>& pieces) {
  const jobs::dedup_options o = options_of(command, args);
  std::string out;
  const auto views = views_of(pieces);
  without_gil("dedup", [&] { out = jobs::group_part_fingerprints(views, o); });
  return py::bytes(out);
}

py::bytes band_keys(const std::vector<std::string>& args, const py::buffer& part, std::uint32_t lo, std::uint32_t hi) {
  const jobs::dedup_options o = dedup_options_of(args);
  std::string out;
  const bytes_like held(part);
  const std::string_view v = held.view();
  without_gil("dedup", [&] { out = jobs::part_band_keys(v, o, lo, hi); });
  return py::bytes(out);
}

py::bytes group(const std::vector<std::string>& args, std::uint32_t lo, std::uint32_t hi,
                const std::vector<py::bytes>& keys) {
  const jobs::dedup_options o = dedup_options_of(args);
  std::string out;
  const auto views = views_of(keys);
  without_gil("dedup", [&] { out = jobs::group_part_band_keys(views, o, lo, hi); });
  return py::bytes(out);
}

std::vector<py::bytes> candidates(const std::vector<py::bytes>& buckets) {
  std::vector<std::string> out;
  const auto views = views_of(buckets);
  without_gil("dedup", [&] { out = jobs::part_candidates(views); });
  std::vector<py::bytes> r;
  for (const auto& c : out) r.emplace_back(c);
  return r;
}

py::bytes candidate_data(const std::vector<std::string>& args, const source_tuple& source, std::uint64_t begin,
                         std::uint64_t end, std::uint64_t first_line, const py::buffer& part,
                         const py::bytes& cands, const py::buffer& part_sets) {
  const jobs::dedup_options o = dedup_options_of(args);
  std::string out;
  const bytes_like held(part), sets(part_sets);
  const std::string_view p = held.view(), c = view_of(cands), ps = sets.view();
  without_gil("dedup", [&] {
    out = jobs::part_candidate_data(range_of(source, begin, end, first_line), p, c, o, ps);
    release_free_memory();
  });
  return py::bytes(out);
}

std::pair<std::vector<py::bytes>, std::vector<py::bytes>> verification_plan(const std::vector<py::bytes>& buckets,
                                                                             std::uint32_t max_bucket,
                                                                             std::uint32_t groups) {
  jobs::verification_plan out;
  const auto views = views_of(buckets);
  without_gil("dedup", [&] { out = jobs::plan_verification(views, max_bucket, groups); });
  std::pair<std::vector<py::bytes>, std::vector<py::bytes>> r;
  for (const auto& x : out.routes) r.first.emplace_back(x);
  for (const auto& x : out.pairs) r.second.emplace_back(x);
  return r;
}

// The groups' data as memoryviews (hand_over), the finishing task's as bytes.
py::list verification_data(const std::vector<std::string>& args, const source_tuple& source, std::uint64_t begin,
                           std::uint64_t end, std::uint64_t first_line, const py::buffer& part, const py::bytes& route,
                           const py::buffer& part_sets) {
  const jobs::dedup_options o = dedup_options_of(args);
  std::vector<std::string> out;
  const bytes_like held(part), sets(part_sets);
  const std::string_view p = held.view(), r = view_of(route), ps = sets.view();
  without_gil("dedup", [&] {
    out = jobs::part_verification_data(range_of(source, begin, end, first_line), p, r, o, ps);
    release_free_memory();
  });
  py::list result;
  for (std::size_t h = 0; h < out.size(); ++h) {
    if (h + 1 < out.size()) {
      result.append(hand_over(std::move(out[h])));
    } else {
      result.append(py::bytes(out[h]));
    }
  }
  return result;
}

py::bytes verify(const std::vector<std::string>& args, const py::bytes& pairs, const std::vector<py::buffer>& data) {
  const jobs::dedup_options o = dedup_options_of(args);
  std::string out;
  const std::string_view p = view_of(pairs);
  std::vector<bytes_like> held;
  held.reserve(data.size());
  std::vector<std::string_view> views;
  for (const auto& d : data) views.push_back(held.emplace_back(d).view());
  without_gil("dedup", [&] { out = jobs::verify_pairs(p, views, o); });
  return py::bytes(out);
}

// The finishing task's sources: those the planner sent, which must be the
// ones the finishing options name (in order); the job's progress is off and
// its notices are kept for the caller.
std::vector<io::source_info> planned_sources(job_settings& s, const std::vector<source_tuple>& sources,
                                             notices& kept) {
  std::vector<io::source_info> list;
  for (const auto& t : sources) list.push_back(from_tuple(t));
  const auto& now = s.job().sources.sources;
  bool same = now.size() == list.size();
  for (std::size_t i = 0; same && i < list.size(); ++i) same = now[i].path == list[i].path;
  if (!same) throw std::runtime_error("the inputs changed between planning and finishing the run");
  s.base().progress = false;
  s.base().events = &kept;
  return list;
}

py::dict finish(const std::string& command, const std::vector<std::string>& args,
                const std::vector<source_tuple>& sources, const std::vector<py::bytes>& parts,
                const std::vector<std::uint32_t>& part_sources, const std::vector<py::bytes>& buckets,
                const std::vector<py::bytes>& candidate_data, const std::vector<py::bytes>& verdicts,
                const py::object& write, const std::vector<py::bytes>& exact) {
  job_settings s;
  const std::vector<std::string_view> views = views_of(parts);
  const std::vector<std::string_view> bucket_views = views_of(buckets), data_views = views_of(candidate_data),
                                      verdict_views = views_of(verdicts), exact_views = views_of(exact);
  const jobs::part_stages stages{bucket_views, data_views, verdict_views, exact_views};
  const bool staged = !buckets.empty() || !exact.empty();
  // write(keep lists, temporary path): runs the parts' write tasks (jobs::part_writes).
  const jobs::part_writes writes = [&](std::span<const std::string> keep, const std::string& path) {
    py::gil_scoped_acquire gil;
    try {
      std::vector<py::bytes> lists;
      for (const auto& k : keep) lists.emplace_back(k);
      write(lists, path);
    } catch (py::error_already_set& e) {
      throw std::runtime_error(std::string("writing deduped.jsonl by parts: ") + e.what());
    }
  };
  notices kept;
  without_gil(command, [&] {
    parse(s, command, args, true);
    const std::vector<io::source_info> list = planned_sources(s, sources, kept);
    if (s.decon()) {
      const jobs::decontaminate_report r = jobs::run_decontaminate_parts(
          list, s.references, views, part_sources, s.job().out_dir, s.decontaminate.options);
      s.job().require_parsed(r.documents, r.skipped);
      s.job().require_parsed(r.references, 0, "reference");
    } else {
      const jobs::dedup_report r = jobs::run_dedup_parts(list, views, part_sources, s.job().out_dir, s.options(),
                                                            staged ? &stages : nullptr,
                                                            write.is_none() ? nullptr : &writes);
      s.job().require_parsed(r.documents, r.skipped);
    }
    s.job().complete();
  });
  py::dict d;
  d["notices"] = kept.lines;
  return d;
}

// One part's kept lines into the run's temporary deduped.jsonl (jobs::write_part_kept).
std::uint64_t write_part(const std::string& command, const std::vector<std::string>& args, const source_tuple& source,
                         std::uint64_t begin, std::uint64_t end, const py::buffer& part, const py::bytes& keep,
                         const std::string& path) {
  job_settings s;
  std::uint64_t wrote = 0;
  const bytes_like held(part);
  const std::string_view p = held.view(), k = view_of(keep);
  without_gil(command, [&] {
    parse(s, command, args, false);
    if (s.decon()) throw std::invalid_argument("decontaminate writes its output in its finishing task");
    s.options().progress = false;
    wrote = jobs::write_part_kept(range_of(source, begin, end, 1), p, k, path, s.options());
  });
  return wrote;
}

// decontaminate's finish with the parts fetched one at a time: fetch(i)
// returns part i's bytes (called with the GIL; the previous part is released
// first), so that the finishing task holds one part, not the kept corpus.
py::dict finish_streamed(const std::vector<std::string>& args, const std::vector<source_tuple>& sources,
                         const std::vector<std::uint32_t>& part_sources, const py::function& fetch) {
  job_settings s;
  notices kept;
  py::object held;  // the part being read
  without_gil("decontaminate", [&] {
    parse(s, "decontaminate", args, true);
    const std::vector<io::source_info> list = planned_sources(s, sources, kept);
    const auto part = [&](std::size_t i) -> std::string_view {
      py::gil_scoped_acquire gil;
      held = py::object();
      release_free_memory();
      try {
        held = fetch(i);
        return view_of(held.cast<py::bytes>());
      } catch (py::error_already_set& e) {
        throw std::runtime_error(std::string("fetching part ") + std::to_string(i) + ": " + e.what());
      }
    };
    const jobs::decontaminate_report r = jobs::run_decontaminate_parts(
        list, s.references, part, part_sources, s.job().out_dir, s.decontaminate.options);
    {
      py::gil_scoped_acquire gil;
      held = py::object();
    }
    s.job().require_parsed(r.documents, r.skipped);
    s.job().require_parsed(r.references, 0, "reference");
    s.job().complete();
  });
  py::dict d;
  d["notices"] = kept.lines;
  return d;
}

}  // namespace

void register_dask(py::module_& m) {
  using namespace pybind11::literals;
  m.def("_dask_plan", &plan, "command"_a, "args"_a,
        "Parses `neardup COMMAND ARGS...` as the CLI does before reading: expands the inputs and references (a "
        "missing one raises OSError), checks and clears OUTDIR. Returns the sources, references and OUTDIR.");
  m.def("_dask_ranges", &ranges, "source"_a, "part_bytes"_a,
        "The byte ranges [(begin, end), ...] a source of a plan is read in (jobs::part_ranges).");
  m.def("_dask_lines", &range_lines, "source"_a, "begin"_a, "end"_a,
        "The '\\n's in bytes [begin, end) of a source of a plan (jobs::part_range_lines).");
  py::class_<owned_bytes>(m, "_OwnedBytes", py::buffer_protocol(),
                          "Bytes made by neardup, shared with Python without a copy (behind a memoryview).")
      .def_buffer([](owned_bytes& b) {
        return py::buffer_info(b.data.data(), 1, py::format_descriptor<std::uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(b.data.size())}, {py::ssize_t{1}}, true);
      });
  m.def("_dask_scan", &scan, "command"_a, "args"_a, "source"_a, "begin"_a, "end"_a, "first_line"_a,
        "references"_a = std::vector<source_tuple>{}, "keep_sets"_a = false,
        "With keep_sets: (part, sets), the sets being the shingle sets of pass 1 (jobs::scan_part) as a memoryview. Pass 1 over one range of a source of a plan: the part (jobs/parts.hpp; a memoryview for dedup, else bytes; for decontaminate, "
        "jobs::scan_decontaminate_part against the plan's references).");
  m.def("_dask_finish_decontaminate", &finish_streamed, "args"_a, "sources"_a, "part_sources"_a, "fetch"_a,
        "decontaminate's finish (jobs::run_decontaminate_parts) with fetch(i) returning part i's bytes, one part "
        "at a time. Returns {'notices': [...]}.");
  m.def("_dask_part_metadata", &part_metadata, "part"_a, "fingerprints"_a = true,
        "A part without its signatures, and without fingerprints unless `fingerprints` (jobs::part_metadata).");
  m.def("_dask_part_fingerprints", &part_fingerprints, "command"_a, "args"_a, "part"_a, "groups"_a,
        "A part's usable documents' fingerprints in `groups` pieces (jobs::part_fingerprints).");
  m.def("_dask_exact_groups", &exact_groups, "command"_a, "args"_a, "pieces"_a,
        "The exact groups of one fingerprint group from every part's piece of it (jobs::group_part_fingerprints).");
  m.def("_dask_band_keys", &band_keys, "args"_a, "part"_a, "band_begin"_a, "band_end"_a,
        "The band keys of bands [band_begin, band_end) of a part (jobs::part_band_keys).");
  m.def("_dask_group", &group, "args"_a, "band_begin"_a, "band_end"_a, "keys"_a,
        "The buckets of bands [band_begin, band_end) from every part's band keys (jobs::group_part_band_keys).");
  m.def("_dask_candidates", &candidates, "buckets"_a,
        "The candidate documents of each part, from the buckets of every band (jobs::part_candidates).");
  m.def("_dask_candidate_data", &candidate_data, "args"_a, "source"_a, "begin"_a, "end"_a, "first_line"_a,
        "part"_a, "candidates"_a, "part_sets"_a = py::bytes(),
        "The signatures and shingle sets of a part's candidates (jobs::part_candidate_data; the sets from "
        "part_sets, scan's, when not empty, else read again).");
  m.attr("_dask_max_verify_bucket") = jobs::max_verified_bucket;
  m.def("_dask_verification_plan", &verification_plan, "buckets"_a, "max_bucket"_a, "groups"_a,
        "(routes per part, pairs per group) from the buckets of every band (jobs::plan_verification).");
  m.def("_dask_verification_data", &verification_data, "args"_a, "source"_a, "begin"_a, "end"_a, "first_line"_a,
        "part"_a, "route"_a, "part_sets"_a = py::bytes(),
        "A part's candidate data for each destination of its route: the groups (memoryviews), then the "
        "finishing task (bytes) (jobs::part_verification_data).");
  m.def("_dask_verify", &verify, "args"_a, "pairs"_a, "data"_a,
        "The verdicts of one group's pairs from every part's data for it (jobs::verify_pairs).");
  m.def("_dask_finish", &finish, "command"_a, "args"_a, "sources"_a, "parts"_a, "part_sources"_a,
        "buckets"_a = std::vector<py::bytes>{}, "candidate_data"_a = std::vector<py::bytes>{},
        "verdicts"_a = std::vector<py::bytes>{}, "write"_a = py::none(), "exact"_a = std::vector<py::bytes>{},
        "Merges the parts of every source and writes the run's outputs into OUTDIR (with _SUCCESS). "
        "With buckets and candidate_data (dedup), the parts may be part_metadata() parts (jobs::part_stages); "
        "with verdicts, candidate_data is that of the members of buckets too large to verify in tasks. "
        "With write (dedup, exact), write(keep lists, path) has each part's kept lines written into path "
        "(_dask_write_part, jobs::part_writes) unless the run's sizes are not known beforehand. With exact "
        "(dedup), the exact groups were found in tasks (jobs::part_stages::exact). "
        "Returns {'notices': [...]}: bad records (FILE:LINE) and warnings.");
  m.def("_dask_write_part", &write_part, "command"_a, "args"_a, "source"_a, "begin"_a, "end"_a, "part"_a, "keep"_a,
        "path"_a,
        "Writes one part's kept lines (its keep list, made by the finishing step) into the run's temporary "
        "deduped.jsonl at path (jobs::write_part_kept). Returns the bytes written.");
}

}  // namespace neardup::python

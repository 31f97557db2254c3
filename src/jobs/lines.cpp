// neardup lines (see neardup/jobs/lines.hpp).
#include "neardup/jobs/lines.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "../io/chunk_pipeline.hpp"
#include "corpus_passes.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/progress.hpp"

namespace neardup::jobs {

using namespace neardup::io;
using neardup::io::detail::for_each_chunk_ordered;

namespace {

// Calls fn(line) for each '\n'-separated line of text (a '\r' stays in it).
template <class Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t nl = text.find('\n', begin);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    fn(text.substr(begin, end - begin));
    if (nl == std::string_view::npos) break;
    begin = nl + 1;
  }
}

}  // namespace

line_dedup_report run_line_dedup(std::span<const source_info> sources, const std::string& out_dir,
                                 const line_dedup_options& options) {
  if (options.max_repeats < 1) throw std::invalid_argument("max_repeats = 0: every line would be removed; use >= 1");
  const auto t0 = std::chrono::steady_clock::now();
  executor pool(options.threads);
  detail::make_output_dir(out_dir);

  std::uint64_t input_bytes = 0;
  std::uint64_t text_estimate = 0;  // compressed sources hold several times their size
  for (const auto& s : sources) {
    input_bytes += s.file_bytes;
    text_estimate += s.codec == compression::none ? s.file_bytes : 8 * s.file_bytes;
  }
  line_dedup_report report;
  // A generous guess of distinct lines: one per 32 bytes of text.
  report.partitions = options.partitions != 0
                          ? options.partitions
                          : choose_line_partitions(text_estimate / 32 + 1, options.memory_budget_bytes);
  detail::job_events events(options);
  pipeline::sink& meter = *events;

  // ---- counting passes, one per hash partition ------------------------------
  std::vector<std::uint64_t> removed;  // sorted hashes over max_repeats
  std::vector<line_count> top;
  struct count_result {
    std::vector<std::uint64_t> hashes;
    std::uint64_t lines = 0;
    std::uint64_t bytes = 0;
  };
  for (std::size_t part = 0; part < report.partitions; ++part) {
    line_counter counter(report.partitions, part);
    meter.begin_stage("count lines " + std::to_string(part + 1) + "/" + std::to_string(report.partitions),
                      input_bytes);
    std::uint64_t lines = 0;
    for_each_chunk_ordered<count_result>(
        sources, options.reader, &pool,
        [&] {
          return [&, parser = record_parser()](const input_chunk& chunk, std::size_t, count_result& res) mutable {
            res.hashes.clear();
            res.lines = 0;
            res.bytes = chunk.data.size();
            parse_chunk(chunk, options.records, parser, [&](const record& r) {
              if (r.status != record_status::ok) return;
              for_each_line(r.text, [&](std::string_view line) {
                if (is_blank_line(line)) return;
                ++res.lines;
                const std::uint64_t h = line_hash(line, options.seed);
                if (counter.owns(h)) res.hashes.push_back(h);
              });
            });
          };
        },
        [&](std::size_t, const input_chunk&, count_result& res) {
          for (std::uint64_t h : res.hashes) counter.count(h);
          lines += res.lines;
          meter.add(res.bytes, 0);
        });
    meter.end_stage();
    report.lines = lines;
    report.distinct_lines += counter.distinct();
    // Lines over the limit, most repeated first.
    const std::vector<line_count> over = counter.repeated(options.max_repeats);
    for (const auto& lc : over) removed.push_back(lc.hash);
    const auto listed = static_cast<std::ptrdiff_t>(std::min(over.size(), options.top_lines));
    top.insert(top.end(), over.begin(), over.begin() + listed);
    keep_top(top, options.top_lines);
  }
  std::sort(removed.begin(), removed.end());
  report.repeated_distinct = removed.size();
  auto is_removed = [&](std::uint64_t h) { return std::binary_search(removed.begin(), removed.end(), h); };

  // ---- rewrite pass ----------------------------------------------------------
  line_sampler sampler(top);
  output_options out_opts;
  out_opts.compression = options.compression;
  atomic_file out(out_dir + (options.compression == output_compression::zstd ? "/deduped.jsonl.zst" : "/deduped.jsonl"),
                  out_opts);
  struct write_result {
    std::string jsonl;
    std::vector<std::pair<std::uint64_t, std::string>> samples;  // one per wanted hash per chunk
    // Bad records, and (status ok) records whose lines could not be rewritten.
    std::vector<detail::record_problem> problems;
    std::uint64_t docs = 0, skipped = 0, modified = 0, dropped = 0, not_rewritten = 0, removed_lines = 0;
    std::uint64_t bytes = 0;
  };
  meter.begin_stage("rewrite", input_bytes);
  detail::problem_reporter problems(sources, options.max_reported_errors, "kept unchanged", meter);
  for_each_chunk_ordered<write_result>(
      sources, options.reader, &pool,
      [&] {
        return [&, parser = record_parser(), text = std::string()](const input_chunk& chunk, std::size_t,
                                                                    write_result& res) mutable {
          res = write_result{};
          res.bytes = chunk.data.size();
          parse_chunk(chunk, options.records, parser, [&](const record& r) {
            if (r.status == record_status::blank) return;
            ++res.docs;
            if (r.status != record_status::ok) {
              ++res.skipped;
              res.problems.push_back({r.status, r.source, r.line, r.error});
              detail::append_document_line(res.jsonl, chunk, r);
              return;
            }
            text.clear();
            std::uint64_t removed_here = 0;
            bool any_content = false;
            bool first = true;
            for_each_line(r.text, [&](std::string_view line) {
              const bool blank = is_blank_line(line);
              if (!blank) {
                const std::uint64_t h = line_hash(line, options.seed);
                if (is_removed(h)) {
                  ++removed_here;
                  if (sampler.wants(h)) res.samples.emplace_back(h, std::string(line));
                  return;
                }
                any_content = true;
              }
              if (!first) text += '\n';
              text += line;
              first = false;
            });
            if (removed_here == 0) {
              detail::append_document_line(res.jsonl, chunk, r);
              return;
            }
            if (!any_content) {
              ++res.dropped;
              res.removed_lines += removed_here;
              return;
            }
            if (!detail::append_rewritten_line(res.jsonl, chunk, r, text)) {
              ++res.not_rewritten;
              res.problems.push_back({record_status::ok, r.source, r.line,
                                      "repeated lines not removed: the line was repaired (invalid UTF-8 or "
                                      "control characters) before parsing; kept unchanged"});
              detail::append_document_line(res.jsonl, chunk, r);
              return;
            }
            ++res.modified;
            res.removed_lines += removed_here;
          });
        };
      },
      [&](std::size_t, const input_chunk&, write_result& res) {
        out.write(res.jsonl);
        for (const auto& [h, line] : res.samples) sampler.offer(h, line);
        for (const auto& p : res.problems) {
          if (p.status == record_status::ok) {
            problems.note(p.source, p.line, p.error);
          } else {
            problems.skipped(p);
          }
        }
        report.documents += res.docs;
        report.skipped += res.skipped;
        report.modified += res.modified;
        report.dropped += res.dropped;
        report.not_rewritten += res.not_rewritten;
        report.lines_removed += res.removed_lines;
        meter.add(res.bytes, res.docs);
      });
  meter.end_stage();
  out.commit();
  report.top = sampler.samples();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::string s;
  json_writer w(s);
  w.begin_object();
  w.field("command", "lines");
  w.field("max_repeats", static_cast<std::uint64_t>(options.max_repeats));
  w.key("documents");
  w.begin_object();
  w.field("read", report.documents);
  w.field("kept", report.documents - report.dropped);
  w.field("modified", report.modified);
  w.field("dropped_empty", report.dropped);
  w.field("skipped", report.skipped);
  w.field("not_rewritten", report.not_rewritten);
  w.end_object();
  w.key("lines");
  w.begin_object();
  w.field("read", report.lines);
  w.field("removed", report.lines_removed);
  w.field("distinct", report.distinct_lines);
  w.field("distinct_over_max_repeats", report.repeated_distinct);
  w.end_object();
  w.field("partitions", static_cast<std::uint64_t>(report.partitions));
  w.key("most_repeated_removed");
  w.begin_array();
  for (const auto& t : report.top) {
    w.begin_object();
    w.field("count", static_cast<std::uint64_t>(t.count));
    w.field("line", t.sample);
    w.end_object();
  }
  w.end_array();
  detail::finish_stats(w, s, report.seconds, out_dir);
  return report;
}

}  // namespace neardup::jobs

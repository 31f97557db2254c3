// The command list and the options every command shares, declared once.
#include <cstdio>

#include "commands.hpp"

namespace neardup_cli {

const std::vector<command>& commands() {
  static const std::vector<command> list = {
      {"dedup", &run_dedup, &dedup_option_names, true},
      {"exact", &run_exact, &exact_option_names, true},
      {"lines", &run_lines, &lines_option_names, true},
      {"decontaminate", &run_decontaminate, &decontaminate_option_names, true},
      {"pairs", &run_pairs, &pairs_option_names, true},
      {"eval", &run_eval, &eval_option_names, true},
      {"report", &run_report, &report_option_names, false},
      {"index", &run_index, &index_option_names, false},
      {"query", &run_query, &query_option_names, false},
  };
  return list;
}

std::vector<std::string> names_of(const option_table& t) {
  std::vector<std::string> names;
  for (const auto& o : t.options()) {
    if (!o.positional) names.push_back(o.name);
  }
  return names;
}

std::string commands_using(std::string_view name) {
  std::string list;
  for (const auto& c : commands()) {
    const auto names = c.option_names();
    if (std::find(names.begin(), names.end(), name) != names.end()) list += (list.empty() ? "" : ", ") + std::string(c.name);
  }
  return list;
}

void add_shared_options(option_table& t, job_cli& job, const shared_bindings& b, output_dir out) {
  {
    option o = text("output", "OUTDIR", job.out_dir, "directory for the outputs");
    o.short_name = 'o';
    o.default_text = out == output_dir::required ? "required" : "a temporary directory, removed at the end";
    t.add(std::move(o).in_group("output"));
  }
  if (b.keep) t.add(choice("keep", *b.keep, "which document of a cluster is kept").in_group("output"));
  if (b.compression) {
    t.add(choice("compress", *b.compression, "zstd: write the JSONL output compressed (.jsonl.zst)").in_group("output"));
  }

  option inputs;
  inputs.positional = true;
  inputs.value_name = "INPUT...";
  inputs.help =
      "JSONL files (.jsonl, .jsonl.gz, .jsonl.zst) and directories; in a\n"
      "directory, *.jsonl[.gz|.zst] are JSONL and every other file is one\n"
      "document whose id is its path relative to the directory;\n"
      "'-' is standard input (copied to $TMPDIR first); other pipes\n"
      "and FIFOs are refused (the input is read more than once)";
  t.add(std::move(inputs).in_group("input"));
  t.add(flag("skip-unreadable",
             "skip files in directories that cannot be read (dangling links,\n"
             "no permission) and list them in stats.json [such a file is an error]",
             [&job] { job.skip_unreadable = true; })
            .in_group("input"));
  t.add(flag("allow-empty", "a run that parses no record at all succeeds [it fails: exit 1]",
             [&job] { job.allow_empty = true; })
            .in_group("input"));
  if (b.records) {
    job.records = b.records;
    t.add(integer("max-line-mb", "M", b.records->max_line_bytes, 1, std::uint64_t{1} << 20,
                  "a longer line is not parsed: reported as FILE:LINE, counted as\n"
                  "line_too_long and kept unchanged",
                  std::uint64_t{1} << 20)
              .in_group("input"));
    t.add(text("text-field", "NAME", b.records->text_field, "JSON field holding the text; '/a/b' is a JSON pointer")
              .in_group("input"));
    t.add(text("id-field", "NAME", b.records->id_field, "JSON field holding the id; without one the id is FILE:LINE")
              .in_group("input"));
  }
  if (b.tokens) {
    auto* tokens = b.tokens;
    t.add(choice<neardup::token_kind>(
              "tokens", tokens->kind,
              [tokens](neardup::token_kind k) { *tokens = neardup::tokenize_options::for_kind(k); }, "tokenizer")
              .in_group("input"));
  }
  if (b.seed) {
    t.add(integer("seed", "N", *b.seed, 0, UINT64_MAX, "seed of every hash; same seed, same output")
              .shows_default("fixed default")
              .in_group("input"));
  }
  if (b.threads) {
    t.add(integer("threads", "N", *b.threads, 0, 1024, "worker threads; never changes the output")
              .shows_default("all cores")
              .in_group("input"));
  }
  if (b.memory) {
    t.add(optional_integer("memory-mb", "M", b.memory->memory_bytes, 1, std::uint64_t{1} << 30,
                           b.tmp_dir != nullptr ? "memory the run plans to stay within; past it, the document\n"
                                                  "table and band keys (and signatures, unless --verify exact)\n"
                                                  "are spilled to --tmp-dir (same output, more disk)"
                                                : "memory the run plans to stay within: smaller input chunks;\n"
                                                  "a reference index that does not fit stops the run early",
                           std::uint64_t{1} << 20)
              .shows_default("1/2 of RAM or cgroup limit")
              .in_group("input"));
  }
  if (b.tmp_dir) {
    t.add(text("tmp-dir", "DIR", *b.tmp_dir,
               "where spilled runs go (unnamed files, gone when the run ends)")
              .shows_default("OUTDIR")
              .in_group("input"));
  }
  if (b.progress || b.max_reported_errors) {
    t.add(flag("quiet", "no progress or warnings on stderr",
               [&job, b] {
                 job.quiet = true;
                 if (b.progress) *b.progress = false;
                 if (b.max_reported_errors) *b.max_reported_errors = 0;
               })
              .in_group("input"));
  }
}

void finish_job(job_cli& job, const parsed& p, output_dir out) {
  job.inputs = p.positional;
  if (job.inputs.empty()) throw usage_error("no INPUT given");
  if (out == output_dir::required && job.out_dir.empty()) throw usage_error("no output directory given (-o OUTDIR)");
  if (!job.out_dir.empty()) {
    neardup::io::check_output_dir(job.inputs, job.out_dir);
    job.run = std::make_shared<neardup::io::output_run>(job.out_dir, job.command);
  }
  job.sources = neardup::io::expand_inputs(std::span<const std::string>(job.inputs),
                                           {.skip_unreadable = job.skip_unreadable, .output_dir = job.out_dir});
  job.display = std::make_unique<neardup::io::progress_meter>(
      neardup::io::progress_options{.enabled = !job.quiet, .prefix = "neardup: "});
  if (!job.quiet) {
    for (const auto& skipped : job.sources.skipped) std::fprintf(stderr, "neardup: skipped %s\n", skipped.c_str());
    for (const auto& note : job.sources.notes) std::fprintf(stderr, "neardup: %s\n", note.c_str());
  }
}

void job_cli::require_parsed(std::uint64_t read, std::uint64_t skipped, const char* what) const {
  if (allow_empty || read > skipped) return;
  std::string msg = "NOTHING WAS PARSED: ";
  if (read == 0) {
    msg += "the input holds no " + std::string(what) + " (" + std::to_string(sources.sources.size()) +
           " sources, all empty or blank)";
  } else {
    msg += "all " + std::to_string(read) + " " + what + "s were skipped as bad (the file:line messages and " +
           "stats.json say why)";
  }
  msg += ". Check --text-field '" + (records != nullptr ? records->text_field : std::string("text")) + "', that the input is UTF-8 JSON Lines (not UTF-16, not one pretty-printed JSON "
         "value), and the INPUT paths; give --allow-empty if this is expected";
  throw std::runtime_error(msg);
}

void job_cli::complete() const {
  if (!run) return;
  run->add_to_stats("unreadable_files", sources.unreadable);
  run->complete();
}

}  // namespace neardup_cli

// The command list and the options every command shares, declared once.
#include <cstdio>

#include "commands.hpp"

namespace neardup_cli {

const std::vector<command>& commands() {
  static const std::vector<command> list = {
      {"dedup", &run_dedup, &dedup_option_names},
      {"exact", &run_exact, &exact_option_names},
      {"lines", &run_lines, &lines_option_names},
      {"decontaminate", &run_decontaminate, &decontaminate_option_names},
      {"pairs", &run_pairs, &pairs_option_names},
      {"eval", &run_eval, &eval_option_names},
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
      "document whose id is its path relative to the directory";
  t.add(std::move(inputs).in_group("input"));
  if (b.records) {
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
  job.sources = neardup::io::expand_inputs(std::span<const std::string>(job.inputs));
  job.display = std::make_unique<neardup::io::progress_meter>(
      neardup::io::progress_options{.enabled = !job.quiet, .prefix = "neardup: "});
  if (!job.quiet) {
    for (const auto& skipped : job.sources.skipped) std::fprintf(stderr, "neardup: skipped %s\n", skipped.c_str());
  }
}

}  // namespace neardup_cli

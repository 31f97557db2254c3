#include <cstdio>

#include "commands.hpp"
#include "neardup/hash.hpp"

namespace neardup_cli {

const std::vector<command>& commands() {
  static const std::vector<command> list = {
      {"dedup", &run_dedup},
      {"exact", &run_exact},
      {"lines", &run_lines},
      {"decontaminate", &run_decontaminate},
      {"pairs", &run_pairs},
      {"eval", &run_eval},
  };
  return list;
}

const char* const kCommonOptionsHelp = R"(input:
  INPUT...               JSONL files (.jsonl, .jsonl.gz, .jsonl.zst) and directories; in a
                         directory, *.jsonl[.gz|.zst] are JSONL and every other file is one
                         document whose id is its path relative to the directory;
                         '-' is standard input (copied to $TMPDIR first); other pipes
                         and FIFOs are refused (the input is read more than once)
  --text-field NAME      JSON field holding the text [text]; '/a/b' is a JSON pointer
  --id-field NAME        JSON field holding the id [id]; without one the id is FILE:LINE
  --tokens word|char|code  tokenizer [word]
  --seed N               seed of every hash [fixed default]; same seed, same output
  --threads N            worker threads [all cores]; never changes the output
  --skip-unreadable      skip files in directories that cannot be read (dangling links,
                         no permission) and list them in stats.json [such a file is an error]
  --max-line-mb M        a longer line is not parsed: reported as FILE:LINE, counted as
                         line_too_long and kept unchanged [64]
  --allow-empty          a run that parses no record at all succeeds [it fails: exit 1]
  --quiet                no progress or warnings on stderr
)";

std::vector<std::string> common_value_options() {
  return {"output", "text-field", "id-field", "tokens", "seed", "threads", "max-line-mb"};
}
std::vector<std::string> common_flag_options() { return {"quiet", "help", "skip-unreadable", "allow-empty"}; }

common_settings read_common(const args& a, bool needs_output, const char* command) {
  common_settings s;
  s.inputs = a.positional();
  if (s.inputs.empty()) throw usage_error("no INPUT given");
  if (auto out = a.value("output"); out && !out->empty()) {
    s.out_dir = *out;
  } else if (needs_output) {
    throw usage_error("no output directory given (-o OUTDIR)");
  }
  s.records.text_field = a.get_string("text-field", "text");
  s.records.id_field = a.get_string("id-field", "id");
  s.records.max_line_bytes = static_cast<std::size_t>(a.get_uint("max-line-mb", 64, 1, std::uint64_t{1} << 20) << 20);
  const std::string tokens = a.get_choice("tokens", "word", {"word", "char", "code"});
  s.tokens = tokens == "word"   ? neardup::tokenize_options::for_words()
             : tokens == "char" ? neardup::tokenize_options::for_characters()
                                : neardup::tokenize_options::for_code();
  s.threads = a.get_uint("threads", 0, 0, 1024);
  s.seed = a.get_uint("seed", neardup::default_seed, 0, UINT64_MAX);
  s.quiet = a.flag("quiet");
  s.allow_empty = a.flag("allow-empty");
  if (!s.out_dir.empty()) {
    neardup::io::check_output_dir(s.inputs, s.out_dir);
    s.run = std::make_shared<neardup::io::output_run>(s.out_dir, command);
  }
  s.sources = neardup::io::expand_inputs(std::span<const std::string>(s.inputs),
                                         {.skip_unreadable = a.flag("skip-unreadable"), .output_dir = s.out_dir});
  if (!s.quiet) {
    for (const auto& skipped : s.sources.skipped) std::fprintf(stderr, "neardup: skipped %s\n", skipped.c_str());
    for (const auto& note : s.sources.notes) std::fprintf(stderr, "neardup: %s\n", note.c_str());
  }
  return s;
}

void common_settings::require_parsed(std::uint64_t read, std::uint64_t skipped, const char* what) const {
  if (allow_empty || read > skipped) return;
  std::string msg = "neardup: NOTHING WAS PARSED: ";
  if (read == 0) {
    msg += "the input holds no " + std::string(what) + " (" + std::to_string(sources.sources.size()) +
           " sources, all empty or blank)";
  } else {
    msg += "all " + std::to_string(read) + " " + what + "s were skipped as bad (the file:line messages and " +
           "stats.json say why)";
  }
  msg += ". Check --text-field '" + records.text_field + "', that the input is UTF-8 JSON Lines (not UTF-16, not one " +
         "pretty-printed JSON value), and the INPUT paths; give --allow-empty if this is expected";
  throw std::runtime_error(msg);
}

void common_settings::complete() const {
  if (!run) return;
  run->add_to_stats("unreadable_files", sources.unreadable);
  run->complete();
}

}  // namespace neardup_cli

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
                         document whose id is its path relative to the directory
  --text-field NAME      JSON field holding the text [text]; '/a/b' is a JSON pointer
  --id-field NAME        JSON field holding the id [id]; without one the id is FILE:LINE
  --tokens word|char|code  tokenizer [word]
  --seed N               seed of every hash [fixed default]; same seed, same output
  --threads N            worker threads [all cores]; never changes the output
  --quiet                no progress or warnings on stderr
)";

std::vector<std::string> common_value_options() {
  return {"output", "text-field", "id-field", "tokens", "seed", "threads"};
}
std::vector<std::string> common_flag_options() { return {"quiet", "help"}; }

common_settings read_common(const args& a, bool needs_output) {
  common_settings s;
  s.inputs = a.positional();
  if (s.inputs.empty()) throw usage_error("no INPUT given");
  if (needs_output) {
    auto out = a.value("output");
    if (!out || out->empty()) throw usage_error("no output directory given (-o OUTDIR)");
    s.out_dir = *out;
  }
  s.records.text_field = a.get_string("text-field", "text");
  s.records.id_field = a.get_string("id-field", "id");
  const std::string tokens = a.get_choice("tokens", "word", {"word", "char", "code"});
  s.tokens = tokens == "word"   ? neardup::tokenize_options::for_words()
             : tokens == "char" ? neardup::tokenize_options::for_characters()
                                : neardup::tokenize_options::for_code();
  s.threads = a.get_uint("threads", 0, 0, 1024);
  s.seed = a.get_uint("seed", neardup::default_seed, 0, UINT64_MAX);
  s.quiet = a.flag("quiet");
  s.display = std::make_unique<neardup::io::progress_meter>(
      neardup::io::progress_options{.enabled = !s.quiet, .prefix = "neardup: "});
  s.sources = neardup::io::expand_inputs(std::span<const std::string>(s.inputs));
  if (!s.quiet) {
    for (const auto& skipped : s.sources.skipped) std::fprintf(stderr, "neardup: skipped %s\n", skipped.c_str());
  }
  return s;
}

}  // namespace neardup_cli

// The subcommands of the neardup executable and the options they share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "args.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/io/input.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/tokenize.hpp"

namespace neardup_cli {

struct command {
  const char* name;
  int (*run)(int argc, char** argv);
};

const std::vector<command>& commands();

// Options every corpus-reading command accepts (documented in --help texts).
extern const char* const kCommonOptionsHelp;
std::vector<std::string> common_value_options();
std::vector<std::string> common_flag_options();

// Reads INPUT... and the shared options; throws usage_error on misuse.
struct common_settings {
  std::vector<std::string> inputs;
  neardup::io::expanded_inputs sources;
  std::string out_dir;
  neardup::io::record_options records;
  neardup::tokenize_options tokens;
  std::size_t threads = 0;
  std::uint64_t seed = 0;
  bool quiet = false;
  // Progress and notices on stderr, each notice after "neardup: "; the jobs
  // report to it (job_options::events).
  std::unique_ptr<neardup::io::progress_meter> display;
};
common_settings read_common(const args& a, bool needs_output);

// The similarity options of `dedup`, shared by `pairs` and `eval`.
extern const char* const kDedupOptionsHelp;
std::vector<std::string> dedup_value_options();
std::vector<std::string> dedup_flag_options();
neardup::jobs::dedup_options read_dedup_options(const args& a, const common_settings& common);

int run_dedup(int argc, char** argv);
int run_exact(int argc, char** argv);
int run_lines(int argc, char** argv);
int run_decontaminate(int argc, char** argv);
int run_pairs(int argc, char** argv);
int run_eval(int argc, char** argv);

}  // namespace neardup_cli

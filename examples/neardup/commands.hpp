// The subcommands of the neardup executable and the options they share.
//
// Each command file holds ONE table function that declares every option the
// command uses and binds it to a field of the library's option struct; the
// shared settings below are declared once, here, and each command passes the
// fields it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "neardup/jobs/decontaminate.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/io/input.hpp"
#include "neardup/io/output_run.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/jobs/options.hpp"
#include "neardup/tokenize.hpp"
#include "options.hpp"

namespace neardup_cli {

struct command {
  const char* name;
  int (*run)(int argc, char** argv);
  std::vector<std::string> (*option_names)();  // every --name of its table
  // True when a complete run ends by writing OUTDIR/_SUCCESS (io::output_run).
  bool marks_completion;
};

const std::vector<command>& commands();

// The CLI's own part of every job: INPUT..., -o OUTDIR, --quiet.
struct job_cli {
  std::vector<std::string> inputs;
  std::string out_dir;
  bool quiet = false;
  neardup::io::expanded_inputs sources;
  // Progress and notices on stderr, each notice after "neardup: " (made by
  // finish_job); the command hands it to the job as job_options::events.
  std::unique_ptr<neardup::io::progress_meter> display;
  bool skip_unreadable = false;  // --skip-unreadable
  bool allow_empty = false;      // --allow-empty
  // With an OUTDIR: locks it and removes its earlier outputs (output_run),
  // before any input is read.
  std::shared_ptr<neardup::io::output_run> run;
  const char* command = "";
  const neardup::io::record_options* records = nullptr;  // for messages

  // After the command wrote its outputs: lists unreadable files in
  // stats.json and writes OUTDIR/_SUCCESS.
  void complete() const;
  // Throws std::runtime_error with a loud summary when not one of `read`
  // records was parsed (all `skipped` as bad, or none at all), unless
  // --allow-empty: a typo in --text-field, a UTF-16 file or a wrong INPUT
  // must not pass for a successful run. `what` names the records.
  void require_parsed(std::uint64_t read, std::uint64_t skipped, const char* what = "record") const;
};

// Where the shared settings go in a command's library options. A null pointer
// means the command does not use the setting: its option is not declared, and
// giving it is an error.
struct shared_bindings {
  neardup::io::record_options* records = nullptr;          // --text-field, --id-field
  neardup::tokenize_options* tokens = nullptr;             // --tokens
  std::uint64_t* seed = nullptr;                           // --seed
  std::size_t* threads = nullptr;                          // --threads
  bool* progress = nullptr;                                // --quiet sets false
  std::size_t* max_reported_errors = nullptr;              // --quiet sets 0
  neardup::pipeline::keep_policy* keep = nullptr;                // --keep
  neardup::io::output_compression* compression = nullptr;  // --compress
  neardup::jobs::job_options* memory = nullptr;            // --memory-mb
  std::string* tmp_dir = nullptr;                          // --tmp-dir (commands that spill)
};

// The settings every job's option struct has: records, seed, threads,
// progress, max_reported_errors. A command adds tokens, keep and compression
// when it uses them.
template <class Options>
shared_bindings job_bindings(Options& o) {
  return {.records = &o.records,
          .seed = &o.seed,
          .threads = &o.threads,
          .progress = &o.progress,
          .max_reported_errors = &o.max_reported_errors};
}

enum class output_dir { required, optional };

// Declares -o/--output, INPUT... and the shared options bound in `b`.
void add_shared_options(option_table& t, job_cli& job, const shared_bindings& b, output_dir out);

// After parsing: takes INPUT... from `p`, checks -o, expands the inputs
// (reporting skipped files unless --quiet). Throws usage_error on misuse.
void finish_job(job_cli& job, const parsed& p, output_dir out);

// The similarity options of `dedup`, shared by `pairs` and `eval`.
struct similarity_cli {
  std::optional<std::uint32_t> bands, rows;  // --bands/--rows go together
};
// --threshold --num-perm --ngram --bands --rows --scheme --verify.
void add_similarity_options(option_table& t, neardup::pipeline::similarity_options& o, similarity_cli& s);
// Sets o.lsh from --bands/--rows; throws usage_error if only one is given.
void finish_similarity(neardup::pipeline::similarity_options& o, const similarity_cli& s);

// `neardup dedup`'s settings and table; `neardup eval` reuses both.
struct dedup_cli {
  neardup::jobs::dedup_options options;
  similarity_cli similarity;
  job_cli job;
};
option_table dedup_table(dedup_cli& s, std::string command, std::string intro, output_dir out);

// `neardup dedup`'s --against INDEX and --update-index (index_command.cpp).
struct index_cli {
  std::string against;
  bool update = false;
};
void add_index_options(option_table& t, index_cli& s);

// `neardup exact`'s settings and table (neardup.dask parses them too).
struct exact_cli {
  neardup::jobs::dedup_options options = [] {
    neardup::jobs::dedup_options o;
    o.near = false;  // exact duplicates only: no MinHash
    return o;
  }();
  job_cli job;
};
option_table exact_table(exact_cli& s, std::string intro);

// `neardup decontaminate`'s settings and table (neardup.dask parses them too).
struct decontaminate_cli {
  neardup::jobs::decontaminate_options options;
  std::vector<std::string> references;
  job_cli job;
};
option_table decontaminate_table(decontaminate_cli& s, std::string intro);

int run_dedup(int argc, char** argv);
int run_index(int argc, char** argv);
int run_query(int argc, char** argv);
int run_exact(int argc, char** argv);
int run_lines(int argc, char** argv);
int run_decontaminate(int argc, char** argv);
int run_pairs(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_report(int argc, char** argv);

std::vector<std::string> dedup_option_names();
std::vector<std::string> exact_option_names();
std::vector<std::string> lines_option_names();
std::vector<std::string> decontaminate_option_names();
std::vector<std::string> pairs_option_names();
std::vector<std::string> eval_option_names();
std::vector<std::string> report_option_names();
std::vector<std::string> index_option_names();
std::vector<std::string> query_option_names();

// The --names of a table (for commands_using).
std::vector<std::string> names_of(const option_table& t);

}  // namespace neardup_cli

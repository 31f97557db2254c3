// The exact / lines / decontaminate / pairs / eval subcommands of the `neardup`
// executable, run as processes: exit codes (0 ok, 1 failure, 2 usage),
// messages on stderr, and the outputs of small hand-checked corpora. The
// library behaviour behind them is checked against brute force in
// passes_test.cpp; this file checks the wiring of options to the library.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(NEARDUP_BINARY_DIR) + "/examples/neardup";

using neardup_test::quote;
using neardup_test::read_file;
using neardup_test::temp_dir;
using neardup_test::write_file;

struct cli_result {
  int exit_code = -1;
  std::string out, err;
};

cli_result run_cli(const std::vector<std::string>& args) {
  temp_dir capture;
  std::string cmd = quote(kBinary);
  for (const auto& a : args) cmd += ' ' + quote(a);
  cmd += " >" + quote((capture / "out").string()) + " 2>" + quote((capture / "err").string());
  const int status = std::system(cmd.c_str());
  cli_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(capture / "out");
  r.err = read_file(capture / "err");
  return r;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Five documents: c is an exact duplicate of a (case and punctuation differ),
// d is a near duplicate of a; every document carries the same header line.
constexpr std::string_view kCorpus =
    "{\"id\":\"a\",\"text\":\"Site header\\none two three four five six seven eight nine ten\"}\n"
    "{\"id\":\"b\",\"text\":\"Site header\\nalpha beta gamma delta epsilon zeta eta theta\"}\n"
    "{\"id\":\"c\",\"text\":\"SITE HEADER!\\nOne, two, three; four five six seven eight nine ten.\"}\n"
    "{\"id\":\"d\",\"text\":\"Site header\\none two three four five six seven eight nine eleven\"}\n"
    "{\"id\":\"e\",\"meta\":{\"k\":1},\"text\":\"site   header\\nsomething else entirely here\"}\n";

class PassesCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kBinary)) GTEST_SKIP() << kBinary << " is not built (target neardup_cli)";
    write_file(dir_ / "in.jsonl", std::string(kCorpus));
    write_file(dir_ / "bench.jsonl", "{\"id\":\"q1\",\"text\":\"alpha beta gamma\"}\n");
  }
  temp_dir dir_;
};

TEST_F(PassesCli, HelpForEverySubcommand) {
  for (const std::string cmd : {"exact", "lines", "decontaminate", "pairs", "eval"}) {
    const auto r = run_cli({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_TRUE(contains(r.out, "usage: neardup " + cmd)) << r.out;
  }
}

TEST_F(PassesCli, ExactRemovesTheNormalizedDuplicateOnly) {
  const auto r = run_cli({"exact", dir_ / "in.jsonl", "-o", dir_ / "out", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "removed 1 exact")) << r.err;
  EXPECT_EQ(read_file(dir_ / "out/clusters.tsv"), "a\ta\nb\tb\nc\ta\nd\td\ne\te\n");
  const std::string in(kCorpus);
  EXPECT_EQ(read_file(dir_ / "out/deduped.jsonl"),
            in.substr(0, in.find("{\"id\":\"c\"")) + in.substr(in.find("{\"id\":\"d\"")));
  EXPECT_TRUE(contains(read_file(dir_ / "out/stats.json"), "\"exact\""));

  const auto bad = run_cli({"exact", dir_ / "in.jsonl", "-o", dir_ / "out2", "--keep", "biggest"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "keep")) << bad.err;
}

TEST_F(PassesCli, LinesRemovesTheRepeatedHeader) {
  const auto r = run_cli({"lines", dir_ / "in.jsonl", "-o", dir_ / "out", "--max-repeats", "3", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(read_file(dir_ / "out/deduped.jsonl"),
            "{\"id\":\"a\",\"text\":\"one two three four five six seven eight nine ten\"}\n"
            "{\"id\":\"b\",\"text\":\"alpha beta gamma delta epsilon zeta eta theta\"}\n"
            "{\"id\":\"c\",\"text\":\"SITE HEADER!\\nOne, two, three; four five six seven eight nine ten.\"}\n"
            "{\"id\":\"d\",\"text\":\"one two three four five six seven eight nine eleven\"}\n"
            "{\"id\":\"e\",\"meta\":{\"k\":1},\"text\":\"something else entirely here\"}\n");
  const std::string stats = read_file(dir_ / "out/stats.json");
  EXPECT_TRUE(contains(stats, "\"count\": 4")) << stats;

  // The header occurs 4 times ("SITE HEADER!" differs): --max-repeats 4 removes nothing.
  ASSERT_EQ(run_cli({"lines", dir_ / "in.jsonl", "-o", dir_ / "out5", "--max-repeats", "4", "--quiet"}).exit_code, 0);
  EXPECT_EQ(read_file(dir_ / "out5/deduped.jsonl"), std::string(kCorpus));

  const auto zero = run_cli({"lines", dir_ / "in.jsonl", "-o", dir_ / "out0", "--max-repeats", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_TRUE(contains(zero.err, "max-repeats")) << zero.err;
}

TEST_F(PassesCli, DecontaminateExactAndBloom) {
  const auto r = run_cli({"decontaminate", "--min-reference-tokens", "0", dir_ / "in.jsonl", "--reference", dir_ / "bench.jsonl", "-o",
                          dir_ / "out", "--ngram", "3", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir_ / "out/contamination.tsv"), "b\t1\tq1\n");
  const std::string in(kCorpus);
  EXPECT_EQ(read_file(dir_ / "out/clean.jsonl"),
            in.substr(0, in.find("{\"id\":\"b\"")) + in.substr(in.find("{\"id\":\"c\"")));
  EXPECT_TRUE(contains(read_file(dir_ / "out/stats.json"), "\"q1\"")) << read_file(dir_ / "out/stats.json");

  // --max-shared 1 keeps b; --bloom-fp reports '-' for the references.
  ASSERT_EQ(run_cli({"decontaminate", "--min-reference-tokens", "0", dir_ / "in.jsonl", "--reference", dir_ / "bench.jsonl", "-o", dir_ / "keep",
                     "--ngram", "3", "--max-shared", "1", "--bloom-fp", "0.001", "--quiet"})
                .exit_code,
            0);
  EXPECT_EQ(read_file(dir_ / "keep/contamination.tsv"), "b\t1\t-\n");
  EXPECT_EQ(read_file(dir_ / "keep/clean.jsonl"), in);

  const auto none = run_cli({"decontaminate", "--min-reference-tokens", "0", dir_ / "in.jsonl", "-o", dir_ / "x"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "--reference")) << none.err;
}

TEST_F(PassesCli, QuietMeansNothingOnStderrEvenWithBadRecordsAndNoReferences) {
  write_file(dir_ / "bad.jsonl", "{\"id\":\"x\",\"text\":\"a b\"}\n{\"bad\n[1]\n{\"id\":\"x\",\"text\":\"a b\"}\n");
  write_file(dir_ / "empty.jsonl", "");
  for (const std::string cmd : {"exact", "lines", "decontaminate", "pairs", "eval"}) {
    std::vector<std::string> args = {cmd, dir_ / "bad.jsonl", "-o", dir_ / ("q_" + cmd), "--quiet"};
    if (cmd == "decontaminate") {
      args.emplace_back("--reference");
      args.push_back(dir_ / "empty.jsonl");
      args.emplace_back("--allow-empty");  // no reference parses: expected here
    }
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_EQ(r.err, "") << cmd;
  }
}

TEST_F(PassesCli, PairsExactAndLsh) {
  // With 1-grams: a~c J = 1, a~d and c~d J = 11/13.
  for (const bool exact : {true, false}) {
    std::vector<std::string> args = {"pairs", dir_ / "in.jsonl", "-o", dir_ / (exact ? "exact" : "lsh"),
                                     "--threshold", "0.8", "--ngram", "1", "--quiet"};
    if (exact) args.emplace_back("--exact");
    const auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(dir_ / ((exact ? "exact" : "lsh") + std::string("/pairs.tsv"))),
              "a\tc\t1.000000\na\td\t0.846154\nc\td\t0.846154\n")
        << (exact ? "exact" : "lsh");
  }
}

TEST_F(PassesCli, EvalPrintsItsNumbers) {
  const auto r = run_cli({"eval", dir_ / "in.jsonl", "--threshold", "0.8", "--ngram", "1", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "precision")) << r.out;
  EXPECT_TRUE(contains(r.out, "false merges         0 clusters")) << r.out;
  EXPECT_TRUE(contains(r.out, "(3 of 3 exact pairs in one cluster)")) << r.out;
}

TEST_F(PassesCli, MissingInputFailsWithExitCodeOneNamingIt) {
  for (const std::string cmd : {"exact", "lines", "decontaminate", "pairs", "eval"}) {
    std::vector<std::string> args = {cmd, dir_ / "in.jsonl", dir_ / "no_such.jsonl", "-o", dir_ / ("out_" + cmd)};
    if (cmd == "decontaminate") {
      args.emplace_back("--reference");
      args.push_back(dir_ / "bench.jsonl");
    }
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "no_such.jsonl")) << cmd << ": " << r.err;
    EXPECT_TRUE(!fs::exists(dir_ / ("out_" + cmd)) || fs::is_empty(dir_ / ("out_" + cmd))) << cmd;
  }
  const auto r = run_cli({"decontaminate", "--min-reference-tokens", "0", dir_ / "in.jsonl", "--reference", dir_ / "no_bench.jsonl", "-o",
                          dir_ / "out_ref"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "no_bench.jsonl")) << r.err;
}

// ---------------------------------------------------------------- the option table

// Each command accepts exactly the options it uses: any other option is an
// error naming the option and the command, and nothing is written.
TEST_F(PassesCli, EveryCommandRejectsTheOptionsItDoesNotUse) {
  struct unused_case {
    std::string command;
    std::vector<std::string> option;  // the option and its value, if any
  };
  const std::vector<unused_case> cases = {
      {"lines", {"--tokens", "code"}},
      {"lines", {"--keep", "longest"}},
      {"lines", {"--threshold", "0.5"}},
      {"lines", {"--ngram", "3"}},
      {"exact", {"--threshold", "0.5"}},
      {"exact", {"--verify", "none"}},
      {"exact", {"--set-memory-mb", "1"}},
      {"exact", {"--max-repeats", "3"}},
      {"decontaminate", {"--keep", "longest"}},
      {"decontaminate", {"--threshold", "0.5"}},
      {"decontaminate", {"--tmp-dir", "x"}},
      {"pairs", {"--keep", "longest"}},
      {"pairs", {"--compress", "zstd"}},
      {"pairs", {"--set-memory-mb", "1"}},
      {"pairs", {"--no-exact-first"}},
      {"pairs", {"--reference", "x"}},
      {"eval", {"--exact"}},
      {"eval", {"--max-shared", "1"}},
      {"dedup", {"--exact"}},
      {"dedup", {"--bloom-fp", "0.01"}},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string out = dir_ / ("unused" + std::to_string(n++));
    std::vector<std::string> args = {c.command, dir_ / "in.jsonl", "-o", out};
    if (c.command == "decontaminate") {
      args.emplace_back("--reference");
      args.push_back(dir_ / "bench.jsonl");
    }
    args.insert(args.end(), c.option.begin(), c.option.end());
    const auto r = run_cli(args);
    const std::string what = c.command + " " + c.option[0];
    EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, "option " + c.option[0] + " is not used by 'neardup " + c.command + "'"))
        << what << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << what;
  }
  // The message says which commands take it.
  const auto r = run_cli({"lines", dir_ / "in.jsonl", "-o", dir_ / "x", "--tokens", "code"});
  EXPECT_TRUE(contains(r.err, "(it is an option of dedup, exact, decontaminate, pairs, eval, index)")) << r.err;
  // An option no command has is unknown.
  const auto unknown = run_cli({"lines", dir_ / "in.jsonl", "-o", dir_ / "x", "--frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown option --frobnicate")) << unknown.err;
}

// `pairs --exact` reads no signatures: the LSH options would have no effect.
TEST_F(PassesCli, PairsExactRejectsLshOptions) {
  for (const std::vector<std::string>& opt : std::vector<std::vector<std::string>>{
           {"--num-perm", "64"}, {"--bands", "4"}, {"--rows", "4"}, {"--scheme", "classic"}, {"--verify", "none"}}) {
    std::vector<std::string> args = {"pairs", dir_ / "in.jsonl", "-o", dir_ / "x", "--exact"};
    args.insert(args.end(), opt.begin(), opt.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << opt[0];
    EXPECT_TRUE(contains(r.err, "option " + opt[0] + " is not used by 'neardup pairs' with --exact")) << r.err;
  }
  // Without --exact they are the LSH settings.
  const auto lsh = run_cli({"pairs", dir_ / "in.jsonl", "-o", dir_ / "lsh", "--threshold", "0.8", "--ngram", "1",
                            "--num-perm", "64", "--bands", "16", "--rows", "4", "--scheme", "classic", "--quiet"});
  ASSERT_EQ(lsh.exit_code, 0) << lsh.err;
  const std::string stats = read_file(dir_ / "lsh/stats.json");
  EXPECT_TRUE(contains(stats, "\"num_perm\": 64")) << stats;
  EXPECT_TRUE(contains(stats, "\"bands\": 16")) << stats;
}

TEST_F(PassesCli, MissingValuesAndRangesAreReportedWithTheRealBounds) {
  struct bad_case {
    std::vector<std::string> args;  // after INPUT
    std::string message;
  };
  const std::string out = dir_ / "out";
  const std::vector<bad_case> cases = {
      {{"dedup", "-o"}, "-o: missing value (OUTDIR)"},
      {{"lines", "-o"}, "-o: missing value (OUTDIR)"},
      {{"dedup", "-o", out, "--threads"}, "--threads: missing value (N)"},
      {{"dedup", "-o", out, "--threshold", "1.5"}, "--threshold 1.5: must be in (0, 1]"},
      {{"dedup", "-o", out, "--threshold", "0"}, "--threshold 0: must be in (0, 1]"},
      {{"pairs", "-o", out, "--threshold", "x"}, "--threshold x: must be a number in (0, 1]"},
      {{"dedup", "-o", out, "--num-perm", "5000"}, "--num-perm 5000: must be an integer in [1, 4096]"},
      {{"lines", "-o", out, "--max-repeats", "0"}, "--max-repeats 0: must be an integer in [1, 4294967294]"},
      {{"lines", "-o", out, "--memory-mb", "8"}, "--memory-mb 8: must be an integer in [16, 1073741824]"},
      {{"exact", "-o", out, "--threads", "-2"}, "--threads -2: must be an integer in [0, 1024]"},
      {{"decontaminate", "-o", out, "--reference", dir_ / "bench.jsonl", "--bloom-fp", "0.7"},
       "--bloom-fp 0.7: must be in [0, 0.5]"},
      {{"dedup", "-o", out, "--scheme", "one_permutation"}, "--scheme one_permutation: must be one of oph|classic|superminhash"},
      {{"exact", "-o", out, "--keep", "biggest"}, "--keep biggest: must be one of first|longest"},
      {{"lines", "-o", out, "--compress", "gzip"}, "--compress gzip: must be one of none|zstd"},
      {{"eval", "--tokens", "bytes"}, "--tokens bytes: must be one of word|char|code"},
      {{"dedup", "-o", out, "--quiet=yes"}, "option --quiet takes no value"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {c.args[0], dir_ / "in.jsonl"};
    args.insert(args.end(), c.args.begin() + 1, c.args.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << c.message << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.message)) << c.message << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.message;
  }
}

// --help is generated from the table: every option the command accepts is
// listed with its default, and no option it rejects.
TEST_F(PassesCli, HelpListsExactlyTheAcceptedOptions) {
  const auto lines = run_cli({"lines", "--help"});
  for (const char* opt : {"--max-repeats N", "--memory-mb M", "-o, --output OUTDIR", "--compress none|zstd",
                          "--text-field NAME", "--id-field NAME", "--seed N", "--threads N", "--quiet"}) {
    EXPECT_TRUE(contains(lines.out, opt)) << opt << "\n" << lines.out;
  }
  for (const char* opt : {"--tokens", "--keep", "--threshold", "--ngram"}) {
    EXPECT_FALSE(contains(lines.out, opt)) << opt << "\n" << lines.out;
  }
  EXPECT_TRUE(contains(lines.out, "the corpus needs more [8192]")) << lines.out;
  const auto pairs = run_cli({"pairs", "--help"});
  EXPECT_TRUE(contains(pairs.out, "--scheme oph|classic|superminhash")) << pairs.out;
  EXPECT_TRUE(contains(pairs.out, "exact: exact Jaccard of the shingle sets >= T [exact]")) << pairs.out;
  for (const char* opt : {"--keep", "--compress", "--set-memory-mb", "--no-exact-first"}) {
    EXPECT_FALSE(contains(pairs.out, opt)) << opt << "\n" << pairs.out;
  }
  const auto eval = run_cli({"eval", "--help"});
  EXPECT_TRUE(contains(eval.out, "-o, --output OUTDIR    directory for the outputs [a temporary directory")) << eval.out;
}

TEST_F(PassesCli, StatsSpellTheSchemeAsTheOptionDoes) {
  for (const std::string scheme : {"oph", "classic", "superminhash"}) {
    const auto r = run_cli({"dedup", dir_ / "in.jsonl", "-o", dir_ / scheme, "--scheme", scheme, "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(read_file(dir_ / scheme / "stats.json"), "\"scheme\": \"" + scheme + "\"")) << scheme;
  }
  ASSERT_EQ(run_cli({"dedup", dir_ / "in.jsonl", "-o", dir_ / "default", "--quiet"}).exit_code, 0);
  EXPECT_TRUE(contains(read_file(dir_ / "default/stats.json"), "\"scheme\": \"oph\""));
}

}  // namespace

// The `neardup dedup` command line, run as a process: options, exit codes,
// messages on stderr, outputs, determinism across --threads and
// NEARDUP_KERNEL, and the bundled sample's expected clusters.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/signature.hpp"

namespace {

using namespace neardup_test;

const std::string kBinary = std::string(NEARDUP_BINARY_DIR) + "/examples/neardup";
const std::string kSample = std::string(NEARDUP_SOURCE_DIR) + "/examples/data/sample.jsonl";
const std::string kExpected = std::string(NEARDUP_SOURCE_DIR) + "/examples/data/expected_clusters.tsv";

struct cli_result {
  int exit_code = -1;
  std::string out, err;
};

// Runs `env neardup args...` with stdout and stderr captured.
cli_result run_cli(const std::vector<std::string>& args, const std::string& env = "") {
  static int counter = 0;
  temp_dir capture("neardup_cli_capture");
  std::string cmd = env.empty() ? "" : std::string("env ") + env + " ";
  cmd += quote(kBinary);
  for (const auto& a : args) {
    cmd += ' ';
    cmd += quote(a);
  }
  const std::string out = (capture / "out").string(), err = (capture / "err").string();
  cmd += " >" + quote(out) + " 2>" + quote(err);
  ++counter;
  const int status = std::system(cmd.c_str());
  cli_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string generated_jsonl(std::uint64_t seed, std::size_t bases) {
  corpus_spec spec;
  spec.bases = bases;
  spec.unrelated = bases;
  spec.max_copies = 3;
  spec.seed = seed;
  return to_jsonl(make_near_dup_corpus(spec));
}

// ---------------------------------------------------------------- usage

TEST(CliUsage, HelpListsEveryOption) {
  const auto r = run_cli({"dedup", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* opt : {"--text-field", "--id-field", "--threshold", "--num-perm", "--ngram", "--tokens", "--bands",
                          "--rows", "--verify", "--keep", "--seed", "--threads", "--quiet", "--compress"}) {
    EXPECT_TRUE(contains(r.out, opt)) << opt;
  }
  const auto v = run_cli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(contains(v.out, "neardup ")) << v.out;
  EXPECT_EQ(run_cli({}).exit_code, 2);
}

TEST(CliUsage, BadOptionsExitTwoNamingTheOptionAndWriteNothing) {
  temp_dir dir("neardup_cli");
  write_file(dir / "in.jsonl", json_line("a", "one two three four five six") + "\n");
  const std::string in = (dir / "in.jsonl").string(), out = (dir / "out").string();
  struct bad_case {
    std::vector<std::string> args;
    std::string mentions;
  };
  const std::vector<bad_case> cases = {
      {{"dedup", in, "-o", out, "--frobnicate"}, "frobnicate"},
      {{"dedup", in, "-o", out, "--threshold", "1.5"}, "threshold"},
      {{"dedup", in, "-o", out, "--threshold", "0"}, "threshold"},
      {{"dedup", in, "-o", out, "--threshold", "abc"}, "threshold"},
      {{"dedup", in, "-o", out, "--num-perm", "0"}, "num-perm"},
      {{"dedup", in, "-o", out, "--ngram", "0"}, "ngram"},
      {{"dedup", in, "-o", out, "--tokens", "bytes"}, "tokens"},
      {{"dedup", in, "-o", out, "--verify", "maybe"}, "verify"},
      {{"dedup", in, "-o", out, "--keep", "shortest"}, "keep"},
      {{"dedup", in, "-o", out, "--compress", "gzip"}, "compress"},
      {{"dedup", in, "-o", out, "--bands", "4"}, "rows"},
      {{"dedup", in, "-o", out, "--bands", "20", "--rows", "10"}, "200"},  // 20*10 > 128
      {{"dedup", in, "-o", out, "--seed", "-1"}, "seed"},
      {{"dedup", in, "-o", out, "--threads"}, "threads"},
      {{"dedup", in}, "-o"},
      {{"dedup", "-o", out}, "INPUT"},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c.args);
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.mentions)) << line << "\n" << r.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "clusters.tsv")) << line;
  }
}

// ---------------------------------------------------------------- runs

TEST(CliRun, DefaultRunWritesTheThreeOutputsAndASummary) {
  temp_dir dir("neardup_cli");
  const std::string data = generated_jsonl(1, 30);
  write_file(dir / "in.jsonl", data);
  const auto r = run_cli({"dedup", (dir / "in.jsonl").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(list_dir(dir / "out"), (std::vector<std::string>{"_SUCCESS", "clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "sources.tsv", "stats.json"}));
  EXPECT_TRUE(contains(r.err, "neardup dedup: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "documents, kept")) << r.err;
  const auto rows = parse_tsv_pairs(read_file(dir / "out" / "clusters.tsv"));
  std::size_t lines = 0;
  for (char c : data) lines += c == '\n';
  EXPECT_EQ(rows.size(), lines);
  // deduped.jsonl: exactly the input lines of the kept documents.
  std::string kept;
  std::size_t begin = 0, i = 0;
  while (begin < data.size()) {
    const std::size_t end = data.find('\n', begin);
    if (rows[i].first == rows[i].second) kept += data.substr(begin, end + 1 - begin);
    begin = end + 1;
    ++i;
  }
  EXPECT_EQ(read_file(dir / "out" / "deduped.jsonl"), kept);
}

TEST(CliRun, EveryOptionIsHonoured) {
  temp_dir dir("neardup_cli");
  const std::string a = "the quick brown fox jumps over the lazy dog and keeps running far away";
  std::string input;
  auto add = [&](std::string_view id, std::string_view text) {
    input += "{\"meta\":{\"key\":\"" + std::string(id) + "\"},\"body\":";
    neardup::io::append_json_string(input, text);
    input += "}\n";
  };
  add("short", a);
  add("longer", a + " !");
  add("other", "completely different words here, nothing shared with the first one at all");
  write_file(dir / "in.jsonl", input);
  const auto r = run_cli({"dedup", (dir / "in.jsonl").string(), "--output", (dir / "out").string(),
                          "--text-field", "body", "--id-field", "/meta/key", "--threshold", "0.7", "--num-perm", "64",
                          "--ngram", "3", "--tokens", "char", "--bands", "16", "--rows", "4", "--verify", "estimate",
                          "--keep", "longest", "--seed", "7", "--threads", "2", "--quiet", "--compress", "zstd",
                          "--scheme", "classic", "--no-exact-first"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // --quiet
  EXPECT_EQ(list_dir(dir / "out"), (std::vector<std::string>{"_SUCCESS", "clusters.tsv", "deduped.jsonl.zst", "evidence.tsv", "near_misses.tsv", "sources.tsv", "stats.json"}));
  EXPECT_EQ(read_file(dir / "out" / "clusters.tsv"), "short\tlonger\nlonger\tlonger\nother\tother\n");
  const std::string kept = zstd_decompress(read_file(dir / "out" / "deduped.jsonl.zst"));
  EXPECT_EQ(std::count(kept.begin(), kept.end(), '\n'), 2);
  EXPECT_TRUE(contains(kept, "\"longer\"")) << kept;
  const std::string stats = read_file(dir / "out" / "stats.json");
  for (const char* expect : {"\"threshold\": 0.7", "\"num_perm\": 64", "\"ngram\": 3", "\"tokens\": \"char\"",
                             "\"bands\": 16", "\"rows\": 4", "\"verify\": \"estimate\"", "\"keep\": \"longest\"",
                             "\"seed\": 7", "\"text_field\": \"body\"", "\"id_field\": \"/meta/key\"",
                             "\"threads\": 2", "\"scheme\": \"classic\"", "\"exact_first\": false"}) {
    EXPECT_TRUE(contains(stats, expect)) << expect << "\n" << stats;
  }
}

TEST(CliRun, TokensWordCharCodeAllRun) {
  temp_dir dir("neardup_cli");
  write_file(dir / "in.jsonl", generated_jsonl(3, 10));
  for (const char* kind : {"word", "char", "code"}) {
    const auto r = run_cli({"dedup", (dir / "in.jsonl").string(), "-o", (dir / kind).string(), "--tokens", kind,
                            "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << kind << r.err;
    EXPECT_TRUE(contains(read_file(dir / kind / "stats.json"), std::string("\"tokens\": \"") + kind + "\"")) << kind;
  }
}

TEST(CliRun, BadRecordsAreReportedAsFileLineAndKept) {
  temp_dir dir("neardup_cli");
  const std::string bad = (dir / "bad.jsonl").string();
  const std::string input = json_line("a", "alpha beta gamma delta epsilon zeta eta theta") + "\n" +
                            "{\"id\": \"broken\"\n" + "{\"id\": \"b\", \"body\": \"x\"}\n" +
                            "{\"id\": \"c\", \"text\": 12}\n" + json_line("a", "some other text here entirely") + "\n";
  write_file(dir / "bad.jsonl", input);
  const auto r = run_cli({"dedup", bad, "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, bad + ":2: skipped (malformed_json")) << r.err;
  EXPECT_TRUE(contains(r.err, bad + ":3: skipped (missing_text")) << r.err;
  EXPECT_TRUE(contains(r.err, bad + ":4: skipped (text_not_string")) << r.err;
  EXPECT_TRUE(contains(r.err, bad + ":5: duplicate id 'a'")) << r.err;
  EXPECT_EQ(read_file(dir / "out" / "deduped.jsonl"), input);
  const std::string stats = read_file(dir / "out" / "stats.json");
  EXPECT_TRUE(contains(stats, "\"skipped\": 3")) << stats;
}

TEST(CliRun, QuietPrintsNothingEvenForManyBadRecords) {
  temp_dir dir("neardup_cli");
  std::string input;
  for (int i = 0; i < 30; ++i) input += "{not json\n";
  input += json_line("a", "x y z") + "\n" + json_line("a", "x y z") + "\n";
  write_file(dir / "bad.jsonl", input);
  const auto r = run_cli({"dedup", (dir / "bad.jsonl").string(), "-o", (dir / "out").string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
}

TEST(CliRun, ManyBadRecordsAreListedUpToALimit) {
  temp_dir dir("neardup_cli");
  std::string input;
  for (int i = 0; i < 30; ++i) input += "{not json\n";
  write_file(dir / "bad.jsonl", input);
  // Nothing parses: without --allow-empty that fails the run (lost_test).
  const auto r = run_cli({"dedup", (dir / "bad.jsonl").string(), "-o", (dir / "out").string(), "--allow-empty"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, ":20: skipped")) << r.err;
  EXPECT_FALSE(contains(r.err, ":21: skipped")) << r.err;
  EXPECT_TRUE(contains(r.err, "further")) << r.err;
  EXPECT_TRUE(contains(read_file(dir / "out" / "stats.json"), "\"malformed_json\": 30"));
}

TEST(CliRun, DirectoryAndCompressedInputs) {
  temp_dir dir("neardup_cli");
  const std::string data = generated_jsonl(4, 15);
  write_file(dir / "c" / "part.jsonl.gz", gzip(data));
  write_file(dir / "c" / "part2.jsonl.zst", zstd_compress(data));  // all exact duplicates of part
  write_file(dir / "c" / "note.txt", "a plain text file is one document");
  const auto r = run_cli({"dedup", (dir / "c").string(), "-o", (dir / "out").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_tsv_pairs(read_file(dir / "out" / "clusters.tsv"));
  const std::string kept = read_file(dir / "out" / "deduped.jsonl");
  const std::string note = (dir / "c" / "note.txt").string();  // ids start with the directory INPUT
  EXPECT_EQ(rows.front().first, note);
  EXPECT_TRUE(kept.rfind("{\"id\":\"" + note + "\",\"text\":\"a plain text file is one document\"}\n", 0) == 0) << kept;
  // Every document of part2 is removed (same id, same text as in part).
  const std::size_t half = (rows.size() - 1) / 2;
  // Their ids repeat those of part, so clusters.tsv names them ID@FILE:LINE.
  const std::string part2 = (dir / "c" / "part2.jsonl.zst").string();
  for (std::size_t i = 0; i < half; ++i) {
    EXPECT_EQ(rows[1 + half + i].first, rows[1 + i].first + "@" + part2 + ":" + std::to_string(i + 1));
    EXPECT_EQ(rows[1 + half + i].second, rows[1 + i].second);
  }
  EXPECT_TRUE(contains(read_file(dir / "out" / "stats.json"), std::string("\"duplicate_ids\": ") + std::to_string(half)));
}

// ---------------------------------------------------------------- failures

void expect_clean_failure(const std::vector<std::string>& args, const fs::path& out, std::string_view name) {
  const auto r = run_cli(args);
  EXPECT_NE(r.exit_code, 0) << name;
  EXPECT_NE(r.exit_code, 2) << name << ": I/O errors are not usage errors\n" << r.err;
  EXPECT_TRUE(contains(r.err, name)) << r.err;
  EXPECT_EQ(list_dir(out), std::vector<std::string>{}) << name;
}

TEST(CliFailures, MissingTruncatedAndUnreadableInputsExitNonZeroWithoutOutput) {
  temp_dir dir("neardup_cli");
  const std::string data = generated_jsonl(5, 20);
  const std::string gz = gzip(data), zs = zstd_compress(data);
  write_file(dir / "good.jsonl", data);
  write_file(dir / "cut.jsonl.gz", gz.substr(0, gz.size() * 2 / 3));
  write_file(dir / "cut.jsonl.zst", zs.substr(0, zs.size() * 2 / 3));
  const std::string good = (dir / "good.jsonl").string();
  int n = 0;
  for (const char* name : {"missing.jsonl", "cut.jsonl.gz", "cut.jsonl.zst"}) {
    const fs::path out = dir / (std::string("out") + std::to_string(n++));
    expect_clean_failure({"dedup", good, (dir / name).string(), "-o", out.string()}, out, name);
  }
  const fs::path out = dir / "out_proc";
  expect_clean_failure({"dedup", good, "/proc/self/mem", "-o", out.string()}, out, "/proc/self/mem");
}

// /proc/self/maps changes between the passes over it (the process maps more
// memory as it runs): the run must either succeed consistently or fail naming
// the input, never crash or write output that mixes two versions.
TEST(CliFailures, InputChangingBetweenPassesFailsCleanly) {
  temp_dir dir("neardup_cli");
  for (int i = 0; i < 3; ++i) {
    const fs::path out = dir / (std::string("out") + std::to_string(i));
    const auto r = run_cli({"dedup", "/proc/self/maps", "-o", out.string(), "--quiet"});
    if (r.exit_code == 0) {
      const auto rows = parse_tsv_pairs(read_file(out / "clusters.tsv"));
      EXPECT_TRUE(contains(read_file(out / "stats.json"), "\"read\": " + std::to_string(rows.size())));
    } else {
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_TRUE(contains(r.err, "/proc/self/maps: the input changed")) << r.err;
      EXPECT_EQ(list_dir(out), std::vector<std::string>{});
    }
  }
}

// ---------------------------------------------------------------- determinism

TEST(CliDeterminism, ThreadsAndKernelsGiveByteIdenticalOutputs) {
  temp_dir dir("neardup_cli");
  std::string data = generated_jsonl(6, small_scale() ? 20 : 60);
  data += "{broken\n\n" + json_line("empty", "") + "\n";
  write_file(dir / "in.jsonl", data);
  const std::string in = (dir / "in.jsonl").string();
  const auto ref = run_cli({"dedup", in, "-o", (dir / "ref").string(), "--threads", "1", "--quiet"},
                           "NEARDUP_KERNEL=scalar");
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string tsv = read_file(dir / "ref" / "clusters.tsv");
  const std::string kept = read_file(dir / "ref" / "deduped.jsonl");
  EXPECT_TRUE(contains(read_file(dir / "ref" / "stats.json"), "\"kernel\": \"scalar\""));
  std::vector<std::pair<std::string, std::string>> variants = {{"2", ""}, {"4", ""}, {"3", "NEARDUP_KERNEL=scalar"}};
  for (const auto k : neardup::supported_kernels()) {
    variants.emplace_back("2", std::string("NEARDUP_KERNEL=").append(neardup::name(k)));
  }
  int n = 0;
  for (const auto& [threads, env] : variants) {
    const fs::path out = dir / (std::string("v") + std::to_string(n++));
    const auto r = run_cli({"dedup", in, "-o", out.string(), "--threads", threads, "--quiet"}, env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(out / "clusters.tsv"), tsv) << threads << " " << env;
    EXPECT_EQ(read_file(out / "deduped.jsonl"), kept) << threads << " " << env;
  }
}

// An unknown NEARDUP_KERNEL is ignored (the best kernel runs, the output is
// the same) and the executable, not the library, says so once on stderr.
TEST(CliDeterminism, UnknownKernelOverrideWarnsAndRunsTheBestKernel) {
  temp_dir dir("neardup_cli");
  write_file(dir / "in.jsonl", generated_jsonl(7, 10));
  const std::string in = (dir / "in.jsonl").string();
  const auto ref = run_cli({"dedup", in, "-o", (dir / "ref").string(), "--quiet"});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_FALSE(contains(ref.err, "NEARDUP_KERNEL")) << ref.err;
  const auto r = run_cli({"dedup", in, "-o", (dir / "bogus").string(), "--quiet"}, "NEARDUP_KERNEL=bogus");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string best(neardup::name(neardup::supported_kernels().back()));
  EXPECT_TRUE(contains(r.err, "neardup: warning: NEARDUP_KERNEL=bogus is not one of scalar|avx2|avx512; using " +
                                  best + "\n"))
      << r.err;
  EXPECT_EQ(read_file(dir / "bogus" / "clusters.tsv"), read_file(dir / "ref" / "clusters.tsv"));
  EXPECT_TRUE(contains(read_file(dir / "bogus" / "stats.json"), "\"kernel\": \"" + best + "\""));
}

// ---------------------------------------------------------------- bundled sample

TEST(CliSample, DefaultRunReproducesExpectedClusters) {
  temp_dir dir("neardup_cli");
  const auto r = run_cli({"dedup", kSample, "-o", (dir / "out").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "out" / "clusters.tsv"), read_file(kExpected));
  const std::string stats = read_file(dir / "out" / "stats.json");
  EXPECT_TRUE(contains(stats, "\"read\": 438")) << stats;
}

}  // namespace

// ---------------------------------------------------------------- report

namespace {

TEST(CliReport, WritesThePageNextToTheRunOrWhereAsked) {
  temp_dir dir("neardup_cli");
  write_file(dir / "in.jsonl", generated_jsonl(3, 30));
  ASSERT_EQ(run_cli({"dedup", (dir / "in.jsonl").string(), "-o", (dir / "out").string(), "--near-miss-sample", "7"})
                .exit_code,
            0);
  const std::string misses = read_file(dir / "out" / "near_misses.tsv");
  EXPECT_LE(static_cast<std::size_t>(std::count(misses.begin(), misses.end(), '\n')), 8u) << "header + at most 7 pairs";
  auto r = run_cli({"report", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "neardup report: ")) << r.err;
  EXPECT_TRUE(contains(read_file(dir / "out" / "report.html"), "<svg class=\"chart s-curve\""));
  r = run_cli({"report", (dir / "out").string(), "-o", (dir / "page.html"), "--clusters", "1", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(fs::exists(dir / "page.html"));
}

TEST(CliReport, MissingRunFailsNamingTheFile) {
  temp_dir dir("neardup_cli");
  const auto r = run_cli({"report", (dir / "nothing").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "stats.json")) << r.err;
  EXPECT_EQ(run_cli({"report"}).exit_code, 2);
}

}  // namespace

namespace {

TEST(Cli, StoredIndexBuildDedupAgainstQueryInfoCompact) {
  temp_dir dir("neardup_cli_index");
  const std::string base = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron";
  write_file(dir / "a.jsonl", "{\"id\":\"a1\",\"text\":\"" + base + "\"}\n{\"id\":\"a2\",\"text\":\"other words here that are not like the rest\"}\n");
  write_file(dir / "b.jsonl", "{\"id\":\"b1\",\"text\":\"" + base + " pi\"}\n{\"id\":\"b2\",\"text\":\"something else entirely new\"}\n");
  const std::string idx = (dir / "idx").string();
  ASSERT_EQ(run_cli({"index", "build", (dir / "a.jsonl").string(), "-o", idx, "--quiet"}).exit_code, 0);
  const auto d = run_cli({"dedup", (dir / "b.jsonl").string(), "--against", idx, "--update-index", "-o",
                          (dir / "out").string(), "--quiet"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(read_file(dir / "out" / "clusters.tsv"), "b1\ta1\nb2\tb2\n");
  EXPECT_TRUE(fs::exists(dir / "out" / "_SUCCESS"));
  const auto q = run_cli({"query", idx, "--text", base, "--top-k", "1"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "{\"query\":\"text\",\"matches\":[{\"id\":\"a1\",\"jaccard\":1,\"estimate\":false}]}\n");
  const auto info = run_cli({"index", "info", idx});
  EXPECT_TRUE(contains(info.out, "\"documents\": 4")) << info.out;
  EXPECT_TRUE(contains(info.out, "seg-000002")) << info.out;
  EXPECT_EQ(run_cli({"index", "compact", idx}).exit_code, 0);
  EXPECT_TRUE(contains(run_cli({"index", "info", idx}).out, "\"documents\": 4"));
  const auto bad = run_cli({"dedup", (dir / "b.jsonl").string(), "--against", idx, "--ngram", "3", "-o",
                            (dir / "out2").string(), "--quiet"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "was built with --ngram 5, not 3")) << bad.err;
  EXPECT_EQ(run_cli({"dedup", (dir / "b.jsonl").string(), "--update-index", "-o", (dir / "o3").string()}).exit_code, 2);
  EXPECT_EQ(run_cli({"query", idx}).exit_code, 2);  // neither --text nor --input
}

}  // namespace

// "Nothing lost, ever" (issue 10): the input and output promises, tested at
// the root (the io library) and through the neardup executable as a hostile
// but realistic user would drive it: streams, unreadable files, corrupt and
// mislabelled compression, interrupted and concurrent runs, output inside the
// input, and the torture corpus mixing them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/hash.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/pairs.hpp"
#include "neardup/io/output.hpp"
#include "neardup/io/output_run.hpp"
#include "test_util.hpp"

namespace {

using namespace neardup_test;
namespace nio = neardup::io;

const std::string kBinary = std::string(NEARDUP_BINARY_DIR) + "/examples/neardup";
const std::string kSample = std::string(NEARDUP_SOURCE_DIR) + "/examples/data/sample.jsonl";

struct shell_result {
  int exit_code = -1;
  std::string err;
};

// Runs a shell command line; "NEARDUP" in it stands for the quoted binary.
// stderr is captured, stdout discarded.
shell_result sh(std::string cmd) {
  for (std::size_t at; (at = cmd.find("NEARDUP")) != std::string::npos;) cmd.replace(at, 7, quote(kBinary));
  temp_dir capture("neardup_lost_capture");
  const std::string err = (capture / "err").string();
  const std::string full = "{ " + cmd + " ; } >/dev/null 2>" + quote(err);
  const int status = std::system(full.c_str());
  shell_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err);
  return r;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Reads every source to its end once; returns the bytes of all chunks.
std::string read_through(std::span<const nio::source_info> sources) {
  nio::corpus_reader reader(sources, {.chunk_bytes = 16});
  nio::input_chunk chunk;
  std::string all;
  while (reader.next(chunk)) all += chunk.data.view();
  return all;
}

// ---------------------------------------------------------------- 1. streams

TEST(Streams, DevStdinOfAPipeIsRefusedUpFront) {
  temp_dir dir;
  const auto r = sh("cat " + quote(kSample) + " | NEARDUP lines /dev/stdin -o " + quote((dir / "o").string()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "cannot read this twice")) << r.err;
  EXPECT_TRUE(contains(r.err, "give '-'")) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o" / "deduped.jsonl"));
}

TEST(Streams, AFifoIsRefusedUpFrontNotHung) {
  temp_dir dir;
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Nobody writes to the FIFO: reading it would hang; refusing it does not.
  const auto r = sh("timeout 60 NEARDUP dedup " + quote(fifo) + " -o " + quote((dir / "o").string()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "a pipe or FIFO")) << r.err;
}

TEST(Streams, DashReadsStandardInputLikeTheFile) {
  temp_dir dir;
  const std::string o = (dir / "o").string(), ref = (dir / "ref").string();
  for (const char* cmd : {"dedup", "exact", "lines"}) {
    ASSERT_EQ(sh("NEARDUP " + std::string(cmd) + " " + quote(kSample) + " --quiet -o " + quote(ref)).exit_code, 0);
    const auto r = sh("cat " + quote(kSample) + " | NEARDUP " + cmd + " - --quiet -o " + quote(o));
    ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    EXPECT_EQ(read_file(fs::path(o) / "deduped.jsonl"), read_file(fs::path(ref) / "deduped.jsonl")) << cmd;
    EXPECT_FALSE(read_file(fs::path(o) / "deduped.jsonl").empty());
  }
}

TEST(Streams, ALaterPassThatReadsOtherBytesThrows) {
  temp_dir dir;
  const fs::path f = dir / "a.jsonl";
  write_file(f, "{\"text\":\"one\"}\n{\"text\":\"two\"}\n{\"text\":\"three\"}\n");
  const auto inputs = nio::expand_inputs({f.string()});
  (void)read_through(inputs.sources);
  // Same length, other bytes; then shorter (the `lines` "half written" case).
  write_file(f, "{\"text\":\"one\"}\n{\"text\":\"TWO\"}\n{\"text\":\"three\"}\n");
  EXPECT_THROW((void)read_through(inputs.sources), std::runtime_error);
  write_file(f, "{\"text\":\"one\"}\n");
  try {
    (void)read_through(inputs.sources);
    ADD_FAILURE() << "a shrunk file was read without complaint";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "the input changed")) << e.what();
  }
  // Put back: agrees with the first pass again.
  write_file(f, "{\"text\":\"one\"}\n{\"text\":\"two\"}\n{\"text\":\"three\"}\n");
  EXPECT_NO_THROW((void)read_through(inputs.sources));
}



// ---------------------------------------------------------------- 2. unreadable files in directories

namespace unreadable {

TEST(UnreadableInDirectory, ADanglingLinkIsAnErrorNamingItEvenWithQuiet) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl", "{\"text\":\"alpha beta gamma\"}\n");
  fs::create_symlink(dir / "in" / "gone.jsonl", dir / "in" / "b.jsonl");
  const auto r = sh("NEARDUP dedup --quiet " + quote((dir / "in").string()) + " -o " + quote((dir / "o").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, (dir / "in" / "b.jsonl").string())) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o" / "deduped.jsonl"));
}

TEST(UnreadableInDirectory, ALinkIntoADirectoryWithoutPermissionIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl", "{\"text\":\"alpha\"}\n");
  write_file(dir / "locked" / "secret.jsonl", "{\"text\":\"beta\"}\n");
  fs::create_symlink(dir / "locked" / "secret.jsonl", dir / "in" / "s.jsonl");
  fs::permissions(dir / "locked", fs::perms::none);
  const auto r = sh("NEARDUP exact " + quote((dir / "in").string()) + " -o " + quote((dir / "o").string()));
  fs::permissions(dir / "locked", fs::perms::owner_all);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, (dir / "in" / "s.jsonl").string())) << r.err;
}

TEST(UnreadableInDirectory, SkipUnreadableListsTheFile) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl", "{\"text\":\"alpha beta gamma\"}\n");
  fs::create_symlink(dir / "in" / "gone.jsonl", dir / "in" / "b.jsonl");
  const auto ex = nio::expand_inputs({(dir / "in").string()}, {.skip_unreadable = true});
  ASSERT_EQ(ex.sources.size(), 1u);
  ASSERT_EQ(ex.unreadable.size(), 1u);
  EXPECT_TRUE(contains(ex.unreadable[0], "b.jsonl")) << ex.unreadable[0];
}

}  // namespace unreadable

// ---------------------------------------------------------------- 3. compression by magic bytes

namespace magic {

const std::string kDocs = "{\"text\":\"alpha beta gamma delta\"}\n{\"text\":\"epsilon zeta eta theta\"}\n";

TEST(CompressionByMagic, AZeroFilledGzipFileIsAnError) {
  temp_dir dir;
  write_file(dir / "a.jsonl.gz", std::string(4096, '\0'));
  const auto r = sh("NEARDUP exact --quiet " + quote((dir / "a.jsonl.gz").string()) + " -o " + quote((dir / "o").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "are not gzip data")) << r.err;
  EXPECT_TRUE(contains(r.err, "00 00 00 00")) << r.err;
}

TEST(CompressionByMagic, PlainTextNamedGzIsAClearError) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl.gz", kDocs);
  const auto r = sh("NEARDUP dedup " + quote((dir / "in").string()) + " -o " + quote((dir / "o").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "a.jsonl.gz: named as gzip but its first bytes (7b 22 74 65) are not gzip data")) << r.err;
}

TEST(CompressionByMagic, GzipNamedJsonlIsReadAsGzipWithANote) {
  temp_dir dir;
  write_file(dir / "a.jsonl", gzip(kDocs));
  write_file(dir / "b.jsonl", kDocs);
  const auto r = sh("NEARDUP exact " + quote((dir / "a.jsonl").string()) + " -o " + quote((dir / "o").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "its name does not say gzip, but its first bytes do")) << r.err;
  EXPECT_EQ(read_file(dir / "o" / "deduped.jsonl"), kDocs);
}

TEST(CompressionByMagic, XzAndBzip2AreRefusedNotReadAsDocuments) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl.xz", std::string("\xfd" "7zXZ\0\0\x04\xe6\xd6\xb4\x46", 12));
  write_file(dir / "in2" / "b.jsonl.bz2", "BZh91AY&SY\x01\x02");
  for (const char* in : {"in", "in2"}) {
    const auto r = sh("NEARDUP dedup --quiet " + quote((dir / in).string()) + " -o " + quote((dir / "o").string()));
    EXPECT_EQ(r.exit_code, 1) << in;
    EXPECT_TRUE(contains(r.err, "which neardup does not read")) << r.err;
  }
}

TEST(CompressionByMagic, AGzipStreamWithNoMemberIsAnErrorInTheReader) {
  temp_dir dir;
  write_file(dir / "z", std::string(100, '\0'));
  std::vector<nio::source_info> sources(1);
  sources[0].path = (dir / "z").string();
  sources[0].name = "z";
  sources[0].codec = nio::compression::gzip;
  EXPECT_THROW((void)read_through(sources), std::runtime_error);
}

TEST(CompressionByMagic, DetectsEachFormat) {
  EXPECT_EQ(nio::detect_magic(gzip("x")), nio::magic::gzip);
  EXPECT_EQ(nio::detect_magic(zstd_compress("x")), nio::magic::zstd);
  EXPECT_EQ(nio::detect_magic(std::string("\x50\x2a\x4d\x18", 4)), nio::magic::zstd);  // skippable frame
  EXPECT_EQ(nio::detect_magic("BZh9"), nio::magic::bzip2);
  EXPECT_EQ(nio::detect_magic("{\"text\":1}"), nio::magic::none);
  EXPECT_EQ(nio::detect_magic(""), nio::magic::none);
}

TEST(Extensions, AreMatchedWithoutRegardToCase) {
  temp_dir dir;
  write_file(dir / "in" / "A.JSONL", kDocs);
  write_file(dir / "in" / "B.Jsonl.GZ", gzip(kDocs));
  const auto ex = nio::expand_inputs({(dir / "in").string()});
  ASSERT_EQ(ex.sources.size(), 2u);
  EXPECT_EQ(ex.sources[0].kind, nio::source_kind::jsonl);
  EXPECT_EQ(ex.sources[1].kind, nio::source_kind::jsonl);
  EXPECT_EQ(ex.sources[1].codec, nio::compression::gzip);
}

}  // namespace magic

// ---------------------------------------------------------------- 4. outputs form one unit

namespace unit {

TEST(OutputRun, TheMarkerListsTheFilesOfThisRunWithChecksums) {
  temp_dir dir;
  const std::string out = (dir / "o").string();
  nio::output_run run(out, "test");
  nio::write_file_atomic(out + "/stats.json", "{\n  \"a\": 1\n}\n");
  nio::write_file_atomic(out + "/clusters.tsv", "x\tx\n");
  nio::write_file_atomic((dir / "elsewhere.txt").string(), "not listed");
  EXPECT_FALSE(fs::exists(fs::path(out) / "_SUCCESS"));
  const std::vector<std::string> unreadable = {"in/b.jsonl (gone)"};
  run.add_to_stats("unreadable_files", unreadable);
  run.complete();
  const std::string marker = read_file(fs::path(out) / "_SUCCESS");
  EXPECT_TRUE(contains(marker, "\"command\": \"test\"")) << marker;
  EXPECT_TRUE(contains(marker, "\"name\": \"clusters.tsv\",\n      \"bytes\": 4,")) << marker;
  EXPECT_TRUE(contains(marker, "\"name\": \"stats.json\"")) << marker;
  EXPECT_FALSE(contains(marker, "elsewhere")) << marker;
  EXPECT_EQ(read_file(fs::path(out) / "stats.json"),
            "{\n  \"a\": 1,\n  \"unreadable_files\": [\n    \"in/b.jsonl (gone)\"\n  ]\n}\n");
}

TEST(OutputRun, ASecondRunIntoTheSameDirectoryIsRefusedWhileTheFirstHoldsIt) {
  temp_dir dir;
  const std::string out = (dir / "o").string();
  nio::output_run first(out, "test");
  try {
    nio::output_run second(out, "test");
    ADD_FAILURE() << "two runs opened one OUTDIR";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "another neardup run is writing this output directory")) << e.what();
  }
  // Through the executable, too.
  const auto r = sh("NEARDUP dedup --quiet " + quote(kSample) + " -o " + quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "another neardup run")) << r.err;
}

TEST(OutputRun, ARunRemovesTheOutputsAndMarkerOfAnEarlierRunFirst) {
  temp_dir dir;
  const std::string out = (dir / "o").string();
  ASSERT_EQ(sh("NEARDUP dedup --quiet --compress zstd " + quote(kSample) + " -o " + quote(out)).exit_code, 0);
  ASSERT_TRUE(fs::exists(fs::path(out) / "_SUCCESS"));
  write_file(fs::path(out) / "eval.json", "{}");                        // an older run's
  write_file(fs::path(out) / "deduped.jsonl.tmp.123.0", "half a file");  // a killed run's
  write_file(fs::path(out) / "notes.txt", "the user's own");
  ASSERT_EQ(sh("NEARDUP exact --quiet " + quote(kSample) + " -o " + quote(out)).exit_code, 0);
  EXPECT_EQ(list_dir(out),
            (std::vector<std::string>{"_SUCCESS", "clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "notes.txt", "sources.tsv", "stats.json"}));
  const std::string marker = read_file(fs::path(out) / "_SUCCESS");
  EXPECT_TRUE(contains(marker, "\"command\": \"exact\"")) << marker;
  EXPECT_FALSE(contains(marker, "zst")) << marker;
}

// _SUCCESS lists each file's size and XXH3-64, made while the file was
// written (or read back when the kernel copied part of it): they must be
// those of the files as they are, plain, compressed and kernel-copied.
TEST(OutputRun, MarkerDigestsAreThoseOfTheFiles) {
  temp_dir dir;
  // Distinct documents, so that runs of kept lines pass the size from which
  // the kernel copies them (64 KiB), and enough of them (~5 MB) for the kept
  // lines to be written in two shares (the second adopted by the first).
  std::string corpus;
  for (std::uint64_t d = 0; d < 60000; ++d) {
    corpus += "{\"id\": \"u" + std::to_string(d) + "\", \"text\": \"document " + std::to_string(d) + " has words " +
              std::to_string(d * 7919 % 10007) + " and " + std::to_string(d * 104729 % 9973) + " of its own\"}\n";
  }
  const std::string input = (dir / "in.jsonl").string();
  write_file(input, corpus);
  for (const std::string& how : {std::string(), std::string("--compress zstd"), std::string("kernel")}) {
    const std::string out = (dir / ("o" + std::to_string(how.size()))).string();
    const std::string opts = how == "kernel" ? "" : how;
    if (how == "kernel") ::setenv("NEARDUP_COPY_FILE_RANGE", "1", 1);  // inherited by the child
    const int exit_code = sh("NEARDUP dedup --quiet " + opts + " " + quote(input) + " -o " + quote(out)).exit_code;
    ::unsetenv("NEARDUP_COPY_FILE_RANGE");
    ASSERT_EQ(exit_code, 0) << how;
    const std::string marker = read_file(fs::path(out) / "_SUCCESS");
    std::size_t listed = 0;
    for (std::size_t at = marker.find("\"name\": \""); at != std::string::npos;
         at = marker.find("\"name\": \"", at + 1)) {
      const std::size_t name_at = at + 9;
      const std::string name = marker.substr(name_at, marker.find('"', name_at) - name_at);
      const std::size_t bytes_at = marker.find("\"bytes\": ", at) + 9;
      const std::size_t hash_at = marker.find("\"xxh3_64\": \"", at) + 12;
      const std::string content = read_file(fs::path(out) / name);
      EXPECT_EQ(std::stoull(marker.substr(bytes_at)), content.size()) << how << " " << name;
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(neardup::hash64(content, 0)));
      EXPECT_EQ(marker.substr(hash_at, 16), hex) << how << " " << name;
      ++listed;
    }
    EXPECT_EQ(listed, 6U) << marker;  // clusters, deduped, evidence, near_misses, sources, stats
  }
}

TEST(OutputRun, AFailedRunLeavesNoMarkerAndSaysSoTruthfully) {
  temp_dir dir;
  const std::string out = (dir / "o").string();
  ASSERT_EQ(sh("NEARDUP dedup --quiet " + quote(kSample) + " -o " + quote(out)).exit_code, 0);
  write_file(dir / "bad.jsonl.gz", "not gzip");
  const auto r = sh("NEARDUP dedup --quiet " + quote((dir / "bad.jsonl.gz").string()) + " -o " + quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(fs::path(out) / "_SUCCESS"));
  EXPECT_FALSE(fs::exists(fs::path(out) / "stats.json"));  // the earlier run's, removed
  EXPECT_TRUE(contains(r.err, "this run did not complete (a complete run ends by writing OUTDIR/_SUCCESS)")) << r.err;
  EXPECT_FALSE(contains(r.err, "no finished output was written")) << r.err;
}

TEST(OutputRun, SkipUnreadableListsTheFilesInStatsJson) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl", "{\"text\":\"alpha beta gamma\"}\n");
  fs::create_symlink(dir / "in" / "gone.jsonl", dir / "in" / "b.jsonl");
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP dedup --quiet --skip-unreadable " + quote((dir / "in").string()) + " -o " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string stats = read_file(fs::path(out) / "stats.json");
  EXPECT_TRUE(contains(stats, "\"unreadable_files\": [")) << stats;
  EXPECT_TRUE(contains(stats, "b.jsonl (cannot stat it")) << stats;
}

}  // namespace unit

// ---------------------------------------------------------------- 5. OUTDIR inside an input

namespace inside {

TEST(OutputInsideInput, AnOutdirInsideAnInputDirectoryIsRefused) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl", "{\"text\":\"alpha beta gamma\"}\n");
  const std::string in = (dir / "in").string();
  for (const std::string& out : {in + "/out", in}) {
    const auto r = sh("NEARDUP dedup --quiet " + quote(in) + " -o " + quote(out));
    EXPECT_EQ(r.exit_code, 1) << out;
    EXPECT_TRUE(contains(r.err, "inside the input directory")) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "in" / "out" / "stats.json"));
}

TEST(OutputInsideInput, ALinkFromAnInputDirectoryToTheOutdirIsRefused) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl", "{\"text\":\"alpha beta gamma\"}\n");
  fs::create_directory(dir / "o");
  fs::create_directory_symlink(dir / "o", dir / "in" / "results");
  const auto r = sh("NEARDUP lines --quiet " + quote((dir / "in").string()) + " -o " + quote((dir / "o").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "is the output directory (-o), inside an input directory")) << r.err;
}

TEST(OutputInsideInput, AnInputInTheOutdirIsRefusedAndKept) {
  temp_dir dir;
  const std::string out = (dir / "o").string();
  ASSERT_EQ(sh("NEARDUP dedup --quiet " + quote(kSample) + " -o " + quote(out)).exit_code, 0);
  const std::string before = read_file(fs::path(out) / "deduped.jsonl");
  const auto r = sh("NEARDUP lines --quiet " + quote(out + "/deduped.jsonl") + " -o " + quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "this input is in the output directory")) << r.err;
  EXPECT_EQ(read_file(fs::path(out) / "deduped.jsonl"), before);
}

TEST(OutputInsideInput, TemporaryLeftoversInAnInputDirectoryAreNotDocuments) {
  temp_dir dir;
  write_file(dir / "in" / "a.jsonl", "{\"text\":\"alpha beta gamma\"}\n");
  write_file(dir / "in" / "deduped.jsonl.tmp.4242.0", "{\"text\":\"half\"}\n{\"te");
  write_file(dir / "in" / "notes.tmp.txt", "a document");
  const auto ex = nio::expand_inputs({(dir / "in").string()});
  std::vector<std::string> names;
  for (const auto& src : ex.sources) names.push_back(src.name);
  const std::string root = (dir / "in").string() + "/";
  EXPECT_EQ(names, (std::vector<std::string>{root + "a.jsonl", root + "notes.tmp.txt"}));
  ASSERT_EQ(ex.skipped.size(), 1u);
  EXPECT_TRUE(contains(ex.skipped[0], "left by an interrupted neardup run")) << ex.skipped[0];
}

}  // namespace inside

// ---------------------------------------------------------------- 6. interruptions

namespace interrupt {

// In a child: installs the handler, creates an atomic_file (and a scratch
// directory guard), writes, tells the parent, waits. The parent sends `sig`.
void interrupted_child(const fs::path& dir, int sig) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    nio::remove_temporary_files_on_signals();
    fs::create_directory(dir / "scratch");
    nio::scratch_dir_guard guard((dir / "scratch").string());
    nio::write_file_atomic((dir / "scratch" / "stats.json").string(), "{}\n");
    nio::atomic_file f((dir / "out.jsonl").string());
    f.write(std::string(1 << 20, 'x'));
    (void)::write(ready[1], "r", 1);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  bool temp_seen = false;
  for (const auto& name : list_dir(dir)) temp_seen |= contains(name, ".tmp.");
  EXPECT_TRUE(temp_seen);
  ASSERT_EQ(::kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;  // dies of it, as without the handler
}

TEST(Interrupt, SigintAndSigtermRemoveTemporaryFilesAndScratchDirectories) {
  for (const int sig : {SIGINT, SIGTERM}) {
    temp_dir dir;
    interrupted_child(dir.path(), sig);
    EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{}) << sig;
  }
}

TEST(Interrupt, OutdirIsCheckedBeforeAnyInputIsRead) {
  temp_dir dir;
  write_file(dir / "file", "x");
  write_file(dir / "bad.jsonl.gz", "not gzip");
  const auto r = sh("NEARDUP dedup --quiet " + quote((dir / "bad.jsonl.gz").string()) + " -o " +
                    quote((dir / "file" / "out").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "cannot create output directory")) << r.err;
  EXPECT_FALSE(contains(r.err, "not gzip")) << r.err;
}

TEST(Interrupt, EvalWithoutOutdirWritesNoCopyOfTheCorpus) {
  temp_dir dir;
  neardup::jobs::dedup_options o;
  o.progress = false;
  o.write_documents = false;
  const auto inputs = nio::expand_inputs({kSample});
  const auto r = neardup::jobs::run_eval(inputs.sources, dir.str(), o);
  EXPECT_GT(r.documents, 0u);
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"eval.json", "stats.json"}));
  // And the executable leaves nothing in $TMPDIR.
  temp_dir tmp;
  const auto cli = sh("TMPDIR=" + quote(tmp.str()) + " NEARDUP eval --quiet " + quote(kSample));
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{});
}

}  // namespace interrupt

// ---------------------------------------------------------------- 9. nothing parsed; .json files

namespace nothing {

TEST(NothingParsed, ATypoInTextFieldFailsLoudlyUnlessAllowed) {
  temp_dir dir;
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP dedup --quiet --text-field txt " + quote(kSample) + " -o " + quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "NOTHING WAS PARSED: all 438 records were skipped")) << r.err;
  EXPECT_TRUE(contains(r.err, "--text-field 'txt'")) << r.err;
  EXPECT_FALSE(fs::exists(fs::path(out) / "_SUCCESS"));
  const auto ok = sh("NEARDUP dedup --quiet --allow-empty --text-field txt " + quote(kSample) + " -o " + quote(out));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(fs::exists(fs::path(out) / "_SUCCESS"));
}

TEST(NothingParsed, Utf16AndEmptyInputsFail) {
  temp_dir dir;
  std::string utf16 = "\xff\xfe";
  for (char c : std::string("{\"text\":\"hello world\"}\n")) {
    utf16 += c;
    utf16 += '\0';
  }
  write_file(dir / "u16.jsonl", utf16);
  write_file(dir / "empty.jsonl", "\n  \n");
  for (const char* in : {"u16.jsonl", "empty.jsonl"}) {
    for (const char* cmd : {"exact", "lines"}) {
      const auto r = sh("NEARDUP " + std::string(cmd) + " --quiet " + quote((dir / in).string()) + " -o " +
                        quote((dir / "o").string()));
      EXPECT_EQ(r.exit_code, 1) << cmd << " " << in;
      EXPECT_TRUE(contains(r.err, "NOTHING WAS PARSED")) << r.err;
    }
  }
}

TEST(JsonFiles, APrettyPrintedJsonFileIsOneDocumentNotLineFragments) {
  temp_dir dir;
  write_file(dir / "in" / "pretty.json", "{\n  \"text\": \"alpha beta\",\n  \"id\": 7\n}\n");
  write_file(dir / "in" / "lines.json", "{\"text\":\"one\"}\n{\"text\":\"two\"}\n");
  write_file(dir / "in" / "array.JSON", "[\n  {\"text\": \"a\"},\n  {\"text\": \"b\"}\n]\n");
  const auto ex = nio::expand_inputs({(dir / "in").string()});
  ASSERT_EQ(ex.sources.size(), 3u);
  EXPECT_EQ(ex.sources[0].name, (dir / "in" / "array.JSON").string());
  EXPECT_EQ(ex.sources[0].kind, nio::source_kind::text_file);
  EXPECT_EQ(ex.sources[1].name, (dir / "in" / "lines.json").string());
  EXPECT_EQ(ex.sources[1].kind, nio::source_kind::jsonl);
  EXPECT_EQ(ex.sources[2].kind, nio::source_kind::text_file);
  EXPECT_EQ(ex.notes.size(), 2u);
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP exact --quiet " + quote((dir / "in").string()) + " -o " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string tsv = read_file(fs::path(out) / "clusters.tsv");
  EXPECT_EQ(std::count(tsv.begin(), tsv.end(), '\n'), 4) << tsv;  // 1 + 2 + 1 documents
}

}  // namespace nothing

// ---------------------------------------------------------------- 8. the whole line is JSON

namespace whole_line {

nio::record_status status_of(std::string_view line, const nio::record_options& ro = {}) {
  nio::input_chunk chunk;
  chunk.byte_offset = 1;
  chunk.data.assign(line);
  nio::record_parser parser;
  return parser.parse_line(chunk, 0, line.size(), 1, ro).status;
}

TEST(WholeLineJson, InvalidJsonOutsideTheTextFieldIsMalformed) {
  nio::record_options by_pointer;
  by_pointer.text_field = "/text";
  by_pointer.id_field = "/meta/id";
  for (const std::string_view bad : {
           R"({"text":"a","meta":[1,,2]})", R"({"text":"a","meta":tru})", R"({"meta":{"a":1,},"text":"a"})",
           R"({"text":"a","n":01})", R"({"text":"a","s":"\x"})", R"({"text":"a","m":[1 2]})",
           R"({"text":"a","m":nul})", R"({"m":[}],"text":"a"})"}) {
    EXPECT_EQ(status_of(bad), nio::record_status::malformed_json) << bad;
    EXPECT_EQ(status_of(bad, by_pointer), nio::record_status::malformed_json) << bad;
  }
  for (const std::string_view good : {R"({"text":"a","meta":[1,2,{"x":[true,false,null,-1.5e3]}]})",
                                      R"({"text":"a","odd":"\ud800 lone"})", R"({"meta":{"id":"q"},"text":"a"})"}) {
    EXPECT_EQ(status_of(good), nio::record_status::ok) << good;
    EXPECT_EQ(status_of(good, by_pointer), nio::record_status::ok) << good;
  }
  EXPECT_EQ(status_of(R"({"meta":[1,,2]})"), nio::record_status::malformed_json);  // not "missing_text"
}

TEST(WholeLineJson, TheCliReportsSuchALineAsMalformed) {
  temp_dir dir;
  write_file(dir / "a.jsonl", "{\"text\":\"alpha beta\"}\n{\"text\":\"alpha beta\",\"meta\":tru}\n");
  const auto r = sh("NEARDUP exact " + quote((dir / "a.jsonl").string()) + " -o " + quote((dir / "o").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "a.jsonl:2: skipped (malformed_json")) << r.err;
  // Kept unchanged, not removed as a duplicate of line 1.
  EXPECT_EQ(read_file(dir / "o" / "deduped.jsonl"), read_file(dir / "a.jsonl"));
}

}  // namespace whole_line

// ---------------------------------------------------------------- 7. huge lines

namespace huge {

TEST(HugeLines, ALinePastMaxLineMbIsReportedAndKeptUnparsed) {
  temp_dir dir;
  std::string long_text;
  for (int i = 0; i < (3 << 20) / 8; ++i) {
    long_text += 'w';
    long_text += std::to_string(i % 1000);
    long_text += ' ';
  }
  const std::string in = "{\"text\":\"alpha beta\"}\n{\"text\":\"" + long_text + "\",\"x\":[1,,]}\n{\"text\":\"alpha beta\"}\n";
  write_file(dir / "a.jsonl", in);
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP dedup --max-line-mb 1 " + quote((dir / "a.jsonl").string()) + " -o " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "a.jsonl:2: skipped (line_too_long")) << r.err;
  const std::string kept = read_file(fs::path(out) / "deduped.jsonl");
  EXPECT_EQ(kept, in.substr(0, in.rfind("{\"text\":\"alpha beta\"}")));  // line 3 removed, line 2 byte for byte
  EXPECT_TRUE(contains(read_file(fs::path(out) / "stats.json"), "\"line_too_long\": 1"));
}

TEST(HugeLines, RunningOutOfMemoryNamesTheFileAndLine) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ulimit -v and AddressSanitizer do not mix";
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "ulimit -v and AddressSanitizer do not mix";
#endif
#endif
  // A gzip "bomb": 1 GB of one endless line in a few MB.
  temp_dir dir;
  std::string bomb;
  {
    z_stream z{};
    ASSERT_EQ(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    const std::string block(1 << 20, 'a');
    std::string buf(1 << 16, '\0');
    for (int i = 0; i <= 1024; ++i) {
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
      z.avail_in = i < 1024 ? static_cast<uInt>(block.size()) : 0;
      const int flush = i < 1024 ? Z_NO_FLUSH : Z_FINISH;
      do {
        z.next_out = reinterpret_cast<Bytef*>(buf.data());
        z.avail_out = static_cast<uInt>(buf.size());
        deflate(&z, flush);
        bomb.append(buf.data(), buf.size() - z.avail_out);
      } while (z.avail_out == 0);
    }
    deflateEnd(&z);
  }
  write_file(dir / "bomb.jsonl.gz", bomb);
  const auto r = sh("ulimit -v 500000; NEARDUP exact --quiet --threads 2 " + quote((dir / "bomb.jsonl.gz").string()) +
                    " -o " + quote((dir / "o").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "bomb.jsonl.gz:1: out of memory holding this line")) << r.err;
  EXPECT_FALSE(contains(r.err, "bad_alloc")) << r.err;
}

// Peak memory for one huge line stays a small multiple of the line: the
// tokenizer's scratch is never zero-filled, token hashes are not copied,
// and a huge line's scratch (normalized bytes, token hashes, n-grams, the
// sort's buffer, the chunk's copy of its set) is freed as soon as it is
// used. Measured by the process (stats.json's peak_rss_bytes) against a run
// on one short line. Before: about 17x the line in dedup, 14x in exact.
TEST(HugeLines, PeakMemoryForOneLineIsASmallMultipleOfTheLine) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's shadow and quarantine change the peak";
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer's shadow and quarantine change the peak";
#endif
#endif
  temp_dir dir;
  std::string text;
  text.reserve(24u << 20);
  std::uint64_t x = 12345;
  while (text.size() < (24u << 20)) {  // distinct 5-grams: a set as large as such a line gives
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    text += 'w';
    text += std::to_string((x >> 33) % 200000);
    text += ' ';
  }
  const std::string line = "{\"id\":\"big\",\"text\":\"" + text + "\"}\n";
  write_file(dir / "big.jsonl", line + "{\"id\":\"s\",\"text\":\"a short one\"}\n");
  write_file(dir / "small.jsonl", "{\"id\":\"s\",\"text\":\"a short one\"}\n");
  auto peak = [&](const std::string& cmd, const std::string& input) {
    const fs::path out = dir / (cmd + "_" + input);
    const auto r = sh("NEARDUP " + cmd + " --quiet --threads 2 " + quote((dir / input).string()) + " -o " +
                      quote(out.string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string stats = read_file(out / "stats.json");
    const std::size_t at = stats.find("\"peak_rss_bytes\": ");
    EXPECT_NE(at, std::string::npos) << stats;
    return at == std::string::npos ? 0.0 : std::stod(stats.substr(at + 17));
  };
  for (const std::string cmd : {"dedup", "exact"}) {
    const double growth = peak(cmd, "big.jsonl") - peak(cmd, "small.jsonl");
    const double ratio = growth / static_cast<double>(line.size());
    std::printf("%s: one %.1f MB line adds %.1f MB to the peak (%.2fx)\n", cmd.c_str(),
                static_cast<double>(line.size()) / 1e6, growth / 1e6, ratio);
    EXPECT_LE(ratio, 5.0) << cmd;
  }
}

}  // namespace huge

// ---------------------------------------------------------------- 10. repeated ids

namespace ids {

TEST(RepeatedIds, EveryClustersRowNamesOneDocument) {
  temp_dir dir;
  const fs::path x = dir / "x", y = dir / "y";
  write_file(x / "s.jsonl", "{\"id\":\"1\",\"text\":\"alpha beta gamma\"}\n{\"id\":\"2\",\"text\":\"zeta eta\"}\n");
  write_file(y / "s.jsonl", "{\"id\":\"1\",\"text\":\"alpha beta gamma\"}\n");  // shard ids restart
  write_file(x / "a.txt", "same text here");
  write_file(y / "a.txt", "same text here");                                     // same name, two roots
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP exact " + quote(x.string()) + " " + quote(y.string()) + " " + quote((x / "s.jsonl").string()) +
                    " -o " + quote(out));                                        // one file twice
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> first;
  for (const auto& row : parse_tsv_pairs(read_file(fs::path(out) / "clusters.tsv"))) first.push_back(row.first);
  ASSERT_EQ(first.size(), 7u);
  std::vector<std::string> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << read_file(fs::path(out) / "clusters.tsv");
  EXPECT_EQ(first[0], (x / "a.txt").string());  // directory ids include their root
  EXPECT_EQ(first[3], (y / "a.txt").string());
  EXPECT_EQ(first[4], "1@" + (y / "s.jsonl").string() + ":1");
  EXPECT_EQ(first[6], "2@" + (x / "s.jsonl").string() + "#2:2");  // the second reading of a file
  // The warning names both places.
  EXPECT_TRUE(contains(r.err, (y / "s.jsonl").string() + ":1: duplicate id '1', first at " + (x / "s.jsonl").string() + ":1"))
      << r.err;
}

}  // namespace ids

// ---------------------------------------------------------------- 11. `lines` keeps the input's bytes

namespace keep_bytes {

TEST(LinesKeepsBytes, EscapesSurrogatesAndCrlfOfTheInputSurviveARewrite) {
  temp_dir dir;
  const std::string in = R"({"id":1,"text":"keep \ud800 lone\nCookie banner"})" "\n"
                         R"({"id":2,"text":"para \u2028 sep \u00e9 \/ slash\nCookie banner\nend"})" "\n"
                         R"({"id":3,"text":"crlf line\r\nCookie banner","z":"\u00e9"})" "\n"
                         R"({"id":4,"text":"untouched \u2028 \ud800"})" "\n";
  write_file(dir / "a.jsonl", in);
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP lines --quiet --max-repeats 1 " + quote((dir / "a.jsonl").string()) + " -o " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(fs::path(out) / "deduped.jsonl"),
            R"({"id":1,"text":"keep \ud800 lone"})" "\n"
            R"({"id":2,"text":"para \u2028 sep \u00e9 \/ slash\nend"})" "\n"
            R"({"id":3,"text":"crlf line","z":"\u00e9"})" "\n"
            R"({"id":4,"text":"untouched \u2028 \ud800"})" "\n");
}

}  // namespace keep_bytes

// ---------------------------------------------------------------- 12. very short references

namespace short_refs {

TEST(ShortReferences, AreNotUsedByDefaultAndBroadOnesAreWarnedAbout) {
  temp_dir dir;
  std::string corpus;
  for (int i = 0; i < 20; ++i) {
    corpus += "{\"id\":\"d" + std::to_string(i) + "\",\"text\":\"the document number " + std::to_string(i) +
              " says the usual licence terms apply to all of this work\"}\n";
  }
  write_file(dir / "c.jsonl", corpus);
  write_file(dir / "refs.jsonl",
             "{\"id\":\"tiny\",\"text\":\"the\"}\n"
             "{\"id\":\"generic\",\"text\":\"the usual licence terms apply to all of this work\"}\n");
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP decontaminate --ngram 5 " + quote((dir / "c.jsonl").string()) + " --reference " +
                    quote((dir / "refs.jsonl").string()) + " -o " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "fewer than 8 tokens and are not used")) << r.err;
  EXPECT_TRUE(contains(r.err, "reference 'generic' alone contaminates 20 of 20 documents")) << r.err;
  const std::string stats = read_file(fs::path(out) / "stats.json");
  EXPECT_TRUE(contains(stats, "\"short_references\": [\n    \"tiny\"\n  ]")) << stats;
  EXPECT_TRUE(contains(stats, "\"broad_references\": [\n    {\n      \"id\": \"generic\"")) << stats;
}

}  // namespace short_refs

// ---------------------------------------------------------------- 13. small things

namespace small {

TEST(SmallThings, RangeErrorsPrintRealBoundsAndAMissingValueSaysSo) {
  temp_dir dir;
  const std::string out = quote((dir / "o").string());
  const auto range = sh("NEARDUP dedup " + quote(kSample) + " --threshold 2 -o " + out);
  EXPECT_EQ(range.exit_code, 2);
  EXPECT_TRUE(contains(range.err, "--threshold 2: must be in (0, 1]")) << range.err;
  const auto o = sh("NEARDUP dedup " + quote(kSample) + " -o");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.err, "-o: missing value")) << o.err;
  const auto t = sh("NEARDUP dedup " + quote(kSample) + " -o " + out + " --threshold");
  EXPECT_TRUE(contains(t.err, "--threshold: missing value")) << t.err;
}

TEST(SmallThings, NulAndNonUtf8IdsReadTheSameInClustersTsvAndDedupedJsonl) {
  temp_dir dir;
  write_file(dir / "a.jsonl", std::string("{\"id\":\"x\\u0000y\",\"text\":\"alpha\"}\n"));
  write_file(dir / "in" / "caf\xe9.txt", "a text file with a Latin-1 name");
  const std::string out = (dir / "o").string();
  const auto r = sh("NEARDUP exact --quiet " + quote((dir / "a.jsonl").string()) + " " + quote((dir / "in").string()) +
                    " -o " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string tsv = read_file(fs::path(out) / "clusters.tsv");
  EXPECT_TRUE(contains(tsv, "x\\0y\tx\\0y\n")) << tsv;
  EXPECT_EQ(tsv.find('\0'), std::string::npos);
  const std::string name = (dir / "in").string() + "/caf\xEF\xBF\xBD.txt";  // U+FFFD in both files
  EXPECT_TRUE(contains(tsv, name + "\t" + name + "\n")) << tsv;
  EXPECT_TRUE(contains(read_file(fs::path(out) / "deduped.jsonl"), "{\"id\":\"" + name + "\",")) << tsv;
}

}  // namespace small

// ---------------------------------------------------------------- the torture corpus
//
// Every case above that a run survives, in one directory, through every
// command. Grow it whenever a new case is found.

namespace torture {

void make_torture_corpus(const fs::path& root) {
  const std::string docs = "{\"id\":\"g1\",\"text\":\"alpha beta gamma delta epsilon zeta eta theta\"}\n"
                           "{\"id\":\"g2\",\"text\":\"alpha beta gamma delta epsilon zeta eta theta\"}\n";
  write_file(root / "gzip_named_plain.jsonl", gzip(docs));                   // class 3: magic, not name
  write_file(root / "UPPER.JSONL.ZST", zstd_compress(docs));                 // class 9: case
  write_file(root / "pretty.json", "{\n  \"text\": \"a pretty document\"\n}\n");  // class 9: one document
  write_file(root / "deduped.jsonl.tmp.99.0", "{\"text\":\"half");          // class 5: leftover
  std::string mixed;
  mixed += "\xEF\xBB\xBF{\"id\":\"bom\",\"text\":\"crlf line\\r\\nCookie banner\"}\r\n";  // BOM, CRLF
  mixed += "{\"id\":\"m\",\"text\":\"meta broken\",\"meta\":[1,,2]}\n";           // class 8
  mixed += "{\"id\":\"m\",\"text\":\"lone \\ud800 and \\u2028\\nCookie banner\"}\n";  // class 10, 11
  mixed += "{\"id\":\"n\\u0000ul\",\"text\":\"nul in id\\nCookie banner\"}\n";          // class 13
  mixed += "{\"id\":\"bad\xff\",\"text\":\"invalid \xff utf8\"}\n";
  mixed += "\n   \n";                                                                     // blank
  mixed += "{\"id\":\"long\",\"text\":\"" + std::string(1500000, 'x') + "\"}\n";             // class 7
  mixed += "[1,2]\n{\"text\":7}\n{\"no_text\":1}\n";
  mixed += "{\"id\":\"last\",\"text\":\"Cookie banner\"}";                                  // no final newline
  write_file(root / "sub" / "mixed.jsonl", mixed);
  write_file(root / "sub" / "note.txt", "a text file\r\nCookie banner");
}

TEST(Torture, EveryCommandSurvivesTheMixAndAccountsForEveryDocument) {
  temp_dir dir;
  make_torture_corpus(dir / "in");
  write_file(dir / "refs.jsonl", "{\"id\":\"r\",\"text\":\"the\"}\n"
                                 "{\"id\":\"r2\",\"text\":\"alpha beta gamma delta epsilon zeta eta theta\"}\n");
  const std::string in = quote((dir / "in").string());
  for (const std::string cmd : {"dedup", "exact", "lines", "decontaminate", "pairs"}) {
    const std::string out = (dir / ("o_" + cmd)).string();
    std::string line = "NEARDUP " + cmd + " --max-line-mb 1 --max-repeats 1 " + in;
    if (cmd == "lines") line = "NEARDUP lines --max-line-mb 1 --max-repeats 1 " + in;
    if (cmd == "dedup" || cmd == "exact" || cmd == "pairs") line = "NEARDUP " + cmd + " --max-line-mb 1 " + in;
    if (cmd == "pairs") line += " --threshold 0.5";
    if (cmd == "decontaminate") {
      line = "NEARDUP decontaminate --max-line-mb 1 --ngram 5 " + in + " --reference " + quote((dir / "refs.jsonl").string());
    }
    const auto r = sh(line + " -o " + quote(out));
    ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    EXPECT_TRUE(fs::exists(fs::path(out) / "_SUCCESS")) << cmd;
    for (const auto& name : list_dir(out)) EXPECT_FALSE(contains(name, ".tmp.")) << cmd << ": " << name;
    EXPECT_TRUE(contains(r.err, "deduped.jsonl.tmp.99.0 (a temporary file left")) << cmd << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "pretty.json: not JSON Lines")) << cmd << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "mixed.jsonl:2: skipped (malformed_json")) << cmd << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "mixed.jsonl:8: skipped (line_too_long")) << cmd << ": " << r.err;
    if (cmd == "dedup" || cmd == "exact") {
      // One clusters.tsv row per document (16 non-blank records), no two alike.
      const auto rows = parse_tsv_pairs(read_file(fs::path(out) / "clusters.tsv"));
      EXPECT_EQ(rows.size(), 16u) << cmd;
      std::vector<std::string> ids;
      for (const auto& row : rows) ids.push_back(row.first);
      std::sort(ids.begin(), ids.end());
      EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << cmd;
      // The broken and too-long lines are kept byte for byte.
      const std::string kept = read_file(fs::path(out) / "deduped.jsonl");
      EXPECT_TRUE(contains(kept, "{\"id\":\"m\",\"text\":\"meta broken\",\"meta\":[1,,2]}\n")) << cmd;
      EXPECT_TRUE(contains(kept, std::string(1500000, 'x'))) << cmd;
    }
    if (cmd == "lines") {
      const std::string kept = read_file(fs::path(out) / "deduped.jsonl");
      EXPECT_TRUE(contains(kept, "\xEF\xBB\xBF{\"id\":\"bom\",\"text\":\"crlf line\"}\r\n")) << kept.substr(0, 300);
      EXPECT_TRUE(contains(kept, "{\"id\":\"m\",\"text\":\"lone \\ud800 and \\u2028\"}\n"));
    }
  }
}

TEST(Torture, EachFatalCaseFailsTheRunWithoutAMarker) {
  temp_dir dir;
  make_torture_corpus(dir / "in");
  const std::string out = (dir / "o").string();
  ASSERT_EQ(sh("NEARDUP exact --quiet --max-line-mb 1 " + quote((dir / "in").string()) + " -o " + quote(out)).exit_code, 0);
  struct fatal {
    std::string name;
    std::function<void(const fs::path&)> add;
    std::string message;
  };
  const std::vector<fatal> cases = {
      {"xz", [](const fs::path& d) { write_file(d / "x.jsonl.xz", std::string("\xfd" "7zXZ\0\0\x04", 8)); },
       "which neardup does not read"},
      {"zeros", [](const fs::path& d) { write_file(d / "z.jsonl.gz", std::string(64, '\0')); }, "are not gzip data"},
      {"dangling", [](const fs::path& d) { fs::create_symlink(d / "nowhere", d / "gone.jsonl"); }, "gone.jsonl"},
      {"outdir inside", [](const fs::path& d) { fs::create_directory_symlink(d / ".." / "o", d / "results"); },
       "is the output directory"},
  };
  for (const auto& c : cases) {
    const fs::path in = dir / ("in_" + std::to_string(&c - cases.data()));
    fs::copy(dir / "in", in, fs::copy_options::recursive);
    c.add(in);
    const auto r = sh("NEARDUP exact --quiet --max-line-mb 1 " + quote(in.string()) + " -o " + quote(out));
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.err;
    EXPECT_TRUE(contains(r.err, c.message)) << c.name << ": " << r.err;
    EXPECT_FALSE(fs::exists(fs::path(out) / "_SUCCESS")) << c.name;
  }
}

}  // namespace torture

}  // namespace

// Bounded memory (job_options::memory_bytes): a run past its budget spills
// signatures and band keys to sorted runs on disk and must give the same
// bytes as the run in memory, whatever the budget; a full disk must fail
// cleanly, leaving neither temporary files nor finished-looking outputs.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/io/input.hpp"
#include "neardup/io/output.hpp"
#include "neardup/jobs/decontaminate.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/jobs/pairs.hpp"
#include "test_util.hpp"
#include "../src/jobs/corpus_passes.hpp"

namespace {

namespace njobs = neardup::jobs;
namespace nio = neardup::io;
using neardup_test::list_dir;
using neardup_test::read_file;
using neardup_test::temp_dir;
using neardup_test::write_file;

// Near-duplicate families, exact copies, unrelated documents and a few bad
// records, in one JSONL file.
std::string spill_corpus() {
  neardup_test::corpus_spec spec;
  spec.bases = neardup_test::small_scale() ? 150 : 600;
  spec.unrelated = spec.bases;
  spec.min_words = 12;
  spec.max_words = 60;
  spec.seed = 7;
  const auto docs = neardup_test::make_near_dup_corpus(spec);
  std::string s;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    s += neardup_test::json_line(docs[i].id, docs[i].text) + "\n";
    if (i % 50 == 0) s += neardup_test::json_line("copy" + std::to_string(i), docs[i].text) + "\n";
    if (i % 300 == 0) s += "{not json\n";
    if (i % 400 == 0) s += "{\"id\":\"empty" + std::to_string(i) + "\",\"text\":\"\"}\n";
  }
  return s;
}

njobs::dedup_options base_options() {
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  o.threads = 2;
  return o;
}

const char* const kOutputs[] = {"clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "sources.tsv"};

struct messages final : neardup::pipeline::sink {
  std::vector<std::string> lines;
  void message(const std::string& line) override { lines.push_back(line); }
};

class SpilledRun : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_ / "in.jsonl", spill_corpus());
    in_ = nio::expand_inputs({(dir_ / "in.jsonl").string()});
  }
  njobs::dedup_report run(const njobs::dedup_options& o, const std::string& out) {
    return njobs::run_dedup(in_.sources, (dir_ / out).string(), o);
  }
  void expect_same_outputs(const std::string& a, const std::string& b) {
    for (const char* f : kOutputs) {
      SCOPED_TRACE(f);
      EXPECT_EQ(read_file(dir_ / a / f), read_file(dir_ / b / f));
    }
  }
  temp_dir dir_{"spill_test"};
  nio::expanded_inputs in_;
  std::filesystem::path fs_tmp_;
};

// Every spill path: several sorted runs per band (256 records and more) and a
// merge in many slices (a few KiB each), against the run in memory, for each
// verification mode and keep policy.
TEST_F(SpilledRun, SameBytesAsInMemoryUnderTinyBudgets) {
  std::map<bool, std::map<std::uint64_t, std::uint64_t>> written_without_signatures;  // verify exact's spills
  for (const auto verify : {neardup::pipeline::verify_mode::exact, neardup::pipeline::verify_mode::estimate,
                            neardup::pipeline::verify_mode::none}) {
    for (const auto keep : {neardup::pipeline::keep_policy::first, neardup::pipeline::keep_policy::longest}) {
      const std::string tag = std::string(neardup::name(verify)) + "_" + std::string(neardup::name(keep));
      SCOPED_TRACE(tag);
      njobs::dedup_options o = base_options();
      o.verify = verify;
      o.keep = keep;
      const njobs::dedup_report mem = run(o, "mem_" + tag);
      EXPECT_FALSE(mem.spilled);
      EXPECT_GT(mem.removed_near, 0u);
      for (const std::uint64_t budget : {std::uint64_t{64} << 10, std::uint64_t{256} << 10}) {
        o.memory_bytes = budget;
        const std::string out = "spill_" + tag + "_" + std::to_string(budget);
        const njobs::dedup_report sp = run(o, out);
        EXPECT_TRUE(sp.spilled);
        EXPECT_GT(sp.spill_runs_per_band, 1u);
        // Signatures are spilled unless the verifier makes them again from
        // the candidates' sets.
        if (verify == neardup::pipeline::verify_mode::exact) {
          written_without_signatures[keep == neardup::pipeline::keep_policy::first][budget] = sp.spill_bytes_written;
        } else {
          EXPECT_GT(sp.spill_bytes_written, sp.documents * 4 * o.num_perm);
          EXPECT_LT(written_without_signatures[keep == neardup::pipeline::keep_policy::first][budget],
                    sp.spill_bytes_written);
        }
        EXPECT_EQ(sp.kept, mem.kept);
        EXPECT_EQ(sp.verifications, mem.verifications);
        // The candidates' sets read again went to disk.
        if (verify == neardup::pipeline::verify_mode::exact) {
          EXPECT_LT(sp.verify_set_bytes, mem.verify_set_bytes);
        }
        expect_same_outputs("mem_" + tag, out);
        const std::string stats = read_file(dir_ / out / "stats.json");
        EXPECT_NE(stats.find("\"disk_bytes_written\": " + std::to_string(sp.spill_bytes_written)), std::string::npos)
            << stats;
      }
    }
  }
}

// The shingle sets read again for the candidates of a spilled run live in a
// temporary file (over 2 MiB here: moved to disk in several pieces) and read back
// as the same sets.
TEST(SpilledSets, ReadBackAsAdded) {
  temp_dir dir("spill_sets_test");
  neardup::jobs::detail::spill_counter counter;
  neardup::jobs::detail::shingle_sets mem, disk;
  disk.spill_to(dir.path().string(), counter);
  constexpr std::size_t n = 9000;
  mem.has.assign(n / 64 + 1, 0);
  disk.has.assign(n / 64 + 1, 0);
  std::vector<std::uint64_t> set;
  for (std::size_t d = 0; d < n; ++d) {
    if (d % 3 == 1) continue;  // documents without a set
    set.resize(d % 7 == 0 ? 0 : 20 + d % 90);
    for (std::size_t i = 0; i < set.size(); ++i) set[i] = d * 1000 + i;
    mem.add(static_cast<neardup::doc_id>(d), set);
    disk.add(static_cast<neardup::doc_id>(d), set);
  }
  mem.finish(n);
  disk.finish(n);
  EXPECT_TRUE(disk.values.empty());
  EXPECT_GT(counter.written.load(), std::uint64_t{2} << 20);  // two moves, then the rest
  std::vector<std::uint64_t> buf;
  for (std::size_t d = 0; d < n; ++d) {
    const auto want = mem[static_cast<neardup::doc_id>(d)];
    const auto got = disk.read(static_cast<neardup::doc_id>(d), buf);
    ASSERT_EQ(std::vector<std::uint64_t>(got.begin(), got.end()), std::vector<std::uint64_t>(want.begin(), want.end()))
        << d;
  }
}

TEST_F(SpilledRun, SameBytesWithOneThreadAndWithoutExactFirst) {
  njobs::dedup_options o = base_options();
  o.exact_first = false;
  run(o, "mem");
  o.memory_bytes = std::uint64_t{64} << 10;
  o.threads = 1;
  EXPECT_TRUE(run(o, "spill").spilled);
  expect_same_outputs("mem", "spill");
}

// `exact` (fingerprints only) past its budget: the document table goes to
// mapped files and the exact groups are sorted slice by slice, with the
// same bytes.
TEST_F(SpilledRun, ExactOnlySameBytes) {
  njobs::dedup_options o = base_options();
  o.near = false;
  const njobs::dedup_report mem = run(o, "mem");
  EXPECT_FALSE(mem.spilled);
  EXPECT_GT(mem.removed_exact, 0u);
  o.memory_bytes = std::uint64_t{64} << 10;
  const njobs::dedup_report sp = run(o, "spill");
  EXPECT_TRUE(sp.spilled);
  EXPECT_GT(sp.spill_bytes_written, sp.documents * 48);  // the document table
  EXPECT_EQ(sp.removed_exact, mem.removed_exact);
  expect_same_outputs("mem", "spill");
}

// Repeated ids, checked slice by slice of the id hashes under a tiny budget:
// the same warnings in the same order, and the same clusters.tsv names.
TEST_F(SpilledRun, DuplicateIdsSameWarningsAndBytes) {
  std::string corpus = spill_corpus();
  for (int i = 0; i < 40; ++i) corpus += neardup_test::json_line("copy" + std::to_string(i * 50), "again " + std::to_string(i)) + "\n";
  write_file(dir_ / "ids.jsonl", corpus);
  in_ = nio::expand_inputs({(dir_ / "ids.jsonl").string()});
  messages mem_events, spill_events;
  njobs::dedup_options o = base_options();
  o.max_reported_errors = 1000;
  o.events = &mem_events;
  const njobs::dedup_report mem = run(o, "mem");
  EXPECT_GT(mem.duplicate_ids, 0u);
  o.events = &spill_events;
  o.memory_bytes = std::uint64_t{64} << 10;
  EXPECT_TRUE(run(o, "spill").spilled);
  expect_same_outputs("mem", "spill");
  auto warnings = [](const messages& m) {
    std::vector<std::string> w;
    for (const auto& l : m.lines) {
      if (l.find("duplicate id") != std::string::npos) w.push_back(l);
    }
    return w;
  };
  EXPECT_EQ(warnings(spill_events), warnings(mem_events));
  EXPECT_EQ(warnings(mem_events).size(), mem.duplicate_ids);
}

// `pairs` under a tiny budget: LSH candidates from spilled band-key runs
// (verified exactly or by the spilled signatures) and the exact join over a
// spilled document table give the pairs.tsv of the run in memory.
TEST_F(SpilledRun, PairsSameBytes) {
  struct mode {
    const char* tag;
    bool exact;
    neardup::pipeline::verify_mode verify;
  };
  for (const mode m : {mode{"lsh_exact", false, neardup::pipeline::verify_mode::exact},
                       mode{"lsh_estimate", false, neardup::pipeline::verify_mode::estimate},
                       mode{"join", true, neardup::pipeline::verify_mode::exact}}) {
    SCOPED_TRACE(m.tag);
    njobs::pairs_options o;
    o.progress = false;
    o.max_reported_errors = 0;
    o.threads = 2;
    o.threshold = 0.7;
    o.exact = m.exact;
    o.verify = m.verify;
    const std::string mem = (dir_ / (std::string("pairs_mem_") + m.tag)).string();
    const std::string sp = (dir_ / (std::string("pairs_spill_") + m.tag)).string();
    const njobs::pairs_report a = njobs::run_pairs(in_.sources, mem, o);
    EXPECT_GT(a.pairs, 0u);
    EXPECT_EQ(read_file(std::filesystem::path(mem) / "stats.json").find("\"spilled\": true"), std::string::npos);
    o.memory_bytes = std::uint64_t{64} << 10;
    const njobs::pairs_report b = njobs::run_pairs(in_.sources, sp, o);
    EXPECT_EQ(b.pairs, a.pairs);
    EXPECT_EQ(read_file(std::filesystem::path(sp) / "pairs.tsv"), read_file(std::filesystem::path(mem) / "pairs.tsv"));
    EXPECT_NE(read_file(std::filesystem::path(sp) / "stats.json").find("\"spilled\": true"), std::string::npos);
  }
}

// The plan is told before pass 1; the temporary directory stays empty (the
// spill files have no names) and holds nothing afterwards.
TEST_F(SpilledRun, PlansFirstAndLeavesNoTemporaryFiles) {
  fs_tmp_ = dir_ / "tmp";
  std::filesystem::create_directories(fs_tmp_);
  messages events;
  njobs::dedup_options o = base_options();
  o.max_reported_errors = 20;
  o.events = &events;
  o.memory_bytes = std::uint64_t{64} << 10;
  o.tmp_dir = fs_tmp_.string();
  const auto r = run(o, "out");
  ASSERT_FALSE(events.lines.empty());
  EXPECT_EQ(events.lines[0].rfind("plan: ~", 0), 0u) << events.lines[0];
  EXPECT_NE(events.lines[0].find("spilling the document table and band keys (signatures made again from the "
                                 "candidates' sets) to " + fs_tmp_.string()),
            std::string::npos)
      << events.lines[0];
  EXPECT_TRUE(r.spilled);
  EXPECT_GT(r.planned_disk_bytes, 0u);
  EXPECT_TRUE(list_dir(fs_tmp_).empty());
}

// A disk that fills up during the spill (injected: the write that would
// pass the limit fails as ENOSPC would): a clear error, no outputs, nothing
// left in the temporary directory.
TEST_F(SpilledRun, DiskFullFailsCleanly) {
  fs_tmp_ = dir_ / "tmp";
  std::filesystem::create_directories(fs_tmp_);
  njobs::dedup_options o = base_options();
  o.memory_bytes = std::uint64_t{64} << 10;
  o.tmp_dir = fs_tmp_.string();
  ::setenv("NEARDUP_SPILL_FAIL_AFTER_BYTES", "200000", 1);
  try {
    run(o, "out");
    ::unsetenv("NEARDUP_SPILL_FAIL_AFTER_BYTES");
    FAIL() << "a full disk must fail the run";
  } catch (const std::runtime_error& e) {
    ::unsetenv("NEARDUP_SPILL_FAIL_AFTER_BYTES");
    const std::string what = e.what();
    EXPECT_NE(what.find(fs_tmp_.string() + ": cannot spill stage data"), std::string::npos) << what;
    EXPECT_NE(what.find("no space left on device"), std::string::npos) << what;
  }
  EXPECT_TRUE(list_dir(fs_tmp_).empty());
  for (const char* f : kOutputs) EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / f)) << f;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "stats.json"));
}

// Killed mid-run (SIGTERM, as the CLI handles it): the spill files exist
// while it runs, but without names, so the temporary directory stays empty
// before and after, and no output looks finished.
TEST_F(SpilledRun, SigtermLeavesNoTemporaryFiles) {
  fs_tmp_ = dir_ / "tmp";
  std::filesystem::create_directories(fs_tmp_);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    nio::remove_temporary_files_on_signals();
    // Stops at the cluster stage, after pass 1 has spilled everything.
    struct stopper final : neardup::pipeline::sink {
      int fd;
      explicit stopper(int f) : fd(f) {}
      void begin_stage(std::string name, std::uint64_t) override {
        if (name != "cluster") return;
        (void)::write(fd, "r", 1);
        while (true) ::pause();
      }
    } events(ready[1]);
    njobs::dedup_options o = base_options();
    o.events = &events;
    o.memory_bytes = std::uint64_t{64} << 10;
    o.tmp_dir = fs_tmp_.string();
    try {
      run(o, "out");
    } catch (...) {
    }
    ::_exit(3);  // not reached when the signal comes
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  // The child holds its spill files open: unnamed files in the directory.
  std::size_t spill_files = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind(fs_tmp_.string() + "/", 0) == 0) ++spill_files;
  }
  EXPECT_GT(spill_files, 1u);
  EXPECT_TRUE(list_dir(fs_tmp_).empty());
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_TRUE(list_dir(fs_tmp_).empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "stats.json"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "clusters.tsv"));
}

// A real small file system (tmpfs, when this process may mount one): the
// plan refuses before pass 1, naming what it needs and what is free.
TEST_F(SpilledRun, RefusesEarlyWhenTheDiskCannotHoldTheSpill) {
  fs_tmp_ = dir_ / "small";
  std::filesystem::create_directories(fs_tmp_);
  if (::geteuid() != 0 || ::mount("tmpfs", fs_tmp_.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  }
  njobs::dedup_options o = base_options();
  o.memory_bytes = std::uint64_t{64} << 10;
  o.tmp_dir = fs_tmp_.string();
  try {
    run(o, "out");
    ADD_FAILURE() << "the plan must refuse";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("not enough free disk for the run: it needs about"), std::string::npos) << what;
    EXPECT_NE(what.find("are free"), std::string::npos) << what;
  }
  EXPECT_TRUE(list_dir(fs_tmp_).empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "clusters.tsv"));
  ::umount(fs_tmp_.c_str());
}

// decontaminate under a memory budget: the corpus is streamed in smaller
// chunks, with the same bytes; a reference index past the budget's share
// stops the run before the corpus is read, with the numbers.
class DecontaminateBudget : public SpilledRun {
 protected:
  // References: every `every`-th line of the corpus (bad lines are skipped).
  nio::expanded_inputs references(std::size_t every) {
    const std::string corpus = spill_corpus();
    std::string refs;
    std::size_t line = 0;
    for (std::size_t at = 0; at < corpus.size();) {
      const std::size_t end = corpus.find('\n', at);
      if (line++ % every == 0) refs += corpus.substr(at, end - at + 1);
      at = end + 1;
    }
    write_file(dir_ / ("refs" + std::to_string(every) + ".jsonl"), refs);
    return nio::expand_inputs({(dir_ / ("refs" + std::to_string(every) + ".jsonl")).string()});
  }
  static njobs::decontaminate_options options() {
    njobs::decontaminate_options o;
    o.progress = false;
    o.max_reported_errors = 0;
    o.threads = 2;
    o.ngram = 5;
    o.max_shared = 3;
    return o;
  }
};

TEST_F(DecontaminateBudget, SameBytesUnderATinyBudget) {
  const nio::expanded_inputs refs = references(20);
  for (const bool bloom : {false, true}) {
    SCOPED_TRACE(bloom ? "bloom" : "exact");
    njobs::decontaminate_options o = options();
    o.bloom_false_positive_rate = bloom ? 0.01 : 0.0;
    const auto in_memory = njobs::run_decontaminate(in_.sources, refs.sources, (dir_ / "mem").string(), o);
    o.memory_bytes = std::uint64_t{1} << 20;  // chunks of 64 KiB, the corpus is ~100-400 KiB
    const auto bounded = njobs::run_decontaminate(in_.sources, refs.sources, (dir_ / "budget").string(), o);
    EXPECT_GT(in_memory.contaminated, 0u);
    EXPECT_EQ(bounded.contaminated, in_memory.contaminated);
    EXPECT_EQ(bounded.memory_budget_bytes, std::uint64_t{1} << 20);
    EXPECT_GT(bounded.reference_index_bytes, 0u);
    for (const char* f : {"contamination.tsv", "clean.jsonl"}) {
      SCOPED_TRACE(f);
      EXPECT_EQ(read_file(dir_ / "mem" / f), read_file(dir_ / "budget" / f));
    }
    EXPECT_NE(read_file(dir_ / "budget" / "stats.json").find("\"reference_index_bytes\""), std::string::npos);
  }
}

TEST_F(DecontaminateBudget, RefusesAReferenceIndexPastTheBudget) {
  const nio::expanded_inputs refs = references(1);  // the whole corpus: 10,000-40,000 n-grams
  for (const bool bloom : {false, true}) {
    SCOPED_TRACE(bloom ? "bloom" : "exact");
    njobs::decontaminate_options o = options();
    o.bloom_false_positive_rate = bloom ? 1e-9 : 0.0;  // 43 bits per n-gram: 50-200 KiB
    o.memory_bytes = std::uint64_t{784} << 10;   // 16 KiB for the index
    const std::string out = (dir_ / (bloom ? "bloom" : "exact")).string();
    try {
      njobs::run_decontaminate(in_.sources, refs.sources, out, o);
      ADD_FAILURE() << "the index must not fit";
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("the reference index does not fit in the memory budget (784 KiB, --memory-mb)"),
                std::string::npos)
          << what;
      EXPECT_NE(what.find("more than the 16 KiB the budget leaves it"), std::string::npos) << what;
      EXPECT_NE(what.find(bloom ? "raise --bloom-fp" : "--bloom-fp P"), std::string::npos) << what;
    }
    EXPECT_FALSE(std::filesystem::exists(out + "/contamination.tsv"));
    EXPECT_FALSE(std::filesystem::exists(out + "/clean.jsonl"));
    EXPECT_FALSE(std::filesystem::exists(out + "/stats.json"));
  }
}

}  // namespace

// The stored index (jobs/stored_index.hpp): incremental dedup equals one
// run, options are checked, crashes at every write step leave the previous
// state, corrupt segments are named, one writer at a time, readers keep
// their snapshot.
#include "neardup/jobs/stored_index.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <random>
#include <string>
#include <vector>

#include "neardup/banding.hpp"
#include "test_util.hpp"

namespace {

using namespace neardup_test;
namespace nj = neardup::jobs;

// Batches of near-duplicates of shared base texts (so batches duplicate
// each other, within and across), as JSONL with ids NAME0, NAME1, ...
struct corpus {
  std::vector<std::string> base;
  std::mt19937_64 rng{42};
  corpus() {
    for (int b = 0; b < 60; ++b) base.push_back(words(50));
  }
  std::string words(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " w" : "w") + std::to_string(rng() % 2000);
    return s;
  }
  std::string batch(const std::string& name, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      std::string t = base[rng() % base.size()];
      if (rng() % 3 != 0) {  // change one or two words: Jaccard ~0.8-0.9
        const auto at = t.find(' ', rng() % (t.size() - 20));
        t.insert(at, " x" + std::to_string(rng() % 100));
      }
      out += "{\"id\":\"" + name + std::to_string(i) + "\",\"text\":\"" + t + "\"}\n";
    }
    return out;
  }
};

nj::dedup_options quiet_options() {
  nj::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  o.threads = 2;
  return o;
}

std::vector<neardup::io::source_info> sources(const std::vector<fs::path>& files) {
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.string());
  return neardup::io::expand_inputs(std::span<const std::string>(names)).sources;
}

// The kept lines of `batch` among the kept lines of a whole run (its ids start with the batch's letter).
std::string lines_of(const std::string& deduped, char batch) {
  std::string out;
  std::size_t at = 0;
  while (at < deduped.size()) {
    const std::size_t nl = deduped.find('\n', at);
    const std::string line = deduped.substr(at, nl - at + 1);
    if (line.size() > 8 && line[7] == batch) out += line;
    at = nl + 1;
  }
  return out;
}

// The lines of clusters.tsv (id TAB keeper id) whose id starts with `batch`.
std::string tsv_lines_of(const std::string& tsv, char batch) {
  std::string out;
  std::size_t at = 0;
  while (at < tsv.size()) {
    const std::size_t nl = tsv.find('\n', at);
    if (tsv[at] == batch) out += tsv.substr(at, nl - at + 1);
    at = nl + 1;
  }
  return out;
}

class StoredIndex : public ::testing::Test {
 protected:
  temp_dir dir{"stored_index"};
  corpus c;
  fs::path a, b, cc;
  void SetUp() override {
    a = dir.path() / "A.jsonl";
    b = dir.path() / "B.jsonl";
    cc = dir.path() / "C.jsonl";
    write_file(a, c.batch("A", 150));
    write_file(b, c.batch("B", 150));
    write_file(cc, c.batch("C", 150));
  }
  std::string index() const { return (dir.path() / "idx").string(); }
};

TEST_F(StoredIndex, ThreeStepsEqualOneRunWithKeepFirst) {
  for (auto verify : {neardup::pipeline::verify_mode::exact, neardup::pipeline::verify_mode::estimate}) {
    nj::dedup_options o = quiet_options();
    o.verify = verify;
    const std::string idx = index() + std::string(neardup::name(verify));
    const auto out = [&](const char* n) { return (dir.path() / (n + std::string(neardup::name(verify)))).string(); };
    nj::run_dedup(sources({a}), out("a"), o);
    nj::run_dedup(sources({a, b}), out("ab"), o);
    nj::run_dedup(sources({a, b, cc}), out("abc"), o);

    const auto built = nj::build_index(sources({a}), idx, o);
    EXPECT_EQ(built.stored, 150u);
    const auto rb = nj::run_dedup_against(sources({b}), out("b"), o, idx, true);
    EXPECT_EQ(rb.prior_documents, 150u);
    // Without --update-index, and with the candidates' sets read again from
    // the input (no set memory): the same decisions, the index unchanged.
    nj::dedup_options reread = o;
    reread.set_memory_bytes = 0;
    nj::run_dedup_against(sources({cc}), out("c0"), reread, idx, false);
    EXPECT_EQ(nj::stored_index::open(idx).info().documents, 300u);
    nj::run_dedup_against(sources({cc}), out("c"), o, idx, true);
    EXPECT_EQ(read_file(fs::path(out("c0")) / "deduped.jsonl"), read_file(fs::path(out("c")) / "deduped.jsonl"));

    const std::string ab = read_file(fs::path(out("ab")) / "deduped.jsonl");
    const std::string abc = read_file(fs::path(out("abc")) / "deduped.jsonl");
    const std::string kept_b = read_file(fs::path(out("b")) / "deduped.jsonl");
    const std::string kept_c = read_file(fs::path(out("c")) / "deduped.jsonl");
    EXPECT_EQ(kept_b, lines_of(ab, 'B'));
    EXPECT_EQ(kept_c, lines_of(abc, 'C'));
    // Every document's keeper, named in clusters.tsv, too.
    EXPECT_EQ(read_file(fs::path(out("b")) / "clusters.tsv"), tsv_lines_of(read_file(fs::path(out("ab")) / "clusters.tsv"), 'B'));
    EXPECT_EQ(read_file(fs::path(out("c")) / "clusters.tsv"), tsv_lines_of(read_file(fs::path(out("abc")) / "clusters.tsv"), 'C'));
    EXPECT_LT(kept_b.size(), read_file(b).size());  // something was removed against A

    const auto i = nj::stored_index::open(idx);
    EXPECT_EQ(i.info().documents, 450u);
    EXPECT_EQ(i.info().segments.size(), 3u);
    EXPECT_EQ(i.info().settings.stores_sets(), verify == neardup::pipeline::verify_mode::exact);
  }
}

// Clusters that a later batch joins: A holds X and Y (too far apart to be
// one cluster) and Y2 near Y; B's Z is near both X and Y, so it joins their
// clusters; C's W is near Y2 only. One run keeps X for all of them; so must
// the index, whose stored clusters (Y's) were joined by B after Y was stored.
TEST_F(StoredIndex, ClustersJoinedByALaterBatchKeepTheirFirstDocument) {
  std::mt19937_64 rng(9);
  auto word = [&rng](char tag) {
    std::string w = std::to_string(rng() % 100000);
    w.insert(w.begin(), tag);
    return w;
  };
  std::string a_lines, b_lines, c_lines;
  auto line = [](const std::string& id, const std::vector<std::string>& w) {
    std::string t;
    for (const auto& x : w) t += (t.empty() ? "" : " ") + x;
    return "{\"id\":\"" + id + "\",\"text\":\"" + t + "\"}\n";
  };
  for (int f = 0; f < 20; ++f) {
    std::vector<std::string> x(200);
    for (auto& w : x) w = word('w');
    auto changed = [&](std::vector<std::string> v, std::initializer_list<int> at) {
      for (int i : at) v[static_cast<std::size_t>(i)] = word('z');
      return v;
    };
    const auto z = changed(x, {20, 40, 60});
    const auto y = changed(z, {80, 100, 120});
    const auto y2 = changed(y, {140, 160, 180});
    const auto w = changed(y2, {195});
    const std::string n = std::to_string(f);
    a_lines += line("AX" + n, x) + line("AY" + n, y) + line("AZ" + n, y2);
    b_lines += line("BZ" + n, z);
    c_lines += line("CW" + n, w);
  }
  write_file(a, a_lines);
  write_file(b, b_lines);
  write_file(cc, c_lines);
  for (auto verify : {neardup::pipeline::verify_mode::exact, neardup::pipeline::verify_mode::estimate}) {
    nj::dedup_options o = quiet_options();
    o.verify = verify;
    const std::string v(neardup::name(verify)), idx = index() + v;
    const auto out = [&](const char* n) { return dir.path() / (n + v); };
    nj::run_dedup(sources({a, b, cc}), out("abc").string(), o);
    nj::build_index(sources({a}), idx, o);
    nj::run_dedup_against(sources({b}), out("b").string(), o, idx, true);
    nj::run_dedup_against(sources({cc}), out("c").string(), o, idx, true);
    const std::string one_run = read_file(out("abc") / "clusters.tsv");
    EXPECT_EQ(read_file(out("b") / "clusters.tsv"), tsv_lines_of(one_run, 'B'));
    EXPECT_EQ(read_file(out("c") / "clusters.tsv"), tsv_lines_of(one_run, 'C'));
    // The joins happened: most W are kept by X (not by Y, which A kept).
    std::size_t by_x = 0;
    for (int f = 0; f < 20; ++f) {
      by_x += one_run.find("CW" + std::to_string(f) + "\tAX" + std::to_string(f) + "\n") != std::string::npos;
    }
    EXPECT_GE(by_x, 15u) << one_run;
    // A compacted index resolves the joins into its labels and decides alike.
    nj::index_writer(idx, nullptr).compact();
    nj::run_dedup_against(sources({cc}), out("c2").string(), o, idx, false);
    EXPECT_EQ(read_file(out("c2") / "clusters.tsv"), read_file(out("c") / "clusters.tsv"));
  }
}

TEST_F(StoredIndex, QueryFindsStoredTextsExactOrEstimated) {
  nj::dedup_options o = quiet_options();
  nj::build_index(sources({a}), index(), o);
  const auto idx = nj::stored_index::open(index());
  const auto m = idx.query(c.base[0] + " x1", {.top_k = 3});
  ASSERT_FALSE(m.empty());
  EXPECT_TRUE(m[0].exact);
  EXPECT_GE(m[0].jaccard, 0.8);
  for (std::size_t i = 1; i < m.size(); ++i) EXPECT_LE(m[i].jaccard, m[i - 1].jaccard);
  EXPECT_TRUE(idx.query("nothing like it at all in the corpus, no", {}).empty());

  o.verify = neardup::pipeline::verify_mode::estimate;
  nj::build_index(sources({a}), index() + "e", o);
  const auto e = nj::stored_index::open(index() + "e").query(c.base[0], {.top_k = 1, .threshold = 0.5});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_FALSE(e[0].exact);
}

TEST_F(StoredIndex, OtherOptionsAreRefusedNamingTheDifference) {
  nj::dedup_options o = quiet_options();
  nj::build_index(sources({a}), index(), o);
  nj::dedup_options other = o;
  other.num_perm = 64;
  try {
    nj::run_dedup_against(sources({b}), (dir.path() / "x").string(), other, index(), false);
    FAIL() << "no error";
  } catch (const nj::index_error& e) {
    EXPECT_NE(std::string(e.what()).find("--num-perm 128, not 64"), std::string::npos) << e.what();
  }
  other = o;
  other.ngram = 3;
  EXPECT_THROW(nj::build_index(sources({b}), index(), other), nj::index_error);
  EXPECT_EQ(nj::stored_index::open(index()).info().documents, 150u);
}

TEST_F(StoredIndex, CrashAtEveryWriteStepLeavesThePreviousState) {
  nj::dedup_options o = quiet_options();
  o.threads = 1;
  nj::build_index(sources({a}), index(), o);
  const auto before = nj::stored_index::open(index()).info();
  for (const char* step : {"segment_start", "segment_written", "segment_renamed", "manifest_written",
                           "manifest_renamed"}) {
    SCOPED_TRACE(step);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("NEARDUP_INDEX_CRASH_AT", step, 1);
      try {
        nj::run_dedup_against(sources({b}), (dir.path() / "crash").string(), o, index(), true);
      } catch (...) {
        _exit(3);
      }
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 77);  // reached the step and "crashed"
    const auto after = nj::stored_index::open(index());
    // Before the MANIFEST's rename the previous state; after it, the new one, complete.
    if (std::string(step) == "manifest_renamed") {
      EXPECT_EQ(after.info().documents, 300u);
      // Undo, for the next step: a new build over A alone.
      fs::remove_all(index());
      nj::build_index(sources({a}), index(), o);
    } else {
      EXPECT_EQ(after.info().documents, before.documents);
      EXPECT_EQ(after.info().segments.size(), before.segments.size());
      EXPECT_FALSE(after.query(c.base[1], {}).empty());
    }
  }
  // The next writer removes what the crashes left and adds normally.
  nj::run_dedup_against(sources({b}), (dir.path() / "ok").string(), o, index(), true);
  const auto i = nj::stored_index::open(index());
  EXPECT_EQ(i.info().documents, 300u);
  for (const auto& f : list_dir(index())) EXPECT_EQ(f.find(".tmp"), std::string::npos) << f;
  EXPECT_EQ(list_dir(index()).size(), 4u);  // MANIFEST, LOCK, seg-1, seg-2
}

TEST_F(StoredIndex, CorruptSegmentIsNamedAndTheOthersAreKept) {
  nj::dedup_options o = quiet_options();
  nj::build_index(sources({a}), index(), o);
  nj::run_dedup_against(sources({b}), (dir.path() / "ob").string(), o, index(), true);
  const auto info = nj::stored_index::open(index()).info();
  ASSERT_EQ(info.segments.size(), 2u);
  const fs::path seg1 = fs::path(index()) / info.segments[0].name, seg2 = fs::path(index()) / info.segments[1].name;
  const std::string good1 = read_file(seg1), good2 = read_file(seg2);
  for (std::size_t at : {std::size_t{20}, good2.size() / 2, good2.size() - 3}) {
    std::string bad = good2;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    write_file(seg2, bad);
    try {
      (void)nj::stored_index::open(index());
      FAIL() << "opened a corrupt segment (byte " << at << ")";
    } catch (const nj::index_error& e) {
      EXPECT_NE(std::string(e.what()).find("segment " + info.segments[1].name + " is corrupt"), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(nj::index_writer(index(), nullptr), nj::index_error);  // nobody writes over it
    EXPECT_EQ(read_file(seg1), good1);
  }
  write_file(seg2, good2);
  EXPECT_EQ(nj::stored_index::open(index()).info().documents, 300u);
  // A damaged MANIFEST is refused as such.
  const fs::path manifest = fs::path(index()) / "MANIFEST";
  std::string m = read_file(manifest);
  m[m.find("ngram 5")+6] = '4';
  write_file(manifest, m);
  EXPECT_THROW((void)nj::stored_index::open(index()), nj::index_error);
}

TEST_F(StoredIndex, OneWriterManyReaders) {
  nj::dedup_options o = quiet_options();
  nj::build_index(sources({a}), index(), o);
  const auto old_reader = nj::stored_index::open(index());
  const auto hits = old_reader.query(c.base[2], {.top_k = 0});
  {
    nj::index_writer w(index(), nullptr);
    try {
      nj::index_writer second(index(), nullptr);
      FAIL() << "a second writer got the lock";
    } catch (const nj::index_error& e) {
      EXPECT_NE(std::string(e.what()).find("another writer"), std::string::npos) << e.what();
    }
    // Readers open and query while the writer holds the lock.
    EXPECT_EQ(nj::stored_index::open(index()).query(c.base[2], {.top_k = 0}).size(), hits.size());
  }
  nj::run_dedup_against(sources({b}), (dir.path() / "ob").string(), o, index(), true);
  {
    nj::index_writer w(index(), nullptr);
    w.compact();  // removes the old segment files
    EXPECT_EQ(w.current().info().segments.size(), 1u);
  }
  // The reader opened before keeps its snapshot (its mappings outlive the files).
  EXPECT_EQ(old_reader.query(c.base[2], {.top_k = 0}).size(), hits.size());
  EXPECT_EQ(old_reader.info().documents, 150u);
  const auto now = nj::stored_index::open(index());
  EXPECT_EQ(now.info().documents, 300u);
  EXPECT_GE(now.query(c.base[2], {.top_k = 0}).size(), hits.size());
}

TEST_F(StoredIndex, ReadersOpenAndQueryWhileAWriterAddsAndCompacts) {
  nj::dedup_options o = quiet_options();
  o.threads = 1;
  nj::build_index(sources({a}), index(), o);
  std::atomic<bool> stop{false};
  std::atomic<int> opened{0};
  std::string failure;
  std::thread reader([&] {
    try {
      std::uint64_t last = 0;
      while (!stop) {
        const auto r = nj::stored_index::open(index());  // a snapshot: 150, 300 or 450 documents
        if (r.info().documents < last) failure = "documents went back";
        last = r.info().documents;
        if (r.query(c.base[3], {.top_k = 0}).empty()) failure = "a query found nothing";
        ++opened;
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  nj::run_dedup_against(sources({b}), (dir.path() / "ob").string(), o, index(), true);
  nj::index_writer(index(), nullptr).compact();
  nj::run_dedup_against(sources({cc}), (dir.path() / "oc").string(), o, index(), true);
  nj::index_writer(index(), nullptr).compact();
  while (opened < 20) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(nj::stored_index::open(index()).info().documents, 450u);
}

TEST_F(StoredIndex, CompactKeepsTheDocumentsAndTheirOrder) {
  nj::dedup_options o = quiet_options();
  nj::build_index(sources({a}), index(), o);
  nj::run_dedup_against(sources({b}), (dir.path() / "ob").string(), o, index(), true);
  const auto before = nj::stored_index::open(index());
  std::vector<std::vector<nj::index_match>> answers;
  for (int q = 0; q < 10; ++q) answers.push_back(before.query(c.base[static_cast<std::size_t>(q)], {.top_k = 0}));
  nj::index_writer(index(), nullptr).compact();
  const auto after = nj::stored_index::open(index());
  EXPECT_EQ(after.info().documents, before.info().documents);
  EXPECT_EQ(after.info().kept, before.info().kept);
  for (int q = 0; q < 10; ++q) {
    const auto m = after.query(c.base[static_cast<std::size_t>(q)], {.top_k = 0});
    ASSERT_EQ(m.size(), answers[static_cast<std::size_t>(q)].size());
    for (std::size_t i = 0; i < m.size(); ++i) {
      EXPECT_EQ(m[i].id, answers[static_cast<std::size_t>(q)][i].id);
      EXPECT_EQ(m[i].jaccard, answers[static_cast<std::size_t>(q)][i].jaccard);
    }
  }
  // And dedup against the compacted index decides as before.
  nj::run_dedup_against(sources({cc}), (dir.path() / "c1").string(), o, index(), false);
  nj::run_dedup(sources({a, b, cc}), (dir.path() / "abc").string(), o);
  EXPECT_EQ(read_file(dir.path() / "c1" / "deduped.jsonl"),
            lines_of(read_file(dir.path() / "abc" / "deduped.jsonl"), 'C'));
}

// Compaction streams the segments' data into one (their sorted band runs
// merged): every document keeps its number, id, signature, fingerprint, set
// and cluster, and every band key finds the same documents.
TEST_F(StoredIndex, CompactionKeepsEveryDocumentsDataAndBandKeys) {
  nj::dedup_options o = quiet_options();
  nj::build_index(sources({a}), index(), o);
  nj::run_dedup_against(sources({b}), (dir.path() / "ob").string(), o, index(), true);
  nj::run_dedup_against(sources({cc}), (dir.path() / "oc").string(), o, index(), true);
  struct snapshot {
    std::vector<std::string> ids;
    std::vector<std::vector<neardup::sig_value>> sigs;
    std::vector<neardup::hash128> fps;
    std::vector<std::vector<std::uint64_t>> sets;
    std::vector<neardup::doc_id> clusters;
    std::vector<std::vector<std::pair<std::uint32_t, neardup::doc_id>>> bands;
  };
  auto take = [&] {
    const auto idx = nj::stored_index::open(index());
    const auto p = idx.prior();
    const auto& st = idx.info().settings;
    const neardup::bander bands(st.banding(), st.num_perm, st.seed);
    snapshot s;
    std::vector<std::vector<std::uint64_t>> keys(st.banding().bands);
    for (neardup::doc_id d = 0; d < p.size; ++d) {
      s.ids.push_back(p.id(d));
      s.sigs.emplace_back(st.num_perm);
      p.signature(d, s.sigs.back());
      s.fps.push_back(p.fingerprint(d));
      const auto set = p.set(d);
      s.sets.emplace_back(set.begin(), set.end());
      s.clusters.push_back(p.cluster(d));
      std::vector<std::uint64_t> k(st.banding().bands);
      if (bands.keys(s.sigs.back(), k)) {
        for (std::size_t j = 0; j < k.size(); ++j) keys[j].push_back(k[j]);
      }
    }
    for (std::uint32_t j = 0; j < keys.size(); ++j) {
      std::sort(keys[j].begin(), keys[j].end());
      keys[j].erase(std::unique(keys[j].begin(), keys[j].end()), keys[j].end());
      s.bands.emplace_back();
      p.band_matches(j, keys[j], s.bands.back());
      std::sort(s.bands.back().begin(), s.bands.back().end());
    }
    return std::make_pair(s, idx.info().segments.size());
  };
  const auto [before, segments_before] = take();
  ASSERT_EQ(segments_before, 3u);
  nj::index_writer(index(), nullptr).compact();
  const auto [after, segments_after] = take();
  EXPECT_EQ(segments_after, 1u);
  EXPECT_EQ(after.ids, before.ids);
  EXPECT_EQ(after.sigs, before.sigs);
  EXPECT_EQ(after.fps, before.fps);
  EXPECT_EQ(after.sets, before.sets);
  EXPECT_EQ(after.clusters, before.clusters);
  EXPECT_EQ(after.bands, before.bands);
  EXPECT_FALSE(after.bands[0].empty());
}

}  // namespace

// The pipeline layer: the executor, the stages over flat arrays, and the
// in-memory engines giving the same decisions as the file jobs.
#include <gtest/gtest.h>

#include <random>

#include <atomic>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/executor.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/decontaminate.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/pipeline/decontaminate.hpp"
#include "neardup/pipeline/dedup.hpp"
#include "neardup/pipeline/stages.hpp"
#include "test_util.hpp"

namespace {

using namespace neardup_test;
namespace pl = neardup::pipeline;
namespace jobs = neardup::jobs;

TEST(Executor, RunsEveryIndexOnceAndRethrowsTheFirstError) {
  neardup::executor pool(3);
  EXPECT_EQ(pool.threads(), 3u);
  std::vector<std::atomic<int>> seen(1000);
  pool.run(seen.size(), [&](std::size_t i) { seen[i]++; });
  for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
  std::atomic<int> calls{0};
  EXPECT_THROW(pool.run(50,
                        [&](std::size_t i) {
                          ++calls;
                          if (i == 7) throw std::runtime_error("seven");
                        }),
               std::runtime_error);
  EXPECT_EQ(calls.load(), 50);  // every call is made; the error comes after
}

TEST(Executor, NestedRunsInlineInsteadOfDeadlocking) {
  neardup::executor pool(1);
  std::atomic<int> inner{0};
  pool.run(2, [&](std::size_t) { pool.run(3, [&](std::size_t) { ++inner; }); });
  EXPECT_EQ(inner.load(), 6);
}

TEST(Executor, StartRunsBesideTheCaller) {
  neardup::executor pool(2);
  std::atomic<bool> go{false};
  std::atomic<int> done{0};
  auto g = pool.start(2, [&](std::size_t) {
    while (!go.load()) {
    }
    ++done;
  });
  go = true;  // the tasks wait for the calling thread
  g.wait();
  EXPECT_EQ(done.load(), 2);
  EXPECT_EQ(neardup::resolve_threads(5), 5u);
  EXPECT_GE(neardup::resolve_threads(0), 1u);
}

std::vector<generated_doc> corpus_docs() {
  corpus_spec spec;
  spec.bases = small_scale() ? 40 : 120;
  spec.unrelated = small_scale() ? 40 : 120;
  return make_near_dup_corpus(spec);
}

TEST(SignBatch, EqualsTheMinhasherForEveryThreadCount) {
  const auto docs = corpus_docs();
  std::vector<std::string_view> texts;
  for (const auto& d : docs) texts.push_back(d.text);
  texts.push_back("");  // no tokens
  pl::similarity_options o;
  o.num_perm = 64;
  const neardup::minhasher hasher(o.minhash());
  neardup::shingler sh(o.shingles());
  neardup::executor pool(3);
  const pl::signed_batch one = pl::sign_batch(texts, o, nullptr, {.signatures = true, .sets = true});
  const pl::signed_batch three = pl::sign_batch(texts, o, &pool, {.signatures = true, .sets = true});
  ASSERT_EQ(one.signatures.size(), texts.size() * 64);
  EXPECT_EQ(one.signatures, three.signatures);
  EXPECT_EQ(one.sets.values, three.sets.values);
  EXPECT_EQ(one.sets.offsets, three.sets.offsets);
  for (std::size_t d = 0; d + 1 < texts.size(); ++d) {
    std::vector<std::uint64_t> set;
    sh.shingles(texts[d], set);
    const auto want = hasher.sign(set);
    const auto got = one.signature(static_cast<neardup::doc_id>(d));
    ASSERT_TRUE(std::equal(got.begin(), got.end(), want.begin(), want.end())) << d;
    const auto kept = one.sets[static_cast<neardup::doc_id>(d)];
    ASSERT_TRUE(std::equal(kept.begin(), kept.end(), set.begin(), set.end())) << d;
  }
  EXPECT_FALSE(one.docs.back().has_tokens);
  EXPECT_TRUE(one.sets[static_cast<neardup::doc_id>(texts.size() - 1)].empty());
}

TEST(ExactGroups, FirstCopyLeadsAndRepeatsLeaveLsh) {
  const std::vector<neardup::hash128> fp = {{1, 1}, {2, 2}, {1, 1}, {3, 3}, {2, 2}, {1, 1}};
  std::vector<std::uint8_t> excluded = {0, 0, 0, 1, 0, 0};
  const auto leader = pl::exact_groups(fp, excluded, true);
  EXPECT_EQ(leader, (std::vector<neardup::doc_id>{0, 1, 0, 3, 1, 0}));
  EXPECT_EQ(excluded, (std::vector<std::uint8_t>{0, 0, 1, 1, 1, 1}));
  std::vector<std::uint8_t> wrong(2);
  EXPECT_THROW(pl::exact_groups(fp, wrong, true), std::invalid_argument);
}

// Sorted by the fingerprints' low halves: equal low halves with different
// high halves (a 64-bit collision) are still different texts, and a large
// input sorted on several threads gives the leaders of a plain comparison.
TEST(ExactGroups, LowHalfCollisionsAndLargeInputsMatchAFullComparison) {
  const std::vector<neardup::hash128> fp = {{7, 1}, {7, 2}, {7, 1}, {8, 1}, {7, 2}, {7, 3}};
  std::vector<std::uint8_t> excluded(fp.size(), 0);
  EXPECT_EQ(pl::exact_groups(fp, excluded, true), (std::vector<neardup::doc_id>{0, 1, 0, 3, 1, 5}));
  EXPECT_EQ(excluded, (std::vector<std::uint8_t>{0, 0, 1, 0, 1, 0}));

  const std::size_t n = 300000;
  std::vector<neardup::hash128> many(n);
  std::uint64_t x = 1;
  for (std::size_t d = 0; d < n; ++d) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    many[d] = d % 3 == 0 ? many[(d * 7919) % (d + 1)] : neardup::hash128{x >> 20, d % 5};
  }
  std::vector<neardup::doc_id> want(n);
  std::map<std::pair<std::uint64_t, std::uint64_t>, neardup::doc_id> first;
  for (std::size_t d = 0; d < n; ++d) {
    want[d] = first.try_emplace({many[d].low, many[d].high}, static_cast<neardup::doc_id>(d)).first->second;
  }
  for (const std::size_t threads : {1, 2, 3}) {
    neardup::executor pool(threads);
    std::vector<std::uint8_t> none(n, 0);
    EXPECT_EQ(pl::exact_groups(many, none, false, &pool), want) << threads;
  }
  // With `release` (a mapped array), the members of runs of equal low halves
  // are gathered by document before the comparison: same leaders.
  std::vector<std::uint8_t> none(n, 0);
  std::size_t releases = 0;
  EXPECT_EQ(pl::exact_groups(many, none, false, neardup_test::pool_of(2), std::uint64_t{1} << 20, [&] { ++releases; }),
            want);
  EXPECT_GT(releases, 0u);
  std::vector<std::uint8_t> small(fp.size(), 0);
  EXPECT_EQ(pl::exact_groups(fp, small, true, nullptr, 64, [] {}), (std::vector<neardup::doc_id>{0, 1, 0, 3, 1, 5}));
  EXPECT_EQ(small, (std::vector<std::uint8_t>{0, 0, 1, 0, 1, 0}));
}

// Sorted slice by slice of the fingerprint space within a few KiB, the
// leaders and exclusions are those of one sort; `release` is called as the
// fingerprints are read.
TEST(ExactGroups, SlicesGiveTheSameGroups) {
  std::mt19937_64 rng(5);
  const std::size_t n = 5000;
  std::vector<neardup::hash128> fp(n);
  std::vector<std::uint8_t> excluded(n);
  for (std::size_t d = 0; d < n; ++d) {
    fp[d] = d > 0 && rng() % 3 == 0 ? fp[rng() % d] : neardup::hash128{rng(), rng()};
    excluded[d] = rng() % 17 == 0 ? 1 : 0;
  }
  for (const bool repeats : {false, true}) {
    std::vector<std::uint8_t> one = excluded, sliced = excluded;
    const auto want = pl::exact_groups(fp, one, repeats);
    std::size_t releases = 0;
    const auto got = pl::exact_groups(fp, sliced, repeats, neardup_test::pool_of(2), 4096, [&] { ++releases; });
    EXPECT_EQ(got, want);
    EXPECT_EQ(sliced, one);
    EXPECT_GE(releases, pl::key_slices::within(n, 32, 4096).count);  // 32 bytes per document
  }
  EXPECT_EQ(pl::key_slices::within(n, 24, 4096).count, (n * 24 + 4095) / 4096);
  EXPECT_EQ(pl::key_slices::within(n, 24, UINT64_MAX).count, 1u);
}

// Keying several bands per pass gives each band's keys as bander::key does,
// and the buckets of every band do not depend on how many are keyed together.
TEST(BandColumns, EqualBanderKeysAndGroupTheSameBuckets) {
  // 40,000 signatures (several slices of documents, a filtered band): one
  // in four repeats an earlier one in some of its values, one is empty.
  const std::size_t n = 40000, k = 128;
  std::mt19937_64 rng(11);
  std::vector<neardup::sig_value> signatures(n * k);
  for (std::size_t d = 0; d < n; ++d) {
    const std::size_t from = d > 0 && rng() % 4 == 0 ? rng() % d : d;
    for (std::size_t j = 0; j < k; ++j) {
      signatures[d * k + j] = from != d && rng() % 3 != 0 ? signatures[from * k + j]
                                                          : static_cast<neardup::sig_value>(rng() % 1000);
    }
  }
  std::fill_n(signatures.begin() + 5 * k, k, neardup::empty_sig_value);
  const auto sig = [&](std::size_t d) { return std::span<const neardup::sig_value>(signatures).subspan(d * k, k); };
  const neardup::bander bands({18, 5}, k, 7);
  EXPECT_EQ(pl::bands_keyed_together(18, 128), 6u);  // 3 passes of 6
  EXPECT_EQ(pl::bands_keyed_together(16, 64), 4u);
  EXPECT_EQ(pl::bands_keyed_together(5, 8), 1u);
  std::vector<std::uint8_t> excluded(n, 0);
  excluded[3] = 1;
  for (std::size_t threads : {1, 3}) {
    std::vector<std::uint64_t> keys(7 * n, 42);
    pl::band_columns(signatures, bands, 4, 7, excluded, keys, neardup_test::pool_of(threads));
    for (std::uint32_t i = 0; i < 7; ++i) {
      for (std::size_t d = 0; d < n; ++d) {
        const auto want = d == 3 ? std::uint64_t{42}  // excluded: left as it was
                                 : bands.key(sig(d), 4 + i).value_or(0);
        ASSERT_EQ(keys[i * n + d], want) << "band " << 4 + i << " doc " << d;
      }
    }
  }
  std::vector<std::uint64_t> wrong(7 * n - 1);
  EXPECT_THROW(pl::band_columns(signatures, bands, 4, 7, excluded, wrong), std::invalid_argument);
  std::vector<std::uint64_t> past(3 * n);
  EXPECT_THROW(pl::band_columns(signatures, bands, 16, 3, excluded, past), std::invalid_argument);

  // The buckets of for_each_band_buckets, band by band, against one band at a time.
  std::vector<std::uint32_t> seen;
  std::vector<std::uint64_t> column(n, 0);
  neardup::band_grouper grouper;
  neardup::bucket_list want;
  std::size_t buckets = 0;
  pl::for_each_band_buckets(signatures, bands, excluded, neardup_test::pool_of(2),
                            [&](std::uint32_t b, const neardup::bucket_list& got) {
                              seen.push_back(b);
                              buckets += got.size();
                              pl::band_column(signatures, bands, b, excluded, column);
                              grouper.group(column, excluded, want);
                              EXPECT_EQ(got.docs, want.docs) << b;
                              EXPECT_EQ(got.offsets, want.offsets) << b;
                            });
  std::vector<std::uint32_t> all(18);
  for (std::uint32_t b = 0; b < 18; ++b) all[b] = b;
  EXPECT_EQ(seen, all);
  EXPECT_GT(buckets, 18 * n / 100);  // the repeated values make buckets in every band
}

// Short texts from 30 words, one in three an earlier one with a word
// changed: sets of 1-11 bigrams, many candidate pairs on both sides of 0.5.
std::vector<std::string> short_texts(std::size_t n) {
  std::mt19937_64 rng(5);
  const auto word = [](std::uint64_t i) { return std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i); };
  std::vector<std::string> texts;
  for (std::size_t d = 0; d < n; ++d) {
    std::vector<std::string> words;
    if (d > 0 && rng() % 3 == 0) {
      const std::string& from = texts[rng() % d];
      for (std::size_t i = 0, j; i < from.size(); i = j + 1) {
        j = std::min(from.find(' ', i), from.size());
        words.push_back(from.substr(i, j - i));
      }
      words[rng() % words.size()] = word(rng() % 30);
    } else {
      for (std::size_t i = 0, m = 2 + rng() % 11; i < m; ++i) words.push_back(word(rng() % 30));
    }
    std::string t;
    for (const auto& w : words) {
      if (!t.empty()) t.push_back(' ');
      t.append(w);
    }
    texts.push_back(t);
  }
  return texts;
}

class flat_set_provider final : public pl::set_provider {
 public:
  explicit flat_set_provider(const pl::flat_sets& sets) : sets_(sets) {}
  bool missing(std::vector<std::uint8_t>&) override { return false; }
  void load(const std::vector<std::uint8_t>&) override {}
  std::span<const std::uint64_t> set(neardup::doc_id d) const override { return sets_[d]; }

 private:
  const pl::flat_sets& sets_;
};

// Band keys made beforehand and signatures kept for large sets only (what
// the file job does for short documents): the same verdicts and clusters as
// the signatures of every document.
TEST(RunStages, BandKeysAndSignaturesMadeAgainFromSetsDecideTheSame) {
  const auto owned = short_texts(6000);
  std::vector<std::string_view> texts(owned.begin(), owned.end());
  texts.push_back("");  // no tokens
  const std::size_t n = texts.size();
  pl::dedup_options o;
  o.ngram = 2;
  o.threshold = 0.5;
  const pl::signed_batch batch = pl::sign_batch(texts, o, nullptr, {.signatures = true, .sets = true});
  const std::size_t k = o.num_perm, small = 5;
  const auto kept_signature = [&](neardup::doc_id d) {
    return batch.sets[d].size() <= small ? std::span<const neardup::sig_value>() : batch.signature(d);
  };
  std::size_t dropped = 0;
  for (std::size_t d = 0; d < n; ++d) dropped += kept_signature(static_cast<neardup::doc_id>(d)).empty() ? 1 : 0;
  ASSERT_GT(dropped, n / 4);
  ASSERT_LT(dropped, n * 3 / 4);

  // The verifier: every pair of the first 300 documents, both ways.
  const pl::set_lookup set_of = [&](neardup::doc_id d) { return batch.sets[d]; };
  const neardup::pair_verifier all = pl::make_verifier(o, std::span<const neardup::sig_value>(batch.signatures), set_of);
  const neardup::pair_verifier some = pl::make_verifier(o, pl::signature_lookup(kept_signature), set_of);
  std::size_t yes = 0;
  for (neardup::doc_id a = 0; a < 300; ++a) {
    for (neardup::doc_id b = 0; b < 300; ++b) {
      if (a == b) continue;
      ASSERT_EQ(all(a, b), some(a, b)) << a << " " << b;
      yes += all(a, b) ? 1 : 0;
    }
  }
  EXPECT_GT(yes, 100u);

  const neardup::bander bands(o.banding(), k, o.seed);
  std::vector<std::vector<std::uint64_t>> keys(bands.params().bands, std::vector<std::uint64_t>(n, 0));
  std::vector<std::uint64_t> row(bands.params().bands);
  for (std::size_t d = 0; d < n; ++d) {
    if (!bands.keys(batch.signature(static_cast<neardup::doc_id>(d)), row)) continue;
    for (std::size_t b = 0; b < row.size(); ++b) keys[b][d] = row[b];
  }
  std::vector<neardup::hash128> fingerprints(n);
  std::vector<std::uint8_t> usable(n);
  for (std::size_t d = 0; d < n; ++d) {
    fingerprints[d] = batch.docs[d].fingerprint;
    usable[d] = batch.docs[d].has_tokens ? 1 : 0;
  }
  flat_set_provider sets(batch.sets);
  pl::signed_documents full, keyed;
  full.size = keyed.size = n;
  full.signatures = batch.signatures;
  full.fingerprints = keyed.fingerprints = fingerprints;
  full.usable = keyed.usable = usable;
  // In uneven pieces, one of them empty, as pass 1's chunks leave them.
  keyed.band_keys = [&](std::uint32_t b) {
    const std::span<const std::uint64_t> column(keys[b]);
    const std::size_t cuts[] = {0, 1, n / 3, n / 3, n / 2 + 7, n};
    std::vector<std::span<const std::uint64_t>> pieces;
    for (std::size_t i = 0; i + 1 < std::size(cuts); ++i) pieces.push_back(column.subspan(cuts[i], cuts[i + 1] - cuts[i]));
    return pieces;
  };
  keyed.signature_of = kept_signature;
  o.evidence.record = true;
  const pl::dedup_result want = pl::run_stages(full, o, &sets);
  EXPECT_GT(want.stats.removed_near, n / 20);
  for (std::size_t threads : {1, 3}) {
    const pl::dedup_result got = pl::run_stages(keyed, o, &sets, {.pool = neardup_test::pool_of(threads)});
    EXPECT_EQ(got.kept_of, want.kept_of) << threads;
    EXPECT_EQ(got.cluster, want.cluster) << threads;
    EXPECT_EQ(got.stats.candidate_documents, want.stats.candidate_documents);
    EXPECT_EQ(got.stats.verifications, want.stats.verifications);
    EXPECT_EQ(got.stats.verified, want.stats.verified);
    ASSERT_EQ(got.evidence.removed.size(), want.evidence.removed.size());
    for (std::size_t i = 0; i < want.evidence.removed.size(); ++i) {
      EXPECT_EQ(got.evidence.removed[i].partner, want.evidence.removed[i].partner);
      EXPECT_EQ(got.evidence.removed[i].similarity, want.evidence.removed[i].similarity);
    }
    ASSERT_EQ(got.evidence.near_misses.size(), want.evidence.near_misses.size());
    for (std::size_t i = 0; i < want.evidence.near_misses.size(); ++i) {
      EXPECT_EQ(got.evidence.near_misses[i].b, want.evidence.near_misses[i].b);
    }
  }
  keyed.signature_of = nullptr;
  EXPECT_THROW(pl::run_stages(keyed, o, &sets), std::invalid_argument);
}

// The in-memory engine and the file job decide the same for the same texts.
class EngineEqualsJob : public ::testing::TestWithParam<std::tuple<pl::verify_mode, pl::keep_policy, bool>> {};

TEST_P(EngineEqualsJob, SameKeptDocuments) {
  const auto [verify, keep, near] = GetParam();
  auto docs = corpus_docs();
  docs.push_back({"blank", "   ", -1});           // no tokens: never a duplicate
  docs.push_back({"dup", docs[3].text, -1});        // an exact copy
  docs.push_back({"short", "tiny text", -1});       // shorter than the n-gram
  docs.push_back({"short2", "tiny text", -1});
  temp_dir dir("pipeline");
  write_file(dir / "in.jsonl", to_jsonl(docs));

  jobs::dedup_options jo;
  jo.progress = false;
  jo.max_reported_errors = 0;
  jo.threads = 2;
  jo.verify = verify;
  jo.keep = keep;
  jo.near = near;
  jo.return_clusters = true;
  jo.set_memory_bytes = 0;  // the job re-reads every candidate's set
  const auto inputs = neardup::io::expand_inputs({(dir / "in.jsonl").string()});
  const jobs::dedup_report job = jobs::run_dedup(inputs.sources, (dir / "out").string(), jo);

  std::vector<std::string_view> texts;
  for (const auto& d : docs) texts.push_back(d.text);
  neardup::executor pool(3);
  const pl::dedup_options& po = jo;  // the same algorithm settings
  const pl::dedup_result mem = pl::dedup(texts, po, &pool);
  EXPECT_EQ(mem.kept_of, job.kept_of);
  EXPECT_EQ(mem.stats.kept, job.kept);
  EXPECT_EQ(mem.stats.removed_exact, job.removed_exact);
  EXPECT_EQ(mem.stats.removed_near, job.removed_near);
  EXPECT_EQ(mem.stats.clusters, job.clusters);
  EXPECT_EQ(mem.stats.verifications, job.verifications);
  EXPECT_EQ(mem.stats.empty_documents, job.empty_documents);
  EXPECT_EQ(mem.stats.short_documents, job.short_documents);
  EXPECT_EQ(mem.stats.cluster_size_histogram, job.cluster_size_histogram);
  if (near) {
    EXPECT_GT(mem.stats.removed_near, 0u);
  }
  EXPECT_GT(mem.stats.removed_exact, 0u);
  if (near && verify == pl::verify_mode::exact) {
    // With the sets kept in pass 1, the short documents keep no signature.
    jo.set_memory_bytes.reset();
    const jobs::dedup_report kept_sets = jobs::run_dedup(inputs.sources, (dir / "out2").string(), jo);
    EXPECT_EQ(kept_sets.kept_of, job.kept_of);
    EXPECT_EQ(kept_sets.verifications, job.verifications);
    EXPECT_EQ(kept_sets.verified, job.verified);
    // A budget the first chunk's sets pass: the workers had dropped the
    // short documents' signatures, and pass 1 makes them again from the
    // chunk's sets.
    jo.set_memory_bytes = 64;
    const jobs::dedup_report past_budget = jobs::run_dedup(inputs.sources, (dir / "out3").string(), jo);
    EXPECT_EQ(past_budget.kept_of, job.kept_of);
    EXPECT_EQ(past_budget.verifications, job.verifications);
    EXPECT_GT(past_budget.signature_bytes, 0u);
  }
  const pl::dedup_result serial = pl::dedup(texts, po);
  EXPECT_EQ(serial.kept_of, mem.kept_of);
  EXPECT_EQ(serial.cluster, mem.cluster);
  for (std::size_t d = 0; d < texts.size(); ++d) {
    ASSERT_EQ(mem.cluster[mem.kept_of[d]], mem.cluster[d]);
    ASSERT_LE(mem.cluster[d], d);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, EngineEqualsJob,
    ::testing::Values(std::make_tuple(pl::verify_mode::exact, pl::keep_policy::first, true),
                      std::make_tuple(pl::verify_mode::exact, pl::keep_policy::longest, true),
                      std::make_tuple(pl::verify_mode::estimate, pl::keep_policy::first, true),
                      std::make_tuple(pl::verify_mode::none, pl::keep_policy::longest, true),
                      std::make_tuple(pl::verify_mode::exact, pl::keep_policy::first, false)));

TEST(DedupOptions, AreCheckedWithTheirNames) {
  pl::dedup_options o;
  o.threshold = 1.5;
  try {
    o.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("threshold"), std::string::npos);
  }
  o.threshold = 0.8;
  o.num_perm = 0;
  EXPECT_THROW(o.validate(), std::invalid_argument);
  o.num_perm = 128;
  o.lsh = neardup::lsh_params{100, 100};
  EXPECT_THROW(o.validate(), std::invalid_argument);
  for (auto m : {pl::verify_mode::none, pl::verify_mode::estimate, pl::verify_mode::exact}) {
    EXPECT_EQ(neardup::parse<pl::verify_mode>(neardup::name(m)), m);
  }
  for (auto k : {pl::keep_policy::first, pl::keep_policy::longest}) EXPECT_EQ(neardup::parse<pl::keep_policy>(neardup::name(k)), k);
  EXPECT_FALSE(neardup::parse<pl::verify_mode>("exactly").has_value());
}

// Decontamination in memory finds what the file job finds, including a
// reference shorter than n tokens.
TEST(Decontaminate, InMemoryEqualsTheJob) {
  const std::vector<std::string> corpus = {
      "the quick brown fox jumps over the lazy dog and runs far away into the forest today",
      "an unrelated document about cooking pasta with tomatoes basil garlic and olive oil at home",
      "question what is the capital of france answer paris is the capital of france indeed",
      "nothing to see here at all just some words that do not match anything in particular ok"};
  const std::vector<std::string> refs = {"jumps over the lazy dog and runs far away into the forest today now",
                                         "capital of france"};  // 3 tokens < 13
  temp_dir dir("decon");
  std::string c, r;
  for (std::size_t i = 0; i < corpus.size(); ++i) c += json_line("c" + std::to_string(i), corpus[i]) + "\n";
  for (std::size_t i = 0; i < refs.size(); ++i) r += json_line("r" + std::to_string(i), refs[i]) + "\n";
  write_file(dir / "c.jsonl", c);
  write_file(dir / "r.jsonl", r);
  jobs::decontaminate_options jo;
  jo.progress = false;
  jo.max_reported_errors = 0;
  jo.ngram = 8;
  jo.min_reference_tokens = 0;  // the rule for references shorter than n is under test
  const auto ci = neardup::io::expand_inputs({(dir / "c.jsonl").string()});
  const auto ri = neardup::io::expand_inputs({(dir / "r.jsonl").string()});
  const auto job = jobs::run_decontaminate(ci.sources, ri.sources, (dir / "out").string(), jo);

  std::vector<std::string_view> cv(corpus.begin(), corpus.end()), rv(refs.begin(), refs.end());
  neardup::executor pool(2);
  const pl::decontaminate_options& po = jo;
  const auto mem = pl::decontaminate(cv, rv, po, &pool);
  EXPECT_EQ(mem.removed, (std::vector<std::uint8_t>{1, 0, 1, 0}));
  EXPECT_EQ(mem.removed_count, job.removed);
  EXPECT_EQ(mem.contaminated, job.contaminated);
  EXPECT_EQ(mem.refs[2], (std::vector<neardup::ref_id>{1}));
  const std::string clean = read_file(dir / "out" / "clean.jsonl");
  EXPECT_EQ(clean, json_line("c1", corpus[1]) + "\n" + json_line("c3", corpus[3]) + "\n");
}

// refs[d] are positions in the caller's `references`, also when a short
// reference before the matching one is not used.
TEST(Decontaminate, MatchedReferencesArePositionsInTheInput) {
  const std::vector<std::string_view> corpus = {"the quick brown fox jumps over the lazy dog and runs far away"};
  const std::vector<std::string_view> refs = {"too short", "fox jumps over the lazy dog and runs far away"};
  pl::decontaminate_options o;
  o.ngram = 5;
  o.min_reference_tokens = 3;  // "too short" (2 tokens) is not used
  const auto r = pl::decontaminate(corpus, refs, o);
  ASSERT_EQ(r.removed, (std::vector<std::uint8_t>{1}));
  EXPECT_EQ(r.refs[0], (std::vector<neardup::ref_id>{1}));
}

}  // namespace

// The audit trail of a dedup run: cluster_trace (cluster.hpp), the engine's
// evidence (pipeline/evidence.hpp) and the job's evidence.tsv /
// near_misses.tsv / sources.tsv (jobs/dedup.hpp). Every removed row of
// clusters.tsv must have its evidence, and every similarity written must equal
// a recomputation from the texts.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/cluster.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/pipeline/dedup.hpp"
#include "neardup/pipeline/evidence.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace {

using namespace neardup_test;
namespace njobs = neardup::jobs;
namespace npipeline = neardup::pipeline;
using neardup::doc_id;

std::vector<std::vector<std::string>> read_tsv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  const std::string s = read_file(p);
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t end = s.find('\n', pos);
    const std::string_view line(s.data() + pos, end - pos);
    std::vector<std::string> fields;
    std::size_t f = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', f);
      fields.push_back(unescape_tsv(line.substr(f, tab == std::string_view::npos ? line.npos : tab - f)));
      if (tab == std::string_view::npos) break;
      f = tab + 1;
    }
    rows.push_back(std::move(fields));
    pos = end + 1;
  }
  return rows;
}

double to_double(const std::string& s) {
  double v = -1;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}
std::size_t to_size(const std::string& s) {
  std::size_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Near-duplicate families plus exact copies (some with extra spaces: the same
// normalized text), so every kind of evidence occurs.
std::vector<generated_doc> corpus() {
  corpus_spec spec;
  spec.bases = small_scale() ? 40 : 120;
  spec.unrelated = small_scale() ? 40 : 120;
  spec.max_edit_rate = 0.12;
  auto docs = make_near_dup_corpus(spec);
  const std::size_t n = docs.size();
  for (std::size_t i = 0; i < n; i += 7) {
    generated_doc copy = docs[i];
    copy.id = docs[i].id + "-copy";
    if (i % 2 == 0) copy.text = "  " + copy.text + "  ";
    docs.push_back(copy);
  }
  return docs;
}

struct checked_run {
  std::string evidence, near_misses, sources;
};

checked_run run_and_check(const std::vector<generated_doc>& docs, njobs::dedup_options o) {
  temp_dir dir("evidence");
  write_file(dir / "in.jsonl", to_jsonl(docs));
  o.progress = false;
  o.max_reported_errors = 0;
  const auto inputs = neardup::io::expand_inputs({(dir / "in.jsonl").string()});
  const njobs::dedup_report report = njobs::run_dedup(inputs.sources, (dir / "out").string(), o);

  const auto clusters = parse_tsv_pairs(read_file(dir / "out" / "clusters.tsv"));
  const auto evidence = read_tsv(dir / "out" / "evidence.tsv");
  const auto misses = read_tsv(dir / "out" / "near_misses.tsv");
  EXPECT_EQ(evidence.at(0).at(0), "id");
  EXPECT_EQ(misses.at(0).at(0), "a_id");

  std::map<std::string, std::size_t> doc_of;
  for (std::size_t d = 0; d < docs.size(); ++d) doc_of[docs[d].id] = d;
  std::vector<std::size_t> kept_of(docs.size());
  for (std::size_t d = 0; d < clusters.size(); ++d) kept_of[d] = doc_of.at(clusters[d].second);

  neardup::shingler sh(o.shingles());
  const neardup::minhasher hasher(o.minhash());
  auto set_of = [&](std::size_t d) {
    std::vector<std::uint64_t> s;
    sh.shingles(docs[d].text, s);
    return s;
  };
  auto recompute = [&](std::size_t a, std::size_t b, const std::string& kind) {
    const auto sa = set_of(a), sb = set_of(b);
    if (kind == "estimate") return neardup::jaccard(hasher.sign(sa), hasher.sign(sb)).estimate;
    EXPECT_EQ(kind, "jaccard");
    return neardup::exact_jaccard(sa, sb);
  };

  // Every removed row has exactly one evidence row, in document order.
  std::size_t row = 1, exact = 0, near = 0;
  for (std::size_t d = 0; d < clusters.size(); ++d) {
    if (clusters[d].first == clusters[d].second) continue;
    SCOPED_TRACE("removed document " + clusters[d].first);
    EXPECT_NE(kept_of[d], d);
    const auto& e = evidence.at(row++);
    EXPECT_EQ(e.size(), 9u);
    EXPECT_EQ(e[0], clusters[d].first);
    EXPECT_EQ(e[1], clusters[d].second);
    EXPECT_EQ(to_size(e[6]), d);
    const std::size_t partner = to_size(e[7]);
    EXPECT_EQ(e[2], docs[partner].id);
    EXPECT_EQ(to_size(e[8]), kept_of[d]);
    EXPECT_EQ(kept_of[partner], kept_of[d]) << "the partner is in the removed document's cluster";
    if (e[3] == "exact") {
      ++exact;
      EXPECT_EQ(partner, kept_of[d]);
      EXPECT_EQ(set_of(d), set_of(partner));
      EXPECT_EQ(e[5], "-");
    } else {
      ++near;
      EXPECT_EQ(to_double(e[4]), recompute(d, partner, e[3]));  // bit for bit
      if (o.verify != npipeline::verify_mode::none) {
        EXPECT_GE(to_double(e[4]), o.threshold);
      }
      EXPECT_LT(to_size(e[5]), report.lsh.bands);
    }
  }
  EXPECT_EQ(row, evidence.size()) << "no evidence for a kept document";
  EXPECT_EQ(exact, report.removed_exact);
  EXPECT_EQ(near, report.removed_near);

  // Following partners from a removed document reaches its kept document.
  std::map<std::size_t, std::size_t> partner_of;
  for (std::size_t i = 1; i < evidence.size(); ++i) partner_of[to_size(evidence[i][6])] = to_size(evidence[i][7]);
  for (const auto& [d, p] : partner_of) {
    std::size_t x = d, steps = 0;
    while (x != kept_of[d] && steps++ <= docs.size()) x = partner_of.at(x);
    EXPECT_EQ(x, kept_of[d]);
  }

  EXPECT_LE(misses.size() - 1, o.evidence.near_misses);
  if (o.verify != npipeline::verify_mode::none && report.rejected > 0) {
    EXPECT_GT(misses.size(), 1u);
  }
  for (std::size_t i = 1; i < misses.size(); ++i) {
    const auto& m = misses[i];
    const std::size_t a = to_size(m[5]), b = to_size(m[6]);
    EXPECT_LT(a, b);
    EXPECT_EQ(m[0], docs[a].id);
    EXPECT_EQ(to_double(m[3]), recompute(a, b, m[2]));
    EXPECT_LT(to_double(m[3]), o.threshold) << "a rejected pair";
  }
  return {read_file(dir / "out" / "evidence.tsv"), read_file(dir / "out" / "near_misses.tsv"),
          read_file(dir / "out" / "sources.tsv")};
}

TEST(Evidence, EveryRemovalHasVerifiedEvidenceIndependentOfThreads) {
  const auto docs = corpus();
  njobs::dedup_options o;
  o.threshold = 0.7;
  o.evidence.near_misses = 50;
  o.threads = 1;
  const checked_run one = run_and_check(docs, o);
  o.threads = 4;
  const checked_run four = run_and_check(docs, o);
  EXPECT_EQ(one.evidence, four.evidence);
  EXPECT_EQ(one.near_misses, four.near_misses);
  EXPECT_EQ(one.sources.substr(one.sources.find("\tjsonl\t")), four.sources.substr(four.sources.find("\tjsonl\t")));
}

TEST(Evidence, KeepLongestAndNoExactFirst) {
  const auto docs = corpus();
  njobs::dedup_options o;
  o.threshold = 0.75;
  o.keep = npipeline::keep_policy::longest;
  o.threads = 2;
  run_and_check(docs, o);
  o.exact_first = false;
  run_and_check(docs, o);
}

TEST(Evidence, EstimateAndUnverifiedAreMarkedAsEstimates) {
  const auto docs = corpus();
  njobs::dedup_options o;
  o.threads = 2;
  o.verify = npipeline::verify_mode::estimate;
  const checked_run est = run_and_check(docs, o);
  EXPECT_NE(est.evidence.find("\testimate\t"), std::string::npos);
  EXPECT_EQ(est.evidence.find("\tjaccard\t"), std::string::npos);
  o.verify = npipeline::verify_mode::none;
  run_and_check(docs, o);
}

TEST(Evidence, ExactOnlyRunsSayExact) {
  const auto docs = corpus();
  njobs::dedup_options o;
  o.near = false;
  const checked_run r = run_and_check(docs, o);
  EXPECT_NE(r.evidence.find("\texact\t"), std::string::npos);
}

TEST(Evidence, SourcesCountEveryDocument) {
  const auto docs = corpus();
  njobs::dedup_options o;
  const checked_run r = run_and_check(docs, o);
  const auto lines = r.sources.substr(r.sources.find('\n') + 1);
  EXPECT_NE(lines.find("\tjsonl\t" + std::to_string(docs.size()) + "\t"), std::string::npos) << r.sources;
}

// Of the sampled rejected pairs, the most similar are kept (those just under
// the threshold), sorted by (a, b); ties go to the smaller pair.
TEST(Evidence, NearMissesAreTheMostSimilarOfTheSample) {
  const std::size_t n = 12;
  std::vector<doc_id> self(n);
  for (std::size_t d = 0; d < n; ++d) {
    self[d] = static_cast<doc_id>(d);
  }
  neardup::cluster_trace trace;
  for (doc_id a = 0; a < n; ++a) {
    for (doc_id b = a + 1; b < n; b += 3) trace.rejected.push_back({a, b, 1});
  }
  const auto similarity = [](doc_id a, doc_id b) { return static_cast<double>((a * 5 + b * 3) % 11) / 20; };
  const auto all = npipeline::collect_evidence(self, self, &trace, similarity,
                                               npipeline::evidence_kind::jaccard, nullptr);
  ASSERT_EQ(all.near_misses.size(), trace.rejected.size());
  const std::size_t keep = 6;
  const auto few = npipeline::collect_evidence(self, self, &trace, similarity,
                                               npipeline::evidence_kind::jaccard, nullptr, keep);
  ASSERT_EQ(few.near_misses.size(), keep);
  std::vector<npipeline::pair_evidence> want = all.near_misses;
  std::stable_sort(want.begin(), want.end(), [](const auto& x, const auto& y) { return x.similarity > y.similarity; });
  want.resize(keep);
  std::sort(want.begin(), want.end(), [](const auto& x, const auto& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
  for (std::size_t i = 0; i < keep; ++i) {
    EXPECT_EQ(few.near_misses[i].a, want[i].a);
    EXPECT_EQ(few.near_misses[i].b, want[i].b);
    EXPECT_EQ(few.near_misses[i].similarity, want[i].similarity);
  }
  double lowest_kept = 1;
  for (const auto& m : few.near_misses) lowest_kept = std::min(lowest_kept, m.similarity);
  std::size_t above = 0;
  for (const auto& m : all.near_misses) above += m.similarity > lowest_kept;
  EXPECT_LE(above, keep) << "no pair left out is more similar than one kept";
}

// The trace of the clusterer alone: a spanning forest of the clusters, and
// a bounded sample, the same for every thread count.
TEST(ClusterTrace, MergesSpanTheClustersAndSampleIsBounded) {
  const std::size_t n = 3000;
  neardup::bucket_list buckets;
  auto verify = [](doc_id a, doc_id b) { return (a * 7 + b * 13) % 5 != 0; };
  std::vector<neardup::cluster_trace> traces;
  std::vector<neardup::cluster_result> results;
  for (std::size_t threads : {1, 3}) {
    neardup::executor pool(threads);
    neardup::cluster_trace trace{.max_rejected = 40, .seed = 9, .merges = {}, .rejected = {}};
    neardup::clusterer c(n, verify, {.pool = &pool, .trace = &trace});
    for (std::uint64_t band = 0; band < 6; ++band) {
      std::vector<std::uint64_t> keys(n);
      for (std::size_t d = 0; d < n; ++d) keys[d] = neardup::mix64(d * 31 + band) % 900;
      neardup::band_grouper g;
      g.group(keys, std::vector<std::uint8_t>(n, 0), buckets);
      c.add_band(buckets);
    }
    results.push_back(c.result());
    EXPECT_EQ(trace.merges.size(), results.back().stats.merges);
    EXPECT_EQ(trace.rejected.size(), 40u);
    neardup::union_find uf(n);
    for (const auto& l : trace.merges) {
      EXPECT_TRUE(uf.unite(l.a, l.b)) << "a merge link closes a cycle";
      EXPECT_TRUE(verify(l.a, l.b));
    }
    EXPECT_EQ(uf.representatives(), results.back().representative);
    for (const auto& l : trace.rejected) EXPECT_FALSE(verify(l.a, l.b));
    traces.push_back(trace);
  }
  EXPECT_EQ(traces[0].merges, traces[1].merges);
  EXPECT_EQ(traces[0].rejected, traces[1].rejected);
}

// The bounded sample is the documented one: of every pair rejected in any
// band (the unbounded trace), the max_rejected with the smallest
// mix64(seed ^ (a << 32 | b)), each with its first band, sorted by (a, b).
// Later bands skip what cannot enter a full sample, and buffers are cut
// several times per band here (max_rejected 15).
TEST(ClusterTrace, BoundedSampleIsTheSmallestKeysOfAllRejections) {
  const std::size_t n = 3000;
  auto verify = [](doc_id a, doc_id b) { return (a * 7 + b * 13) % 5 != 0; };
  const auto run = [&](std::size_t threads, std::size_t max_rejected) {
    neardup::executor pool(threads);
    neardup::cluster_trace trace{.max_rejected = max_rejected, .seed = 9, .merges = {}, .rejected = {}};
    neardup::clusterer c(n, verify, {.pool = &pool, .trace = &trace});
    neardup::bucket_list buckets;
    for (std::uint64_t band = 0; band < 8; ++band) {
      std::vector<std::uint64_t> keys(n);
      for (std::size_t d = 0; d < n; ++d) keys[d] = neardup::mix64(d * 31 + band) % 700;
      neardup::band_grouper g;
      g.group(keys, std::vector<std::uint8_t>(n, 0), buckets);
      c.add_band(buckets);
    }
    return trace.rejected;
  };
  std::vector<neardup::band_link> all = run(1, SIZE_MAX / 4);
  ASSERT_GT(all.size(), 200u);
  const auto key = [](const neardup::band_link& l) { return neardup::mix64(9 ^ (std::uint64_t{l.a} << 32 | l.b)); };
  std::sort(all.begin(), all.end(), [&](const auto& x, const auto& y) { return key(x) < key(y); });
  all.resize(15);
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
  for (std::size_t threads : {1, 2, 3}) EXPECT_EQ(run(threads, 15), all) << threads << " threads";
}

}  // namespace

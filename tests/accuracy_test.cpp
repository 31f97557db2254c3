// Accuracy of run_dedup against brute-force exact Jaccard (every pair).
//
// Ground truth: a document "has a near-duplicate" iff some other document has
// exact Jaccard >= threshold of its shingle set (same tokenizer, n-gram size and
// seed as the run). Prediction: the document is in a cluster of size >= 2.
// A false merge is a cluster that is not inside one connected component of
// the exact >= threshold graph (transitive chains inside a component are fine).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/io/input.hpp"

namespace {

using namespace neardup_test;
namespace nio = neardup::io;
namespace njobs = neardup::jobs;
namespace npipeline = neardup::pipeline;

njobs::dedup_options quiet_defaults() {
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  o.return_clusters = true;
  return o;
}

neardup::shingle_options shingles_of(const njobs::dedup_options& o) {
  return neardup::shingle_options{o.tokens, o.ngram, o.seed};
}

corpus_spec generated_spec() {
  corpus_spec spec;
  if (small_scale()) {
    spec.bases = 80;
    spec.unrelated = 80;
  }
  return spec;
}

// The generated corpus, written once per test binary, with its ground truth.
struct generated_corpus {
  temp_dir dir{"neardup_accuracy"};
  std::vector<generated_doc> docs;
  std::vector<std::string> texts;
  ground_truth truth;
  nio::expanded_inputs inputs;

  generated_corpus() {
    docs = make_near_dup_corpus(generated_spec());
    for (const auto& d : docs) texts.push_back(d.text);
    write_file(dir / "corpus.jsonl", to_jsonl(docs));
    truth = exact_ground_truth(texts, shingles_of(njobs::dedup_options{}), 0.8);
    inputs = nio::expand_inputs({(dir / "corpus.jsonl").string()});
  }
};

const generated_corpus& corpus() {
  static const generated_corpus c;
  return c;
}

std::string describe(const ground_truth& g, std::size_t n) {
  std::size_t positives = 0;
  for (auto h : g.has_duplicate) positives += h;
  std::string s = std::to_string(n) + " docs, " + std::to_string(positives) + " with a near-duplicate, " +
                  std::to_string(g.pairs) + " pairs with J >= " + std::to_string(g.threshold) + " of " +
                  std::to_string(g.pairs_compared) + " compared; pairs per J decile:";
  for (auto c : g.pairs_by_decile) {
    s += ' ';
    s += std::to_string(c);
  }
  return s;
}

TEST(Accuracy, GroundTruthSpansTheThreshold) {
  const auto& c = corpus();
  const auto& g = c.truth;
  std::printf("[ corpus   ] %s\n", describe(g, c.docs.size()).c_str());
  // The generator must produce pairs on both sides of 0.8 and some far below.
  std::size_t below = 0, above = 0;
  for (std::size_t i = 5; i < 8; ++i) below += g.pairs_by_decile[i];
  for (std::size_t i = 8; i < 10; ++i) above += g.pairs_by_decile[i];
  EXPECT_GT(below, g.pairs / 4);
  EXPECT_GT(above, 50u);
  // Unrelated documents are unrelated: no J >= 0.8 across families.
  for (std::size_t d = 0; d < c.docs.size(); ++d) {
    if (c.docs[d].family < 0) {
      EXPECT_FALSE(g.has_duplicate[d]) << c.docs[d].id;
    }
  }
}

TEST(Accuracy, DefaultOptionsMeetPrecisionRecallWithoutFalseMerges) {
  const auto& c = corpus();
  temp_dir out("neardup_accuracy_out");
  const auto o = quiet_defaults();
  const auto r = njobs::run_dedup(c.inputs.sources, out.str(), o);
  ASSERT_EQ(r.kept_of.size(), c.docs.size());
  const accuracy a = score(r.kept_of, c.truth);
  std::printf("[ default  ] bands=%u rows=%u P(candidate | J=0.8)=%.3f verifications=%llu: %s\n", r.lsh.bands,
              r.lsh.rows, r.candidate_probability_at_threshold,
              static_cast<unsigned long long>(r.verifications), a.summary().c_str());
  // clusters.tsv says the same as kept_of.
  EXPECT_EQ(kept_of_from_tsv(parse_tsv_pairs(read_file(out / "clusters.tsv"))), r.kept_of);
  EXPECT_EQ(a.false_merges, 0u);
  EXPECT_GE(a.precision(), 0.99);
  EXPECT_GE(a.recall(), 0.97) << "default (bands, rows) = (" << r.lsh.bands << ", " << r.lsh.rows
                              << ") misses near-duplicates just above the threshold";
}

// Exact verification can never merge a pair below the threshold, so whatever
// (bands, rows) are, precision is 1 and there is no false merge; recall
// follows the S-curve. Prints the table the defaults are chosen from.
TEST(Accuracy, ExactVerificationNeverFalselyMergesForAnyBanding) {
  const auto& c = corpus();
  const std::vector<neardup::lsh_params> grid = {{9, 13}, {14, 9}, {16, 8}, {20, 6}, {25, 5}, {32, 4}};
  for (const auto p : grid) {
    temp_dir out("neardup_accuracy_out");
    auto o = quiet_defaults();
    o.lsh = p;
    const auto r = njobs::run_dedup(c.inputs.sources, out.str(), o);
    const accuracy a = score(r.kept_of, c.truth);
    std::printf("[ b=%2u r=%2u] P(J=0.8)=%.3f verifications=%6llu: %s\n", p.bands, p.rows,
                r.candidate_probability_at_threshold, static_cast<unsigned long long>(r.verifications),
                a.summary().c_str());
    EXPECT_EQ(a.false_merges, 0u) << p.bands << "x" << p.rows;
    EXPECT_EQ(a.false_positive, 0u) << p.bands << "x" << p.rows;
  }
}

// verify=none merges every LSH candidate: it may merge falsely, but with the
// same banding every cluster of the exact run lies inside one cluster of the
// unverified run. (Each mode's DEFAULT banding may differ.)
TEST(Accuracy, VerifyModesRefineEachOther) {
  const auto& c = corpus();
  std::vector<std::vector<neardup::doc_id>> kept;
  const auto banding = npipeline::default_lsh_params(0.8, 128, npipeline::verify_mode::exact);  // same bands for all modes
  for (const auto mode : {npipeline::verify_mode::exact, npipeline::verify_mode::estimate, npipeline::verify_mode::none}) {
    temp_dir out("neardup_accuracy_out");
    auto o = quiet_defaults();
    o.verify = mode;
    o.lsh = banding;
    const auto r = njobs::run_dedup(c.inputs.sources, out.str(), o);
    const accuracy a = score(r.kept_of, c.truth);
    std::printf("[ verify=%-8s] %s\n", std::string(neardup::name(mode)).c_str(), a.summary().c_str());
    kept.push_back(r.kept_of);
  }
  for (std::size_t d = 0; d < kept[0].size(); ++d) {
    // Same exact cluster => same unverified cluster.
    EXPECT_EQ(kept[2][d], kept[2][kept[0][d]]) << d;
  }
}

// Big families (many light edits of one base, most pairs near the threshold)
// stress the clusterer's rule of comparing a bucket member with ONE member of
// each component (cluster.hpp: clusters are not promised to be the connected
// components): a copy whose only partners above the threshold are never the
// member it is compared with stays alone. No false merge is allowed; the
// recall loss is measured and bounded.
TEST(Accuracy, LargeFamiliesNoFalseMergesAndBoundedRecallLoss) {
  corpus_spec spec;
  spec.bases = 3;
  spec.max_copies = small_scale() ? 60 : 200;
  spec.unrelated = 50;
  spec.max_edit_rate = 0.02;
  spec.chain_fraction = 0;
  spec.seed = 77;
  const auto docs = make_near_dup_corpus(spec);
  std::vector<std::string> texts;
  for (const auto& d : docs) texts.push_back(d.text);
  temp_dir dir("neardup_accuracy_big");
  write_file(dir / "c.jsonl", to_jsonl(docs));
  const auto truth = exact_ground_truth(texts, shingles_of(njobs::dedup_options{}), 0.8);
  const auto inputs = nio::expand_inputs({(dir / "c.jsonl").string()});
  const auto r = njobs::run_dedup(inputs.sources, (dir / "out").string(), quiet_defaults());
  const accuracy a = score(r.kept_of, truth);
  std::size_t components = 0;
  for (std::size_t d = 0; d < docs.size(); ++d) components += truth.component[d] == d;
  std::printf("[ families ] %s\n[ families ] %s; verifications=%llu; clusters %llu vs %zu exact components\n",
              describe(truth, docs.size()).c_str(), a.summary().c_str(),
              static_cast<unsigned long long>(r.verifications), static_cast<unsigned long long>(r.clusters),
              components);
  EXPECT_EQ(a.false_merges, 0u);
  EXPECT_EQ(a.false_positive, 0u);
  EXPECT_GE(a.recall(), 0.95);
  EXPECT_GE(r.clusters, components);
}

// ---------------------------------------------------------------- bundled sample

const std::string kSample = std::string(NEARDUP_SOURCE_DIR) + "/examples/data/sample.jsonl";
const std::string kExpected = std::string(NEARDUP_SOURCE_DIR) + "/examples/data/expected_clusters.tsv";

struct sample_docs {
  std::vector<std::string> ids, texts;
};

sample_docs read_sample() {
  const auto inputs = nio::expand_inputs({kSample});
  nio::corpus_reader reader(inputs.sources);
  nio::record_parser parser;
  nio::input_chunk chunk;
  sample_docs s;
  while (reader.next(chunk)) {
    nio::parse_chunk(chunk, {}, parser, [&](const nio::record& r) {
      if (r.status == nio::record_status::blank) return;
      if (r.status != nio::record_status::ok) throw std::runtime_error("bad record in the sample");
      s.ids.emplace_back(r.id);
      s.texts.emplace_back(r.text);
    });
  }
  return s;
}

// Ground truth of the sample: id<TAB>kept_id where kept = the first document
// (input order) of its connected component of the exact J >= 0.8 graph.
std::string expected_tsv(const sample_docs& s, const ground_truth& g) {
  std::string tsv;
  for (std::size_t d = 0; d < s.ids.size(); ++d) {
    nio::append_tsv_field(tsv, s.ids[d]);
    tsv += '\t';
    nio::append_tsv_field(tsv, s.ids[g.component[d]]);
    tsv += '\n';
  }
  return tsv;
}

TEST(Sample, ExpectedClustersFileIsTheExactGroundTruth) {
  const sample_docs s = read_sample();
  ASSERT_EQ(s.ids.size(), 438u);
  const ground_truth g = exact_ground_truth(s.texts, shingles_of(njobs::dedup_options{}), 0.8);
  std::printf("[ sample   ] %s\n", describe(g, s.ids.size()).c_str());
  const std::string tsv = expected_tsv(s, g);
  const char* regen = std::getenv("NEARDUP_REGENERATE");
  if (regen != nullptr && std::string_view(regen) == "1") {
    write_file(kExpected, tsv);
    std::printf("[ sample   ] wrote %s\n", kExpected.c_str());
  }
  EXPECT_EQ(read_file(kExpected), tsv) << "run with NEARDUP_REGENERATE=1 to rewrite " << kExpected;
}

TEST(Sample, DefaultDedupReproducesExpectedClusters) {
  const sample_docs s = read_sample();
  const ground_truth g = exact_ground_truth(s.texts, shingles_of(njobs::dedup_options{}), 0.8);
  temp_dir out("neardup_sample_out");
  const auto inputs = nio::expand_inputs({kSample});
  const auto r = njobs::run_dedup(inputs.sources, out.str(), quiet_defaults());
  const accuracy a = score(r.kept_of, g);
  std::printf("[ sample   ] default bands=%u rows=%u: %s\n", r.lsh.bands, r.lsh.rows, a.summary().c_str());
  EXPECT_EQ(a.false_merges, 0u);
  EXPECT_EQ(a.false_positive, 0u);
  EXPECT_GE(a.recall(), 0.97);
  EXPECT_EQ(read_file(out / "clusters.tsv"), read_file(kExpected));
}

}  // namespace

// neardup report (jobs/report.hpp): the page built from a dedup run's outputs
// holds every section and chart, escapes corpus text, says that it samples,
// and stays bounded in size. The browser test (report_browser_test.sh)
// opens a page like this one in headless Chromium.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/jobs/pairs.hpp"
#include "neardup/jobs/report.hpp"

namespace {

using namespace neardup_test;
namespace njobs = neardup::jobs;

std::size_t occurrences(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

struct run {
  temp_dir dir{"report"};
  std::string html;
  njobs::report_summary summary;
};

// A corpus with near duplicates and a document (and its edited copy) full of
// markup, then dedup and report.
void make_run(run& r, std::size_t bases, std::size_t unrelated, bool near = true, njobs::report_options ro = {}) {
  corpus_spec spec;
  spec.bases = bases;
  spec.unrelated = unrelated;
  spec.max_edit_rate = 0.12;
  auto docs = make_near_dup_corpus(spec);
  std::string evil = "<script>alert('x')</script> <img src=x onerror=alert(1)> & \"quoted\" ";
  for (int i = 0; i < 60; ++i) evil += "word" + std::to_string(i) + " ";
  docs.push_back({"<b>evil-id</b>", evil, -1});
  docs.push_back({"evil-copy", evil + "<script>more()</script>", -1});
  write_file(r.dir / "in.jsonl", to_jsonl(docs));
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  o.threshold = 0.7;
  o.near = near;
  o.evidence.near_misses = 200;
  const auto inputs = neardup::io::expand_inputs({(r.dir / "in.jsonl").string()});
  njobs::run_dedup(inputs.sources, (r.dir / "out").string(), o);
  r.summary = njobs::write_report((r.dir / "out").string(), (r.dir / "out" / "report.html").string(), ro);
  r.html = read_file(r.dir / "out" / "report.html");
}

TEST(Report, ShowsEverySectionWithCharts) {
  run r;
  make_run(r, 60, 60);
  const std::string& h = r.html;
  EXPECT_EQ(r.summary.bytes, h.size());
  EXPECT_EQ(r.summary.texts_missing, 0u);
  EXPECT_GT(r.summary.documents_shown, 10u);
  for (const char* id : {"glance", "s-curve", "similarity", "cluster-sizes", "largest", "near-threshold", "near-misses",
                         "sources"}) {
    EXPECT_NE(h.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;
  }
  for (const char* chart : {"chart docs", "chart stages", "chart s-curve", "chart similarity", "chart sizes", "chart sources"}) {
    EXPECT_EQ(occurrences(h, std::string("<svg class=\"") + chart + "\""), 1u) << chart;
  }
  EXPECT_GT(occurrences(h, "<div class=\"pair\">"), 8u);
  EXPECT_GT(occurrences(h, "<mark>"), 0u) << "differing words are highlighted";
  EXPECT_NE(h.find("This page samples"), std::string::npos);
  EXPECT_NE(h.find("exact Jaccard 0."), std::string::npos);
  EXPECT_EQ(h.find("http://") == std::string::npos ? 0 : occurrences(h, "http://"),
            occurrences(h, "xmlns=\"http://www.w3.org/2000/svg\""))
      << "no link out of the page except the SVG namespace";
}

TEST(Report, CorpusTextIsEscaped) {
  run r;
  njobs::report_options all;
  all.near_threshold_shown = 10000;  // every near removal, the markup document's copy among them
  make_run(r, 20, 20, true, all);
  const std::string& h = r.html;
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("<img"), std::string::npos);
  EXPECT_EQ(h.find("<b>evil-id"), std::string::npos);
  EXPECT_NE(h.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos)
      << "the markup document is shown, as text";
  EXPECT_NE(h.find("&lt;b&gt;evil-id&lt;/b&gt;"), std::string::npos);
}

TEST(Report, StaysSmallForALargerRun) {
  run small, large;
  make_run(small, 30, 30);
  make_run(large, small_scale() ? 300 : 1500, small_scale() ? 300 : 1500);
  // The examples shown are bounded by the options; only the tables grow (a little).
  const njobs::report_options o;
  const std::size_t most = o.largest_clusters * o.members_shown + o.near_threshold_shown + o.near_misses_shown;
  EXPECT_LE(occurrences(large.html, "<div class=\"pair\">"), most);
  EXPECT_LE(occurrences(small.html, "<div class=\"pair\">"), most);
  EXPECT_LT(large.html.size(), 400u * 1024);
  EXPECT_LT(large.html.size(), small.html.size() * 3);
}

TEST(Report, ExactOnlyRun) {
  run r;
  make_run(r, 20, 20, false);
  EXPECT_NE(r.html.find("Not a near-duplicate run"), std::string::npos);
  EXPECT_NE(r.html.find("<section id=\"largest\""), std::string::npos);
}

TEST(Report, EvalRunShowsPrecisionAndRecall) {
  temp_dir dir("report");
  corpus_spec spec;
  spec.bases = 30;
  spec.unrelated = 30;
  write_file(dir / "in.jsonl", to_jsonl(make_near_dup_corpus(spec)));
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  const auto inputs = neardup::io::expand_inputs({(dir / "in.jsonl").string()});
  const njobs::eval_report ev = njobs::run_eval(inputs.sources, (dir / "out").string(), o);
  const std::string h = njobs::render_report((dir / "out").string());
  EXPECT_NE(h.find("<section id=\"eval\">"), std::string::npos);
  char precision[32];
  std::snprintf(precision, sizeof precision, "%.4f", ev.precision);
  EXPECT_NE(h.find(std::string("<b>") + precision + "</b><span>precision"), std::string::npos);
}

// An eval run without verification and with a loose banding merges clusters
// falsely: false_merges.tsv lists the documents outside their kept
// document's exact component, and the page shows them beside it, with their
// exact Jaccard (below the threshold: they are not even one >= T pair).
TEST(Report, EvalRunShowsFalseMergesWithTheirDocuments) {
  temp_dir dir("report");
  corpus_spec spec;
  spec.bases = 40;
  spec.unrelated = 40;
  spec.max_edit_rate = 0.3;
  write_file(dir / "in.jsonl", to_jsonl(make_near_dup_corpus(spec)));
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  o.threshold = 0.9;
  o.verify = neardup::pipeline::verify_mode::none;
  o.lsh = neardup::lsh_params{32, 2};
  const auto inputs = neardup::io::expand_inputs({(dir / "in.jsonl").string()});
  const njobs::eval_report ev = njobs::run_eval(inputs.sources, (dir / "out").string(), o);
  ASSERT_GT(ev.false_merge_clusters, 0u);
  ASSERT_GT(ev.false_merges_listed, 0u);
  EXPECT_LE(ev.false_merges_listed, ev.false_merge_documents);
  const std::string tsv = read_file(dir / "out" / "false_merges.tsv");
  EXPECT_EQ(tsv.rfind("id\tkept_id\tdoc\tkept_doc\n", 0), 0u);
  EXPECT_EQ(occurrences(tsv, "\n"), ev.false_merges_listed + 1);
  njobs::report_options ro;
  ro.false_merges_shown = 3;
  const std::string h = njobs::render_report((dir / "out").string(), ro);
  const std::size_t at = h.find("<section id=\"false-merges\">");
  ASSERT_NE(at, std::string::npos);
  const std::string section = h.substr(at, h.find("</section>", at) - at);
  const std::size_t shown = std::min<std::size_t>(3, ev.false_merges_listed);
  EXPECT_EQ(occurrences(section, "<div class=\"pair\">"), shown);
  EXPECT_EQ(occurrences(section, "falsely merged"), shown);
  // Each shown pair has its exact Jaccard, under the threshold.
  const std::string_view mark = "<span class=\"kind\">exact Jaccard ";
  for (std::size_t p = section.find(mark); p != std::string::npos; p = section.find(mark, p + 1)) {
    EXPECT_LT(std::stod(section.substr(p + mark.size(), 6)), 0.9);
  }
  EXPECT_EQ(occurrences(section, mark), shown);
  EXPECT_NE(h.find("href=\"#false-merges\""), std::string::npos);
}

// A run over a relative input path, reported from another directory, still
// finds the texts: sources.tsv holds the absolute path.
TEST(Report, FindsTextsFromAnotherDirectory) {
  temp_dir dir("report");
  corpus_spec spec;
  spec.bases = 20;
  spec.unrelated = 10;
  std::filesystem::create_directories(dir / "work");
  std::filesystem::create_directories(dir / "elsewhere");
  write_file(dir / "work" / "in.jsonl", to_jsonl(make_near_dup_corpus(spec)));
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(dir / "work");
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  njobs::run_dedup(neardup::io::expand_inputs({"in.jsonl"}).sources, "out", o);
  const std::string sources = read_file(dir / "work" / "out" / "sources.tsv");
  std::filesystem::current_path(dir / "elsewhere");
  njobs::report_summary summary;
  const std::string h = njobs::render_report((dir / "work" / "out").string(), {}, &summary);
  std::filesystem::current_path(before);
  EXPECT_NE(sources.find("in.jsonl\t" + (dir / "work" / "in.jsonl").lexically_normal().string() + "\t"),
            std::string::npos) << sources;
  EXPECT_GT(summary.documents_shown, 0u);
  EXPECT_EQ(summary.texts_missing, 0u);
}

TEST(Report, MissingRunDirectoryNamesTheFile) {
  temp_dir d("report");
  try {
    njobs::render_report((d / "nothing").string());
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("stats.json"), std::string::npos);
  }
}

}  // namespace

// End-to-end tests of run_dedup (include/neardup/jobs/dedup.hpp) through its
// files: clusters.tsv, deduped.jsonl[.zst], stats.json. Every bad-input case
// of the dedup issue has a test here; the CLI is covered by cli_test and
// accuracy by accuracy_test.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "corpus_gen.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/io/input.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"
#include "neardup/utf8.hpp"
// The write stage alone (to change an input between pass 1 and the write).
#include "../src/jobs/corpus_passes.hpp"

namespace {

using namespace neardup_test;
namespace nio = neardup::io;
namespace njobs = neardup::jobs;
namespace npipeline = neardup::pipeline;

// ---------------------------------------------------------------- helpers

njobs::dedup_options quiet() {
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  o.return_clusters = true;
  return o;
}

struct run_output {
  njobs::dedup_report report;
  std::string tsv, jsonl, stats;
  std::vector<std::pair<std::string, std::string>> rows;
};

run_output run(const std::vector<std::string>& inputs, const fs::path& out, const njobs::dedup_options& o) {
  const auto expanded = nio::expand_inputs(std::span<const std::string>(inputs));
  run_output r;
  r.report = njobs::run_dedup(expanded.sources, out.string(), o);
  r.tsv = read_file(out / "clusters.tsv");
  r.jsonl = read_file(out / (o.compression == nio::output_compression::zstd ? "deduped.jsonl.zst" : "deduped.jsonl"));
  r.stats = read_file(out / "stats.json");
  r.rows = parse_tsv_pairs(r.tsv);
  return r;
}

// The value after "key": of the first key of `path` found in order, e.g.
// stat(s, {"documents", "skipped"}). stats.json is written with one
// "key": value per line.
std::string stat(const std::string& json, std::initializer_list<std::string_view> path) {
  std::size_t pos = 0;
  for (const auto key : path) {
    std::string quoted(1, '"');
    quoted += key;
    quoted += "\":";
    pos = json.find(quoted, pos);
    if (pos == std::string::npos) return std::string("<missing ").append(key).append(">");
    pos += key.size() + 3;
  }
  while (pos < json.size() && json[pos] == ' ') ++pos;
  std::size_t end = pos;
  while (end < json.size() && json[end] != ',' && json[end] != '\n') ++end;
  return json.substr(pos, end - pos);
}

// stats.json without what may differ between equal runs: the "seconds" and
// "memory" objects, peak RSS, thread count, kernel name.
std::string stable_stats(const std::string& json) {
  std::string out;
  std::size_t begin = 0;
  bool in_seconds = false;
  while (begin < json.size()) {
    std::size_t end = json.find('\n', begin);
    if (end == std::string::npos) end = json.size();
    const std::string line = json.substr(begin, end - begin);
    begin = end + 1;
    if (line.find("\"seconds\":") != std::string::npos || line.find("\"memory\":") != std::string::npos) {
      in_seconds = true;
    }
    if (in_seconds) {
      if (line.find('}') != std::string::npos) in_seconds = false;
      continue;
    }
    if (line.find("\"peak_rss_bytes\"") != std::string::npos || line.find("\"threads\"") != std::string::npos ||
        line.find("\"kernel\"") != std::string::npos) {
      continue;
    }
    out += line;
    out += '\n';
  }
  return out;
}

std::string words_text(std::uint64_t seed, std::size_t count) {
  static const zipf_vocabulary vocab;
  rng r(seed);
  return join_words(random_words(vocab, r, count));
}

// `text` with its i-th word replaced (a near duplicate: J ~ (W-5)/(W+5)).
std::string replace_word(const std::string& text, std::size_t i, std::string_view by) {
  std::size_t begin = 0;
  for (std::size_t w = 0; w < i; ++w) begin = text.find(' ', begin) + 1;
  std::size_t end = text.find(' ', begin);
  if (end == std::string::npos) end = text.size();
  return text.substr(0, begin) + std::string(by) + text.substr(end);
}

std::string lines_of(std::initializer_list<std::string_view> lines) {
  std::string s;
  for (auto l : lines) {
    s += l;
    s += '\n';
  }
  return s;
}

// ---------------------------------------------------------------- outputs

TEST(DedupOutputs, ClustersDedupedAndStatsOfASmallCorpus) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(1, 200), b = words_text(2, 200), c = words_text(3, 200);
  const std::string a_near = replace_word(a, 100, "zzzz");
  const std::string input = lines_of({
      json_line("a", a),
      json_line("b", b),
      "",
      json_line("a_near", a_near),
      json_line("a_exact", a),
      json_line("c", c),
      R"({"text": "totally short", "id": "s", "extra": [1, 2, {"x": null}]})",
  });
  write_file(dir / "in.jsonl", input);
  const auto r = run({(dir / "in.jsonl").string()}, dir / "out", quiet());

  EXPECT_EQ(r.tsv, "a\ta\nb\tb\na_near\ta\na_exact\ta\nc\tc\ns\ts\n");
  EXPECT_EQ(r.jsonl, lines_of({json_line("a", a), json_line("b", b), json_line("c", c),
                               R"({"text": "totally short", "id": "s", "extra": [1, 2, {"x": null}]})"}));
  EXPECT_EQ(r.report.kept_of, (std::vector<neardup::doc_id>{0, 1, 0, 0, 4, 5}));
  EXPECT_EQ(r.report.documents, 6u);
  EXPECT_EQ(r.report.blank_lines, 1u);
  EXPECT_EQ(r.report.kept, 4u);
  EXPECT_EQ(r.report.removed_exact, 1u);
  EXPECT_EQ(r.report.removed_near, 1u);
  EXPECT_EQ(r.report.clusters, 4u);
  EXPECT_EQ(r.report.largest_cluster, 3u);
  EXPECT_EQ(r.report.largest_cluster_kept_id, "a");

  // stats.json: the counts, histogram, parameters with the chosen (b, r) and
  // the S-curve at the threshold, seconds per stage.
  const auto& s = r.stats;
  EXPECT_EQ(stat(s, {"documents", "read"}), "6");
  EXPECT_EQ(stat(s, {"documents", "kept"}), "4");
  EXPECT_EQ(stat(s, {"documents", "skipped"}), "0");
  EXPECT_EQ(stat(s, {"documents", "blank_lines"}), "1");
  EXPECT_EQ(stat(s, {"clusters", "count"}), "4");
  EXPECT_EQ(stat(s, {"clusters", "largest", "size"}), "3");
  EXPECT_EQ(stat(s, {"clusters", "largest", "kept_id"}), "\"a\"");
  EXPECT_EQ(stat(s, {"size_histogram", "1"}), "3");
  EXPECT_EQ(stat(s, {"size_histogram", "3"}), "1");
  EXPECT_EQ(stat(s, {"parameters", "threshold"}), "0.8");
  EXPECT_EQ(stat(s, {"parameters", "bands"}), std::to_string(r.report.lsh.bands));
  EXPECT_EQ(stat(s, {"parameters", "rows"}), std::to_string(r.report.lsh.rows));
  EXPECT_EQ(stat(s, {"parameters", "num_perm"}), "128");
  EXPECT_EQ(stat(s, {"parameters", "ngram"}), "5");
  EXPECT_EQ(stat(s, {"parameters", "verify"}), "\"exact\"");
  EXPECT_EQ(stat(s, {"parameters", "keep"}), "\"first\"");
  EXPECT_NE(stat(s, {"parameters", "candidate_probability_at_threshold"}).find('.'), std::string::npos);
  EXPECT_NE(s.find("\"s_curve\""), std::string::npos);
  for (const char* stage : {"sign", "exact", "cluster", "write", "total"}) {
    EXPECT_NE(stat(s, {"seconds", stage}).find_first_of("0123456789"), std::string::npos) << stage;
  }
  // Every set was kept by pass 1: one grouping of the bands found the
  // candidates and the clusters together.
  EXPECT_EQ(s.find("\"candidates\":"), std::string::npos);
  EXPECT_EQ(stat(s, {"lsh", "candidate_documents"}), "2");  // a and a_near (a_exact is left out)
  // No temporary file is left behind.
  EXPECT_EQ(list_dir(dir / "out"), (std::vector<std::string>{"clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "sources.tsv", "stats.json"}));
}

TEST(DedupOutputs, RerunReplacesEarlierOutputs) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(5, 100);
  write_file(dir / "in.jsonl", lines_of({json_line("x", a), json_line("y", a)}));
  write_file(dir / "out" / "clusters.tsv", "stale\tstale\n");
  write_file(dir / "out" / "stats.json", "{}");
  const auto r = run({(dir / "in.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.tsv, "x\tx\ny\tx\n");
  EXPECT_EQ(stat(r.stats, {"documents", "read"}), "2");
  EXPECT_EQ(list_dir(dir / "out"), (std::vector<std::string>{"clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "sources.tsv", "stats.json"}));
}

TEST(DedupOutputs, ZstdOutputDecompressesToTheUncompressedBytes) {
  temp_dir dir("neardup_dedup");
  const auto docs = make_near_dup_corpus({.bases = 20, .max_copies = 3, .unrelated = 20, .seed = 7});
  write_file(dir / "in.jsonl", to_jsonl(docs));
  const auto plain = run({(dir / "in.jsonl").string()}, dir / "plain", quiet());
  auto o = quiet();
  o.compression = nio::output_compression::zstd;
  const auto packed = run({(dir / "in.jsonl").string()}, dir / "zst", o);
  EXPECT_EQ(list_dir(dir / "zst"), (std::vector<std::string>{"clusters.tsv", "deduped.jsonl.zst", "evidence.tsv", "near_misses.tsv", "sources.tsv", "stats.json"}));
  EXPECT_LT(packed.jsonl.size(), plain.jsonl.size());
  EXPECT_EQ(zstd_decompress(packed.jsonl), plain.jsonl);
  EXPECT_EQ(packed.tsv, plain.tsv);
}

TEST(DedupOutputs, KeepLongestKeepsTheLongestOfEachCluster) {
  temp_dir dir("neardup_dedup");
  const std::string base = words_text(11, 300);
  const std::string longer = base + " " + words_text(12, 10);        // J ~ 0.97
  const std::string longest = longer + " " + words_text(13, 10);     // J ~ 0.94 to longer
  const std::string other = words_text(14, 300);
  const std::string other_tie = replace_word(other, 150, "qqqq");  // equal lengths: the first is kept
  const std::string other_tie2 = replace_word(other, 150, "rrrr");
  write_file(dir / "in.jsonl", lines_of({json_line("base", base), json_line("o1", other_tie),
                                         json_line("longer", longer), json_line("o2", other_tie2),
                                         json_line("longest", longest)}));
  auto o = quiet();
  o.keep = npipeline::keep_policy::longest;
  const auto r = run({(dir / "in.jsonl").string()}, dir / "out", o);
  EXPECT_EQ(r.tsv, "base\tlongest\no1\to1\nlonger\tlongest\no2\to1\nlongest\tlongest\n");
  EXPECT_EQ(r.jsonl, lines_of({json_line("o1", other_tie), json_line("longest", longest)}));
  EXPECT_EQ(stat(r.stats, {"parameters", "keep"}), "\"longest\"");
  EXPECT_EQ(r.report.largest_cluster_kept_id, "longest");

  const auto first = run({(dir / "in.jsonl").string()}, dir / "first", quiet());
  EXPECT_EQ(first.tsv, "base\tbase\no1\to1\nlonger\tbase\no2\to1\nlongest\tbase\n");
}

TEST(DedupOutputs, EveryVerifyModeRuns) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(21, 200);
  write_file(dir / "in.jsonl", lines_of({json_line("a", a), json_line("b", replace_word(a, 7, "zz")),
                                         json_line("c", words_text(22, 200))}));
  for (const auto mode : {npipeline::verify_mode::none, npipeline::verify_mode::estimate, npipeline::verify_mode::exact}) {
    auto o = quiet();
    o.verify = mode;
    const std::string name(neardup::name(mode));
    const auto r = run({(dir / "in.jsonl").string()}, dir / name, o);
    EXPECT_EQ(r.tsv, "a\ta\nb\ta\nc\tc\n") << name;
    EXPECT_EQ(stat(r.stats, {"parameters", "verify"}), "\"" + name + "\"");
    if (mode == npipeline::verify_mode::none) {
      EXPECT_EQ(r.report.verifications, 0u);
    } else {
      EXPECT_GE(r.report.verified, 1u) << name;
    }
  }
  // No exact-first collapse: the same clusters.
  auto o = quiet();
  o.exact_first = false;
  write_file(dir / "in2.jsonl", lines_of({json_line("a", a), json_line("b", a), json_line("c", replace_word(a, 7, "zz"))}));
  const auto r = run({(dir / "in2.jsonl").string()}, dir / "noexact", o);
  EXPECT_EQ(r.tsv, "a\ta\nb\ta\nc\ta\n");
  EXPECT_EQ(r.report.removed_exact, 1u);
  EXPECT_EQ(r.report.removed_near, 1u);
}

// ---------------------------------------------------------------- bad records

TEST(DedupBadInput, BadRecordsAreSkippedCountedAndKeptUnchanged) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(31, 120);
  const std::vector<std::string> lines = {
      json_line("a", a),
      R"({"id": "broken", "text": "unterminated)",  // 2 malformed
      R"({"id": "m1", "body": "no text field"})",   // 3 missing text
      R"({"id": "n1", "text": 42})",                // 4 text is a number
      R"({"id": "n2", "text": ["x", "y"]})",        // 5 text is an array
      R"({"id": "n3", "text": {"t": "x"}})",        // 6 text is an object
      R"({"id": "nul", "text": null})",             // 7 null text = missing
      R"([1, 2, 3])",                               // 8 not an object
      R"(not json at all)",                         // 9 malformed
      json_line("a2", a),                           // 10 exact duplicate of a
      R"({"id": "m1", "body": "no text field"})",   // 11 same bad line again: kept again
  };
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  write_file(dir / "bad.jsonl", input);
  const auto r = run({(dir / "bad.jsonl").string()}, dir / "out", quiet());

  EXPECT_EQ(r.report.documents, 11u);
  EXPECT_EQ(r.report.skipped, 9u);
  EXPECT_EQ(r.report.skipped_malformed_json, 2u);
  EXPECT_EQ(r.report.skipped_missing_text, 3u);
  EXPECT_EQ(r.report.skipped_text_not_string, 3u);
  EXPECT_EQ(r.report.skipped_not_object, 1u);
  EXPECT_EQ(r.report.kept, 10u);
  EXPECT_EQ(stat(r.stats, {"documents", "skipped"}), "9");
  EXPECT_EQ(stat(r.stats, {"skipped_by_reason", "malformed_json"}), "2");
  EXPECT_EQ(stat(r.stats, {"skipped_by_reason", "missing_text"}), "3");
  EXPECT_EQ(stat(r.stats, {"skipped_by_reason", "text_not_string"}), "3");
  EXPECT_EQ(stat(r.stats, {"skipped_by_reason", "not_object"}), "1");

  // Every bad line is in deduped.jsonl byte for byte, in input order.
  std::string expected;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != 9) expected += lines[i] + "\n";
  }
  EXPECT_EQ(r.jsonl, expected);
  // Each bad record is its own cluster (ids: the id field, or FILE:LINE).
  ASSERT_EQ(r.rows.size(), 11u);
  const std::string src = (dir / "bad.jsonl").string();
  for (std::size_t i = 1; i < 9; ++i) EXPECT_EQ(r.rows[i].first, r.rows[i].second) << i;
  EXPECT_EQ(r.rows[2].first, "m1");
  EXPECT_EQ(r.rows[8].first, src + ":9");
  EXPECT_EQ(r.rows[9], (std::pair<std::string, std::string>{"a2", "a"}));
  EXPECT_EQ(r.rows[10], (std::pair<std::string, std::string>{"m1@" + src + ":11", "m1@" + src + ":11"}));
  EXPECT_EQ(r.report.duplicate_ids, 1u);  // m1 twice
}

TEST(DedupBadInput, BlankLinesBomAndCrlf) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(41, 80), b = words_text(42, 80);
  const std::string bom = "\xEF\xBB\xBF";
  const std::string input = bom + json_line("a", a) + "\r\n" + "\r\n" + "   \t\r\n" + json_line("b", b) + "\r\n" +
                            "\n" + json_line("a_again", a) + "\r\n" + json_line("b_again", b);  // no final newline
  write_file(dir / "crlf.jsonl", input);
  const auto r = run({(dir / "crlf.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.report.documents, 4u);
  EXPECT_EQ(r.report.blank_lines, 3u);
  EXPECT_EQ(r.report.skipped, 0u);
  EXPECT_EQ(r.tsv, "a\ta\nb\tb\na_again\ta\nb_again\tb\n");
  // Kept lines byte for byte: the BOM and the CRs stay.
  EXPECT_EQ(r.jsonl, bom + json_line("a", a) + "\r\n" + json_line("b", b) + "\r\n");
}

TEST(DedupBadInput, InvalidUtf8AndLoneSurrogatesAreRepairedAndKeptRaw) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(51, 100);
  const std::string bad_utf8 = "{\"id\":\"u\",\"text\":\"" + a + " caf\xC3 na\xFF\xFEve \xED\xA0\x80 end\"}";
  const std::string surrogate = "{\"id\":\"s\",\"text\":\"" + a + " lone \\ud800 and \\udfff x\"}";
  const std::string bad_id = "{\"id\":\"id\xFF\",\"text\":\"hello there\"}";
  const std::string input = bad_utf8 + "\n" + surrogate + "\n" + bad_utf8 + "\n" + bad_id + "\n";
  write_file(dir / "utf.jsonl", input);
  const auto r = run({(dir / "utf.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.report.documents, 4u);
  EXPECT_EQ(r.report.skipped, 0u);
  EXPECT_EQ(r.report.repaired_invalid_utf8, 3u);
  EXPECT_EQ(r.report.repaired_lone_surrogate, 1u);
  EXPECT_EQ(stat(r.stats, {"repaired", "invalid_utf8"}), "3");
  EXPECT_EQ(stat(r.stats, {"repaired", "lone_surrogate"}), "1");
  // The two equal broken lines are exact duplicates; the surrogate doc differs
  // in a few words only: J >= 0.8 with the first.
  EXPECT_EQ(r.report.kept_of, (std::vector<neardup::doc_id>{0, 0, 0, 3}));
  EXPECT_EQ(r.jsonl, bad_utf8 + "\n" + bad_id + "\n");
  EXPECT_EQ(r.rows[3].first, "id\xEF\xBF\xBD");  // id repaired to U+FFFD
}

TEST(DedupBadInput, ControlCharactersInStringsAreAccepted) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(55, 100);
  const std::string raw_tab = "{\"id\":\"t\",\"text\":\"" + a + "\tand\x01more\"}";
  write_file(dir / "c.jsonl", raw_tab + "\n" + raw_tab + "\n");
  const auto r = run({(dir / "c.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.report.skipped, 0u);
  EXPECT_EQ(r.report.repaired_control_chars, 2u);
  EXPECT_EQ(r.jsonl, raw_tab + "\n");
}

TEST(DedupBadInput, EmptyAndShortDocuments) {
  temp_dir dir("neardup_dedup");
  write_file(dir / "e.jsonl", lines_of({
                                  R"({"id":"e1","text":""})",
                                  R"({"id":"e2","text":""})",
                                  R"({"id":"w1","text":"   \n\t  "})",
                                  R"({"id":"s1","text":"hello world"})",
                                  R"({"id":"s2","text":"Hello   WORLD"})",
                                  R"({"id":"s3","text":"hello world again"})",
                                  R"({"id":"one","text":"x"})",
                              }));
  const auto r = run({(dir / "e.jsonl").string()}, dir / "out", quiet());
  // Empty documents are never duplicates of each other; short documents are
  // one shingle of all their tokens (equal token lists: duplicates).
  EXPECT_EQ(r.tsv, "e1\te1\ne2\te2\nw1\tw1\ns1\ts1\ns2\ts1\ns3\ts3\none\tone\n");
  EXPECT_EQ(r.report.empty_documents, 3u);
  EXPECT_EQ(r.report.short_documents, 4u);
  EXPECT_EQ(stat(r.stats, {"documents", "empty"}), "3");
  EXPECT_EQ(stat(r.stats, {"documents", "shorter_than_ngram"}), "4");
  EXPECT_EQ(r.report.kept, 6u);
}

// Chinese has no spaces: with default word tokens each Han character is a
// token, so a 3-character edit of a 150-character text (real translated
// messages, tests/data/unspaced/SOURCES.md) is a near duplicate, an unrelated
// text is not, and no document is shorter than a 5-gram.
TEST(DedupUnspaced, ChineseEditOfThreeCharactersIsANearDuplicate) {
  // The Chinese of the sample in file order: its CJK code points, without
  // the ASCII format strings and line breaks.
  const std::string sample = read_file(fs::path(NEARDUP_TEST_DATA_DIR) / "data" / "unspaced" / "zh_CN.txt");
  std::vector<std::string> chars;
  for (std::size_t i = 0; i < sample.size();) {
    const auto d = neardup::utf8::decode(sample, i);
    if (neardup::is_unspaced_script(d.code_point)) chars.push_back(sample.substr(i, d.length));
    i += d.length;
  }
  ASSERT_GE(chars.size(), 300u);
  const auto join = [&](std::size_t from, std::size_t n) {
    std::string t;
    for (std::size_t i = from; i < from + n; ++i) t += chars[i];
    return t;
  };
  const std::string original = join(0, 150);
  std::string edited = join(0, 75) + "\u7f16\u8f91\u8fc7" + join(78, 72);  // 3 characters replaced
  const std::string other = join(150, 150);
  temp_dir dir("neardup_dedup");
  write_file(dir / "zh.jsonl", lines_of({
                                   R"({"id":"a","text":")" + original + R"("})",
                                   R"({"id":"b","text":")" + edited + R"("})",
                                   R"({"id":"c","text":")" + other + R"("})",
                               }));
  const auto r = run({(dir / "zh.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.tsv, "a\ta\nb\ta\nc\tc\n");
  EXPECT_EQ(r.report.short_documents, 0u);
  EXPECT_EQ(stat(r.stats, {"documents", "shorter_than_ngram"}), "0");
}

TEST(DedupBadInput, OnlyBadOrEmptyInputStillWritesOutputs) {
  temp_dir dir("neardup_dedup");
  write_file(dir / "empty.jsonl", "");
  write_file(dir / "blank.jsonl", "\n\n  \n");
  const auto r = run({(dir / "empty.jsonl").string(), (dir / "blank.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.report.documents, 0u);
  EXPECT_EQ(r.report.blank_lines, 3u);
  EXPECT_EQ(r.tsv, "");
  EXPECT_EQ(r.jsonl, "");
  EXPECT_EQ(stat(r.stats, {"clusters", "count"}), "0");
  // An empty zstd output is still a valid (empty) frame.
  auto o = quiet();
  o.compression = nio::output_compression::zstd;
  const auto z = run({(dir / "empty.jsonl").string()}, dir / "zst", o);
  EXPECT_FALSE(z.jsonl.empty());
  EXPECT_EQ(zstd_decompress(z.jsonl), "");
}

TEST(DedupBadInput, HugeSingleLine) {
  // One line of ~50 MB (2 MB under NEARDUP_TEST_SCALE=small) and a pair of
  // near-duplicate lines of a tenth of that (exact verification reads both).
  temp_dir dir("neardup_dedup");
  const std::size_t target = small_scale() ? (std::size_t{2} << 20) : (std::size_t{50} << 20);
  static const zipf_vocabulary vocab;
  rng g(61);
  auto big_text = [&](std::size_t bytes) {
    std::string t;
    t.reserve(bytes + 16);
    while (t.size() < bytes) {
      t += vocab.draw(g);
      t += ' ';
    }
    return t;
  };
  const std::string big_line = json_line("big", big_text(target));
  const std::string mid = big_text(target / 10);
  std::string mid_near = mid;
  mid_near.replace(mid.size() / 2, 3, "QQQ");  // a few shingles change
  const std::string small_a = words_text(62, 100);
  write_file(dir / "big.jsonl", json_line("s", small_a) + "\n" + big_line + "\n" + json_line("mid", mid) + "\n" +
                                    json_line("s2", small_a) + "\n" + json_line("mid_near", mid_near));
  const auto r = run({(dir / "big.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.tsv, "s\ts\nbig\tbig\nmid\tmid\ns2\ts\nmid_near\tmid\n");
  EXPECT_EQ(r.jsonl, json_line("s", small_a) + "\n" + big_line + "\n" + json_line("mid", mid) + "\n");
  EXPECT_EQ(r.report.removed_near, 1u);
  EXPECT_EQ(r.report.removed_exact, 1u);
}

// ---------------------------------------------------------------- I/O errors

// A failed run leaves no finished-looking output (and no temporary file) in a
// fresh OUTDIR.
void expect_fails_cleanly(const std::vector<std::string>& inputs, const fs::path& out, std::string_view name) {
  std::string message;
  try {
    const auto expanded = nio::expand_inputs(std::span<const std::string>(inputs));
    njobs::run_dedup(expanded.sources, out.string(), quiet());
    ADD_FAILURE() << "no error for " << name;
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find(name), std::string::npos) << message;
  EXPECT_EQ(list_dir(out), std::vector<std::string>{}) << name;
}

TEST(DedupIoErrors, TruncatedGzipAndZstd) {
  temp_dir dir("neardup_dedup");
  const auto docs = make_near_dup_corpus({.bases = 30, .max_copies = 2, .unrelated = 30, .seed = 3});
  const std::string data = to_jsonl(docs);
  write_file(dir / "good.jsonl", data);
  const std::string gz = gzip(data), zs = zstd_compress(data);
  write_file(dir / "cut.jsonl.gz", gz.substr(0, gz.size() / 2));
  write_file(dir / "cut.jsonl.zst", zs.substr(0, zs.size() / 2));
  write_file(dir / "tail.jsonl.gz", gz.substr(0, gz.size() - 3));
  write_file(dir / "garbage.jsonl.gz", gz + "garbage");
  for (const char* name : {"cut.jsonl.gz", "cut.jsonl.zst", "tail.jsonl.gz", "garbage.jsonl.gz"}) {
    // The good file first: the error comes after documents were read.
    expect_fails_cleanly({(dir / "good.jsonl").string(), (dir / name).string()}, dir / (std::string("out_") + name),
                         name);
  }
}

TEST(DedupIoErrors, MissingAndUnreadableInputs) {
  temp_dir dir("neardup_dedup");
  write_file(dir / "good.jsonl", json_line("a", "alpha beta gamma delta epsilon zeta") + "\n");
  expect_fails_cleanly({(dir / "good.jsonl").string(), (dir / "nope.jsonl").string()}, dir / "out1", "nope.jsonl");
  // /proc/self/mem cannot be read at offset 0 (EIO), even by root.
  expect_fails_cleanly({(dir / "good.jsonl").string(), "/proc/self/mem"}, dir / "out2", "/proc/self/mem");
  if (::geteuid() != 0) {
    write_file(dir / "locked.jsonl", "{}\n");
    ::chmod((dir / "locked.jsonl").c_str(), 0);
    expect_fails_cleanly({(dir / "locked.jsonl").string()}, dir / "out3", "locked.jsonl");
  }
}

TEST(DedupIoErrors, InvalidSettingsThrowBeforeWriting) {
  temp_dir dir("neardup_dedup");
  write_file(dir / "in.jsonl", json_line("a", "alpha beta gamma delta epsilon zeta") + "\n");
  const auto inputs = nio::expand_inputs({(dir / "in.jsonl").string()});
  auto expect_invalid = [&](const std::function<void(njobs::dedup_options&)>& set, std::string_view what) {
    auto o = quiet();
    set(o);
    try {
      njobs::run_dedup(inputs.sources, (dir / "bad").string(), o);
      ADD_FAILURE() << "accepted " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "bad" / "clusters.tsv")) << what;
  };
  expect_invalid([](auto& o) { o.threshold = 0; }, "threshold");
  expect_invalid([](auto& o) { o.threshold = 1.5; }, "threshold");
  expect_invalid([](auto& o) { o.ngram = 0; }, "ngram");
  expect_invalid([](auto& o) { o.lsh = neardup::lsh_params{20, 10}; }, "200");  // 20*10 > 128
  expect_invalid([](auto& o) { o.records.text_field.clear(); }, "text field");
  expect_invalid([](auto& o) { o.reader.chunk_bytes = 0; }, "chunk_bytes");
}

TEST(DedupIoErrors, OutputDirectoryThatIsAFileIsAnError) {
  temp_dir dir("neardup_dedup");
  write_file(dir / "in.jsonl", json_line("a", "alpha beta gamma delta epsilon zeta") + "\n");
  write_file(dir / "taken", "a file");
  const auto inputs = nio::expand_inputs({(dir / "in.jsonl").string()});
  try {
    njobs::run_dedup(inputs.sources, (dir / "taken").string(), quiet());
    ADD_FAILURE() << "wrote into a file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("taken"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(dir / "taken"), "a file");
}

TEST(DedupOptions, ThresholdOneMergesOnlyEqualShingleSets) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(71, 150);
  write_file(dir / "in.jsonl", lines_of({json_line("a", a), json_line("near", replace_word(a, 3, "zz")),
                                         json_line("same", "  " + a)}));
  auto o = quiet();
  o.threshold = 1.0;
  const auto r = run({(dir / "in.jsonl").string()}, dir / "out", o);
  EXPECT_EQ(r.tsv, "a\ta\nnear\tnear\nsame\ta\n");
  EXPECT_EQ(r.report.candidate_probability_at_threshold, 1.0);
}

TEST(DedupOptions, FewPermutationsOrLowThresholdsStillRun) {
  // The default banding aims at P(candidate | threshold) >= 0.99; where no
  // banding can (k = 1, 2; threshold 0.03 with k = 128) it uses one row per band.
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(75, 200);
  write_file(dir / "in.jsonl", lines_of({json_line("a", a), json_line("b", a + " extra words at the end"),
                                         json_line("c", words_text(76, 200))}));
  struct setting {
    std::size_t num_perm;
    double threshold;
  };
  for (const auto [k, t] : {setting{1, 0.8}, setting{2, 0.8}, setting{3, 0.8}, setting{128, 0.03}}) {
    auto o = quiet();
    o.num_perm = k;
    o.threshold = t;
    const std::string name =
        std::string("k").append(std::to_string(k)).append("_t").append(std::to_string(static_cast<int>(t * 100)));
    const auto r = run({(dir / "in.jsonl").string()}, dir / name, o);
    EXPECT_EQ(r.report.lsh, (neardup::lsh_params{static_cast<std::uint32_t>(k), 1})) << name;
    EXPECT_EQ(r.rows[1].second, "a") << name;  // J ~ 0.98, verified exactly
  }
}

// ---------------------------------------------------------------- ids and fields

TEST(DedupIds, DuplicateIdsWarnAndDocumentsAreKeyedByPosition) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(81, 100), b = words_text(82, 100);
  write_file(dir / "in.jsonl", lines_of({json_line("x", a), json_line("x", b), json_line("x", a), json_line("y", b)}));
  const auto r = run({(dir / "in.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.report.duplicate_ids, 2u);
  EXPECT_EQ(stat(r.stats, {"documents", "duplicate_ids"}), "2");
  EXPECT_EQ(r.report.kept_of, (std::vector<neardup::doc_id>{0, 1, 0, 1}));
  // A repeated id is written ID@FILE:LINE, so each row names one document.
  const std::string x2 = "x@" + (dir / "in.jsonl").string() + ":2", x3 = "x@" + (dir / "in.jsonl").string() + ":3";
  EXPECT_EQ(r.tsv, "x\tx\n" + x2 + "\t" + x2 + "\n" + x3 + "\tx\ny\t" + x2 + "\n");
  EXPECT_EQ(r.jsonl, lines_of({json_line("x", a), json_line("x", b)}));
}

TEST(DedupIds, MissingIdsAreFileColonLineAndFieldsAreConfigurable) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(91, 100);
  std::string l1 = "{\"content\":", l2 = "{\"meta\":{\"id\":7},\"content\":", l3 = "{\"id\":\"top\",\"content\":";
  neardup::io::append_json_string(l1, a);
  neardup::io::append_json_string(l2, a);
  neardup::io::append_json_string(l3, words_text(92, 100));
  l1 += "}";
  l2 += "}";
  l3 += "}";
  write_file(dir / "f.jsonl", "\n" + lines_of({l1, l2, l3}));
  auto o = quiet();
  o.records.text_field = "content";
  o.records.id_field = "/meta/id";
  const auto r = run({(dir / "f.jsonl").string()}, dir / "out", o);
  const std::string src = (dir / "f.jsonl").string();
  EXPECT_EQ(r.tsv, src + ":2\t" + src + ":2\n7\t" + src + ":2\n" + src + ":4\t" + src + ":4\n");
  EXPECT_EQ(stat(r.stats, {"parameters", "text_field"}), "\"content\"");
  EXPECT_EQ(stat(r.stats, {"parameters", "id_field"}), "\"/meta/id\"");
  // Without an id field every document is FILE:LINE.
  o.records.id_field.clear();
  const auto r2 = run({(dir / "f.jsonl").string()}, dir / "out2", o);
  EXPECT_EQ(r2.rows[1].first, src + ":3");
}

TEST(DedupIds, IdsWithTabsAndNewlinesAreEscapedInTsv) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(95, 100);
  write_file(dir / "in.jsonl", lines_of({json_line("a\tb\\c", a), json_line("line\nbreak", a)}));
  const auto r = run({(dir / "in.jsonl").string()}, dir / "out", quiet());
  EXPECT_EQ(r.tsv, "a\\tb\\\\c\ta\\tb\\\\c\nline\\nbreak\ta\\tb\\\\c\n");
  EXPECT_EQ(r.rows[1], (std::pair<std::string, std::string>{"line\nbreak", "a\tb\\c"}));
}

// clusters.tsv is formatted in blocks of 65536 documents by several threads
// and written in order: every kind of id (plain, escaped, non-ASCII, none,
// repeated) in several blocks, rows of removed documents among them, the
// same bytes at any thread count.
TEST(DedupIds, ClustersTsvOfManyBlocksIsTheSameAtAnyThreadCount) {
  temp_dir dir("neardup_dedup");
  const std::string src = (dir / "in.jsonl").string();
  constexpr std::size_t n = 140000;
  std::string jsonl, expected;
  std::vector<std::string> field(n);
  bool rep_seen = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string line_ref = src + ":" + std::to_string(i + 1);
    std::string id;
    bool has_id = true;
    if (i % 997 == 0) {
      id = "rep";
    } else if (i % 1000 == 7) {
      id = "t\t" + std::to_string(i);
    } else if (i % 1000 == 13) {
      has_id = false;
    } else if (i % 1000 == 500) {
      id = "b\\" + std::to_string(i);
    } else if (i % 1000 == 600) {
      id = "\xC3\xA9" + std::to_string(i);
    } else {
      id = "x" + std::to_string(i);
    }
    // Every tenth document (from 3) is a copy of the one before it.
    const std::string text = i % 10 == 3 ? "u" + std::to_string(i - 1) + " v" + std::to_string(i * 31 - 24)
                                         : "u" + std::to_string(i) + " v" + std::to_string(i * 31 + 7);
    if (has_id) {
      jsonl += json_line(id, text);
      nio::append_tsv_field(field[i], id);
      if (id == "rep" && std::exchange(rep_seen, true)) field[i] += "@" + line_ref;
    } else {
      std::string line = "{\"text\":";
      nio::append_json_string(line, text);
      jsonl += line + "}";
      field[i] = line_ref;
    }
    jsonl += '\n';
    expected += field[i] + "\t" + field[i % 10 == 3 ? i - 1 : i] + "\n";
  }
  write_file(dir / "in.jsonl", jsonl);
  for (const std::size_t threads : {1, 2, 3}) {
    auto o = quiet();
    o.threads = threads;
    const auto r = run({src}, dir / ("t" + std::to_string(threads)), o);
    EXPECT_EQ(r.report.removed_exact, n / 10) << threads;
    EXPECT_TRUE(r.tsv == expected) << threads;  // (not EXPECT_EQ: 2 MB to print)
  }
}

// ---------------------------------------------------------------- inputs

TEST(DedupInputs, DirectoryOfTextFilesGivesIdTextLines) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(101, 150);
  const std::string tricky = "quote \" backslash \\ tab \t newline \n unicode \xC3\xA9\xE2\x82\xAC " + a;
  write_file(dir / "corpus" / "a.txt", tricky);
  write_file(dir / "corpus" / "sub" / "b.md", replace_word(tricky, 20, "changed"));
  write_file(dir / "corpus" / "c.txt", words_text(102, 150));
  write_file(dir / "corpus" / "d.txt.gz", gzip(tricky));
  write_file(dir / "corpus" / "docs.jsonl",
             lines_of({json_line("j1", words_text(103, 50)), json_line("j2", words_text(104, 50))}));
  write_file(dir / "corpus" / "empty.txt", "");
  const auto r = run({(dir / "corpus").string()}, dir / "out", quiet());
  // Sources sorted by relative path bytes: a.txt c.txt d.txt.gz docs.jsonl empty.txt sub/b.md
  // Ids of files start with the directory INPUT.
  const std::string root = (dir / "corpus").string() + "/";
  const std::string a_id = root + "a.txt";
  EXPECT_EQ(r.tsv, a_id + "\t" + a_id + "\n" + root + "c.txt\t" + root + "c.txt\n" + root + "d.txt.gz\t" + a_id +
                       "\nj1\tj1\nj2\tj2\n" + root + "empty.txt\t" + root + "empty.txt\n" + root + "sub/b.md\t" + a_id +
                       "\n");
  EXPECT_EQ(r.jsonl, lines_of({json_line(a_id, tricky), json_line(root + "c.txt", words_text(102, 150)),
                               json_line("j1", words_text(103, 50)), json_line("j2", words_text(104, 50)),
                               json_line(root + "empty.txt", "")}));
  EXPECT_EQ(r.report.empty_documents, 1u);
}

TEST(DedupInputs, GzipAndZstdInputsGiveTheSameResultAsPlain) {
  temp_dir dir("neardup_dedup");
  const auto docs = make_near_dup_corpus({.bases = 40, .max_copies = 3, .unrelated = 40, .seed = 5});
  const std::string data = to_jsonl(docs);
  write_file(dir / "c.jsonl", data);
  write_file(dir / "c.jsonl.gz", gzip(data.substr(0, data.size() / 3)) + gzip(data.substr(data.size() / 3)));
  write_file(dir / "c.jsonl.zst", zstd_compress(data));
  const auto plain = run({(dir / "c.jsonl").string()}, dir / "plain", quiet());
  EXPECT_GT(plain.report.removed_near, 10u);
  for (const char* name : {"c.jsonl.gz", "c.jsonl.zst"}) {
    const auto r = run({(dir / name).string()}, dir / (std::string("out_") + name), quiet());
    EXPECT_EQ(r.tsv, plain.tsv) << name;
    EXPECT_EQ(r.jsonl, plain.jsonl) << name;
    EXPECT_EQ(r.report.kept_of, plain.report.kept_of) << name;
  }
}

TEST(DedupInputs, SeveralInputsAreOneCorpusInCommandLineOrder) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(111, 100);
  write_file(dir / "1.jsonl", lines_of({R"({"text":"first file"})"}) + json_line("", a));
  write_file(dir / "2.jsonl", json_line("", a) + "\n");
  const auto r = run({(dir / "2.jsonl").string(), (dir / "1.jsonl").string()}, dir / "out", quiet());
  const std::string one = (dir / "1.jsonl").string(), two = (dir / "2.jsonl").string();
  // An empty string id is no id: FILE:LINE.
  EXPECT_EQ(r.tsv, two + ":1\t" + two + ":1\n" + one + ":1\t" + one + ":1\n" + one + ":2\t" + two + ":1\n");
  // A file without a final newline followed by another file: the lines stay apart.
  const auto r2 = run({(dir / "1.jsonl").string(), (dir / "2.jsonl").string()}, dir / "out2", quiet());
  EXPECT_EQ(r2.tsv, one + ":1\t" + one + ":1\n" + one + ":2\t" + one + ":2\n" + two + ":1\t" + one + ":2\n");
  EXPECT_EQ(r2.jsonl, "{\"text\":\"first file\"}\n" + json_line("", a) + "\n");
}

// ---------------------------------------------------------------- determinism

TEST(DedupDeterminism, ThreadsKernelsChunkSizesAndSchemesDoNotChangeOutputs) {
  temp_dir dir("neardup_dedup");
  corpus_spec spec{.bases = 60, .max_copies = 4, .unrelated = 60, .seed = 9};
  if (small_scale()) spec = {.bases = 20, .max_copies = 3, .unrelated = 20, .seed = 9};
  auto docs = make_near_dup_corpus(spec);
  std::string data = to_jsonl(docs);
  data += "{bad json\n\n" + json_line("empty", "") + "\n";  // bad and empty records in the mix
  // Split on a line boundary into two files (one plain, one zstd).
  const std::size_t cut = data.find('\n', data.size() / 2) + 1;
  write_file(dir / "a.jsonl", data.substr(0, cut));
  write_file(dir / "b.jsonl.zst", zstd_compress(data.substr(cut)));
  const std::vector<std::string> inputs = {(dir / "a.jsonl").string(), (dir / "b.jsonl.zst").string()};

  // set_memory: shingle sets kept by pass 1 for all documents (default), for
  // none (candidates re-read), or for the first few chunks only.
  struct variant {
    std::size_t threads, chunk;
    neardup::sig_kernel kernel;
    std::optional<std::uint64_t> set_memory;
  };
  auto best = neardup::supported_kernels().back();
  std::vector<variant> variants = {{1, 1000, neardup::sig_kernel::scalar, std::nullopt},
                                   {2, 4096, neardup::sig_kernel::automatic, 0},
                                   {4, 1000, best, 20000},
                                   {3, 777, neardup::sig_kernel::scalar, 100000},
                                   {4, std::size_t{8} << 20, neardup::sig_kernel::automatic, std::nullopt},
                                   {1, 4096, neardup::sig_kernel::automatic, 30000}};
  for (const auto k : neardup::supported_kernels()) variants.push_back({2, 1000, k, std::nullopt});
  for (const auto scheme : {neardup::minhash_scheme::one_permutation, neardup::minhash_scheme::classic,
                            neardup::minhash_scheme::superminhash}) {
    auto base_opts = quiet();
    base_opts.scheme = scheme;
    base_opts.threads = 1;
    base_opts.reader.chunk_bytes = std::size_t{1} << 20;
    base_opts.kernel = neardup::sig_kernel::scalar;
    const auto ref = run(inputs, dir / "ref", base_opts);
    EXPECT_GT(ref.report.removed_near, 5u);
    const bool full = scheme == neardup::minhash_scheme::one_permutation;
    for (std::size_t v = 0; v < (full ? variants.size() : 2); ++v) {
      auto o = base_opts;
      o.threads = variants[full ? v : v + 1].threads;
      o.reader.chunk_bytes = variants[full ? v : v + 1].chunk;
      o.kernel = variants[full ? v : v + 1].kernel;
      o.set_memory_bytes = variants[full ? v : v + 1].set_memory;
      const fs::path out = dir / std::string("v").append(std::to_string(v));
      const auto r = run(inputs, out, o);
      const std::string what = std::string("threads=") + std::to_string(o.threads) +
                               " chunk=" + std::to_string(o.reader.chunk_bytes) +
                               " set_memory=" + (o.set_memory_bytes ? std::to_string(*o.set_memory_bytes) : "auto") +
                               " kernel=" + std::string(neardup::name(o.kernel)) +
                               " scheme=" + std::to_string(static_cast<int>(scheme));
      EXPECT_EQ(r.tsv, ref.tsv) << what;
      EXPECT_EQ(r.jsonl, ref.jsonl) << what;
      EXPECT_EQ(stable_stats(r.stats), stable_stats(ref.stats)) << what;
      EXPECT_EQ(r.report.kept_of, ref.report.kept_of) << what;
      // Only candidates whose sets pass 1 did not keep are read again.
      const bool reread = r.stats.find("\"load_candidates\"") != std::string::npos;
      if (!o.set_memory_bytes) {
        EXPECT_FALSE(reread) << what;
      } else if (*o.set_memory_bytes == 0 || *o.set_memory_bytes == 20000) {
        EXPECT_TRUE(reread) << what;
      }
      fs::remove_all(out);
    }
    fs::remove_all(dir / "ref");
  }
}

TEST(DedupDeterminism, SeedChangesHashesButNotExactVerifiedDuplicatesOfHighSimilarity) {
  temp_dir dir("neardup_dedup");
  const std::string a = words_text(121, 300);
  write_file(dir / "in.jsonl", lines_of({json_line("a", a), json_line("b", replace_word(a, 150, "zz")),
                                         json_line("c", words_text(122, 300))}));
  for (const std::uint64_t seed : {1ULL, 2ULL, 12345ULL}) {
    auto o = quiet();
    o.seed = seed;
    const auto r = run({(dir / "in.jsonl").string()}, dir / std::string("s").append(std::to_string(seed)), o);
    EXPECT_EQ(r.tsv, "a\ta\nb\ta\nc\tc\n") << seed;  // J ~ 0.97: a candidate for any seed w.p. ~1
    EXPECT_EQ(stat(r.stats, {"parameters", "seed"}), std::to_string(seed));
  }
}

// ---------------------------------------------------------------- write stage

// deduped.jsonl as documented, from the input files and kept_of alone: each
// non-blank line of a kept document, byte for byte, then '\n'. Blank lines
// (only spaces, tabs and CRs, after a BOM at the start of a file) are not documents.
std::string expected_kept_lines(const std::vector<std::string>& files, const std::vector<neardup::doc_id>& kept_of) {
  std::string out;
  std::size_t d = 0;
  for (const std::string& data : files) {
    for (std::size_t begin = 0; begin < data.size();) {
      std::size_t end = data.find('\n', begin);
      if (end == std::string::npos) end = data.size();
      const std::string_view line(data.data() + begin, end - begin);
      std::string_view body = line;
      if (begin == 0 && body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
      if (body.find_first_not_of(" \t\r") != std::string_view::npos) {
        if (d < kept_of.size() && kept_of[d] == d) {
          out += line;
          out += '\n';
        }
        ++d;
      }
      begin = end + 1;
    }
  }
  EXPECT_EQ(d, kept_of.size());
  return out;
}

// Sets NEARDUP_COPY_FILE_RANGE=1 (atomic_file::copy_from asks the kernel to
// copy) for its lifetime.
class kernel_copy {
 public:
  kernel_copy() { ::setenv("NEARDUP_COPY_FILE_RANGE", "1", 1); }
  ~kernel_copy() { ::unsetenv("NEARDUP_COPY_FILE_RANGE"); }
  kernel_copy(const kernel_copy&) = delete;
  kernel_copy& operator=(const kernel_copy&) = delete;
};

struct write_case {
  std::string name;
  std::vector<std::string> files;  // one corpus, in input order
};

std::vector<write_case> write_cases() {
  auto doc = [](std::size_t i, std::size_t words = 40) {
    return json_line(std::string("d").append(std::to_string(i)), words_text(500 + i, words));
  };
  auto dup = [](std::size_t i, std::size_t words = 40) {  // an exact duplicate of doc(i)
    return json_line(std::string("dup").append(std::to_string(i)), words_text(500 + i, words));
  };
  const std::string bom = "\xEF\xBB\xBF";
  std::vector<write_case> cases;
  cases.push_back({"last line without newline, kept", {lines_of({doc(0), doc(1), dup(0)}) + doc(2)}});
  cases.push_back({"last line without newline, removed", {lines_of({doc(0), doc(1)}) + dup(1)}});
  cases.push_back(
      {"crlf", {doc(0) + "\r\n" + doc(1) + "\r\n\r\n" + dup(0) + "\r\n" + doc(2) + "\r\n" + doc(3) + "\r"}});
  cases.push_back(
      {"blank lines", {"\n\n  \t\n" + lines_of({doc(0), "", doc(1), doc(2), "", "\r", dup(2), doc(3)}) + " \t"}});
  cases.push_back({"bom", {bom + lines_of({doc(0), dup(0), doc(1)}), bom + "\n" + lines_of({doc(2), dup(2)})}});
  cases.push_back({"bad records kept unchanged",
                   {lines_of({"{broken", "[1,2]", R"({"id":"x"})", R"({"text":5})", doc(0), "{broken", dup(0),
                              "\"just a string\"", doc(1)}) +
                    "{\"text\": \"truncated"}});
  cases.push_back({"near duplicates (keep longest removes the first line)",
                   {lines_of({json_line("short", words_text(600, 300)),
                              json_line("long", words_text(600, 300) + " and a few more words"), doc(0)})}});
  cases.push_back({"several files, empty and blank ones",
                   {lines_of({doc(0)}) + doc(1), "", lines_of({dup(1), doc(2)}), "\n\n", doc(3), "", doc(4) + "\n"}});
  cases.push_back({"empty corpus", {""}});

  // Long kept runs (copied by the kernel), short runs close together (read
  // in blocks) and far apart, and huge lines kept and removed.
  const std::size_t huge_words = small_scale() ? 40'000 : 400'000;  // ~0.3 MB / ~3 MB
  std::vector<std::string> lines;
  lines.push_back(json_line("huge", words_text(700, huge_words)));
  for (std::size_t i = 0; i < 300; ++i) lines.push_back(i % 3 == 2 ? dup(i - 1) : doc(i));
  for (std::size_t i = 300; i < 500; ++i) lines.push_back(doc(i, 150));
  for (std::size_t i = 0; i < 150; ++i) lines.push_back(dup(300 + i, 150));  // ~150 KB removed
  lines.push_back(doc(1000));
  lines.push_back(json_line("huge_again", words_text(700, huge_words)));
  lines.push_back(doc(1001));
  std::string big;
  for (const auto& l : lines) big += l + "\n";
  cases.push_back({"huge lines and long runs", {big.substr(0, big.size() - 1)}});
  return cases;
}

TEST(DedupWrite, CopiedAndReReadInputsGiveTheSameBytes) {
  temp_dir dir("neardup_dedup");
  int case_no = 0;
  for (const write_case& c : write_cases()) {
    const fs::path cdir = dir / std::string("case").append(std::to_string(case_no++));
    std::vector<std::string> plain, gz, mixed;
    for (std::size_t i = 0; i < c.files.size(); ++i) {
      const std::string name = std::string("f").append(std::to_string(i)).append(".jsonl");
      write_file(cdir / name, c.files[i]);
      write_file(cdir / (name + ".gz"), gzip(c.files[i]));
      plain.push_back((cdir / name).string());
      gz.push_back((cdir / (name + ".gz")).string());
      mixed.push_back(i % 2 == 0 ? plain.back() : gz.back());
    }
    // Ids of records without one name their file: compare under the plain name.
    auto as_plain = [](std::string tsv) {
      for (std::size_t p; (p = tsv.find(".jsonl.gz:")) != std::string::npos;) tsv.erase(p + 6, 3);
      return tsv;
    };
    for (const auto keep : {npipeline::keep_policy::first, npipeline::keep_policy::longest}) {
      const std::string what = c.name + (keep == npipeline::keep_policy::first ? ", keep first" : ", keep longest");
      auto o = quiet();
      o.keep = keep;
      o.threads = 2;
      o.reader.chunk_bytes = 4096;  // several chunks per file when re-read
      const auto ref = run(gz, cdir / "gz", o);  // every file re-read
      EXPECT_EQ(ref.jsonl, expected_kept_lines(c.files, ref.report.kept_of)) << what;
      auto check = [&](const std::vector<std::string>& inputs, const njobs::dedup_options& opts,
                       std::string_view variant) {
        const fs::path out = cdir / "out";
        const auto r = run(inputs, out, opts);
        EXPECT_EQ(r.jsonl, ref.jsonl) << what << ", " << variant;
        EXPECT_EQ(as_plain(r.tsv), as_plain(ref.tsv)) << what << ", " << variant;
        EXPECT_EQ(r.report.kept_of, ref.report.kept_of) << what << ", " << variant;
        EXPECT_EQ(list_dir(out), (std::vector<std::string>{"clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "sources.tsv", "stats.json"}));
        fs::remove_all(out);
      };
      check(plain, o, "plain, 2 threads");
      check(mixed, o, "plain and gzip files mixed");
      auto one = o;
      one.threads = 1;
      check(plain, one, "plain, 1 thread");
      {
        const kernel_copy forced;
        check(plain, o, "plain, copy_file_range");
      }
      auto zst = o;
      zst.compression = nio::output_compression::zstd;
      const auto z = run(plain, cdir / "zst", zst);
      EXPECT_EQ(zstd_decompress(z.jsonl), ref.jsonl) << what << ", zstd output";
      fs::remove_all(cdir / "zst");
      fs::remove_all(cdir / "gz");
    }
  }
}

// Pass 1 over `files` on two threads, as the dedup job runs it before it
// writes (for calling write_kept directly).
struct scanned_for_write {
  explicit scanned_for_write(const std::vector<std::string>& files) : inputs(nio::expand_inputs(files)) {
    pass.pool = &pool;
    njobs::detail::scan_counts counts;
    corpus = njobs::detail::scan_corpus(inputs.sources, pass, nullptr, meter, counts);
  }
  nio::expanded_inputs inputs;
  neardup::executor pool{2};
  njobs::detail::pass_options pass;
  nio::progress_meter meter{{.enabled = false}};
  njobs::detail::corpus_index corpus;
};

// Commits the files write_kept leaves uncommitted, in its order.
void commit_all(std::vector<nio::atomic_file> files) {
  for (nio::atomic_file& f : files) f.commit();
}

// The kept lines in two shares (the second written by a pool thread at its
// place) are the bytes one writer writes, for every shape of input: CRLF,
// blank lines, a last line without '\n', BOMs, several and empty files, bad
// records, huge lines; and the file's digest is that of its bytes.
TEST(DedupWrite, TwoWritersWriteTheBytesOfOne) {
  temp_dir dir("neardup_dedup");
  int case_no = 0;
  for (const write_case& c : write_cases()) {
    const fs::path cdir = dir / std::string("case").append(std::to_string(case_no++));
    std::vector<std::string> plain;
    for (std::size_t i = 0; i < c.files.size(); ++i) {
      const std::string name = std::string("f").append(std::to_string(i)).append(".jsonl");
      write_file(cdir / name, c.files[i]);
      plain.push_back((cdir / name).string());
    }
    scanned_for_write scanned(plain);
    const auto& corpus = scanned.corpus;
    auto& pass = scanned.pass;
    for (const int removed_every : {2, 3, 1000}) {  // keeper: some documents removed
      std::vector<neardup::doc_id> keeper(corpus.size());
      for (std::size_t d = 0; d < keeper.size(); ++d) {
        keeper[d] = static_cast<neardup::doc_id>(d % removed_every == 1 ? d - 1 : d);
      }
      std::string written[2];
      for (int split = 0; split < 2; ++split) {
        pass.kept_split_min_bytes = split ? 0 : UINT64_MAX;
        const fs::path out = cdir / ("out" + std::to_string(split));
        fs::create_directories(out);
        commit_all(njobs::detail::write_kept(scanned.inputs.sources, corpus, keeper, (out / "clusters.tsv").string(),
                                             (out / "deduped.jsonl").string(), nio::output_compression::none, pass,
                                             scanned.meter));
        written[split] = read_file(out / "deduped.jsonl");
        fs::remove_all(out);
      }
      EXPECT_EQ(written[1], written[0]) << c.name << ", removed every " << removed_every;
      EXPECT_EQ(written[0], expected_kept_lines(c.files, keeper)) << c.name << ", removed every " << removed_every;
    }
  }
}

// write_kept after scan_corpus, with the input changed in between.
class DedupWriteChangedInput : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = lines_of({json_line("a", words_text(801, 50)), json_line("b", words_text(802, 50)),
                      json_line("c", words_text(803, 50))});
  }

  // Scans `file`, calls change(), then writes; returns the error ("" if none).
  std::string write_after(const fs::path& file, const std::function<void()>& change) {
    scanned_for_write scanned({file.string()});
    const auto& corpus = scanned.corpus;
    auto& pass = scanned.pass;
    std::vector<neardup::doc_id> keeper(corpus.size());
    for (std::size_t d = 0; d < keeper.size(); ++d) keeper[d] = static_cast<neardup::doc_id>(d);
    change();
    // One writer, then two (the kept lines in two shares, however small):
    // both must see the change, and leave nothing.
    std::string errors[2];
    for (int split = 0; split < 2; ++split) {
      pass.kept_split_min_bytes = split ? 0 : UINT64_MAX;
      const fs::path out = dir_ / "out";
      fs::create_directories(out);
      try {
        commit_all(njobs::detail::write_kept(scanned.inputs.sources, corpus, keeper, (out / "clusters.tsv").string(),
                                             (out / "deduped.jsonl").string(), nio::output_compression::none, pass,
                                             scanned.meter));
      } catch (const std::runtime_error& e) {
        errors[split] = e.what();
        EXPECT_EQ(list_dir(out), std::vector<std::string>{}) << errors[split];
      }
      fs::remove_all(out);
    }
    EXPECT_EQ(errors[0].empty(), errors[1].empty()) << errors[0] << " | " << errors[1];
    return errors[0];
  }

  // The same bytes written again, with a later modification time.
  static void rewrite(const fs::path& file, const std::string& bytes) {
    const auto before = fs::last_write_time(file);
    write_file(file, bytes);
    fs::last_write_time(file, before + std::chrono::seconds(1));
  }

  temp_dir dir_{"neardup_dedup"};
  std::string data_;
};

TEST_F(DedupWriteChangedInput, UnchangedInputIsWritten) {
  write_file(dir_ / "in.jsonl", data_);
  EXPECT_EQ(write_after(dir_ / "in.jsonl", [] {}), "");
}

TEST_F(DedupWriteChangedInput, PlainFileChangedInAnyWayIsAnError) {
  const fs::path f = dir_ / "in.jsonl";
  std::string same_size = data_;
  same_size[same_size.find("\"b\"") + 1] = 'B';
  const std::vector<std::pair<std::string, std::function<void()>>> changes = {
      {"rewritten, same size", [&] { rewrite(f, same_size); }},
      {"appended to", [&] { rewrite(f, data_ + json_line("d", "more words here") + "\n"); }},
      {"blank lines appended", [&] { rewrite(f, data_ + "\n\n"); }},
      {"truncated", [&] { rewrite(f, data_.substr(0, data_.size() / 2)); }},
      {"emptied", [&] { rewrite(f, ""); }},
  };
  for (const auto& [what, change] : changes) {
    write_file(f, data_);
    const std::string error = write_after(f, change);
    EXPECT_NE(error.find("in.jsonl: the input changed"), std::string::npos) << what << ": " << error;
  }
}

TEST_F(DedupWriteChangedInput, CompressedFileChangedIsAnError) {
  const fs::path f = dir_ / "in.jsonl.gz";
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"a line longer", lines_of({json_line("a", words_text(801, 51)), json_line("b", words_text(802, 50)),
                                  json_line("c", words_text(803, 50))})},
      {"a line more", data_ + json_line("d", "more words here") + "\n"},
      {"a line less", lines_of({json_line("a", words_text(801, 50)), json_line("b", words_text(802, 50))})},
      {"blank lines appended", data_ + "\n\n"},
  };
  for (const auto& [what, bytes] : changes) {
    write_file(f, gzip(data_));
    const std::string changed = gzip(bytes);  // clang 14 cannot capture a structured binding
    const std::string error = write_after(f, [&] { write_file(f, changed); });
    EXPECT_NE(error.find("in.jsonl.gz: the input changed"), std::string::npos) << what << ": " << error;
  }
}

}  // namespace

// jobs/parts.hpp (and jobs/decontaminate.hpp's parts): a corpus scanned in
// parts (files, byte ranges of files) and merged gives run_dedup's (and
// run_decontaminate's) outputs byte for byte, for every part size and reader
// chunk size; damaged or mismatched parts are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/io/input.hpp"
#include "neardup/jobs/decontaminate.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/jobs/parts.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
namespace nio = neardup::io;
namespace njobs = neardup::jobs;
using neardup_test::read_file;
using neardup_test::temp_dir;
using neardup_test::write_file;

// JSONL with near and exact duplicates, bad lines, blank lines, CRLF, a BOM,
// repeated and missing ids, a long line, and no final newline.
std::string make_jsonl(std::uint32_t seed, int docs) {
  std::mt19937 rng(seed);
  std::vector<std::string> base;
  for (int b = 0; b < docs / 4 + 1; ++b) {
    std::string t;
    for (int w = 0; w < 40; ++w) {
      t += 'w';
      t += std::to_string(rng() % 500);
      t += ' ';
    }
    base.push_back(t);
  }
  std::string out = "\xEF\xBB\xBF";
  for (int i = 0; i < docs; ++i) {
    std::string text = base[rng() % base.size()];
    if (rng() % 2) {
      text += "edit";
      text += std::to_string(rng() % 3);
    }
    if (i % 29 == 3) out += "{\"id\": \"broken\", \"text\": \n";
    if (i % 17 == 5) out += "  \r\n";
    if (i == docs / 2) text += std::string(3000, 'x');  // longer than the smallest chunks
    out += "{";
    if (i % 7 != 0) {
      out += "\"id\": \"d";
      out += std::to_string(i % 40);
      out += "\", ";
    }
    out += "\"text\": \"";
    out += text;
    out += "\"}";
    out += i % 13 == 0 ? "\r\n" : "\n";
  }
  out += "{\"id\": \"last\", \"text\": \"no newline at the end\"}";
  return out;
}

struct corpus {
  temp_dir dir{"neardup_parts"};
  std::vector<nio::source_info> sources;
  corpus() {
    write_file(dir / "a.jsonl", make_jsonl(1, 300));
    write_file(dir / "b.jsonl.gz", neardup_test::gzip(make_jsonl(2, 60)));
    write_file(dir / "c.jsonl", make_jsonl(3, 200));
    sources = nio::expand_inputs({(dir / "a.jsonl").string(), (dir / "b.jsonl.gz").string(),
                                  (dir / "c.jsonl").string()})
                  .sources;
  }
};

std::uint64_t newlines(const std::string& bytes, std::uint64_t begin, std::uint64_t end) {
  std::uint64_t n = 0;
  for (std::uint64_t i = begin; i < end && i < bytes.size(); ++i) n += bytes[i] == '\n';
  return n;
}

// Verification as tasks in run_in_parts: buckets of at most max_bucket
// documents verified in `groups` groups; the bytes that reached the
// finishing task (verdicts, candidate data) are counted.
struct verification_case {
  std::uint32_t max_bucket = 0;
  std::uint32_t groups = 1;
  std::uint64_t verdict_bytes = 0;
  std::uint64_t finish_data_bytes = 0;
};

// The parts' write tasks (jobs::part_writes) run here one after another,
// last part first (any order gives the same file); `calls` counts the runs
// that used them.
struct part_write_tasks {
  const std::vector<nio::source_info>& sources;  // of each part, with its range
  const std::vector<std::string>& parts;         // scan_part's or part_metadata()'s
  const njobs::dedup_options& options;
  std::size_t calls = 0;
  njobs::part_writes writes() {
    return [this](std::span<const std::string> keep, const std::string& path) {
      EXPECT_EQ(keep.size(), parts.size());
      ++calls;
      for (std::size_t i = keep.size(); i-- > 0;) njobs::write_part_kept(sources[i], parts[i], keep[i], path, options);
    };
  }
};

// Scans every source in ranges of part_bytes and merges them into out.
// band_groups > 0: the stages after pass 1 run as part stages
// (jobs/parts.hpp), the bands grouped in that many ranges; with `verify`,
// verification runs as tasks too. write_by_parts: deduped.jsonl is written
// by the parts' write tasks (part_write_tasks), else by run_dedup_parts.
njobs::dedup_report run_in_parts(const corpus& c, njobs::dedup_options o, std::uint64_t part_bytes,
                                 const std::string& out, std::size_t* part_count = nullptr,
                                 std::uint32_t band_groups = 0, bool pass1_sets = false,
                                 verification_case* verify = nullptr, bool write_by_parts = true) {
  std::vector<std::string> parts, part_sets;
  std::vector<std::uint32_t> part_sources;
  std::vector<nio::source_info> part_source_info;
  for (std::uint32_t s = 0; s < c.sources.size(); ++s) {
    const std::string bytes = read_file(c.sources[s].path);
    std::uint64_t line = 1;
    for (const njobs::part_range r : njobs::part_ranges(c.sources[s], part_bytes, o.reader)) {
      nio::source_info src = c.sources[s];
      src.range_begin = r.begin;
      src.range_end = r.end;
      src.range_first_line = line;
      line += newlines(bytes, r.begin, r.end);
      std::string sets;
      parts.push_back(njobs::scan_part(src, o, pass1_sets ? &sets : nullptr));
      part_sets.push_back(std::move(sets));
      part_sources.push_back(s);
      part_source_info.push_back(src);
    }
  }
  if (part_count != nullptr) *part_count = parts.size();
  o.lsh = o.banding();  // chosen once (by numerical integration), not by every call below
  // Runs run_dedup_parts with the parts' write tasks (over `written`, the
  // parts or their metadata) and checks that they were used.
  const auto finish = [&](const std::vector<std::string>& written, const njobs::part_stages* stages) {
    const std::vector<std::string_view> views(written.begin(), written.end());
    if (!write_by_parts) return njobs::run_dedup_parts(c.sources, views, part_sources, out, o, stages);
    part_write_tasks tasks{part_source_info, written, o};
    const njobs::part_writes writes = tasks.writes();
    auto report = njobs::run_dedup_parts(c.sources, views, part_sources, out, o, stages, &writes);
    EXPECT_EQ(tasks.calls, report.kept > 0 ? 1u : 0u);
    return report;
  };
  if (band_groups == 0 && !o.near && part_bytes == 3000) {
    // `exact` with exact groups as tasks (2 groups; one of the sweep's part sizes): metadata without fingerprints
    std::vector<std::vector<std::string>> pieces;
    std::vector<std::string> exact, slim;
    for (const auto& p : parts) {
      pieces.push_back(njobs::part_fingerprints(p, o, 2));
      slim.push_back(njobs::part_metadata(p, false));
    }
    for (std::uint32_t g = 0; g < 2; ++g) {
      std::vector<std::string_view> mine;
      for (const auto& p : pieces) mine.push_back(p.at(g));
      exact.push_back(njobs::group_part_fingerprints(mine, o));
    }
    const std::vector<std::string_view> exact_views(exact.begin(), exact.end());
    const njobs::part_stages stages{{}, {}, {}, exact_views};
    return finish(slim, &stages);
  }
  if (band_groups == 0) return finish(parts, nullptr);
  const std::uint32_t bands = o.banding().bands;
  std::vector<std::string> buckets;
  for (std::uint32_t g = 0; g < band_groups; ++g) {
    const std::uint32_t lo = bands * g / band_groups, hi = bands * (g + 1) / band_groups;
    std::vector<std::string> keys;
    for (const auto& p : parts) keys.push_back(njobs::part_band_keys(p, o, lo, hi));
    const std::vector<std::string_view> key_views(keys.begin(), keys.end());
    buckets.push_back(njobs::group_part_band_keys(key_views, o, lo, hi));
  }
  const std::vector<std::string_view> bucket_views(buckets.begin(), buckets.end());
  std::vector<std::string> data, meta;
  // Exact groups as tasks (in band_groups groups) unless the bands are in one range.
  const bool exact_tasks = band_groups > 1;
  std::vector<std::string> exact;
  if (exact_tasks) {
    std::vector<std::vector<std::string>> pieces;
    for (const auto& p : parts) pieces.push_back(njobs::part_fingerprints(p, o, band_groups));
    for (std::uint32_t g = 0; g < band_groups; ++g) {
      std::vector<std::string_view> mine;
      for (const auto& p : pieces) mine.push_back(p.at(g));
      exact.push_back(njobs::group_part_fingerprints(mine, o));
    }
    std::reverse(exact.begin(), exact.end());  // any order
  }
  const std::vector<std::string_view> exact_views(exact.begin(), exact.end());
  if (verify != nullptr) {
    const njobs::verification_plan plan = njobs::plan_verification(bucket_views, verify->max_bucket, verify->groups);
    EXPECT_EQ(plan.routes.size(), parts.size());
    EXPECT_EQ(plan.pairs.size(), verify->groups);
    std::vector<std::vector<std::string>> pieces;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      pieces.push_back(njobs::part_verification_data(part_source_info[i], parts[i], plan.routes.at(i), o,
                                                     part_sets[i]));
      EXPECT_EQ(pieces.back().size(), verify->groups + 1);
      data.push_back(pieces.back().back());
      verify->finish_data_bytes += data.back().size();
      meta.push_back(njobs::part_metadata(parts[i], !exact_tasks));
    }
    std::vector<std::string> verdicts;
    for (std::uint32_t h = 0; h < verify->groups; ++h) {
      std::vector<std::string_view> mine;
      for (const auto& p : pieces) mine.push_back(p.at(h));
      verdicts.push_back(njobs::verify_pairs(plan.pairs[h], mine, o));
      verify->verdict_bytes += verdicts.back().size();
    }
    std::reverse(verdicts.begin(), verdicts.end());  // any order
    const std::vector<std::string_view> data_views(data.begin(), data.end()),
        verdict_views(verdicts.begin(), verdicts.end());
    const njobs::part_stages stages{bucket_views, data_views, verdict_views, exact_views};
    return finish(meta, &stages);
  }
  const std::vector<std::string> candidates = njobs::part_candidates(bucket_views);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (pass1_sets && o.verify == neardup::pipeline::verify_mode::exact) {
      EXPECT_FALSE(part_sets[i].empty());
    }
    data.push_back(njobs::part_candidate_data(part_source_info[i], parts[i], candidates.at(i), o, part_sets[i]));
    meta.push_back(njobs::part_metadata(parts[i], !exact_tasks));
  }
  const std::vector<std::string_view> data_views(data.begin(), data.end());
  const njobs::part_stages stages{bucket_views, data_views, {}, exact_views};
  return finish(meta, &stages);
}

void expect_same_outputs(const fs::path& a, const fs::path& b) {
  for (const char* name : {"clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "sources.tsv"}) {
    EXPECT_EQ(read_file(a / name), read_file(b / name)) << name;
  }
}

TEST(Parts, RangesStartWhereTheReaderStartsChunks) {
  corpus c;
  for (const std::size_t chunk : {std::size_t{512}, std::size_t{4096}, std::size_t{1} << 20}) {
    nio::reader_options reader{.chunk_bytes = chunk};
    std::vector<std::uint64_t> starts;
    nio::corpus_reader rd(std::span<const nio::source_info>(c.sources.data(), 1), reader);
    nio::input_chunk ch;
    while (rd.next(ch)) starts.push_back(ch.byte_offset);
    const auto ranges = njobs::part_ranges(c.sources[0], 1, reader);
    ASSERT_EQ(ranges.size(), starts.size()) << chunk;
    for (std::size_t i = 0; i < ranges.size(); ++i) EXPECT_EQ(ranges[i].begin, starts[i]);
    EXPECT_EQ(ranges.back().end, fs::file_size(c.sources[0].path));
  }
  // compressed sources and small files are one range
  EXPECT_EQ(njobs::part_ranges(c.sources[1], 1), (std::vector<njobs::part_range>{{0, UINT64_MAX}}));
  EXPECT_EQ(njobs::part_ranges(c.sources[0], std::uint64_t{1} << 30), (std::vector<njobs::part_range>{{0, UINT64_MAX}}));
}

TEST(Parts, RangeLinesCountTheNewlinesOfARange) {
  corpus c;
  const std::string bytes = read_file(c.sources[0].path);
  std::uint64_t total = 0;
  for (const njobs::part_range r : njobs::part_ranges(c.sources[0], 1, {.chunk_bytes = 512})) {
    const std::uint64_t n = njobs::part_range_lines(c.sources[0], r);
    EXPECT_EQ(n, newlines(bytes, r.begin, r.end)) << r.begin;
    total += n;
  }
  EXPECT_EQ(total, newlines(bytes, 0, bytes.size()));
  EXPECT_EQ(njobs::part_range_lines(c.sources[0], {3, 3}), 0u);
  // a range past the end of the file (it changed), a missing file, a reversed range
  try {
    (void)njobs::part_range_lines(c.sources[0], {0, bytes.size() + 1});
    ADD_FAILURE() << "no error past the end";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(c.sources[0].name + ": the input changed"), std::string::npos) << e.what();
  }
  nio::source_info missing = c.sources[0];
  missing.path += ".missing";
  EXPECT_THROW((void)njobs::part_range_lines(missing, {0, 1}), std::runtime_error);
  EXPECT_THROW((void)njobs::part_range_lines(c.sources[0], {2, 1}), std::invalid_argument);
}

TEST(Parts, MergedPartsGiveTheSingleRunOutputs) {
  corpus c;
  for (const bool near : {true, false}) {
    for (const std::size_t chunk : {std::size_t{700}, std::size_t{5000}, std::size_t{8} << 20}) {
      njobs::dedup_options o;
      o.near = near;
      o.threads = 2;
      o.threshold = 0.7;
      o.max_reported_errors = 0;
      o.set_memory_bytes = 1 << 14;  // the single run keeps some sets, then reads the rest again
      o.reader.chunk_bytes = chunk;
      const auto single = njobs::run_dedup(c.sources, (c.dir / "single").string(), o);
      for (const std::uint64_t part_bytes : {std::uint64_t{1}, std::uint64_t{3000}, std::uint64_t{1} << 30}) {
        SCOPED_TRACE(std::to_string(near) + " chunk " + std::to_string(chunk) + " part " +
                     std::to_string(part_bytes));
        std::size_t count = 0;
        // deduped.jsonl by the parts' write tasks, or (the largest parts) by run_dedup_parts
        const auto merged = run_in_parts(c, o, part_bytes, (c.dir / "parts").string(), &count, 0, false, nullptr,
                                         part_bytes != std::uint64_t{1} << 30);
        if (chunk == 700 && part_bytes == 1) {
          EXPECT_GT(count, 20u);
        }
        expect_same_outputs(c.dir / "single", c.dir / "parts");
        EXPECT_EQ(merged.documents, single.documents);
        EXPECT_EQ(merged.kept, single.kept);
        EXPECT_EQ(merged.skipped, single.skipped);
        EXPECT_EQ(merged.blank_lines, single.blank_lines);
        EXPECT_EQ(merged.duplicate_ids, single.duplicate_ids);
        EXPECT_EQ(merged.empty_documents, single.empty_documents);
        EXPECT_EQ(merged.repaired_control_chars, single.repaired_control_chars);
        EXPECT_GT(single.skipped, 0u);
        EXPECT_GT(single.duplicate_ids, 0u);
      }
    }
  }
}

// The options the part-stage sweeps run with (small chunks: many parts).
njobs::dedup_options staged_options(neardup::pipeline::verify_mode verify, neardup::pipeline::keep_policy keep) {
  njobs::dedup_options o;
  o.threads = 1;
  o.threshold = 0.7;
  o.verify = verify;
  o.keep = keep;
  o.max_reported_errors = 0;
  o.reader.chunk_bytes = 700;
  return o;
}

// For each --verify (exact, estimate) and --keep (first, longest) of the
// sweeps: the single run into c.dir/"single", then check(options, its report).
template <class Check>
void for_each_sweep_setting(const corpus& c, Check check) {
  for (const auto verify : {neardup::pipeline::verify_mode::exact, neardup::pipeline::verify_mode::estimate}) {
    for (const auto keep : {neardup::pipeline::keep_policy::first, neardup::pipeline::keep_policy::longest}) {
      SCOPED_TRACE(std::string(neardup::name(verify)) + " keep " + std::string(neardup::name(keep)));
      const njobs::dedup_options o = staged_options(verify, keep);
      const auto single = njobs::run_dedup(c.sources, (c.dir / "single").string(), o);
      ASSERT_GT(single.removed_near, 0u);
      check(o, single);
    }
  }
}

// A run in parts reports the single run's counts.
void expect_same_counts(const njobs::dedup_report& staged, const njobs::dedup_report& single) {
  EXPECT_EQ(staged.documents, single.documents);
  EXPECT_EQ(staged.kept, single.kept);
  EXPECT_EQ(staged.removed_near, single.removed_near);
  EXPECT_EQ(staged.verifications, single.verifications);
  EXPECT_EQ(staged.skipped, single.skipped);
  EXPECT_EQ(staged.duplicate_ids, single.duplicate_ids);
}

TEST(Parts, PartStagesGiveTheSingleRunOutputs) {
  corpus c;
  for_each_sweep_setting(c, [&](const njobs::dedup_options& o, const njobs::dedup_report& single) {
    const auto verify = o.verify;
    const std::uint32_t bands = o.banding().bands;
    const std::pair<std::uint64_t, std::uint32_t> cases[] = {{1, 1}, {3000, 3}, {std::uint64_t{1} << 30, bands}};
    for (const auto& [part_bytes, groups] : cases) {
      for (const bool pass1_sets : {false, true}) {
        SCOPED_TRACE(std::string(neardup::name(verify)) + " part " + std::to_string(part_bytes) + " groups " +
                     std::to_string(groups) + (pass1_sets ? " sets of pass 1" : " sets read again"));
        const auto staged =
            run_in_parts(c, o, part_bytes, (c.dir / "parts").string(), nullptr, groups, pass1_sets);
        expect_same_outputs(c.dir / "single", c.dir / "parts");
        expect_same_counts(staged, single);
      }
    }
  });
}

TEST(Parts, VerificationAsTasksGivesTheSingleRunOutputs) {
  corpus c;
  for_each_sweep_setting(c, [&](const njobs::dedup_options& o, const njobs::dedup_report& single) {
    const auto verify = o.verify;
    const std::uint32_t bands = o.banding().bands;
    struct sweep {
      std::uint64_t part_bytes;
      std::uint32_t band_groups, max_bucket, groups;
      bool pass1_sets;
    };
    // max_bucket 3: some buckets verified in tasks, larger ones by the
    // finishing task; 0: all by the finishing task; 1024: all in tasks.
    const sweep cases[] = {{1, 1, 3, 1, false},          {3000, 3, 3, 3, true},
                           {std::uint64_t{1} << 30, bands, 3, 2, true}, {3000, 2, 0, 2, true},
                           {3000, 2, 1024, 4, false}, {1, 3, 2, 7, true}};
    std::uint64_t finish_data[3] = {};  // max_bucket 3, 0, 1024 at part size 3000
    std::uint64_t verdict_bytes[3] = {};
    for (const sweep& w : cases) {
      SCOPED_TRACE(std::string(neardup::name(verify)) + " part " + std::to_string(w.part_bytes) + " band groups " +
                   std::to_string(w.band_groups) + " max bucket " + std::to_string(w.max_bucket) + " groups " +
                   std::to_string(w.groups));
      verification_case v{w.max_bucket, w.groups, 0, 0};
      const auto staged =
          run_in_parts(c, o, w.part_bytes, (c.dir / "parts").string(), nullptr, w.band_groups, w.pass1_sets, &v);
      expect_same_outputs(c.dir / "single", c.dir / "parts");
      expect_same_counts(staged, single);
      if (w.part_bytes == 3000) {
        const int at = w.max_bucket == 3 ? 0 : w.max_bucket == 0 ? 1 : 2;
        finish_data[at] = v.finish_data_bytes;
        verdict_bytes[at] = v.verdict_bytes;
      }
    }
    // With max_bucket 3 both ways were used: fewer candidates' data reached
    // the finishing task than with none verified in tasks, more than with
    // all; and there were verdicts.
    EXPECT_LT(finish_data[0], finish_data[1]);
    EXPECT_GT(finish_data[0], finish_data[2]);
    EXPECT_GT(verdict_bytes[0], verdict_bytes[1]);
  });
}

// The corpus in three parts, scanned, with their metadata, band keys and the
// buckets of every band (one band range): the start of the damaged-stage tests.
struct staged_parts {
  corpus c;
  njobs::dedup_options o = [] {
    njobs::dedup_options x;
    x.threshold = 0.7;
    x.max_reported_errors = 0;
    return x;
  }();
  std::vector<std::string> parts, meta, keys, buckets;
  std::uint32_t bands = o.banding().bands;

  staged_parts() {
    for (const auto& s : c.sources) {
      parts.push_back(njobs::scan_part(s, o));
      meta.push_back(njobs::part_metadata(parts.back()));
    }
    for (const auto& p : parts) keys.push_back(njobs::part_band_keys(p, o, 0, bands));
    const std::vector<std::string_view> key_views(keys.begin(), keys.end());
    buckets.push_back(njobs::group_part_band_keys(key_views, o, 0, bands));
  }
};

TEST(Parts, DamagedVerificationStagesAreRefused) {
  staged_parts staged;
  const corpus& c = staged.c;
  const njobs::dedup_options& o = staged.o;
  const auto& parts = staged.parts;
  const auto& meta = staged.meta;
  const auto& buckets = staged.buckets;
  const std::vector<std::string_view> bucket_views(buckets.begin(), buckets.end());
  EXPECT_THROW((void)njobs::plan_verification(bucket_views, 3, 0), std::invalid_argument);
  EXPECT_THROW((void)njobs::plan_verification(bucket_views, njobs::max_verified_bucket + 1, 2), std::invalid_argument);
  const njobs::verification_plan plan = njobs::plan_verification(bucket_views, 3, 2);
  std::vector<std::vector<std::string>> pieces;
  for (std::size_t i = 0; i < 3; ++i) {
    pieces.push_back(njobs::part_verification_data(c.sources[i], parts[i], plan.routes[i], o));
  }
  EXPECT_THROW((void)njobs::part_verification_data(c.sources[0], parts[0], plan.routes[2], o), std::runtime_error);
  njobs::dedup_options none = o;
  none.verify = neardup::pipeline::verify_mode::none;
  EXPECT_THROW((void)njobs::part_verification_data(c.sources[0], parts[0], plan.routes[0], none),
               std::invalid_argument);
  auto group_data = [&](std::uint32_t h) {
    std::vector<std::string> d;
    for (const auto& p : pieces) d.push_back(p.at(h));
    return d;
  };
  auto verify = [&](const std::string& pairs, std::vector<std::string> d, const njobs::dedup_options& with) {
    const std::vector<std::string_view> v(d.begin(), d.end());
    return njobs::verify_pairs(pairs, v, with);
  };
  std::vector<std::string> verdicts{verify(plan.pairs[0], group_data(0), o), verify(plan.pairs[1], group_data(1), o)};
  // Another group's data lacks this group's documents (each group has pairs here).
  EXPECT_THROW((void)verify(plan.pairs[0], group_data(1), o), std::runtime_error);
  auto short_data = group_data(0);
  short_data.pop_back();
  EXPECT_THROW((void)verify(plan.pairs[0], short_data, o), std::invalid_argument);
  njobs::dedup_options estimate = o;
  estimate.verify = neardup::pipeline::verify_mode::estimate;
  EXPECT_THROW((void)verify(plan.pairs[0], group_data(0), estimate), std::runtime_error);  // sets sent
  std::vector<std::string> finish_data;
  for (const auto& p : pieces) finish_data.push_back(p.back());
  const std::vector<std::uint32_t> part_sources{0, 1, 2};
  const std::string out = (c.dir / "out").string();
  auto run = [&](std::vector<std::string> v, const njobs::dedup_options& with) {
    const std::vector<std::string_view> mv(meta.begin(), meta.end()), bv(buckets.begin(), buckets.end()),
        dv(finish_data.begin(), finish_data.end()), vv(v.begin(), v.end());
    const njobs::part_stages stages{bv, dv, vv};
    return njobs::run_dedup_parts(c.sources, mv, part_sources, out, with, &stages);
  };
  EXPECT_NO_THROW(run(verdicts, o));
  auto damaged = verdicts;
  damaged[1][damaged[1].size() / 2] ^= 0x20;
  EXPECT_THROW(run(damaged, o), std::runtime_error);
  EXPECT_THROW(run({verdicts[0]}, o), std::runtime_error);                 // a group is missing
  EXPECT_THROW(run({verdicts[0], verdicts[0]}, o), std::runtime_error);    // a group given twice
  njobs::dedup_options other = o;
  other.threshold = 0.75;
  EXPECT_THROW(run(verdicts, other), std::runtime_error);  // verdicts of another threshold
  // Data of too few parts.
  EXPECT_THROW((void)verify(plan.pairs[0], {pieces[0][0], pieces[1][0]}, o), std::invalid_argument);
}

// Keeps a run's bad-record notices (not its plan or warnings).
struct record_notices final : neardup::pipeline::sink {
  void message(const std::string& line) override {
    if (line.find(": skipped (") != std::string::npos || line.rfind("further '", 0) == 0) lines.push_back(line);
  }
  std::vector<std::string> lines;
};

TEST(Parts, BadRecordNoticesAreCappedPerRun) {
  corpus c;
  for (const std::size_t cap : {std::size_t{1}, std::size_t{3}}) {
    njobs::dedup_options o;
    o.threshold = 0.7;
    o.max_reported_errors = cap;
    record_notices single, parts;
    o.events = &single;
    (void)njobs::run_dedup(c.sources, (c.dir / "single").string(), o);
    o.events = &parts;
    (void)run_in_parts(c, o, 3000, (c.dir / "parts").string());
    EXPECT_EQ(parts.lines, single.lines) << cap;
    EXPECT_GT(single.lines.size(), cap);
  }
}

TEST(Parts, DamagedPartStagesAreRefused) {
  staged_parts staged;
  const corpus& c = staged.c;
  const njobs::dedup_options& o = staged.o;
  const auto& parts = staged.parts;
  const auto& meta = staged.meta;
  const auto& buckets = staged.buckets;
  const std::uint32_t bands = staged.bands;
  EXPECT_THROW((void)njobs::part_band_keys(parts[0], o, 0, bands + 1), std::invalid_argument);
  EXPECT_THROW((void)njobs::part_band_keys(parts[0], o, 2, 2), std::invalid_argument);
  EXPECT_THROW((void)njobs::part_band_keys(meta[0], o, 0, bands), std::runtime_error);  // no signatures
  const std::vector<std::string_view> key_views(staged.keys.begin(), staged.keys.end());
  EXPECT_THROW((void)njobs::group_part_band_keys(key_views, o, 0, bands - 1), std::runtime_error);
  std::vector<std::string_view> bucket_views(buckets.begin(), buckets.end());
  const auto candidates = njobs::part_candidates(bucket_views);
  ASSERT_EQ(candidates.size(), 3u);
  std::vector<std::string> data;
  for (std::size_t i = 0; i < 3; ++i) data.push_back(njobs::part_candidate_data(c.sources[i], parts[i], candidates[i], o));
  EXPECT_THROW((void)njobs::part_candidate_data(c.sources[0], parts[0], candidates[2], o), std::runtime_error);
  const std::vector<std::uint32_t> part_sources{0, 1, 2};
  const std::string out = (c.dir / "out").string();
  auto run = [&](std::vector<std::string> b, std::vector<std::string> d, const std::vector<std::string>& m = {}) {
    const std::vector<std::string_view> mv = m.empty() ? std::vector<std::string_view>(meta.begin(), meta.end())
                                                       : std::vector<std::string_view>(m.begin(), m.end());
    const std::vector<std::string_view> bv(b.begin(), b.end()), dv(d.begin(), d.end());
    const njobs::part_stages stages{bv, dv};
    return njobs::run_dedup_parts(c.sources, mv, part_sources, out, o, &stages);
  };
  EXPECT_NO_THROW(run(buckets, data));
  auto damaged = buckets;
  damaged[0][damaged[0].size() / 2] ^= 0x20;
  EXPECT_THROW(run(damaged, data), std::runtime_error);
  EXPECT_THROW(run({}, data), std::runtime_error);  // a band's buckets are missing
  EXPECT_THROW(run({buckets[0], buckets[0]}, data), std::runtime_error);  // bands given twice
  auto swapped = data;
  std::swap(swapped[0], swapped[2]);
  EXPECT_THROW(run(buckets, swapped), std::runtime_error);
  auto short_data = data;
  short_data.pop_back();
  EXPECT_THROW(run(buckets, short_data), std::invalid_argument);

  // Exact groups as tasks: metadata without fingerprints, and the groups of two fingerprint groups.
  std::vector<std::vector<std::string>> pieces;
  for (const auto& p : parts) pieces.push_back(njobs::part_fingerprints(p, o, 2));
  EXPECT_THROW((void)njobs::part_fingerprints(parts[0], o, 0), std::invalid_argument);
  std::vector<std::string> exact, slim;
  for (std::uint32_t g = 0; g < 2; ++g) {
    const std::vector<std::string_view> mine{pieces[0][g], pieces[1][g], pieces[2][g]};
    exact.push_back(njobs::group_part_fingerprints(mine, o));
  }
  for (const auto& p : parts) slim.push_back(njobs::part_metadata(p, false));
  EXPECT_LT(slim[0].size(), meta[0].size());
  const std::vector<std::string_view> mixed{pieces[0][0], pieces[1][1], pieces[2][0]};
  EXPECT_THROW((void)njobs::group_part_fingerprints(mixed, o), std::runtime_error);  // pieces of two groups
  auto run_exact = [&](const std::vector<std::string>& m, std::vector<std::string> e) {
    const std::vector<std::string_view> mv(m.begin(), m.end()), bv(buckets.begin(), buckets.end()),
        dv(data.begin(), data.end()), ev(e.begin(), e.end());
    const njobs::part_stages stages{bv, dv, {}, ev};
    return njobs::run_dedup_parts(c.sources, mv, part_sources, out, o, &stages);
  };
  const auto single = njobs::run_dedup(c.sources, (c.dir / "single").string(), o);
  const auto r = run_exact(slim, exact);
  EXPECT_EQ(r.removed_exact, single.removed_exact);
  EXPECT_GT(r.removed_exact, 0u);
  EXPECT_TRUE(read_file(c.dir / "out" / "clusters.tsv") == read_file(c.dir / "single" / "clusters.tsv"));
  auto damaged_exact = exact;
  damaged_exact[1][damaged_exact[1].size() / 2] ^= 0x20;
  EXPECT_THROW(run_exact(slim, damaged_exact), std::runtime_error);
  EXPECT_THROW(run_exact(slim, {exact[0], exact[0]}), std::runtime_error);  // a group given twice
  EXPECT_THROW(run_exact(slim, {exact[0]}), std::runtime_error);            // a group missing
  EXPECT_THROW(run(buckets, data, slim), std::runtime_error);               // no fingerprints, no exact groups
}

TEST(Parts, DamagedOrMismatchedKeepListsAreRefused) {
  staged_parts staged;
  const corpus& c = staged.c;
  const njobs::dedup_options& o = staged.o;
  const std::vector<std::uint32_t> part_sources{0, 1, 2};
  const std::string out = (c.dir / "out").string();
  const std::vector<std::string_view> meta(staged.meta.begin(), staged.meta.end());
  const std::vector<std::string_view> bucket_views(staged.buckets.begin(), staged.buckets.end());
  const auto candidates = njobs::part_candidates(bucket_views);
  std::vector<std::string> data;
  for (std::size_t i = 0; i < 3; ++i) {
    data.push_back(njobs::part_candidate_data(c.sources[i], staged.parts[i], candidates[i], o));
  }
  const std::vector<std::string_view> data_views(data.begin(), data.end());
  const njobs::part_stages stages{bucket_views, data_views};
  // Keeps the keep lists and the temporary file's path; writes nothing.
  std::vector<std::string> keep;
  std::string path;
  const njobs::part_writes keep_only = [&](std::span<const std::string> k, const std::string& p) {
    keep.assign(k.begin(), k.end());
    path = p;
    throw std::runtime_error("writer failed");
  };
  // A failed write: the error passes on, and no deduped.jsonl, temporary or not, is left.
  EXPECT_THROW(njobs::run_dedup_parts(c.sources, meta, part_sources, out, o, &stages, &keep_only), std::runtime_error);
  ASSERT_EQ(keep.size(), 3u);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(c.dir / "out" / "deduped.jsonl"));
  write_file(path, std::string(64, ' '));  // a file to write into, as run_dedup_parts makes it
  const std::string& meta0 = staged.meta[0];
  auto damaged = keep[0];
  damaged[damaged.size() / 2] ^= 0x20;
  try {
    (void)njobs::write_part_kept(c.sources[0], meta0, damaged, path, o);
    ADD_FAILURE() << "a damaged keep list was used";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a.jsonl"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)njobs::write_part_kept(c.sources[0], meta0, keep[2], path, o), std::runtime_error);  // another part's
  EXPECT_THROW((void)njobs::write_part_kept(c.sources[0], meta0, keep[0].substr(0, 40), path, o), std::runtime_error);
  EXPECT_THROW((void)njobs::write_part_kept(c.sources[0], meta0, keep[0], (c.dir / "none").string(), o),
               std::runtime_error);  // the file is the run's: never created by a part
  // Output compressed, or a line's size unknown beforehand (a text file): run_dedup_parts writes alone.
  for (const bool text : {false, true}) {
    njobs::dedup_options x = o;
    std::vector<nio::source_info> sources = c.sources;
    std::vector<std::string> parts;
    if (text) {
      fs::create_directories(c.dir / "texts");
      write_file(c.dir / "texts" / "t.txt", "a text file, one document");  // in a directory: a text_file source
      sources.push_back(nio::expand_inputs({(c.dir / "texts").string()}).sources.at(0));
      ASSERT_EQ(sources.back().kind, nio::source_kind::text_file);
    } else {
      x.compression = nio::output_compression::zstd;
    }
    for (const auto& src : sources) parts.push_back(njobs::scan_part(src, x));
    const std::vector<std::string_view> views(parts.begin(), parts.end());
    std::vector<std::uint32_t> order(parts.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::size_t calls = 0;
    const njobs::part_writes count = [&](std::span<const std::string>, const std::string&) { ++calls; };
    const auto r = njobs::run_dedup_parts(sources, views, order, out, x, nullptr, &count);
    EXPECT_EQ(calls, 0u);
    const auto single = njobs::run_dedup(sources, (c.dir / "single").string(), x);
    EXPECT_EQ(r.kept, single.kept);
    const char* name = text ? "deduped.jsonl" : "deduped.jsonl.zst";
    EXPECT_TRUE(read_file(c.dir / "out" / name) == read_file(c.dir / "single" / name)) << name;
  }
}

TEST(Parts, DamagedOrMismatchedPartsAreRefused) {
  corpus c;
  njobs::dedup_options o;
  o.max_reported_errors = 0;
  std::vector<std::string> parts;
  for (const auto& s : c.sources) parts.push_back(njobs::scan_part(s, o));
  const std::vector<std::uint32_t> part_sources{0, 1, 2};
  const std::string out = (c.dir / "out").string();
  auto run = [&](std::vector<std::string> p) {
    const std::vector<std::string_view> views(p.begin(), p.end());
    return njobs::run_dedup_parts(c.sources, views, part_sources, out, o);
  };
  EXPECT_NO_THROW(run(parts));
  for (const std::size_t at : {std::size_t{3}, std::size_t{40}, parts[0].size() / 2, parts[0].size() - 1}) {
    auto damaged = parts;
    damaged[0][at] = static_cast<char>(damaged[0][at] ^ 0x20);
    EXPECT_THROW(run(damaged), std::runtime_error) << at;
  }
  auto truncated = parts;
  truncated[2].resize(truncated[2].size() / 3);
  EXPECT_THROW(run(truncated), std::runtime_error);
  njobs::dedup_options other = o;
  other.num_perm = 64;
  auto mismatched = parts;
  mismatched[1] = njobs::scan_part(c.sources[1], other);
  try {
    run(mismatched);
    ADD_FAILURE() << "a part of other options was merged";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("b.jsonl.gz"), std::string::npos) << e.what();
  }
  auto swapped = parts;
  std::swap(swapped[0], swapped[2]);  // a part of another source: documents and sizes disagree
  EXPECT_THROW(run(swapped), std::runtime_error);
  const std::vector<std::uint32_t> gap{0, 2, 2};
  const std::vector<std::string_view> views(parts.begin(), parts.end());
  EXPECT_THROW(njobs::run_dedup_parts(c.sources, views, gap, out, o), std::invalid_argument);
}

// Decontamination in parts: references whose texts the corpus repeats
// (make_jsonl with seed 1 starts with the same texts), and a bad line.
struct references {
  std::vector<nio::source_info> sources;
  explicit references(const corpus& c) {
    write_file(c.dir / "refs.jsonl", make_jsonl(1, 6));
    sources = nio::expand_inputs({(c.dir / "refs.jsonl").string()}).sources;
  }
};

std::vector<std::string> decontaminate_parts(const corpus& c, const references& refs,
                                             const njobs::decontaminate_options& o, std::uint64_t part_bytes,
                                             std::vector<std::uint32_t>& part_sources) {
  std::vector<std::string> parts;
  part_sources.clear();
  for (std::uint32_t s = 0; s < c.sources.size(); ++s) {
    const std::string bytes = read_file(c.sources[s].path);
    std::uint64_t line = 1;
    for (const njobs::part_range r : njobs::part_ranges(c.sources[s], part_bytes, o.reader)) {
      nio::source_info src = c.sources[s];
      src.range_begin = r.begin;
      src.range_end = r.end;
      src.range_first_line = line;
      line += newlines(bytes, r.begin, r.end);
      parts.push_back(njobs::scan_decontaminate_part(src, refs.sources, o));
      part_sources.push_back(s);
    }
  }
  return parts;
}

struct kept_notices final : neardup::pipeline::sink {
  std::vector<std::string> messages;
  void message(const std::string& line) override { messages.push_back(line); }
};

// stats.json without its timing fields.
std::string stats_without_timings(const fs::path& dir) {
  std::string s = read_file(dir / "stats.json");
  for (const char* key : {"\"seconds\"", "\"peak_rss_bytes\""}) {
    const auto at = s.find(key);
    if (at != std::string::npos) s.erase(at, s.find_first_of(",}", at) - at);
  }
  return s;
}

TEST(DecontaminateParts, MergedPartsGiveTheSingleRunOutputs) {
  corpus c;
  const references refs(c);
  for (const bool zstd : {false, true}) {
    for (const std::size_t chunk : {std::size_t{700}, std::size_t{8} << 20}) {
      njobs::decontaminate_options o;
      o.ngram = 5;
      o.threads = 2;
      o.max_shared = 3;
      o.max_reported_errors = 2;  // the cap applies over all parts, as in one run
      o.reader.chunk_bytes = chunk;
      if (zstd) o.compression = nio::output_compression::zstd;
      const char* clean = zstd ? "clean.jsonl.zst" : "clean.jsonl";
      kept_notices single_notices;
      o.events = &single_notices;
      const auto single = njobs::run_decontaminate(c.sources, refs.sources, (c.dir / "single").string(), o);
      EXPECT_GT(single.removed, 0u);
      EXPECT_GT(single.skipped, 0u);
      for (const std::uint64_t part_bytes : {std::uint64_t{1}, std::uint64_t{3000}, std::uint64_t{1} << 30}) {
        SCOPED_TRACE(std::to_string(zstd) + " chunk " + std::to_string(chunk) + " part " +
                     std::to_string(part_bytes));
        std::vector<std::uint32_t> part_sources;
        const auto parts = decontaminate_parts(c, refs, o, part_bytes, part_sources);
        if (chunk == 700 && part_bytes == 1) {
          EXPECT_GT(parts.size(), 20u);
        }
        const std::vector<std::string_view> views(parts.begin(), parts.end());
        kept_notices notices;
        o.events = &notices;
        const auto merged =
            njobs::run_decontaminate_parts(c.sources, refs.sources, views, part_sources, (c.dir / "parts").string(), o);
        o.events = &single_notices;
        EXPECT_EQ(read_file(c.dir / "single" / "contamination.tsv"), read_file(c.dir / "parts" / "contamination.tsv"));
        EXPECT_EQ(read_file(c.dir / "single" / clean), read_file(c.dir / "parts" / clean));
        EXPECT_EQ(stats_without_timings(c.dir / "single"), stats_without_timings(c.dir / "parts"));
        EXPECT_EQ(notices.messages, single_notices.messages);
        EXPECT_EQ(merged.documents, single.documents);
        EXPECT_EQ(merged.removed, single.removed);
      }
    }
  }
}

TEST(DecontaminateParts, DamagedOrMismatchedPartsAreRefused) {
  corpus c;
  const references refs(c);
  njobs::decontaminate_options o;
  o.ngram = 5;
  o.max_reported_errors = 0;
  std::vector<std::uint32_t> part_sources;
  const auto parts = decontaminate_parts(c, refs, o, std::uint64_t{1} << 30, part_sources);
  const std::string out = (c.dir / "out").string();
  auto run = [&](std::vector<std::string> p) {
    const std::vector<std::string_view> views(p.begin(), p.end());
    return njobs::run_decontaminate_parts(c.sources, refs.sources, views, part_sources, out, o);
  };
  EXPECT_NO_THROW(run(parts));
  for (const std::size_t at : {std::size_t{3}, std::size_t{40}, parts[0].size() / 2, parts[0].size() - 1}) {
    auto damaged = parts;
    damaged[0][at] = static_cast<char>(damaged[0][at] ^ 0x20);
    EXPECT_THROW(run(damaged), std::runtime_error) << at;
  }
  auto truncated = parts;
  truncated[2].resize(truncated[2].size() / 3);
  EXPECT_THROW(run(truncated), std::runtime_error);
  auto dedup_part = parts;
  dedup_part[1] = njobs::scan_part(c.sources[1], njobs::dedup_options{});
  try {
    run(dedup_part);
    ADD_FAILURE() << "a dedup part was merged";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("b.jsonl.gz"), std::string::npos) << e.what();
  }
  njobs::decontaminate_options other = o;
  other.min_reference_tokens = 1000;  // no usable reference
  auto mismatched = parts;
  mismatched[0] = njobs::scan_decontaminate_part(c.sources[0], refs.sources, other);
  EXPECT_THROW(run(mismatched), std::runtime_error);
  const std::vector<std::uint32_t> gap{0, 2, 2};
  const std::vector<std::string_view> views(parts.begin(), parts.end());
  EXPECT_THROW(njobs::run_decontaminate_parts(c.sources, refs.sources, views, gap, out, o), std::invalid_argument);
}

}  // namespace

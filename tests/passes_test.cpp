// End-to-end tests of the exact n-gram data-quality passes against brute force:
//   run_dedup(near = false)  (neardup exact)   vs grouping by tokenize() sequences
//   run_line_dedup           (neardup lines)   vs a std::map of normalize_line() counts
//   run_decontaminate        (decontaminate)   vs sets of n-gram token strings
//   run_pairs / run_eval     (pairs, eval)     vs all-pairs exact_jaccard + union-find
// and bad input in each pass (bad records kept and counted, missing inputs,
// gzip/zstd inputs).
//
// Everything is generated from fixed seeds with an own PRNG; the brute-force
// side uses only strings and the simple public helpers (tokenize,
// normalize_line, shingler + exact_jaccard), never the pass under test. Output
// JSONL is checked with a small JSON string decoder written here, so no byte
// of a rewritten line is taken on trust.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_util.hpp"
#include "neardup/banding.hpp"
#include "neardup/jobs/decontaminate.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/lines.hpp"
#include "neardup/jobs/pairs.hpp"
#include "neardup/lines.hpp"
#include "neardup/shingle.hpp"
#include "neardup/tokenize.hpp"

namespace {

namespace fs = std::filesystem;
namespace nio = neardup::io;
namespace njobs = neardup::jobs;
namespace npipeline = neardup::pipeline;

// ---------------------------------------------------------------- utilities

using neardup_test::small_scale;

class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() noexcept {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
  bool chance(unsigned percent) noexcept { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

using neardup_test::read_file;
using neardup_test::temp_dir;
using neardup_test::write_file;

void write_gzip(const std::string& p, std::string_view bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

void write_zstd(const std::string& p, std::string_view bytes) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 3);
  ASSERT_FALSE(ZSTD_isError(n));
  out.resize(n);
  write_file(p, out);
}

std::vector<std::string> split_lines(std::string_view s) {  // '\n'-terminated lines
  std::vector<std::string> out;
  std::size_t begin = 0;
  while (begin < s.size()) {
    std::size_t end = s.find('\n', begin);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {  // every field, empty ones too
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = s.find(sep, begin);
    out.emplace_back(s.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) return out;
    begin = end + 1;
  }
}

std::string unescape_tsv(std::string_view f) {
  std::string out;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out += f[i];
      continue;
    }
    const char c = f[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
  }
  return out;
}

std::vector<std::vector<std::string>> read_tsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& line : split_lines(read_file(path))) {
    auto fields = split(line, '\t');
    for (auto& f : fields) f = unescape_tsv(f);
    rows.push_back(std::move(fields));
  }
  return rows;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes a JSON string literal that starts at s[pos] (the opening quote);
// returns the value and sets pos past the closing quote. Throws on bad input.
std::string decode_json_string(std::string_view s, std::size_t& pos) {
  if (pos >= s.size() || s[pos] != '"') throw std::runtime_error("expected a JSON string");
  std::string out;
  auto hex4 = [&](std::size_t at) {
    if (at + 4 > s.size()) throw std::runtime_error("short \\u escape");
    return static_cast<std::uint32_t>(std::stoul(std::string(s.substr(at, 4)), nullptr, 16));
  };
  for (std::size_t i = pos + 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      pos = i + 1;
      return out;
    }
    if (static_cast<unsigned char>(c) < 0x20) throw std::runtime_error("raw control character in JSON string");
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) break;
    switch (s[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::uint32_t cp = hex4(i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < s.size() && s[i + 1] == '\\' && s[i + 2] == 'u') {
          const std::uint32_t lo = hex4(i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: throw std::runtime_error("bad JSON escape");
    }
  }
  throw std::runtime_error("unterminated JSON string");
}

// Our own JSON string encoder, deliberately different from the library's:
// escapes '/', writes some ASCII letters and all non-ASCII BMP characters as
// \uXXXX, so a pass that re-encodes a line it should keep is caught.
std::string encode_json_string(std::string_view s, rng* r = nullptr) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  auto u_escape = [&](std::uint32_t v) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(v >> shift) & 0xF];
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '/') {
      out += "\\/";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      u_escape(c);
    } else if (c >= 0xC0 && c < 0xE0 && i + 1 < s.size()) {  // 2-byte UTF-8 -> \u
      u_escape(((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu));
      ++i;
    } else if (r != nullptr && c >= 'a' && c <= 'z' && r->chance(3)) {
      u_escape(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

nio::expanded_inputs inputs_of(std::initializer_list<std::string> paths) { return nio::expand_inputs(paths); }

// prefix + decimal value (avoids g++ 12's false -Wrestrict on "lit" + std::string).
std::string tag(std::string_view prefix, std::uint64_t value) {
  std::string s(prefix);
  s += std::to_string(value);
  return s;
}

std::vector<std::string> words_of(std::size_t count, rng& r, std::size_t vocabulary = 50000) {
  std::vector<std::string> w;
  for (std::size_t i = 0; i < count; ++i) w.push_back(tag("w", r.below(vocabulary)));
  return w;
}

std::string join(const std::vector<std::string>& words, std::string_view sep = " ") {
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) s += sep;
    s += words[i];
  }
  return s;
}

// The bad records every pass must keep unchanged and count.
const std::vector<std::string>& bad_records() {
  static const std::vector<std::string> bad = {
      R"({"id":"bad-malformed","text":"unterminated)",
      R"({"id":"bad-missing","content":"no text field here at all"})",
      R"({"id":"bad-number","text":12345})",
      R"(["not", "an", "object"])",
  };
  return bad;
}

// =====================================================================
// 1. neardup exact (run_dedup with near = false)
// =====================================================================

struct exact_case {
  std::vector<std::string> lines;  // input JSONL lines
  std::vector<std::string> ids;    // per document (non-blank line)
  std::vector<std::string> texts;  // per document; bad records: empty
  std::vector<bool> ok;            // per document
};

exact_case make_exact_corpus(std::uint64_t seed, std::size_t bases) {
  rng r(seed);
  exact_case c;
  std::vector<std::string> base;
  for (std::size_t b = 0; b < bases; ++b) base.push_back(join(words_of(3 + r.below(40), r, 300)));
  auto variant = [&](const std::string& t) {  // same token sequence, different bytes
    std::string v;
    for (char ch : t) {
      if (ch == ' ') {
        const std::size_t k = r.below(5);
        v += k == 0 ? "  " : k == 1 ? ", " : k == 2 ? "\n" : k == 3 ? " -- " : " ";
      } else {
        v += r.chance(20) ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
      }
    }
    return (r.chance(30) ? "  \"" : "") + v + (r.chance(30) ? "!!" : "");
  };
  std::size_t bad_at = 0;
  const std::size_t docs = bases * 3;
  for (std::size_t d = 0; d < docs; ++d) {
    const std::string id = tag("e", d);
    if (d % 17 == 5 && bad_at < bad_records().size()) {
      c.lines.push_back(bad_records()[bad_at++]);
      c.ids.emplace_back();  // default SOURCE:LINE ids are not checked
      c.texts.emplace_back();
      c.ok.push_back(false);
      continue;
    }
    if (d % 11 == 3) c.lines.emplace_back("   ");  // blank line: not a document
    std::string text;
    const std::size_t kind = r.below(10);
    if (kind < 4) {
      text = variant(base[r.below(bases)]);
    } else if (kind < 6) {  // near duplicate: one word changed (not an exact duplicate)
      auto w = split(base[r.below(bases)], ' ');
      w[r.below(w.size())] = tag("changed", r.below(3));
      text = join(w);
    } else if (kind == 6) {
      text = r.chance(50) ? "" : " ... !!! ";  // no tokens: never a duplicate
    } else {
      text = base[r.below(bases)];
    }
    c.lines.push_back("{\"id\":" + encode_json_string(id) + ",\"len\":" + std::to_string(text.size()) +
                      ",\"text\":" + encode_json_string(text, &r) + "}");
    c.ids.push_back(id);
    c.texts.push_back(text);
    c.ok.push_back(true);
  }
  return c;
}

// Brute force: documents with the same non-empty token sequence form a group;
// the kept one is the first (or the longest text, ties to the first).
std::vector<std::size_t> brute_exact(const exact_case& c, npipeline::keep_policy keep) {
  const std::size_t n = c.texts.size();
  std::map<std::vector<std::string>, std::vector<std::size_t>> groups;
  std::vector<std::size_t> kept(n);
  std::iota(kept.begin(), kept.end(), std::size_t{0});
  for (std::size_t d = 0; d < n; ++d) {
    if (!c.ok[d]) continue;
    auto tokens = neardup::tokenize(c.texts[d]);
    if (!tokens.empty()) groups[std::move(tokens)].push_back(d);
  }
  for (const auto& [tokens, members] : groups) {
    std::size_t best = members.front();
    if (keep == npipeline::keep_policy::longest) {
      for (std::size_t m : members) {
        if (c.texts[m].size() > c.texts[best].size()) best = m;
      }
    }
    for (std::size_t m : members) kept[m] = best;
  }
  return kept;
}

njobs::dedup_options quiet_dedup() {
  njobs::dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;  // bad records are planted on purpose
  o.threads = 2;
  return o;
}

TEST(ExactPass, MatchesBruteForceGroupingOfTokenSequences) {
  const exact_case c = make_exact_corpus(11, small_scale() ? 60 : 200);
  temp_dir dir;
  std::string all;
  for (const auto& l : c.lines) all += l + "\n";
  write_file(dir / "in.jsonl", all);
  const auto in = inputs_of({dir / "in.jsonl"});

  for (const auto keep : {npipeline::keep_policy::first, npipeline::keep_policy::longest}) {
    SCOPED_TRACE(std::string(neardup::name(keep)));
    njobs::dedup_options o = quiet_dedup();
    o.near = false;
    o.keep = keep;
    const std::string out = dir / ("out_" + std::string(neardup::name(keep)));
    const njobs::dedup_report rep = njobs::run_dedup(in.sources, out, o);
    const auto kept = brute_exact(c, keep);

    const auto rows = read_tsv(out + "/clusters.tsv");
    ASSERT_EQ(rows.size(), c.texts.size());
    std::uint64_t removed = 0;
    std::string expected_kept;
    std::size_t line = 0;
    for (std::size_t d = 0; d < c.texts.size(); ++d) {
      while (c.lines[line] == "   ") ++line;
      ASSERT_EQ(rows[d].size(), 2u);
      if (c.ok[d]) {
        EXPECT_EQ(rows[d][0], c.ids[d]) << "document " << d;
        EXPECT_EQ(rows[d][1], c.ids[kept[d]]) << "document " << d;
      } else {
        EXPECT_EQ(rows[d][1], rows[d][0]) << "a bad record is its own cluster";
      }
      if (kept[d] == d) {
        expected_kept += c.lines[line] + "\n";
      } else {
        ++removed;
      }
      ++line;
    }
    EXPECT_EQ(read_file(out + "/deduped.jsonl"), expected_kept);
    EXPECT_EQ(rep.removed_exact, removed);
    EXPECT_EQ(rep.removed_near, 0u);
    EXPECT_EQ(rep.kept, c.texts.size() - removed);
    EXPECT_EQ(rep.skipped, bad_records().size());
    EXPECT_EQ(rep.documents, c.texts.size());
    EXPECT_GT(removed, c.texts.size() / 5);  // the corpus really has exact duplicates
  }
}

// =====================================================================
// 2. neardup lines (run_line_dedup)
// =====================================================================

struct line_doc {
  std::string prefix, suffix;  // JSONL bytes around the text literal
  std::string text;
  std::string line;            // the full input line
  bool ok = true;
};

std::vector<line_doc> make_lines_corpus(std::uint64_t seed, std::size_t docs) {
  rng r(seed);
  // Boilerplate pool: line i drawn with probability ~ 1/(i+1), so counts
  // straddle max_repeats. Variants differ only in case and ASCII whitespace.
  std::vector<std::string> pool;
  for (std::size_t i = 0; i < 40; ++i) {
    pool.push_back(i % 5 == 0 ? tag("Cookie Policy  ", i) + " — accept / reject"
                              : tag("Nav: Home | About | item", i));
  }
  auto variant = [&](const std::string& s) {
    std::string v = r.chance(30) ? " \t" : "";
    for (char ch : s) {
      if (ch == ' ' && r.chance(30)) {
        v += r.chance(50) ? "\t " : "   ";
      } else if (std::isalpha(static_cast<unsigned char>(ch)) && r.chance(15)) {
        v += static_cast<char>(std::isupper(static_cast<unsigned char>(ch))
                                   ? std::tolower(static_cast<unsigned char>(ch))
                                   : std::toupper(static_cast<unsigned char>(ch)));
      } else {
        v += ch;
      }
    }
    if (r.chance(20)) v += r.chance(50) ? "\r" : "  ";
    return v;
  };
  std::vector<line_doc> out;
  for (std::size_t d = 0; d < docs; ++d) {
    line_doc doc;
    const std::size_t nlines = 1 + r.below(10);
    const bool all_boiler = r.chance(8);
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < nlines; ++i) {
      const std::size_t k = r.below(10);
      if (k < 4 || all_boiler) {
        std::size_t j = r.below(pool.size());
        j = r.below(j + 1);  // skew towards the front
        lines.push_back(variant(pool[j]));
      } else if (k < 5) {
        lines.push_back(r.chance(50) ? "" : " \t ");
      } else {
        lines.push_back(tag("unique line ", d) + "." + std::to_string(i) + " " +
                        join(words_of(3, r)) + (r.chance(10) ? " caf\xc3\xa9" : ""));
      }
    }
    if (d % 50 == 7) lines.assign(1, "   ");  // a blank text: kept as is
    doc.text = join(lines, "\n");
    if (r.chance(10)) doc.text += "\n";
    const std::string id = encode_json_string(tag("L", d));
    switch (r.below(4)) {
      case 0: doc.prefix = "{\"id\":" + id + ",\"text\":"; doc.suffix = "}"; break;
      case 1: doc.prefix = "{\"text\" : "; doc.suffix = " , \"id\":" + id + ",\"meta\":{\"a\":[1,2,{\"b\":null}]}}"; break;
      case 2: doc.prefix = "{\"id\":" + id + ",\"text\":\"decoy\",\"url\":\"http:\\/\\/x\",\"text\":";  // last key wins
              doc.suffix = ",\"n\":1.5e3}"; break;
      default: doc.prefix = " {\"meta\":{\"text\":\"nested, not the text\"},\"id\":" + id + ",\t\"text\":";
               doc.suffix = "}  "; break;
    }
    doc.line = doc.prefix + encode_json_string(doc.text, &r) + doc.suffix;
    out.push_back(std::move(doc));
    if (d % 97 == 13) {
      for (const auto& b : bad_records()) {
        line_doc bad;
        bad.ok = false;
        bad.line = b;
        out.push_back(bad);
      }
    }
  }
  return out;
}

struct lines_truth {
  std::vector<std::string> expected_lines;  // deduped.jsonl lines, except rewritten ones are checked apart
  std::vector<std::string> expected_text;   // per output line: new text ("" = line copied unchanged)
  std::vector<const line_doc*> source;      // per output line
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t documents = 0, modified = 0, dropped = 0, lines = 0, lines_removed = 0, repeated_distinct = 0;
};

lines_truth brute_lines(const std::vector<line_doc>& docs, std::uint32_t max_repeats) {
  lines_truth t;
  for (const auto& d : docs) {
    if (!d.ok) continue;
    for (const auto& l : split(d.text, '\n')) {
      if (neardup::is_blank_line(l)) continue;
      ++t.counts[neardup::normalize_line(l)];
      ++t.lines;
    }
  }
  for (const auto& [line, count] : t.counts) t.repeated_distinct += count > max_repeats;
  for (const auto& d : docs) {
    ++t.documents;
    if (!d.ok) {
      t.source.push_back(&d);
      t.expected_text.emplace_back();
      continue;
    }
    std::vector<std::string> kept;
    std::uint64_t removed = 0;
    bool content = false;
    bool last_removed = false;
    for (const auto& l : split(d.text, '\n')) {
      last_removed = !neardup::is_blank_line(l) && t.counts[neardup::normalize_line(l)] > max_repeats;
      if (last_removed) {
        ++removed;
        continue;
      }
      content |= !neardup::is_blank_line(l);
      kept.push_back(l);
    }
    // The text's last line removed: the CR of a CRLF before it goes too.
    if (last_removed && !kept.empty() && !kept.back().empty() && kept.back().back() == '\r') kept.back().pop_back();
    if (removed == 0) {
      t.source.push_back(&d);
      t.expected_text.emplace_back();
      continue;
    }
    t.lines_removed += removed;
    if (!content) {
      ++t.dropped;
      continue;
    }
    ++t.modified;
    t.source.push_back(&d);
    t.expected_text.push_back(join(kept, "\n"));
  }
  return t;
}

void check_lines_output(const std::string& out_path, const lines_truth& t) {
  const auto got = split_lines(read_file(out_path));
  ASSERT_EQ(got.size(), t.source.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const line_doc& d = *t.source[i];
    if (t.expected_text[i].empty()) {
      ASSERT_EQ(got[i], d.line) << "output line " << i + 1 << " should be the input line unchanged";
      continue;
    }
    // Every byte around the text literal is kept; the literal decodes to the new text.
    ASSERT_GE(got[i].size(), d.prefix.size() + d.suffix.size()) << got[i];
    ASSERT_EQ(got[i].substr(0, d.prefix.size()), d.prefix) << "output line " << i + 1;
    ASSERT_EQ(got[i].substr(got[i].size() - d.suffix.size()), d.suffix) << "output line " << i + 1;
    std::size_t pos = d.prefix.size();
    ASSERT_EQ(decode_json_string(got[i], pos), t.expected_text[i]) << "output line " << i + 1;
    ASSERT_EQ(pos, got[i].size() - d.suffix.size()) << "output line " << i + 1;
  }
}

// The "most_repeated_removed" entries of stats.json as (count, line sample).
std::vector<std::pair<std::uint64_t, std::string>> stats_top_lines(const std::string& stats) {
  std::vector<std::pair<std::uint64_t, std::string>> top;
  std::size_t at = stats.find("\"most_repeated_removed\"");
  if (at == std::string::npos) throw std::runtime_error("no most_repeated_removed in stats.json");
  const std::size_t end = stats.find(']', at);
  for (;;) {
    const std::size_t c = stats.find("\"count\":", at);
    if (c == std::string::npos || c > end) break;
    const std::uint64_t count = std::stoull(stats.substr(c + 8));
    std::size_t l = stats.find("\"line\":", c);
    l = stats.find('"', l + 7);
    std::string line = decode_json_string(stats, l);
    top.emplace_back(count, std::move(line));
    at = l;
  }
  return top;
}

TEST(LinesPass, MatchesBruteForceAndKeepsOtherFieldsByteForByte) {
  const auto docs = make_lines_corpus(21, small_scale() ? 400 : 1500);
  temp_dir dir;
  std::string all;
  for (const auto& d : docs) all += d.line + "\n";
  write_file(dir / "in.jsonl", all);
  const auto in = inputs_of({dir / "in.jsonl"});
  for (const std::uint32_t max_repeats : {1u, 6u}) {
    SCOPED_TRACE("max_repeats " + std::to_string(max_repeats));
    const lines_truth t = brute_lines(docs, max_repeats);
    ASSERT_GT(t.modified, 10u);
    ASSERT_GT(t.dropped, 3u);
    std::string first_output, first_top;
    for (const std::size_t partitions : {1u, 4u, 0u}) {  // 0: chosen from a tiny memory budget
      for (const std::size_t threads : {1u, 2u}) {
        SCOPED_TRACE("partitions " + std::to_string(partitions) + " threads " + std::to_string(threads));
        njobs::line_dedup_options o;
        o.max_repeats = max_repeats;
        o.partitions = partitions;
        o.memory_budget_bytes = 1 << 14;  // used when partitions == 0: several partitions
        o.threads = threads;
        o.progress = false;
        o.max_reported_errors = 0;
        o.top_lines = 10;
        o.reader.chunk_bytes = 4096;  // many chunks: exercises ordering
        const std::string out = dir / ("out" + std::to_string(max_repeats) + "_" + std::to_string(partitions) +
                                       "_" + std::to_string(threads));
        const njobs::line_dedup_report rep = njobs::run_line_dedup(in.sources, out, o);
        check_lines_output(out + "/deduped.jsonl", t);
        EXPECT_EQ(rep.documents, t.documents);
        EXPECT_EQ(rep.skipped, docs.size() - static_cast<std::size_t>(std::count_if(
                                                  docs.begin(), docs.end(), [](const line_doc& d) { return d.ok; })));
        EXPECT_EQ(rep.modified, t.modified);
        EXPECT_EQ(rep.dropped, t.dropped);
        EXPECT_EQ(rep.not_rewritten, 0u);
        EXPECT_EQ(rep.lines, t.lines);
        EXPECT_EQ(rep.lines_removed, t.lines_removed);
        EXPECT_EQ(rep.distinct_lines, t.counts.size());
        EXPECT_EQ(rep.repeated_distinct, t.repeated_distinct);
        if (partitions != 0) {
          EXPECT_EQ(rep.partitions, partitions);
        } else {
          EXPECT_GT(rep.partitions, 1u);
        }

        // stats.json: the most repeated removed lines, counts descending, each
        // sample a real line whose brute-force count is the listed count.
        const std::string stats = read_file(out + "/stats.json");
        const auto top = stats_top_lines(stats);
        std::vector<std::uint64_t> want;
        for (const auto& [line, count] : t.counts) {
          if (count > max_repeats) want.push_back(count);
        }
        std::sort(want.rbegin(), want.rend());
        want.resize(std::min<std::size_t>(want.size(), 10));
        ASSERT_EQ(top.size(), want.size());
        ASSERT_EQ(rep.top.size(), want.size());
        for (std::size_t i = 0; i < top.size(); ++i) {
          EXPECT_EQ(top[i].first, want[i]) << i;
          EXPECT_EQ(rep.top[i].count, want[i]) << i;
          const auto it = t.counts.find(neardup::normalize_line(top[i].second));
          ASSERT_NE(it, t.counts.end()) << top[i].second;
          EXPECT_EQ(it->second, top[i].first) << top[i].second;
        }
        const std::string top_text = stats.substr(stats.find("\"most_repeated_removed\""),
                                                  stats.find(']', stats.find("\"most_repeated_removed\"")) -
                                                      stats.find("\"most_repeated_removed\""));
        if (first_output.empty()) {
          first_output = read_file(out + "/deduped.jsonl");
          first_top = top_text;
        } else {
          EXPECT_EQ(read_file(out + "/deduped.jsonl"), first_output) << "partitions/threads changed the output";
          EXPECT_EQ(top_text, first_top) << "partitions/threads changed the top list";
        }
      }
    }
  }
}

TEST(LinesPass, RepairedLinesAreKeptAndCountedNotRewritten) {
  temp_dir dir;
  std::string all;
  for (int i = 0; i < 5; ++i) all += "{\"id\":\"r" + std::to_string(i) + "\",\"text\":\"boiler plate\\nkeep " +
                                     std::to_string(i) + "\"}\n";
  // Invalid UTF-8 in another field: the text's place in raw is unknown after repair.
  const std::string repaired = "{\"id\":\"bad\xff\",\"text\":\"boiler plate\\nmine\"}";
  all += repaired + "\n";
  write_file(dir / "in.jsonl", all);
  const auto in = inputs_of({dir / "in.jsonl"});
  njobs::line_dedup_options o;
  o.max_repeats = 2;
  o.progress = false;
  o.max_reported_errors = 0;
  const auto rep = njobs::run_line_dedup(in.sources, dir / "out", o);
  const auto got = split_lines(read_file(dir / "out/deduped.jsonl"));
  ASSERT_EQ(got.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], "{\"id\":\"r" + std::to_string(i) + "\",\"text\":\"keep " + std::to_string(i) + "\"}");
  EXPECT_EQ(got[5], repaired);
  EXPECT_EQ(rep.modified, 5u);
  EXPECT_EQ(rep.not_rewritten, 1u);

  // Raw control characters inside the literal (accepted leniently, repaired
  // before parsing): the line is also kept unchanged and counted.
  const std::string raw_ctl = "{\"id\":\"c\",\"text\":\"boiler plate\\nkeep\ttab\x01one\"}";
  write_file(dir / "in2.jsonl", all + raw_ctl + "\n");
  const auto in2 = inputs_of({dir / "in2.jsonl"});
  const auto rep2 = njobs::run_line_dedup(in2.sources, dir / "out2", o);
  const auto got2 = split_lines(read_file(dir / "out2/deduped.jsonl"));
  ASSERT_EQ(got2.size(), 7u);
  EXPECT_EQ(got2[6], raw_ctl);
  EXPECT_EQ(rep2.modified, 5u);
  EXPECT_EQ(rep2.not_rewritten, 2u);
}


TEST(LinesPass, TextFilesCrlfBomNestedFieldAndZstdOutput) {
  temp_dir dir;
  fs::create_directories(dir / "corpus/sub");
  // Text files: one document each, written back as {"id","text"}.
  write_file(dir / "corpus/a.txt", "Copyright ACME\nreal text a\n");
  write_file(dir / "corpus/sub/b.md", "copyright   acme\r\nreal text b");
  write_file(dir / "corpus/c.txt", "COPYRIGHT ACME\n\n  \n");  // only boilerplate + blank: dropped
  // JSONL with a BOM, CRLF line ends and the text in a nested field.
  write_file(dir / "corpus/d.jsonl",
             "\xEF\xBB\xBF{\"id\":1,\"doc\":{\"body\":\"copyright acme\\nkeep d1\"},\"x\":\"y\"}\r\n"
             "{\"id\":2,\"doc\":{\"body\":\"nothing repeated\"}}\r\n"
             "{\"id\":3,\"doc\":{\"body\":\"Copyright ACME \"},\"z\":[]}\r\n");
  const auto in = inputs_of({dir / "corpus"});
  ASSERT_EQ(in.sources.size(), 4u);
  njobs::line_dedup_options o;
  o.progress = false;
  o.max_reported_errors = 0;
  o.max_repeats = 3;
  o.records.text_field = "/doc/body";
  o.compression = nio::output_compression::zstd;
  const auto rep = njobs::run_line_dedup(in.sources, dir / "out", o);
  EXPECT_FALSE(fs::exists(dir / "out/deduped.jsonl"));
  const std::string packed = read_file(dir / "out/deduped.jsonl.zst");
  std::string out(ZSTD_getFrameContentSize(packed.data(), packed.size()), '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), packed.data(), packed.size());
  ASSERT_FALSE(ZSTD_isError(n));
  out.resize(n);
  // Sources in byte order of their relative paths: a.txt, c.txt, d.jsonl, sub/b.md.
  const std::string root = (dir / "corpus").string() + "/";  // ids start with the directory INPUT
  EXPECT_EQ(out,
            "{\"id\":\"" + root + "a.txt\",\"text\":\"real text a\\n\"}\n"
            "\xEF\xBB\xBF{\"id\":1,\"doc\":{\"body\":\"keep d1\"},\"x\":\"y\"}\r\n"
            "{\"id\":2,\"doc\":{\"body\":\"nothing repeated\"}}\r\n"
            "{\"id\":\"" + root + "sub/b.md\",\"text\":\"real text b\"}\n");
  EXPECT_EQ(rep.documents, 6u);
  EXPECT_EQ(rep.dropped, 2u);   // c.txt and id 3
  EXPECT_EQ(rep.modified, 3u);  // a.txt, id 1, sub/b.md
  EXPECT_EQ(rep.lines_removed, 5u);
}

// =====================================================================
// 3. neardup decontaminate
// =====================================================================

struct contamination_case {
  std::vector<std::vector<std::string>> refs;  // token strings (words are already normalized)
  std::vector<std::string> ref_ids;
  std::vector<std::string> ref_lines;
  std::vector<std::string> doc_ids;
  std::vector<std::string> doc_lines;
  std::vector<std::string> doc_texts;
  std::vector<bool> doc_ok;
  std::vector<bool> planted;  // a reference passage was planted
};

contamination_case make_contamination_case(std::uint64_t seed, std::size_t docs, std::size_t n) {
  rng r(seed);
  contamination_case c;
  const std::size_t refs = 30;
  for (std::size_t i = 0; i < refs; ++i) {
    // References 0..3 are short (< n tokens); the rest 20..60 tokens. Words of
    // references come from their own vocabulary so they never occur by chance.
    const std::size_t len = i < 4 ? 3 + i : 20 + r.below(41);
    std::vector<std::string> w;
    for (std::size_t k = 0; k < len; ++k) w.push_back(tag("ref", r.below(400)));
    if (i == 5) w = c.refs[4];  // a duplicate reference: both ids must be listed
    c.refs.push_back(w);
    c.ref_ids.push_back(tag("bench/", i));
    c.ref_lines.push_back("{\"id\":" + encode_json_string(c.ref_ids.back()) + ",\"text\":" +
                          encode_json_string(join(w)) + "}");
  }
  c.ref_lines.insert(c.ref_lines.begin() + 7, bad_records()[2]);  // a bad reference record
  for (std::size_t d = 0; d < docs; ++d) {
    std::vector<std::string> w = words_of(5 + r.below(120), r);
    bool planted = false;
    const std::size_t kind = r.below(10);
    if (kind < 3) {  // plant passages of 1..2 long references
      for (std::size_t p = 0, np = 1 + r.below(2); p < np; ++p) {
        const auto& ref = c.refs[4 + r.below(refs - 4)];
        const std::size_t len = std::min(ref.size(), n + r.below(20));
        const std::size_t from = r.below(ref.size() - len + 1);
        const std::size_t at = r.below(w.size() + 1);
        w.insert(w.begin() + static_cast<std::ptrdiff_t>(at), ref.begin() + static_cast<std::ptrdiff_t>(from),
                 ref.begin() + static_cast<std::ptrdiff_t>(from + len));
      }
      planted = true;
    } else if (kind == 3) {  // plant a short reference whole
      const auto& ref = c.refs[r.below(4)];
      const std::size_t at = r.below(w.size() + 1);
      w.insert(w.begin() + static_cast<std::ptrdiff_t>(at), ref.begin(), ref.end());
      planted = true;
    } else if (kind == 4) {  // a near miss: n-1 consecutive words of a long reference
      const auto& ref = c.refs[4 + r.below(refs - 4)];
      const std::size_t from = r.below(ref.size() - (n - 1) + 1);
      w.insert(w.begin() + static_cast<std::ptrdiff_t>(r.below(w.size() + 1)),
               ref.begin() + static_cast<std::ptrdiff_t>(from), ref.begin() + static_cast<std::ptrdiff_t>(from + n - 1));
      planted = false;  // may still not match: the brute force decides
    } else if (kind == 5) {  // a document that IS a short reference
      w = c.refs[r.below(4)];
      planted = true;
    }
    // Case and punctuation must not matter.
    std::string text;
    for (std::size_t k = 0; k < w.size(); ++k) {
      if (k) text += r.chance(10) ? ", " : r.chance(5) ? "\n" : " ";
      std::string word = w[k];
      if (r.chance(10)) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
      text += word;
    }
    if (d % 41 == 9) {
      c.doc_lines.push_back(bad_records()[d % bad_records().size()]);
      c.doc_ids.push_back("");
      c.doc_texts.emplace_back();
      c.doc_ok.push_back(false);
      c.planted.push_back(false);
      continue;
    }
    c.doc_ids.push_back(tag("doc", d));
    c.doc_lines.push_back("{\"text\":" + encode_json_string(text, &r) + ",\"id\":" +
                          encode_json_string(c.doc_ids.back()) + "}");
    c.doc_texts.push_back(text);
    c.doc_ok.push_back(true);
    c.planted.push_back(planted);
  }
  return c;
}

std::string key_of(const std::vector<std::string>& t, std::size_t from, std::size_t len) {
  std::string k;
  for (std::size_t i = from; i < from + len; ++i) {
    k += t[i];
    k += '\x1f';
  }
  return k;
}

struct contamination_truth {
  std::uint64_t shared = 0;
  std::vector<std::size_t> refs;  // sorted
};

// Distinct shared n-gram token sequences, by strings: a reference shorter than
// n is one sequence of all its tokens, matched anywhere in a document.
std::vector<contamination_truth> brute_contamination(const contamination_case& c, std::size_t n) {
  std::vector<std::set<std::string>> ref_grams(c.refs.size());
  std::set<std::size_t> short_lengths;
  for (std::size_t i = 0; i < c.refs.size(); ++i) {
    const auto& t = c.refs[i];
    if (t.size() < n) {
      ref_grams[i].insert(key_of(t, 0, t.size()));
      short_lengths.insert(t.size());
    } else {
      for (std::size_t k = 0; k + n <= t.size(); ++k) ref_grams[i].insert(key_of(t, k, n));
    }
  }
  std::vector<contamination_truth> out(c.doc_texts.size());
  for (std::size_t d = 0; d < c.doc_texts.size(); ++d) {
    if (!c.doc_ok[d]) continue;
    const auto t = neardup::tokenize(c.doc_texts[d]);
    std::set<std::string> grams;
    if (t.size() >= n) {
      for (std::size_t k = 0; k + n <= t.size(); ++k) grams.insert(key_of(t, k, n));
    } else if (!t.empty()) {
      grams.insert(key_of(t, 0, t.size()));
    }
    for (std::size_t len : short_lengths) {
      if (len >= t.size()) continue;
      for (std::size_t k = 0; k + len <= t.size(); ++k) grams.insert(key_of(t, k, len));
    }
    for (const auto& g : grams) {
      bool any = false;
      for (std::size_t i = 0; i < c.refs.size(); ++i) {
        if (ref_grams[i].count(g)) {
          any = true;
          if (out[d].refs.empty() || out[d].refs.back() != i) out[d].refs.push_back(i);
        }
      }
      out[d].shared += any;
    }
    std::sort(out[d].refs.begin(), out[d].refs.end());
    out[d].refs.erase(std::unique(out[d].refs.begin(), out[d].refs.end()), out[d].refs.end());
  }
  return out;
}

TEST(DecontaminatePass, FindsExactlyThePlantedDocumentsWithExactCounts) {
  const std::size_t n = 13;
  const contamination_case c = make_contamination_case(31, small_scale() ? 300 : 1200, n);
  const auto truth = brute_contamination(c, n);
  temp_dir dir;
  std::string corpus, refs;
  for (const auto& l : c.doc_lines) corpus += l + "\n";
  for (const auto& l : c.ref_lines) refs += l + "\n";
  write_file(dir / "corpus.jsonl", corpus);
  write_file(dir / "refs.jsonl", refs);
  const auto in = inputs_of({dir / "corpus.jsonl"});
  const auto ref_in = inputs_of({dir / "refs.jsonl"});

  std::size_t contaminated = 0;
  for (std::size_t d = 0; d < truth.size(); ++d) {
    // Every planted document is found (a planted passage is >= n words or a whole short reference).
    if (c.planted[d]) {
      EXPECT_GT(truth[d].shared, 0u) << "brute force misses planted doc " << d;
    }
    contaminated += truth[d].shared > 0;
  }
  ASSERT_GT(contaminated, truth.size() / 5);

  for (const std::uint64_t max_shared : {std::uint64_t{0}, std::uint64_t{5}, std::uint64_t{1} << 40}) {
    SCOPED_TRACE("max_shared " + std::to_string(max_shared));
    njobs::decontaminate_options o;
    o.min_reference_tokens = 0;  // short references are under test here
    o.ngram = n;
    o.max_shared = max_shared;
    o.progress = false;
    o.max_reported_errors = 0;
    o.threads = 2;
    o.reader.chunk_bytes = 8192;
    const std::string out = dir / ("out" + std::to_string(max_shared));
    const njobs::decontaminate_report rep = njobs::run_decontaminate(in.sources, ref_in.sources, out, o);

    // contamination.tsv: exactly the documents sharing >= 1 n-gram, in order.
    const auto rows = read_tsv(out + "/contamination.tsv");
    std::size_t row = 0;
    std::string expected_clean;
    std::uint64_t removed = 0;
    std::map<std::size_t, std::uint64_t> per_ref;
    for (std::size_t d = 0; d < truth.size(); ++d) {
      if (truth[d].shared > 0) {
        ASSERT_LT(row, rows.size()) << "missing document " << c.doc_ids[d];
        ASSERT_EQ(rows[row].size(), 3u);
        EXPECT_EQ(rows[row][0], c.doc_ids[d]);
        EXPECT_EQ(rows[row][1], std::to_string(truth[d].shared)) << c.doc_ids[d];
        std::vector<std::string> want_refs;
        for (std::size_t i : truth[d].refs) {
          want_refs.push_back(c.ref_ids[i]);
          ++per_ref[i];
        }
        EXPECT_EQ(rows[row][2], join(want_refs, ",")) << c.doc_ids[d];
        ++row;
      }
      if (truth[d].shared > max_shared) {
        ++removed;
      } else {
        expected_clean += c.doc_lines[d] + "\n";
      }
    }
    EXPECT_EQ(row, rows.size()) << "extra documents in contamination.tsv";
    EXPECT_EQ(read_file(out + "/clean.jsonl"), expected_clean);
    EXPECT_EQ(rep.contaminated, contaminated);
    EXPECT_EQ(rep.removed, removed);
    EXPECT_EQ(rep.documents, c.doc_lines.size());
    EXPECT_EQ(rep.skipped, static_cast<std::uint64_t>(std::count(c.doc_ok.begin(), c.doc_ok.end(), false)));
    EXPECT_EQ(rep.references, c.refs.size());  // the bad reference record is skipped
    if (max_shared == 5) {
      EXPECT_GT(removed, 0u);
      EXPECT_LT(removed, contaminated);
    }

    // stats.json per_reference: the number of documents each reference contaminates.
    const std::string stats = read_file(out + "/stats.json");
    for (std::size_t i = 0; i < c.refs.size(); ++i) {
      const std::string key = "\"id\": \"" + c.ref_ids[i] + "\",";
      const std::size_t at = stats.find(key);
      if (per_ref.count(i) == 0) {
        EXPECT_EQ(at, std::string::npos) << c.ref_ids[i];
        continue;
      }
      ASSERT_NE(at, std::string::npos) << c.ref_ids[i] << " not in stats.json:\n" << stats;
      const std::size_t num = stats.find("\"documents\":", at);
      EXPECT_EQ(std::stoull(stats.substr(num + 12)), per_ref[i]) << c.ref_ids[i];
    }
  }

  // Bloom mode: a superset of documents, each count >= the exact count.
  {
    njobs::decontaminate_options o;
    o.min_reference_tokens = 0;  // short references are under test here
    o.ngram = n;
    o.progress = false;
    o.max_reported_errors = 0;
    o.bloom_false_positive_rate = 0.05;
    const njobs::decontaminate_report rep = njobs::run_decontaminate(in.sources, ref_in.sources, dir / "bloom", o);
    std::map<std::string, std::uint64_t> bloom_counts;
    for (const auto& row : read_tsv(dir / "bloom/contamination.tsv")) {
      ASSERT_EQ(row.size(), 3u);
      EXPECT_EQ(row[2], "-");
      bloom_counts[row[0]] = std::stoull(row[1]);
    }
    for (std::size_t d = 0; d < truth.size(); ++d) {
      if (truth[d].shared == 0) continue;
      ASSERT_TRUE(bloom_counts.count(c.doc_ids[d])) << c.doc_ids[d] << " missed by bloom mode";
      EXPECT_GE(bloom_counts[c.doc_ids[d]], truth[d].shared) << c.doc_ids[d];
    }
    EXPECT_GE(rep.contaminated, contaminated);
    EXPECT_GT(rep.bloom_false_positive_rate, 0.0);
    EXPECT_LT(rep.bloom_false_positive_rate, 0.1);
    // False positives are rare: at p ~ 0.05 per n-gram ... but documents have
    // up to ~150 n-grams, so only bound the excess loosely by the theory:
    // E[false n-grams] <= p * total n-grams of clean documents.
    std::uint64_t clean_ngrams = 0, excess = 0;
    for (std::size_t d = 0; d < truth.size(); ++d) {
      if (!c.doc_ok[d]) continue;
      const auto t = neardup::tokenize(c.doc_texts[d]);
      clean_ngrams += t.size() >= n ? t.size() - n + 1 : 1;
      clean_ngrams += t.size() * 4;  // the four short-reference lengths are queried too
      if (bloom_counts.count(c.doc_ids[d])) excess += bloom_counts[c.doc_ids[d]] - truth[d].shared;
    }
    EXPECT_LE(static_cast<double>(excess), 2.0 * rep.bloom_false_positive_rate * static_cast<double>(clean_ngrams) + 20);
  }
}

TEST(DecontaminatePass, OtherNgramSizesAndCompressedInputs) {
  const std::size_t n = 8;
  const contamination_case c = make_contamination_case(32, small_scale() ? 150 : 400, n);
  const auto truth = brute_contamination(c, n);
  temp_dir dir;
  std::string corpus, refs;
  for (const auto& l : c.doc_lines) corpus += l + "\n";
  for (const auto& l : c.ref_lines) refs += l + "\n";
  write_gzip(dir / "corpus.jsonl.gz", corpus);
  write_zstd(dir / "refs.jsonl.zst", refs);
  const auto in = inputs_of({dir / "corpus.jsonl.gz"});
  const auto ref_in = inputs_of({dir / "refs.jsonl.zst"});
  njobs::decontaminate_options o;
  o.min_reference_tokens = 0;  // short references are under test here
  o.ngram = n;
  o.progress = false;
  o.max_reported_errors = 0;
  njobs::run_decontaminate(in.sources, ref_in.sources, dir / "out", o);
  std::string expected_tsv;
  for (std::size_t d = 0; d < truth.size(); ++d) {
    if (truth[d].shared == 0) continue;
    std::vector<std::string> ids;
    for (std::size_t i : truth[d].refs) ids.push_back(c.ref_ids[i]);
    expected_tsv += c.doc_ids[d] + "\t" + std::to_string(truth[d].shared) + "\t" + join(ids, ",") + "\n";
  }
  EXPECT_EQ(read_file(dir / "out/contamination.tsv"), expected_tsv);
}

TEST(DecontaminatePass, ThreadCountDoesNotChangeOutputsAndDefaultIdsNameTheLine) {
  const contamination_case c = make_contamination_case(33, small_scale() ? 150 : 400, 13);
  temp_dir dir;
  std::string corpus, refs;
  // Drop the id field of every third document: contamination.tsv names it SOURCE:LINE.
  for (std::size_t i = 0; i < c.doc_lines.size(); ++i) {
    std::string l = c.doc_lines[i];
    if (i % 3 == 0 && c.doc_ok[i]) l = l.substr(0, l.find(",\"id\":")) + "}";
    corpus += l + "\n";
  }
  for (const auto& l : c.ref_lines) refs += l + "\n";
  write_file(dir / "corpus.jsonl", corpus);
  write_file(dir / "refs.jsonl", refs);
  const auto in = inputs_of({dir / "corpus.jsonl"});
  const auto ref_in = inputs_of({dir / "refs.jsonl"});
  const auto truth = brute_contamination(c, 13);
  std::string expected;
  for (std::size_t d = 0; d < truth.size(); ++d) {
    if (truth[d].shared == 0) continue;
    std::vector<std::string> ids;
    for (std::size_t i : truth[d].refs) ids.push_back(c.ref_ids[i]);
    expected += (d % 3 == 0 ? tag((dir / "corpus.jsonl:").string(), d + 1) : c.doc_ids[d]) + "\t" +
                std::to_string(truth[d].shared) + "\t" + join(ids, ",") + "\n";
  }
  for (const std::size_t threads : {1u, 2u, 3u}) {
    njobs::decontaminate_options o;
    o.min_reference_tokens = 0;  // short references are under test here
    o.progress = false;
    o.max_reported_errors = 0;
    o.threads = threads;
    o.reader.chunk_bytes = 2048;
    const std::string out = dir / tag("out", threads);
    njobs::run_decontaminate(in.sources, ref_in.sources, out, o);
    EXPECT_EQ(read_file(out + "/contamination.tsv"), expected) << threads << " threads";
  }
}

// =====================================================================
// 4. neardup pairs and neardup eval
// =====================================================================

struct pairs_case {
  std::vector<std::string> lines;
  std::vector<std::string> ids;    // per document
  std::vector<std::string> texts;  // per document ("" for bad records)
  std::vector<bool> ok;
};

pairs_case make_pairs_corpus(std::uint64_t seed, std::size_t bases) {
  rng r(seed);
  pairs_case c;
  for (std::size_t b = 0; b < bases; ++b) {
    const auto base = words_of(r.chance(10) ? 1 + r.below(4) : 20 + r.below(80), r, 2000);
    const std::size_t copies = 1 + r.below(4);
    for (std::size_t k = 0; k < copies; ++k) {
      auto w = base;
      const unsigned rate = k == 0 ? 0 : static_cast<unsigned>(r.below(12));  // % of words edited
      for (auto& x : w) {
        if (r.chance(rate)) x = tag("w", r.below(2000));
      }
      if (k > 0 && r.chance(30)) w.push_back(tag("tail", r.below(5)));
      const std::string text = join(w);
      c.ids.push_back(tag("p", c.ids.size()));
      c.texts.push_back(r.chance(3) ? "?!" : text);  // a few documents without tokens
      c.ok.push_back(true);
      c.lines.push_back("{\"id\":" + encode_json_string(c.ids.back()) + ",\"text\":" +
                        encode_json_string(c.texts.back()) + "}");
    }
    if (b % 37 == 4) {
      const std::string& bad = bad_records()[b % bad_records().size()];
      c.lines.push_back(bad);
      c.ids.emplace_back();  // not checked
      c.texts.emplace_back();
      c.ok.push_back(false);
    }
  }
  return c;
}

struct brute_pair {
  std::size_t a, b;
  double j;
};

std::vector<brute_pair> brute_pairs(const pairs_case& c, std::size_t ngram, double threshold) {
  neardup::shingler sh({.tokens = {}, .n = ngram, .seed = neardup::default_seed});
  std::vector<std::vector<std::uint64_t>> sets(c.texts.size());
  for (std::size_t d = 0; d < c.texts.size(); ++d) {
    if (c.ok[d]) sh.shingles(c.texts[d], sets[d]);
  }
  std::vector<brute_pair> out;
  for (std::size_t a = 0; a < sets.size(); ++a) {
    if (sets[a].empty()) continue;
    for (std::size_t b = a + 1; b < sets.size(); ++b) {
      if (sets[b].empty()) continue;
      const double j = neardup::exact_jaccard(sets[a], sets[b]);
      if (j >= threshold) out.push_back({a, b, j});
    }
  }
  return out;
}

struct parsed_pair {
  std::string a, b;
  double j;
};

std::vector<parsed_pair> read_pairs(const std::string& path) {
  std::vector<parsed_pair> out;
  for (const auto& row : read_tsv(path)) {
    if (row.size() != 3) throw std::runtime_error("bad pairs.tsv row");
    out.push_back({row[0], row[1], std::stod(row[2])});
  }
  return out;
}

TEST(PairsPass, ExactModeEqualsBruteForceAllPairs) {
  const pairs_case c = make_pairs_corpus(41, small_scale() ? 80 : 250);
  temp_dir dir;
  std::string all;
  for (const auto& l : c.lines) all += l + "\n";
  write_file(dir / "in.jsonl", all);
  const auto in = inputs_of({dir / "in.jsonl"});
  for (const auto& [ngram, threshold] : std::vector<std::pair<std::size_t, double>>{{5, 0.8}, {3, 0.5}, {1, 0.9}}) {
    SCOPED_TRACE("ngram " + std::to_string(ngram) + " threshold " + std::to_string(threshold));
    const auto truth = brute_pairs(c, ngram, threshold);
    ASSERT_GT(truth.size(), 20u);
    njobs::pairs_options o;
    static_cast<neardup::jobs::job_options&>(o) = quiet_dedup();
    static_cast<neardup::pipeline::similarity_options&>(o) = quiet_dedup();
    o.ngram = ngram;
    o.threshold = threshold;
    o.exact = true;
    const std::string out = dir / ("exact" + std::to_string(ngram));
    const njobs::pairs_report rep = njobs::run_pairs(in.sources, out, o);
    const auto got = read_pairs(out + "/pairs.tsv");
    ASSERT_EQ(got.size(), truth.size());
    EXPECT_EQ(rep.pairs, truth.size());
    EXPECT_EQ(rep.documents, c.texts.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].a, c.ids[truth[i].a]) << i;
      EXPECT_EQ(got[i].b, c.ids[truth[i].b]) << i;
      EXPECT_NEAR(got[i].j, truth[i].j, 5e-7 + 1e-12) << i;
    }
  }
}

TEST(PairsPass, LshModeIsASubsetOfExactPairsWithPlausibleRecall) {
  const pairs_case c = make_pairs_corpus(42, small_scale() ? 120 : 400);
  temp_dir dir;
  std::string all;
  for (const auto& l : c.lines) all += l + "\n";
  write_zstd(dir / "in.jsonl.zst", all);  // compressed input, same answer
  const auto in = inputs_of({dir / "in.jsonl.zst"});
  const double threshold = 0.7;
  const auto truth = brute_pairs(c, 5, threshold);
  std::map<std::pair<std::string, std::string>, double> truth_map;
  for (const auto& p : truth) truth_map[{c.ids[p.a], c.ids[p.b]}] = p.j;

  njobs::pairs_options o;
  static_cast<neardup::jobs::job_options&>(o) = quiet_dedup();
  static_cast<neardup::pipeline::similarity_options&>(o) = quiet_dedup();
  o.threshold = threshold;
  o.num_perm = 128;
  o.lsh = neardup::lsh_params{25, 5};  // P(candidate | J = 0.7) ~ 0.99
  const njobs::pairs_report rep = njobs::run_pairs(in.sources, dir / "lsh", o);
  const auto got = read_pairs(dir / "lsh/pairs.tsv");
  EXPECT_EQ(rep.pairs, got.size());
  EXPECT_EQ(rep.capped_pairs, 0u);
  for (const auto& p : got) {
    const auto it = truth_map.find({p.a, p.b});
    ASSERT_NE(it, truth_map.end()) << p.a << " " << p.b << " is not an exact pair";
    EXPECT_NEAR(p.j, it->second, 5e-7 + 1e-12);
  }
  // Recall: each exact pair is a candidate with probability
  // candidate_probability(J) (LSH S-curve); the found count must not fall
  // far below its expectation (4 sigma of the sum of independent Bernoullis).
  const neardup::lsh_params lsh = *o.lsh;
  double expected = 0, variance = 0;
  for (const auto& p : truth) {
    const double q = neardup::candidate_probability(p.j, lsh);
    expected += q;
    variance += q * (1 - q);
  }
  EXPECT_GE(static_cast<double>(got.size()), expected - 4 * std::sqrt(variance) - 1)
      << "expected ~" << expected << " of " << truth.size();
  EXPECT_GE(static_cast<double>(got.size()), 0.9 * static_cast<double>(truth.size()));

  // A tiny max_partners drops candidate pairs (counted) but never adds wrong ones.
  o.max_partners = 1;
  const njobs::pairs_report capped = njobs::run_pairs(in.sources, dir / "capped", o);
  EXPECT_GT(capped.capped_pairs, 0u);
  const auto got_capped = read_pairs(dir / "capped/pairs.tsv");
  EXPECT_LE(got_capped.size(), got.size());
  for (const auto& p : got_capped) EXPECT_TRUE(truth_map.count({p.a, p.b})) << p.a << " " << p.b;
}

TEST(PairsPass, ThresholdOneAndThreadCounts) {
  const pairs_case c = make_pairs_corpus(45, small_scale() ? 60 : 150);
  temp_dir dir;
  std::string all;
  for (const auto& l : c.lines) all += l + "\n";
  write_file(dir / "in.jsonl", all);
  const auto in = inputs_of({dir / "in.jsonl"});
  const auto truth = brute_pairs(c, 5, 1.0);
  ASSERT_GT(truth.size(), 5u);
  std::string expected;
  for (const auto& p : truth) expected += c.ids[p.a] + "\t" + c.ids[p.b] + "\t1.000000\n";
  for (const bool exact : {true, false}) {
    for (const std::size_t threads : {1u, 2u}) {
      njobs::pairs_options o;
      static_cast<neardup::jobs::job_options&>(o) = quiet_dedup();
      static_cast<neardup::pipeline::similarity_options&>(o) = quiet_dedup();
      o.threshold = 1.0;
      o.threads = threads;
      o.exact = exact;
      const std::string out = dir / (tag(exact ? "exact" : "lsh", threads));
      njobs::run_pairs(in.sources, out, o);
      // J = 1 pairs have identical signatures: LSH finds all of them too.
      EXPECT_EQ(read_file(out + "/pairs.tsv"), expected) << (exact ? "exact " : "lsh ") << threads;
    }
  }
}

// Eval's numbers recomputed from clusters.tsv and the brute-force pairs.
struct eval_truth {
  std::uint64_t truth_positive = 0, predicted_positive = 0, true_positive = 0;
  std::uint64_t truth_pairs = 0, pairs_recovered = 0, false_clusters = 0, false_docs = 0;
};

eval_truth brute_eval(const pairs_case& c, const std::vector<brute_pair>& truth, const std::string& clusters_tsv) {
  const auto rows = read_tsv(clusters_tsv);
  if (rows.size() != c.ids.size()) throw std::runtime_error("clusters.tsv has the wrong number of rows");
  const std::size_t n = c.ids.size();
  std::map<std::string, std::size_t> pos;  // ids of good documents are unique
  for (std::size_t d = 0; d < n; ++d) {
    if (c.ok[d]) pos[c.ids[d]] = d;
  }
  std::vector<std::size_t> cluster(n);
  for (std::size_t d = 0; d < n; ++d) {
    if (c.ok[d] && rows[d][0] != c.ids[d]) throw std::runtime_error("clusters.tsv order");
    cluster[d] = rows[d][1] == rows[d][0] ? d : pos.at(rows[d][1]);
  }
  // Connected components of the exact graph, by repeated relabelling.
  std::vector<std::size_t> comp(n);
  std::iota(comp.begin(), comp.end(), std::size_t{0});
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& p : truth) {
      const std::size_t m = std::min(comp[p.a], comp[p.b]);
      if (comp[p.a] != m || comp[p.b] != m) {
        comp[p.a] = comp[p.b] = m;
        changed = true;
      }
    }
  }
  eval_truth e;
  std::vector<bool> tpos(n, false);
  for (const auto& p : truth) {
    tpos[p.a] = tpos[p.b] = true;
    e.pairs_recovered += cluster[p.a] == cluster[p.b];
  }
  e.truth_pairs = truth.size();
  std::map<std::size_t, std::vector<std::size_t>> members;
  for (std::size_t d = 0; d < n; ++d) members[cluster[d]].push_back(d);
  for (const auto& [k, m] : members) {
    std::set<std::size_t> comps;
    for (std::size_t d : m) comps.insert(comp[d]);
    if (comps.size() > 1) {
      ++e.false_clusters;
      e.false_docs += m.size();
    }
    for (std::size_t d : m) {
      const bool ppos = m.size() > 1;
      e.predicted_positive += ppos;
      e.truth_positive += tpos[d];
      e.true_positive += ppos && tpos[d];
    }
  }
  return e;
}

void check_eval(const njobs::eval_report& ev, const eval_truth& e, std::uint64_t docs) {
  EXPECT_EQ(ev.documents, docs);
  EXPECT_EQ(ev.truth_positive, e.truth_positive);
  EXPECT_EQ(ev.predicted_positive, e.predicted_positive);
  EXPECT_EQ(ev.true_positive, e.true_positive);
  EXPECT_EQ(ev.truth_pairs, e.truth_pairs);
  EXPECT_EQ(ev.pairs_recovered, e.pairs_recovered);
  EXPECT_EQ(ev.false_merge_clusters, e.false_clusters);
  EXPECT_EQ(ev.false_merge_documents, e.false_docs);
  const double p = e.predicted_positive ? double(e.true_positive) / double(e.predicted_positive) : 1.0;
  const double r = e.truth_positive ? double(e.true_positive) / double(e.truth_positive) : 1.0;
  EXPECT_DOUBLE_EQ(ev.precision, p);
  EXPECT_DOUBLE_EQ(ev.recall, r);
  EXPECT_NEAR(ev.f1, p + r > 0 ? 2 * p * r / (p + r) : 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(ev.pair_recall, e.truth_pairs ? double(e.pairs_recovered) / double(e.truth_pairs) : 1.0);
}

TEST(EvalPass, NumbersEqualBruteForceFromClustersAndExactPairs) {
  const pairs_case c = make_pairs_corpus(43, small_scale() ? 100 : 300);
  temp_dir dir;
  std::string all;
  for (const auto& l : c.lines) all += l + "\n";
  write_file(dir / "in.jsonl", all);
  const auto in = inputs_of({dir / "in.jsonl"});
  njobs::dedup_options o = quiet_dedup();
  o.threshold = 0.75;
  const auto truth = brute_pairs(c, o.ngram, o.threshold);
  const njobs::eval_report ev = njobs::run_eval(in.sources, dir / "out", o);
  const eval_truth e = brute_eval(c, truth, dir / "out/clusters.tsv");
  check_eval(ev, e, c.ids.size());
  EXPECT_EQ(ev.false_merge_clusters, 0u);  // verify exact never merges below T ...
  // ... except through chains: a cluster only joins documents linked by pairs >= T.
  EXPECT_GT(ev.truth_pairs, 20u);
  EXPECT_GT(ev.pair_recall, 0.85);
  // Other dedup settings: the numbers still follow from clusters.tsv.
  for (const auto& [keep, verify] : std::vector<std::pair<npipeline::keep_policy, npipeline::verify_mode>>{
           {npipeline::keep_policy::longest, npipeline::verify_mode::exact}, {npipeline::keep_policy::first, npipeline::verify_mode::estimate}}) {
    njobs::dedup_options o2 = o;
    o2.keep = keep;
    o2.verify = verify;
    const std::string out2 = dir / ("out_" + std::string(neardup::name(keep)) + "_" + std::string(neardup::name(verify)));
    const njobs::eval_report ev2 = njobs::run_eval(in.sources, out2, o2);
    check_eval(ev2, brute_eval(c, truth, out2 + "/clusters.tsv"), c.ids.size());
  }
  const std::string json = read_file(dir / "out/eval.json");
  EXPECT_NE(json.find("\"truth_pairs\": " + std::to_string(e.truth_pairs)), std::string::npos) << json;
  EXPECT_NE(json.find("\"false_merge_clusters\": 0"), std::string::npos) << json;
}

TEST(EvalPass, DetectsFalseMergesOfUnverifiedLsh) {
  // Short documents over a tiny vocabulary, unigram shingles, and one-row
  // bands: any shared MinHash value makes a candidate, and with verify none
  // every candidate is merged, chaining dissimilar documents together.
  rng r(44);
  pairs_case c;
  for (std::size_t d = 0; d < 60; ++d) {
    std::vector<std::string> w;
    for (std::size_t k = 0; k < 3; ++k) w.push_back(tag("v", r.below(12)));
    c.ids.push_back(tag("s", d));
    c.texts.push_back(join(w));
    c.ok.push_back(true);
    c.lines.push_back("{\"id\":\"" + c.ids.back() + "\",\"text\":\"" + c.texts.back() + "\"}");
  }
  temp_dir dir;
  std::string all;
  for (const auto& l : c.lines) all += l + "\n";
  write_file(dir / "in.jsonl", all);
  const auto in = inputs_of({dir / "in.jsonl"});
  njobs::dedup_options o = quiet_dedup();
  o.ngram = 1;
  o.threshold = 0.9;
  o.verify = npipeline::verify_mode::none;
  o.lsh = neardup::lsh_params{32, 1};
  const auto truth = brute_pairs(c, 1, o.threshold);
  const njobs::eval_report ev = njobs::run_eval(in.sources, dir / "none", o);
  const eval_truth e = brute_eval(c, truth, dir / "none/clusters.tsv");
  check_eval(ev, e, c.ids.size());
  EXPECT_GT(ev.false_merge_clusters, 0u);
  EXPECT_GT(ev.false_merge_documents, 10u);
  EXPECT_LT(ev.precision, 0.9);

  // The same corpus with exact verification: no false merge.
  o.verify = npipeline::verify_mode::exact;
  const njobs::eval_report ev2 = njobs::run_eval(in.sources, dir / "exact", o);
  check_eval(ev2, brute_eval(c, truth, dir / "exact/clusters.tsv"), c.ids.size());
  EXPECT_EQ(ev2.false_merge_clusters, 0u);
}

// =====================================================================
// 5. Bad input in every pass
// =====================================================================

// Runs each pass on `sources`; the caller checks what happened.
enum class pass_kind { exact, lines, decontaminate, pairs, eval };
const char* name_of(pass_kind k) {
  switch (k) {
    case pass_kind::exact: return "exact";
    case pass_kind::lines: return "lines";
    case pass_kind::decontaminate: return "decontaminate";
    case pass_kind::pairs: return "pairs";
    case pass_kind::eval: return "eval";
  }
  return "?";
}

void run_pass(pass_kind k, std::span<const nio::source_info> sources, std::span<const nio::source_info> refs,
              const std::string& out) {
  switch (k) {
    case pass_kind::exact: {
      njobs::dedup_options o = quiet_dedup();
      o.near = false;
      njobs::run_dedup(sources, out, o);
      return;
    }
    case pass_kind::lines: {
      njobs::line_dedup_options o;
      o.progress = false;
      o.max_reported_errors = 0;
      o.max_repeats = 1;
      njobs::run_line_dedup(sources, out, o);
      return;
    }
    case pass_kind::decontaminate: {
      njobs::decontaminate_options o;
      o.min_reference_tokens = 0;  // short references are under test here
      o.progress = false;
      o.max_reported_errors = 0;
      o.ngram = 3;
      njobs::run_decontaminate(sources, refs, out, o);
      return;
    }
    case pass_kind::pairs: {
      njobs::pairs_options o;
      static_cast<neardup::jobs::job_options&>(o) = quiet_dedup();
      static_cast<neardup::pipeline::similarity_options&>(o) = quiet_dedup();
      o.exact = true;
      njobs::run_pairs(sources, out, o);
      return;
    }
    case pass_kind::eval: {
      njobs::run_eval(sources, out, quiet_dedup());
      return;
    }
  }
}

constexpr pass_kind all_passes[] = {pass_kind::exact, pass_kind::lines, pass_kind::decontaminate, pass_kind::pairs,
                                    pass_kind::eval};

TEST(BadInput, BadRecordsAreKeptUnchangedAndCountedInEveryPass) {
  temp_dir dir;
  std::string all = "{\"id\":\"a\",\"text\":\"same words here\\nrepeated line\"}\n";
  for (const auto& b : bad_records()) all += b + "\n";
  all += "{\"id\":\"b\",\"text\":\"Same, words HERE!\\nrepeated line\"}\n";
  write_file(dir / "in.jsonl", all);
  write_file(dir / "refs.jsonl", "{\"id\":\"r\",\"text\":\"same words here\"}\n");
  const auto in = inputs_of({dir / "in.jsonl"});
  const auto refs = inputs_of({dir / "refs.jsonl"});
  const std::string bad_lines = [] {
    std::string s;
    for (const auto& b : bad_records()) s += b + "\n";
    return s;
  }();

  {
    njobs::dedup_options o = quiet_dedup();
    o.near = false;
    const auto rep = njobs::run_dedup(in.sources, dir / "exact", o);
    EXPECT_EQ(rep.skipped, 4u);
    EXPECT_EQ(rep.skipped_malformed_json, 1u);
    EXPECT_EQ(rep.skipped_missing_text, 1u);
    EXPECT_EQ(rep.skipped_text_not_string, 1u);
    EXPECT_EQ(rep.skipped_not_object, 1u);
    EXPECT_EQ(read_file(dir / "exact/deduped.jsonl"), split_lines(all)[0] + "\n" + bad_lines);
  }
  {
    njobs::line_dedup_options o;
    o.progress = false;
    o.max_reported_errors = 0;
    o.max_repeats = 1;
    const auto rep = njobs::run_line_dedup(in.sources, dir / "lines", o);
    EXPECT_EQ(rep.skipped, 4u);
    EXPECT_EQ(read_file(dir / "lines/deduped.jsonl"),
              "{\"id\":\"a\",\"text\":\"same words here\"}\n" + bad_lines +
                  "{\"id\":\"b\",\"text\":\"Same, words HERE!\"}\n");
  }
  {
    njobs::decontaminate_options o;
    o.min_reference_tokens = 0;  // short references are under test here
    o.progress = false;
    o.max_reported_errors = 0;
    o.ngram = 3;
    const auto rep = njobs::run_decontaminate(in.sources, refs.sources, dir / "decon", o);
    EXPECT_EQ(rep.skipped, 4u);
    EXPECT_EQ(rep.removed, 2u);
    EXPECT_EQ(read_file(dir / "decon/clean.jsonl"), bad_lines);
    EXPECT_EQ(read_file(dir / "decon/contamination.tsv"), "a\t1\tr\nb\t1\tr\n");
  }
  {
    njobs::pairs_options o;
    static_cast<neardup::jobs::job_options&>(o) = quiet_dedup();
    static_cast<neardup::pipeline::similarity_options&>(o) = quiet_dedup();
    o.exact = true;
    const auto rep = njobs::run_pairs(in.sources, dir / "pairs", o);
    EXPECT_EQ(rep.documents, 6u);
    EXPECT_EQ(read_file(dir / "pairs/pairs.tsv"), "a\tb\t1.000000\n");
    EXPECT_NE(read_file(dir / "pairs/stats.json").find("\"skipped\": 4"), std::string::npos);
  }
}

TEST(BadInput, MissingInputThrowsNamingItAndLeavesNoFinishedOutput) {
  for (const pass_kind k : all_passes) {
    SCOPED_TRACE(name_of(k));
    temp_dir dir;
    write_file(dir / "a.jsonl", "{\"id\":\"a\",\"text\":\"one two three four five six\"}\n");
    write_file(dir / "gone.jsonl", "{\"id\":\"g\",\"text\":\"one two three four five six\"}\n");
    write_file(dir / "refs.jsonl", "{\"id\":\"r\",\"text\":\"one two three\"}\n");
    const auto in = inputs_of({dir / "a.jsonl", dir / "gone.jsonl"});
    const auto refs = inputs_of({dir / "refs.jsonl"});
    fs::remove(dir / "gone.jsonl");
    const std::string out = dir / "out";  // fresh
    try {
      run_pass(k, in.sources, refs.sources, out);
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("gone.jsonl"), std::string::npos) << e.what();
    }
    std::vector<std::string> left;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec)) left.push_back(e.path().filename().string());
    EXPECT_TRUE(left.empty()) << "left in OUTDIR: " << join(left, ", ");

    // A missing reference file for decontaminate, too.
    if (k == pass_kind::decontaminate) {
      write_file(dir / "gone_ref.jsonl", "{\"id\":\"r\",\"text\":\"x\"}\n");
      const auto refs2 = inputs_of({dir / "gone_ref.jsonl"});
      fs::remove(dir / "gone_ref.jsonl");
      const auto in2 = inputs_of({dir / "a.jsonl"});
      try {
        run_pass(k, in2.sources, refs2.sources, dir / "out2");
        ADD_FAILURE() << "no exception";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("gone_ref.jsonl"), std::string::npos) << e.what();
      }
      left.clear();
      for (const auto& e : fs::directory_iterator(dir / "out2", ec)) left.push_back(e.path().filename().string());
      EXPECT_TRUE(left.empty()) << "left in OUTDIR: " << join(left, ", ");
    }
  }
  EXPECT_THROW(inputs_of({"/nonexistent/passes_test_input.jsonl"}), std::runtime_error);
}

TEST(BadInput, InvalidSettingsThrowInvalidArgumentNamingThem) {
  temp_dir dir;
  write_file(dir / "in.jsonl", "{\"id\":\"a\",\"text\":\"one two\"}\n");
  const auto in = inputs_of({dir / "in.jsonl"});
  auto expect_invalid = [](auto&& run, std::string_view setting) {
    try {
      run();
      ADD_FAILURE() << "no exception for " << setting;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(setting), std::string::npos) << e.what();
    }
  };
  njobs::line_dedup_options lo;
  lo.progress = false;
  lo.max_repeats = 0;
  expect_invalid([&] { njobs::run_line_dedup(in.sources, dir / "l", lo); }, "max_repeats");
  njobs::decontaminate_options d;
  d.min_reference_tokens = 0;  // short references are under test here
  d.progress = false;
  d.ngram = 0;
  expect_invalid([&] { njobs::run_decontaminate(in.sources, in.sources, dir / "d", d); }, "ngram");
  d.ngram = 13;
  d.bloom_false_positive_rate = 1.0;
  expect_invalid([&] { njobs::run_decontaminate(in.sources, in.sources, dir / "d", d); }, "false-positive");
  njobs::pairs_options po;
  static_cast<neardup::jobs::job_options&>(po) = quiet_dedup();
  static_cast<neardup::pipeline::similarity_options&>(po) = quiet_dedup();
  po.threshold = 0;
  expect_invalid([&] { njobs::run_pairs(in.sources, dir / "p", po); }, "threshold");
  po.threshold = 1.5;
  po.exact = true;
  expect_invalid([&] { njobs::run_pairs(in.sources, dir / "p", po); }, "threshold");
  for (const char* out : {"l", "d", "p"}) EXPECT_FALSE(fs::exists(dir / out)) << out;
}

TEST(BadInput, CompressedInputsGiveTheSameOutputsAsPlainOnes) {
  // Only good records: a bad record's default id names its source file.
  const exact_case c = make_exact_corpus(51, 40);
  std::string all;
  for (const auto& l : c.lines) {
    if (std::find(bad_records().begin(), bad_records().end(), l) == bad_records().end()) all += l + "\n";
  }
  // Add repeated lines so the lines pass has something to remove.
  for (int i = 0; i < 5; ++i) all += "{\"id\":\"rep" + std::to_string(i) + "\",\"text\":\"Header line\\nbody " +
                                     std::to_string(i) + " w1 w2 w3 w4 w5 w6\"}\n";
  temp_dir dir;
  write_file(dir / "plain.jsonl", all);
  write_gzip(dir / "c.jsonl.gz", all);
  write_zstd(dir / "c.jsonl.zst", all);
  write_file(dir / "refs.jsonl", "{\"id\":\"r\",\"text\":\"body 3 w1\"}\n");
  const auto refs = inputs_of({dir / "refs.jsonl"});
  const std::vector<std::string> files[] = {{"clusters.tsv", "deduped.jsonl"},
                                            {"deduped.jsonl"},
                                            {"contamination.tsv", "clean.jsonl"},
                                            {"pairs.tsv"},
                                            {"clusters.tsv", "deduped.jsonl"}};
  for (const pass_kind k : all_passes) {
    SCOPED_TRACE(name_of(k));
    const auto plain = inputs_of({dir / "plain.jsonl"});
    run_pass(k, plain.sources, refs.sources, dir / (std::string("plain_") + name_of(k)));
    for (const std::string name : {"c.jsonl.gz", "c.jsonl.zst"}) {
      const auto comp = inputs_of({dir / name});
      const std::string out = dir / (name + "_" + name_of(k));
      run_pass(k, comp.sources, refs.sources, out);
      for (const auto& f : files[static_cast<int>(k)]) {
        EXPECT_EQ(read_file(out + "/" + f), read_file(dir / (std::string("plain_") + name_of(k) + "/" + f)))
            << name << " " << f;
      }
    }
  }
  EXPECT_NE(read_file(dir / "plain_lines/deduped.jsonl").find("{\"id\":\"rep0\",\"text\":\"body 0"),
            std::string::npos);
  EXPECT_EQ(read_file(dir / "plain_decontaminate/contamination.tsv"), "rep3\t1\tr\n");
}

}  // namespace

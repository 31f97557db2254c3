// tests/corpus_gen.hpp — deterministic test corpora and exact ground truth for
// the end-to-end dedup tests (dedup_test, cli_test, accuracy_test).
//
//   neardup_test::corpus_spec spec;               // bases, copies, edit rates
//   const auto docs = neardup_test::make_near_dup_corpus(spec);
//   neardup_test::write_file(dir / "c.jsonl", neardup_test::to_jsonl(docs));
//   const auto truth = neardup_test::exact_ground_truth(texts_of(docs), {}, 0.8);
//   // truth.component[d]: first doc (input order) of d's connected component
//   // in the graph of pairs with exact Jaccard >= 0.8.
//
// Everything here is a pure function of its arguments: own PRNG (splitmix64),
// no std:: distributions (whose output differs between standard libraries).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "neardup/io/json.hpp"
#include "test_util.hpp"
#include "neardup/shingle.hpp"
#include "neardup/types.hpp"

namespace neardup_test {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- environment


// ---------------------------------------------------------------- TSV

inline std::string unescape_tsv(std::string_view f) {
  std::string out;
  out.reserve(f.size());
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out += f[i];
      continue;
    }
    const char c = f[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == '0' ? '\0' : c;
  }
  return out;
}

// Lines of a two-column TSV (clusters.tsv), fields unescaped.
inline std::vector<std::pair<std::string, std::string>> parse_tsv_pairs(std::string_view tsv) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t begin = 0;
  while (begin < tsv.size()) {
    std::size_t end = tsv.find('\n', begin);
    if (end == std::string_view::npos) end = tsv.size();
    const std::string_view line = tsv.substr(begin, end - begin);
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos || line.find('\t', tab + 1) != std::string_view::npos) {
      throw std::runtime_error("bad TSV line: " + std::string(line));
    }
    rows.emplace_back(unescape_tsv(line.substr(0, tab)), unescape_tsv(line.substr(tab + 1)));
    begin = end + 1;
  }
  return rows;
}

// ---------------------------------------------------------------- PRNG

class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() noexcept {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). REQUIRES: n >= 1.
  std::uint64_t below(std::uint64_t n) noexcept {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept { return lo + below(hi - lo + 1); }
  // Uniform in [0, 1).
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

// ---------------------------------------------------------------- vocabulary

// `size` distinct lowercase pseudo-words drawn with probability ~ 1 / rank^exponent.
class zipf_vocabulary {
 public:
  explicit zipf_vocabulary(std::size_t size = 20000, double exponent = 1.0, std::uint64_t seed = 1) {
    rng r(seed);
    words_.reserve(size);
    std::set<std::string> seen;
    while (words_.size() < size) {
      std::string w;
      const std::size_t len = r.between(2, 9);
      for (std::size_t i = 0; i < len; ++i) w += static_cast<char>('a' + r.below(26));
      if (seen.insert(w).second) words_.push_back(std::move(w));
    }
    cdf_.resize(size);
    double total = 0;
    for (std::size_t i = 0; i < size; ++i) {
      total += 1.0 / std::pow(static_cast<double>(i + 1), exponent);
      cdf_[i] = total;
    }
    for (auto& c : cdf_) c /= total;
  }
  const std::string& draw(rng& r) const {
    const double u = r.unit();
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return words_[std::min<std::size_t>(static_cast<std::size_t>(it - cdf_.begin()), words_.size() - 1)];
  }
  std::size_t size() const noexcept { return words_.size(); }

 private:
  std::vector<std::string> words_;
  std::vector<double> cdf_;
};

inline std::vector<std::string> random_words(const zipf_vocabulary& v, rng& r, std::size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(v.draw(r));
  return out;
}

// Each word is, with probability `rate`, substituted, deleted, or followed by
// an inserted word (one third each).
inline std::vector<std::string> edit_words(const std::vector<std::string>& words, double rate,
                                           const zipf_vocabulary& v, rng& r) {
  std::vector<std::string> out;
  out.reserve(words.size() + words.size() / 8 + 1);
  for (const auto& w : words) {
    if (r.unit() >= rate) {
      out.push_back(w);
      continue;
    }
    switch (r.below(3)) {
      case 0: out.push_back(v.draw(r)); break;  // substitution
      case 1: break;                            // deletion
      default:
        out.push_back(w);
        out.push_back(v.draw(r));  // insertion
    }
  }
  return out;
}

inline std::string join_words(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) {
    if (!s.empty()) s += ' ';
    s += w;
  }
  return s;
}

// ---------------------------------------------------------------- corpora

struct generated_doc {
  std::string id;
  std::string text;
  int family = -1;  // index of the base document it derives from; -1: unrelated
};

struct corpus_spec {
  std::size_t bases = 250;          // documents that get edited copies
  std::size_t max_copies = 4;       // 1..max_copies copies per base
  std::size_t unrelated = 250;      // documents without copies
  std::size_t min_words = 150;
  std::size_t max_words = 400;
  double max_edit_rate = 0.09;      // per-word edit probability of a copy, uniform in [0, max]
  double chain_fraction = 0.3;      // copies made from an earlier copy instead of the base
  std::uint64_t seed = 42;
};

// Bases, their copies and unrelated documents, shuffled into one input order.
// Copy edit rates are uniform in [0, max_edit_rate], so the exact Jaccard of
// 5-gram shingle sets of a copy and its source spans ~0.4 .. 1.0 (0: exact copy).
inline std::vector<generated_doc> make_near_dup_corpus(const corpus_spec& spec,
                                                       const zipf_vocabulary& vocab = zipf_vocabulary()) {
  rng r(spec.seed);
  std::vector<generated_doc> docs;
  for (std::size_t b = 0; b < spec.bases; ++b) {
    const auto base = random_words(vocab, r, r.between(spec.min_words, spec.max_words));
    std::vector<std::vector<std::string>> family{base};
    const std::size_t copies = r.between(1, spec.max_copies);
    for (std::size_t c = 0; c < copies; ++c) {
      const auto& from = r.unit() < spec.chain_fraction ? family.back() : family.front();
      const double rate = r.unit() * spec.max_edit_rate;
      family.push_back(edit_words(from, rate, vocab, r));
    }
    for (const auto& words : family) docs.push_back({"", join_words(words), static_cast<int>(b)});
  }
  for (std::size_t u = 0; u < spec.unrelated; ++u) {
    docs.push_back({"", join_words(random_words(vocab, r, r.between(spec.min_words, spec.max_words))), -1});
  }
  for (std::size_t i = docs.size(); i > 1; --i) std::swap(docs[i - 1], docs[r.below(i)]);  // Fisher-Yates
  for (std::size_t i = 0; i < docs.size(); ++i) docs[i].id = "doc" + std::to_string(i);
  return docs;
}

inline std::string json_line(std::string_view id, std::string_view text) {
  std::string s = "{\"id\":";
  neardup::io::append_json_string(s, id);
  s += ",\"text\":";
  neardup::io::append_json_string(s, text);
  s += "}";
  return s;
}

inline std::string to_jsonl(const std::vector<generated_doc>& docs) {
  std::string s;
  for (const auto& d : docs) {
    s += json_line(d.id, d.text);
    s += '\n';
  }
  return s;
}

// ---------------------------------------------------------------- ground truth

struct ground_truth {
  double threshold = 0;
  std::vector<std::uint8_t> has_duplicate;  // some other doc has exact J >= threshold
  std::vector<neardup::doc_id> component;   // smallest doc of d's connected component
  std::size_t pairs = 0;                    // pairs with J >= threshold
  std::vector<std::pair<neardup::doc_id, neardup::doc_id>> pair_list;  // those pairs
  std::size_t pairs_compared = 0;           // pairs whose J was computed
  std::vector<std::size_t> pairs_by_decile; // J in [0.0,0.1), ..., [0.9,1.0]
};

// Exact Jaccard of EVERY pair of shingle sets (a size filter only skips pairs
// whose J is provably < 0.4, which no statistic here needs), the graph of
// pairs with J >= threshold and its connected components.
inline ground_truth exact_ground_truth(const std::vector<std::string>& texts, const neardup::shingle_options& sh_opts,
                                       double threshold) {
  neardup::shingler sh(sh_opts);
  std::vector<std::vector<std::uint64_t>> sets(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) sh.shingles(texts[i], sets[i]);
  const std::size_t n = texts.size();
  ground_truth g;
  g.threshold = threshold;
  g.has_duplicate.assign(n, 0);
  g.pairs_by_decile.assign(10, 0);
  std::vector<neardup::doc_id> parent(n);
  std::iota(parent.begin(), parent.end(), neardup::doc_id{0});
  auto find = [&](neardup::doc_id x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const double size_floor = std::min(0.4, threshold);
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = a + 1; b < n; ++b) {
      const double sa = static_cast<double>(sets[a].size()), sb = static_cast<double>(sets[b].size());
      if (std::min(sa, sb) < size_floor * std::max(sa, sb)) continue;
      ++g.pairs_compared;
      const double j = neardup::exact_jaccard(sets[a], sets[b]);
      ++g.pairs_by_decile[std::min<std::size_t>(9, static_cast<std::size_t>(j * 10))];
      if (j >= threshold) {
        ++g.pairs;
        g.pair_list.emplace_back(static_cast<neardup::doc_id>(a), static_cast<neardup::doc_id>(b));
        g.has_duplicate[a] = g.has_duplicate[b] = 1;
        const auto ra = find(static_cast<neardup::doc_id>(a)), rb = find(static_cast<neardup::doc_id>(b));
        if (ra != rb) parent[std::max(ra, rb)] = std::min(ra, rb);
      }
    }
  }
  g.component.resize(n);
  for (std::size_t d = 0; d < n; ++d) g.component[d] = find(static_cast<neardup::doc_id>(d));
  return g;
}

struct accuracy {
  std::size_t true_positive = 0, false_positive = 0, false_negative = 0, true_negative = 0;
  std::size_t false_merges = 0;  // docs put with a kept doc outside their exact component
  std::size_t removed = 0;
  double precision() const {
    const auto p = true_positive + false_positive;
    return p == 0 ? 1.0 : static_cast<double>(true_positive) / static_cast<double>(p);
  }
  double recall() const {
    const auto p = true_positive + false_negative;
    return p == 0 ? 1.0 : static_cast<double>(true_positive) / static_cast<double>(p);
  }
  std::string summary() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "precision %.4f recall %.4f (tp %zu fp %zu fn %zu tn %zu) removed %zu false merges %zu",
                  precision(), recall(), true_positive, false_positive, false_negative, true_negative, removed,
                  false_merges);
    return buf;
  }
};

// Doc-level scores of a clustering (kept_of[d] = kept doc of d's cluster).
// Predicted positive: d is in a cluster of size >= 2. A cluster is a false
// merge when it is not inside one connected component of the exact graph;
// counted per member whose component differs from its kept doc's.
inline accuracy score(const std::vector<neardup::doc_id>& kept_of, const ground_truth& g) {
  const std::size_t n = kept_of.size();
  if (g.component.size() != n) throw std::invalid_argument("score: size mismatch");
  std::vector<std::size_t> size(n, 0);
  for (auto k : kept_of) ++size[k];
  accuracy a;
  for (std::size_t d = 0; d < n; ++d) {
    const bool predicted = size[kept_of[d]] >= 2;
    const bool actual = g.has_duplicate[d] != 0;
    a.true_positive += predicted && actual;
    a.false_positive += predicted && !actual;
    a.false_negative += !predicted && actual;
    a.true_negative += !predicted && !actual;
    a.removed += kept_of[d] != d;
    a.false_merges += g.component[d] != g.component[kept_of[d]];
  }
  return a;
}

// kept_of from clusters.tsv rows, ids resolved by position of first occurrence.
// REQUIRES: ids unique.
inline std::vector<neardup::doc_id> kept_of_from_tsv(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::vector<std::pair<std::string, neardup::doc_id>> index;
  index.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) index.emplace_back(rows[i].first, static_cast<neardup::doc_id>(i));
  std::sort(index.begin(), index.end());
  std::vector<neardup::doc_id> kept(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(rows[i].second, neardup::doc_id{0}));
    if (it == index.end() || it->first != rows[i].second) throw std::runtime_error("unknown kept id " + rows[i].second);
    kept[i] = it->second;
  }
  return kept;
}

}  // namespace neardup_test

// Tokenizer and shingling throughput on ~2 KB documents.
//
// Each family runs the fast path and, in the same binary, its baseline: the
// reference tokenizer (detail::reference_tokenize: one utf8proc call per code
// point, a std::string per token). Corpus 0 = English-like ASCII text,
// corpus 1 = the same with ~25% of words in other scripts / accented / emoji,
// corpus 2 = source code, corpus 3 = real English (Debian license texts).
// Caveat: corpus 3 is only ~65 documents replayed every iteration, and branch
// predictors learn replayed text (64 replayed documents run ~1.6x faster than
// 512 distinct ones), so corpus 0 (512 distinct documents) is the honest
// number for text never seen before.
// NEARDUP_BENCH_SHORT=1 shrinks the corpus and the minimum time per benchmark.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/detail/tokenize_reference.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/shingle.hpp"
#include "neardup/tokenize.hpp"

namespace {

const bool short_mode = [] {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1";
}();

constexpr std::size_t doc_bytes = 2048;

const std::vector<std::string> english_words = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had",
    "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if",
    "more", "when", "will", "would", "who", "so", "no", "data", "training", "language", "model",
    "duplicate", "document", "corpus", "between", "important", "however", "information", "system",
    "government", "development", "international", "particularly", "2024", "10", "approximately",
    "characteristics", "responsibility", "neighbourhood", "through", "without", "because", "people"};

const std::vector<std::string> foreign_words = {
    "naïve", "café", "Straße", "déjà", "über", "Москва", "привет", "данные", "Αθήνα", "λόγος",
    "東京", "データ", "中文文本", "한국어", "emoji🎉", "✓", "€100", "e\xcc\x81" "cole", "٣٤٥", "हिन्दी"};

std::string make_doc(std::mt19937_64& rng, double foreign_rate) {
  std::string s;
  bool sentence_start = true;
  std::uniform_real_distribution<double> u(0, 1);
  while (s.size() < doc_bytes) {
    // Mildly skewed word frequencies (index ~ size * u^1.5): ~6 bytes per
    // token including separators, like real English (GPL-3: 6.2).
    const auto common =
        static_cast<std::size_t>(static_cast<double>(english_words.size()) * std::pow(u(rng), 1.5));
    std::string w = u(rng) < foreign_rate ? foreign_words[rng() % foreign_words.size()] : english_words[common];
    if (sentence_start && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 32);
    sentence_start = false;
    s += w;
    const auto r = rng() % 100;
    if (r < 8) {
      s += ", ";
    } else if (r < 14) {
      s += ". ";
      sentence_start = true;
    } else if (r < 15) {
      s += ".\n\n";
      sentence_start = true;
    } else {
      s += ' ';
    }
  }
  return s;
}

std::string make_code_doc(std::mt19937_64& rng) {
  static const std::vector<std::string> lines = {
      "  for (std::size_t i = 0; i < n; ++i) {\n", "    total += values[i] * 0x1F;\n",
      "  if (ptr->next != nullptr && count >= 3) return false;\n", "  // Update the running sum.\n",
      "  auto it = table.find(key);\n", "  }\n", "def compute(self, x, y=1.5e-3):\n",
      "    return [v ** 2 for v in x if v % 2 == 0]\n", "  std::vector<int> out; out.reserve(42);\n",
      "  const double ratio = static_cast<double>(a) / b;\n", "#include <vector>\n",
      "  x <<= 2; y ^= mask; z = a::b::c(d);\n"};
  std::string s;
  while (s.size() < doc_bytes) s += lines[rng() % lines.size()];
  return s;
}

struct corpus {
  std::vector<std::string> docs;
  std::size_t bytes = 0;
};

// Real English: the license texts shipped with Debian, cut into ~2 KB
// documents at spaces. Empty if the files are missing.
corpus license_corpus() {
  corpus c;
  for (const char* name : {"GPL-3", "GPL-2", "LGPL-2.1", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "Artistic"}) {
    std::ifstream in(std::string("/usr/share/common-licenses/") + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (std::size_t at = 0; at + doc_bytes <= text.size();) {
      std::size_t end = text.find(' ', at + doc_bytes);
      if (end == std::string::npos) break;
      c.docs.push_back(text.substr(at, end - at));
      c.bytes += c.docs.back().size();
      at = end;
      if (short_mode && c.docs.size() >= 16) return c;
    }
  }
  return c;
}

corpus make_corpus(int kind) {
  if (kind == 3) {
    corpus c = license_corpus();
    if (!c.docs.empty()) return c;
    kind = 0;  // no license files: fall back to generated English
  }
  std::mt19937_64 rng(12345 + static_cast<std::uint64_t>(kind));
  corpus c;
  const int count = short_mode ? 16 : 512;
  for (int i = 0; i < count; ++i) {
    c.docs.push_back(kind == 2 ? make_code_doc(rng) : make_doc(rng, kind == 1 ? 0.25 : 0.0));
    c.bytes += c.docs.back().size();
  }
  return c;
}

const corpus& get_corpus(int kind) {
  static const corpus english = make_corpus(0), mixed = make_corpus(1), code = make_corpus(2),
                      real = make_corpus(3);
  return kind == 0 ? english : kind == 1 ? mixed : kind == 2 ? code : real;
}

void finish(benchmark::State& state, const corpus& c, std::size_t items) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items));
  state.counters["doc_bytes"] = static_cast<double>(c.bytes) / static_cast<double>(c.docs.size());
}

neardup::tokenize_options options_for(int kind) {
  return neardup::tokenize_options::for_kind(static_cast<neardup::token_kind>(kind));
}

// Runs `per_doc(text, out)` over the corpus of state.range(0) and reports
// bytes and the items it produced (the sizes of `out`).
template <class F>
void over_corpus(benchmark::State& state, F per_doc) {
  const corpus& c = get_corpus(static_cast<int>(state.range(0)));
  std::vector<std::uint64_t> out;
  std::size_t items = 0;
  for (auto _ : state) {
    items = 0;
    for (const std::string& d : c.docs) {
      per_doc(d, out);
      items += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  finish(state, c, items);
}

// ---- tokenize + hash: fast path vs reference. Args: {corpus, token kind}.
void BM_TokenHash(benchmark::State& state) {
  neardup::tokenizer tok(options_for(static_cast<int>(state.range(1))));
  over_corpus(state, [&](const std::string& d, std::vector<std::uint64_t>& out) { tok.hash_tokens(d, out); });
}

void BM_TokenHash_Reference(benchmark::State& state) {
  const neardup::tokenize_options o = options_for(static_cast<int>(state.range(1)));
  over_corpus(state, [&](const std::string& d, std::vector<std::uint64_t>& out) {
    out = neardup::detail::reference_hash_tokens(d, o, neardup::default_seed);
  });
}

// ---- tokenize + 5-gram hashes (what MinHash consumes) and the sorted set.
neardup::shingler shingler_for(const benchmark::State& state) {
  neardup::shingle_options so;
  so.tokens = options_for(static_cast<int>(state.range(1)));
  return neardup::shingler(so);
}

void BM_Shingle5(benchmark::State& state) {
  neardup::shingler sh = shingler_for(state);
  over_corpus(state, [&](const std::string& d, std::vector<std::uint64_t>& out) { sh.ngram_hashes(d, out); });
}

void BM_Shingle5Set(benchmark::State& state) {
  neardup::shingler sh = shingler_for(state);
  over_corpus(state, [&](const std::string& d, std::vector<std::uint64_t>& out) { sh.shingles(d, out); });
}

void BM_Shingle5_Reference(benchmark::State& state) {
  const neardup::tokenize_options o = options_for(static_cast<int>(state.range(1)));
  over_corpus(state, [&](const std::string& d, std::vector<std::uint64_t>& out) {
    neardup::ngram_hashes(neardup::detail::reference_hash_tokens(d, o, neardup::default_seed), 5,
                          neardup::default_seed, out);
  });
}

// ---- fingerprint (tokenize + one 128-bit hash).
void BM_Fingerprint(benchmark::State& state) {
  const corpus& c = get_corpus(static_cast<int>(state.range(0)));
  neardup::tokenizer tok;
  std::vector<std::uint64_t> h;
  for (auto _ : state) {
    for (const std::string& d : c.docs) {
      tok.hash_tokens(d, h);
      benchmark::DoNotOptimize(neardup::fingerprint(h));
    }
  }
  finish(state, c, c.docs.size());
}

void args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"corpus", "kind"});
  // corpus 0 = English ASCII, 1 = mixed scripts, 2 = source code, 3 = real English;
  // kind 0 = word, 1 = char, 2 = code.
  b->Args({0, 0})->Args({3, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1})->Args({2, 2});
  if (short_mode) b->MinTime(0.02);
}
void word_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"corpus", "kind"})->Args({0, 0})->Args({3, 0})->Args({1, 0});
  if (short_mode) b->MinTime(0.02);
}

BENCHMARK(BM_TokenHash)->Apply(args);
BENCHMARK(BM_TokenHash_Reference)->Apply(args);
BENCHMARK(BM_Shingle5)->Apply(args);
BENCHMARK(BM_Shingle5Set)->Apply(word_args);
BENCHMARK(BM_Shingle5_Reference)->Apply(word_args);
BENCHMARK(BM_Fingerprint)->ArgName("corpus")->Arg(0)->Arg(1)->MinTime(short_mode ? 0.02 : 0.5);

}  // namespace

// The whole signature stage on ~2 KB English-like documents never seen before:
// text -> word tokens -> 5-gram shingle hashes -> k = 128 MinHash signature
// (what scan_corpus does per document, minus I/O).
//
// Families (bytes/s = input text bytes):
//   BM_SignStage/kernel:K      the default path: shingler::ngram_hashes +
//                              minhasher::sign (one_permutation), kernel K
//                              (0 = automatic, 1 = scalar, 2 = avx2, 3 = avx512;
//                              unsupported kernels are skipped).
//   BM_SignStageFingerprint    the same plus the 128-bit document fingerprint
//                              from the token hashes (scan_corpus does both).
//   BM_SignStage_Baseline      the baseline from the same run: the reference
//                              tokenizer (detail::reference_hash_tokens) +
//                              ngram_hashes + classic MinHash, scalar kernel.
// After the run, each family's ratio to the baseline is printed.
//
// Corpus: 4096 distinct documents (fresh random text each, so the branch
// predictor cannot learn them), Zipf-like word frequencies over a 3000-word
// vocabulary of English words and pronounceable pseudo-words (~6 bytes per
// token with separators), capitalized sentences, commas and paragraphs.
// NEARDUP_BENCH_SHORT=1 keeps the same corpus and shortens each benchmark.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/detail/tokenize_reference.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"

namespace {

const bool short_mode = [] {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1";
}();

constexpr std::size_t doc_bytes = 2048;
constexpr std::size_t doc_count = 4096;
constexpr std::size_t ngram = 5;

std::vector<std::string> make_vocabulary(std::mt19937_64& rng) {
  std::vector<std::string> v = {
      "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
      "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
      "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
      "been", "if", "more", "when", "will", "would", "who", "so", "no", "people", "through",
      "without", "because", "however", "important", "information", "government", "2024", "10"};
  static constexpr std::string_view onsets[] = {"b", "c", "d", "f", "g", "h", "l", "m", "n", "p",
                                                "r", "s", "t", "v", "w", "st", "tr", "pl", "ch", "th"};
  static constexpr std::string_view vowels[] = {"a", "e", "i", "o", "u", "ea", "ou", "io"};
  static constexpr std::string_view codas[] = {"", "", "n", "r", "s", "t", "nd", "ng", "ck", "ll"};
  while (v.size() < 3000) {
    const std::uint64_t r = rng() % 20;  // 1, 2 or 3 syllables (50/35/15%)
    const std::size_t syllables = r < 10 ? 1 : r < 17 ? 2 : 3;
    std::string w;
    for (std::size_t s = 0; s < syllables; ++s) {
      w += onsets[rng() % std::size(onsets)];
      w += vowels[rng() % std::size(vowels)];
      w += codas[rng() % std::size(codas)];
    }
    v.push_back(w);
  }
  return v;
}

std::string make_doc(std::mt19937_64& rng, const std::vector<std::string>& vocab) {
  std::string s;
  bool sentence_start = true;
  std::uniform_real_distribution<double> u(0, 1);
  while (s.size() < doc_bytes) {
    // Zipf-like: index ~ size * u^4 (the first words are by far the most common).
    const auto at = static_cast<std::size_t>(static_cast<double>(vocab.size()) * std::pow(u(rng), 4.0));
    std::string w = vocab[at];
    if (sentence_start && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 32);
    sentence_start = false;
    s += w;
    const auto r = rng() % 100;
    if (r < 7) {
      s += ", ";
    } else if (r < 13) {
      s += ". ";
      sentence_start = true;
    } else if (r < 14) {
      s += ".\n\n";
      sentence_start = true;
    } else {
      s += ' ';
    }
  }
  return s;
}

struct corpus {
  std::vector<std::string> docs;
  std::size_t bytes = 0;
  std::size_t tokens = 0;
};

const corpus& get_corpus() {
  static const corpus c = [] {
    corpus r;
    std::mt19937_64 rng(20261125);
    const std::vector<std::string> vocab = make_vocabulary(rng);
    for (std::size_t i = 0; i < doc_count; ++i) {
      r.docs.push_back(make_doc(rng, vocab));
      r.bytes += r.docs.back().size();
      r.tokens += neardup::detail::reference_tokenize(r.docs.back(), {}).size();
    }
    return r;
  }();
  return c;
}

void finish(benchmark::State& state, const corpus& c) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.docs.size()));
  state.counters["bytes_per_token"] = static_cast<double>(c.bytes) / static_cast<double>(c.tokens);
}

constexpr neardup::sig_kernel kernels[] = {neardup::sig_kernel::automatic, neardup::sig_kernel::scalar,
                                           neardup::sig_kernel::avx2, neardup::sig_kernel::avx512};

void BM_SignStage(benchmark::State& state) {
  const neardup::sig_kernel kernel = kernels[state.range(0)];
  if (!neardup::kernel_supported(kernel)) {
    state.SkipWithError("kernel not supported by this CPU");
    return;
  }
  const corpus& c = get_corpus();
  neardup::shingler sh({.tokens = {}, .n = ngram, .seed = neardup::default_seed});
  const neardup::minhasher mh({.scheme = neardup::minhash_scheme::one_permutation,
                               .num_perm = 128,
                               .seed = neardup::default_seed,
                               .kernel = kernel});
  std::vector<std::uint64_t> ngrams;
  std::vector<neardup::sig_value> sig(mh.num_perm());
  for (auto _ : state) {
    for (const std::string& d : c.docs) {
      sh.ngram_hashes(d, ngrams);
      mh.sign(ngrams, sig);
      benchmark::DoNotOptimize(sig.data());
    }
  }
  state.SetLabel(std::string(neardup::name(mh.kernel())));
  finish(state, c);
}

void BM_SignStageFingerprint(benchmark::State& state) {
  const corpus& c = get_corpus();
  neardup::shingler sh({.tokens = {}, .n = ngram, .seed = neardup::default_seed});
  const neardup::minhasher mh(neardup::minhash_options{});
  std::vector<std::uint64_t> ngrams;
  std::vector<neardup::sig_value> sig(mh.num_perm());
  for (auto _ : state) {
    for (const std::string& d : c.docs) {
      sh.ngram_hashes(d, ngrams);
      benchmark::DoNotOptimize(neardup::fingerprint(sh.token_hashes(), neardup::default_seed));
      mh.sign(ngrams, sig);
      benchmark::DoNotOptimize(sig.data());
    }
  }
  state.SetLabel(std::string(neardup::name(mh.kernel())));
  finish(state, c);
}

void BM_SignStage_Baseline(benchmark::State& state) {
  const corpus& c = get_corpus();
  const neardup::minhasher mh({.scheme = neardup::minhash_scheme::classic,
                               .num_perm = 128,
                               .seed = neardup::default_seed,
                               .kernel = neardup::sig_kernel::scalar});
  std::vector<std::uint64_t> ngrams;
  std::vector<neardup::sig_value> sig(mh.num_perm());
  for (auto _ : state) {
    for (const std::string& d : c.docs) {
      const auto tokens = neardup::detail::reference_hash_tokens(d, {}, neardup::default_seed);
      neardup::ngram_hashes(tokens, ngram, neardup::default_seed, ngrams);
      mh.sign(ngrams, sig);
      benchmark::DoNotOptimize(sig.data());
    }
  }
  state.SetLabel("reference tokenizer + classic scalar");
  finish(state, c);
}

void timing(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond);
  if (short_mode) b->MinTime(0.05);
}

BENCHMARK(BM_SignStage)->ArgName("kernel")->DenseRange(0, 3)->Apply(timing);
BENCHMARK(BM_SignStageFingerprint)->Apply(timing);
BENCHMARK(BM_SignStage_Baseline)->Apply(timing);

// Console output plus, at the end, every run's MB/s and its ratio to the baseline.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const auto it = r.counters.find("bytes_per_second");
      if (it != r.counters.end()) rates_[r.benchmark_name()] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    double base = 0;
    for (const auto& [name, rate] : rates_) {
      if (name.find("Baseline") != std::string::npos) base = rate;
    }
    std::printf("\nsignature stage, MB/s per core (1 thread), ratio to the baseline:\n");
    for (const auto& [name, rate] : rates_) {
      std::printf("  %-36s %8.1f MB/s  x%.2f\n", name.c_str(), rate / 1e6, base > 0 ? rate / base : 0.0);
    }
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  get_corpus();  // build the corpus outside every timed region
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

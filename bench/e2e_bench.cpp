// End-to-end: `neardup dedup` on a generated JSONL corpus, page cache warm,
// all outputs written. Prints MB/s and docs/s of input, grouping bytes per
// document, peak RSS, and — measured in the same run on the same corpus — a
// straightforward implementation (getline, per-byte tokenizer, std::string
// shingles, classic k-hash MinHash, std::unordered_map buckets, no
// verification): the ratio holds on a noisy machine where absolute times do not.
//
// NEARDUP_BENCH_SHORT=1: a 24 MB corpus; otherwise 256 MB (NEARDUP_E2E_MB
// overrides). NEARDUP_E2E_CORPUS=FILE.jsonl runs on that file instead (e.g. the
// 1.16 GB of real source files made by scripts/make_code_corpus.py); it is
// left in place. NEARDUP_E2E_RUNS=N runs dedup N times per thread count and
// reports the median run.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "neardup/cluster.hpp"
#include "neardup/hash.hpp"
#include "neardup/jobs/dedup.hpp"

namespace {

namespace fs = std::filesystem;

std::size_t corpus_mb() {
  if (const char* mb = std::getenv("NEARDUP_E2E_MB")) return static_cast<std::size_t>(std::atol(mb));
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return (s && std::string(s) == "1") ? 24 : 256;
}

// ~2 KB English-like documents from a Zipf-ish vocabulary; one in four is an
// edited copy of an earlier one (a few words changed), so there is real work
// for grouping and verification.
struct corpus_file {
  std::string path;
  std::uint64_t bytes = 0;
  std::uint64_t docs = 0;
  bool given = false;  // NEARDUP_E2E_CORPUS: not ours to delete
};

const corpus_file& corpus() {
  static const corpus_file c = [] {
    corpus_file f;
    if (const char* given = std::getenv("NEARDUP_E2E_CORPUS")) {
      f.path = given;
      f.given = true;
      std::ifstream in(f.path, std::ios::binary);
      std::string line;
      while (std::getline(in, line)) {
        f.bytes += line.size() + 1;
        ++f.docs;
      }
      if (f.docs == 0) {
        std::fprintf(stderr, "e2e_bench: NEARDUP_E2E_CORPUS=%s is missing or empty\n", given);
        std::exit(2);
      }
      return f;
    }
    f.path = (fs::temp_directory_path() / ("neardup_e2e_" + std::to_string(::getpid()) + ".jsonl")).string();
    std::vector<std::string> vocab;
    neardup::seed_sequence rng(2026);
    for (int i = 0; i < 20000; ++i) {
      std::string w;
      const std::size_t len = 2 + rng.next() % 9;
      for (std::size_t j = 0; j < len; ++j) w += static_cast<char>('a' + rng.next() % 26);
      vocab.push_back(w);
    }
    auto word = [&] {
      // Zipf-like: the square of a uniform favours low ranks.
      const double u = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
      return vocab[static_cast<std::size_t>(u * u * static_cast<double>(vocab.size()))];
    };
    std::ofstream out(f.path, std::ios::binary);
    std::vector<std::string> recent;
    std::string text, line;
    const std::uint64_t target = corpus_mb() << 20;
    while (f.bytes < target) {
      text.clear();
      if (!recent.empty() && rng.next() % 4 == 0) {
        text = recent[rng.next() % recent.size()];
        for (int e = 0; e < 4; ++e) {  // overwrite a few bytes with a new word
          const std::size_t at = rng.next() % text.size();
          text.replace(at, std::min<std::size_t>(6, text.size() - at), word());
        }
      } else {
        while (text.size() < 2048) {
          text += word();
          text += (rng.next() % 12 == 0) ? ". " : " ";
        }
        if (recent.size() < 512) recent.push_back(text); else recent[rng.next() % 512] = text;
      }
      line = "{\"id\":\"d" + std::to_string(f.docs) + "\",\"text\":\"" + text + "\"}\n";
      out << line;
      f.bytes += line.size();
      ++f.docs;
    }
    return f;
  }();
  return c;
}

struct cleanup {
  ~cleanup() {
    std::error_code ec;
    if (!corpus().given) fs::remove(corpus().path, ec);
    fs::remove_all(fs::temp_directory_path() / "neardup_e2e_out", ec);
  }
};

// The straightforward implementation: what a first C++ port of datasketch's
// MinHashLSH looks like. Returns the number of documents kept.
std::size_t straightforward_dedup(const std::string& path, double threshold) {
  constexpr std::size_t k = 128, bands = 9, rows = 13;  // datasketch's choice for 0.8
  (void)threshold;
  std::vector<std::uint64_t> a(k), b(k);
  neardup::seed_sequence rng(7);
  for (std::size_t i = 0; i < k; ++i) {
    a[i] = rng.next() | 1;
    b[i] = rng.next();
  }
  std::ifstream in(path);
  std::string line;
  std::vector<std::vector<std::uint32_t>> sigs;
  while (std::getline(in, line)) {
    // The text value runs from `"text": "` to the last quote (escapes kept).
    std::size_t t0 = line.find("\"text\":");
    if (t0 == std::string::npos) continue;
    t0 = line.find('"', t0 + 7);
    const std::size_t t1 = line.rfind('"');
    if (t0 == std::string::npos || t1 <= t0) continue;
    const std::string text = line.substr(t0 + 1, t1 - t0 - 1);
    std::vector<std::string> tokens;
    std::string cur;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
        cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!cur.empty()) {
        tokens.push_back(cur);
        cur.clear();
      }
    }
    if (!cur.empty()) tokens.push_back(cur);
    std::vector<std::uint32_t> sig(k, UINT32_MAX);
    for (std::size_t i = 0; i + 5 <= tokens.size(); ++i) {
      std::string shingle = tokens[i];
      for (std::size_t j = 1; j < 5; ++j) shingle += " " + tokens[i + j];
      const std::uint64_t h = std::hash<std::string>{}(shingle);
      for (std::size_t p = 0; p < k; ++p) {
        sig[p] = std::min(sig[p], static_cast<std::uint32_t>((a[p] * h + b[p]) >> 32));
      }
    }
    sigs.push_back(std::move(sig));
  }
  neardup::union_find uf(sigs.size());
  for (std::size_t band = 0; band < bands; ++band) {
    std::unordered_map<std::string, std::uint32_t> buckets;
    for (std::uint32_t d = 0; d < sigs.size(); ++d) {
      const std::string key(reinterpret_cast<const char*>(sigs[d].data() + band * rows), rows * 4);
      auto [it, fresh] = buckets.emplace(key, d);
      if (!fresh) uf.unite(it->second, d);
    }
  }
  std::size_t kept = 0;
  for (std::uint32_t d = 0; d < sigs.size(); ++d) kept += uf.find(d) == d;
  return kept;
}

// The baseline, once per process, outside the measured runs, on the same file.
double baseline_seconds(double threshold) {
  static const double seconds = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t kept = straightforward_dedup(corpus().path, threshold);
    benchmark::DoNotOptimize(kept);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }();
  return seconds;
}

// Runs per thread count: NEARDUP_E2E_RUNS (default 1). With several, the
// figures are the median run's, and the label gives every run's seconds: the
// first run in a process pays for touching fresh memory, which on a virtual
// machine can cost far more than on bare metal.
int runs() {
  const char* r = std::getenv("NEARDUP_E2E_RUNS");
  return r ? std::max(1, std::atoi(r)) : 1;
}

void BM_DedupEndToEnd(benchmark::State& state) {
  const corpus_file& c = corpus();
  static cleanup at_exit;  // after corpus(): statics die in reverse order, so the corpus outlives this
  {
    std::ifstream warm(c.path, std::ios::binary);  // page cache warm
    std::vector<char> buf(1 << 20);
    while (warm.read(buf.data(), static_cast<std::streamsize>(buf.size()))) {
    }
  }
  const auto sources = neardup::io::expand_inputs({c.path});
  neardup::jobs::dedup_options o;
  o.threads = static_cast<std::size_t>(state.range(0));
  o.progress = false;
  o.max_reported_errors = 0;
  const std::string out = (fs::temp_directory_path() / "neardup_e2e_out").string();
  std::vector<std::pair<double, neardup::jobs::dedup_report>> done;
  std::string label = "threads=" + std::to_string(state.range(0)) + " runs(s)=";
  for (auto _ : state) {
    for (int k = 0; k < runs(); ++k) {
      fs::remove_all(out);  // every run writes into an empty directory
      const auto t0 = std::chrono::steady_clock::now();
      auto r = neardup::jobs::run_dedup(sources.sources, out, o);
      done.emplace_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), std::move(r));
    }
    for (std::size_t k = 0; k < done.size(); ++k) {
      if (k != 0) label += ',';
      label += std::to_string(done[k].first).substr(0, 4);
    }
    std::sort(done.begin(), done.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    state.SetIterationTime(done[done.size() / 2].first);  // the median run
  }
  const auto& [seconds, r] = done[done.size() / 2];
  const double base_seconds = baseline_seconds(o.threshold);

  const double mb = static_cast<double>(c.bytes) / 1e6;
  state.SetBytesProcessed(static_cast<std::int64_t>(c.bytes) * state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(c.docs) * state.iterations());
  state.counters["MB/s"] = mb / seconds;
  state.counters["docs/s"] = static_cast<double>(c.docs) / seconds;
  state.counters["baseline_MB/s"] = mb / base_seconds;
  state.counters["speedup"] = base_seconds / seconds;
  state.counters["group_B/doc"] = r.grouping_bytes_per_document;
  state.counters["peakRSS_MB"] = static_cast<double>(r.peak_rss_bytes) / 1e6;
  state.counters["corpus_MB"] = mb;
  state.counters["removed"] = static_cast<double>(r.removed_exact + r.removed_near);
  state.SetLabel(label);
}
BENCHMARK(BM_DedupEndToEnd)->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace

// Short documents: the cost of a one_permutation signature for sets of 1 to
// 400 shingles, and 1 million tiny documents end to end, each next to its
// in-run baseline: today's scheme (fast densification, signature_version 2)
// against the optimal densification of signature_version 1
// (detail::sign_one_permutation_v1), which costs ~k^2 / e probes for a set
// filling e of the k bins.
//
//   sign/baseline_optimal_densification_v1/shingles:N   version 1
//   sign/fast_densification/shingles:N                  today
//       k = 128, 4096 distinct random sets of N shingles; counter us/sign.
//       For N well above k (1600, 6400) bins are rarely empty and both do the
//       same work.
//   tiny_docs/baseline_optimal_densification_v1, tiny_docs/fast_densification
//       1,000,000 generated documents of 2-8 words (~30 bytes; one in five an
//       edited copy of an earlier one), in memory, one thread, through the
//       library's stages as `neardup dedup` runs them: word tokens, 5-gram
//       shingles, k = 128 signature, 16 x 6 band keys, grouping, clustering
//       with a verifier on the signature estimate (>= 0.8). Only the
//       signature function differs. Counters: s (seconds, wall), cpu_s
//       (process CPU seconds: robust on a shared machine), shingle_s, sign_s,
//       cluster_s (the three stages, wall), speedup and cpu_speedup (baseline
//       over these, printed on the second one), clusters (close for both, not
//       equal: the densification changed).
//
//   NEARDUP_BENCH_SHORT=1 ./short_docs_bench    # 200,000 tiny documents
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/cluster.hpp"
#include "neardup/detail/signature_reference.hpp"
#include "neardup/hash.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace {

constexpr std::size_t k = 128;

bool short_mode() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::strcmp(s, "1") == 0;
}

const neardup::minhash_options oph{.scheme = neardup::minhash_scheme::one_permutation, .num_perm = k};

void sign_sets(benchmark::State& state, bool baseline) {
  const auto n = static_cast<std::size_t>(state.range(0));
  neardup::seed_sequence rng(n * 31 + 7);
  std::vector<std::vector<std::uint64_t>> sets(4096, std::vector<std::uint64_t>(n));
  for (auto& s : sets) {
    for (auto& x : s) x = rng.next();
  }
  const neardup::minhasher mh(oph);
  std::vector<neardup::sig_value> out(k);
  for (auto _ : state) {
    for (const auto& s : sets) {
      if (baseline) {
        neardup::detail::sign_one_permutation_v1(oph, s, out);
      } else {
        mh.sign(s, out);
      }
      benchmark::DoNotOptimize(out.data());
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sets.size()));
  state.counters["us/sign"] = benchmark::Counter(static_cast<double>(sets.size()) * 1e-6,
                                                 benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

// Titles, questions, chat turns: 2-8 words from a 5000-word vocabulary.
const std::vector<std::string>& tiny_docs() {
  static const std::vector<std::string> docs = [] {
    const std::size_t count = short_mode() ? 200'000 : 1'000'000;
    neardup::seed_sequence rng(11);
    std::vector<std::string> vocab;
    for (int i = 0; i < 5000; ++i) {
      std::string w;
      const std::size_t len = 2 + rng.next() % 7;
      for (std::size_t j = 0; j < len; ++j) w += static_cast<char>('a' + rng.next() % 26);
      vocab.push_back(w);
    }
    std::vector<std::string> out;
    out.reserve(count);
    while (out.size() < count) {
      if (!out.empty() && rng.next() % 5 == 0) {
        std::string copy = out[out.size() - 1 - rng.next() % std::min<std::size_t>(out.size(), 1000)];
        copy += ' ';
        copy += vocab[rng.next() % vocab.size()];  // an edit: one more word
        out.push_back(std::move(copy));
        continue;
      }
      std::string d;
      const std::size_t words = 2 + rng.next() % 7;
      for (std::size_t w = 0; w < words; ++w) {
        if (w != 0) d += ' ';
        d += vocab[rng.next() % vocab.size()];
      }
      out.push_back(std::move(d));
    }
    return out;
  }();
  return docs;
}

struct run_result {
  double seconds = 0, cpu_seconds = 0, shingle_seconds = 0, sign_seconds = 0, cluster_seconds = 0;
  std::size_t clusters = 0;
};

run_result run_tiny_docs(bool baseline) {
  using clock = std::chrono::steady_clock;
  const auto seconds_since = [](clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  };
  const auto& docs = tiny_docs();
  run_result r;
  const std::clock_t c0 = std::clock();
  const auto t0 = clock::now();
  // Stage 1: word tokens -> 5-gram shingle hashes, all documents.
  neardup::shingler sh;
  std::vector<std::uint64_t> shingles, ngrams;
  std::vector<std::size_t> starts{0};
  for (const std::string& d : docs) {
    sh.ngram_hashes(d, ngrams);
    shingles.insert(shingles.end(), ngrams.begin(), ngrams.end());
    starts.push_back(shingles.size());
  }
  r.shingle_seconds = seconds_since(t0);
  // Stage 2: signatures.
  const auto t1 = clock::now();
  const neardup::minhasher mh(oph);
  std::vector<neardup::sig_value> sigs(docs.size() * k);
  for (std::size_t d = 0; d < docs.size(); ++d) {
    const std::span<const std::uint64_t> in(shingles.data() + starts[d], starts[d + 1] - starts[d]);
    const std::span<neardup::sig_value> out(sigs.data() + d * k, k);
    if (baseline) {
      neardup::detail::sign_one_permutation_v1(oph, in, out);
    } else {
      mh.sign(in, out);
    }
  }
  r.sign_seconds = seconds_since(t1);
  // Stage 3: band keys, grouping, clustering with a verifier on the estimate.
  const auto t2 = clock::now();
  const neardup::lsh_params lsh{16, 6};
  const neardup::bander bands(lsh, k);
  std::vector<std::uint64_t> keys(docs.size() * lsh.bands);  // band-major: one column per band
  std::vector<std::uint64_t> doc_keys(lsh.bands);
  std::vector<std::uint8_t> excluded(docs.size(), 0);
  for (std::size_t d = 0; d < docs.size(); ++d) {
    const std::span<const neardup::sig_value> sig(sigs.data() + d * k, k);
    if (!bands.keys(sig, doc_keys)) excluded[d] = 1;
    for (std::size_t j = 0; j < lsh.bands; ++j) keys[j * docs.size() + d] = doc_keys[j];
  }
  const auto result = neardup::cluster_band_keys(
      docs.size(), lsh.bands,
      [&](std::size_t band) {
        return std::span<const std::uint64_t>(keys.data() + band * docs.size(), docs.size());
      },
      excluded,
      [&](neardup::doc_id a, neardup::doc_id b) {
        const std::span<const neardup::sig_value> sa(sigs.data() + std::size_t{a} * k, k);
        const std::span<const neardup::sig_value> sb(sigs.data() + std::size_t{b} * k, k);
        return neardup::equal_positions(sa, sb) * 10 >= 8 * k;
      });
  r.clusters = neardup::count_clusters(result.representative);
  r.cluster_seconds = seconds_since(t2);
  r.seconds = seconds_since(t0);
  r.cpu_seconds = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  return r;
}

double baseline_tiny_seconds = 0, baseline_tiny_cpu_seconds = 0;

void tiny_docs_bench(benchmark::State& state, bool baseline) {
  run_result r;
  for (auto _ : state) {
    r = run_tiny_docs(baseline);
    state.SetIterationTime(r.seconds);
  }
  if (baseline) {
    baseline_tiny_seconds = r.seconds;
    baseline_tiny_cpu_seconds = r.cpu_seconds;
  }
  state.counters["docs"] = static_cast<double>(tiny_docs().size());
  state.counters["s"] = r.seconds;
  state.counters["shingle_s"] = r.shingle_seconds;
  state.counters["sign_s"] = r.sign_seconds;
  state.counters["cluster_s"] = r.cluster_seconds;
  state.counters["clusters"] = static_cast<double>(r.clusters);
  state.counters["cpu_s"] = r.cpu_seconds;
  if (!baseline && baseline_tiny_seconds > 0) {
    state.counters["speedup"] = baseline_tiny_seconds / r.seconds;
    state.counters["cpu_speedup"] = baseline_tiny_cpu_seconds / r.cpu_seconds;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * tiny_docs().size()));
}

struct registrar {
  registrar() {
    const double min_time = short_mode() ? 0.05 : 0.3;
    for (bool baseline : {true, false}) {
      const std::string name =
          std::string("sign/") + (baseline ? "baseline_optimal_densification_v1" : "fast_densification");
      auto* b = benchmark::RegisterBenchmark(name.c_str(),
                                             [baseline](benchmark::State& st) { sign_sets(st, baseline); });
      b->ArgName("shingles")->MinTime(min_time);
      for (std::int64_t n : {1, 2, 4, 8, 16, 32, 64, 128, 400, 1600, 6400}) b->Arg(n);
    }
    // The baseline first: the second one prints the speedup.
    benchmark::RegisterBenchmark("tiny_docs/baseline_optimal_densification_v1",
                                 [](benchmark::State& st) { tiny_docs_bench(st, true); })
        ->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
    benchmark::RegisterBenchmark("tiny_docs/fast_densification",
                                 [](benchmark::State& st) { tiny_docs_bench(st, false); })
        ->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
  }
} const registered;

}  // namespace

// Exact all-pairs Jaccard join vs. the straightforward ways to get the same
// answer, on synthetic shingle sets shaped like a web/code corpus:
//  - ~400 shingles per document (300..500), 90% of them unique hashes and 10%
//    drawn log-uniformly (Zipf s=1) from 10^6 "boilerplate" shingles, so a few
//    shingles occur in nearly every document (a heavy variant uses 60%);
//  - 10% of documents are planted near-duplicates of an earlier document with
//    0..15% of their shingles replaced (Jaccard ~0.74..1).
// items/s = n(n-1)/2 / time: document pairs decided per second, comparable
// across all three families (brute force and the naive join are run on
// smaller n, where they finish; their rate does not improve with n).
// All families use wall time (the 2-thread join is only meaningful so); on a
// loaded machine compare the CPU column of the 1-thread rows.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "neardup/allpairs.hpp"
#include "neardup/hash.hpp"

namespace {

// One executor per thread count, shared by the tests of this file.
neardup::executor* pool_of(std::size_t threads) {
  static std::map<std::size_t, std::unique_ptr<neardup::executor>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<neardup::executor>(threads);
  return p.get();
}

bool short_mode() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1";
}

// boilerplate: percent of a fresh document's shingles drawn from the Zipf pool.
const neardup::flat_sets& corpus(std::size_t n, int boilerplate = 10) {
  static std::map<std::pair<std::size_t, int>, neardup::flat_sets> cache;
  auto it = cache.find({n, boilerplate});
  if (it != cache.end()) return it->second;
  std::mt19937_64 rng(20261125);
  std::uniform_int_distribution<std::size_t> len(300, 500);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::vector<std::uint64_t>> docs;
  docs.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::uint64_t> d;
    if (i > 0 && unit(rng) < 0.1) {
      d = docs[rng() % i];
      const double change = 0.15 * unit(rng);
      for (auto& v : d) {
        if (unit(rng) < change) v = rng();
      }
    } else {
      const std::size_t m = len(rng);
      for (std::size_t k = 0; k < m; ++k) {
        if (unit(rng) < boilerplate / 100.0) {
          const auto id = static_cast<std::uint64_t>(std::exp(unit(rng) * std::log(1e6)));
          d.push_back(neardup::hash64(&id, sizeof id, 7));
        } else {
          d.push_back(rng());
        }
      }
    }
    std::sort(d.begin(), d.end());
    d.erase(std::unique(d.begin(), d.end()), d.end());
    docs.push_back(std::move(d));
  }
  neardup::flat_sets sets;
  for (const auto& d : docs) sets.push_back(d);
  return cache.emplace(std::pair{n, boilerplate}, std::move(sets)).first->second;
}

std::size_t total_values(const neardup::flat_sets& s) { return s.view().values.size(); }

void report(benchmark::State& state, std::size_t n, std::size_t found, std::size_t values) {
  const auto iters = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iters * static_cast<std::int64_t>(n * (n - 1) / 2));
  state.SetBytesProcessed(iters * static_cast<std::int64_t>(values * sizeof(std::uint64_t)));
  state.counters["docs/s"] = benchmark::Counter(static_cast<double>(n) * static_cast<double>(iters),
                                                benchmark::Counter::kIsRate);
  state.counters["pairs_found"] = static_cast<double>(found);
}

void BM_AllPairsJoin(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto threads = static_cast<unsigned>(state.range(1));
  const auto& sets = corpus(n, static_cast<int>(state.range(2)));
  std::size_t found = 0;
  for (auto _ : state) {
    auto pairs = neardup::allpairs_join(sets.view(), {.threshold = 0.8, .pool = pool_of(threads)});
    found = pairs.size();
    benchmark::DoNotOptimize(pairs.data());
  }
  report(state, n, found, total_values(sets));
}

// Baseline 1: every pair, merge intersection.
void BM_BruteForce(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& sets = corpus(n);
  std::size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const auto a = sets[i], b = sets[j];
        std::size_t inter = 0;
        for (std::size_t p = 0, q = 0; p < a.size() && q < b.size();) {
          if (a[p] < b[q]) {
            ++p;
          } else if (b[q] < a[p]) {
            ++q;
          } else {
            ++inter, ++p, ++q;
          }
        }
        const double jac = static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
        found += jac >= 0.8;
      }
    }
    benchmark::DoNotOptimize(found);
  }
  report(state, n, found, total_values(sets));
}

// Baseline 2: inverted index over every token (no prefix filter), count the
// overlap of every co-occurring pair, then apply the threshold.
void BM_NaiveInvertedIndex(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& sets = corpus(n);
  std::size_t found = 0;
  for (auto _ : state) {
    found = 0;
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> index;
    std::vector<std::uint32_t> overlap(n, 0);
    std::vector<std::uint32_t> touched;
    for (std::size_t x = 0; x < n; ++x) {
      touched.clear();
      for (std::uint64_t tok : sets[x]) {
        auto& list = index[tok];
        for (std::uint32_t y : list) {
          if (overlap[y]++ == 0) touched.push_back(y);
        }
        list.push_back(static_cast<std::uint32_t>(x));
      }
      for (std::uint32_t y : touched) {
        const std::size_t inter = overlap[y];
        overlap[y] = 0;
        const double jac = static_cast<double>(inter) / static_cast<double>(sets[x].size() + sets[y].size() - inter);
        found += jac >= 0.8;
      }
    }
    benchmark::DoNotOptimize(found);
  }
  report(state, n, found, total_values(sets));
}

void allpairs_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"docs", "threads", "boilerplate%"})->Unit(benchmark::kMillisecond)->UseRealTime();
  if (short_mode()) {
    b->Args({2000, 1, 10})->Args({10000, 1, 10})->Args({10000, 2, 10})->Args({10000, 2, 60})->Iterations(1);
  } else {
    for (long n : {10000L, 30000L, 100000L}) b->Args({n, 1, 10})->Args({n, 2, 10});
    b->Args({30000, 2, 60})->Args({100000, 2, 60});
    b->Iterations(1);
  }
}
void brute_args(benchmark::internal::Benchmark* b) {
  b->ArgName("docs")->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
  if (short_mode()) {
    b->Arg(300);
  } else {
    b->Arg(1000)->Arg(2000);
  }
}
void naive_args(benchmark::internal::Benchmark* b) {
  b->ArgName("docs")->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
  if (short_mode()) {
    b->Arg(2000);
  } else {
    b->Arg(2000)->Arg(10000);
  }
}

BENCHMARK(BM_AllPairsJoin)->Apply(allpairs_args);
BENCHMARK(BM_BruteForce)->Apply(brute_args);
BENCHMARK(BM_NaiveInvertedIndex)->Apply(naive_args);

}  // namespace

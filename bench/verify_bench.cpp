// Verifying candidate pairs by exact Jaccard of their shingle sets: the
// set-intersection kernels, and jaccard_at_least (exact, and with sampled
// rejection) against the straightforward full merge, exact_jaccard >= T, as
// the baseline of the same run. Pairs: sorted random 64-bit sets (uniform,
// like shingle hashes) of `size` values each at a given Jaccard similarity,
// threshold 0.8: J 0.65 and 0.75 are rejected, 0.9 accepted.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

namespace {

constexpr double kThreshold = 0.8;

struct pair_sets {
  std::vector<std::vector<std::uint64_t>> a, b;
};

// 64 pairs (more than L1/L2 holds at the larger size, as in a real band).
const pair_sets& pairs(std::size_t size, int j_percent) {
  static std::vector<std::pair<std::pair<std::size_t, int>, pair_sets>> cache;
  for (const auto& [key, p] : cache) {
    if (key == std::make_pair(size, j_percent)) return p;
  }
  std::mt19937_64 rng(size * 131 + static_cast<std::size_t>(j_percent));
  pair_sets p;
  // |A| = |B| = size, |A n B| = c: J = c / (2 size - c)  =>  c = 2 J size / (1 + J).
  const double j = j_percent / 100.0;
  const auto shared = static_cast<std::size_t>(2.0 * j * static_cast<double>(size) / (1.0 + j));
  for (int k = 0; k < 64; ++k) {
    std::vector<std::uint64_t> a, b;
    for (std::size_t i = 0; i < shared; ++i) {
      const std::uint64_t x = rng();
      a.push_back(x);
      b.push_back(x);
    }
    for (std::size_t i = shared; i < size; ++i) {
      a.push_back(rng());
      b.push_back(rng());
    }
    neardup::make_set(a);
    neardup::make_set(b);
    p.a.push_back(std::move(a));
    p.b.push_back(std::move(b));
  }
  cache.emplace_back(std::make_pair(size, j_percent), std::move(p));
  return cache.back().second;
}

void args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"size", "J%"});
  for (long size : {750, 6000}) {
    for (long j : {65, 75, 90}) b->Args({size, j});
  }
}

template <class Verify>
void run(benchmark::State& state, Verify&& verify) {
  const pair_sets& p = pairs(static_cast<std::size_t>(state.range(0)), static_cast<int>(state.range(1)));
  std::size_t k = 0, yes = 0;
  for (auto _ : state) {
    yes += verify(p.a[k], p.b[k]) ? 1 : 0;
    k = (k + 1) % p.a.size();
  }
  benchmark::DoNotOptimize(yes);
  state.counters["ns/pair"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["accepted%"] = 100.0 * static_cast<double>(yes) / static_cast<double>(state.iterations());
}

// Baseline: the whole merge, then the comparison.
void BM_VerifyBaselineFullMerge(benchmark::State& state) {
  run(state, [](const auto& a, const auto& b) { return neardup::exact_jaccard(a, b) >= kThreshold; });
}
BENCHMARK(BM_VerifyBaselineFullMerge)->Apply(args);

void BM_VerifyExact(benchmark::State& state) {
  run(state, [](const auto& a, const auto& b) { return neardup::jaccard_at_least(a, b, kThreshold); });
}
BENCHMARK(BM_VerifyExact)->Apply(args);

// As `neardup dedup --verify exact` calls it.
void BM_VerifySampledRejection(benchmark::State& state) {
  run(state, [](const auto& a, const auto& b) { return neardup::jaccard_at_least(a, b, kThreshold, 1e-9); });
}
BENCHMARK(BM_VerifySampledRejection)->Apply(args);

// The whole intersection, per kernel (J 0.75).
void BM_CountShared(benchmark::State& state) {
  const auto kernel = static_cast<neardup::sig_kernel>(state.range(0));
  if (!neardup::kernel_supported(kernel)) {
    state.SkipWithError("kernel not supported by this CPU");
    return;
  }
  state.SetLabel(std::string(neardup::name(kernel)));
  const pair_sets& p = pairs(6000, 75);
  std::size_t k = 0, total = 0;
  for (auto _ : state) {
    total += neardup::count_shared(p.a[k], p.b[k], kernel);
    k = (k + 1) % p.a.size();
  }
  benchmark::DoNotOptimize(total);
  state.counters["values/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 12000.0,
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CountShared)
    ->ArgName("kernel")
    ->Arg(static_cast<long>(neardup::sig_kernel::scalar))
    ->Arg(static_cast<long>(neardup::sig_kernel::avx2))
    ->Arg(static_cast<long>(neardup::sig_kernel::avx512));

}  // namespace

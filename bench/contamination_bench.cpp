// Contamination index (exact and Bloom) and line-repeat counting: items/s,
// each next to a straightforward baseline measured in the same run
// (std::unordered_map / std::unordered_set).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "neardup/contamination.hpp"
#include "neardup/hash.hpp"
#include "neardup/lines.hpp"

namespace {

bool short_mode() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string(s) == "1";
}

// refs reference documents of 500 n-grams; queries of 1000 n-grams, 1% shared.
struct workload {
  std::vector<std::vector<std::uint64_t>> refs;
  std::vector<std::vector<std::uint64_t>> queries;
  std::size_t query_ngrams = 0;
};

const workload& data() {
  static const workload w = [] {
    workload x;
    neardup::seed_sequence rng(11);
    const std::size_t refs = short_mode() ? 1000 : 10000;
    for (std::size_t r = 0; r < refs; ++r) {
      std::vector<std::uint64_t> v(500);
      for (auto& h : v) h = rng.next();
      x.refs.push_back(std::move(v));
    }
    for (std::size_t q = 0; q < 2000; ++q) {
      std::vector<std::uint64_t> v(1000);
      for (auto& h : v) {
        h = rng.next() % 100 == 0 ? x.refs[rng.next() % refs][rng.next() % 500] : rng.next();
      }
      x.query_ngrams += v.size();
      x.queries.push_back(std::move(v));
    }
    return x;
  }();
  return w;
}

void BM_ContaminationQuery(benchmark::State& state) {
  const workload& w = data();
  std::uint64_t total = 0;
  for (const auto& r : w.refs) total += r.size();
  neardup::contamination_options o;
  if (state.range(0) == 1) o = neardup::contamination_options::bloom(total, 0.001);
  neardup::contamination_index index(o);
  for (const auto& r : w.refs) index.add_reference(r);
  index.finalize();
  for (auto _ : state) {
    for (const auto& q : w.queries) benchmark::DoNotOptimize(index.shared_ngram_count(q));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(w.query_ngrams) * state.iterations());
  state.counters["index_MB"] = static_cast<double>(index.memory_bytes()) / 1e6;
  state.SetLabel(state.range(0) == 1 ? "bloom p=0.001" : "exact");
}
BENCHMARK(BM_ContaminationQuery)->ArgName("bloom")->Arg(0)->Arg(1);

void BM_ContaminationQuery_Baseline(benchmark::State& state) {
  const workload& w = data();
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> index;
  for (std::uint32_t r = 0; r < w.refs.size(); ++r) {
    for (auto h : w.refs[r]) index[h].push_back(r);
  }
  for (auto _ : state) {
    for (const auto& q : w.queries) {
      std::unordered_set<std::uint64_t> seen;
      std::uint64_t shared = 0;
      for (auto h : q) {
        if (seen.insert(h).second && index.count(h) != 0) ++shared;
      }
      benchmark::DoNotOptimize(shared);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(w.query_ngrams) * state.iterations());
  state.SetLabel("unordered_map + unordered_set");
}
BENCHMARK(BM_ContaminationQuery_Baseline);

// Zipf-ish line hashes: a few boilerplate lines repeat a lot.
std::vector<std::uint64_t> line_hashes() {
  neardup::seed_sequence rng(5);
  std::vector<std::uint64_t> v(short_mode() ? 200000 : 2000000);
  for (auto& h : v) {
    const double u = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
    h = neardup::mix64(static_cast<std::uint64_t>(u * u * u * 1e6));
  }
  return v;
}

void BM_LineCount(benchmark::State& state) {
  const auto hashes = line_hashes();
  for (auto _ : state) {
    neardup::line_counter counter;
    for (auto h : hashes) counter.count(h);
    benchmark::DoNotOptimize(counter.distinct());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(hashes.size()) * state.iterations());
}
BENCHMARK(BM_LineCount);

void BM_LineCount_Baseline(benchmark::State& state) {
  const auto hashes = line_hashes();
  for (auto _ : state) {
    std::unordered_map<std::uint64_t, std::uint32_t> counts;
    for (auto h : hashes) ++counts[h];
    benchmark::DoNotOptimize(counts.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(hashes.size()) * state.iterations());
  state.SetLabel("std::unordered_map");
}
BENCHMARK(BM_LineCount_Baseline);

}  // namespace

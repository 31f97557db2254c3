// lsh_index insert / query throughput, against a straightforward baseline
// (one std::unordered_map<key, std::vector<doc_id>> per band).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "neardup/index.hpp"

namespace {

using neardup::doc_id;

constexpr std::size_t bands = 16;

bool short_run() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1";
}

// Doc-major keys; 20% of documents copy all the band keys of an earlier one
// except a random half (near duplicates), the rest are random.
std::vector<std::uint64_t> make_keys(std::size_t n) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> k(n * bands);
  for (std::size_t d = 0; d < n; ++d) {
    const bool dup = d > 0 && rng() % 5 == 0;
    const std::size_t src = dup ? rng() % d : 0;
    for (std::size_t j = 0; j < bands; ++j) {
      k[d * bands + j] = dup && rng() % 2 == 0 ? k[src * bands + j] : rng();
    }
  }
  return k;
}

std::span<const std::uint64_t> row(const std::vector<std::uint64_t>& k, std::size_t d) {
  return {k.data() + d * bands, bands};
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("docs");
  if (short_run()) {
    b->Arg(20000);
  } else {
    b->Arg(100000)->Arg(300000);
  }
}

struct naive_index {
  std::vector<std::unordered_map<std::uint64_t, std::vector<doc_id>>> tables{bands};
  void insert(doc_id d, std::span<const std::uint64_t> keys) {
    for (std::size_t j = 0; j < bands; ++j) tables[j][keys[j]].push_back(d);
  }
  void query(std::span<const std::uint64_t> keys, std::vector<doc_id>& out) const {
    out.clear();
    for (std::size_t j = 0; j < bands; ++j) {
      const auto it = tables[j].find(keys[j]);
      if (it != tables[j].end()) out.insert(out.end(), it->second.begin(), it->second.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
};

void BM_IndexInsert(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = make_keys(n);
  for (auto _ : state) {
    neardup::lsh_index idx(bands);
    for (std::size_t d = 0; d < n; ++d) idx.insert(static_cast<doc_id>(d), row(k, d));
    benchmark::DoNotOptimize(idx.size());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_IndexInsert)->Apply(sizes)->Unit(benchmark::kMillisecond);

void BM_IndexInsertBaseline(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = make_keys(n);
  for (auto _ : state) {
    naive_index idx;
    for (std::size_t d = 0; d < n; ++d) idx.insert(static_cast<doc_id>(d), row(k, d));
    benchmark::DoNotOptimize(idx.tables.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_IndexInsertBaseline)->Apply(sizes)->Unit(benchmark::kMillisecond);

void BM_IndexQuery(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = make_keys(n);
  neardup::lsh_index idx(bands);
  for (std::size_t d = 0; d < n; ++d) idx.insert(static_cast<doc_id>(d), row(k, d));
  std::vector<doc_id> out;
  std::size_t found = 0;
  for (auto _ : state) {
    for (std::size_t d = 0; d < n; ++d) {
      idx.query(row(k, d), out);
      found += out.size();
    }
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_IndexQuery)->Apply(sizes)->Unit(benchmark::kMillisecond);

void BM_IndexQueryBaseline(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = make_keys(n);
  naive_index idx;
  for (std::size_t d = 0; d < n; ++d) idx.insert(static_cast<doc_id>(d), row(k, d));
  std::vector<doc_id> out;
  std::size_t found = 0;
  for (auto _ : state) {
    for (std::size_t d = 0; d < n; ++d) {
      idx.query(row(k, d), out);
      found += out.size();
    }
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_IndexQueryBaseline)->Apply(sizes)->Unit(benchmark::kMillisecond);

}  // namespace

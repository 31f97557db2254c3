// Grouping one band (radix sort vs std::sort) and clustering a synthetic
// corpus (verified clusterer vs materialize-all-pairs baseline), with the
// peak memory the clustering allocates reported as bytes per document.
#include <map>
#include <memory>
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string_view>
#include <vector>

#include "neardup/candidates.hpp"
#include "neardup/cluster.hpp"
#include "neardup/detail/radix_sort.hpp"
#include "neardup/hash.hpp"

// ---- allocation accounting: current and peak bytes held through operator new
namespace {

// One executor per thread count, shared by the tests of this file.
neardup::executor* pool_of(std::size_t threads) {
  static std::map<std::size_t, std::unique_ptr<neardup::executor>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<neardup::executor>(threads);
  return p.get();
}
std::atomic<std::size_t> g_current{0};
std::atomic<std::size_t> g_peak{0};

void note_alloc(void* p) {
  if (p == nullptr) return;
  const std::size_t now = g_current.fetch_add(malloc_usable_size(p)) + malloc_usable_size(p);
  std::size_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}
void note_free(void* p) {
  if (p != nullptr) g_current.fetch_sub(malloc_usable_size(p));
}
void* counted_new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p);
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void operator delete(void* p) noexcept {
  note_free(p);
  std::free(p);
}
void operator delete[](void* p) noexcept {
  note_free(p);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  note_free(p);
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  note_free(p);
  std::free(p);
}

namespace {

using neardup::doc_id;

bool short_run() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1";
}

std::vector<std::uint64_t> random_keys(std::size_t n, std::uint64_t seed) {
  // Realistic band keys: mostly unique, ~20% of documents share a key with
  // a few others.
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> k(n);
  for (std::size_t d = 0; d < n; ++d) k[d] = (d > 0 && rng() % 5 == 0) ? k[rng() % d] : rng();
  return k;
}

void group_sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("docs");
  if (short_run()) {
    b->Arg(100000)->Arg(400000);
  } else {
    b->Arg(100000)->Arg(400000)->Arg(1000000)->Arg(4000000);
  }
}

// ---- one band: neardup's radix-sort grouping
template <unsigned Bits>
void BM_GroupBandRadix(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto keys = random_keys(n, 1);
  std::vector<neardup::detail::key_doc> recs(n), scratch(n);
  std::size_t buckets = 0;
  for (auto _ : state) {
    for (std::size_t d = 0; d < n; ++d) recs[d] = {keys[d], static_cast<doc_id>(d), 0};
    neardup::detail::radix_sort_key_doc<Bits>(recs, scratch);
    buckets = 0;
    for (std::size_t i = 1; i < n; ++i) buckets += recs[i].key == recs[i - 1].key ? 1 : 0;
    benchmark::DoNotOptimize(buckets);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_GroupBandRadix<11>)->Apply(group_sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GroupBandRadix<16>)->Apply(group_sizes)->Unit(benchmark::kMillisecond);

// ---- one band: MSD radix variant
void BM_GroupBandRadixMsd(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto keys = random_keys(n, 1);
  std::vector<neardup::detail::key_doc> recs(n), scratch(n);
  std::size_t buckets = 0;
  for (auto _ : state) {
    for (std::size_t d = 0; d < n; ++d) recs[d] = {keys[d], static_cast<doc_id>(d), 0};
    neardup::detail::msd_radix_sort_key_doc(recs, scratch);
    buckets = 0;
    for (std::size_t i = 1; i < n; ++i) buckets += recs[i].key == recs[i - 1].key ? 1 : 0;
    benchmark::DoNotOptimize(buckets);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_GroupBandRadixMsd)->Apply(group_sizes)->Unit(benchmark::kMillisecond);

// ---- baseline: the same records through std::sort by (key, doc)
void BM_GroupBandStdSort(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto keys = random_keys(n, 1);
  std::vector<neardup::detail::key_doc> recs(n);
  std::size_t buckets = 0;
  for (auto _ : state) {
    for (std::size_t d = 0; d < n; ++d) recs[d] = {keys[d], static_cast<doc_id>(d), 0};
    std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) {
      return a.key != b.key ? a.key < b.key : a.doc < b.doc;
    });
    buckets = 0;
    for (std::size_t i = 1; i < n; ++i) buckets += recs[i].key == recs[i - 1].key ? 1 : 0;
    benchmark::DoNotOptimize(buckets);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_GroupBandStdSort)->Apply(group_sizes)->Unit(benchmark::kMillisecond);

// ---- the public entry point (LSD or MSD + bucket list), reused grouper, 1 or 2 threads
void BM_BandGrouper(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto keys = random_keys(n, 1);
  neardup::band_grouper g(pool_of(static_cast<std::size_t>(state.range(1))));
  neardup::bucket_list out;
  for (auto _ : state) {
    g.group(keys, out);
    benchmark::DoNotOptimize(out.docs.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.counters["buckets"] = static_cast<double>(out.size());
}
BENCHMARK(BM_BandGrouper)
    ->Apply([](benchmark::internal::Benchmark* b) {
      b->ArgNames({"docs", "threads"});
      for (const std::int64_t n : {std::int64_t{400000}, std::int64_t{1000000}, std::int64_t{4000000}}) {
        if (short_run() && n > 1000000) continue;
        b->Args({n, 1})->Args({n, 2});
      }
    })
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ---- clustering a synthetic corpus
// Planted clusters (sizes 2..9 for 30% of the documents); in every band a
// member keeps its cluster's key with probability 0.6, otherwise a random
// key, and 1 document in 1000 is "short" and falls into one shared junk
// bucket per band. The verifier accepts documents of the same planted cluster
// after a fixed amount of work (~a 128-value signature comparison).
struct corpus {
  std::size_t n = 0, bands = 0;
  std::vector<std::uint32_t> cluster;          // planted cluster id per doc
  std::vector<std::vector<std::uint64_t>> cols;  // band-major keys
};

corpus make_corpus(std::size_t n, std::size_t bands) {
  corpus c;
  c.n = n;
  c.bands = bands;
  c.cluster.resize(n);
  std::mt19937_64 rng(99);
  std::uint32_t next = 0;
  for (std::size_t d = 0; d < n;) {
    const std::size_t m = rng() % 10 < 3 ? 2 + rng() % 8 : 1;
    for (std::size_t i = 0; i < m && d < n; ++i) c.cluster[d++] = next;
    ++next;
  }
  // Shuffle ids so clusters are not contiguous.
  std::shuffle(c.cluster.begin(), c.cluster.end(), rng);
  c.cols.assign(bands, std::vector<std::uint64_t>(n));
  for (std::size_t j = 0; j < bands; ++j) {
    for (std::size_t d = 0; d < n; ++d) {
      std::uint64_t key = neardup::mix64((std::uint64_t{c.cluster[d]} << 8) ^ j);
      if (rng() % 10 >= 6) key = rng();
      if (d % 1000 == 7) key = 0x5eedULL + j;  // short docs: one junk bucket per band
      c.cols[j][d] = key;
    }
  }
  return c;
}

bool verify_work(const corpus& c, doc_id a, doc_id b) {
  // Stand-in for a 128-position signature comparison.
  std::uint64_t h = 0;
  for (std::uint64_t i = 0; i < 32; ++i) h += neardup::mix64(a + i) ^ neardup::mix64(b + i);
  benchmark::DoNotOptimize(h);
  return c.cluster[a] == c.cluster[b];
}

void cluster_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"docs", "threads"});
  const std::int64_t n = short_run() ? 100000 : 1000000;
  b->Args({n, 1})->Args({n, 2});
}

void BM_Cluster(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const corpus c = make_corpus(n, 16);
  neardup::cluster_options opt;
  opt.pool = pool_of(static_cast<std::size_t>(state.range(1)));
  std::size_t extra = 0;
  neardup::cluster_stats stats;
  for (auto _ : state) {
    const std::size_t before = g_current.load();
    g_peak.store(before);
    const auto r = neardup::cluster_band_keys(
        n, c.bands, [&](std::size_t j) { return std::span<const std::uint64_t>(c.cols[j]); }, {},
        [&](doc_id a, doc_id b) { return verify_work(c, a, b); }, opt);
    extra = g_peak.load() - before;
    stats = r.stats;
    benchmark::DoNotOptimize(r.representative.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.counters["bytes_per_doc"] = static_cast<double>(extra) / static_cast<double>(n);
  state.counters["verif_per_doc"] =
      static_cast<double>(stats.verifications) / static_cast<double>(n);
}
BENCHMARK(BM_Cluster)->Apply(cluster_sizes)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: the straightforward way — every candidate pair of every band
// (buckets expanded to all m(m-1)/2 pairs), sorted and de-duplicated,
// each verified, unions applied.
void BM_ClusterAllPairsBaseline(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const corpus c = make_corpus(n, 16);
  std::size_t extra = 0;
  std::size_t verifications = 0;
  for (auto _ : state) {
    const std::size_t before = g_current.load();
    g_peak.store(before);
    std::vector<neardup::doc_pair> pairs;
    for (std::size_t j = 0; j < c.bands; ++j) {
      neardup::append_candidate_pairs(neardup::group_band(c.cols[j]), ~std::size_t{0} >> 1,
                                      pairs);
    }
    neardup::sort_unique_pairs(pairs);
    neardup::union_find uf(n);
    for (const auto& p : pairs) {
      if (verify_work(c, p.first, p.second)) uf.unite(p.first, p.second);
    }
    verifications = pairs.size();
    const auto reps = uf.representatives();
    extra = g_peak.load() - before;
    benchmark::DoNotOptimize(reps.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.counters["bytes_per_doc"] = static_cast<double>(extra) / static_cast<double>(n);
  state.counters["verif_per_doc"] = static_cast<double>(verifications) / static_cast<double>(n);
}
BENCHMARK(BM_ClusterAllPairsBaseline)
    ->Apply([](benchmark::internal::Benchmark* b) {
      b->ArgName("docs")->Arg(short_run() ? 100000 : 1000000);
    })
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

// Query latency of the stored index (jobs/stored_index.hpp) with the index
// on disk and the page cache warm, against two in-run baselines: signing the
// query text alone (the part of a query that does not touch the index) and
// the in-memory lsh_index (index.hpp) over the same band keys.
//
// The index holds NEARDUP_INDEX_BENCH_DOCS documents (default 1,000,000;
// 50,000 with NEARDUP_BENCH_SHORT=1): 10,000 real texts (added with
// add_texts) and, to reach the size without signing millions of texts on a
// small machine, synthetic documents with random signatures, in segments of
// at most 1,000,000 (as successive batches would leave them). Queries are
// the real texts with two words changed. It is built once in
// NEARDUP_INDEX_BENCH_DIR (default /tmp/neardup_index_bench) and reused by
// later runs when it has the requested size. Counters: p50_us and p99_us per
// query, hits (fraction of queries with a match).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/index.hpp"
#include "neardup/jobs/stored_index.hpp"
#include "neardup/pipeline/stages.hpp"

namespace {

namespace nj = neardup::jobs;
using neardup::doc_id;
using neardup::sig_value;

bool short_run() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1";
}

std::size_t total_docs() {
  const char* s = std::getenv("NEARDUP_INDEX_BENCH_DOCS");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : short_run() ? 50000 : 1000000;
}

std::string bench_dir() {
  const char* s = std::getenv("NEARDUP_INDEX_BENCH_DIR");
  return s != nullptr ? s : "/tmp/neardup_index_bench";
}

nj::index_settings settings() {
  nj::index_settings s;
  s.verify = neardup::pipeline::verify_mode::estimate;  // synthetic documents have no shingle sets
  s.lsh = neardup::pipeline::default_lsh_params(s.threshold, s.num_perm, s.verify);
  return s;
}

struct fixture {
  std::string path;
  std::vector<std::string> queries;
  std::optional<nj::stored_index> index;

  fixture() {
    const std::size_t n = total_docs();
    const std::size_t real = std::min<std::size_t>(10000, n);
    path = bench_dir() + "/docs" + std::to_string(n);
    std::mt19937_64 rng(11);
    std::vector<std::string> texts(real);
    for (auto& t : texts) {
      for (int i = 0; i < 100; ++i) {
        t.push_back(i == 0 ? 'w' : ' ');
        t.append(std::to_string(rng() % 20000));
      }
    }
    for (std::size_t q = 0; q < 2000; ++q) {
      std::string t = texts[rng() % real];
      for (int e = 0; e < 2; ++e) t.insert(t.find(' ', rng() % (t.size() - 10)), std::string_view(" x"));
      queries.push_back(std::move(t));
    }
    bool reuse = false;
    try {
      reuse = nj::stored_index::open(path).info().documents == n;
    } catch (const nj::index_error&) {
    }
    if (!reuse) build(n, texts);
    index = nj::stored_index::open(path);
    // Warm the page cache: every band run, and the signatures.
    for (const auto& q : queries) benchmark::DoNotOptimize(index->query(q));
  }

  void build(std::size_t n, const std::vector<std::string>& texts) {
    std::filesystem::remove_all(path);
    const nj::index_settings s = settings();
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::vector<std::string> ids(texts.size());
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = "real" + std::to_string(i);
    neardup::executor pool;
    nj::add_texts(path, views, ids, &s, &pool);
    nj::index_writer w(path, nullptr);
    std::mt19937_64 rng(12);
    const std::size_t k = s.num_perm;
    for (std::size_t done = texts.size(); done < n;) {
      const std::size_t m = std::min<std::size_t>(1000000, n - done);
      std::vector<sig_value> sigs(m * k);
      for (auto& v : sigs) v = static_cast<sig_value>(rng() >> 33);  // below empty_sig_value
      std::vector<neardup::hash128> fps(m);
      for (auto& f : fps) f = {rng(), rng()};
      std::vector<std::uint8_t> usable(m, 1);
      std::vector<doc_id> kept_of(m);
      for (std::size_t i = 0; i < m; ++i) kept_of[i] = static_cast<doc_id>(i);
      w.add(nj::signed_input{.size = m, .signatures = sigs, .fingerprints = fps, .usable = usable,
                             .kept_of = kept_of,
                             .id = [done](doc_id d) { return std::to_string(done + d); },
                             .set = [](doc_id) { return std::span<const std::uint64_t>{}; }, .joins = {}});
      done += m;
    }
  }
};

fixture& shared() {
  static fixture f;
  return f;
}

void percentiles(benchmark::State& state, std::vector<double>& us, const char* prefix = "") {
  std::sort(us.begin(), us.end());
  state.counters[std::string(prefix) + "p50_us"] = us[us.size() / 2];
  state.counters[std::string(prefix) + "p99_us"] = us[us.size() * 99 / 100];
  state.counters["docs"] = static_cast<double>(total_docs());
}

// CPU time of the calling thread: on a loaded machine, wall-time tails are
// mostly the waits for a core, which this leaves out.
double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

void BM_StoredQuery(benchmark::State& state) {
  fixture& f = shared();
  std::vector<double> us, cpu_us;
  std::size_t q = 0, hits = 0;
  for (auto _ : state) {
    const double c0 = thread_cpu_us();
    const auto t0 = std::chrono::steady_clock::now();
    const auto m = f.index->query(f.queries[q++ % f.queries.size()], {.top_k = 10});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    cpu_us.push_back(thread_cpu_us() - c0);
    hits += !m.empty();
  }
  percentiles(state, us);
  percentiles(state, cpu_us, "cpu_");
  state.counters["hits"] = static_cast<double>(hits) / static_cast<double>(us.size());
  state.counters["segments"] = static_cast<double>(f.index->info().segments.size());
  state.counters["bytes_per_doc"] =
      static_cast<double>(f.index->info().bytes) / static_cast<double>(f.index->info().documents);
}
BENCHMARK(BM_StoredQuery)->Unit(benchmark::kMicrosecond)->Iterations(5000);

// Baseline: what a query costs before it touches the index.
void BM_SignQueryOnly(benchmark::State& state) {
  fixture& f = shared();
  const nj::index_settings s = settings();
  const neardup::minhasher hasher(s.minhash());
  const neardup::bander bands(s.banding(), s.num_perm, s.seed);
  std::vector<sig_value> sig(s.num_perm);
  std::vector<std::uint64_t> keys(s.banding().bands);
  std::vector<double> us;
  std::size_t q = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    neardup::pipeline::document_signer signer(s.shingles(), &hasher);
    signer.sign(f.queries[q++ % f.queries.size()], sig);
    benchmark::DoNotOptimize(bands.keys(sig, keys));
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  percentiles(state, us);
}
BENCHMARK(BM_SignQueryOnly)->Unit(benchmark::kMicrosecond)->Iterations(5000);

// Baseline: the in-memory lsh_index over the same documents' band keys
// (candidates only, no similarity), up to 2,000,000 documents (memory).
void BM_InMemoryLshQuery(benchmark::State& state) {
  fixture& f = shared();
  if (total_docs() > 2000000) {
    state.SkipWithError("in-memory baseline skipped above 2,000,000 documents (memory)");
    return;
  }
  const nj::index_settings s = settings();
  const neardup::bander bands(s.banding(), s.num_perm, s.seed);
  const nj::prior_documents p = f.index->prior();
  neardup::lsh_index mem(s.banding().bands);
  std::vector<std::uint64_t> keys(s.banding().bands);
  std::vector<sig_value> stored(s.num_perm);
  for (std::size_t d = 0; d < p.size; ++d) {
    p.signature(static_cast<doc_id>(d), stored);
    if (bands.keys(stored, keys)) mem.insert(static_cast<doc_id>(d), keys);
  }
  const neardup::minhasher hasher(s.minhash());
  std::vector<sig_value> sig(s.num_perm);
  std::vector<doc_id> out;
  std::vector<double> us;
  std::size_t q = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    neardup::pipeline::document_signer signer(s.shingles(), &hasher);
    signer.sign(f.queries[q++ % f.queries.size()], sig);
    if (bands.keys(sig, keys)) mem.query(keys, out);
    benchmark::DoNotOptimize(out.data());
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  percentiles(state, us);
}
BENCHMARK(BM_InMemoryLshQuery)->Unit(benchmark::kMicrosecond)->Iterations(5000);

}  // namespace

// The storage choice of the stored index (jobs/stored_index.hpp): its sorted
// band-key runs (pipeline/format.hpp + pipeline/stored_query.hpp, read in
// place) against LMDB (liblmdb, a B+tree with duplicate keys) holding the
// same (band, key) -> document entries. Both on /tmp, page cache warm.
//
//   BM_Load*    writing the band keys of N documents (18 bands), durable
//   BM_Lookup*  one query = 18 key lookups (one per band), collecting documents
//
// N = NEARDUP_LMDB_BENCH_DOCS (default 1,000,000; 50,000 with NEARDUP_BENCH_SHORT=1).
// Built only where liblmdb-dev is installed (bench/CMakeLists.txt).
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/pipeline/format.hpp"
#include "neardup/pipeline/stored_query.hpp"

namespace {

namespace np = neardup::pipeline;
constexpr std::uint32_t bands = 18;

std::size_t docs() {
  if (const char* s = std::getenv("NEARDUP_LMDB_BENCH_DOCS")) return std::strtoull(s, nullptr, 10);
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1" ? 50000 : 1000000;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + mdb_strerror(rc));
}

struct data {
  std::size_t n = docs();
  std::vector<std::vector<neardup::band_entry>> runs;  // per band, sorted by (key, doc)
  std::vector<std::uint64_t> probe;                   // per query: one existing document's 18 keys
  data() {
    std::mt19937_64 rng(9);
    runs.resize(bands);
    for (auto& r : runs) {
      r.resize(n);
      for (std::size_t d = 0; d < n; ++d) r[d] = {rng(), static_cast<neardup::doc_id>(d)};
    }
    for (int q = 0; q < 4096; ++q) {
      const std::size_t d = rng() % n;
      for (std::uint32_t b = 0; b < bands; ++b) probe.push_back(runs[b][d].key);
    }
    for (auto& r : runs) {
      std::sort(r.begin(), r.end(), [](auto& a, auto& b) { return a.key != b.key ? a.key < b.key : a.doc < b.doc; });
    }
  }
};

data& shared() {
  static data d;
  return d;
}

// A directory of the run's own under TMPDIR, removed at exit (after the
// stores that live in it, which are made later and so destroyed first).
struct scratch_dir {
  std::string path;
  scratch_dir() {
    std::string t = (std::filesystem::temp_directory_path() / "neardup_lmdb_bench.XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) {
      std::perror("stored_index_lmdb_bench: mkdtemp");
      std::abort();
    }
    path = t;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

const std::string& dir() {
  static const scratch_dir d;
  return d.path;
}

// ---- sorted runs -------------------------------------------------------------

struct runs_store {
  std::vector<std::string> files;
  std::vector<std::vector<std::uint64_t>> fences;
};

runs_store write_runs(const data& d) {
  runs_store s;
  std::filesystem::create_directories(dir());
  for (std::uint32_t b = 0; b < bands; ++b) {
    s.files.push_back(np::write_band_keys({}, {{bands, 7}, b}, d.runs[b]));
    const std::string path = dir() + "/run" + std::to_string(b);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(s.files.back().data(), 1, s.files.back().size(), f);
    std::fflush(f);
    fsync(fileno(f));
    std::fclose(f);
    s.fences.push_back(np::band_fences(np::byte_view(s.files.back()).subspan(np::stage_header_bytes), d.n));
  }
  return s;
}

void BM_LoadSortedRuns(benchmark::State& state) {
  const data& d = shared();
  for (auto _ : state) benchmark::DoNotOptimize(write_runs(d));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.n * bands));
}
BENCHMARK(BM_LoadSortedRuns)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_LookupSortedRuns(benchmark::State& state) {
  const data& d = shared();
  static const runs_store s = write_runs(d);
  std::vector<neardup::doc_id> out;
  std::size_t q = 0;
  for (auto _ : state) {
    out.clear();
    for (std::uint32_t b = 0; b < bands; ++b) {
      np::find_band_key(np::byte_view(s.files[b]).subspan(np::stage_header_bytes), d.n, s.fences[b],
                        d.probe[(q % 4096) * bands + b], out);
    }
    benchmark::DoNotOptimize(out.data());
    ++q;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_LookupSortedRuns)->Unit(benchmark::kMicrosecond);

// ---- LMDB --------------------------------------------------------------------

struct lmdb_store {
  MDB_env* env = nullptr;
  MDB_dbi dbi{};
  lmdb_store() {
    std::filesystem::remove_all(dir() + "/lmdb");
    std::filesystem::create_directories(dir() + "/lmdb");
    check(mdb_env_create(&env), "env_create");
    check(mdb_env_set_mapsize(env, std::size_t{64} << 30), "set_mapsize");
    check(mdb_env_open(env, (dir() + "/lmdb").c_str(), 0, 0644), "env_open");
  }
  ~lmdb_store() { mdb_env_close(env); }
  lmdb_store(const lmdb_store&) = delete;
  lmdb_store& operator=(const lmdb_store&) = delete;
  static void key_of(std::uint32_t band, std::uint64_t key, unsigned char* out) {  // big-endian: sorted like (band, key)
    out[0] = static_cast<unsigned char>(band);
    for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<unsigned char>(key >> (56 - 8 * i));
  }
  void load(const data& d) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "txn_begin");
    check(mdb_dbi_open(txn, nullptr, MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP, &dbi), "dbi_open");
    MDB_cursor* c = nullptr;
    check(mdb_cursor_open(txn, dbi, &c), "cursor_open");
    unsigned char k[9];
    for (std::uint32_t b = 0; b < bands; ++b) {
      for (const auto& e : d.runs[b]) {  // already in key order: append, the fastest load LMDB has
        key_of(b, e.key, k);
        MDB_val key{9, k}, val{sizeof e.doc, const_cast<neardup::doc_id*>(&e.doc)};
        check(mdb_cursor_put(c, &key, &val, MDB_APPENDDUP), "put");
      }
    }
    mdb_cursor_close(c);
    check(mdb_txn_commit(txn), "commit");  // durable (no MDB_NOSYNC)
  }
};

void BM_LoadLmdb(benchmark::State& state) {
  const data& d = shared();
  for (auto _ : state) {
    lmdb_store s;
    s.load(d);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.n * bands));
}
BENCHMARK(BM_LoadLmdb)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_LookupLmdb(benchmark::State& state) {
  const data& d = shared();
  static lmdb_store& s = *[&] {
    auto* t = new lmdb_store;  // lives to the end of the process
    t->load(d);
    return t;
  }();
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(s.env, nullptr, MDB_RDONLY, &txn), "txn_begin");
  MDB_cursor* c = nullptr;
  check(mdb_cursor_open(txn, s.dbi, &c), "cursor_open");
  std::vector<neardup::doc_id> out;
  std::size_t q = 0;
  unsigned char k[9];
  for (auto _ : state) {
    out.clear();
    for (std::uint32_t b = 0; b < bands; ++b) {
      lmdb_store::key_of(b, d.probe[(q % 4096) * bands + b], k);
      MDB_val key{9, k}, val{};
      for (int rc = mdb_cursor_get(c, &key, &val, MDB_SET_KEY); rc == 0;
           rc = mdb_cursor_get(c, &key, &val, MDB_NEXT_DUP)) {
        neardup::doc_id doc;
        std::memcpy(&doc, val.mv_data, sizeof doc);
        out.push_back(doc);
      }
    }
    benchmark::DoNotOptimize(out.data());
    ++q;
  }
  mdb_cursor_close(c);
  mdb_txn_abort(txn);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_LookupLmdb)->Unit(benchmark::kMicrosecond);

}  // namespace

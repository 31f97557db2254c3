// MinHash signature and band-key throughput, per scheme and per CPU kernel.
//
// Units: items = shingles; bytes = text-equivalent bytes, counted as 5 bytes
// of text per shingle (a 2 KB document ~ 400 shingles). The counter
// s_per_shingle (seconds per shingle) is stated directly. The baseline of every family runs in the
// same process: classic MinHash on the scalar kernel for signatures, and a
// byte-copy + hash64 loop for band keys.
//
//   NEARDUP_BENCH_SHORT=1 ./signature_bench    # a few seconds
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/hash.hpp"
#include "neardup/signature.hpp"

namespace {

constexpr double text_bytes_per_shingle = 5.0;

bool short_mode() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::strcmp(s, "1") == 0;
}

struct corpus {
  std::vector<std::vector<std::uint64_t>> docs;
  std::size_t shingles = 0;
};

// 64 random documents of exactly `n` distinct shingle hashes each.
corpus make_corpus(std::size_t n) {
  corpus c;
  neardup::seed_sequence rng(n * 7919 + 1);
  c.docs.resize(64);
  for (auto& d : c.docs) {
    d.resize(n);
    for (auto& x : d) x = rng.next();
    c.shingles += n;
  }
  return c;
}

void report(benchmark::State& state, std::size_t shingles_per_iter) {
  const auto items = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(shingles_per_iter);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(items) * text_bytes_per_shingle));
  // Seconds per shingle; printed with an SI prefix, e.g. "3.3n" = 3.3 ns.
  state.counters["s_per_shingle"] = benchmark::Counter(
      static_cast<double>(shingles_per_iter),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void sign_corpus(benchmark::State& state, neardup::minhash_scheme scheme, neardup::sig_kernel kernel) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  const corpus c = make_corpus(n);
  const neardup::minhasher mh({.scheme = scheme, .num_perm = k, .kernel = kernel});
  std::vector<neardup::sig_value> out(k);
  for (auto _ : state) {
    for (const auto& d : c.docs) {
      mh.sign(d, out);
      benchmark::DoNotOptimize(out.data());
    }
    benchmark::ClobberMemory();
  }
  report(state, c.shingles);
}

// Band keys of a 128-value signature, 16 bands x 8 rows.
void band_keys(benchmark::State& state, bool naive) {
  const std::size_t k = 128;
  const neardup::lsh_params p{16, 8};
  const neardup::minhasher mh({.num_perm = k});
  std::vector<std::vector<neardup::sig_value>> sigs;
  const corpus c = make_corpus(400);
  for (const auto& d : c.docs) sigs.push_back(mh.sign(d));
  const neardup::bander bands(p, k);
  std::vector<std::uint64_t> keys(p.bands);
  for (auto _ : state) {
    for (const auto& s : sigs) {
      if (naive) {
        // Straightforward: serialize each band, then hash it.
        for (std::uint32_t j = 0; j < p.bands; ++j) {
          unsigned char bytes[4 * 8];
          for (std::uint32_t i = 0; i < p.rows; ++i) {
            const neardup::sig_value v = s[j * p.rows + i];
            for (int byte = 0; byte < 4; ++byte) bytes[4 * i + byte] = static_cast<unsigned char>(v >> (8 * byte));
          }
          keys[j] = neardup::hash64(bytes, sizeof bytes, neardup::derive_seed(neardup::default_seed, j));
        }
      } else {
        benchmark::DoNotOptimize(bands.keys(s, keys));  // signatures of non-empty sets: always true
      }
      benchmark::DoNotOptimize(keys.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(sigs.size()));
}

struct registrar {
  registrar() {
    const bool quick = short_mode();
    const std::vector<std::int64_t> sizes = quick ? std::vector<std::int64_t>{400}
                                                  : std::vector<std::int64_t>{25, 100, 400, 1600, 6400};
    const double min_time = quick ? 0.02 : 0.3;
    auto add = [&](const std::string& name, neardup::minhash_scheme scheme, neardup::sig_kernel kernel) {
      auto* b = benchmark::RegisterBenchmark(name.c_str(), [scheme, kernel](benchmark::State& st) {
        sign_corpus(st, scheme, kernel);
      });
      b->ArgNames({"shingles", "k"})->MinTime(min_time);
      for (auto n : sizes) b->Args({n, 128});
      if (!quick) b->Args({400, 64})->Args({400, 256});
    };
    // The baseline first, so every ratio is against the same run.
    add("baseline/classic_scalar", neardup::minhash_scheme::classic, neardup::sig_kernel::scalar);
    for (auto scheme : {neardup::minhash_scheme::classic, neardup::minhash_scheme::one_permutation,
                        neardup::minhash_scheme::superminhash}) {
      for (auto kernel : neardup::supported_kernels()) {
        // SuperMinHash is sequential: all kernels run the same scalar code.
        if (scheme == neardup::minhash_scheme::superminhash && kernel != neardup::sig_kernel::scalar) continue;
        add(std::string("sign/") + std::string(neardup::name(scheme)) + "/" + std::string(neardup::name(kernel)), scheme,
            kernel);
      }
    }
    benchmark::RegisterBenchmark("band_keys/baseline_naive", [](benchmark::State& st) { band_keys(st, true); })
        ->MinTime(min_time);
    benchmark::RegisterBenchmark("band_keys/bander", [](benchmark::State& st) { band_keys(st, false); })
        ->MinTime(min_time);
  }
} const registered;

}  // namespace

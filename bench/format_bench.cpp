// The stage data format (pipeline/format.hpp): bytes/s of writing a file and
// of reading it back (checksum, field checks, decoding), beside a memcpy of
// the same number of bytes as the baseline of the same run. Payloads: a
// signature batch of 8192 documents × k values, and a sorted band-key run of
// 2^20 entries. Bytes counted = the file's size.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/pipeline/format.hpp"

namespace {

namespace fmt = neardup::pipeline;

constexpr std::size_t kDocs = 8192;
constexpr std::size_t kEntries = std::size_t{1} << 20;

fmt::stage_data_options options(std::size_t k) {
  fmt::stage_data_options o;
  o.num_perm = k;
  return o;
}

struct signature_input {
  std::vector<neardup::doc_id> docs;
  std::vector<neardup::sig_value> values;
};

signature_input signatures(std::size_t k) {
  signature_input in;
  neardup::seed_sequence rng(k);
  in.docs.resize(kDocs);
  in.values.resize(kDocs * k);
  for (std::size_t i = 0; i < kDocs; ++i) in.docs[i] = static_cast<neardup::doc_id>(i);
  for (auto& v : in.values) v = static_cast<neardup::sig_value>(rng.next());
  return in;
}

std::vector<neardup::band_entry> band_run() {
  neardup::seed_sequence rng(1);
  std::vector<neardup::band_entry> run(kEntries);
  for (std::size_t i = 0; i < kEntries; ++i) run[i] = {rng.next(), static_cast<neardup::doc_id>(i)};
  std::sort(run.begin(), run.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return run;
}

void BM_WriteSignatures(benchmark::State& state) {
  const std::size_t k = static_cast<std::size_t>(state.range(0));
  const signature_input in = signatures(k);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string file = fmt::write_signatures(options(k), in.docs, in.values);
    bytes = file.size();
    benchmark::DoNotOptimize(file.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void BM_ReadSignatures(benchmark::State& state) {
  const std::size_t k = static_cast<std::size_t>(state.range(0));
  const signature_input in = signatures(k);
  const std::string file = fmt::write_signatures(options(k), in.docs, in.values);
  for (auto _ : state) {
    const fmt::signature_batch b = fmt::read_signatures(fmt::byte_view(file), options(k));
    benchmark::DoNotOptimize(b.values.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

void BM_WriteBandKeys(benchmark::State& state) {
  const std::vector<neardup::band_entry> run = band_run();
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string file = fmt::write_band_keys(options(128), {{16, 8}, 0}, run);
    bytes = file.size();
    benchmark::DoNotOptimize(file.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void BM_ReadBandKeys(benchmark::State& state) {
  const std::string file = fmt::write_band_keys(options(128), {{16, 8}, 0}, band_run());
  for (auto _ : state) {
    const std::vector<neardup::band_entry> run = fmt::read_band_keys(fmt::byte_view(file), options(128), {{16, 8}, 0});
    benchmark::DoNotOptimize(run.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

// Baseline: copy as many bytes as the signature file of k = range(0) (or,
// with range(0) = 0, the band-key file) into a fresh buffer.
void BM_MemcpyBaseline(benchmark::State& state) {
  const std::size_t k = static_cast<std::size_t>(state.range(0));
  const std::size_t bytes = fmt::stage_header_bytes + fmt::stage_checksum_bytes +
                            (k == 0 ? kEntries * 12 : kDocs * (4 + 4 * k));
  const std::string src(bytes, 'x');
  for (auto _ : state) {
    std::string dst(src);  // one allocation + memcpy
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

}  // namespace

BENCHMARK(BM_MemcpyBaseline)->Arg(0)->Arg(16)->Arg(128)->ArgName("k");
BENCHMARK(BM_WriteSignatures)->Arg(16)->Arg(128)->ArgName("k");
BENCHMARK(BM_ReadSignatures)->Arg(16)->Arg(128)->ArgName("k");
BENCHMARK(BM_WriteBandKeys);
BENCHMARK(BM_ReadBandKeys);

// Read + parse throughput of neardup::io on a generated JSONL corpus in
// /dev/shm (tmpfs, so the disk is not measured): plain, zstd and gzip.
// Baseline from the same run: std::getline + a padded copy of each line +
// simdjson On-Demand, the straightforward way to read JSONL.
// Bytes processed = uncompressed JSONL bytes.
// NEARDUP_BENCH_SHORT=1: 4 MB corpus instead of 64 MB, short minimum times.
// Everything runs on the calling thread (reads, decompression, parsing), so
// rates use its CPU time (which includes the read syscalls): stable on a
// loaded machine.
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "neardup/io.hpp"

namespace io = neardup::io;

namespace {

bool short_run() {
  const char* s = std::getenv("NEARDUP_BENCH_SHORT");
  return s != nullptr && std::string_view(s) == "1";
}
double min_time() { return short_run() ? 0.05 : 0.5; }

struct corpus_files {
  std::string dir;
  std::string plain, zst, gz;
  std::size_t bytes = 0;
  std::size_t lines = 0;
  ~corpus_files() {
    for (const auto* p : {&plain, &zst, &gz}) std::remove(p->c_str());
    ::rmdir(dir.c_str());
  }
};

std::string make_corpus(std::size_t target, std::size_t& lines) {
  static const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "données", "naïve",
                                "data", "training", "model", "token", "\\\"quoted\\\"", "line\\nbreak", "😀", "λ",
                                "return", "value", "function", "neardup", "corpus", "dedup"};
  constexpr std::size_t nwords = sizeof(words) / sizeof(words[0]);
  std::uint64_t state = 12345;
  const auto rnd = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>(state >> 33);
  };
  std::string s;
  s.reserve(target + 8192);
  lines = 0;
  while (s.size() < target) {
    s += "{\"id\":\"doc-" + std::to_string(lines) + "\",\"url\":\"https://example.com/" + std::to_string(rnd()) +
         "\",\"text\":\"";
    const std::size_t n = 50 + rnd() % 700;  // ~0.3 .. 4 KB of text
    for (std::size_t i = 0; i < n; ++i) {
      s += words[rnd() % nwords];
      s += ' ';
    }
    s += "\",\"meta\":{\"lang\":\"en\",\"score\":0.87}}\n";
    ++lines;
  }
  return s;
}

void write_bytes(const std::string& path, std::string_view b) {
  std::ofstream f(path, std::ios::binary);
  f.write(b.data(), static_cast<std::streamsize>(b.size()));
}

const corpus_files& files() {
  static corpus_files f = [] {
    corpus_files c;
    const std::size_t target = short_run() ? (4u << 20) : (64u << 20);
    std::string tmpl = (::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/neardup_io_bench_XXXXXX");
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    c.dir = tmpl;
    const std::string data = make_corpus(target, c.lines);
    c.bytes = data.size();
    c.plain = c.dir + "/c.jsonl";
    c.zst = c.dir + "/c.jsonl.zst";
    c.gz = c.dir + "/c.jsonl.gz";
    write_bytes(c.plain, data);
    std::string z(ZSTD_compressBound(data.size()), '\0');
    z.resize(ZSTD_compress(z.data(), z.size(), data.data(), data.size(), 3));
    write_bytes(c.zst, z);
    std::string g(compressBound(static_cast<uLong>(data.size())), '\0');
    uLongf glen = static_cast<uLongf>(g.size());
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(g.data());
    zs.avail_out = static_cast<uInt>(glen);
    deflate(&zs, Z_FINISH);
    g.resize(zs.total_out);
    deflateEnd(&zs);
    write_bytes(c.gz, g);
    return c;
  }();
  return f;
}

void read_parse(benchmark::State& state, const std::string& path, bool parse) {
  const corpus_files& f = files();
  const auto sources = io::expand_inputs({path}).sources;
  io::input_chunk chunk;
  io::record_parser parser;
  std::size_t ok = 0;
  for (auto _ : state) {
    io::corpus_reader reader(sources, {.chunk_bytes = static_cast<std::size_t>(state.range(0)) << 20});
    ok = 0;
    std::size_t text_bytes = 0;
    while (reader.next(chunk)) {
      if (!parse) {
        benchmark::DoNotOptimize(chunk.data.data());
        continue;
      }
      io::parse_chunk(chunk, {}, parser, [&](const io::record& r) {
        ok += r.status == io::record_status::ok;
        text_bytes += r.text.size();
      });
    }
    benchmark::DoNotOptimize(text_bytes);
  }
  if (parse && ok != f.lines) state.SkipWithError("wrong record count");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f.lines));
}

void BM_ReadParse_Plain(benchmark::State& state) { read_parse(state, files().plain, true); }
void BM_ReadParse_Zstd(benchmark::State& state) { read_parse(state, files().zst, true); }
void BM_ReadParse_Gzip(benchmark::State& state) { read_parse(state, files().gz, true); }
void BM_ReadOnly_Plain(benchmark::State& state) { read_parse(state, files().plain, false); }
void BM_ReadOnly_Zstd(benchmark::State& state) { read_parse(state, files().zst, false); }

// Baseline: getline, copy each line into a padded string, parse, copy the text.
void BM_Baseline_GetlineSimdjson(benchmark::State& state) {
  const corpus_files& f = files();
  simdjson::ondemand::parser parser;
  std::size_t ok = 0;
  for (auto _ : state) {
    std::ifstream in(f.plain, std::ios::binary);
    std::string line;
    std::string text;
    ok = 0;
    while (std::getline(in, line)) {
      simdjson::padded_string padded(line);
      simdjson::ondemand::document doc;
      if (parser.iterate(padded).get(doc)) continue;
      std::string_view t;
      if (doc["text"].get_string().get(t)) continue;
      text.assign(t);
      ++ok;
      benchmark::DoNotOptimize(text.data());
    }
  }
  if (ok != f.lines) state.SkipWithError("wrong record count");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * f.lines));
}

}  // namespace

BENCHMARK(BM_Baseline_GetlineSimdjson)->Unit(benchmark::kMillisecond)->MinTime(min_time());
BENCHMARK(BM_ReadOnly_Plain)->Arg(8)->ArgName("chunk_mb")->Unit(benchmark::kMillisecond)->MinTime(min_time());
BENCHMARK(BM_ReadParse_Plain)->Arg(1)->Arg(8)->ArgName("chunk_mb")->Unit(benchmark::kMillisecond)->MinTime(min_time());
BENCHMARK(BM_ReadOnly_Zstd)->Arg(8)->ArgName("chunk_mb")->Unit(benchmark::kMillisecond)->MinTime(min_time());
BENCHMARK(BM_ReadParse_Zstd)->Arg(8)->ArgName("chunk_mb")->Unit(benchmark::kMillisecond)->MinTime(min_time());
BENCHMARK(BM_ReadParse_Gzip)->Arg(8)->ArgName("chunk_mb")->Unit(benchmark::kMillisecond)->MinTime(min_time());

// Fuzzes the part reader of jobs/parts.hpp (what neardup.dask ships between
// workers): arbitrary bytes given as the part of a small fixed source must be
// refused with std::runtime_error / std::invalid_argument, or merged and run
// to the end (writing the outputs), never a crash or an out-of-bounds read.
// Byte 0 is a mode: bit 0 set means the trailing XXH3-64 checksum is set right
// first, so that mutations reach the field checks behind it; bit 1 selects
// `exact` (no signatures) instead of `dedup`. Bit 2 set: the bytes are one
// piece of the part stages instead (jobs/parts.hpp, part_stages), the rest
// made right from the fixed source; bits 3-6 pick which: 0 band keys
// (group_part_band_keys), 1 buckets, 2 candidate data (run_dedup_parts),
// 3 a candidate list, 4 pass 1's shingle sets (part_candidate_data), 5 a
// part without signatures; verification as tasks (buckets of at most 2
// documents verified in 2 groups): 6 a route (part_verification_data), 7
// group 0's pairs, 8 group 0's verification data (verify_pairs), 9 group
// 0's verdicts, 10 the finishing task's candidate data (run_dedup_parts);
// 11 a keep list (write_part_kept, into a file of the run's output size);
// exact groups as tasks (2 fingerprint groups, metadata without
// fingerprints, run_dedup_parts): 12 group 0's exact groups, 13 the part's
// fingerprint piece of group 0 (group_part_fingerprints).
// Seeds: fuzz/corpus/parts/ (parts of the fixed
// source made by scan_part, and pieces 6-13 made by neardup.dask's bindings
// from the same text with the CLI's default options, mode byte first).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/io/input.hpp"
#include "neardup/jobs/parts.hpp"

namespace {

namespace fs = std::filesystem;
namespace io = neardup::io;
namespace jobs = neardup::jobs;

// The source every part is merged against (same text as the seed corpus).
constexpr std::string_view kSource =
    "{\"id\":\"a\",\"text\":\"the quick brown fox jumps over the lazy dog\"}\n"
    "{\"id\":\"b\",\"text\":\"the quick brown fox jumps over the lazy cat\"}\n"
    "not json\n"
    "\n"
    "{\"text\":\"the quick brown fox jumps over the lazy dog\"}\n";

struct fixture {
  fs::path dir;
  std::vector<io::source_info> sources;
  jobs::dedup_options options;
  // The part stages of the source, made right (see jobs/parts.hpp).
  std::string part, sets, meta, keys, buckets, candidates, data;
  // Verification as tasks: the plan's route and pairs, the part's data per
  // destination (2 groups, then the finishing task) and each group's verdicts.
  std::string route;
  std::vector<std::string> pairs, vdata, verdicts;
  // The part's keep list (run_dedup_parts' part_writes) and the size of deduped.jsonl.
  std::string keep;
  std::uint64_t kept_bytes = 0;
  // Exact groups as tasks: the part's fingerprint pieces, each group's exact groups, the slim metadata.
  std::vector<std::string> fp_pieces, exact;
  std::string slim;
  fixture() {
    dir = fs::temp_directory_path() / ("neardup_fuzz_parts." + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "in.jsonl", std::ios::binary) << kSource;
    sources = io::expand_inputs({(dir / "in.jsonl").string()}).sources;
    options.threads = 1;
    options.max_reported_errors = 0;
    options.lsh = options.banding();
    part = jobs::scan_part(sources[0], options, &sets);
    meta = jobs::part_metadata(part);
    const std::uint32_t bands = options.lsh->bands;
    keys = jobs::part_band_keys(part, options, 0, bands);
    const std::vector<std::string_view> k{keys};
    buckets = jobs::group_part_band_keys(k, options, 0, bands);
    const std::vector<std::string_view> b{buckets};
    candidates = jobs::part_candidates(b).at(0);
    data = jobs::part_candidate_data(sources[0], part, candidates, options, sets);
    jobs::verification_plan plan = jobs::plan_verification(b, 2, 2);
    route = plan.routes.at(0);
    pairs = plan.pairs;
    vdata = jobs::part_verification_data(sources[0], part, route, options, sets);
    for (std::size_t h = 0; h < 2; ++h) {
      const std::vector<std::string_view> d{vdata[h]};
      verdicts.push_back(jobs::verify_pairs(pairs[h], d, options));
    }
    const jobs::part_writes writes = [&](std::span<const std::string> k, const std::string& path) {
      keep = k[0];
      kept_bytes = fs::file_size(path);
      (void)jobs::write_part_kept(sources[0], meta, keep, path, options);
    };
    const std::vector<std::string_view> parts{part};
    const std::vector<std::uint32_t> part_sources{0};
    (void)jobs::run_dedup_parts(sources, parts, part_sources, (dir / "out").string(), options, nullptr, &writes);
    fp_pieces = jobs::part_fingerprints(part, options, 2);
    for (const auto& piece : fp_pieces) {
      const std::vector<std::string_view> one{piece};
      exact.push_back(jobs::group_part_fingerprints(one, options));
    }
    slim = jobs::part_metadata(part, false);
  }
  ~fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string part(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((mode & 1) && part.size() >= 8) {
    std::uint64_t sum = neardup::hash64(std::string_view(part).substr(0, part.size() - 8), 0);
    for (std::size_t i = 0; i < 8; ++i, sum >>= 8) part[part.size() - 8 + i] = static_cast<char>(sum & 0xFF);
  }
  if ((mode & 4) && ((mode >> 3) & 15) == 11) {
    const fs::path path = f.dir / "kept";
    std::ofstream(path, std::ios::binary) << std::string(f.kept_bytes, ' ');
    try {
      (void)jobs::write_part_kept(f.sources[0], f.meta, part, path.string(), f.options);
    } catch (const std::runtime_error&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  if ((mode & 4) && (((mode >> 3) & 15) == 12 || ((mode >> 3) & 15) == 13)) {
    std::vector<std::string> exact = f.exact;
    try {
      if (((mode >> 3) & 15) == 12) {
        exact[0] = part;
      } else {
        const std::vector<std::string_view> one{part};
        exact[0] = jobs::group_part_fingerprints(one, f.options);
      }
      const std::vector<std::string_view> parts{f.slim}, b{f.buckets}, d{f.data}, e(exact.begin(), exact.end());
      const std::vector<std::uint32_t> part_sources{0};
      const jobs::part_stages stages{b, d, {}, e};
      (void)jobs::run_dedup_parts(f.sources, parts, part_sources, (f.dir / "out").string(), f.options, &stages);
    } catch (const std::runtime_error&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  if ((mode & 4) && ((mode >> 3) & 15) >= 6) {
    const int piece = (mode >> 3) & 15;
    if (piece > 10) return 0;
    std::string route = f.route, pairs0 = f.pairs[0], vdata0 = f.vdata[0], verdict0 = f.verdicts[0],
                fdata = f.vdata[2];
    std::string* target[] = {&route, &pairs0, &vdata0, &verdict0, &fdata};
    *target[piece - 6] = part;
    try {
      std::vector<std::string> verdicts = f.verdicts;
      if (piece == 6) {
        const auto v = jobs::part_verification_data(f.sources[0], f.part, route, f.options, f.sets);
        if (v.size() != 3) return 0;
        vdata0 = v[0];
        fdata = v[2];
      }
      if (piece >= 6 && piece <= 8) {
        const std::vector<std::string_view> d{vdata0};
        verdicts[0] = jobs::verify_pairs(pairs0, d, f.options);
      }
      if (piece == 9) verdicts[0] = verdict0;
      const std::vector<std::string_view> parts{f.meta}, b{f.buckets}, d{fdata}, v(verdicts.begin(), verdicts.end());
      const std::vector<std::uint32_t> part_sources{0};
      const jobs::part_stages stages{b, d, v};
      (void)jobs::run_dedup_parts(f.sources, parts, part_sources, (f.dir / "out").string(), f.options, &stages);
    } catch (const std::runtime_error&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  if (mode & 4) {
    const int piece = (mode >> 3) & 7;
    std::string keys = f.keys, buckets = f.buckets, candidates = f.candidates, sets = f.sets, cdata = f.data,
                meta = f.meta;
    std::string* target[] = {&keys, &buckets, &cdata, &candidates, &sets, &meta};
    if (piece > 5) return 0;
    *target[piece] = part;
    const std::uint32_t bands = f.options.lsh->bands;
    try {
      if (piece == 0) {
        const std::vector<std::string_view> k{keys};
        buckets = jobs::group_part_band_keys(k, f.options, 0, bands);
      }
      if (piece == 3 || piece == 4) {
        cdata = jobs::part_candidate_data(f.sources[0], f.part, candidates, f.options, sets);
      }
      const std::vector<std::string_view> parts{meta}, b{buckets}, d{cdata};
      const std::vector<std::uint32_t> part_sources{0};
      const jobs::part_stages stages{b, d};
      (void)jobs::run_dedup_parts(f.sources, parts, part_sources, (f.dir / "out").string(), f.options, &stages);
    } catch (const std::runtime_error&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  jobs::dedup_options o;
  o.near = (mode & 2) == 0;
  o.threads = 1;
  o.max_reported_errors = 0;
  const std::vector<std::string_view> parts{part};
  const std::vector<std::uint32_t> part_sources{0};
  try {
    (void)jobs::run_dedup_parts(f.sources, parts, part_sources, (f.dir / "out").string(), o);
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

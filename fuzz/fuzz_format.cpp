// Fuzzer for the stage data reader (neardup/pipeline/format.hpp): arbitrary
// bytes must either be refused with stage_data_error or decode to records
// that the writer encodes back to exactly the same bytes (the encoding is
// canonical). Byte 0 is a mode: if bit 0 is set, the last 8 bytes are
// replaced by the correct checksum first, so that mutations reach the checks
// behind the checksum; bit 1 re-encodes records one by one instead of as
// spans. Expected options are taken from the header, with the
// default seed (as in the seed corpus, fuzz/corpus/format/).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "neardup/hash.hpp"
#include "neardup/pipeline/format.hpp"

namespace {

namespace fmt = neardup::pipeline;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::uint64_t checksum_seed = 0x737461676573756dULL;  // "stagesum", docs/FORMAT.md

std::string reencode(const fmt::stage_header& h, const fmt::stage_data_options& o, std::span<const std::byte> file,
                     bool one_by_one) {
  std::string out;
  const fmt::byte_sink sink = [&out](std::span<const std::byte> b) {
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
  };
  switch (h.kind) {
    case fmt::stage_kind::signatures: {
      const fmt::signature_batch b = fmt::read_signatures(file, o);
      check(b.docs.size() == h.records && b.values.size() == h.records * h.num_perm);
      fmt::stage_writer w = fmt::stage_writer::signatures(sink, o, h.records, h.sorted);
      for (std::size_t i = 0; i < b.docs.size(); ++i) {
        w.add(b.docs[i], std::span(b.values).subspan(i * b.num_perm, b.num_perm));
      }
      w.finish();
      break;
    }
    case fmt::stage_kind::band_keys: {
      const std::vector<neardup::band_entry> run = fmt::read_band_keys(file, o, h.band);
      check(run.size() == h.records);
      fmt::stage_writer w = fmt::stage_writer::band_keys(sink, o, h.band, h.records, h.sorted);
      if (one_by_one) {
        for (const auto& e : run) w.add(e);
      } else {
        w.add(std::span(run));
      }
      w.finish();
      break;
    }
    case fmt::stage_kind::fingerprints: {
      const std::vector<fmt::fingerprint_entry> run = fmt::read_fingerprints(file, o);
      check(run.size() == h.records);
      fmt::stage_writer w = fmt::stage_writer::fingerprints(sink, o, h.records, h.sorted);
      if (one_by_one) {
        for (const auto& e : run) w.add(e);
      } else {
        w.add(std::span(run));
      }
      w.finish();
      break;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::vector<std::byte> file(size - 1);
  for (std::size_t i = 1; i < size; ++i) file[i - 1] = static_cast<std::byte>(data[i]);
  if ((data[0] & 1) != 0 && file.size() >= 8) {
    const std::size_t body = file.size() - 8;
    std::uint64_t sum = neardup::hash64(file.data(), body, checksum_seed);
    for (std::size_t i = 0; i < 8; ++i, sum >>= 8) file[body + i] = static_cast<std::byte>(sum & 0xFF);
  }
  fmt::stage_header h;
  try {
    h = fmt::inspect_stage_data(file);
  } catch (const fmt::stage_data_error&) {
    return 0;
  }
  check(h.total_bytes() == file.size());
  const fmt::stage_data_options o{.scheme = h.scheme, .num_perm = h.num_perm, .ngram = h.ngram, .tokens = h.tokens,
                                  .seed = neardup::default_seed};
  std::string again;
  try {
    again = reencode(h, o, file, (data[0] & 2) != 0);
  } catch (const fmt::stage_data_error&) {
    check(h.seed_hash != fmt::stage_seed_hash(neardup::default_seed));  // the only check left
    return 0;
  }
  check(again.size() == file.size());
  for (std::size_t i = 0; i < file.size(); ++i) check(static_cast<std::byte>(again[i]) == file[i]);
  return 0;
}

// Fuzzer for the stage data readers (neardup/pipeline/format.hpp, all four
// kinds, the LSH index of format version 2 included): arbitrary
// bytes must either be refused with stage_data_error or decode to records
// that the writer encodes back to exactly the same bytes (the encoding is
// canonical), and the streaming reader, fed in pieces, must agree with the
// one-shot reader. Byte 0 is a mode: if bit 0 is set, both checksums (header
// and file) are set right first, so that mutations reach the checks behind
// them; bit 1 re-encodes records one by one instead of as spans; bits 2-7
// give the streaming reader's piece size (1 + value). Expected options are
// taken from the header, with the default seed (as in the seed corpus,
// fuzz/corpus/format/).
#include <algorithm>
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

void put_le64(std::byte* p, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i, v >>= 8) p[i] = static_cast<std::byte>(v & 0xFF);
}

// Writes a band-key or fingerprint run again, one record at a time or as a span.
template <class T>
void write_run(fmt::stage_writer w, const std::vector<T>& run, std::uint64_t records, bool one_by_one) {
  check(run.size() == records);
  if (one_by_one) {
    for (const T& e : run) w.add(e);
  } else {
    w.add(std::span(run));
  }
  w.finish();
}

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
    case fmt::stage_kind::band_keys:
      write_run(fmt::stage_writer::band_keys(sink, o, h.band, h.records, h.sorted),
                fmt::read_band_keys(file, o, h.band), h.records, one_by_one);
      break;
    case fmt::stage_kind::fingerprints:
      write_run(fmt::stage_writer::fingerprints(sink, o, h.records, h.sorted), fmt::read_fingerprints(file, o),
                h.records, one_by_one);
      break;
    case fmt::stage_kind::lsh_index: {
      fmt::stage_data_options got;
      const fmt::lsh_index_data d = fmt::read_lsh_index(file, o.seed, &got);
      check(d.keys.size() == h.records && got.num_perm == o.num_perm);
      out = fmt::write_lsh_index(o, d);
      break;
    }
  }
  return out;
}

// The records read by a stage_reader fed `piece` bytes at a time, written
// again with the one-shot writer; "" if the reader refused the bytes.
std::string stream_reencode(const fmt::stage_header& h, const fmt::stage_data_options& o,
                            std::span<const std::byte> file, std::size_t piece) {
  auto feed_all = [&](fmt::stage_reader r, auto& out) {
    for (std::size_t at = 0; at < file.size(); at += piece) r.feed(file.subspan(at, std::min(piece, file.size() - at)), out);
    r.finish();
  };
  try {
    switch (h.kind) {
      case fmt::stage_kind::signatures: {
        fmt::signature_batch b;
        feed_all(fmt::stage_reader::signatures(o), b);
        return fmt::write_signatures(o, b.docs, b.values);
      }
      case fmt::stage_kind::band_keys: {
        std::vector<neardup::band_entry> run;
        feed_all(fmt::stage_reader::band_keys(o, h.band), run);
        return fmt::write_band_keys(o, h.band, run);
      }
      case fmt::stage_kind::fingerprints: {
        std::vector<fmt::fingerprint_entry> run;
        feed_all(fmt::stage_reader::fingerprints(o), run);
        return fmt::write_fingerprints(o, run);
      }
      case fmt::stage_kind::lsh_index: {  // read whole only: every streaming reader refuses the kind
        std::vector<neardup::band_entry> run;
        feed_all(fmt::stage_reader::band_keys(o, {{1, 1}, 0}), run);
        check(false);
        break;
      }
    }
  } catch (const fmt::stage_data_error&) {
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::vector<std::byte> file(size - 1);
  for (std::size_t i = 1; i < size; ++i) file[i - 1] = static_cast<std::byte>(data[i]);
  if ((data[0] & 1) != 0 && file.size() >= fmt::stage_header_bytes + 8) {
    put_le64(file.data() + 64, neardup::hash64(file.data(), 64, checksum_seed));  // header checksum
    const std::size_t body = file.size() - 8;
    put_le64(file.data() + body, neardup::hash64(file.data(), body, checksum_seed));
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
  const std::string streamed = stream_reencode(h, o, file, 1 + (data[0] >> 2));
  std::string again;
  try {
    again = reencode(h, o, file, (data[0] & 2) != 0);
  } catch (const fmt::stage_data_error&) {
    check(h.seed_hash != fmt::stage_seed_hash(neardup::default_seed));  // the only check left
    check(streamed.empty());
    return 0;
  }
  check(again.size() == file.size());
  for (std::size_t i = 0; i < file.size(); ++i) check(static_cast<std::byte>(again[i]) == file[i]);
  if (h.kind == fmt::stage_kind::lsh_index) {
    check(streamed.empty());
    return 0;
  }
  // The one-shot writer sets "sorted" by looking, so compare records, not flags.
  check(streamed.size() == again.size());
  check(std::equal(streamed.begin() + fmt::stage_header_bytes, streamed.end() - 8,
                   again.begin() + fmt::stage_header_bytes));
  return 0;
}

#include "neardup/pipeline/format.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "neardup/hash.hpp"

namespace {

namespace fmt = neardup::pipeline;
using fmt::stage_data_error;
using fmt::stage_data_options;
using neardup::band_entry;
using neardup::doc_id;
using neardup::sig_value;

// The checksum as docs/FORMAT.md specifies it, so that tests can build files
// that only a foreign writer would produce.
constexpr std::uint64_t checksum_seed = 0x737461676573756dULL;  // "stagesum"

stage_data_options options(std::size_t k = 16) {
  stage_data_options o;
  o.num_perm = k;
  o.ngram = 5;
  return o;
}

std::vector<sig_value> random_values(std::uint64_t seed, std::size_t n) {
  neardup::seed_sequence rng(seed);
  std::vector<sig_value> v(n);
  for (auto& x : v) x = static_cast<sig_value>(rng.next());
  return v;
}

std::vector<band_entry> random_run(std::uint64_t seed, std::size_t n, bool sorted) {
  neardup::seed_sequence rng(seed);
  std::vector<band_entry> run(n);
  for (std::size_t i = 0; i < n; ++i) run[i] = {rng.next() % 50, static_cast<doc_id>(i)};
  if (sorted) std::sort(run.begin(), run.end(), [](const band_entry& a, const band_entry& b) {
      return a.key != b.key ? a.key < b.key : a.doc < b.doc;
    });
  return run;
}

std::vector<fmt::fingerprint_entry> random_fingerprints(std::uint64_t seed, std::size_t n) {
  neardup::seed_sequence rng(seed);
  std::vector<fmt::fingerprint_entry> run(n);
  for (std::size_t i = 0; i < n; ++i) run[i] = {{rng.next() % 7, rng.next()}, static_cast<doc_id>(n - i)};
  return run;
}

void put_le(std::string& s, std::size_t at, std::size_t width, std::uint64_t v) {
  for (std::size_t i = 0; i < width; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

// Recomputes both checksums of a file (header, then whole file), assuming
// the file ends where `s` does.
void repair_checksum(std::string& s) {
  put_le(s, 64, 8, neardup::hash64(s.data(), 64, checksum_seed));
  const std::size_t body = s.size() - fmt::stage_checksum_bytes;
  put_le(s, body, 8, neardup::hash64(s.data(), body, checksum_seed));
}

// The message of the stage_data_error that `f` throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const stage_data_error& e) {
    return e.what();
  }
  return "";
}

std::string read_any(const std::string& bytes, const stage_data_options& o, fmt::band_run_id band) {
  return error_of([&] {
    const fmt::stage_header h = fmt::inspect_stage_data(fmt::byte_view(bytes));
    switch (h.kind) {
      case fmt::stage_kind::signatures: (void)fmt::read_signatures(fmt::byte_view(bytes), o); break;
      case fmt::stage_kind::band_keys: (void)fmt::read_band_keys(fmt::byte_view(bytes), o, band); break;
      case fmt::stage_kind::fingerprints: (void)fmt::read_fingerprints(fmt::byte_view(bytes), o); break;
      case fmt::stage_kind::lsh_index: (void)fmt::read_lsh_index(fmt::byte_view(bytes), o.seed); break;
    }
  });
}

// Reads `bytes` with a stage_reader fed `piece` bytes at a time; returns the
// error message ("" if none) and the records read, re-encoded for comparison.
struct streamed {
  std::string error;
  std::string records;  // the one-shot writer's file of what was read
};
streamed stream_read(const std::string& bytes, const stage_data_options& o, fmt::band_run_id band,
                     std::size_t piece) {
  streamed r;
  const fmt::stage_kind kind = bytes.size() > 12 && bytes[12] >= 1 && bytes[12] <= 3
                                   ? static_cast<fmt::stage_kind>(bytes[12])
                                   : fmt::stage_kind::signatures;
  r.error = error_of([&] {
    auto feed_all = [&](fmt::stage_reader& reader, auto& out) {
      for (std::size_t at = 0; at < bytes.size(); at += piece) {
        reader.feed(fmt::byte_view(std::string_view(bytes).substr(at, piece)), out);
      }
      reader.finish();
    };
    switch (kind) {
      case fmt::stage_kind::signatures: {
        fmt::stage_reader reader = fmt::stage_reader::signatures(o);
        fmt::signature_batch out;
        feed_all(reader, out);
        r.records = fmt::write_signatures(o, out.docs, out.values);
        break;
      }
      case fmt::stage_kind::band_keys: {
        fmt::stage_reader reader = fmt::stage_reader::band_keys(o, band);
        std::vector<band_entry> out;
        feed_all(reader, out);
        r.records = fmt::write_band_keys(o, band, out);
        break;
      }
      case fmt::stage_kind::fingerprints: {
        fmt::stage_reader reader = fmt::stage_reader::fingerprints(o);
        std::vector<fmt::fingerprint_entry> out;
        feed_all(reader, out);
        r.records = fmt::write_fingerprints(o, out);
        break;
      }
      case fmt::stage_kind::lsh_index: break;  // no streaming reader: never reached
    }
  });
  return r;
}

// ---- round trips

TEST(StageFormat, SignaturesRoundTrip) {
  for (std::size_t k : {1, 2, 16, 128, 4096}) {
    for (std::size_t n : {0, 1, 37}) {
      const stage_data_options o = options(k);
      std::vector<doc_id> docs(n);
      for (std::size_t i = 0; i < n; ++i) docs[i] = static_cast<doc_id>(3 * i + 1);
      std::vector<sig_value> values = random_values(k * 1000 + n, n * k);
      if (n > 0) std::fill(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), neardup::empty_sig_value);
      const std::string bytes = fmt::write_signatures(o, docs, values);
      EXPECT_EQ(bytes.size(), 72 + n * (4 + 4 * k) + 8);
      const fmt::signature_batch b = fmt::read_signatures(fmt::byte_view(bytes), o);
      EXPECT_EQ(b.num_perm, k);
      EXPECT_EQ(b.docs, docs);
      EXPECT_EQ(b.values, values);
      const fmt::stage_header h = fmt::inspect_stage_data(fmt::byte_view(bytes));
      EXPECT_EQ(h.version, 1);
      EXPECT_EQ(h.kind, fmt::stage_kind::signatures);
      EXPECT_EQ(h.num_perm, k);
      EXPECT_EQ(h.records, n);
      EXPECT_TRUE(h.sorted);  // docs are increasing
      EXPECT_EQ(h.total_bytes(), bytes.size());
    }
  }
}

TEST(StageFormat, BandKeysRoundTrip) {
  const stage_data_options o = options(128);
  const fmt::band_run_id band{{16, 8}, 5};
  for (std::size_t n : {0, 1, 1000}) {
    for (bool sorted : {false, true}) {
      const std::vector<band_entry> run = random_run(n, n, sorted);
      const std::string bytes = fmt::write_band_keys(o, band, run);
      EXPECT_EQ(bytes.size(), 72 + 12 * n + 8);
      const std::vector<band_entry> back = fmt::read_band_keys(fmt::byte_view(bytes), o, band);
      ASSERT_EQ(back.size(), run.size());
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(back[i].key, run[i].key);
        EXPECT_EQ(back[i].doc, run[i].doc);
      }
      const fmt::stage_header h = fmt::inspect_stage_data(fmt::byte_view(bytes));
      EXPECT_EQ(h.kind, fmt::stage_kind::band_keys);
      EXPECT_EQ(h.band.params, (neardup::lsh_params{16, 8}));
      EXPECT_EQ(h.band.band, 5U);
      EXPECT_EQ(h.sorted, sorted || n <= 1);
    }
  }
}

TEST(StageFormat, FingerprintsRoundTrip) {
  stage_data_options o = options(1);
  o.tokens = neardup::tokenize_options::for_code();
  o.tokens.fold_digits = true;
  for (std::size_t n : {0, 1, 500}) {
    std::vector<fmt::fingerprint_entry> run = random_fingerprints(n, n);
    for (bool sorted : {false, true}) {
      if (sorted) std::sort(run.begin(), run.end());
      const std::string bytes = fmt::write_fingerprints(o, run);
      EXPECT_EQ(bytes.size(), 72 + 20 * n + 8);
      EXPECT_EQ(fmt::read_fingerprints(fmt::byte_view(bytes), o), run);
      const fmt::stage_header h = fmt::inspect_stage_data(fmt::byte_view(bytes));
      EXPECT_EQ(h.tokens, o.tokens);
      EXPECT_EQ(h.sorted, sorted || n <= 1);
    }
  }
}

TEST(StageFormat, StreamingWriterGivesTheSameBytesInAnyPieces) {
  // 40 records of k = 4096 (16 KiB each) cross the writer's 64 KiB buffer.
  const stage_data_options o = options(4096);
  const std::size_t n = 40;
  std::vector<doc_id> docs(n);
  for (std::size_t i = 0; i < n; ++i) docs[i] = static_cast<doc_id>(n - i);  // not sorted
  const std::vector<sig_value> values = random_values(9, n * o.num_perm);
  const std::string whole = fmt::write_signatures(o, docs, values);
  std::string streamed;
  std::size_t pieces = 0;
  fmt::stage_writer w = fmt::stage_writer::signatures(
      [&](std::span<const std::byte> b) {
        streamed.append(reinterpret_cast<const char*>(b.data()), b.size());
        ++pieces;
      },
      o, n);
  for (std::size_t i = 0; i < n; ++i) w.add(docs[i], std::span(values).subspan(i * o.num_perm, o.num_perm));
  w.finish();
  EXPECT_EQ(streamed, whole);
  EXPECT_GT(pieces, 4U);  // header, several buffers, checksum
}

TEST(StageFormat, RunsAddedInPiecesGiveTheSameBytes) {
  // 20000 band records (240 KB) cross the 64 KiB buffer inside a span.
  const stage_data_options o = options(16);
  const fmt::band_run_id band{{4, 4}, 3};
  const std::vector<band_entry> run = random_run(4, 20000, true);
  const std::string whole = fmt::write_band_keys(o, band, run);
  std::string streamed;
  fmt::stage_writer w = fmt::stage_writer::band_keys(
      [&](std::span<const std::byte> b) { streamed.append(reinterpret_cast<const char*>(b.data()), b.size()); }, o,
      band, run.size(), /*sorted=*/true);
  const std::span<const band_entry> all(run);
  w.add(all.first(7));
  w.add(all[7]);
  w.add(all.subspan(8, 12000));
  w.add(all.subspan(12008));
  w.finish();
  EXPECT_EQ(streamed, whole);

  // The first record out of order is named, also inside a span.
  std::vector<band_entry> swapped = run;
  std::swap(swapped[9000], swapped[9001]);
  swapped[9000].key = swapped[9001].key + 1;
  fmt::stage_writer bad = fmt::stage_writer::band_keys([](std::span<const std::byte>) {}, o, band, run.size(), true);
  bad.add(std::span(swapped).first(5));
  try {
    bad.add(std::span(swapped).subspan(5));
    ADD_FAILURE() << "out-of-order record accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "stage_writer: record 9001 is out of order in a writer declared sorted");
  }
}

TEST(StageFormat, SameSeedSameHashDifferentSeedDifferentHash) {
  EXPECT_EQ(fmt::stage_seed_hash(42), fmt::stage_seed_hash(42));
  EXPECT_NE(fmt::stage_seed_hash(42), fmt::stage_seed_hash(43));
  EXPECT_NE(fmt::stage_seed_hash(42), 42U);
}

// A band-key run written by format version 1 (3 records, k = 8, bands 4 x rows 2,
// band 1, seed 7, word tokens, ngram 3), frozen when version 1 was released:
// every later reader must accept it and decode the same records.
TEST(StageFormat, ReadsFrozenVersion1File) {
  static constexpr unsigned char v1[] = {
#include "golden/stage_format_v1_band_keys.inc"
  };
  const std::string bytes(reinterpret_cast<const char*>(v1), sizeof v1);
  stage_data_options o = options(8);
  o.ngram = 3;
  o.seed = 7;
  const fmt::band_run_id band{{4, 2}, 1};
  const std::vector<band_entry> run = fmt::read_band_keys(fmt::byte_view(bytes), o, band);
  ASSERT_EQ(run.size(), 3U);
  EXPECT_EQ(run[0].key, 5U);
  EXPECT_EQ(run[0].doc, 2U);
  EXPECT_EQ(run[1].key, 5U);
  EXPECT_EQ(run[1].doc, 9U);
  EXPECT_EQ(run[2].key, 0x0123456789abcdefULL);
  EXPECT_EQ(run[2].doc, 1U);
  // This version still writes exactly these bytes.
  EXPECT_EQ(fmt::write_band_keys(o, band, run), bytes);
}

// ---- corruption

struct field {
  const char* name;
  std::size_t offset;
  std::size_t width;
  std::vector<const char*> accepted;  // the error must name one of these
};

std::vector<field> header_fields() {
  return {
      {"magic", 0, 8, {"magic"}},
      {"version", 8, 2, {"version"}},
      {"byte order", 10, 2, {"byte order"}},
      {"kind", 12, 1, {"kind", "header checksum"}},
      {"scheme", 13, 1, {"scheme", "header checksum"}},
      {"tokens", 14, 1, {"tokens", "header checksum"}},
      {"token flags", 15, 1, {"token flags", "header checksum"}},
      {"num_perm", 16, 4, {"num_perm", "header checksum"}},
      {"ngram", 20, 4, {"ngram", "header checksum"}},
      {"seed hash", 24, 8, {"seed hash", "header checksum"}},
      {"bands", 32, 4, {"bands", "header checksum"}},
      {"rows", 36, 4, {"rows", "header checksum"}},
      {"band", 40, 4, {"band", "header checksum"}},
      {"flags", 44, 4, {"flags", "header checksum"}},
      {"records", 48, 8, {"records", "header checksum"}},
      {"payload_bytes", 56, 8, {"payload_bytes", "header checksum"}},
      {"header checksum", 64, 8, {"header checksum"}},
  };
}

bool names_one_of(const std::string& message, const std::vector<const char*>& names) {
  return std::any_of(names.begin(), names.end(),
                     [&](const char* n) { return message.find(n) != std::string::npos; });
}

// One file of each kind, with the options to read it.
struct sample {
  std::string bytes;
  stage_data_options options;
  fmt::band_run_id band;
};

std::vector<sample> samples() {
  const stage_data_options o = options(16);
  const fmt::band_run_id band{{4, 4}, 2};
  std::vector<doc_id> docs = {4, 1, 7};
  const std::vector<sig_value> values = random_values(1, 3 * 16);
  const std::vector<band_entry> run = random_run(2, 5, true);
  std::vector<fmt::fingerprint_entry> fps = random_fingerprints(3, 4);
  std::sort(fps.begin(), fps.end());
  return {{fmt::write_signatures(o, docs, values), o, {}},
          {fmt::write_band_keys(o, band, run), o, band},
          {fmt::write_fingerprints(o, fps), o, {}}};
}

TEST(StageFormat, EveryCorruptedHeaderByteIsNamed) {
  for (const sample& s : samples()) {
    ASSERT_EQ(read_any(s.bytes, s.options, s.band), "");
    for (const field& f : header_fields()) {
      for (std::size_t i = f.offset; i < f.offset + f.width; ++i) {
        for (int flip : {0x01, 0x80, 0xFF}) {
          std::string bad = s.bytes;
          bad[i] = static_cast<char>(bad[i] ^ flip);
          const std::string msg = read_any(bad, s.options, s.band);
          EXPECT_TRUE(names_one_of(msg, f.accepted))
              << f.name << " byte " << i << " ^ " << flip << ": '" << msg << "'";
          EXPECT_EQ(msg.rfind("stage data: ", 0), 0U) << msg;
          const std::string streamed_msg = stream_read(bad, s.options, s.band, 5).error;
          EXPECT_TRUE(names_one_of(streamed_msg, f.accepted))
              << "streamed: " << f.name << " byte " << i << " ^ " << flip << ": '" << streamed_msg << "'";
        }
      }
    }
    // The checksum itself, and every payload byte.
    for (std::size_t i = fmt::stage_header_bytes; i < s.bytes.size(); ++i) {
      std::string bad = s.bytes;
      bad[i] = static_cast<char>(bad[i] ^ 0x10);
      EXPECT_EQ(read_any(bad, s.options, s.band).rfind("stage data: checksum is 0x", 0), 0U) << i;
      // The streaming reader checks the order of a sorted file as records
      // arrive, before the checksum.
      EXPECT_TRUE(names_one_of(stream_read(bad, s.options, s.band, 64).error, {"checksum", "out of order"})) << i;
    }
  }
}

// A writer that is not this library could produce a consistent checksum over
// bad fields: each must still be refused, naming the field.
TEST(StageFormat, BadFieldsUnderAValidChecksumAreNamed) {
  for (const sample& s : samples()) {
    for (const field& f : header_fields()) {
      if (std::string(f.name) == "header checksum") continue;  // repaired below
      std::string bad = s.bytes;
      for (std::size_t i = f.offset; i < f.offset + f.width; ++i) bad[i] = static_cast<char>(bad[i] ^ 0xFF);
      repair_checksum(bad);
      std::vector<const char*> names = f.accepted;
      names.erase(std::remove(names.begin(), names.end(), std::string_view("header checksum")), names.end());
      const std::string msg = read_any(bad, s.options, s.band);
      EXPECT_TRUE(names_one_of(msg, names)) << f.name << ": '" << msg << "'";
    }
  }
}

TEST(StageFormat, StreamingReaderReadsAnyPieces) {
  for (const sample& s : samples()) {
    for (std::size_t piece : {1, 3, 13, 64, 65, 1000}) {
      const streamed r = stream_read(s.bytes, s.options, s.band, piece);
      EXPECT_EQ(r.error, "") << piece;
      EXPECT_EQ(r.records, s.bytes) << piece;  // same records (and so the same file)
    }
  }
  // The header is available once its bytes arrived; a record once complete.
  const sample s = samples()[0];
  fmt::stage_reader reader = fmt::stage_reader::signatures(s.options);
  fmt::signature_batch out;
  EXPECT_THROW((void)reader.header(), std::invalid_argument);
  reader.feed(fmt::byte_view(std::string_view(s.bytes).substr(0, 72 + 4 + 4 * 16 + 1)), out);
  EXPECT_EQ(reader.header().records, 3U);
  EXPECT_EQ(out.docs.size(), 1U);
  reader.feed(fmt::byte_view(std::string_view(s.bytes).substr(72 + 4 + 4 * 16 + 1)), out);
  reader.finish();
  EXPECT_EQ(out.docs, (std::vector<doc_id>{4, 1, 7}));
  EXPECT_THROW(reader.finish(), std::invalid_argument);
  std::vector<band_entry> wrong_kind;
  EXPECT_THROW(reader.feed({}, wrong_kind), std::invalid_argument);
  fmt::stage_reader other = fmt::stage_reader::signatures(s.options);
  fmt::signature_batch mismatched;
  mismatched.docs = {1};
  EXPECT_THROW(other.feed(fmt::byte_view(s.bytes), mismatched), std::invalid_argument);
}

TEST(StageFormat, TruncatedAtEveryLength) {
  for (const sample& s : samples()) {
    for (std::size_t len = 0; len < s.bytes.size(); ++len) {
      const std::string msg = read_any(s.bytes.substr(0, len), s.options, s.band);
      EXPECT_NE(msg.find("truncated"), std::string::npos) << len << ": " << msg;
      const std::string streamed_msg = stream_read(s.bytes.substr(0, len), s.options, s.band, 3).error;
      EXPECT_EQ(streamed_msg, msg) << len;
    }
    const std::string longer = s.bytes + "x";
    EXPECT_NE(read_any(longer, s.options, s.band).find("1 bytes follow the checksum"), std::string::npos);
    EXPECT_NE(read_any(s.bytes + s.bytes, s.options, s.band).find("follow the checksum"), std::string::npos);
    EXPECT_NE(stream_read(longer, s.options, s.band, 4).error.find("1 bytes follow the checksum"), std::string::npos);
  }
}

TEST(StageFormat, NewerVersionIsRefusedNamingBothVersions) {
  for (const sample& s : samples()) {
    for (std::uint64_t v : {3, 0xFFFF}) {
      std::string newer = s.bytes;
      put_le(newer, 8, 2, v);
      repair_checksum(newer);
      const std::string want = "stage data: format version is " + std::to_string(v) +
                               " in the file, newer than 2, the newest this reader knows: read it with a newer neardup";
      EXPECT_EQ(read_any(newer, s.options, s.band), want);
      EXPECT_EQ(stream_read(newer, s.options, s.band, 1).error, want);
    }
    std::string zero = s.bytes;
    put_le(zero, 8, 2, 0);
    EXPECT_EQ(read_any(zero, s.options, s.band), "stage data: format version is 0 in the file, not a valid version");
  }
}

TEST(StageFormat, BigEndianWriterIsRefused) {
  std::string s = samples()[0].bytes;
  std::swap(s[10], s[11]);
  EXPECT_EQ(read_any(s, options(16), {}),
            "stage data: byte order mark is 0x0201 (a big-endian writer) in the file, 0x0102 expected");
}

TEST(StageFormat, SortedFlagIsVerified) {
  const stage_data_options o = options(16);
  std::vector<band_entry> run = random_run(5, 20, true);
  std::swap(run[3], run[17]);
  std::string bytes = fmt::write_band_keys(o, {{4, 4}, 0}, run);
  EXPECT_FALSE(fmt::inspect_stage_data(fmt::byte_view(bytes)).sorted);
  bytes[44] = static_cast<char>(bytes[44] | 1);  // claims sorted
  repair_checksum(bytes);
  const std::string want = "stage data: record ";
  EXPECT_EQ(error_of([&] { (void)fmt::inspect_stage_data(fmt::byte_view(bytes)); }).rfind(want, 0), 0U);
  EXPECT_NE(read_any(bytes, o, {{4, 4}, 0}).find("out of order, but the flags say the file is sorted"),
            std::string::npos);
}

// ---- mismatched options

TEST(StageFormat, EveryMismatchedOptionIsNamedWithBothValues) {
  stage_data_options o = options(128);
  const fmt::band_run_id band{{16, 8}, 3};
  const std::string sigs = fmt::write_signatures(o, std::vector<doc_id>{1}, random_values(1, 128));
  const std::string keys = fmt::write_band_keys(o, band, random_run(1, 3, true));
  struct change {
    void (*apply)(stage_data_options&);
    std::string message;
  };
  const std::vector<change> changes = {
      {[](stage_data_options& x) { x.scheme = neardup::minhash_scheme::classic; }, "scheme is oph in the file, classic expected"},
      {[](stage_data_options& x) { x.scheme = neardup::minhash_scheme::superminhash; }, "scheme is oph in the file, superminhash expected"},
      {[](stage_data_options& x) { x.num_perm = 64; }, "num_perm is 128 in the file, 64 expected"},
      {[](stage_data_options& x) { x.ngram = 3; }, "ngram is 5 in the file, 3 expected"},
      {[](stage_data_options& x) { x.tokens.kind = neardup::token_kind::character; }, "tokens is word in the file, char expected"},
      {[](stage_data_options& x) { x.tokens.kind = neardup::token_kind::code; }, "tokens is word in the file, code expected"},
      {[](stage_data_options& x) { x.tokens.lowercase = false; }, "tokens.lowercase is true in the file, false expected"},
      {[](stage_data_options& x) { x.tokens.fold_digits = true; }, "tokens.fold_digits is false in the file, true expected"},
      {[](stage_data_options& x) { x.tokens.strip_punctuation = true; }, "tokens.strip_punctuation is false in the file, true expected"},
      {[](stage_data_options& x) { x.tokens.collapse_whitespace = false; }, "tokens.collapse_whitespace is true in the file, false expected"},
  };
  for (const change& c : changes) {
    stage_data_options other = o;
    c.apply(other);
    EXPECT_EQ(error_of([&] { (void)fmt::read_signatures(fmt::byte_view(sigs), other); }), "stage data: " + c.message);
    if (other.num_perm == 128) {
      EXPECT_EQ(stream_read(sigs, other, {}, 64).error, "stage data: " + c.message);
    }
    if (other.num_perm >= 128) {
      EXPECT_EQ(error_of([&] { (void)fmt::read_band_keys(fmt::byte_view(keys), other, band); }),
                "stage data: " + c.message);
    }
  }
  stage_data_options seeded = o;
  seeded.seed = 1;
  const std::string seed_msg = error_of([&] { (void)fmt::read_signatures(fmt::byte_view(sigs), seeded); });
  EXPECT_EQ(seed_msg.rfind("stage data: seed hash is 0x", 0), 0U) << seed_msg;
  EXPECT_NE(seed_msg.find(" expected: the data was written with another seed"), std::string::npos) << seed_msg;

  EXPECT_EQ(error_of([&] { (void)fmt::read_band_keys(fmt::byte_view(keys), o, {{8, 16}, 3}); }),
            "stage data: bands is 16 in the file, 8 expected");
  EXPECT_EQ(error_of([&] { (void)fmt::read_band_keys(fmt::byte_view(keys), o, {{16, 4}, 3}); }),
            "stage data: rows is 8 in the file, 4 expected");
  EXPECT_EQ(error_of([&] { (void)fmt::read_band_keys(fmt::byte_view(keys), o, {{16, 8}, 4}); }),
            "stage data: band is 3 in the file, 4 expected");
  EXPECT_EQ(error_of([&] { (void)fmt::read_fingerprints(fmt::byte_view(sigs), o); }),
            "stage data: kind is signature batch in the file, fingerprint run expected");
  EXPECT_EQ(error_of([&] { (void)fmt::read_signatures(fmt::byte_view(keys), o); }),
            "stage data: kind is band-key run in the file, signature batch expected");
}

// ---- writer and reader preconditions

TEST(StageFormat, WriterRejectsBadUse) {
  const stage_data_options o = options(4);
  const std::vector<sig_value> sig = {1, 2, 3, 4};
  const fmt::byte_sink sink = [](std::span<const std::byte>) {};
  {
    fmt::stage_writer w = fmt::stage_writer::signatures(sink, o, 1);
    w.add(1, sig);
    EXPECT_THROW(w.add(2, sig), std::invalid_argument);  // more than declared
  }
  {
    fmt::stage_writer w = fmt::stage_writer::signatures(sink, o, 2);
    w.add(1, sig);
    EXPECT_THROW(w.finish(), std::invalid_argument);  // fewer than declared
  }
  {
    fmt::stage_writer w = fmt::stage_writer::signatures(sink, o, 1);
    EXPECT_THROW(w.add(1, std::span(sig).first(3)), std::invalid_argument);
    EXPECT_THROW(w.add(1, sig), std::invalid_argument);  // refuses use after an error
  }
  {
    fmt::stage_writer w = fmt::stage_writer::signatures(sink, o, 1);
    EXPECT_THROW(w.add(band_entry{1, 1}), std::invalid_argument);  // wrong kind
  }
  {
    fmt::stage_writer w = fmt::stage_writer::fingerprints(sink, o, 2, /*sorted=*/true);
    w.add(fmt::fingerprint_entry{{5, 0}, 1});
    EXPECT_THROW(w.add(fmt::fingerprint_entry{{4, 9}, 1}), std::invalid_argument);
  }
  {
    fmt::stage_writer w = fmt::stage_writer::band_keys(sink, o, {{2, 2}, 1}, 1);
    w.add(band_entry{1, 1});
    w.finish();
    EXPECT_THROW(w.finish(), std::invalid_argument);
    EXPECT_THROW(w.add(band_entry{1, 1}), std::invalid_argument);
  }
  stage_data_options bad = o;
  bad.num_perm = 0;
  EXPECT_THROW((void)fmt::stage_writer::signatures(sink, bad, 0), std::invalid_argument);
  bad.num_perm = neardup::max_num_perm + 1;
  EXPECT_THROW((void)fmt::write_signatures(bad, {}, {}), std::invalid_argument);
  bad = o;
  bad.ngram = 0;
  EXPECT_THROW((void)fmt::write_fingerprints(bad, {}), std::invalid_argument);
  EXPECT_THROW((void)fmt::write_band_keys(o, {{2, 2}, 2}, {}), std::invalid_argument);  // band >= bands
  EXPECT_THROW((void)fmt::write_band_keys(o, {{3, 2}, 0}, {}), std::invalid_argument);  // 3 * 2 > k
  EXPECT_THROW((void)fmt::write_signatures(o, std::vector<doc_id>{1, 2}, sig), std::invalid_argument);
  EXPECT_THROW((void)fmt::stage_writer::signatures(nullptr, o, 0), std::invalid_argument);
  // Readers check the expected options as the writers do.
  const std::string empty = fmt::write_signatures(o, {}, {});
  EXPECT_THROW((void)fmt::read_signatures(fmt::byte_view(empty), bad), std::invalid_argument);
  EXPECT_THROW((void)fmt::read_band_keys(fmt::byte_view(empty), o, {{9, 1}, 0}), std::invalid_argument);
}

// ---- LSH index (kind 4, format version 2)

// Keys of every shape: str (also empty and non-ASCII), int (also negative),
// indexed or not (the empty-set signature).
fmt::lsh_index_data sample_index(std::uint32_t bands) {
  fmt::lsh_index_data d;
  d.params = {bands, 2};
  d.threshold = 0.75;
  d.keys = {{true, 0, "doc-0", true}, {false, -5, "", true}, {true, 0, "", false},
            {false, std::numeric_limits<std::int64_t>::max(), "", false}, {true, 0, "\xc3\xa9t\xc3\xa9", true}};
  for (std::uint64_t i = 0; i < 3ULL * bands; ++i) d.band_keys.push_back(i * 0x9e3779b97f4a7c15ULL);
  return d;
}

TEST(StageFormat, LshIndexRoundTrip) {
  stage_data_options o = options(16);
  o.seed = 99;
  o.tokens.kind = neardup::token_kind::code;
  const fmt::lsh_index_data d = sample_index(4);
  const std::string bytes = fmt::write_lsh_index(o, d);
  const fmt::stage_header h = fmt::inspect_stage_data(fmt::byte_view(bytes));
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.kind, fmt::stage_kind::lsh_index);
  EXPECT_EQ(h.records, d.keys.size());
  EXPECT_EQ(h.band.params, d.params);
  stage_data_options got;
  const fmt::lsh_index_data back = fmt::read_lsh_index(fmt::byte_view(bytes), 99, &got);
  EXPECT_EQ(back.params, d.params);
  EXPECT_EQ(back.threshold, d.threshold);
  EXPECT_EQ(back.keys, d.keys);
  EXPECT_EQ(back.band_keys, d.band_keys);
  EXPECT_EQ(got.num_perm, 16U);
  EXPECT_EQ(got.tokens.kind, neardup::token_kind::code);
  EXPECT_EQ(got.seed, 99U);
  EXPECT_EQ(fmt::write_lsh_index(o, back), bytes);  // canonical
  // An empty index too.
  const fmt::lsh_index_data empty{{2, 8}, 1.0, {}, {}};
  EXPECT_TRUE(fmt::read_lsh_index(fmt::byte_view(fmt::write_lsh_index(o, empty)), 99).keys.empty());
  // The other kinds are still written as version 1.
  EXPECT_EQ(fmt::inspect_stage_data(fmt::byte_view(fmt::write_fingerprints(o, {}))).version, 1);
}

TEST(StageFormat, LshIndexRefusesOtherSeedKindAndDamage) {
  const stage_data_options o = options(16);
  const std::string bytes = fmt::write_lsh_index(o, sample_index(4));
  EXPECT_NE(error_of([&] { (void)fmt::read_lsh_index(fmt::byte_view(bytes), 7); }).find("another seed"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { (void)fmt::read_signatures(fmt::byte_view(bytes), o); }),
            "stage data: kind is LSH index in the file, signature batch expected");
  EXPECT_EQ(error_of([&] { (void)fmt::read_lsh_index(fmt::byte_view(fmt::write_signatures(o, {}, {})), o.seed); }),
            "stage data: kind is signature batch in the file, LSH index expected");
  // Every truncation, and every corrupted byte, is refused.
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_NE(read_any(bytes.substr(0, len), o, {}), "") << len;
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    EXPECT_NE(read_any(bad, o, {}), "") << i;
  }
  // A key table that does not add up, behind valid checksums.
  std::string longer_key = bytes;
  put_le(longer_key, 72 + 8 + 1, 4, 1000);  // the first key's length
  repair_checksum(longer_key);
  EXPECT_NE(read_any(longer_key, o, {}).find("key 0 of 5: its string runs past the end"), std::string::npos);
  std::string bad_tag = bytes;
  bad_tag[72 + 8] = 4;
  repair_checksum(bad_tag);
  EXPECT_EQ(read_any(bad_tag, o, {}), "stage data: key 0 has tag 0x4: unknown bits");
  std::string bad_threshold = bytes;
  put_le(bad_threshold, 72, 8, std::bit_cast<std::uint64_t>(1.5));
  repair_checksum(bad_threshold);
  EXPECT_NE(read_any(bad_threshold, o, {}).find("not in (0, 1]"), std::string::npos);
  // A version-1 kind in a version-2 file, and the LSH index in version 1.
  std::string v2 = fmt::write_fingerprints(o, {});
  put_le(v2, 8, 2, 2);
  repair_checksum(v2);
  EXPECT_EQ(read_any(v2, o, {}),
            "stage data: format version is 2 in the file, but kind fingerprint run is written as version 1");
  std::string v1 = bytes;
  put_le(v1, 8, 2, 1);
  repair_checksum(v1);
  EXPECT_EQ(read_any(v1, o, {}), "stage data: format version is 1 in the file, but kind LSH index is written as version 2");
  // Writer preconditions.
  fmt::lsh_index_data d = sample_index(4);
  d.band_keys.pop_back();
  EXPECT_THROW((void)fmt::write_lsh_index(o, d), std::invalid_argument);
  d = sample_index(4);
  d.threshold = 0;
  EXPECT_THROW((void)fmt::write_lsh_index(o, d), std::invalid_argument);
  d = sample_index(9);  // 9 * 2 > 16
  EXPECT_THROW((void)fmt::write_lsh_index(o, d), std::invalid_argument);
}

// An LSH index written by format version 2 (k = 16, bands 4 x rows 2,
// threshold 0.75, seed 7, the keys of sample_index(4)), frozen when version 2
// was released: every later reader must accept it and decode the same index.
TEST(StageFormat, ReadsFrozenVersion2LshIndex) {
  static constexpr unsigned char v2[] = {
#include "golden/stage_format_v2_lsh_index.inc"
  };
  const std::string bytes(reinterpret_cast<const char*>(v2), sizeof v2);
  stage_data_options o = options(16);
  o.seed = 7;
  const fmt::lsh_index_data d = fmt::read_lsh_index(fmt::byte_view(bytes), 7);
  const fmt::lsh_index_data want = sample_index(4);
  EXPECT_EQ(d.params, want.params);
  EXPECT_EQ(d.threshold, want.threshold);
  EXPECT_EQ(d.keys, want.keys);
  EXPECT_EQ(d.band_keys, want.band_keys);
  EXPECT_EQ(fmt::write_lsh_index(o, d), bytes);
}

}  // namespace

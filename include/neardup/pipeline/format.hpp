// neardup/pipeline/format.hpp — one versioned, self-describing binary format
// for the data that passes between pipeline stages, so that it can move
// between threads, processes, machines and runs without being mixed up.
//
// Four kinds of stage data ("payloads"):
//   signature batch   n records of (document, k MinHash values)
//   band-key run      n records of (band key, document) of ONE band
//   fingerprint run   n records of (128-bit fingerprint, document)
//   LSH index         n keys (int or UTF-8 string), each with the band keys of
//                     all bands it is indexed under (format version 2; the
//                     persistence of the Python package's LSHIndex)
//
// Every file is  header (72 bytes) | payload | checksum (8 bytes). The header
// says what the payload is and which options produced it: scheme, k
// (num_perm), n-gram, tokenizer kind and flags, a hash of the seed (never the
// seed itself) and, for band-key runs, (bands, rows) and the band. The byte
// layout of each format version is in docs/FORMAT.md.
//
//   namespace fmt = neardup::pipeline;
//   const fmt::stage_data_options opt{.scheme = neardup::minhash_scheme::one_permutation,
//                                     .num_perm = 128, .ngram = 5};
//   std::string bytes = fmt::write_signatures(opt, docs, values);   // values: n × 128
//   ...                                                             // ship or store bytes
//   fmt::signature_batch b = fmt::read_signatures(fmt::byte_view(bytes), opt);
//   // b.docs[i] owns b.values[i*128 .. (i+1)*128)
//
//   // Large runs: stream records to any byte sink (a file, a socket, a buffer).
//   fmt::stage_writer w = fmt::stage_writer::band_keys(sink, opt, {{16, 8}, 3}, n, /*sorted=*/true);
//   w.add(run_part_1);                                              // std::span<const band_entry>
//   w.add(run_part_2);
//   w.finish();                                                     // appends the checksum
//   // Reading in pieces (from disk, a socket): stage_reader, below.
//
// ERRORS: bad, corrupted or mismatched bytes throw stage_data_error; bad
// options or misuse of a writer or reader throw std::invalid_argument.
//
// GUARANTEES
//  - Stability: the layout of a format version never changes once released.
//    A reader accepts every version up to its own (older files stay readable,
//    tests/format_test.cpp keeps frozen files of each version) and refuses a
//    newer one with an error that names both versions.
//  - Byte order: little-endian on disk whatever the host; every field is
//    written explicitly (no struct padding reaches the bytes). Encoding is
//    canonical: the same records, options and sorted flag give the same bytes.
//  - Integrity: the header carries a checksum of its own fields, and the file
//    ends with a checksum of header and payload (seeded XXH3-64 both); the
//    readers check them, the length and every header field, and never read
//    outside the given bytes, whatever they hold (fuzz/fuzz_format.cpp).
//  - No silent mixing: the readers compare the header with the options the
//    caller expects and throw stage_data_error naming the field and both
//    values, e.g. "stage data: num_perm is 64 in the file, 128 expected".
//    Stage data of one run is checked as one set: a fingerprint run also
//    records scheme, num_perm and n-gram, although fingerprints do not
//    depend on them.
//  - Sorted files: a file that says it is sorted has its records in order
//    (checked by the writer and again by the reader): signature batches by
//    document, band-key runs by (key, document), fingerprint runs by
//    (fingerprint.low, fingerprint.high, document), each non-decreasing.
//
// NOT PROMISED: secrecy (the seed hash is a plain XXH3 of the seed, which a
// small seed space does not hide) or protection against a malicious writer
// (the checksum detects accidents, not forgeries).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/hash.hpp"
#include "neardup/pipeline/options.hpp"
#include "neardup/signature.hpp"
#include "neardup/tokenize.hpp"
#include "neardup/types.hpp"

namespace neardup::pipeline {

// The newest format version this library reads (see docs/FORMAT.md). A file
// is written in the oldest version that holds its kind (stage_kind_version),
// so readers of version 1 keep reading signature batches, band-key runs and
// fingerprint runs.
inline constexpr std::uint16_t stage_format_version = 2;
// Bytes of the header and of the trailing checksum (format version 1).
inline constexpr std::size_t stage_header_bytes = 72;
inline constexpr std::size_t stage_checksum_bytes = 8;

// What the payload holds. The values are the byte stored in the file.
enum class stage_kind : std::uint8_t { signatures = 1, band_keys = 2, fingerprints = 3, lsh_index = 4 };

// The format version a file of `kind` is written in (and must carry): 1 for
// kinds 1-3, 2 for lsh_index.
constexpr std::uint16_t stage_kind_version(stage_kind kind) noexcept {
  return kind == stage_kind::lsh_index ? 2 : 1;
}

// The options that stage data depends on. Writers record them; readers refuse
// data written with other values.
struct stage_data_options {
  minhash_scheme scheme = minhash_scheme::one_permutation;
  std::size_t num_perm = 128;  // k, in [min_num_perm, max_num_perm]
  std::size_t ngram = 5;       // in [1, max_ngram]
  tokenize_options tokens;     // kind and the four normalization flags
  std::uint64_t seed = default_seed;

  // The fields of a run's similarity options (pipeline/options.hpp) that
  // its stage data depends on.
  static stage_data_options of(const similarity_options& o) noexcept {
    return {o.scheme, o.num_perm, o.ngram, o.tokens, o.seed};
  }
};

// Which band a band-key run holds: params of the banding, and band < params.bands.
struct band_run_id {
  lsh_params params;
  std::uint32_t band = 0;
};

// One record of a fingerprint run.
struct fingerprint_entry {
  hash128 fingerprint;
  doc_id doc = 0;
  friend constexpr bool operator==(const fingerprint_entry&, const fingerprint_entry&) = default;
  friend constexpr auto operator<=>(const fingerprint_entry&, const fingerprint_entry&) = default;
};

// A decoded signature batch: record i is document docs[i] with the signature
// values[i * num_perm .. (i + 1) * num_perm), a contiguous n × k array.
struct signature_batch {
  std::size_t num_perm = 0;
  std::vector<doc_id> docs;
  std::vector<sig_value> values;
};

// Malformed, corrupted or mismatched stage data. The message starts with
// "stage data: " and names the field (or the checksum) and both values.
class stage_data_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The seed hash stored in headers: XXH3-64 of the seed's 8 little-endian
// bytes under a fixed format seed. Stable forever.
std::uint64_t stage_seed_hash(std::uint64_t seed) noexcept;

// One key of an LSH index file: an int or a UTF-8 string (not checked as
// UTF-8 here), and whether it is indexed under band keys (false for the
// empty-set signature, which is never a candidate).
struct lsh_index_key {
  bool is_string = false;
  std::int64_t int_key = 0;  // when !is_string
  std::string str_key;       // when is_string
  bool indexed = false;
  friend bool operator==(const lsh_index_key&, const lsh_index_key&) = default;
};

// A decoded LSH index: the banding, the threshold it was chosen for, the keys
// in order, and the band keys of the indexed ones: band_keys[j * bands + b]
// is band b of the j-th key with indexed == true.
struct lsh_index_data {
  lsh_params params;
  double threshold = 0.8;  // in (0, 1]
  std::vector<lsh_index_key> keys;
  std::vector<std::uint64_t> band_keys;
};

// What a file says about itself.
struct stage_header {
  std::uint16_t version = stage_format_version;
  stage_kind kind = stage_kind::signatures;
  minhash_scheme scheme = minhash_scheme::one_permutation;
  std::uint32_t num_perm = 0;
  std::uint32_t ngram = 0;
  tokenize_options tokens;
  std::uint64_t seed_hash = 0;
  band_run_id band;  // all zero unless kind == band_keys; lsh_index: params, band 0
  bool sorted = false;
  std::uint64_t records = 0;
  std::uint64_t payload_bytes = 0;
  // Bytes of the whole file: header, payload and checksum.
  std::uint64_t total_bytes() const noexcept { return stage_header_bytes + payload_bytes + stage_checksum_bytes; }
};

// Views the bytes of a string (as the writers return) as the readers take them.
inline std::span<const std::byte> byte_view(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Checks everything that does not need the caller's options (magic, version,
// byte order, length, checksum, valid field values, record order) and returns
// the header. `bytes` must hold exactly one file. Throws stage_data_error.
stage_header inspect_stage_data(std::span<const std::byte> bytes);

// ---- readers: `bytes` must hold exactly one file of the named kind, written
// with `expected` (and, for band keys, for `band`). They check what
// inspect_stage_data checks, then every option, and throw stage_data_error on
// the first difference.
signature_batch read_signatures(std::span<const std::byte> bytes, const stage_data_options& expected);
std::vector<band_entry> read_band_keys(std::span<const std::byte> bytes, const stage_data_options& expected,
                                       band_run_id band);
std::vector<fingerprint_entry> read_fingerprints(std::span<const std::byte> bytes,
                                                 const stage_data_options& expected);
// An LSH index records the options of the signatures it holds; the caller
// gives only the seed (never stored) and gets the others from the header:
// `options` (when not null) receives them. Throws stage_data_error for a
// file of another kind or seed, or a malformed key table.
lsh_index_data read_lsh_index(std::span<const std::byte> bytes, std::uint64_t seed,
                              stage_data_options* options = nullptr);

// ---- one-shot writers: return a whole file. The header says "sorted" when
// the records happen to be in order.
// REQUIRES: valid options; values.size() == docs.size() * num_perm; for band
// keys, valid params (validate_lsh_params) and band < params.bands
// (throws std::invalid_argument).
std::string write_signatures(const stage_data_options& options, std::span<const doc_id> docs,
                             std::span<const sig_value> values);
std::string write_band_keys(const stage_data_options& options, band_run_id band, std::span<const band_entry> run);
std::string write_fingerprints(const stage_data_options& options, std::span<const fingerprint_entry> run);
// REQUIRES: valid options and params; threshold in (0, 1]; band_keys.size()
// == params.bands * (number of indexed keys); a string key of < 2^32 bytes.
std::string write_lsh_index(const stage_data_options& options, const lsh_index_data& index);

// Receives the bytes of a file in order, in pieces of any size; a piece is
// only valid during the call.
using byte_sink = std::function<void(std::span<const std::byte>)>;

// Streaming writer for runs too large to hold twice (kinds 1-3; an LSH index
// is written and read whole): the header goes to the
// sink at construction, records are buffered (64 KiB) and passed on, and
// finish() sends the rest and the checksum. The number of records is fixed
// up front, so any append-only sink works (no seeking back).
// Throws std::invalid_argument for bad options, a record of the wrong kind or
// size, a record past `records`, a record out of order when declared sorted,
// and from finish() when fewer records were added. After a throw the writer
// refuses further use; a writer destroyed before finish() leaves a file that
// every reader rejects as truncated.
class stage_writer {
 public:
  static stage_writer signatures(byte_sink sink, const stage_data_options& options, std::uint64_t records,
                                 bool sorted = false);
  static stage_writer band_keys(byte_sink sink, const stage_data_options& options, band_run_id band,
                                std::uint64_t records, bool sorted = false);
  static stage_writer fingerprints(byte_sink sink, const stage_data_options& options, std::uint64_t records,
                                   bool sorted = false);

  // REQUIRES: a writer of the matching kind; sig.size() == num_perm.
  void add(doc_id doc, std::span<const sig_value> sig);
  void add(const band_entry& entry);
  void add(std::span<const band_entry> entries);  // many at once: faster
  void add(const fingerprint_entry& entry);
  void add(std::span<const fingerprint_entry> entries);
  void finish();

  stage_writer(stage_writer&&) noexcept;
  stage_writer& operator=(stage_writer&&) noexcept;
  ~stage_writer();

 private:
  struct state;
  state& checked_state() const;
  stage_writer(byte_sink&& sink, stage_kind kind, const stage_data_options& options, const band_run_id& band,
               std::uint64_t records, bool sorted);
  std::unique_ptr<state> s_;
};

// Streaming reader, for files read in pieces (from disk, a socket, ...):
// feed() takes the file's bytes in order, in pieces of any size, and appends
// each record to `out` as soon as it is complete; finish() checks that the
// whole file arrived and its checksum. The header is checked (magic,
// version, byte order, every field and every expected option) as soon as its
// 72 bytes have arrived (after the header's own checksum).
// Records handed out before finish() returned are NOT verified yet: a caller
// that must not act on corrupted data waits for finish().
// Throws stage_data_error for bad data; std::invalid_argument for bad
// expected options, an `out` of another kind, and use after finish() or after
// an error.
//
//   auto r = fmt::stage_reader::band_keys(opt, {{16, 8}, 3});
//   std::vector<neardup::band_entry> run;
//   std::byte buf[1 << 16];
//   while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) r.feed({buf, n}, run);
//   r.finish();
class stage_reader {
 public:
  static stage_reader signatures(const stage_data_options& expected);
  static stage_reader band_keys(const stage_data_options& expected, band_run_id band);
  static stage_reader fingerprints(const stage_data_options& expected);

  void feed(std::span<const std::byte> bytes, signature_batch& out);
  void feed(std::span<const std::byte> bytes, std::vector<band_entry>& out);
  void feed(std::span<const std::byte> bytes, std::vector<fingerprint_entry>& out);
  void finish();

  // REQUIRES: the header's bytes were fed (throws std::invalid_argument).
  const stage_header& header() const;

  stage_reader(stage_reader&&) noexcept;
  stage_reader& operator=(stage_reader&&) noexcept;
  ~stage_reader();

 private:
  struct state;
  state& checked_state() const;
  stage_reader(stage_kind kind, const stage_data_options& expected, const band_run_id& band);
  std::unique_ptr<state> s_;
};

}  // namespace neardup::pipeline

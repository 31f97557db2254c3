// Stage data format: encoding, checks and decoding. The byte layout is
// documented in docs/FORMAT.md; keep the two in step.
#include "neardup/pipeline/format.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "neardup/shingle.hpp"

namespace neardup::pipeline {
namespace {

// ---- layout of format version 1 (docs/FORMAT.md)
constexpr std::uint8_t magic[8] = {0x89, 'N', 'D', 'S', '\r', '\n', 0x1A, '\n'};
constexpr std::uint16_t byte_order_mark = 0x0102;  // reads as 0x0201 if written big-endian
constexpr std::uint64_t checksum_seed = 0x737461676573756dULL;   // "stagesum"
constexpr std::uint64_t seed_hash_seed = 0x7365656468617368ULL;  // "seedhash"

namespace off {
constexpr std::size_t magic = 0, version = 8, byte_order = 10, kind = 12, scheme = 13, token_kind = 14,
                      token_flags = 15, num_perm = 16, ngram = 20, seed_hash = 24, bands = 32, rows = 36,
                      band = 40, flags = 44, records = 48, payload_bytes = 56, header_checksum = 64;
}  // namespace off
static_assert(off::header_checksum + 8 == stage_header_bytes);

// Bits of the token_flags byte and of the flags word.
constexpr std::uint8_t tf_lowercase = 1, tf_fold_digits = 2, tf_strip_punctuation = 4, tf_collapse_whitespace = 8;
constexpr std::uint8_t tf_known = 15;
constexpr std::uint32_t flag_sorted = 1;
constexpr std::uint32_t flags_known = flag_sorted;

// Codes stored in the file. They are fixed here, not taken from the enums'
// values, so that reordering an enum can never change the format.
std::uint8_t scheme_code(minhash_scheme s) {
  switch (s) {
    case minhash_scheme::classic: return 1;
    case minhash_scheme::one_permutation: return 2;
    case minhash_scheme::superminhash: return 3;
  }
  throw std::invalid_argument("stage data options: scheme " + std::to_string(static_cast<int>(s)) +
                              " is not a minhash_scheme value");
}
bool scheme_of_code(std::uint8_t c, minhash_scheme& s) {
  switch (c) {
    case 1: s = minhash_scheme::classic; return true;
    case 2: s = minhash_scheme::one_permutation; return true;
    case 3: s = minhash_scheme::superminhash; return true;
    default: return false;
  }
}
std::uint8_t token_kind_code(token_kind k) {
  switch (k) {
    case token_kind::word: return 1;
    case token_kind::character: return 2;
    case token_kind::code: return 3;
  }
  throw std::invalid_argument("stage data options: tokens " + std::to_string(static_cast<int>(k)) +
                              " is not a token_kind value");
}
bool token_kind_of_code(std::uint8_t c, token_kind& k) {
  switch (c) {
    case 1: k = token_kind::word; return true;
    case 2: k = token_kind::character; return true;
    case 3: k = token_kind::code; return true;
    default: return false;
  }
}

// Spellings of the options in messages: the CLI's (enum_names.hpp).
template <class E>
std::string name_of(E e) {
  const std::string_view n = neardup::name(e);
  return n.empty() ? "?" : std::string(n);
}

const char* kind_name(stage_kind k) {
  switch (k) {
    case stage_kind::signatures: return "signature batch";
    case stage_kind::band_keys: return "band-key run";
    case stage_kind::fingerprints: return "fingerprint run";
    case stage_kind::lsh_index: return "LSH index";
  }
  return "?";
}

std::uint8_t token_flags_of(const tokenize_options& t) {
  return static_cast<std::uint8_t>((t.lowercase ? tf_lowercase : 0) | (t.fold_digits ? tf_fold_digits : 0) |
                                   (t.strip_punctuation ? tf_strip_punctuation : 0) |
                                   (t.collapse_whitespace ? tf_collapse_whitespace : 0));
}

// "0x" and at least `min_digits` hex digits.
std::string hex(std::uint64_t v, int min_digits = 1) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x";
  int shift = 60;
  while (shift > 4 * (min_digits - 1) && (v >> shift) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) s += digits[(v >> shift) & 15];
  return s;
}

[[noreturn]] void fail(const std::string& what) { throw stage_data_error("stage data: " + what); }

[[noreturn]] void fail_short_header(std::uint64_t present) {
  fail("truncated: " + std::to_string(present) + " bytes, the header alone needs " + std::to_string(stage_header_bytes));
}
[[noreturn]] void fail_truncated(std::uint64_t payload_bytes, std::uint64_t present) {
  const bool huge = payload_bytes > std::numeric_limits<std::uint64_t>::max() - stage_header_bytes - stage_checksum_bytes;
  fail("truncated: payload_bytes is " + std::to_string(payload_bytes) + " in the header, so the file has " +
       (huge ? std::string("more than 2^64") : std::to_string(payload_bytes + stage_header_bytes + stage_checksum_bytes)) +
       " bytes, but only " + std::to_string(present) + " are present");
}
[[noreturn]] void fail_trailing(std::uint64_t extra, std::uint64_t payload_bytes) {
  fail(std::to_string(extra) + " bytes follow the checksum (payload_bytes is " + std::to_string(payload_bytes) +
       " in the header): more than one file, or a corrupted length");
}

[[noreturn]] void fail_checksum(std::uint64_t stored, std::uint64_t computed) {
  fail("checksum is " + hex(stored) + " in the file, " + hex(computed) + " computed: the data is corrupted");
}

[[noreturn]] void mismatch(const char* field, const std::string& in_file, const std::string& expected) {
  fail(std::string(field) + " is " + in_file + " in the file, " + expected + " expected");
}

// ---- little-endian fields
void put_u16(std::byte* p, std::uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
void put_u32(std::byte* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
void put_u64(std::byte* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
std::uint16_t get_u16(const std::byte* p) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) | std::to_integer<unsigned>(p[1]) << 8);
}
std::uint32_t get_u32(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
std::uint64_t get_u64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

// `n` uint32 values to / from little-endian bytes (one memcpy on little-endian hosts).
void put_u32s(std::byte* p, const std::uint32_t* v, std::size_t n) {
  if constexpr (std::endian::native == std::endian::little) {
    if (n != 0) std::memcpy(p, v, n * 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) put_u32(p + 4 * i, v[i]);
  }
}
void get_u32s(const std::byte* p, std::uint32_t* v, std::size_t n) {
  if constexpr (std::endian::native == std::endian::little) {
    if (n != 0) std::memcpy(v, p, n * 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) v[i] = get_u32(p + 4 * i);
  }
}

// ---- records
// An LSH index payload: f64 threshold, then per key a u8 tag and an i64 or a
// u32 length and the bytes, then `bands` u64 band keys if indexed.
constexpr std::uint8_t key_tag_string = 1, key_tag_indexed = 2, key_tags_known = 3;
constexpr std::uint64_t lsh_index_threshold_bytes = 8;
constexpr std::uint64_t lsh_index_min_key_bytes = 5;  // tag + u32 length of an empty string
constexpr std::size_t band_record_bytes = 12;         // key u64, doc u32
constexpr std::size_t fingerprint_record_bytes = 20;  // low u64, high u64, doc u32

std::size_t record_bytes(stage_kind kind, std::size_t num_perm) {
  switch (kind) {
    case stage_kind::signatures: return 4 + 4 * num_perm;  // doc u32, k × u32
    case stage_kind::band_keys: return band_record_bytes;
    case stage_kind::fingerprints: return fingerprint_record_bytes;
    case stage_kind::lsh_index: return 1;  // variable: see lsh_index_min_payload
  }
  return 0;
}

void encode(std::byte* p, const band_entry& e) {
  put_u64(p, e.key);
  put_u32(p + 8, e.doc);
}
band_entry decode_band(const std::byte* p) { return {get_u64(p), get_u32(p + 8)}; }
void encode(std::byte* p, const fingerprint_entry& e) {
  put_u64(p, e.fingerprint.low);
  put_u64(p + 8, e.fingerprint.high);
  put_u32(p + 16, e.doc);
}
fingerprint_entry decode_fingerprint(const std::byte* p) { return {{get_u64(p), get_u64(p + 8)}, get_u32(p + 16)}; }

// The order of sorted files: non-decreasing by these keys.
bool in_order(const band_entry& a, const band_entry& b) {
  return a.key < b.key || (a.key == b.key && a.doc <= b.doc);
}
bool in_order(const fingerprint_entry& a, const fingerprint_entry& b) { return a <= b; }

// ---- options
void validate_options(const stage_data_options& o) {
  (void)scheme_code(o.scheme);
  (void)token_kind_code(o.tokens.kind);
  if (o.num_perm < min_num_perm || o.num_perm > max_num_perm) {
    throw std::invalid_argument("stage data options: num_perm = " + std::to_string(o.num_perm) + " is outside [" +
                                std::to_string(min_num_perm) + ", " + std::to_string(max_num_perm) + "]");
  }
  if (o.ngram < 1 || o.ngram > max_ngram) {
    throw std::invalid_argument("stage data options: ngram = " + std::to_string(o.ngram) + " is outside [1, " +
                                std::to_string(max_ngram) + "]");
  }
}

void validate_band(const band_run_id& b, std::size_t num_perm) {
  validate_lsh_params(b.params, num_perm);
  if (b.band >= b.params.bands) {
    throw std::invalid_argument("stage data options: band = " + std::to_string(b.band) + " is outside [0, " +
                                std::to_string(b.params.bands) + ")");
  }
}

// The header of a new file (records and payload length included).
void encode_header(std::byte* h, stage_kind kind, const stage_data_options& o, const band_run_id& band,
                   bool sorted, std::uint64_t records, std::uint64_t payload_bytes) {
  std::memset(h, 0, stage_header_bytes);
  std::memcpy(h + off::magic, magic, sizeof magic);
  put_u16(h + off::version, stage_kind_version(kind));
  put_u16(h + off::byte_order, byte_order_mark);
  h[off::kind] = static_cast<std::byte>(kind);
  h[off::scheme] = static_cast<std::byte>(scheme_code(o.scheme));
  h[off::token_kind] = static_cast<std::byte>(token_kind_code(o.tokens.kind));
  h[off::token_flags] = static_cast<std::byte>(token_flags_of(o.tokens));
  put_u32(h + off::num_perm, static_cast<std::uint32_t>(o.num_perm));
  put_u32(h + off::ngram, static_cast<std::uint32_t>(o.ngram));
  put_u64(h + off::seed_hash, stage_seed_hash(o.seed));
  if (kind == stage_kind::band_keys || kind == stage_kind::lsh_index) {
    put_u32(h + off::bands, band.params.bands);
    put_u32(h + off::rows, band.params.rows);
    put_u32(h + off::band, band.band);
  }
  put_u32(h + off::flags, sorted ? flag_sorted : 0);
  put_u64(h + off::records, records);
  put_u64(h + off::payload_bytes, payload_bytes);
  put_u64(h + off::header_checksum, hash64(h, off::header_checksum, checksum_seed));
}

// ---- reading

// Magic and version of the header at `h` (stage_header_bytes); returns the version,
// which this reader knows how to read.
std::uint16_t check_magic_and_version(const std::byte* h) {
  if (std::memcmp(h + off::magic, magic, sizeof magic) != 0) {
    fail("magic is wrong: these bytes are not neardup stage data");
  }
  const std::uint16_t version = get_u16(h + off::version);
  if (version == 0) fail("format version is 0 in the file, not a valid version");
  if (version > stage_format_version) {
    fail("format version is " + std::to_string(version) + " in the file, newer than " +
         std::to_string(stage_format_version) + ", the newest this reader knows: read it with a newer neardup");
  }
  return version;
}

// ---- format versions 1 and 2 (version 2 has the header of version 1 and
// adds kind 4, the LSH index, which only it holds)

// Every field of a version-1 or version-2 header, after magic and version:
// the byte order, the header checksum (so that a damaged header is reported
// as such, before its fields are interpreted), then each field's value.
stage_header parse_header_v1(const std::byte* h, std::uint16_t version) {
  const std::uint16_t order = get_u16(h + off::byte_order);
  if (order != byte_order_mark) {
    mismatch("byte order mark", hex(order, 4) + (order == 0x0201 ? " (a big-endian writer)" : ""),
             hex(byte_order_mark, 4));
  }
  const std::uint64_t stored = get_u64(h + off::header_checksum);
  const std::uint64_t computed = hash64(h, off::header_checksum, checksum_seed);
  if (stored != computed) {
    fail("header checksum is " + hex(stored) + " in the file, " + hex(computed) + " computed: the header is corrupted");
  }
  // The header checksum holds, so what follows can only fail for a writer
  // that is not this library.
  const std::uint64_t payload_bytes = get_u64(h + off::payload_bytes);
  stage_header r;
  r.version = version;
  const std::uint8_t kind = std::to_integer<std::uint8_t>(h[off::kind]);
  if (kind < 1 || kind > 4) fail("kind is " + std::to_string(kind) + " in the file, not a known payload kind");
  r.kind = static_cast<stage_kind>(kind);
  if (stage_kind_version(r.kind) != version) {
    fail(std::string("format version is ") + std::to_string(version) + " in the file, but kind " + kind_name(r.kind) +
         " is written as version " + std::to_string(stage_kind_version(r.kind)));
  }
  const std::uint8_t scheme = std::to_integer<std::uint8_t>(h[off::scheme]);
  if (!scheme_of_code(scheme, r.scheme)) fail("scheme is " + std::to_string(scheme) + " in the file, not a known scheme");
  const std::uint8_t tk = std::to_integer<std::uint8_t>(h[off::token_kind]);
  if (!token_kind_of_code(tk, r.tokens.kind)) {
    fail("tokens is " + std::to_string(tk) + " in the file, not a known tokenizer kind");
  }
  const std::uint8_t tf = std::to_integer<std::uint8_t>(h[off::token_flags]);
  if ((tf & ~tf_known) != 0) fail("token flags are " + hex(tf) + " in the file: unknown bits " + hex(tf & ~tf_known));
  r.tokens.lowercase = (tf & tf_lowercase) != 0;
  r.tokens.fold_digits = (tf & tf_fold_digits) != 0;
  r.tokens.strip_punctuation = (tf & tf_strip_punctuation) != 0;
  r.tokens.collapse_whitespace = (tf & tf_collapse_whitespace) != 0;
  r.num_perm = get_u32(h + off::num_perm);
  if (r.num_perm < min_num_perm || r.num_perm > max_num_perm) {
    fail("num_perm is " + std::to_string(r.num_perm) + " in the file, outside [" + std::to_string(min_num_perm) +
         ", " + std::to_string(max_num_perm) + "]");
  }
  r.ngram = get_u32(h + off::ngram);
  if (r.ngram < 1 || r.ngram > max_ngram) {
    fail("ngram is " + std::to_string(r.ngram) + " in the file, outside [1, " + std::to_string(max_ngram) + "]");
  }
  r.seed_hash = get_u64(h + off::seed_hash);
  r.band = {{get_u32(h + off::bands), get_u32(h + off::rows)}, get_u32(h + off::band)};
  if (r.kind == stage_kind::band_keys || r.kind == stage_kind::lsh_index) {
    const std::uint64_t used = std::uint64_t{r.band.params.bands} * r.band.params.rows;
    if (r.band.params.bands == 0 || r.band.params.rows == 0 || used > r.num_perm) {
      fail("bands and rows are " + std::to_string(r.band.params.bands) + " and " +
           std::to_string(r.band.params.rows) + " in the file: need bands, rows >= 1 and bands * rows <= num_perm (" +
           std::to_string(r.num_perm) + ")");
    }
    if (r.kind == stage_kind::lsh_index && r.band.band != 0) mismatch("band", std::to_string(r.band.band), "0");
    if (r.band.band >= r.band.params.bands) {
      fail("band is " + std::to_string(r.band.band) + " in the file, outside [0, " +
           std::to_string(r.band.params.bands) + ")");
    }
  } else {
    if (r.band.params.bands != 0) mismatch("bands", std::to_string(r.band.params.bands), "0");
    if (r.band.params.rows != 0) mismatch("rows", std::to_string(r.band.params.rows), "0");
    if (r.band.band != 0) mismatch("band", std::to_string(r.band.band), "0");
  }
  const std::uint32_t flags = get_u32(h + off::flags);
  if ((flags & ~flags_known) != 0) fail("flags are " + hex(flags) + " in the file: unknown bits " + hex(flags & ~flags_known));
  r.sorted = (flags & flag_sorted) != 0;
  r.records = get_u64(h + off::records);
  r.payload_bytes = payload_bytes;
  if (payload_bytes > std::numeric_limits<std::uint64_t>::max() - stage_header_bytes - stage_checksum_bytes) {
    fail("payload_bytes is " + std::to_string(payload_bytes) + " in the file: more than a file can hold");
  }
  if (r.kind == stage_kind::lsh_index) {  // keys of variable size: decode_lsh_index checks the rest
    if (r.sorted) fail("flags say sorted, but an LSH index is never marked sorted");
    if (payload_bytes < lsh_index_threshold_bytes ||
        (payload_bytes - lsh_index_threshold_bytes) / lsh_index_min_key_bytes < r.records) {
      fail("records is " + std::to_string(r.records) + " in the file, but payload_bytes (" +
           std::to_string(payload_bytes) + ") cannot hold the threshold and that many keys");
    }
    return r;
  }
  const std::size_t size = record_bytes(r.kind, r.num_perm);
  if (payload_bytes % size != 0 || payload_bytes / size != r.records) {
    fail("records is " + std::to_string(r.records) + " in the file, but payload_bytes (" +
         std::to_string(payload_bytes) + ") holds " + std::to_string(payload_bytes / size) + " records of " +
         std::to_string(size) + " bytes" + (payload_bytes % size != 0 ? " and a partial one" : ""));
  }
  return r;
}

// The whole file in `bytes`: header, then length, then the checksum of all.
stage_header parse_file_v1(std::span<const std::byte> bytes, std::uint16_t version) {
  const std::byte* h = bytes.data();
  const stage_header header = parse_header_v1(h, version);
  const std::uint64_t payload_bytes = header.payload_bytes;
  const std::uint64_t room = bytes.size() - stage_header_bytes;  // the caller checked size >= header
  if (room < stage_checksum_bytes || payload_bytes > room - stage_checksum_bytes) {
    fail_truncated(payload_bytes, bytes.size());
  }
  const std::uint64_t total = stage_header_bytes + payload_bytes + stage_checksum_bytes;
  if (bytes.size() > total) fail_trailing(bytes.size() - total, payload_bytes);
  const std::size_t body = stage_header_bytes + static_cast<std::size_t>(payload_bytes);
  const std::uint64_t stored = get_u64(h + body);
  const std::uint64_t computed = hash64(h, body, checksum_seed);
  if (stored != computed) fail_checksum(stored, computed);
  return header;
}

// ---- all versions

struct parsed {
  stage_header header;
  std::span<const std::byte> payload;
};

parsed parse(std::span<const std::byte> bytes) {
  if (bytes.size() < stage_header_bytes) fail_short_header(bytes.size());
  parsed p;
  switch (const std::uint16_t version = check_magic_and_version(bytes.data())) {
    case 1:
    case 2: p.header = parse_file_v1(bytes, version); break;
    default: fail("format version without a decoder");  // unreachable: check_magic_and_version refused it
  }
  p.payload = bytes.subspan(stage_header_bytes, static_cast<std::size_t>(p.header.payload_bytes));
  return p;
}

// Header fields, in any version, as soon as the header has arrived (streaming).
stage_header parse_header(const std::byte* h) {
  switch (const std::uint16_t version = check_magic_and_version(h)) {
    case 1:
    case 2: return parse_header_v1(h, version);
    default: fail("format version without a decoder");  // unreachable
  }
}

// ---- records (the same in every version so far)

// The previous record, for checking the order of a sorted file across pieces.
struct order_state {
  std::uint64_t index = 0;  // of the next record
  doc_id doc = 0;
  band_entry band;
  fingerprint_entry fingerprint;
};

void fail_order(std::uint64_t i) {
  fail("record " + std::to_string(i) + " is out of order, but the flags say the file is sorted");
}

// Append the n records at p to `out`, checking the order of a sorted file.
void append_records(const stage_header& h, const std::byte* p, std::size_t n, order_state& o, signature_batch& out) {
  const std::size_t k = h.num_perm;
  const std::size_t size = record_bytes(stage_kind::signatures, k);
  out.num_perm = k;
  const std::size_t first = out.docs.size();
  out.docs.resize(first + n);
  out.values.resize((first + n) * k);
  for (std::size_t i = 0; i < n; ++i, p += size, ++o.index) {
    const doc_id doc = get_u32(p);
    if (h.sorted && o.index > 0 && o.doc > doc) fail_order(o.index);
    out.docs[first + i] = o.doc = doc;
    get_u32s(p + 4, out.values.data() + (first + i) * k, k);
  }
}
template <class T, class Decode>
void append_run(const stage_header& h, const std::byte* p, std::size_t n, T& last, std::uint64_t& index,
                std::vector<T>& out, Decode decode) {
  const std::size_t size = record_bytes(h.kind, h.num_perm);
  const std::size_t first = out.size();
  out.resize(first + n);
  for (std::size_t i = 0; i < n; ++i, p += size, ++index) {
    const T e = decode(p);
    if (h.sorted && index > 0 && !in_order(last, e)) fail_order(index);
    out[first + i] = last = e;
  }
}
void append_records(const stage_header& h, const std::byte* p, std::size_t n, order_state& o,
                    std::vector<band_entry>& out) {
  append_run(h, p, n, o.band, o.index, out, decode_band);
}
void append_records(const stage_header& h, const std::byte* p, std::size_t n, order_state& o,
                    std::vector<fingerprint_entry>& out) {
  append_run(h, p, n, o.fingerprint, o.index, out, decode_fingerprint);
}

template <class Out>
Out decode_all(const parsed& p) {
  Out out;
  order_state o;
  append_records(p.header, p.payload.data(), static_cast<std::size_t>(p.header.records), o, out);
  return out;
}

void clear_records(signature_batch& b) {
  b.docs.clear();
  b.values.clear();
}
template <class T>
void clear_records(std::vector<T>& v) {
  v.clear();
}

// Checks every record (and the order of a sorted file) as decode_all does,
// a slice at a time: memory stays a slice, whatever the file's size.
template <class Out>
void check_all(const parsed& p) {
  constexpr std::size_t slice = 4096;
  const std::size_t size = record_bytes(p.header.kind, p.header.num_perm);
  const auto n = static_cast<std::size_t>(p.header.records);
  Out out;
  order_state o;
  for (std::size_t at = 0; at < n; at += slice) {
    clear_records(out);
    append_records(p.header, p.payload.data() + at * size, std::min(slice, n - at), o, out);
  }
}

// The payload of an LSH index (header already checked): every byte must be
// accounted for.
lsh_index_data decode_lsh_index(const parsed& p) {
  const stage_header& h = p.header;
  const std::byte* at = p.payload.data();
  std::uint64_t left = p.payload.size();
  auto need = [&](std::uint64_t n, std::uint64_t key, const char* what) {
    if (left < n) {
      fail("key " + std::to_string(key) + " of " + std::to_string(h.records) + ": its " + what +
           " runs past the end of the payload");
    }
  };
  lsh_index_data out;
  out.params = h.band.params;
  out.threshold = std::bit_cast<double>(get_u64(at));
  if (!(out.threshold > 0.0 && out.threshold <= 1.0)) {
    fail("threshold is " + hex(get_u64(at)) + " (as f64 bits) in the file, not in (0, 1]");
  }
  at += lsh_index_threshold_bytes;
  left -= lsh_index_threshold_bytes;
  const std::size_t bands = out.params.bands;
  out.keys.resize(static_cast<std::size_t>(h.records));  // records <= payload_bytes / 5 (checked)
  for (std::uint64_t i = 0; i < h.records; ++i) {
    lsh_index_key& k = out.keys[static_cast<std::size_t>(i)];
    need(1, i, "tag");
    const std::uint8_t tag = std::to_integer<std::uint8_t>(at[0]);
    if ((tag & ~key_tags_known) != 0) fail("key " + std::to_string(i) + " has tag " + hex(tag) + ": unknown bits");
    ++at;
    --left;
    k.is_string = (tag & key_tag_string) != 0;
    k.indexed = (tag & key_tag_indexed) != 0;
    if (k.is_string) {
      need(4, i, "length");
      const std::uint32_t n = get_u32(at);
      at += 4;
      left -= 4;
      need(n, i, "string");
      k.str_key.assign(reinterpret_cast<const char*>(at), n);
      at += n;
      left -= n;
    } else {
      need(8, i, "integer");
      k.int_key = static_cast<std::int64_t>(get_u64(at));
      at += 8;
      left -= 8;
    }
    if (k.indexed) {
      need(8 * std::uint64_t{bands}, i, "band keys");
      for (std::size_t b = 0; b < bands; ++b) out.band_keys.push_back(get_u64(at + 8 * b));
      at += 8 * bands;
      left -= 8 * bands;
    }
  }
  if (left != 0) fail(std::to_string(left) + " bytes of the payload follow the last key");
  return out;
}

const char* boolean(bool b) { return b ? "true" : "false"; }

// Compares what the file says with what the caller expects, in header order.
void check_expected(const stage_header& h, stage_kind kind, const stage_data_options& o, const band_run_id* band) {
  if (h.kind != kind) mismatch("kind", kind_name(h.kind), kind_name(kind));
  if (h.scheme != o.scheme) mismatch("scheme", name_of(h.scheme), name_of(o.scheme));
  if (h.tokens.kind != o.tokens.kind) mismatch("tokens", name_of(h.tokens.kind), name_of(o.tokens.kind));
  if (h.tokens.lowercase != o.tokens.lowercase) {
    mismatch("tokens.lowercase", boolean(h.tokens.lowercase), boolean(o.tokens.lowercase));
  }
  if (h.tokens.fold_digits != o.tokens.fold_digits) {
    mismatch("tokens.fold_digits", boolean(h.tokens.fold_digits), boolean(o.tokens.fold_digits));
  }
  if (h.tokens.strip_punctuation != o.tokens.strip_punctuation) {
    mismatch("tokens.strip_punctuation", boolean(h.tokens.strip_punctuation), boolean(o.tokens.strip_punctuation));
  }
  if (h.tokens.collapse_whitespace != o.tokens.collapse_whitespace) {
    mismatch("tokens.collapse_whitespace", boolean(h.tokens.collapse_whitespace),
             boolean(o.tokens.collapse_whitespace));
  }
  if (h.num_perm != o.num_perm) mismatch("num_perm", std::to_string(h.num_perm), std::to_string(o.num_perm));
  if (h.ngram != o.ngram) mismatch("ngram", std::to_string(h.ngram), std::to_string(o.ngram));
  const std::uint64_t seed_hash = stage_seed_hash(o.seed);
  if (h.seed_hash != seed_hash) {
    fail("seed hash is " + hex(h.seed_hash) + " in the file, " + hex(seed_hash) +
         " expected: the data was written with another seed");
  }
  if (band != nullptr) {
    if (h.band.params.bands != band->params.bands) {
      mismatch("bands", std::to_string(h.band.params.bands), std::to_string(band->params.bands));
    }
    if (h.band.params.rows != band->params.rows) {
      mismatch("rows", std::to_string(h.band.params.rows), std::to_string(band->params.rows));
    }
    if (h.band.band != band->band) mismatch("band", std::to_string(h.band.band), std::to_string(band->band));
  }
}

void check_expected_options(const stage_data_options& expected, stage_kind kind, const band_run_id* band) {
  validate_options(expected);
  if (kind == stage_kind::band_keys) validate_band(*band, expected.num_perm);
}

parsed parse_expected(std::span<const std::byte> bytes, stage_kind kind, const stage_data_options& expected,
                      const band_run_id* band) {
  check_expected_options(expected, kind, band);
  parsed p = parse(bytes);
  check_expected(p.header, kind, expected, band);
  return p;
}

}  // namespace

std::uint64_t stage_seed_hash(std::uint64_t seed) noexcept {
  std::byte le[8];
  put_u64(le, seed);
  return hash64(le, sizeof le, seed_hash_seed);
}

stage_header inspect_stage_data(std::span<const std::byte> bytes) {
  const parsed p = parse(bytes);
  if (p.header.sorted) {
    switch (p.header.kind) {
      case stage_kind::signatures: check_all<signature_batch>(p); break;
      case stage_kind::band_keys: check_all<std::vector<band_entry>>(p); break;
      case stage_kind::fingerprints: check_all<std::vector<fingerprint_entry>>(p); break;
      case stage_kind::lsh_index: break;  // never sorted
    }
  }
  if (p.header.kind == stage_kind::lsh_index) (void)decode_lsh_index(p);
  return p.header;
}

signature_batch read_signatures(std::span<const std::byte> bytes, const stage_data_options& expected) {
  signature_batch out = decode_all<signature_batch>(parse_expected(bytes, stage_kind::signatures, expected, nullptr));
  out.num_perm = expected.num_perm;
  return out;
}

std::vector<band_entry> read_band_keys(std::span<const std::byte> bytes, const stage_data_options& expected,
                                       band_run_id band) {
  return decode_all<std::vector<band_entry>>(parse_expected(bytes, stage_kind::band_keys, expected, &band));
}

std::vector<fingerprint_entry> read_fingerprints(std::span<const std::byte> bytes,
                                                 const stage_data_options& expected) {
  return decode_all<std::vector<fingerprint_entry>>(parse_expected(bytes, stage_kind::fingerprints, expected, nullptr));
}

lsh_index_data read_lsh_index(std::span<const std::byte> bytes, std::uint64_t seed, stage_data_options* options) {
  const parsed p = parse(bytes);
  const stage_header& h = p.header;
  stage_data_options o{h.scheme, h.num_perm, h.ngram, h.tokens, seed};
  check_expected(h, stage_kind::lsh_index, o, nullptr);  // kind and seed; the rest is o
  if (options != nullptr) *options = o;
  return decode_lsh_index(p);
}

// ---- streaming reader

struct stage_reader::state {
  hash64_stream checksum{checksum_seed};
  stage_kind kind = stage_kind::signatures;
  stage_data_options expected;
  band_run_id band;
  std::byte header_bytes[stage_header_bytes];
  std::byte trailer[stage_checksum_bytes];
  stage_header header;
  std::uint64_t seen = 0;   // bytes fed so far
  std::uint64_t total = 0;  // bytes of the file, once the header is in
  std::size_t record_size = 0;
  std::vector<std::byte> partial;  // the start of a record split between pieces
  order_state order;
  bool broken = false;
  bool finished = false;

  template <class Out>
  void feed(std::span<const std::byte> bytes, Out& out, stage_kind out_kind);
};

template <class Out>
void stage_reader::state::feed(std::span<const std::byte> bytes, Out& out, stage_kind out_kind) {
  if (broken || finished) {
    throw std::invalid_argument(finished ? "stage_reader: feed() after finish()"
                                         : "stage_reader: feed() after an earlier error");
  }
  if (out_kind != kind) {
    throw std::invalid_argument(std::string("stage_reader: records of a ") + kind_name(kind) + " asked for as a " +
                                kind_name(out_kind));
  }
  if constexpr (std::is_same_v<Out, signature_batch>) {
    if (out.values.size() != out.docs.size() * expected.num_perm) {
      throw std::invalid_argument("stage_reader: the batch to append to holds " + std::to_string(out.values.size()) +
                                  " values for " + std::to_string(out.docs.size()) + " documents of num_perm " +
                                  std::to_string(expected.num_perm));
    }
  }
  broken = true;  // until this piece is consumed without an error
  if (seen < stage_header_bytes) {
    const std::size_t take = std::min<std::size_t>(bytes.size(), stage_header_bytes - seen);
    std::memcpy(header_bytes + seen, bytes.data(), take);
    checksum.update(bytes.data(), take);
    seen += take;
    bytes = bytes.subspan(take);
    if (seen == stage_header_bytes) {
      header = parse_header(header_bytes);
      check_expected(header, kind, expected, kind == stage_kind::band_keys ? &band : nullptr);
      record_size = record_bytes(header.kind, header.num_perm);
      total = header.total_bytes();  // no overflow: records * record_size == payload_bytes was checked
    }
  }
  const std::uint64_t payload_end = stage_header_bytes + header.payload_bytes;
  if (!bytes.empty() && seen < payload_end) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), payload_end - seen));
    checksum.update(bytes.data(), take);
    seen += take;
    std::span<const std::byte> payload = bytes.first(take);
    bytes = bytes.subspan(take);
    if (!partial.empty()) {  // complete the record begun in an earlier piece
      const std::size_t more = std::min(record_size - partial.size(), payload.size());
      partial.insert(partial.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(more));
      payload = payload.subspan(more);
      if (partial.size() == record_size) {
        append_records(header, partial.data(), 1, order, out);
        partial.clear();
      }
    }
    const std::size_t whole = payload.size() / record_size;
    append_records(header, payload.data(), whole, order, out);
    payload = payload.subspan(whole * record_size);
    partial.insert(partial.end(), payload.begin(), payload.end());
  }
  if (!bytes.empty() && seen >= payload_end) {
    if (seen + bytes.size() > total) fail_trailing(seen + bytes.size() - total, header.payload_bytes);
    std::memcpy(trailer + (seen - payload_end), bytes.data(), bytes.size());
    seen += bytes.size();
  }
  broken = false;
}

stage_reader::stage_reader(stage_kind kind, const stage_data_options& expected, const band_run_id& band) {
  check_expected_options(expected, kind, &band);
  s_ = std::make_unique<state>();
  s_->kind = kind;
  s_->expected = expected;
  s_->band = band;
}
stage_reader::stage_reader(stage_reader&&) noexcept = default;
stage_reader& stage_reader::operator=(stage_reader&&) noexcept = default;
stage_reader::~stage_reader() = default;

stage_reader stage_reader::signatures(const stage_data_options& expected) {
  return {stage_kind::signatures, expected, {}};
}
stage_reader stage_reader::band_keys(const stage_data_options& expected, band_run_id band) {
  return {stage_kind::band_keys, expected, band};
}
stage_reader stage_reader::fingerprints(const stage_data_options& expected) {
  return {stage_kind::fingerprints, expected, {}};
}

stage_reader::state& stage_reader::checked_state() const {
  if (!s_) throw std::invalid_argument("stage_reader: use of a moved-from reader");
  return *s_;
}

void stage_reader::feed(std::span<const std::byte> bytes, signature_batch& out) {
  checked_state().feed(bytes, out, stage_kind::signatures);
}
void stage_reader::feed(std::span<const std::byte> bytes, std::vector<band_entry>& out) {
  checked_state().feed(bytes, out, stage_kind::band_keys);
}
void stage_reader::feed(std::span<const std::byte> bytes, std::vector<fingerprint_entry>& out) {
  checked_state().feed(bytes, out, stage_kind::fingerprints);
}

const stage_header& stage_reader::header() const {
  const state& s = checked_state();
  if (s.seen < stage_header_bytes) throw std::invalid_argument("stage_reader: header() before the header was fed");
  return s.header;
}

void stage_reader::finish() {
  state& s = checked_state();
  if (s.broken || s.finished) {
    throw std::invalid_argument(s.finished ? "stage_reader: finish() called twice"
                                           : "stage_reader: finish() after an earlier error");
  }
  s.broken = true;
  if (s.seen < stage_header_bytes) fail_short_header(s.seen);
  if (s.seen < s.total) fail_truncated(s.header.payload_bytes, s.seen);
  const std::uint64_t stored = get_u64(s.trailer);
  const std::uint64_t computed = s.checksum.digest();
  if (stored != computed) fail_checksum(stored, computed);
  s.broken = false;
  s.finished = true;
}

// ---- writing

struct stage_writer::state {
  hash64_stream checksum{checksum_seed};
  byte_sink sink;
  stage_kind kind = stage_kind::signatures;
  std::size_t num_perm = 0;
  std::size_t record_size = 0;
  std::uint64_t declared = 0;
  std::uint64_t added = 0;
  bool sorted = false;
  bool broken = false;
  bool finished = false;
  band_entry last_band;
  fingerprint_entry last_fingerprint;
  doc_id last_doc = 0;
  std::vector<std::byte> buffer;
  std::size_t used = 0;

  static constexpr std::size_t buffer_bytes = 64 << 10;  // > the largest record (4 + 4 * max_num_perm)

  void emit(std::span<const std::byte> bytes) {
    checksum.update(bytes.data(), bytes.size());
    sink(bytes);
  }
  void flush() {
    if (used != 0) emit({buffer.data(), used});
    used = 0;
  }
  // Checks that `count` records of kind `k` may be added.
  void check_add(stage_kind k, std::uint64_t count) {
    if (broken || finished) {
      throw std::invalid_argument(finished ? "stage_writer: add() after finish()"
                                           : "stage_writer: add() after an earlier error");
    }
    if (k != kind) {
      broken = true;
      throw std::invalid_argument(std::string("stage_writer: a ") + kind_name(k) + " record added to a " +
                                  kind_name(kind));
    }
    if (count > declared - added) {
      broken = true;
      throw std::invalid_argument("stage_writer: more records than the " + std::to_string(declared) + " declared");
    }
  }
  [[noreturn]] void out_of_order(std::uint64_t record) {
    broken = true;
    throw std::invalid_argument("stage_writer: record " + std::to_string(record) +
                                " is out of order in a writer declared sorted");
  }
  // Encodes a run of band or fingerprint records, a buffer at a time.
  template <class T>
  void add_run(stage_kind k, std::span<const T> run, T& last) {
    check_add(k, run.size());
    for (std::size_t i = 0; i < run.size();) {
      if (buffer.size() - used < record_size) flush();
      const std::size_t fit = std::min((buffer.size() - used) / record_size, run.size() - i);
      std::byte* r = buffer.data() + used;
      for (std::size_t j = 0; j < fit; ++j, r += record_size) {
        const T& e = run[i + j];
        if (sorted && added + j > 0 && !in_order(last, e)) out_of_order(added + j);
        encode(r, e);
        last = e;
      }
      used += fit * record_size;
      added += fit;
      i += fit;
    }
  }
};

stage_writer::stage_writer(stage_writer&&) noexcept = default;
stage_writer& stage_writer::operator=(stage_writer&&) noexcept = default;
stage_writer::~stage_writer() = default;

stage_writer::stage_writer(byte_sink&& sink, stage_kind kind, const stage_data_options& o, const band_run_id& band,
                           std::uint64_t records, bool sorted) {
  validate_options(o);
  if (kind == stage_kind::band_keys) validate_band(band, o.num_perm);
  if (!sink) throw std::invalid_argument("stage_writer: no sink");
  const std::size_t size = record_bytes(kind, o.num_perm);
  const std::uint64_t max_records =
      (std::numeric_limits<std::uint64_t>::max() - stage_header_bytes - stage_checksum_bytes) / size;
  if (records > max_records) {
    throw std::invalid_argument("stage_writer: " + std::to_string(records) + " records of " + std::to_string(size) +
                                " bytes do not fit in a file");
  }
  s_ = std::make_unique<state>();
  state* s = s_.get();
  s->sink = std::move(sink);
  s->kind = kind;
  s->num_perm = o.num_perm;
  s->record_size = size;
  s->declared = records;
  s->sorted = sorted;
  s->buffer.resize(stage_writer::state::buffer_bytes);
  std::byte header[stage_header_bytes];
  encode_header(header, kind, o, band, sorted, records, records * size);
  s->emit(header);
}

stage_writer stage_writer::signatures(byte_sink sink, const stage_data_options& options, std::uint64_t records,
                                      bool sorted) {
  return {std::move(sink), stage_kind::signatures, options, {}, records, sorted};
}
stage_writer stage_writer::band_keys(byte_sink sink, const stage_data_options& options, band_run_id band,
                                     std::uint64_t records, bool sorted) {
  return {std::move(sink), stage_kind::band_keys, options, band, records, sorted};
}
stage_writer stage_writer::fingerprints(byte_sink sink, const stage_data_options& options, std::uint64_t records,
                                        bool sorted) {
  return {std::move(sink), stage_kind::fingerprints, options, {}, records, sorted};
}

stage_writer::state& stage_writer::checked_state() const {
  if (!s_) throw std::invalid_argument("stage_writer: use of a moved-from writer");
  return *s_;
}

void stage_writer::add(doc_id doc, std::span<const sig_value> sig) {
  state& s = checked_state();
  s.check_add(stage_kind::signatures, 1);
  if (sig.size() != s.num_perm) {
    s.broken = true;
    throw std::invalid_argument("stage_writer: a signature of " + std::to_string(sig.size()) + " values, " +
                                std::to_string(s.num_perm) + " expected");
  }
  if (s.sorted && s.added > 0 && s.last_doc > doc) s.out_of_order(s.added);
  if (s.buffer.size() - s.used < s.record_size) s.flush();
  std::byte* r = s.buffer.data() + s.used;
  put_u32(r, doc);
  put_u32s(r + 4, sig.data(), sig.size());
  s.used += s.record_size;
  ++s.added;
  s.last_doc = doc;
}

void stage_writer::add(const band_entry& entry) { add(std::span(&entry, 1)); }
void stage_writer::add(std::span<const band_entry> entries) {
  state& s = checked_state();
  s.add_run(stage_kind::band_keys, entries, s.last_band);
}

void stage_writer::add(const fingerprint_entry& entry) { add(std::span(&entry, 1)); }
void stage_writer::add(std::span<const fingerprint_entry> entries) {
  state& s = checked_state();
  s.add_run(stage_kind::fingerprints, entries, s.last_fingerprint);
}

void stage_writer::finish() {
  checked_state();
  if (s_->broken || s_->finished) {
    throw std::invalid_argument(s_->finished ? "stage_writer: finish() called twice"
                                             : "stage_writer: finish() after an earlier error");
  }
  if (s_->added != s_->declared) {
    s_->broken = true;
    throw std::invalid_argument("stage_writer: " + std::to_string(s_->added) + " records added, " +
                                std::to_string(s_->declared) + " declared");
  }
  s_->broken = true;  // until the sink took everything
  s_->flush();
  std::byte trailer[stage_checksum_bytes];
  put_u64(trailer, s_->checksum.digest());
  s_->sink(trailer);
  s_->broken = false;
  s_->finished = true;
}

namespace {

// A sink that appends to `out`, reserving room for the whole file first.
byte_sink append_to(std::string& out, stage_kind kind, std::size_t num_perm, std::uint64_t records) {
  if (records <= (out.max_size() - stage_header_bytes - stage_checksum_bytes) / record_bytes(kind, num_perm)) {
    out.reserve(stage_header_bytes + records * record_bytes(kind, num_perm) + stage_checksum_bytes);
  }
  return [&out](std::span<const std::byte> b) { out.append(reinterpret_cast<const char*>(b.data()), b.size()); };
}

template <class T>
bool all_in_order(std::span<const T> run) {
  for (std::size_t i = 1; i < run.size(); ++i) {
    if (!in_order(run[i - 1], run[i])) return false;
  }
  return true;
}

}  // namespace

std::string write_signatures(const stage_data_options& options, std::span<const doc_id> docs,
                             std::span<const sig_value> values) {
  validate_options(options);
  const std::size_t k = options.num_perm;
  if (values.size() / k != docs.size() || values.size() % k != 0) {
    throw std::invalid_argument("write_signatures: " + std::to_string(values.size()) + " values for " +
                                std::to_string(docs.size()) + " documents of num_perm " + std::to_string(k));
  }
  std::string out;
  stage_writer w = stage_writer::signatures(append_to(out, stage_kind::signatures, k, docs.size()), options,
                                            docs.size(), std::is_sorted(docs.begin(), docs.end()));
  for (std::size_t i = 0; i < docs.size(); ++i) w.add(docs[i], values.subspan(i * k, k));
  w.finish();
  return out;
}

std::string write_band_keys(const stage_data_options& options, band_run_id band, std::span<const band_entry> run) {
  std::string out;
  stage_writer w = stage_writer::band_keys(append_to(out, stage_kind::band_keys, 1, run.size()), options, band,
                                           run.size(), all_in_order(run));
  w.add(run);
  w.finish();
  return out;
}

std::string write_fingerprints(const stage_data_options& options, std::span<const fingerprint_entry> run) {
  std::string out;
  stage_writer w = stage_writer::fingerprints(append_to(out, stage_kind::fingerprints, 1, run.size()), options,
                                              run.size(), all_in_order(run));
  w.add(run);
  w.finish();
  return out;
}

std::string write_lsh_index(const stage_data_options& options, const lsh_index_data& index) {
  validate_options(options);
  validate_lsh_params(index.params, options.num_perm);
  if (!(index.threshold > 0.0 && index.threshold <= 1.0)) {
    throw std::invalid_argument("write_lsh_index: threshold = " + std::to_string(index.threshold) +
                                " is outside (0, 1]");
  }
  const std::size_t bands = index.params.bands;
  std::size_t indexed = 0;
  std::uint64_t payload = lsh_index_threshold_bytes;
  for (const lsh_index_key& k : index.keys) {
    if (k.is_string && k.str_key.size() > std::numeric_limits<std::uint32_t>::max()) {
      throw std::invalid_argument("write_lsh_index: a key of " + std::to_string(k.str_key.size()) +
                                  " bytes, more than 2^32 - 1");
    }
    payload += 1 + (k.is_string ? 4 + k.str_key.size() : 8) + (k.indexed ? 8 * bands : 0);
    indexed += k.indexed ? 1 : 0;
  }
  if (index.band_keys.size() != indexed * bands) {
    throw std::invalid_argument("write_lsh_index: " + std::to_string(index.band_keys.size()) + " band keys for " +
                                std::to_string(indexed) + " indexed keys of " + std::to_string(bands) + " bands");
  }
  std::string out(stage_header_bytes + payload + stage_checksum_bytes, '\0');
  std::byte* h = reinterpret_cast<std::byte*>(out.data());
  encode_header(h, stage_kind::lsh_index, options, {index.params, 0}, false, index.keys.size(), payload);
  std::byte* at = h + stage_header_bytes;
  put_u64(at, std::bit_cast<std::uint64_t>(index.threshold));
  at += lsh_index_threshold_bytes;
  const std::uint64_t* band_key = index.band_keys.data();
  for (const lsh_index_key& k : index.keys) {
    *at++ = static_cast<std::byte>((k.is_string ? key_tag_string : 0) | (k.indexed ? key_tag_indexed : 0));
    if (k.is_string) {
      put_u32(at, static_cast<std::uint32_t>(k.str_key.size()));
      if (!k.str_key.empty()) std::memcpy(at + 4, k.str_key.data(), k.str_key.size());
      at += 4 + k.str_key.size();
    } else {
      put_u64(at, static_cast<std::uint64_t>(k.int_key));
      at += 8;
    }
    if (k.indexed) {
      for (std::size_t b = 0; b < bands; ++b) put_u64(at + 8 * b, *band_key++);
      at += 8 * bands;
    }
  }
  const std::size_t body = stage_header_bytes + static_cast<std::size_t>(payload);
  put_u64(h + body, hash64(h, body, checksum_seed));
  return out;
}

}  // namespace neardup::pipeline

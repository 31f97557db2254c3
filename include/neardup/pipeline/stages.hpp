// neardup/pipeline/stages.hpp — the dedup algorithm as I/O-free stages.
//
// Each stage works on flat arrays indexed by document number (0..n-1, in
// input order) and takes the executor it may run on; none opens a file,
// creates a thread or prints. The engine (pipeline/dedup.hpp) chains them;
// the file jobs (jobs/*.hpp), the Python package and a distributed run call
// the same functions:
//
//   sign        document_signer / sign_batch    text -> fingerprint, MinHash, shingle set
//   exact       exact_groups                    equal fingerprints -> first copy
//   band        band_column                     signatures -> one band's keys
//   group       for_each_band_buckets           each band's keys -> buckets of equal keys
//   candidates  candidate_documents             documents sharing a band key with another
//   verify      make_verifier                   is a candidate pair a duplicate?
//   cluster     cluster_bands                   bands -> verified union-find clusters
//   keep        choose_kept_documents           cluster -> the document it keeps
//
//   neardup::executor pool(4);
//   neardup::pipeline::similarity_options o;
//   std::vector<std::string_view> texts = {...};
//   auto batch = neardup::pipeline::sign_batch(texts, o, &pool);
//   // batch.signatures: texts.size() x o.num_perm uint32 values, row-major
//
// Guarantees: every stage's result is a pure function of its inputs and
// options; it does not depend on the executor's thread count or the CPU
// kernel. Signatures, fingerprints and band keys are stable for a given
// seed and library version (golden vectors in tests/).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/candidates.hpp"
#include "neardup/cluster.hpp"
#include "neardup/executor.hpp"
#include "neardup/hash.hpp"
#include "neardup/pipeline/options.hpp"
#include "neardup/pipeline/sink.hpp"
#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"
#include "neardup/types.hpp"

namespace neardup::pipeline {

// ---- sign --------------------------------------------------------------------

// What signing learned about one text.
struct signed_text {
  hash128 fingerprint{};     // of the normalized token sequence; {} without tokens
  bool has_tokens = false;   // false: the text takes part in nothing
  bool short_doc = false;    // fewer tokens than the n-gram size: one shingle
};

// Signs texts one at a time with reused buffers. Not thread-safe: one per
// thread (construction is cheap).
class document_signer {
 public:
  // `hasher` null: fingerprints only (exact duplicates), no MinHash.
  document_signer(const shingle_options& options, const minhasher* hasher);

  // Writes the MinHash of `text` into `sig` (REQUIRES: sig.size() ==
  // num_perm when there is a hasher; untouched for a text without tokens).
  // With `make_set`, also sorts the text's shingles into its set, which
  // set() then returns.
  signed_text sign(std::string_view text, std::span<sig_value> sig, bool make_set = false);

  // The sorted, unique shingle set of the last sign(..., true) call (empty
  // for a text without tokens); valid until the next call.
  std::span<const std::uint64_t> set() const noexcept { return set_; }

  // Frees the scratch buffers, which grow to the largest text seen; set() is
  // empty afterwards. sign() frees those it no longer needs by itself after
  // a text of tokenizer::large_text_bytes or more (its set is then sorted in
  // place), and a caller done with such a text's set calls this: peak memory
  // for one huge line stays a small multiple of the line (README, "Bad
  // input").
  void release_scratch() noexcept;

 private:
  shingler shingler_;
  const minhasher* hasher_;
  std::uint64_t seed_;
  std::size_t ngram_;
  std::vector<std::uint64_t> ngrams_;
  std::span<const std::uint64_t> set_;
  neardup::detail::sort_scratch sorter_;
};

// Shingle sets stored flat: set d = values[offsets[d], offsets[d + 1]).
struct flat_sets {
  std::vector<std::uint64_t> values;
  std::vector<std::uint64_t> offsets{0};
  std::size_t size() const noexcept { return offsets.size() - 1; }
  std::span<const std::uint64_t> operator[](doc_id d) const noexcept {
    return {values.data() + offsets[d], static_cast<std::size_t>(offsets[d + 1] - offsets[d])};
  }
};

struct signed_batch {
  std::size_t num_perm = 0;
  std::vector<sig_value> signatures;  // size() x num_perm, row-major; empty_sig_value without tokens
  std::vector<signed_text> docs;
  flat_sets sets;                     // when asked for; else empty

  std::size_t size() const noexcept { return docs.size(); }
  std::span<const sig_value> signature(doc_id d) const noexcept {
    return {signatures.data() + static_cast<std::size_t>(d) * num_perm, num_perm};
  }
};

// What sign_batch() computes besides fingerprints.
struct sign_outputs {
  bool signatures = true;  // MinHash signatures (num_perm values per text)
  bool sets = false;       // sorted shingle sets (for exact verification)
};

// Signs every text, on `pool` when given. The result is the same for every
// thread count and kernel.
signed_batch sign_batch(std::span<const std::string_view> texts, const similarity_options& options,
                        executor* pool = nullptr, sign_outputs outputs = {});

// ---- exact -------------------------------------------------------------------

// leader[d] = the first document (in input order) with d's fingerprint among
// those not `excluded`; leader[d] == d for the others. With
// `exclude_repeats`, every document that is not its own leader is marked in
// `excluded` (so LSH sees each text once). Sorted by radix on `pool`'s
// threads; the result does not depend on them.
// REQUIRES: excluded.size() == fingerprints.size().
//
// Bounded: the fingerprints are sorted at most `max_bytes` at a time (32
// bytes per document), one slice of the fingerprint space after another,
// each slice read in one pass over `fingerprints`; the result does not depend
// on max_bytes. `release`, when set, is called after every 2^20 fingerprints
// read, for fingerprints mapped from a file whose pages the caller drops.
std::vector<doc_id> exact_groups(std::span<const hash128> fingerprints, std::span<std::uint8_t> excluded,
                                 bool exclude_repeats, executor* pool = nullptr,
                                 std::uint64_t max_bytes = UINT64_MAX, const std::function<void()>& release = {});

// Splits the 64-bit key space into `count` ranges of equal width, in key
// order, so that hashed keys can be grouped one range at a time: the keys of
// a range are about items / count of them.
struct key_slices {
  std::uint64_t count = 1;
  // The fewest slices that hold `items` keys of `bytes_per_item` bytes within max_bytes.
  static key_slices within(std::uint64_t items, std::uint64_t bytes_per_item, std::uint64_t max_bytes) noexcept {
    const std::uint64_t total = items * bytes_per_item;
    const std::uint64_t per = std::max<std::uint64_t>(max_bytes, 1);
    return {std::clamp<std::uint64_t>(total / per + (total % per != 0), 1, UINT32_MAX)};
  }
  // The slice of `key` (monotone in key).
  std::uint64_t of(std::uint64_t key) const noexcept { return ((key >> 32) * count) >> 32; }
};

// ---- band --------------------------------------------------------------------

// keys[d] = band `band`'s key of document d's signature, for every d not
// excluded (the others are left as they are), in slices of documents shared
// out among `pool`'s threads (the result does not depend on them).
// REQUIRES: keys.size() == excluded.size(); signatures.size() == keys.size() *
// bands.num_perm().
void band_column(std::span<const sig_value> signatures, const bander& bands, std::uint32_t band,
                 std::span<const std::uint8_t> excluded, std::span<std::uint64_t> keys, executor* pool = nullptr);

// The keys of `count` bands from `first_band` in one pass over the
// signatures, band-major: keys[i * n + d] = band first_band + i's key of
// document d (n = excluded.size()), for every d not excluded. A document's
// rows of those bands are read once, instead of one cache line per band.
// REQUIRES: keys.size() == count * n; signatures.size() == n *
// bands.num_perm(); first_band + count <= bands (otherwise
// std::invalid_argument).
void band_columns(std::span<const sig_value> signatures, const bander& bands, std::uint32_t first_band,
                  std::uint32_t count, std::span<const std::uint8_t> excluded, std::span<std::uint64_t> keys,
                  executor* pool = nullptr);

// How many of `bands` bands for_each_band_buckets() keys in one pass
// (band_columns): at most num_perm / 16 (8 bytes per band and document, an
// eighth of the signatures' 4 * num_perm bytes), in passes of equal size;
// e.g. 18 bands of num_perm 128: 3 passes of 6.
std::uint32_t bands_keyed_together(std::uint32_t bands, std::size_t num_perm) noexcept;

// ---- candidates --------------------------------------------------------------

// For every band in order: its keys (band_columns, bands_keyed_together()
// bands at a time) grouped by radix sort (band_grouper, on `pool`), then
// fn(band, buckets). `grouping_bytes`, when not null, receives the most
// memory the band keys, the grouper and its buckets held.
void for_each_band_buckets(std::span<const sig_value> signatures, const bander& bands,
                           std::span<const std::uint8_t> excluded, executor* pool,
                           const std::function<void(std::uint32_t band, const bucket_list& buckets)>& fn,
                           std::size_t* grouping_bytes = nullptr);

// result[d] = 1 when d shares at least one band key with another document
// that is not excluded. `grouping_bytes`, when not null, receives the most
// memory the grouper and its buckets held.
std::vector<std::uint8_t> candidate_documents(std::span<const sig_value> signatures, const bander& bands,
                                              std::span<const std::uint8_t> excluded, executor* pool,
                                              std::size_t* grouping_bytes = nullptr);

// ---- verify ------------------------------------------------------------------

using set_lookup = std::function<std::span<const std::uint64_t>(doc_id)>;

// The verifier of `options.verify` (null for verify_mode::none):
//   estimate  MinHash estimate >= threshold;
//   exact     pairs whose MinHash upper bound (Wilson, z = 5) is below the
//             threshold are rejected without their sets; then
//             jaccard_at_least() of the two shingle sets decides, with
//             sampled rejection far below the threshold (miss < 1e-9 per
//             stage) and exact acceptance.
// `signatures` and `set_of` must outlive the verifier.
pair_verifier make_verifier(const similarity_options& options, std::span<const sig_value> signatures,
                            set_lookup set_of);

// The same verifier for signatures that are not in memory: read_signature(d,
// out) copies document d's num_perm values into `out` (called from many
// threads at once). Gives the same answers as the overload above.
using signature_reader = std::function<void(doc_id, std::span<sig_value>)>;
pair_verifier make_verifier(const similarity_options& options, signature_reader read_signature, set_lookup set_of);

// The same verifier over signatures that live in several arrays:
// signature_of(d) returns document d's num_perm values, valid while the
// verifier is (called from many threads at once). Gives the same answers.
// Under verify_mode::exact, signature_of(d) may return an empty span for a
// document whose signature was not kept (a short document's set is smaller
// than its signature): such a pair is tested on its sets first and the
// missing signatures are made again from the sets (options.minhash()) only
// if the sets pass; both tests are pure functions of the pair, so the order
// does not change the answer. The other modes REQUIRE every signature.
using signature_lookup = std::function<std::span<const sig_value>(doc_id)>;
pair_verifier make_verifier(const similarity_options& options, signature_lookup signature_of, set_lookup set_of);

// ---- cluster -----------------------------------------------------------------

// Groups every band's keys (band_column) and clusters the buckets with
// `verify` (cluster_band_keys in cluster.hpp): each bucket is decided against
// the labels of the previous band, so the result does not depend on the
// thread count. Reports each band to `events` as 1/bands of `progress_total`.
// `trace`, when not null, records the merging links and rejected pairs
// (cluster_trace in cluster.hpp). `candidates`, when not null, receives what
// candidate_documents() returns, and `grouping_bytes` what
// for_each_band_buckets() reports: one grouping of the bands serves both.
cluster_result cluster_bands(std::span<const sig_value> signatures, const bander& bands,
                             std::span<const std::uint8_t> excluded, pair_verifier verify, executor* pool,
                             sink* events = nullptr, std::uint64_t progress_total = 0,
                             cluster_trace* trace = nullptr, std::vector<std::uint8_t>* candidates = nullptr,
                             std::size_t* grouping_bytes = nullptr);

// ---- keep --------------------------------------------------------------------

// keeper[d] = the document kept for d's cluster: the cluster's first
// document (keep_policy::first) or its longest text by text_bytes, ties to
// the first (keep_policy::longest). d is kept iff keeper[d] == d.
// REQUIRES: text_bytes.size() == representative.size() for keep_policy::longest.
std::vector<doc_id> choose_kept_documents(std::span<const doc_id> representative, keep_policy keep,
                                          std::span<const std::uint64_t> text_bytes);

}  // namespace neardup::pipeline

// neardup/contamination.hpp — benchmark-contamination index over n-gram hashes.
//
// Index the n-gram hashes of REFERENCE documents (benchmark test sets), then
// ask, for each training document, how many of its n-grams occur in some
// reference and in which references. The caller computes the n-gram hashes
// (13-grams of tokens are the usual choice, as in the GPT-3 / Llama reports);
// the index only sees uint64 values, so any n and tokenizer work, provided
// references and corpus use the same ones.
//
//   neardup::contamination_index index;                   // exact mode
//   for (const auto& ref : benchmark_docs) index.add_reference(ngrams_of(ref));
//   index.finalize();
//   const auto hit = index.query(ngrams_of(training_doc));
//   if (hit.shared_ngrams > 0) report(hit.refs);           // sorted reference ids
//
//   // Reference set too large for memory? Bloom mode, 1% false positives:
//   neardup::contamination_index bloom(neardup::contamination_options::bloom(2'000'000'000, 0.01));
//
// Modes:
//  - exact: flat sorted arrays of (n-gram hash, reference id), 12 bytes per
//    distinct (n-gram, reference) pair, plus a top-bits directory (~4 bytes
//    per distinct pair) so lookups touch about two cache lines. Counts and
//    reference lists are exact (up to 64-bit hash collisions of n-grams).
//  - bloom: a standard Bloom filter of m bits with k probes per n-gram
//    (double hashing). It answers "is this n-gram in some reference" with
//    false positives only, at rate about (1 - e^{-k n / m})^k for n inserted
//    n-grams; with m/n bits per n-gram the best k is (m/n) ln 2 and the rate
//    is then about 0.6185^{m/n}. It counts shared n-grams (an overestimate by
//    the false positives, never an underestimate) but cannot say WHICH
//    reference matched: query().refs is always empty in bloom mode.
//
// Counting rule: a query counts DISTINCT n-gram hashes. An n-gram repeated in
// the document counts once; an n-gram repeated inside one reference is stored
// once. contamination_hit::shared_ngrams is the number of distinct document
// n-grams that occur in that reference.
//
// Thread safety: add_reference/finalize are not thread-safe; after
// finalize(), every const member function may run concurrently.
// Determinism: results are a pure function of the added n-grams and options.
// Not promised: the in-memory layout (no serialization yet).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "neardup/enum_names.hpp"
#include "neardup/hash.hpp"

namespace neardup {

enum class contamination_mode { exact, bloom };

// Spellings (enum_names.hpp): exact, bloom; as decontaminate's stats.json writes them.
constexpr std::array<enum_name<contamination_mode>, 2> enum_names(contamination_mode) noexcept {
  return {{{contamination_mode::exact, "exact"}, {contamination_mode::bloom, "bloom"}}};
}

struct contamination_options {
  contamination_mode mode = contamination_mode::exact;
  // Bloom mode only. REQUIRES (bloom): expected_ngrams >= 1,
  // 1 <= bits_per_ngram <= 256, hash_functions <= 32.
  std::uint64_t expected_ngrams = 0;  // n used to size the filter: m = ceil(n * bits_per_ngram)
  double bits_per_ngram = 10.0;       // m / n
  unsigned hash_functions = 0;        // k; 0 = round((m/n) ln 2), at least 1
  std::uint64_t seed = default_seed;  // seeds the Bloom probes

  // Bloom options for a target false-positive rate p at expected_ngrams:
  // m/n = -ln p / (ln 2)^2, k = round(-log2 p). REQUIRES: 0 < p < 1.
  [[nodiscard]] static contamination_options bloom(std::uint64_t expected_ngrams, double false_positive_rate);
};

// (1 - e^{-k n / m})^k: the textbook false-positive rate of a Bloom filter
// with m bits, k probes and n inserted keys; 1 when m = 0.
// REQUIRES: bits and inserted finite and >= 0 (throws std::invalid_argument).
[[nodiscard]] double bloom_false_positive_rate(double bits, double inserted, unsigned hash_functions);

using ref_id = std::uint32_t;

struct contamination_hit {
  ref_id ref = 0;
  std::uint64_t shared_ngrams = 0;  // distinct document n-grams found in this reference
  friend bool operator==(const contamination_hit&, const contamination_hit&) = default;
};

struct contamination_result {
  std::uint64_t shared_ngrams = 0;       // distinct document n-grams found in any reference
  std::vector<contamination_hit> refs;   // sorted by ref; exact mode only (empty in bloom)
};

class contamination_index {
 public:
  // Throws std::invalid_argument for settings outside the documented limits.
  explicit contamination_index(const contamination_options& options = {});

  // Adds one reference document (its n-gram hashes in any order, repeats
  // allowed) and returns its id: 0, 1, 2, ... in call order.
  // Throws std::logic_error after finalize().
  ref_id add_reference(std::span<const std::uint64_t> ngram_hashes);
  // Builds the lookup structures. Queries REQUIRE it (std::logic_error otherwise).
  void finalize();

  [[nodiscard]] contamination_result query(std::span<const std::uint64_t> doc_ngrams) const;
  // query(doc).shared_ngrams without building the reference list.
  [[nodiscard]] std::uint64_t shared_ngram_count(std::span<const std::uint64_t> doc_ngrams) const;
  // Whether one n-gram occurs in some reference (bloom: may be a false positive).
  [[nodiscard]] bool contains(std::uint64_t ngram) const;

  contamination_mode mode() const noexcept { return options_.mode; }
  [[nodiscard]] std::size_t references() const noexcept { return references_; }
  // exact: distinct (n-gram, reference) pairs; bloom: n-grams inserted
  // (distinct per reference, repeats across references counted again).
  [[nodiscard]] std::uint64_t stored_ngrams() const noexcept { return stored_; }
  // Bloom: m and k; exact: 0.
  [[nodiscard]] std::uint64_t bloom_bits() const noexcept { return bits_; }
  [[nodiscard]] unsigned bloom_hash_functions() const noexcept { return k_; }
  // Expected false-positive rate of contains() for a random absent n-gram:
  // 0 in exact mode, bloom_false_positive_rate(m, stored_ngrams(), k) in
  // bloom mode (an upper estimate when references share n-grams).
  [[nodiscard]] double false_positive_rate() const noexcept;
  [[nodiscard]] std::size_t memory_bytes() const noexcept;
  // What finalize() will hold at its peak: memory_bytes() plus, in exact
  // mode before finalize(), its sort's buffers (about 20 bytes per stored
  // pair); memory_bytes() afterwards. Lets a caller with a memory budget stop
  // adding references before the index outgrows it.
  [[nodiscard]] std::size_t peak_memory_bytes() const noexcept;

 private:
  void require_final(const char* what) const;
  bool bloom_test(std::uint64_t h) const noexcept;
  bool lookup(std::uint64_t h) const noexcept;
  std::uint64_t bloom_count(std::span<const std::uint64_t> sorted_unique) const noexcept;

  contamination_options options_;
  bool final_ = false;
  std::size_t references_ = 0;
  std::uint64_t stored_ = 0;
  // exact mode: parallel arrays sorted by (hash, ref); dir_ over top bits.
  std::vector<std::uint64_t> hashes_;
  std::vector<ref_id> refs_;
  std::vector<std::uint64_t> dir_;
  int dir_bits_ = 0;
  // bloom mode
  std::vector<std::uint64_t> words_;
  std::uint64_t bits_ = 0;
  unsigned k_ = 0;
  std::uint64_t probe_seed_ = 0;
};

}  // namespace neardup

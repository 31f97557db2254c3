// neardup/pipeline/decontaminate.hpp — benchmark decontamination, no I/O.
//
// A document is contaminated when it shares word n-grams with a reference
// (a benchmark's questions and answers). A reference shorter than n tokens
// has no n-gram of length n: it is matched by its own length instead, so a
// one-line answer is still found inside a document. decontaminate() applies
// exactly what `neardup decontaminate` applies; the file job uses the same
// reference_checker.
//
//   std::vector<std::string_view> corpus = {...}, references = {...};
//   neardup::pipeline::decontaminate_options o;     // 13-grams, any shared n-gram removes
//   auto r = neardup::pipeline::decontaminate(corpus, references, o);
//   // r.removed[d], r.shared_ngrams[d], r.refs[d] (positions in `references` it matched)
//
// Guarantees: results do not depend on the executor's thread count. In Bloom
// mode (bloom_false_positive_rate > 0) shared counts may be too high with
// that probability per n-gram, never too low, and no reference list is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "neardup/contamination.hpp"
#include "neardup/executor.hpp"
#include "neardup/hash.hpp"
#include "neardup/shingle.hpp"
#include "neardup/tokenize.hpp"

namespace neardup::pipeline {

struct decontaminate_options {
  tokenize_options tokens{};              // word tokens by default
  std::size_t ngram = 13;                 // in [1, max_ngram]
  std::uint64_t max_shared = 0;           // removed when sharing more n-grams than this
  // A reference with fewer word tokens is not used (a reference "the" would
  // flag every document); the file job lists them in stats.json
  // ("short_references"). 0 uses every reference. (--min-reference-tokens)
  std::size_t min_reference_tokens = 8;
  // Exact mode: a reference that alone contaminates more than this share of
  // the corpus documents is warned about and listed in stats.json
  // ("broad_references") by the file job.
  double broad_reference_share = 0.05;
  double bloom_false_positive_rate = 0;   // 0: exact mode; else in (0, 1)
  std::uint64_t seed = default_seed;

  shingle_options shingles() const noexcept { return {tokens, ngram, seed}; }
  // Throws std::invalid_argument naming the field and its range.
  void validate() const;
};

// The references, indexed, and the rule that checks a document against them.
class reference_checker {
 public:
  // `expected_ngrams` sizes the Bloom filter (ignored in exact mode).
  explicit reference_checker(const decontaminate_options& options, std::uint64_t expected_ngrams = 0);

  // Adds one reference: its n-gram hashes (shingler::ngram_hashes) and its
  // token count. Returns its id (0, 1, ... in call order).
  ref_id add(std::span<const std::uint64_t> ngrams, std::size_t tokens);
  void finalize();
  std::uint64_t references() const noexcept { return references_; }
  double false_positive_rate() const { return index_.false_positive_rate(); }
  // The index's memory at its peak so far (contamination_index::peak_memory_bytes):
  // what a memory budget checks while references are added.
  std::size_t memory_bytes() const noexcept { return index_.peak_memory_bytes(); }

  // Shared n-grams of `text` with the references: its n-grams, plus, for
  // every reference length L < n, its L-grams. `hits` (exact mode) receives
  // the references matched with their counts. `sh` is the caller's shingler
  // (one per thread) made with options.shingles().
  std::uint64_t check(shingler& sh, std::string_view text, std::vector<std::uint64_t>& scratch,
                      std::map<ref_id, std::uint64_t>* hits) const;

 private:
  decontaminate_options options_;
  contamination_index index_;
  std::set<std::size_t> short_lengths_;  // token counts of references shorter than n
  std::uint64_t references_ = 0;
};

struct decontaminate_result {
  std::vector<std::uint8_t> removed;         // per document: shares more than max_shared
  std::vector<std::uint64_t> shared_ngrams;  // per document
  std::vector<std::vector<ref_id>> refs;     // per document: positions in `references` of the
                                             // references matched, increasing (exact mode)
  std::uint64_t contaminated = 0;            // documents sharing >= 1 n-gram
  std::uint64_t removed_count = 0;
};

decontaminate_result decontaminate(std::span<const std::string_view> corpus,
                                   std::span<const std::string_view> references,
                                   const decontaminate_options& options, executor* pool = nullptr);

}  // namespace neardup::pipeline

// neardup/jobs/decontaminate.hpp — find and remove training documents that
// share word n-grams with benchmark (reference) documents.
//
//   neardup::jobs::decontaminate_options o;   // 13-grams, remove on any shared n-gram
//   auto r = neardup::jobs::run_decontaminate(corpus, references, "out", o);
//
// N-grams are n consecutive tokens of the default word tokenizer (the same
// normalization as dedup), hashed with seeded XXH3. A reference document with
// fewer than n tokens is indexed as one n-gram of all its tokens, and corpus
// documents are then also checked for that shorter length, so a short
// benchmark item found inside a long document is caught.
//
// Outputs:
//   contamination.tsv  one line per corpus document sharing at least one n-gram:
//                      id<TAB>shared_ngram_count<TAB>reference ids, comma-separated
//                      (bloom mode: '-', the filter cannot tell which reference)
//   clean.jsonl        the corpus without documents whose count exceeds max_shared
//                      (original lines byte for byte; bad records kept)
//   stats.json         per reference document, how many corpus documents it
//                      contaminates; totals; the bloom filter's false-positive rate
//
// Exact mode (default) counts exactly, up to 64-bit hash collisions, and needs
// ~16 bytes per distinct reference n-gram. Bloom mode (bloom_false_positive_rate
// > 0) takes ~1.44 log2(1/p) bits per n-gram; its counts can exceed the truth
// by false positives at rate about p per n-gram, never fall short.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "neardup/io/input.hpp"
#include "neardup/io/output.hpp"
#include "neardup/jobs/options.hpp"
#include "neardup/pipeline/decontaminate.hpp"
#include "neardup/tokenize.hpp"

namespace neardup::jobs {

// job_options::records apply to both the corpus and the references.
// The rules are pipeline::decontaminate_options (pipeline/decontaminate.hpp).
struct decontaminate_options : job_options, pipeline::decontaminate_options {};

struct decontaminate_report {
  std::uint64_t references = 0;
  std::uint64_t reference_ngrams = 0;  // n-grams added (before dedup)
  std::uint64_t documents = 0;
  std::uint64_t skipped = 0;
  std::uint64_t contaminated = 0;      // documents sharing >= 1 n-gram
  std::uint64_t removed = 0;           // documents sharing > max_shared
  double bloom_false_positive_rate = 0;
  double seconds = 0;
};

decontaminate_report run_decontaminate(std::span<const io::source_info> corpus,
                                       std::span<const io::source_info> references, const std::string& out_dir,
                                       const decontaminate_options& options);

}  // namespace neardup::jobs

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
//
// Memory (job_options::memory_bytes, default half of RAM or of the cgroup
// limit): the corpus is streamed; its chunks in flight (two per thread)
// take at most a quarter of the budget (chunks of 64 KiB up to
// reader.chunk_bytes) and the reference index the rest. An index that
// outgrows its share throws std::runtime_error, with the numbers, while the
// references are read, before any output is written. Outputs do not depend
// on the budget. stats.json: memory.budget_bytes, memory.reference_index_bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  std::uint64_t memory_budget_bytes = 0;    // job_options::memory_bytes, or its default
  std::uint64_t reference_index_bytes = 0;  // the finished index
  double seconds = 0;
  std::vector<std::string> short_references;  // ids of references under min_reference_tokens
  std::vector<std::pair<std::string, std::uint64_t>> broad_references;  // id, documents (see broad_reference_share)
};

decontaminate_report run_decontaminate(std::span<const io::source_info> corpus,
                                       std::span<const io::source_info> references, const std::string& out_dir,
                                       const decontaminate_options& options);

// The same job scanned in parts, possibly by other processes or machines
// (neardup.dask decontaminate), with run_decontaminate's outputs byte for
// byte (stats.json's timings aside). A part is one source or a byte range of
// it (jobs::part_ranges; source_info::range_begin, range_end and
// range_first_line, the line number at range_begin, which default ids use).
//
//   // anywhere, one call per part (reads the references again: they are
//   // small next to the corpus):
//   std::string part = scan_decontaminate_part(range_of_source, references, options);
//   // in one place that sees out_dir, parts in input order:
//   run_decontaminate_parts(corpus, references, parts, part_sources, "out", options);
//
// scan_decontaminate_part indexes the references itself and checks the
// part's documents; it returns its piece of contamination.tsv and of
// clean.jsonl (uncompressed), its per-reference counts, totals and bad
// records (status, line). run_decontaminate_parts indexes the references
// again (their warnings and bad records are reported there), writes the
// pieces in order (compressing once, with options.compression), reports the
// bad records as FILE:LINE under the same cap as run_decontaminate, and
// writes stats.json. parts[i] is a part of corpus[part_sources[i]]; each
// source's ranges in order, from 0. Part layout, version 1 (little-endian):
//   "NDDCPART" | u32 1 | u32 0 | u64 references, reference n-grams |
//   u64 range_begin, range_end | u64 documents, skipped, contaminated,
//   removed | u64 n + n × u64 per-reference counts | u64 n + n × (u8 status,
//   u64 line, u64 k + k bytes error) | u64 k + tsv bytes | u64 k + jsonl
//   bytes | u64 XXH3-64 (seed 0) of everything before it.
// Memory: a part holds its share of clean.jsonl, so the finishing step
// holds about the kept corpus when the caller keeps every part in memory
// (the overload below fetches them one at a time).
// Throws as run_decontaminate; std::invalid_argument when the parts do not
// cover the sources in order, std::runtime_error naming the source for a
// part that is damaged, of another version or made with other references.
std::string scan_decontaminate_part(const io::source_info& source, std::span<const io::source_info> references,
                                    const decontaminate_options& options);
decontaminate_report run_decontaminate_parts(std::span<const io::source_info> corpus,
                                             std::span<const io::source_info> references,
                                             std::span<const std::string_view> parts,
                                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                                             const decontaminate_options& options);

// The same with the parts fetched one at a time, in order: part(i) returns
// part i's bytes, valid until the next call. Only one part is held at once,
// so the finishing step's memory does not grow with the corpus.
decontaminate_report run_decontaminate_parts(std::span<const io::source_info> corpus,
                                             std::span<const io::source_info> references,
                                             const std::function<std::string_view(std::size_t)>& part,
                                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                                             const decontaminate_options& options);

}  // namespace neardup::jobs

// Internal: run_dedup with its pass 1 done elsewhere (jobs/parts.hpp merges
// the parts of a corpus scanned in pieces into the corpus_index that pass 1
// would have built).
#pragma once

#include <functional>
#include <span>
#include <string>

#include "corpus_passes.hpp"
#include "neardup/jobs/dedup.hpp"
#include "neardup/pipeline/dedup.hpp"
#include "neardup/pipeline/spill.hpp"

namespace neardup::jobs::detail {

// Pass 1's results, made elsewhere (run_dedup_scanned skips its own pass 1).
struct scanned_corpus {
  corpus_index corpus;
  scan_counts counts;
  double seconds = 0;  // of the scans (summed over parts)
  // When set: the bands' buckets and the candidates' signatures, grouped
  // elsewhere (jobs/parts.hpp's part stages); corpus.signatures is empty.
  pipeline::spilled_stage_data* stage_data = nullptr;
  // When set: where the candidates' shingle sets are (loaded elsewhere).
  pipeline::set_provider* sets = nullptr;
  // When set: writes the kept documents' file (kept_path) from the keepers
  // itself (jobs/parts.hpp's part writes); run_dedup_scanned then writes
  // clusters.tsv alone.
  std::function<void(const corpus_index& corpus, std::span<const doc_id> keeper, const std::string& kept_path)>
      write_documents;
};

// run_dedup, with pass 1 replaced by `scanned` when it is not null (defined
// in dedup.cpp).
dedup_report run_dedup_scanned(std::span<const io::source_info> sources, const std::string& out_dir,
                               const dedup_options& options, scanned_corpus* scanned);

}  // namespace neardup::jobs::detail

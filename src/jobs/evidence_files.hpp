// The audit-trail files of the dedup job (see neardup/jobs/dedup.hpp):
// evidence.tsv, near_misses.tsv and sources.tsv.
#pragma once

#include <span>
#include <string>

#include "corpus_passes.hpp"
#include "neardup/pipeline/evidence.hpp"

namespace neardup::jobs::detail {

void write_evidence_files(const std::string& out_dir, std::span<const source_info> sources,
                          const corpus_index& corpus, std::span<const doc_id> kept_of,
                          const pipeline::dedup_evidence& evidence);

}  // namespace neardup::jobs::detail

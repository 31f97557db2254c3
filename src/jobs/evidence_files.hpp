// The audit-trail files of the dedup job (see neardup/jobs/dedup.hpp):
// evidence.tsv, near_misses.tsv and sources.tsv.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "corpus_passes.hpp"
#include "neardup/io/output.hpp"
#include "neardup/pipeline/evidence.hpp"

namespace neardup::jobs::detail {

// Writes the three files to their temporary names and returns them, as
// write_kept does, for the job to commit (destroyed uncommitted, when the
// run fails after they were written, they are removed). Reads only the
// index and the verdicts: may run beside the job's other writers.
[[nodiscard]] std::vector<io::atomic_file> write_evidence_files(const std::string& out_dir,
                                                                std::span<const source_info> sources,
                                                                const corpus_index& corpus,
                                                                std::span<const doc_id> kept_of,
                                                                const pipeline::dedup_evidence& evidence);

}  // namespace neardup::jobs::detail

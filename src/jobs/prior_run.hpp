// Internal: a dedup run against prior documents (dedup_options::prior). The
// engine runs once over the prior documents followed by the input, exactly as
// one run over both would, and the result is turned back into input numbering.
#pragma once

#include <cstddef>

#include "neardup/jobs/dedup.hpp"
#include "neardup/pipeline/dedup.hpp"

namespace neardup::jobs::detail {

// Runs the engine over prior + input (keep first). Returns the input's part:
// kept_of[d] for input document d in [0, n), a value >= n naming prior
// document kept_of[d] - n; the evidence of input documents only, in input
// numbering (a prior partner p becomes n + p); documents/kept/removed counts
// of the input only (clusters and the cluster histogram span both).
// `input_sets` gives the input's shingle sets (verify_mode::exact).
pipeline::dedup_result run_against(const prior_documents& prior, const pipeline::signed_documents& input,
                                   const pipeline::dedup_options& options, pipeline::set_provider* input_sets,
                                   const pipeline::run_context& context);

}  // namespace neardup::jobs::detail

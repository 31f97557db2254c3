// Internal: a dedup run against prior documents (dedup_options::prior).
//
// The run decides the input's documents as one run over the prior documents
// followed by the input would (keep first), without regrouping the prior
// documents: their clusters among themselves were decided when they were
// stored (prior_documents::cluster). What is left is
//   exact     the input's fingerprints, matched against one scan of the prior
//             fingerprints (the first prior copy leads);
//   bands     per band, the input's keys sorted and merged with the stored
//             sorted runs (prior_documents::band_matches): the buckets that
//             hold an input document, with every prior document of their key;
//   cluster   the clusterer over those buckets, on the input's documents plus
//             the prior documents that collide (and the smallest documents of
//             their clusters), which a first pseudo-band unites by stored
//             cluster; a pair of prior documents verifies iff it is in one
//             stored cluster.
// The components are those of one run over everything (connected components
// of the verified candidate pairs), so the kept documents are the same as
// long as no bucket member reached cluster_options::max_comparisons_per_member
// (cluster.hpp: then which pairs were compared depends on the order, in one
// run as here). The evidence of a removed input document names a partner in
// its cluster and the band that made them candidates; in one run it may name
// another partner of the same cluster. Counts (clusters, histogram,
// verifications) are of the input's documents and of this run's work.
#pragma once

#include <cstddef>
#include <vector>

#include "neardup/jobs/dedup.hpp"
#include "neardup/pipeline/dedup.hpp"

namespace neardup::jobs::detail {

// Runs the engine over prior + input (keep first). Returns the input's part:
// kept_of[d] for input document d in [0, n), a value >= n naming prior
// document kept_of[d] - n; the evidence of input documents only, in input
// numbering (a prior partner p becomes n + p); counts of the input only.
// `input_sets` gives the input's shingle sets (verify_mode::exact). `joins`,
// when not null, receives the prior clusters that the input joined.
pipeline::dedup_result run_against(const prior_documents& prior, const pipeline::signed_documents& input,
                                   const pipeline::dedup_options& options, pipeline::set_provider* input_sets,
                                   const pipeline::run_context& context, std::vector<prior_join>* joins = nullptr);

}  // namespace neardup::jobs::detail

#include "neardup/pipeline/spill.hpp"

#include <utility>

namespace neardup::pipeline {

std::vector<std::uint8_t> spilled_candidate_documents(spilled_stage_data& data, std::uint32_t bands,
                                                      std::span<const std::uint8_t> excluded) {
  std::vector<std::uint8_t> candidate(excluded.size(), 0);
  for (std::uint32_t b = 0; b < bands; ++b) {
    data.buckets(b, excluded, [&](const bucket_list& buckets) {
      for (doc_id d : buckets.docs) candidate[d] = 1;
    });
  }
  return candidate;
}

cluster_result cluster_spilled_bands(spilled_stage_data& data, std::uint32_t bands,
                                     std::span<const std::uint8_t> excluded, pair_verifier verify, executor* pool,
                                     sink* events, std::uint64_t progress_total, cluster_trace* trace,
                                     std::vector<std::uint8_t>* candidate) {
  if (candidate != nullptr) candidate->assign(excluded.size(), 0);
  cluster_options copts;
  copts.mode = verify ? verification::verify : verification::none;
  copts.pool = pool;
  copts.trace = trace;
  clusterer c(excluded.size(), std::move(verify), copts);
  for (std::uint32_t b = 0; b < bands; ++b) {
    // Progress by band, as cluster_bands reports it.
    if (b > 0 && events != nullptr) events->add(progress_total / bands, 0);
    c.begin_band();
    data.buckets(b, excluded, [&](const bucket_list& buckets) {
      if (candidate != nullptr) {
        for (doc_id d : buckets.docs) (*candidate)[d] = 1;
      }
      c.add_buckets(buckets);
    });
    c.end_band();
  }
  return c.result();
}

}  // namespace neardup::pipeline

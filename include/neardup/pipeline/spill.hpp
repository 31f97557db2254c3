// neardup/pipeline/spill.hpp — the engine's stages over stage data that does
// not fit in memory.
//
// A run with a memory budget (jobs/dedup.hpp: job_options::memory_bytes)
// keeps neither the signatures nor the band keys in memory: it writes them as
// stage data (pipeline/format.hpp) to disk and gives the engine a
// spilled_stage_data, which hands out
//   - each band's buckets, merged from sorted band-key runs, in pieces;
//   - the signature of a document, read back when a pair is verified.
// The engine (run_stages with signed_documents::spilled) then calls the
// functions below instead of grouping in memory. Where the data lives is the
// caller's business: these functions do no I/O of their own.
//
//   struct my_data final : neardup::pipeline::spilled_stage_data { ... };
//   my_data data(...);
//   signed_documents docs{.size = n, .fingerprints = fp, .usable = usable, .spilled = &data};
//   dedup_result r = run_stages(docs, options, &sets, context);
//
// Guarantee: the result is the same as with the signatures in memory (the
// buckets are the same sets of documents, and the clusterer's result does not
// depend on how a band's buckets are split or ordered; cluster.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/candidates.hpp"
#include "neardup/cluster.hpp"
#include "neardup/executor.hpp"
#include "neardup/pipeline/sink.hpp"
#include "neardup/signature.hpp"
#include "neardup/types.hpp"

namespace neardup::pipeline {

class spilled_stage_data {
 public:
  virtual ~spilled_stage_data() = default;

  // Calls fn with the buckets of band `band`, in pieces: the documents that
  // are not excluded, grouped by their key of that band, as band_grouper
  // groups them (buckets of 2 or more, each sorted by document; every
  // bucket whole in one piece). A piece is valid during the call only.
  virtual void buckets(std::uint32_t band, std::span<const std::uint8_t> excluded,
                       const std::function<void(const bucket_list&)>& fn) = 0;

  // Copies document d's signature (num_perm values) into `out`.
  // Safe to call from many threads at once.
  virtual void signature(doc_id d, std::span<sig_value> out) const = 0;

  // A candidate pair decided beforehand (jobs/parts.hpp: verification as
  // tasks, where the documents live): the verifier's answer and the
  // similarity the evidence reports for it (exact Jaccard under
  // verify_mode::exact, else the MinHash estimate).
  struct decided_pair {
    bool duplicate = false;
    double similarity = 0;
  };
  // The decision for pair (a, b), a < b, when this data holds one: the
  // engine then asks neither the verifier nor the sets. The default holds
  // none. REQUIRES: every decision is what the run's verifier and similarity
  // would give for the pair (so the result does not change).
  virtual std::optional<decided_pair> decided(doc_id a, doc_id b) const {
    (void)a;
    (void)b;
    return std::nullopt;
  }
};

// candidate_documents() over spilled buckets: result[d] = 1 when d shares a
// band key with another document that is not excluded.
std::vector<std::uint8_t> spilled_candidate_documents(spilled_stage_data& data, std::uint32_t bands,
                                                      std::span<const std::uint8_t> excluded);

// cluster_bands() over spilled buckets: the same result, band by band.
// `candidate`, when given, receives spilled_candidate_documents()'s flags,
// found on the way (one merge of the bands instead of two).
cluster_result cluster_spilled_bands(spilled_stage_data& data, std::uint32_t bands,
                                     std::span<const std::uint8_t> excluded, pair_verifier verify, executor* pool,
                                     sink* events = nullptr, std::uint64_t progress_total = 0,
                                     cluster_trace* trace = nullptr, std::vector<std::uint8_t>* candidate = nullptr);

}  // namespace neardup::pipeline

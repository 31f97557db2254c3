// The audit-trail files of the dedup job (see neardup/jobs/dedup.hpp):
// evidence.tsv, near_misses.tsv and sources.tsv.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "corpus_passes.hpp"
#include "neardup/io/output.hpp"
#include "neardup/pipeline/evidence.hpp"

namespace neardup::jobs::detail {

// The three files written to their temporary names: commit() puts them in
// place; destroyed uncommitted (the run failed after they were written),
// they are removed.
class evidence_files {
 public:
  explicit evidence_files(std::vector<io::atomic_file> files) : files_(std::move(files)) {}
  void commit() {
    for (io::atomic_file& f : files_) f.commit();
  }

 private:
  std::vector<io::atomic_file> files_;
};

// Writes the files (reads only the index and the verdicts: may run beside
// the other writers of the job).
[[nodiscard]] evidence_files write_evidence_files(const std::string& out_dir, std::span<const source_info> sources,
                                                  const corpus_index& corpus, std::span<const doc_id> kept_of,
                                                  const pipeline::dedup_evidence& evidence);

}  // namespace neardup::jobs::detail

#include "neardup/pipeline/options.hpp"

#include <stdexcept>
#include <string>

namespace neardup::pipeline {

lsh_params similarity_options::banding() const {
  return lsh ? *lsh : default_lsh_params(threshold, num_perm, verify);
}

void similarity_options::validate() const {
  if (!(threshold > 0.0 && threshold <= 1.0)) {
    throw std::invalid_argument("threshold = " + std::to_string(threshold) + " is outside (0, 1]");
  }
  if (ngram < 1 || ngram > max_ngram) {
    throw std::invalid_argument("ngram = " + std::to_string(ngram) + " is outside [1, " +
                                std::to_string(max_ngram) + "]");
  }
  if (num_perm < min_num_perm || num_perm > max_num_perm) {
    throw std::invalid_argument("num_perm = " + std::to_string(num_perm) + " is outside [" +
                                std::to_string(min_num_perm) + ", " + std::to_string(max_num_perm) + "]");
  }
  if (lsh) validate_lsh_params(*lsh, num_perm);
}

lsh_params default_lsh_params(double threshold, std::size_t num_perm, verify_mode verify) {
  // threshold 1 (only equal shingle sets) is outside the choosers' domain;
  // every banding catches J = 1, and one band of all rows has the fewest
  // false candidates.
  if (threshold >= 1.0) return lsh_params{1, static_cast<std::uint32_t>(num_perm)};
  // Verified candidates cannot become false merges, so a false candidate
  // costs only a comparison: favour recall. Unverified, balance both errors
  // as datasketch does.
  if (verify == verify_mode::none) return choose_params(threshold, num_perm);
  // Few permutations or a low threshold may not reach the target at all
  // (e.g. --num-perm 2, or --threshold 0.03 with 128): then take the banding
  // of highest recall, one row per band, instead of refusing valid settings.
  const lsh_params most_recall{static_cast<std::uint32_t>(num_perm), 1};
  if (candidate_probability(threshold, most_recall) < default_recall_at_threshold) return most_recall;
  return choose_params_for_recall(threshold, num_perm, default_recall_at_threshold);
}

}  // namespace neardup::pipeline

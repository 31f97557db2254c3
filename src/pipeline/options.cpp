#include "neardup/pipeline/options.hpp"

#include <algorithm>
#include <array>
#include <mutex>
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
  // The choosers integrate numerically (milliseconds), and a run asks for
  // its banding at several stages: the last few answers are remembered.
  struct entry {
    double threshold;
    std::size_t num_perm;
    bool verified;
    lsh_params params;
  };
  static std::mutex mu;
  static std::array<entry, 8> recent{};
  static std::size_t filled = 0;
  const bool verified = verify != verify_mode::none;
  {
    const std::lock_guard<std::mutex> lock(mu);
    for (std::size_t i = 0; i < std::min(filled, recent.size()); ++i) {
      const entry& e = recent[i];
      if (e.threshold == threshold && e.num_perm == num_perm && e.verified == verified) return e.params;
    }
  }
  const lsh_params p =
      verified ? choose_params_for_verified(threshold, num_perm) : choose_params(threshold, num_perm);
  const std::lock_guard<std::mutex> lock(mu);
  recent[filled++ % recent.size()] = entry{threshold, num_perm, verified, p};
  return p;
}

}  // namespace neardup::pipeline

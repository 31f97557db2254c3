#include "neardup/pipeline/decontaminate.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace neardup::pipeline {

void decontaminate_options::validate() const {
  if (ngram < 1 || ngram > max_ngram) {
    throw std::invalid_argument("ngram = " + std::to_string(ngram) + " is outside [1, " +
                                std::to_string(max_ngram) + "]");
  }
  if (bloom_false_positive_rate < 0 || bloom_false_positive_rate >= 1) {
    throw std::invalid_argument("bloom false-positive rate = " + std::to_string(bloom_false_positive_rate) +
                                " is outside [0, 1)");
  }
}

namespace {

contamination_options index_options(const decontaminate_options& o, std::uint64_t expected_ngrams) {
  o.validate();
  contamination_options c;
  if (o.bloom_false_positive_rate > 0) {
    c = contamination_options::bloom(std::max<std::uint64_t>(expected_ngrams, 1), o.bloom_false_positive_rate);
  }
  c.seed = o.seed;
  return c;
}

}  // namespace

reference_checker::reference_checker(const decontaminate_options& options, std::uint64_t expected_ngrams)
    : options_(options), index_(index_options(options, expected_ngrams)) {}

ref_id reference_checker::add(std::span<const std::uint64_t> ngrams, std::size_t tokens) {
  ++references_;
  if (tokens > 0 && tokens < options_.ngram) short_lengths_.insert(tokens);
  return index_.add_reference(ngrams);
}

void reference_checker::finalize() { index_.finalize(); }

std::uint64_t reference_checker::check(shingler& sh, std::string_view text, std::vector<std::uint64_t>& grams,
                                       std::map<ref_id, std::uint64_t>* hits) const {
  const bool bloom = options_.bloom_false_positive_rate > 0;
  std::uint64_t shared = 0;
  auto query = [&](std::span<const std::uint64_t> g) {
    if (g.empty()) return;
    if (bloom || hits == nullptr) {
      shared += index_.shared_ngram_count(g);
    } else {
      const contamination_result hit = index_.query(g);
      shared += hit.shared_ngrams;
      for (const auto& h : hit.refs) (*hits)[h.ref] += h.shared_ngrams;
    }
  };
  sh.ngram_hashes(text, grams);
  query(grams);
  const auto& tokens = sh.token_hashes();
  for (std::size_t len : short_lengths_) {
    if (len >= tokens.size()) break;  // the whole document is one n-gram, already queried
    neardup::ngram_hashes(tokens, len, options_.seed, grams);
    query(grams);
  }
  return shared;
}

decontaminate_result decontaminate(std::span<const std::string_view> corpus,
                                   std::span<const std::string_view> references,
                                   const decontaminate_options& options, executor* pool) {
  options.validate();
  shingler sh(options.shingles());
  std::vector<std::uint64_t> grams;
  std::uint64_t expected = 0;
  if (options.bloom_false_positive_rate > 0) {
    for (std::string_view r : references) {
      sh.ngram_hashes(r, grams);
      if (sh.token_hashes().size() >= options.min_reference_tokens) expected += grams.size();
    }
  }
  reference_checker checker(options, expected);
  std::vector<ref_id> position;  // of each added reference in `references` (short ones are skipped)
  for (std::size_t i = 0; i < references.size(); ++i) {
    sh.ngram_hashes(references[i], grams);
    const std::size_t tokens = sh.token_hashes().size();
    if (tokens < options.min_reference_tokens) continue;  // too short to be evidence
    checker.add(grams, tokens);
    position.push_back(static_cast<ref_id>(i));
  }
  checker.finalize();

  const std::size_t n = corpus.size();
  decontaminate_result result;
  result.removed.assign(n, 0);
  result.shared_ngrams.assign(n, 0);
  result.refs.resize(n);
  const bool exact = options.bloom_false_positive_rate == 0;
  const std::size_t slices = std::min<std::size_t>(n, (pool != nullptr ? pool->threads() : 1) * 8);
  run_on(pool, slices, [&](std::size_t s) {
    shingler local(options.shingles());
    std::vector<std::uint64_t> scratch;
    std::map<ref_id, std::uint64_t> hits;
    for (std::size_t d = n * s / slices; d < n * (s + 1) / slices; ++d) {
      hits.clear();
      const std::uint64_t shared = checker.check(local, corpus[d], scratch, exact ? &hits : nullptr);
      result.shared_ngrams[d] = shared;
      result.removed[d] = shared > options.max_shared ? 1 : 0;
      for (const auto& [ref, count] : hits) result.refs[d].push_back(position[ref]);
    }
  });
  for (std::size_t d = 0; d < n; ++d) {
    result.contaminated += result.shared_ngrams[d] > 0 ? 1 : 0;
    result.removed_count += result.removed[d];
  }
  return result;
}

}  // namespace neardup::pipeline

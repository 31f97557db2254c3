#include "prior_run.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace neardup::jobs::detail {

namespace {

// Prior sets first, then the input's; candidate marks are split between them.
class combined_sets final : public pipeline::set_provider {
 public:
  combined_sets(const prior_documents& prior, pipeline::set_provider* input) : prior_(prior), input_(input) {}

  bool missing(std::vector<std::uint8_t>& wanted) override {
    std::fill(wanted.begin(), wanted.begin() + static_cast<std::ptrdiff_t>(prior_.size), 0);  // at hand
    input_wanted_.assign(wanted.begin() + static_cast<std::ptrdiff_t>(prior_.size), wanted.end());
    const bool more = input_->missing(input_wanted_);
    std::copy(input_wanted_.begin(), input_wanted_.end(), wanted.begin() + static_cast<std::ptrdiff_t>(prior_.size));
    return more;
  }
  void load(const std::vector<std::uint8_t>& wanted) override {
    input_wanted_.assign(wanted.begin() + static_cast<std::ptrdiff_t>(prior_.size), wanted.end());
    input_->load(input_wanted_);
  }
  std::span<const std::uint64_t> set(doc_id d) const override {
    return d < prior_.size ? prior_.set(d) : input_->set(static_cast<doc_id>(d - prior_.size));
  }

 private:
  const prior_documents& prior_;
  pipeline::set_provider* input_;
  std::vector<std::uint8_t> input_wanted_;
};

template <class T>
std::vector<T> concat(std::span<const T> a, std::span<const T> b) {
  std::vector<T> v;
  v.reserve(a.size() + b.size());
  v.insert(v.end(), a.begin(), a.end());
  v.insert(v.end(), b.begin(), b.end());
  return v;
}

}  // namespace

pipeline::dedup_result run_against(const prior_documents& prior, const pipeline::signed_documents& input,
                                   const pipeline::dedup_options& options, pipeline::set_provider* input_sets,
                                   const pipeline::run_context& context) {
  if (options.keep != pipeline::keep_policy::first) {
    throw std::invalid_argument("deduplicating against stored documents needs keep first (they are kept already)");
  }
  const std::size_t p = prior.size, n = input.size;
  if (p + n > std::size_t{UINT32_MAX}) throw std::invalid_argument("more than 2^32 - 1 documents with the stored ones");
  const std::vector<sig_value> signatures = concat(prior.signatures, input.signatures);
  const std::vector<hash128> fingerprints = concat(prior.fingerprints, input.fingerprints);
  const std::vector<std::uint8_t> usable = concat(prior.usable, input.usable);
  pipeline::signed_documents all;
  all.size = p + n;
  all.signatures = signatures;
  all.fingerprints = fingerprints;
  all.usable = usable;
  combined_sets sets(prior, input_sets);
  pipeline::dedup_result r =
      pipeline::run_stages(all, options, input_sets != nullptr ? &sets : nullptr, context);

  // Combined number c -> input numbering: input c - p, prior n + c.
  auto local = [p, n](doc_id c) { return static_cast<doc_id>(c >= p ? c - p : n + c); };
  std::vector<doc_id> kept_of(n);
  pipeline::dedup_stats& s = r.stats;
  s.documents = n;
  s.kept = s.removed_exact = s.removed_near = 0;
  for (std::size_t d = 0; d < n; ++d) {
    const doc_id keeper = r.kept_of[p + d];
    kept_of[d] = local(keeper);
    if (keeper == p + d) {
      ++s.kept;
    } else if (fingerprints[p + d] == fingerprints[keeper]) {
      ++s.removed_exact;
    } else {
      ++s.removed_near;
    }
  }
  s.largest_cluster_kept = local(s.largest_cluster_kept);
  r.kept_of = std::move(kept_of);

  std::vector<pipeline::removal_evidence> removed;
  for (pipeline::removal_evidence e : r.evidence.removed) {
    if (e.doc < p) continue;
    e.doc = local(e.doc);
    e.partner = local(e.partner);
    removed.push_back(e);
  }
  r.evidence.removed = std::move(removed);
  std::vector<pipeline::pair_evidence> misses;
  for (pipeline::pair_evidence m : r.evidence.near_misses) {
    if (m.b < p) continue;  // both prior (a < b)
    m.a = local(m.a);
    m.b = local(m.b);
    if (m.a > m.b) std::swap(m.a, m.b);
    misses.push_back(m);
  }
  std::sort(misses.begin(), misses.end(), [](const auto& x, const auto& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
  r.evidence.near_misses = std::move(misses);
  return r;
}

}  // namespace neardup::jobs::detail

#include "neardup/pipeline/dedup.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace neardup::pipeline {

namespace {

using clock_type = std::chrono::steady_clock;

// Times stages into dedup_stats::stages.
class stage_clock {
 public:
  explicit stage_clock(std::vector<stage_time>& out) : out_(out) {}
  void start(std::string name) {
    name_ = std::move(name);
    t0_ = clock_type::now();
  }
  void stop() { out_.push_back({name_, std::chrono::duration<double>(clock_type::now() - t0_).count()}); }

 private:
  std::vector<stage_time>& out_;
  std::string name_;
  clock_type::time_point t0_;
};

void check_sizes(const signed_documents& docs, const dedup_options& options, std::size_t k) {
  auto bad = [&](const char* what, std::size_t got, std::size_t want) {
    return std::invalid_argument(std::string("run_stages: ") + what + " has " + std::to_string(got) +
                                 " entries, expected " + std::to_string(want));
  };
  const std::size_t n = docs.size;
  if (docs.fingerprints.size() != n) throw bad("fingerprints", docs.fingerprints.size(), n);
  if (docs.usable.size() != n) throw bad("usable", docs.usable.size(), n);
  if (options.near && docs.spilled == nullptr && !docs.band_keys && docs.signatures.size() != n * k) {
    throw bad("signatures", docs.signatures.size(), n * k);
  }
  if (options.near && docs.band_keys && !docs.signature_of) {
    throw std::invalid_argument("run_stages: band_keys without signature_of");
  }
  if (options.keep == keep_policy::longest && docs.text_bytes.size() != n) {
    throw bad("text_bytes", docs.text_bytes.size(), n);
  }
}

// Counts of the decisions: kept, removed as exact / near duplicates, clusters.
void summarize(std::span<const doc_id> rep, std::span<const doc_id> keeper, std::span<const doc_id> exact_leader,
               dedup_stats& s) {
  const std::size_t n = rep.size();
  cluster_sizes sizes = count_cluster_sizes(rep);
  s.clusters = sizes.clusters;
  s.cluster_size_histogram = std::move(sizes.histogram);
  if (n > 0) {
    s.largest_cluster = sizes.largest;
    s.largest_cluster_kept = keeper[sizes.largest_representative];
  }
  for (std::size_t d = 0; d < n; ++d) {
    if (keeper[d] == d) {
      ++s.kept;
    } else if (exact_leader[d] == exact_leader[keeper[d]]) {  // equal fingerprints
      ++s.removed_exact;
    } else {
      ++s.removed_near;
    }
  }
}

// Band keys made while signing (signed_documents::band_keys), handed out as
// spilled stage data hands out its buckets, so the engine clusters them the
// same way. Grouping a band (band_grouper: filter, sort) is serial for the
// bands of short documents (the survivors are too few for the parallel
// sort), so bands are grouped one per task on the pool, in `ways` (one
// more than the threads) of a band's grouping buffers and buckets each:
// when the clusterer has taken a band's buckets, that way groups the band
// `ways` further on in the background while the clusterer verifies and
// links the bands before it, so the calling thread's serial work per band
// overlaps grouping instead of leaving the workers idle (1 M tiny
// documents, 2 threads: cluster stage 0.24 -> 0.19 s; a way holds only a
// band's grouping buffers and buckets, the keys are read where pass 1 left
// them). The clusterer still takes the bands one by one, in order.
class keyed_stage_data final : public spilled_stage_data {
 public:
  keyed_stage_data(const signed_documents& docs, const similarity_options& options, const set_provider* sets,
                   executor* pool)
      : docs_(docs), sets_(sets), hasher_(options.minhash()), bands_(options.banding().bands), pool_(pool),
        ways_(std::clamp<std::size_t>(pool != nullptr ? pool->threads() + 1 : 1, 1, max_ways)) {
    for (std::size_t w = 0; w < ways_; ++w) ways_of_.push_back(std::make_unique<way>(pool));
  }
  ~keyed_stage_data() override {
    for (auto& w : ways_of_) {  // waits for what is still grouping
      try {
        w->task.wait();
      } catch (...) {  // a grouping nobody took: its error goes with it
      }
    }
  }
  keyed_stage_data(const keyed_stage_data&) = delete;
  keyed_stage_data& operator=(const keyed_stage_data&) = delete;

  void buckets(std::uint32_t band, std::span<const std::uint8_t> excluded,
               const std::function<void(const bucket_list&)>& fn) override {
    way& w = *ways_of_[band % ways_];
    if (w.requested != band || w.excluded != excluded.data()) {
      // Not asked for yet (the first bands, or another exclusion): this
      // band and the next ones, one per way.
      for (std::size_t i = 0; i < ways_ && band + i < bands_; ++i) {
        const auto b = static_cast<std::uint32_t>(band + i);
        const way& v = *ways_of_[b % ways_];
        if (v.requested != b || v.excluded != excluded.data()) start(b, excluded);
      }
    }
    w.task.wait();  // rethrows what the grouping threw
    w.requested = no_band;
    fn(w.buckets);
    // This way's buckets are taken: it groups the band `ways` further on.
    if (band + ways_ < bands_) start(static_cast<std::uint32_t>(band + ways_), excluded);
    std::size_t held = 0;
    for (const auto& v : ways_of_) held += v->bytes_held.load(std::memory_order_relaxed);
    most_ = std::max(most_, held);
  }
  void signature(doc_id d, std::span<sig_value> out) const override {
    const std::span<const sig_value> kept = docs_.signature_of(d);
    if (!kept.empty()) {
      std::copy(kept.begin(), kept.end(), out.begin());
    } else {
      hasher_.sign(sets_->set(d), out);  // not kept: made again from the set (verify_mode::exact)
    }
  }
  // The keys (all bands') and the most the groupers and their buckets held
  // at once.
  std::size_t grouping_bytes() const noexcept { return most_ + bands_ * docs_.size * sizeof(std::uint64_t); }

 private:
  static constexpr std::size_t max_ways = 4;  // each holds a band's grouping buffers and buckets
  static constexpr std::uint32_t no_band = UINT32_MAX;
  struct way {
    explicit way(executor* pool) : grouper(pool) {}
    band_grouper grouper;
    bucket_list buckets;
    std::uint32_t requested = no_band;  // the band being grouped or grouped (task)
    const std::uint8_t* excluded = nullptr;
    std::atomic<std::size_t> bytes_held{0};  // the grouper's and the buckets' reservations
    executor::group task;                // the grouping of `requested`, when on the pool
  };

  // Groups `band` into its way: a task on the pool, or here without one.
  // REQUIRES: the way's previous buckets were handed out (or never made).
  void start(std::uint32_t band, std::span<const std::uint8_t> excluded) {
    way& w = *ways_of_[band % ways_];
    w.task.wait();  // (a grouping for another exclusion, not taken)
    w.requested = band;
    w.excluded = excluded.data();
    auto group = [this, &w, band, excluded](std::size_t) {
      // Grouped where pass 1 left them (a piece per chunk), not copied into
      // a column first.
      w.grouper.group(docs_.band_keys(band), excluded, w.buckets);
      w.bytes_held.store(w.grouper.bytes_reserved() + w.buckets.docs.capacity() * sizeof(doc_id) +
                             w.buckets.offsets.capacity() * sizeof(std::uint32_t),
                         std::memory_order_relaxed);
    };
    if (pool_ != nullptr && pool_->threads() > 1) {
      w.task = pool_->start(1, group);
    } else {
      group(0);
    }
  }

  const signed_documents& docs_;
  const set_provider* sets_;
  minhasher hasher_;
  std::size_t bands_;
  executor* pool_;
  std::size_t ways_;
  std::vector<std::unique_ptr<way>> ways_of_;  // (tasks hold references to them)
  std::size_t most_ = 0;
};

}  // namespace

dedup_result run_stages(const signed_documents& docs, const dedup_options& options, set_provider* sets,
                        const run_context& context) {
  options.validate();
  const std::size_t n = docs.size, k = options.num_perm;
  check_sizes(docs, options, k);
  if (options.near && options.verify == verify_mode::exact && sets == nullptr) {
    throw std::invalid_argument("run_stages: verify_mode::exact needs a set_provider");
  }
  dedup_result result;
  dedup_stats& stats = result.stats;
  stats.documents = n;
  stats.kernel = std::string(name(options.kernel == sig_kernel::automatic ? default_kernel() : options.kernel));
  stage_clock stage(stats.stages);
  sink* events = context.events;

  // Bad records and documents without tokens take part in nothing.
  std::vector<std::uint8_t> excluded(n);
  for (std::size_t d = 0; d < n; ++d) excluded[d] = static_cast<std::uint8_t>(docs.usable[d] == 0);

  stage.start("exact");
  std::vector<doc_id> exact_leader =
      exact_groups(docs.fingerprints, excluded, options.exact_first || !options.near, context.pool,
                   docs.exact_sort_bytes, docs.release_fingerprints);
  stage.stop();

  std::vector<doc_id> rep;
  // Band keys made while signing are grouped as spilled stage data is.
  std::optional<keyed_stage_data> keyed;
  if (options.near && docs.band_keys) keyed.emplace(docs, options, sets, context.pool);
  spilled_stage_data* const staged = keyed ? &*keyed : docs.spilled;
  const signature_reader read_signature = [staged](doc_id d, std::span<sig_value> out) {
    staged->signature(d, out);
  };
  const std::size_t candidates = options.evidence.near_misses > SIZE_MAX / near_miss_candidates
                                     ? SIZE_MAX
                                     : options.evidence.near_misses * near_miss_candidates;
  cluster_trace trace{.max_rejected = candidates, .seed = options.seed, .merges = {}, .rejected = {}};
  cluster_trace* tracing = options.evidence.record && options.near ? &trace : nullptr;
  if (!options.near) {
    rep = std::move(exact_leader);  // one array for both (leader() below)
  } else {
    const lsh_params lsh = options.banding();
    validate_lsh_params(lsh, k);
    stats.lsh = lsh;
    stats.candidate_probability_at_threshold = candidate_probability(options.threshold, lsh);
    const bander bands(lsh, k, options.seed);

    // When every set is at hand (or none is needed), one grouping of the
    // bands finds the candidates and the clusters together; otherwise a
    // first grouping finds the candidates whose sets must be loaded (the
    // file job reads them again) before the clustering groups again.
    std::size_t grouper_bytes = 0;
    // A spilled run does the same: each grouping is a merge of its bands' runs.
    std::vector<std::uint8_t> candidate;
    bool sets_at_hand = options.verify != verify_mode::exact;
    if (!sets_at_hand) {
      std::vector<std::uint8_t> wanted(n);
      for (std::size_t d = 0; d < n; ++d) wanted[d] = excluded[d] ? 0 : 1;
      sets_at_hand = !sets->missing(wanted);
    }
    if (!sets_at_hand) {
      stage.start("candidates");
      candidate = staged != nullptr
                      ? spilled_candidate_documents(*staged, lsh.bands, excluded)
                      : candidate_documents(docs.signatures, bands, excluded, context.pool, &grouper_bytes);
      for (auto c : candidate) stats.candidate_documents += c;
      stage.stop();
      if (options.verify == verify_mode::exact && sets->missing(candidate)) {
        stage.start("load_candidates");
        if (events != nullptr) events->begin_stage("load candidates", context.progress_total);
        sets->load(candidate);
        if (events != nullptr) events->end_stage();
        stage.stop();
      }
      std::vector<std::uint8_t>().swap(candidate);
    }

    stage.start("cluster");
    const set_lookup set_of = [sets](doc_id d) { return sets->set(d); };
    pair_verifier verifier = keyed                     ? make_verifier(options, docs.signature_of, set_of)
                             : docs.spilled != nullptr ? make_verifier(options, read_signature, set_of)
                                                       : make_verifier(options, docs.signatures, set_of);
    if (docs.spilled != nullptr && verifier) {  // pairs decided beforehand are not verified again
      verifier = [computed = std::move(verifier), spilled = docs.spilled](doc_id a, doc_id b) {
        if (const auto known = spilled->decided(a, b)) return known->duplicate;
        return computed(a, b);
      };
    }
    if (events != nullptr) events->begin_stage("cluster", context.progress_total);
    cluster_result clusters =
        staged != nullptr
            ? cluster_spilled_bands(*staged, lsh.bands, excluded, std::move(verifier), context.pool, events,
                                    context.progress_total, tracing, sets_at_hand ? &candidate : nullptr)
            : cluster_bands(docs.signatures, bands, excluded, std::move(verifier), context.pool, events,
                            context.progress_total, tracing, sets_at_hand ? &candidate : nullptr,
                            sets_at_hand ? &grouper_bytes : nullptr);
    if (events != nullptr) events->end_stage();
    if (keyed) grouper_bytes = keyed->grouping_bytes();
    if (sets_at_hand) {
      for (auto c : candidate) stats.candidate_documents += c;
      std::vector<std::uint8_t>().swap(candidate);
    }
    stats.verifications = clusters.stats.verifications;
    stats.verified = clusters.stats.verified;
    stats.rejected = clusters.stats.rejected;
    // Exact-duplicate groups join their leader's cluster, in place: a
    // leader precedes its copies and is its own leader, so its entry is
    // final (unchanged) when a copy reads it.
    rep = std::move(clusters.representative);
    for (std::size_t d = 0; d < n; ++d) rep[d] = rep[exact_leader[d]];
    stage.stop();
    if (n > 0) {
      // Accounted, not sampled: the per-document arrays held while grouping
      // (exclusion flags, exact-duplicate leaders, representatives,
      // candidate flags when found while clustering), the band keys, the
      // grouper's buffers and buckets (grouper_bytes), and the clusterer's
      // union-find, links and output (cluster.hpp: <= 16 bytes per document).
      const std::size_t held = n + n * sizeof(doc_id) * 2 + (sets_at_hand ? n : 0) + grouper_bytes + 16 * n +
                               (docs.spilled != nullptr ? n * sizeof(std::uint64_t) : 0);
      stats.grouping_bytes_per_document = static_cast<double>(held) / static_cast<double>(n);
    }
  }

  std::vector<std::uint8_t>().swap(excluded);
  // Keeping the first document, the kept one is the cluster's label: a
  // caller that wants no labels gets `rep` itself, not a copy.
  const bool reuse_labels = !docs.cluster_labels && options.keep == keep_policy::first;
  result.kept_of = reuse_labels ? std::move(rep) : choose_kept_documents(rep, options.keep, docs.text_bytes);
  const std::span<const doc_id> labels = reuse_labels ? std::span<const doc_id>(result.kept_of) : rep;
  // Exact-only runs group by exact leaders alone: the labels are theirs.
  const std::span<const doc_id> leader = options.near ? std::span<const doc_id>(exact_leader) : labels;
  summarize(labels, result.kept_of, leader, stats);
  if (options.evidence.record) {
    stage.start("evidence");
    const bool exact = options.verify == verify_mode::exact;
    const pair_similarity similarity = [&](doc_id a, doc_id b) {
      if (docs.spilled != nullptr) {
        if (const auto known = docs.spilled->decided(std::min(a, b), std::max(a, b))) return known->similarity;
      }
      if (exact) return exact_jaccard(sets->set(a), sets->set(b));
      if (staged != nullptr) {
        std::vector<sig_value> sa(k), sb(k);
        read_signature(a, sa);
        read_signature(b, sb);
        return jaccard(std::span<const sig_value>(sa), std::span<const sig_value>(sb)).estimate;
      }
      return jaccard(docs.signatures.subspan(std::size_t{a} * k, k), docs.signatures.subspan(std::size_t{b} * k, k))
          .estimate;
    };
    result.evidence = collect_evidence(leader, result.kept_of, tracing, similarity,
                                       exact ? evidence_kind::jaccard : evidence_kind::estimate, context.pool,
                                       options.evidence.near_misses);
    result.evidence.rejected = stats.rejected;
    stage.stop();
  }
  if (docs.cluster_labels) result.cluster = std::move(rep);
  return result;
}

namespace {

// Sets of an in-memory batch: all at hand.
class batch_sets final : public set_provider {
 public:
  explicit batch_sets(const flat_sets& sets) : sets_(sets) {}
  bool missing(std::vector<std::uint8_t>&) override { return false; }
  void load(const std::vector<std::uint8_t>&) override {}
  std::span<const std::uint64_t> set(doc_id d) const override { return sets_[d]; }

 private:
  const flat_sets& sets_;
};

}  // namespace

dedup_result dedup(std::span<const std::string_view> texts, const dedup_options& options, executor* pool,
                   sink* events) {
  options.validate();
  const auto t0 = clock_type::now();
  const bool keep_sets = options.near && options.verify == verify_mode::exact;
  std::uint64_t total = 0;
  for (std::string_view t : texts) total += t.size();
  if (events != nullptr) events->begin_stage(options.near ? "sign" : "fingerprint", total);
  const signed_batch batch =
      sign_batch(texts, options, pool, sign_outputs{.signatures = options.near, .sets = keep_sets});
  if (events != nullptr) {
    events->add(total, texts.size());
    events->end_stage();
  }
  const double sign_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();

  const std::size_t n = texts.size();
  std::vector<hash128> fingerprints(n);
  std::vector<std::uint8_t> usable(n);
  std::vector<std::uint64_t> text_bytes;
  if (options.keep == keep_policy::longest) text_bytes.resize(n);
  std::uint64_t empty = 0, short_docs = 0;
  for (std::size_t d = 0; d < n; ++d) {
    fingerprints[d] = batch.docs[d].fingerprint;
    usable[d] = batch.docs[d].has_tokens ? 1 : 0;
    empty += batch.docs[d].has_tokens ? 0 : 1;
    short_docs += batch.docs[d].short_doc ? 1 : 0;
    if (!text_bytes.empty()) text_bytes[d] = texts[d].size();
  }
  signed_documents docs;
  docs.size = n;
  if (options.near) docs.signatures = batch.signatures;
  docs.fingerprints = fingerprints;
  docs.usable = usable;
  docs.text_bytes = text_bytes;
  batch_sets sets(batch.sets);
  dedup_result r = run_stages(docs, options, &sets, run_context{pool, events, total});
  r.stats.empty_documents = empty;
  r.stats.short_documents = short_docs;
  r.stats.stages.insert(r.stats.stages.begin(), stage_time{"sign", sign_seconds});
  return r;
}

}  // namespace neardup::pipeline

#include "prior_run.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/cluster.hpp"
#include "neardup/pipeline/stored_query.hpp"

namespace neardup::jobs::detail {

namespace {

using clock_type = std::chrono::steady_clock;
constexpr doc_id no_doc = std::numeric_limits<doc_id>::max();

// Times stages into dedup_stats::stages.
struct stage_timer {
  std::vector<pipeline::stage_time>& out;
  clock_type::time_point t0 = clock_type::now();
  void stop(const char* name) {
    const auto t1 = clock_type::now();
    out.push_back({name, std::chrono::duration<double>(t1 - t0).count()});
    t0 = t1;
  }
};

// leader[d] (combined numbering) = the first copy of input document d's
// text: the first prior document with its fingerprint, else the first input
// document (p + d' with d' <= d). Every input document that is not its own
// leader is marked excluded when `exclude_repeats`, as exact_groups does.
std::vector<doc_id> exact_leaders(const prior_documents& prior, const pipeline::signed_documents& input,
                                  std::span<std::uint8_t> excluded, bool exclude_repeats, executor* pool) {
  const std::size_t p = prior.size, n = input.size;
  std::vector<doc_id> leader(n);
  for (std::size_t d = 0; d < n; ++d) leader[d] = static_cast<doc_id>(p + d);
  std::vector<std::pair<hash128, doc_id>> fp;
  fp.reserve(n);
  for (std::size_t d = 0; d < n; ++d) {
    if (!excluded[d]) fp.emplace_back(input.fingerprints[d], static_cast<doc_id>(d));
  }
  std::sort(fp.begin(), fp.end());
  std::vector<hash128> unique;  // the input's distinct fingerprints, ascending
  for (std::size_t i = 0; i < fp.size(); ++i) {
    if (i > 0 && fp[i].first == fp[i - 1].first) {
      leader[fp[i].second] = leader[fp[i - 1].second];
    } else {
      unique.push_back(fp[i].first);
    }
  }
  // One scan of the prior fingerprints; a bit filter on the low word keeps
  // the binary searches for the few that may match.
  std::vector<doc_id> first_prior(unique.size(), no_doc);
  if (p > 0 && !unique.empty()) {
    std::size_t bits = 64;
    while (bits < unique.size() * 16) bits *= 2;
    const std::uint64_t mask = bits - 1;
    std::vector<std::uint64_t> filter(bits / 64, 0);
    for (const hash128& h : unique) filter[(h.low & mask) / 64] |= std::uint64_t{1} << (h.low & 63);
    constexpr std::size_t chunk = 1 << 16;
    const std::size_t chunks = (p + chunk - 1) / chunk;
    std::vector<std::vector<std::pair<std::uint32_t, doc_id>>> found(chunks);
    run_on(pool, chunks, [&](std::size_t c) {
      const std::size_t end = std::min(p, (c + 1) * chunk);
      for (std::size_t q = c * chunk; q < end; ++q) {
        const hash128 h = prior.fingerprint(static_cast<doc_id>(q));
        if ((filter[(h.low & mask) / 64] >> (h.low & 63) & 1) == 0) continue;
        const auto it = std::lower_bound(unique.begin(), unique.end(), h);
        if (it != unique.end() && *it == h) {
          found[c].emplace_back(static_cast<std::uint32_t>(it - unique.begin()), static_cast<doc_id>(q));
        }
      }
    });
    for (const auto& f : found) {
      for (const auto& [u, q] : f) first_prior[u] = std::min(first_prior[u], q);
    }
    for (std::size_t i = 0, u = 0; i < fp.size(); ++i) {
      if (i > 0 && fp[i].first != fp[i - 1].first) ++u;
      if (first_prior[u] != no_doc) leader[fp[i].second] = first_prior[u];
    }
  }
  if (exclude_repeats) {
    for (std::size_t d = 0; d < n; ++d) {
      if (leader[d] != p + d) excluded[d] = 1;
    }
  }
  return leader;
}

// The buckets of band `band` that hold an input document, in combined
// numbering: the prior documents of the key (ascending), then the input's.

// `keys`: n x bands, every input document's band keys.
bucket_list input_buckets(const prior_documents& prior, std::size_t n, std::span<const std::uint64_t> band_keys,
                          std::size_t num_bands, std::uint32_t band, std::span<const std::uint8_t> excluded) {
  const std::size_t p = prior.size;
  std::vector<band_entry> entries;
  entries.reserve(n);
  for (std::size_t d = 0; d < n; ++d) {
    if (!excluded[d]) entries.push_back({band_keys[d * num_bands + band], static_cast<doc_id>(d)});
  }
  pipeline::sort_band_run(entries);
  std::vector<std::uint64_t> keys;
  std::vector<std::uint32_t> first;  // entries of keys[i]: [first[i], first[i + 1])
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i == 0 || entries[i].key != entries[i - 1].key) {
      keys.push_back(entries[i].key);
      first.push_back(static_cast<std::uint32_t>(i));
    }
  }
  first.push_back(static_cast<std::uint32_t>(entries.size()));
  std::vector<std::pair<std::uint32_t, doc_id>> hits;
  if (p > 0 && !keys.empty()) prior.band_matches(band, keys, hits);
  std::sort(hits.begin(), hits.end());
  bucket_list out;
  std::size_t h = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::size_t h0 = h;
    while (h < hits.size() && hits[h].first == i) ++h;
    if ((h - h0) + (first[i + 1] - first[i]) < 2) continue;
    for (std::size_t j = h0; j < h; ++j) out.docs.push_back(hits[j].second);
    for (std::size_t j = first[i]; j < first[i + 1]; ++j) out.docs.push_back(static_cast<doc_id>(p + entries[j].doc));
    out.offsets.push_back(static_cast<std::uint32_t>(out.docs.size()));
  }
  return out;
}

}  // namespace

pipeline::dedup_result run_against(const prior_documents& prior, const pipeline::signed_documents& input,
                                   const pipeline::dedup_options& options, pipeline::set_provider* input_sets,
                                   const pipeline::run_context& context, std::vector<prior_join>* joins) {
  options.validate();
  if (options.keep != pipeline::keep_policy::first) {
    throw std::invalid_argument("deduplicating against stored documents needs keep first (they are kept already)");
  }
  const std::size_t p = prior.size, n = input.size, k = options.num_perm;
  if (p + n >= std::size_t{UINT32_MAX}) throw std::invalid_argument("more than 2^32 - 2 documents with the stored ones");
  if (input.fingerprints.size() != n || input.usable.size() != n || (options.near && input.signatures.size() != n * k)) {
    throw std::invalid_argument("run_against: the input's arrays do not have " + std::to_string(n) + " entries");
  }
  if (options.near && options.verify == pipeline::verify_mode::exact && input_sets == nullptr) {
    throw std::invalid_argument("run_against: verify_mode::exact needs a set_provider");
  }
  pipeline::dedup_result result;
  pipeline::dedup_stats& stats = result.stats;
  stats.documents = n;
  stats.kernel = std::string(name(options.kernel == sig_kernel::automatic ? default_kernel() : options.kernel));
  stage_timer timer{stats.stages};
  executor* pool = context.pool;

  std::vector<std::uint8_t> excluded(n);
  for (std::size_t d = 0; d < n; ++d) excluded[d] = input.usable[d] ? 0 : 1;
  const std::vector<doc_id> leader =
      exact_leaders(prior, input, excluded, options.exact_first || !options.near, pool);
  timer.stop("exact");

  // Combined number of each input document's keeper.
  std::vector<doc_id> keeper(leader);
  // Nodes of the clusterer: the prior documents taking part (ascending), then the input's.
  std::vector<doc_id> nodes;
  std::vector<doc_id> root;  // root[x] = prior.cluster(nodes[x])
  std::size_t P = 0;
  auto node_of = [&](doc_id c) {
    return c >= p ? static_cast<doc_id>(P + (c - p))
                  : static_cast<doc_id>(std::lower_bound(nodes.begin(), nodes.end(), c) - nodes.begin());
  };
  auto combined_of = [&](doc_id x) { return x < P ? nodes[x] : static_cast<doc_id>(p + (x - P)); };
  cluster_result clusters;
  std::vector<doc_id> leader_node;
  const std::size_t candidates_cap = options.evidence.near_misses > SIZE_MAX / pipeline::near_miss_candidates
                                         ? SIZE_MAX
                                         : options.evidence.near_misses * pipeline::near_miss_candidates;
  cluster_trace trace{.max_rejected = candidates_cap, .seed = options.seed, .merges = {}, .rejected = {}};
  const bool tracing = options.evidence.record && options.near;

  if (options.near) {
    const lsh_params lsh = options.banding();
    validate_lsh_params(lsh, k);
    stats.lsh = lsh;
    stats.candidate_probability_at_threshold = candidate_probability(options.threshold, lsh);
    const bander bands(lsh, k, options.seed);

    // Per band, the input's keys merged with the stored runs.
    const auto band_keys = std::make_unique_for_overwrite<std::uint64_t[]>(n * lsh.bands);
    run_on(pool, (n + 4095) / 4096, [&](std::size_t c) {
      for (std::size_t d = c * 4096; d < std::min(n, (c + 1) * 4096); ++d) {
        const std::span<std::uint64_t> out(band_keys.get() + d * lsh.bands, lsh.bands);
        if (excluded[d] || !bands.keys(input.signatures.subspan(d * k, k), out)) std::fill(out.begin(), out.end(), 0);
      }
    });
    std::vector<bucket_list> buckets(lsh.bands);
    run_on(pool, lsh.bands, [&](std::size_t b) {
      buckets[b] = input_buckets(prior, n, std::span<const std::uint64_t>(band_keys.get(), n * lsh.bands), lsh.bands,
                                 static_cast<std::uint32_t>(b), excluded);
    });
    std::vector<std::uint8_t> candidate(n, 0);
    std::size_t bucket_bytes = 0;
    for (const bucket_list& bl : buckets) {
      bucket_bytes += bl.docs.capacity() * sizeof(doc_id) + bl.offsets.capacity() * sizeof(std::uint32_t);
      for (const doc_id c : bl.docs) {
        if (c >= p) {
          candidate[c - p] = 1;
        } else {
          nodes.push_back(c);
        }
      }
    }
    for (std::size_t d = 0; d < n; ++d) {
      stats.candidate_documents += candidate[d];
      if (leader[d] < p) nodes.push_back(leader[d]);
    }
    // With the smallest document of each one's stored cluster (until closed).
    for (;;) {
      std::sort(nodes.begin(), nodes.end());
      nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
      root.resize(nodes.size());
      const std::size_t before = nodes.size();
      for (std::size_t x = 0; x < before; ++x) {
        root[x] = prior.cluster(nodes[x]);
        if (root[x] != nodes[x] && !std::binary_search(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(before), root[x])) {
          nodes.push_back(root[x]);
        }
      }
      if (nodes.size() == before) break;
    }
    P = nodes.size();
    timer.stop("candidates");

    if (options.verify == pipeline::verify_mode::exact && input_sets->missing(candidate)) {
      if (context.events != nullptr) context.events->begin_stage("load candidates", context.progress_total);
      input_sets->load(candidate);
      if (context.events != nullptr) context.events->end_stage();
      timer.stop("load_candidates");
    }
    std::vector<std::uint8_t>().swap(candidate);

    // The colliding prior documents' signatures, read once.
    const auto prior_signatures = std::make_unique_for_overwrite<sig_value[]>(P * k);
    run_on(pool, (P + 4095) / 4096, [&](std::size_t c) {
      for (std::size_t x = c * 4096; x < std::min(P, (c + 1) * 4096); ++x) {
        prior.signature(nodes[x], std::span<sig_value>(prior_signatures.get() + x * k, k));
      }
    });
    const pipeline::signature_lookup signature_of = [&](doc_id x) {
      return x < P ? std::span<const sig_value>(prior_signatures.get() + std::size_t{x} * k, k)
                   : input.signatures.subspan((x - P) * k, k);
    };
    const pipeline::set_lookup set_of = [&](doc_id x) {
      return x < P ? prior.set(nodes[x]) : input_sets->set(static_cast<doc_id>(x - P));
    };
    pair_verifier verify = pipeline::make_verifier(options, signature_of, set_of);
    cluster_options copts;
    copts.mode = verify ? verification::verify : verification::none;
    copts.pool = pool;
    copts.trace = tracing ? &trace : nullptr;
    copts.settled = static_cast<doc_id>(P);  // two prior documents are one stored cluster, or none
    clusterer c(P + n, std::move(verify), copts);
    // Band 0: the stored clusters.
    {
      std::vector<std::pair<doc_id, doc_id>> by_root(P);
      for (std::size_t x = 0; x < P; ++x) by_root[x] = {root[x], static_cast<doc_id>(x)};
      std::sort(by_root.begin(), by_root.end());
      bucket_list stored;
      for (std::size_t i = 0; i < P;) {
        std::size_t j = i;
        while (j < P && by_root[j].first == by_root[i].first) ++j;
        if (j - i >= 2) {
          for (std::size_t t = i; t < j; ++t) stored.docs.push_back(by_root[t].second);
          stored.offsets.push_back(static_cast<std::uint32_t>(stored.docs.size()));
        }
        i = j;
      }
      c.add_known_clusters(stored);
    }
    if (context.events != nullptr) context.events->begin_stage("cluster", context.progress_total);
    for (std::uint32_t b = 0; b < lsh.bands; ++b) {
      for (doc_id& d : buckets[b].docs) d = node_of(d);  // monotone: buckets stay sorted
      c.add_band(buckets[b]);
      bucket_list().docs.swap(buckets[b].docs);
      if (context.events != nullptr && b > 0) context.events->add(context.progress_total / lsh.bands, 0);
    }
    if (context.events != nullptr) context.events->end_stage();
    clusters = c.result();
    stats.verifications = clusters.stats.verifications;
    stats.verified = clusters.stats.verified;
    stats.rejected = clusters.stats.rejected;
    leader_node.resize(n);
    for (std::size_t d = 0; d < n; ++d) {
      leader_node[d] = node_of(leader[d]);
      keeper[d] = combined_of(clusters.representative[leader_node[d]]);
    }
    if (joins != nullptr) {
      joins->clear();
      for (std::size_t x = 0; x < P; ++x) {
        const doc_id r = clusters.representative[x];
        if (root[x] == nodes[x] && r != x) joins->push_back({nodes[x], nodes[r]});
      }
    }
    if (n > 0) {
      stats.grouping_bytes_per_document =
          static_cast<double>(bucket_bytes + 16 * (P + n) + 8 * n) / static_cast<double>(n);
    }
    timer.stop("cluster");
  }

  // The input's part, in input numbering: input c - p, prior n + c.
  auto local = [p, n](doc_id c) { return static_cast<doc_id>(c >= p ? c - p : n + c); };
  auto fingerprint_of = [&](doc_id c) { return c >= p ? input.fingerprints[c - p] : prior.fingerprint(c); };
  result.kept_of.resize(n);
  result.cluster.resize(n);
  for (std::size_t d = 0; d < n; ++d) {
    result.kept_of[d] = local(keeper[d]);
    result.cluster[d] = result.kept_of[d];
    if (keeper[d] == p + d) {
      ++stats.kept;
    } else if (input.fingerprints[d] == fingerprint_of(keeper[d])) {
      ++stats.removed_exact;
    } else {
      ++stats.removed_near;
    }
  }
  // Clusters as the input's documents fill them.
  {
    std::vector<doc_id> sorted(keeper);
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i < n;) {
      std::size_t j = i;
      while (j < n && sorted[j] == sorted[i]) ++j;
      sizes.push_back(j - i);
      if (j - i > stats.largest_cluster) {
        stats.largest_cluster = j - i;
        stats.largest_cluster_kept = local(sorted[i]);
      }
      i = j;
    }
    stats.clusters = sizes.size();
    std::sort(sizes.begin(), sizes.end());
    for (std::size_t i = 0; i < sizes.size();) {
      std::size_t j = i;
      while (j < sizes.size() && sizes[j] == sizes[i]) ++j;
      stats.cluster_size_histogram.emplace_back(sizes[i], j - i);
      i = j;
    }
  }

  if (options.evidence.record && !options.near) {  // exact duplicates only
    for (std::size_t d = 0; d < n; ++d) {
      if (keeper[d] != p + d) result.evidence.removed.push_back({static_cast<doc_id>(d), result.kept_of[d]});
    }
  } else if (options.evidence.record) {
    const bool exact = options.verify == pipeline::verify_mode::exact;
    const std::size_t N = P + n;
    // The engine's arrays over the clusterer's nodes.
    std::vector<doc_id> node_leader(N), node_kept(N);
    for (std::size_t x = 0; x < P; ++x) {
      node_leader[x] = static_cast<doc_id>(x);
      node_kept[x] = clusters.representative[x];
    }
    for (std::size_t d = 0; d < n; ++d) {
      node_leader[P + d] = leader_node[d];
      node_kept[P + d] = clusters.representative[leader_node[d]];
    }
    // Similarity of two documents by combined number.
    auto similar = [&](doc_id ca, doc_id cb) -> double {
      if (exact) {
        auto set = [&](doc_id c) { return c < p ? prior.set(c) : input_sets->set(static_cast<doc_id>(c - p)); };
        return exact_jaccard(set(ca), set(cb));
      }
      thread_local std::vector<sig_value> x, y;
      auto sig = [&](doc_id c, std::vector<sig_value>& out) {
        out.resize(k);
        if (c < p) {
          prior.signature(c, out);
        } else {
          const auto s = input.signatures.subspan(static_cast<std::size_t>(c - p) * k, k);
          std::copy(s.begin(), s.end(), out.begin());
        }
      };
      sig(ca, x);
      sig(cb, y);
      return jaccard(std::span<const sig_value>(x), std::span<const sig_value>(y)).estimate;
    };
    const pipeline::pair_similarity similarity = [&](doc_id a, doc_id b) -> double {
      if (b < P) return 0;  // two prior documents: never reported
      return similar(combined_of(a), combined_of(b));
    };
    const pipeline::dedup_evidence ev = pipeline::collect_evidence(
        node_leader, node_kept, &trace, similarity,
        exact ? pipeline::evidence_kind::jaccard : pipeline::evidence_kind::estimate, pool,
        options.evidence.near_misses);
    for (pipeline::removal_evidence e : ev.removed) {
      if (e.doc < P) continue;
      const auto d = static_cast<std::size_t>(e.doc - P);
      e.doc = static_cast<doc_id>(d);
      if (e.kind == pipeline::evidence_kind::exact) {
        e.partner = result.kept_of[d];
      } else if (e.band == 0) {
        // A copy of a removed stored document, whose link to its cluster is
        // the stored cluster (band 0): the cluster's first document is named.
        e.partner = result.kept_of[d];
        e.similarity = similar(leader[d], keeper[d]);
      } else {
        e.partner = local(combined_of(e.partner));
        e.band -= 1;  // band 0 was the stored clusters
      }
      result.evidence.removed.push_back(e);
    }
    for (pipeline::pair_evidence m : ev.near_misses) {
      if (m.b < P) continue;  // both prior
      m.a = local(combined_of(m.a));
      m.b = local(combined_of(m.b));
      m.band -= 1;
      if (m.a > m.b) std::swap(m.a, m.b);
      result.evidence.near_misses.push_back(m);
    }
    std::sort(result.evidence.near_misses.begin(), result.evidence.near_misses.end(),
              [](const auto& x, const auto& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
    result.evidence.rejected = stats.rejected;
    timer.stop("evidence");
  }
  return result;
}

}  // namespace neardup::jobs::detail

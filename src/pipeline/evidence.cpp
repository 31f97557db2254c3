// The audit trail of a dedup run; see neardup/pipeline/evidence.hpp.
#include "neardup/pipeline/evidence.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>

namespace neardup::pipeline {

namespace {

constexpr doc_id no_doc = std::numeric_limits<doc_id>::max();

// Computes f(i) for i in [0, count), on the pool when there is one.
void for_each_index(executor* pool, std::size_t count, const std::function<void(std::size_t)>& f) {
  if (pool == nullptr || count < 256) {
    for (std::size_t i = 0; i < count; ++i) f(i);
    return;
  }
  constexpr std::size_t chunk = 64;
  pool->run((count + chunk - 1) / chunk, [&](std::size_t c) {
    const std::size_t end = std::min(count, (c + 1) * chunk);
    for (std::size_t i = c * chunk; i < end; ++i) f(i);
  });
}

}  // namespace

dedup_evidence collect_evidence(std::span<const doc_id> exact_leader, std::span<const doc_id> kept_of,
                                const cluster_trace* trace,
                                const pair_similarity& similarity, evidence_kind kind, executor* pool,
                                std::size_t near_misses) {
  const std::size_t n = kept_of.size();
  if (exact_leader.size() != n) {
    throw std::invalid_argument("collect_evidence: " + std::to_string(exact_leader.size()) + " leaders for " +
                                std::to_string(n) + " documents");
  }
  dedup_evidence out;
  const std::span<const band_link> links =
      trace != nullptr ? std::span<const band_link>(trace->merges) : std::span<const band_link>();

  // The forest of merging links as adjacency lists (link indices); none
  // (and no per-document arrays) without links, as in exact-only runs.
  const std::size_t linked = links.empty() ? 0 : n;
  std::vector<std::uint32_t> first(linked + 1, 0), adj(2 * links.size());
  for (const band_link& l : links) {
    ++first[l.a + 1];
    ++first[l.b + 1];
  }
  for (std::size_t d = 0; d < linked; ++d) first[d + 1] += first[d];
  {
    std::vector<std::uint32_t> fill(first.begin(), first.end() - 1);
    for (std::size_t i = 0; i < links.size(); ++i) {
      adj[fill[links[i].a]++] = static_cast<std::uint32_t>(i);
      adj[fill[links[i].b]++] = static_cast<std::uint32_t>(i);
    }
  }
  // via[x] = the link from x towards its tree's root (the kept document's
  // first copy); no_doc for roots and documents without links.
  std::vector<std::uint32_t> via(linked, no_doc);
  std::vector<doc_id> queue;
  for (std::size_t k = 0; k < linked; ++k) {
    if (kept_of[k] != k) continue;
    const doc_id root = exact_leader[k];
    if (first[root] == first[root + 1]) continue;
    queue.assign(1, root);
    for (std::size_t q = 0; q < queue.size(); ++q) {
      const doc_id x = queue[q];
      for (std::uint32_t e = first[x]; e < first[x + 1]; ++e) {
        const band_link& l = links[adj[e]];
        const doc_id y = l.a == x ? l.b : l.a;
        if (y == root || via[y] != no_doc) continue;
        via[y] = adj[e];
        queue.push_back(y);
      }
    }
  }

  for (std::size_t d = 0; d < n; ++d) {
    const doc_id k = kept_of[d];
    if (k == d) continue;
    removal_evidence e;
    e.doc = static_cast<doc_id>(d);
    if (exact_leader[d] == exact_leader[k]) {
      e.partner = k;
    } else {
      const doc_id leader = exact_leader[d];
      const std::uint32_t link = linked == 0 ? no_doc : via[leader];
      if (link == no_doc) {
        throw std::logic_error("collect_evidence: document " + std::to_string(d) +
                               " was removed but no link joins it to document " + std::to_string(k));
      }
      const band_link& l = links[link];
      e.partner = l.a == leader ? l.b : l.a;
      e.kind = kind;
      e.band = l.band;
    }
    out.removed.push_back(e);
  }
  // Similarities: one per removed near document (copies of one text share it).
  for_each_index(pool, out.removed.size(), [&](std::size_t i) {
    removal_evidence& e = out.removed[i];
    if (e.kind != evidence_kind::exact) e.similarity = similarity(exact_leader[e.doc], e.partner);
  });

  if (trace != nullptr) {
    out.near_misses.resize(trace->rejected.size());
    for_each_index(pool, trace->rejected.size(), [&](std::size_t i) {
      const band_link& l = trace->rejected[i];
      out.near_misses[i] = {l.a, l.b, kind, similarity(l.a, l.b), l.band};
    });
    // The most similar: those just under the threshold (the sample is sorted by (a, b)).
    if (out.near_misses.size() > near_misses) {
      std::stable_sort(out.near_misses.begin(), out.near_misses.end(),
                       [](const pair_evidence& x, const pair_evidence& y) { return x.similarity > y.similarity; });
      out.near_misses.resize(near_misses);
      std::sort(out.near_misses.begin(), out.near_misses.end(),
                [](const pair_evidence& x, const pair_evidence& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
    }
  }
  return out;
}

}  // namespace neardup::pipeline

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

  // The forest of merging links as adjacency lists (link indices) over the
  // documents that have links (`nodes`, sorted: a few per verified pair,
  // not arrays of every document: 100 M documents would take 0.8 GB); none
  // without links, as in exact-only runs.
  std::vector<doc_id> nodes;
  nodes.reserve(2 * links.size());
  for (const band_link& l : links) {
    nodes.push_back(l.a);
    nodes.push_back(l.b);
  }
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  const std::size_t m = nodes.size();
  // The node of document x; m when x has no links.
  const auto node_of = [&](doc_id x) {
    const auto it = std::lower_bound(nodes.begin(), nodes.end(), x);
    return it != nodes.end() && *it == x ? static_cast<std::size_t>(it - nodes.begin()) : m;
  };
  std::vector<std::uint32_t> first(m + 1, 0), adj(2 * links.size());
  std::vector<std::uint32_t> end_a(links.size()), end_b(links.size());  // the links' ends as nodes
  for (std::size_t i = 0; i < links.size(); ++i) {
    end_a[i] = static_cast<std::uint32_t>(node_of(links[i].a));
    end_b[i] = static_cast<std::uint32_t>(node_of(links[i].b));
    ++first[end_a[i] + 1];
    ++first[end_b[i] + 1];
  }
  for (std::size_t x = 0; x < m; ++x) first[x + 1] += first[x];
  {
    std::vector<std::uint32_t> fill(first.begin(), first.end() - 1);
    for (std::size_t i = 0; i < links.size(); ++i) {
      adj[fill[end_a[i]]++] = static_cast<std::uint32_t>(i);
      adj[fill[end_b[i]]++] = static_cast<std::uint32_t>(i);
    }
  }
  // via[x] = the link from node x towards its tree's root (the kept
  // document's first copy); no_doc for roots.
  std::vector<std::uint32_t> via(m, no_doc);
  std::vector<std::uint32_t> queue;
  // The kept documents' leaders in document order: a leader precedes its
  // copies, so the leader of a kept first copy is itself and ascends with
  // it; those are found by a walk along `nodes`, the others (a later copy
  // kept) by a search.
  std::size_t walk = 0;  // nodes[walk] is the first node >= the last leader walked to
  for (std::size_t k = 0; k < (m == 0 ? 0 : n); ++k) {
    if (kept_of[k] != k) continue;
    const doc_id leader = exact_leader[k];
    std::size_t root = m;
    if (leader == k) {
      while (walk < m && nodes[walk] < leader) ++walk;
      if (walk < m && nodes[walk] == leader) root = walk;
    } else {
      root = node_of(leader);
    }
    if (root == m) continue;
    queue.assign(1, static_cast<std::uint32_t>(root));
    for (std::size_t q = 0; q < queue.size(); ++q) {
      const std::uint32_t x = queue[q];
      for (std::uint32_t e = first[x]; e < first[x + 1]; ++e) {
        const std::uint32_t y = end_a[adj[e]] == x ? end_b[adj[e]] : end_a[adj[e]];
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
      const std::size_t x = node_of(leader);
      const std::uint32_t link = x == m ? no_doc : via[x];
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

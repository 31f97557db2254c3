// Union-find clustering of LSH buckets with verification; see cluster.hpp for
// the determinism argument.
#include "neardup/cluster.hpp"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "neardup/hash.hpp"

namespace neardup {

namespace {

void check_doc_count(std::size_t n, const char* who) {
  if (n >= std::numeric_limits<doc_id>::max()) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(n) +
                                " documents, limit is 2^32 - 1");
  }
}

// The rejected-pair sample of cluster_trace: the max_rejected distinct pairs
// with the smallest seeded key, each with its first band. Buffers hold up to
// twice that before they are cut, so the cost per rejection stays constant.
std::uint64_t sample_key(const band_link& l, std::uint64_t seed) noexcept {
  return mix64(seed ^ (std::uint64_t{l.a} << 32 | l.b));
}

void cut_sample(std::vector<band_link>& v, const cluster_trace& trace) {
  // Sorted by (key, a, b, band), the keys computed once per link, not per
  // comparison.
  thread_local std::vector<std::pair<std::uint64_t, band_link>> keyed;
  keyed.clear();
  for (const band_link& l : v) keyed.emplace_back(sample_key(l, trace.seed), l);
  std::sort(keyed.begin(), keyed.end(), [](const auto& x, const auto& y) {
    return std::tie(x.first, x.second.a, x.second.b, x.second.band) <
           std::tie(y.first, y.second.a, y.second.b, y.second.band);
  });
  for (std::size_t i = 0; i < keyed.size(); ++i) v[i] = keyed[i].second;
  v.erase(std::unique(v.begin(), v.end(), [](const band_link& x, const band_link& y) { return x.a == y.a && x.b == y.b; }),
          v.end());
  if (v.size() > trace.max_rejected) v.resize(trace.max_rejected);
}

// No key above this can enter the sample: the trace already holds
// max_rejected distinct pairs, all with keys at or below it (max_rejected
// distinct pairs with smaller keys, whatever else is rejected later). A
// bucket worker drops such rejections at once instead of sorting them into
// the sample on the calling thread after the band. Without a full sample,
// nothing is dropped (the maximum key).
std::uint64_t sample_cutoff(const cluster_trace& trace) noexcept {
  constexpr std::uint64_t none = std::numeric_limits<std::uint64_t>::max();
  const std::vector<band_link>& r = trace.rejected;
  if (trace.max_rejected == 0 || r.size() < trace.max_rejected) return none;
  std::uint64_t cutoff = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    // Distinct pairs: merge_rejected leaves them sorted by (a, b), unique.
    if (i != 0 && std::tie(r[i - 1].a, r[i - 1].b) >= std::tie(r[i].a, r[i].b)) return none;
    cutoff = std::max(cutoff, sample_key(r[i], trace.seed));
  }
  return cutoff;
}

void sample_rejected(std::vector<band_link>& v, const band_link& l, const cluster_trace& trace, std::uint64_t cutoff) {
  if (sample_key(l, trace.seed) > cutoff) return;
  v.push_back(l);
  if (v.size() >= 2 * trace.max_rejected) cut_sample(v, trace);
}

void merge_rejected(std::vector<band_link>& into, const std::vector<band_link>& from, const cluster_trace& trace) {
  if (from.empty()) return;
  into.insert(into.end(), from.begin(), from.end());
  cut_sample(into, trace);
  std::sort(into.begin(), into.end(),
            [](const band_link& x, const band_link& y) { return std::tie(x.a, x.b) < std::tie(y.a, y.b); });
}

constexpr std::uint32_t no_group = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t no_member = std::numeric_limits<std::uint32_t>::max();

// Per-thread state for deciding the links of one bucket against a frozen
// snapshot of the union-find. Groups are the distinct components among the
// bucket's members (snapshot components, merged further by links verified in
// this bucket). They live in a small local union-find and in a doubly linked
// list ordered by last use, so a member is compared with the most recently
// active groups first and a scan touches only live groups. Each group also
// lists its members in the bucket, newest first, so that a member can be
// compared with more than one of them.
class bucket_worker {
 public:
  bucket_worker(const union_find& snapshot, const pair_verifier& verify,
                const cluster_options& options, std::uint32_t band_index, std::uint64_t sample_cutoff)
      : band(band_index), snapshot_(snapshot), verify_(verify), options_(options), cutoff_(sample_cutoff) {}

  std::uint32_t band;
  std::vector<doc_pair> links;
  cluster_stats stats;
  std::vector<band_link> rejected;  // the trace's sample candidates (cluster_trace)

  void process(std::span<const doc_id> members) {
    ++stats.buckets;
    if (options_.mode == verification::none) {
      const doc_id first = members[0];
      const doc_id first_root = snapshot_.find_const(first);
      for (std::size_t i = 1; i < members.size(); ++i) {
        if (snapshot_.find_const(members[i]) != first_root) links.push_back({first, members[i]});
      }
      return;
    }
    if (members.size() == 2) {  // the common case, without the group machinery
      if (members[1] >= options_.settled && snapshot_.find_const(members[0]) != snapshot_.find_const(members[1])) {
        compare(members[0], members[1]);
      }
      return;
    }
    reset(members.size());
    for (const doc_id x : members) process_member(x);
  }

 private:
  // Asks the verifier; records the link when it says yes.
  bool compare(doc_id earlier, doc_id x) {
    ++stats.verifications;
    if (verify_(earlier, x)) {
      ++stats.verified;
      links.push_back({earlier, x});
      return true;
    }
    ++stats.rejected;
    if (options_.trace != nullptr && options_.trace->max_rejected != 0) {
      sample_rejected(rejected, {earlier, x, band}, *options_.trace, cutoff_);
    }
    return false;
  }

  void reset(std::size_t m) {
    parent_.clear();
    rep_.clear();
    newest_.clear();
    member_.clear();
    older_.clear();
    prev_.assign(1, 0);  // node 0 is the list's sentinel; groups are 1..
    next_.assign(1, 0);
    linked_.assign(1, 1);
    parent_.push_back(0);
    rep_.push_back(0);
    newest_.push_back(no_member);
    roots_small_.clear();
    roots_map_.clear();
    use_map_ = m > 32;
    alive_ = 0;
  }

  std::uint32_t& group_of_root(doc_id root) {
    if (use_map_) return roots_map_.try_emplace(root, no_group).first->second;
    for (auto& [r, g] : roots_small_) {
      if (r == root) return g;
    }
    roots_small_.emplace_back(root, no_group);
    return roots_small_.back().second;
  }

  std::uint32_t lfind(std::uint32_t g) {
    while (parent_[g] != g) {
      parent_[g] = parent_[parent_[g]];
      g = parent_[g];
    }
    return g;
  }
  void unlink(std::uint32_t g) {
    if (!linked_[g]) return;
    next_[prev_[g]] = next_[g];
    prev_[next_[g]] = prev_[g];
    linked_[g] = 0;
  }
  void push_back(std::uint32_t g) {  // g becomes the most recently used
    unlink(g);
    const std::uint32_t tail = prev_[0];
    prev_[g] = tail;
    next_[g] = 0;
    next_[tail] = g;
    prev_[0] = g;
    linked_[g] = 1;
  }

  // Merges the member lists of groups keep and gone (each newest first, by
  // position in the bucket) into keep's. Stops at the end of either list, so
  // a new member joining a big group costs O(1).
  void merge_members(std::uint32_t keep, std::uint32_t gone) {
    std::uint32_t a = newest_[keep], b = newest_[gone];
    std::uint32_t head = no_member, tail = no_member;
    while (a != no_member && b != no_member) {
      std::uint32_t& from = a > b ? a : b;
      const std::uint32_t take = from;
      from = older_[from];
      if (tail == no_member) head = take; else older_[tail] = take;
      tail = take;
    }
    const std::uint32_t rest = a != no_member ? a : b;
    if (tail == no_member) head = rest; else older_[tail] = rest;
    newest_[keep] = head;
    newest_[gone] = no_member;
  }

  // Compares x with the members of group h in this bucket until one verifies:
  // its first member, then the others newest first; every call counts
  // towards the cap. Returns true if one verified (the link is recorded).
  bool compare_with_group(std::uint32_t h, doc_id x, std::size_t& compared) {
    ++compared;
    if (compare(rep_[h], x)) return true;
    for (std::uint32_t p = newest_[h]; p != no_member; p = older_[p]) {
      if (member_[p] == rep_[h]) continue;
      if (compared == options_.max_comparisons_per_member) return false;
      ++compared;
      if (compare(member_[p], x)) return true;
    }
    return false;
  }

  void process_member(doc_id x) {
    std::uint32_t& slot = group_of_root(snapshot_.find_const(x));
    if (slot == no_group) {
      slot = static_cast<std::uint32_t>(parent_.size());
      parent_.push_back(slot);
      rep_.push_back(x);  // first (smallest) member of the group in this bucket
      newest_.push_back(no_member);
      prev_.push_back(0);
      next_.push_back(0);
      linked_.push_back(0);
      ++alive_;
    }
    std::uint32_t own = lfind(slot);
    // x is the newest member of its group.
    const auto pos = static_cast<std::uint32_t>(member_.size());
    member_.push_back(x);
    older_.push_back(newest_[own]);
    newest_[own] = pos;
    if (x < options_.settled) {  // clustered before with the other settled members
      push_back(own);
      return;
    }
    const std::size_t others = alive_ - 1;
    std::size_t compared = 0, reached = 0;
    std::uint32_t h = prev_[0];
    while (h != 0) {
      std::uint32_t before = prev_[h];
      if (h != own) {
        if (compared == options_.max_comparisons_per_member) break;
        ++reached;
        if (compare_with_group(h, x, compared)) {
          // Union by smaller group id: the earlier group keeps the label
          // (and its first member, the smaller).
          const std::uint32_t keep = std::min(own, h);
          const std::uint32_t gone = std::max(own, h);
          parent_[gone] = keep;
          merge_members(keep, gone);
          if (gone == before) before = prev_[before];
          unlink(gone);
          --alive_;
          own = keep;
        }
      }
      h = before;
    }
    stats.capped += others - reached;
    push_back(own);
  }

  const union_find& snapshot_;
  const pair_verifier& verify_;
  const cluster_options& options_;
  std::uint64_t cutoff_;  // sample_cutoff() of the trace before the band
  std::vector<std::uint32_t> parent_, prev_, next_;
  std::vector<doc_id> rep_;
  // Members of each group in this bucket, newest first: newest_[group] is a
  // position in member_ (the bucket's members so far), older_[position] the
  // next older one of the same group.
  std::vector<std::uint32_t> newest_, older_;
  std::vector<doc_id> member_;
  std::vector<std::uint8_t> linked_;
  std::vector<std::pair<doc_id, std::uint32_t>> roots_small_;
  absl::flat_hash_map<doc_id, std::uint32_t> roots_map_;
  bool use_map_ = false;
  std::size_t alive_ = 0;
};

}  // namespace

union_find::union_find(std::size_t n) {
  check_doc_count(n, "union_find");
  parent_.resize(n);
  for (std::size_t i = 0; i < n; ++i) parent_[i] = static_cast<doc_id>(i);
}

void union_find::flatten() noexcept {
  // parent(x) <= x, so ascending order sees every parent already flattened.
  for (std::size_t i = 0; i < parent_.size(); ++i) parent_[i] = parent_[parent_[i]];
}

std::vector<doc_id> union_find::representatives() {
  flatten();
  return parent_;
}

clusterer::clusterer(std::size_t num_docs, pair_verifier verify, cluster_options options)
    : sets_(num_docs), verify_(std::move(verify)), options_(options) {
  if (options_.max_comparisons_per_member == 0) {
    throw std::invalid_argument("clusterer: max_comparisons_per_member is 0, must be >= 1");
  }
  if (options_.mode != verification::none && options_.mode != verification::verify) {
    throw std::invalid_argument("cluster_options::mode = " + std::to_string(static_cast<int>(options_.mode)) +
                                " is not a verification (none = 0, verify = 1)");
  }
  if (options_.mode == verification::verify && !verify_) {
    throw std::invalid_argument("clusterer: verification::verify needs a verifier");
  }
}

void clusterer::begin_band() {
  if (in_band_) throw std::logic_error("clusterer::begin_band: previous band not ended");
  in_band_ = true;
  ++stats_.bands;
  sets_.flatten();  // the snapshot: find_const() is then one step
}

void clusterer::add_buckets(const bucket_list& buckets) {
  if (!in_band_) throw std::logic_error("clusterer::add_buckets: call begin_band() first");
  const std::size_t n = sets_.size();
  for (const doc_id d : buckets.docs) {
    if (d >= n) {
      throw std::invalid_argument("clusterer::add_buckets: doc id " + std::to_string(d) +
                                  " out of range, num_docs is " + std::to_string(n));
    }
  }

  const std::size_t nb = buckets.size();
  constexpr std::size_t chunk = 256;
  const std::size_t threads =
      std::min(options_.pool != nullptr ? options_.pool->threads() : std::size_t{1}, (nb + chunk - 1) / chunk);
  std::vector<bucket_worker> workers;
  workers.reserve(std::max<std::size_t>(threads, 1));
  const std::uint64_t cutoff =
      options_.trace != nullptr ? sample_cutoff(*options_.trace) : std::numeric_limits<std::uint64_t>::max();
  for (std::size_t t = 0; t < std::max<std::size_t>(threads, 1); ++t) {
    workers.emplace_back(sets_, verify_, options_, static_cast<std::uint32_t>(stats_.bands - 1), cutoff);
  }
  if (threads <= 1) {
    for (std::size_t i = 0; i < nb; ++i) workers[0].process(buckets[i]);
  } else {
    // Large buckets first, largest first, one at a time; then the rest in
    // chunks. A bucket's work grows with its size squared (up to the
    // comparison cap), so one large bucket started last would leave the other
    // threads idle. The order never changes the result: every bucket sees
    // the band's snapshot.
    constexpr std::size_t large = 64;
    std::vector<std::uint32_t> big;
    for (std::size_t i = 0; i < nb; ++i) {
      if (buckets[i].size() > large) big.push_back(static_cast<std::uint32_t>(i));
    }
    std::sort(big.begin(), big.end(), [&](std::uint32_t x, std::uint32_t y) {
      const std::size_t sx = buckets[x].size(), sy = buckets[y].size();
      return sx != sy ? sx > sy : x < y;
    });
    std::atomic<std::size_t> next_big{0};
    std::atomic<std::size_t> next{0};
    std::vector<std::exception_ptr> errors(threads);
    auto run = [&](std::size_t t) {
      try {
        for (;;) {
          const std::size_t k = next_big.fetch_add(1, std::memory_order_relaxed);
          if (k >= big.size()) break;
          workers[t].process(buckets[big[k]]);
        }
        for (;;) {
          const std::size_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
          if (begin >= nb) break;
          const std::size_t end = std::min(nb, begin + chunk);
          for (std::size_t i = begin; i < end; ++i) {
            if (buckets[i].size() <= large) workers[t].process(buckets[i]);
          }
        }
      } catch (...) {
        errors[t] = std::current_exception();
        next_big.store(big.size(), std::memory_order_relaxed);
        next.store(nb, std::memory_order_relaxed);
      }
    };
    options_.pool->run(threads, run);
    for (const std::exception_ptr& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }
  // Nothing is applied before end_band(): every bucket of the band sees the
  // same snapshot however the band is split into add_buckets() calls.
  for (bucket_worker& w : workers) {
    stats_.buckets += w.stats.buckets;
    stats_.verifications += w.stats.verifications;
    stats_.verified += w.stats.verified;
    stats_.rejected += w.stats.rejected;
    stats_.capped += w.stats.capped;
    if (options_.trace != nullptr) merge_rejected(options_.trace->rejected, w.rejected, *options_.trace);
    if (pending_.empty()) {
      pending_.swap(w.links);
    } else {
      pending_.insert(pending_.end(), w.links.begin(), w.links.end());
    }
  }
}

void clusterer::end_band() {
  if (!in_band_) throw std::logic_error("clusterer::end_band: no band begun");
  // Union by minimum id: the partition and its labels do not depend on the
  // order of the links, and neither does the number of merges.
  if (options_.trace != nullptr) {
    // Sorted, so that which links merge does not depend on the thread count.
    std::sort(pending_.begin(), pending_.end());
    for (const doc_pair& p : pending_) {
      if (!sets_.unite(p.first, p.second)) continue;
      ++stats_.merges;
      options_.trace->merges.push_back({p.first, p.second, static_cast<std::uint32_t>(stats_.bands - 1)});
    }
  } else {
    for (const doc_pair& p : pending_) stats_.merges += sets_.unite(p.first, p.second) ? 1 : 0;
  }
  peak_link_bytes_ = std::max(peak_link_bytes_, pending_.capacity() * sizeof(doc_pair));
  pending_.clear();
  in_band_ = false;
}

void clusterer::add_known_clusters(const bucket_list& clusters) {
  const std::size_t n = sets_.size();
  for (const doc_id d : clusters.docs) {
    if (d >= n) {
      throw std::invalid_argument("clusterer::add_known_clusters: doc id " + std::to_string(d) +
                                  " out of range, num_docs is " + std::to_string(n));
    }
  }
  begin_band();
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const auto members = clusters[i];
    for (std::size_t j = 1; j < members.size(); ++j) {
      if (sets_.find_const(members[0]) != sets_.find_const(members[j])) pending_.push_back({members[0], members[j]});
    }
  }
  end_band();
}

void clusterer::add_band(const bucket_list& buckets) {
  begin_band();
  try {
    add_buckets(buckets);
  } catch (...) {
    // Drop the band whole, so the clusterer stays usable and consistent.
    pending_.clear();
    in_band_ = false;
    --stats_.bands;
    throw;
  }
  end_band();
}

cluster_result clusterer::result() {
  if (in_band_) throw std::logic_error("clusterer::result: band not ended");
  return {sets_.representatives(), stats_};
}

std::size_t clusterer::bytes_reserved() const noexcept {
  return sets_.size() * sizeof(doc_id) + std::max(peak_link_bytes_, pending_.capacity() * sizeof(doc_pair));
}

cluster_result cluster_band_keys(
    std::size_t num_docs, std::size_t bands,
    const std::function<std::span<const std::uint64_t>(std::size_t band)>& keys_of_band,
    std::span<const std::uint8_t> excluded, pair_verifier verify, cluster_options options) {
  clusterer c(num_docs, std::move(verify), options);
  band_grouper grouper(options.pool);
  bucket_list buckets;
  for (std::size_t j = 0; j < bands; ++j) {
    const std::span<const std::uint64_t> keys = keys_of_band(j);
    if (keys.size() != num_docs) {
      throw std::invalid_argument("cluster_band_keys: band " + std::to_string(j) + " has " +
                                  std::to_string(keys.size()) + " keys, expected " +
                                  std::to_string(num_docs));
    }
    grouper.group(keys, excluded, buckets);
    c.add_band(buckets);
  }
  return c.result();
}

namespace {
void check_labels(std::span<const doc_id> representative, const char* who) {
  for (std::size_t d = 0; d < representative.size(); ++d) {
    const doc_id r = representative[d];
    if (r > d || representative[r] != r) {
      throw std::invalid_argument(std::string(who) + ": representative[" + std::to_string(d) +
                                  "] = " + std::to_string(r) +
                                  " is not the smallest id of a cluster");
    }
  }
}
}  // namespace

std::size_t count_clusters(std::span<const doc_id> representative) {
  check_labels(representative, "count_clusters");
  std::size_t c = 0;
  for (std::size_t d = 0; d < representative.size(); ++d) c += representative[d] == d ? 1 : 0;
  return c;
}

std::vector<std::pair<std::size_t, std::size_t>> cluster_size_histogram(
    std::span<const doc_id> representative) {
  return count_cluster_sizes(representative).histogram;
}

cluster_sizes count_cluster_sizes(std::span<const doc_id> representative) {
  check_labels(representative, "count_cluster_sizes");
  const std::size_t n = representative.size();
  // Sizes up to 254 in a byte per representative; from 255 on, the size
  // lives in `big` (the byte stays 255).
  constexpr std::uint8_t saturated = 255;
  std::vector<std::uint8_t> small(n, 0);
  absl::flat_hash_map<doc_id, std::size_t> big;
  for (const doc_id r : representative) {
    std::uint8_t& s = small[r];
    if (s < saturated - 1) {
      ++s;
    } else if (s == saturated - 1) {
      s = saturated;
      big[r] = saturated;
    } else {
      ++big[r];
    }
  }
  cluster_sizes out;
  absl::flat_hash_map<std::size_t, std::size_t> by_size;
  for (std::size_t d = 0; d < n; ++d) {
    if (representative[d] != d) continue;
    const std::size_t size = small[d] == saturated ? big[static_cast<doc_id>(d)] : small[d];
    ++by_size[size];
    ++out.clusters;
    if (size > out.largest) {  // strict: the smallest label among equal sizes
      out.largest = size;
      out.largest_representative = static_cast<doc_id>(d);
    }
  }
  out.histogram.assign(by_size.begin(), by_size.end());
  std::sort(out.histogram.begin(), out.histogram.end());
  return out;
}

std::vector<doc_id> choose_kept(std::span<const doc_id> representative,
                                std::span<const std::uint64_t> priority) {
  if (priority.size() != representative.size()) {
    throw std::invalid_argument("choose_kept: " + std::to_string(priority.size()) +
                                " priorities for " + std::to_string(representative.size()) +
                                " documents");
  }
  check_labels(representative, "choose_kept");
  std::vector<doc_id> keeper(representative.size());
  // Ascending ids: a representative is seen before the rest of its cluster,
  // and strict > keeps the smallest id among equal priorities.
  for (std::size_t d = 0; d < representative.size(); ++d) {
    const doc_id r = representative[d];
    if (r == d) {
      keeper[d] = static_cast<doc_id>(d);
    } else if (priority[d] > priority[keeper[r]]) {
      keeper[r] = static_cast<doc_id>(d);
    }
  }
  for (std::size_t d = 0; d < representative.size(); ++d) keeper[d] = keeper[representative[d]];
  return keeper;
}

}  // namespace neardup

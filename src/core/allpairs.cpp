// Exact all-pairs Jaccard join (AllPairs + PPJoin filters). See allpairs.hpp.
//
// Layout of the work, all in flat arrays:
//  1. document frequency of every token: radix-partition all values by their
//     top bits, count each (cache-sized) bucket in a small hash table. Tokens seen once
//     can never be shared and are dropped; the rest ("multi tokens") get a
//     dense rank by (df ascending, hash ascending).
//  2. every non-empty set is rewritten as its sorted multi-token ranks, in
//     processing order (size ascending, id ascending); its dropped tokens are
//     remembered as a count u and sit, conceptually, before all ranks.
//  3. postings (CSR by rank) of every set's index prefix, in processing order.
//  4. each set probes its probe prefix against the postings of earlier sets,
//     with length and positional filters, then verifies by merge.
// Filters use bounds loosened by a relative 1e-9 (ceil_lo), so rounding can
// only admit extra candidates; the final decision is the exact double test.
#include "neardup/allpairs.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

namespace neardup {
namespace {

using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr u32 dead = std::numeric_limits<u32>::max();

// Smallest integer >= v, loosened downward by a relative 1e-9 so that
// floating-point rounding never makes a filter stricter than the exact test.
inline u64 ceil_lo(double v) noexcept { return static_cast<u64>(std::ceil(v * (1.0 - 1e-9))); }

template <class Fn>
void run_threads(executor* pool, unsigned threads, Fn&& fn) {
  run_on(threads <= 1 ? nullptr : pool, threads, [&fn](std::size_t t) { fn(static_cast<unsigned>(t)); });
}

inline std::size_t bucket_of(u64 h, int bits) noexcept {
  return bits == 0 ? 0 : static_cast<std::size_t>(h >> (64 - bits));
}

void validate(const sets_view& sets, double threshold) {
  if (!(threshold > 0.0 && threshold <= 1.0)) {
    throw std::invalid_argument("allpairs: threshold = " + std::to_string(threshold) +
                                " must be in (0, 1]");
  }
  if (sets.offsets.empty()) {
    if (!sets.values.empty()) throw std::invalid_argument("allpairs: offsets empty but values non-empty");
    return;
  }
  const std::size_t n = sets.size();
  if (n > static_cast<std::size_t>(std::numeric_limits<u32>::max() - 1)) {
    throw std::invalid_argument("allpairs: " + std::to_string(n) + " sets exceed the limit 2^32 - 2");
  }
  if (sets.offsets.front() != 0 || sets.offsets.back() != sets.values.size()) {
    throw std::invalid_argument("allpairs: offsets must start at 0 and end at values.size() = " +
                                std::to_string(sets.values.size()));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const u64 b = sets.offsets[i], e = sets.offsets[i + 1];
    if (e < b) throw std::invalid_argument("allpairs: offsets decrease at set " + std::to_string(i));
    if (e - b >= std::numeric_limits<u32>::max()) {
      throw std::invalid_argument("allpairs: set " + std::to_string(i) + " has " + std::to_string(e - b) +
                                  " values, limit 2^32 - 2");
    }
    for (u64 k = b + 1; k < e; ++k) {
      if (sets.values[k - 1] >= sets.values[k]) {
        throw std::invalid_argument("allpairs: set " + std::to_string(i) + " is not strictly increasing at position " +
                                    std::to_string(k - b));
      }
    }
  }
}

// Tokens with document frequency >= 2 and their dense rank, in an
// open-addressing table (load <= 1/2): one cache miss per lookup, which
// matters because every input value is looked up once.
struct token_table {
  struct slot {
    u64 key;
    u32 rank;  // dead = empty slot
  };
  std::vector<slot> slots;
  u64 mask = 0;
  int shift = 64;
  std::size_t size = 0;

  void build(const std::vector<u64>& keys, const std::vector<u32>& ranks) {
    size = keys.size();
    int bits = 4;
    while ((std::size_t{1} << bits) < 2 * size) ++bits;
    slots.assign(std::size_t{1} << bits, slot{0, dead});
    mask = (u64{1} << bits) - 1;
    shift = 64 - bits;
    for (std::size_t i = 0; i < size; ++i) {
      u64 at = home(keys[i]);
      while (slots[at].rank != dead) at = (at + 1) & mask;
      slots[at] = {keys[i], ranks[i]};
    }
  }
  u64 home(u64 h) const noexcept { return (h * 0x9e3779b97f4a7c15ULL) >> shift; }
  // Rank of h, or dead if h occurs in one set only.
  u32 lookup(u64 h) const noexcept {
    for (u64 at = home(h);; at = (at + 1) & mask) {
      const slot& sl = slots[at];
      if (sl.rank == dead || sl.key == h) return sl.rank;
    }
  }
};

token_table count_tokens(std::span<const u64> values, executor* pool, unsigned threads) {
  const std::size_t n = values.size();
  int bits = 0;
  while (bits < 22 && (n >> bits) > 512) ++bits;
  const std::size_t buckets = std::size_t{1} << bits;

  std::vector<u64> part(n);
  {
    std::vector<std::size_t> start(buckets + 1, 0);
    for (u64 h : values) ++start[bucket_of(h, bits) + 1];
    for (std::size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (u64 h : values) part[fill[bucket_of(h, bits)]++] = h;
    // Per-thread bucket ranges, split by element count for balance.
    std::vector<std::vector<u64>> local_hash(threads);
    std::vector<std::vector<u32>> local_df(threads);
    run_threads(pool, threads, [&](unsigned t) {
      const std::size_t lo_target = n * t / threads, hi_target = n * (t + 1) / threads;
      const auto b_lo = static_cast<std::size_t>(std::lower_bound(start.begin(), start.end() - 1, lo_target) - start.begin());
      const auto b_hi = (t + 1 == threads) ? buckets
                                           : static_cast<std::size_t>(std::lower_bound(start.begin(), start.end() - 1, hi_target) - start.begin());
      auto& out_h = local_hash[t];
      auto& out_df = local_df[t];
      // Count each bucket in a small open-addressing table (L1/L2 sized for
      // typical buckets), then sort only its repeated tokens.
      std::vector<u64> keys;
      std::vector<u32> counts;
      std::vector<std::pair<u64, u32>> repeated;
      for (std::size_t b = b_lo; b < b_hi; ++b) {
        const std::size_t lo = start[b], hi = start[b + 1];
        if (hi - lo < 2) continue;
        int cbits = 1;
        while ((std::size_t{1} << cbits) < 2 * (hi - lo)) ++cbits;
        const std::size_t cap = std::size_t{1} << cbits;
        const u64 cmask = cap - 1;
        keys.resize(cap);
        counts.assign(cap, 0);
        for (std::size_t i = lo; i < hi; ++i) {
          const u64 h = part[i];
          u64 at = (h * 0x9e3779b97f4a7c15ULL) >> (64 - cbits);
          while (counts[at] != 0 && keys[at] != h) at = (at + 1) & cmask;
          keys[at] = h;
          if (counts[at] != std::numeric_limits<u32>::max()) ++counts[at];
        }
        repeated.clear();
        for (std::size_t at = 0; at < cap; ++at) {
          if (counts[at] >= 2) repeated.emplace_back(keys[at], counts[at]);
        }
        std::sort(repeated.begin(), repeated.end());
        for (const auto& [h, c] : repeated) {
          out_h.push_back(h);
          out_df.push_back(c);
        }
      }
    });
    std::vector<u64>().swap(part);

    std::vector<u64> hash;
    std::vector<u32> df;
    for (unsigned t = 0; t < threads; ++t) {
      hash.insert(hash.end(), local_hash[t].begin(), local_hash[t].end());
      df.insert(df.end(), local_df[t].begin(), local_df[t].end());
      std::vector<u64>().swap(local_hash[t]);
      std::vector<u32>().swap(local_df[t]);
    }
    const std::size_t m = hash.size();
    if (m >= dead) throw std::invalid_argument("allpairs: more than 2^32 - 2 shared tokens");

    // Stable counting sort by df over hash-sorted tokens: rank order is
    // (df ascending, hash ascending).
    u32 max_df = 0;
    for (u32 d : df) max_df = std::max(max_df, d);
    std::vector<u32> df_start(static_cast<std::size_t>(max_df) + 2, 0);
    for (u32 d : df) ++df_start[d + 1];
    for (std::size_t d = 0; d + 1 < df_start.size(); ++d) df_start[d + 1] += df_start[d];
    std::vector<u32> rank(m);
    for (std::size_t i = 0; i < m; ++i) rank[i] = df_start[df[i]]++;
    token_table table;
    table.build(hash, rank);
    return table;
  }
}

// Sets in processing order, restricted to multi tokens (as ranks).
struct reduced_sets {
  std::vector<u32> id;      // original set id
  std::vector<u32> size;    // full set size n
  std::vector<u32> unique;  // tokens dropped (df == 1): u = n - reduced size
  std::vector<u64> off;     // ranks[off[o] .. off[o+1])
  std::vector<u32> ranks;
};

reduced_sets reduce(const sets_view& sets, const token_table& table, executor* pool, unsigned threads) {
  reduced_sets r;
  const std::size_t n = sets.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (sets.offsets[i + 1] != sets.offsets[i]) r.id.push_back(static_cast<u32>(i));
  }
  auto set_size = [&](u32 i) { return static_cast<u32>(sets.offsets[i + 1] - sets.offsets[i]); };
  std::stable_sort(r.id.begin(), r.id.end(), [&](u32 a, u32 b) { return set_size(a) < set_size(b); });
  const std::size_t count = r.id.size();
  r.size.resize(count);
  r.unique.resize(count);
  r.off.assign(count + 1, 0);

  std::vector<std::vector<u32>> local(threads);
  run_threads(pool, threads, [&](unsigned t) {
    const std::size_t lo = count * t / threads, hi = count * (t + 1) / threads;
    auto& out = local[t];
    for (std::size_t o = lo; o < hi; ++o) {
      const auto set = sets[r.id[o]];
      const std::size_t begin = out.size();
      // Lookups miss the cache; prefetch a few tokens ahead.
      constexpr std::size_t ahead = 16;
      for (std::size_t i = 0; i < set.size(); ++i) {
        if (i + ahead < set.size()) __builtin_prefetch(&table.slots[table.home(set[i + ahead])]);
        const u32 rk = table.lookup(set[i]);
        if (rk != dead) out.push_back(rk);
      }
      std::sort(out.begin() + static_cast<std::ptrdiff_t>(begin), out.end());
      const std::size_t kept = out.size() - begin;
      r.size[o] = static_cast<u32>(set.size());
      r.unique[o] = static_cast<u32>(set.size() - kept);
      r.off[o + 1] = kept;
    }
  });
  for (std::size_t o = 0; o < count; ++o) r.off[o + 1] += r.off[o];
  r.ranks.reserve(r.off[count]);
  for (auto& part : local) {
    r.ranks.insert(r.ranks.end(), part.begin(), part.end());
    std::vector<u32>().swap(part);
  }
  return r;
}

struct posting {
  u32 set;  // processing order
  u32 pos;  // position of the token in the full (conceptual) sorted set
};

}  // namespace

std::vector<similar_pair> allpairs_join(const sets_view& sets, const allpairs_options& options) {
  const double t = options.threshold;
  validate(sets, t);
  std::vector<similar_pair> result;
  if (sets.values.empty()) return result;
  executor* pool = options.pool;
  const auto threads = static_cast<unsigned>(std::min<std::size_t>(pool != nullptr ? pool->threads() : 1, 64));

  const token_table table = count_tokens(sets.values, pool, threads);
  const std::size_t num_tokens = table.size;
  const reduced_sets r = reduce(sets, table, pool, threads);
  const std::size_t count = r.id.size();

  const double idx_factor = 2.0 * t / (1.0 + t);
  const double pair_factor = t / (1.0 + t);
  // Reduced-prefix lengths: how many leading ranks of set o are indexed.
  std::vector<u32> idx_len(count);
  for (std::size_t o = 0; o < count; ++o) {
    const u64 n = r.size[o];
    const u64 prefix = n - ceil_lo(idx_factor * static_cast<double>(n)) + 1;
    const u64 len = prefix > r.unique[o] ? prefix - r.unique[o] : 0;
    idx_len[o] = static_cast<u32>(std::min<u64>(len, r.off[o + 1] - r.off[o]));
  }

  // Postings CSR by rank, each list in processing order.
  std::vector<u64> post_off(num_tokens + 1, 0);
  for (std::size_t o = 0; o < count; ++o) {
    for (u32 j = 0; j < idx_len[o]; ++j) ++post_off[r.ranks[r.off[o] + j] + 1];
  }
  for (std::size_t k = 0; k < num_tokens; ++k) post_off[k + 1] += post_off[k];
  std::vector<posting> post(post_off[num_tokens]);
  {
    std::vector<u64> fill(post_off.begin(), post_off.end() - 1);
    for (std::size_t o = 0; o < count; ++o) {
      for (u32 j = 0; j < idx_len[o]; ++j) {
        post[fill[r.ranks[r.off[o] + j]]++] = {static_cast<u32>(o), r.unique[o] + j};
      }
    }
  }

  constexpr std::size_t block = 64;
  std::atomic<std::size_t> next_block{0};
  std::vector<std::vector<similar_pair>> found(threads);
  run_threads(pool, threads, [&](unsigned tid) {
    std::vector<u64> cursor(post_off.begin(), post_off.end() - 1);
    std::vector<u32> overlap(count, 0);
    std::vector<u32> cands;
    auto& out = found[tid];
    for (;;) {
      const std::size_t b = next_block.fetch_add(1, std::memory_order_relaxed);
      if (b * block >= count) break;
      const std::size_t o_end = std::min(count, (b + 1) * block);
      for (std::size_t x = b * block; x < o_end; ++x) {
        const u32 nx = r.size[x], ux = r.unique[x];
        const u32* rx = r.ranks.data() + r.off[x];
        const auto rx_len = static_cast<u32>(r.off[x + 1] - r.off[x]);
        const u64 min_len = ceil_lo(t * nx);
        const u64 probe = nx - min_len + 1;
        if (probe <= ux) continue;  // probe prefix holds unshared tokens only
        const auto pr = static_cast<u32>(std::min<u64>(probe - ux, rx_len));
        cands.clear();
        for (u32 j = 0; j < pr; ++j) {
          const u32 tok = rx[j];
          const u32 pos_x = ux + j;
          u64 c = cursor[tok];
          const u64 end = post_off[tok + 1];
          while (c < end && r.size[post[c].set] < min_len) ++c;
          cursor[tok] = c;
          for (; c < end; ++c) {
            const posting p = post[c];
            if (p.set >= x) break;
            u32& a = overlap[p.set];
            if (a == dead) continue;
            const u32 ny = r.size[p.set];
            const u64 alpha = ceil_lo(pair_factor * (static_cast<double>(nx) + static_cast<double>(ny)));
            const u64 ub = u64{a} + 1 + std::min(nx - pos_x - 1, ny - p.pos - 1);
            if (a == 0) cands.push_back(p.set);
            a = ub >= alpha ? a + 1 : dead;
          }
        }
        const u32 wx = rx[pr - 1];
        for (u32 y : cands) {
          const u32 a = overlap[y];
          overlap[y] = 0;
          if (a == dead) continue;
          const u32 ny = r.size[y];
          const u32* ry = r.ranks.data() + r.off[y];
          const auto ry_len = static_cast<u32>(r.off[y + 1] - r.off[y]);
          const u32 qy = idx_len[y];
          const u32 wy = ry[qy - 1];
          // Every shared token <= min(wx, wy) was counted in `a`; count the rest.
          const u32* px;
          const u32* py;
          if (wx < wy) {
            px = rx + pr;
            py = std::upper_bound(ry, ry + qy, wx);
          } else {
            py = ry + qy;
            px = std::upper_bound(rx, rx + pr, wy);
          }
          const u32* const ex = rx + rx_len;
          const u32* const ey = ry + ry_len;
          const u64 alpha = ceil_lo(pair_factor * (static_cast<double>(nx) + static_cast<double>(ny)));
          u64 inter = a;
          bool pruned = false;
          while (px != ex && py != ey) {
            if (inter + static_cast<u64>(std::min(ex - px, ey - py)) < alpha) {
              pruned = true;
              break;
            }
            if (*px < *py) {
              ++px;
            } else if (*py < *px) {
              ++py;
            } else {
              ++inter;
              ++px;
              ++py;
            }
          }
          if (pruned || inter < alpha) continue;
          const u64 uni = u64{nx} + ny - inter;
          const double jac = static_cast<double>(inter) / static_cast<double>(uni);
          if (!(jac >= t)) continue;
          const u32 ix = r.id[x], iy = r.id[y];
          out.push_back({{std::min(ix, iy), std::max(ix, iy)}, jac, inter, uni});
        }
      }
    }
  });
  std::size_t total = 0;
  for (const auto& f : found) total += f.size();
  result.reserve(total);
  for (auto& f : found) {
    result.insert(result.end(), f.begin(), f.end());
    std::vector<similar_pair>().swap(f);
  }
  std::sort(result.begin(), result.end(),
            [](const similar_pair& a, const similar_pair& b) { return a.pair < b.pair; });
  return result;
}

}  // namespace neardup

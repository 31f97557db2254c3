#include "neardup/cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <string_view>
#include <vector>

#include "neardup/candidates.hpp"
#include "neardup/hash.hpp"
#include "test_util.hpp"

namespace {

using neardup_test::pool_of;

using neardup::bucket_list;
using neardup::cluster_options;
using neardup::cluster_result;
using neardup::clusterer;
using neardup::doc_id;
using neardup::verification;

using neardup_test::small_scale;

bucket_list make_bucket_list(const std::vector<std::vector<doc_id>>& buckets) {
  bucket_list out;
  for (const auto& b : buckets) {
    out.docs.insert(out.docs.end(), b.begin(), b.end());
    out.offsets.push_back(static_cast<std::uint32_t>(out.docs.size()));
  }
  return out;
}

// A pure, symmetric pseudo-random relation: a ~ b with probability ~p.
bool random_relation(doc_id a, doc_id b, double p) {
  const std::uint64_t lo = std::min(a, b), hi = std::max(a, b);
  const std::uint64_t h = neardup::mix64((lo << 32) | hi);
  return static_cast<double>(h >> 11) * 0x1.0p-53 < p;
}

// --------------------------------------------------------------- union_find

TEST(UnionFind, RootIsSmallestMember) {
  neardup::union_find uf(10);
  EXPECT_TRUE(uf.unite(7, 3));
  EXPECT_TRUE(uf.unite(9, 7));
  EXPECT_FALSE(uf.unite(3, 9));
  EXPECT_TRUE(uf.unite(5, 9));
  EXPECT_EQ(uf.find(9), 3u);
  EXPECT_EQ(uf.find(5), 3u);
  EXPECT_EQ(uf.find_const(7), 3u);
  EXPECT_TRUE(uf.unite(1, 0));
  EXPECT_TRUE(uf.unite(5, 1));
  EXPECT_EQ(uf.find(9), 0u);
  EXPECT_TRUE(uf.connected(3, 1));
  EXPECT_FALSE(uf.connected(2, 1));
  const std::vector<doc_id> expected{0, 0, 2, 0, 4, 0, 6, 0, 8, 0};
  EXPECT_EQ(uf.representatives(), expected);
}

TEST(UnionFind, MatchesNaiveLabelingOnRandomUnions) {
  const std::size_t n = 2000;
  neardup::union_find uf(n);
  std::vector<doc_id> label(n);
  std::iota(label.begin(), label.end(), doc_id{0});
  std::mt19937 rng(5);
  for (int step = 0; step < 1500; ++step) {
    const auto a = static_cast<doc_id>(rng() % n), b = static_cast<doc_id>(rng() % n);
    const doc_id la = label[a], lb = label[b];
    EXPECT_EQ(uf.unite(a, b), la != lb);
    const doc_id m = std::min(la, lb);
    for (auto& l : label) {
      if (l == la || l == lb) l = m;
    }
  }
  EXPECT_EQ(uf.representatives(), label);
}

// ------------------------------------------------------- clustering semantics

cluster_result run(std::size_t n, const std::vector<bucket_list>& bands,
                   const neardup::pair_verifier& verify, cluster_options opt = {}) {
  clusterer c(n, verify, opt);
  for (const auto& b : bands) c.add_band(b);
  return c.result();
}

TEST(Cluster, NearIdenticalBucketCostsAboutOneVerificationPerMember) {
  std::vector<doc_id> members(500);
  std::iota(members.begin(), members.end(), doc_id{0});
  const auto r = run(500, {make_bucket_list({members})}, [](doc_id, doc_id) { return true; });
  EXPECT_EQ(r.stats.verifications, 499u);
  EXPECT_EQ(r.stats.merges, 499u);
  for (const doc_id rep : r.representative) EXPECT_EQ(rep, 0u);
}

TEST(Cluster, AlreadyConnectedBucketsCostNothing) {
  const bucket_list band = make_bucket_list({{0, 2, 4, 6}, {1, 3}});
  std::atomic<int> calls{0};
  clusterer c(7, [&](doc_id, doc_id) {
    ++calls;
    return true;
  });
  c.add_band(band);
  EXPECT_EQ(calls.load(), 4);
  c.add_band(band);  // the same buckets again: every pair is already connected
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(c.stats().verifications, 4u);
  EXPECT_EQ(c.stats().bands, 2u);
  const std::vector<doc_id> expected{0, 1, 0, 1, 0, 5, 0};
  EXPECT_EQ(c.result().representative, expected);
}

// Settled documents (clustered before, e.g. stored in an index) are united
// by add_known_clusters without the verifier and never compared with each
// other; later documents are compared with them as usual.
TEST(Cluster, SettledDocumentsAreNotComparedWithEachOther) {
  std::vector<std::pair<doc_id, doc_id>> calls;
  std::mutex m;
  cluster_options o;
  o.settled = 4;  // 0..3 settled: {0, 2} one known cluster, 1 and 3 alone
  neardup::cluster_trace trace;
  o.trace = &trace;
  clusterer c(7, [&](doc_id a, doc_id b) {
    std::lock_guard<std::mutex> lock(m);
    calls.emplace_back(a, b);
    return (a == 3 && b == 5) || (a == 1 && b == 6);
  }, o);
  c.add_known_clusters(make_bucket_list({{0, 2}}));
  EXPECT_EQ(c.stats().verifications, 0u);
  c.add_band(make_bucket_list({{0, 1, 2, 3, 5}, {1, 3, 6}}));
  for (const auto& [a, b] : calls) EXPECT_GE(b, 4u) << a << "," << b;
  const std::vector<doc_id> expected{0, 1, 0, 3, 4, 3, 1};
  EXPECT_EQ(c.result().representative, expected);
  ASSERT_FALSE(trace.merges.empty());
  EXPECT_EQ(trace.merges[0], (neardup::band_link{0, 2, 0}));  // the known cluster is band 0
  EXPECT_THROW(c.add_known_clusters(make_bucket_list({{0, 9}})), std::invalid_argument);
}

TEST(Cluster, NonTransitiveVerifierWithinOneBucket) {
  // a~b, b~c, not a~c: c is compared with the group {a,b} through its first
  // member a, fails, then with b, verifies, and joins: the chain a-b-c is one
  // cluster, the connected component of the verified pairs.
  const auto verify = [](doc_id x, doc_id y) { return y - x == 1; };
  const auto r = run(3, {make_bucket_list({{0, 1, 2}})}, verify);
  const std::vector<doc_id> expected{0, 0, 0};
  EXPECT_EQ(r.representative, expected);
  EXPECT_EQ(r.stats.verifications, 3u);
  EXPECT_EQ(r.stats.verified, 2u);
  EXPECT_EQ(r.stats.rejected, 1u);
}

TEST(Cluster, MemberFindsTheOneMemberOfAGroupAboveTheThreshold) {
  // A chain 0-1-2-...-9 in one bucket (each only similar to its neighbours)
  // is one cluster; a star (9 similar only to 4) joins through its one partner.
  const auto chain = [](doc_id x, doc_id y) { return y - x == 1; };
  std::vector<doc_id> members(10);
  std::iota(members.begin(), members.end(), doc_id{0});
  const auto r = run(10, {make_bucket_list({members})}, chain);
  EXPECT_EQ(neardup::count_clusters(r.representative), 1u);
  const auto star = [](doc_id x, doc_id y) { return x == 0 ? y < 9 : (x == 4 && y == 9); };
  const auto s = run(10, {make_bucket_list({members})}, star);
  EXPECT_EQ(neardup::count_clusters(s.representative), 1u);
  // The cap still bounds the calls: with 3, member 9 of the star finds 4
  // only if 4 is among its first 3 comparisons (0, then 8, 7: it is not).
  cluster_options opt;
  opt.max_comparisons_per_member = 3;
  const auto capped = run(10, {make_bucket_list({members})}, star, opt);
  EXPECT_EQ(neardup::count_clusters(capped.representative), 2u);
  EXPECT_EQ(capped.representative[9], 9u);
}

TEST(Cluster, NonTransitiveVerifierAcrossBands) {
  // Band 1 links a-b, band 2 puts b and c together: b~c verifies, so the
  // chain a-b-c forms even though a and c are not similar.
  const auto verify = [](doc_id x, doc_id y) { return y - x == 1; };
  const auto r = run(3, {make_bucket_list({{0, 1}}), make_bucket_list({{1, 2}})}, verify);
  const std::vector<doc_id> expected{0, 0, 0};
  EXPECT_EQ(r.representative, expected);
}

TEST(Cluster, MemberBridgesTwoGroups) {
  // 0 and 2 are unrelated; 3 is similar to both: it joins both groups.
  const auto verify = [](doc_id x, doc_id y) { return y == 3 && (x == 0 || x == 2); };
  const auto r = run(4, {make_bucket_list({{0, 2, 3}})}, verify);
  const std::vector<doc_id> expected{0, 1, 0, 0};
  EXPECT_EQ(r.representative, expected);
  EXPECT_EQ(r.stats.verifications, 3u);  // 2 vs 0, then 3 vs 2 and 3 vs 0
}

TEST(Cluster, ShortDocumentsDoNotCollapseIntoOneGiantCluster) {
  // Thousands of short documents share a band key but none verifies: no
  // merge, and the cap bounds the work to m * cap verifier calls.
  const std::size_t m = 3000;
  std::vector<doc_id> members(m);
  std::iota(members.begin(), members.end(), doc_id{0});
  const bucket_list band = make_bucket_list({members});
  cluster_options opt;
  opt.max_comparisons_per_member = 16;
  const auto r = run(m, {band, band}, [](doc_id, doc_id) { return false; }, opt);
  EXPECT_EQ(neardup::count_clusters(r.representative), m);
  EXPECT_EQ(r.stats.merges, 0u);
  // Member i compares with min(i, 16) groups, in each of the 2 bands.
  const std::uint64_t per_band = 16u * 17u / 2u - 16u + 16u * (m - 16u);
  EXPECT_EQ(r.stats.verifications, 2 * per_band);
  EXPECT_EQ(r.stats.rejected, r.stats.verifications);
  EXPECT_EQ(r.stats.capped, 2 * (std::uint64_t{m} * (m - 1) / 2 - per_band));

  // The same bucket with verification::none is one cluster (datatrove's behaviour).
  cluster_options none;
  none.mode = verification::none;
  const auto all = run(m, {band}, nullptr, none);
  EXPECT_EQ(neardup::count_clusters(all.representative), 1u);
  EXPECT_EQ(all.stats.verifications, 0u);
}

TEST(Cluster, RecentlyActiveGroupIsFoundPastTheCap) {
  // Group {0, ...} keeps growing while junk arrives in between; with the cap at
  // 2 the scan goes most-recently-used first, so members of the big group
  // still find it after many junk groups.
  std::vector<doc_id> members(200);
  std::iota(members.begin(), members.end(), doc_id{0});
  const auto verify = [](doc_id x, doc_id y) { return x % 2 == 0 && y % 2 == 0; };
  cluster_options opt;
  opt.max_comparisons_per_member = 2;
  const auto r = run(200, {make_bucket_list({members})}, verify, opt);
  for (doc_id d = 0; d < 200; d += 2) EXPECT_EQ(r.representative[d], 0u) << d;
  for (doc_id d = 1; d < 200; d += 2) EXPECT_EQ(r.representative[d], d) << d;
}

TEST(Cluster, VerificationNoneUnitesWithFirstMember) {
  cluster_options none;
  none.mode = verification::none;
  const auto r =
      run(8, {make_bucket_list({{1, 5, 7}, {2, 3}}), make_bucket_list({{3, 7}})}, nullptr, none);
  const std::vector<doc_id> expected{0, 1, 1, 1, 4, 1, 6, 1};
  EXPECT_EQ(r.representative, expected);
}

TEST(Cluster, RejectsBadOptionsAndIds) {
  EXPECT_THROW(clusterer(10, nullptr), std::invalid_argument);
  cluster_options zero_cap;
  zero_cap.max_comparisons_per_member = 0;
  EXPECT_THROW(clusterer(10, [](doc_id, doc_id) { return true; }, zero_cap),
               std::invalid_argument);
  clusterer c(10, [](doc_id, doc_id) { return true; });
  EXPECT_THROW(c.add_band(make_bucket_list({{3, 10}})), std::invalid_argument);
}

TEST(Cluster, VerifierExceptionPropagatesFromWorkerThreads) {
  std::vector<std::vector<doc_id>> buckets;
  for (doc_id i = 0; i < 4000; i += 2) buckets.push_back({i, i + 1});
  cluster_options opt;
  opt.pool = pool_of(4);
  clusterer c(4000, [](doc_id a, doc_id) -> bool {
    if (a == 3000) throw std::runtime_error("boom");
    return true;
  }, opt);
  EXPECT_THROW(c.add_band(make_bucket_list(buckets)), std::runtime_error);
}

// -------------------------------------------------------------- determinism

// A reference implementation of the documented semantics, written
// differently (quadratic, no linked list, no fast paths): per band, against a
// snapshot, each member joins the group of its snapshot component and is
// compared with the other groups, most recently used first, up to the cap.
cluster_result reference_cluster(std::size_t n, const std::vector<bucket_list>& bands,
                                 const neardup::pair_verifier& verify, std::size_t cap) {
  std::vector<doc_id> label(n);
  std::iota(label.begin(), label.end(), doc_id{0});
  neardup::cluster_stats st;
  for (const bucket_list& band : bands) {
    ++st.bands;
    std::vector<std::pair<doc_id, doc_id>> links;
    for (std::size_t b = 0; b < band.size(); ++b) {
      ++st.buckets;
      const auto members = band[b];
      struct group {
        doc_id rep;
        std::set<doc_id> snapshot_labels;
        std::size_t last_used;
        bool alive;
        std::vector<doc_id> members;  // in this bucket
      };
      std::vector<group> groups;
      std::size_t clock = 0;
      for (const doc_id x : members) {
        std::size_t own = groups.size();
        for (std::size_t g = 0; g < groups.size(); ++g) {
          if (groups[g].alive && groups[g].snapshot_labels.count(label[x])) own = g;
        }
        if (own == groups.size()) groups.push_back({x, {label[x]}, 0, true, {}});
        groups[own].members.push_back(x);
        std::vector<std::size_t> others;
        for (std::size_t g = 0; g < groups.size(); ++g) {
          if (groups[g].alive && g != own) others.push_back(g);
        }
        std::sort(others.begin(), others.end(), [&](std::size_t a, std::size_t c) {
          return groups[a].last_used > groups[c].last_used;
        });
        std::size_t compared = 0, reached = 0;
        for (const std::size_t h : others) {
          if (compared == cap) break;
          ++reached;
          // The group's first member, then the others, newest (largest id) first.
          std::vector<doc_id> order = groups[h].members;
          std::sort(order.begin(), order.end(), std::greater<>());
          order.erase(std::find(order.begin(), order.end(), groups[h].rep));
          order.insert(order.begin(), groups[h].rep);
          bool yes = false;
          for (const doc_id y : order) {
            if (compared == cap) break;
            ++compared;
            ++st.verifications;
            if (verify(y, x)) {
              ++st.verified;
              links.emplace_back(y, x);
              yes = true;
              break;
            }
            ++st.rejected;
          }
          if (!yes) continue;
          const std::size_t keep = std::min(own, h), gone = std::max(own, h);
          groups[keep].snapshot_labels.insert(groups[gone].snapshot_labels.begin(),
                                              groups[gone].snapshot_labels.end());
          groups[keep].members.insert(groups[keep].members.end(), groups[gone].members.begin(),
                                      groups[gone].members.end());
          groups[keep].last_used = std::max(groups[keep].last_used, groups[gone].last_used);
          groups[gone].alive = false;
          own = keep;
        }
        st.capped += others.size() - reached;
        groups[own].last_used = ++clock;
      }
    }
    for (const auto& [a, c] : links) {
      const doc_id la = label[a], lc = label[c];
      if (la == lc) continue;
      ++st.merges;
      const doc_id m = std::min(la, lc);
      for (auto& l : label) {
        if (l == la || l == lc) l = m;
      }
    }
  }
  return {label, st};
}

struct workload {
  std::size_t n;
  std::vector<bucket_list> bands;
};

// Random buckets of skewed sizes (2 .. ~60), docs drawn from a smaller pool so
// that components span buckets and bands.
workload random_workload(std::size_t n, std::size_t bands, std::size_t buckets_per_band,
                         std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  workload w{n, {}};
  for (std::size_t j = 0; j < bands; ++j) {
    std::vector<doc_id> perm(n);
    std::iota(perm.begin(), perm.end(), doc_id{0});
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<std::vector<doc_id>> buckets;
    std::size_t pos = 0;
    for (std::size_t b = 0; b < buckets_per_band; ++b) {
      const std::size_t m = 2 + (rng() % 8 == 0 ? rng() % 60 : rng() % 3);
      if (pos + m > n) break;
      std::vector<doc_id> members(perm.begin() + std::ptrdiff_t(pos),
                                  perm.begin() + std::ptrdiff_t(pos + m));
      std::sort(members.begin(), members.end());
      buckets.push_back(members);
      pos += m;
    }
    w.bands.push_back(make_bucket_list(buckets));
  }
  return w;
}

TEST(ClusterDeterminism, MatchesReferenceSemantics) {
  for (const std::uint64_t seed : {1, 2, 3}) {
    const workload w = random_workload(600, 4, 120, seed);
    for (const double p : {0.05, 0.3, 0.9}) {
      const auto verify = [p](doc_id a, doc_id b) { return random_relation(a, b, p); };
      for (const std::size_t cap : {1, 3, 64}) {
        cluster_options opt;
        opt.max_comparisons_per_member = cap;
        const auto got = run(w.n, w.bands, verify, opt);
        const auto want = reference_cluster(w.n, w.bands, verify, cap);
        EXPECT_EQ(got.representative, want.representative) << seed << " " << p << " " << cap;
        EXPECT_EQ(got.stats, want.stats) << seed << " " << p << " " << cap;
      }
    }
  }
}

TEST(ClusterDeterminism, SameBitsFor1To8ThreadsAndAnyBucketOrder) {
  const std::size_t n = small_scale() ? 20000 : 60000;
  const workload w = random_workload(n, 6, n / 5, 42);
  // Non-transitive verifiers: a pseudo-random relation, and a "chain" where
  // documents are points on a line and a ~ b iff they are within 1.
  const std::vector<neardup::pair_verifier> verifiers{
      [](doc_id a, doc_id b) { return random_relation(a, b, 0.5); },
      [](doc_id a, doc_id b) {
        const auto pos = [](doc_id d) { return static_cast<std::int64_t>(neardup::mix64(d) % 500); };
        return std::abs(pos(a) - pos(b)) <= 1;
      }};
  for (const auto& verify : verifiers) {
    for (const std::size_t cap : {2, 64}) {
      cluster_options opt;
      opt.max_comparisons_per_member = cap;
      opt.pool = pool_of(1);
      const cluster_result base = run(n, w.bands, verify, opt);
      EXPECT_GT(base.stats.merges, 100u);
      EXPECT_GT(base.stats.rejected, 100u);
      for (const std::size_t threads : {2, 4, 8}) {
        opt.pool = pool_of(threads);
        const cluster_result r = run(n, w.bands, verify, opt);
        EXPECT_EQ(r.representative, base.representative) << threads;
        EXPECT_EQ(r.stats, base.stats) << threads;
      }
      // Buckets of each band in reversed order: same result.
      std::vector<bucket_list> reversed;
      for (const bucket_list& b : w.bands) {
        std::vector<std::vector<doc_id>> bs;
        for (std::size_t i = b.size(); i-- > 0;) bs.emplace_back(b[i].begin(), b[i].end());
        reversed.push_back(make_bucket_list(bs));
      }
      opt.pool = pool_of(3);
      const cluster_result r = run(n, reversed, verify, opt);
      EXPECT_EQ(r.representative, base.representative);
      EXPECT_EQ(r.stats, base.stats);
    }
  }
}

TEST(ClusterDeterminism, SplittingABandIntoPiecesChangesNothing) {
  const workload w = random_workload(5000, 5, 1000, 7);
  const auto verify = [](doc_id a, doc_id b) { return random_relation(a, b, 0.4); };
  const cluster_result whole = run(w.n, w.bands, verify);
  for (const std::size_t pieces : {2, 3, 7}) {
    cluster_options opt;
    opt.pool = pool_of(pieces % 2 + 1);
    clusterer c(w.n, verify, opt);
    for (const bucket_list& band : w.bands) {
      c.begin_band();
      // Piece p gets buckets p, p + pieces, ...: interleaved, not contiguous.
      for (std::size_t p = 0; p < pieces; ++p) {
        std::vector<std::vector<doc_id>> part;
        for (std::size_t i = p; i < band.size(); i += pieces) part.emplace_back(band[i].begin(), band[i].end());
        c.add_buckets(make_bucket_list(part));
      }
      c.end_band();
    }
    const cluster_result r = c.result();
    EXPECT_EQ(r.representative, whole.representative) << pieces;
    EXPECT_EQ(r.stats, whole.stats) << pieces;
  }
}

TEST(Cluster, BandCallsOutOfOrderAreRejected) {
  clusterer c(4, [](doc_id, doc_id) { return true; });
  EXPECT_THROW(c.add_buckets(make_bucket_list({{0, 1}})), std::logic_error);
  EXPECT_THROW(c.end_band(), std::logic_error);
  c.begin_band();
  EXPECT_THROW(c.begin_band(), std::logic_error);
  EXPECT_THROW(static_cast<void>(c.result()), std::logic_error);
  c.end_band();
  EXPECT_EQ(c.result().representative, (std::vector<doc_id>{0, 1, 2, 3}));
}

TEST(Cluster, FailedBandLeavesClustererUsable) {
  bool fail = true;
  clusterer c(4, [&](doc_id, doc_id) -> bool {
    if (fail) throw std::runtime_error("verifier down");
    return true;
  });
  const bucket_list band = make_bucket_list({{0, 1}, {2, 3}});
  EXPECT_THROW(c.add_band(band), std::runtime_error);
  EXPECT_EQ(c.stats(), neardup::cluster_stats{});
  fail = false;
  c.add_band(band);
  EXPECT_EQ(c.result().representative, (std::vector<doc_id>{0, 0, 2, 2}));
  EXPECT_EQ(c.stats().bands, 1u);
}

// ------------------------------------------------------------ end to end

TEST(ClusterEndToEnd, PlantedNearDuplicatesAreRecovered) {
  // Random signatures (k = 128); planted clusters of 5 copies of a base
  // signature, each copy re-drawing 5% of its positions, so two copies agree
  // on s ~ 0.95^2 ~ 0.90 of positions. Band keys: b = 16 bands of r = 8
  // positions hashed with hash64. Two copies miss each other in all bands
  // with probability (1 - s^8)^16 ~ 1e-4, so a cluster of 5 (10 pairs) stays
  // connected with overwhelming probability; unrelated signatures share a
  // band with probability ~ 16 * 2^-256. The verifier (matching positions >=
  // 0.7) is ~7 standard deviations away from s for copies, and from ~0 for
  // unrelated documents. Seed fixed: the expectation is exact recovery.
  constexpr std::size_t k = 128, bands = 16, rows = 8;
  const std::size_t clusters = small_scale() ? 100 : 300, copies = 5;
  const std::size_t background = small_scale() ? 1000 : 4000;
  const std::size_t n = clusters * copies + background;
  std::mt19937_64 rng(2024);
  std::vector<std::uint32_t> sig(n * k);
  std::vector<doc_id> truth(n);
  // Place docs in shuffled order so clusters are not contiguous ids.
  std::vector<doc_id> order(n);
  std::iota(order.begin(), order.end(), doc_id{0});
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::uint32_t> base(k);
  std::size_t next = 0;
  std::vector<std::vector<doc_id>> planted;
  for (std::size_t c = 0; c < clusters; ++c) {
    for (auto& v : base) v = static_cast<std::uint32_t>(rng());
    std::vector<doc_id> members;
    for (std::size_t i = 0; i < copies; ++i) {
      const doc_id d = order[next++];
      members.push_back(d);
      for (std::size_t p = 0; p < k; ++p) {
        sig[d * k + p] = rng() % 20 == 0 ? static_cast<std::uint32_t>(rng()) : base[p];
      }
    }
    planted.push_back(members);
  }
  while (next < n) {
    const doc_id d = order[next++];
    for (std::size_t p = 0; p < k; ++p) sig[d * k + p] = static_cast<std::uint32_t>(rng());
  }
  std::iota(truth.begin(), truth.end(), doc_id{0});
  for (const auto& members : planted) {
    const doc_id m = *std::min_element(members.begin(), members.end());
    for (const doc_id d : members) truth[d] = m;
  }

  std::vector<std::uint64_t> column(n);
  const auto keys_of_band = [&](std::size_t j) -> std::span<const std::uint64_t> {
    const std::uint64_t seed = neardup::derive_seed(neardup::default_seed, j);
    for (std::size_t d = 0; d < n; ++d) {
      column[d] = neardup::hash64(&sig[d * k + j * rows], rows * sizeof(std::uint32_t), seed);
    }
    return column;
  };
  const auto verify = [&](doc_id a, doc_id b) {
    std::size_t eq = 0;
    for (std::size_t p = 0; p < k; ++p) eq += sig[a * k + p] == sig[b * k + p] ? 1 : 0;
    return static_cast<double>(eq) / k >= 0.7;
  };
  for (const std::size_t threads : {1, 2}) {
    cluster_options opt;
    opt.pool = pool_of(threads);
    const cluster_result r = neardup::cluster_band_keys(n, bands, keys_of_band, {}, verify, opt);
    EXPECT_EQ(r.representative, truth);
    EXPECT_EQ(r.stats.rejected, 0u);
    EXPECT_EQ(r.stats.merges, clusters * (copies - 1));
    const auto hist = neardup::cluster_size_histogram(r.representative);
    const std::vector<std::pair<std::size_t, std::size_t>> expected{{1, background},
                                                                    {copies, clusters}};
    EXPECT_EQ(hist, expected);
  }
}

// ----------------------------------------------------------------- helpers

TEST(ClusterHelpers, ChooseKeptPrefersPriorityThenSmallestId) {
  //                                     0  1  2  3  4  5  6
  const std::vector<doc_id> rep{0, 1, 0, 1, 0, 5, 1};
  const std::vector<std::uint64_t> len{3, 9, 7, 9, 7, 1, 2};
  const auto keeper = neardup::choose_kept(rep, len);
  // Cluster {0,2,4}: 2 and 4 tie at 7, 2 wins. Cluster {1,3,6}: 1 and 3 tie at 9.
  const std::vector<doc_id> expected{2, 1, 2, 1, 2, 5, 1};
  EXPECT_EQ(keeper, expected);
  // All-equal priorities keep the representative (the first document).
  EXPECT_EQ(neardup::choose_kept(rep, std::vector<std::uint64_t>(7, 0)), rep);
}

TEST(ClusterHelpers, RejectInvalidLabels) {
  const std::vector<doc_id> bad{0, 2, 2};  // 1 labelled by a larger id
  EXPECT_THROW((void)neardup::choose_kept(bad, std::vector<std::uint64_t>(3, 0)),
               std::invalid_argument);
  EXPECT_THROW((void)neardup::choose_kept(std::vector<doc_id>{0, 0}, std::vector<std::uint64_t>(3)),
               std::invalid_argument);
  EXPECT_THROW((void)neardup::cluster_size_histogram(bad), std::invalid_argument);
}

TEST(ClusterHelpers, HistogramAndCount) {
  const std::vector<doc_id> rep{0, 1, 0, 1, 0, 5, 1, 7};
  EXPECT_EQ(neardup::count_clusters(rep), 4u);
  const std::vector<std::pair<std::size_t, std::size_t>> expected{{1, 2}, {3, 2}};
  EXPECT_EQ(neardup::cluster_size_histogram(rep), expected);
}

// count_cluster_sizes counts in a byte per document up to 254 and in a map
// past it: clusters of 254, 255, 256 and 1000 documents, and two of the
// largest size (the first one's label wins), against a plain count.
TEST(ClusterHelpers, ClusterSizesPastOneByte) {
  std::vector<doc_id> rep;
  std::mt19937 rng(5);
  std::vector<doc_id> labels;
  for (const std::size_t size : {1u, 254u, 255u, 256u, 1000u, 3u, 1000u, 1u}) {
    labels.push_back(static_cast<doc_id>(rep.size()));
    rep.push_back(labels.back());
    for (std::size_t i = 1; i < size; ++i) rep.push_back(labels.back());
    // A member of an earlier cluster after this one's first document.
    rep.push_back(labels[std::uniform_int_distribution<std::size_t>(0, labels.size() - 1)(rng)]);
  }
  std::map<doc_id, std::size_t> size;
  for (doc_id r : rep) ++size[r];
  std::map<std::size_t, std::size_t> by_size;
  std::size_t largest = 0;
  doc_id largest_label = 0;
  for (const auto& [label, n] : size) {
    ++by_size[n];
    if (n > largest) {
      largest = n;
      largest_label = label;
    }
  }
  const neardup::cluster_sizes got = neardup::count_cluster_sizes(rep);
  const std::vector<std::pair<std::size_t, std::size_t>> expected(by_size.begin(), by_size.end());
  EXPECT_EQ(got.histogram, expected);
  EXPECT_EQ(got.clusters, size.size());
  EXPECT_EQ(got.largest, largest);
  EXPECT_EQ(got.largest_representative, largest_label);
  EXPECT_GE(largest, 1000u);  // past the byte counter
  EXPECT_EQ(got.histogram, neardup::cluster_size_histogram(rep));
  EXPECT_EQ(neardup::count_cluster_sizes({}).largest, 0u);
}

}  // namespace

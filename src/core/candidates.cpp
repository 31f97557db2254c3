// Batch candidate generation: radix-sort grouping of one band's keys.
#include "neardup/candidates.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

namespace neardup {

std::uint64_t bucket_list::pair_count() const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < size(); ++i) {
    const std::uint64_t m = offsets[i + 1] - offsets[i];
    total += m * (m - 1) / 2;
  }
  return total;
}

namespace {

// The filter of a large band: a table of 16 two-bit slots per record (seen
// once, seen again; one cache line holds both bits). Calls keep(i), in
// order, for each taken record whose slot was seen twice: that keeps every
// bucket whole and, for random keys, about one in 16 of the unique keys.
// Slots are computed a block ahead and prefetched, as the table is larger
// than the cache.
template <class KeyAt, class Take, class Keep>
void keep_repeated(std::size_t n, std::vector<std::uint64_t>& filter, KeyAt key_at, Take take, Keep keep) {
  const unsigned log_slots = static_cast<unsigned>(std::bit_width(n * 16 - 1));
  filter.assign((std::size_t{1} << log_slots) / 32, 0);
  // The slots of the next block are computed and prefetched before this
  // block's are used, so that each line has a block's time to arrive.
  constexpr std::size_t block = 32;
  std::array<std::uint32_t, block> slots[2]{};
  const auto prepare = [&](std::size_t first, std::array<std::uint32_t, block>& out) {
    const std::size_t m = std::min(block, n - first);
    for (std::size_t i = 0; i < m; ++i) {
      out[i] = static_cast<std::uint32_t>((key_at(first + i) * 0x9E3779B97F4A7C15ULL) >> (64 - log_slots));
      __builtin_prefetch(filter.data() + (out[i] >> 5));
    }
  };
  auto for_each_slot = [&](auto&& fn) {
    if (n == 0) return;
    prepare(0, slots[0]);
    for (std::size_t first = 0, cur = 0; first < n; first += block, cur ^= 1) {
      if (first + block < n) prepare(first + block, slots[cur ^ 1]);
      const std::size_t m = std::min(block, n - first);
      for (std::size_t i = 0; i < m; ++i) {
        if (take(first + i)) fn(first + i, filter[slots[cur][i] >> 5], 2 * (slots[cur][i] & 31));
      }
    }
  };
  for_each_slot([](std::size_t, std::uint64_t& word, unsigned at) {
    word |= (word >> at & 1) << (at + 1) | std::uint64_t{1} << at;
  });
  for_each_slot([&](std::size_t i, std::uint64_t& word, unsigned at) {
    if ((word >> (at + 1) & 1) != 0) keep(i);
  });
}

}  // namespace

namespace {

// Document d's key over keys stored in pieces (documents numbered across
// them in order); fast when d grows from call to call (a pass over the
// documents), and it starts over when d goes back (the next pass).
class piece_cursor {
 public:
  explicit piece_cursor(std::span<const std::span<const std::uint64_t>> pieces) : pieces_(pieces) {}
  std::uint64_t operator()(std::size_t d) noexcept {
    if (d < base_) p_ = base_ = 0;
    while (d - base_ >= pieces_[p_].size()) base_ += pieces_[p_++].size();
    return pieces_[p_][d - base_];
  }

 private:
  std::span<const std::span<const std::uint64_t>> pieces_;
  std::size_t p_ = 0;
  std::size_t base_ = 0;  // the first document of pieces_[p_]
};

}  // namespace

void band_grouper::group(std::span<const std::uint64_t> keys,
                         std::span<const std::uint8_t> excluded, bucket_list& out) {
  const std::span<const std::uint64_t> one[1] = {keys};
  group(std::span<const std::span<const std::uint64_t>>(one), excluded, out);
}

void band_grouper::group(std::span<const std::span<const std::uint64_t>> pieces,
                         std::span<const std::uint8_t> excluded, bucket_list& out) {
  std::size_t n = 0;
  for (const auto& piece : pieces) n += piece.size();
  if (n >= std::numeric_limits<doc_id>::max()) {
    throw std::invalid_argument("band_grouper: " + std::to_string(n) +
                                " documents, limit is 2^32 - 1");
  }
  if (!excluded.empty() && excluded.size() != n) {
    throw std::invalid_argument("band_grouper: excluded has " + std::to_string(excluded.size()) +
                                " entries, must be 0 or the number of keys (" +
                                std::to_string(n) + ")");
  }
  // Most keys of a large band are unique, and only keys shared by two or
  // more documents make buckets. A large band is first filtered
  // (keep_repeated): the sort then moves only the survivors, in the same
  // order (so the buckets are the same).
  auto take = [&](std::size_t d) { return excluded.empty() || excluded[d] == 0; };
  records_.clear();
  // Both passes read the keys in document order: a cursor each.
  piece_cursor key_at(pieces), kept_key(pieces);
  if (n >= filter_min_documents) {
    keep_repeated(n, filter_, key_at, take,
                  [&](std::size_t d) { records_.push_back({kept_key(d), static_cast<doc_id>(d), 0}); });
  } else {
    records_.resize(n);
    std::size_t kept = 0;
    for (std::size_t d = 0; d < n; ++d) {
      records_[kept] = {key_at(d), static_cast<doc_id>(d), 0};
      kept += take(d) ? 1 : 0;
    }
    records_.resize(kept);
  }
  if (scratch_.size() < records_.size()) {
    scratch_.clear();
    scratch_.shrink_to_fit();
    scratch_.resize(records_.capacity());
  }
  sort_and_bucket(records_, out);
}

void band_grouper::group_records(std::vector<detail::key_doc>& records, bucket_list& out) {
  const std::size_t n = records.size();
  if (n >= filter_min_documents) {
    // In place: record i moves to kept <= i, after it was read.
    std::size_t kept = 0;
    keep_repeated(
        n, filter_, [&](std::size_t i) { return records[i].key; }, [](std::size_t) { return true; },
        [&](std::size_t i) { records[kept++] = records[i]; });
    records.resize(kept);
  }
  if (scratch_.size() < records.size()) scratch_.resize(records.size());
  sort_and_bucket(records, out);
}

void band_grouper::sort_and_bucket(std::vector<detail::key_doc>& records, bucket_list& out) {
  // Records are in doc order (or an order a stable sort by key turns into
  // (key, doc) order) and the sorts are stable: runs come out sorted by doc
  // id without a second key. Small bands: LSD (6 passes, all in cache).
  // Large bands: MSD, whose single scatter pass leaves cache-sized buckets
  // (measured ~1.5x faster from 1M records; see cluster_bench).
  if (records.size() >= detail::msd_threshold) {
    detail::msd_radix_sort_key_doc_parallel(records, scratch_, pool_);
  } else {
    detail::radix_sort_key_doc<11>(records, scratch_);
  }

  out.clear();
  const std::size_t m = records.size();
  std::size_t i = 0;
  while (i < m) {
    std::size_t j = i + 1;
    while (j < m && records[j].key == records[i].key) ++j;
    if (j - i >= 2) {
      for (std::size_t t = i; t < j; ++t) out.docs.push_back(records[t].doc);
      out.offsets.push_back(static_cast<std::uint32_t>(out.docs.size()));
    }
    i = j;
  }
}

std::size_t band_grouper::bytes_reserved() const noexcept {
  return (records_.capacity() + scratch_.capacity()) * sizeof(detail::key_doc) +
         filter_.capacity() * sizeof(std::uint64_t);
}

void band_grouper::release() noexcept {
  std::vector<detail::key_doc>().swap(records_);  // `= {}` would keep the capacity
  std::vector<detail::key_doc>().swap(scratch_);
  std::vector<std::uint64_t>().swap(filter_);
}

bucket_list group_band(std::span<const std::uint64_t> keys,
                       std::span<const std::uint8_t> excluded) {
  band_grouper g;
  bucket_list out;
  g.group(keys, excluded, out);
  return out;
}

std::uint64_t append_candidate_pairs(const bucket_list& buckets, std::size_t max_partners,
                                     std::vector<doc_pair>& out) {
  if (max_partners == 0) {
    throw std::invalid_argument("append_candidate_pairs: max_partners is 0, must be >= 1");
  }
  std::uint64_t dropped = 0;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const std::span<const doc_id> members = buckets[b];
    const std::size_t m = members.size();
    for (std::size_t i = 1; i < m; ++i) {
      const std::size_t from = i > max_partners ? i - max_partners : 0;
      dropped += from;
      for (std::size_t j = from; j < i; ++j) out.push_back({members[j], members[i]});
    }
  }
  return dropped;
}

void sort_unique_pairs(std::vector<doc_pair>& pairs) {
  std::vector<std::uint64_t> packed;
  packed.reserve(pairs.size());
  for (const doc_pair& p : pairs) {
    packed.push_back((std::uint64_t{p.first} << 32) | p.second);
  }
  detail::radix_sort_unique_u64(packed);
  pairs.resize(packed.size());
  for (std::size_t i = 0; i < packed.size(); ++i) {
    pairs[i] = {static_cast<doc_id>(packed[i] >> 32), static_cast<doc_id>(packed[i])};
  }
}

}  // namespace neardup

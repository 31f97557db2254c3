// neardup/lines.hpp — line-level repeat counting for boilerplate removal.
//
// Llama-3-style line dedup: a line (after light normalization) that occurs more
// than `max_repeats` times in a corpus (or in a bucket of it) is boilerplate —
// cookie banners, nav menus, licence headers — and is removed from every
// document. Counting every distinct line needs memory proportional to the
// number of distinct lines, so the counter is HASH-PARTITIONED: pass p of P
// counts only the hashes of partition p, and P passes over the corpus (or P
// machines, each reading everything) cover all lines with 1/P of the memory.
//
//   const std::size_t parts = neardup::choose_line_partitions(2'000'000'000, 16ull << 30);
//   for (std::size_t p = 0; p < parts; ++p) {
//     neardup::line_counter counter(parts, p);
//     for (std::string_view line : all_lines)                      // pass 1
//       if (!neardup::is_blank_line(line)) counter.count(neardup::line_hash(line, seed));
//     for (std::string_view line : all_lines)                      // pass 2
//       if (!neardup::is_blank_line(line) && counter.over(neardup::line_hash(line, seed), 6))
//         drop(line);  // only lines of partition p are decided in this pass
//   }
//
// Normalization (line_hash, normalize_line), kept simple and frozen:
//   - ASCII whitespace (space, \t, \n, \v, \f, \r) is trimmed at both ends and
//     every inner run of it becomes one space;
//   - ASCII letters A-Z are lowercased;
//   - every other byte (UTF-8, NUL, non-ASCII spaces such as U+00A0) is kept
//     unchanged. No Unicode case folding.
// Blank lines (nothing left after normalization) are NOT boilerplate: callers
// keep them and do not count them (is_blank_line). line_hash("") is an
// ordinary hash value, not a sentinel.
//
// Guarantees: line_hash is stable across platforms and versions (seeded XXH3
// of the normalized bytes, with a seed derived from the caller's seed; golden
// vectors in tests/lines_test.cpp). Counting is exact: a counter never
// forgets a line (no sketch), and the union of P partition counters equals
// one unpartitioned count. Counts saturate at 2^32 - 1.
// Not promised: line_counter is not thread-safe for count()/merge(); use one
// counter per thread and merge(). Const member functions may run
// concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/hash.hpp"

namespace neardup {

// True if the line is empty or ASCII whitespace only.
[[nodiscard]] bool is_blank_line(std::string_view line) noexcept;

// The normalized text whose hash line_hash returns (see the overview).
[[nodiscard]] std::string normalize_line(std::string_view line);

// Stable hash of the normalized line:
// hash64(normalize_line(line), derive_seed(seed, line_hash_stream)).
inline constexpr std::uint64_t line_hash_stream = 0x6c696e6573ULL;  // "lines"
[[nodiscard]] std::uint64_t line_hash(std::string_view line, std::uint64_t seed = default_seed);

// The partition in [0, partitions) a line hash belongs to (its top bits,
// scaled: floor(h * partitions / 2^64)). Stable.
// REQUIRES: partitions >= 1 (throws std::invalid_argument).
[[nodiscard]] std::size_t line_partition(std::uint64_t line_hash, std::size_t partitions);

// Number of hash partitions so that one partition's counter stays within
// memory_budget_bytes when the corpus has estimated_distinct_lines distinct
// lines (uses line_counter::bytes_per_distinct_line; at least 1). Throws
// std::invalid_argument if the budget cannot hold even one line.
[[nodiscard]] std::size_t choose_line_partitions(std::uint64_t estimated_distinct_lines, std::uint64_t memory_budget_bytes);

struct line_count {
  std::uint64_t hash = 0;
  std::uint32_t count = 0;
  friend bool operator==(const line_count&, const line_count&) = default;
};

// Exact counter of the line hashes that fall in one partition.
class line_counter {
 public:
  // Upper bound on the memory of one counted distinct line, including hash
  // table slack right after a resize (~39 bytes); used to size partitions.
  static constexpr std::uint64_t bytes_per_distinct_line = 40;

  // One partition covering every hash.
  line_counter();
  // Counts only hashes h with line_partition(h, partitions) == partition.
  // Throws std::invalid_argument unless 1 <= partitions and partition < partitions.
  line_counter(std::size_t partitions, std::size_t partition);
  ~line_counter();
  line_counter(line_counter&&) noexcept;
  line_counter& operator=(line_counter&&) noexcept;
  line_counter(const line_counter&) = delete;
  line_counter& operator=(const line_counter&) = delete;

  [[nodiscard]] std::size_t partitions() const noexcept { return partitions_; }
  [[nodiscard]] std::size_t partition() const noexcept { return partition_; }
  [[nodiscard]] bool owns(std::uint64_t h) const noexcept { return line_partition(h, partitions_) == partition_; }

  // Counts one occurrence if h belongs to this partition; returns whether it did.
  bool count(std::uint64_t h);
  // Adds another counter of the same partition (e.g. one per thread).
  // Throws std::invalid_argument if the partitioning differs.
  void merge(const line_counter& other);

  // Occurrences counted for h (0 for hashes never seen or of other partitions).
  [[nodiscard]] std::uint32_t count_of(std::uint64_t h) const noexcept;
  // True iff count_of(h) > max_repeats, i.e. the line is boilerplate.
  // Always false for hashes outside this partition: route by line_partition.
  [[nodiscard]] bool over(std::uint64_t h, std::uint32_t max_repeats) const noexcept { return count_of(h) > max_repeats; }

  [[nodiscard]] std::size_t distinct() const noexcept;
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  // Bytes held by the hash table (approximately what the budget covers).
  [[nodiscard]] std::size_t memory_bytes() const noexcept;
  // The n most repeated lines, by count descending, then hash ascending.
  [[nodiscard]] std::vector<line_count> top(std::size_t n) const;
  // Every line counted more than max_repeats times, in the same order as
  // top(); costs memory for those lines only.
  [[nodiscard]] std::vector<line_count> repeated(std::uint32_t max_repeats) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::size_t partitions_ = 1;
  std::size_t partition_ = 0;
  std::uint64_t total_ = 0;
};

// Sorts by (count descending, hash ascending) and keeps the first n; combines
// the top lists of disjoint partitions into the global top list.
void keep_top(std::vector<line_count>& lines, std::size_t n);

// One reported repeated line, for stats.
struct repeated_line {
  std::uint64_t hash = 0;
  std::uint32_t count = 0;
  std::string sample;  // one raw line with this hash, trimmed, cut to the limit
};

// Captures a sample text for chosen hashes (e.g. the top list), in a pass the
// pipeline runs after counting. Several raw lines can share one normalized
// hash; the sampler keeps the lexicographically smallest (trimmed, cut)
// candidate so the result does not depend on the order or thread that offers
// them. Cuts happen at a UTF-8 character boundary.
class line_sampler {
 public:
  explicit line_sampler(std::span<const line_count> wanted, std::size_t max_sample_bytes = 200);
  ~line_sampler();
  line_sampler(line_sampler&&) noexcept;
  line_sampler& operator=(line_sampler&&) noexcept;

  [[nodiscard]] bool wants(std::uint64_t h) const noexcept;
  // REQUIRES: h == line_hash(raw_line, seed) for the seed used when counting.
  void offer(std::uint64_t h, std::string_view raw_line);
  // Combines samplers built from the same wanted list.
  void merge(const line_sampler& other);
  // In the order of `wanted`; sample empty if no line was offered.
  [[nodiscard]] std::vector<repeated_line> samples() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace neardup

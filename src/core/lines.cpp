// Line normalization, hash-partitioned exact line counting, top-N and samples.
#include "neardup/lines.hpp"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>
#include <string>

#include "xxh3_inline.hpp"

namespace neardup {
namespace {

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Writes the normalized line to out (capacity >= line.size()); returns its length.
std::size_t normalize_into(std::string_view line, char* out) noexcept {
  std::size_t n = 0;
  bool pending_space = false;
  for (char c : line) {
    if (is_space(c)) {
      pending_space = n > 0;
      continue;
    }
    if (pending_space) {
      out[n++] = ' ';
      pending_space = false;
    }
    out[n++] = lower(c);
  }
  return n;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Longest prefix of s with at most max bytes that does not split a UTF-8 sequence.
std::string_view cut_utf8(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool top_order(const line_count& a, const line_count& b) noexcept {
  return a.count != b.count ? a.count > b.count : a.hash < b.hash;
}

}  // namespace

bool is_blank_line(std::string_view line) noexcept {
  return std::all_of(line.begin(), line.end(), is_space);
}

std::string normalize_line(std::string_view line) {
  std::string out(line.size(), '\0');
  out.resize(normalize_into(line, out.data()));
  return out;
}

std::uint64_t line_hash(std::string_view line, std::uint64_t seed) {
  const std::uint64_t s = derive_seed(seed, line_hash_stream);
  std::array<char, 512> buf;
  if (line.size() <= buf.size()) {
    return detail::xxh3_64(buf.data(), normalize_into(line, buf.data()), s);
  }
  const std::string normalized = normalize_line(line);
  return detail::xxh3_64(normalized.data(), normalized.size(), s);
}

std::size_t line_partition(std::uint64_t h, std::size_t partitions) {
  if (partitions == 0) throw std::invalid_argument("line_partition: partitions = 0, must be >= 1");
  __extension__ using u128 = unsigned __int128;
  return static_cast<std::size_t>((static_cast<u128>(h) * partitions) >> 64);
}

std::size_t choose_line_partitions(std::uint64_t estimated_distinct_lines, std::uint64_t memory_budget_bytes) {
  const std::uint64_t per_partition = memory_budget_bytes / line_counter::bytes_per_distinct_line;
  if (per_partition == 0) {
    throw std::invalid_argument("choose_line_partitions: memory_budget_bytes = " + std::to_string(memory_budget_bytes) +
                                " is below the minimum " + std::to_string(line_counter::bytes_per_distinct_line));
  }
  return static_cast<std::size_t>(std::max<std::uint64_t>(
      1, estimated_distinct_lines / per_partition + (estimated_distinct_lines % per_partition != 0)));
}

// ---- line_counter

struct line_counter::impl {
  absl::flat_hash_map<std::uint64_t, std::uint32_t> counts;
};

line_counter::line_counter() : impl_(std::make_unique<impl>()) {}

line_counter::line_counter(std::size_t partitions, std::size_t partition)
    : impl_(std::make_unique<impl>()), partitions_(partitions), partition_(partition) {
  if (partitions == 0 || partition >= partitions) {
    throw std::invalid_argument("line_counter: partition = " + std::to_string(partition) +
                                " must be < partitions = " + std::to_string(partitions) + " (and partitions >= 1)");
  }
}

line_counter::~line_counter() = default;
line_counter::line_counter(line_counter&&) noexcept = default;
line_counter& line_counter::operator=(line_counter&&) noexcept = default;

bool line_counter::count(std::uint64_t h) {
  if (!owns(h)) return false;
  std::uint32_t& c = impl_->counts[h];
  if (c != std::numeric_limits<std::uint32_t>::max()) ++c;
  ++total_;
  return true;
}

void line_counter::merge(const line_counter& other) {
  if (other.partitions_ != partitions_ || other.partition_ != partition_) {
    throw std::invalid_argument("line_counter::merge: partition " + std::to_string(other.partition_) + "/" +
                                std::to_string(other.partitions_) + " differs from " + std::to_string(partition_) +
                                "/" + std::to_string(partitions_));
  }
  if (&other == this) {
    for (auto& [h, c] : impl_->counts) c = c > std::numeric_limits<std::uint32_t>::max() / 2 ? std::numeric_limits<std::uint32_t>::max() : 2 * c;
    total_ *= 2;
    return;
  }
  for (const auto& [h, c] : other.impl_->counts) {
    std::uint32_t& mine = impl_->counts[h];
    const std::uint64_t sum = std::uint64_t{mine} + c;
    mine = static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, std::numeric_limits<std::uint32_t>::max()));
  }
  total_ += other.total_;
}

std::uint32_t line_counter::count_of(std::uint64_t h) const noexcept {
  const auto it = impl_->counts.find(h);
  return it == impl_->counts.end() ? 0 : it->second;
}

std::size_t line_counter::distinct() const noexcept { return impl_->counts.size(); }

std::size_t line_counter::memory_bytes() const noexcept {
  using slot = std::pair<const std::uint64_t, std::uint32_t>;
  return impl_->counts.capacity() * (sizeof(slot) + 1);
}

std::vector<line_count> line_counter::top(std::size_t n) const {
  std::vector<line_count> all;
  all.reserve(impl_->counts.size());
  for (const auto& [h, c] : impl_->counts) all.push_back({h, c});
  keep_top(all, n);
  return all;
}

std::vector<line_count> line_counter::repeated(std::uint32_t max_repeats) const {
  std::vector<line_count> over;
  for (const auto& [h, c] : impl_->counts) {
    if (c > max_repeats) over.push_back({h, c});
  }
  std::sort(over.begin(), over.end(), top_order);
  return over;
}

void keep_top(std::vector<line_count>& lines, std::size_t n) {
  n = std::min(n, lines.size());
  std::partial_sort(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(n), lines.end(), top_order);
  lines.resize(n);
}

// ---- line_sampler

struct line_sampler::impl {
  std::vector<line_count> wanted;
  std::vector<std::string> sample;
  std::vector<bool> has;
  absl::flat_hash_map<std::uint64_t, std::size_t> slot;
  std::size_t max_bytes = 0;

  void offer_trimmed(std::size_t i, std::string_view s) {
    if (!has[i] || s < std::string_view(sample[i])) {
      sample[i].assign(s);
      has[i] = true;
    }
  }
};

line_sampler::line_sampler(std::span<const line_count> wanted, std::size_t max_sample_bytes)
    : impl_(std::make_unique<impl>()) {
  impl_->wanted.assign(wanted.begin(), wanted.end());
  impl_->sample.resize(wanted.size());
  impl_->has.resize(wanted.size(), false);
  impl_->max_bytes = max_sample_bytes;
  for (std::size_t i = 0; i < wanted.size(); ++i) impl_->slot.try_emplace(wanted[i].hash, i);
}

line_sampler::~line_sampler() = default;
line_sampler::line_sampler(line_sampler&&) noexcept = default;
line_sampler& line_sampler::operator=(line_sampler&&) noexcept = default;

bool line_sampler::wants(std::uint64_t h) const noexcept { return impl_->slot.contains(h); }

void line_sampler::offer(std::uint64_t h, std::string_view raw_line) {
  const auto it = impl_->slot.find(h);
  if (it == impl_->slot.end()) return;
  impl_->offer_trimmed(it->second, cut_utf8(trim(raw_line), impl_->max_bytes));
}

void line_sampler::merge(const line_sampler& other) {
  if (other.impl_->wanted != impl_->wanted) {
    throw std::invalid_argument("line_sampler::merge: samplers were built from different wanted lists");
  }
  for (std::size_t i = 0; i < impl_->wanted.size(); ++i) {
    if (other.impl_->has[i]) impl_->offer_trimmed(i, other.impl_->sample[i]);
  }
}

std::vector<repeated_line> line_sampler::samples() const {
  std::vector<repeated_line> out;
  out.reserve(impl_->wanted.size());
  for (std::size_t i = 0; i < impl_->wanted.size(); ++i) {
    out.push_back({impl_->wanted[i].hash, impl_->wanted[i].count, impl_->sample[i]});
  }
  return out;
}

}  // namespace neardup

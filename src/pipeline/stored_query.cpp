#include "neardup/pipeline/stored_query.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace neardup::pipeline {

namespace {

std::uint64_t key_at(const std::byte* p) noexcept {
  std::uint64_t k = 0;
  for (int i = 7; i >= 0; --i) k = (k << 8) | std::to_integer<std::uint64_t>(p[i]);
  return k;
}

doc_id doc_at(const std::byte* p) noexcept {
  doc_id d = 0;
  for (int i = 11; i >= 8; --i) d = (d << 8) | std::to_integer<doc_id>(p[i]);
  return d;
}

// The first record in [lo, hi) whose key is >= key (hi if none).
std::size_t first_at_least(const std::byte* base, std::size_t lo, std::size_t hi, std::uint64_t key) noexcept {
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (key_at(base + mid * band_record_bytes) < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace

void sort_band_run(std::vector<band_entry>& run) {
  const auto less = [](const band_entry& a, const band_entry& b) { return a.key != b.key ? a.key < b.key : a.doc < b.doc; };
  const std::size_t n = run.size();
  if (n < 4096) {
    std::sort(run.begin(), run.end(), less);
    return;
  }
  unsigned bits = 1;
  while (bits < 16 && (std::size_t{1} << bits) < n / 4) ++bits;
  const unsigned shift = 64 - bits;
  std::vector<std::uint32_t> start((std::size_t{1} << bits) + 1, 0);
  for (const band_entry& e : run) ++start[(e.key >> shift) + 1];
  for (std::size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  std::vector<band_entry> out(n);
  std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
  for (const band_entry& e : run) out[fill[e.key >> shift]++] = e;
  for (std::size_t b = 0; b + 1 < start.size(); ++b) {
    if (start[b + 1] - start[b] > 1) std::sort(out.begin() + start[b], out.begin() + start[b + 1], less);
  }
  run.swap(out);
}

std::vector<std::uint64_t> band_fences(std::span<const std::byte> payload, std::size_t n) {
  std::vector<std::uint64_t> f;
  f.reserve(n / fence_stride + 1);
  for (std::size_t i = 0; i < n; i += fence_stride) f.push_back(key_at(payload.data() + i * band_record_bytes));
  return f;
}

std::vector<std::uint32_t> fence_directory(std::span<const std::uint64_t> fences) {
  unsigned bits = 1;
  while (bits < 24 && (std::size_t{1} << bits) < fences.size()) ++bits;
  const unsigned shift = 64 - bits;
  std::vector<std::uint32_t> dir((std::size_t{1} << bits) + 1);
  std::size_t f = 0;
  for (std::size_t slot = 0; slot < dir.size(); ++slot) {
    while (f < fences.size() && (fences[f] >> shift) < slot) ++f;
    dir[slot] = static_cast<std::uint32_t>(f);
  }
  return dir;
}

namespace {

// Where a lookup starts: the first record >= key is in [lo, hi]; `guess`, in
// [lo, hi], is where the key falls between its two fences.
struct lookup_range {
  std::size_t lo = 0, hi = 0, guess = 0;
};

// The fences to search for `key`: all, or its directory slot's.
std::pair<std::size_t, std::size_t> fence_range(std::span<const std::uint64_t> fences,
                                                 std::span<const std::uint32_t> directory, std::uint64_t key) {
  if (directory.size() < 3) return {0, fences.size()};
  // The fences with key's top bits, and the first one after them.
  const unsigned shift = 64 - static_cast<unsigned>(std::countr_zero(directory.size() - 1));
  const std::uint64_t slot = key >> shift;
  return {directory[slot], directory[slot + 1]};
}

lookup_range locate(std::size_t n, std::span<const std::uint64_t> fences, std::span<const std::uint32_t> directory,
                    std::uint64_t key) {
  if (fences.empty()) return {0, n, 0};
  const auto [from, to] = fence_range(fences, directory, key);
  // fences[f - 1] < key <= fences[f]: the record is in ((f - 1) * stride, f * stride].
  const auto f = static_cast<std::size_t>(
      std::lower_bound(fences.begin() + static_cast<std::ptrdiff_t>(from),
                       fences.begin() + static_cast<std::ptrdiff_t>(to), key) -
      fences.begin());
  lookup_range r;
  r.lo = f == 0 ? 0 : (f - 1) * fence_stride + 1;
  r.hi = std::min(n, f * fence_stride);
  r.guess = r.lo;
  if (f > 0 && r.lo < r.hi) {
    // The keys are hashes, about evenly spread between the two fences: start
    // where `key` falls between them (then a few records, one or two cache
    // lines, instead of a binary search's scattered probes).
    const double below = static_cast<double>(fences[f - 1]);
    const double above = f < fences.size() ? static_cast<double>(fences[f]) : 0x1p64;
    const double at = (static_cast<double>(key) - below) / std::max(above - below, 1.0);
    r.guess = std::min(r.hi, r.lo + static_cast<std::size_t>(std::clamp(at, 0.0, 1.0) * static_cast<double>(r.hi - r.lo)));
  }
  return r;
}

}  // namespace

void prefetch_band_key(std::span<const std::byte> payload, std::size_t n, std::span<const std::uint64_t> fences,
                       std::uint64_t key, std::span<const std::uint32_t> directory, lookup_stage stage) {
  if (fences.empty()) return;
  switch (stage) {
    case lookup_stage::directory:
      if (directory.size() >= 3) {
        const unsigned shift = 64 - static_cast<unsigned>(std::countr_zero(directory.size() - 1));
        __builtin_prefetch(directory.data() + (key >> shift));
      }
      return;
    case lookup_stage::fences: {
      const auto [from, to] = fence_range(fences, directory, key);
      __builtin_prefetch(fences.data() + std::min(from, fences.size() - 1));
      __builtin_prefetch(fences.data() + std::min(to, fences.size() - 1));
      return;
    }
    case lookup_stage::records: {
      const lookup_range r = locate(n, fences, directory, key);
      if (r.guess < n) __builtin_prefetch(payload.data() + r.guess * band_record_bytes);
      return;
    }
  }
}

void find_band_key(std::span<const std::byte> payload, std::size_t n, std::span<const std::uint64_t> fences,
                   std::uint64_t key, std::vector<doc_id>& out, std::span<const std::uint32_t> directory) {
  const std::byte* base = payload.data();
  const lookup_range r = locate(n, fences, directory, key);
  std::size_t lo = r.lo, hi = r.hi;
  if (!fences.empty() && r.guess != r.lo) {  // step from the guess to the first record >= key
    std::size_t g = r.guess;
    if (g < hi && key_at(base + g * band_record_bytes) < key) {
      do ++g; while (g < hi && key_at(base + g * band_record_bytes) < key);
    } else {
      while (g > lo && key_at(base + (g - 1) * band_record_bytes) >= key) --g;
    }
    lo = hi = g;
  }
  lo = first_at_least(base, lo, hi, key);
  for (; lo < n && key_at(base + lo * band_record_bytes) == key; ++lo) out.push_back(doc_at(base + lo * band_record_bytes));
}

void match_band_keys(std::span<const std::byte> payload, std::size_t n, std::span<const std::uint64_t> fences,
                     std::span<const std::uint64_t> keys, std::vector<std::pair<std::uint32_t, doc_id>>& out) {
  const std::byte* base = payload.data();
  std::size_t pos = 0;  // records before pos have keys below the current key
  std::size_t f = 0;    // fences before f are below the current key
  for (std::size_t i = 0; i < keys.size() && pos < n; ++i) {
    const std::uint64_t key = keys[i];
    std::size_t lo = pos, hi = n;
    if (!fences.empty()) {
      // Gallop from f to the first fence >= key, then search between.
      std::size_t step = 1, top = f;
      while (top < fences.size() && fences[top] < key) {
        f = top + 1;
        top += step;
        step *= 2;
      }
      f = static_cast<std::size_t>(
          std::lower_bound(fences.begin() + static_cast<std::ptrdiff_t>(f),
                           fences.begin() + static_cast<std::ptrdiff_t>(std::min(top, fences.size())), key) -
          fences.begin());
      // fences[f - 1] < key <= fences[f]: the first record >= key is in ((f - 1) * stride, f * stride].
      lo = std::max(pos, f == 0 ? std::size_t{0} : (f - 1) * fence_stride + 1);
      hi = std::min(n, f * fence_stride);
      if (hi < lo) hi = lo;
    }
    lo = first_at_least(base, lo, hi, key);
    for (; lo < n && key_at(base + lo * band_record_bytes) == key; ++lo) {
      out.emplace_back(static_cast<std::uint32_t>(i), doc_at(base + lo * band_record_bytes));
    }
    pos = lo;
  }
}

void rank_matches(std::vector<scored_doc>& m, double threshold, std::size_t top_k) {
  std::erase_if(m, [threshold](const scored_doc& s) { return s.similarity < threshold; });
  std::sort(m.begin(), m.end(), [](const scored_doc& a, const scored_doc& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.doc < b.doc;
  });
  if (top_k != 0 && m.size() > top_k) m.resize(top_k);
}

}  // namespace neardup::pipeline

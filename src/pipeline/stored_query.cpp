#include "neardup/pipeline/stored_query.hpp"

#include <algorithm>
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

}  // namespace

void find_band_key(std::span<const std::byte> payload, std::size_t n, std::uint64_t key, std::vector<doc_id>& out) {
  const std::byte* base = payload.data();
  std::size_t lo = 0, hi = n;  // first record with key >= `key`
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (key_at(base + mid * band_record_bytes) < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (; lo < n && key_at(base + lo * band_record_bytes) == key; ++lo) out.push_back(doc_at(base + lo * band_record_bytes));
}

void rank_matches(std::vector<scored_doc>& m, double threshold, std::size_t top_k) {
  std::erase_if(m, [threshold](const scored_doc& s) { return s.similarity < threshold; });
  std::sort(m.begin(), m.end(), [](const scored_doc& a, const scored_doc& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.doc < b.doc;
  });
  if (top_k != 0 && m.size() > top_k) m.resize(top_k);
}

}  // namespace neardup::pipeline

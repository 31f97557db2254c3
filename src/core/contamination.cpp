// Benchmark-contamination index: exact flat arrays or a Bloom filter.
#include "neardup/contamination.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

namespace neardup {
namespace {

constexpr std::uint64_t bloom_stream = 0x626c6f6f6dULL;  // "bloom"
constexpr std::uint64_t max_bloom_bits = std::uint64_t{1} << 48;

inline std::size_t bucket_of(std::uint64_t h, int bits) noexcept {
  return bits == 0 ? 0 : static_cast<std::size_t>(h >> (64 - bits));
}

inline std::uint64_t fast_range(std::uint64_t x, std::uint64_t n) noexcept {
  __extension__ using u128 = unsigned __int128;
  return static_cast<std::uint64_t>((static_cast<u128>(x) * n) >> 64);
}

std::vector<std::uint64_t> sorted_unique(std::span<const std::uint64_t> v) {
  std::vector<std::uint64_t> out(v.begin(), v.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

contamination_options contamination_options::bloom(std::uint64_t expected_ngrams, double false_positive_rate) {
  if (!(false_positive_rate > 0.0 && false_positive_rate < 1.0)) {
    throw std::invalid_argument("contamination_options::bloom: false_positive_rate = " +
                                std::to_string(false_positive_rate) + " must be in (0, 1)");
  }
  contamination_options o;
  o.mode = contamination_mode::bloom;
  o.expected_ngrams = expected_ngrams;
  const double ln2 = std::log(2.0);
  o.bits_per_ngram = std::max(1.0, -std::log(false_positive_rate) / (ln2 * ln2));
  o.hash_functions = static_cast<unsigned>(std::max(1.0, std::round(-std::log2(false_positive_rate))));
  return o;
}

double bloom_false_positive_rate(double bits, double inserted, unsigned hash_functions) {
  if (!(bits >= 0.0 && std::isfinite(bits)) || !(inserted >= 0.0 && std::isfinite(inserted))) {
    throw std::invalid_argument("bloom_false_positive_rate: bits = " + std::to_string(bits) + " and inserted = " +
                                std::to_string(inserted) + " must be finite and >= 0");
  }
  if (bits == 0.0) return 1.0;
  const double k = hash_functions;
  return std::pow(1.0 - std::exp(-k * inserted / bits), k);
}

contamination_index::contamination_index(const contamination_options& options) : options_(options) {
  if (options.mode != contamination_mode::exact && options.mode != contamination_mode::bloom) {
    throw std::invalid_argument("contamination_options::mode = " + std::to_string(static_cast<int>(options.mode)) +
                                " is not a contamination_mode (exact = 0, bloom = 1)");
  }
  if (options.mode == contamination_mode::exact) {
    dir_.assign(2, 0);
    return;
  }
  if (options.expected_ngrams == 0) {
    throw std::invalid_argument("contamination_index: bloom mode needs expected_ngrams >= 1, got 0");
  }
  if (!(options.bits_per_ngram >= 1.0 && options.bits_per_ngram <= 256.0)) {
    throw std::invalid_argument("contamination_index: bits_per_ngram = " + std::to_string(options.bits_per_ngram) +
                                " must be in [1, 256]");
  }
  if (options.hash_functions > 32) {
    throw std::invalid_argument("contamination_index: hash_functions = " + std::to_string(options.hash_functions) +
                                " exceeds the limit 32");
  }
  const double m = std::ceil(static_cast<double>(options.expected_ngrams) * options.bits_per_ngram);
  if (m > static_cast<double>(max_bloom_bits)) {
    throw std::invalid_argument("contamination_index: bloom filter of " + std::to_string(m) +
                                " bits exceeds the limit 2^48 bits");
  }
  bits_ = static_cast<std::uint64_t>(m);
  k_ = options.hash_functions != 0
           ? options.hash_functions
           : static_cast<unsigned>(std::max(1.0, std::round(options.bits_per_ngram * std::log(2.0))));
  probe_seed_ = derive_seed(options.seed, bloom_stream);
  words_.assign((bits_ + 63) / 64, 0);
}

ref_id contamination_index::add_reference(std::span<const std::uint64_t> ngram_hashes) {
  if (final_) throw std::logic_error("contamination_index::add_reference after finalize()");
  if (references_ >= std::numeric_limits<ref_id>::max()) {
    throw std::invalid_argument("contamination_index: more than 2^32 - 1 references");
  }
  const auto id = static_cast<ref_id>(references_++);
  const std::vector<std::uint64_t> grams = sorted_unique(ngram_hashes);
  stored_ += grams.size();
  if (options_.mode == contamination_mode::exact) {
    hashes_.insert(hashes_.end(), grams.begin(), grams.end());
    refs_.insert(refs_.end(), grams.size(), id);
    return id;
  }
  for (std::uint64_t h : grams) {
    const std::uint64_t h1 = mix64(h ^ probe_seed_);
    const std::uint64_t h2 = mix64(h1 ^ probe_seed_) | 1;
    for (unsigned i = 0; i < k_; ++i) {
      const std::uint64_t bit = fast_range(h1 + i * h2, bits_);
      words_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
    }
  }
  return id;
}

void contamination_index::finalize() {
  if (final_) return;
  final_ = true;
  if (options_.mode != contamination_mode::exact) return;
  // Stable counting sort by top bits (refs stay ascending per hash, since
  // they were appended in id order), then sort each small bucket.
  const std::size_t n = hashes_.size();
  dir_bits_ = 0;
  while (dir_bits_ < 32 && (n >> dir_bits_) > 2) ++dir_bits_;
  const std::size_t buckets = std::size_t{1} << dir_bits_;
  dir_.assign(buckets + 1, 0);
  for (std::uint64_t h : hashes_) ++dir_[bucket_of(h, dir_bits_) + 1];
  for (std::size_t b = 0; b < buckets; ++b) dir_[b + 1] += dir_[b];
  std::vector<std::uint64_t> hs(n);
  std::vector<ref_id> rs(n);
  {
    std::vector<std::uint64_t> fill(dir_.begin(), dir_.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t at = fill[bucket_of(hashes_[i], dir_bits_)]++;
      hs[at] = hashes_[i];
      rs[at] = refs_[i];
    }
  }
  std::vector<std::pair<std::uint64_t, ref_id>> tmp;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::uint64_t lo = dir_[b], hi = dir_[b + 1];
    if (hi - lo < 2) continue;
    tmp.clear();
    for (std::uint64_t i = lo; i < hi; ++i) tmp.emplace_back(hs[i], rs[i]);
    std::sort(tmp.begin(), tmp.end());
    for (std::uint64_t i = lo; i < hi; ++i) std::tie(hs[i], rs[i]) = tmp[i - lo];
  }
  hashes_ = std::move(hs);
  refs_ = std::move(rs);
}

void contamination_index::require_final(const char* what) const {
  if (!final_) throw std::logic_error(std::string("contamination_index::") + what + " before finalize()");
}

bool contamination_index::bloom_test(std::uint64_t h) const noexcept {
  const std::uint64_t h1 = mix64(h ^ probe_seed_);
  const std::uint64_t h2 = mix64(h1 ^ probe_seed_) | 1;
  for (unsigned i = 0; i < k_; ++i) {
    const std::uint64_t bit = fast_range(h1 + i * h2, bits_);
    if ((words_[bit >> 6] & (std::uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

bool contamination_index::contains(std::uint64_t ngram) const {
  require_final("contains");
  return lookup(ngram);
}

bool contamination_index::lookup(std::uint64_t ngram) const noexcept {
  if (options_.mode == contamination_mode::bloom) return bloom_test(ngram);
  const std::size_t b = bucket_of(ngram, dir_bits_);
  const auto first = hashes_.begin() + static_cast<std::ptrdiff_t>(dir_[b]);
  const auto last = hashes_.begin() + static_cast<std::ptrdiff_t>(dir_[b + 1]);
  return std::binary_search(first, last, ngram);
}

// Most document n-grams are absent, so look every one up first and sort only
// the hits (to count distinct ones), not the whole document.
std::uint64_t contamination_index::shared_ngram_count(std::span<const std::uint64_t> doc_ngrams) const {
  require_final("shared_ngram_count");
  std::vector<std::uint64_t> hits;
  for (std::uint64_t h : doc_ngrams) {
    if (lookup(h)) hits.push_back(h);
  }
  std::sort(hits.begin(), hits.end());
  return static_cast<std::uint64_t>(std::unique(hits.begin(), hits.end()) - hits.begin());
}

contamination_result contamination_index::query(std::span<const std::uint64_t> doc_ngrams) const {
  require_final("query");
  contamination_result result;
  if (options_.mode == contamination_mode::bloom) {
    result.shared_ngrams = shared_ngram_count(doc_ngrams);
    return result;
  }
  std::vector<std::size_t> found;  // index of the first (hash, ref) entry of each hit
  for (std::uint64_t h : doc_ngrams) {
    const std::size_t b = bucket_of(h, dir_bits_);
    const auto last = hashes_.begin() + static_cast<std::ptrdiff_t>(dir_[b + 1]);
    const auto it = std::lower_bound(hashes_.begin() + static_cast<std::ptrdiff_t>(dir_[b]), last, h);
    if (it != last && *it == h) found.push_back(static_cast<std::size_t>(it - hashes_.begin()));
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  result.shared_ngrams = found.size();
  std::vector<ref_id> hits;
  for (std::size_t first : found) {
    for (std::size_t i = first; i < hashes_.size() && hashes_[i] == hashes_[first]; ++i) hits.push_back(refs_[i]);
  }
  std::sort(hits.begin(), hits.end());
  for (std::size_t i = 0; i < hits.size();) {
    std::size_t j = i;
    while (j < hits.size() && hits[j] == hits[i]) ++j;
    result.refs.push_back({hits[i], j - i});
    i = j;
  }
  return result;
}

double contamination_index::false_positive_rate() const noexcept {
  if (options_.mode == contamination_mode::exact) return 0.0;
  return bloom_false_positive_rate(static_cast<double>(bits_), static_cast<double>(stored_), k_);
}

std::size_t contamination_index::memory_bytes() const noexcept {
  return hashes_.capacity() * sizeof(std::uint64_t) + refs_.capacity() * sizeof(ref_id) +
         dir_.capacity() * sizeof(std::uint64_t) + words_.capacity() * sizeof(std::uint64_t);
}

std::size_t contamination_index::peak_memory_bytes() const noexcept {
  // finalize(): the sorted copies (12 bytes per pair), the directory (8
  // bytes per bucket, up to one per 2 pairs) and its fill cursors (as many).
  const std::size_t building = final_ || options_.mode != contamination_mode::exact ? 0 : stored_ * 20;
  return memory_bytes() + building;
}

}  // namespace neardup

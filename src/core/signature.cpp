// minhasher: parameter derivation, scheme logic (densification,
// SuperMinHash) and kernel selection; the per-ISA loops live in
// signature_{scalar,avx2,avx512}.cpp.
#include "neardup/signature.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"

namespace neardup {

namespace {

// Sub-stream ids for derive_seed; changing any of them changes every signature.
constexpr std::uint64_t stream_classic = 0x636c617373696331ULL;    // "classic1"
constexpr std::uint64_t stream_oph_hash = 0x6f70682e68617368ULL;   // "oph.hash"
constexpr std::uint64_t stream_oph_probe = 0x6f70682e70726f62ULL;  // "oph.prob"
constexpr std::uint64_t stream_superminhash = 0x73757065726d6831ULL;  // "supermh1"

constexpr sig_value max_value = 0xFFFFFFFEU;

struct superminhash_scratch {
  std::vector<std::uint64_t> h;
  std::vector<std::uint64_t> q;
  std::vector<std::uint16_t> p;
  std::vector<std::uint32_t> hist;
};

void sign_superminhash(std::span<const std::uint64_t> xs, std::uint64_t seed, std::span<sig_value> out) {
  thread_local superminhash_scratch s;
  const std::size_t k = out.size();
  s.h.assign(k, ~std::uint64_t{0});
  s.q.assign(k, ~std::uint64_t{0});
  s.p.resize(k);
  s.hist.assign(k, 0);
  s.hist[k - 1] = static_cast<std::uint32_t>(k);
  std::uint64_t* const h = s.h.data();
  std::uint64_t* const q = s.q.data();
  std::uint16_t* const p = s.p.data();
  std::uint32_t* const hist = s.hist.data();
  std::size_t a = k - 1;  // no value with integer part > a can still improve h
  for (std::size_t idx = 0; idx < xs.size(); ++idx) {
    seed_sequence rng(mix64(xs[idx] ^ seed));
    for (std::size_t j = 0; j <= a; ++j) {
      const std::uint64_t z = rng.next();
      // Position drawn uniformly from [j, k) (Fisher-Yates step, lazily reset per element).
      const std::size_t r = j + static_cast<std::size_t>(((z & 0xFFFFFFFFULL) * (k - j)) >> 32);
      // Branch-free form of: reset p[j], p[r] to identity if not yet touched
      // by this element (q), then swap them. r == j is handled too.
      const std::uint16_t pj = q[j] == idx ? p[j] : static_cast<std::uint16_t>(j);
      p[j] = pj;
      q[j] = idx;
      const std::uint16_t pr = q[r] == idx ? p[r] : static_cast<std::uint16_t>(r);
      q[r] = idx;
      p[r] = pj;
      p[j] = pr;
      const std::size_t pos = pr;
      // Value j + u/2^32 in fixed point: integer part j, fraction = high 32 bits of z.
      const std::uint64_t value = (static_cast<std::uint64_t>(j) << 32) | (z >> 32);
      if (value < h[pos]) {
        const std::size_t old = std::min<std::size_t>(static_cast<std::size_t>(h[pos] >> 32), k - 1);
        h[pos] = value;
        if (j < old) {
          --hist[old];
          ++hist[j];
          while (hist[a] == 0) --a;
        }
      }
    }
  }
  for (std::size_t i = 0; i < k; ++i) {
    out[i] = std::min(static_cast<sig_value>(h[i] & 0xFFFFFFFFULL), max_value);
  }
}

void densify(std::uint64_t probe_seed, std::span<sig_value> bins) {
  const std::size_t k = bins.size();
  std::uint64_t empty[max_num_perm / 64] = {};
  std::size_t num_empty = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (bins[i] == empty_sig_value) {
      empty[i / 64] |= std::uint64_t{1} << (i % 64);
      ++num_empty;
    }
  }
  if (num_empty == 0 || num_empty == k) return;  // full, or the empty set (sentinel)
  for (std::size_t i = 0; i < k; ++i) {
    if (((empty[i / 64] >> (i % 64)) & 1U) == 0) continue;
    // Optimal densification: probe bins with a hash of (bin, attempt) until
    // one that was non-empty before densification; copy its value.
    for (std::uint64_t attempt = 0;; ++attempt) {
      const std::uint64_t h = mix64(probe_seed ^ ((static_cast<std::uint64_t>(i) << 32) | attempt));
      const std::size_t j = static_cast<std::size_t>(((h >> 32) * k) >> 32);
      if (((empty[j / 64] >> (j % 64)) & 1U) == 0) {
        bins[i] = bins[j];
        break;
      }
    }
  }
}

}  // namespace

minhasher::minhasher(const minhash_options& options)
    : scheme_(options.scheme), k_(options.num_perm), seed_(options.seed), kernel_(options.kernel) {
  if (k_ < min_num_perm || k_ > max_num_perm) {
    throw std::invalid_argument("minhash_options::num_perm = " + std::to_string(k_) + " is outside [" +
                                std::to_string(min_num_perm) + ", " + std::to_string(max_num_perm) + "]");
  }
  if (scheme_ != minhash_scheme::classic && scheme_ != minhash_scheme::one_permutation &&
      scheme_ != minhash_scheme::superminhash) {
    throw std::invalid_argument("minhash_options::scheme = " + std::to_string(static_cast<int>(scheme_)) +
                                " is not a minhash_scheme");
  }
  kernel_ = detail::implementation_for(kernel_, "minhash_options::kernel").id;
  switch (scheme_) {
    case minhash_scheme::classic: {
      const std::size_t padded = (k_ + detail::classic_block - 1) / detail::classic_block * detail::classic_block;
      mul_.assign(padded, 0);
      add_.assign(padded, 0);
      seed_sequence rng(derive_seed(seed_, stream_classic));
      for (std::size_t i = 0; i < k_; ++i) {
        mul_[i] = rng.next() | 1U;
        add_[i] = rng.next();
      }
      break;
    }
    case minhash_scheme::one_permutation:
      mix_seed_ = derive_seed(seed_, stream_oph_hash);
      probe_seed_ = derive_seed(seed_, stream_oph_probe);
      break;
    case minhash_scheme::superminhash:
      mix_seed_ = derive_seed(seed_, stream_superminhash);
      break;
  }
}

void minhasher::sign(std::span<const std::uint64_t> shingles, std::span<sig_value> out) const {
  if (out.size() != k_) {
    throw std::invalid_argument("minhasher::sign: out.size() = " + std::to_string(out.size()) +
                                " but num_perm = " + std::to_string(k_));
  }
  std::fill(out.begin(), out.end(), empty_sig_value);
  if (shingles.empty()) return;
  switch (scheme_) {
    case minhash_scheme::classic: {
      detail::implementation_of(kernel_).classic_min(shingles.data(), shingles.size(), mul_.data(), add_.data(), k_, out.data());
      for (sig_value& v : out) v = std::min(v, max_value);
      break;
    }
    case minhash_scheme::one_permutation: {
      const auto k = static_cast<std::uint32_t>(k_);
      detail::implementation_of(kernel_).oph_bins(shingles.data(), shingles.size(), mix_seed_, k, out.data());
      densify(probe_seed_, out);
      break;
    }
    case minhash_scheme::superminhash:
      sign_superminhash(shingles, mix_seed_, out);
      break;
  }
}

std::vector<sig_value> minhasher::sign(std::span<const std::uint64_t> shingles) const {
  std::vector<sig_value> out(k_);
  sign(shingles, out);
  return out;
}

bool is_empty_signature(std::span<const sig_value> sig) noexcept {
  if (sig.empty()) return false;
  for (sig_value v : sig) {
    if (v != empty_sig_value) return false;
  }
  return true;
}

jaccard_bounds jaccard(std::span<const sig_value> a, std::span<const sig_value> b, double z) {
  if (a.size() != b.size() || a.empty()) {
    throw std::invalid_argument("jaccard: signature sizes " + std::to_string(a.size()) + " and " +
                                std::to_string(b.size()) + " must be equal and >= 1");
  }
  if (!(z > 0) || !std::isfinite(z)) {
    throw std::invalid_argument("jaccard: z = " + std::to_string(z) + " must be finite and > 0");
  }
  if (is_empty_signature(a) || is_empty_signature(b)) return {};
  return jaccard_from_count(equal_positions(a, b), a.size(), z);
}

std::size_t equal_positions(std::span<const sig_value> a, std::span<const sig_value> b) noexcept {
  std::size_t equal = 0;
  for (std::size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i] ? 1U : 0U;
  return equal;
}

jaccard_bounds jaccard_from_count(std::size_t equal, std::size_t k, double z) {
  if (k == 0 || equal > k) {
    throw std::invalid_argument("jaccard_from_count: " + std::to_string(equal) + " equal of " + std::to_string(k) +
                                " positions");
  }
  if (!(z > 0) || !std::isfinite(z)) {
    throw std::invalid_argument("jaccard: z = " + std::to_string(z) + " must be finite and > 0");
  }
  const auto n = static_cast<double>(k);
  const double p = static_cast<double>(equal) / n;
  const double z2 = z * z;
  const double denom = 1 + z2 / n;
  const double center = (p + z2 / (2 * n)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  // Exact at the ends (the Wilson interval touches 0 or 1 there; avoid rounding).
  const double lower = equal == 0 ? 0.0 : std::max(0.0, center - half);
  const double upper = equal == k ? 1.0 : std::min(1.0, center + half);
  return {lower, p, upper};
}

}  // namespace neardup

// minhasher: parameter derivation, scheme logic (densification,
// SuperMinHash) and kernel selection; the per-ISA loops live in
// signature_{scalar,avx2,avx512}.cpp.
#include "neardup/signature.hpp"

#include <algorithm>
#include <limits>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"
#include "neardup/detail/signature_kernels.hpp"
#include "neardup/detail/signature_reference.hpp"

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

// The one_permutation bins before densification, on `kernel` (the dispatch
// object's implementation; REQUIRES: a resolved, supported kernel).
void oph_bins(sig_kernel kernel, std::span<const std::uint64_t> xs, std::uint64_t seed, std::span<sig_value> bins) {
  const auto k = static_cast<std::uint32_t>(bins.size());
  detail::implementation_of(kernel).oph_bins(xs.data(), xs.size(), seed, k, bins.data());
}

// Optimal densification (Shrivastava, ICML 2017), signature_version 1: each
// empty bin probes bins with a hash of (bin, attempt) until one that was
// non-empty before densification, and copies its value. Kept only as the
// baseline of detail::sign_one_permutation_v1.
void densify_v1(std::uint64_t probe_seed, std::span<sig_value> bins) {
  const std::size_t k = bins.size();
  std::uint64_t empty[max_num_perm / 64] = {};
  std::size_t num_empty = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (bins[i] == empty_sig_value) {
      empty[i / 64] |= std::uint64_t{1} << (i % 64);
      ++num_empty;
    }
  }
  if (num_empty == 0 || num_empty == k) return;
  for (std::size_t i = 0; i < k; ++i) {
    if (((empty[i / 64] >> (i % 64)) & 1U) == 0) continue;
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

namespace {

// The bitmap order for k <= 64 * W (W = 0: any k, the words in memory). For
// W = 1 or 2 the filled bitmap stays in registers. Rounds first, without a
// data-dependent branch: each (offset, word, bins it fills) goes to a log that
// advances only when the round filled something; the values are copied from
// the log afterwards.
template <std::size_t W>
void densify_bitmap(std::span<const std::uint16_t> order, const std::uint64_t* twice, sig_value* b,
                    std::size_t k) noexcept {
  constexpr std::size_t max_words = W != 0 ? W : max_num_perm / 64;
  const std::size_t words = W != 0 ? W : (k + 63) / 64;
  std::uint64_t filled[max_words];
  for (std::size_t w = 0; w < words; ++w) filled[w] = twice[w];
  if (k % 64 != 0) filled[words - 1] |= ~std::uint64_t{0} << (k % 64);  // bits past k: never empty
  struct fill {
    std::uint32_t d, w;
    std::uint64_t bits;
  };
  fill log[64 * max_words + 1];  // an entry per round that fills a bin, and one more
  std::size_t logged = 0;
  const auto all_filled = [&] {
    std::uint64_t all = ~std::uint64_t{0};
    for (std::size_t w = 0; w < words; ++w) all &= filled[w];
    return all == ~std::uint64_t{0};
  };
  for (std::size_t r = 0; !all_filled(); ++r) {
    const std::size_t d = order[r];
    const std::size_t from = k - d;  // bits [from, from + k) of `twice`: rotated by d
    const std::size_t shift = from % 64;
    const std::uint64_t* src = twice + from / 64;
    for (std::size_t w = 0; w < words; ++w) {
      // (x << 1) << (63 - shift) is x << (64 - shift), and 0 for shift 0.
      const std::uint64_t rotated = (src[w] >> shift) | ((src[w + 1] << 1) << (63 - shift));
      const std::uint64_t fresh = rotated & ~filled[w];
      filled[w] |= fresh;
      log[logged] = {static_cast<std::uint32_t>(d), static_cast<std::uint32_t>(w), fresh};
      logged += fresh != 0 ? 1U : 0U;
    }
  }
  for (std::size_t r = 0; r < logged; ++r) {
    const std::size_t d = log[r].d;
    std::uint64_t fresh = log[r].bits;
    do {
      const std::size_t i = log[r].w * 64 + static_cast<std::size_t>(std::countr_zero(fresh));
      fresh &= fresh - 1;
      b[i] = b[i >= d ? i - d : i + k - d];
    } while (fresh != 0);
  }
}

}  // namespace

// Fast densification (after Mai et al., "On densification for minwise
// hashing", UAI 2019), by rotations. A random order of the offsets 0..k-1,
// fixed by the seed, is tried in turn; an empty bin i takes the value of bin
// (i - d) mod k for the first offset d at which that bin was non-empty before
// densification. Every offset is a bijection of the bins, so the rule can be
// evaluated in several orders with the same result (e = non-empty bins):
//   argmin: each empty bin takes, among the e non-empty bins j, the one whose
//           offset (i - j) mod k comes first: k e steps that vectorize;
//   pull:   each empty bin tries the offsets in order: ~(k - e) k / e steps;
//   push:   offset after offset, each non-empty bin j offers its value to bin
//           (j + d) mod k, which takes it if still empty: ~k ln k offers;
//   bitmap: one offset at a time for all bins: the rotated bitmap of
//           non-empty bins, minus the bins already filled: ~(k / e) ln k
//           rounds of k / 64 words (in registers for k <= 128).
// The cheapest is used, so a signature costs O(n + k log k) for every set
// size. Which bin a bin copies depends only on the order and on which bins
// are non-empty, never on the values, as with optimal densification; so two
// sets agree on a densified bin exactly when its first non-empty source in
// their union is non-empty in both and agrees there.
void detail::densify_rotations(std::span<const std::uint16_t> order, std::span<const std::uint16_t> rank2,
                               std::span<sig_value> bins, densify_order how, sig_kernel kernel) noexcept {
  const std::size_t k = bins.size();
  const std::size_t words = (k + 63) / 64;
  sig_value* const b = bins.data();
  // Non-empty bins as a bitmap, stored twice in a row so that a rotation is a
  // shifted read: bits [k - d, 2k - d) hold the bitmap rotated by d. Made by
  // the kernel (vector compares; emptiness is unpredictable).
  const implementation& impl = kernel == sig_kernel::automatic ? active_implementation() : implementation_of(kernel);
  std::uint64_t twice[2 * (max_num_perm / 64) + 2];
  const std::size_t e = impl.occupied_bins(b, k, twice);
  if (e == 0 || e == k) return;  // the empty set (sentinel), or full
  for (std::size_t w = words; w < 2 * words + 2; ++w) twice[w] = 0;
  if (k % 64 != 0) {
    for (std::size_t w = 0; w < words; ++w) {  // the second copy starts at bit k
      const std::size_t at = k + 64 * w;
      twice[at / 64] |= twice[w] << (at % 64);
      twice[at / 64 + 1] |= twice[w] >> (64 - at % 64);
    }
  } else {
    for (std::size_t w = 0; w < words; ++w) twice[words + w] = twice[w];
  }
  const auto is_full = [&](std::size_t j) { return ((twice[j / 64] >> (j % 64)) & 1U) != 0; };
  std::uint16_t full[max_num_perm];  // the non-empty bins, ascending
  std::size_t x = 0;
  for (std::size_t w = 0; w < words; ++w) {
    for (std::uint64_t m = twice[w]; m != 0; m &= m - 1) {
      full[x++] = static_cast<std::uint16_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(m)));
    }
  }
  if (e == 1) {  // every bin copies the one value
    std::fill(bins.begin(), bins.end(), b[full[0]]);
    return;
  }
  if (how == densify_order::automatic) {
    // Estimated costs, in units measured at k = 128 (argmin steps of the
    // scalar kernel), with ln k ~ 0.69 log2 k. The AVX2 and AVX-512 argmin
    // kernels take about a fifth of the scalar one's time for 16-64
    // non-empty bins (3.5x for 8), so they beat the bitmap order up to ~26
    // non-empty bins instead of ~11.
    const auto kd = static_cast<double>(k), ed = static_cast<double>(e);
    const double ln_k = static_cast<double>(std::bit_width(k)) * 0.69;
    const double argmin = kd * ed / 4.0 / (impl.id == sig_kernel::scalar ? 1.0 : 5.0);
    const double pull = (kd - ed) * kd / ed * 3.0;
    const double push = kd * ln_k * 4.0;
    const double bitmap = kd / ed * ln_k * (words <= 2 ? 7.0 : 3.0 * static_cast<double>(words));
    const double best = std::min({argmin, pull, push, bitmap});
    how = best == argmin ? densify_order::argmin
          : best == pull ? densify_order::pull
          : best == bitmap ? densify_order::bitmap
                           : densify_order::push;
  }
  // Calls fill(i) for every empty bin i, ascending.
  const auto for_each_empty = [&](auto&& fill) {
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t empty = ~twice[w];
      if (w == words - 1 && k % 64 != 0) empty &= (std::uint64_t{1} << (k % 64)) - 1;
      for (; empty != 0; empty &= empty - 1) fill(w * 64 + static_cast<std::size_t>(std::countr_zero(empty)));
    }
  };
  switch (how) {
    case densify_order::argmin: {
      // For all bins at once, one non-empty bin j at a time: rank2 + k - j
      // is the rank of offset (i - j) mod k for i = 0..k-1, contiguous, so
      // the kernel keeps each bin's best rank and its value in vector lanes
      // and writes the empty bins with one masked store, not a scalar loop
      // of dependent copies (which was half of signing a short document).
      static_assert(densify_max_bins == max_num_perm);
      impl.densify_argmin(rank2.data(), full, e, k, b);
      return;
    }
    case densify_order::pull:
      for_each_empty([&](std::size_t i) {
        for (std::size_t r = 0;; ++r) {
          const std::size_t d = order[r];
          const std::size_t j = i >= d ? i - d : i + k - d;
          if (is_full(j)) {
            b[i] = b[j];
            return;
          }
        }
      });
      return;
    case densify_order::push: {
      sig_value value[max_num_perm];
      for (std::size_t y = 0; y < e; ++y) value[y] = b[full[y]];
      std::size_t remaining = k - e;
      for (std::size_t r = 0; remaining != 0; ++r) {
        const std::size_t d = order[r];
        for (std::size_t y = 0; y < e; ++y) {
          std::size_t target = full[y] + d;
          target = target >= k ? target - k : target;
          // Branch-free, no bitmap: a bin that holds a value never holds empty_sig_value.
          const sig_value old = b[target];
          const bool empty = old == empty_sig_value;
          b[target] = empty ? value[y] : old;
          remaining -= empty ? 1U : 0U;
        }
      }
      return;
    }
    default:  // bitmap
      if (words == 1) return densify_bitmap<1>(order, twice, b, k);
      if (words == 2) return densify_bitmap<2>(order, twice, b, k);
      return densify_bitmap<0>(order, twice, b, k);
  }
}

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
      {
        // The order in which densification tries the offsets: a shuffle
        // (Fisher-Yates) of 0..k-1 by the probe stream.
        densify_order_.resize(k_);
        densify_rank_.resize(2 * k_);
        for (std::size_t d = 0; d < k_; ++d) densify_order_[d] = static_cast<std::uint16_t>(d);
        seed_sequence rng(derive_seed(seed_, stream_oph_probe));
        for (std::size_t i = k_ - 1; i > 0; --i) {
          const auto j = static_cast<std::size_t>(((rng.next() >> 32) * (i + 1)) >> 32);
          std::swap(densify_order_[i], densify_order_[j]);
        }
        for (std::size_t r = 0; r < k_; ++r) {
          densify_rank_[densify_order_[r]] = densify_rank_[k_ + densify_order_[r]] = static_cast<std::uint16_t>(r);
        }
      }
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
      if (shingles.size() == 1) {  // one bin, copied everywhere: the value alone
        sig_value one = empty_sig_value;
        detail::oph_bins_scalar(shingles.data(), 1, mix_seed_, 1, &one);
        std::fill(out.begin(), out.end(), one);
        break;
      }
      oph_bins(kernel_, shingles, mix_seed_, out);
      detail::densify_rotations(densify_order_, densify_rank_, out, detail::densify_order::automatic, kernel_);
      break;
    }
    case minhash_scheme::superminhash:
      sign_superminhash(shingles, mix_seed_, out);
      break;
  }
}

void detail::sign_one_permutation_v1(const minhash_options& options, std::span<const std::uint64_t> shingles,
                                     std::span<sig_value> out) {
  std::fill(out.begin(), out.end(), empty_sig_value);
  if (shingles.empty()) return;
  const sig_kernel kernel = options.kernel == sig_kernel::automatic ? default_kernel() : options.kernel;
  oph_bins(kernel, shingles, derive_seed(options.seed, stream_oph_hash), out);
  densify_v1(derive_seed(options.seed, stream_oph_probe), out);
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

bool equal_positions_at_least(std::span<const sig_value> a, std::span<const sig_value> b, std::size_t m) noexcept {
  const std::size_t k = a.size();
  if (m > k) return false;
  // A cache line (16 values) at a time: signatures compared in random order
  // are read from memory, so a decided pair stops reading.
  constexpr std::size_t line = 16;
  std::size_t equal = 0;
  for (std::size_t i = 0; i < k;) {
    if (equal >= m) return true;
    if (equal + (k - i) < m) return false;
    const std::size_t end = std::min(k, i + line);
    for (; i < end; ++i) equal += a[i] == b[i] ? 1U : 0U;
  }
  return equal >= m;
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

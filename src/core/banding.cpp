// LSH banding: band keys, S-curve integrals and the (bands, rows) choosers.
#include "neardup/banding.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "neardup/signature.hpp"
#include "xxh3_inline.hpp"

namespace neardup {

static_assert(std::endian::native == std::endian::little,
              "band keys hash the little-endian bytes of sig values in place");

namespace {

// Adaptive Simpson on [a, b]; f is smooth (a polynomial), so this converges fast.
template <class F>
double simpson_step(const F& f, double a, double b, double fa, double fm, double fb, double whole, double eps,
                    int depth) {
  const double m = (a + b) / 2;
  const double lm = (a + m) / 2;
  const double rm = (m + b) / 2;
  const double flm = f(lm);
  const double frm = f(rm);
  const double left = (m - a) / 6 * (fa + 4 * flm + fm);
  const double right = (b - m) / 6 * (fm + 4 * frm + fb);
  const double diff = left + right - whole;
  if (depth <= 0 || std::fabs(diff) <= 15 * eps) return left + right + diff / 15;
  return simpson_step(f, a, m, fa, flm, fm, left, eps / 2, depth - 1) +
         simpson_step(f, m, b, fm, frm, fb, right, eps / 2, depth - 1);
}

template <class F>
double integrate(const F& f, double a, double b) {
  if (!(b > a)) return 0;
  // Split first so a sharp S-curve step cannot hide between the first samples.
  constexpr int pieces = 16;
  double total = 0;
  for (int i = 0; i < pieces; ++i) {
    const double lo = a + (b - a) * i / pieces;
    const double hi = a + (b - a) * (i + 1) / pieces;
    const double flo = f(lo);
    const double fhi = f(hi);
    const double fm = f((lo + hi) / 2);
    total += simpson_step(f, lo, hi, flo, fm, fhi, (hi - lo) / 6 * (flo + 4 * fm + fhi), 1e-10 / pieces, 40);
  }
  return total;
}

void check_chooser_args(double threshold, std::size_t num_perm, const char* fn) {
  if (!(threshold > 0 && threshold < 1)) {
    throw std::invalid_argument(std::string(fn) + ": threshold = " + std::to_string(threshold) +
                                " must be in (0, 1)");
  }
  if (num_perm < min_num_perm || num_perm > max_num_perm) {
    throw std::invalid_argument(std::string(fn) + ": num_perm = " + std::to_string(num_perm) +
                                " is outside [" + std::to_string(min_num_perm) + ", " +
                                std::to_string(max_num_perm) + "]");
  }
}

void check_bands_rows(lsh_params params, const char* fn) {
  if (params.bands < 1 || params.rows < 1) {
    throw std::invalid_argument(std::string(fn) + ": bands = " + std::to_string(params.bands) +
                                " and rows = " + std::to_string(params.rows) + " must both be >= 1");
  }
}

void check_area_args(double threshold, lsh_params params, const char* fn) {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw std::invalid_argument(std::string(fn) + ": threshold = " + std::to_string(threshold) +
                                " is outside [0, 1]");
  }
  check_bands_rows(params, fn);
}

}  // namespace

void validate_lsh_params(lsh_params params, std::size_t num_perm) {
  check_bands_rows(params, "lsh_params");
  const std::uint64_t used = std::uint64_t{params.bands} * params.rows;
  if (used > num_perm) {
    throw std::invalid_argument("lsh_params: bands * rows = " + std::to_string(params.bands) + " * " +
                                std::to_string(params.rows) + " = " + std::to_string(used) +
                                " exceeds num_perm = " + std::to_string(num_perm));
  }
}

double candidate_probability(double j, lsh_params params) {
  check_bands_rows(params, "candidate_probability");
  if (!(j > 0)) return 0;  // also NaN
  if (j >= 1) return 1;
  const double jr = std::pow(j, static_cast<double>(params.rows));
  // 1 - (1 - jr)^b, accurate when jr is tiny.
  return -std::expm1(static_cast<double>(params.bands) * std::log1p(-jr));
}

double false_positive_area(double threshold, lsh_params params) {
  check_area_args(threshold, params, "false_positive_area");
  return integrate([params](double t) { return candidate_probability(t, params); }, 0.0, threshold);
}

namespace {
// Integral of P over [0, 1] in closed form:
//   1 - integral of (1 - t^r)^b = 1 - B(1/r, b + 1) / r   (substitute u = t^r).
double total_area(lsh_params params) {
  const double r = params.rows;
  const double b = params.bands;
  return 1 - std::exp(std::lgamma(1 / r) + std::lgamma(b + 1) - std::lgamma(1 / r + b + 1)) / r;
}

double false_negative_area_given_fp(double threshold, lsh_params params, double fp_area) {
  // integral over [t, 1] of (1 - P) = (1 - t) - (total - fp); clamp rounding.
  return std::max(0.0, (1 - threshold) - (total_area(params) - fp_area));
}
}  // namespace

double false_negative_area(double threshold, lsh_params params) {
  check_area_args(threshold, params, "false_negative_area");
  return false_negative_area_given_fp(threshold, params, false_positive_area(threshold, params));
}

lsh_params choose_params(double threshold, std::size_t num_perm, double fp_weight, double fn_weight) {
  check_chooser_args(threshold, num_perm, "choose_params");
  if (!(fp_weight >= 0) || !(fn_weight >= 0) || !std::isfinite(fp_weight) || !std::isfinite(fn_weight) ||
      fp_weight + fn_weight <= 0) {
    throw std::invalid_argument("choose_params: fp_weight = " + std::to_string(fp_weight) +
                                " and fn_weight = " + std::to_string(fn_weight) +
                                " must be finite, >= 0 and not both 0");
  }
  lsh_params best{1, 1};
  double best_error = std::numeric_limits<double>::infinity();
  for (std::size_t b = 1; b <= num_perm; ++b) {
    for (std::size_t r = 1; b * r <= num_perm; ++r) {
      const lsh_params p{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(r)};
      const double fp = false_positive_area(threshold, p);
      const double error = fp_weight * fp + fn_weight * false_negative_area_given_fp(threshold, p, fp);
      if (error < best_error) {
        best_error = error;
        best = p;
      }
    }
  }
  return best;
}

lsh_params choose_params_for_recall(double threshold, std::size_t num_perm, double target_recall) {
  check_chooser_args(threshold, num_perm, "choose_params_for_recall");
  if (!(target_recall > 0 && target_recall < 1)) {
    throw std::invalid_argument("choose_params_for_recall: target_recall = " + std::to_string(target_recall) +
                                " must be in (0, 1)");
  }
  // For a fixed b, P(t) = 1 - (1 - t^r)^b falls with r at every t in (0, 1):
  // both the recall at the threshold and the false positive area shrink as r
  // grows. So the r that qualify for a given b are 1..r_b, and the fewest
  // false positives among them are r_b's: one integral per b instead of one
  // per (b, r) (the same choice as the exhaustive search, including ties,
  // which go to the smallest b).
  lsh_params best{0, 0};
  double best_fp = std::numeric_limits<double>::infinity();
  double best_recall = 0;
  for (std::size_t b = 1; b <= num_perm; ++b) {
    std::uint32_t r_b = 0;
    for (std::size_t r = 1; b * r <= num_perm; ++r) {
      const double recall =
          candidate_probability(threshold, {static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(r)});
      best_recall = std::max(best_recall, recall);
      if (recall < target_recall) break;
      r_b = static_cast<std::uint32_t>(r);
    }
    if (r_b == 0) continue;
    const lsh_params p{static_cast<std::uint32_t>(b), r_b};
    const double fp = false_positive_area(threshold, p);
    if (fp < best_fp) {
      best_fp = fp;
      best = p;
    }
  }
  if (best.bands == 0) {
    throw std::invalid_argument("choose_params_for_recall: target_recall = " + std::to_string(target_recall) +
                                " is unreachable at threshold " + std::to_string(threshold) + " with num_perm = " +
                                std::to_string(num_perm) + " (best possible " + std::to_string(best_recall) + ")");
  }
  return best;
}

lsh_params choose_params_for_verified(double threshold, std::size_t num_perm) {
  check_chooser_args(threshold, num_perm, "choose_params_for_verified");
  const lsh_params most_recall{static_cast<std::uint32_t>(num_perm), 1};
  if (candidate_probability(threshold, most_recall) < verified_recall_at_threshold) return most_recall;
  return choose_params_for_recall(threshold, num_perm, verified_recall_at_threshold);
}

bander::bander(lsh_params params, std::size_t num_perm, std::uint64_t seed)
    : params_(params), num_perm_(num_perm), seed_(seed) {
  validate_lsh_params(params, num_perm);
  band_seeds_.resize(params.bands);
  for (std::uint32_t j = 0; j < params.bands; ++j) band_seeds_[j] = derive_seed(seed, j);
}

std::uint64_t bander::band_hash(const sig_value* sig, std::uint32_t band) const noexcept {
  return detail::xxh3_64(sig + std::size_t{band} * params_.rows, std::size_t{params_.rows} * sizeof(sig_value),
                band_seeds_[band]);
}

bool bander::keys(std::span<const sig_value> sig, std::span<std::uint64_t> out) const {
  if (sig.size() != num_perm_ || out.size() != params_.bands) {
    throw std::invalid_argument("bander::keys: sig.size() = " + std::to_string(sig.size()) +
                                " (want num_perm = " + std::to_string(num_perm_) + "), out.size() = " +
                                std::to_string(out.size()) + " (want bands = " + std::to_string(params_.bands) +
                                ")");
  }
  if (is_empty_signature(sig)) return false;
  for (std::uint32_t j = 0; j < params_.bands; ++j) out[j] = band_hash(sig.data(), j);
  return true;
}

std::optional<std::uint64_t> bander::key(std::span<const sig_value> sig, std::uint32_t band) const {
  if (sig.size() != num_perm_ || band >= params_.bands) {
    throw std::invalid_argument("bander::key: sig.size() = " + std::to_string(sig.size()) + " (want " +
                                std::to_string(num_perm_) + "), band = " + std::to_string(band) +
                                " (want < " + std::to_string(params_.bands) + ")");
  }
  // A non-empty signature holds no empty_sig_value (signature.hpp), so the
  // band's own first value decides for every signature a minhasher made
  // without touching the rest (the full check stays for any other input).
  if (sig[std::size_t{band} * params_.rows] == empty_sig_value && is_empty_signature(sig)) return std::nullopt;
  return band_hash(sig.data(), band);
}

std::size_t bander::column(std::span<const sig_value> signatures, std::uint32_t band,
                           std::span<band_entry> out) const {
  const std::size_t n = signatures.size() / num_perm_;
  if (signatures.size() % num_perm_ != 0 || out.size() < n || band >= params_.bands ||
      n > std::size_t{std::numeric_limits<doc_id>::max()} + 1) {
    throw std::invalid_argument("bander::column: signatures.size() = " + std::to_string(signatures.size()) +
                                " must be a multiple of num_perm = " + std::to_string(num_perm_) +
                                ", out.size() = " + std::to_string(out.size()) + " >= documents = " +
                                std::to_string(n) + ", band = " + std::to_string(band) + " < bands = " +
                                std::to_string(params_.bands));
  }
  std::size_t written = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::span<const sig_value> sig = signatures.subspan(i * num_perm_, num_perm_);
    if (sig[std::size_t{band} * params_.rows] == empty_sig_value && is_empty_signature(sig)) continue;  // as in key()
    out[written++] = {band_hash(sig.data(), band), static_cast<doc_id>(i)};
  }
  return written;
}

}  // namespace neardup

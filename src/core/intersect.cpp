// The set merge behind count_shared and jaccard_at_least (shingle.hpp): the
// scalar merge, the staged jaccard_at_least, and the set check. The kernel is
// chosen by the dispatch object (dispatch.hpp); the AVX2 and AVX-512 block
// kernels are in intersect_{avx2,avx512}.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"
#include "neardup/detail/intersect_kernels.hpp"
#include "neardup/shingle.hpp"

namespace neardup {

namespace detail {

void merge_scalar(merge_task& t) noexcept {
  if (t.stopped) return;
  std::size_t i = t.i, j = t.j, common = t.common;
  auto decided = [&] {
    return common >= t.accept_at || common + std::min(t.na - i + t.a_after, t.nb - j + t.b_after) < t.reject_below;
  };
  while (i < t.na && j < t.nb) {
    if (decided()) {
      t.stopped = true;
      break;
    }
    // Each step advances i or j or both by one, so neither runs past its end.
    const std::size_t run = std::min({std::size_t{64}, t.na - i, t.nb - j});
    for (std::size_t s = 0; s < run; ++s) {
      const std::uint64_t x = t.a[i], y = t.b[j];
      common += x == y;
      i += x <= y;
      j += y <= x;
    }
  }
  t.i = i;
  t.j = j;
  t.common = common;
}

void throw_not_a_set(std::span<const std::uint64_t> values, const char* function, const char* argument) {
  std::size_t i = 1;
  while (i < values.size() && values[i - 1] < values[i]) ++i;
  char buf[160];
  std::snprintf(buf, sizeof buf, "[%zu] = 0x%016llx %s [%zu] = 0x%016llx", i - 1,
                static_cast<unsigned long long>(values[i - 1]), values[i - 1] == values[i] ? "==" : ">", i,
                static_cast<unsigned long long>(values[i]));
  throw std::invalid_argument(std::string(function) + ": " + argument + " is not a set (sorted ascending, " +
                              "no duplicates): " + argument + buf + "; make one with make_set()");
}

namespace {

detail::merge_task counting(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) noexcept {
  return {a.data(), a.size(), b.data(), b.size(), SIZE_MAX, 0, 0, 0, 0, 0, 0, false};
}

// The fewest shared elements c with c / (na + nb - c) >= threshold (J grows
// with c), or min(na, nb) + 1 when no c reaches it.
std::size_t jaccard_need(std::size_t na, std::size_t nb, double threshold) noexcept {
  auto reaches = [&](std::size_t c) {
    return na + nb == c ? 0.0 >= threshold
                        : static_cast<double>(c) / static_cast<double>(na + nb - c) >= threshold;
  };
  const std::size_t most = std::min(na, nb);
  if (!reaches(most)) return most + 1;
  // c / (na + nb - c) >= t  <=>  c >= t (na + nb) / (1 + t): start there and
  // correct for rounding with the comparison itself.
  const double guess = std::ceil(threshold * static_cast<double>(na + nb) / (1.0 + threshold));
  std::size_t c = guess <= 0.0 ? 0 : std::min(most, static_cast<std::size_t>(guess));
  while (c < most && !reaches(c)) ++c;
  while (c > 0 && reaches(c - 1)) --c;
  return c;
}

// The first stage of a staged intersection covers about this many values of
// both sets together.
constexpr std::size_t first_stage_values = 1024;

}  // namespace

std::size_t count_shared_unchecked(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b,
                                   sig_kernel kernel) {
  const implementation& impl = implementation_for(kernel, "count_shared: kernel");
  merge_task t = counting(a, b);
  impl.merge(t);
  return t.common;
}

std::size_t count_shared_unchecked(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) noexcept {
  merge_task t = counting(a, b);
  active_implementation().merge(t);
  return t.common;
}

bool jaccard_at_least_unchecked(std::span<const std::uint64_t> sorted_a, std::span<const std::uint64_t> sorted_b,
                                double threshold, double max_miss) {
  if (!(threshold >= 0.0 && threshold <= 1.0)) {
    throw std::invalid_argument("jaccard_at_least: threshold = " + std::to_string(threshold) +
                                " is outside [0, 1]");
  }
  if (!(max_miss >= 0.0 && max_miss < 1.0)) {
    throw std::invalid_argument("jaccard_at_least: max_miss = " + std::to_string(max_miss) + " is outside [0, 1)");
  }
  const std::size_t na = sorted_a.size(), nb = sorted_b.size();
  if (na + nb == 0) return 0.0 >= threshold;
  const std::size_t need = jaccard_need(na, nb, threshold);
  if (need == 0) return true;
  if (need > std::min(na, nb)) return false;
  const implementation& impl = active_implementation();
  // Bernstein: P(shared <= m t - x) <= exp(-x^2 / (2 (m v + x / 3))) = max_miss
  // at x = L/3 + sqrt(L^2/9 + 2 m v L), L = log(1 / max_miss); v = J (1 - J)
  // maximized over J >= t.
  // (Only pairs merged in several stages are tested; most are one stage, so
  // L is computed when first needed.)
  const bool sampled = max_miss > 0.0;
  double log_inv = 0.0;
  int s = 0;
  while (s < 62 && ((na + nb) >> (s + 1)) >= first_stage_values) ++s;
  std::size_t i = 0, j = 0, common = 0;
  for (;; --s) {
    std::size_t ia = na, jb = nb;
    if (s > 0) {
      const std::uint64_t end = std::uint64_t{1} << (64 - s);  // this stage: hashes below end
      ia = static_cast<std::size_t>(std::lower_bound(sorted_a.begin() + i, sorted_a.end(), end) - sorted_a.begin());
      jb = static_cast<std::size_t>(std::lower_bound(sorted_b.begin() + j, sorted_b.end(), end) - sorted_b.begin());
    }
    // The merge of this stage stops as soon as it can decide the pair.
    merge_task t{sorted_a.data() + i, ia - i, sorted_b.data() + j, jb - j, need - common, need - common,
                 na - ia, nb - jb, 0, 0, 0, false};
    impl.merge(t);
    common += t.common;
    if (common >= need) return true;
    if (t.stopped) return false;  // need is out of reach
    i = ia;
    j = jb;
    if (s == 0 || common + std::min(na - i, nb - j) < need) return false;
    if (sampled) {
      if (log_inv == 0.0) log_inv = -std::log(max_miss);
      const double var = threshold >= 0.5 ? threshold * (1.0 - threshold) : 0.25;
      const double m = static_cast<double>(i + j - common);  // values of A u B seen
      const double x = log_inv / 3.0 + std::sqrt(log_inv * log_inv / 9.0 + 2.0 * m * var * log_inv);
      if (static_cast<double>(common) < m * threshold - x) return false;
    }
  }
}

}  // namespace detail

}  // namespace neardup

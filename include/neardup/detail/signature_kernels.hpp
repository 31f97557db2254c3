// neardup/detail/signature_kernels.hpp — the per-ISA MinHash kernels behind
// neardup::minhasher. Internal: not part of the public API.
//
// Kernel translation units (src/core/signature_{scalar,avx2,avx512}.cpp)
// include only this header and <immintrin.h>: any inline function or template
// they instantiated could be merged by the linker with the baseline copy and
// run ISA-specific code on a CPU without it. Keep this header free of inline
// functions and templates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "neardup/types.hpp"

namespace neardup::detail {

// Functions of the classic scheme are processed in blocks of this many; the
// parameter arrays are zero-padded to a multiple of it.
inline constexpr std::size_t classic_block = 64;

// classic: out[i] = (min over x in xs[0..n) of ((mul[i] * x + add[i]) mod 2^64))
// >> 32, for i in [0, k). Equal to the min of the shifted values since >> is
// monotone. The caller clamps to 0xFFFFFFFE.
// REQUIRES: n >= 1; mul/add hold round_up(k, classic_block) entries; out holds
// k entries.
void classic_min_scalar(const std::uint64_t* xs, std::size_t n, const std::uint64_t* mul,
                        const std::uint64_t* add, std::size_t k, std::uint32_t* out) noexcept;
void classic_min_avx2(const std::uint64_t* xs, std::size_t n, const std::uint64_t* mul,
                      const std::uint64_t* add, std::size_t k, std::uint32_t* out) noexcept;
void classic_min_avx512(const std::uint64_t* xs, std::size_t n, const std::uint64_t* mul,
                        const std::uint64_t* add, std::size_t k, std::uint32_t* out) noexcept;

// one_permutation, before densification: for each x, h = splitmix64 finalizer
// of (x ^ seed); bin = (hi32(h) * k) >> 32; value = min(lo32(h), 0xFFFFFFFE);
// bins[bin] = min(bins[bin], value).
// REQUIRES: bins holds k entries, initialised by the caller (0xFFFFFFFF = empty).
void oph_bins_scalar(const std::uint64_t* xs, std::size_t n, std::uint64_t seed, std::uint32_t k,
                     sig_value* bins) noexcept;
void oph_bins_avx2(const std::uint64_t* xs, std::size_t n, std::uint64_t seed, std::uint32_t k,
                   sig_value* bins) noexcept;
void oph_bins_avx512(const std::uint64_t* xs, std::size_t n, std::uint64_t seed, std::uint32_t k,
                     sig_value* bins) noexcept;

// one_permutation, before densification: the non-empty bins (not
// 0xFFFFFFFF) as a bitmap, bit j of words[j / 64] for bin j, in
// (k + 63) / 64 words (bits past k clear); returns how many there are.
// REQUIRES: 1 <= k <= densify_max_bins.
std::size_t occupied_bins_scalar(const sig_value* bins, std::size_t k, std::uint64_t* words) noexcept;
std::size_t occupied_bins_avx2(const sig_value* bins, std::size_t k, std::uint64_t* words) noexcept;
std::size_t occupied_bins_avx512(const sig_value* bins, std::size_t k, std::uint64_t* words) noexcept;

// one_permutation, the argmin order of densification (detail::densify_rotations
// in signature.cpp has the rule): every empty bin i (0xFFFFFFFF) takes the
// value of the non-empty bin full[y] whose offset (i - full[y]) mod k has the
// smallest rank, rank2[k - full[y] + i]; non-empty bins keep theirs. The
// ranks of one bin differ for different y, so the minimum is unique.
// REQUIRES: 1 <= e <= k <= densify_max_bins; full holds the e non-empty bins;
// rank2 holds 2k entries.
inline constexpr std::size_t densify_max_bins = 4096;  // == max_num_perm
void densify_argmin_scalar(const std::uint16_t* rank2, const std::uint16_t* full, std::size_t e, std::size_t k,
                           sig_value* bins) noexcept;
void densify_argmin_avx2(const std::uint16_t* rank2, const std::uint16_t* full, std::size_t e, std::size_t k,
                         sig_value* bins) noexcept;
void densify_argmin_avx512(const std::uint16_t* rank2, const std::uint16_t* full, std::size_t e, std::size_t k,
                           sig_value* bins) noexcept;

}  // namespace neardup::detail

// Differential fuzzer: for shingle sets and k taken from arbitrary bytes, every
// supported signature kernel must give the same bits as the scalar one, for
// every scheme, and the band keys of equal signatures must be equal.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/signature.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t k = 1 + (data[0] | (data[1] & 0x01) << 8);  // 1..512
  std::vector<std::uint64_t> shingles((size - 2) / 8);
  if (!shingles.empty()) std::memcpy(shingles.data(), data + 2, shingles.size() * 8);
  static const std::vector<neardup::sig_kernel> kernels = neardup::supported_kernels();
  for (auto scheme : {neardup::minhash_scheme::classic, neardup::minhash_scheme::one_permutation,
                      neardup::minhash_scheme::superminhash}) {
    const neardup::minhasher scalar({.scheme = scheme, .num_perm = k, .seed = 17, .kernel = neardup::sig_kernel::scalar});
    const std::vector<neardup::sig_value> want = scalar.sign(shingles);
    check(neardup::is_empty_signature(want) == shingles.empty());
    for (auto kernel : kernels) {
      const neardup::minhasher h({.scheme = scheme, .num_perm = k, .seed = 17, .kernel = kernel});
      check(h.sign(shingles) == want);
    }
    const neardup::lsh_params p{static_cast<std::uint32_t>(1 + k / 8 % 4), static_cast<std::uint32_t>(k / (1 + k / 8 % 4))};
    if (p.rows == 0) continue;
    const neardup::bander b(p, k, 5);
    std::vector<std::uint64_t> keys1(p.bands), keys2(p.bands);
    const bool has1 = b.keys(want, keys1);
    const bool has2 = b.keys(scalar.sign(shingles), keys2);
    check(has1 == has2 && has1 == !shingles.empty());
    if (has1) check(keys1 == keys2);
  }
  return 0;
}

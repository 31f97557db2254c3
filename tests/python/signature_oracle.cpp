// Test oracle for tests/python/test_sketch.py: signs each line of stdin with
// the C++ library (neardup::shingler n-grams, then neardup::minhasher) and
// prints one line of space-separated signature values per input line.
//
//   python_signature_oracle NUM_PERM SCHEME(oph|classic|superminhash) NGRAM TOKENS(word|char|code) SEED
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "neardup/shingle.hpp"
#include "neardup/signature.hpp"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s NUM_PERM SCHEME NGRAM TOKENS SEED < lines\n", argv[0]);
    return 2;
  }
  const std::string scheme = argv[2], tokens = argv[4];
  neardup::minhash_options mo;
  mo.num_perm = std::strtoull(argv[1], nullptr, 10);
  mo.scheme = scheme == "classic"        ? neardup::minhash_scheme::classic
              : scheme == "superminhash" ? neardup::minhash_scheme::superminhash
                                         : neardup::minhash_scheme::one_permutation;
  mo.seed = std::strtoull(argv[5], nullptr, 10);
  neardup::shingle_options so;
  so.n = std::strtoull(argv[3], nullptr, 10);
  so.seed = mo.seed;
  so.tokens = tokens == "char"   ? neardup::tokenize_options::for_characters()
              : tokens == "code" ? neardup::tokenize_options::for_code()
                                 : neardup::tokenize_options::for_words();
  neardup::shingler sh(so);
  const neardup::minhasher hasher(mo);
  std::vector<std::uint64_t> set;
  std::vector<neardup::sig_value> sig(hasher.num_perm());
  for (std::string line; std::getline(std::cin, line);) {
    sh.shingles(line, set);
    hasher.sign(set, sig);
    for (std::size_t i = 0; i < sig.size(); ++i) std::printf(i ? " %u" : "%u", sig[i]);
    std::printf("\n");
  }
  return 0;
}

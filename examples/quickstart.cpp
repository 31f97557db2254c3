// The README's library example: streaming near-duplicate detection of a few
// strings with the core API (shingles -> MinHash -> LSH index -> exact check).
#include <cstdio>
#include <string>
#include <vector>

#include <neardup/neardup.hpp>

int main() {
  const std::vector<std::string> docs = {
      "The quick brown fox jumps over the lazy dog near the river bank today.",
      "The quick brown fox jumped over the lazy dog near the river bank today.",
      "A completely different sentence about deduplicating training data at scale.",
      "the QUICK brown fox jumps over the lazy dog, near the river bank today!",
  };
  const double threshold = 0.5;
  neardup::shingler shingler({.n = 3});                     // word 3-grams, seeded stable hashes
  const neardup::minhasher hasher({.num_perm = 128});       // one permutation + densification
  const neardup::lsh_params lsh = neardup::choose_params_for_recall(threshold, 128, 0.99);
  const neardup::bander bander(lsh, 128);
  neardup::lsh_index index(lsh.bands);

  std::vector<std::vector<std::uint64_t>> sets(docs.size());
  std::vector<neardup::sig_value> sig(128);
  std::vector<std::uint64_t> keys(lsh.bands);
  for (neardup::doc_id d = 0; d < docs.size(); ++d) {
    shingler.shingles(docs[d], sets[d]);                    // sorted, unique shingle hashes
    hasher.sign(sets[d], sig);
    if (!bander.keys(sig, keys)) continue;                  // no tokens: never a duplicate, not indexed
    bool duplicate = false;
    for (neardup::doc_id c : index.query(keys)) {           // LSH candidates ...
      const double j = neardup::exact_jaccard(sets[c], sets[d]);  // ... verified exactly
      if (j >= threshold) {
        std::printf("doc %u duplicates doc %u (Jaccard %.2f)\n", d, c, j);
        duplicate = true;
        break;
      }
    }
    if (!duplicate) index.insert(d, keys);                  // keep it
  }
  return 0;
}

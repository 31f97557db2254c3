"""neardup.signatures() against pure-NumPy classic MinHash, in one run.

The corpus: DOCS generated English-like documents of about 2 KB (fixed seed).
Every row computes k = 128 MinHash values over the same word 5-grams:

  numpy, datasketch-style   Python tokenizer (lowercase \\w+ runs), 5-grams
                            joined by spaces, SHA-1 to 32 bits per 5-gram
                            (datasketch's default hashfunc), then NumPy
                            universal hashing (a*h + b) mod (2^61 - 1), masked to
                            32 bits, minimum per function: one update_batch
                            per document, as datasketch's MinHash does.
  numpy over neardup's      the NumPy hashing and minimum alone, over the 5-gram
  5-gram hashes             hashes neardup.shingles() computed (not timed): the
                            part of the baseline no tokenizer choice can speed up.
  neardup.signatures        the C++ library, 1 thread and all cores, for the
                            default scheme (one permutation) and classic.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/bench_signatures.py [--docs N] [--short]
"""
import argparse
import hashlib
import os
import re
import struct
import sys
import time

import numpy as np

import neardup

K = 128
MERSENNE = np.uint64((1 << 61) - 1)
MAX32 = np.uint64((1 << 32) - 1)
WORD = re.compile(r"\w+")


def make_corpus(n, doc_bytes=2048, seed=42):
    rng = np.random.default_rng(seed)
    vocab = np.array(["".join(chr(97 + c) for c in rng.integers(0, 26, rng.integers(2, 9))) for _ in range(20000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1)  # Zipf-like word frequencies
    weights /= weights.sum()
    docs = []
    for _ in range(n):
        words = rng.choice(vocab, size=doc_bytes // 6, p=weights)
        docs.append(" ".join(words)[:doc_bytes])
    return docs


def numpy_permutations(seed=1):
    gen = np.random.RandomState(seed)
    a = gen.randint(1, MERSENNE, size=K, dtype=np.uint64)
    b = gen.randint(0, MERSENNE, size=K, dtype=np.uint64)
    return a, b


def numpy_update_batch(values, hashes, a, b):
    hv = hashes.reshape(-1, 1)
    phv = ((hv * a + b) % MERSENNE) & MAX32
    return np.minimum(values, phv.min(axis=0))


def sha1_32(data):
    return struct.unpack("<I", hashlib.sha1(data).digest()[:4])[0]


def baseline_datasketch_style(docs):
    a, b = numpy_permutations()
    out = np.empty((len(docs), K), dtype=np.uint64)
    for i, doc in enumerate(docs):
        tokens = WORD.findall(doc.lower())
        grams = [" ".join(tokens[j:j + 5]) for j in range(max(1, len(tokens) - 4))]
        hashes = np.array([sha1_32(g.encode()) for g in grams], dtype=np.uint64)
        out[i] = numpy_update_batch(np.full(K, MAX32, dtype=np.uint64), hashes, a, b)
    return out


def baseline_numpy_only(shingle_sets):
    a, b = numpy_permutations()
    out = np.empty((len(shingle_sets), K), dtype=np.uint64)
    for i, hashes in enumerate(shingle_sets):
        out[i] = numpy_update_batch(np.full(K, MAX32, dtype=np.uint64), hashes, a, b)
    return out


def timed(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10000)
    parser.add_argument("--short", action="store_true", help="1,000 documents (as CI runs it)")
    args = parser.parse_args()
    n = 1000 if args.short else args.docs
    docs = make_corpus(n)
    mb = sum(len(d.encode()) for d in docs) / 1e6
    cores = os.cpu_count()
    print(f"neardup {neardup.__version__}, Python {sys.version.split()[0]}, NumPy {np.__version__}, "
          f"{cores} cores; {n} documents, {mb:.1f} MB, k = {K}, word 5-grams")

    rows = []
    t = timed(lambda: baseline_datasketch_style(docs), 1)
    rows.append(("numpy, datasketch-style (baseline)", t))
    sets = [neardup.shingles(d) for d in docs]
    rows.append(("numpy over neardup's 5-gram hashes", timed(lambda: baseline_numpy_only(sets), 1)))
    for scheme in ("oph", "classic"):
        for threads in (1, None):
            label = f"neardup.signatures scheme={scheme} threads={threads or cores}"
            rows.append((label, timed(lambda: neardup.signatures(docs, num_perm=K, scheme=scheme,
                                                                  threads=threads), 5)))
    base = rows[0][1]
    print(f"{'':48} {'seconds':>9} {'docs/s':>10} {'MB/s':>8} {'vs baseline':>12}")
    for label, secs in rows:
        print(f"{label:48} {secs:9.4f} {n / secs:10.0f} {mb / secs:8.1f} {base / secs:11.1f}x")


if __name__ == "__main__":
    main()

"""neardup from Python: signatures, an LSH index with exact verification,
the in-memory dedup and decontamination, the file jobs with their HTML
report, and the datasketch-compatible layer.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/quickstart.py
    (or, after `cmake --install build/release --component python`: python3 examples/python/quickstart.py)
"""
import json
import pathlib
import tempfile

import neardup
from neardup.datasketch import MinHash, MinHashLSH

SAMPLE = pathlib.Path(__file__).resolve().parents[1] / "data" / "sample.jsonl"
records = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
texts = [r["text"] for r in records]

# 1. The whole job in memory: the same decisions as `neardup dedup`.
result = neardup.dedup(texts, threshold=0.8)
print(f"neardup {neardup.__version__}: {len(texts)} documents, kept {int(result.kept.sum())}, "
      f"removed {result.stats['removed_exact']} exact + {result.stats['removed_near']} near duplicates")
kept_records = [r for r, keep in zip(records, result.kept) if keep]

# 2. Building blocks: signatures (all cores, GIL released), an LSH index, exact verification.
signatures = neardup.signatures(texts, num_perm=128)          # uint32 array (n, 128)
index = neardup.LSHIndex(threshold=0.8, num_perm=128)
sets = {}
duplicates = 0
for i, (record, sig) in enumerate(zip(records, signatures)):
    sets[i] = neardup.shingles(record["text"])
    if any(neardup.exact_jaccard(sets[i], sets[j]) >= 0.8 for j in index.query(sig)):
        duplicates += 1                                       # a verified near duplicate of a kept one
    else:
        index.insert(i, sig)
print(f"LSHIndex + exact_jaccard: {duplicates} duplicates, {len(index)} documents indexed "
      f"(bands={index.bands}, rows={index.rows})")

# 3. datasketch code keeps working with one changed import.
lsh = MinHashLSH(threshold=0.8, num_perm=128)
minhashes = {}
for record in records[:50]:
    m = MinHash(num_perm=128)
    m.update_batch(w.encode() for w in record["text"].split())
    minhashes[record["id"]] = m
    lsh.insert(record["id"], m)
first = records[0]["id"]
print(f"MinHashLSH: {first} matches {lsh.query(minhashes[first])}")

# 4. Decontamination in memory: drop documents sharing 13-grams with a benchmark.
benchmark = [texts[0][:400], texts[5][:400]]                  # stand-ins for benchmark questions
clean = neardup.decontaminate(texts, benchmark, ngram=13)
print(f"decontaminate: removed {int(clean.removed.sum())} documents; document 0 matched references {clean.refs[0]}")

# 5. The file job, as `neardup dedup` writes it, and its one-page HTML report.
with tempfile.TemporaryDirectory() as out:
    stats = neardup.dedup_files(SAMPLE, out, progress=False)
    page = neardup.report(out)
    print(f"dedup_files: kept {stats['documents']['kept']}; report: {pathlib.Path(page).stat().st_size} bytes")

# 6. An index saved in neardup's versioned format, and loaded again.
with tempfile.TemporaryDirectory() as tmp:
    index.save(pathlib.Path(tmp) / "index.ndlsh")
    print(f"LSHIndex.load: {len(neardup.LSHIndex.load(pathlib.Path(tmp) / 'index.ndlsh'))} documents")

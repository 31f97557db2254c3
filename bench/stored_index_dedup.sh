#!/usr/bin/env bash
# Dedup against a stored index vs plain dedup of the same batch (the in-run
# baseline), and index bytes per document with and without shingle sets.
#
#   bench/stored_index_dedup.sh build/release/examples/neardup [DOCS_PER_BATCH]
#
# Generates two batches A and B of DOCS_PER_BATCH documents (default 100000,
# ~150 words each, near-duplicates of shared base texts within and across the
# batches), indexes A, then times `neardup dedup B` against
# `neardup dedup B --against index(A)` (and with --update-index), for
# --verify exact (the index stores sets) and --verify estimate (it does not).
# Checks on the way that B's kept documents equal those of one `dedup A B`.
set -euo pipefail
NEARDUP=$(realpath "$1")
N=${2:-100000}
WORK=$(mktemp -d /tmp/neardup_index_dedup.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

/usr/bin/python3 - "$N" <<'PY'
import json, random, sys
n = int(sys.argv[1])
rng = random.Random(5)
vocab = [f"w{i}" for i in range(30000)]
bases = [[rng.choice(vocab) for _ in range(150)] for _ in range(n // 3)]
for name in ("A", "B"):
    with open(name + ".jsonl", "w") as f:
        for i in range(n):
            words = list(rng.choice(bases))
            for _ in range(rng.randrange(0, 12)):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            f.write(json.dumps({"id": f"{name}{i}", "text": " ".join(words)}) + "\n")
PY
cat A.jsonl B.jsonl > AB.jsonl
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "batch: $N documents, $(du -m B.jsonl | cut -f1) MB"

seconds() {  # seconds of the command's wall time (best of 2)
  local best=""
  for _ in 1 2; do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    t1=$(date +%s.%N)
    best=$(/usr/bin/python3 -c "a='$best'; t=$t1-$t0; print(min(float(a), t) if a else t)")
  done
  echo "$best"
}

for verify in exact estimate; do
  "$NEARDUP" index build A.jsonl -o "idx_$verify" --verify "$verify" --quiet
  plain=$(seconds "$NEARDUP" dedup B.jsonl -o plain --verify "$verify" --quiet)
  against=$(seconds "$NEARDUP" dedup B.jsonl --against "idx_$verify" -o against --verify "$verify" --quiet)
  # --update-index changes the index: time it once on a copy.
  cp -r "idx_$verify" upd
  t0=$(date +%s.%N)
  "$NEARDUP" dedup B.jsonl --against upd --update-index -o updated --verify "$verify" --quiet
  t1=$(date +%s.%N)
  rm -rf upd
  "$NEARDUP" dedup AB.jsonl -o ab --verify "$verify" --quiet
  grep '^{"id": "B' ab/deduped.jsonl | cmp -s - against/deduped.jsonl && same=yes || same=NO
  bytes=$("$NEARDUP" index info "idx_$verify" | /usr/bin/python3 -c "import json,sys; i=json.load(sys.stdin); print(round(i['bytes']/i['documents']), i['documents'])")
  /usr/bin/python3 - "$verify" "$plain" "$against" "$t0" "$t1" $bytes "$same" <<'PY'
import sys
verify, plain, against, t0, t1, bytes_doc, docs, same = sys.argv[1:9]
plain, against, upd = float(plain), float(against), float(t1) - float(t0)
print(f"verify {verify}: plain dedup B {plain:.2f}s | against index(A) {against:.2f}s "
      f"({plain / against * 100:.0f}% of plain throughput) | with --update-index {upd:.2f}s "
      f"({plain / upd * 100:.0f}%) | index(A): {docs} documents, {bytes_doc} bytes/document | "
      f"B's kept documents equal one dedup of A+B: {same}")
PY
done

#!/usr/bin/env bash
# Dedup against a stored index vs plain dedup of the same batch (the in-run
# baseline, in alternating rounds: wall and CPU time), and index bytes per
# document with and without shingle sets.
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

# "wall cpu" seconds of one run (cpu: user + system, all threads).
timed() {
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" > /dev/null 2>&1
  awk '{printf "%s %.2f", $1, $2 + $3}' "$WORK/time"
}

# ROUNDS runs of plain dedup and dedup --against, alternating, so that both
# see the same load; the ratio of each round is plain time / against time.
ROUNDS=${ROUNDS:-3}
for verify in exact estimate; do
  "$NEARDUP" index build A.jsonl -o "idx_$verify" --verify "$verify" --quiet
  rounds=""
  for _ in $(seq "$ROUNDS"); do
    plain=$(timed "$NEARDUP" dedup B.jsonl -o plain --verify "$verify" --quiet)
    against=$(timed "$NEARDUP" dedup B.jsonl --against "idx_$verify" -o against --verify "$verify" --quiet)
    rounds="$rounds $plain $against"
  done
  # --update-index changes the index: time it once on a copy.
  cp -r "idx_$verify" upd
  updated=$(timed "$NEARDUP" dedup B.jsonl --against upd --update-index -o updated --verify "$verify" --quiet)
  rm -rf upd
  "$NEARDUP" dedup AB.jsonl -o ab --verify "$verify" --quiet
  grep '^{"id": "B' ab/deduped.jsonl | cmp -s - against/deduped.jsonl && same=yes || same=NO
  bytes=$("$NEARDUP" index info "idx_$verify" | /usr/bin/python3 -c "import json,sys; i=json.load(sys.stdin); print(round(i['bytes']/i['documents']), i['documents'])")
  /usr/bin/python3 - "$verify" "$same" $bytes $updated $rounds <<'PY'
import statistics, sys
verify, same, bytes_doc, docs, upd_wall, upd_cpu = sys.argv[1:7]
r = [float(x) for x in sys.argv[7:]]
rounds = [r[i:i + 4] for i in range(0, len(r), 4)]  # plain wall, plain cpu, against wall, against cpu
wall = [p / a * 100 for p, _, a, _ in rounds]
cpu = [p / a * 100 for _, p, _, a in rounds]
plain_wall = min(x[0] for x in rounds)
print(f"verify {verify}: plain dedup B {' / '.join(f'{x[0]:.2f}' for x in rounds)} s wall "
      f"({' / '.join(f'{x[1]:.2f}' for x in rounds)} s cpu) | against index(A) "
      f"{' / '.join(f'{x[2]:.2f}' for x in rounds)} s wall ({' / '.join(f'{x[3]:.2f}' for x in rounds)} s cpu)")
print(f"  throughput against / plain, per round: wall {' / '.join(f'{x:.0f}%' for x in wall)} "
      f"(median {statistics.median(wall):.0f}%), cpu {' / '.join(f'{x:.0f}%' for x in cpu)} "
      f"(median {statistics.median(cpu):.0f}%)")
print(f"  with --update-index {float(upd_wall):.2f} s wall, {float(upd_cpu):.2f} s cpu "
      f"({plain_wall / float(upd_wall) * 100:.0f}% of the fastest plain run) | index(A): {docs} documents, "
      f"{bytes_doc} bytes/document | B's kept documents equal one dedup of A+B: {same}")
PY
done

#!/usr/bin/env bash
# Bigger than RAM: `neardup dedup` under a memory budget, next to its in-run
# baseline (the same corpus deduplicated in memory). The corpora are made at
# run time (bench/make_short_corpus.py: short documents of 8-16 words,
# ~100 bytes, 10% exact and 20% near copies).
#
#   bench/bigger_than_ram.sh NEARDUP [DOCS] [SIZES] [WORKDIR]
#     NEARDUP   the neardup executable (build/release/examples/neardup)
#     DOCS      documents of the throughput corpus (default 2,000,000)
#     SIZES     comma-separated document counts of the corpora run with
#               --memory-mb 2048 (default 1000000,10000000; 0 skips them),
#               or paths of corpora that make_short_corpus.py made before
#               (used as they are, not deleted: a shared 100 M corpus)
#   NEARDUP_COMMAND=exact runs `neardup exact` for the sized corpora instead
#   of `neardup dedup`.
#     WORKDIR   where corpora, outputs and spilled runs go (default /tmp)
#
# Prints, per run: wall and CPU seconds (user + system, robust on a shared
# machine), MB/s of input, peak RSS, bytes of RAM and of disk per document,
# and checks that every spilled run's outputs equal the in-memory run's. Then
# a projection to 1 billion documents from the per-document costs between
# the two largest sizes (their difference, so fixed costs drop out).
set -euo pipefail
neardup=${1:?usage: bigger_than_ram.sh NEARDUP [DOCS] [SIZES] [WORKDIR]}
docs=${2:-2000000}
sizes=${3:-1000000,10000000}
work=$(mktemp -d "${4:-/tmp}/neardup_bigger_than_ram.XXXXXX")
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3

field() {  # field FILE KEY: the first numeric value of "KEY": in stats.json
  grep -o "\"$2\": [0-9.e+-]*" "$1" | head -1 | awk '{print $2}'
}

# run NAME INPUT [OPTIONS...]: one run of $command (dedup unless set);
# prints a row, leaves OUT=$work/NAME.
command=dedup
run() {
  local name=$1 input=$2
  shift 2
  local out=$work/$name
  /usr/bin/time -f "%e %U %S" -o "$work/$name.time" "$neardup" "$command" "$input" -o "$out" --quiet "$@"
  read -r wall user sys <"$work/$name.time"
  local n bytes rss disk
  n=$(field "$out/stats.json" read)
  bytes=$(stat -c %s "$input")
  rss=$(field "$out/stats.json" peak_rss_bytes)
  disk=$(field "$out/stats.json" disk_bytes_written)
  awk -v name="$name" -v n="$n" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" -v rss="$rss" -v disk="$disk" \
    'BEGIN { printf "%-22s %11d docs %8.1f s wall %8.1f s cpu %7.1f MB/s  peak RSS %6.0f MB  RAM %5.0f B/doc  disk %5.0f B/doc\n",
             name, n, w, u + s, b / 1e6 / w, rss / 1e6, rss / n, disk / n }'
  echo "$name $n $wall $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}') $rss $disk" >>"$work/rows"
}

same() {  # same A B: outputs of two runs are byte-identical
  for f in clusters.tsv deduped.jsonl evidence.tsv near_misses.tsv; do
    cmp -s "$work/$1/$f" "$work/$2/$f" || { echo "DIFFERENT: $1/$f vs $2/$f"; exit 1; }
  done
  echo "  $2: outputs byte-identical to $1"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "generating $docs documents..."
$py "$here/make_short_corpus.py" "$docs" >"$work/small.jsonl"
echo "== throughput: in memory vs a quarter of its peak =="
run in_memory "$work/small.jsonl"
peak=$(field "$work/in_memory/stats.json" peak_rss_bytes)
quarter=$((peak / 4 / 1048576))
run "quarter_${quarter}MB" "$work/small.jsonl" --memory-mb "$quarter"
same in_memory "quarter_${quarter}MB"
rm -rf "$work/quarter_${quarter}MB"
awk -v q="quarter_${quarter}MB" '
  $1 == "in_memory" { w0 = $3; c0 = $4 } $1 == q { w1 = $3; c1 = $4 }
  END { printf "  throughput at a quarter of the peak: %.0f%% of in-memory (wall), %.0f%% (cpu)\n", 100 * w0 / w1, 100 * c0 / c1 }' "$work/rows"

if [ "$sizes" != 0 ]; then
  rm -rf "$work/in_memory" "$work/small.jsonl"
  command=${NEARDUP_COMMAND:-dedup}
  for n in ${sizes//,/ }; do
    if [ -f "$n" ]; then
      corpus=$n
      n=$(wc -l <"$corpus")
    else
      corpus=$work/big.jsonl
      $py "$here/make_short_corpus.py" "$n" 2 >"$corpus"
    fi
    echo "== memory: $command, $n documents at --memory-mb 2048 =="
    run "budget_2048MB_$n" "$corpus" --memory-mb 2048
    echo "  input: $(stat -c %s "$corpus" | awk '{printf "%.2f GB", $1/1e9}')"
    rm -rf "$work/budget_2048MB_$n" "$work/big.jsonl"
  done
  # rows: name docs wall cpu rss disk; the last two sizes give the slope.
  grep '^budget_2048MB_' "$work/rows" | tail -2 | awk '
    { n[NR] = $2; w[NR] = $3; c[NR] = $4; r[NR] = $5; d[NR] = $6 }
    END {
      if (NR < 2) { n[0] = 0; w[0] = 0; c[0] = 0; r[0] = 0; d[0] = 0; a = 0 } else { a = 1 }
      dn = n[NR] - n[a]
      printf "  per extra document between %d and %d: %.0f B of RAM, %.0f B of disk, %.2f us wall, %.2f us cpu\n",
             n[a], n[NR], (r[NR] - r[a]) / dn, (d[NR] - d[a]) / dn, (w[NR] - w[a]) / dn * 1e6, (c[NR] - c[a]) / dn * 1e6
      printf "  projection to 1e9 documents on this machine: %.1f h wall (%.1f h cpu), %.0f GB of temporary disk, %.1f GB of RAM at this budget\n",
             (w[a] + (w[NR] - w[a]) / dn * (1e9 - n[a])) / 3600, (c[a] + (c[NR] - c[a]) / dn * (1e9 - n[a])) / 3600,
             (d[a] + (d[NR] - d[a]) / dn * (1e9 - n[a])) / 1e9, (r[a] + (r[NR] - r[a]) / dn * (1e9 - n[a])) / 1e9
    }'
fi

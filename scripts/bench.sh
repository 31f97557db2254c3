#!/usr/bin/env bash
# Runs every benchmark binary and prints its table. --short: a few seconds each
# (as CI does). Build first with scripts/test.sh or cmake --build build/release.
set -euo pipefail
cd "$(dirname "$0")/.."
min_time=0.5
[[ "${1:-}" == "--short" ]] && min_time=0.05
bash scripts/setup.sh
if [[ ! -d build/release ]]; then
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/release -j "$(nproc)" >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for b in build/release/bench/*_bench; do
  [[ -x "$b" ]] || continue
  echo; echo "--- $(basename "$b")"
  NEARDUP_BENCH_SHORT=$([[ $min_time == 0.05 ]] && echo 1 || echo 0) \
    "$b" --benchmark_min_time="$min_time" --benchmark_counters_tabular=true 2>&1 | grep -v '^\*\*\*'
done
# The Python package's benchmarks (when it was built): baselines in the same run.
if [[ -f build/release/python/neardup/__init__.py ]]; then
  for b in bench/python/bench_*.py; do
    echo; echo "--- $(basename "$b")"
    PYTHONPATH=build/release/python /usr/bin/python3 "$b" $([[ $min_time == 0.05 ]] && echo --short)
  done
fi

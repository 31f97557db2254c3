#!/usr/bin/env bash
# Builds neardup and passes every check, from a fresh Debian 12 machine:
#   1. installs missing packages (scripts/setup.sh)
#   2. Release build with -Werror, full test suite, then the Python package:
#      its pytest suite (Debian's /usr/bin/python3), installed into that
#      interpreter's site-packages, imported from there
#   3. AddressSanitizer + UndefinedBehaviorSanitizer build (clang), full test
#      suite; the same build makes the libFuzzer targets
#   4. install + find_package(neardup CONFIG) consumer project
#   5. the libFuzzer targets, a few seconds each
#   6. benchmarks in short mode, printing the speed table
# Set NEARDUP_SKIP_SAN=1, NEARDUP_SKIP_FUZZ=1 or NEARDUP_SKIP_BENCH=1 to skip a stage.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
bash scripts/setup.sh --fuzz

step() { printf '\n==== %s ====\n' "$*"; }
total_pass=0; total_fail=0
run_ctest() {
  local dir=$1 log
  log=$(mktemp)
  if ctest --test-dir "$dir" --output-on-failure -j "$jobs" 2>&1 | tee "$log"; then :; fi
  local line pass fail
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$log" | tail -n 1 || true)
  fail=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  pass=$(( $(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line") - fail ))
  rm -f "$log"
  [[ -n "$line" ]] || { echo "ctest in $dir printed no summary" >&2; exit 1; }
  total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
  ((fail == 0)) || { echo "$fail tests failed in $dir" >&2; echo "$total_pass passed, $total_fail failed"; exit 1; }
}

step "Release build (-Werror) and tests"
# The Python package is built for Debian's interpreter, which sees python3-numpy
# and python3-pytest (a python3 earlier on PATH may be another one).
python=/usr/bin/python3
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEARDUP_WERROR=ON \
      -DNEARDUP_BUILD_PYTHON=ON -DPython3_EXECUTABLE="$python" >/dev/null
cmake --build build/release -j "$jobs"
run_ctest build/release

step "Python package: pytest, install, import"
log=$(mktemp)
set +e
NEARDUP_BUILD_DIR="$root/build/release" "$python" -m pytest -q -p no:cacheprovider tests/python 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
pass=$(grep -Eo '[0-9]+ passed' "$log" | tail -n 1 | cut -d' ' -f1 || true)
fail=$({ grep -Eo '[0-9]+ (failed|error|errors)' "$log" || true; } | awk '{n += $1} END {print n + 0}')
rm -f "$log"
# pytest exit codes: 0 all passed, 1 some failed, 2 interrupted, 3 internal
# error, 4 usage error, 5 no tests collected: only 0 passes.
if ((rc != 0)) || [[ -z "$pass" ]]; then
  echo "pytest exited with status $rc (${fail} failed)" >&2
  echo "$((total_pass + ${pass:-0})) passed, $((total_fail + (fail > 0 ? fail : 1))) failed"
  exit 1
fi
total_pass=$((total_pass + pass))
sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" cmake --install build/release --component python >/dev/null
(cd / && "$python" -c "import neardup; print('installed: neardup', neardup.__version__, 'at', neardup.__file__)")
(cd / && "$python" "$root/examples/python/quickstart.py" >/dev/null)
total_pass=$((total_pass + 1))
# `pip install .` (pyproject.toml + setup.py drive the same CMake build) into a
# scratch venv that sees Debian's numpy, offline, reusing build/release.
rm -rf build/pip-venv
"$python" -m venv --system-site-packages build/pip-venv
NEARDUP_BUILD_DIR="$root/build/release" build/pip-venv/bin/pip install -q --no-build-isolation --no-index . >/dev/null
(cd / && "$root/build/pip-venv/bin/python" -c "import neardup, sys; assert neardup.__file__.startswith(sys.prefix); print('pip-installed: neardup', neardup.__version__)")
total_pass=$((total_pass + 1))

# One instrumented clang build serves both the sanitizer tests and the
# libFuzzer targets (one library build instead of two: about 4 minutes less).
run_san=0; run_fuzz=0
[[ "${NEARDUP_SKIP_SAN:-0}" != 1 ]] && run_san=1
[[ "${NEARDUP_SKIP_FUZZ:-0}" != 1 && -d fuzz ]] && command -v clang++ >/dev/null && run_fuzz=1
san_cxx=c++; command -v clang++ >/dev/null && san_cxx=clang++
if ((run_san || run_fuzz)); then
  step "AddressSanitizer + UndefinedBehaviorSanitizer build ($san_cxx$( ((run_fuzz)) && echo ', with the libFuzzer targets')) and tests"
  # Debug keeps assertions on; -O1 (as the ASan documentation suggests) compiles
  # the instrumented tests about 2.5x faster than -O2 and still runs them fast.
  CXX=$san_cxx cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
        -DNEARDUP_SANITIZE=address,undefined -DNEARDUP_BUILD_FUZZ=$( ((run_fuzz)) && echo ON || echo OFF) \
        -DNEARDUP_BUILD_TESTS=$( ((run_san)) && echo ON || echo OFF) -DNEARDUP_BUILD_BENCH=OFF -DNEARDUP_WERROR=ON >/dev/null
  cmake --build build/sanitize -j "$jobs"
  if ((run_san)); then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      NEARDUP_TEST_SCALE=small run_ctest build/sanitize
  fi
fi

step "Install and find_package(neardup CONFIG) consumer"
rm -rf build/install build/consumer build/consumer-core
cmake --install build/release --prefix "$root/build/install" >/dev/null
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$root/build/install" >/dev/null
cmake --build build/consumer -j "$jobs"
if build/consumer/consumer; then total_pass=$((total_pass + 1)); else total_fail=$((total_fail + 1)); echo "consumer failed" >&2; exit 1; fi
# Core only: simdjson, zlib and zstd are made unfindable, so a package config
# that looked for them without COMPONENTS io would fail here.
cmake -S tests/consumer -B build/consumer-core -G Ninja -DCMAKE_PREFIX_PATH="$root/build/install" \
      -DNEARDUP_CONSUMER_IO=OFF -DCMAKE_DISABLE_FIND_PACKAGE_simdjson=ON -DCMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_zstd=ON >/dev/null
cmake --build build/consumer-core -j "$jobs"
if build/consumer-core/consumer; then total_pass=$((total_pass + 1)); else total_fail=$((total_fail + 1)); echo "core-only consumer failed" >&2; exit 1; fi

if ((run_fuzz)); then
  step "Fuzzing (libFuzzer, ${NEARDUP_FUZZ_SECONDS:-10}s per target)"
  for f in build/sanitize/fuzz/fuzz_*; do
    [[ -x "$f" ]] || continue
    name=$(basename "$f"); corpus="fuzz/corpus/${name#fuzz_}"
    mkdir -p build/sanitize/fuzz-work/"$name"
    if "$f" -max_total_time="${NEARDUP_FUZZ_SECONDS:-10}" -rss_limit_mb=4096 -print_final_stats=0 \
         build/sanitize/fuzz-work/"$name" $( [[ -d $corpus ]] && echo "$corpus" ) >build/sanitize/fuzz-work/"$name".log 2>&1; then
      echo "$name: ok ($(grep -Eo '#[0-9]+' build/sanitize/fuzz-work/"$name".log | tail -n 1 | tr -d '#') runs)"
      total_pass=$((total_pass + 1))
    else
      tail -n 40 build/sanitize/fuzz-work/"$name".log; echo "$name: FAILED" >&2; total_fail=$((total_fail + 1)); exit 1
    fi
  done
fi

if [[ "${NEARDUP_SKIP_BENCH:-0}" != 1 ]]; then
  step "Benchmarks (short mode)"
  bash scripts/bench.sh --short
fi

echo
echo "$total_pass passed, $total_fail failed"

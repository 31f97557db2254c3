#!/usr/bin/env bash
# Installs what neardup needs to build and test on Debian 12, only if missing.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config git
      libxxhash-dev libabsl-dev libutf8proc-dev libsimdjson-dev zlib1g-dev libzstd-dev liblmdb-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      python3 python3-dev pybind11-dev python3-numpy python3-pytest python3-pip python3-setuptools python3-wheel python3-venv
      python3-dask python3-distributed  # neardup.dask and its tests (dask scheduler/worker)
      chromium)  # headless, for the report's browser test (tests/report_browser_test.sh)
if [[ "${1:-}" == "--fuzz" ]]; then pkgs+=(clang libclang-rt-14-dev); fi
missing=()
for p in "${pkgs[@]}"; do
  # (no `| grep -q`: it may exit before dpkg-query writes, and pipefail would
  # then count an installed package as missing)
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs what is missing, builds neardup and
# runs `neardup dedup` on the bundled sample corpus (438 Debian copyright files,
# examples/data/sample.jsonl), writing out/sample/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target neardup_cli
rm -rf out/sample
set -x
build/release/examples/neardup dedup examples/data/sample.jsonl -o out/sample
{ set +x; } 2>/dev/null
echo
echo "== out/sample/clusters.tsv (documents that were removed, and the one kept for each):"
# (awk and grep stop by themselves: `| head` could end them with SIGPIPE, which
# pipefail would turn into a failure of this script)
awk -F'\t' '$1 != $2 { print; if (++shown == 8) exit }' out/sample/clusters.tsv
echo "== out/sample/stats.json (excerpt):"
grep -m 9 -E '"(read|kept|removed|removed_exact_duplicates|removed_near_duplicates|count|bands|rows)"' out/sample/stats.json
if [[ -f examples/data/expected_clusters.tsv ]]; then
  if cmp -s out/sample/clusters.tsv examples/data/expected_clusters.tsv; then
    echo "== clusters match examples/data/expected_clusters.tsv (exact-Jaccard ground truth)"
  else
    echo "== clusters differ from examples/data/expected_clusters.tsv:"
    diff out/sample/clusters.tsv examples/data/expected_clusters.tsv | sed -n '1,10p' || true
    exit 1
  fi
fi

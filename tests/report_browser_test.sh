#!/usr/bin/env bash
# Browser test of `neardup report`: headless Chromium opens the page made from
# a dedup run over the bundled sample plus two near-duplicate documents full of
# markup, takes a screenshot, and the DOM it built is checked: every chart
# (inline SVG) and cluster view is there, the markup stayed text, the page has
# no <script> element at all (the report uses no JavaScript), and Chromium
# logged no script error. An eval run's page is opened too: precision and recall
# and the falsely merged documents beside their kept ones.
#
# usage: report_browser_test.sh NEARDUP_BINARY SOURCE_DIR
# Exit 77 (ctest: skipped) only when Chromium is missing and cannot be
# installed through scripts/setup.sh.
set -euo pipefail
neardup=$1
src=$2

find_chromium() { command -v chromium || command -v chromium-browser || true; }
browser=$(find_chromium)
if [[ -z "$browser" ]]; then
  echo "report_browser_test: chromium missing; installing it through scripts/setup.sh" >&2
  bash "$src/scripts/setup.sh" >&2 || true
  browser=$(find_chromium)
fi
if [[ -z "$browser" ]]; then
  echo "report_browser_test: SKIPPED: chromium is not installed and scripts/setup.sh could not install it" >&2
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/report_browser.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The sample, then two near duplicates whose text is markup and script.
cp "$src/examples/data/sample.jsonl" "$work/in.jsonl"
words=""
for i in $(seq 1 80); do words+="word$i "; done
printf '{"id":"<b>evil</b>","text":"<script>alert(1)</script> <img src=x onerror=alert(2)> %s"}\n' "$words" >>"$work/in.jsonl"
printf '{"id":"evil-2","text":"<script>alert(1)</script> <img src=x onerror=alert(2)> %s tail"}\n' "$words" >>"$work/in.jsonl"

"$neardup" dedup "$work/in.jsonl" -o "$work/out" --quiet
"$neardup" report "$work/out" -o "$work/report.html" --near-threshold 100

run_browser() {
  "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" \
    --enable-logging=stderr --v=0 "$@" "file://$work/report.html"
}
run_browser --dump-dom >"$work/dom.html" 2>"$work/dom.log"
run_browser --window-size=1400,2400 --screenshot="$work/shot.png" >/dev/null 2>"$work/shot.log"

fail=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; fail=1; fi
}
count() { grep -o -- "$1" "$work/dom.html" | wc -l; }

check "the DOM was dumped" test -s "$work/dom.html"
for chart in docs stages s-curve similarity sizes sources; do
  check "chart '$chart' is an inline SVG" test "$(count "<svg class=\"chart $chart\"")" -eq 1
done
check "every chart has axis labels" test "$(count 'class="atitle"')" -ge 6
for id in glance s-curve similarity cluster-sizes largest near-threshold near-misses sources; do
  check "section '$id' is present" test "$(count "<section id=\"$id\"")" -eq 1
done
check "cluster views show texts side by side" test "$(count '<div class="cols">')" -ge 5
check "differing words are highlighted" test "$(count '<mark>')" -ge 5
check "the page has no <script> element" test "$(count '<script')" -eq 0
check "the markup document is shown as text" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$work/dom.html"
check "the markup id is shown as text" grep -q '&lt;b&gt;evil&lt;/b&gt;' "$work/dom.html"
check "no <img> element came from the corpus" test "$(count '<img')" -eq 0
check "no script error in the browser log" bash -c "! grep -E 'Uncaught|SyntaxError|ReferenceError|TypeError' '$work/dom.log' '$work/shot.log'"
# An eval run without verification merges one cluster falsely on the sample:
# its page shows precision and recall and the falsely merged documents.
"$neardup" eval "$work/in.jsonl" -o "$work/eval" --verify none --quiet >/dev/null
"$neardup" report "$work/eval" -o "$work/eval.html" --quiet
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" --enable-logging=stderr --v=0 \
  --dump-dom "file://$work/eval.html" >"$work/eval_dom.html" 2>"$work/eval_dom.log"
check "eval: precision and recall are shown" grep -q '<span>precision (documents)</span>' "$work/eval_dom.html"
check "eval: the false merges are shown with both texts" \
  test "$(grep -o '<section id="false-merges">.*' "$work/eval_dom.html" | grep -o '<div class="cols">' | wc -l)" -ge 1
check "eval: no script error" bash -c "! grep -E 'Uncaught|SyntaxError|ReferenceError|TypeError' '$work/eval_dom.log'"
check "the screenshot was taken" test -s "$work/shot.png"
# PNG signature and the width asked for (IHDR width, big-endian, bytes 16-19).
check "the screenshot is a 1400-pixel-wide PNG" \
  test "$(od -An -tx1 -j16 -N4 "$work/shot.png" | tr -d ' \n')" = "00000578"
check "the screenshot is not blank" test "$(stat -c %s "$work/shot.png")" -gt 50000

if ((fail)); then
  echo "report_browser_test: page, DOM and logs kept in $work" >&2
  trap - EXIT
  exit 1
fi
echo "report_browser_test: passed ($(stat -c %s "$work/report.html") byte page, $(stat -c %s "$work/shot.png") byte screenshot)"

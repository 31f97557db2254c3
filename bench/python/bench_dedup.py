"""The cost of the Python layer: neardup.dedup() and dedup_files() against the
CLI on the bundled sample (438 documents), in one run; median of RUNS each.

  CLI process               `neardup dedup sample.jsonl -o DIR --quiet`: process
                            start, JSON parsing, the engine, all outputs written
  dedup_files (in-process)  the same command run inside Python
  dedup(texts)              the engine over texts already in memory
  json + dedup(texts)       reading and parsing the JSONL in Python first

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/bench_dedup.py [--runs N]
        [--cli build/release/examples/neardup] [--input examples/data/sample.jsonl]
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import tempfile
import time

import neardup

ROOT = pathlib.Path(__file__).resolve().parents[2]


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--short", action="store_true", help="5 runs (as CI runs it)")
    parser.add_argument("--cli", default=str(ROOT / "build" / "release" / "examples" / "neardup"))
    parser.add_argument("--input", default=str(ROOT / "examples" / "data" / "sample.jsonl"))
    args = parser.parse_args()
    if args.short:
        args.runs = 5
    path = pathlib.Path(args.input)
    texts = [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp)
        rows = [
            ("CLI process (baseline)", median_time(lambda: subprocess.run(
                [args.cli, "dedup", str(path), "-o", str(out / "cli"), "--quiet"], check=True), args.runs)),
            ("dedup_files (in-process CLI)", median_time(
                lambda: neardup.dedup_files(path, out / "py", progress=False), args.runs)),
            ("dedup(texts)", median_time(lambda: neardup.dedup(texts), args.runs)),
            ("json + dedup(texts)", median_time(lambda: neardup.dedup(
                [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]), args.runs)),
        ]
    base = rows[0][1]
    print(f"{len(texts)} documents from {path.name}; median of {args.runs} runs")
    print(f"{'':32} {'ms':>8} {'vs CLI':>8}")
    for label, secs in rows:
        print(f"{label:32} {secs * 1e3:8.1f} {secs / base:7.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""1 million tiny documents through `neardup dedup`: today's CLI against the
0.1.0 CLI, both run in this benchmark on the same generated corpus.

usage: /usr/bin/python3 bench/python/bench_short_e2e.py [--short] [--docs N] [--runs R]
           [--baseline-rev REV | --baseline-cli PATH] [CLI]

The corpus is bench/make_tiny_docs.py's (2-8 words per document, one in five
an earlier one plus a word; 1,000,000 documents = 60 MB of JSONL). The
baseline is the real old path, not an estimate: the `neardup` CLI of
--baseline-rev (default bcb8440, the last commit of 0.1.0 before issue 11:
one-permutation hashing whose empty bins are filled by optimal densification,
i.e. random probing, ~K^2/e probes for a set filling e of K bins), extracted
with `git archive` into a temporary directory, built there (Release, CLI
target only; a few minutes on 2 cores) and removed afterwards.
--baseline-cli PATH times an already built old CLI instead.

Each command runs with the page cache warm (one untimed read of the corpus),
at the default thread count (all cores) and, for today's CLI, also at
--threads 1. Wall time, CPU time (user + system, from wait4) and peak RSS are
those of the child process; today's figures are the median of R runs (3), the
baseline's of one (it takes ~30 s of CPU). The ratios are baseline / today.

--short (as CI runs it, from scripts/bench.sh): 100,000 documents, today's
CLI only (building 0.1.0 would take minutes); it says that it skipped the
baseline.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from make_tiny_docs import write_tiny_docs  # noqa: E402

BASELINE_REV = "bcb8440"


def timed(cmd: list) -> dict:
    """Runs cmd; returns wall and CPU seconds and peak RSS of the child."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {proc.returncode}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime,
            "rss_mb": ru.ru_maxrss / 1024}


def median_run(cmd: list, runs: int) -> dict:
    results = sorted((timed(cmd) for _ in range(runs)), key=lambda r: r["wall"])
    return results[len(results) // 2]


def build_baseline(rev: str, workdir: pathlib.Path) -> pathlib.Path:
    """Builds the CLI of `rev` from this repository's history under workdir."""
    src = workdir / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev],
                             check=True, stdout=subprocess.PIPE).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    build = workdir / "build"
    subprocess.run(["cmake", "-S", str(src), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                    "-DNEARDUP_BUILD_TESTS=OFF", "-DNEARDUP_BUILD_BENCH=OFF", "-DNEARDUP_BUILD_PYTHON=OFF",
                    "-Wno-dev"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 1), "-t", "neardup_cli"],
                   check=True, stdout=subprocess.DEVNULL)
    return build / "examples" / "neardup"


def row(name: str, r: dict, base: dict | None) -> str:
    s = (f"{name:<34} {r['wall']:8.2f} s wall {r['cpu']:8.2f} s CPU ({r['user']:.2f} user + {r['sys']:.2f} sys)"
         f" {r['rss_mb']:6.0f} MB")
    if base is not None:
        s += f"   x{base['wall'] / r['wall']:.1f} wall, x{base['cpu'] / r['cpu']:.1f} CPU"
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", action="store_true", help="100k documents, no baseline (as CI runs it)")
    ap.add_argument("--docs", type=int, default=None, help="documents (default 1,000,000; 100,000 with --short)")
    ap.add_argument("--runs", type=int, default=3, help="runs of today's CLI per thread count (median)")
    ap.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the old CLI to build")
    ap.add_argument("--baseline-cli", default=None, help="an already built old CLI (skips building)")
    ap.add_argument("cli", nargs="?", default=str(ROOT / "build/release/examples/neardup"))
    args = ap.parse_args()
    docs = args.docs or (100_000 if args.short else 1_000_000)
    runs = 1 if args.short else args.runs

    print(f"machine: {os.cpu_count()} cores; corpus: {docs:,} tiny documents (bench/make_tiny_docs.py)")
    with tempfile.TemporaryDirectory(prefix="neardup-short-e2e-") as tmp:
        tmpdir = pathlib.Path(tmp)
        corpus = tmpdir / "tiny.jsonl"
        write_tiny_docs(docs, str(corpus))
        corpus.read_bytes()  # page cache warm for every command
        print(f"corpus: {corpus.stat().st_size / 1e6:.1f} MB")

        old = None
        if args.baseline_cli:
            old = pathlib.Path(args.baseline_cli)
        elif not args.short:
            t0 = time.perf_counter()
            try:
                old = build_baseline(args.baseline_rev, tmpdir)
            except (subprocess.CalledProcessError, OSError) as e:
                print(f"baseline: cannot build {args.baseline_rev} from git history ({e}); no baseline in this run")
            else:
                print(f"baseline: built {args.baseline_rev}'s CLI in {time.perf_counter() - t0:.0f} s")
        else:
            print("baseline: skipped with --short (building the 0.1.0 CLI takes minutes); run without --short "
                  "for the in-run ratio")

        def dedup(cli, out: str, threads: int | None) -> list:
            cmd = [str(cli), "dedup", str(corpus), "-o", str(tmpdir / out), "--quiet"]
            return cmd + (["--threads", str(threads)] if threads else [])

        base = timed(dedup(old, "old", None)) if old is not None else None
        today = median_run(dedup(args.cli, "new", None), runs)
        today1 = median_run(dedup(args.cli, "new1", 1), runs)
        if base is not None:
            print(row(f"0.1.0 ({args.baseline_rev}), default threads", base, None))
        print(row(f"today, default threads (median of {runs})", today, base))
        print(row(f"today, --threads 1 (median of {runs})", today1, base))
        if base is not None:
            ratio = base["wall"] / today["wall"]
            print(f"end to end, default threads: x{ratio:.1f} wall, x{base['cpu'] / today['cpu']:.1f} CPU "
                  f"against 0.1.0 in this run (issue 11 asks for x20)")


if __name__ == "__main__":
    main()

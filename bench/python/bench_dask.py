#!/usr/bin/python3
"""neardup.dask against the single-process CLI, measured in the same run.

usage: PYTHONPATH=build/release/python /usr/bin/python3 bench/python/bench_dask.py [--short] [CLI]

--short (as CI runs it, from scripts/bench.sh): a 16 MB corpus in 4 MB parts.

Makes a JSONL corpus (NEARDUP_DASK_MB, default 1024 MB; 2 KB documents, a
quarter of them near-copies of recent ones; NEARDUP_DASK_CORPUS=FILE uses that
file instead), then, page cache warm:
  1. `neardup dedup CORPUS -o OUT` (CLI: build/release/examples/neardup), all cores;
  2. a `dask scheduler` and NEARDUP_DASK_WORKERS (2) `dask worker --nthreads 1`
     processes on 127.0.0.1, and `neardup.dask` dedup of the same corpus
     (parts of NEARDUP_DASK_PART_MB, default 128).
Checks that the outputs are identical, and prints wall seconds, MB/s, the
throughput ratio, the stage data sent per document and per stage, and
per-task costs from Dask's task stream (scan = pass 1 per part; lines = '\\n'
counts of ranges; keys = band keys of a part; group = buckets of a band range;
vplan = the pairs of small buckets in groups and each part's routes; vdata =
a part's candidates' signatures and sets for each group and for the finishing
task, where the part is; verify = one group's verdicts; meta = a part's
metadata; finish = exact groups, clustering answering from the verdicts,
keep choice and writing; route, pairs, vpiece, fdata, routesize: picking
pieces of a result where it is), with an estimate for 1 TB on 100 workers
made from them. NEARDUP_DASK_VERIFY_BUCKET=0 runs the earlier layout instead
(candidates = each part's candidates; sets = candidates' data; the finishing
task verifies every pair). fps = a part's usable documents' fingerprints in
pieces by a hash of the fingerprint (fpiece: picking one); exact = one
fingerprint group's documents whose text another document repeats.
write = one part's kept lines into deduped.jsonl,
where the part is (submitted and waited for by the finishing task: its own
time is printed without that wait); NEARDUP_DASK_WRITE_TASKS=0 has the
finishing task copy every kept line itself (the earlier layout).
"""
import json
import os
import pathlib
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def make_corpus(path: pathlib.Path, megabytes: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    vocab = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))))
             for _ in range(30000)]
    sentences = [" ".join(rng.choices(vocab, k=18)) + "." for _ in range(50000)]
    recent = []
    docs = 0
    target = megabytes << 20
    written = 0
    with open(path, "w") as out:
        batch = []
        while written < target:
            if recent and rng.random() < 0.25:
                words = rng.choice(recent).split(" ")
                for _ in range(4):
                    words[rng.randrange(len(words))] = rng.choice(vocab)
                text = " ".join(words)
            else:
                text = " ".join(rng.choices(sentences, k=16))
                if len(recent) < 512:
                    recent.append(text)
                else:
                    recent[rng.randrange(512)] = text
            line = f'{{"id":"d{docs}","text":"{text}"}}\n'
            batch.append(line)
            written += len(line)
            docs += 1
            if len(batch) == 4096:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return docs


def cpu_seconds(pid: int) -> tuple:
    """(user, system) CPU seconds of a running process so far (/proc/PID/stat)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def main() -> int:
    args = sys.argv[1:]
    short = "--short" in args
    args = [a for a in args if a != "--short"]
    cli = pathlib.Path(args[0] if args else ROOT / "build" / "release" / "examples" / "neardup")
    import distributed  # noqa: F401  (fail early without python3-distributed)
    import neardup.dask

    workers = int(os.environ.get("NEARDUP_DASK_WORKERS", "2"))
    part_bytes = int(float(os.environ.get("NEARDUP_DASK_PART_MB", "4" if short else "128")) * 2**20)
    verify_bucket = int(os.environ.get("NEARDUP_DASK_VERIFY_BUCKET", neardup.dask.DEFAULT_VERIFY_BUCKET))
    write_tasks = os.environ.get("NEARDUP_DASK_WRITE_TASKS", "1") != "0"
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="neardup_dask_bench."))
    procs = []
    try:
        corpus = os.environ.get("NEARDUP_DASK_CORPUS")
        if corpus:
            corpus = pathlib.Path(corpus)
        else:
            corpus = tmp / "corpus.jsonl"
            t = time.time()
            docs = make_corpus(corpus, int(os.environ.get("NEARDUP_DASK_MB", "16" if short else "1024")))
            print(f"corpus: {docs} documents, {corpus.stat().st_size / 1e6:.0f} MB, made in {time.time() - t:.0f}s",
                  flush=True)
        mb = corpus.stat().st_size / 1e6

        t = time.time()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(cli), "dedup", str(corpus), "-o", str(tmp / "cli"), "--quiet"], check=True)
        cli_s = time.time() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"cli: {cli_s:.1f}s, {mb / cli_s:.1f} MB/s (threads: all {os.cpu_count()} cores); CPU "
              f"{after.ru_utime - before.ru_utime:.1f}s user + {after.ru_stime - before.ru_stime:.1f}s system; "
              f"load average before: {os.getloadavg()[0]:.2f}", flush=True)

        env = dict(os.environ)
        sched_file = tmp / "scheduler.json"
        procs.append(subprocess.Popen(["/usr/bin/dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--no-dashboard", "--scheduler-file", str(sched_file)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not sched_file.exists() or not sched_file.read_text().strip():
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for i in range(workers):
            procs.append(subprocess.Popen(["/usr/bin/dask", "worker", address, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "0",
                                           "--local-directory", str(tmp)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client = distributed.Client(address, timeout=60)
        client.wait_for_workers(workers, timeout=120)
        client.run(lambda: __import__("neardup.dask"))  # import outside the timed run

        with distributed.get_task_stream(client) as ts:
            before = [cpu_seconds(p.pid) for p in procs] + [resource.getrusage(resource.RUSAGE_SELF)[:2]]
            t = time.time()
            r = neardup.dask.run("dedup", [str(corpus), "-o", str(tmp / "dask"), "--quiet"], client,
                                 part_bytes=part_bytes, verify_bucket=verify_bucket, write_tasks=write_tasks)
            dask_s = time.time() - t
            after = [cpu_seconds(p.pid) for p in procs] + [resource.getrusage(resource.RUSAGE_SELF)[:2]]
        used = [(a[0] - b[0], a[1] - b[1]) for a, b in zip(after, before)]
        print(f"dask: {dask_s:.1f}s, {mb / dask_s:.1f} MB/s ({workers} workers x 1 thread, "
              f"{r['dask']['parts']} parts of <= {part_bytes >> 20} MiB + the rest); CPU user + system: "
              f"workers {', '.join(f'{u:.1f}s + {s:.1f}s' for u, s in used[1:-1])}; scheduler "
              f"{used[0][0]:.1f}s + {used[0][1]:.1f}s; client {used[-1][0]:.1f}s + {used[-1][1]:.1f}s", flush=True)
        print(f"throughput dask / cli: {cli_s / dask_s:.0%}")

        peaks = client.run(lambda: __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss)
        print("worker peak RSS: " + ", ".join(f"{kb / 1024:.0f} MB" for kb in sorted(peaks.values())) +
              " (the largest ran the finishing task)")
        cli_rss = json.loads((tmp / "cli" / "stats.json").read_text())["peak_rss_bytes"]
        print(f"cli peak RSS: {cli_rss / 2**20:.0f} MB")
        for name in ("clusters.tsv", "deduped.jsonl"):
            same = (tmp / "cli" / name).read_bytes() == (tmp / "dask" / name).read_bytes()
            print(f"{name}: {'identical' if same else 'DIFFERENT'}")
        a = json.loads((tmp / "cli" / "stats.json").read_text())["documents"]
        print(f"stats.json documents: {'identical' if a == r['documents'] else 'DIFFERENT'}")

        docs = r["documents"]["read"]
        shuffle = r["dask"]["shuffle"]
        total = sum(shuffle.values())
        print(f"shuffle: {total} bytes = {total / docs:.0f} bytes/document; per stage: " +
              ", ".join(f"{k} {v / docs:.1f}" for k, v in shuffle.items()) +
              " bytes/document (band_keys: parts -> group tasks; buckets: group tasks -> vplan (or candidates) "
              "and finish; routes: vplan -> parts; pairs: vplan -> verify tasks; verification_data: candidates' "
              "signatures and sets, parts -> verify tasks; verdicts: verify tasks -> finish; candidate_data: "
              "signatures and sets of larger buckets' members (all candidates' without verify tasks) -> finish; "
              "fingerprints: parts -> exact tasks; exact_groups: exact tasks -> finish; "
              "metadata: parts -> finish; keep_lists: finish -> write tasks); "
              "lines -> scan 8 bytes per range; kept lines are copied from shared storage by the write tasks "
              "(or, without them, by the finishing task)")
        received = sum(shuffle.get(k, 0) for k in ('metadata', 'buckets', 'candidate_data', 'verdicts', 'parts',
                                                   'exact_groups'))
        print(f"received by the finishing task: {received / docs:.1f} bytes/document")

        costs = {}
        for task in ts.data:
            kind = task["key"].split("-")[2]
            took = sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
            costs.setdefault(kind, []).append(took)
        for kind, xs in sorted(costs.items()):
            print(f"task {kind}: {len(xs)} tasks, {sum(xs):.2f}s total, {max(xs):.2f}s max")
        busy, moved = {}, {}
        for task in ts.data:
            for s in task["startstops"]:
                into = busy if s["action"] == "compute" else moved if s["action"] == "transfer" else {}
                into[task["worker"]] = into.get(task["worker"], 0) + s["stop"] - s["start"]
        print("per worker: " + "; ".join(f"computing {busy[w]:.1f}s, receiving {moved.get(w, 0):.1f}s"
                                         for w in sorted(busy)) + f" of {dask_s:.1f}s")
        work = sum(sum(xs) for xs in costs.values())
        # The finishing task waits (seceded) for the write tasks it submits: that wait is theirs.
        waited = r["dask"].get("parts_write_seconds", 0.0)
        finish = sum(costs.get("finish", [0])) - waited
        work -= waited
        print(f"finishing task: {finish:.2f}s = {finish / work:.0%} of the task time, {finish / dask_s:.0%} of the "
              f"wall time (without its {waited:.2f}s waiting for the write tasks)")
        seq = finish + sum(costs.get("candidates", [0])) + sum(costs.get("vplan", [0]))
        spread = work - seq
        per_byte_spread = spread / (mb * 1e6)
        per_byte_seq = seq / (mb * 1e6)
        tb = 1e12
        print(f"per GB: {per_byte_spread * 1e9:.1f} worker-seconds in tasks that spread over the workers, "
              f"{per_byte_seq * 1e9:.1f} seconds in the two single tasks (vplan or candidates, finish)")
        print(f"1 TB on 100 workers (linear extrapolation): spread tasks {per_byte_spread * tb / 100 / 60:.0f} min; "
              f"single tasks {per_byte_seq * tb / 3600:.1f} h on one worker, which holds the metadata, buckets and "
              f"candidate data and verdicts: "
              f"{received / mb / 1e6 * tb / 1e9:.0f} GB")

        # decontaminate: references cut from 200 of the corpus's documents
        refs = tmp / "bench.jsonl"
        with open(corpus) as f, open(refs, "w") as out:
            for i, line in zip(range(200 * 50), f):
                if i % 50 == 0:
                    words = json.loads(line)["text"].split(" ")
                    out.write(json.dumps({"id": f"r{i}", "text": " ".join(words[10:60])}) + "\n")
        t = time.time()
        subprocess.run([str(cli), "decontaminate", str(corpus), "--reference", str(refs), "-o", str(tmp / "cli_dc"),
                        "--quiet"], check=True)
        cli_dc = time.time() - t
        with distributed.get_task_stream(client) as ts:
            t = time.time()
            d = neardup.dask.run("decontaminate", [str(corpus), "--reference", str(refs), "-o", str(tmp / "dask_dc"),
                                                   "--quiet"], client, part_bytes=part_bytes)
            dask_dc = time.time() - t
        same = all((tmp / "cli_dc" / n).read_bytes() == (tmp / "dask_dc" / n).read_bytes()
                   for n in ("contamination.tsv", "clean.jsonl"))
        print(f"decontaminate: cli {cli_dc:.1f}s ({mb / cli_dc:.1f} MB/s), dask {dask_dc:.1f}s ({mb / dask_dc:.1f} MB/s), "
              f"dask / cli {cli_dc / dask_dc:.0%}; {d['documents']['removed']} removed; outputs "
              f"{'identical' if same else 'DIFFERENT'}")
        costs = {}
        for task in ts.data:
            kind = task["key"].split("-")[2]
            took = sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
            costs.setdefault(kind, []).append(took)
        print("decontaminate tasks: " + ", ".join(f"{k} {len(xs)} x, {sum(xs):.2f}s" for k, xs in sorted(costs.items())))
        client.close()
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

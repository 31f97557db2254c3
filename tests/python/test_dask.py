"""neardup.dask against a real `dask scheduler` and `dask worker` processes on
127.0.0.1: the outputs are those of the single-machine CLI, byte for byte."""
import gzip
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

import neardup.dask  # noqa: E402  (after the importorskip)

from conftest import BUILD_DIR  # noqa: E402

DASK = "/usr/bin/dask"  # python3-distributed 2022.12: `dask scheduler`, `dask worker`


def _env():
    env = dict(os.environ)
    if os.environ.get("NEARDUP_TEST_INSTALLED") != "1":
        env["PYTHONPATH"] = str(BUILD_DIR / "python") + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Cluster:
    """A scheduler and worker processes; stop() ends exactly the processes it started."""

    def __init__(self, tmp: pathlib.Path):
        self.tmp = tmp
        self.file = tmp / "scheduler.json"
        self.procs = []
        self.workers = {}  # name -> Popen
        self.scheduler = subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
             str(self.file)], env=_env(), stdout=subprocess.DEVNULL, stderr=open(tmp / "scheduler.log", "wb"))
        self.procs.append(self.scheduler)
        deadline = time.time() + 60
        while not self.file.exists() or not self.file.read_text().strip():
            if time.time() > deadline or self.scheduler.poll() is not None:
                raise RuntimeError("dask scheduler did not start: " + (tmp / "scheduler.log").read_text())
            time.sleep(0.1)
        self.address = json.loads(self.file.read_text())["address"]
        self.client = distributed.Client(self.address, timeout=60)

    def add_workers(self, names, memory_limit="0", nanny=False):
        for name in names:
            p = subprocess.Popen(
                [DASK, "worker", self.address, "--name", name, "--nthreads", "1", "--nanny" if nanny else "--no-nanny",
                 "--no-dashboard",
                 "--host", "127.0.0.1", "--memory-limit", memory_limit, "--local-directory", str(self.tmp)],
                env=_env(), stdout=subprocess.DEVNULL, stderr=open(self.tmp / f"{name}.log", "wb"))
            self.procs.append(p)
            self.workers[name] = p
        self.client.wait_for_workers(len(self.running()), timeout=120)

    def running(self):
        return [n for n, p in self.workers.items() if p.poll() is None]

    def address_of(self, name):
        for addr, info in self.client.scheduler_info()["workers"].items():
            if info.get("name") == name:
                return addr
        raise KeyError(name)

    @staticmethod
    def _end(procs):
        """SIGTERM, then SIGKILL for a process still running after 15 s: a
        worker's graceful close can wait on the scheduler on a loaded machine,
        and these tests are about results, not about a graceful shutdown."""
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_workers(self, names):
        self._end([self.workers.pop(name) for name in names])
        deadline = time.time() + 30
        while len(self.client.scheduler_info()["workers"]) > len(self.running()) and time.time() < deadline:
            time.sleep(0.1)

    def stop(self):
        self.client.close()
        self._end(list(reversed(self.procs)))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.add_workers(["w1", "w2"])
        yield c
    finally:
        c.stop()


def write_corpus(directory: pathlib.Path, files: int, docs: int, seed: int = 1, words_per_doc: int = 60,
                 bad: bool = True) -> list:
    """JSONL files with exact and near duplicates across files, a bad line,
    blank lines, repeated and missing ids."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)]
    base = [" ".join(rng.choice(vocab) for _ in range(words_per_doc)) for _ in range(max(docs * files // 4, 1))]
    paths = []
    directory.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        path = directory / f"part{f}.jsonl"
        with open(path, "w") as out:
            for i in range(docs):
                text = rng.choice(base)
                if rng.random() < 0.5:
                    ws = text.split()
                    ws[rng.randrange(len(ws))] = "edit"
                    text = " ".join(ws)
                if bad and f == files - 1 and i == 3:
                    out.write('{"id": "broken", "text": \n')
                    continue
                if i % 17 == 5:
                    out.write("\n")
                record = {"text": text} if i % 11 == 0 else {"id": f"d{i % (docs // 2 + 1)}", "text": text}
                out.write(json.dumps(record) + "\n")
        paths.append(path)
    return paths


def cli_run(cli, command, inputs, out, *options):
    subprocess.run([str(cli), command, *map(str, inputs), "-o", str(out), "--quiet", *options], check=True)


def assert_same(single: pathlib.Path, dist: pathlib.Path):
    for name in ("clusters.tsv", "deduped.jsonl", "evidence.tsv", "near_misses.tsv", "sources.tsv"):
        assert (single / name).read_bytes() == (dist / name).read_bytes(), name
    a = json.loads((single / "stats.json").read_text())
    b = json.loads((dist / "stats.json").read_text())
    assert a["documents"] == b["documents"]
    assert a["clusters"] == b["clusters"]
    # _SUCCESS lists the same files with the same bytes (stats.json's timings aside)
    listed = [[f for f in json.loads((d / "_SUCCESS").read_text())["files"] if f["name"] != "stats.json"]
              for d in (single, dist)]
    assert listed[0] == listed[1] and any(f["name"] == "deduped.jsonl" for f in listed[1])
    assert not [n for n in os.listdir(dist) if ".tmp." in n]


@pytest.mark.parametrize("files", [1, 3, 8])
def test_dedup_is_the_cli_result_for_any_partitioning(cluster, cli, tmp_path, files):
    inputs = write_corpus(tmp_path / "in", files, 240 // files * 2)
    cli_run(cli, "dedup", inputs, tmp_path / "single", "--threshold", "0.7")
    r = neardup.dask.dedup(inputs, tmp_path / "dist", client=cluster.client, progress=False, threshold=0.7)
    assert r["dask"]["parts"] == files
    assert r["documents"]["removed_near_duplicates"] > 0 and r["documents"]["removed_exact_duplicates"] > 0
    assert r["dask"]["shuffle"]["verdicts"] > 0  # verification ran as tasks (the default)
    assert r["dask"]["shuffle"]["keep_lists"] > 0  # deduped.jsonl written by the parts' tasks (the default)
    assert r["dask"]["shuffle"]["fingerprints"] > 0 and r["dask"]["shuffle"]["exact_groups"] > 0  # exact groups too
    assert_same(tmp_path / "single", tmp_path / "dist")
    if files == 3:  # the earlier layout: the finishing task writes deduped.jsonl alone
        r = neardup.dask.run("dedup", [*map(str, inputs), "-o", str(tmp_path / "alone"), "--quiet", "--threshold",
                                       "0.7"], cluster.client, write_tasks=False)
        assert "keep_lists" not in r["dask"]["shuffle"]
        assert_same(tmp_path / "single", tmp_path / "alone")


@pytest.mark.parametrize("verify_bucket", [0, 2, 1024])
def test_verification_in_tasks_or_in_the_finishing_task(cluster, cli, tmp_path, verify_bucket):
    inputs = write_corpus(tmp_path / "in", 3, 80, seed=11)
    for verify in ("exact", "estimate"):
        cli_run(cli, "dedup", inputs, tmp_path / f"single-{verify}", "--threshold", "0.7", "--verify", verify)
        r = neardup.dask.dedup(inputs, tmp_path / f"dist-{verify}", client=cluster.client, progress=False,
                               threshold=0.7, verify=verify, verify_bucket=verify_bucket)
        assert_same(tmp_path / f"single-{verify}", tmp_path / f"dist-{verify}")
        shuffle = r["dask"]["shuffle"]
        assert ("verdicts" in shuffle) == (verify_bucket > 0)
        if verify_bucket > 0:
            assert shuffle["verdicts"] > 0 and shuffle["verification_data"] > 0


def write_large(path: pathlib.Path, megabytes: int, seed: int):
    """A plain JSONL file of about `megabytes` MB with near and exact
    duplicates, bad lines, blank lines and repeated ids throughout."""
    rng = random.Random(seed)
    vocab = [f"t{i}" for i in range(4000)]
    base = [" ".join(rng.choice(vocab) for _ in range(150)) for _ in range(2000)]
    lines = []
    size, n = 0, 0
    while size < megabytes * 10**6:
        text = rng.choice(base)
        if rng.random() < 0.3:
            text = text.replace("t1", "zz", 1)
        line = json.dumps({"text": text} if n % 3 else {"id": f"x{n % 3000}", "text": text}) + "\n"
        if n % 997 == 5:
            line += "not json\n"
        if n % 613 == 0:
            line += "  \n"
        lines.append(line)
        size += len(line)
        n += 1
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize("part_mb", [4, 8, 64])
def test_byte_ranges_of_a_large_file(cluster, cli, tmp_path_factory, part_mb):
    directory = tmp_path_factory.getbasetemp() / "large"
    if not directory.exists():
        directory.mkdir()
        write_large(directory / "large.jsonl", 20, seed=2)
        write_corpus(directory, 2, 40, seed=6)
        cli_run(cli, "dedup", [directory / "large.jsonl", directory / "part0.jsonl", directory / "part1.jsonl"],
                directory / "single")
    inputs = [directory / "large.jsonl", directory / "part0.jsonl", directory / "part1.jsonl"]
    out = tmp_path_factory.mktemp("ranges")
    r = neardup.dask.dedup(inputs, out / "dist", client=cluster.client, progress=False, part_bytes=part_mb << 20)
    # 20 MB read in 8 MiB chunks: 3 chunks, in ranges of at least part_mb (the last one less); 2 small files
    assert r["dask"]["parts"] == {4: 5, 8: 4, 64: 3}[part_mb]
    assert_same(directory / "single", out / "dist")


def test_one_two_and_four_workers_agree(cluster, cli, tmp_path):
    inputs = write_corpus(tmp_path / "in", 6, 60, seed=5)
    cli_run(cli, "dedup", inputs, tmp_path / "single")
    one = cluster.address_of("w1")
    # 1 worker: every task restricted to w1; 2: the fixture's; 4: two more.
    neardup.dask.run("dedup", [*map(str, inputs), "-o", str(tmp_path / "w1"), "--quiet"], cluster.client,
                     workers=[one], allow_other_workers=False)
    assert_same(tmp_path / "single", tmp_path / "w1")
    neardup.dask.dedup(inputs, tmp_path / "w2", client=cluster.client, progress=False)
    assert_same(tmp_path / "single", tmp_path / "w2")
    cluster.add_workers(["w3", "w4"])
    try:
        assert len(cluster.client.scheduler_info()["workers"]) == 4
        neardup.dask.dedup(inputs, tmp_path / "w4", client=cluster.client, progress=False,
                           work_dir=tmp_path / "work")
        assert_same(tmp_path / "single", tmp_path / "w4")
        assert os.listdir(tmp_path / "work") == []  # stage data files removed
    finally:
        cluster.stop_workers(["w3", "w4"])


def test_exact_options_and_compressed_and_text_inputs(cluster, cli, tmp_path):
    inputs = write_corpus(tmp_path / "in", 2, 50, seed=9)
    gz = tmp_path / "in" / "zipped.jsonl.gz"
    with gzip.open(gz, "wb") as f:
        f.write(inputs[0].read_bytes())
    texts = tmp_path / "texts"
    texts.mkdir()
    for i in range(5):
        (texts / f"t{i}.txt").write_text("the same little text file " * (1 + i % 2))
    all_inputs = [*inputs, gz, texts]
    cli_run(cli, "exact", all_inputs, tmp_path / "single", "--keep", "longest")
    r = neardup.dask.exact(all_inputs, tmp_path / "dist", client=cluster.client, progress=False, keep="longest")
    assert_same(tmp_path / "single", tmp_path / "dist")
    # a text file's output line is made from its text: its size is not known beforehand, so the finishing task
    # writes deduped.jsonl; without text files, the parts' tasks do (a compressed input read again by its task)
    assert "keep_lists" not in r["dask"]["shuffle"]
    cli_run(cli, "exact", [*inputs, gz], tmp_path / "single_jsonl")
    r = neardup.dask.exact([*inputs, gz], tmp_path / "dist_jsonl", client=cluster.client, progress=False)
    assert r["dask"]["shuffle"]["keep_lists"] > 0
    assert r["dask"]["shuffle"]["fingerprints"] > 0  # exact groups as tasks
    assert r["documents"]["removed_exact_duplicates"] > 0
    assert_same(tmp_path / "single_jsonl", tmp_path / "dist_jsonl")
    opts = ["--num-perm", "64", "--ngram", "3", "--verify", "estimate", "--tokens", "char", "--threshold", "0.6"]
    cli_run(cli, "dedup", all_inputs, tmp_path / "single2", *opts)
    neardup.dask.run("dedup", [*map(str, all_inputs), "-o", str(tmp_path / "dist2"), "--quiet", *opts],
                     cluster.client)
    assert_same(tmp_path / "single2", tmp_path / "dist2")


def test_bad_records_are_reported_counted_and_kept(cluster, tmp_path, capsys):
    inputs = write_corpus(tmp_path / "in", 2, 30)
    r = neardup.dask.dedup(inputs, tmp_path / "out", client=cluster.client)
    assert f"neardup: {inputs[1]}:4: skipped (malformed_json" in capsys.readouterr().err
    assert r["documents"]["skipped"] == 1
    assert any(n.startswith(f"{inputs[1]}:4: skipped (malformed_json") for n in r["dask"]["notices"])
    assert '{"id": "broken", "text": \n' in (tmp_path / "out" / "deduped.jsonl").read_text()
    assert any("duplicate id" in n for n in r["dask"]["notices"])


def test_a_run_past_its_timeout_raises(cluster, tmp_path):
    inputs = write_corpus(tmp_path / "in", 4, 400, seed=13)
    with pytest.raises(TimeoutError, match="no result after 0.001 s"):
        neardup.dask.dedup(inputs, tmp_path / "out", client=cluster.client, progress=False, timeout=0.001)
    # the cluster still serves the next run
    neardup.dask.dedup(inputs, tmp_path / "again", client=cluster.client, progress=False, timeout=600)
    assert (tmp_path / "again" / "deduped.jsonl").exists()


def test_missing_input_fails_before_any_task(tmp_path):
    class NoClient:
        def submit(self, *a, **k):
            raise AssertionError("a task was scheduled")

    (tmp_path / "a.jsonl").write_text('{"text": "x y z"}\n')
    with pytest.raises(OSError, match="missing.jsonl"):
        neardup.dask.dedup([tmp_path / "a.jsonl", tmp_path / "missing.jsonl"], tmp_path / "out", client=NoClient())
    with pytest.raises(ValueError, match="standard input"):
        neardup.dask.dedup(["-"], tmp_path / "out", client=NoClient())
    with pytest.raises(ValueError, match="threshold"):
        neardup.dask.dedup([tmp_path / "a.jsonl"], tmp_path / "out", client=NoClient(), threshold=7)
    with pytest.raises(ValueError, match="verify_bucket"):
        neardup.dask.dedup([tmp_path / "a.jsonl"], tmp_path / "out", client=NoClient(), verify_bucket=5000)
    with pytest.raises(ValueError, match="unknown option --no-exact-frist"):
        neardup.dask.dedup([tmp_path / "a.jsonl"], tmp_path / "out", client=NoClient(), no_exact_frist=False)


def test_command_line(cluster, cli, tmp_path):
    inputs = write_corpus(tmp_path / "in", 3, 40, seed=3)
    cli_run(cli, "dedup", inputs, tmp_path / "single")
    env = _env()
    p = subprocess.run([sys.executable, "-m", "neardup.dask", "dedup", *map(str, inputs), "-o", str(tmp_path / "dist"),
                        "--scheduler", cluster.address, "--work-dir", str(tmp_path), "--verify-bucket", "3"], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "neardup.dask dedup: " in p.stderr and ":4: skipped (malformed_json" in p.stderr
    assert_same(tmp_path / "single", tmp_path / "dist")
    p = subprocess.run([sys.executable, "-m", "neardup.dask", "dedup", *map(str, inputs), "-o", str(tmp_path / "x"),
                        "--scheduler", cluster.address, "--verify-bucket", "many"], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 2 and "--verify-bucket" in p.stderr
    p = subprocess.run([sys.executable, "-m", "neardup.dask", "dedup", str(tmp_path / "nope.jsonl"), "-o",
                        str(tmp_path / "x"), "--scheduler", "tcp://127.0.0.1:1"], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 1 and "nope.jsonl" in p.stderr


@pytest.mark.parametrize("command, stage", [("dedup", "scan"), ("dedup", "write"), ("decontaminate", "scan")])
def test_a_worker_killed_mid_run(cluster, cli, tmp_path, command, stage):
    """stage: the victim (which runs every task it can) is killed while it holds a part ("scan"), or, for
    "write", once the finishing task (on the victim) has made deduped.jsonl's temporary file for the
    parts' write tasks: the finishing task runs again elsewhere, and the killed attempt's file is removed."""
    inputs = write_corpus(tmp_path / "in", 8, 1500, seed=11, words_per_doc=150)
    options = []
    if command == "decontaminate":
        options = ["--reference", str(write_references(tmp_path / "bench.jsonl", inputs[:1])), "--ngram", "8"]
    cli_run(cli, command, inputs, tmp_path / "single", *options)
    cluster.add_workers(["victim"])
    victim = cluster.address_of("victim")
    result = {}

    def go():
        try:
            result["r"] = neardup.dask.run(command, [*map(str, inputs), "-o", str(tmp_path / "dist"), "--quiet",
                                                     *options],
                                           cluster.client, work_dir=tmp_path / "work", workers=[victim])
        except BaseException as e:  # reported by the assertion below
            result["error"] = e

    t = threading.Thread(target=go)
    t.start()
    deadline = time.time() + 60
    killed_mid_run = False
    out = tmp_path / "dist"
    while time.time() < deadline and t.is_alive():
        if stage == "write":
            ready = out.is_dir() and any(n.startswith("deduped.jsonl.tmp.") for n in os.listdir(out))
        else:
            ready = any("scan" in str(k) for k in cluster.client.has_what().get(victim, ()))
        if ready:
            killed_mid_run = t.is_alive()
            cluster.workers["victim"].kill()  # SIGKILL: no cleanup of any kind
            break
        time.sleep(0.001 if stage == "write" else 0.005)
    t.join(timeout=120)
    cluster.workers.pop("victim").wait()
    assert killed_mid_run, "the run ended before the worker could be killed"
    assert "error" not in result, result.get("error")
    if command == "dedup":
        assert_same(tmp_path / "single", tmp_path / "dist")
    else:
        assert_same_decontaminate(tmp_path / "single", tmp_path / "dist")
        assert result["r"]["documents"]["contaminated"] > 0
    assert not (tmp_path / "work").exists() or os.listdir(tmp_path / "work") == []


def test_worker_memory_below_the_corpus(cli, tmp_path):
    # Documents of ~14 KB: 28 MB per file, 8 files; workers limited to 200 MB each.
    directory = tmp_path / "in"
    directory.mkdir()
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(4)
    inputs = []
    for f in range(8):
        path = directory / f"big{f}.jsonl"
        numbers = rng.integers(100000, 1000000, size=(2000, 2000)).tolist()
        with open(path, "w") as out:
            for i, row in enumerate(numbers):
                out.write(f'{{"id": "{f}-{i}", "text": "{" ".join(map(str, row))}"}}\n')
        inputs.append(path)
    corpus = sum(p.stat().st_size for p in inputs)
    limit = 200 * 2**20
    assert corpus > limit
    c = Cluster(tmp_path)
    try:
        c.add_workers(["m1", "m2"], memory_limit=str(limit), nanny=True)
        # A timeout: a run that cannot finish (a lost result) fails here, not by hanging CI.
        r = neardup.dask.dedup(inputs, tmp_path / "dist", client=c.client, progress=False, part_bytes=16 << 20,
                               timeout=600)
        assert r["dask"]["parts"] == 16  # each 28 MB file in two ranges
        assert len(c.running()) == 2  # no worker was restarted or killed for memory
        # decontaminate keeps nearly the whole corpus (above the limit): the
        # parts wait in --work-dir files and the finishing task holds one at a time
        first = json.loads(inputs[0].open().readline())["text"]
        refs = tmp_path / "bench.jsonl"
        refs.write_text(json.dumps({"id": "r0", "text": first[:400]}) + "\n")
        d = neardup.dask.decontaminate(inputs, tmp_path / "dist_dc", references=refs, client=c.client,
                                       progress=False, part_bytes=16 << 20, work_dir=tmp_path / "work", timeout=600)
        assert d["dask"]["parts"] == 16 and d["documents"]["removed"] == 1
        assert sum(d["dask"]["stage_bytes"]) > limit  # more than a worker may hold
        assert len(c.running()) == 2
        for name, info in c.client.scheduler_info()["workers"].items():
            assert info["memory_limit"] == limit
    finally:
        c.stop()
    cli_run(cli, "dedup", inputs, tmp_path / "single")
    assert_same(tmp_path / "single", tmp_path / "dist")
    cli_run(cli, "decontaminate", inputs, tmp_path / "single_dc", "--reference", refs)
    assert_same_decontaminate(tmp_path / "single_dc", tmp_path / "dist_dc")


# ---- decontaminate -------------------------------------------------------------

def write_references(path: pathlib.Path, corpus: list, count: int = 4) -> pathlib.Path:
    """References: texts cut from the corpus (so they contaminate), an
    unrelated one, a short one and a bad line."""
    docs = []
    for p in corpus:
        for line in p.read_text().splitlines():
            try:
                docs.append(json.loads(line)["text"])
            except (ValueError, KeyError):
                pass
    rng = random.Random(4)
    with open(path, "w") as out:
        for i, text in enumerate(rng.sample(docs, count)):
            words = text.split()
            out.write(json.dumps({"id": f"ref{i}", "text": " ".join(words[5:5 + 20])}) + "\n")
        out.write(json.dumps({"id": "unrelated", "text": " ".join(f"u{i}" for i in range(30))}) + "\n")
        out.write(json.dumps({"id": "short", "text": "too short"}) + "\n")
        out.write('{"id": "bad", "text": \n')
    return path


def assert_same_decontaminate(single: pathlib.Path, dist: pathlib.Path, clean: str = "clean.jsonl"):
    for name in ("contamination.tsv", clean):
        assert (single / name).read_bytes() == (dist / name).read_bytes(), name
    a = json.loads((single / "stats.json").read_text())
    b = json.loads((dist / "stats.json").read_text())
    for timing in ("seconds", "peak_rss_bytes"):
        a.pop(timing, None), b.pop(timing, None)
    assert a == b
    assert (dist / "_SUCCESS").exists()
    assert not [n for n in os.listdir(dist) if ".tmp." in n]


def test_decontaminate_is_the_cli_result_on_one_and_two_workers(cluster, cli, tmp_path, capsys):
    inputs = write_corpus(tmp_path / "in", 3, 60, seed=7)
    refs = write_references(tmp_path / "bench.jsonl", inputs)
    opts = ["--ngram", "8", "--min-reference-tokens", "3"]
    cli_run(cli, "decontaminate", inputs, tmp_path / "single", "--reference", refs, *opts)
    one = cluster.address_of("w1")
    neardup.dask.run("decontaminate", [*map(str, inputs), "-o", str(tmp_path / "w1"), "--reference", str(refs),
                                       "--quiet", *opts], cluster.client, workers=[one], allow_other_workers=False)
    assert_same_decontaminate(tmp_path / "single", tmp_path / "w1")
    r = neardup.dask.decontaminate(inputs, tmp_path / "w2", references=refs, client=cluster.client, ngram=8,
                                   min_reference_tokens=3, work_dir=tmp_path / "work")
    assert_same_decontaminate(tmp_path / "single", tmp_path / "w2")
    assert os.listdir(tmp_path / "work") == []
    assert r["dask"]["parts"] == 3
    assert r["documents"]["contaminated"] > 0 and r["documents"]["removed"] > 0
    assert r["references_skipped"] == 1 and r["short_references"] == ["short"]
    # bad records: reported with file:line (corpus and references), counted, kept unchanged
    err = capsys.readouterr().err
    assert f"neardup: {inputs[2]}:4: skipped (malformed_json" in err
    assert f"neardup: {refs}:7: skipped (malformed_json" in err
    assert r["documents"]["skipped"] == 1
    assert '{"id": "broken", "text": \n' in (tmp_path / "w2" / "clean.jsonl").read_text()
    # compressed output: compressed once, at the end, as the CLI does
    cli_run(cli, "decontaminate", inputs, tmp_path / "single_zst", "--reference", refs, "--compress", "zstd", *opts)
    neardup.dask.decontaminate(inputs, tmp_path / "zst", references=[refs], client=cluster.client, progress=False,
                               compress="zstd", ngram=8, min_reference_tokens=3)
    assert_same_decontaminate(tmp_path / "single_zst", tmp_path / "zst", "clean.jsonl.zst")


@pytest.mark.parametrize("part_mb", [4, 64])
def test_decontaminate_byte_ranges(cluster, cli, tmp_path_factory, part_mb):
    directory = tmp_path_factory.getbasetemp() / "large_decontaminate"
    inputs = [directory / "large.jsonl", directory / "part0.jsonl"]
    refs = directory / "bench.jsonl"
    if not directory.exists():
        directory.mkdir()
        write_large(directory / "large.jsonl", 20, seed=3)
        write_corpus(directory, 1, 40, seed=8)
        # references from all over the large file, so that every range has hits
        lines = (directory / "large.jsonl").read_text().splitlines()
        with open(refs, "w") as out:
            for i in range(0, len(lines), len(lines) // 6):
                try:
                    text = json.loads(lines[i])["text"]
                except ValueError:
                    continue
                out.write(json.dumps({"text": " ".join(text.split()[:30])}) + "\n")
        cli_run(cli, "decontaminate", inputs, directory / "single", "--reference", refs)
    out = tmp_path_factory.mktemp("dc_ranges")
    r = neardup.dask.decontaminate(inputs, out / "dist", references=refs, client=cluster.client, progress=False,
                                   part_bytes=part_mb << 20)
    assert r["dask"]["parts"] == {4: 4, 64: 2}[part_mb]
    assert r["documents"]["removed"] > 0 and r["documents"]["skipped"] > 0
    assert_same_decontaminate(directory / "single", out / "dist")


def test_decontaminate_missing_input_or_reference_fails_before_any_task(tmp_path):
    class NoClient:
        def submit(self, *a, **k):
            raise AssertionError("a task was scheduled")

    (tmp_path / "a.jsonl").write_text('{"text": "x y z"}\n')
    with pytest.raises(OSError, match="missing.jsonl"):
        neardup.dask.decontaminate([tmp_path / "a.jsonl", tmp_path / "missing.jsonl"], tmp_path / "out",
                                   references=tmp_path / "a.jsonl", client=NoClient())
    with pytest.raises(OSError, match="nobench.jsonl"):
        neardup.dask.decontaminate([tmp_path / "a.jsonl"], tmp_path / "out", references=tmp_path / "nobench.jsonl",
                                   client=NoClient())
    with pytest.raises(ValueError, match="no --reference"):
        neardup.dask.decontaminate([tmp_path / "a.jsonl"], tmp_path / "out", references=[], client=NoClient())
    with pytest.raises(ValueError, match="ngram"):
        neardup.dask.decontaminate([tmp_path / "a.jsonl"], tmp_path / "out", references=tmp_path / "a.jsonl",
                                   client=NoClient(), ngram=0)


def test_decontaminate_command_line(cluster, cli, tmp_path):
    inputs = write_corpus(tmp_path / "in", 2, 40, seed=11)
    refs = write_references(tmp_path / "bench.jsonl", inputs)
    cli_run(cli, "decontaminate", inputs, tmp_path / "single", "--reference", refs, "--ngram", "6")
    p = subprocess.run([sys.executable, "-m", "neardup.dask", "decontaminate", *map(str, inputs), "--reference",
                        str(refs), "--ngram", "6", "-o", str(tmp_path / "dist"), "--scheduler", cluster.address],
                       env=_env(), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "neardup.dask decontaminate: " in p.stderr and ":4: skipped (malformed_json" in p.stderr
    assert_same_decontaminate(tmp_path / "single", tmp_path / "dist")

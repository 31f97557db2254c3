"""The file jobs give the CLI's outputs byte for byte, and report errors as Python exceptions."""
import json
import subprocess
import threading

import numpy as np
import pytest

import neardup

# job function, CLI command, extra keyword options, CLI options, files compared
CASES = {
    "dedup": (neardup.dedup_files, "dedup", {}, [], ["clusters.tsv", "deduped.jsonl"]),
    "dedup-options": (neardup.dedup_files, "dedup",
                      {"threshold": 0.6, "num_perm": 64, "ngram": 3, "scheme": "classic", "verify": "estimate",
                       "keep": "longest", "no_exact_first": True, "threads": 1, "seed": 99},
                      ["--threshold", "0.6", "--num-perm", "64", "--ngram", "3", "--scheme", "classic",
                       "--verify", "estimate", "--keep", "longest", "--no-exact-first", "--threads", "1",
                       "--seed", "99"], ["clusters.tsv", "deduped.jsonl"]),
    "exact": (neardup.exact_files, "exact", {}, [], ["clusters.tsv", "deduped.jsonl"]),
    "lines": (neardup.lines_files, "lines", {"max_repeats": 3}, ["--max-repeats", "3"], ["deduped.jsonl"]),
    "pairs": (neardup.pairs_files, "pairs", {"threshold": 0.7}, ["--threshold", "0.7"], ["pairs.tsv"]),
    "pairs-exact": (neardup.pairs_files, "pairs", {"threshold": 0.7, "exact": True},
                    ["--threshold", "0.7", "--exact"], ["pairs.tsv"]),
}


def run_cli(cli, args, cwd=None):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("case", CASES)
def test_jobs_equal_the_cli(cli, sample, tmp_path, case):
    job, command, kwargs, cli_args, files = CASES[case]
    stats = job(sample, tmp_path / "py", progress=False, **kwargs)
    done = run_cli(cli, [command, sample, "-o", tmp_path / "cli", "--quiet", *cli_args])
    assert done.returncode == 0, done.stderr
    for name in files:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert stats == json.loads((tmp_path / "py" / "stats.json").read_text())


def test_decontaminate_equals_the_cli(cli, sample, tmp_path):
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(sample.read_text().splitlines(keepends=True)[:5]))
    stats = neardup.decontaminate_files([sample], tmp_path / "py", ref, progress=False, ngram=8)
    done = run_cli(cli, ["decontaminate", sample, "--reference", ref, "--ngram", "8", "-o", tmp_path / "cli",
                         "--quiet"])
    assert done.returncode == 0, done.stderr
    for name in ("contamination.tsv", "clean.jsonl"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert stats == json.loads((tmp_path / "py" / "stats.json").read_text())


def test_decontaminate_files_memory_budget_same_bytes(sample, tmp_path):
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(sample.read_text().splitlines(keepends=True)[:5]))
    neardup.decontaminate_files([sample], tmp_path / "mem", ref, progress=False, ngram=8)
    # 64 KiB chunks; the index of 5 references fits the 256 KiB left of 1 MiB.
    stats = neardup.decontaminate_files([sample], tmp_path / "budget", ref, progress=False, ngram=8, memory_mb=1,
                                        threads=2)
    assert stats["memory"]["budget_bytes"] == 1 << 20
    assert stats["documents"]["contaminated"] > 0
    for name in ("contamination.tsv", "clean.jsonl"):
        assert (tmp_path / "mem" / name).read_bytes() == (tmp_path / "budget" / name).read_bytes(), name
    with pytest.raises(OSError, match="reference index does not fit"):  # the whole sample as references
        neardup.decontaminate_files([sample], tmp_path / "tiny", sample, progress=False, ngram=8, memory_mb=1,
                                    threads=2)


def test_dedup_stats_describe_the_run(sample, tmp_path):
    stats = neardup.dedup_files([str(sample)], str(tmp_path), progress=False)
    assert stats["command"] == "dedup" and stats["neardup_version"] == neardup.__version__
    text = json.dumps(stats)
    assert "438" in text  # the sample's documents


def test_bad_options_raise_value_error_naming_them(sample, tmp_path):
    with pytest.raises(ValueError, match="--num-perms"):
        neardup.dedup_files(sample, tmp_path, progress=False, num_perms=64)
    with pytest.raises(ValueError, match="--threshold"):
        neardup.dedup_files(sample, tmp_path, progress=False, threshold=1.5)
    with pytest.raises(ValueError, match="--verify"):
        neardup.dedup_files(sample, tmp_path, progress=False, verify="maybe")
    with pytest.raises(ValueError, match="--bands and --rows"):
        neardup.dedup_files(sample, tmp_path, progress=False, bands=4)
    with pytest.raises(ValueError, match="--max-repeats"):
        neardup.lines_files(sample, tmp_path, progress=False, max_repeats=0)
    with pytest.raises(ValueError, match="--ngram"):
        neardup.decontaminate_files(sample, tmp_path, sample, progress=False, ngram=0)
    with pytest.raises(TypeError, match="progress"):
        neardup.dedup_files(sample, tmp_path, progress="yes")
    # An option set to False or None is not passed on, yet a misspelt or misplaced one still fails.
    with pytest.raises(ValueError, match="unknown option --no-exact-frist"):
        neardup.dedup_files(sample, tmp_path, progress=False, no_exact_frist=False)
    with pytest.raises(ValueError, match="--bloom-fp is not used by 'neardup dedup'"):
        neardup.dedup_files(sample, tmp_path, progress=False, bloom_fp=None)
    neardup.dedup_files(sample, tmp_path, progress=False, no_exact_first=False)  # known: simply not given


def test_io_errors_raise_os_error_naming_the_file(sample, tmp_path):
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(OSError, match="missing.jsonl"):
        neardup.dedup_files(missing, tmp_path / "out", progress=False)
    with pytest.raises(OSError, match="missing.jsonl"):
        neardup.decontaminate_files(sample, tmp_path / "out", missing, progress=False)
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00not gzip at all")
    with pytest.raises(OSError, match="bad.jsonl.gz"):
        neardup.exact_files(bad, tmp_path / "out", progress=False)


def test_progress_goes_to_a_callback(sample, tmp_path, capfd):
    lines = []
    neardup.dedup_files(sample, tmp_path, progress=lines.append)
    assert any(line.startswith("[sign] done: 438 docs") for line in lines), lines
    assert "[sign]" not in capfd.readouterr().err  # not to stderr


def test_progress_callback_errors_are_raised(sample, tmp_path):
    def fail(line):
        raise RuntimeError("callback failed")
    with pytest.raises(RuntimeError, match="callback failed"):
        neardup.dedup_files(sample, tmp_path, progress=fail)


def test_progress_true_prints_to_stderr(sample, tmp_path, capfd):
    neardup.exact_files(sample, tmp_path, progress=True)
    assert "neardup exact:" in capfd.readouterr().err


def test_two_jobs_at_once(sample, tmp_path):
    neardup.dedup_files(sample, tmp_path / "ref", progress=False)
    errors = []

    def run(i):
        try:
            neardup.dedup_files(sample, tmp_path / f"t{i}", progress=False, threads=1)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(2):
        assert (tmp_path / f"t{i}" / "clusters.tsv").read_bytes() == (tmp_path / "ref" / "clusters.tsv").read_bytes()


def test_in_memory_decontaminate_equals_the_cli(cli, sample, tmp_path):
    lines = sample.read_text().splitlines(keepends=True)
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(lines[:5]) + json.dumps({"text": "too short"}) + "\n")
    done = run_cli(cli, ["decontaminate", sample, "--reference", ref, "--ngram", "8", "-o", tmp_path / "cli",
                         "--quiet"])
    assert done.returncode == 0, done.stderr
    docs = [json.loads(line) for line in lines]
    refs = (json.loads(line) for line in ref.read_text().splitlines())  # an iterator of dicts
    r = neardup.decontaminate(docs, refs, ngram=8, threads=2)
    assert len(r) == len(docs) and r.removed.dtype == bool and r.shared_ngrams.dtype == np.uint64
    kept = [line for line, removed in zip(lines, r.removed) if not removed]
    assert "".join(kept) == (tmp_path / "cli" / "clean.jsonl").read_text()
    stats = json.loads((tmp_path / "cli" / "stats.json").read_text())
    counts = stats["documents"]
    assert int(r.removed.sum()) == counts["removed"] and r.contaminated == counts["contaminated"]
    assert all(set(refs_of) <= set(range(5)) for refs_of in r.refs)  # "too short" (2 tokens) is not used
    assert all(i in r.refs[i] for i in range(5))  # each reference matches its own document
    assert (r.shared_ngrams > 0).sum() == r.contaminated
    bloom = neardup.decontaminate(docs, [d["text"] for d in docs[:5]], ngram=8, bloom_fp=0.001)
    assert (bloom.shared_ngrams >= r.shared_ngrams).all() and all(not x for x in bloom.refs)


def test_in_memory_decontaminate_errors():
    with pytest.raises(ValueError, match="ngram"):
        neardup.decontaminate(["a b"], ["a b"], ngram=0)
    with pytest.raises(ValueError, match="bloom_fp"):
        neardup.decontaminate(["a b"], ["a b"], bloom_fp=0.9)
    with pytest.raises(ValueError, match="tokens"):
        neardup.decontaminate(["a b"], ["a b"], tokens="bytes")
    with pytest.raises(TypeError):
        neardup.decontaminate("a single str", ["a b"])
    with pytest.raises(KeyError):
        neardup.decontaminate([{"body": "x"}], ["a b"])


def test_report_equals_the_cli(cli, sample, tmp_path):
    neardup.dedup_files([sample], tmp_path / "run", progress=False)
    page = neardup.report(tmp_path / "run")
    assert page == str(tmp_path / "run" / "report.html")
    other = neardup.report(tmp_path / "run", tmp_path / "mine.html", clusters=2, words=50)
    done = run_cli(cli, ["report", tmp_path / "run", "-o", tmp_path / "cli.html", "--quiet"])
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "run" / "report.html").read_text()
    assert html == (tmp_path / "cli.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html
    assert (tmp_path / "mine.html").read_text() != html and other == str(tmp_path / "mine.html")


def test_report_errors(tmp_path):
    with pytest.raises(OSError, match="stats.json"):
        neardup.report(tmp_path)
    with pytest.raises(ValueError, match="--clusters"):
        neardup.report(tmp_path, clusters=-1)


def test_memory_budget_reaches_the_job(cli, sample, tmp_path):
    # The sample fits in 1 MiB, so nothing is spilled; the budget and the plan are in stats.json.
    stats = neardup.dedup_files(sample, tmp_path / "py", progress=False, memory_mb=1, tmp_dir=str(tmp_path))
    done = run_cli(cli, ["dedup", sample, "-o", tmp_path / "cli", "--quiet"])
    assert done.returncode == 0, done.stderr
    assert stats["memory"]["budget_bytes"] == 1 << 20
    assert stats["spill"]["spilled"] is False and stats["spill"]["planned_documents"] > 0
    for name in ("clusters.tsv", "deduped.jsonl"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name

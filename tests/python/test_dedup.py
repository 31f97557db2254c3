"""neardup.dedup(): in-memory decisions identical to `neardup dedup`."""
import json
import subprocess

import numpy as np
import pytest

import neardup


@pytest.fixture(scope="module")
def records(sample):
    return [json.loads(line) for line in sample.read_text().splitlines() if line.strip()]


def cli_kept_of(cli, sample, out, args):
    done = subprocess.run([str(cli), "dedup", str(sample), "-o", str(out), "--quiet", *args],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in (out / "clusters.tsv").read_text().splitlines()]
    position = {doc_id: i for i, (doc_id, _) in enumerate(rows)}
    assert len(position) == len(rows)  # the sample's ids are unique
    return np.array([position[kept] for _, kept in rows], dtype=np.uint32)


@pytest.mark.parametrize("kwargs,args", [
    ({}, []),
    ({"threshold": 0.6, "num_perm": 64, "ngram": 3, "verify": "estimate", "keep": "longest",
      "no_exact_first": True, "scheme": "superminhash", "seed": 7},
     ["--threshold", "0.6", "--num-perm", "64", "--ngram", "3", "--verify", "estimate", "--keep", "longest",
      "--no-exact-first", "--scheme", "superminhash", "--seed", "7"]),
    ({"threshold": 0.5, "verify": "none", "bands": 20, "rows": 5, "tokens": "char", "ngram": 8},
     ["--threshold", "0.5", "--verify", "none", "--bands", "20", "--rows", "5", "--tokens", "char",
      "--ngram", "8"]),
])
def test_decisions_equal_the_cli(cli, sample, records, tmp_path, kwargs, args):
    expected = cli_kept_of(cli, sample, tmp_path, args)
    r = neardup.dedup(records, **kwargs)
    assert np.array_equal(r.kept_of, expected)
    docs = json.loads((tmp_path / "stats.json").read_text())["documents"]
    assert (r.stats["documents"], r.stats["kept"], r.stats["removed_exact"], r.stats["removed_near"]) == \
           (docs["read"], docs["kept"], docs["removed_exact_duplicates"], docs["removed_near_duplicates"])


def test_result_fields(records):
    r = neardup.dedup(records)
    n = len(records)
    assert len(r) == n and r.kept.dtype == bool and r.kept_of.dtype == np.uint32 and r.cluster.dtype == np.uint32
    assert np.array_equal(r.kept, r.kept_of == np.arange(n))
    assert r.stats["documents"] == n and r.stats["kept"] == int(r.kept.sum())
    assert r.stats["kept"] + r.stats["removed_exact"] + r.stats["removed_near"] == n
    assert r.stats["clusters"] == len(set(r.cluster.tolist()))
    assert all(r.kept[k] for k in r.kept_of)  # every document points at a kept one
    assert all(r.cluster[i] <= i for i in range(n))  # clusters are named by their first document
    assert (r.stats["bands"], r.stats["rows"]) == neardup.default_lsh_params(0.8, 128) and "sign" in r.stats["seconds"]
    assert "DedupResult(" in repr(r)


def test_inputs_of_every_kind(records):
    texts = [d["text"] for d in records]
    expected = neardup.dedup(texts).kept_of
    assert np.array_equal(neardup.dedup(iter(texts)).kept_of, expected)
    assert np.array_equal(neardup.dedup(d for d in records).kept_of, expected)  # a generator of dicts
    assert np.array_equal(neardup.dedup([t.encode() for t in texts]).kept_of, expected)
    assert np.array_equal(neardup.dedup([{"body": t} for t in texts], text_field="body").kept_of, expected)
    assert len(neardup.dedup([])) == 0


def test_threads_do_not_change_decisions(records):
    expected = neardup.dedup(records, threads=1)
    for threads in (2, 3, None):
        r = neardup.dedup(records, threads=threads)
        assert np.array_equal(r.kept_of, expected.kept_of) and np.array_equal(r.cluster, expected.cluster)


def test_empty_documents_are_never_duplicates():
    r = neardup.dedup(["", "", "...", "same words here", "same words here"])
    assert r.kept.tolist() == [True, True, True, True, False]
    assert r.stats["empty_documents"] == 3


def test_progress(records, capfd):
    lines = []
    neardup.dedup(records, progress=lines.append)
    assert any(line.startswith("[sign] done: 438 docs") for line in lines), lines
    neardup.dedup(records, progress=True)
    assert "[sign] done" in capfd.readouterr().err
    neardup.dedup(records)
    assert capfd.readouterr().err == ""


def test_errors(records):
    with pytest.raises(ValueError, match="threshold"):
        neardup.dedup(records, threshold=0)
    with pytest.raises(ValueError, match="num_perm"):
        neardup.dedup(records, num_perm=0)
    with pytest.raises(ValueError, match="verify"):
        neardup.dedup(records, verify="maybe")
    with pytest.raises(ValueError, match="keep"):
        neardup.dedup(records, keep="last")
    with pytest.raises(ValueError, match="bands and rows"):
        neardup.dedup(records, bands=4)
    with pytest.raises(ValueError, match="bands"):
        neardup.dedup(records, bands=20, rows=20)
    with pytest.raises(ValueError, match="tokens"):
        neardup.dedup(records, tokens="chars")
    with pytest.raises(TypeError, match="single str"):
        neardup.dedup("one text")
    with pytest.raises(KeyError, match="content"):
        neardup.dedup(records, text_field="content")
    with pytest.raises(TypeError, match="progress"):
        neardup.dedup(records, progress="loud")
    with pytest.raises(TypeError):
        neardup.dedup(records, 0.8, 128)  # options are keywords

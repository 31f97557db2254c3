"""neardup.StoredIndex: the stored index of `neardup index build` from Python."""
import json
import subprocess

import pytest

import neardup


def _texts(n, seed=1):
    import random

    rng = random.Random(seed)
    base = [" ".join(f"w{rng.randrange(2000)}" for _ in range(40)) for _ in range(20)]
    out = []
    for _ in range(n):
        t = rng.choice(base)
        if rng.random() < 0.6:
            words = t.split()
            words[rng.randrange(len(words))] = "changed"
            t = " ".join(words)
        out.append(t)
    return out


def test_add_equals_one_dedup_and_query_finds_them(tmp_path):
    texts = _texts(120)
    a, b = texts[:60], texts[60:]
    one_run = neardup.dedup(texts, 0.8)
    idx = neardup.StoredIndex.create(str(tmp_path / "idx"))
    kept_a = idx.add(a, ids=[f"a{i}" for i in range(60)])
    kept_b = idx.add(b, ids=[f"b{i}" for i in range(60)])
    assert kept_a + kept_b == [bool(k) for k in one_run.kept]
    info = idx.info()
    assert info["documents"] == 120 and info["kept"] == sum(kept_a) + sum(kept_b)
    assert info["options"]["verify"] == "exact" and info["set_bytes"] > 0
    hits = idx.query(b[0], top_k=3)
    assert hits and hits[0][1] >= 0.8 and hits[0][2] is True
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    # A second handle sees what was added.
    assert neardup.open_index(tmp_path / "idx").info()["documents"] == 120


def test_cli_index_opens_in_python_and_errors_are_oserror(tmp_path, cli):
    docs = tmp_path / "a.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(_texts(40))))
    subprocess.run([str(cli), "index", "build", str(docs), "-o", str(tmp_path / "idx"), "--quiet",
                    "--verify", "estimate"], check=True)
    idx = neardup.open_index(tmp_path / "idx")
    hits = idx.query(_texts(40)[0])
    assert hits and hits[0][2] is False  # estimates: the index stores no sets
    with pytest.raises(OSError, match="MANIFEST"):
        neardup.open_index(tmp_path / "nothing")

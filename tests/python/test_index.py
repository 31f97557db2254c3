"""LSHIndex: insert, query, remove, len, in, persistence."""
import pickle
import struct

import pytest

import neardup

BASE = "the quick brown fox jumps over the lazy dog while the cat sleeps on a warm mat in the sun all day long"
DOCS = {
    "a": BASE,
    "b": BASE.replace("long", "longer"),           # near duplicate of a
    "c": "a completely unrelated document about databases and query planners and indexes",
    7: BASE.replace("sun", "shade"),               # int key, near duplicate of a
    "empty": "",
}


@pytest.fixture()
def sigs():
    keys = list(DOCS)
    s = neardup.signatures([DOCS[k] for k in keys])
    return dict(zip(keys, s))


@pytest.fixture()
def index(sigs):
    idx = neardup.LSHIndex(threshold=0.5)
    for k, s in sigs.items():
        idx.insert(k, s)
    return idx


def test_defaults_follow_the_dedup_chooser():
    idx = neardup.LSHIndex()
    bands, rows = neardup.default_lsh_params(0.8, 128)
    assert (idx.bands, idx.rows, idx.num_perm, idx.threshold) == (bands, rows, 128, 0.8)
    idx = neardup.LSHIndex(num_perm=64, bands=8, rows=8)
    assert (idx.bands, idx.rows, idx.num_perm) == (8, 8, 64)


def test_insert_query_len_contains(index, sigs):
    assert len(index) == 5 and "a" in index and 7 in index and "zzz" not in index
    assert set(index.query(sigs["a"])) == {"a", "b", 7}
    assert index.query(sigs["c"]) == ["c"]
    assert index.query(sigs["empty"]) == []  # an empty document is never a candidate
    assert sorted(map(str, index)) == sorted(map(str, DOCS))
    assert "LSHIndex(" in repr(index)


def test_remove_and_slot_reuse(index, sigs):
    index.remove("b")
    assert "b" not in index and len(index) == 4
    assert set(index.query(sigs["a"])) == {"a", 7}
    index.insert("b2", sigs["b"])
    assert set(index.query(sigs["a"])) == {"a", 7, "b2"}
    index.remove("empty")
    assert "empty" not in index
    with pytest.raises(KeyError):
        index.remove("b")


def test_insert_errors(index, sigs):
    with pytest.raises(ValueError, match="already"):
        index.insert("a", sigs["a"])
    with pytest.raises(TypeError, match="str or int"):
        index.insert(("tuple", 1), sigs["a"])
    with pytest.raises(TypeError, match="str or int"):
        index.insert(True, sigs["a"])
    with pytest.raises(ValueError, match="64 bits"):
        index.insert(2 ** 70, sigs["a"])
    with pytest.raises(ValueError, match="num_perm"):
        index.insert("short", sigs["a"][:10])
    with pytest.raises(ValueError, match="num_perm"):
        index.query(sigs["a"][:10])
    assert len(index) == 5  # failed inserts leave no trace
    index.insert("after", sigs["c"])
    assert set(index.query(sigs["c"])) == {"c", "after"}


def test_constructor_errors():
    with pytest.raises(ValueError, match="threshold"):
        neardup.LSHIndex(threshold=0)
    with pytest.raises(ValueError, match="together"):
        neardup.LSHIndex(bands=4)
    with pytest.raises(ValueError):
        neardup.LSHIndex(num_perm=16, bands=5, rows=4)  # 20 > 16


def test_round_trips(index, sigs, tmp_path):
    for copy in (pickle.loads(pickle.dumps(index)), neardup.LSHIndex.from_bytes(index.to_bytes())):
        assert list(copy) == list(index) and len(copy) == len(index)
        assert (copy.bands, copy.rows, copy.num_perm, copy.seed, copy.threshold) == \
               (index.bands, index.rows, index.num_perm, index.seed, index.threshold)
        for s in sigs.values():
            assert copy.query(s) == index.query(s)
        assert copy.to_bytes() == index.to_bytes()
    path = tmp_path / "index.ndlsh"
    index.save(path)
    loaded = neardup.LSHIndex.load(path)
    assert loaded.to_bytes() == index.to_bytes()
    loaded.remove("a")
    loaded.insert("a", sigs["a"])
    assert set(loaded.query(sigs["b"])) == set(index.query(sigs["b"]))


def test_bytes_are_the_versioned_stage_data_format(index):
    """docs/FORMAT.md: magic, version 2, kind 4 (LSH index), bands/rows in the header, records = keys."""
    data = index.to_bytes()
    assert data[:8] == b"\x89NDS\r\n\x1a\n"
    version, bom, kind, scheme, token_kind = struct.unpack_from("<HHBBB", data, 8)
    assert (version, bom, kind, scheme, token_kind) == (2, 0x0102, 4, 2, 1)  # oph, word
    num_perm, ngram = struct.unpack_from("<II", data, 16)
    bands, rows, band, flags, records, payload = struct.unpack_from("<IIIIQQ", data, 32)
    assert (num_perm, ngram, bands, rows, band, flags, records) == (128, 5, index.bands, index.rows, 0, 0, 5)
    assert len(data) == 72 + payload + 8
    (threshold,) = struct.unpack_from("<d", data, 72)
    tag, length = struct.unpack_from("<BI", data, 80)
    assert threshold == 0.5 and tag == 3 and data[85:85 + length] == b"a"  # str key with band keys


def test_options_of_the_signatures_are_recorded():
    idx = neardup.LSHIndex(threshold=0.7, num_perm=64, seed=5, scheme="classic", ngram=3, tokens="char")
    copy = neardup.LSHIndex.from_bytes(idx.to_bytes(), seed=5)
    assert (copy.scheme, copy.ngram, copy.tokens, copy.num_perm, copy.seed, copy.threshold) == \
           ("classic", 3, "char", 64, 5, 0.7)
    assert pickle.loads(pickle.dumps(idx)).seed == 5
    with pytest.raises(ValueError, match="another seed"):
        neardup.LSHIndex.from_bytes(idx.to_bytes())  # DEFAULT_SEED expected
    with pytest.raises(ValueError, match="scheme"):
        neardup.LSHIndex(scheme="minhash")
    with pytest.raises(ValueError, match="tokens"):
        neardup.LSHIndex(tokens="bytes")


def test_from_bytes_refuses_bad_data(index):
    data = index.to_bytes()
    with pytest.raises(ValueError, match="header alone needs 72"):
        neardup.LSHIndex.from_bytes(data[:10])
    with pytest.raises(ValueError, match="magic"):
        neardup.LSHIndex.from_bytes(b"X" + data[1:])
    with pytest.raises(ValueError, match="format version is 3 in the file, newer than 2"):
        neardup.LSHIndex.from_bytes(data[:8] + struct.pack("<H", 3) + data[10:])
    with pytest.raises(ValueError, match="truncated"):
        neardup.LSHIndex.from_bytes(data[:-1])
    with pytest.raises(ValueError, match="follow the checksum"):
        neardup.LSHIndex.from_bytes(data + b"\0")
    with pytest.raises(ValueError, match="checksum"):
        neardup.LSHIndex.from_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])

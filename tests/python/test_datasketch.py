"""neardup.datasketch behaves as datasketch documents MinHash, LeanMinHash and MinHashLSH."""
import pickle

import numpy as np
import pytest

from neardup.datasketch import LeanMinHash, MinHash, MinHashLSH

SET1 = [f"item{i}".encode() for i in range(0, 600)]
SET2 = [f"item{i}".encode() for i in range(150, 750)]  # J = 450 / 750 = 0.6


def minhash(items, **kw):
    m = MinHash(**kw)
    m.update_batch(items)
    return m


def test_jaccard_is_within_theory():
    m1, m2 = minhash(SET1, num_perm=256), minhash(SET2, num_perm=256)
    assert abs(m1.jaccard(m2) - 0.6) <= 4 * np.sqrt(0.6 * 0.4 / 256)
    assert m1.jaccard(m1.copy()) == 1.0


def test_count_estimates_cardinality():
    m = minhash(SET1, num_perm=256)
    assert abs(m.count() - 600) <= 600 * 4 / np.sqrt(256)


def test_update_forms_agree():
    one_by_one = MinHash()
    for x in SET1[:50]:
        one_by_one.update(x)
    assert one_by_one == minhash(SET1[:50])
    assert minhash([x.decode() for x in SET1[:50]]) == one_by_one  # str = its UTF-8 bytes
    assert minhash(iter(SET1[:50])) == one_by_one                  # any iterable
    ints = minhash(np.arange(10))                                  # buffer-protocol items
    assert ints == minhash([np.int64(i).tobytes() for i in range(10)])
    assert ints != MinHash()


def test_merge_union_equal_updating_with_both():
    both = minhash(SET1 + SET2)
    m = minhash(SET1)
    m.merge(minhash(SET2))
    assert m == both
    assert MinHash.union(minhash(SET1), minhash(SET2)) == both
    with pytest.raises(ValueError):
        MinHash.union(m)


def test_state_methods():
    m = minhash(SET1)
    assert len(m) == 128 and m.num_perm == 128 and m.seed == 1
    d = m.digest()
    assert d.dtype == np.uint32 and np.array_equal(d, m.hashvalues)
    assert not np.shares_memory(d, m.hashvalues)  # a copy
    assert not m.is_empty() and MinHash().is_empty()
    c = m.copy()
    assert c == m and c is not m
    m.clear()
    assert m.is_empty()
    assert MinHash(hashvalues=d).num_perm == 128
    assert MinHash(seed=2) != MinHash(seed=1)
    assert "MinHash(num_perm=128" in repr(m)


def test_bulk_and_generator():
    ms = MinHash.bulk([SET1, SET2], num_perm=64)
    assert ms[0] == minhash(SET1, num_perm=64) and ms[1] == minhash(SET2, num_perm=64)
    assert list(MinHash.generator([SET1], num_perm=64)) == ms[:1]


def test_custom_hashfunc():
    m = MinHash(hashfunc=lambda b: int.from_bytes(b[:8].ljust(8, b"\0"), "little") * 2654435761)
    m.update_batch(SET1)
    assert not m.is_empty() and m != minhash(SET1)
    with pytest.raises(ValueError, match="callable"):
        MinHash(hashfunc=3)


def test_errors():
    m = minhash(SET1)
    with pytest.raises(ValueError, match="seeds"):
        m.jaccard(minhash(SET1, seed=2))
    with pytest.raises(ValueError, match="permutation functions"):
        m.jaccard(minhash(SET1, num_perm=64))
    with pytest.raises(ValueError, match="seeds"):
        m.merge(minhash(SET1, seed=2))
    with pytest.raises(ValueError, match="permutations"):
        MinHash(permutations=([1], [2]))
    with pytest.raises(ValueError, match="num_perm"):
        MinHash(num_perm=0)
    with pytest.raises(ValueError, match="32-bit"):
        MinHash(hashvalues=[2 ** 40])
    with pytest.raises(TypeError):
        m.update(3.5)


def test_minhash_pickles():
    m = minhash(SET1, seed=5)
    copy = pickle.loads(pickle.dumps(m))
    assert copy == m and copy.seed == 5
    copy.update_batch(SET2)  # still updatable after unpickling
    assert copy == minhash(SET1 + SET2, seed=5)


def test_lean_minhash():
    m = minhash(SET1)
    lean = LeanMinHash(m)
    assert lean.jaccard(m) == 1.0 and lean.seed == m.seed and len(lean) == len(m)
    for mutate in (lambda: lean.update(b"x"), lambda: lean.update_batch([b"x"]), lambda: lean.merge(m),
                   lambda: lean.clear()):
        with pytest.raises(TypeError):
            mutate()
    assert hash(lean) == hash(LeanMinHash(seed=m.seed, hashvalues=m.hashvalues))
    assert pickle.loads(pickle.dumps(lean)) == lean
    for order in ("@", "<", ">", "!"):
        buf = bytearray(lean.bytesize(order))
        lean.serialize(buf, order)
        assert LeanMinHash.deserialize(buf, order) == lean
    with pytest.raises(ValueError, match="space"):
        lean.serialize(bytearray(4))
    with pytest.raises(ValueError, match="LeanMinHash"):
        LeanMinHash.deserialize(b"\0" * 4)
    with pytest.raises(ValueError):
        LeanMinHash()


def test_lsh_parameters():
    lsh = MinHashLSH(threshold=0.9, num_perm=128)
    assert (lsh.b, lsh.r, lsh.h) == (5, 25, 128)  # datasketch's documented example
    assert (MinHashLSH(num_perm=128, params=(16, 8)).b, MinHashLSH(num_perm=128, params=(16, 8)).r) == (16, 8)
    low_fn = MinHashLSH(threshold=0.5, weights=(0.2, 0.8))
    assert low_fn.b * low_fn.r <= 128
    with pytest.raises(ValueError, match="product"):
        MinHashLSH(num_perm=128, params=(16, 9))
    with pytest.raises(ValueError, match="threshold"):
        MinHashLSH(threshold=1.5)
    with pytest.raises(ValueError, match="sum to 1"):
        MinHashLSH(weights=(0.5, 0.6))
    with pytest.raises(ValueError, match="Weight"):
        MinHashLSH(weights=(-0.5, 1.5))
    with pytest.raises(ValueError, match="permutation"):
        MinHashLSH(num_perm=1)
    with pytest.raises(ValueError, match="b < 2"):
        MinHashLSH(num_perm=128, params=(1, 8))
    with pytest.raises(ValueError, match="storage"):
        MinHashLSH(storage_config={"type": "redis"})


def test_lsh_insert_query_remove():
    near = SET1[:-10] + [b"other%d" % i for i in range(10)]
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    assert lsh.is_empty()
    lsh.insert("m1", minhash(SET1))
    lsh.insert(("tuple", "key"), minhash(near))
    lsh.insert(3, minhash([b"unrelated%d" % i for i in range(100)]))
    assert not lsh.is_empty() and "m1" in lsh and ("tuple", "key") in lsh and "m9" not in lsh
    assert set(lsh.query(minhash(SET1))) == {"m1", ("tuple", "key")}
    with pytest.raises(ValueError, match="already exists"):
        lsh.insert("m1", minhash(SET1))
    with pytest.raises(ValueError, match="Expecting minhash with length 128, got 64"):
        lsh.insert("m4", minhash(SET1, num_perm=64))
    with pytest.raises(ValueError, match="Expecting minhash"):
        lsh.query(minhash(SET1, num_perm=64))
    lsh.remove("m1")
    assert "m1" not in lsh and lsh.query(minhash(SET1)) == [("tuple", "key")]
    with pytest.raises(ValueError, match="does not exist"):
        lsh.remove("m1")
    with lsh.insertion_session(buffer_size=10) as session:
        for i in range(20):
            session.insert(f"s{i}", minhash(SET2 + [b"%d" % i]))
    assert len(lsh) == 22 and set(lsh.query(minhash(SET2))) >= {f"s{i}" for i in range(20)}


def test_lsh_pickles():
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    for i in range(10):
        lsh.insert(f"k{i}", minhash(SET1[i * 10:] , num_perm=64))
    lsh.insert("empty", MinHash(num_perm=64))
    copy = pickle.loads(pickle.dumps(lsh))
    assert (copy.b, copy.r, copy.h, copy.threshold) == (lsh.b, lsh.r, lsh.h, lsh.threshold)
    q = minhash(SET1, num_perm=64)
    assert copy.query(q) == lsh.query(q) and "empty" in copy and len(copy) == 11
    copy.remove("k0")
    assert "k0" in lsh


def test_lsh_merge_and_deletion_session():
    a, b = MinHashLSH(threshold=0.5, num_perm=64), MinHashLSH(threshold=0.5, num_perm=64)
    a.insert("x", minhash(SET1, num_perm=64))
    b.insert("y", minhash(SET1[5:], num_perm=64))
    a.merge(b)
    assert set(a.query(minhash(SET1, num_perm=64))) == {"x", "y"} and "y" in b
    with pytest.raises(ValueError, match="overlapping"):
        a.merge(b)
    with pytest.raises(ValueError, match="parameters"):
        a.merge(MinHashLSH(threshold=0.5, num_perm=128))
    with a.deletion_session() as session:
        session.remove("x")
        session.remove("y")
    assert a.is_empty()
    with pytest.raises(ValueError, match="does not exist"):
        a.deletion_session().remove("x")

"""A datasketch-compatible layer: change ``from datasketch import ...`` to
``from neardup.datasketch import ...``.

``MinHash``, ``LeanMinHash`` and ``MinHashLSH`` follow datasketch's documented
behaviour (constructor arguments, methods, errors), with neardup's C++ core
doing the hashing and the LSH index. The differences, all listed in the
README's "Python" section:

- Hash values differ: items are hashed with seeded XXH3-64 (not SHA-1 to 32
  bits) and the k hash functions are neardup's classic MinHash (multiply-add
  mod 2**64, top 32 bits), derived from ``seed``. Signatures of the two
  libraries are not comparable; within neardup they are stable across
  machines and versions.
- ``hashvalues``/``digest()`` are ``uint32`` (datasketch: ``uint64`` holding
  32-bit values). ``permutations`` is not accepted (the functions come from
  ``seed``); ``use_gpu`` is not supported.
- ``update`` accepts ``str`` too (hashed as its UTF-8 bytes).
- ``MinHashLSH`` band keys are neardup's seeded band hashes; ``storage_config``
  other than the in-memory dict, ``prepickle`` and ``hashfunc`` are not
  supported; ``check_duplication=False`` still refuses a key that is already
  indexed (the check costs nothing here), and so does ``merge`` for keys both
  indexes hold. ``query`` returns keys in the order of their slots, not in set
  order.
- ``MinHashLSH`` with the default ``params`` chooses (b, r) with the same
  criterion as datasketch (weighted false-positive and false-negative areas),
  integrated more precisely, so a few thresholds may get a neighbouring (b, r).
"""

from __future__ import annotations

import functools
import struct
from typing import Any, Callable, Hashable, Iterable, Optional

import numpy as np

from . import LSHIndex, _neardup
from . import choose_params as _choose_params

__all__ = ["LeanMinHash", "MinHash", "MinHashLSH", "MinHashLSHDeletionSession", "MinHashLSHInsertionSession"]

_MAX_HASH = np.uint32(0xFFFFFFFF)  # the value of an empty position (datasketch's _max_hash)
_HASH_RANGE = 1 << 32


@functools.lru_cache(maxsize=64)
def _hasher(num_perm: int, seed: int) -> Any:
    return _neardup._ClassicHasher(num_perm, seed & 0xFFFFFFFFFFFFFFFF)


def _as_bytes(item: Any) -> bytes:
    if isinstance(item, (bytes, str)):
        return item  # type: ignore[return-value]
    return bytes(memoryview(item))  # bytearray, memoryview, NumPy scalars: their raw bytes


class MinHash:
    """MinHash of a set of items (datasketch's ``MinHash``), by neardup's classic scheme.

    Args:
        num_perm: number of hash functions k (1..4096). Ignored when ``hashvalues`` is given.
        seed: selects the hash functions; MinHashes compare only under equal seeds.
        hashfunc: optional ``item -> int`` replacing neardup's item hash (values are taken mod 2**64).
        hashobj: deprecated in datasketch; must be None.
        hashvalues: initial state (e.g. another MinHash's ``digest()``).
        permutations: not supported (neardup derives its functions from ``seed``); must be None.

        >>> from neardup.datasketch import MinHash
        >>> m1, m2 = MinHash(num_perm=128), MinHash(num_perm=128)
        >>> m1.update_batch([w.encode() for w in "a b c d".split()])
        >>> m2.update_batch([w.encode() for w in "a b c e".split()])
        >>> 0.3 < m1.jaccard(m2) < 0.9
        True
    """

    def __init__(
        self,
        num_perm: int = 128,
        seed: int = 1,
        hashfunc: Optional[Callable[[Any], int]] = None,
        hashobj: Optional[object] = None,
        hashvalues: Optional[Iterable] = None,
        permutations: Optional[tuple] = None,
    ) -> None:
        if hashobj is not None:
            raise ValueError("hashobj is not supported (deprecated in datasketch); use hashfunc")
        if permutations is not None:
            raise ValueError("permutations are not supported: neardup derives its hash functions from seed")
        if hashfunc is not None and not callable(hashfunc):
            raise ValueError("The hashfunc must be a callable.")
        if hashvalues is not None:
            values = np.array(hashvalues, dtype=np.uint64)
            if values.ndim != 1 or (values > 0xFFFFFFFF).any():
                raise ValueError("hashvalues must be a 1-D sequence of 32-bit values")
            self.hashvalues = values.astype(np.uint32)
            num_perm = len(self.hashvalues)
        else:
            self.hashvalues = np.full(num_perm, _MAX_HASH, dtype=np.uint32)
        if not 1 <= num_perm <= _neardup.MAX_NUM_PERM:
            raise ValueError(f"num_perm = {num_perm} is outside [1, {_neardup.MAX_NUM_PERM}]")
        self.seed = seed
        self.num_perm = num_perm
        self.hashfunc = hashfunc
        self._hasher = _hasher(num_perm, seed)

    # ---- updates
    def update(self, b: Any) -> None:
        """Adds one item (bytes, str, or anything with the buffer protocol)."""
        self.update_batch((b,))

    def update_batch(self, b: Iterable) -> None:
        """Adds many items at once (one call into C++)."""
        self._check_mutable()
        if self.hashfunc is not None:
            hashes = np.array([int(self.hashfunc(x)) & 0xFFFFFFFFFFFFFFFF for x in b], dtype=np.uint64)
            self._hasher.update_hashes(self.hashvalues, hashes)
            return
        items = b if isinstance(b, (list, tuple)) else list(b)
        try:
            self._hasher.update(self.hashvalues, items)
        except TypeError:
            self._hasher.update(self.hashvalues, [_as_bytes(x) for x in items])

    def _check_mutable(self) -> None:
        pass

    # ---- similarity and state
    def _check_compatible(self, other: "MinHash", what: str) -> None:
        if other.seed != self.seed:
            raise ValueError(f"Cannot {what} MinHash with different seeds")
        if len(self) != len(other):
            raise ValueError(f"Cannot {what} MinHash with different numbers of permutation functions")

    def jaccard(self, other: "MinHash") -> float:
        """Estimated Jaccard similarity: the fraction of equal positions.
        ValueError for different seeds or num_perm. (Bounds: ``neardup.jaccard(a.hashvalues, b.hashvalues)``.)"""
        self._check_compatible(other, "compute Jaccard given")
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / float(len(self))

    def count(self) -> float:
        """Estimated number of distinct items: k / sum(h_i / (2**32 - 1)) - 1."""
        return float(len(self)) / float(np.sum(self.hashvalues / float(_MAX_HASH))) - 1.0

    def merge(self, other: "MinHash") -> None:
        """Makes this MinHash the union of both (element-wise minimum: exact for the classic scheme)."""
        self._check_mutable()
        self._check_compatible(other, "merge")
        np.minimum(self.hashvalues, other.hashvalues, out=self.hashvalues)

    def digest(self) -> np.ndarray:
        """A copy of the hash values (uint32)."""
        return self.hashvalues.copy()

    def is_empty(self) -> bool:
        """True when no item was added (every value is 2**32 - 1)."""
        return not np.any(self.hashvalues != _MAX_HASH)

    def clear(self) -> None:
        """Forgets every item."""
        self._check_mutable()
        self.hashvalues = np.full(len(self), _MAX_HASH, dtype=np.uint32)

    def copy(self) -> "MinHash":
        """An independent MinHash with the same seed, hash function and values."""
        return MinHash(seed=self.seed, hashfunc=self.hashfunc, hashvalues=self.digest())

    def __len__(self) -> int:
        return len(self.hashvalues)

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self.seed == other.seed  # type: ignore[attr-defined]
                and np.array_equal(self.hashvalues, other.hashvalues))  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, like datasketch's MinHash

    def __getstate__(self) -> dict:
        return {"seed": self.seed, "hashvalues": self.hashvalues, "hashfunc": self.hashfunc}

    def __setstate__(self, state: dict) -> None:
        self.seed = state["seed"]
        self.hashvalues = np.asarray(state["hashvalues"], dtype=np.uint32)
        self.num_perm = len(self.hashvalues)
        self.hashfunc = state["hashfunc"]
        self._hasher = _hasher(self.num_perm, self.seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_perm={len(self)}, seed={self.seed})"

    @classmethod
    def union(cls, *mhs: "MinHash") -> "MinHash":
        """A new MinHash of the union of at least two MinHashes of equal seed and num_perm."""
        if len(mhs) < 2:
            raise ValueError("Cannot union less than 2 MinHash")
        first = mhs[0]
        for m in mhs[1:]:
            first._check_compatible(m, "union")
        values = np.minimum.reduce([m.hashvalues for m in mhs])
        return cls(seed=first.seed, hashfunc=first.hashfunc, hashvalues=values)

    @classmethod
    def bulk(cls, b: Iterable[Iterable], **minhash_kwargs: Any) -> list:
        """One MinHash per iterable of items in ``b``."""
        return list(cls.generator(b, **minhash_kwargs))

    @classmethod
    def generator(cls, b: Iterable[Iterable], **minhash_kwargs: Any):
        """Yields one MinHash per iterable of items in ``b``."""
        for items in b:
            m = cls(**minhash_kwargs)
            m.update_batch(items)
            yield m


class LeanMinHash(MinHash):
    """An immutable MinHash holding only seed and hash values (datasketch's ``LeanMinHash``).

    ``LeanMinHash(minhash)`` or ``LeanMinHash(seed=..., hashvalues=...)``. ``update``,
    ``update_batch``, ``merge`` and ``clear`` raise TypeError. It is hashable, pickles,
    and has ``bytesize``/``serialize``/``deserialize`` (neardup's layout: byte order
    char, u64 seed, u32 k, k u32 values).
    """

    _FORMAT = "<qI"  # seed (int64), num_perm (uint32), then num_perm uint32 values

    def __init__(self, minhash: Optional[MinHash] = None, seed: Optional[int] = None,
                 hashvalues: Optional[Iterable] = None) -> None:
        if minhash is not None:
            seed, hashvalues = minhash.seed, minhash.hashvalues
        elif seed is None or hashvalues is None:
            raise ValueError("LeanMinHash needs a MinHash or both seed and hashvalues")
        super().__init__(seed=seed, hashvalues=np.array(hashvalues, copy=True))
        self.hashvalues.setflags(write=False)

    def _check_mutable(self) -> None:
        raise TypeError("Cannot update a LeanMinHash")

    def copy(self) -> "LeanMinHash":
        """An equal LeanMinHash (the values are immutable, so they are shared)."""
        return LeanMinHash(seed=self.seed, hashvalues=self.hashvalues)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((self.seed, self.hashvalues.tobytes()))

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.hashvalues.setflags(write=False)

    def bytesize(self, byteorder: str = "@") -> int:
        """Bytes ``serialize`` writes: seed (q), num_perm (I) and the values (4 bytes each)."""
        return struct.calcsize(byteorder + "qI") + 4 * len(self)

    def serialize(self, buf: Any, byteorder: str = "@") -> None:
        """Writes seed, num_perm and the values into the writable buffer ``buf``."""
        if len(buf) < self.bytesize(byteorder):
            raise ValueError(f"The buffer does not have enough space for holding this MinHash "
                             f"({len(buf)} < {self.bytesize(byteorder)} bytes)")
        fmt = f"{byteorder}qI{len(self)}I"
        struct.pack_into(fmt, buf, 0, self.seed, len(self), *self.hashvalues.tolist())

    @classmethod
    def deserialize(cls, buf: Any, byteorder: str = "@") -> "LeanMinHash":
        """Reads what ``serialize`` wrote."""
        try:
            seed, num_perm = struct.unpack_from(byteorder + "qI", buf, 0)
            offset = struct.calcsize(byteorder + "qI")
            values = struct.unpack_from(f"{byteorder}{num_perm}I", buf, offset)
        except struct.error as e:
            raise ValueError(f"The buffer does not hold a serialized LeanMinHash: {e}") from None
        return cls(seed=seed, hashvalues=values)


class MinHashLSH:
    """datasketch's ``MinHashLSH`` on neardup's LSH index.

    Args:
        threshold: Jaccard threshold in [0, 1] the banding is optimized for.
        num_perm: k of the MinHashes indexed (>= 2).
        weights: (false-positive weight, false-negative weight), each in [0, 1], summing to 1.
        params: (b, r) to skip the optimization (b * r <= num_perm).
        storage_config: only None or ``{"type": "dict"}``.
        prepickle, hashfunc: not supported (must be None/False).

    Keys are any hashable objects.
    """

    def __init__(self, threshold: float = 0.9, num_perm: int = 128, weights: tuple = (0.5, 0.5),
                 params: Optional[tuple] = None, storage_config: Optional[dict] = None,
                 prepickle: Optional[bool] = None, hashfunc: Optional[Callable] = None) -> None:
        if storage_config not in (None, {"type": "dict"}):
            raise ValueError("neardup.datasketch.MinHashLSH supports only in-memory storage ({'type': 'dict'})")
        if prepickle or hashfunc is not None:
            raise ValueError("prepickle and hashfunc are not supported by neardup.datasketch.MinHashLSH")
        if threshold > 1.0 or threshold < 0.0:
            raise ValueError("threshold must be in [0.0, 1.0]")
        if num_perm < 2:
            raise ValueError("Too few permutation functions")
        if any(w < 0.0 or w > 1.0 for w in weights):
            raise ValueError("Weight must be in [0.0, 1.0]")
        if sum(weights) != 1.0:
            raise ValueError("Weights must sum to 1.0")
        self.h = num_perm
        if params is not None:
            self.b, self.r = params
            if self.b * self.r > num_perm:
                raise ValueError(f"The product of b and r in params is {self.b} * {self.r} = {self.b * self.r} "
                                 f"-- it must be less than num_perm {num_perm}. Did you forget to specify num_perm?")
        else:
            # neardup's chooser needs 0 < threshold < 1; the ends get the nearest inner value.
            t = min(max(threshold, 1e-6), 1 - 1e-6)
            self.b, self.r = _choose_params(t, num_perm, weights[0], weights[1])
        if self.b < 2:
            raise ValueError("The number of bands are too small (b < 2)")
        self.threshold = threshold
        self.weights = tuple(weights)
        self._index = _AnyKeyIndex(num_perm=num_perm, bands=self.b, rows=self.r)

    # ---- datasketch API
    def insert(self, key: Hashable, minhash: MinHash, check_duplication: bool = True) -> None:
        """Indexes ``minhash`` under ``key``. ValueError if the key exists or len(minhash) != num_perm."""
        self._check_length(minhash)
        if key in self._index:
            raise ValueError("The given key already exists")
        self._index.insert(key, minhash.hashvalues)

    def insertion_session(self, buffer_size: int = 50000) -> "MinHashLSHInsertionSession":
        """A context manager for many inserts (here the same as calling ``insert``)."""
        return MinHashLSHInsertionSession(self, buffer_size=buffer_size)

    def query(self, minhash: MinHash) -> list:
        """Keys whose MinHash shares at least one band with ``minhash`` (approximate: verify them)."""
        self._check_length(minhash)
        return self._index.query(minhash.hashvalues)

    def remove(self, key: Hashable) -> None:
        """Removes ``key``; ValueError if it does not exist."""
        if key not in self._index:
            raise ValueError("The given key does not exist")
        self._index.remove(key)

    def merge(self, other: "MinHashLSH", check_overlap: bool = False) -> None:
        """Adds every key of ``other`` (same num_perm, b and r) to this index.
        ValueError for other parameters or for a key both hold (whatever ``check_overlap``)."""
        if type(self) is not type(other) or (self.h, self.b, self.r) != (other.h, other.b, other.r):
            raise ValueError("Cannot merge MinHashLSH with different initialization parameters.")
        entries = other._index._entries()
        if any(key in self._index for key, _ in entries):
            raise ValueError("The keys are overlapping, duplicate key exists.")
        self._index._restore(entries)

    def deletion_session(self, buffer_size: int = 50000) -> "MinHashLSHDeletionSession":
        """A context manager for many removals (here the same as calling ``remove``)."""
        return MinHashLSHDeletionSession(self, buffer_size=buffer_size)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._index

    def is_empty(self) -> bool:
        """True when no key is indexed."""
        return len(self._index) == 0

    def __len__(self) -> int:
        return len(self._index)

    def _check_length(self, minhash: MinHash) -> None:
        if len(minhash) != self.h:
            raise ValueError("Expecting minhash with length %d, got %d" % (self.h, len(minhash)))

    # ---- pickling: the parameters, then each key with its band keys
    def __getstate__(self) -> dict:
        return {"threshold": self.threshold, "weights": self.weights, "h": self.h, "b": self.b, "r": self.r,
                "entries": self._index._entries()}

    def __setstate__(self, state: dict) -> None:
        self.threshold, self.weights = state["threshold"], state["weights"]
        self.h, self.b, self.r = state["h"], state["b"], state["r"]
        self._index = _AnyKeyIndex(num_perm=self.h, bands=self.b, rows=self.r)
        self._index._restore(state["entries"])


class _AnyKeyIndex(LSHIndex):
    """An LSHIndex whose keys may be any hashable (datasketch's rule); it pickles
    through MinHashLSH, not through LSHIndex's bytes layout."""

    @staticmethod
    def _check_key(key: object) -> None:
        hash(key)

    def __reduce__(self):
        raise TypeError("pickle the MinHashLSH that holds this index")


class MinHashLSHInsertionSession:
    """Context manager returned by ``MinHashLSH.insertion_session()``."""

    def __init__(self, lsh: MinHashLSH, buffer_size: int) -> None:
        self.lsh = lsh
        self.buffer_size = buffer_size

    def __enter__(self) -> "MinHashLSHInsertionSession":
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to flush: every insert goes to the in-memory index at once."""

    def insert(self, key: Hashable, minhash: MinHash, check_duplication: bool = True) -> None:
        """``MinHashLSH.insert`` (the same checks and errors)."""
        self.lsh.insert(key, minhash, check_duplication=check_duplication)


class MinHashLSHDeletionSession:
    """Context manager returned by ``MinHashLSH.deletion_session()``."""

    def __init__(self, lsh: MinHashLSH, buffer_size: int) -> None:
        self.lsh = lsh
        self.buffer_size = buffer_size

    def __enter__(self) -> "MinHashLSHDeletionSession":
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to flush: every removal is applied at once."""

    def remove(self, key: Hashable) -> None:
        """``MinHashLSH.remove`` (ValueError for a missing key, as datasketch)."""
        self.lsh.remove(key)

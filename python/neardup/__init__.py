"""neardup: near-duplicate and exact-duplicate removal at C++ speed.

The functions here call neardup's C++ library (the extension module
``neardup._neardup``); option names and spellings are those of the
``neardup`` command-line tool (``--num-perm`` is ``num_perm=``).

    >>> import neardup
    >>> sigs = neardup.signatures(["the quick brown fox jumps over", "the quick brown fox jumped over"])
    >>> neardup.jaccard(sigs[0], sigs[1]).estimate   # doctest: +SKIP
    >>> index = neardup.LSHIndex(threshold=0.5)
    >>> index.insert("a", sigs[0])
    >>> index.query(sigs[1])                          # doctest: +SKIP
    ['a']

``neardup.datasketch`` is a drop-in for datasketch's MinHash / MinHashLSH.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from . import _neardup
from ._neardup import (
    DEFAULT_SEED,
    EMPTY_SIG_VALUE,
    MAX_NUM_PERM,
    JaccardBounds,
    StoredIndex,
    __version__,
    candidate_probability,
    choose_params,
    choose_params_for_recall,
    default_lsh_params,
    exact_jaccard,
    jaccard,
    shingles,
    signatures,
)

__all__ = [
    "DEFAULT_SEED",
    "EMPTY_SIG_VALUE",
    "MAX_NUM_PERM",
    "JaccardBounds",
    "LSHIndex",
    "StoredIndex",
    "open_index",
    "__version__",
    "candidate_probability",
    "choose_params",
    "choose_params_for_recall",
    "DecontaminateResult",
    "DedupResult",
    "decontaminate",
    "decontaminate_files",
    "dedup",
    "dedup_files",
    "exact_files",
    "exact_jaccard",
    "jaccard",
    "lines_files",
    "pairs_files",
    "report",
    "shingles",
    "signatures",
]

Key = Union[str, int]
PathLike = Union[str, "os.PathLike[str]"]
Progress = Union[bool, Callable[[str], Any]]


# --------------------------------------------------------------------- LSH index

class LSHIndex:
    """An incremental LSH index of MinHash signatures under str or int keys.

    ``insert(key, signature)`` indexes a signature (a row of ``signatures()``);
    ``query(signature)`` returns the keys sharing at least one LSH band with
    it, in insertion order of their slots. Empty documents (the all-
    ``EMPTY_SIG_VALUE`` signature) can be inserted but are never candidates.

    bands/rows default to what ``neardup dedup`` chooses for ``threshold``
    with exact verification (``default_lsh_params(threshold, num_perm)``: a
    pair at the threshold is very likely a candidate, with the fewest false
    candidates). Verify candidates with
    ``exact_jaccard`` (or ``jaccard``) before treating them as duplicates.

    ``scheme``, ``ngram`` and ``tokens`` say how the signatures were made
    (those of ``signatures()``); the index does not use them, but records them
    in its file.

    Persistence: ``save(path)``/``LSHIndex.load(path)``, ``to_bytes()``/
    ``from_bytes()`` and pickling all write neardup's versioned stage-data
    format (``pipeline/format.hpp``, kind "LSH index", format version 2; byte
    layout in docs/FORMAT.md): a checksummed header with num_perm, bands,
    rows, scheme, n-gram, tokenizer and a hash of the seed, then the
    threshold and each key (int or str) with its band keys. The seed itself
    is not stored: ``load``/``from_bytes`` take ``seed=`` (default
    ``DEFAULT_SEED``) and refuse a file written with another. Bad, damaged or
    mismatched bytes raise ``ValueError`` naming the field.
    """

    def __init__(
        self,
        threshold: float = 0.8,
        num_perm: int = 128,
        bands: Optional[int] = None,
        rows: Optional[int] = None,
        seed: int = DEFAULT_SEED,
        *,
        scheme: str = "oph",
        ngram: int = 5,
        tokens: str = "word",
    ) -> None:
        if not 0.0 < threshold < 1.0 and not (threshold == 1.0 and bands is not None):
            raise ValueError(f"threshold = {threshold!r} is outside (0, 1)")
        if (bands is None) != (rows is None):
            raise ValueError("bands and rows go together")
        if bands is None:
            bands, rows = default_lsh_params(threshold, num_perm)
        self._index = _neardup._BandIndex(num_perm, bands, rows, seed)
        self._threshold = float(threshold)
        self._seed = int(seed)
        # Checked now (ValueError naming the option), recorded by to_bytes().
        _neardup._write_lsh_index(num_perm, bands, rows, seed, self._threshold, scheme, ngram, tokens, [])
        self._scheme, self._ngram, self._tokens = scheme, int(ngram), tokens
        self._slot_of: dict[Key, int] = {}
        self._key_of: list[Optional[Key]] = []
        self._free: list[int] = []

    threshold = property(lambda self: self._threshold, doc="The Jaccard threshold the banding was chosen for.")
    num_perm = property(lambda self: self._index.num_perm, doc="Signature length k.")
    bands = property(lambda self: self._index.bands, doc="Number of LSH bands b.")
    rows = property(lambda self: self._index.rows, doc="Rows per band r (b * r <= k).")
    seed = property(lambda self: self._seed, doc="Seed of the band-key hashes.")
    scheme = property(lambda self: self._scheme, doc="MinHash scheme of the signatures (recorded in the file).")
    ngram = property(lambda self: self._ngram, doc="n-gram size of the signatures (recorded in the file).")
    tokens = property(lambda self: self._tokens, doc="Tokenizer of the signatures (recorded in the file).")

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def __iter__(self) -> Iterator[Key]:
        return iter(self._slot_of)

    def __repr__(self) -> str:
        return (f"LSHIndex(threshold={self._threshold!r}, num_perm={self.num_perm}, bands={self.bands}, "
                f"rows={self.rows}, len={len(self)})")

    @staticmethod
    def _check_key(key: object) -> None:
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise TypeError(f"LSHIndex keys are str or int, not {type(key).__name__}")
        if isinstance(key, int) and not -(2**63) <= key < 2**63:
            raise ValueError(f"int key {key} does not fit in 64 bits")

    def insert(self, key: Key, signature: np.ndarray) -> None:
        """Indexes ``signature`` under ``key``. ValueError if ``key`` is already indexed
        or the signature's length is not num_perm; TypeError for a key that is not str/int."""
        self._check_key(key)
        if key in self._slot_of:
            raise ValueError(f"key {key!r} is already in the index")
        slot = self._free.pop() if self._free else len(self._key_of)
        try:
            self._index.insert(slot, signature)
        except BaseException:
            if slot < len(self._key_of):
                self._free.append(slot)  # give back the reused slot
            raise
        if slot == len(self._key_of):
            self._key_of.append(key)
        else:
            self._key_of[slot] = key
        self._slot_of[key] = slot

    def query(self, signature: np.ndarray) -> list:
        """The keys of the indexed signatures sharing at least one band with ``signature``."""
        key_of = self._key_of
        return [key_of[s] for s in self._index.query(signature).tolist()]

    def remove(self, key: Key) -> None:
        """Removes ``key``; KeyError if it is not indexed."""
        slot = self._slot_of.pop(key)
        self._index.remove(slot)
        self._key_of[slot] = None
        self._free.append(slot)

    # ---- persistence
    def _entries(self) -> list:
        """(key, band keys or None for an empty signature) per key, in insertion order."""
        return [(key, self._index.keys_of(slot) if slot in self._index else None)
                for key, slot in self._slot_of.items()]

    def _restore(self, entries: Iterable) -> None:
        """Fills an empty index from ``_entries()`` output."""
        for key, band_keys in entries:
            self._check_key(key)
            if key in self._slot_of:
                raise ValueError(f"key {key!r} appears twice")
            slot = len(self._key_of)
            if band_keys is not None:
                self._index.insert_keys(slot, band_keys)
            self._key_of.append(key)
            self._slot_of[key] = slot

    def to_bytes(self) -> bytes:
        """The index as one file of neardup's stage-data format (see the class docstring)."""
        return _neardup._write_lsh_index(self.num_perm, self.bands, self.rows, self._seed, self._threshold,
                                         self._scheme, self._ngram, self._tokens, self._entries())

    @classmethod
    def from_bytes(cls, data: bytes, seed: int = DEFAULT_SEED) -> "LSHIndex":
        """Reads what ``to_bytes`` wrote with the same ``seed``; ValueError for anything else
        (the message names the field, e.g. the seed, a bad checksum or a truncated key)."""
        d = _neardup._read_lsh_index(data, seed)
        index = cls(threshold=0.5, num_perm=d["num_perm"], bands=d["bands"], rows=d["rows"], seed=seed,
                    scheme=d["scheme"], ngram=d["ngram"], tokens=d["tokens"])
        index._threshold = d["threshold"]
        index._restore(d["entries"])
        return index

    def save(self, path: PathLike) -> None:
        """Writes ``to_bytes()`` to ``path`` (via a temporary file, then renamed)."""
        tmp = f"{os.fspath(path)}.tmp.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(self.to_bytes())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: PathLike, seed: int = DEFAULT_SEED) -> "LSHIndex":
        """Reads an index written by ``save`` (with the same ``seed``)."""
        with open(path, "rb") as f:
            return cls.from_bytes(f.read(), seed)

    def __reduce__(self):
        return (LSHIndex.from_bytes, (self.to_bytes(), self._seed))


# --------------------------------------------------------------------- in-memory dedup

class DedupResult:
    """What ``dedup()`` decided, per document in input order.

    Attributes:
        kept: bool array, True for the documents kept.
        kept_of: uint32 array, the index of the document kept for each document's cluster
            (its own index when it is kept).
        cluster: uint32 array, each document's cluster, named by its first document.
        stats: dict of counts (documents, kept, removed_exact, removed_near, clusters,
            largest_cluster, cluster_size_histogram, bands, rows, candidate and
            verification counts) and ``seconds`` per stage.
    """

    __slots__ = ("kept", "kept_of", "cluster", "stats")

    def __init__(self, kept_of: np.ndarray, cluster: np.ndarray, stats: dict) -> None:
        self.kept_of = kept_of
        self.cluster = cluster
        self.kept = kept_of == np.arange(len(kept_of), dtype=kept_of.dtype)
        self.stats = stats

    def __len__(self) -> int:
        return len(self.kept_of)

    def __repr__(self) -> str:
        return f"DedupResult(documents={len(self)}, kept={int(self.kept.sum())}, clusters={self.stats['clusters']})"


def dedup(
    texts: Iterable[Union[str, bytes, dict]],
    threshold: float = 0.8,
    *,
    num_perm: int = 128,
    ngram: int = 5,
    tokens: str = "word",
    bands: Optional[int] = None,
    rows: Optional[int] = None,
    scheme: str = "oph",
    verify: str = "exact",
    keep: str = "first",
    no_exact_first: bool = False,
    seed: int = DEFAULT_SEED,
    threads: Optional[int] = None,
    text_field: str = "text",
    progress: Progress = False,
) -> DedupResult:
    """Near-duplicate removal of texts in memory: the decisions of ``neardup dedup``.

    ``texts`` is a sequence or any iterable (a generator, a ``datasets`` dataset) of
    str/bytes or of dicts holding the text under ``text_field``; it is read once into
    memory, never written to disk. The options are the CLI's (``--num-perm`` is
    ``num_perm=``, ``--no-exact-first`` is ``no_exact_first=True``) with the same
    defaults, so the same texts in a JSONL file give the same clusters and kept
    documents on the command line. Runs on ``threads`` threads (None: all cores)
    with the GIL released. ``progress``: False (silent), True (stderr) or a callable
    receiving each progress line.

    Raises ValueError naming a bad option, TypeError/KeyError for bad documents.

        >>> r = neardup.dedup(["a b c d e f", "a b c d e f", "x y z"])   # doctest: +SKIP
        >>> r.kept.tolist()
        [True, False, True]
    """
    if not (isinstance(progress, bool) or callable(progress)):
        raise TypeError("progress must be True (stderr), False (silent) or a callable taking one str")
    kept_of, cluster, stats = _neardup._dedup(texts, threshold, num_perm, ngram, tokens, bands, rows, scheme,
                                              verify, keep, not no_exact_first, seed, threads, text_field,
                                              progress)
    return DedupResult(kept_of, cluster, stats)


class DecontaminateResult:
    """What ``decontaminate()`` decided, per document in input order.

    Attributes:
        removed: bool array, True for the documents sharing more than ``max_shared`` n-grams
            with the references.
        shared_ngrams: uint64 array, the n-grams each document shares with the references.
        refs: per document, the positions in ``references`` of the references it matched
            (exact mode; empty lists in Bloom mode).
        contaminated: documents sharing at least one n-gram.
    """

    __slots__ = ("removed", "shared_ngrams", "refs", "contaminated")

    def __init__(self, removed: np.ndarray, shared_ngrams: np.ndarray, refs: list, contaminated: int) -> None:
        self.removed = removed
        self.shared_ngrams = shared_ngrams
        self.refs = refs
        self.contaminated = contaminated

    def __len__(self) -> int:
        return len(self.removed)

    def __repr__(self) -> str:
        return (f"DecontaminateResult(documents={len(self)}, removed={int(self.removed.sum())}, "
                f"contaminated={self.contaminated})")


def decontaminate(
    texts: Iterable[Union[str, bytes, dict]],
    references: Iterable[Union[str, bytes, dict]],
    *,
    ngram: int = 13,
    max_shared: int = 0,
    min_reference_tokens: int = 8,
    bloom_fp: float = 0.0,
    tokens: str = "word",
    seed: int = DEFAULT_SEED,
    threads: Optional[int] = None,
    text_field: str = "text",
) -> DecontaminateResult:
    """Benchmark decontamination in memory: the decisions of ``neardup decontaminate``.

    A document is removed when it shares more than ``max_shared`` word ``ngram``-grams with
    the ``references`` (a benchmark's questions and answers); a reference shorter than
    ``ngram`` tokens is matched by its own length, and references of fewer than
    ``min_reference_tokens`` tokens are not used. ``bloom_fp`` > 0 is the CLI's Bloom mode
    (``--bloom-fp``). ``texts`` and ``references`` are sequences or iterables of str/bytes
    or of dicts with ``text_field``; nothing is written to disk. Runs on ``threads``
    threads (None: all cores) with the GIL released.

    Raises ValueError naming a bad option, TypeError/KeyError for bad documents.

        >>> r = neardup.decontaminate(corpus, ["what is the capital of france answer paris"], ngram=5)  # doctest: +SKIP
        >>> r.removed, r.shared_ngrams, r.refs
    """
    removed, shared, refs, contaminated = _neardup._decontaminate(
        texts, references, ngram, max_shared, min_reference_tokens, bloom_fp, tokens, seed, threads, text_field)
    return DecontaminateResult(removed, shared, refs, contaminated)


# --------------------------------------------------------------------- file jobs

def _argv(command: str, inputs: Union[PathLike, Iterable[PathLike]], out_dir: PathLike,
          options: dict, progress: Progress) -> list:
    if isinstance(inputs, (str, bytes, os.PathLike)):
        inputs = [inputs]
    argv = [command, "-o", os.fspath(out_dir)]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            # Not passed to the CLI, so checked here: a misspelt option fails even when set to False.
            names, users = _neardup._option_names(command, flag[2:])
            if flag[2:] not in names:
                raise ValueError(f"unknown option {flag}" if not users else
                                 f"option {flag} is not used by 'neardup {command}' (it is an option of {users})")
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                argv += [flag, os.fspath(v) if isinstance(v, os.PathLike) else str(v)]
        else:
            argv += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    if progress is False:
        argv.append("--quiet")
    argv.append("--")  # everything after is an INPUT
    argv += [os.fspath(i) for i in inputs]
    return argv


def _run_job(command: str, inputs, out_dir, options: dict, progress: Progress) -> dict:
    if not (isinstance(progress, bool) or callable(progress)):
        raise TypeError("progress must be True (stderr), False (silent) or a callable taking one str")
    argv = _argv(command, inputs, out_dir, options, progress)
    _neardup._run_command(argv, progress if callable(progress) else None)
    with open(os.path.join(os.fspath(out_dir), "stats.json"), encoding="utf-8") as f:
        return json.load(f)


def dedup_files(inputs: Union[PathLike, Iterable[PathLike]], out_dir: PathLike, *,
                progress: Progress = True, **options: Any) -> dict:
    """Runs ``neardup dedup INPUTS -o OUT_DIR`` in this process and returns stats.json as a dict.

    ``options`` are the CLI's options with ``-`` spelled ``_``: ``threshold=0.8``,
    ``num_perm=128``, ``ngram=5``, ``bands``/``rows``, ``scheme="oph"``,
    ``verify="exact"``, ``keep="first"``, ``no_exact_first=True``,
    ``set_memory_mb``, ``memory_mb``, ``tmp_dir``, ``compress="zstd"``, ``text_field``, ``id_field``,
    ``tokens``, ``seed``, ``threads``. A flag is ``True``; ``None``/``False`` leave an
    option out (a name the command does not have raises ValueError all the same). The outputs (clusters.tsv, deduped.jsonl, stats.json) are the CLI's,
    byte for byte. ``progress``: True prints progress and warnings to stderr as the
    CLI does, False is ``--quiet``, a callable receives each progress line instead.
    The GIL is released while the job runs.

    Raises ValueError for a bad option (naming it) and OSError for an I/O error
    (naming the file).
    """
    return _run_job("dedup", inputs, out_dir, options, progress)


def exact_files(inputs: Union[PathLike, Iterable[PathLike]], out_dir: PathLike, *,
                progress: Progress = True, **options: Any) -> dict:
    """``neardup exact``: exact duplicates by normalized fingerprint (options: keep, compress,
    text_field, id_field, tokens, seed, threads). See ``dedup_files``."""
    return _run_job("exact", inputs, out_dir, options, progress)


def lines_files(inputs: Union[PathLike, Iterable[PathLike]], out_dir: PathLike, *,
                progress: Progress = True, **options: Any) -> dict:
    """``neardup lines``: removes lines repeated more than ``max_repeats`` times [6]
    (options: max_repeats, memory_mb, compress, ...). See ``dedup_files``."""
    return _run_job("lines", inputs, out_dir, options, progress)


def decontaminate_files(inputs: Union[PathLike, Iterable[PathLike]], out_dir: PathLike,
                        reference: Union[PathLike, Sequence[PathLike]], *,
                        progress: Progress = True, **options: Any) -> dict:
    """``neardup decontaminate``: removes documents sharing n-grams with the ``reference``
    files (options: ngram [13], max_shared [0], bloom_fp, memory_mb, compress, ...). See ``dedup_files``."""
    refs = [reference] if isinstance(reference, (str, bytes, os.PathLike)) else list(reference)
    return _run_job("decontaminate", inputs, out_dir, {"reference": refs, **options}, progress)


def pairs_files(inputs: Union[PathLike, Iterable[PathLike]], out_dir: PathLike, *,
                progress: Progress = True, **options: Any) -> dict:
    """``neardup pairs``: writes pairs.tsv with every pair of Jaccard >= ``threshold``
    (``exact=True``: exact all-pairs join; otherwise LSH candidates checked with ``verify``).
    See ``dedup_files``."""
    return _run_job("pairs", inputs, out_dir, options, progress)


def open_index(path: Union[str, "os.PathLike[str]"]) -> StoredIndex:
    """Opens a stored index (``neardup index build``): ``.query(text)``, ``.add(texts)``, ``.info()``."""
    return StoredIndex(os.fspath(path))


def report(out_dir: PathLike, output: Optional[PathLike] = None, *, clusters: Optional[int] = None,
           near_threshold: Optional[int] = None, near_misses: Optional[int] = None,
           false_merges: Optional[int] = None, words: Optional[int] = None) -> str:
    """Runs ``neardup report OUT_DIR -o OUTPUT`` in this process and returns the page's path.

    ``out_dir`` is the output directory of a ``dedup``/``exact`` run (``dedup_files``) or of
    ``neardup eval``; the page is one self-contained HTML file (no script, no network) with the
    run at a glance, the S-curve, the similarity histogram around the threshold, cluster
    sizes, removed texts beside the texts they were verified against, removal by source, and
    precision, recall and false merges for ``eval``. ``output`` defaults to
    ``OUT_DIR/report.html``. ``clusters``, ``near_threshold``, ``near_misses``,
    ``false_merges`` and ``words`` are the CLI's ``--clusters`` [5], ``--near-threshold`` [8],
    ``--near-misses`` [4], ``--false-merges`` [4] and ``--words`` [400].

    Raises ValueError for a bad option and OSError naming the file when the run's outputs are
    missing or malformed.

        >>> neardup.dedup_files("corpus.jsonl", "out", progress=False)   # doctest: +SKIP
        >>> neardup.report("out")                                          # doctest: +SKIP
        'out/report.html'
    """
    page = os.fspath(output) if output is not None else os.path.join(os.fspath(out_dir), "report.html")
    argv = ["report", "-o", page, "--quiet"]
    for flag, value in (("--clusters", clusters), ("--near-threshold", near_threshold),
                        ("--near-misses", near_misses), ("--false-merges", false_merges), ("--words", words)):
        if value is not None:
            argv += [flag, str(value)]
    argv += ["--", os.fspath(out_dir)]
    _neardup._run_command(argv, None)
    return page

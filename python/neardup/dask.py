"""neardup on a Dask cluster, with the single-machine result.

    >>> from distributed import Client
    >>> import neardup.dask
    >>> client = Client("tcp://scheduler:8786")                   # doctest: +SKIP
    >>> neardup.dask.dedup(["corpus/"], "out", client=client, threshold=0.8)  # doctest: +SKIP
    >>> neardup.dask.decontaminate(["corpus/"], "clean", references=["bench.jsonl"], client=client)  # doctest: +SKIP

or, from a shell::

    python3 -m neardup.dask dedup corpus/ -o out --scheduler tcp://scheduler:8786 [--work-dir DIR] [options]

The options are those of ``neardup dedup`` (``exact``, ``decontaminate``), parsed by the
CLI's own option table; ``threshold=0.8`` is ``--threshold 0.8``, a flag
is ``no_exact_first=True``. The outputs in OUTDIR are those of ``neardup
dedup`` with the same inputs and options, byte for byte (stats.json's
timings and thread count aside), for any number of workers.

What runs where:
  * the client (this process) expands the inputs and checks OUTDIR, as the
    CLI does before reading (a missing input fails here, before any task);
  * one task per part runs pass 1 on a worker: parse, tokenize, fingerprint,
    MinHash (jobs/parts.hpp, ``scan_part``). A part is an input file, or a
    byte range of about ``part_bytes`` of a large plain JSONL file, cut on a
    line boundary where the reader starts a chunk (``part_ranges``); a range
    after a file's first gets its first line number from small tasks that
    count the '\\n's of the ranges before it. Its result, the
    part, is stage data in a versioned layout (signatures and fingerprints in
    pipeline/format.hpp's format) kept in the worker's memory, or with
    ``work_dir`` written to a file there (storage every worker sees);
  * for dedup, the stages after pass 1 run as tasks too (jobs/parts.hpp,
    part_stages): band keys per part and band range (where the part is),
    one grouping task per band range (the buckets), one task listing each
    part's candidates, one task per part making its candidates' signatures
    and shingle sets (where the part is: from pass 1's sets, which a scan
    keeps beside its part with --verify exact, else from its byte range
    read again), and one per part stripping the signatures from its metadata;
  * verification as tasks (dedup with --verify exact or estimate; jobs::
    plan_verification): one task lists the pairs of every bucket of at most
    ``verify_bucket`` documents, split into as many groups as band ranges,
    and routes each part's documents to the groups that need them; one task
    per part makes the data of those documents (signatures and shingle
    sets, where the part is, once for all groups), and one task per group
    verifies its pairs with the run's verifier (verdicts and the similarity
    the evidence files report);
  * dedup and exact: exact groups as tasks (jobs::part_fingerprints,
    group_part_fingerprints): one task per part splits its usable
    documents' fingerprints by a hash of the fingerprint into as many
    pieces as band ranges, one task per piece lists the documents whose
    text another document repeats; the parts' metadata then goes to the
    finishing task without fingerprints;
  * one task runs the rest on a worker: ids across parts, exact groups, the
    clusterer over the buckets (each band against the previous band's
    labels) answering pairs from the verdicts, and verifying the others
    (pairs of larger buckets) with the shipped signatures and sets, keep
    choice, and writing clusters.tsv, the evidence files and stats.json
    (``run_dedup_parts``; for exact and decontaminate it merges whole
    parts);
  * dedup and exact: one task per part writes that part's kept lines into
    OUTDIR/deduped.jsonl (``write_part_kept``, where the part's metadata
    is, reading its byte range of the input again), at the offset the
    finishing task computed from pass 1's line sizes, into the temporary
    file "deduped.jsonl.tmp.PID.N" it made at the final size; the finishing
    task submits these tasks, waits for them, and renames the file. With
    text-file inputs (a line's size is known only once written) or
    --compress zstd, the finishing task writes deduped.jsonl itself.
    Inputs and OUTDIR must be at the same paths on every worker (shared
    storage).

Scan tasks run with ``--threads 1`` unless ``threads`` is given: Dask's
workers give the parallelism. The finishing task runs alone and uses the
command's default (every core of its worker) unless ``threads`` is given.
A task lost with its worker is run again by Dask; the finishing task
writes every file under a temporary name and renames it, and a new attempt
removes an earlier attempt's leftovers (a write task run again writes the
same bytes at the same place; a new attempt of the finishing task makes a
new temporary file and write tasks of its own).
"""

from __future__ import annotations

import json
import operator
import os
import sys
import uuid
from typing import Any, Optional, Sequence, Union

from . import _argv, _neardup

__all__ = ["DEFAULT_PART_BYTES", "DEFAULT_VERIFY_BUCKET", "decontaminate", "dedup", "exact", "main", "run"]

# Plain JSONL files larger than this are read in byte ranges of about this
# size (cut where the reader starts a chunk, jobs::part_ranges).
DEFAULT_PART_BYTES = 128 << 20

# dedup: every pair of a bucket of at most this many documents is verified
# in a verification task (jobs::plan_verification); larger buckets' pairs are
# verified by the finishing task. A bucket of m documents gives m(m-1)/2
# pairs, of which the finishing task would ask about ~m.
DEFAULT_VERIFY_BUCKET = 32

PathLike = Union[str, "os.PathLike[str]"]


def _count_lines(source: tuple, begin: int, end: int) -> int:
    """The '\\n's in bytes [begin, end) of a source (a range's line count, jobs::part_range_lines)."""
    return _neardup._dask_lines(source, begin, end)


def _save(run_dir: Optional[str], name: str, data: bytes):
    """data, or with run_dir the path of the file in it that holds data."""
    if run_dir is None:
        return data
    path = os.path.join(run_dir, name)
    tmp = f"{path}.tmp.{os.getpid()}.{uuid.uuid4().hex}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


def _scan_task(command: str, args: list, source: tuple, begin: int, end: int, index: int,
               run_dir: Optional[str], references: list, keep_sets: bool, *lines_before: int):
    """Pass 1 over one range of a source: the part (bytes, or the path of its
    file in run_dir); with keep_sets, (part, shingle sets of its documents).
    lines_before: the line counts of the source's earlier ranges.
    references: decontaminate's, expanded by the plan (empty otherwise)."""
    out = _neardup._dask_scan(command, args, source, begin, end, 1 + sum(lines_before), references, keep_sets)
    if keep_sets:
        return (_save(run_dir, f"part-{index:06d}.ndpart", out[0]), _save(run_dir, f"part-{index:06d}.ndsets", out[1]))
    return _save(run_dir, f"part-{index:06d}.ndpart", out)


def _load(p) -> bytes:
    """A part: its bytes, or the file in run_dir holding them."""
    if isinstance(p, str):
        with open(p, "rb") as f:
            return f.read()
    return p


def _keys_task(args: list, part, lo: int, hi: int) -> bytes:
    """Band keys of bands [lo, hi) of one part (runs where the part is)."""
    return _neardup._dask_band_keys(args, _load(part), lo, hi)


def _group_task(args: list, lo: int, hi: int, *keys) -> tuple:
    """Buckets of bands [lo, hi) from every part's band keys: (bytes, bytes received)."""
    return _neardup._dask_group(args, lo, hi, list(keys)), sum(len(k) for k in keys)


def _candidates_task(*groups) -> list:
    """Each part's candidate documents, from the buckets of every band."""
    return _neardup._dask_candidates([g[0] for g in groups])


def _candidate_data_task(args: list, source: tuple, begin: int, end: int, part, candidates: list, index: int,
                         sets, *lines_before) -> bytes:
    """Signatures and shingle sets of one part's candidates (runs where the part is): the sets from
    pass 1 (`sets`), or, when None, read again from the part's range."""
    return _neardup._dask_candidate_data(args, source, begin, end, 1 + sum(lines_before), _load(part),
                                         candidates[index], b"" if sets is None else _load(sets))


def _verification_plan_task(max_bucket: int, groups: int, *staged) -> tuple:
    """(routes per part, pairs per group) from the buckets of every band range."""
    return _neardup._dask_verification_plan([g[0] for g in staged], max_bucket, groups)


def _pick(x, i: int, j: int):
    """x[i][j]: one piece of a task's result, taken where the result is."""
    return x[i][j]


def _verification_data_task(args: list, source: tuple, begin: int, end: int, part, route: bytes, sets,
                            *lines_before) -> list:
    """A part's candidate data for each verification group, then for the finishing task (runs where the
    part is), then the route's size in bytes."""
    out = _neardup._dask_verification_data(args, source, begin, end, 1 + sum(lines_before), _load(part), route,
                                           b"" if sets is None else _load(sets))
    out.append(len(route))
    return out


def _verify_task(args: list, pairs: bytes, *data) -> tuple:
    """One group's verdicts from every part's data for it: (verdicts, data bytes received, pair bytes)."""
    return _neardup._dask_verify(args, pairs, list(data)), sum(len(d) for d in data), len(pairs)


def _metadata_task(part, fingerprints: bool = True) -> bytes:
    """A part without its signatures, and without its fingerprints unless `fingerprints` (runs where the
    part is)."""
    return _neardup._dask_part_metadata(_load(part), fingerprints)


def _fingerprints_task(command: str, args: list, part, groups: int) -> list:
    """A part's usable documents' fingerprints in `groups` pieces, by a hash of the fingerprint (runs where
    the part is)."""
    return _neardup._dask_part_fingerprints(command, args, _load(part), groups)


def _exact_task(command: str, args: list, *pieces: bytes) -> tuple:
    """One fingerprint group's exact groups from every part's piece of it: (bytes, bytes received)."""
    return _neardup._dask_exact_groups(command, args, list(pieces)), sum(len(p) for p in pieces)


def _exact_stage(client: Any, command: str, args: list, parts: list, token: str, placement: dict) -> list:
    """Exact groups as tasks (jobs::part_fingerprints, group_part_fingerprints): each part's usable
    documents' fingerprints, split by a hash of the fingerprint, go to max(2, workers) tasks, whose
    results list the documents whose text another document repeats (the finishing task receives those,
    and metadata without fingerprints). Returns their futures."""
    groups = max(2, len(client.scheduler_info().get("workers", {})))
    pieces = [client.submit(_fingerprints_task, command, args, p, groups, key=f"neardup-{command}-fps-{i}-{token}",
                            pure=False, **placement)
              for i, p in enumerate(parts)]
    exacts = []
    for g in range(groups):
        mine = [client.submit(operator.getitem, x, g, key=f"neardup-{command}-fpiece-{i}.{g}-{token}", pure=False,
                              **placement) for i, x in enumerate(pieces)]
        exacts.append(client.submit(_exact_task, command, args, *mine, key=f"neardup-{command}-exact-{g}-{token}",
                                    pure=False, **placement))
    return exacts


def _write_task(command: str, args: list, source: tuple, begin: int, end: int, part, keep: bytes,
                path: str) -> int:
    """One part's kept lines into the run's temporary deduped.jsonl at their offset (runs where the part,
    or its metadata, is): the bytes written."""
    return _neardup._dask_write_part(command, args, source, begin, end, _load(part), keep, path)


def _part_writer(writes: dict, timing: dict):
    """write(keep lists, path) for _dask_finish (jobs::part_writes): one write task per part, submitted
    from the finishing task (which holds OUTDIR's lock until they are done and it has renamed the file),
    each where its part's data (`writes["keys"]`, held by the client) is. Each attempt of the finishing
    task submits tasks of its own (a rerun after a lost worker writes the same bytes again)."""

    def write(keep: list, path: str) -> None:
        import time

        from distributed import Future, worker_client

        t0 = time.perf_counter()
        attempt = uuid.uuid4().hex
        command, args, spans = writes["command"], writes["args"], writes["spans"]
        with worker_client() as c:
            futures = [c.submit(_write_task, command, args, writes["sources"][s], *spans[i], Future(key, c),
                                keep[i], path, key=f"neardup-{command}-write-{i}-{attempt}", pure=False,
                                **writes["placement"])
                       for i, (s, key) in enumerate(zip(writes["part_sources"], json.loads(writes["keys"])))]
            written = c.gather(futures)
            del futures
        timing.update({"parts_write_seconds": time.perf_counter() - t0, "keep_lists": sum(len(k) for k in keep),
                       "written": sum(written)})

    return write


def _writes(command: str, args: list, sources: list, part_sources: list, spans: list, futures: list,
            placement: dict) -> dict:
    """What the finishing task needs to have each part's kept lines written where futures[i] (the part or
    its metadata, held by the client until the run is done) is (_part_writer)."""
    return {"command": command, "args": args, "sources": sources, "part_sources": part_sources, "spans": spans,
            # as one JSON string: Dask replaces an argument equal to a dependency's key by its value
            "keys": json.dumps([f.key for f in futures]), "placement": placement}


def _finish_task(command: str, args: list, sources: list, part_sources: list, staged: int, verified: int,
                 exact: int, writes: Optional[dict], *inputs) -> dict:
    """Merges the parts (bytes or paths) and writes OUTDIR. With `staged` groups of bands, inputs are
    the parts' metadata, then the groups' (buckets, bytes received), then the parts' candidate data; with
    `verified` verification groups, then their (verdicts, data bytes received, pair bytes), then the parts'
    route sizes; with `exact` fingerprint groups, then their (exact groups, bytes received), and the
    metadata has no fingerprints. With `writes` (see _part_writer), the parts' write tasks write
    deduped.jsonl."""
    n = len(part_sources)
    parts = [_load(p) for p in inputs[:n]]
    groups = list(inputs[n:n + staged])
    data = list(inputs[n + staged:n + staged + (n if staged else 0)])
    verdicts = list(inputs[n + staged + n:n + staged + n + verified]) if staged else []
    routes = list(inputs[n + staged + n + verified:len(inputs) - exact]) if staged else []
    exacts = list(inputs[len(inputs) - exact:]) if exact else []
    timing: dict = {}
    result = _neardup._dask_finish(command, args, sources, parts, part_sources, [g[0] for g in groups], data,
                                   [v[0] for v in verdicts],
                                   None if writes is None else _part_writer(writes, timing), [e[0] for e in exacts])
    result["parts_write_seconds"] = timing.get("parts_write_seconds", 0.0)
    result["stage_bytes"] = [len(p) for p in parts]
    result["shuffle"] = {"band_keys": sum(g[1] for g in groups), "buckets": sum(len(g[0]) for g in groups)}
    if verified:
        result["shuffle"].update({"routes": sum(routes), "pairs": sum(v[2] for v in verdicts),
                                  "verification_data": sum(v[1] for v in verdicts),
                                  "verdicts": sum(len(v[0]) for v in verdicts)})
    if exact:
        result["shuffle"].update({"fingerprints": sum(e[1] for e in exacts),
                                  "exact_groups": sum(len(e[0]) for e in exacts)})
    result["shuffle"].update({"candidate_data": sum(len(d) for d in data), "metadata": sum(len(p) for p in parts)})
    if not staged:  # `exact`: the parts, or with exact groups as tasks their metadata
        result["shuffle"] = {"metadata" if exact else "parts": sum(len(p) for p in parts)}
        if exact:
            result["shuffle"].update({"fingerprints": sum(e[1] for e in exacts),
                                      "exact_groups": sum(len(e[0]) for e in exacts)})
    if timing:
        result["shuffle"]["keep_lists"] = timing["keep_lists"]
    return result


def _finish_decontaminate_task(args: list, sources: list, part_sources: list, keys: list) -> dict:
    """decontaminate's finish, fetching the parts (by their keys, held by the client) one at a time,
    so that it holds one part and not the kept corpus."""
    from distributed import Future, worker_client

    sizes = []
    with worker_client() as c:
        futures = [Future(k, c) for k in keys]

        def fetch(i):
            part = _load(futures[i].result())
            sizes.append(len(part))
            return part

        result = _neardup._dask_finish_decontaminate(args, sources, part_sources, fetch)
    result["stage_bytes"] = sizes
    result["shuffle"] = {"parts": sum(sizes)}
    return result


def _remove_run_dir(run_dir: Optional[str]) -> None:
    if run_dir is None or not os.path.isdir(run_dir):
        return
    for name in os.listdir(run_dir):
        try:
            os.remove(os.path.join(run_dir, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(run_dir)
    except OSError:
        pass


def run(command: str, args: Sequence[str], client: Any = None, work_dir: Optional[PathLike] = None,
        log: Any = None, workers: Optional[Sequence[str]] = None, allow_other_workers: bool = True,
        part_bytes: int = DEFAULT_PART_BYTES, verify_bucket: int = DEFAULT_VERIFY_BUCKET,
        timeout: Optional[float] = None, write_tasks: bool = True) -> dict:
    """Runs ``neardup COMMAND ARGS...`` (dedup, exact or decontaminate) on the Dask cluster of
    ``client`` (default: the current one, ``distributed.get_client()``).

    Returns OUTDIR/stats.json as a dict, plus ``["dask"]``: ``parts``,
    ``stage_bytes`` (the stage data each part sent to the finishing task) and
    ``notices`` (bad records as FILE:LINE, warnings), which are also written
    to ``log`` (default sys.stderr) unless --quiet. ``workers``: addresses
    of the workers to run the tasks on (with ``allow_other_workers``, only
    preferred: others take over when those are gone). ``verify_bucket``
    (dedup with --verify exact or estimate): every pair of each bucket of at
    most this many documents is verified by verification tasks, and the
    finishing task verifies only the pairs of larger buckets (0: it
    verifies every pair, from every candidate's signature and set).
    ``timeout``: seconds to wait for the result (default: no limit); past it
    TimeoutError is raised, the run's tasks that have not started are
    cancelled and its ``work_dir`` files removed (a task already running on
    a worker runs to its end: Dask does not stop a running task).
    ``write_tasks`` (dedup, exact): each part's kept lines are written into
    OUTDIR/deduped.jsonl by a task of their own, where the part is (False: the
    finishing task copies them all, the earlier layout, kept for comparison).
    Raises ValueError for bad options and OSError for I/O failures (a missing
    input before any task is scheduled)."""
    args = [str(a) for a in args]
    if not 0 <= verify_bucket <= _neardup._dask_max_verify_bucket:
        raise ValueError(f"verify_bucket = {verify_bucket}: expected 0..{_neardup._dask_max_verify_bucket}")
    # Scan tasks run one thread each unless --threads says otherwise; the
    # finishing task runs alone, with the command's default (every core).
    scan_args = args if any(a == "--threads" or a.startswith("--threads=") for a in args) else [
        "--threads", "1", *args]
    plan = _neardup._dask_plan(command, args)
    log = sys.stderr if log is None else log
    quiet = plan["quiet"]
    if client is None:
        from distributed import get_client

        client = get_client()
    run_dir = None
    if work_dir is not None:
        run_dir = os.path.join(os.fspath(work_dir), f"neardup-{uuid.uuid4().hex}")
        os.makedirs(run_dir)
    token = uuid.uuid4().hex
    sources = plan["sources"]
    references = plan["references"]
    placement = {} if workers is None else {"workers": list(workers),
                                                 "allow_other_workers": allow_other_workers}
    try:
        # Large plain JSONL files are read in ranges (jobs::part_ranges); a
        # range after a file's first needs the line counts of those before it.
        parts, part_sets, part_sources, part_span, part_counts, n = [], [], [], [], [], 0
        # dedup with --verify exact: pass 1 keeps its shingle sets for the candidates' data
        keep_sets = plan["keep_sets"]
        for i, src in enumerate(sources):
            ranges = _neardup._dask_ranges(src, part_bytes)
            counts = []
            for j, (begin, end) in enumerate(ranges):
                scanned = client.submit(_scan_task, command, scan_args, src, begin, end, n, run_dir, references,
                                        keep_sets, *counts,
                                        key=f"neardup-{command}-scan-{n}-{token}", pure=False, **placement)
                if keep_sets:  # split where the scan ran; the sets are freed once their one task has run
                    parts.append(client.submit(operator.getitem, scanned, 0,
                                               key=f"neardup-{command}-part-{n}-{token}", pure=False, **placement))
                    part_sets.append(client.submit(operator.getitem, scanned, 1,
                                                   key=f"neardup-{command}-partsets-{n}-{token}", pure=False,
                                                   **placement))
                else:
                    parts.append(scanned)
                    part_sets.append(None)
                del scanned
                part_sources.append(i)
                part_span.append((begin, end))
                part_counts.append(list(counts))
                n += 1
                if j + 1 < len(ranges):
                    counts.append(client.submit(_count_lines, src, begin, end,
                                                key=f"neardup-{command}-lines-{n - 1}-{token}", pure=False,
                                                **placement))
        staged = []
        if plan["bands"] > 0:
            # The stages after pass 1 as tasks: band keys where each part is,
            # grouped per band range; candidates' signatures and sets where
            # each part is; only those, the buckets and the metadata reach the
            # finishing task (jobs/parts.hpp, part_stages).
            bands = plan["bands"]
            nworkers = max(1, len(client.scheduler_info().get("workers", {})))
            groups = min(bands, max(2, nworkers))
            cuts = [bands * g // groups for g in range(groups + 1)]
            for g in range(groups):
                lo, hi = cuts[g], cuts[g + 1]
                keys = [client.submit(_keys_task, scan_args, p, lo, hi,
                                      key=f"neardup-{command}-keys-{i}.{g}-{token}", pure=False, **placement)
                        for i, p in enumerate(parts)]
                staged.append(client.submit(_group_task, scan_args, lo, hi, *keys,
                                            key=f"neardup-{command}-group-{g}-{token}", pure=False, **placement))
                del keys
            data, metas, verdicts, route_sizes = [], [], [], []
            if plan["verify"] and verify_bucket > 0:
                # Verification as tasks (jobs::plan_verification): the pairs of
                # buckets of at most verify_bucket members are verified in
                # `groups` tasks, each fed by every part with the data of the
                # documents it needs; the finishing task gets their verdicts and
                # the data of larger buckets' members only.
                vplan = client.submit(_verification_plan_task, verify_bucket, groups, *staged,
                                      key=f"neardup-{command}-vplan-{token}", pure=False, **placement)
                pieces = []
                for i, p in enumerate(parts):
                    route = client.submit(_pick, vplan, 0, i, key=f"neardup-{command}-route-{i}-{token}",
                                          pure=False, **placement)
                    pieces.append(client.submit(_verification_data_task, scan_args, sources[part_sources[i]],
                                                *part_span[i], p, route, part_sets[i], *part_counts[i],
                                                key=f"neardup-{command}-vdata-{i}-{token}", pure=False, **placement))
                    data.append(client.submit(operator.getitem, pieces[i], groups,
                                              key=f"neardup-{command}-fdata-{i}-{token}", pure=False, **placement))
                    route_sizes.append(client.submit(operator.getitem, pieces[i], groups + 1,
                                                     key=f"neardup-{command}-routesize-{i}-{token}", pure=False,
                                                     **placement))
                for h in range(groups):
                    pairs = client.submit(_pick, vplan, 1, h, key=f"neardup-{command}-pairs-{h}-{token}",
                                          pure=False, **placement)
                    mine = [client.submit(operator.getitem, x, h, key=f"neardup-{command}-vpiece-{i}.{h}-{token}",
                                          pure=False, **placement) for i, x in enumerate(pieces)]
                    verdicts.append(client.submit(_verify_task, scan_args, pairs, *mine,
                                                  key=f"neardup-{command}-verify-{h}-{token}", pure=False,
                                                  **placement))
                    del pairs, mine
                del vplan, pieces
            else:
                cands = client.submit(_candidates_task, *staged, key=f"neardup-{command}-candidates-{token}",
                                      pure=False, **placement)
                for i, p in enumerate(parts):
                    src = sources[part_sources[i]]
                    data.append(client.submit(_candidate_data_task, scan_args, src, *part_span[i], p, cands, i,
                                              part_sets[i], *part_counts[i], key=f"neardup-{command}-sets-{i}-{token}",
                                              pure=False, **placement))
                del cands
            exacts = _exact_stage(client, command, scan_args, parts, token, placement)
            for i, p in enumerate(parts):
                metas.append(client.submit(_metadata_task, p, False, key=f"neardup-{command}-meta-{i}-{token}",
                                           pure=False, **placement))
            # The parts' write tasks read their metadata where it is: `metas` is held until run() returns.
            done = client.submit(_finish_task, command, args, sources, part_sources, len(staged), len(verdicts),
                                 len(exacts),
                                 _writes(command, scan_args, sources, part_sources, part_span, metas, placement)
                                 if write_tasks else None,
                                 *metas, *staged, *data, *verdicts, *route_sizes, *exacts,
                                 key=f"neardup-{command}-finish-{token}", pure=False, **placement)
            del data, verdicts, route_sizes, exacts
            part_sets.clear()
        elif command == "decontaminate":
            # The finishing task fetches the parts itself, one at a time; they
            # stay alive through `parts`, held here until it is done.
            done = client.submit(_finish_decontaminate_task, args, sources, part_sources, [p.key for p in parts],
                                 key=f"neardup-{command}-finish-{token}", pure=False, **placement)
        else:
            # `exact`: exact groups as tasks too; the finishing task merges the parts' metadata.
            exacts = _exact_stage(client, command, scan_args, parts, token, placement)
            metas = [client.submit(_metadata_task, p, False, key=f"neardup-{command}-meta-{i}-{token}", pure=False,
                                   **placement) for i, p in enumerate(parts)]
            done = client.submit(_finish_task, command, args, sources, part_sources, 0, 0, len(exacts),
                                 _writes(command, scan_args, sources, part_sources, part_span, metas, placement)
                                 if write_tasks else None, *metas, *exacts,
                                 key=f"neardup-{command}-finish-{token}", pure=False, **placement)
            del exacts
        try:
            result = done.result(timeout=timeout)
        except TimeoutError:
            client.cancel([done, *parts], force=True)
            raise TimeoutError(f"neardup.dask {command}: no result after {timeout} s; the run was cancelled") from None
        del parts, done, staged
    finally:
        _remove_run_dir(run_dir)
    if not quiet:
        for line in result["notices"]:
            print(f"neardup: {line}", file=log)
    with open(os.path.join(plan["out_dir"], "stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    stats["dask"] = {"parts": len(part_sources), "stage_bytes": result["stage_bytes"], "notices": result["notices"],
                     "shuffle": result["shuffle"], "parts_write_seconds": result.get("parts_write_seconds", 0.0)}
    return stats


def dedup(inputs: Sequence[PathLike], out_dir: PathLike, client: Any = None, work_dir: Optional[PathLike] = None,
          progress: bool = True, part_bytes: int = DEFAULT_PART_BYTES, verify_bucket: int = DEFAULT_VERIFY_BUCKET,
          timeout: Optional[float] = None, **options: Any) -> dict:
    """``neardup dedup INPUTS -o OUT_DIR --OPTION VALUE...`` on a Dask cluster
    (see run()); ``progress=False`` is ``--quiet``."""
    return run("dedup", _argv("dedup", inputs, out_dir, options, progress)[1:], client, work_dir,
               part_bytes=part_bytes, verify_bucket=verify_bucket, timeout=timeout)


def exact(inputs: Sequence[PathLike], out_dir: PathLike, client: Any = None, work_dir: Optional[PathLike] = None,
          progress: bool = True, part_bytes: int = DEFAULT_PART_BYTES, timeout: Optional[float] = None,
          **options: Any) -> dict:
    """``neardup exact INPUTS -o OUT_DIR --OPTION VALUE...`` on a Dask cluster (see run())."""
    return run("exact", _argv("exact", inputs, out_dir, options, progress)[1:], client, work_dir,
               part_bytes=part_bytes, timeout=timeout)


def decontaminate(inputs: Sequence[PathLike], out_dir: PathLike, references: Union[PathLike, Sequence[PathLike]],
                  client: Any = None, work_dir: Optional[PathLike] = None, progress: bool = True,
                  part_bytes: int = DEFAULT_PART_BYTES, timeout: Optional[float] = None, **options: Any) -> dict:
    """``neardup decontaminate INPUTS --reference REF... -o OUT_DIR --OPTION VALUE...``
    on a Dask cluster (see run()): one task per part checks its documents
    against the references (each task indexes the references again from their
    files: they are small next to the corpus), one task writes
    contamination.tsv, clean.jsonl and stats.json, byte for byte those of the
    CLI. The finishing task fetches the parts one at a time (it holds one part,
    not the kept corpus); with ``work_dir`` the parts wait in files there, else
    in the workers' memory."""
    if isinstance(references, (str, bytes, os.PathLike)):
        references = [references]
    return run("decontaminate", _argv("decontaminate", inputs, out_dir, {"reference": list(references), **options},
                                      progress)[1:], client, work_dir, part_bytes=part_bytes, timeout=timeout)


_USAGE = """usage: python3 -m neardup.dask {dedup|exact|decontaminate} INPUT... -o OUTDIR --scheduler ADDRESS
                             [--work-dir DIR] [--part-mb M] [options]

Runs `neardup dedup` (or `exact`, or `decontaminate ... --reference REF`) on a
Dask cluster: one task per input file (or range of a large one) signs (or
checks) it on a worker, one task merges and writes OUTDIR (dedup and exact:
with one task per part copying its kept lines into deduped.jsonl). The
outputs are those of the single-machine command. Every option of the command
is accepted (see `neardup dedup --help`); scan tasks run with --threads 1
unless it is given.
  --scheduler ADDRESS  the Dask scheduler (e.g. tcp://10.0.0.1:8786)
  --work-dir DIR       keep stage data in files under DIR (storage every
                       worker sees) instead of in worker memory
  --part-mb M          read plain JSONL files larger than M MiB in ranges of
                       about M MiB, one task each (default 128)
  --verify-bucket N    dedup: verify every pair of buckets of at most N
                       documents in verification tasks; the finishing task
                       verifies the rest (default 32; 0: all of them)
"""


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE, end="")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    scheduler = None
    work_dir = None
    part_bytes = DEFAULT_PART_BYTES
    verify_bucket = DEFAULT_VERIFY_BUCKET
    args: list = []
    i = 0
    while i < len(rest):
        a = rest[i]
        for name in ("--scheduler", "--work-dir", "--part-mb", "--verify-bucket"):
            if a == name or a.startswith(name + "="):
                if a == name:
                    if i + 1 >= len(rest):
                        print(f"neardup.dask: {name} needs a value", file=sys.stderr)
                        return 2
                    value = rest[i + 1]
                    i += 1
                else:
                    value = a.split("=", 1)[1]
                if name == "--scheduler":
                    scheduler = value
                elif name == "--work-dir":
                    work_dir = value
                elif name == "--verify-bucket":
                    if not value.isdigit() or int(value) > _neardup._dask_max_verify_bucket:
                        print(f"neardup.dask: --verify-bucket = '{value}': expected "
                              f"0..{_neardup._dask_max_verify_bucket}", file=sys.stderr)
                        return 2
                    verify_bucket = int(value)
                else:
                    try:
                        part_bytes = int(float(value) * 2**20)
                    except ValueError:
                        part_bytes = 0
                    if part_bytes <= 0:
                        print(f"neardup.dask: --part-mb = '{value}': expected a positive number", file=sys.stderr)
                        return 2
                break
        else:
            args.append(a)
        i += 1
    if command not in ("dedup", "exact", "decontaminate"):
        print(f"neardup.dask: unknown command '{command}' (dedup, exact or decontaminate)\n" + _USAGE, file=sys.stderr, end="")
        return 2
    if scheduler is None:
        print("neardup.dask: --scheduler ADDRESS is required", file=sys.stderr)
        return 2
    try:
        _neardup._dask_plan(command, ["--threads", "1", *args])
    except ValueError as e:
        print(f"{e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{e}", file=sys.stderr)
        return 1
    from distributed import Client

    try:
        with Client(scheduler, timeout=30) as client:
            r = run(command, args, client, work_dir, part_bytes=part_bytes, verify_bucket=verify_bucket)
    except (OSError, ValueError) as e:
        print(f"{e}", file=sys.stderr)
        return 1
    if "--quiet" not in args and command == "decontaminate":
        d = r["documents"]
        print(f"neardup.dask decontaminate: {r['references']} references, {d['read']} documents, "
              f"{d['contaminated']} contaminated, {d['removed']} removed, {d['skipped']} skipped; "
              f"{r['dask']['parts']} parts, {sum(r['dask']['stage_bytes'])} bytes of stage data", file=sys.stderr)
    elif "--quiet" not in args:
        d = r["documents"]
        print(f"neardup.dask {command}: {d['read']} documents, kept {d['kept']}, removed {d['removed']} "
              f"({d['removed_exact_duplicates']} exact, {d['removed_near_duplicates']} near), skipped "
              f"{d['skipped']} bad records (kept as is); {r['clusters']['count']} clusters; "
              f"{r['dask']['parts']} parts, {sum(r['dask']['stage_bytes'])} bytes of stage data",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    from neardup.dask import main as _main  # the tasks must pickle as neardup.dask.*, not __main__.*

    sys.exit(_main())

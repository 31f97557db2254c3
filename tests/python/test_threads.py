"""Calls from several Python threads at once, and the GIL released during long calls."""
import threading
import time

import numpy as np

import neardup

WORDS = np.array([f"word{i}" for i in range(5000)])


def corpus(n, seed):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, 300)) for _ in range(n)]


def test_two_threads_sign_at_once():
    docs_a, docs_b = corpus(2000, 1), corpus(2000, 2)
    expected = {"a": neardup.signatures(docs_a, threads=1), "b": neardup.signatures(docs_b, num_perm=64, threads=1)}
    got, errors = {}, []

    def run(name, docs, **kw):
        try:
            for _ in range(3):
                got[name] = neardup.signatures(docs, **kw)
                assert np.array_equal(got[name], expected[name])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=("a", docs_a), kwargs={"threads": 2}),
               threading.Thread(target=run, args=("b", docs_b), kwargs={"num_perm": 64, "threads": 2})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and set(got) == {"a", "b"}


def spin_rate():
    """Loop iterations per second of this thread alone."""
    ticks, end = 0, time.perf_counter() + 0.05
    while time.perf_counter() < end:
        ticks += 1
    return ticks / 0.05


def progress_during(call):
    """(iterations this thread ran while `call` ran in another thread, seconds of the call)."""
    counter, done = [0], threading.Event()
    span = {}

    def worker():
        while counter[0] == 0:  # the loop below is running
            time.sleep(0.001)
        before, begin = counter[0], time.perf_counter()
        call()
        span["ticks"], span["seconds"] = counter[0] - before, time.perf_counter() - begin
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    while not done.is_set():
        counter[0] += 1
        time.perf_counter()  # the same work per iteration as spin_rate()
    t.join()
    return span["ticks"], span["seconds"]


def assert_released(call):
    # A call that held the GIL would let this thread run for at most one
    # switch interval (5 ms) of it; one that releases it, for all of it.
    rate = spin_rate()

    def repeated():  # long enough to tell on a fast or a busy machine alike
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            call()

    ticks, seconds = progress_during(repeated)
    assert seconds > 0.2, f"the call took {seconds:.3f}s: too short to tell"
    assert ticks > rate * 0.05, (ticks, seconds, rate)


def test_the_check_detects_a_call_that_holds_the_gil():
    text = "ab" * 50_000_000
    calls = 0

    def held():  # str.count holds the GIL
        nonlocal calls
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            text.count("c")
            calls += 1

    rate = spin_rate()
    ticks, seconds = progress_during(held)
    # the Python loop in held() switches between counts, so some ticks get in;
    # far fewer than while a released call runs
    assert ticks < rate * seconds * 0.5, (ticks, seconds, rate)


def test_signatures_release_the_gil():
    docs = corpus(6000, 3)
    assert_released(lambda: neardup.signatures(docs, num_perm=512, scheme="classic", threads=1))


def test_file_jobs_release_the_gil(sample, tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_text(sample.read_text() * 30)
    assert_released(lambda: neardup.dedup_files(big, tmp_path / "out", progress=False, threads=1))


def test_dedup_releases_the_gil(sample):
    import json
    texts = [json.loads(line)["text"] + f" copy {i}" for i in range(20) for line in sample.read_text().splitlines()]
    assert_released(lambda: neardup.dedup(texts, threads=1))


def test_decontaminate_releases_the_gil(sample):
    import json
    texts = [json.loads(line)["text"] for line in sample.read_text().splitlines()] * 5
    assert_released(lambda: neardup.decontaminate(texts, texts[:50], threads=1))

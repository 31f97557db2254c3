"""shingles, signatures, jaccard, exact_jaccard and the LSH parameter helpers."""
import subprocess

import numpy as np
import pytest

import neardup

DOCS = [
    "The quick brown fox jumps over the lazy dog near the river bank today",
    "The quick brown fox jumps over the lazy dog near the river bank tonight",
    "Completely different words appear in this third document of the batch",
    "",
    "short text",
    "naïve café 2023 déjà vu, x86_64 ü",
    "def f(x): return x + 1  # code-like tokens == != -> ::",
] * 3


def test_version_is_the_project_version(source_dir):
    import re
    text = (source_dir / "CMakeLists.txt").read_text()
    assert neardup.__version__ == re.search(r"project\(neardup VERSION ([0-9.]+)", text).group(1)


def test_shingles_are_sorted_unique_uint64():
    s = neardup.shingles("one two three four five six seven", ngram=5)
    assert s.dtype == np.uint64 and s.shape == (3,)
    assert np.all(s[1:] > s[:-1])
    assert neardup.shingles("a a a a a a a a a a", ngram=2).shape == (1,)  # repeats collapse


def test_shingles_short_and_empty_texts():
    assert neardup.shingles("two words", ngram=5).shape == (1,)  # one shingle of all tokens
    assert neardup.shingles("", ngram=5).shape == (0,)
    assert neardup.shingles("!!! ...", ngram=5).shape == (0,)


def test_shingles_options_change_the_hashes():
    text = "Hello World hello world again and again"
    base = neardup.shingles(text)
    assert not np.array_equal(base, neardup.shingles(text, seed=7))
    assert not np.array_equal(base, neardup.shingles(text, tokens="char"))
    assert not np.array_equal(neardup.shingles(text, tokens="code"), neardup.shingles(text, tokens="word"))
    assert np.array_equal(neardup.shingles(text.encode()), base)  # bytes are UTF-8 text


def test_shingles_errors():
    with pytest.raises(ValueError, match="tokens"):
        neardup.shingles("x", tokens="words")
    with pytest.raises(ValueError, match="n = 0"):
        neardup.shingles("x", ngram=0)
    with pytest.raises(TypeError):
        neardup.shingles(42)
    with pytest.raises(UnicodeEncodeError):
        neardup.shingles("lone \ud800 surrogate")


def test_signatures_shape_dtype_and_empty_sentinel():
    s = neardup.signatures(DOCS, num_perm=64)
    assert s.dtype == np.uint32 and s.shape == (len(DOCS), 64) and s.flags["C_CONTIGUOUS"]
    assert np.all(s[3] == neardup.EMPTY_SIG_VALUE)
    assert not np.any(s[0] == neardup.EMPTY_SIG_VALUE)
    assert np.array_equal(s[0], s[7])  # same text, same signature
    assert neardup.signatures([], num_perm=16).shape == (0, 16)


@pytest.mark.parametrize("threads", [1, 2, 3, None])
def test_signatures_do_not_depend_on_threads(threads):
    docs = [f"document {i} " + "word " * (i % 50) + DOCS[i % len(DOCS)] for i in range(500)]
    assert np.array_equal(neardup.signatures(docs, threads=threads), neardup.signatures(docs, threads=1))


def test_signatures_accept_iterables_bytes_and_dicts():
    expected = neardup.signatures(DOCS)
    assert np.array_equal(neardup.signatures(iter(DOCS)), expected)
    assert np.array_equal(neardup.signatures(d for d in DOCS), expected)
    assert np.array_equal(neardup.signatures([d.encode() for d in DOCS]), expected)
    assert np.array_equal(neardup.signatures([{"text": d, "id": i} for i, d in enumerate(DOCS)]), expected)
    assert np.array_equal(neardup.signatures([{"body": d} for d in DOCS], text_field="body"), expected)


def test_signatures_errors():
    with pytest.raises(TypeError, match="single str"):
        neardup.signatures("a text, not a list")
    with pytest.raises(TypeError):
        neardup.signatures([1, 2])
    with pytest.raises(KeyError, match="text"):
        neardup.signatures([{"body": "x"}])
    with pytest.raises(ValueError, match="num_perm"):
        neardup.signatures(DOCS, num_perm=0)
    with pytest.raises(ValueError, match="num_perm"):
        neardup.signatures(DOCS, num_perm=neardup.MAX_NUM_PERM + 1)
    with pytest.raises(ValueError, match="scheme"):
        neardup.signatures(DOCS, scheme="minhash")
    with pytest.raises(ValueError, match="tokens"):
        neardup.signatures(DOCS, tokens="bytes")
    with pytest.raises(ValueError, match="threads"):
        neardup.signatures(DOCS, threads=0)
    with pytest.raises(ValueError, match="ngram"):
        neardup.signatures(DOCS, ngram=0)


@pytest.mark.parametrize("scheme", ["oph", "classic", "superminhash"])
@pytest.mark.parametrize("tokens,ngram", [("word", 5), ("char", 3), ("code", 2)])
def test_signatures_equal_the_cpp_library(oracle, scheme, tokens, ngram):
    num_perm, seed = 96, 12345
    lines = [d for d in DOCS if "\n" not in d]
    out = subprocess.run([str(oracle), str(num_perm), scheme, str(ngram), tokens, str(seed)],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, check=True).stdout
    expected = np.array([[int(v) for v in row.split()] for row in out.splitlines()], dtype=np.uint32)
    got = neardup.signatures(lines, num_perm=num_perm, scheme=scheme, ngram=ngram, tokens=tokens, seed=seed)
    assert np.array_equal(got, expected)


def test_jaccard_bounds():
    s = neardup.signatures(DOCS)
    j = neardup.jaccard(s[0], s[1])
    assert 0 <= j.lower <= j.estimate <= j.upper <= 1
    lower, estimate, upper = j  # unpacks like a tuple
    assert (lower, estimate, upper) == (j.lower, j.estimate, j.upper) and "JaccardBounds(" in repr(j)
    assert neardup.jaccard(s[0], s[0]).estimate == 1.0
    assert tuple(neardup.jaccard(s[0], s[3])) == (0.0, 0.0, 0.0)  # empty document
    assert neardup.jaccard(s[0], s[1], z=3.0).lower <= j.lower
    assert neardup.jaccard(list(s[0]), list(s[1])).estimate == j.estimate  # any array-like


def test_jaccard_estimate_is_within_theory_of_exact():
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(3000)]
    a = " ".join(rng.choice(words, 1500))
    b = " ".join(a.split()[:1000] + list(rng.choice(words, 500)))
    exact = neardup.exact_jaccard(neardup.shingles(a, ngram=1), neardup.shingles(b, ngram=1))
    for scheme in ("oph", "classic", "superminhash"):
        s = neardup.signatures([a, b], num_perm=256, ngram=1, scheme=scheme)
        est = neardup.jaccard(s[0], s[1]).estimate
        assert abs(est - exact) <= 4 * np.sqrt(exact * (1 - exact) / 256) + 1e-9


def test_jaccard_errors():
    s = neardup.signatures(DOCS[:2])
    with pytest.raises(ValueError, match="sizes"):
        neardup.jaccard(s[0], s[1][:10])
    with pytest.raises(ValueError, match="z"):
        neardup.jaccard(s[0], s[1], z=0)
    with pytest.raises(ValueError, match="1-D"):
        neardup.jaccard(s, s)


def test_exact_jaccard():
    a = neardup.shingles("one two three four five six seven")
    b = neardup.shingles("One two three, four five six EIGHT")
    assert neardup.exact_jaccard(a, b) == 0.5
    assert neardup.exact_jaccard(a, a) == 1.0
    empty = neardup.shingles("")
    assert neardup.exact_jaccard(empty, empty) == 0.0
    with pytest.raises(ValueError, match="sorted"):
        neardup.exact_jaccard(a[::-1], b)
    with pytest.raises(ValueError, match="sorted"):
        neardup.exact_jaccard(np.array([1, 1, 2], dtype=np.uint64), b)


def test_lsh_parameter_helpers():
    assert neardup.choose_params_for_recall(0.8, 128) == (16, 6)
    assert neardup.default_lsh_params(0.8, 128, "none") == neardup.choose_params(0.8, 128)
    bands, rows = neardup.default_lsh_params(0.8, 128)        # what `neardup dedup` uses
    assert neardup.candidate_probability(0.8, bands, rows) >= 0.99 and bands * rows <= 128
    with pytest.raises(ValueError, match="verify"):
        neardup.default_lsh_params(0.8, 128, "maybe")
    assert neardup.choose_params(0.8, 128) == (9, 13)             # datasketch's criterion
    assert neardup.choose_params(0.9, 128) == (5, 25)             # datasketch's documented example
    p = neardup.candidate_probability(0.8, 16, 6)
    assert p == pytest.approx(1 - (1 - 0.8 ** 6) ** 16) and p >= 0.99
    with pytest.raises(ValueError):
        neardup.choose_params(1.5, 128)
    with pytest.raises(ValueError):
        neardup.choose_params_for_recall(0.8, 128, 1.0)


def test_unaligned_arrays_are_read_correctly():
    a = neardup.shingles("one two three four five six seven")
    raw = b"x" + a.tobytes()
    unaligned = np.frombuffer(raw, dtype=np.uint64, offset=1)
    assert not unaligned.flags["ALIGNED"]
    assert neardup.exact_jaccard(unaligned, a) == 1.0
    s = neardup.signatures(["one two three four five six seven"])[0]
    odd = np.frombuffer(b"x" + s.tobytes(), dtype=np.uint32, offset=1)
    assert neardup.jaccard(odd, s).estimate == 1.0
    index = neardup.LSHIndex()
    index.insert("a", odd)
    assert index.query(odd) == ["a"]

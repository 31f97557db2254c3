#!/usr/bin/python3
"""Writes N short JSONL documents (8-16 words, ~100 bytes) to stdout: one in
five an edited copy of an earlier one (one word changed), one in ten an exact
copy, the rest fresh. Deterministic for a given N and --seed. Used by
bench/bigger_than_ram.sh to make its corpora at run time.

  bench/make_short_corpus.py 1000000 > corpus.jsonl
"""
import random
import sys


def main() -> None:
    n = int(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    words = ["w%x" % rng.getrandbits(20) for _ in range(50000)]
    recent = []  # a window of earlier texts to copy from
    out = sys.stdout
    buf = []
    for i in range(n):
        r = rng.random()
        if recent and r < 0.1:
            text = rng.choice(recent)
        elif recent and r < 0.3:
            t = rng.choice(recent).split(" ")
            t[rng.randrange(len(t))] = rng.choice(words)
            text = " ".join(t)
        else:
            text = " ".join(rng.choices(words, k=rng.randint(8, 16)))
            if len(recent) < 4096:
                recent.append(text)
            else:
                recent[rng.randrange(4096)] = text
        buf.append('{"id":"d%d","text":"%s"}\n' % (i, text))
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()

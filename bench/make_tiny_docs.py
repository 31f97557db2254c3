#!/usr/bin/python3
"""Writes N tiny JSONL documents (2-8 words from a 5000-word vocabulary; one in
five an earlier one plus a word), as short_docs_bench generates them in memory.

    /usr/bin/python3 bench/make_tiny_docs.py 1000000 /tmp/tiny1m.jsonl   # 60 MB
    /usr/bin/time -f "%U user %S sys" neardup dedup /tmp/tiny1m.jsonl -o /tmp/tiny_out --threads 1 --quiet
"""
import json
import random
import sys


def write_tiny_docs(count: int, path: str) -> None:
    r = random.Random(11)
    vocab = [''.join(chr(97 + r.randrange(26)) for _ in range(2 + r.randrange(7))) for _ in range(5000)]
    docs = []
    with open(path, 'w', encoding='utf-8') as f:
        for i in range(count):
            if docs and r.randrange(5) == 0:
                d = docs[len(docs) - 1 - r.randrange(min(len(docs), 1000))] + ' ' + vocab[r.randrange(5000)]
            else:
                d = ' '.join(vocab[r.randrange(5000)] for _ in range(2 + r.randrange(7)))
            docs.append(d)
            f.write(json.dumps({"id": "d%d" % i, "text": d}) + "\n")


if __name__ == '__main__':
    write_tiny_docs(int(sys.argv[1]), sys.argv[2])

#!/usr/bin/env python3
"""Builds a JSONL corpus of real source files, for benchmarks and accuracy runs.

usage: make_code_corpus.py OUT.jsonl MAX_MB DIR...

Walks each DIR (sorted, so the output is reproducible), keeps text-like files
of 64 B .. 1 MiB, and writes {"id": path, "text": contents} lines until MAX_MB
of text. On a Debian machine with several Python versions installed (pyenv),
the standard libraries of the versions are real near-duplicates of each other.
"""
import json
import os
import sys

EXTS = {".py", ".pyi", ".c", ".h", ".cc", ".cpp", ".hpp", ".rs", ".go", ".js", ".ts", ".java",
        ".md", ".rst", ".txt", ".html", ".css", ".sh", ".toml", ".cfg", ".ini", ".json", ".xml"}


def main():
    out_path, max_mb, dirs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    limit = int(max_mb * 1e6)
    total = docs = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for top in dirs:
            for root, subdirs, files in os.walk(top):
                subdirs.sort()
                for name in sorted(files):
                    if os.path.splitext(name)[1] not in EXTS:
                        continue
                    path = os.path.join(root, name)
                    try:
                        if os.path.islink(path) or not 64 <= os.path.getsize(path) <= 1 << 20:
                            continue
                        with open(path, "rb") as f:
                            text = f.read().decode("utf-8", errors="replace")
                    except OSError:
                        continue
                    out.write(json.dumps({"id": path, "text": text}, ensure_ascii=False) + "\n")
                    total += len(text)
                    docs += 1
                    if total >= limit:
                        print(f"{docs} documents, {total / 1e6:.1f} MB of text", file=sys.stderr)
                        return
    print(f"{docs} documents, {total / 1e6:.1f} MB of text", file=sys.stderr)


if __name__ == "__main__":
    main()

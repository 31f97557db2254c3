#!/usr/bin/python3
"""Writes tests/data/unspaced/*.txt: small samples of real text in scripts
written without spaces, taken from the translation catalogues Debian 12
installs (see tests/data/unspaced/SOURCES.md for the packages and licences).
One translated message per line, newlines inside a message become spaces,
messages in order of their English msgid, each sample cut at ~2 KB.

  /usr/bin/python3 scripts/make_unspaced_samples.py
"""
import gettext
import os
import sys

SAMPLES = [  # (output, catalogue)
    ("zh_CN.txt", "/usr/share/locale/zh_CN/LC_MESSAGES/Linux-PAM.mo"),
    ("ja.txt", "/usr/share/locale/ja/LC_MESSAGES/Linux-PAM.mo"),
    ("km.txt", "/usr/share/locale/km/LC_MESSAGES/Linux-PAM.mo"),
    ("th.txt", "/usr/share/locale/th/LC_MESSAGES/iso_3166-1.mo"),
    ("lo.txt", "/usr/share/locale/lo/LC_MESSAGES/iso_3166-1.mo"),
    ("my.txt", "/usr/share/locale/my/LC_MESSAGES/iso_3166-1.mo"),
]
LIMIT = 2048  # bytes per sample


def main() -> int:
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "unspaced")
    for name, mo in SAMPLES:
        with open(mo, "rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog  # pylint: disable=protected-access
        lines, size = [], 0
        for msgid in sorted(k for k in catalog if isinstance(k, str) and k):
            text = " ".join(str(catalog[msgid]).split())
            if not text or text == msgid:
                continue
            if size + len(text.encode()) + 1 > LIMIT:
                break
            lines.append(text)
            size += len(text.encode()) + 1
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{name}: {len(lines)} messages, {size} bytes from {mo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that the code shown in the docs is code the build compiles.

A fenced code block in README.md or docs/*.md that follows a line
    <!-- snippet: PATH -->
must appear verbatim (as whole, consecutive lines) in PATH, relative to the
repository root. Exit 1 with one line per stale or dangling snippet.

    docs_snippets.py SOURCE_DIR
"""
import pathlib
import re
import sys

MARK = re.compile(r"^<!-- snippet: (\S+) -->\s*$")


def blocks(text):
    """(line number, path, code) for every marked fenced block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if m and i + 1 < len(lines) and lines[i + 1].startswith("```"):
            j = i + 2
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            yield i + 1, m.group(1), lines[i + 2 : j]
            i = j
        elif m:
            yield i + 1, m.group(1), None
        i += 1


def main():
    root = pathlib.Path(sys.argv[1])
    docs = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    errors, checked = [], 0
    for doc in docs:
        for line, path, code in blocks(doc.read_text()):
            where = f"{doc.relative_to(root)}:{line}"
            source = root / path
            if code is None:
                errors.append(f"{where}: snippet mark without a fenced block after it")
            elif not source.is_file():
                errors.append(f"{where}: {path} does not exist")
            elif not code:
                errors.append(f"{where}: empty snippet")
            else:
                src = source.read_text().split("\n")
                n = len(code)
                if not any(src[k : k + n] == code for k in range(len(src) - n + 1)):
                    errors.append(f"{where}: the block is not in {path} (stale copy?)")
                checked += 1
    for e in errors:
        print(e)
    print(f"{checked} snippet(s) checked, {len(errors)} problem(s)")
    return 1 if errors or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

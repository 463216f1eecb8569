#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The repository stands alone: no file refers to a path or document outside it, and every
decision (D1, D2, ...) and numbered edge case cited anywhere is defined in docs/decisions.md.

Usage: check_refs.py SOURCE_ROOT. Prints one line per problem (FILE:LINE: what is wrong) and
exits 1 if there is any, 0 otherwise. The files are those git would commit (tracked, and new
ones not ignored); outside a git checkout, every file of the tree but build directories."""
import os
import re
import subprocess
import sys

DECISIONS = "docs/decisions.md"

# Written in pieces so that this file does not match itself.
OUTSIDE = [
    (re.compile(r"\.\./" + "shared"), "a path outside the repository"),
    (re.compile(r"(?<![\w.-])/" + "work/"), "an absolute path of the development machine"),
    (re.compile(r"semantics" + r"\.md"), "a document outside the repository"),
    (re.compile(r"\bR-[ABHLNOVWZ][0-9]+\b"), "a reference item of a document outside the repository"),
]

# D-numbers, alone or as ranges (D1-D19, D7..D13).
DECISION = re.compile(r"\bD([0-9]+)\b(?:\s*(?:-|\.\.|–)\s*D([0-9]+)\b)?")
# Edge cases: "edge case 7", "edge cases 54, 55 and 56" (also across a line break), the rows
# of check_policy ("edge 1: ...") and its test names (test_edge19_..., edge01_spec).
EDGE_LIST = re.compile(
    r"\bedge[\s-]+cases?\s+([0-9]+(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+)[0-9]+)*)", re.I)
EDGE_ROW = re.compile(r"\bedge\s+([0-9]+)\b", re.I)
EDGE_NAME = re.compile(r"\bedge([0-9]+)_|_edge([0-9]+)_")

DEFINED_D = re.compile(r"^#{2,4}\s+D([0-9]+)\b", re.M)
DEFINED_EDGE = re.compile(r"^#{2,4}\s+Edge case ([0-9]+)\b", re.M)


def repo_files(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "-co", "--exclude-standard"],
            check=True, capture_output=True).stdout.decode()
        return sorted(f for f in out.split("\0") if f)
    except (OSError, subprocess.CalledProcessError):
        files = []
        for top, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs
                       if not d.startswith((".git", "build")) and
                       not os.path.exists(os.path.join(top, d, "meson-private"))]
            files += [os.path.relpath(os.path.join(top, n), root) for n in names]
        return sorted(files)


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None  # listed by git but deleted in the work tree
    if b"\0" in data:
        return None
    return data.decode("utf-8", "replace")


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def numbers(text):
    """(line, kind, number) for every decision and edge case cited in text."""
    for m in DECISION.finditer(text):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        for n in range(first, max(first, last) + 1):
            yield line_of(text, m.start()), "D", n
    for m in EDGE_LIST.finditer(text):
        for n in re.findall(r"[0-9]+", m.group(1)):
            yield line_of(text, m.start()), "edge case", int(n)
    for pattern in (EDGE_ROW, EDGE_NAME):
        for m in pattern.finditer(text):
            n = m.group(1) or m.group(2)
            yield line_of(text, m.start()), "edge case", int(n)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    decisions = read_text(os.path.join(root, DECISIONS))
    problems = []
    if decisions is None:
        print(f"{DECISIONS}: missing")
        return 1
    defined = {("D", int(n)) for n in DEFINED_D.findall(decisions)}
    defined |= {("edge case", int(n)) for n in DEFINED_EDGE.findall(decisions)}

    files = repo_files(root)
    for name in files:
        text = read_text(os.path.join(root, name))
        if text is None:
            continue
        if name != DECISIONS:
            for pattern, what in OUTSIDE:
                for m in pattern.finditer(text):
                    problems.append(f"{name}:{line_of(text, m.start())}: "
                                    f"'{m.group(0)}' is {what}; cite docs/decisions.md")
        seen = set()
        for line, kind, n in numbers(text):
            if (kind, n) not in defined and (line, kind, n) not in seen:
                seen.add((line, kind, n))
                label = f"D{n}" if kind == "D" else f"edge case {n}"
                problems.append(f"{name}:{line}: cites {label}, which {DECISIONS} does not define")
    for p in problems:
        print(p)
    print(f"{len(files)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

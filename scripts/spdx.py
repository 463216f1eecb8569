#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Check (default) or add (--fix) the SPDX license line at the top of every source file git tracks.
"""The line goes first, or right after a '#!' line; each file's own purpose line follows it."""
import subprocess
import sys
from pathlib import Path

TAG = "SPDX-License-Identifier: BSD-3-Clause"
C_LIKE = (".c", ".h")
HASH_LIKE = (".sh", ".py", ".build", ".txt", ".dict", ".supp", ".bash", ".service.in")
HASH_NAMES = ("meson_options.txt", "meson.build", "rules", "run")


def comment_for(path):
    name = path.name
    if name.endswith(C_LIKE):
        return "/* " + TAG + " */"
    if name in HASH_NAMES or name.endswith(HASH_LIKE):
        return "# " + TAG
    return None


def is_source(path):
    parts = path.parts
    if parts[0] == "debian" and path.name != "rules":
        return False
    if "corpus" in parts or "results" in parts:
        return False
    if path.name.endswith(".txt") and path.name != "meson_options.txt" and parts[0] != "scripts":
        return False
    return comment_for(path) is not None


def main():
    fix = "--fix" in sys.argv[1:]
    try:
        root = Path(subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True,
                                            stderr=subprocess.DEVNULL).strip())
    except (OSError, subprocess.CalledProcessError):
        print("not a git checkout: the tracked files are unknown, nothing checked")
        return 77
    files = subprocess.check_output(["git", "ls-files"], cwd=root, text=True).split("\n")
    missing = []
    for rel in filter(None, files):
        path = Path(rel)
        if not is_source(path):
            continue
        full = root / path
        lines = full.read_text().split("\n")
        at = 1 if lines and lines[0].startswith("#!") else 0
        if len(lines) > at and TAG in lines[at]:
            continue
        if not fix:
            missing.append(rel)
            continue
        lines.insert(at, comment_for(path))
        full.write_text("\n".join(lines))
    for rel in missing:
        print(f"{rel}:1: no '{TAG}' line at the top", file=sys.stderr)
    if missing:
        print(f"{len(missing)} source files without the SPDX line (scripts/spdx.py --fix adds it)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

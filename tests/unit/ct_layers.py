#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""lib/ct's files call only the layers below them (the table at the top of ct_private.h).

Reads the symbols each object of the built library defines and needs (nm) and fails, naming
the call, when a file uses a function or object that a file of its own layer or of a higher
one defines. A file missing from the table fails too, so a new file gets a layer.

    ct_layers.py LIBSG_CT_A [NM]
"""
import subprocess
import sys

LAYERS = {
    "ct.c": 4,
    "ct_dump.c": 4,
    "ct_expire.c": 3,
    "ct_table.c": 2,
    "ct_tcp.c": 1,
    "ct_udp.c": 1,
    "ct_icmp.c": 1,
    "ct_other.c": 1,
    "ct_timeout.c": 1,
}


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    nm = sys.argv[2] if len(sys.argv) == 3 else "nm"
    out = subprocess.run([nm, sys.argv[1]], check=True, capture_output=True, text=True).stdout
    defined, needed, member = {}, {}, None
    for line in out.splitlines():
        if line.endswith(".o:"):
            member = line[:-1].rsplit("/", 1)[-1]
            if member.endswith(".o"):
                member = member[:-2]
            needed[member] = set()
            continue
        parts = line.split()
        if member is None or len(parts) < 2:
            continue
        kind, name = parts[-2], parts[-1]
        if kind == "U":
            needed[member].add(name)
        elif kind in "TDBR":
            defined[name] = member
    bad = [m for m in needed if m not in LAYERS]
    for m in bad:
        print(f"{m}: not in the layer table of ct_layers.py (and ct_private.h)")
    n = 0
    for m, names in sorted(needed.items()):
        for name in sorted(names):
            d = defined.get(name)
            if d is None or d == m or m not in LAYERS or d not in LAYERS:
                continue
            n += 1
            if LAYERS[d] >= LAYERS[m]:
                print(f"{m} (layer {LAYERS[m]}) calls {name} of {d} (layer {LAYERS[d]})")
                bad.append(m)
    if not needed or n == 0:
        print(f"no calls between lib/ct's files found in {sys.argv[1]}")
        return 1
    if bad:
        return 1
    print(f"{len(needed)} files, {n} calls between them, all downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send sgfwctl commands to a running sgfw over its control socket and time each round trip in
one process, so the times are sgfw's and not those of starting a process per command (about
20 ms on the benchmark machine). The framing is lib/ctl/ctl_socket.c's: a request is "SGC1",
flags (1 = JSON), argc and length-prefixed arguments (u32, host order); a response is "SGR1",
the exit code and two length-prefixed texts (output, errors).

usage: ctl_timed.py SOCKET < COMMANDS     one command per line, arguments split on spaces;
       a line "@compiled CMD..." also waits until status reports no list left to build.
Prints one line per command: microseconds and exit code. Exits 1 on a failed command."""
import socket
import struct
import sys
import time


def call(path, args, json_out=False):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        msg = b"SGC1" + struct.pack("=II", 1 if json_out else 0, len(args))
        for a in args:
            b = a.encode()
            msg += struct.pack("=I", len(b)) + b
        s.sendall(msg)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data[:4] == b"SGR1", "bad response"
    code, n = struct.unpack_from("=iI", data, 4)
    out = data[12:12 + n]
    (m,) = struct.unpack_from("=I", data, 12 + n)
    err = data[16 + n:16 + n + m]
    return code, out.decode(), err.decode()


def main():
    path = sys.argv[1]
    for line in sys.stdin:
        args = line.split()
        if not args:
            continue
        compiled = args[0] == "@compiled"
        if compiled:
            args = args[1:]
        t0 = time.perf_counter()
        code, out, err = call(path, args)
        while compiled and '"classifier_lists_linear": 0' not in call(path, ["status"], True)[1]:
            time.sleep(0.001)
        us = int((time.perf_counter() - t0) * 1e6)
        print(us, code, flush=True)
        if code != 0:
            sys.stderr.write("%s: %s" % (" ".join(args), err))
            sys.exit(1)


if __name__ == "__main__":
    main()

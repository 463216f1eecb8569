#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One long-lived TCP connection that must keep working: send a numbered line every 20 ms to
an echo service (echo_server.py line:PORT) and check each answer, until STOP_FILE exists or
MAX_SECONDS pass. Prints "ROUNDS n" and exits 0 if every round trip came back right and in
time (ROUND_TIMEOUT seconds, default 2); otherwise prints what went wrong and exits 1.

  tcp_steady.py HOST PORT STOP_FILE MAX_SECONDS [ROUND_TIMEOUT]
"""
import os
import socket
import sys
import time


def main():
    host, port, stop_file, max_seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        float(sys.argv[4])
    round_timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    conn = socket.create_connection((host, port), timeout=5)
    conn.settimeout(round_timeout)
    print("CONNECTED", conn.getsockname()[1], flush=True)
    rounds = 0
    deadline = time.monotonic() + max_seconds
    try:
        while not os.path.exists(stop_file) and time.monotonic() < deadline:
            line = b"%d\n" % rounds
            conn.sendall(line)
            got = b""
            while len(got) < len(line):
                chunk = conn.recv(len(line) - len(got))
                if not chunk:
                    raise OSError("connection closed by the peer")
                got += chunk
            if got != line:
                raise OSError("round %d: sent %r, got %r" % (rounds, line, got))
            rounds += 1
            time.sleep(0.02)
    except OSError as e:
        print("ROUNDS", rounds, "BROKEN", e, flush=True)
        return 1
    conn.close()
    print("ROUNDS", rounds, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

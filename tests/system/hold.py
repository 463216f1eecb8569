#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Many idle TCP connections for the system tests: hold.py listen PORT SECONDS accepts
connections and keeps them open; hold.py connect DST PORT COUNT SECONDS opens COUNT
connections to DST:PORT (a hundred at a time, each given two seconds to complete), prints
"connected N", and keeps them open for SECONDS. Each completed handshake is an answered,
assured connection in a tracker, which early drop never evicts. Bounded in time."""
import resource
import select
import socket
import sys
import time

resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
if sys.argv[1] == "listen":
    port, seconds = int(sys.argv[2]), float(sys.argv[3])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(4096)
    server.settimeout(0.2)
    held, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            held.append(server.accept()[0])
        except socket.timeout:
            pass
else:
    # Non-blocking, in waves of 100: refused handshakes cost no time each, and the listener's
    # backlog is never the limit.
    dst, port, count, seconds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    held = []
    for start in range(0, count, 100):
        pending = []
        for _ in range(start, min(count, start + 100)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((dst, port))
            pending.append(s)
        # poll, not select: the descriptors go past select's 1024.
        poller, by_fd = select.poll(), {s.fileno(): s for s in pending}
        for fd in by_fd:
            poller.register(fd, select.POLLOUT)
        end = time.monotonic() + 2
        while by_fd and time.monotonic() < end:
            for fd, _ in poller.poll(100):
                s = by_fd.pop(fd)
                poller.unregister(fd)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    held.append(s)
                else:
                    s.close()
        for s in by_fd.values():
            s.close()
    print("connected", len(held), flush=True)
    time.sleep(seconds)

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Traffic probes for the end-to-end tests.

  probe.py stream ADDR PORT SECONDS   one TCP connection; every 0.1 s send a line and wait up to
                                      1 s for its echo; print "<time> <seq> ok|lost" per line
  probe.py udp ADDR PORT COUNT GAP_MS send COUNT numbered datagrams GAP_MS apart; print
                                      "sent N received M" once the echoes stop arriving
"""
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def stream(addr, port, seconds):
    sock = socket.create_connection((addr, port), timeout=3)
    sock.settimeout(1.0)
    end = time.time() + seconds
    seq = 0
    while time.time() < end:
        seq += 1
        line = b"%d\n" % seq
        try:
            sock.sendall(line)
            got = b""
            while not got.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    raise OSError("closed")
                got += chunk
            state = "ok" if got.split()[-1] == line.strip() else "lost"
        except OSError:
            state = "lost"
        print("%.3f %d %s" % (time.time(), seq, state), flush=True)
        time.sleep(0.1)


def udp(addr, port, count, gap_ms):
    sock = socket.socket(family(addr), socket.SOCK_DGRAM)
    sock.connect((addr, port))
    sock.setblocking(False)
    received = set()
    for seq in range(count):
        sock.send(b"%d" % seq)
        deadline = time.time() + gap_ms / 1000.0
        while time.time() < deadline:
            try:
                received.add(int(sock.recv(64)))
            except (BlockingIOError, ValueError):
                time.sleep(0.0005)
    sock.setblocking(True)
    sock.settimeout(1.0)
    try:
        while True:
            received.add(int(sock.recv(64)))
    except (socket.timeout, ValueError):
        pass
    print("sent %d received %d" % (count, len(received)), flush=True)


if sys.argv[1] == "stream":
    stream(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
elif sys.argv[1] == "udp":
    udp(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))

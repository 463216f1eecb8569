#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Floods for the system tests: flood.py syn|udp SRC DST PORT COUNT sends COUNT packets from
SRC (the VM's own address: port security drops any other) to DST through a raw socket, each
of which would be a new connection: TCP SYNs to DST:PORT with random source ports and sequence
numbers, or UDP datagrams from random source ports to DST:PORT..PORT+999. It sends in rounds
of 1000 with a short pause, and stops. Bounded in count; the destination is a test
namespace."""
import random
import socket
import sys
import time

import frames as f


def syn(src, dst, rng, port):
    return f.tcp(src, dst, rng.randrange(1024, 65536), port, 0x02, seq=rng.getrandbits(32),
                 window=64240)


def udp(src, dst, rng, port):
    return f.udp(src, dst, rng.randrange(1024, 65536), port + rng.randrange(1000), b"flood")


kind, src, dst, port, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
make = {"syn": syn, "udp": udp}[kind]
rng = random.Random(7)
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                     socket.IPPROTO_TCP if kind == "syn" else socket.IPPROTO_UDP)
sent = 0
while sent < count:
    for _ in range(min(1000, count - sent)):
        try:
            sock.sendto(make(src, dst, rng, port), (dst, 0))
        except OSError:
            time.sleep(0.001)  # the socket buffer is full: let the link drain
        sent += 1
    time.sleep(0.02)
print(f"sent {sent}")

#!/usr/bin/env python3
"""SYN flood for the system tests: syn_flood.py SRC DST PORT COUNT sends COUNT TCP SYNs from
SRC (the VM's own address: port security drops any other) with random source ports and
sequence numbers to DST:PORT through a raw socket, in rounds of 1000 with a short pause, and
stops. Bounded in count; the destination is a test namespace."""
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def syn(src, dst, sport, dport, seq):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    return hdr[:16] + struct.pack("!H", csum(pseudo + hdr)) + hdr[18:]


src, dst, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(7)
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
sent = 0
while sent < count:
    for _ in range(min(1000, count - sent)):
        try:
            sock.sendto(syn(src, dst, rng.randrange(1024, 65536), port, rng.getrandbits(32)),
                        (dst, 0))
        except OSError:
            time.sleep(0.001)  # the socket buffer is full: let the link drain
        sent += 1
    time.sleep(0.02)
print(f"sent {sent}")

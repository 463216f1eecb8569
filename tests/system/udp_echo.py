#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""UDP echo for the system tests.

  udp_echo.py serve PORT...          answer every datagram with itself, on IPv4 and IPv6
  udp_echo.py send ADDR PORT SIZE    send SIZE bytes, wait 3 s for the echo; print
                                     "SIZE ok" when the same bytes came back, else "timeout"
                                     or "mismatch N"
"""
import socket
import sys
import threading


def serve(port):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    while True:
        data, peer = sock.recvfrom(65535)
        sock.sendto(data, peer)


def send(addr, port, size):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(3)
    payload = bytes((i * 7 + 3) & 0xFF for i in range(size))
    sock.sendto(payload, (addr, port))
    try:
        data, _ = sock.recvfrom(65535)
    except socket.timeout:
        print("timeout")
        return
    print(f"{size} ok" if data == payload else f"mismatch {len(data)}")


if sys.argv[1] == "serve":
    threads = [threading.Thread(target=serve, args=(int(p),), daemon=True) for p in sys.argv[2:]]
    for t in threads:
        t.start()
    print("listening", " ".join(sys.argv[2:]), flush=True)
    for t in threads:
        t.join()
else:
    send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))

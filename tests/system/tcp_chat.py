#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A long-lived TCP conversation for the system tests.

  tcp_chat.py serve PORT              echo every chunk back at once (IPv4 and IPv6)
  tcp_chat.py talk ADDR PORT N GAP [SRC]
                                      one connection: N messages GAP seconds apart, each
                                      echoed within 2 s; prints "N ok", or "lost at I" for the
                                      first message not echoed (connection failures included);
                                      from source address SRC when given; GAP "file:PATH"
                                      waits (up to 120 s) until PATH exists instead, so a
                                      test says when the next message goes
"""
import os
import socket
import sys
import threading
import time


def serve(port):
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", port))
    listener.listen(1024)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def echo(conn):
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)
        except OSError:
            pass


def wait(gap):
    if not gap.startswith("file:"):
        time.sleep(float(gap))
        return
    deadline = time.time() + 120
    while not os.path.exists(gap[5:]) and time.time() < deadline:
        time.sleep(0.05)


def talk(addr, port, n, gap, src=None):
    i = 0
    try:
        sock = socket.create_connection((addr, port), timeout=2,
                                        source_address=(src, 0) if src else None)
        for i in range(n):
            msg = b"message %06d " % i + b"." * 200
            sock.sendall(msg)
            got = b""
            while len(got) < len(msg):
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                got += chunk
            if got != msg:
                raise OSError("garbled")
            if i + 1 < n:
                wait(gap)
    except OSError:
        print(f"lost at {i}")
        return
    print(f"{n} ok")


if sys.argv[1] == "serve":
    serve(int(sys.argv[2]))
else:
    talk(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
         sys.argv[6] if len(sys.argv) > 6 else None)

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Echo services for the end-to-end tests, on IPv4 and IPv6 (dual stack). Each argument is a
port: "5432" answers every TCP connection with "ECHO:" and all it received, once the client
closes its side; "line:9000" echoes each TCP chunk at once (long-lived streams); "udp:7777"
echoes each UDP datagram."""
import socket
import sys
import threading


def listener(kind, port):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    if kind != "udp":
        sock.listen(64)
    return sock


def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(65536)
        sock.sendto(data, peer)


def serve_tcp(sock, handler):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def echo_at_close(conn):
    with conn:
        conn.settimeout(10)
        data = b""
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            conn.sendall(b"ECHO:" + data)
        except OSError:
            pass


def echo_each(conn):
    with conn:
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
        except OSError:
            pass


threads = []
for arg in sys.argv[1:]:
    kind, _, port = arg.rpartition(":")
    sock = listener(kind, int(port))
    if kind == "udp":
        target, args = serve_udp, (sock,)
    else:
        target, args = serve_tcp, (sock, echo_each if kind == "line" else echo_at_close)
    threads.append(threading.Thread(target=target, args=args, daemon=True))
for t in threads:
    t.start()
print("listening", " ".join(sys.argv[1:]), flush=True)
for t in threads:
    t.join()

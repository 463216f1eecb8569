#!/usr/bin/env python3
"""TCP echo service for the end-to-end tests: on each port given, answer every connection with
"ECHO:" and what it received, then close. Listens on IPv4 and IPv6 (dual stack).
With --stream first, echo every chunk as it arrives instead, for long-lived connections
(tcp_steady.py)."""
import socket
import sys
import threading


def serve(port):
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", port))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def echo_stream(conn):
    with conn:
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
        except OSError:
            pass


def echo(conn):
    if STREAM:
        echo_stream(conn)
        return
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


STREAM = sys.argv[1:2] == ["--stream"]
ports = sys.argv[2:] if STREAM else sys.argv[1:]
threads = [threading.Thread(target=serve, args=(int(p),), daemon=True) for p in ports]
for t in threads:
    t.start()
print("listening", " ".join(ports), flush=True)
for t in threads:
    t.join()

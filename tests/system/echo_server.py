#!/usr/bin/env python3
"""TCP echo service for the end-to-end tests: on each port given, answer every connection with
"ECHO:" and what it received, then close. Listens on IPv4 and IPv6 (dual stack)."""
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


def echo(conn):
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


threads = [threading.Thread(target=serve, args=(int(p),), daemon=True) for p in sys.argv[1:]]
for t in threads:
    t.start()
print("listening", " ".join(sys.argv[1:]), flush=True)
for t in threads:
    t.join()

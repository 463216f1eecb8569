#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Time from an etcd write to the nodes' applied revision: COUNT puts of one group (its
# description changed) through etcd's JSON gateway, each followed by polling every node's
# status over its control socket (JSON-RPC) until its applied revision reaches the put's.
# Prints p50, p90, p99 and max in milliseconds of the time until every node applied a write
# and, with several nodes, of each node's time.
# Usage: cluster_latency.py ENDPOINT SOCKET[,SOCKET...] [COUNT]
import base64
import json
import socket
import sys
import time
import urllib.request


def b64(s):
    return base64.b64encode(s.encode()).decode()


def put(endpoint, key, value):
    req = urllib.request.Request(endpoint + "/v3/kv/put",
                                 data=json.dumps({"key": b64(key), "value": b64(value)}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return int(json.load(r)["header"]["revision"])


class Node:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def applied(self):
        self.s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"status"}\n')
        while b"\n" not in self.buf:
            self.buf += self.s.recv(65536)
        line, self.buf = self.buf.split(b"\n", 1)
        return int(json.loads(line)["result"]["cluster"]["applied_revision"])


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p / 100))]


def line(what, lat):
    lat.sort()
    print("%s %d: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms" %
          (what, len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[-1]))


def main():
    endpoint, paths = sys.argv[1], sys.argv[2].split(",")
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    nodes = [Node(path) for path in paths]
    every, each = [], []
    for i in range(count):
        value = json.dumps({"description": "latency %d" % i, "rules": [
            {"direction": "ingress", "protocol": "tcp", "port_range": "%d/%d" % (1000 + i, 1000 + i),
             "source_cidr": "10.0.0.0/8"}]})
        t0 = time.monotonic()
        rev = put(endpoint, "/sgfw/v1/groups/sg-latency", value)
        deadline = t0 + 10
        waiting = set(range(len(nodes)))
        while waiting:
            for n in list(waiting):
                if nodes[n].applied() >= rev:
                    waiting.discard(n)
                    each.append((time.monotonic() - t0) * 1000)
            if time.monotonic() > deadline:
                sys.exit("write %d (revision %d) not applied by %d nodes within 10 s" %
                         (i, rev, len(waiting)))
            if waiting:
                time.sleep(0.0005)
        every.append((time.monotonic() - t0) * 1000)
        # The node's idle workers and presence settle between writes.
        time.sleep(0.02)
    line("writes in force on every node", every)
    if len(nodes) > 1:
        line("node applies", each)


main()

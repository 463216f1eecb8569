#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The control socket's JSON-RPC API driven by a client other than sgfwctl: only json and
socket. Usage: api_client.py SOCKET. Prints "ok - ..." or "FAIL - ..." per check; exit 1 on any
failure. The running sgfw has groups sg-a and ports a, b (api_test.sh)."""
import base64
import json
import socket
import sys

fails = 0
checks = 0


def check(name, cond, detail=""):
    global fails, checks
    checks += 1
    if cond:
        print("ok - " + name)
    else:
        fails += 1
        print("FAIL - %s %s" % (name, detail), file=sys.stderr)


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.s.recv(65536)
            except ConnectionResetError:
                # Closed with our unread request still in its buffer: a reset.
                return None
            if not chunk:
                return None
            self.buf += chunk
        text, self.buf = self.buf.split(b"\n", 1)
        return json.loads(text)

    def call(self, method, params=None, rid=1):
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        self.send_raw((json.dumps(req) + "\n").encode())
        return self.line()

    def close(self):
        self.s.close()


def error_of(resp, code, field=None, name=""):
    err = resp.get("error") if resp else None
    check(name + ": error code %d" % code, err is not None and err.get("code") == code,
          json.dumps(resp))
    if field is not None:
        got = (err or {}).get("data", {}).get("field")
        check(name + ": names %s" % field, got == field, json.dumps(resp))
    return err or {}


path = sys.argv[1]
c = Conn(path)

# Versioning and the method list.
r = c.call("version", rid="v")
check("version answers with the request's id", r.get("id") == "v" and r.get("jsonrpc") == "2.0",
      json.dumps(r))
check("version: API major 1", r["result"]["api_major"] == 1, json.dumps(r))
methods = c.call("methods")["result"]
names = [m["method"] for m in methods]
for want in ["check", "ports", "groups", "effective", "explain", "audit", "group.show",
             "rule.list", "port.show", "rule.add", "rule.remove", "status", "stats",
             "reload", "save", "ct", "flowlogs", "log", "capture", "version", "methods"]:
    check("methods lists %s" % want, want in names)

# Every method answers: with no arguments a result, or an error of the command (usage,
# failure); never "no such method", a parse error or an internal error.
for i, m in enumerate(methods):
    if m["method"] in ("reload", "save"):
        continue  # they change the running state: called below
    r = c.call(m["method"], [], rid=100 + i)
    ok = r is not None and r.get("id") == 100 + i and (
        "result" in r or r["error"]["code"] in (-32602, -32000))
    check("method %s answers" % m["method"], ok, json.dumps(r))

# Views.
r = c.call("check")["result"]
check("check ok", r["ok"] is True and r["ports"] == 2, json.dumps(r))
r = c.call("ports")["result"]
check("ports: two", [p["name"] for p in r] == ["a", "b"], json.dumps(r))
r = c.call("port.show", ["a"])["result"]
check("port.show a", r["name"] == "a" and r["groups"] == ["sg-a"], json.dumps(r))
r = c.call("group.show", ["sg-a"])["result"]
check("group.show: rule 1 with its index", r["rules"][0]["index"] == 1 and
      r["members"] == ["a", "b"], json.dumps(r))
r = c.call("explain", ["a", "ingress", "tcp", "10.1.2.3", "10.0.0.1:22"])["result"]
check("explain accepted", r["verdict"] == "accept", json.dumps(r))
r = c.call("explain", ["a", "ingress", "tcp", "10.1.2.3", "10.0.0.1:23"])
check("explain dropped is a result, not an error", r.get("result", {}).get("verdict") == "drop",
      json.dumps(r))
r = c.call("status")["result"]
check("status: pid", isinstance(r["pid"], int), json.dumps(r))
r = c.call("stats")["result"]
check("stats: an object", isinstance(r, dict), json.dumps(r))
r = c.call("check", {"args": [], "format": "text"})["result"]
check("text format: sgfwctl's text", r["exit"] == 0 and ": OK: " in r["stdout"], json.dumps(r))

# A change, seen by the views, and undone.
r = c.call("rule.add", ["sg-a", "direction=ingress", "protocol=tcp", "port_range=80/80",
                        "source_cidr=10.0.0.0/8"])
check("rule.add", r.get("result", {}).get("ok") is True, json.dumps(r))
r = c.call("rule.list", ["sg-a"])["result"]
check("rule.list: two rules", [x["index"] for x in r["rules"]] == [1, 2], json.dumps(r))
r = c.call("rule.remove", ["sg-a", "2"])
check("rule.remove 2", r.get("result", {}).get("ok") is True, json.dumps(r))
r = c.call("rule.list", ["sg-a"])["result"]
check("rule.list: one rule again", len(r["rules"]) == 1, json.dumps(r))
r = c.call("reload")
check("reload", r.get("result", {}).get("ok") is True, json.dumps(r))

# Errors: exact codes and the part of the request at fault.
c.send_raw(b"this is not json\n")
err = error_of(c.line(), -32700, name="bad JSON")
check("bad JSON: a position", "position" in err.get("data", {}), json.dumps(err))
r = c.call("version", rid=7)
check("the connection still serves after bad JSON", r.get("id") == 7 and "result" in r)
c.send_raw(b"[1, 2]\n")
error_of(c.line(), -32600, name="an array")
c.send_raw(b'{"id": 1, "method": "check"}\n')
error_of(c.line(), -32600, "jsonrpc", "no jsonrpc member")
c.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": 5}\n')
error_of(c.line(), -32600, "method", "a method that is not a string")
r = c.call("frobnicate", rid=5)
error_of(r, -32601, "method", "unknown method")
check("unknown method: the id comes back", r.get("id") == 5)
error_of(c.call("check", 5), -32602, "params", "params a number")
error_of(c.call("effective", ["a", 3]), -32602, "params[1]", "an argument not a string")
error_of(c.call("check", {"args": [], "bogus": 1}), -32602, "params.bogus", "unknown params member")
error_of(c.call("check", {"format": "xml"}), -32602, "params.format", "bad format")
err = error_of(c.call("effective", ["nosuch"]), -32000, "params[0]", "unknown port")
check("unknown port: argument named", err.get("data", {}).get("argument") == "nosuch", json.dumps(err))
check("unknown port: message", err.get("message") == 'no port named "nosuch"', json.dumps(err))
err = error_of(c.call("effective", ["a", "sideways"]), -32602, "params", "usage error")
check("usage error: exit 2 in data", err.get("data", {}).get("exit") == 2, json.dumps(err))
err = error_of(c.call("rule.add", ["sg-nope", "protocol=tcp"]), -32000, "params[0]",
               "change on an unknown group")
check("refused change: message", "no security group" in err.get("message", ""), json.dumps(err))
r = c.call("rule.list", ["sg-a"])["result"]
check("a refused change changes nothing", len(r["rules"]) == 1, json.dumps(r))

# Pipelining: two requests in one write, two answers in order; a notification gets none.
c.send_raw(b'{"jsonrpc":"2.0","method":"version"}\n'
           b'{"jsonrpc":"2.0","id":"p1","method":"version"}\n'
           b'{"jsonrpc":"2.0","id":"p2","method":"status"}\n')
check("pipelined: first answer", c.line().get("id") == "p1")
check("pipelined: second answer", c.line().get("id") == "p2")

# An oversize line: an error, then the connection is closed.
big = Conn(path)
big.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"check","params":["' + b"x" * 70000 + b'"]}\n')
error_of(big.line(), -32002, name="oversize line")
check("oversize line: connection closed", big.line() is None)
big.close()
r = c.call("version", rid=8)
check("others unaffected by the oversize line", r.get("id") == 8)

# A client that asks and never reads its answers: the others are still answered, the hog is
# given up (2 s for one answer in all) and sgfw goes on.
import time
hog = Conn(path)
hog.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"methods"}\n' * 400)
time.sleep(0.5)
t0 = time.monotonic()
r = c.call("version", rid=9)
took = time.monotonic() - t0
check("a client that does not read holds the others at most 2 s (%.2f s)" % took,
      r.get("id") == 9 and took < 2.6, json.dumps(r))
hog.close()
r = c.call("status", rid=10)
check("sgfw answers after the hog", r.get("id") == 10 and "result" in r)

# Streaming: capture's answer, then capture.data notifications (pcapng), then capture.end.
cap = Conn(path)
r = cap.call("capture", ["a", "--count", "3"], rid="cap")
check("capture: answered", r.get("id") == "cap" and "result" in r, json.dumps(r))
data = b""
end = None
while end is None:
    m = cap.line()
    if m is None:
        break
    if m.get("method") == "capture.data":
        data += base64.b64decode(m["params"]["data"])
    elif m.get("method") == "capture.end":
        end = m["params"]
check("capture: pcapng section header first", data[:4] == b"\x0a\x0d\x0d\x0a", repr(data[:8]))
check("capture: capture.end says 3 packets", end is not None and end.get("packets") == 3, repr(end))
cap.close()

c.close()
print("%d checks, %d failed" % (checks, fails))
sys.exit(1 if fails else 0)

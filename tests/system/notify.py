#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sgfw under a stand-in for systemd: the notify protocol and the watchdog.

notify.py SGFW CONFIG LOG: listens on a NOTIFY_SOCKET of its own, starts SGFW -c CONFIG with
WATCHDOG_USEC=2 s (stderr to LOG), and prints one line per check ("ok - ..." or "FAIL - ...").
READY=1 must come once the vhost-user port's socket exists, WATCHDOG=1 about every second; a
worker stopped by ptrace (PTRACE_INTERRUPT, the other threads run on) must stop the pings and
be named in the log; released, the pings resume; SIGTERM gives STOPPING=1 and exit 0.
"""
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000

failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok - " if ok else "FAIL - ") + name + ("" if ok else ": " + str(detail)), flush=True)
    failures += 0 if ok else 1


def main():
    sgfw, config, log = sys.argv[1:4]
    sock_path = re.search(r'path = "([^"]+)"', open(config).read()).group(1)
    tmp = tempfile.mkdtemp()
    notify_path = os.path.join(tmp, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="2000000")
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([sgfw, "-c", config], env=env, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)
    messages = []  # (time, text)

    def collect(seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            listener.settimeout(left)
            try:
                text = listener.recv(4096).decode()
            except socket.timeout:
                return
            messages.append((time.monotonic(), text))
            if text.startswith("READY=1") and not hasattr(collect, "socket_at_ready"):
                collect.socket_at_ready = os.path.exists(sock_path)

    def pings(since, until):
        return sum(1 for t, m in messages if m == "WATCHDOG=1" and since <= t < until)

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(m.startswith("READY=1") for _, m in messages):
            collect(0.5)
            if proc.poll() is not None:
                break
        ready = [m for _, m in messages if m.startswith("READY=1")]
        check("sgfw says READY=1", len(ready) == 1, messages)
        if not ready:
            return
        check("... with a status line", "STATUS=1 port, 1 worker" in ready[0], ready[0])
        check("... once the vhost-user socket exists", getattr(collect, "socket_at_ready", False))
        start = time.monotonic()
        collect(4)
        n = pings(start, start + 4)
        check("the watchdog is fed about every second while the worker polls (%d in 4 s)" % n,
              3 <= n <= 6, messages[-8:])

        tids = [t for t in os.listdir("/proc/%d/task" % proc.pid)
                if "worker" in open("/proc/%d/task/%s/comm" % (proc.pid, t)).read()]
        check("sgfw has one worker thread", len(tids) == 1, tids)
        libc = ctypes.CDLL(None, use_errno=True)
        tid = int(tids[0])
        if libc.ptrace(PTRACE_SEIZE, tid, 0, 0) != 0:
            check("ptrace can stop a worker", False, os.strerror(ctypes.get_errno()))
            return
        libc.ptrace(PTRACE_INTERRUPT, tid, 0, 0)
        os.waitpid(tid, WALL)
        stalled = time.monotonic()
        collect(5)
        # One ping may still be on its way: the poll count moved until the stop.
        n = pings(stalled + 1.5, stalled + 5)
        check("a stuck worker stops the pings (%d in 3.5 s)" % n, n == 0, messages[-6:])
        libc.ptrace(PTRACE_DETACH, tid, 0, 0)
        released = time.monotonic()
        collect(4)
        n = pings(released, released + 4)
        check("released, the worker feeds the watchdog again (%d in 4 s)" % n, n >= 2)
        text = open(log).read()
        check("the log names the stuck worker", "worker 0 has not polled its queues" in text, text)
        check("... and says when it polls again", "worker 0 polls again" in text, text)

        proc.send_signal(signal.SIGTERM)
        collect(3)
        check("SIGTERM: sgfw says STOPPING=1", any(m == "STOPPING=1" for _, m in messages),
              messages[-3:])
        check("... and exits 0", proc.wait(timeout=30) == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        listener.close()
        os.unlink(notify_path)
        os.rmdir(tmp)


main()
sys.exit(1 if failures else 0)

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Cross-check of sgfw's TCP tracking against the running kernel's conntrack (a manual tool, not a
test): the packet sequences of tests/unit/check_ct_tcp.c that come from netfilter's packetdrill
selftests, sent as real frames through a router namespace whose forward chain tracks them, with
after each packet what the kernel made of it: INVALID or not (nft counter), the entry's state and
the seconds left on it (from /proc/net/nf_conntrack; an ignored packet leaves the timeout running).

    sudo flock /tmp/sgfw-system.lock scripts/ct_kernel_check.py [CASE...]

Needs root, nftables and python3-scapy (Debian), neither of which the build or tests need.
Creates three namespaces named ctk<pid>{c,f,s} and removes them on exit, whatever happens.
"""
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

TAG = "ctk%d" % os.getpid()
NS = {"c": TAG + "c", "f": TAG + "f", "s": TAG + "s"}
ADDR = {"c": "10.99.1.1", "s": "10.99.2.1"}
CLONE_NEWNET = 0x40000000


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def mac(ns, dev):
    return sh("cat", "/sys/class/net/%s/address" % dev, ns=ns).strip()


def setup():
    for n in NS.values():
        sh("ip", "netns", "add", n)
    sh("ip", "link", "add", "c0", "netns", NS["c"], "type", "veth", "peer", "fc", "netns", NS["f"])
    sh("ip", "link", "add", "s0", "netns", NS["s"], "type", "veth", "peer", "fs", "netns", NS["f"])
    for ns, dev, addr in ((NS["c"], "c0", "10.99.1.1/24"), (NS["s"], "s0", "10.99.2.1/24"),
                          (NS["f"], "fc", "10.99.1.254/24"), (NS["f"], "fs", "10.99.2.254/24")):
        sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=NS["f"])
    # The end namespaces only carry frames: their stacks must not answer (RST) what we send.
    for ns, dev in ((NS["c"], "c0"), (NS["s"], "s0")):
        sh("nft", "add table netdev q; add chain netdev q in { type filter hook ingress device "
           "%s priority 0; policy drop; }" % dev, ns=ns)
    # Neighbours by hand: the ends drop ARP.
    sh("ip", "neigh", "add", ADDR["c"], "lladdr", mac(NS["c"], "c0"), "dev", "fc", "nud",
       "permanent", ns=NS["f"])
    sh("ip", "neigh", "add", ADDR["s"], "lladdr", mac(NS["s"], "s0"), "dev", "fs", "nud",
       "permanent", ns=NS["f"])
    sh("nft", "add table inet t; add chain inet t pass { type filter hook forward priority 0; }; "
       "add rule inet t pass ct state invalid counter drop; add rule inet t pass counter accept",
       ns=NS["f"])


def cleanup():
    for n in NS.values():
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


libc = ctypes.CDLL(None, use_errno=True)


def packet_socket(ns, dev):
    """An AF_PACKET socket on 'dev' inside namespace 'ns' (it stays there after we leave)."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((dev, 0))
    finally:
        libc.setns(own, CLONE_NEWNET)
        os.close(fd)
        os.close(own)
    return s


def invalid_count():
    out = sh("nft", "list", "chain", "inet", "t", "pass", ns=NS["f"])
    m = re.search(r"ct state invalid counter packets (\d+)", out)
    return int(m.group(1))


def entry(sport, dport):
    """State (with UNREPLIED, ASSURED marks) and seconds left of the connection, or '-'."""
    for line in sh("cat", "/proc/net/nf_conntrack", ns=NS["f"]).splitlines():
        if "tcp" in line and "sport=%d dport=%d" % (sport, dport) in line:
            f = line.split()
            marks = [m.strip("[]") for m in f if m in ("[UNREPLIED]", "[ASSURED]")]
            return " ".join([f[5]] + marks), int(f[4])
    return "-", 0


def options(ws, sack):
    """A SYN's options: MSS, SACK permitted if 'sack', window scale 'ws' unless negative."""
    if ws < 0 and not sack:
        return []
    return [("MSS", 1460)] + ([("SAckOK", b"")] if sack else []) + \
        ([("NOP", None), ("WScale", ws)] if ws >= 0 else [])


# Cases: (client port, packets). A packet: (side 'c'/'s', flags, seq, ack, window, payload,
# window scale option (-1: none), SACK permitted, seconds to wait before it), the numbers as
# check_ct_tcp.c has them.
C0, S0 = 1000, 5000


def ack_loss_stall():
    pk = [("c", "S", C0, 0, 32792, 0, -1, False, 0),
          ("s", "SA", S0, C0 + 1, 65535, 0, -1, False, 0),
          ("c", "A", C0 + 1, S0 + 1, 65535, 0, -1, False, 0)]
    for off in range(1, 67161, 1460):
        pk.append(("c", "PA", C0 + off, S0 + 1, 257, 1460, -1, False, 0))
        pk.append(("s", "A", S0 + 1, C0 + off + 1460, 65535, 0, -1, False, 0))
    pk.append(("c", "PA", C0 + 1, S0 + 1, 257, 1460, -1, False, 2))
    pk.append(("s", "A", S0 + 1, C0 + 67161, 65535, 0, -1, False, 0))
    return pk


def delayed_ack():
    pk = [("c", "S", 1000, 0, 65535, 0, -1, False, 0),
          ("s", "SA", 5000, 1001, 65535, 0, -1, False, 0),
          ("c", "A", 1001, 5001, 65535, 0, -1, False, 0)]
    for off in range(0, 70000, 1000):
        pk.append(("s", "A", 5001 + off, 1001, 65535, 1000, -1, False, 0))
        pk.append(("c", "A", 1001, 5001 + off + 1000, 65535, 0, -1, False, 0))
    pk.append(("c", "A", 1001, 5001, 65535, 0, -1, False, 2))
    return pk


def seq_beyond_window():
    return [("c", "S", 1000, 0, 65535, 0, -1, False, 0),
            ("s", "SA", 5000, 1001, 1000, 0, -1, False, 0),
            ("c", "A", 1001, 5001, 65535, 0, -1, False, 0),
            ("c", "A", 1001 + 200000, 5001, 65535, 0, -1, False, 0),
            ("c", "A", 1001, 5001, 65535, 1000, -1, False, 0),
            ("c", "A", 2002, 5001, 65535, 100, -1, False, 2),
            ("c", "A", 2002 + 2000, 5001, 65535, 100, -1, False, 0),
            ("s", "A", 5001, 2102, 1000, 0, -1, False, 0)]


def synack_old():
    return [("c", "S", 1000, 0, 65535, 0, 8, True, 0),
            ("s", "SA", 145824453, 1000 + 643160523, 240, 0, 0, False, 0),
            ("c", "S", 1000, 0, 65535, 0, 8, True, 0),
            ("s", "SA", 145758918, 1001, 250, 0, 0, False, 0),
            ("c", "A", 1001, 145758919, 256, 0, -1, False, 0),
            ("c", "PA", 1001, 145758919, 256, 1, -1, False, 0)]


def synack_stale(isn):
    return [("c", "S", 2375731741, 0, 29200, 0, 7, True, 0),
            ("s", "SA", 145824453, 643160523, 65535, 0, 5, False, 0),
            ("c", "S", 2375731741, 0, 29200, 0, 7, True, 0),
            ("s", "SA", 145824453, 643160523, 65535, 0, 5, False, 0),
            ("s", "SA", isn, 2375731742, 65535, 0, 5, False, 0),
            ("c", "A", 2375731742, isn + 1, 229, 0, -1, False, 0),
            ("s", "PA", isn + 1, 2375731742, 2048, 100, -1, False, 0)]


# Blind SYN-ACKs after a stale one (check_ct_tcp.c's synack_blind): ISN below the stale one
# and ack one short of the SYN's end, then one past it; ISN above and ack 1,000 short (within
# the 66,000 netfilter accepts); then the server's SYN-ACK and the client's ACK.
def synack_blind():
    return [("c", "S", 2375731741, 0, 29200, 0, 7, True, 0),
            ("s", "SA", 145824453, 643160523, 65535, 0, 5, False, 0),
            ("s", "SA", 100000000, 2375731741, 65535, 0, 5, False, 0),
            ("s", "SA", 100000000, 2375731743, 65535, 0, 5, False, 0),
            ("s", "SA", 200000000, 2375731742 - 1000, 65535, 0, 5, False, 0),
            ("s", "SA", 162602410, 2375731742, 65535, 0, 5, False, 0),
            ("c", "A", 2375731742, 162602411, 229, 0, -1, False, 0),
            ("s", "PA", 162602411, 2375731742, 2048, 100, -1, False, 0)]


def synack_earlier_syn():
    return [("c", "S", 1000, 0, 65535, 0, -1, False, 0),
            ("c", "S", 41000, 0, 65535, 0, -1, False, 0),
            ("s", "SA", 5000, 1001, 65535, 0, -1, False, 0),
            ("s", "SA", 9000, 41001, 65535, 0, -1, False, 0),
            ("c", "A", 41001, 9001, 65535, 0, -1, False, 0),
            ("s", "PA", 9001, 41001, 65535, 100, -1, False, 0),
            ("s", "SA", 9000, 41001, 65535, 0, -1, False, 0)]


def syn_reinit_wscale():
    return [("c", "S", 1687765604, 0, 62727, 0, 7, True, 0),
            ("c", "S", 1944817196, 0, 62727, 0, 7, True, 0),
            ("s", "SA", 5000, 1944817197, 1000, 0, 7, True, 0),
            ("c", "A", 1944817197, 5001, 490, 0, -1, False, 0),
            ("s", "A", 5001, 1944817197, 1000, 0, -1, False, 0),
            ("c", "A", 1944817197 + 100000, 5001, 490, 100, -1, False, 0)]


def syn_challenge_ack():
    return [("c", "S", 1000, 0, 65535, 0, 8, True, 0),
            ("s", "A", 145824453, 1000 + 643160523, 240, 0, -1, False, 0),
            ("c", "R", 1000 + 643160523, 0, 0, 0, -1, False, 0),
            ("c", "S", 1000, 0, 65535, 0, 8, True, 0),
            ("s", "SA", 5000, 1001, 250, 0, 0, False, 0),
            ("c", "A", 1001, 5001, 256, 0, -1, False, 0)]


def last_ack_challenge_ack():
    return [("c", "S", 1000, 0, 65535, 0, -1, False, 0),
            ("s", "SA", 5000, 1001, 65535, 0, -1, False, 0),
            ("c", "A", 1001, 5001, 65535, 0, -1, False, 0),
            ("c", "FA", 1001, 5001, 65535, 0, -1, False, 0),
            ("s", "A", 5001, 1002, 65535, 0, -1, False, 0),
            ("s", "FA", 5001, 1002, 65535, 0, -1, False, 0),
            ("c", "S", 90000, 0, 65535, 0, -1, False, 0),
            ("s", "A", 5002, 1002, 65535, 0, -1, False, 0),
            ("c", "R", 1002, 0, 0, 0, -1, False, 0),
            ("c", "S", 90000, 0, 65535, 0, -1, False, 0)]


def simultaneous_open_reply_ack():
    return [("c", "S", 1000, 0, 65535, 0, -1, False, 0),
            ("s", "S", 5000, 0, 65535, 0, -1, False, 0),
            ("c", "SA", 1000, 5001, 65535, 0, -1, False, 0),
            ("s", "A", 5001, 1001, 65535, 0, -1, False, 0),
            ("c", "PA", 1001, 5001, 65535, 100, -1, False, 0)]


def syn_reinit_below():
    return [("c", "S", 3000000000, 0, 65535, 0, 7, True, 0),
            ("c", "S", 2999900000, 0, 65535, 0, 7, True, 0),
            ("s", "SA", 5000, 2999900001, 65535, 0, 7, True, 0),
            ("c", "A", 2999900001, 5001, 512, 0, -1, False, 0),
            ("c", "PA", 2999900001, 5001, 512, 100, -1, False, 0)]


def three_segments():
    return [("c", "S", 1000, 0, 65535, 0, 8, True, 0),
            ("s", "SA", 5000, 1001, 65535, 0, -1, False, 0),
            ("c", "A", 1001, 5001, 65535, 0, -1, False, 0),
            ("s", "A", 5001, 1001, 65535, 1000, -1, False, 0),
            ("s", "A", 6001, 1001, 65535, 1000, -1, False, 0),
            ("s", "A", 7001, 1001, 65535, 1000, -1, False, 0),
            ("c", "A", 1001, 6001, 65535, 0, -1, False, 0),
            ("c", "A", 1001, 7001, 65535, 0, -1, False, 0),
            ("c", "A", 1001, 8001, 65535, 0, -1, False, 0)]


def rst_invalid():
    return three_segments() + [
        ("s", "R", 5000, 0, 0, 0, -1, False, 0), ("s", "R", 5000 + 1000000, 0, 0, 0, -1, False, 0),
        ("s", "R", 5042, 0, 0, 0, -1, False, 0), ("c", "PA", 1001, 8001, 65535, 1000, -1, False, 0),
        ("s", "A", 8001, 2001, 65535, 0, -1, False, 0), ("s", "RA", 8000, 2001, 0, 0, -1, False, 0),
        ("s", "RA", 8001, 2001, 0, 0, -1, False, 0)]


def inexact_rst():
    return three_segments() + [
        ("c", "PA", 1001, 8001, 65535, 1000, -1, False, 0),
        ("s", "FA", 8001, 2001, 65535, 0, -1, False, 0),
        ("c", "A", 2001, 8002, 65535, 0, -1, False, 0),
        ("c", "RA", 2001, 8002, 65535, 0, -1, False, 0), ("s", "R", 7001, 0, 0, 0, -1, False, 0)]


# What an ignored segment lets through: old data, FIN, RST and a bogus ack 70,000 below the
# server's data, then a SYN let through and the RSTs after it (check_ct_tcp.c's below_window).
def below_window():
    old = S0 + 1 - 70000
    return three_segments() + [
        ("s", "PA", old, 1001, 65535, 1000, -1, False, 0),
        ("s", "FA", old, 1001, 65535, 0, -1, False, 0), ("s", "R", old, 0, 0, 0, -1, False, 0),
        ("s", "PA", old, 1001 + 100000, 65535, 1000, -1, False, 0),
        ("c", "S", 90000, 0, 65535, 0, -1, False, 0), ("s", "R", old, 0, 0, 0, -1, False, 0),
        ("s", "RA", old, 90001, 0, 0, -1, False, 0),
        ("c", "PA", 1001, 8001, 65535, 100, -1, False, 0)]


def synack_reuse():
    return [("c", "S", 1000, 0, 32792, 0, 7, False, 0),
            ("s", "SA", 5000, 1001, 65535, 0, 8, False, 0),
            ("c", "A", 1001, 5001, 257, 0, -1, False, 0),
            ("c", "PA", 1001, 5001, 257, 100, -1, False, 0),
            ("s", "A", 5001, 1101, 256, 0, -1, False, 0),
            ("c", "S", 3000, 0, 32792, 0, 7, False, 0),
            ("s", "A", 5001, 1101, 256, 0, -1, False, 0),
            ("c", "RA", 1101, 5001, 257, 0, -1, False, 0),
            ("c", "S", 3000, 0, 32792, 0, 0, False, 0),
            ("s", "SA", 9000, 3001, 65535, 0, 8, False, 0)]


# Open vSwitch's tests/ofproto-dpif.at, "conntrack - tcp port reuse": a connection opened,
# used and closed both ways, then the same ports again.
def ovs_conn(c, s):
    return [("c", "S", c, 0, 29200, 0, -1, False, 0), ("s", "SA", s, c + 1, 29200, 0, -1, False, 0),
            ("c", "A", c + 1, s + 1, 29200, 0, -1, False, 0),
            ("s", "PA", s + 1, c + 1, 29200, 8, -1, False, 0),
            ("c", "A", c + 1, s + 9, 29200, 0, -1, False, 0),
            ("s", "FA", s + 9, c + 1, 29200, 0, -1, False, 0),
            ("c", "A", c + 1, s + 10, 29200, 0, -1, False, 0),
            ("c", "FA", c + 1, s + 10, 29200, 0, -1, False, 0),
            ("s", "A", s + 10, c + 2, 29200, 0, -1, False, 0)]


def ovs_port_reuse():
    return ovs_conn(1505089855, 2083866244) + ovs_conn(1534967583, 2083931791)


# "conntrack - disable tcp sequence checking": the first connection with the server's data
# carrying seq 0 and ack 0.
def ovs_seq_check():
    pk = ovs_conn(1505089855, 2083866244)
    pk[3] = ("s", "PA", 0, 0, 29200, 8, -1, False, 0)
    return pk


# "conntrack - tcp pick up": picked up after a handshake with window scale 7 that the tracker
# did not see; windows of 10, scaled 1280.
def ovs_pickup():
    c, s = 963359578, 2360196532
    return [("c", "A", c, s, 10, 0, -1, False, 0), ("c", "PA", c, s, 10, 1, -1, False, 0),
            ("s", "A", s, c + 1, 10, 0, -1, False, 0),
            ("c", "PA", c + 1, s, 10, 514, -1, False, 0),
            ("s", "A", s, c + 515, 10, 0, -1, False, 0),
            ("s", "PA", s, c + 515, 10, 469, -1, False, 0),
            ("c", "A", c + 515, s + 469, 10, 0, -1, False, 0),
            ("c", "FA", c + 515, s + 469, 10, 0, -1, False, 0),
            ("s", "A", s + 469, c + 516, 10, 0, -1, False, 0),
            ("s", "FA", s + 469, c + 516, 10, 0, -1, False, 0),
            ("c", "A", c + 516, s + 470, 10, 0, -1, False, 0)]


CASES = {
    "ack_loss_stall": (34375, ack_loss_stall),
    "delayed_ack": (20, delayed_ack),
    "seq_beyond_window": (21, seq_beyond_window),
    "synack_old": (30, synack_old),
    "synack_stale_above": (31, lambda: synack_stale(162602410)),
    "synack_stale_below": (32, lambda: synack_stale(100000000)),
    "synack_earlier_syn": (33, synack_earlier_syn),
    "synack_blind": (36, synack_blind),
    "syn_reinit_wscale": (34, syn_reinit_wscale),
    "syn_reinit_below": (35, syn_reinit_below),
    "syn_challenge_ack": (40, syn_challenge_ack),
    "last_ack_challenge_ack": (41, last_ack_challenge_ack),
    "simultaneous_open_reply_ack": (42, simultaneous_open_reply_ack),
    "rst_invalid": (50, rst_invalid),
    "inexact_rst": (51, inexact_rst),
    "synack_reuse": (52, synack_reuse),
    "below_window": (53, below_window),
    "ovs_port_reuse": (60, ovs_port_reuse),
    "ovs_seq_check": (61, ovs_seq_check),
    "ovs_pickup": (62, ovs_pickup),
}


def run(name, cport, packets, socks, macs):
    print("== %s" % name)
    sport, dport = cport, 8080
    for i, (side, flags, seq, ack, win, plen, ws, sack, wait) in enumerate(packets):
        if wait:
            time.sleep(wait)
        src, dst = ("c", "s") if side == "c" else ("s", "c")
        l4 = TCP(sport=sport if side == "c" else dport, dport=dport if side == "c" else sport,
                 flags=flags, seq=seq & 0xffffffff, ack=ack & 0xffffffff, window=win,
                 options=options(ws, sack))
        frame = Ether(dst=macs[side], src=macs[side + "0"]) / IP(src=ADDR[src], dst=ADDR[dst]) / \
            l4 / (b"x" * plen)
        before = invalid_count()
        socks[side].send(bytes(frame))
        time.sleep(0.02)
        inv = invalid_count() - before
        state, left = entry(sport, dport)
        print("%3d %s %-3s seq=%u ack=%u win=%u len=%u%s -> %s, %s %ds" % (
            i + 1, side, flags, seq & 0xffffffff, ack & 0xffffffff, win, plen,
            " (after %ds)" % wait if wait else "", "INVALID" if inv else "passed", state, left))


def main():
    if os.geteuid() != 0:
        sys.exit("ct_kernel_check.py: needs root (network namespaces)")
    names = sys.argv[1:] or list(CASES)
    for n in names:
        if n not in CASES:
            sys.exit("ct_kernel_check.py: no case %s (cases: %s)" % (n, ", ".join(CASES)))
    print("kernel %s" % os.uname().release)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))
    try:
        setup()
        socks = {"c": packet_socket(NS["c"], "c0"), "s": packet_socket(NS["s"], "s0")}
        macs = {"c": mac(NS["f"], "fc"), "s": mac(NS["f"], "fs"),
                "c0": mac(NS["c"], "c0"), "s0": mac(NS["s"], "s0")}
        for n in names:
            cport, gen = CASES[n]
            run(n, cport, gen(), socks, macs)
    finally:
        cleanup()


if __name__ == "__main__":
    main()

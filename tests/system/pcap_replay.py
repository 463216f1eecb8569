#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap replay through the real pipeline: builds the input pcap of each VM port and the exact
pcap each port must send, then checks what sgfw wrote (see pcap_replay_test.sh).

  pcap_replay.py build DIR         write DIR/{cli,srv}.in.pcap, DIR/{cli,srv}.want.pcap and
                                   DIR/expect.json (counters each port must end with)
  pcap_replay.py check DIR STATS   compare DIR/{cli,srv}.out.pcap with the wanted ones and
                                   the counters in STATS (sgfw --stats-file); prints ok/FAIL

Ordering: net_pcap hands out packets as fast as they are asked for, and sgfw's single worker
polls its ports in config order with dataplane.burst = 1, so each loop takes exactly one
packet from cli, then one from srv. The scenario is a global sequence of (port, packet)
events; it is laid out in rounds so that replaying round by round processes the events in
that order, and a port with nothing to say in a round sends a filler that the switch
absorbs (an ARP request for its own address). Every verdict is then deterministic, and so is
the order of each output file.
"""
import json
import struct
import sys

ROUTER = bytes.fromhex("025347000001")
PORTS = {
    "cli": {"mac": bytes.fromhex("52540002000b"), "ip4": "10.2.0.11", "ip6": "fd00:2::11"},
    "srv": {"mac": bytes.fromhex("52540001000b"), "ip4": "10.1.0.11", "ip6": "fd00:1::11"},
}
ORDER = ["cli", "srv"]  # config order = poll order


def ip4(text):
    return bytes(int(x) for x in text.split("."))


def ip6(text):
    import ipaddress
    return ipaddress.IPv6Address(text).packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def l4_csum(src, dst, proto, seg, off):
    """Fill the checksum at 'off' of transport segment 'seg'."""
    seg = bytearray(seg)
    seg[off:off + 2] = b"\0\0"
    c = csum(pseudo(src, dst, proto, len(seg)) + bytes(seg))
    if proto == 17 and c == 0:
        c = 0xFFFF
    seg[off:off + 2] = struct.pack("!H", c)
    return bytes(seg)


def tcp(src, dst, sport, dport, seq, ack, flags, data=b"", opts=b"", win=65535):
    hl = 20 + len(opts)
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0)
    return 6, l4_csum(src, dst, 6, seg + opts + data, 16)


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return 17, l4_csum(src, dst, 17, seg, 6)


def icmp4(typ, code, rest, data=b""):
    msg = bytearray(struct.pack("!BBH", typ, code, 0) + rest + data)
    msg[2:4] = struct.pack("!H", csum(bytes(msg)))
    return 1, bytes(msg)


def icmp6(src, dst, typ, code, rest, data=b""):
    msg = struct.pack("!BBH", typ, code, 0) + rest + data
    return 58, l4_csum(src, dst, 58, msg, 2)


def ipv4_hdr(src, dst, proto, length, ident=0, frag=0, ttl=64):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, ident, frag, ttl, proto, 0,
                              src, dst))
    h[10:12] = struct.pack("!H", csum(bytes(h)))
    return bytes(h)


def ipv4(src, dst, l4, ident=0x4242):
    proto, seg = l4
    return ipv4_hdr(src, dst, proto, len(seg), ident) + seg


def ipv6(src, dst, l4, ext=b"", ext_nh=None):
    """ext: extension headers (already chained, ending with next header = the protocol)."""
    proto, seg = l4
    nh = ext_nh if ext else proto
    return struct.pack("!IHBB", 6 << 28, len(ext) + len(seg), nh, 64) + src + dst + ext + seg


def hbh_dst(proto):
    """Hop-by-hop then destination options (PadN), ending at 'proto'."""
    return bytes([60, 0, 1, 4, 0, 0, 0, 0]) + bytes([proto, 0, 1, 4, 0, 0, 0, 0]), 0


def eth(src_mac, payload, v6):
    return ROUTER + src_mac + struct.pack("!H", 0x86DD if v6 else 0x0800) + payload


def frags4(src, dst, l4, ident, size):
    proto, seg = l4
    out = []
    for off in range(0, len(seg), size):
        part = seg[off:off + size]
        more = off + size < len(seg)
        out.append(ipv4_hdr(src, dst, proto, len(part), ident, (off // 8) | (0x2000 if more else 0))
                   + part)
    return out


def frags6(src, dst, l4, ident, size, unfrag=b"", unfrag_nh=None):
    proto, seg = l4
    out = []
    for off in range(0, len(seg), size):
        part = seg[off:off + size]
        more = off + size < len(seg)
        fh = struct.pack("!BBHI", proto, 0, off | (1 if more else 0), ident)
        ext = unfrag + fh
        nh = unfrag_nh if unfrag else 44
        if unfrag:  # the last unfragmentable header points at the fragment header
            ext = unfrag[:-8] + bytes([44]) + unfrag[-7:] + fh
        out.append(struct.pack("!IHBB", 6 << 28, len(ext) + len(part), nh, 64) + src + dst + ext + part)
    return out


def arp_self(port):
    p = PORTS[port]
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, p["mac"], ip4(p["ip4"]), b"\0" * 6,
                       ip4(p["ip4"]))
    return b"\xff" * 6 + p["mac"] + b"\x08\x06" + body


def routed(frame, to):
    """What sgfw sends out of 'to' for a routed frame: MACs rewritten, one hop spent."""
    f = bytearray(frame)
    f[0:6] = PORTS[to]["mac"]
    f[6:12] = ROUTER
    if f[12:14] == b"\x08\x00":
        f[14 + 8] -= 1
        f[24:26] = b"\0\0"
        f[24:26] = struct.pack("!H", csum(bytes(f[14:34])))
    else:
        f[14 + 7] -= 1
    return bytes(f)


def scenario():
    """The global sequence: (name, from port, frame, verdict: 'fwd' or a drop reason)."""
    c4, s4 = ip4("10.2.0.11"), ip4("10.1.0.11")
    c6, s6 = ip6("fd00:2::11"), ip6("fd00:1::11")
    cm, sm = PORTS["cli"]["mac"], PORTS["srv"]["mac"]
    ev = []

    def c(name, l4, verdict="fwd", **kw):
        ev.append((name, "cli", eth(cm, ipv4(c4, s4, l4, **kw), False), verdict))

    def s(name, l4, verdict="fwd", **kw):
        ev.append((name, "srv", eth(sm, ipv4(s4, c4, l4, **kw), False), verdict))

    def ct(name, sp, seq, ack, flags, data=b"", verdict="fwd", **kw):
        c(name, tcp(c4, s4, sp, 80, seq, ack, flags, data, **kw), verdict)

    def st(name, sp, seq, ack, flags, data=b"", verdict="fwd"):
        s(name, tcp(s4, c4, 80, sp, seq, ack, flags, data), verdict)

    SYN, ACK, FIN, RST, PSH = 2, 16, 1, 4, 8
    mss_ws = bytes([2, 4, 5, 0xB4, 1, 3, 3, 7])
    # A TCP connection from handshake to FIN teardown, with a retransmission and an
    # out-of-window segment.
    ct("handshake SYN", 40000, 1000, 0, SYN, opts=mss_ws)
    st("handshake SYN-ACK", 40000, 5000, 1001, SYN | ACK)
    ct("handshake ACK", 40000, 1001, 5001, ACK)
    ct("data", 40000, 1001, 5001, PSH | ACK, b"x" * 100)
    st("data ACK", 40000, 5001, 1101, ACK)
    ct("retransmission", 40000, 1001, 5001, PSH | ACK, b"x" * 100)
    ct("out of window", 40000, 1101 + 10000000, 5001, ACK, b"y" * 10, "ct_tcp_window")
    ct("FIN", 40000, 1101, 5001, FIN | ACK)
    st("FIN ACK", 40000, 5001, 1102, ACK)
    st("server FIN", 40000, 5001, 1102, FIN | ACK)
    ct("last ACK", 40000, 1102, 5002, ACK)
    # RST teardown, then the closed connection carries nothing more.
    ct("RST conn SYN", 40001, 7000, 0, SYN)
    st("RST conn SYN-ACK", 40001, 9000, 7001, SYN | ACK)
    ct("RST conn ACK", 40001, 7001, 9001, ACK)
    st("RST", 40001, 9001, 7001, RST | ACK)
    # Denied and unsolicited.
    c("SYN to a denied port", tcp(c4, s4, 40002, 22, 1, 0, SYN), "acl_ingress")
    s("unsolicited SYN-ACK", tcp(s4, c4, 80, 40003, 1, 1, SYN | ACK), "ct_not_new")
    # UDP request and reply; ICMP errors about a tracked and an untracked flow.
    query = ipv4(c4, s4, udp(c4, s4, 5353, 53, b"q" * 20))
    c("UDP request", udp(c4, s4, 5353, 53, b"q" * 20))
    s("UDP reply", udp(s4, c4, 53, 5353, b"r" * 80))
    s("ICMP unreachable about the tracked flow (related)", icmp4(3, 3, b"\0" * 4, query))
    stray = ipv4(c4, s4, udp(c4, s4, 5999, 53, b"q" * 20))
    s("ICMP unreachable about an untracked flow", icmp4(3, 3, b"\0" * 4, stray), "ct_not_new")
    # Fragmented UDP both ways, fragmented UDP to a denied port, a fragmented echo.
    big = udp(c4, s4, 5354, 53, bytes(range(256)) * 12)
    for i, f in enumerate(frags4(c4, s4, big, 0x1001, 1480)):
        ev.append((f"UDP fragment {i}", "cli", eth(cm, f, False), "fwd"))
    back = udp(s4, c4, 53, 5354, bytes(range(256)) * 10)
    for i, f in enumerate(frags4(s4, c4, back, 0x2001, 1024)):
        ev.append((f"UDP reply fragment {i}", "srv", eth(sm, f, False), "fwd"))
    denied = udp(c4, s4, 5355, 54, b"d" * 3000)
    for i, f in enumerate(frags4(c4, s4, denied, 0x1002, 1480)):
        ev.append((f"denied UDP fragment {i}", "cli", eth(cm, f, False), "acl_ingress"))
    echo = icmp4(8, 0, struct.pack("!HH", 77, 1), b"e" * 2500)
    for i, f in enumerate(frags4(c4, s4, echo, 0x1003, 1480)):
        ev.append((f"echo request fragment {i}", "cli", eth(cm, f, False), "fwd"))
    reply = icmp4(0, 0, struct.pack("!HH", 77, 1), b"e" * 2500)
    for i, f in enumerate(frags4(s4, c4, reply, 0x2003, 1480)):
        ev.append((f"echo reply fragment {i}", "srv", eth(sm, f, False), "fwd"))
    # Out of order: the later fragments are held until the first decides.
    ooo = frags4(c4, s4, udp(c4, s4, 5356, 53, b"o" * 2000), 0x1004, 1024)
    ev.append(("held fragment 1", "cli", eth(cm, ooo[1], False), "held"))
    ev.append(("first fragment releases it", "cli", eth(cm, ooo[0], False), "fwd+held"))
    # IPv6 with extension headers: a handshake, and a fragmented datagram.
    ext, _ = hbh_dst(6)
    ev.append(("IPv6 SYN with hop-by-hop and destination options", "cli",
               eth(cm, ipv6(c6, s6, tcp(c6, s6, 41000, 80, 1, 0, SYN, opts=mss_ws), ext, 0), True),
               "fwd"))
    ev.append(("IPv6 SYN-ACK", "srv",
               eth(sm, ipv6(s6, c6, tcp(s6, c6, 80, 41000, 50, 2, SYN | ACK, opts=mss_ws)), True),
               "fwd"))
    ev.append(("IPv6 ACK with extension headers", "cli",
               eth(cm, ipv6(c6, s6, tcp(c6, s6, 41000, 80, 2, 51, ACK), ext, 0), True), "fwd"))
    hbh = bytes([0, 0, 1, 4, 0, 0, 0, 0])
    big6 = udp(c6, s6, 5357, 53, b"6" * 3000)
    for i, f in enumerate(frags6(c6, s6, big6, 0x77, 1232, hbh, 0)):
        ev.append((f"IPv6 UDP fragment {i} (after hop-by-hop)", "cli", eth(cm, f, True), "fwd"))
    denied6 = udp(c6, s6, 5358, 54, b"6" * 3000)
    for i, f in enumerate(frags6(c6, s6, denied6, 0x78, 1232)):
        ev.append((f"denied IPv6 UDP fragment {i}", "cli", eth(cm, f, True), "acl_ingress"))
    return ev


def write_pcap(path, frames):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            out.write(struct.pack("<IIII", 1000 + i, 0, len(f), len(f)))
            out.write(f)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return frames
        endian = "<" if struct.unpack("<I", head[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            _, _, incl, _ = struct.unpack(endian + "IIII", rec)
            frames.append(f.read(incl))
    return frames


def build(d):
    events = scenario()
    rounds = []  # each round: {port: event}
    last_round, last_port = 0, -1
    for ev in events:
        p = ORDER.index(ev[1])
        r = last_round if p > last_port else last_round + 1
        if not rounds or r >= len(rounds):
            rounds.append({})
        rounds[r][ev[1]] = ev
        last_round, last_port = r, p
    inputs = {p: [] for p in ORDER}
    want = {p: [] for p in ORDER}
    expect = {p: {"rx_packets": 0, "absorbed": 0, "drops": {}} for p in ORDER}
    held = []
    for rnd in rounds:
        for p in ORDER:
            if p not in rnd:
                inputs[p].append(arp_self(p))
                expect[p]["absorbed"] += 1
                continue
            name, port, frame, verdict = rnd[p]
            inputs[p].append(frame)
            other = "srv" if port == "cli" else "cli"
            if verdict == "held":
                held.append(routed(frame, other))
            elif verdict.startswith("fwd"):
                want[other].append(routed(frame, other))
                if verdict == "fwd+held":
                    want[other].extend(held)
                    held = []
            else:
                drops = expect[port]["drops"]
                drops[verdict] = drops.get(verdict, 0) + 1
    for p in ORDER:
        write_pcap(f"{d}/{p}.in.pcap", inputs[p])
        write_pcap(f"{d}/{p}.want.pcap", want[p])
        expect[p]["rx_packets"] = len(inputs[p])
        expect[p]["tx_packets"] = len(want[p])
    with open(f"{d}/expect.json", "w") as f:
        json.dump({"ports": expect, "events": len(events), "rounds": len(rounds)}, f, indent=1)
    print(f"{len(events)} events in {len(rounds)} rounds")


def check(d, stats_path):
    fails = 0

    def result(ok, what):
        nonlocal fails
        print(("ok - " if ok else "FAIL - ") + what, file=sys.stdout if ok else sys.stderr)
        fails += 0 if ok else 1

    names = {}
    for name, port, frame, _ in scenario():
        other = "srv" if port == "cli" else "cli"
        names[routed(frame, other)] = name
    with open(f"{d}/expect.json") as f:
        expect = json.load(f)["ports"]
    with open(stats_path) as f:
        stats = json.load(f)["ports"]
    for p in ORDER:
        want, got = read_pcap(f"{d}/{p}.want.pcap"), read_pcap(f"{d}/{p}.out.pcap")
        first_bad = next((i for i in range(max(len(want), len(got)))
                          if i >= len(want) or i >= len(got) or want[i] != got[i]), None)
        if first_bad is None:
            result(True, f"{p} sent exactly the {len(want)} expected packets, in order")
        else:
            w = names.get(want[first_bad], "?") if first_bad < len(want) else "nothing"
            g = names.get(got[first_bad], "an unknown frame") if first_bad < len(got) else "nothing"
            result(False, f"{p} packet {first_bad}: want {w}, got {g} "
                          f"({len(got)} sent, {len(want)} wanted)")
        s, e = stats[p], expect[p]
        for key in ("rx_packets", "tx_packets", "absorbed"):
            result(s[key] == e[key], f"{p} {key} {s[key]} (want {e[key]})")
        result(s["drop_reasons"] == e["drops"],
               f"{p} drop reasons {s['drop_reasons']} (want {e['drops']})")
    return fails


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2])
    else:
        sys.exit(1 if check(sys.argv[2], sys.argv[3]) else 0)

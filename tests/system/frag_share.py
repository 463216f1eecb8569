#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One port flooding fragments takes only its share of the worker's fragment table and hold
queue (see frag_share_pcap_test.sh): builds the input pcaps of three pcap ports and checks
what sgfw sent.

  frag_share.py build DIR N        write DIR/{atk,cli,srv}.in.pcap and DIR/expect.json
  frag_share.py check DIR STATS    compare DIR/srv.out.pcap and STATS (sgfw --stats-file)

atk (10.2.0.12) starts N fragmented datagrams to srv and never finishes them, and sends N
later fragments of datagrams that never begin; cli (10.2.0.11) meanwhile sends ten whole
fragmented datagrams to srv, IPv4 and IPv6, half of them with a later fragment first (which
must wait in the hold queue for its first). Fragments are seen as sent on pcap ports (an
af_packet port would get IPv4 reassembled by the kernel).

Order is deterministic as in pcap_replay.py: one worker, dataplane.burst = 1, ports polled in
config order (atk, cli, srv), so each loop takes one packet from each; a port with nothing to
say sends a filler (an ARP request for its own address, which the switch absorbs). cli's
datagrams come after the flood has begun, so they meet a table the flood is filling.
"""
import json
import struct
import sys

import pcap_replay as pr

PORT_ENTRIES = 64   # DP_FRAG_PORT_ENTRIES: datagrams in flight per port and worker
PORT_HOLD = 16      # DP_FRAG_PORT_HOLD: held fragments per port and worker
PORTS = {
    "atk": {"mac": bytes.fromhex("52540002000c"), "ip4": "10.2.0.12", "ip6": "fd00:2::12"},
    "cli": {"mac": bytes.fromhex("52540002000b"), "ip4": "10.2.0.11", "ip6": "fd00:2::11"},
    "srv": {"mac": bytes.fromhex("52540001000b"), "ip4": "10.1.0.11", "ip6": "fd00:1::11"},
}
ORDER = ["atk", "cli", "srv"]


def arp_self(port):
    p = PORTS[port]
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, p["mac"], pr.ip4(p["ip4"]),
                       b"\0" * 6, pr.ip4(p["ip4"]))
    return b"\xff" * 6 + p["mac"] + b"\x08\x06" + body


def routed(frame, to):
    f = bytearray(frame)
    f[0:6] = PORTS[to]["mac"]
    f[6:12] = pr.ROUTER
    if f[12:14] == b"\x08\x00":
        f[14 + 8] -= 1
        f[24:26] = b"\0\0"
        f[24:26] = struct.pack("!H", pr.csum(bytes(f[14:34])))
    else:
        f[14 + 7] -= 1
    return bytes(f)


def fragments(port, ident, v6):
    """The three fragments of a 3000-byte UDP datagram from 'port' to srv:53."""
    src, dst = PORTS[port], PORTS["srv"]
    if v6:
        s, d = pr.ip6(src["ip6"]), pr.ip6(dst["ip6"])
        l4 = pr.udp(s, d, 5353, 53, bytes([ident & 0xFF]) * 3000)
        return [pr.eth(src["mac"], f, True) for f in pr.frags6(s, d, l4, ident, 1232)]
    s, d = pr.ip4(src["ip4"]), pr.ip4(dst["ip4"])
    l4 = pr.udp(s, d, 5353, 53, bytes([ident & 0xFF]) * 3000)
    return [pr.eth(src["mac"], f, False) for f in pr.frags4(s, d, l4, ident, 1480)]


def scenario(n):
    """Per port, the frames it sends in order; what srv must receive from atk and from cli.

    atk alternates the first fragment of a datagram it never finishes and a later fragment of
    one that never begins (IPv4 and IPv6 in turn). Each takes an entry of atk's share, and each
    later fragment waits in the hold queue: after 16 pairs atk's share of the hold queue is
    full, after 32 its share of the table; everything after is refused (frag_port_limit), and
    the 16 held fragments are dropped when they expire (frag_unmatched)."""
    send = {p: [] for p in ORDER}
    atk_want = []
    for k in range(n):
        v6 = k % 2 == 1
        first = fragments("atk", 0x1000 + k, v6)[0]
        send["atk"] += [first, fragments("atk", 0x8000 + k, v6)[1]]
        if k < PORT_ENTRIES // 2:
            atk_want.append(routed(first, "srv"))
    # cli starts once the flood has taken its shares, and sends while the flood goes on.
    send["cli"] = [arp_self("cli")] * (PORT_ENTRIES + 16)
    cli_want = []
    for k in range(10):
        frags = fragments("cli", 0x100 + k, k >= 5)
        if k % 2 == 1:  # a later fragment first: it waits for its first
            frags = [frags[1], frags[0], frags[2]]
            cli_want += [routed(frags[1], "srv"), routed(frags[0], "srv"), routed(frags[2], "srv")]
        else:
            cli_want += [routed(f, "srv") for f in frags]
        send["cli"] += frags
    return send, atk_want, cli_want


def build(d, n):
    send, _, _ = scenario(n)
    rounds = max(len(v) for v in send.values())
    for p in ORDER:
        frames = send[p] + [arp_self(p)] * (rounds - len(send[p]))
        pr.write_pcap("%s/%s.in.pcap" % (d, p), frames)
    expect = {
        "atk": {"rx_packets": rounds,
                "drops": {"frag_port_limit": (n - PORT_ENTRIES // 2) + (n - PORT_HOLD),
                          "frag_unmatched": PORT_HOLD},
                "absorbed": rounds - 2 * n},
        "cli": {"rx_packets": rounds, "drops": {}, "absorbed": rounds - 30},
        "srv": {"rx_packets": rounds, "drops": {}, "absorbed": rounds},
    }
    with open("%s/expect.json" % d, "w") as out:
        json.dump(expect, out)
    print(rounds * len(ORDER))


def check(d, stats_path, n):
    _, atk_want, cli_want = scenario(n)
    got = pr.read_pcap("%s/srv.out.pcap" % d)
    stats = json.load(open(stats_path))["ports"]
    expect = json.load(open("%s/expect.json" % d))
    fails = 0

    def result(ok, text):
        nonlocal fails
        print(("ok" if ok else "FAIL"), text)
        fails += not ok

    from_atk = [f for f in got if f in atk_want]
    from_cli = [f for f in got if f in cli_want]
    result(from_atk == atk_want, "srv got the %d first fragments of atk's share (%d)"
           % (len(atk_want), len(from_atk)))
    result(from_cli == cli_want, "srv got all %d of cli's fragments, in order (%d)"
           % (len(cli_want), len(from_cli)))
    result(len(got) == len(atk_want) + len(cli_want), "srv got nothing else (%d frames)"
           % len(got))
    for p in ORDER:
        s, e = stats[p], expect[p]
        for key in ("rx_packets", "absorbed"):
            result(s[key] == e[key], "%s %s %d (want %d)" % (p, key, s[key], e[key]))
        result(s["drop_reasons"] == e["drops"],
               "%s drop reasons %s (want %s)" % (p, s["drop_reasons"], e["drops"]))
    return fails


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(1 if check(sys.argv[2], sys.argv[3], int(sys.argv[4])) else 0)

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the fuzzers' seed corpus (tests/fuzz/corpus/<target>/): real inputs to start from.

  pkt       frames of every kind the parser knows, well formed and not
  pipeline  conversations between the VMs of pipeline-a.conf, as fuzz_pipeline's records, and
            of pipeline-fleet.conf with ports of other hosts over the VXLAN overlay
  conf      the configs under config/, tests/fuzz/, tests/unit/all-sections.conf and
            tests/data/alibaba/vocabulary-alibaba.conf (includes inlined); fuzz_roundtrip starts
            from them too
  ctl       control-socket requests of every sgfwctl command, and a response
  flowlog   the unit tests' Alibaba and AWS exports (tests/unit/flowlogs), sgfw's text and
            JSON lines

Run it again after changing the formats; the files are committed so that CI needs nothing.
"""
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import frames as f  # noqa: E402

ROUTER = "02:53:47:00:00:01"
UPLINK_PEER = "02:00:00:00:99:01"
VMS = {  # name: (vport index in pipeline-a.conf, MAC, IPv4, IPv6)
    "db1": (0, "52:54:00:01:00:0b", "10.1.0.11", "fd00:1::11"),
    "db2": (1, "52:54:00:01:00:0c", "10.1.0.12", "fd00:1::12"),
    "web1": (2, "52:54:00:02:00:0b", "10.2.0.11", "fd00:2::11"),
    "web2": (3, "52:54:00:02:00:0c", "10.2.0.12", "fd00:2::12"),
}
UPLINK = 4


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)


def l2_dst(src_vm, dst_vm):
    """Same subnet: the VM's MAC; otherwise the router's."""
    return VMS[dst_vm][1] if VMS[src_vm][2].split(".")[1] == VMS[dst_vm][2].split(".")[1] \
        else ROUTER


def tcp4(src_vm, dst_vm, sport, dport, flags, seq, ack, payload=b""):
    s, d = VMS[src_vm][2], VMS[dst_vm][2]
    return f.eth(l2_dst(src_vm, dst_vm), VMS[src_vm][1], f.ETH_IPV4,
                 f.ipv4(s, d, f.TCP, f.tcp(s, d, sport, dport, flags, seq, ack, payload=payload)))


def tcp6(src_vm, dst_vm, sport, dport, flags, seq, ack, payload=b""):
    s, d = VMS[src_vm][3], VMS[dst_vm][3]
    return f.eth(l2_dst(src_vm, dst_vm), VMS[src_vm][1], f.ETH_IPV6,
                 f.ipv6(s, d, f.TCP, f.tcp(s, d, sport, dport, flags, seq, ack, payload=payload)))


def udp4(src_vm, dst_vm, sport, dport, payload=b"x" * 16):
    s, d = VMS[src_vm][2], VMS[dst_vm][2]
    return f.eth(l2_dst(src_vm, dst_vm), VMS[src_vm][1], f.ETH_IPV4,
                 f.ipv4(s, d, f.UDP, f.udp(s, d, sport, dport, payload)))


def handshake(a, b, sport, dport, build=tcp4):
    """(sender, frame) for a whole TCP connection from a to b."""
    return [
        (a, build(a, b, sport, dport, f.SYN, 100, 0)),
        (b, build(b, a, dport, sport, f.SYN | f.ACK, 900, 101)),
        (a, build(a, b, sport, dport, f.ACK, 101, 901)),
        (a, build(a, b, sport, dport, f.PSH | f.ACK, 101, 901, b"hello")),
        (b, build(b, a, dport, sport, f.PSH | f.ACK, 901, 106, b"HELLO")),
        (a, build(a, b, sport, dport, f.FIN | f.ACK, 106, 906)),
        (b, build(b, a, dport, sport, f.FIN | f.ACK, 906, 107)),
        (a, build(a, b, sport, dport, f.ACK, 107, 907)),
    ]


# ---- pkt: single frames ----

def pkt_frames():
    a4, b4, a6, b6 = "10.2.0.11", "10.1.0.11", "fd00:2::11", "fd00:1::11"
    sm, dm = VMS["web1"][1], ROUTER
    v4 = lambda proto, l4, **kw: f.eth(dm, sm, f.ETH_IPV4, f.ipv4(a4, b4, proto, l4, **kw))
    v6 = lambda nh, l4, **kw: f.eth(dm, sm, f.ETH_IPV6, f.ipv6(a6, b6, nh, l4, **kw))
    syn4 = f.tcp(a4, b4, 40000, 5432, f.SYN, options=bytes.fromhex("020405b40402080a0000000100000000"
                                                                     "01030307"))
    syn6 = f.tcp(a6, b6, 40000, 5432, f.SYN)
    inner = f.ipv4(b4, a4, f.TCP, f.tcp(b4, a4, 5432, 40000, f.SYN | f.ACK))[:28]
    ns_target = "fd00:2::1"
    return {
        "tcp4-syn": v4(f.TCP, syn4),
        "tcp6-syn": v6(f.TCP, syn6),
        "tcp4-vlan": f.eth(dm, sm, f.ETH_IPV4, f.ipv4(a4, b4, f.TCP, syn4), vlans=[(f.ETH_VLAN, 7)]),
        "tcp6-qinq": f.eth(dm, sm, f.ETH_IPV6, f.ipv6(a6, b6, f.TCP, syn6),
                           vlans=[(f.ETH_QINQ, 100), (f.ETH_VLAN, 7)]),
        "udp4": v4(f.UDP, f.udp(a4, b4, 5353, 53, b"query")),
        "udp6": v6(f.UDP, f.udp(a6, b6, 5353, 53, b"query")),
        "icmp4-echo": v4(f.ICMP, f.icmp(8, 0, f.echo(7, 1))),
        "icmp4-unreachable": v4(f.ICMP, f.icmp(3, 3, b"\0" * 4 + inner)),
        "icmp6-echo": v6(f.ICMPV6, f.icmp6(a6, b6, 128, 0, f.echo(7, 1))),
        "icmp6-ns": f.eth(f.multicast_mac(f.solicited_node(ns_target)), sm, f.ETH_IPV6,
                          f.ipv6(a6, f.solicited_node(ns_target), f.ICMPV6,
                                 f.icmp6(a6, f.solicited_node(ns_target), 135, 0,
                                         f.ns(ns_target, sm)), hlim=255)),
        "icmp6-ns-dad": f.eth("33:33:ff:00:00:11", sm, f.ETH_IPV6,
                              f.ipv6("::", f.solicited_node(a6), f.ICMPV6,
                                     f.icmp6("::", f.solicited_node(a6), 135, 0, f.ns(a6)),
                                     hlim=255)),
        "icmp6-na": f.eth(dm, sm, f.ETH_IPV6,
                          f.ipv6(a6, "fd00:2::1", f.ICMPV6,
                                 f.icmp6(a6, "fd00:2::1", 136, 0, f.na(a6, sm, 0x60)), hlim=255)),
        "arp-request": f.eth(f.BROADCAST, sm, f.ETH_ARP,
                             f.arp(1, sm, a4, "00:00:00:00:00:00", "10.2.0.1")),
        "arp-reply": f.eth(dm, sm, f.ETH_ARP, f.arp(2, sm, a4, dm, "10.2.0.1")),
        "ipv4-options": v4(f.TCP, syn4, options=b"\x94\x04\0\0"),
        "ipv4-frag-first": v4(f.UDP, f.udp(a4, b4, 1, 2, b"x" * 64)[:48], frag=0x2000),
        "ipv4-frag-later": v4(f.UDP, b"x" * 24, frag=6),
        "ipv6-ext-chain": v6(f.HOPOPTS, f.ext(f.DSTOPTS, b"\x01\x04\0\0\0\0") +
                             f.ext(f.UDP) + f.udp(a6, b6, 1, 2)),
        "ipv6-routing-ah": v6(f.ROUTING, f.routing(f.AH, 2) + f.ah(f.TCP) + syn6),
        "ipv6-frag": v6(f.FRAGMENT, f.frag6(f.UDP, 0, True, 0x1234) +
                        f.udp(a6, b6, 1, 2, b"y" * 40)),
        "ipv6-frag-later": v6(f.FRAGMENT, f.frag6(f.UDP, 48, False, 0x1234) + b"z" * 16),
        "gre4": v4(f.GRE, b"\0\0\x08\0" + b"\0" * 20),
        "esp6": v6(50, b"\0\0\0\1\0\0\0\1" + b"\0" * 16),
    }


# ---- pipeline: records ----

def record(port, frame, new_burst=False, step=0, room=False, swap=False, fleet=False):
    control = port | (0x08 if new_burst else 0) | step << 4 | (0x40 if room else 0) | \
        (0x80 if swap else 0)
    return struct.pack("!BH", control, len(frame) | (0x4000 if fleet else 0)) + frame


def conversation(frames, **kw):
    return b"".join(record(VMS[vm][0] if vm in VMS else UPLINK, fr, **kw) for vm, fr in frames)


def pipeline_inputs():
    web1, db1 = VMS["web1"], VMS["db1"]
    # db1 refusing web1's SYN: the error quotes the packet db1 received.
    inner = f.ipv4(web1[2], db1[2], f.TCP, f.tcp(web1[2], db1[2], 40000, 5432, f.SYN, 100))
    icmp_err = f.eth(ROUTER, db1[1], f.ETH_IPV4,
                     f.ipv4(db1[2], web1[2], f.ICMP, f.icmp(3, 4, b"\0\0\x05\xdc" + inner[:28])))
    # web2 claiming to be a router on the way of web1's connection to db1 (forged).
    forged = f.eth(web1[1], VMS["web2"][1], f.ETH_IPV4,
                   f.ipv4(VMS["web2"][2], web1[2], f.ICMP,
                          f.icmp(3, 4, b"\0\0\0\x44" + f.ipv4(web1[2], db1[2], f.TCP, f.tcp(
                              web1[2], db1[2], 40000, 5432, f.ACK, 101, 901))[:28])))
    hs = handshake("web1", "db1", 40000, 5432)
    ns_target = "fd00:2::1"
    ns = f.eth(f.multicast_mac(f.solicited_node(ns_target)), web1[1], f.ETH_IPV6,
               f.ipv6(web1[3], f.solicited_node(ns_target), f.ICMPV6,
                      f.icmp6(web1[3], f.solicited_node(ns_target), 135, 0,
                              f.ns(ns_target, web1[1])), hlim=255))
    ns_vm = f.eth("33:33:ff:00:00:12", web1[1], f.ETH_IPV6,
                  f.ipv6(web1[3], f.solicited_node("fd00:2::12"), f.ICMPV6,
                         f.icmp6(web1[3], f.solicited_node("fd00:2::12"), 135, 0,
                                 f.ns("fd00:2::12", web1[1])), hlim=255))
    arp_gw = f.eth(f.BROADCAST, web1[1], f.ETH_ARP,
                   f.arp(1, web1[1], web1[2], "00:00:00:00:00:00", "10.2.0.1"))
    arp_vm = f.eth(f.BROADCAST, web1[1], f.ETH_ARP,
                   f.arp(1, web1[1], web1[2], "00:00:00:00:00:00", "10.2.0.12"))
    ping = f.eth(ROUTER, web1[1], f.ETH_IPV4,
                 f.ipv4(web1[2], db1[2], f.ICMP, f.icmp(8, 0, f.echo(9, 1))))
    pong = f.eth(ROUTER, db1[1], f.ETH_IPV4,
                 f.ipv4(db1[2], web1[2], f.ICMP, f.icmp(0, 0, f.echo(9, 1))))
    from_uplink = f.eth(ROUTER, UPLINK_PEER, f.ETH_IPV4,
                        f.ipv4("198.51.100.7", db1[2], f.UDP, f.udp("198.51.100.7", db1[2], 3333,
                                                                    53, b"q")))
    dns_answer = f.eth(ROUTER, db1[1], f.ETH_IPV4,
                       f.ipv4(db1[2], "198.51.100.7", f.UDP, f.udp(db1[2], "198.51.100.7", 53,
                                                                   3333, b"a")))
    dhcp = f.eth(f.BROADCAST, VMS["web2"][1], f.ETH_IPV4,
                 f.ipv4("0.0.0.0", "255.255.255.255", f.UDP,
                        f.udp("0.0.0.0", "255.255.255.255", 68, 67, b"\1" * 240)))
    payload = f.udp(db1[2], web1[2], 5500, 5500, b"f" * 56)
    frag1 = f.eth(ROUTER, db1[1], f.ETH_IPV4,
                  f.ipv4(db1[2], web1[2], f.UDP, payload[:32], ident=77, frag=0x2000))
    frag2 = f.eth(ROUTER, db1[1], f.ETH_IPV4,
                  f.ipv4(db1[2], web1[2], f.UDP, payload[32:], ident=77, frag=4))
    gre = f.eth(ROUTER, db1[1], f.ETH_IPV4, f.ipv4(db1[2], web1[2], f.GRE, b"\0\0\x08\0" * 4))
    spoof = f.eth(ROUTER, web1[1], f.ETH_IPV4,
                  f.ipv4(db1[2], VMS["db2"][2], f.TCP, f.tcp(db1[2], VMS["db2"][2], 1, 2379, f.SYN)))
    # Allowed prefixes: web1's inside its subnet (10.2.0.64/26) and outside every subnet
    # (192.168.20.0/24), reached routed, by MAC, asked for by ARP, and claimed by web2.
    web2 = VMS["web2"]
    in_pfx, routed = "10.2.0.70", "192.168.20.5"
    to_pfx = f.eth(ROUTER, db1[1], f.ETH_IPV4,
                   f.ipv4(db1[2], in_pfx, f.TCP, f.tcp(db1[2], in_pfx, 40100, 80, f.SYN, 100)))
    from_pfx = f.eth(ROUTER, web1[1], f.ETH_IPV4,
                     f.ipv4(in_pfx, db1[2], f.TCP,
                            f.tcp(in_pfx, db1[2], 80, 40100, f.SYN | f.ACK, 900, 101)))
    by_mac = f.eth(web1[1], web2[1], f.ETH_IPV4,
                   f.ipv4(web2[2], in_pfx, f.TCP, f.tcp(web2[2], in_pfx, 40101, 80, f.SYN, 100)))
    to_routed = f.eth(ROUTER, UPLINK_PEER, f.ETH_IPV4,
                      f.ipv4("198.51.100.7", routed, f.TCP,
                             f.tcp("198.51.100.7", routed, 40102, 80, f.SYN, 100)))
    uplink_claims = f.eth(ROUTER, UPLINK_PEER, f.ETH_IPV4,
                          f.ipv4(routed, db1[2], f.UDP, f.udp(routed, db1[2], 3333, 53, b"q")))
    arp_pfx = f.eth(f.BROADCAST, web2[1], f.ETH_ARP,
                    f.arp(1, web2[1], web2[2], "00:00:00:00:00:00", in_pfx))
    claims = f.eth(ROUTER, web2[1], f.ETH_IPV4,
                   f.ipv4(in_pfx, db1[2], f.UDP, f.udp(in_pfx, db1[2], 3333, 53, b"q")))
    return {
        "prefixes": conversation([("db1", to_pfx), ("web1", from_pfx), ("web2", by_mac),
                                  ("up0", to_routed), ("up0", uplink_claims), ("web2", arp_pfx),
                                  ("web2", claims)]),
        "tcp-web1-db1": conversation(hs),
        "tcp-web1-db1-swap": conversation(hs[:4]) + record(0, hs[4][1], swap=True) +
        conversation(hs[4:]),
        "tcp-web1-db1-timeout": conversation(hs[:3]) + record(2, hs[3][1], step=3) +
        conversation(hs[4:]),
        "tcp6-web1-db1": conversation(handshake("web1", "db1", 40001, 5432, tcp6)),
        "tcp-db1-db2": conversation(handshake("db1", "db2", 40002, 2379)),
        "tcp-pickup": conversation(hs[3:]),
        "icmp-related": conversation(hs[:1]) + record(0, icmp_err),
        "icmp-forged": conversation(hs[:3]) + record(VMS["web2"][0], forged),
        "arp-nd": conversation([("web1", arp_gw), ("web1", arp_vm), ("web1", ns), ("web1", ns_vm)],
                               room=True),
        "ping": conversation([("web1", ping), ("db1", pong)]),
        "uplink-dns": record(UPLINK, from_uplink) + record(0, dns_answer),
        "dhcp": record(3, dhcp),
        "fragments": conversation([("db1", frag1), ("db1", frag2)]),
        "gre": record(0, gre) + record(0, gre, step=2),
        "spoof": record(2, spoof) + record(2, hs[0][1]),
    }


# ---- pipeline over the overlay (pipeline-fleet.conf): this switch is hv1 ----

HV1, HV2 = ("192.168.50.1", "02:00:00:00:50:01"), ("192.168.50.2", "02:00:00:00:50:02")
HV3_VTEP = "192.168.50.3"
REMOTES = {  # name: (host VTEP, MAC, IPv4, IPv6, VNI of its subnet)
    "db3": (HV2[0], "52:54:00:01:00:15", "10.1.0.21", "fd00:1::21", 101),
    "web3": (HV2[0], "52:54:00:02:00:15", "10.2.0.21", None, 102),
    "db4": (HV3_VTEP, "52:54:00:01:00:1f", "10.1.0.31", None, 101),
}
VNI6 = 103


def vxlan(inner, src_vtep=HV2[0], vni=101, flags=0x08, dst_vtep=HV1[0], frag=0x4000,
          sport=50000, dport=4789):
    """A VXLAN frame to hv1's VTEP from the uplink, as another host sends it."""
    body = f.udp(src_vtep, dst_vtep, sport, dport, struct.pack("!B3xI", flags, vni << 8) + inner)
    return f.eth(HV1[1], UPLINK_PEER, f.ETH_IPV4, f.ipv4(src_vtep, dst_vtep, f.UDP, body, frag=frag))


def fleet_inputs():
    db1, web1 = VMS["db1"], VMS["web1"]
    db3, web3, db4 = REMOTES["db3"], REMOTES["web3"], REMOTES["db4"]

    def tcp_l2(smac, dmac, s, d, sport, dport, flags, seq, ack, payload=b"", v6=False):
        ip = f.ipv6 if v6 else f.ipv4
        return f.eth(dmac, smac, f.ETH_IPV6 if v6 else f.ETH_IPV4,
                     ip(s, d, f.TCP, f.tcp(s, d, sport, dport, flags, seq, ack, payload=payload)))

    # db1 <-> db3 (hv2) on 2379, by MAC in 10.1.0.0/24 (VNI 101): db1's frames leave wrapped,
    # db3's arrive wrapped.
    out = [tcp_l2(db1[1], db3[1], db1[2], db3[2], 40000, 2379, fl, sq, ak, pl)
           for fl, sq, ak, pl in ((f.SYN, 100, 0, b""), (f.ACK, 101, 901, b""),
                                  (f.PSH | f.ACK, 101, 901, b"hello"))]
    back = [vxlan(tcp_l2(db3[1], db1[1], db3[2], db1[2], 2379, 40000, fl, sq, ak, pl))
            for fl, sq, ak, pl in ((f.SYN | f.ACK, 900, 101, b""), (f.ACK, 901, 106, b"HELLO"))]
    l2 = (record(0, out[0], room=True, fleet=True) + record(UPLINK, back[0]) +
          record(0, out[1], room=True) + record(0, out[2], room=True) + record(UPLINK, back[1]))
    # web1 (10.2) -> db3 (10.1) on 5432, routed: hv1 routes it into VNI 101, hv2 routes the
    # answer into VNI 102 (from the router's MAC). Then over IPv6 in VNI 103, db1 <-> db3.
    routed = (record(2, tcp_l2(web1[1], ROUTER, web1[2], db3[2], 40001, 5432, f.SYN, 100, 0),
                     room=True, fleet=True) +
              record(UPLINK, vxlan(tcp_l2(ROUTER, web1[1], db3[2], web1[2], 5432, 40001,
                                          f.SYN | f.ACK, 900, 101), vni=102)) +
              record(0, tcp_l2(db1[1], db3[1], db1[3], db3[3], 40002, 5432, f.SYN, 100, 0,
                               v6=True), room=True) +
              record(UPLINK, vxlan(tcp_l2(db3[1], db1[1], db3[3], db1[3], 5432, 40002,
                                          f.SYN | f.ACK, 900, 101, v6=True), vni=VNI6)))
    # From hv3 (no MAC of its own), and its db4 to db2.
    hv3 = record(UPLINK, vxlan(tcp_l2(db4[1], VMS["db2"][1], db4[2], VMS["db2"][2], 40003, 2379,
                                      f.SYN, 100, 0), src_vtep=HV3_VTEP), fleet=True) + \
        record(1, tcp_l2(VMS["db2"][1], db4[1], VMS["db2"][2], db4[2], 2379, 40003,
                         f.SYN | f.ACK, 900, 101), room=True)
    # What is refused at decapsulation, each once.
    syn = tcp_l2(db3[1], db1[1], db3[2], db1[2], 40004, 2379, f.SYN, 100, 0)
    first = f.eth(db1[1], db3[1], f.ETH_IPV4,
                  f.ipv4(db3[2], db1[2], f.UDP, f.udp(db3[2], db1[2], 53, 53, b"q" * 40)[:24],
                         ident=9, frag=0x2000))
    later = f.eth(db1[1], db3[1], f.ETH_IPV4,
                  f.ipv4(db3[2], db1[2], f.UDP, b"q" * 24, ident=9, frag=3))
    arp = f.eth(f.BROADCAST, db3[1], f.ETH_ARP, f.arp(1, db3[1], db3[2], "00:00:00:00:00:00",
                                                     db1[2]))
    tagged = f.eth(db1[1], db3[1], f.ETH_IPV4, syn[14:], vlans=((0x8100, 5),))
    attacks = [
        vxlan(syn, src_vtep="192.168.50.99"),           # unknown VTEP
        vxlan(syn, src_vtep=HV1[0]),                    # our own
        vxlan(syn, vni=999),                            # unknown VNI
        vxlan(syn, flags=0),                            # no I flag
        vxlan(syn[:20]),                                # truncated inner frame
        vxlan(syn, frag=0x2000),                        # outer fragment
        vxlan(syn, src_vtep=HV3_VTEP),                  # db3 is hv2's, not hv3's
        vxlan(tcp_l2(db1[1], VMS["db2"][1], db1[2], VMS["db2"][2], 1, 2379, f.SYN, 1, 0)),
        vxlan(tcp_l2(web3[1], db1[1], web3[2], db1[2], 1, 2379, f.SYN, 1, 0)),  # MAC, subnet
        vxlan(tcp_l2(db3[1], web1[1], db3[2], web1[2], 1, 80, f.SYN, 1, 0)),    # other subnet
        vxlan(tcp_l2(db3[1], db4[1], db3[2], db4[2], 1, 2379, f.SYN, 1, 0)),    # not local
        vxlan(arp), vxlan(tagged), vxlan(first), vxlan(later),
        vxlan(syn, dst_vtep="192.168.50.2"),            # hv2's, passing by
        vxlan(syn, dport=4790),                         # not VXLAN's port
    ]
    decap = b"".join(record(UPLINK, a, fleet=(i == 0)) for i, a in enumerate(attacks))
    # Too big for overlay.mtu 1330 (1280 bytes of inner IP): IPv4 with and without DF, IPv6;
    # and one that fits, without headroom to wrap it.
    big4 = f.eth(db3[1], db1[1], f.ETH_IPV4,
                 f.ipv4(db1[2], db3[2], f.UDP, f.udp(db1[2], db3[2], 1, 53, b"b" * 1300)))
    big4df = f.eth(db3[1], db1[1], f.ETH_IPV4,
                   f.ipv4(db1[2], db3[2], f.UDP, f.udp(db1[2], db3[2], 1, 53, b"b" * 1300),
                          frag=0x4000))
    big6 = f.eth(db3[1], db1[1], f.ETH_IPV6,
                 f.ipv6(db1[3], db3[3], f.UDP, f.udp(db1[3], db3[3], 1, 53, b"b" * 1300)))
    padded = out[0] + b"\0" * 1400                      # a small packet in a large frame
    too_big = (record(0, big4, room=True, fleet=True) + record(0, big4df, room=True) +
               record(0, big6, room=True) + record(0, out[0]) + record(0, padded, room=True))
    # Neighbours of remote ports answered here; a VM's UDP to a VTEP's port 4789 carrying a
    # whole VXLAN frame (hv1 -> hv2 as the outer source) is only a VM's UDP.
    ns_target = db3[3]
    ns = f.eth(f.multicast_mac(f.solicited_node(ns_target)), db1[1], f.ETH_IPV6,
               f.ipv6(db1[3], f.solicited_node(ns_target), f.ICMPV6,
                      f.icmp6(db1[3], f.solicited_node(ns_target), 135, 0,
                              f.ns(ns_target, db1[1])), hlim=255))
    arp_db3 = f.eth(f.BROADCAST, db1[1], f.ETH_ARP,
                    f.arp(1, db1[1], db1[2], "00:00:00:00:00:00", db3[2]))
    inner = tcp_l2(web1[1], db3[1], web1[2], db3[2], 1, 5432, f.SYN, 1, 0)
    vm_vxlan = [f.eth(ROUTER, web1[1], f.ETH_IPV4,
                      f.ipv4(s, d, f.UDP, f.udp(s, d, 50000, 4789,
                                                struct.pack("!B3xI", 8, 101 << 8) + inner)))
                for s, d in ((web1[2], HV2[0]), (HV1[0], HV2[0]), (web1[2], HV1[0]),
                             (web1[2], db3[2]))]
    neighbours = record(0, arp_db3, room=True, fleet=True) + record(0, ns, room=True) + \
        b"".join(record(2, v, room=True) for v in vm_vxlan)
    return {
        "overlay-l2": l2,
        "overlay-routed-v6": routed,
        "overlay-hv3": hv3,
        "overlay-decap-refused": decap,
        "overlay-too-big": too_big,
        "overlay-neighbours-vm-vxlan": neighbours,
    }


# ---- conf: config files, includes inlined ----

def inline(path):
    text = open(path).read()

    def include(match):
        return inline(os.path.join(os.path.dirname(path), match.group(1)))
    return re.sub(r'^@include "([^"]+)"$', include, text, flags=re.M)


# ---- ctl: JSON-RPC request lines ----

def request(method, args, text=False, rid=1):
    params = {"args": args, "format": "text"} if text else args
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode() + b"\n"


def main():
    for name, frame in pkt_frames().items():
        write("pkt", name, frame)
    for name, data in pipeline_inputs().items():
        write("pipeline", name, data)
    for name, data in fleet_inputs().items():
        write("pipeline", name, data)
    for name in ("seed.conf", "sample-multi.conf", "seed-groups.conf"):
        write("conf", name, inline(os.path.join(ROOT, "config", name)).encode())
    for name in ("pipeline-a.conf", "pipeline-b.conf", "pipeline-fleet.conf"):
        write("conf", name, inline(os.path.join(HERE, name)).encode())
    # Every field of every section (the round-trip property test's config).
    write("conf", "all-sections.conf",
          inline(os.path.join(ROOT, "tests", "unit", "all-sections.conf")).encode())
    write("conf", "alibaba-vocabulary.conf",
          inline(os.path.join(ROOT, "tests", "data", "alibaba", "vocabulary-alibaba.conf")).encode())
    requests = {
        "check": ("check", [], True),
        "check-json": ("check", [], False),
        "ports": ("ports", [], False),
        "groups": ("groups", [], True),
        "effective": ("effective", ["app1"], True),
        "effective-dir": ("effective", ["db1", "ingress"], False),
        "explain-path": ("explain", ["web1", "to", "db1", "tcp", "5432"], False),
        "explain-flow": ("explain", ["db1", "ingress", "tcp", "10.2.0.11:40000",
                                     "10.1.0.11:5432"], True),
        "explain-icmp": ("explain", ["app1", "ingress", "icmp", "192.0.2.9", "10.20.1.21",
                                     "8"], True),
        "explain6": ("explain", ["lb1", "ingress", "tcp", "[2001:db8::1]:1234",
                                 "[fd00:20:1::10]:443"], False),
        "unknown": ("stats", ["db1"], True),
        "group-show": ("group.show", ["sg-db"], False),
        "rule-list": ("rule.list", ["sg-web"], True),
        "port-show": ("port.show", ["db1"], False),
        "rule-add": ("rule.add", ["sg-db", "direction=ingress", "protocol=tcp",
                                  "port_range=22/22", "source_cidr=10.0.0.0/8"], False),
        "methods": ("methods", [], False),
    }
    for name, (method, args, text) in requests.items():
        write("ctl", name, request(method, args, text))
    # Several lines, a bad one among them; a notification; a line that is not JSON.
    write("ctl", "pipelined", request("version", [], False, "a") + b"{nope\n" +
          b'{"jsonrpc":"2.0","method":"check"}\n' + request("groups", [], True, 2))
    write("ctl", "bad-params", b'{"jsonrpc":"2.0","id":1,"method":"effective","params":{"args":["a",1],"x":2}}\n')
    write("ctl", "unicode", request("effective", ["\u00e9\u4e2d\ud83d\ude00"], True))
    for name in ("alibaba-export.csv", "aws-v5-export.log"):
        with open(os.path.join(ROOT, "tests", "unit", "flowlogs", name), "rb") as export:
            write("flowlog", name, export.read())
    write("flowlog", "sgfw-text-json.log", (
        "version port srcaddr srcport dstaddr dstport protocol direction packets bytes start end "
        "log-status action tcp-flags rule\n"
        "1 db1 10.2.0.11 40000 10.1.0.11 5432 6 ingress 12 1840 1700000000 1700000060 OK ACCEPT "
        "19 sg-db/1\n"
        "1 db2 - - - - - - - - 1700000060 1700000120 NODATA - - -\n"
        '{"version":1,"port":"db1","srcaddr":"10.2.0.11","srcport":40000,"dstaddr":"10.1.0.11",'
        '"dstport":5432,"protocol":6,"direction":"ingress","packets":12,"bytes":1840,'
        '"start":1700000000,"end":1700000060,"log_status":"OK","action":"ACCEPT","tcp_flags":19,'
        '"rule":"sg-db/1","group":"sg-db","rule_index":1}\n').encode())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A hostile VM: send malformed and spoofed frames out of an interface with a raw AF_PACKET
socket, and print as JSON how many of each the switch must drop, by drop reason.

  hostile_send.py IFACE LAB_JSON [GROUP...]

LAB_JSON describes the lab (see hostile_netns_test.sh): "self", "victim" and "peer" VMs
({"mac", "ip4", "ip6", "gw4", "gw6"}), "router_mac", and "conn" = [victim port, peer port] of
the victim's TCP connection to the peer, for the forged ICMP errors. Frames the switch cannot
receive on its af_packet ports are counted as "unseen". GROUPS choose what to
send: "malformed", "spoof" (both when none is given), or "related" (from the peer: an ICMP
error the switch must let through, counted as "forwarded"). Each case is sent COPIES times.
Run it inside the VM's network namespace; needs root (CAP_NET_RAW).
"""
import json
import sys

import frames as f

COPIES = 3


def malformed(lab):
    me, victim, router = lab["self"], lab["victim"], lab["router_mac"]
    s4, d4, s6, d6 = me["ip4"], victim["ip4"], me["ip6"], victim["ip6"]
    mine = me["mac"]
    # Inside the subnet: frames go to the victim's MAC, as a real VM's would.
    l2 = victim["mac"]
    syn = f.tcp(s4, d4, 41000, 80, f.SYN, payload=b"SGFW-HOSTILE")
    syn6 = f.tcp(s6, d6, 41000, 80, f.SYN, payload=b"SGFW-HOSTILE")
    udp = f.udp(s4, d4, 41000, 53, b"SGFW-HOSTILE")

    def v4(payload, proto=f.TCP, **kw):
        return f.eth(l2, mine, f.ETH_IPV4, f.ipv4(s4, d4, proto, payload, **kw))

    def v6(nh, payload, **kw):
        return f.eth(l2, mine, f.ETH_IPV6, f.ipv6(s6, d6, nh, payload, **kw))

    good4 = v4(syn)
    cases = [
        # Ethernet and VLAN. (A frame cut inside its VLAN tag never reaches an af_packet
        # reader: the kernel drops it when it takes the tag off.)
        ("vlan_nested", f.eth(l2, mine, f.ETH_IPV4, f.ipv4(s4, d4, f.TCP, syn),
                              vlans=[(f.ETH_QINQ, 1), (f.ETH_VLAN, 2), (f.ETH_VLAN, 3)])),
        ("ethertype", f.eth(l2, mine, 0x88CC, b"\x02\x07\x04" + b"\0" * 40)),
        ("ethertype", f.eth(l2, mine, 0x8863, b"\x11\x09" + b"\0" * 40)),
        # ARP
        ("arp_malformed", f.eth(f.BROADCAST, mine, f.ETH_ARP, f.arp(1, mine, s4, "00:00:00:00:00:00",
                                                                    d4)[:20])),
        ("arp_malformed", f.eth(f.BROADCAST, mine, f.ETH_ARP,
                                b"\x00\x06" + f.arp(1, mine, s4, "00:00:00:00:00:00", d4)[2:])),
        ("arp_malformed", f.eth(f.BROADCAST, mine, f.ETH_ARP, f.arp(9, mine, s4, mine, d4))),
        # IPv4 header
        ("ip_truncated", f.eth(l2, mine, f.ETH_IPV4, good4[14:30])),
        ("ip_version", v4(syn, version=6)),
        ("ip_header_len", v4(syn, ihl=4)),
        ("ip_header_len", v4(syn, ihl=0)),
        ("ip_total_len", v4(syn, total_len=len(syn) + 20 + 100)),
        ("ip_total_len", v4(syn, total_len=12)),
        ("ip_checksum", v4(syn, checksum_value=0x1234)),
        ("ip_options", v4(syn, options=b"\x07\x07\x04\0\0\0\0\0")),  # record route
        ("ip_options", v4(syn, options=b"\x83\x07\x04\x0a\x02\0\x0b\0")),  # loose source route
        ("ip_options", v4(syn, options=b"\x94\x04\0\0")),  # router alert
        ("ip_address", f.eth(l2, mine, f.ETH_IPV4, f.ipv4("127.0.0.1", d4, f.UDP, udp))),
        ("ip_address", f.eth(l2, mine, f.ETH_IPV4, f.ipv4("224.0.0.9", d4, f.UDP, udp))),
        # TCP
        ("l4_truncated", v4(syn[:12])),
        ("tcp_header_len", v4(f.tcp(s4, d4, 41000, 80, f.SYN, data_off=4))),
        ("tcp_header_len", v4(f.tcp(s4, d4, 41000, 80, f.SYN, data_off=15))),
    ]
    for flags in (0, f.SYN | f.FIN, f.SYN | f.RST, f.RST | f.FIN, f.FIN, f.URG,
                  f.SYN | f.ACK | f.URG, f.FIN | f.SYN | f.RST | f.PSH | f.ACK | f.URG):
        cases.append(("tcp_flags", v4(f.tcp(s4, d4, 41000, 80, flags, payload=b"SGFW-HOSTILE"))))
    cases += [
        # UDP and ICMP
        ("l4_truncated", v4(udp[:6], proto=f.UDP)),
        ("l4_truncated", v4(f.udp(s4, d4, 41000, 53, b"SGFW-HOSTILE", length=200), proto=f.UDP)),
        ("l4_truncated", v4(f.icmp(8, 0)[:5], proto=f.ICMP)),
        # IPv4 fragments. DPDK's af_packet ports ask the kernel to reassemble IPv4 first
        # (PACKET_FANOUT_FLAG_DEFRAG), which throws these away before sgfw could see them:
        # "unseen". sgfw's own checks on them are the parser's (check_pkt, fuzz_pkt).
        ("unseen", v4(syn[:8], frag=0x2000, ident=501)),                # tiny
        ("unseen", v4(syn[8:16], frag=0x0001, ident=502)),              # offset 8: the header
        ("unseen", v4(syn[:22], frag=0x2000, ident=503)),               # not a multiple of 8
        ("unseen", v4(b"\0" * 64, proto=f.UDP, frag=0x1FFF, ident=504)),  # past 65535
        # IPv6
        ("ip_truncated", f.eth(l2, mine, f.ETH_IPV6, v6(f.TCP, syn6)[14:40])),
        ("ip_version", v6(f.TCP, syn6, version=4)),
        ("ip_total_len", v6(f.TCP, syn6, payload_len=len(syn6) + 100)),
        ("ip_address", f.eth(l2, mine, f.ETH_IPV6, f.ipv6("::1", d6, f.TCP, syn6))),
        ("ipv6_ext_headers", v6(f.DSTOPTS, f.ext(f.HOPOPTS) + f.ext(f.TCP) + syn6)),
        ("ipv6_ext_headers", v6(f.ROUTING, f.routing(f.TCP, 0, 1) + syn6)),
        ("ipv6_ext_headers", v6(f.DSTOPTS, b"".join(f.ext(f.DSTOPTS) for _ in range(8)) +
                                f.ext(f.TCP) + syn6)),
        ("ipv6_ext_headers", v6(f.FRAGMENT, f.frag6(f.FRAGMENT, 0, False, 7) +
                                f.frag6(f.TCP, 0, False, 7) + syn6)),
        ("ipv6_ext_headers", v6(f.DSTOPTS, f.ext(f.TCP, b"\0" * 14)[:4], payload_len=4)),
        ("frag_tiny", v6(f.FRAGMENT, f.frag6(f.TCP, 0, True, 8) + syn6[:8])),
        ("frag_overlap", v6(f.FRAGMENT, f.frag6(f.TCP, 8, False, 9) + syn6[8:24])),
        ("frag_overlap", v6(f.FRAGMENT, f.frag6(f.UDP, 0, True, 10) +
                            f.udp(s6, d6, 1, 2, b"SGFW-HOSTILE-odd!"))),
        # Neighbour discovery a receiver must discard (hop limit not 255)
        ("nd_malformed", f.eth(f.multicast_mac(f.solicited_node(d6)), mine, f.ETH_IPV6,
                               f.ipv6(s6, f.solicited_node(d6), f.ICMPV6,
                                      f.icmp6(s6, f.solicited_node(d6), 135, 0, f.ns(d6, mine)),
                                      hlim=64))),
    ]
    return cases


def spoof(lab):
    me, victim, peer, router = lab["self"], lab["victim"], lab["peer"], lab["router_mac"]
    mine = me["mac"]
    vport, pport = lab["conn"]
    cases = []
    # Another VM's address, to the victim and to the peer (a RST into the victim's connection).
    cases.append(("spoof_ip", f.eth(victim["mac"], mine, f.ETH_IPV4, f.ipv4(
        peer["ip4"], victim["ip4"], f.TCP,
        f.tcp(peer["ip4"], victim["ip4"], pport, vport, f.RST, seq=12345)))))
    cases.append(("spoof_ip", f.eth(router, mine, f.ETH_IPV4, f.ipv4(
        victim["ip4"], peer["ip4"], f.TCP,
        f.tcp(victim["ip4"], peer["ip4"], vport, pport, f.RST | f.ACK, seq=1, ack=1)))))
    cases.append(("spoof_ip", f.eth(victim["mac"], mine, f.ETH_IPV6, f.ipv6(
        peer["ip6"], victim["ip6"], f.UDP, f.udp(peer["ip6"], victim["ip6"], 53, 41000,
                                                 b"SGFW-HOSTILE")))))
    # Another VM's MAC, with its own or the other's address.
    for src_ip in (me["ip4"], victim["ip4"]):
        cases.append(("spoof_mac", f.eth(router, victim["mac"], f.ETH_IPV4, f.ipv4(
            src_ip, peer["ip4"], f.UDP, f.udp(src_ip, peer["ip4"], 41000, 53, b"SGFW-HOSTILE")))))
    # ARP for addresses it does not own: the gateway and the victim, as replies and gratuitously.
    for ip in (victim["gw4"], victim["ip4"]):
        cases.append(("spoof_arp", f.eth(victim["mac"], mine, f.ETH_ARP,
                                         f.arp(2, mine, ip, victim["mac"], victim["ip4"]))))
        cases.append(("spoof_arp", f.eth(f.BROADCAST, mine, f.ETH_ARP,
                                         f.arp(1, mine, ip, "00:00:00:00:00:00", ip))))
    # Its own address but someone else's hardware address inside the ARP.
    cases.append(("spoof_arp", f.eth(victim["mac"], mine, f.ETH_ARP,
                                     f.arp(2, victim["mac"], me["ip4"], victim["mac"],
                                           victim["ip4"]))))
    # Neighbour advertisements for the gateway and the victim, and a solicitation whose
    # source link-layer address is not its own.
    for target in (victim["gw6"], victim["ip6"]):
        cases.append(("spoof_nd", f.eth(victim["mac"], mine, f.ETH_IPV6, f.ipv6(
            me["ip6"], victim["ip6"], f.ICMPV6,
            f.icmp6(me["ip6"], victim["ip6"], 136, 0, f.na(target, mine, 0x20)), hlim=255))))
        cases.append(("spoof_nd", f.eth("33:33:00:00:00:01", mine, f.ETH_IPV6, f.ipv6(
            me["ip6"], "ff02::1", f.ICMPV6,
            f.icmp6(me["ip6"], "ff02::1", 136, 0, f.na(target, mine, 0x20)), hlim=255))))
    cases.append(("spoof_nd", f.eth(f.multicast_mac(f.solicited_node(victim["ip6"])), mine,
                                    f.ETH_IPV6, f.ipv6(
        me["ip6"], f.solicited_node(victim["ip6"]), f.ICMPV6,
        f.icmp6(me["ip6"], f.solicited_node(victim["ip6"]), 135, 0,
                f.ns(victim["ip6"], victim["mac"])), hlim=255))))
    # Router advertisements and DHCP server answers.
    cases.append(("router_advert", f.eth("33:33:00:00:00:01", mine, f.ETH_IPV6, f.ipv6(
        me["ip6"], "ff02::1", f.ICMPV6,
        f.icmp6(me["ip6"], "ff02::1", 134, 0, b"\x40\x00\x07\x08" + b"\0" * 8), hlim=255))))
    cases.append(("dhcp_server", f.eth(f.BROADCAST, mine, f.ETH_IPV4, f.ipv4(
        me["ip4"], "255.255.255.255", f.UDP,
        f.udp(me["ip4"], "255.255.255.255", 67, 68, b"\x02" + b"\0" * 239)))))
    # ICMP errors claiming the victim's connection to the peer, from this VM's own address
    # (port security passes them; conntrack must not take them as related: they come from a
    # port the connection does not use): port unreachable, and "fragmentation needed" with a
    # 68-byte MTU, quoting what the victim sent.
    quoted = f.ipv4(victim["ip4"], peer["ip4"], f.TCP,
                    f.tcp(victim["ip4"], peer["ip4"], vport, pport, f.ACK, seq=1, ack=1))[:28]
    for code, rest in ((3, b"\0\0\0\0"), (4, b"\0\0\0\x44")):
        cases.append(("ct_wrong_path", f.eth(victim["mac"], mine, f.ETH_IPV4, f.ipv4(
            me["ip4"], victim["ip4"], f.ICMP, f.icmp(3, code, rest + quoted)))))
    quoted6 = f.ipv6(victim["ip6"], peer["ip6"], f.TCP,
                     f.tcp(victim["ip6"], peer["ip6"], vport, pport, f.ACK, seq=1, ack=1))[:48]
    # The victim's connection is IPv4: this one quotes an untracked tuple.
    cases.append(("ct_not_new", f.eth(victim["mac"], mine, f.ETH_IPV6, f.ipv6(
        me["ip6"], victim["ip6"], f.ICMPV6,
        f.icmp6(me["ip6"], victim["ip6"], 2, 0, b"\0\0\x05\x00" + quoted6)))))
    return cases


def related(lab):
    """What the peer of the victim's connection may send: an ICMP error about a packet the
    victim sent it ("fragmentation needed", MTU 1400). The control for the forged ones: this
    one passes, so the connection they quote is tracked. Nothing to drop."""
    me, victim = lab["self"], lab["victim"]
    vport, pport = lab["conn"]
    quoted = f.ipv4(victim["ip4"], me["ip4"], f.TCP,
                    f.tcp(victim["ip4"], me["ip4"], vport, pport, f.ACK, seq=1, ack=1))[:28]
    return [("forwarded", f.eth(lab["router_mac"], me["mac"], f.ETH_IPV4, f.ipv4(
        me["ip4"], victim["ip4"], f.ICMP, f.icmp(3, 4, b"\0\0\x05\x78" + quoted))))]


def main():
    iface, lab = sys.argv[1], json.loads(sys.argv[2])
    groups = sys.argv[3:] or ["malformed", "spoof"]
    cases = []
    for group in groups:
        cases += {"malformed": malformed, "spoof": spoof, "related": related}[group](lab)
    expected = f.send_cases(iface, cases, COPIES)
    print(json.dumps(expected, sort_keys=True))


if __name__ == "__main__":
    main()

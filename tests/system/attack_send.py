#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Paths around the security groups, tried as a hostile tenant or a hostile host behind the
uplink would (docs/security.md, "Paths around the groups"): send the frames out of an interface
with a raw AF_PACKET socket and print, as JSON, how many of each the switch must refuse, by drop
reason, and how many legitimate control frames it must let through ("forwarded").

  attack_send.py IFACE LAB_JSON GROUP [COPIES]

LAB_JSON: {"vms": {NAME: {"mac", "ip4", "ip6", "gw4", "gw6", "ll6"}}, "ext": {"mac", "ip4",
"ip6"}, "router_mac", "conn": [web1's port, 5432], "prefixes": {"db1": an address of db1's
allowed prefix, "web1_routed": one of web1's routed network}}, the seed lab with an uplink
host "ext".
GROUPS (web2 attacks its neighbours; ext attacks from the uplink):
  delivery     web2: a neighbour's MAC as a way into another subnet or to an address its
               groups refuse; link-local and broadcast destinations through the router
  neighbour    web2: ARP and neighbour solicitations for addresses outside its subnet, and
               announcements of addresses it does not own
  unspecified  web2: 0.0.0.0 and :: sources outside DHCP discovery and address detection
  vlan         web2: 802.1Q/802.1ad tags and ethertypes sgfw does not handle
  uplink       ext: sources of the switch's VMs and subnets, unspecified and link-local sources,
               tags, frames to a VM's MAC
  conn         ext: a flood of RST, FIN, data and ICMP errors at web1's connection to db1
  prefixes     web2: the addresses of db1's allowed prefix (in db1's subnet) and of web1's
               network routed behind it, as sources, by MAC and asked for by ARP
  prefixes_uplink  ext: those addresses as sources from the uplink
Every refused frame carries the marker "SGFW-ATTACK" in its payload, so a victim's sniffer
(sniff.py) can tell whether any arrived; legitimate ones carry "SGFW-LEGIT-<what>".
Run it inside the sender's network namespace; needs root (CAP_NET_RAW).
"""
import json
import sys

import frames as f

MARK = b"SGFW-ATTACK"


def delivery(lab):
    me, web1, db1, ext = lab["vms"]["web2"], lab["vms"]["web1"], lab["vms"]["db1"], lab["ext"]
    router, mine = lab["router_mac"], me["mac"]

    def v4(dmac, dst, payload, proto=f.UDP):
        return f.eth(dmac, mine, f.ETH_IPV4, f.ipv4(me["ip4"], dst, proto, payload))

    def v6(dmac, src, dst, payload):
        return f.eth(dmac, mine, f.ETH_IPV6, f.ipv6(src, dst, f.UDP, payload))

    def udp4(dst):
        return f.udp(me["ip4"], dst, 41000, 5432, MARK)

    def udp6(src, dst):
        return f.udp(src, dst, 41000, 5432, MARK)

    return [
        # db1's MAC (another subnet) with an outside destination web2's egress allows, and
        # with db1's own address: both go around the router and web2's egress.
        ("dst_mismatch", v4(db1["mac"], ext["ip4"],
                            f.tcp(me["ip4"], ext["ip4"], 41000, 5432, f.SYN, payload=MARK),
                            f.TCP)),
        ("dst_mismatch", v4(db1["mac"], db1["ip4"], udp4(db1["ip4"]))),
        # A neighbour's MAC (web1, same subnet) for db1's address, and for an outside one.
        ("dst_mismatch", v4(web1["mac"], db1["ip4"],
                            f.tcp(me["ip4"], db1["ip4"], 41000, 5432, f.SYN, payload=MARK),
                            f.TCP)),
        ("dst_mismatch", v4(web1["mac"], ext["ip4"], udp4(ext["ip4"]))),
        ("dst_mismatch", v6(db1["mac"], me["ip6"], db1["ip6"], udp6(me["ip6"], db1["ip6"]))),
        ("dst_mismatch", v6(web1["mac"], me["ip6"], ext["ip6"], udp6(me["ip6"], ext["ip6"]))),
        # Link-local addresses never leave their link, broadcasts are not routed.
        ("link_local", v6(router, me["ll6"], db1["ip6"], udp6(me["ll6"], db1["ip6"]))),
        ("link_local", v6(router, me["ip6"], "fe80::1", udp6(me["ip6"], "fe80::1"))),
        ("link_local", v4(router, "169.254.169.254", udp4("169.254.169.254"))),
        ("multicast", v4(router, "255.255.255.255", udp4("255.255.255.255"))),
        # An ICMP redirect to a neighbour: web2 would be its router.
        ("router_advert", v4(web1["mac"], web1["ip4"],
                             f.icmp(5, 1, f.addr(me["ip4"]) + f.ipv4(web1["ip4"], db1["ip4"],
                                                                     f.UDP, MARK)[:28]),
                             f.ICMP)),
    ]


def neighbour(lab):
    me, web1, db1 = lab["vms"]["web2"], lab["vms"]["web1"], lab["vms"]["db1"]
    mine = me["mac"]

    def arp_request(target):
        return f.eth(f.BROADCAST, mine, f.ETH_ARP,
                     f.arp(1, mine, me["ip4"], "00:00:00:00:00:00", target))

    def ns(src, target):
        group = f.solicited_node(target)
        return f.eth(f.multicast_mac(group), mine, f.ETH_IPV6, f.ipv6(
            src, group, f.ICMPV6, f.icmp6(src, group, 135, 0, f.ns(target, mine)), hlim=255))

    return [
        # Another subnet's VM and gateway, and an address nobody owns: no answer at all.
        ("neigh_unknown", arp_request(db1["ip4"])),
        ("neigh_unknown", arp_request(db1["gw4"])),
        ("neigh_unknown", arp_request("10.2.0.99")),
        ("neigh_unknown", ns(me["ip6"], db1["ip6"])),
        ("neigh_unknown", ns(me["ll6"], db1["ip6"])),
        ("neigh_unknown", ns(me["ip6"], db1["gw6"])),
        ("neigh_unknown", ns(me["ip6"], web1["ll6"])),
        # What exists in its own subnet is answered (the control).
        ("replies", arp_request(web1["ip4"])),
        ("replies", arp_request(me["gw4"])),
        ("replies", ns(me["ip6"], web1["ip6"])),
        # Announcements change nothing: someone else's address is refused, its own absorbed.
        ("spoof_arp", f.eth(f.BROADCAST, mine, f.ETH_ARP,
                            f.arp(1, mine, db1["ip4"], "00:00:00:00:00:00", db1["ip4"]))),
        ("spoof_arp", f.eth(f.BROADCAST, mine, f.ETH_ARP,
                            f.arp(2, mine, web1["ip4"], "ff:ff:ff:ff:ff:ff", web1["ip4"]))),
        ("absorbed", f.eth(f.BROADCAST, mine, f.ETH_ARP,
                           f.arp(1, mine, me["ip4"], "00:00:00:00:00:00", me["ip4"]))),
        ("absorbed", f.eth("33:33:00:00:00:01", mine, f.ETH_IPV6, f.ipv6(
            me["ip6"], "ff02::1", f.ICMPV6,
            f.icmp6(me["ip6"], "ff02::1", 136, 0, f.na(me["ip6"], mine, 0x20)), hlim=255))),
    ]


def unspecified(lab):
    me, web1, ext = lab["vms"]["web2"], lab["vms"]["web1"], lab["ext"]
    mine = me["mac"]
    return [
        ("src_unspecified", f.eth(web1["mac"], mine, f.ETH_IPV4, f.ipv4(
            "0.0.0.0", web1["ip4"], f.UDP, f.udp("0.0.0.0", web1["ip4"], 41000, 53, MARK)))),
        ("src_unspecified", f.eth(web1["mac"], mine, f.ETH_IPV4, f.ipv4(
            "0.0.0.0", web1["ip4"], f.UDP, f.udp("0.0.0.0", web1["ip4"], 68, 67, MARK)))),
        ("src_unspecified", f.eth(web1["mac"], mine, f.ETH_IPV6, f.ipv6(
            "::", web1["ip6"], f.ICMPV6, f.icmp6("::", web1["ip6"], 128, 0,
                                                  f.echo(7, 1, MARK))))),
        ("src_unspecified", f.eth("33:33:00:00:00:01", mine, f.ETH_IPV6, f.ipv6(
            "::", "ff02::1", f.ICMPV6, f.icmp6("::", "ff02::1", 135, 0, f.ns(me["ip6"])),
            hlim=255))),
        # DHCP discovery is what 0.0.0.0 is for: it reaches the uplink.
        ("forwarded", f.eth(f.BROADCAST, mine, f.ETH_IPV4, f.ipv4(
            "0.0.0.0", "255.255.255.255", f.UDP,
            f.udp("0.0.0.0", "255.255.255.255", 68, 67, b"\x01" + b"\0" * 235 +
                  b"SGFW-LEGIT-DHCP")))),
    ]


def vlan(lab):
    me, web1, ext = lab["vms"]["web2"], lab["vms"]["web1"], lab["ext"]
    router, mine = lab["router_mac"], me["mac"]
    to_web1 = f.ipv4(me["ip4"], web1["ip4"], f.UDP, f.udp(me["ip4"], web1["ip4"], 41000, 53, MARK))
    to_ext = f.ipv4(me["ip4"], ext["ip4"], f.UDP, f.udp(me["ip4"], ext["ip4"], 41000, 53, MARK))
    return [
        ("vlan_tagged", f.eth(web1["mac"], mine, f.ETH_IPV4, to_web1, vlans=[(f.ETH_VLAN, 5)])),
        ("vlan_tagged", f.eth(router, mine, f.ETH_IPV4, to_ext, vlans=[(f.ETH_QINQ, 5)])),
        ("vlan_tagged", f.eth(router, mine, f.ETH_IPV4, to_ext,
                              vlans=[(f.ETH_QINQ, 5), (f.ETH_VLAN, 6)])),
        # MPLS unicast, PPPoE session, 802.1X: ethertypes sgfw does not forward.
        ("ethertype", f.eth(web1["mac"], mine, 0x8847, b"\x00\x01\x01\x40" + to_web1)),
        ("ethertype", f.eth(router, mine, 0x8864, b"\x11\x00\x00\x01\x00\x40\x00\x21" + to_ext)),
        ("ethertype", f.eth(web1["mac"], mine, 0x888E, b"\x01\x00\x00\x05" + MARK)),
    ]


def uplink(lab):
    ext, web1, db1 = lab["ext"], lab["vms"]["web1"], lab["vms"]["db1"]
    router, mine = lab["router_mac"], ext["mac"]

    def v4(src, dst, payload, dmac=router, proto=f.UDP, vlans=()):
        return f.eth(dmac, mine, f.ETH_IPV4, f.ipv4(src, dst, proto, payload), vlans=vlans)

    def udp4(src, dst):
        return f.udp(src, dst, 41000, 5432, MARK)

    return [
        # Sources that cannot come from outside (BCP 38): a VM's, an unused address of a
        # local subnet, a gateway's, a VM's IPv6 address.
        ("spoof_uplink", v4(web1["ip4"], db1["ip4"],
                            f.tcp(web1["ip4"], db1["ip4"], 41000, 5432, f.SYN, payload=MARK),
                            proto=f.TCP)),
        ("spoof_uplink", v4("10.1.0.99", db1["ip4"], udp4("10.1.0.99", db1["ip4"]))),
        ("spoof_uplink", v4(web1["gw4"], web1["ip4"], udp4(web1["gw4"], web1["ip4"]))),
        ("spoof_uplink", f.eth(router, mine, f.ETH_IPV6, f.ipv6(
            web1["ip6"], db1["ip6"], f.UDP, f.udp(web1["ip6"], db1["ip6"], 41000, 5432, MARK)))),
        ("src_unspecified", v4("0.0.0.0", web1["ip4"], udp4("0.0.0.0", web1["ip4"]))),
        ("link_local", f.eth(router, mine, f.ETH_IPV6, f.ipv6(
            "fe80::1", web1["ip6"], f.UDP, f.udp("fe80::1", web1["ip6"], 41000, 80, MARK)))),
        ("vlan_tagged", v4(ext["ip4"], web1["ip4"], udp4(ext["ip4"], web1["ip4"]),
                           vlans=[(f.ETH_VLAN, 7)])),
        # Nothing outside reaches a VM by its MAC: through the router only.
        ("dst_mismatch", v4(ext["ip4"], web1["ip4"],
                            f.tcp(ext["ip4"], web1["ip4"], 41000, 80, f.SYN, payload=MARK),
                            dmac=web1["mac"], proto=f.TCP)),
    ]


def conn(lab):
    """Spoofed segments and errors aimed at web1's connection to db1, with sources the uplink
    may not claim (theirs) and, for the errors, an outside router's address that may."""
    ext, web1, db1 = lab["ext"], lab["vms"]["web1"], lab["vms"]["db1"]
    router, mine = lab["router_mac"], ext["mac"]
    vport, pport = lab["conn"]
    cases = []
    for seq in (0, 1 << 30, 2 << 30, 3 << 30):
        for flags in (f.RST, f.RST | f.ACK, f.FIN | f.ACK, f.ACK | f.PSH):
            payload = MARK if flags & f.PSH else b""
            cases.append(("spoof_uplink", f.eth(router, mine, f.ETH_IPV4, f.ipv4(
                web1["ip4"], db1["ip4"], f.TCP,
                f.tcp(web1["ip4"], db1["ip4"], vport, pport, flags, seq=seq, ack=seq,
                      payload=payload)))))
            cases.append(("spoof_uplink", f.eth(router, mine, f.ETH_IPV4, f.ipv4(
                db1["ip4"], web1["ip4"], f.TCP,
                f.tcp(db1["ip4"], web1["ip4"], pport, vport, flags, seq=seq, ack=seq,
                      payload=payload)))))
    quoted = f.ipv4(web1["ip4"], db1["ip4"], f.TCP,
                    f.tcp(web1["ip4"], db1["ip4"], vport, pport, f.ACK, seq=1, ack=1))[:28]
    for icmp_type, code, rest in ((3, 3, b"\0\0\0\0"), (3, 4, b"\0\0\0\x44"), (11, 0, b"\0" * 4)):
        # From db1's own address: the uplink may not claim it.
        cases.append(("spoof_uplink", f.eth(router, mine, f.ETH_IPV4, f.ipv4(
            db1["ip4"], web1["ip4"], f.ICMP, f.icmp(icmp_type, code, rest + quoted + MARK)))))
        # From an outside router: it may exist, but the connection never crosses the uplink.
        cases.append(("ct_wrong_path", f.eth(router, mine, f.ETH_IPV4, f.ipv4(
            "198.51.100.1", web1["ip4"], f.ICMP, f.icmp(icmp_type, code, rest + quoted + MARK)))))
    return cases


def prefixes(lab):
    """web2 at the allowed prefixes of others: an address of db1's prefix inside db1's subnet
    and one of the network routed behind web1 are db1's and web1's alone."""
    me, web1, db1, ext = lab["vms"]["web2"], lab["vms"]["web1"], lab["vms"]["db1"], lab["ext"]
    router, mine = lab["router_mac"], me["mac"]
    db1_pfx, routed = lab["prefixes"]["db1"], lab["prefixes"]["web1_routed"]

    def v4(dmac, src, dst):
        return f.eth(dmac, mine, f.ETH_IPV4, f.ipv4(src, dst, f.TCP, f.tcp(
            src, dst, 41000, 5432, f.SYN, payload=MARK)))

    def arp_request(target):
        return f.eth(f.BROADCAST, mine, f.ETH_ARP,
                     f.arp(1, mine, me["ip4"], "00:00:00:00:00:00", target))

    return [
        # Their addresses as web2's source, routed and by MAC.
        ("spoof_ip", v4(router, db1_pfx, lab["vms"]["db2"]["ip4"])),
        ("spoof_ip", v4(web1["mac"], db1_pfx, web1["ip4"])),
        ("spoof_ip", v4(router, routed, ext["ip4"])),
        # db1's MAC for its prefix from another subnet; web1's MAC for its routed network, which
        # is on no link.
        ("dst_mismatch", v4(db1["mac"], me["ip4"], db1_pfx)),
        ("dst_mismatch", v4(web1["mac"], me["ip4"], routed)),
        # Neither is answered for to web2: another subnet, and no link at all.
        ("neigh_unknown", arp_request(db1_pfx)),
        ("neigh_unknown", arp_request(routed)),
    ]


def prefixes_uplink(lab):
    ext, web1, db1 = lab["ext"], lab["vms"]["web1"], lab["vms"]["db1"]
    router, mine = lab["router_mac"], ext["mac"]
    db1_pfx, routed = lab["prefixes"]["db1"], lab["prefixes"]["web1_routed"]

    def v4(src, dst, dport):
        return f.eth(router, mine, f.ETH_IPV4, f.ipv4(src, dst, f.TCP, f.tcp(
            src, dst, 41000, dport, f.SYN, payload=MARK)))

    # Sources the uplink may not claim (BCP 38): inside a subnet, and a network behind a VM.
    return [
        ("spoof_uplink", v4(db1_pfx, web1["ip4"], 80)),
        ("spoof_uplink", v4(routed, db1["ip4"], 5432)),
        ("spoof_uplink", v4(routed, routed, 80)),
    ]


def main():
    iface, lab, group = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    copies = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    cases = {"delivery": delivery, "neighbour": neighbour, "unspecified": unspecified,
             "vlan": vlan, "uplink": uplink, "conn": conn, "prefixes": prefixes,
             "prefixes_uplink": prefixes_uplink}[group](lab)
    expected = f.send_cases(iface, cases, copies)
    print(json.dumps(expected, sort_keys=True))


if __name__ == "__main__":
    main()

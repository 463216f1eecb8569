#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""VXLAN frames an attacker on the underlay sends to a host's VTEP (overlay_netns_test.sh).

  overlay_send.py IFACE DST_MAC DST_VTEP KNOWN_VTEP VNI INNER_DST_MAC INNER_DST CASE COPIES

CASE is "unknown-vtep" (outer source an address no host has, inner source a real remote
port's), "spoofed-source" (outer source KNOWN_VTEP, a real host's, but an inner source that is
none of that host's ports) or "valid" (what that host itself would send for its port b1: the
test's proof that the sniffer sees what gets through). Each inner packet is a TCP SYN to port 2379 carrying the marker
SGFW-OVERLAY-<CASE>, which sniff.py counts in what the victim receives. Standard library only.
"""
import struct
import sys

from frames import ETH_IPV4, SYN, TCP, UDP, eth, ipv4, send_cases, tcp, udp

ATTACKER_MAC = "02:00:00:00:66:66"


def vxlan_frame(dst_mac, src_vtep, dst_vtep, vni, inner):
    header = struct.pack("!B3xI", 0x08, vni << 8)
    return eth(dst_mac, ATTACKER_MAC, ETH_IPV4,
               ipv4(src_vtep, dst_vtep, UDP, udp(src_vtep, dst_vtep, 50000, 4789, header + inner)))


def main():
    iface, dst_mac, dst_vtep, known_vtep, vni, inner_dst_mac, inner_dst, case, copies = sys.argv[1:10]
    marker = b"SGFW-OVERLAY-" + case.upper().encode()
    if case == "unknown-vtep":
        src_vtep, inner_src, inner_src_mac = "192.168.50.99", "10.1.0.21", "52:54:00:0b:00:15"
    elif case == "valid":
        src_vtep, inner_src, inner_src_mac = known_vtep, "10.1.0.21", "52:54:00:0b:00:15"
    elif case == "spoofed-source":
        src_vtep, inner_src, inner_src_mac = known_vtep, "10.1.0.77", "52:54:00:0b:00:15"
    else:
        raise SystemExit("unknown case " + case)
    inner = eth(inner_dst_mac, inner_src_mac, ETH_IPV4,
                ipv4(inner_src, inner_dst, TCP,
                     tcp(inner_src, inner_dst, 40000, 2379, SYN, payload=marker)))
    frame = vxlan_frame(dst_mac, src_vtep, dst_vtep, int(vni), inner)
    sent = send_cases(iface, [(case, frame)], int(copies))
    print(sent[case])


if __name__ == "__main__":
    main()

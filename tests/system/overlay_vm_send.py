#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Whole VXLAN frames a hostile VM on node A sends inside UDP (overlay_netns_test.sh).

  overlay_vm_send.py CASE DST COPIES LABEL [IFACE ROUTER_MAC]

Each inner frame is a TCP SYN that the groups would let through were it decapsulated, to a
victim on node B, carrying the marker SGFW-VMVX-<CASE>-<LABEL> that sniff.py counts:
  own             inner source aw itself, routed to b1:5432 in VNI 101 (what hv-a would send)
  spoofed-inner   inner source a1 (another VM of hv-a, its MAC) to b1:2379 in VNI 101
  other-vni       inner destination bw (10.2.0.0/24, VNI 102) in VNI 101, from a1
These three go from the VM's own UDP socket to DST port 4789. The fourth is a raw frame out of
IFACE to the router's MAC, with hv-a's VTEP 192.168.50.1 as the outer source:
  spoofed-vtep    the "own" frame, outer 192.168.50.1 -> DST, as hv-a's VTEP would send it
Prints how many were sent. Standard library only.
"""
import socket
import struct
import sys

from frames import ETH_IPV4, SYN, TCP, UDP, eth, ipv4, send_cases, tcp, udp

VMS = {  # name: (MAC, IPv4)
    "a1": ("52:54:00:0a:00:0b", "10.1.0.11"),
    "aw": ("52:54:00:0a:00:0c", "10.2.0.11"),
    "b1": ("52:54:00:0b:00:15", "10.1.0.21"),
    "bw": ("52:54:00:0b:00:16", "10.2.0.21"),
}
HV_A_VTEP = "192.168.50.1"


def inner(case, marker, router_mac):
    """(VNI, inner frame) of a case."""
    if case in ("own", "spoofed-vtep"):
        src, dst, smac, dport = "aw", "b1", router_mac, 5432
    elif case == "spoofed-inner":
        src, dst, smac, dport = "a1", "b1", VMS["a1"][0], 2379
    elif case == "other-vni":
        src, dst, smac, dport = "a1", "bw", VMS["a1"][0], 80
    else:
        raise SystemExit("unknown case " + case)
    s, d = VMS[src][1], VMS[dst][1]
    frame = eth(VMS[dst][0], smac, ETH_IPV4,
                ipv4(s, d, TCP, tcp(s, d, 40000, dport, SYN, payload=marker)))
    return 101, frame


def main():
    case, dst, copies, label = sys.argv[1:5]
    iface, router_mac = (sys.argv[5:7] + [None, None])[:2]
    marker = ("SGFW-VMVX-%s-%s" % (case, label)).upper().encode()
    # The routed inner frame's source MAC is the router's: any MAC will do for the socket
    # cases (nothing must decapsulate them); the raw case needs the real one to leave the VM.
    vni, frame = inner(case, marker, router_mac or "02:53:47:00:00:01")
    payload = struct.pack("!B3xI", 0x08, vni << 8) + frame
    if case == "spoofed-vtep":
        if iface is None:
            raise SystemExit("spoofed-vtep needs IFACE ROUTER_MAC")
        outer = eth(router_mac, VMS["aw"][0], ETH_IPV4,
                    ipv4(HV_A_VTEP, dst, UDP, udp(HV_A_VTEP, dst, 50000, 4789, payload)))
        print(send_cases(iface, [(case, outer)], int(copies))[case])
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    for _ in range(int(copies)):
        sock.sendto(payload, (dst, 4789))
        sent += 1
    print(sent)


if __name__ == "__main__":
    main()

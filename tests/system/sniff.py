#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""What a victim VM actually receives: a sniffer in promiscuous mode on its interface.

  sniff.py IFACE OUT STOP     capture every frame IFACE receives (not what it sends) until the
                              file STOP exists; "ready" goes to OUT.ready once capturing, then
                              OUT gets one JSON summary:
                              {"frames": N, "marked": {MARKER: count, ...},
                               "arp_replies": [[sender ip, sender mac], ...],
                               "neighbour_adverts": [[target ip, link-layer address], ...],
                               "vlan_tagged": N}
                              Markers are the ASCII words "SGFW-" followed by [A-Z0-9-] found
                              anywhere in a frame (the attack frames carry them).
Run it inside the VM's network namespace; needs root (CAP_NET_RAW). Standard library only.
"""
import json
import os
import re
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
MARKER = re.compile(rb"SGFW-[A-Z0-9-]+")


def summarise(frames):
    out = {"frames": len(frames), "marked": {}, "arp_replies": [], "neighbour_adverts": [],
           "vlan_tagged": 0}
    for frame in frames:
        for m in MARKER.findall(frame):
            key = m.decode()
            out["marked"][key] = out["marked"].get(key, 0) + 1
        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype in (0x8100, 0x88A8):
            out["vlan_tagged"] += 1
            continue
        body = frame[14:]
        if ethertype == 0x0806 and len(body) >= 28 and struct.unpack("!H", body[6:8])[0] == 2:
            out["arp_replies"].append([socket.inet_ntop(socket.AF_INET, body[14:18]),
                                       ":".join("%02x" % b for b in body[8:14])])
        if ethertype == 0x86DD and len(body) >= 40 + 24 and body[6] == 58 and body[40] == 136:
            target = socket.inet_ntop(socket.AF_INET6, body[48:64])
            lladdr = ""
            opts = body[64:]
            while len(opts) >= 8 and opts[1] != 0:
                if opts[0] == 2:
                    lladdr = ":".join("%02x" % b for b in opts[2:8])
                opts = opts[opts[1] * 8:]
            out["neighbour_adverts"].append([target, lladdr])
    return out


def main():
    iface, out_path, stop_path = sys.argv[1:4]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    index = socket.if_nametoindex(iface)
    sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                    struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b""))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    with open(out_path + ".ready", "w") as ready:
        ready.write("ready\n")
    frames = []
    while not os.path.exists(stop_path):
        readable, _, _ = select.select([sock], [], [], 0.05)
        if not readable:
            continue
        frame, info = sock.recvfrom(65535)
        if info[2] == PACKET_OUTGOING:
            continue
        frames.append(frame)
    # What was queued when the stop came in.
    sock.setblocking(False)
    try:
        while True:
            frame, info = sock.recvfrom(65535)
            if info[2] != PACKET_OUTGOING:
                frames.append(frame)
    except BlockingIOError:
        pass
    with open(out_path, "w") as out:
        json.dump(summarise(frames), out, sort_keys=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A prober of flows that must stay denied, run for the whole of a test.

  deny_probe.py ADDR TCP_PORT UDP_PORT MARKER STOP OUT
      every 0.2 s until the file STOP exists: try a TCP connection to ADDR:TCP_PORT (0.3 s to
      open) and send one UDP datagram to ADDR:UDP_PORT carrying MARKER (an "SGFW-..." word that
      sniff.py on the victim counts); then write {"attempts": N, "opened": M, "open_times":
      [...]} to OUT. The victim's sniffer, not this side, says whether anything got through;
      "opened" says whether a handshake completed.
"""
import json
import os
import socket
import sys
import time


def main():
    addr, tcp_port, udp_port, marker, stop, out = sys.argv[1:7]
    attempts = opened = 0
    open_times = []
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while not os.path.exists(stop):
        attempts += 1
        try:
            sock = socket.create_connection((addr, int(tcp_port)), timeout=0.3)
            sock.close()
            opened += 1
            open_times.append(time.time())
        except OSError:
            pass
        try:
            udp.sendto(marker.encode() + b" %d" % attempts, (addr, int(udp_port)))
        except OSError:
            pass
        time.sleep(0.2)
    with open(out + ".tmp", "w") as f:
        json.dump({"attempts": attempts, "opened": opened, "open_times": open_times}, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()

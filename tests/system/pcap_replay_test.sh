#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pcap replay through the real pipeline (no namespaces, no root): sgfw with two pcap ports,
# cli (10.2.0.11) and srv (10.1.0.11) in two subnets, each reading the packets its VM sends
# from a pcap file and writing what sgfw sends it to another. pcap_replay.py builds the
# scenario (TCP handshake, data, retransmission, out-of-window, FIN and RST teardown, denied
# and unsolicited packets, UDP, ICMP errors about a tracked and an untracked flow, fragmented
# UDP and ICMP both ways, out-of-order fragments, IPv6 with extension headers and fragments)
# and the exact packets each port must send, in order, and the counters it must end with.
#
# Deterministic order: with one worker and dataplane.burst = 1, sgfw takes one packet from
# cli then one from srv in every loop (ports are polled in config order and net_pcap always
# has the next packet ready), so the scenario is laid out in rounds, with a filler (an ARP
# request for the port's own address, absorbed) where a port has nothing to send.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/pcap_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

sg_pcap_begin

python3 "$here/pcap_replay.py" build "$tmp" || { sg_fail "the scenario builds"; sg_finish; exit 1; }
cat >"$tmp/sgfw.conf" <<CONF
security_groups = (
  { id = "sg-srv"; rules = (
      { direction = "ingress"; protocol = "tcp"; port_range = "80/80"; source_cidr = "10.2.0.0/24"; },
      { direction = "ingress"; protocol = "udp"; port_range = "53/53"; source_cidr = "10.2.0.0/24"; },
      { direction = "ingress"; protocol = "icmp"; source_cidr = "10.2.0.0/24"; },
      { direction = "ingress"; protocol = "tcp"; port_range = "80/80"; source_cidr = "fd00:2::/64"; },
      { direction = "ingress"; protocol = "udp"; port_range = "53/53"; source_cidr = "fd00:2::/64"; }
  ); },
  { id = "sg-cli"; rules = (); }
);
subnets = (
  { cidr = "10.1.0.0/24"; gateway = "10.1.0.1"; }, { cidr = "10.2.0.0/24"; gateway = "10.2.0.1"; },
  { cidr = "fd00:1::/64"; gateway = "fd00:1::1"; }, { cidr = "fd00:2::/64"; gateway = "fd00:2::1"; }
);
ports = (
  { name = "cli"; type = "pcap"; rx_pcap = "$tmp/cli.in.pcap"; tx_pcap = "$tmp/cli.out.pcap";
    mac = "52:54:00:02:00:0b"; ips = ["10.2.0.11", "fd00:2::11"]; security_groups = ["sg-cli"]; },
  { name = "srv"; type = "pcap"; rx_pcap = "$tmp/srv.in.pcap"; tx_pcap = "$tmp/srv.out.pcap";
    mac = "52:54:00:01:00:0b"; ips = ["10.1.0.11", "fd00:1::11"]; security_groups = ["sg-srv"]; }
);
dataplane = { workers = 1; burst = 1; mbufs = 4095; };
conntrack = { capacity = 4096; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
# Every port's whole file.
want=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["ports"]; print(e["cli"]["rx_packets"] + e["srv"]["rx_packets"])' "$tmp/expect.json")
if sg_pcap_run "$want"; then
	out=$(python3 "$here/pcap_replay.py" check "$tmp" "$tmp/stats.json" 2>&1)
	status=$?
	echo "$out"
	sg_expect_eq "every output packet and counter is as expected" 0 "$status"
fi
sg_finish

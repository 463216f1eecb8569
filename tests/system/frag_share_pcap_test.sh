#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One VM flooding fragments takes only its share of the worker's fragment table and hold queue
# (docs/security.md): sgfw with three pcap ports, atk and cli (10.2.0.0/24) sending to srv
# (10.1.0.0/24). atk starts datagrams it never finishes and sends later fragments of datagrams
# that never begin, IPv4 and IPv6; cli's fragmented datagrams, in order and out of order, sent
# in the middle of the flood, all reach srv whole (frag_share.py builds and checks the files).
# pcap ports see IPv4 fragments as sent; on af_packet the kernel reassembles them first.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/pcap_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

sg_pcap_begin

N=300
want=$(cd "$here" && python3 frag_share.py build "$tmp" "$N") ||
	{ sg_fail "the scenario builds"; sg_finish; exit 1; }
cat >"$tmp/sgfw.conf" <<CONF
security_groups = (
  { id = "sg-srv"; rules = (
      { direction = "ingress"; protocol = "udp"; port_range = "53/53"; source_cidr = "10.2.0.0/24"; },
      { direction = "ingress"; protocol = "udp"; port_range = "53/53"; source_cidr = "fd00:2::/64"; }
  ); },
  { id = "sg-cli"; rules = (); }
);
subnets = (
  { cidr = "10.1.0.0/24"; gateway = "10.1.0.1"; }, { cidr = "10.2.0.0/24"; gateway = "10.2.0.1"; },
  { cidr = "fd00:1::/64"; gateway = "fd00:1::1"; }, { cidr = "fd00:2::/64"; gateway = "fd00:2::1"; }
);
ports = (
  { name = "atk"; type = "pcap"; rx_pcap = "$tmp/atk.in.pcap";
    mac = "52:54:00:02:00:0c"; ips = ["10.2.0.12", "fd00:2::12"]; security_groups = ["sg-cli"]; },
  { name = "cli"; type = "pcap"; rx_pcap = "$tmp/cli.in.pcap";
    mac = "52:54:00:02:00:0b"; ips = ["10.2.0.11", "fd00:2::11"]; security_groups = ["sg-cli"]; },
  { name = "srv"; type = "pcap"; rx_pcap = "$tmp/srv.in.pcap"; tx_pcap = "$tmp/srv.out.pcap";
    mac = "52:54:00:01:00:0b"; ips = ["10.1.0.11", "fd00:1::11"]; security_groups = ["sg-srv"]; }
);
dataplane = { workers = 1; burst = 1; mbufs = 4095; };
conntrack = { capacity = 4096; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
# Held fragments give up after 100 ms: a second more before the counters are final.
if sg_pcap_run "$want" 1; then
	out=$(cd "$here" && python3 frag_share.py check "$tmp" "$tmp/stats.json" "$N" 2>&1)
	status=$?
	echo "$out"
	sg_expect_eq "srv received cli's datagrams whole and atk was held to its share" 0 "$status"
fi
sg_finish

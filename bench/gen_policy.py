#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate an sgfw config with many ports and rules for benchmarks: PORTS vhost-user ports
(sockets beside SOCKET; no VM needs to connect), each in its own basic group of RULES rules shaped like real ones (CIDRs of mixed
lengths, single ports and ranges, tcp/udp/icmp), plus a shared group with group peers.

usage: gen_policy.py PORTS RULES SOCKET [SHIFT]   (SHIFT moves every port number: a reload
that changes every rule)"""
import sys

ports, rules, socket = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
shift = int(sys.argv[4]) if len(sys.argv) > 4 else 0

print("limits = { rules_per_group = %d; rules_per_port = %d; };" % (max(rules, 1000), max(rules + 10, 1010)))
print("security_groups = (")
groups = []
for p in range(ports):
    body = []
    for r in range(rules):
        proto = ("tcp", "udp", "icmp")[r % 3]
        plen = (8, 16, 24, 32)[r % 4]
        a, b = (r * 7) % 250 + 1, (r * 13 + p) % 250
        net = {8: "%d.0.0.0" % a, 16: "%d.%d.0.0" % (a, b), 24: "%d.%d.%d.0" % (a, b, r % 250),
               32: "%d.%d.%d.%d" % (a, b, r % 250, p % 250 + 1)}[plen]
        if proto == "icmp":
            match = "icmp_type = %d;" % (8 if r % 2 else 0)
        else:
            lo = 1000 + (r * 17 + shift) % 60000
            match = 'port_range = "%d/%d";' % (lo, lo + (r % 5) * 10)
        policy = "drop" if r % 10 == 9 else "accept"
        body.append('{ direction = "ingress"; policy = "%s"; priority = %d; protocol = "%s"; %s '
                    'source_cidr = "%s/%d"; }' % (policy, r % 100 + 1, proto, match, net, plen))
    groups.append('  { id = "g%d"; inner_access_policy = "drop"; rules = (\n    %s ); }'
                  % (p, ",\n    ".join(body)))
groups.append('  { id = "shared"; rules = ( { direction = "ingress"; protocol = "tcp"; '
              'port_range = "22/22"; source_group = "shared"; } ); }')
print(",\n".join(groups))
print(");")
print("ports = (")
sockdir = socket.rsplit("/", 1)[0]
print(",\n".join('  { name = "p%d"; type = "vhost-user"; path = "%s/p%d.sock"; mac = "52:54:00:%02x:%02x:01"; '
                 'ips = ["10.%d.%d.1"]; security_groups = ["g%d", "shared"]; }'
                 % (p, sockdir, p, p // 256, p % 256, p // 250, p % 250, p) for p in range(ports)))
print(");")
print('control = { socket = "%s"; };' % socket)
print("conntrack = { capacity = 65536; };")
print("dataplane = { mbufs = 16383; };")

# SPDX-License-Identifier: BSD-3-Clause
"""Ethernet frames built byte by byte, right or deliberately wrong, for the hostile-VM test
(hostile_send.py) and the fuzzers' seed corpus (tests/fuzz/make_corpus.py). Standard library only.

Every builder computes lengths and checksums unless told a value, so a test can break exactly
one field: ipv4(..., ihl=4), ipv4(..., checksum=0x1234), tcp(..., flags=SYN | FIN).
"""
import socket
import struct

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8
TCP, UDP, ICMP, ICMPV6, GRE = 6, 17, 1, 58, 47
HOPOPTS, ROUTING, FRAGMENT, DSTOPTS, AH, NONXT = 0, 43, 44, 60, 51, 59
BROADCAST = "ff:ff:ff:ff:ff:ff"


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def addr(text):
    """An IPv4 or IPv6 address as bytes."""
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    return socket.inet_pton(family, text)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def eth(dst, src, ethertype, payload, vlans=()):
    """vlans: (tpid, tci) pairs, outermost first."""
    tags = b"".join(struct.pack("!HH", tpid, tci) for tpid, tci in vlans)
    return mac(dst) + mac(src) + tags + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ttl=64, ident=1, frag=0, options=b"", tos=0, ihl=None,
         total_len=None, checksum_value=None, version=4):
    """frag: the flags and fragment offset field (0x2000 = more fragments, offset in 8 bytes)."""
    header_len = 20 + len(options)
    ihl = header_len // 4 if ihl is None else ihl
    total = header_len + len(payload) if total_len is None else total_len
    header = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, tos, total, ident, frag, ttl, proto,
                         0, addr(src), addr(dst)) + options
    value = checksum(header) if checksum_value is None else checksum_value
    return header[:10] + struct.pack("!H", value) + header[12:] + payload


def ipv6(src, dst, nh, payload, hlim=64, payload_len=None, version=6):
    plen = len(payload) if payload_len is None else payload_len
    return (struct.pack("!IHBB", version << 28, plen, nh, hlim) + addr(src) + addr(dst) +
            payload)


def ext(nh, body=b"\0" * 6):
    """Hop-by-hop, destination options or routing header: next header, length, body (padded)."""
    body += b"\0" * (-(len(body) + 2) % 8)
    return struct.pack("!BB", nh, (len(body) + 2) // 8 - 1) + body


def routing(nh, rtype, segments_left=0):
    return struct.pack("!BBBB4x", nh, 0, rtype, segments_left)


def frag6(nh, offset, more, ident):
    """Fragment header: offset in bytes (a multiple of 8)."""
    return struct.pack("!BBHI", nh, 0, offset | (1 if more else 0), ident)


def ah(nh, icv=b"\0" * 12):
    body = struct.pack("!II", 0x100, 1) + icv
    return struct.pack("!BBH", nh, (len(body) + 4) // 4 - 2, 0) + body


def _pseudo(src, dst, proto, length):
    s, d = addr(src), addr(dst)
    if len(s) == 4:
        return s + d + struct.pack("!BBH", 0, proto, length)
    return s + d + struct.pack("!IxxxB", length, proto)


def tcp(src, dst, sport, dport, flags, seq=1000, ack=0, window=65535, payload=b"",
        options=b"", data_off=None):
    """src/dst: the IP addresses, for the checksum."""
    options += b"\0" * (-len(options) % 4)
    offset = (20 + len(options)) // 4 if data_off is None else data_off
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, window, 0,
                         0) + options
    segment = header + payload
    value = checksum(_pseudo(src, dst, TCP, len(segment)) + segment)
    return segment[:16] + struct.pack("!H", value) + segment[18:]


def udp(src, dst, sport, dport, payload=b"", length=None):
    total = 8 + len(payload) if length is None else length
    segment = struct.pack("!HHHH", sport, dport, total, 0) + payload
    value = checksum(_pseudo(src, dst, UDP, len(segment)) + segment) or 0xFFFF
    return segment[:6] + struct.pack("!H", value) + segment[8:]


def icmp(icmp_type, code, body=b"\0" * 4):
    """ICMP for IPv4; body starts with the 4 bytes after the checksum (id and sequence)."""
    message = struct.pack("!BBH", icmp_type, code, 0) + body
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]


def icmp6(src, dst, icmp_type, code, body=b"\0" * 4):
    message = struct.pack("!BBH", icmp_type, code, 0) + body
    value = checksum(_pseudo(src, dst, ICMPV6, len(message)) + message)
    return message[:2] + struct.pack("!H", value) + message[4:]


def echo(ident, seq, data=b"ping"):
    return struct.pack("!HH", ident, seq) + data


def ns(target, src_lladdr=None):
    """Neighbour solicitation body (after the ICMPv6 checksum)."""
    body = b"\0" * 4 + addr(target)
    if src_lladdr is not None:
        body += struct.pack("!BB", 1, 1) + mac(src_lladdr)
    return body


def na(target, lladdr=None, flags=0x20):
    body = struct.pack("!B3x", flags) + addr(target)
    if lladdr is not None:
        body += struct.pack("!BB", 2, 1) + mac(lladdr)
    return body


def solicited_node(target):
    last = addr(target)[13:]
    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff0200000000000000000001ff") +
                            last)


def multicast_mac(ip6):
    return "33:33:" + ":".join("%02x" % b for b in addr(ip6)[12:])


def arp(op, sha, spa, tha, tpa):
    return (struct.pack("!HHBBH", 1, ETH_IPV4, 6, 4, op) + mac(sha) + addr(spa) + mac(tha) +
            addr(tpa))


def send_cases(iface, cases, copies):
    """Send (reason, frame) cases out of 'iface', 'copies' rounds of them, one at a time (nothing
    lost to a full socket queue); returns how many were sent for each reason."""
    import time

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    sent = {}
    for _ in range(copies):
        for reason, frame in cases:
            sock.send(frame)
            sent[reason] = sent.get(reason, 0) + 1
            time.sleep(0.001)
    return sent

/* SPDX-License-Identifier: BSD-3-Clause */
/* Why a packet was dropped: one X-macro list shared by the parser, port security, the
 * classifier, conntrack and forwarding, so counters, telemetry and sgfwctl use one vocabulary. */
#ifndef SG_REASONS_H
#define SG_REASONS_H

/* X(NAME, "description for people") */
#define SG_DROP_REASONS                                                                            \
	X(NONE, "not dropped")                                                                     \
	X(L2_TRUNCATED, "frame shorter than its Ethernet and VLAN headers")                        \
	X(VLAN_NESTED, "more than two VLAN tags")                                                  \
	X(VLAN_TAGGED, "802.1Q or 802.1ad tagged frame (ports carry untagged frames only)")        \
	X(ETHERTYPE, "ethertype other than IPv4, IPv6 or ARP")                                     \
	X(ARP_MALFORMED, "ARP that is not Ethernet/IPv4 or is truncated")                          \
	X(IP_TRUNCATED, "IP header truncated")                                                     \
	X(IP_VERSION, "IP version does not match the ethertype")                                   \
	X(IP_HEADER_LEN, "IPv4 header length below 20 bytes")                                      \
	X(IP_TOTAL_LEN, "IP length beyond the frame or below the header")                          \
	X(IP_CHECKSUM, "IPv4 header checksum wrong")                                               \
	X(IP_OPTIONS, "IPv4 options (not accepted from VMs)")                                      \
	X(IP_ADDRESS, "source or destination address is invalid (multicast source, loopback)")    \
	X(IPV6_EXT_HEADERS, "IPv6 extension header chain truncated, too long or invalid")          \
	X(L4_TRUNCATED, "TCP, UDP or ICMP header truncated")                                       \
	X(TCP_HEADER_LEN, "TCP data offset below 20 bytes or beyond the packet")                   \
	X(TCP_FLAGS, "invalid TCP flag combination")                                               \
	X(ND_MALFORMED, "neighbour solicitation or advertisement a receiver must discard")         \
	X(FRAG_TINY, "fragment too small to hold the transport header")                            \
	X(FRAG_OVERLAP, "overlapping or inconsistent fragments")                                   \
	X(FRAG_UNMATCHED, "fragment of a datagram that was never classified")                      \
	X(FRAG_TABLE_FULL, "fragment table or its hold queue full")                                \
	X(FRAG_PORT_LIMIT, "the port holds its share of the fragment table or hold queue")         \
	X(SPOOF_MAC, "source MAC is not the port's")                                               \
	X(SPOOF_IP, "source IP is not the port's")                                                 \
	X(SPOOF_ARP, "ARP for an address the port does not own")                                   \
	X(SPOOF_ND, "neighbour advertisement for an address the port does not own")               \
	X(SPOOF_UPLINK, "source from the uplink is a local VM's address or in a local subnet")     \
	X(SRC_UNSPECIFIED, "unspecified source outside DHCP discovery and duplicate address detection") \
	X(NEIGH_UNKNOWN, "ARP or neighbour solicitation for no address of the asker's subnet")     \
	X(DHCP_SERVER, "DHCP or DHCPv6 server traffic from a VM")                                  \
	X(ROUTER_ADVERT, "router advertisement or redirect from a VM")                             \
	X(NO_ROUTE, "destination unknown and no uplink")                                           \
	X(DST_MISMATCH, "destination address not the port's, or outside the sender's subnet")      \
	X(LINK_LOCAL, "link-local address (fe80::/10, 169.254.0.0/16) routed off its link")        \
	X(MULTICAST, "broadcast or multicast IP not forwarded")                                    \
	X(TTL_EXPIRED, "TTL or hop limit exhausted when routing")                                  \
	X(ACL_EGRESS, "denied by the sender's egress rules")                                       \
	X(ACL_INGRESS, "denied by the receiver's ingress rules")                                   \
	X(CT_INVALID, "invalid for its tracked connection")                                        \
	X(CT_TCP_STATE, "TCP flags not valid in the connection's state (e.g. SYN-ACK from client)") \
	X(CT_TCP_WINDOW, "TCP segment outside the tracked sequence or acknowledgement window")    \
	X(CT_TCP_RST, "TCP reset below the acknowledged sequence number")                         \
	X(CT_NOT_NEW, "cannot start a connection (unsolicited reply, stray ICMP error)")           \
	X(CT_WRONG_PATH, "packet of a tracked connection sent to a port the connection does not use") \
	X(CT_TABLE_FULL, "connection table full")                                                  \
	X(CT_PORT_SHARE, "connection table nearly full and the port holds more than its share")    \
	X(CT_PORT_LIMIT, "the port already holds its maximum of connections")                      \
	X(CT_PORT_RATE, "the port opens new connections faster than its limit")                    \
	X(CT_BLOCKED, "connection no longer allowed by the policy")                                \
	X(PORT_DOWN, "destination port not connected")                                             \
	X(TX_FULL, "transmit queue full")                                                          \
	X(VXLAN_MALFORMED, "VXLAN truncated, without the I flag, or carrying no unicast IP frame")  \
	X(VXLAN_FRAGMENT, "IPv4 fragment to this host's VTEP (the underlay is not reassembled)")   \
	X(VXLAN_UNKNOWN_VTEP, "VXLAN from an address that is no other host's VTEP")               \
	X(VXLAN_UNKNOWN_VNI, "VXLAN network identifier of no subnet")                              \
	X(VXLAN_SPOOFED_SOURCE, "inner source not an address or MAC of a port of the sending host") \
	X(VXLAN_NOT_LOCAL, "inner destination not a local port of the VNI's subnet")               \
	X(OVERLAY_FRAGMENT, "IP fragment for a port on another host (not carried over VXLAN)")     \
	X(OVERLAY_TOO_BIG, "packet for a port on another host larger than overlay.mtu - 50")       \
	X(OVERLAY_HEADROOM, "no mbuf headroom for the VXLAN headers")                             \
	X(UNDERLAY_TARGET, "VM packet to a host's VTEP address (tenants do not reach the underlay)")

enum sg_drop_reason {
#define X(name, text) SG_DROP_##name,
	SG_DROP_REASONS
#undef X
	SG_DROP_COUNT
};

/** Short name ("acl_ingress") of a reason. */
const char *sg_drop_reason_name(enum sg_drop_reason reason);
/** One-line description of a reason. */
const char *sg_drop_reason_text(enum sg_drop_reason reason);

#endif /* SG_REASONS_H */

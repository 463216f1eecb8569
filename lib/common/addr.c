/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4/IPv6 addresses, CIDR prefixes and MAC addresses: parsing, formatting and matching. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sg_common.h"

int
sg_ip_parse(const char *text, struct sg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (text == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, text, ip->bytes) == 1) {
		ip->family = SG_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, ip->bytes) == 1) {
		ip->family = SG_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *
sg_ip_format(const struct sg_ip *ip, char *buf, size_t size)
{
	int af = ip->family == SG_AF_INET ? AF_INET : AF_INET6;

	if (inet_ntop(af, ip->bytes, buf, size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

bool
sg_ip_equal(const struct sg_ip *a, const struct sg_ip *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

int
sg_ip_cmp(const struct sg_ip *a, const struct sg_ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, 16);
}

struct sg_prefix
sg_prefix_host(const struct sg_ip *ip)
{
	struct sg_prefix p = {.ip = *ip, .len = ip->family == SG_AF_INET ? 32 : 128};

	return p;
}

static unsigned int
family_bits(uint8_t family)
{
	return family == SG_AF_INET ? 32 : 128;
}

/* Mask of the bits of byte 'i' that belong to a 'len'-bit network part. */
static uint8_t
prefix_byte_mask(unsigned int len, unsigned int i)
{
	if (len >= (i + 1) * 8)
		return 0xff;
	if (len <= i * 8)
		return 0;
	return (uint8_t)(0xff << (8 - (len - i * 8)));
}

void
sg_prefix_normalize(struct sg_prefix *prefix)
{
	for (unsigned int i = 0; i < 16; i++)
		prefix->ip.bytes[i] &= prefix_byte_mask(prefix->len, i);
}

int
sg_prefix_parse(const char *text, struct sg_prefix *prefix)
{
	char addr[SG_IP_STRLEN];
	const char *slash;
	unsigned long len;
	char *end;
	size_t n;

	memset(prefix, 0, sizeof(*prefix));
	if (text == NULL)
		return -EINVAL;
	slash = strchr(text, '/');
	n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (sg_ip_parse(addr, &prefix->ip) < 0)
		return -EINVAL;
	if (slash == NULL) {
		prefix->len = family_bits(prefix->ip.family);
		return 0;
	}
	if (!isdigit((unsigned char)slash[1]))
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || len > family_bits(prefix->ip.family))
		return -EINVAL;
	prefix->len = (uint8_t)len;
	for (unsigned int i = 0; i < 16; i++)
		if (prefix->ip.bytes[i] & ~prefix_byte_mask(prefix->len, i))
			return -EDOM;
	return 0;
}

const char *
sg_prefix_format(const struct sg_prefix *prefix, char *buf, size_t size)
{
	char ip[SG_IP_STRLEN];

	snprintf(buf, size, "%s/%u", sg_ip_format(&prefix->ip, ip, sizeof(ip)), prefix->len);
	return buf;
}

bool
sg_prefix_contains(const struct sg_prefix *prefix, const struct sg_ip *ip)
{
	if (prefix->ip.family != ip->family)
		return false;
	for (unsigned int i = 0; i < 16; i++) {
		uint8_t mask = prefix_byte_mask(prefix->len, i);

		if (mask == 0)
			break;
		if ((ip->bytes[i] & mask) != prefix->ip.bytes[i])
			return false;
	}
	return true;
}

bool
sg_prefix_covers(const struct sg_prefix *outer, const struct sg_prefix *inner)
{
	return outer->len <= inner->len && sg_prefix_contains(outer, &inner->ip);
}

bool
sg_prefix_equal(const struct sg_prefix *a, const struct sg_prefix *b)
{
	return a->len == b->len && sg_ip_equal(&a->ip, &b->ip);
}

const char *
sg_ip_not_unicast(const struct sg_ip *ip)
{
	static const uint8_t zero[16], loop6[16] = {[15] = 1};
	const uint8_t *b = ip->bytes;

	if (ip->family == SG_AF_INET) {
		if (memcmp(b, zero, 4) == 0)
			return "the unspecified address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "the broadcast address";
		if ((b[0] & 0xf0) == 224)
			return "a multicast address";
		if (b[0] == 127)
			return "a loopback address";
		return NULL;
	}
	if (memcmp(b, zero, 16) == 0)
		return "the unspecified address";
	if (b[0] == 0xff)
		return "a multicast address";
	if (memcmp(b, loop6, 16) == 0)
		return "the loopback address";
	return NULL;
}

const char *
sg_prefix_not_unicast(const struct sg_prefix *prefix)
{
	static const struct {
		const char *range, *why;
	} special[] = {
		{"0.0.0.0/32", "holds the unspecified address, which no VM can own"},
		{"224.0.0.0/4", "overlaps the multicast addresses 224.0.0.0/4, which no VM can own"},
		{"127.0.0.0/8", "overlaps the loopback addresses 127.0.0.0/8, which no VM can own"},
		{"169.254.0.0/16", "overlaps the link-local addresses 169.254.0.0/16, which are "
				   "never routed"},
		{"255.255.255.255/32", "holds the broadcast address, which no VM can own"},
		{"::/128", "holds the unspecified address, which no VM can own"},
		{"::1/128", "holds the loopback address, which no VM can own"},
		{"ff00::/8", "overlaps the multicast addresses ff00::/8, which no VM can own"},
		{"fe80::/10", "overlaps the link-local addresses fe80::/10, which are never routed "
			      "(each port has its own)"},
	};

	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		struct sg_prefix r;

		if (sg_prefix_parse(special[i].range, &r) == 0 &&
				(sg_prefix_covers(prefix, &r) || sg_prefix_covers(&r, prefix)))
			return special[i].why;
	}
	return NULL;
}

struct sg_ip
sg_prefix_last(const struct sg_prefix *prefix)
{
	struct sg_ip ip = prefix->ip;

	for (unsigned int i = 0; i < family_bits(ip.family) / 8; i++)
		ip.bytes[i] |= (uint8_t)~prefix_byte_mask(prefix->len, i);
	return ip;
}

int
sg_prefix_edge(const struct sg_prefix *prefix, const struct sg_ip *ip)
{
	unsigned int bits = family_bits(prefix->ip.family);
	bool all_zero = true, all_one = true;

	/* RFC 3021 /31s and host routes have no network or broadcast address; IPv6 has no
	 * broadcast, and its network address is the subnet-router anycast address. */
	if (!sg_prefix_contains(prefix, ip) || (unsigned int)prefix->len + 1 >= bits)
		return 0;
	for (unsigned int i = prefix->len; i < bits; i++) {
		bool bit = (ip->bytes[i / 8] >> (7 - i % 8)) & 1;

		all_zero &= !bit;
		all_one &= bit;
	}
	if (all_zero)
		return -1;
	return all_one && ip->family == SG_AF_INET ? 1 : 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
sg_mac_parse(const char *text, uint8_t mac[6])
{
	if (text == NULL || strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(text[i * 3]), lo = hex_value(text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *
sg_mac_format(const uint8_t mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
			mac[5]);
	return buf;
}

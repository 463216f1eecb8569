/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared helpers for every sgfw library: macros, the error record, address and MAC types. */
#ifndef SG_COMMON_H
#define SG_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#define SG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SG_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define SG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SG_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define SG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SG_PRINTF(fmt, args)
#endif

/* Longest id, name or tag (including the terminating NUL). */
#define SG_NAME_MAX 64

/*
 * A place in the config: a line and the file it is in (0: the main file, n: the nth file it
 * @includes). Objects and errors carry one as an int; 0 means unknown.
 */
#define SG_LOC(file, line) ((int)(((unsigned int)(file) << 24) | ((unsigned int)(line) & 0xffffffu)))
#define SG_LOC_LINE(loc) ((int)((unsigned int)(loc) & 0xffffffu))
#define SG_LOC_FILE(loc) ((unsigned int)(loc) >> 24)

/**
 * An error for a person: one sentence naming the thing at fault, plus the config location
 * (SG_LOC) it came from when known (0 when not).
 */
struct sg_error {
	int line;       /**< SG_LOC of the fault, 0 if unknown. */
	char msg[512];  /**< Message without file or line prefix. */
};

/** Fill 'err' (if not NULL) and return -EINVAL, so callers can 'return sg_error_set(...)'.
 * The message is one line: control and bidirectional characters it would print (an id or a
 * value from the config) are escaped as sg_text_escape() does. */
int sg_error_set(struct sg_error *err, int line, const char *fmt, ...) SG_PRINTF(3, 4);

/* ---- IP protocols: the numbers are netinet/in.h's IPPROTO_* ---- */

/** TCP and UDP: the protocols whose rules and packets have ports. */
static inline bool
sg_proto_has_ports(int proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/** ICMP and ICMPv6: type and code where the others have ports. */
static inline bool
sg_proto_is_icmp(int proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* ---- Addresses ---- */

#define SG_AF_INET 4
#define SG_AF_INET6 6

/** An IPv4 or IPv6 address; IPv4 lives in the first four bytes, the rest are zero. */
struct sg_ip {
	uint8_t family; /**< SG_AF_INET or SG_AF_INET6. */
	uint8_t bytes[16];
};

/** A CIDR prefix; host bits are always zero. */
struct sg_prefix {
	struct sg_ip ip;
	uint8_t len; /**< 0..32 or 0..128. */
};

#define SG_IP_STRLEN 46
#define SG_PREFIX_STRLEN 50

/** Parse a dotted IPv4 or textual IPv6 address. Returns 0 or -EINVAL. */
int sg_ip_parse(const char *text, struct sg_ip *ip);
/** Format an address; 'buf' holds at least SG_IP_STRLEN bytes. Returns buf. */
const char *sg_ip_format(const struct sg_ip *ip, char *buf, size_t size);
bool sg_ip_equal(const struct sg_ip *a, const struct sg_ip *b);
int sg_ip_cmp(const struct sg_ip *a, const struct sg_ip *b);
/** The /32 or /128 prefix holding exactly 'ip'. */
struct sg_prefix sg_prefix_host(const struct sg_ip *ip);

/**
 * Parse "ADDR/LEN" or a bare address (a host prefix).
 * Returns 0, -EINVAL when it is not a CIDR at all, or -EDOM when host bits
 * are set (the caller names the network address in its message).
 */
int sg_prefix_parse(const char *text, struct sg_prefix *prefix);
/** Clear host bits of 'prefix' in place. */
void sg_prefix_normalize(struct sg_prefix *prefix);
const char *sg_prefix_format(const struct sg_prefix *prefix, char *buf, size_t size);
bool sg_prefix_contains(const struct sg_prefix *prefix, const struct sg_ip *ip);
/** True when every address of 'inner' is inside 'outer'. */
bool sg_prefix_covers(const struct sg_prefix *outer, const struct sg_prefix *inner);
bool sg_prefix_equal(const struct sg_prefix *a, const struct sg_prefix *b);
/**
 * Why 'ip' cannot be a host's own address ("the unspecified address", "the broadcast
 * address", "a multicast address", "a loopback address"), or NULL when it can.
 */
const char *sg_ip_not_unicast(const struct sg_ip *ip);
/**
 * Why 'prefix' cannot be a network a host is given ("holds the unspecified address, ...",
 * "overlaps the multicast addresses 224.0.0.0/4, ..."): it holds the unspecified, broadcast
 * or loopback address or overlaps the multicast or link-local ranges. NULL when it can.
 */
const char *sg_prefix_not_unicast(const struct sg_prefix *prefix);
/** The last address of 'prefix' (every host bit set). */
struct sg_ip sg_prefix_last(const struct sg_prefix *prefix);
/** -1 when 'ip' is the network address of 'prefix' (IPv6: the subnet-router anycast address),
 * 1 when it is its IPv4 broadcast address, else 0 (also for /31, /32, /127, /128). */
int sg_prefix_edge(const struct sg_prefix *prefix, const struct sg_ip *ip);

#define SG_MAC_STRLEN 18

/** Parse "aa:bb:cc:dd:ee:ff". Returns 0 or -EINVAL. */
int sg_mac_parse(const char *text, uint8_t mac[6]);
const char *sg_mac_format(const uint8_t mac[6], char *buf, size_t size);

/* ---- Text (text.c) ---- */

/** Decode the UTF-8 sequence at 'text' into '*cp': its length 1..4, or 0 when it is not valid
 * UTF-8 (overlong, a surrogate, past U+10FFFF, cut short). */
int sg_utf8_next(const char *text, uint32_t *cp);
bool sg_utf8_valid(const char *text);
/** C0 and C1 control characters and DEL. */
bool sg_char_is_control(uint32_t cp);
/** Unicode bidirectional controls (marks, embeddings, overrides, isolates) and the line and
 * paragraph separators: characters that change how the text around them is shown. */
bool sg_char_is_bidi(uint32_t cp);
/**
 * Whether 'name' can be an identifier (group id, port name, tag, prefix-list id): valid UTF-8
 * without control characters or bidirectional controls. 0, or -EINVAL and 'why' saying what
 * is wrong and where ("holds the control character U+001B at byte 3").
 */
int sg_name_check(const char *name, char *why, size_t size);
/**
 * 'text' for one line of a terminal or a log: newline, tab and carriage return as \n \t \r,
 * other control characters and bytes that are not UTF-8 as \xHH, C1 controls and bidirectional
 * controls as \u{XXXX}, and '\' as "\\" when 'backslash' (so the escapes are unambiguous).
 * Cut at 'size' - 1 bytes. Returns buf. Four bytes per input byte always fit.
 */
const char *sg_text_escape(const char *text, char *buf, size_t size, bool backslash);

/** Base64 (RFC 4648, padded) of binary data, NUL-terminated; the caller frees it. NULL when
 * out of memory. Capture's stream and etcd's keys and values travel in it. */
char *sg_base64_encode(const void *data, size_t len);
/** Decode 'len' bytes of padded base64 into 'out' (at least len / 4 * 3 bytes): the byte count,
 * or -EINVAL when it is not base64. */
long sg_base64_decode(const char *text, size_t len, unsigned char *out);

/** Copy a NUL-terminated string into a fixed buffer of 'size' bytes and zero the rest of it;
 * returns -ENAMETOOLONG if it does not fit. */
int sg_strlcpy(char *dst, const char *src, size_t size);

/** Remove directory 'dir' and the files in it (not subdirectories); quietly, as far as it can.
 * For directories the caller owns alone, such as a DPDK runtime directory of its own prefix. */
void sg_remove_dir(const char *dir);
/** The whole of file 'path' as a NUL-terminated string to free(); NULL and errno if unread. */
char *sg_read_file(const char *path);
/** Make a rename to 'path' durable: fsync the directory that holds it (as far as it can). */
void sg_fsync_dir_of(const char *path);
/**
 * Make 'path' free for a UNIX socket to be bound there: 0 when nothing is there or a socket
 * nothing answers on was removed (left by a process that was killed); -EEXIST when it is not
 * a socket (a file, a link, a directory: never removed); -EADDRINUSE when a process serves it;
 * other -errno when it cannot be looked at.
 */
int sg_socket_path_clear(const char *path);

/* ---- A set of byte keys (control path) ---- */

struct sg_keyset_entry {
	uint64_t hash;
	const void *key;            /**< Not copied: it must outlive the set. */
	uint32_t len;
	uint8_t kind;               /**< Keys of different kinds never match. */
	uint32_t value;
};

/** Zero-initialised before use; sg_keyset_free() when done. */
struct sg_keyset {
	struct sg_keyset_entry *slots;
	uint32_t mask;
	uint32_t n;
};

/**
 * Add 'key' ('len' bytes, of 'kind') with 'value': 0 when added, 1 when it was there already
 * ('*existing' gets the value it was added with; the set is unchanged), -ENOMEM. Amortised
 * constant time.
 */
int sg_keyset_add(struct sg_keyset *set, uint8_t kind, const void *key, uint32_t len,
		uint32_t value, uint32_t *existing);
/** 1 and '*value' when 'key' of 'kind' is in the set, else 0. */
int sg_keyset_find(const struct sg_keyset *set, uint8_t kind, const void *key, uint32_t len,
		uint32_t *value);
void sg_keyset_free(struct sg_keyset *set);

#endif /* SG_COMMON_H */

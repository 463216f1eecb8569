/* Shared helpers for every sgfw library: macros, the error record, address and MAC types. */
#ifndef SG_COMMON_H
#define SG_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/** Fill 'err' (if not NULL) and return -EINVAL, so callers can 'return sg_error_set(...)'. */
int sg_error_set(struct sg_error *err, int line, const char *fmt, ...) SG_PRINTF(3, 4);

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

#define SG_MAC_STRLEN 18

/** Parse "aa:bb:cc:dd:ee:ff". Returns 0 or -EINVAL. */
int sg_mac_parse(const char *text, uint8_t mac[6]);
const char *sg_mac_format(const uint8_t mac[6], char *buf, size_t size);

/** Copy a NUL-terminated string into a fixed buffer; returns -ENAMETOOLONG if it does not fit. */
int sg_strlcpy(char *dst, const char *src, size_t size);

/** Remove directory 'dir' and the files in it (not subdirectories); quietly, as far as it can.
 * For directories the caller owns alone, such as a DPDK runtime directory of its own prefix. */
void sg_remove_dir(const char *dir);

#endif /* SG_COMMON_H */

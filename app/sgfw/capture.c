/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfwctl capture: a port's packets as pcapng, streamed to the sgfwctl that asked.
 *
 * The request is answered like any other ("capturing ..."); the connection then stays open and
 * a writer thread sends the pcapng file in "capture.data" notifications (base64, each holding
 * whole blocks) until the count is reached, sgfwctl goes away (Ctrl-C), the port is removed or
 * sgfw stops; a last "capture.end" notification says how many packets it wrote. sgfwctl writes the
 * file, as the user who ran it. Workers copy packets in lib/port (sg_capture_burst). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "sg_build_config.h"
#include "sg_dp.h"
#include "sgfw_private.h"

#define CAPTURE_MAX	    16	 /* Sessions at once. */
#define CAPTURE_BUFFERS	    4096 /* Copies in flight per session. */
#define CAPTURE_SNAPLEN_MAX 65535u
#define WRITE_BATCH	    32

struct session {
	struct sg_capture *cap;
	char port[SG_NAME_MAX];
	enum sg_capture_side side;
	uint64_t count; /* 0: until stopped. */
	uint32_t snaplen;
	int fd; /* The sgfwctl connection (a dup of the served one). */
	pthread_t thread;
	bool started;
	_Atomic bool stop;	 /* Asked to end (port removed, sgfw stopping). */
	_Atomic bool done;	 /* The writer returned. */
	const char *_Atomic why; /* Why it stopped, when asked to. */
	uint64_t written;
	uint64_t tsc0; /* A TSC reading and the wall-clock time it was... */
	uint64_t ns0;  /* ...to date the packets. */
};

static struct session *sessions[CAPTURE_MAX];

/* ---- pcapng (draft-ietf-opsawg-pcapng): a section header, one interface, packet blocks ---- */

static uint32_t
pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static void
put32(char **p, uint32_t v)
{
	memcpy(*p, &v, 4);
	*p += 4;
}

static void
put16(char **p, uint16_t v)
{
	memcpy(*p, &v, 2);
	*p += 2;
}

/* An option: code, length, value padded to 4 bytes. */
static void
put_option(char **p, uint16_t code, const void *value, uint16_t len)
{
	put16(p, code);
	put16(p, len);
	memcpy(*p, value, len);
	memset(*p + len, 0, pad4(len) - len);
	*p += pad4(len);
}

/* Section header and interface description: the file's first bytes. */
static size_t
pcapng_header(const struct session *s, char *buf)
{
	static const uint8_t tsresol = 9; /* nanoseconds */
	char app[64], *p = buf, *start;

	snprintf(app, sizeof(app), "sgfw %s", SG_VERSION);
	start = p;
	put32(&p, 0x0A0D0D0A);
	put32(&p, 0); /* length, below */
	put32(&p, 0x1A2B3C4D);
	put16(&p, 1);
	put16(&p, 0);
	put32(&p, 0xffffffff); /* section length unknown (-1, 64 bits) */
	put32(&p, 0xffffffff);
	put_option(&p, 4, app, (uint16_t)strlen(app)); /* shb_userappl */
	put32(&p, 0);				       /* opt_endofopt */
	put32(&p, (uint32_t)(p - start + 4));
	memcpy(start + 4, p - 4, 4);
	start = p;
	put32(&p, 1);
	put32(&p, 0);
	put16(&p, 1); /* LINKTYPE_ETHERNET */
	put16(&p, 0);
	put32(&p, s->snaplen);
	put_option(&p, 2, s->port, (uint16_t)strlen(s->port)); /* if_name */
	put_option(&p, 9, &tsresol, 1);			       /* if_tsresol */
	put32(&p, 0);
	put32(&p, (uint32_t)(p - start + 4));
	memcpy(start + 4, p - 4, 4);
	return (size_t)(p - buf);
}

/* One enhanced packet block; 'buf' has room for snaplen + 64 bytes. */
static size_t
pcapng_packet(const struct session *s, const struct rte_mbuf *m, char *buf)
{
	const struct sg_capture_meta *meta = rte_mbuf_to_priv((struct rte_mbuf *)m);
	uint32_t len = rte_pktmbuf_pkt_len(m), flags = s->side == SG_CAPTURE_RX ? 1 : 2;
	uint64_t hz = rte_get_tsc_hz(), d = meta->tsc - s->tsc0;
	uint64_t ns = s->ns0 + d / hz * 1000000000u + d % hz * 1000000000u / hz;
	char *p = buf, *start = buf;
	const void *data;

	put32(&p, 6);
	put32(&p, 0);
	put32(&p, 0); /* interface 0 */
	put32(&p, (uint32_t)(ns >> 32));
	put32(&p, (uint32_t)ns);
	put32(&p, len);
	put32(&p, meta->length);
	data = rte_pktmbuf_read(m, 0, len, p);
	if (data != p)
		memcpy(p, data, len);
	memset(p + len, 0, pad4(len) - len);
	p += pad4(len);
	put_option(&p, 2, &flags, 4); /* epb_flags: inbound or outbound */
	put32(&p, 0);
	put32(&p, (uint32_t)(p - start + 4));
	memcpy(start + 4, p - 4, 4);
	return (size_t)(p - buf);
}

/* ---- The writer thread ---- */

static bool
client_gone(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	/* sgfwctl sends nothing after its request: anything readable is its hang-up. */
	return poll(&pfd, 1, timeout_ms) > 0;
}

/* A piece of the pcapng file, whole blocks, as a "capture.data" notification (docs/api.md). */
static bool
send_data(int fd, const char *buf, size_t len)
{
	char *text = sg_base64_encode(buf, len);
	json_t *params = json_object();

	if (text == NULL || params == NULL) {
		free(text);
		json_decref(params);
		return false;
	}
	json_object_set_new(params, "data", json_string(text));
	free(text);
	return sg_ctl_send(fd, sg_ctl_rpc_notification("capture.data", params)) == 0;
}

static void *
writer(void *arg)
{
	struct session *s = arg;
	size_t size = WRITE_BATCH * (s->snaplen + 64) + 512, len;
	char *buf = malloc(size);
	const char *why = "sgfwctl stopped it";
	struct rte_mbuf *pkts[WRITE_BATCH];
	struct sg_capture_stats st;
	char summary[256];
	bool sent_ok = true;

	if (buf == NULL) {
		why = "out of memory";
		goto out;
	}
	len = pcapng_header(s, buf);
	sent_ok = send_data(s->fd, buf, len);
	while (sent_ok) {
		unsigned int n, k;

		if (atomic_load(&s->stop)) {
			why = atomic_load(&s->why);
			break;
		}
		n = sg_capture_dequeue(s->cap, pkts, WRITE_BATCH);
		if (n == 0) {
			if (client_gone(s->fd, 20)) {
				sent_ok = false;
				break;
			}
			continue;
		}
		len = 0;
		for (k = 0; k < n && (s->count == 0 || s->written + k < s->count); k++)
			len += pcapng_packet(s, pkts[k], buf + len);
		rte_pktmbuf_free_bulk(pkts, n);
		s->written += k;
		sent_ok = send_data(s->fd, buf, len);
		if (s->count != 0 && s->written >= s->count) {
			why = "the count was reached";
			break;
		}
	}
out:
	sg_capture_finish(s->cap);
	sg_capture_stats(s->cap, &st);
	snprintf(summary, sizeof(summary),
			"%lu packets written from %s (%s); %lu matched, %lu lost to full buffers\n",
			(unsigned long)s->written, s->port, why, (unsigned long)st.matched,
			(unsigned long)st.lost);
	/* Done before the last answer: sgfwctl may ask for the next capture as soon as it has it,
	 * and the control thread then frees this one first (joining this thread). */
	atomic_store(&s->done, true);
	summary[strcspn(summary, "\n")] = '\0';
	if (sent_ok) {
		json_t *params = json_object();

		json_object_set_new(params, "message", json_string(summary));
		json_object_set_new(params, "packets", json_integer((json_int_t)s->written));
		sg_ctl_send(s->fd, sg_ctl_rpc_notification("capture.end", params));
	}
	SGFW_LOG(CAPTURE, INFO, "capture ended: %s", sent_ok ? summary : "sgfwctl went away");
	free(buf);
	return NULL;
}

/* ---- Sessions, on the control thread ---- */

static void
session_free(struct sg_dp *dp, struct session *s)
{
	if (s->started)
		pthread_join(s->thread, NULL);
	if (s->cap != NULL) {
		sg_dp_capture_detach(dp, s->cap);
		sg_capture_free(s->cap);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static int
parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(text, &end, 10);

	if (*text == '\0' || *text == '-' || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
sgfw_cmd_capture(struct sg_dp *dp, int client_fd, int argc, char **argv, FILE *out, FILE *errors)
{
	struct sg_capture_params params = {
			.snaplen = CAPTURE_SNAPLEN_MAX, .buffers = CAPTURE_BUFFERS};
	struct session *s = calloc(1, sizeof(*s));
	uint64_t value;
	struct timespec now;
	struct sg_error err = {0};
	int slot, rc;

	if (s == NULL) {
		fprintf(errors, "error: out of memory\n");
		return SG_CTL_EXIT_FAIL;
	}
	s->fd = -1;
	s->side = SG_CAPTURE_RX;
	if (argc < 2 || argv[1][0] == '-')
		goto usage;
	sg_strlcpy(s->port, argv[1], sizeof(s->port));
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--passed") == 0) {
			s->side = SG_CAPTURE_TX;
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], 1, UINT64_MAX, &s->count) < 0) {
				fprintf(errors,
						"error: --count \"%s\" must be a number of "
						"packets, 1 or "
						"more\n",
						argv[i]);
				goto fail;
			}
		} else if (strcmp(argv[i], "--snaplen") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], 64, CAPTURE_SNAPLEN_MAX, &value) < 0) {
				fprintf(errors, "error: --snaplen \"%s\" must be 64..%u bytes\n",
						argv[i], CAPTURE_SNAPLEN_MAX);
				goto fail;
			}
			params.snaplen = (uint32_t)value;
		} else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
			params.filter = argv[++i];
		} else {
			goto usage;
		}
	}
	s->snaplen = params.snaplen;
	sgfw_capture_poll(dp); /* a capture that just ended leaves its port free */
	if (sg_dp_port_id(dp, s->port) < 0) {
		fprintf(errors, "error: no port named \"%s\"\n", s->port);
		goto fail;
	}
	for (slot = 0; slot < CAPTURE_MAX && sessions[slot] != NULL; slot++)
		;
	if (slot == CAPTURE_MAX) {
		fprintf(errors, "error: %d captures are running; stop one first\n", CAPTURE_MAX);
		goto fail;
	}
	s->cap = sg_capture_create(&params, &err);
	if (s->cap == NULL) {
		fprintf(errors, "error: %s\n", err.msg);
		goto fail;
	}
	rc = sg_dp_capture_attach(dp, s->port, s->side, s->cap);
	if (rc < 0) {
		fprintf(errors,
				"error: port \"%s\" is already being captured (%s); one capture "
				"per "
				"port and side\n",
				s->port, s->side == SG_CAPTURE_RX ? "received" : "--passed");
		goto fail;
	}
	s->fd = dup(client_fd);
	if (s->fd < 0) {
		fprintf(errors, "error: %s\n", strerror(errno));
		goto fail;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	s->tsc0 = rte_get_tsc_cycles();
	s->ns0 = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	sessions[slot] = s;
	fprintf(out, "capturing %s %s%s%s%s, %s\n",
			s->side == SG_CAPTURE_RX ? "what port" : "what passed the firewall to port",
			s->port, s->side == SG_CAPTURE_RX ? " receives" : "",
			params.filter != NULL ? " matching " : "",
			params.filter != NULL ? params.filter : "",
			s->count != 0 ? "until the count is reached or Ctrl-C" : "until Ctrl-C");
	SGFW_LOG(CAPTURE, INFO, "capture of %s (%s) started", s->port,
			s->side == SG_CAPTURE_RX ? "received" : "passed");
	return SG_CTL_EXIT_OK;
usage:
	fprintf(errors, "usage error: capture PORT [--count N] [--filter EXPR] [--passed] "
			"[--snaplen N] -w FILE\n");
	session_free(dp, s);
	return SG_CTL_EXIT_USAGE;
fail:
	session_free(dp, s);
	return SG_CTL_EXIT_FAIL;
}

void
sgfw_capture_poll(struct sg_dp *dp)
{
	for (int i = 0; i < CAPTURE_MAX; i++) {
		struct session *s = sessions[i];

		if (s == NULL)
			continue;
		/* The answer to the request is out: the stream may follow it. */
		if (!s->started) {
			if (pthread_create(&s->thread, NULL, writer, s) != 0) {
				sessions[i] = NULL;
				session_free(dp, s);
				continue;
			}
			s->started = true;
		}
		if (!atomic_load(&s->stop) && !sg_dp_capture_attached(dp, s->cap)) {
			atomic_store(&s->why, "the port was removed");
			atomic_store(&s->stop, true);
		}
		if (atomic_load(&s->done)) {
			sessions[i] = NULL;
			session_free(dp, s);
		}
	}
}

void
sgfw_capture_stop_all(struct sg_dp *dp)
{
	for (int i = 0; i < CAPTURE_MAX; i++) {
		if (sessions[i] == NULL)
			continue;
		atomic_store(&sessions[i]->why, "sgfw is stopping");
		atomic_store(&sessions[i]->stop, true);
		session_free(dp, sessions[i]);
		sessions[i] = NULL;
	}
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket's transport: UNIX stream sockets carrying JSON-RPC 2.0 objects, one per
 * line (docs/api.md), shared by sgfwctl and the sgfw daemon. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sg_ctl.h"

/* Write all of 'buf'; with 'timeout_ms' >= 0, within that time in all (a peer that takes its
 * answer a byte at a time cannot hold the writer longer). */
static int
write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const char *p = buf;
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | (timeout_ms >= 0 ? MSG_DONTWAIT : 0));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && timeout_ms >= 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			struct timespec now;
			long left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left = timeout_ms -
			       ((now.tv_sec - start.tv_sec) * 1000 +
					       (now.tv_nsec - start.tv_nsec) / 1000000);
			if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sg_ctl_send_within(int fd, json_t *msg, int timeout_ms)
{
	char *text;
	size_t len;
	int rc;

	if (msg == NULL)
		return -ENOMEM;
	/* Compact: a string's newlines are escaped, so the object is one line. */
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';
	rc = write_all(fd, text, len + 1, timeout_ms);
	free(text);
	return rc;
}

int
sg_ctl_send(int fd, json_t *msg)
{
	return sg_ctl_send_within(fd, msg, -1);
}

void
sg_ctl_reader_init(struct sg_ctl_reader *r, int fd, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max = max;
}

void
sg_ctl_reader_free(struct sg_ctl_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = r->consumed = 0;
}

int
sg_ctl_reader_next(struct sg_ctl_reader *r, char **line, size_t *len)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (r->consumed > 0) {
			memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
			r->len -= r->consumed;
			r->consumed = 0;
		}
		nl = r->len > 0 ? memchr(r->buf, '\n', r->len) : NULL;
		if (nl != NULL || (r->eof && r->len > 0)) {
			size_t n_line = nl != NULL ? (size_t)(nl - r->buf) : r->len;

			r->buf[n_line] = '\0';
			r->consumed = nl != NULL ? n_line + 1 : n_line;
			if (n_line > 0 && r->buf[n_line - 1] == '\r')
				r->buf[--n_line] = '\0';
			*line = r->buf;
			*len = n_line;
			return 1;
		}
		if (r->eof)
			return 0;
		if (r->len >= r->max)
			return -EMSGSIZE;
		if (r->cap < r->max + 1 && r->len + 1 >= r->cap) {
			size_t cap = r->cap < 4096 ? 4096 : r->cap * 2;
			char *grown;

			if (cap > r->max + 1)
				cap = r->max + 1;
			grown = realloc(r->buf, cap);
			if (grown == NULL)
				return -ENOMEM;
			r->buf = grown;
			r->cap = cap;
		}
		/* One byte stays free for the NUL of a last line without a newline. */
		n = recv(r->fd, r->buf + r->len, r->cap - r->len - 1, r->recv_flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (n == 0)
			r->eof = true;
		r->len += (size_t)n;
	}
}

static int
socket_address(const char *path, struct sockaddr_un *addr, struct sg_error *err)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (sg_strlcpy(addr->sun_path, path, sizeof(addr->sun_path)) < 0)
		return sg_error_set(err, 0, "socket path %s is longer than %zu characters", path,
				sizeof(addr->sun_path) - 1);
	return 0;
}

int
sg_ctl_listen(const char *path, int gid, struct sg_error *err)
{
	struct sockaddr_un addr;
	mode_t old_mask;
	int fd, rc;

	if ((rc = socket_address(path, &addr, err)) < 0)
		return rc;
	/* Only a socket nothing answers on is removed: never a file the path names by mistake,
	 * a link, or the socket of a sgfw that is running. */
	rc = sg_socket_path_clear(path);
	if (rc == -EEXIST)
		return sg_error_set(err, 0,
				       "%s exists and is not a socket; remove it or choose another "
				       "path (control.socket)",
				       path),
		       rc;
	if (rc == -EADDRINUSE)
		return sg_error_set(err, 0,
				       "%s is served by another process (a running sgfw?)",
				       path),
		       rc;
	if (rc < 0)
		return sg_error_set(err, 0, "%s: %s", path, strerror(-rc)), rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sg_error_set(err, 0, "socket: %s", strerror(errno)), -errno;
	/* Owner-only from the start: no window where others may connect. */
	old_mask = umask(077);
	rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	/* The group given may connect too: its members can then use sgfwctl. */
	if (rc == 0 && ((gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid) != 0) ||
				chmod(path, gid >= 0 ? 0660 : 0600) != 0))
		rc = -1;
	if (rc < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		sg_error_set(err, 0, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return rc;
	}
	return fd;
}

int
sg_ctl_connect(const char *path, struct sg_error *err)
{
	struct sockaddr_un addr;
	int fd, rc;

	if ((rc = socket_address(path, &addr, err)) < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sg_error_set(err, 0, "socket: %s", strerror(errno)), -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		sg_error_set(err, 0, "cannot connect to sgfw at %s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

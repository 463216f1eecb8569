/* The control socket's framing: requests (argv) and responses (exit code, stdout, stderr)
 * over a UNIX stream socket, shared by sgfwctl and the sgfw daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sg_ctl.h"

static const char request_magic[4] = {'S', 'G', 'C', '1'};
static const char response_magic[4] = {'S', 'G', 'R', '1'};

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
write_u32(int fd, uint32_t value)
{
	return write_all(fd, &value, sizeof(value));
}

static int
read_u32(int fd, uint32_t *value)
{
	return read_all(fd, value, sizeof(*value));
}

/* A length-prefixed text, NUL-terminated in memory; lengths above 'max' are refused. */
static int
read_text_len(int fd, uint32_t max, char **text, size_t *text_len)
{
	uint32_t len;
	int rc;

	*text = NULL;
	if ((rc = read_u32(fd, &len)) < 0)
		return rc;
	if (len > max)
		return -EMSGSIZE;
	*text = malloc((size_t)len + 1);
	if (*text == NULL)
		return -ENOMEM;
	if ((rc = read_all(fd, *text, len)) < 0) {
		free(*text);
		*text = NULL;
		return rc;
	}
	(*text)[len] = '\0';
	if (text_len != NULL)
		*text_len = len;
	return 0;
}

static int
read_text(int fd, uint32_t max, char **text)
{
	return read_text_len(fd, max, text, NULL);
}

static int
write_text(int fd, const char *text, size_t len)
{
	int rc = write_u32(fd, (uint32_t)len);

	return rc < 0 ? rc : write_all(fd, text, len);
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
sg_ctl_listen(const char *path, struct sg_error *err)
{
	struct sockaddr_un addr;
	mode_t old_mask;
	int fd, rc;

	if ((rc = socket_address(path, &addr, err)) < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sg_error_set(err, 0, "socket: %s", strerror(errno)), -errno;
	unlink(path);
	/* Owner-only from the start: no window where others may connect. */
	old_mask = umask(077);
	rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (rc < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		sg_error_set(err, 0, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
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

int
sg_ctl_request_send(int fd, bool json, int argc, char **argv)
{
	int rc;

	if (argc < 0 || argc > SG_CTL_MAX_ARGS)
		return -E2BIG;
	if ((rc = write_all(fd, request_magic, 4)) < 0 || (rc = write_u32(fd, json ? 1 : 0)) < 0 ||
			(rc = write_u32(fd, (uint32_t)argc)) < 0)
		return rc;
	for (int i = 0; i < argc; i++)
		if ((rc = write_text(fd, argv[i], strlen(argv[i]))) < 0)
			return rc;
	return 0;
}

int
sg_ctl_request_recv(int fd, struct sg_ctl_request *req)
{
	uint32_t flags, argc;
	char magic[4];
	int rc;

	memset(req, 0, sizeof(*req));
	if ((rc = read_all(fd, magic, 4)) < 0)
		return rc;
	if (memcmp(magic, request_magic, 4) != 0)
		return -EPROTO;
	if ((rc = read_u32(fd, &flags)) < 0 || (rc = read_u32(fd, &argc)) < 0)
		return rc;
	if (argc > SG_CTL_MAX_ARGS)
		return -E2BIG;
	req->json = flags & 1;
	for (uint32_t i = 0; i < argc; i++) {
		if ((rc = read_text(fd, 4096, &req->argv[i])) < 0) {
			sg_ctl_request_free(req);
			return rc;
		}
		req->argc++;
	}
	return 0;
}

void
sg_ctl_request_free(struct sg_ctl_request *req)
{
	for (int i = 0; i < req->argc; i++)
		free(req->argv[i]);
	req->argc = 0;
}

int
sg_ctl_response_send(int fd, int code, const char *out, size_t out_len, const char *err,
		size_t err_len)
{
	int rc;

	if ((rc = write_all(fd, response_magic, 4)) < 0 || (rc = write_u32(fd, (uint32_t)code)) < 0 ||
			(rc = write_text(fd, out, out_len)) < 0)
		return rc;
	return write_text(fd, err, err_len);
}

int
sg_ctl_response_recv(int fd, int *code, char **out, char **err)
{
	return sg_ctl_response_recv_len(fd, code, out, NULL, err);
}

int
sg_ctl_response_recv_len(int fd, int *code, char **out, size_t *out_len, char **err)
{
	uint32_t value;
	char magic[4];
	int rc;

	*out = NULL;
	*err = NULL;
	if ((rc = read_all(fd, magic, 4)) < 0)
		return rc;
	if (memcmp(magic, response_magic, 4) != 0)
		return -EPROTO;
	if ((rc = read_u32(fd, &value)) < 0)
		return rc;
	*code = (int)value;
	if ((rc = read_text_len(fd, SG_CTL_MAX_TEXT, out, out_len)) < 0)
		return rc;
	if ((rc = read_text(fd, SG_CTL_MAX_TEXT, err)) < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* File-system helpers shared by the programs: reading a whole file, removing a directory they
 * own, making a rename durable, and a UNIX socket path left behind by a process that died. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sg_common.h"

void
sg_remove_dir(const char *dir)
{
	struct dirent *entry;
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((entry = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void
sg_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int
sg_socket_path_clear(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	/* A file, a link, a directory: not ours to remove, whatever it is. */
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	/* Non-blocking: a live server with a full backlog must not hold the caller. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	rc = rc == 0 ? 0 : errno;
	close(fd);
	if (rc == ENOENT)
		return 0; /* Removed meanwhile: the path is free. */
	if (rc != ECONNREFUSED)
		return -EADDRINUSE;
	/* Nothing listens: a socket left by a process that was killed. */
	return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

char *
sg_read_file(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re"), *m;
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	m = open_memstream(&text, &len);
	if (m == NULL) {
		fclose(f);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	if (ferror(f)) {
		int saved = errno;

		fclose(f);
		fclose(m);
		free(text);
		errno = saved;
		return NULL;
	}
	fclose(f);
	if (fclose(m) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

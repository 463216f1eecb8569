/* SPDX-License-Identifier: BSD-3-Clause */
/* sgfw as a service: the systemd protocol (READY, STATUS, STOPPING, and a watchdog fed only
 * while every worker polls), the EAL file prefix taken by one sgfw at a time, and the owner,
 * group and mode of vhost-user server sockets. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#ifdef SG_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "sg_conf.h"
#include "sg_dp.h"
#include "sgfw_private.h"

/* ---- systemd ---- */

static uint64_t watchdog_usec; /* 0: no watchdog asked for */
static uint64_t next_check_ms;
static uint64_t *last_polls;
static uint64_t *last_progress_ms;
static bool *reported_stall;

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
sgfw_notify(const char *fmt, ...)
{
#ifdef SG_HAVE_SYSTEMD
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_notify(0, msg);
#else
	(void)fmt;
#endif
}

void
sgfw_service_ready(const struct sg_dp *dp)
{
	uint16_t n = sg_dp_n_workers(dp);

#ifdef SG_HAVE_SYSTEMD
	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;
#endif
	last_polls = calloc(n + 1u, sizeof(*last_polls));
	last_progress_ms = calloc(n + 1u, sizeof(*last_progress_ms));
	reported_stall = calloc(n + 1u, sizeof(*reported_stall));
	if (last_polls == NULL || last_progress_ms == NULL || reported_stall == NULL)
		watchdog_usec = 0;
	for (uint16_t w = 0; w < n && watchdog_usec != 0; w++)
		last_progress_ms[w] = monotonic_ms();
	sgfw_notify("READY=1\nSTATUS=%u port%s, %u worker%s", sg_dp_conf(dp)->n_ports,
			sg_dp_conf(dp)->n_ports == 1 ? "" : "s", n, n == 1 ? "" : "s");
	if (watchdog_usec != 0)
		SGFW_LOG(MAIN, INFO, "systemd watchdog every %lu ms, fed while every worker polls",
				(unsigned long)(watchdog_usec / 1000));
}

/*
 * Called from the control loop (at least every 200 ms): ping the watchdog at half its interval
 * when every worker has completed a poll since the last check. A worker stuck inside a burst
 * stops the pings, so systemd restarts a switch that no longer forwards; the control thread
 * alone staying alive proves nothing.
 */
void
sgfw_service_tick(const struct sg_dp *dp)
{
	uint64_t now = monotonic_ms(), limit = watchdog_usec / 1000 / 2;
	bool all_polled = true;

	if (watchdog_usec == 0 || now < next_check_ms)
		return;
	next_check_ms = now + limit;
	for (uint16_t w = 0; w < sg_dp_n_workers(dp); w++) {
		struct sg_dp_worker_stats st;

		sg_dp_worker_stats(dp, w, &st);
		if (st.polls != last_polls[w]) {
			last_polls[w] = st.polls;
			last_progress_ms[w] = now;
			if (reported_stall[w])
				SGFW_LOG(MAIN, NOTICE, "worker %u polls again", w);
			reported_stall[w] = false;
			continue;
		}
		all_polled = false;
		if (!reported_stall[w])
			SGFW_LOG(MAIN, ERR,
					"worker %u has not polled its queues for %lu ms: the "
					"systemd watchdog is not fed",
					w, (unsigned long)(now - last_progress_ms[w]));
		reported_stall[w] = true;
	}
	if (all_polled)
		sgfw_notify("WATCHDOG=1");
}

void
sgfw_service_stop(void)
{
	sgfw_notify("STOPPING=1");
	free(last_polls);
	free(last_progress_ms);
	free(reported_stall);
	last_polls = last_progress_ms = NULL;
	reported_stall = NULL;
}

/* ---- The EAL file prefix ---- */

/*
 * EAL takes a write lock on RUNTIME_DIR/config for as long as the primary process runs; a
 * second one fails with a message about hugepage info. Find the holder first and say who it is.
 */
int
sgfw_prefix_check(const char *prefix, struct sg_error *err)
{
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[SG_PATH_MAX + 64], comm[64] = "?";
	const char *base = "/var/run";
	int fd;

	if (getuid() != 0)
		base = getenv("XDG_RUNTIME_DIR") != NULL ? getenv("XDG_RUNTIME_DIR") : "/tmp";
	snprintf(path, sizeof(path), "%s/dpdk/%s/config", base, prefix);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)lock.l_pid);
		f = fopen(path, "r");
		if (f != NULL) {
			if (fgets(comm, sizeof(comm), f) != NULL)
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		close(fd);
		return sg_error_set(err, 0,
				"EAL file prefix \"%s\" is taken by process %d (%s), another sgfw "
				"or "
				"DPDK program: stop it, or give this one its own prefix "
				"(dataplane.file_prefix, or --file-prefix after --)",
				prefix, (int)lock.l_pid, comm);
	}
	close(fd);
	return 0;
}

const char *
sgfw_file_prefix(void)
{
	const char *dir = rte_eal_get_runtime_dir(), *slash = strrchr(dir, '/');

	/* EAL's runtime directory is RUN/dpdk/PREFIX. */
	return slash != NULL ? slash + 1 : dir;
}

/* ---- vhost-user socket access ---- */

static int
lookup_uid(const char *name, uid_t *uid)
{
	struct passwd pw, *found = NULL;
	char buf[4096], *end;
	unsigned long n = strtoul(name, &end, 10);

	if (*end == '\0') {
		*uid = (uid_t)n;
		return 0;
	}
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
		return -ENOENT;
	*uid = pw.pw_uid;
	return 0;
}

static int
lookup_gid(const char *name, gid_t *gid)
{
	struct group gr, *found = NULL;
	char buf[4096], *end;
	unsigned long n = strtoul(name, &end, 10);

	if (*end == '\0') {
		*gid = (gid_t)n;
		return 0;
	}
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &found) != 0 || found == NULL)
		return -ENOENT;
	*gid = gr.gr_gid;
	return 0;
}

/*
 * Every vhost-user server socket of 'conf' gets its owner, group and mode ('apply'), or only
 * have its names checked (before a config is applied, so an unknown user refuses it whole).
 */
int
sgfw_socket_access(const struct sg_conf *conf, bool apply, struct sg_error *err)
{
	for (uint32_t i = 0; i < conf->n_ports; i++) {
		const struct sg_conf_port *p = &conf->ports[i];
		struct sg_conf_socket_access a;
		/* Unset names are sgfw's own, so a removed setting gives the socket back. */
		uid_t uid = geteuid();
		gid_t gid = getegid();

		if (p->kind != SG_PORT_VHOST_USER || p->client || p->remote)
			continue;
		sg_conf_socket_access(conf, p, &a);
		if (a.owner[0] != '\0' && lookup_uid(a.owner, &uid) < 0)
			return sg_error_set(err, p->line,
					"port \"%s\": socket_owner \"%s\" is no user "
					"of this system",
					p->name, a.owner);
		if (a.group[0] != '\0' && lookup_gid(a.group, &gid) < 0)
			return sg_error_set(err, p->line,
					"port \"%s\": socket_group \"%s\" is no group "
					"of this system",
					p->name, a.group);
		if (!apply)
			continue;
		if (chown(p->path, uid, gid) != 0)
			return sg_error_set(err, p->line,
					"port \"%s\": cannot give %s to %u:%u: %s", p->name,
					p->path, (unsigned int)uid, (unsigned int)gid,
					strerror(errno));
		if (chmod(p->path, a.mode) != 0)
			return sg_error_set(err, p->line,
					"port \"%s\": cannot set mode %04o on %s: %s", p->name,
					a.mode, p->path, strerror(errno));
	}
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * One xlbd per interface and per pin directory. Before it touches
 * anything, xlbd takes two flock(2) locks in XLBD_LOCK_DIR: one named for
 * the interface (its network namespace and ifindex, since names repeat
 * across namespaces) and one for the pin directory (its path). Each lock
 * file holds a line naming the instance that holds it, so a second
 * daemon is refused with the first one's pid, socket, state and pin
 * directories. The
 * kernel drops the locks when the process ends, however it ends; the
 * files stay (unlinking a lock file races with the next taker).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "xlbd.h"

/*
 * The lock file's path for the pin directory: named for its real path
 * (as given while it does not exist yet: the first daemon creates it),
 * '/' written '_'.
 */
static void pin_lock_path(const char *pin_dir, char *buf, size_t len)
{
	char real[PATH_MAX];
	const char *p = realpath(pin_dir, real) ? real : pin_dir;
	size_t off = snprintf(buf, len, "%s/pin-", XLBD_LOCK_DIR);
	size_t end = strlen(p);

	while (end > 1 && p[end - 1] == '/')
		end--;
	for (size_t i = 0; i < end && off + 6 < len; i++)
		buf[off++] = p[i] == '/' ? '_' : p[i];
	snprintf(buf + off, len - off, ".lock");
}

static int if_lock_path(int ifindex, char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	snprintf(buf, len, "%s/if-%llx-%d.lock", XLBD_LOCK_DIR,
		 (unsigned long long)st.st_ino, ifindex);
	return 0;
}

/* Who holds the lock file fd, as its holder wrote it. */
static void holder(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n <= 0) {
		snprintf(buf, len, "an instance that has not said which");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Takes the lock at path for d, or says who has it. Returns the fd. */
static int take(const char *path, const char *what, const char *me,
		struct xlb_err *err)
{
	char who[512];
	int fd, ret;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		xlb_err_set(err, "cannot open lock %s: %s", path,
			    strerror(-ret));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		if (ret == -EWOULDBLOCK) {
			holder(fd, who, sizeof(who));
			xlb_err_set(err, "another xlbd serves %s: %s", what,
				    who);
			ret = -EBUSY;
		} else {
			xlb_err_set(err, "cannot lock %s: %s", path,
				    strerror(-ret));
		}
		goto err_close;
	}
	if (ftruncate(fd, 0) || pwrite(fd, me, strlen(me), 0) < 0) {
		ret = -errno;
		xlb_err_set(err, "cannot write lock %s: %s", path,
			    strerror(-ret));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}

int xlbd_lock(struct xlbd *d, int ifindex, const char *pin_dir,
	      const char *state_dir, struct xlb_err *err)
{
	char path[512], me[1024], what[300];
	int ret;

	if (mkdir(XLBD_LOCK_DIR, 0755) && errno != EEXIST) {
		ret = -errno;
		xlb_err_set(err, "cannot create %s: %s", XLBD_LOCK_DIR,
			    strerror(-ret));
		return ret;
	}
	snprintf(me, sizeof(me),
		 "pid %d on %s, socket %s, state dir %s, pin dir %s\n",
		 (int)getpid(), d->ifname, d->socket_path, state_dir, pin_dir);
	ret = if_lock_path(ifindex, path, sizeof(path));
	if (ret) {
		xlb_err_set(err, "network namespace: %s", strerror(-ret));
		return ret;
	}
	snprintf(what, sizeof(what), "interface %s", d->ifname);
	d->if_lock_fd = take(path, what, me, err);
	if (d->if_lock_fd < 0)
		return d->if_lock_fd;
	pin_lock_path(pin_dir, path, sizeof(path));
	snprintf(what, sizeof(what), "pin directory %s", pin_dir);
	d->pin_lock_fd = take(path, what, me, err);
	if (d->pin_lock_fd < 0) {
		ret = d->pin_lock_fd;
		close(d->if_lock_fd);
		d->if_lock_fd = -1;
		return ret;
	}
	return 0;
}

void xlbd_unlock(struct xlbd *d)
{
	if (d->pin_lock_fd >= 0)
		close(d->pin_lock_fd);
	if (d->if_lock_fd >= 0)
		close(d->if_lock_fd);
	d->pin_lock_fd = d->if_lock_fd = -1;
}

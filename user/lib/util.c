// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* File-system helpers (see util.h). */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* Creates every directory along buf, which it changes and restores. */
static int mkdir_along(char *buf, mode_t mode)
{
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int xlb_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	return mkdir_along(buf, mode);
}

int xlb_mkdir_parent(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *slash;
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	/* A name without a directory, or one in "/": nothing to make. */
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	return mkdir_along(buf, mode);
}

/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Small helpers of the file system that more than one module needs: the
 * pin directory, the control socket's directory.
 */
#ifndef XLB_UTIL_H
#define XLB_UTIL_H

#include <sys/types.h>

/* mkdir -p: creates path and its missing parents; 0 or -errno. */
int xlb_mkdir_p(const char *path, mode_t mode);

/* Creates the directory path lies in (and its parents); 0 or -errno. */
int xlb_mkdir_parent(const char *path, mode_t mode);

#endif /* XLB_UTIL_H */

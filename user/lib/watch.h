/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xlbd's event loop is one epoll set; every registration's data.ptr points
 * at a watch, whose callback the loop calls with the ready events. Modules
 * (the control socket, the health checker, signals) embed watches in their
 * own structures and find themselves again with container_of.
 */
#ifndef XLB_WATCH_H
#define XLB_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct xlb_watch {
	void (*fn)(struct xlb_watch *w, uint32_t events);
};

#ifndef container_of
#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr)-offsetof(type, member)))
#endif

#endif /* XLB_WATCH_H */

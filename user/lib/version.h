/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The version every xlb program reports. */
#ifndef XLB_VERSION_H
#define XLB_VERSION_H

#define XLB_VERSION "0.1.0"

#endif /* XLB_VERSION_H */

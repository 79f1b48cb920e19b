/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Capture files that tcpdump, tshark and Wireshark read: pcapng (one
 * Ethernet interface, nanosecond timestamps, a comment per packet, which
 * tshark shows as frame.comment) or classic pcap (nanosecond magic, no
 * room for a comment). Little-endian host order, as both formats allow.
 */
#ifndef XLB_PCAP_H
#define XLB_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct xlb_pcap {
	FILE *f;
	bool ng; /* pcapng, else classic pcap */
	uint32_t snaplen;
};

/*
 * Creates path (truncating it) and writes the file header: pcapng when ng,
 * with app naming the writer, else classic pcap. "-" is stdout. 0 or
 * -errno.
 */
int xlb_pcap_open(struct xlb_pcap *p, const char *path, bool ng,
		  uint32_t snaplen, const char *app);
/*
 * One packet: caplen bytes of a frame origlen long, taken at ts_ns
 * (nanoseconds since the epoch); comment (pcapng only) may be NULL.
 * 0 or -errno.
 */
int xlb_pcap_write(struct xlb_pcap *p, uint64_t ts_ns, const void *data,
		   uint32_t caplen, uint32_t origlen, const char *comment);
/* Flushes and closes: 0, or -errno when a write failed on the way. */
int xlb_pcap_close(struct xlb_pcap *p);

#endif /* XLB_PCAP_H */

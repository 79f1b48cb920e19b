// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * pcapng (draft-ietf-opsawg-pcapng) and classic pcap writers; see pcap.h.
 * pcapng is the default because its Enhanced Packet Block carries a
 * comment: the balancer's verdict travels with each packet into tshark.
 */
#include <errno.h>
#include <string.h>
#include "pcap.h"

#define LINKTYPE_ETHERNET 1

#define NG_SHB 0x0A0D0D0AU
#define NG_IDB 0x00000001U
#define NG_EPB 0x00000006U
#define NG_BOM 0x1A2B3C4DU

#define NG_OPT_END	   0
#define NG_OPT_COMMENT	   1
#define NG_SHB_USERAPPL	   4
#define NG_IF_TSRESOL	   9
#define PCAP_MAGIC_NSEC	   0xA1B23C4DU
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4

static uint32_t pad4(uint32_t n)
{
	return (n + 3) & ~3U;
}

static void put(struct xlb_pcap *p, const void *d, size_t n)
{
	fwrite(d, 1, n, p->f);
}

static void put32(struct xlb_pcap *p, uint32_t v)
{
	put(p, &v, 4);
}

static void put16(struct xlb_pcap *p, uint16_t v)
{
	put(p, &v, 2);
}

/* An option: code, length, value padded to 32 bits. */
static void put_opt(struct xlb_pcap *p, uint16_t code, const void *v,
		    uint16_t len)
{
	static const uint8_t zero[4];

	put16(p, code);
	put16(p, len);
	put(p, v, len);
	put(p, zero, pad4(len) - len);
}

/* The end of a block's options. */
static void put_opt_end(struct xlb_pcap *p)
{
	put32(p, NG_OPT_END);
}

static uint32_t opt_len(uint32_t len)
{
	return 4 + pad4(len);
}

static void ng_header(struct xlb_pcap *p, const char *app)
{
	uint16_t app_len = app ? strlen(app) : 0;
	uint32_t shb = 28 + (app_len ? opt_len(app_len) : 0) + 4;
	uint32_t idb = 20 + opt_len(1) + 4;
	uint8_t tsresol = 9; /* 10^-9 s */

	put32(p, NG_SHB);
	put32(p, shb);
	put32(p, NG_BOM);
	put16(p, 1); /* version 1.0 */
	put16(p, 0);
	put32(p, 0xFFFFFFFFU); /* section length: not given */
	put32(p, 0xFFFFFFFFU);
	if (app_len)
		put_opt(p, NG_SHB_USERAPPL, app, app_len);
	put_opt_end(p);
	put32(p, shb);

	put32(p, NG_IDB);
	put32(p, idb);
	put16(p, LINKTYPE_ETHERNET);
	put16(p, 0);
	put32(p, p->snaplen);
	put_opt(p, NG_IF_TSRESOL, &tsresol, 1);
	put_opt_end(p);
	put32(p, idb);
}

static void pcap_header(struct xlb_pcap *p)
{
	put32(p, PCAP_MAGIC_NSEC);
	put16(p, PCAP_VERSION_MAJOR);
	put16(p, PCAP_VERSION_MINOR);
	put32(p, 0); /* GMT */
	put32(p, 0); /* accuracy */
	put32(p, p->snaplen);
	put32(p, LINKTYPE_ETHERNET);
}

int xlb_pcap_open(struct xlb_pcap *p, const char *path, bool ng,
		  uint32_t snaplen, const char *app)
{
	p->ng = ng;
	p->snaplen = snaplen;
	p->f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!p->f)
		return -errno;
	if (ng)
		ng_header(p, app);
	else
		pcap_header(p);
	return ferror(p->f) ? -EIO : 0;
}

int xlb_pcap_write(struct xlb_pcap *p, uint64_t ts_ns, const void *data,
		   uint32_t caplen, uint32_t origlen, const char *comment)
{
	static const uint8_t zero[4];
	uint16_t clen = comment && p->ng ? strnlen(comment, 0xFFFF) : 0;
	uint32_t len;

	if (caplen > p->snaplen)
		caplen = p->snaplen;
	if (!p->ng) {
		put32(p, ts_ns / 1000000000ULL);
		put32(p, ts_ns % 1000000000ULL);
		put32(p, caplen);
		put32(p, origlen);
		put(p, data, caplen);
		return ferror(p->f) ? -EIO : 0;
	}
	len = 28 + pad4(caplen) + (clen ? opt_len(clen) + 4 : 0) + 4;
	put32(p, NG_EPB);
	put32(p, len);
	put32(p, 0); /* interface 0 */
	put32(p, ts_ns >> 32);
	put32(p, (uint32_t)ts_ns);
	put32(p, caplen);
	put32(p, origlen);
	put(p, data, caplen);
	put(p, zero, pad4(caplen) - caplen);
	if (clen) {
		put_opt(p, NG_OPT_COMMENT, comment, clen);
		put_opt_end(p);
	}
	put32(p, len);
	return ferror(p->f) ? -EIO : 0;
}

int xlb_pcap_close(struct xlb_pcap *p)
{
	int err = 0;

	if (!p->f)
		return 0;
	if (fflush(p->f) || ferror(p->f))
		err = -EIO;
	if (p->f != stdout && fclose(p->f) && !err)
		err = -errno;
	p->f = NULL;
	return err;
}

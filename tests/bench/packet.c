// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Test frames for the benchmarks: minimal TCP segments over IPv4 and IPv6
 * and an IP-in-IP tunnel packet, with valid IPv4 header checksums (the
 * data path does not check them, but a capture of a bench frame should
 * look like a real one). Addresses are text so scenarios read plainly;
 * a bad literal is a bug in the benchmark and aborts.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include "bench.h"

static const __u8 frame_dst_mac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x02};
static const __u8 frame_src_mac[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x03};

static void parse_addr(int af, const char *s, void *out)
{
	if (inet_pton(af, s, out) != 1) {
		fprintf(stderr, "xlb: bench: bad address literal %s\n", s);
		abort();
	}
}

static void put_eth(struct bench_frame *f, __u16 proto)
{
	struct ethhdr *eth = (struct ethhdr *)f->data;

	memcpy(eth->h_dest, frame_dst_mac, ETH_ALEN);
	memcpy(eth->h_source, frame_src_mac, ETH_ALEN);
	eth->h_proto = htons(proto);
}

static __u16 ipv4_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

	for (size_t i = 0; i < sizeof(*iph) / 2; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void put_ipv4(struct iphdr *iph, const char *src, const char *dst,
		     __u8 proto, __u16 tot_len)
{
	memset(iph, 0, sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(tot_len);
	iph->id = htons(1);
	iph->frag_off = htons(0x4000); /* DF */
	iph->ttl = 64;
	iph->protocol = proto;
	parse_addr(AF_INET, src, &iph->saddr);
	parse_addr(AF_INET, dst, &iph->daddr);
	iph->check = ipv4_csum(iph);
}

static void put_tcp(struct tcphdr *th, __u16 sport, __u16 dport, __u8 flags)
{
	memset(th, 0, sizeof(*th));
	th->source = htons(sport);
	th->dest = htons(dport);
	th->seq = htonl(1);
	th->ack_seq = htonl(flags & TCPF_ACK ? 1 : 0);
	th->doff = 5;
	((__u8 *)th)[13] = flags;
	th->window = htons(65535);
}

void frame_tcp4(struct bench_frame *f, const char *src, const char *dst,
		__u16 sport, __u16 dport, __u8 tcp_flags)
{
	struct iphdr *iph = (struct iphdr *)(f->data + ETH_HLEN);

	memset(f, 0, sizeof(*f));
	put_eth(f, ETH_P_IP);
	put_tcp((struct tcphdr *)(iph + 1), sport, dport, tcp_flags);
	put_ipv4(iph, src, dst, IPPROTO_TCP,
		 sizeof(struct iphdr) + sizeof(struct tcphdr));
	f->len = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr);
}

void frame_tcp6(struct bench_frame *f, const char *src, const char *dst,
		__u16 sport, __u16 dport, __u8 tcp_flags)
{
	struct ipv6hdr *ip6h = (struct ipv6hdr *)(f->data + ETH_HLEN);

	memset(f, 0, sizeof(*f));
	put_eth(f, ETH_P_IPV6);
	ip6h->version = 6;
	ip6h->payload_len = htons(sizeof(struct tcphdr));
	ip6h->nexthdr = IPPROTO_TCP;
	ip6h->hop_limit = 64;
	parse_addr(AF_INET6, src, &ip6h->saddr);
	parse_addr(AF_INET6, dst, &ip6h->daddr);
	put_tcp((struct tcphdr *)(ip6h + 1), sport, dport, tcp_flags);
	f->len = ETH_HLEN + sizeof(struct ipv6hdr) + sizeof(struct tcphdr);
}

void frame_ipip(struct bench_frame *f, const char *src, const char *dst,
		const struct bench_frame *inner)
{
	__u32 ip_len = inner->len - ETH_HLEN;
	struct iphdr *iph = (struct iphdr *)(f->data + ETH_HLEN);

	if (ETH_HLEN + sizeof(*iph) + ip_len > BENCH_FRAME_MAX) {
		fprintf(stderr, "xlb: bench: tunnel frame too long\n");
		abort();
	}
	memset(f, 0, sizeof(*f));
	put_eth(f, ETH_P_IP);
	put_ipv4(iph, src, dst, IPPROTO_IPIP, sizeof(*iph) + ip_len);
	memcpy(iph + 1, inner->data + ETH_HLEN, ip_len);
	f->len = ETH_HLEN + sizeof(*iph) + ip_len;
}

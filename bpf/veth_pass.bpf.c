// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xlb_veth_pass: passes every frame. A veth drops frames its peer sends
 * with XDP_TX unless it has an XDP program of its own, so the demo and the
 * e2e tests attach this one to the router side of the balancer's link. On
 * real NICs nothing needs it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xlb_veth_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

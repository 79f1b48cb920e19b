// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb trace`: packets as the balancer saw them and what it did with each,
 * from its trace_events ring (bpf/trace.h), printed one line per packet or
 * written as a capture file (pcap.h) with the verdict in each packet's
 * comment. Like `xlb stats` it works on the pinned maps, without xlbd.
 *
 * The CLI is the switch: it fills the pinned "trace" map (the program's
 * xlb_trace_cfg: filters, sampling) and sets
 * `on`, and clears it again however it ends (-c reached, SIGINT, SIGTERM,
 * SIGHUP, a closed pipe, an error). One trace at a time: a flock on the
 * pin directory, released by the kernel when the process dies, refuses a
 * second one and names the first; a trace killed by SIGKILL leaves the
 * switch on until the next one starts and stops (or `--stop`).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <xlb/trace.h>

#include "pcap.h"
#include "print.h"
#include "stats.h"
#include "text.h"
#include "xlb.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The L3/L4 of a frame's first bytes, as the line and the filter see it. */
struct l34 {
	__u8 family; /* 0: not IP or cut short */
	__u8 proto;
	union xlb_addr src, dst;
	__u16 sport, dport; /* host order */
	__u8 tcp_flags;
	__u8 icmp_type;
};

static void parse_l34(const __u8 *f, __u32 len, struct l34 *r)
{
	__u32 l3 = ETH_HLEN, l4;
	__u16 type;

	memset(r, 0, sizeof(*r));
	if (len < ETH_HLEN)
		return;
	type = f[12] << 8 | f[13];
	if ((type == ETH_P_8021Q || type == ETH_P_8021AD) && len >= 18) {
		type = f[16] << 8 | f[17];
		l3 += 4;
	}
	if (type == ETH_P_IP && len >= l3 + 20) {
		r->family = XLB_AF_INET;
		r->proto = f[l3 + 9];
		memcpy(&r->src.v4, f + l3 + 12, 4);
		memcpy(&r->dst.v4, f + l3 + 16, 4);
		l4 = l3 + (f[l3] & 0xf) * 4;
	} else if (type == ETH_P_IPV6 && len >= l3 + 40) {
		r->family = XLB_AF_INET6;
		r->proto = f[l3 + 6];
		memcpy(r->src.v6, f + l3 + 8, 16);
		memcpy(r->dst.v6, f + l3 + 24, 16);
		l4 = l3 + 40;
	} else {
		return;
	}
	if ((r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) &&
	    len >= l4 + 4) {
		r->sport = f[l4] << 8 | f[l4 + 1];
		r->dport = f[l4 + 2] << 8 | f[l4 + 3];
	}
	if (r->proto == IPPROTO_TCP && len >= l4 + 14)
		r->tcp_flags = f[l4 + 13];
	if ((r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6) &&
	    len > l4)
		r->icmp_type = f[l4];
}

/* TCP flags as tcpdump writes them: "S", "S.", "P.", "F.", "R". */
static void flags_str(__u8 fl, char *buf)
{
	static const struct {
		__u8 bit;
		char c;
	} map[] = {{0x02, 'S'}, {0x01, 'F'}, {0x08, 'P'},
		   {0x04, 'R'}, {0x20, 'U'}, {0x10, '.'}};
	int n = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (fl & map[i].bit)
			buf[n++] = map[i].c;
	buf[n] = '\0';
}

/* ADDR:PORT, [ADDR]:PORT for IPv6, ADDR alone without a port. */
static const char *endpoint(const union xlb_addr *a, __u8 family, __u16 port,
			    bool with_port, char *buf, size_t len)
{
	char as[INET6_ADDRSTRLEN];

	xlb_format_addr(a, family, as, sizeof(as));
	if (!with_port)
		snprintf(buf, len, "%s", as);
	else if (family == XLB_AF_INET6)
		snprintf(buf, len, "[%s]:%u", as, port);
	else
		snprintf(buf, len, "%s:%u", as, port);
	return buf;
}

/* Does a TX verdict send the packet to a backend (whose address is out's
 * destination)? Echo replies, ICMP errors and NAT replies go back. */
static bool to_backend(__u16 reason)
{
	return (reason >= XLB_CNT_TX_IPIP && reason <= XLB_CNT_TX_GUE) ||
	       reason == XLB_CNT_TX_NAT;
}

static const char *action_name(__u8 action)
{
	static const char *const names[] = {"aborted", "drop", "pass", "tx",
					    "redirect"};

	return action < sizeof(names) / sizeof(names[0]) ? names[action] : "?";
}

struct trace_run {
	struct xlb_pcap pcap;
	bool writing, lines; /* a file; lines on stdout */
	bool draining;	     /* records of an earlier trace: dropped */
	unsigned long count, seen;
	__s64 wall_off_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	int err;
};

/* One record: its line (or JSON object) and its packet in the file. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct trace_run *run = ctx;
	const struct xlb_trace_event *e = data;
	char src[64], dst[64], be[64], pb[16], fl[8], when[32], comment[160];
	const char *verdict;
	struct l34 in, out;
	__u64 wall;
	time_t secs;
	struct tm tm;
	bool ports;

	if (size < sizeof(*e) || run->draining ||
	    (run->count && run->seen >= run->count) || run->err)
		return 0;
	run->seen++;
	verdict = e->reason < XLB_CNT_MAX ? xlb_counter_names[e->reason] : "?";
	wall = e->ts_ns + run->wall_off_ns;
	parse_l34(e->data, e->snap_len, &in);
	parse_l34(e->out, e->out_snap, &out);
	be[0] = '\0';
	if (e->action == 3 /* XDP_TX */ && to_backend(e->reason) && out.family)
		xlb_format_addr(&out.dst, out.family, be, sizeof(be));

	if (run->writing) {
		snprintf(comment, sizeof(comment), "%s%s%s cpu %u", verdict,
			 be[0] ? " -> " : "", be, e->cpu);
		run->err = xlb_pcap_write(&run->pcap, wall, e->data,
					  e->snap_len, e->frame_len, comment);
	}
	if (!run->lines)
		return 0;

	secs = wall / 1000000000ULL;
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06llu",
		 (unsigned long long)(wall % 1000000000ULL) / 1000);
	ports = in.proto == IPPROTO_TCP || in.proto == IPPROTO_UDP;
	print_begin();
	print_string(PRINT_ANY, "time", "%s", when);
	print_uint(PRINT_JSON, "ts_ns", NULL, wall);
	print_string(PRINT_ANY, "verdict", " %s", verdict);
	print_string(PRINT_JSON, "action", NULL, action_name(e->action));
	if (in.family) {
		print_string(PRINT_TEXT, NULL, " %s",
			     endpoint(&in.src, in.family, in.sport, ports, src,
				      sizeof(src)));
		print_string(PRINT_TEXT, NULL, " > %s",
			     endpoint(&in.dst, in.family, in.dport, ports, dst,
				      sizeof(dst)));
		xlb_format_addr(&in.src, in.family, src, sizeof(src));
		xlb_format_addr(&in.dst, in.family, dst, sizeof(dst));
		print_string(PRINT_JSON, "src", NULL, src);
		print_string(PRINT_JSON, "dst", NULL, dst);
		print_string(PRINT_ANY, "proto", " %s",
			     xlb_proto_name(in.proto, pb, sizeof(pb)));
		if (ports) {
			print_uint(PRINT_JSON, "sport", NULL, in.sport);
			print_uint(PRINT_JSON, "dport", NULL, in.dport);
		}
		if (in.proto == IPPROTO_TCP) {
			flags_str(in.tcp_flags, fl);
			print_string(PRINT_ANY, "tcp_flags", " [%s]", fl);
		}
		if (in.proto == IPPROTO_ICMP || in.proto == IPPROTO_ICMPV6)
			print_uint(PRINT_ANY, "icmp_type", " type %llu",
				   in.icmp_type);
	} else {
		print_string(PRINT_TEXT, NULL, " %s", "non-IP");
	}
	print_uint(PRINT_ANY, "len_bytes", " len %llu", e->frame_len);
	if (be[0])
		print_string(PRINT_ANY, "backend", " -> %s", be);
	if (e->out_len)
		print_uint(PRINT_JSON, "out_len_bytes", NULL, e->out_len);
	print_uint(PRINT_ANY, "cpu", " cpu %llu", e->cpu);
	print_nl();
	print_end();
	if (fflush(stdout) || ferror(stdout))
		run->err = -EPIPE;
	return 0;
}

/* The pinned map name under the pin directory, opened for writing. */
static int open_map(const char *name, int *fd)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", cli.pin_dir, name);
	*fd = bpf_obj_get(path);
	if (*fd < 0)
		return fail(-errno,
			    "%s: %s (a balancer from before xlb trace? "
			    "restart xlbd)",
			    path, strerror(errno));
	return 0;
}

/* Every CPU's scratch zeroed: sampling count, lost records, armed mark. */
static int scratch_zero(int fd, __u32 *lost)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xlb_trace_scratch *s;
	__u32 zero = 0;
	int ret = 0;

	if (ncpus < 0)
		return ncpus;
	s = calloc(ncpus, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (lost && !bpf_map_lookup_elem(fd, &zero, s))
		for (int c = 0; c < ncpus; c++)
			*lost += s[c].ev.lost;
	memset(s, 0, ncpus * sizeof(*s));
	if (bpf_map_update_elem(fd, &zero, s, BPF_ANY))
		ret = -errno;
	free(s);
	return ret;
}

/*
 * The filter of one FILTER argument: a verdict counter's name, a VIP
 * (ADDR[:PORT]/PROTO), or an address, which is a VIP's when the vips map
 * has it and else must be a backend's.
 */
static int resolve_filter(const char *s, const struct xlb_pins *pins,
			  struct xlb_trace_cfg *c)
{
	struct xlb_vip_entry *vips = NULL;
	struct xlb_backend_entry *bes = NULL;
	struct xlb_vip_key key;
	union xlb_addr a;
	size_t n = 0, i;
	__u8 family;
	int ret;

	for (int r = 0; r < XLB_CNT_FIRST_EVENT; r++) {
		if (!strcmp(s, xlb_counter_names[r])) {
			c->match |= XLB_TRACE_M_REASON;
			c->reason = r;
			return 0;
		}
	}
	if (strchr(s, '/')) {
		ret = check_vip(s, &key);
		if (ret)
			return ret;
		c->match |= XLB_TRACE_M_VIP | XLB_TRACE_M_PROTO |
			    (key.port ? XLB_TRACE_M_PORT : 0);
		c->vip = key.addr;
		c->vip_family = key.family;
		c->vip_port = key.port;
		c->vip_proto = key.proto;
		return 0;
	}
	if (xlb_parse_addr(s, &a, &family, NULL))
		return usage_err("'%s' is neither a VIP (ADDR[:PORT]/PROTO), "
				 "an address nor a verdict counter",
				 s);
	ret = xlb_vips_read(pins->vips, &vips, &n);
	if (ret)
		return fail(ret, "reading vips: %s", strerror(-ret));
	for (i = 0; i < n; i++)
		if (vips[i].key.family == family &&
		    !memcmp(&vips[i].key.addr, &a, sizeof(a)))
			break;
	free(vips);
	if (i < n) {
		c->match |= XLB_TRACE_M_VIP;
		c->vip = a;
		c->vip_family = family;
		return 0;
	}
	ret = xlb_backends_read(pins->backends, &bes, &n);
	if (ret)
		return fail(ret, "reading backends: %s", strerror(-ret));
	for (i = 0; i < n; i++)
		if (bes[i].val.family == family &&
		    !memcmp(&bes[i].val.addr, &a, sizeof(a)))
			break;
	free(bes);
	if (i == n)
		return fail(-ENOENT,
			    "%s is neither a VIP's nor a backend's address "
			    "(--backend ADDR traces it anyway)",
			    s);
	c->match |= XLB_TRACE_M_BACKEND;
	c->backend = a;
	c->backend_family = family;
	return 0;
}

/* -c and --count, -w and --write: one value from either spelling. */
static int either(const struct opt *a, const struct opt *b, const char **val)
{
	if (a->val && b->val)
		return usage_err("%s and %s given together", a->name, b->name);
	*val = a->val ?: b->val;
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* Captures until count records, a signal or an error; the switch is on. */
static int capture(struct ring_buffer *rb, struct trace_run *run)
{
	int ret = 0;

	while (!stop && !run->err && (!run->count || run->seen < run->count)) {
		ret = ring_buffer__poll(rb, 200);
		if (ret == -EINTR)
			ret = 0;
		if (ret < 0)
			return fail(ret, "reading trace_events: %s",
				    strerror(-ret));
	}
	if (run->err)
		return fail(run->err, "writing: %s", strerror(-run->err));
	return 0;
}

static int do_trace(int argc, char **argv)
{
	static const char *const pos_names[] = {"FILTER"};
	struct opt opts[] = {
		{"-c", NULL, false},	    {"--count", NULL, false},
		{"-w", NULL, false},	    {"--write", NULL, false},
		{"--backend", NULL, false}, {"--reason", NULL, false},
		{"--sample", NULL, false},  {"--stop", NULL, true},
	};
	struct sigaction sa = {.sa_handler = on_signal};
	struct trace_run run = {.lines = true};
	struct xlb_trace_cfg cfg = {0}, off = {0}, old;
	const char *filter = NULL, *count_s = NULL, *file = NULL;
	struct ring_buffer *rb = NULL;
	int cfg_fd = -1, scratch_fd = -1, events_fd = -1, lock_fd = -1;
	struct timespec rt, mono;
	struct xlb_pins pins;
	unsigned long v;
	__u32 zero = 0, lost = 0;
	size_t n;
	int ret;

	ret = parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
			 &filter, 0, 1, pos_names, &n);
	ret = ret ?: either(&opts[0], &opts[1], &count_s);
	ret = ret ?: either(&opts[2], &opts[3], &file);
	if (ret)
		return ret;
	if (!n)
		filter = NULL;
	if (count_s) {
		ret = check_uint("count", count_s, 1, 1000000000, &run.count);
		if (ret)
			return ret;
	}
	if (opts[6].val) {
		ret = check_opt_uint(&opts[6], 1, 1000000000, &v);
		if (ret)
			return ret;
		cfg.sample = v;
	}
	if (opts[4].val) {
		ret = check_addr(opts[4].val, &cfg.backend,
				 &cfg.backend_family);
		if (ret)
			return ret;
		cfg.match |= XLB_TRACE_M_BACKEND;
	}
	if (opts[5].val) {
		int r;

		for (r = 0; r < XLB_CNT_FIRST_EVENT; r++)
			if (!strcmp(opts[5].val, xlb_counter_names[r]))
				break;
		if (r == XLB_CNT_FIRST_EVENT)
			return usage_err("--reason: '%s' is not a verdict "
					 "counter (see 'xlb stats')",
					 opts[5].val);
		cfg.match |= XLB_TRACE_M_REASON;
		cfg.reason = r;
	}
	if (opts[7].val && (n || file || count_s || cfg.match || cfg.sample))
		return usage_err("--stop takes nothing else");

	ret = open_pins(&pins);
	if (ret)
		return ret;
	if (filter)
		ret = resolve_filter(filter, &pins, &cfg);
	xlb_pins_close(&pins);
	if (ret)
		return ret;

	ret = open_map("trace", &cfg_fd);
	ret = ret ?: open_map("trace_scratch", &scratch_fd);
	ret = ret ?: open_map("trace_events", &events_fd);
	if (ret)
		goto out_maps;

	/* One trace at a time: the lock goes with the process. */
	lock_fd = open(cli.pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock_fd < 0) {
		ret = fail(-errno, "%s: %s", cli.pin_dir, strerror(errno));
		goto out_maps;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		if (ret == -EWOULDBLOCK) {
			ret = -EBUSY;
			if (bpf_map_lookup_elem(cfg_fd, &zero, &old))
				old.owner_pid = 0;
			fail(ret, "another xlb trace runs (pid %u)",
			     old.owner_pid);
		} else {
			fail(ret, "locking %s: %s", cli.pin_dir,
			     strerror(-ret));
		}
		goto out_lock;
	}
	if (opts[7].val) {
		if (bpf_map_update_elem(cfg_fd, &zero, &off, BPF_ANY))
			ret = fail(-errno, "trace_cfg: %s", strerror(errno));
		goto out_lock;
	}

	rb = ring_buffer__new(events_fd, on_record, &run, NULL);
	if (!rb) {
		ret = fail(-errno, "trace_events: %s", strerror(errno));
		goto out_lock;
	}
	if (file) {
		/* Classic pcap has no room for the verdict: lines tell it. */
		bool ng = !ends_with(file, ".pcap");

		ret = xlb_pcap_open(&run.pcap, file, ng, XLB_TRACE_SNAP,
				    "xlb trace");
		if (ret) {
			fail(ret, "%s: %s", file, strerror(-ret));
			goto out_rb;
		}
		run.writing = true;
		run.lines = !ng && strcmp(file, "-");
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	run.wall_off_ns = (rt.tv_sec - mono.tv_sec) * 1000000000LL +
			  (rt.tv_nsec - mono.tv_nsec);

	/* Nothing of an earlier trace: its records, counts, armed marks. */
	ret = scratch_zero(scratch_fd, NULL);
	if (!ret) {
		run.draining = true;
		ret = ring_buffer__consume(rb) < 0 ? -EIO : 0;
		run.draining = false;
	}
	if (ret) {
		fail(ret, "resetting the trace maps: %s", strerror(-ret));
		goto out_pcap;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	cfg.on = 1;
	cfg.owner_pid = getpid();
	if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY)) {
		ret = fail(-errno, "trace_cfg: %s", strerror(errno));
		goto out_pcap;
	}
	ret = capture(rb, &run);
	/* Off before anything else can fail. */
	if (bpf_map_update_elem(cfg_fd, &zero, &off, BPF_ANY) && !ret)
		ret = fail(-errno, "turning tracing off: %s", strerror(errno));
	scratch_zero(scratch_fd, &lost);
	if (!print_is_json())
		fprintf(stderr, "%lu packets captured, %u lost\n", run.seen,
			lost);
out_pcap:
	if (run.writing) {
		int err = xlb_pcap_close(&run.pcap);

		if (err && !ret)
			ret = fail(err, "%s: %s", file, strerror(-err));
	}
out_rb:
	ring_buffer__free(rb);
out_lock:
	close(lock_fd);
out_maps:
	if (events_fd >= 0)
		close(events_fd);
	if (scratch_fd >= 0)
		close(scratch_fd);
	if (cfg_fd >= 0)
		close(cfg_fd);
	return ret;
}

const struct object trace_object = {
	.name = "trace",
	.dflt = do_trace,
	.help = "Usage: xlb trace [FILTER] [--backend ADDR] [--reason NAME] "
		"[--sample N]\n"
		"                 [{ -c | --count } N] "
		"[{ -w | --write } FILE]\n"
		"       xlb trace --stop\n"
		"       xlb trace help\n"
		"FILTER := { VIP | ADDR | REASON }\n"
		"  VIP     ADDR[:PORT]/PROTO: packets to it as they arrived\n"
		"  ADDR    a VIP's address (every port), else a backend's:\n"
		"          packets sent to that backend\n"
		"  REASON  a verdict counter as 'xlb stats' names it "
		"(tx_ipip, drop_fragment, ...)\n"
		"Packets the balancer handled, each with its verdict, until "
		"N were shown or\n"
		"SIGINT/SIGTERM; every filter given must match. One line per "
		"packet (time,\n"
		"verdict, source > destination, protocol, TCP flags, length, "
		"-> backend for\n"
		"packets sent to one, CPU), one JSON object per line with -j. "
		"-w writes the\n"
		"first " STR(
			XLB_TRACE_SNAP) " bytes of each frame as it arrived "
					"to FILE (- for stdout): pcapng\n"
					"with the verdict as each packet's "
					"comment (tshark: -e "
					"frame.comment),\n"
					"or classic pcap when FILE ends in "
					".pcap, the lines then on "
					"stdout.\n"
					"--sample N keeps 1 in N matching "
					"packets per CPU. Filters "
					"run in the\n"
					"balancer; with no trace running it "
					"pays one array read per "
					"packet. One\n"
					"trace at a time; --stop turns off one "
					"a SIGKILL left on.\n",
};

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# The test bed of several balancers as one, sourced by cluster.sh after
# scripts/topo.sh and lib.sh:
#
#   client ──(1500)── router (BIRD: BGP + BFD 50 ms x 3, ECMP, L4 hash)
#                      ├─(1600)── lb1 ┐ BIRD (kernel table 100 -> BGP),
#                      ├─(1600)── lb2 ├ xlbd on eth0, an etcd member
#                      ├─(1600)── lb3 ┘ (lb1..lb3: a 3-member cluster)
#                      ├─(1600)── lb4   created, started by a join test
#                      └─(1600)── b1, b2, b3 (as in topo.sh)
#
# The router learns the VIPs (VIP4/32, VIP6/128) only by BGP from the
# balancers. Each balancer's xlbd is a member of the cluster "e2e"
# (--etcd, heartbeat 500 ms) and announces the VIPs it can serve as
# blackhole routes in kernel table 100 (--route-table), which its BIRD
# learns and exports; `xlb node drain` withdraws them (lb_withdraw),
# `undrain` announces them again (lb_announce). The config lives in
# etcd: an edit made on any node reaches all.
#
# Helpers (N is a balancer, 1..4; every wait polls with a deadline):
#   cluster_up              the whole bed: namespaces, router BIRD, lb1..lb3
#                           started and announcing, backends, etcd healthy
#   cluster_ready           back to that state after a test (restarts what
#                           a test killed, re-applies the VIPs, re-announces)
#   lb_start N              BIRD and xlbd of N up, N's BGP session
#                           established, N joined the cluster (its rings
#                           equal the others'; XLBD_ETCD: other endpoints)
#   lb_kill N               kill -9 of N's BIRD and xlbd (its XDP program
#                           stays attached: xlbd's crash drops nothing)
#   lb_xdp_off N            detach N's XDP program: with lb_kill, a dead host
#   lb_freeze N / lb_thaw N SIGSTOP / SIGCONT N's BIRD: a silent node, whose
#                           BGP session stays open (only BFD can tell)
#   lb_announce N / lb_withdraw N
#                           xlb node undrain / drain on N (without xlbd:
#                           N's routes deleted by hand)
#   lb_joined N, lb_xlbd_up N
#   lb_env N CMD...         run a lib.sh helper against N's xlbd (xlb,
#                           xlbd_start, xlbd_stop, counter, vip_with, ...)
#   lb_addr N [6]           N's underlay address
#   bird_start NS CONF      BIRD in namespace NS with its own control
#                           socket; waits until birdc answers
#   bird_kill NS            kill -9 of NS's BIRD
#   birdc_in NS CMD...      birdc through NS's control socket
#   bgp_up N                the router's session with N is Established
#   router_nexthops VIP     how many next hops the router's FIB has for
#                           VIP (0: no route)
#   fib_watch OUT, fib_watch_stop, fib_change_ms OUT VIP [SINCE]
#                           record the router's route changes stamped with
#                           their time (ip -ts monitor); when VIP's changed
#                           (first at or after SINCE, ms)
#   router_path SPORT [VIP] the balancer ("lbN") the router sends a TCP
#                           flow from the client's port SPORT to VIP:80
#   ports_via N COUNT       COUNT client ports (30000..32767) whose flows to
#                           VIP4:80 the router sends to lbN now
#   etcd_start N            etcd member N (lb1..lb3's namespace, client
#                           2379, peer 2380, data in scratch)
#   etcd_kill N             kill -9 of member N
#   etcd_healthy [N...]     the members (default 1..3) answer healthy
#   etcdctl_rt ARGS...      etcdctl from the router to the members
#   etcd_endpoints [N...]   their client URLs, comma separated
# Every balancer serves the same VIPs (the suite's config, CLUSTER_CONF):
# VIP4:80/tcp and VIP6:80/tcp over b1..b3.

CLUSTER_NODES=${CLUSTER_NODES:-3} # started by cluster_up; lb4 is spare
CLUSTER_CONF=$W/cluster.json
RT_AS=65000
LB_AS=65001
# BFD: 50 ms x 3, as in production; BGP's own timers short enough that a
# session comes back in about a second (BIRD's defaults keep it down for
# a minute after an error).
BFD_MS=50
BFD_MULT=3

# lb_addr N [6]: balancer N's underlay address (the router's is .1/::1).
lb_addr() {
	if [ "${2:-4}" = 6 ]; then
		echo "2001:db8:2$1::2"
	else
		echo "198.18.2$1.2"
	fi
}

lb_dir() {
	echo "$W/lb$1"
}

# lb_env N CMD...: CMD (a lib.sh helper or any command) with lib.sh's
# daemon variables pointing at balancer N's xlbd.
lb_env() {
	local n=$1 d

	shift
	d=$(lb_dir "$n")
	SOCK=$d/xlbd.sock XLBD_PIDFILE=$d/xlbd.pid XLBD_NS=lb$n \
		XLBD_STATE_DIR=$d/state XLBD_LOG=$d/xlbd.log \
		XLBD_PIN_DIR=/sys/fs/bpf/xlb-lb$n METRICS_PORT=$((9120 + n)) \
		XLBD_EXTRA="--etcd ${XLBD_ETCD:-$(etcd_endpoints)} --cluster e2e
			--node lb$n --route-table 100 --bird-socket $(bird_sock "lb$n")
			--heartbeat 500" \
		"$@"
}

# ---- namespaces ----

cluster_ns() {
	topo_ns "$1"
	# Addresses stay while a link is down (a balancer taken down and up).
	topo_sysctl "$1" net.ipv6.conf.all.keep_addr_on_down=1
}

# cluster_lb_link N: balancer N's namespace and its link to the router.
cluster_lb_link() {
	local n=$1

	cluster_ns "lb$n"
	topo_routed "lb$n" "2$n" 1600 # lb_addr's
	# xlbd sends encapsulated packets back out with XDP_TX.
	topo_xdp_pass rt "r-lb$n"
	mkdir -p "$(lb_dir "$n")"
}

cluster_topo() {
	local i

	for i in cl rt $(seq -f 'b%g' "$TOPO_BACKENDS"); do
		cluster_ns "$i"
	done
	topo_router
	# ECMP by the L4 hash: flows of one client spread over the balancers.
	# Not policy 1: for a forwarded packet that carries a layer-4 hash it
	# takes that hash as is, and across veths the client's packets carry
	# its socket's random txhash (which TCP changes after a timeout). A
	# real router hashes the packet's fields; policy 3 with the 5-tuple
	# (source, destination, protocol, ports: 0x37) does here, and so does
	# `ip route get ... sport S dport D` (router_path).
	topo_sysctl rt net.ipv4.fib_multipath_hash_policy=3
	topo_sysctl rt net.ipv4.fib_multipath_hash_fields=0x37
	topo_sysctl rt net.ipv6.fib_multipath_hash_policy=3
	topo_sysctl rt net.ipv6.fib_multipath_hash_fields=0x37
	topo_client
	for i in $(seq "$TOPO_BACKENDS"); do
		topo_backend "$i"
	done
	for i in 1 2 3 4; do
		cluster_lb_link "$i"
	done
	# A broken path then fails a connect in 7 s, not 2 minutes.
	topo_sysctl cl net.ipv4.tcp_syn_retries=2
	# A download read slowly (curl --limit-rate) stays on the wire only
	# if the client's receive buffer cannot take the whole of it.
	topo_sysctl cl "net.ipv4.tcp_rmem=4096 32768 65536"
}

# ---- BIRD ----

bird_sock() {
	echo "$W/bird-$1.ctl"
}

birdc_in() {
	local n=$1

	shift
	timeout 10 birdc -s "$(bird_sock "$n")" "$@"
}

# bird_start NS CONF: BIRD in namespace NS (it forks; its pid in
# $W/bird-NS.pid); returns once it answers on its control socket.
bird_start() {
	local n=$1

	rm -f "$(bird_sock "$n")"
	in_ns "$n" bird -s "$(bird_sock "$n")" -c "$2" -P "$W/bird-$n.pid" ||
		return 1
	wait_for 30 birdc_in "$n" show status >/dev/null 2>&1
}

bird_kill() {
	local pid

	pid=$(cat "$W/bird-$1.pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null
	wait_for 30 gone "$pid"
	rm -f "$W/bird-$1.pid"
}

bird_alive() {
	local pid

	pid=$(cat "$W/bird-$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

# The timers both ends of a session share: reconnect within a second,
# and no minute-long error wait after a failure.
bird_bgp_timers() {
	cat <<EOF
	connect delay time 1;
	connect retry time 1;
	error wait time 1, 2;
	error forget time 10;
	bfd on;
EOF
}

bird_bfd() {
	cat <<EOF
protocol bfd {
	interface "$1" {
		min rx interval $BFD_MS ms;
		min tx interval $BFD_MS ms;
		idle tx interval 300 ms;
		multiplier $BFD_MULT;
	};
}
EOF
}

# The router: a session with each of lb1..lb4, VIPs accepted only as host
# routes of the VIP ranges, equal routes merged into one multipath route.
router_bird_conf() {
	local n

	cat <<EOF
log "$W/bird-rt.log" all;
router id 198.18.10.1;
protocol device { scan time 10; }
protocol kernel kernel4 {
	ipv4 { import none; export all; };
	merge paths on;
}
protocol kernel kernel6 {
	ipv6 { import none; export all; };
	merge paths on;
}
$(bird_bfd 'r-lb*')
template bgp balancer {
	local as $RT_AS;
$(bird_bgp_timers)
	ipv4 { import where net ~ [ 198.19.0.0/16{32,32} ]; export none; };
	ipv6 { import where net ~ [ 2001:db8:100::/48{128,128} ]; export none; };
}
EOF
	for n in 1 2 3 4; do
		echo "protocol bgp lb$n from balancer { neighbor $(lb_addr "$n") as $LB_AS; }"
	done
}

# Balancer N: learns the routes of kernel table 100 (its announcements)
# and exports the VIP host routes among them to the router. One session
# over IPv4 carries both families; the IPv6 routes name N's IPv6 address
# as next hop.
lb_bird_conf() {
	local n=$1

	cat <<EOF
log "$W/bird-lb$n.log" all;
router id $(lb_addr "$n");
protocol device { scan time 10; }
protocol kernel vips4 {
	kernel table 100;
	learn;
	scan time 10;
	ipv4 { import all; export none; };
}
protocol kernel vips6 {
	kernel table 100;
	learn;
	scan time 10;
	ipv6 { import all; export none; };
}
$(bird_bfd eth0)
protocol bgp uplink {
	local as $LB_AS;
	neighbor 198.18.2$n.1 as $RT_AS;
$(bird_bgp_timers)
	ipv4 { import none; export where net ~ [ 198.19.0.0/16{32,32} ]; };
	ipv6 {
		import none;
		export where net ~ [ 2001:db8:100::/48{128,128} ];
		next hop address $(lb_addr "$n" 6);
	};
}
EOF
}

# bgp_up N: the router's session with balancer N is Established.
bgp_up() {
	birdc_in rt show protocols "lb$1" 2>/dev/null | grep -q Established
}

# ---- the router's view ----

# router_nexthops VIP: the number of next hops of the router's route to
# VIP (a host route), 0 when it has none.
router_nexthops() {
	local f=-4 len=32

	case $1 in *:*) f=-6 len=128 ;; esac
	in_ns rt ip "$f" route show exact "$1/$len" 2>/dev/null | grep -o ' via ' | grep -c .
}

# nexthops_are VIP N: router_nexthops VIP is N.
nexthops_are() {
	[ "$(router_nexthops "$1")" -eq "$2" ]
}

# fib_watch OUT: in the background, the router's route changes as `ip
# -ts monitor route` prints them (stamped when they happen: a poll of the
# FIB would take tens of ms on a busy machine), into OUT until
# fib_watch_stop. Its pid in FIB_WATCH.
fib_watch() {
	in_ns rt ip -ts monitor route >"$1" 2>&1 &
	# shellcheck disable=SC2034 # fib_watch_stop's
	FIB_WATCH=$!
	wait_for 20 fib_watch_hears "$1" ||
		{ echo "ip monitor does not report changes" >&2; return 1; }
}

# fib_watch_hears OUT: a route added (in the VIP range, never announced)
# shows in OUT; removed again either way, so the next try is a change.
fib_watch_hears() {
	local rc=1

	in_ns rt ip route add 198.19.255.255/32 via 198.18.10.2 2>/dev/null
	sleep 0.05
	grep -a -q -F " 198.19.255.255 " "$1" && rc=0
	in_ns rt ip route del 198.19.255.255/32 2>/dev/null
	return $rc
}

fib_watch_stop() {
	kill "$FIB_WATCH" 2>/dev/null
	wait "$FIB_WATCH" 2>/dev/null
	return 0
}

# fib_change_ms OUT VIP: the time (ms since the epoch) of the first change
# fib_watch saw to the route of VIP; 1 if none.
fib_change_ms() {
	local ts sec ms

	# The first change at or after SINCE: a busy machine may still be
	# settling an earlier one (a session of another node that flapped).
	while read -r ts; do
		sec=$(date -d "${ts%.*}" +%s) || return 1
		ts=${ts#*.}000000
		ms=$((sec * 1000 + 10#${ts:0:3}))
		[ "$ms" -ge "${3:-0}" ] && { echo "$ms"; return 0; }
	done < <(grep -a -F " $2 " "$1" | sed -n 's/^\[\([^]]*\)\].*/\1/p')
	return 1
}

# router_path SPORT [VIP]: the balancer the router's FIB picks for a TCP
# flow from the client's port SPORT to VIP (VIP4 by default) port 80;
# the router hashes exactly these fields (L4 hash policy).
router_path() {
	local vip=${2:-$VIP4} src=$CLIENT4

	case $vip in *:*) src=$CLIENT6 ;; esac
	in_ns rt ip route get "$vip" from "$src" iif r-cl ipproto tcp \
		sport "$1" dport 80 |
		awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { sub("^r-", "", $(i + 1)); print $(i + 1); exit } }'
}

# ports_via N COUNT: COUNT client ports from 30000 up (below the ephemeral
# range: no other connection takes them) whose TCP flows to VIP4:80 the
# router now sends to balancer N, one a line. One `ip -batch` for them
# all: its answers come in the order of the questions.
ports_via() {
	local q

	for ((q = 30000; q < 32768; q++)); do
		echo "route get $VIP4 from $CLIENT4 iif r-cl ipproto tcp sport $q dport 80"
	done | in_ns rt ip -batch - 2>/dev/null | awk -v want="r-lb$1" -v n="$2" '
		BEGIN { p = 30000 }
		/^[^ \t]/ {
			for (i = 1; i < NF; i++)
				if ($i == "dev" && $(i + 1) == want) {
					print p
					if (++k >= n) exit
				}
			p++
		}'
}

# ---- balancers ----

lb_alive() {
	local pid

	bird_alive "lb$1" || return 1
	pid=$(cat "$(lb_dir "$1")/xlbd.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

# lb_start N: N's BIRD (session with the router up) and xlbd (the suite's
# VIPs applied). Announces nothing.
lb_start() {
	local n=$1 d

	d=$(lb_dir "$n")
	lb_bird_conf "$n" >"$d/bird.conf"
	bird_alive "lb$n" || bird_start "lb$n" "$d/bird.conf" || return 1
	wait_for 60 bgp_up "$n" || {
		echo "lb$n: no BGP session with the router" >&2
		return 1
	}
	lb_env "$n" xlb status >/dev/null 2>&1 || lb_env "$n" xlbd_start ||
		return 1
	# The config comes from etcd: the node has it once it joined.
	wait_for 60 lb_joined "$n" || {
		echo "lb$n did not join the cluster: $(lb_env "$n" xlb cluster status 2>&1 | head -3)" >&2
		return 1
	}
}

# lb_joined N: N's xlbd read the cluster's state and its rings match.
lb_joined() {
	[ "$(lb_env "$1" xlb -j cluster status 2>/dev/null | jq -r .joined)" = true ]
}

# lb_xlbd_up N: N's xlbd answers.
lb_xlbd_up() {
	lb_env "$1" xlb status >/dev/null 2>&1
}

# lb_kill N: N's BIRD and xlbd die (kill -9, both signals sent at once,
# at LB_KILLED_MS). xlbd's XDP program stays attached and serving, as
# after any crash of xlbd.
lb_kill() {
	local b="" x=""

	read -r b <"$W/bird-lb$1.pid"
	read -r x <"$W/lb$1/xlbd.pid"
	# shellcheck disable=SC2034 # the caller's
	LB_KILLED_MS=$(now_ms)
	kill -9 ${b:+"$b"} ${x:+"$x"} 2>/dev/null
	bird_kill "lb$1"
	lb_env "$1" xlbd_stop KILL
}

# lb_freeze N: N's BIRD stops (SIGSTOP) without closing anything: its BGP
# session stays open and only BFD can tell the router. lb_thaw N resumes
# it. LB_FROZEN_MS: when.
lb_freeze() {
	local b=""

	read -r b <"$W/bird-lb$1.pid"
	# shellcheck disable=SC2034 # the caller's
	LB_FROZEN_MS=$(now_ms)
	kill -STOP "$b"
}

lb_thaw() {
	local b=""

	read -r b <"$W/bird-lb$1.pid"
	kill -CONT "$b"
}

# lb_xdp_off N: detach N's XDP program; after lb_kill, N is a dead host
# (its kernel forwards nothing: VIP traffic gets a host unreachable).
lb_xdp_off() {
	in_ns "lb$1" ip link set dev eth0 xdp off
}

lb_announce() {
	lb_env "$1" xlb node undrain >/dev/null
}

# Without an xlbd to drain, its routes are deleted by hand (a killed
# xlbd leaves them: they outlive it by design).
lb_withdraw() {
	lb_xlbd_up "$1" && lb_env "$1" xlb node drain >/dev/null && return 0
	in_ns "lb$1" ip route del blackhole "$VIP4/32" table 100 2>/dev/null
	in_ns "lb$1" ip -6 route del blackhole "$VIP6/128" table 100 2>/dev/null
	return 0
}

# ---- etcd ----

etcd_endpoints() {
	local n out=""

	[ $# -gt 0 ] || set -- 1 2 3
	for n in "$@"; do out="$out${out:+,}http://$(lb_addr "$n"):2379"; done
	echo "$out"
}

etcdctl_rt() {
	in_ns rt timeout 10 etcdctl --dial-timeout=1s --command-timeout=2s "$@"
}

# etcd_healthy [N...]: every one of these members answers healthy.
etcd_healthy() {
	etcdctl_rt --endpoints="$(etcd_endpoints "$@")" endpoint health \
		>/dev/null 2>&1
}

# etcd_start N: member N of the cluster lb1..lb3 in N's namespace, on its
# address (and 127.0.0.1 for a local client); data in scratch. Quick
# elections: heartbeat 50 ms, election timeout 500 ms, pre-vote so a
# member back from the dead does not depose a sound leader.
etcd_start() {
	local n=$1 a peers="" i

	a=$(lb_addr "$n")
	for i in 1 2 3; do
		peers="$peers${peers:+,}lb$i=http://$(lb_addr "$i"):2380"
	done
	nsenter --net="/run/netns/$(ns "lb$n")" etcd --name "lb$n" \
		--data-dir "$(lb_dir "$n")/etcd" \
		--listen-client-urls "http://$a:2379,http://127.0.0.1:2379" \
		--advertise-client-urls "http://$a:2379" \
		--listen-peer-urls "http://$a:2380" \
		--initial-advertise-peer-urls "http://$a:2380" \
		--initial-cluster "$peers" --initial-cluster-token xlb-e2e \
		--initial-cluster-state new \
		--heartbeat-interval 50 --election-timeout 500 --pre-vote \
		--logger zap --log-outputs stderr \
		>>"$(lb_dir "$n")/etcd.log" 2>&1 &
	echo $! >"$(lb_dir "$n")/etcd.pid"
	disown $!
}

etcd_alive() {
	local pid

	pid=$(cat "$(lb_dir "$1")/etcd.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

etcd_kill() {
	local pid

	pid=$(cat "$(lb_dir "$1")/etcd.pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null
	wait_for 30 gone "$pid"
}

# ---- the whole bed ----

# cluster_config: the suite's VIPs, built with the CLI on lb1 and dumped
# as the document every balancer applies.
cluster_config() {
	lb_env 1 xlb_reset >/dev/null &&
		lb_env 1 vip_with "$VIP4:80/tcp" 198.18.31.2 198.18.32.2 198.18.33.2 &&
		lb_env 1 vip_with "[$VIP6]:80/tcp" 2001:db8:31::2 2001:db8:32::2 2001:db8:33::2 &&
		lb_env 1 xlb config dump >"$CLUSTER_CONF"
}

cluster_up() {
	local i t0

	cluster_topo || return 1
	for i in $(seq "$TOPO_BACKENDS"); do
		topo_nginx "$i" "$W" || return 1
		topo_agent "$i" "$W"
	done
	t0=$(now_ms)
	for i in 1 2 3; do etcd_start "$i"; done
	wait_for 60 etcd_healthy || { echo "etcd did not become healthy" >&2; return 1; }
	ETCD_UP_MS=$(($(now_ms) - t0))
	echo "$ETCD_UP_MS" >"$W/etcd_up_ms"
	echo "etcd: 3 members healthy ${ETCD_UP_MS} ms after start"
	router_bird_conf >"$W/bird-rt.conf"
	bird_start rt "$W/bird-rt.conf" || return 1
	echo '{"vips": []}' >"$CLUSTER_CONF"
	for i in $(seq "$CLUSTER_NODES"); do
		lb_start "$i" || return 1
	done
	cluster_config || return 1
	cluster_ready
}

# cluster_ready: lb1..lb(CLUSTER_NODES) up, serving the suite's VIPs and
# announcing them (the router has one next hop per balancer), lb4 down
# and silent, the etcd members up and healthy.
cluster_ready() {
	local i n=$CLUSTER_NODES

	# etcd first: a starting xlbd joins through it.
	for i in 1 2 3; do etcd_alive "$i" || etcd_start "$i"; done
	wait_for 60 etcd_healthy || { echo "etcd is not healthy" >&2; return 1; }
	for i in $(seq "$n"); do
		# A test may have left its BIRD frozen (lb_freeze).
		bird_alive "lb$i" && lb_thaw "$i"
		in_ns "lb$i" ip link show dev eth0 | grep -q 'prog/xdp' ||
			lb_env "$i" xlbd_stop KILL
		lb_start "$i" || return 1
		lb_announce "$i"
	done
	for i in $(seq $((n + 1)) 4); do
		lb_withdraw "$i"
		bird_kill "lb$i"
		lb_env "$i" xlbd_stop TERM
	done
	# The suite's VIPs, whatever a test left: one edit, every node.
	lb_env 1 xlb config apply "$CLUSTER_CONF" >/dev/null || return 1
	if ! wait_for 60 nexthops_are "$VIP4" "$n" ||
		! wait_for 60 nexthops_are "$VIP6" "$n"; then
		echo "the router has $(router_nexthops "$VIP4") next hops for $VIP4, $(router_nexthops "$VIP6") for $VIP6, not $n" >&2
		return 1
	fi
	wait_for 60 etcd_healthy || { echo "etcd is not healthy" >&2; return 1; }
}

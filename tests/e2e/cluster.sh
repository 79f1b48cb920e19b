#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# The end-to-end tests of several balancers as one: a router spreading
# flows over three balancers by ECMP (routes learned by BGP from each
# balancer's BIRD, failures detected by BFD), an etcd cluster on the
# balancers, real clients and servers (tests/e2e/cluster_lib.sh draws
# the bed and lists its helpers).
#   tests/e2e/cluster.sh [TEST...]  all tests, or only these
#   V=1 tests/e2e/cluster.sh        also show every test's commands and output
# Prints "PASS name", "FAIL name: reason" or "SKIP name: why" per test, then
# "N passed, N failed[, N skipped]"; exits 1 when a test failed.
#
# Like run.sh it re-executes itself in new mount, network and PID
# namespaces with its own bpffs, /run/netns and scratch tmpfs, so that
# nothing it starts (BIRD, etcd, xlbd, nginx) outlives it or sees the
# host's. The bed is built once; before each test cluster_ready brings it
# back to three balancers announcing the same VIPs and a healthy etcd.
# shellcheck source-path=SCRIPTDIR
set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

ALL_TESTS="ecmp_spreads same_backend_any_node kill_node_detected
	bfd_detects_silent_node etcd_cluster_healthy status_shows_announcement
	edit_applied_everywhere
	fourth_joins backend_fails_everywhere etcd_bad_config watch_gap_resync
	etcd_loses_members cluster_options_refused"

# shellcheck source=runner.sh
. "$E2E_DIR/runner.sh"
runner_enter cluster "$0" "$@"

# ---- inside the namespaces from here on ----

# etcd preallocates a 64 MB WAL per member in the scratch tmpfs.
runner_mounts cl
# shellcheck source=../../scripts/topo.sh
. "$ROOT/scripts/topo.sh"
# shellcheck source=lib.sh
. "$E2E_DIR/lib.sh"
# shellcheck source=cluster_lib.sh
. "$E2E_DIR/cluster_lib.sh"
# shellcheck source=cluster_cases.sh
. "$E2E_DIR/cluster_cases.sh"

BIG_SIZE=2097152 # topo_nginx's /big

cleanup() {
	local i

	trap - EXIT INT TERM
	for i in 1 2 3 4; do lb_env "$i" xlbd_stop TERM; done
	topo_down >/dev/null 2>&1
	runner_unmount
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

runner_require curl nginx ethtool nsenter jq bird birdc etcd etcdctl

# ---- the tests ----

# lb_tx N: packets balancer N encapsulated to the IPv4 backends.
lb_tx() {
	lb_env "$1" counter tx_ipip
}

# tx_all: "N1 N2 N3", lb_tx of each serving balancer.
tx_all() {
	local i out=""

	for i in $(seq "$CLUSTER_NODES"); do out="$out${out:+ }$(lb_tx "$i")"; done
	echo "$out"
}

# All three balancers announce: the router has a route with three next
# hops, and 300 new connections from one client all succeed, spread so
# that each balancer carries more than a tenth of them.
t_ecmp_spreads() {
	local before after got total i d sum=0 bad=""
	local -a b a

	run in_ns rt ip route show exact "$VIP4"
	[ "$(router_nexthops "$VIP4")" -eq 3 ] ||
		fail "the router has $(router_nexthops "$VIP4") next hops for $VIP4, not 3"
	[ "$(router_nexthops "$VIP6")" -eq 3 ] ||
		fail "the router has $(router_nexthops "$VIP6") next hops for $VIP6, not 3"
	before=$(tx_all)
	got=$(http_answers "http://$VIP4" 300 | grep -x 'b[0-9]' | tally)
	after=$(tx_all)
	echo "answers: $got"
	total=$(($(count_of b1 "$got") + $(count_of b2 "$got") + $(count_of b3 "$got")))
	[ "$total" -eq 300 ] || fail "$total of 300 connections answered ($got)"
	read -r -a b <<<"$before"
	read -r -a a <<<"$after"
	for i in 0 1 2; do sum=$((sum + a[i] - b[i])); done
	for i in 0 1 2; do
		d=$((a[i] - b[i]))
		echo "lb$((i + 1)): $d of $sum packets ($((100 * d / sum))%)"
		[ $((10 * d)) -gt "$sum" ] || bad="$bad lb$((i + 1))=$((100 * d / sum))%"
	done
	[ -z "$bad" ] || fail "a balancer carried 10% or less:$bad"
}

# fingerprint N VIP: N's ring fingerprint of VIP.
fingerprint() {
	lb_env "$1" xlb -j ring show "$2" | jq -r .fingerprint
}

# carrier BEFORE MIN: the balancer whose lb_tx grew by MIN packets or more
# since BEFORE (tx_all), if exactly one did.
carrier() {
	local -a b a
	local i c=""

	read -r -a b <<<"$1"
	read -r -a a <<<"$(tx_all)"
	for i in "${!a[@]}"; do
		if [ $((a[i] - b[i])) -ge "$2" ]; then
			[ -z "$c" ] || return 1
			c=$((i + 1))
		fi
	done
	[ -n "$c" ] && echo "$c"
}

# slow_download URL OUT PORT: URL from the client's port PORT into OUT, read
# 16 KiB at a time every 50 ms (some 200 KB/s at most, slower on a busy
# machine): with the client's small receive buffer the flow stays on the
# wire that long. Not curl --limit-rate: it lets the first 2 MB through
# at full speed when curl is slow to check. Exits with curl's status
# (errors in OUT.err).
slow_download() {
	rm -f "$2"
	: >"$2"
	# shellcheck disable=SC2016 # expanded by bash -c
	in_ns cl timeout 90 bash -c '
		set -o pipefail
		curl -sS --max-time 80 --local-port "$3" "$1" 2>"$2.err" |
			while n=$(dd bs=16384 count=1 iflag=fullblock status=none |
				tee -a "$2" | wc -c) && [ "$n" -gt 0 ]; do
				sleep 0.05
			done' _ "$1" "$2" "$3"
}

# Every balancer builds the same ring, so a flow may change balancer: a
# download keeps flowing, from the same backend, when the balancer that
# carried it withdraws the VIP and the router moves it to another.
t_same_backend_any_node() {
	local v f i port pid before c p x rc size moved

	for v in "$VIP4:80/tcp" "[$VIP6]:80/tcp"; do
		f=$(fingerprint 1 "$v")
		case $f in "" | null) fail "no fingerprint for $v on lb1" ;; esac
		for i in 2 3; do
			[ "$(fingerprint "$i" "$v")" = "$f" ] ||
				fail "lb$i's ring of $v differs: $(fingerprint "$i" "$v") vs lb1's $f"
		done
		echo "$v: fingerprint $f on lb1, lb2, lb3"
	done

	# A client port of our own, below the ephemeral range (probe_ports),
	# so that the router can tell which balancer it hashes to.
	port=$((20000 + RANDOM % 10000))
	before=$(tx_all)
	slow_download "http://$VIP4/big" "$W/dl" "$port" &
	pid=$!
	wait_for 20 carrier "$before" 2 >/dev/null ||
		fail "no single balancer carried the download: $before -> $(tx_all)"
	c=$(carrier "$before" 2)
	wait_for 20 grep -q . "$W/dl" || fail "the download did not start"
	p=$(router_path "$port")
	x=$(head -1 "$W/dl")
	echo "the download (client port $port) goes through lb$c (the router's hash says $p) to $x"
	[ "$p" = "lb$c" ] || fail "the counters say lb$c, the router's FIB $p"
	size=$(stat -c %s "$W/dl" 2>/dev/null || echo 0)
	echo "$size bytes downloaded when lb$c withdraws"
	[ "$size" -lt $((BIG_SIZE * 3 / 4)) ] ||
		fail "$size of $BIG_SIZE bytes already downloaded: too late to test a move"
	run lb_withdraw "$c"
	wait_for 20 nexthops_are "$VIP4" 2 ||
		fail "the router still has $(router_nexthops "$VIP4") next hops after lb$c withdrew"
	p=$(router_path "$port")
	echo "the router now sends it to $p"
	before=$(tx_all)
	wait_for 20 carrier "$before" 2 >/dev/null ||
		fail "the download is carried by none after the withdrawal: $before -> $(tx_all)"
	moved=$(carrier "$before" 2)
	echo "lb$moved carries it now"
	[ "$moved" != "$c" ] || fail "lb$c still carries the download after withdrawing"
	[ "lb$moved" = "$p" ] || fail "lb$moved carries it, the router's FIB says $p"
	wait "$pid"
	rc=$?
	size=$(stat -c %s "$W/dl" 2>/dev/null || echo 0)
	echo "download: exit $rc, $size bytes from $(head -1 "$W/dl")"
	[ "$rc" -eq 0 ] || fail "the download broke (exit $rc: $(oneline <"$W/dl.err"))"
	[ "$size" -eq "$BIG_SIZE" ] || fail "the download got $size of $BIG_SIZE bytes"
}

# new_conns_loop SECONDS OUT PORT...: short connections one after the
# other from the client for SECONDS, each from the next of these client
# ports, its connect bounded to 0.9 s (below the first retransmission
# of a lost SYN, at 1 s, and above what a busy machine takes to connect
# through a live node); "START_MS END_MS OK|FAIL"
# per connection in OUT, BUSY when the port could not be bound (TIME_WAIT
# of an earlier run).
new_conns_loop() {
	local secs=$1 out=$2

	shift 2
	# shellcheck disable=SC2016 # expanded by bash -c
	in_ns cl timeout $((secs + 10)) bash -c '
		ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
		end=$(($(ms) + $1 * 1000)) vip=$2
		shift 2
		for port in "$@"; do
			[ "$(ms)" -lt "$end" ] || break
			s=$(ms)
			curl -s -o /dev/null --connect-timeout 0.9 --max-time 2 \
				--local-port "$port" -H "Connection: close" "http://$vip/"
			case $? in 0) r=OK ;; 45) r=BUSY ;; *) r=FAIL ;; esac
			echo "$s $(ms) $r"
		done' _ "$secs" "$VIP4" "$@" >"$out"
}

# fail_stretch FILE: from new_conns_loop lines (several loops' merged),
# "LONGEST FIRST LAST": the longest run of failed connections in start
# order, from the start of its first to the end of its last (ms), and the
# start times of the first and last failed connection (0 if none).
fail_stretch() {
	sort -n "$1" | awk '
		$3 == "FAIL" {
			if (!first) first = $1
			last = $1
			if (!run) run = $1
			if ($2 - run > worst) worst = $2 - run
		}
		$3 == "OK" { run = 0 }
		END { printf "%.0f %.0f %.0f\n", worst, first, last }'
}

# conns_start N: two new_conns_loop for 10 s in the background (pids in
# CONNS), from client ports the router sends to balancer N (ports_via):
# each of them fails while N is gone and the router does not know.
# Returns once 10 connections succeeded (a busy machine starts curl
# slowly: the loops run long enough to outlast the failure anyway).
conns_start() {
	local ports

	ports=$(ports_via "$1" 300)
	[ "$(echo "$ports" | grep -c .)" -ge 100 ] ||
		fail "only $(echo "$ports" | grep -c .) client ports go through lb$1"
	CONNS=()
	rm -f "$W"/loop?
	# shellcheck disable=SC2046 # lists of ports
	new_conns_loop 10 "$W/loop1" $(echo "$ports" | sed -n 'p;n') &
	CONNS+=($!)
	# shellcheck disable=SC2046
	new_conns_loop 10 "$W/loop2" $(echo "$ports" | sed -n 'n;p') &
	CONNS+=($!)
	wait_for 20 sh -c "[ \$(cat '$W'/loop? 2>/dev/null | grep -c OK) -ge 10 ]" ||
		fail "new connections do not succeed"
}

# conns_check T0 T1: waits for the loops of conns_start; prints how many
# failed and the longest failing stretch after a node failed at T0 and
# the router knew at T1 (ms); fails if a connection begun a second after
# T1 failed or a stretch outlasted the detection by more than 1.5 s (the
# connection's own bound, and a busy machine's slack).
conns_check() {
	local worst first last

	wait "${CONNS[@]}"
	cat "$W"/loop? >"$W/loop"
	read -r worst first last <<<"$(fail_stretch "$W/loop")"
	echo "new connections: $(grep -c OK "$W/loop") ok, $(grep -c FAIL "$W/loop") failed; longest failing stretch $worst ms"
	[ "$first" -gt 0 ] || return 0
	echo "failed connections began from $((first - $1)) to $((last - $1)) ms after the failure"
	[ $((last - $2)) -le 1000 ] ||
		fail "a new connection begun $((last - $2)) ms after the router knew failed"
	[ "$worst" -le $(($2 - $1 + 1500)) ] ||
		fail "new connections failed for $worst ms, detection took $(($2 - $1)) ms"
}

# Killing one balancer's BIRD and xlbd and detaching its XDP program (a
# dead host: xlbd's program outlives xlbd by design) takes it out of the
# router's FIB within BFD's detection time; held connections through the
# others keep flowing, those through the dead one continue through the
# others to the same backend, and new connections fail only until the
# router knows. lb1 dies: Linux divides the hash range in order, so some
# flows of a survivor move to the other survivor too.
t_kill_node_detected() {
	local k=1 r0 r1 ports t0 t1 det on_k cont=0 broke=0 i p was now
	local moved=0 other_broke=0 toff
	local -A via

	hold_open kill 30
	r0=$HELD
	ports=$(hold_round kill ports) || fail "hold.sh failed"
	# Which balancer carries each held connection, by the router's hash.
	while read -r i p; do
		[ "$p" = - ] && fail "held connection $i has no port"
		via[$i]=$(router_path "$p")
	done <<<"$ports"
	echo "held connections by balancer: $(printf '%s\n' "${via[@]}" | sort | uniq -c | tr -s ' \n' ' ')"
	on_k=$(printf '%s\n' "${via[@]}" | grep -cx "lb$k")
	[ "$on_k" -gt 0 ] || fail "no held connection went through lb$k: nothing to test"

	conns_start "$k"
	fib_watch "$W/fib" || fail "ip monitor does not report route changes"
	# The host dies: its data path, then its processes (the other order
	# would leave the router a moment to move the flows first).
	toff=$(now_ms)
	lb_xdp_off "$k"
	lb_kill "$k"
	t0=$LB_KILLED_MS
	wait_for 30 nexthops_are "$VIP4" 2 ||
		fail "the router still has $(router_nexthops "$VIP4") next hops 30 s after lb$k died"
	fib_watch_stop
	t1=$(fib_change_ms "$W/fib" "$VIP4" "$t0") ||
		fail "ip monitor saw no change of $VIP4 after lb$k died"
	det=$((t1 - t0))
	echo "detection: the router's route to $VIP4 changed $det ms after lb$k died:"
	grep -a -A3 -F " $VIP4 " "$W/fib" | head -4

	r1=$(hold_round kill after) || fail "hold.sh failed"
	hold_close
	for i in "${!via[@]}"; do
		was=$(echo "$r0" | awk -v i="$i" '$1 == i { print $2 }')
		now=$(echo "$r1" | awk -v i="$i" '$1 == i { print $2 }')
		if [ "${via[$i]}" = "lb$k" ]; then
			if [ "$now" = "$was" ]; then cont=$((cont + 1)); else broke=$((broke + 1)); fi
			continue
		fi
		[ "$now" = "$was" ] || other_broke=$((other_broke + 1))
		p=$(echo "$ports" | awk -v i="$i" '$1 == i { print $2 }')
		[ "$(router_path "$p")" = "${via[$i]}" ] || moved=$((moved + 1))
	done
	echo "held connections through lb$k: $cont continued, $broke broke (of $on_k)"
	echo "held connections through the others: $other_broke of $((30 - on_k)) broke; $moved of them moved to the other survivor"

	conns_check "$toff" "$t1"
	[ "$other_broke" -eq 0 ] ||
		fail "$other_broke held connections through the surviving balancers broke"
	[ "$broke" -eq 0 ] ||
		fail "$broke of the $on_k held connections through lb$k broke ($cont continued)"
}

# A balancer that stops without a word (a hung host: its BIRD frozen, its
# data path gone; no FIN on the BGP session, which a kill -9 sends) leaves
# the router's FIB within BFD's time, not BGP's hold time (240 s); new
# connections fail only until then.
t_bfd_detects_silent_node() {
	local k=3 t1 det toff

	conns_start "$k"
	fib_watch "$W/fib" || fail "ip monitor does not report route changes"
	toff=$(now_ms)
	lb_xdp_off "$k"
	lb_freeze "$k"
	xdp_on "lb$k" && fail "lb$k's XDP program is still attached"
	wait_for 30 nexthops_are "$VIP4" 2 ||
		fail "the router still has $(router_nexthops "$VIP4") next hops 30 s after lb$k's BIRD froze"
	fib_watch_stop
	t1=$(fib_change_ms "$W/fib" "$VIP4" "$LB_FROZEN_MS") ||
		fail "ip monitor saw no change of $VIP4 after lb$k froze"
	det=$((t1 - LB_FROZEN_MS))
	echo "detection: the router's route to $VIP4 changed $det ms after lb$k's BIRD froze"
	birdc_in rt show protocols "lb$k"
	# lb$k stays silent until the loops are done: back, it would be
	# announced again while its data path is still off.
	conns_check "$toff" "$t1"
	lb_thaw "$k"
	# BFD 50 ms x 3 is 150 ms; a busy machine may add some.
	[ "$det" -le 1000 ] || fail "a silent balancer was detected after $det ms (BFD: $((BFD_MS * BFD_MULT)) ms)"
	# Back: the session comes up again and the VIP is announced.
	wait_for 60 nexthops_are "$VIP4" 3 ||
		fail "lb$k did not come back after its BIRD resumed"
}

# etcd_put_get KEY VALUE ENDPOINTS: a put then a linearizable get through
# these members returns VALUE.
etcd_put_get() {
	etcdctl_rt --endpoints="$3" put "$1" "$2" >/dev/null 2>&1 &&
		[ "$(etcdctl_rt --endpoints="$3" get --print-value-only "$1" 2>/dev/null)" = "$2" ]
}

# The three members answer healthy; with one killed the other two still
# take writes and answer reads; restarted, it rejoins and has the writes
# made while it was away.
t_etcd_cluster_healthy() {
	local k=3 t0 ms

	echo "etcd was healthy $(cat "$W/etcd_up_ms") ms after its start"
	run etcdctl_rt --endpoints="$(etcd_endpoints)" endpoint health ||
		fail "not every member is healthy"
	[ "$(etcdctl_rt --endpoints="$(etcd_endpoints)" member list | grep -c started)" -eq 3 ] ||
		fail "the cluster does not list 3 started members"
	etcd_kill "$k"
	etcd_healthy "$k" && fail "member $k still answers after kill -9"
	wait_for 30 etcd_put_get /xlb/e2e/while-down "v$$" "$(etcd_endpoints 1 2)" ||
		fail "no put/get through members 1 and 2 with member $k down"
	echo "put/get through members 1 and 2 works with member $k down"
	t0=$(now_ms)
	etcd_start "$k"
	wait_for 60 etcd_healthy || fail "member $k did not rejoin"
	ms=$(($(now_ms) - t0))
	echo "member $k healthy again $ms ms after its restart"
	[ "$(etcdctl_rt --endpoints="$(etcd_endpoints "$k")" get --print-value-only /xlb/e2e/while-down)" = "v$$" ] ||
		fail "member $k does not have the write made while it was down"
	run etcdctl_rt --endpoints="$(etcd_endpoints)" endpoint status
}

# ---- the runner ----

runner_setup "the cluster" cluster_up

before_test() {
	cluster_ready || fail "the cluster is not back to three balancers"
}

runner_run before_test "$@"

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of egress over several uplinks: the balancer gets two more
# links, eth1 and eth2, to two routers u1 and u2 that both reach the
# backends through the main router:
#
#   client ── rt ── lb eth0 (VIP traffic in)
#             │ ├── u1 ── lb eth1 (uplink, share 1)
#             │ └── u2 ── lb eth2 (uplink, share 3)
#             └── b1 b2 b3
#
# Encapsulated frames leave by XDP_REDIRECT over eth1 or eth2 (never
# eth0 while both are configured), so what u1 and u2 receive from the
# balancer is each uplink's traffic as a router would count it.
# Sourced by run.sh; each t_NAME runs in its own subshell after xlb_reset.

# uplink_topo: u1 and u2 (once per run), lb's eth1 and eth2 up.
uplink_topo() {
	local i

	for i in 1 2; do
		if ! ip netns list | grep -q "^$(ns "u$i")\b"; then
			topo_ns "u$i"
			topo_sysctl "u$i" net.ipv4.ip_forward=1
			topo_sysctl "u$i" net.ipv4.conf.all.rp_filter=0
			topo_sysctl "u$i" net.ipv4.conf.default.rp_filter=0
			topo_link lb "eth$i" "u$i" d-lb 1600
			in_ns lb ip addr add "198.18.4$i.2/24" dev "eth$i"
			in_ns "u$i" ip addr add "198.18.4$i.1/24" dev d-lb
			topo_link "u$i" eth0 rt "r-u$i" 1600
			in_ns "u$i" ip addr add "198.18.5$i.2/24" dev eth0
			in_ns rt ip addr add "198.18.5$i.1/24" dev "r-u$i"
			in_ns "u$i" ip route add default via "198.18.5$i.1"
			# The balancer sends to u1 and u2 with XDP_REDIRECT.
			topo_xdp_pass "u$i" d-lb
		fi
		in_ns lb ip link set "eth$i" up
	done
}

# rx_from_lb I: bytes router uI has received from the balancer.
rx_from_lb() {
	in_ns "u$1" ip -s -j link show dev d-lb | jq '.[0].stats64.rx.bytes'
}

# uplink_field IFACE FIELD: a field of `xlb -j uplink show IFACE`.
uplink_field() {
	xlb -j uplink show "$1" | jq -r ".uplinks[0].$2 // .$2"
}

uplink_is() {
	[ "$(uplink_field "$1" state)" = "$2" ]
}

# rx_grew I BASE N: router uI has received more than N bytes since BASE.
rx_grew() {
	[ $(($(rx_from_lb "$1") - $2)) -gt "$3" ]
}

# failover_reported IFACE: xlbd reports when it last wrote IFACE down.
failover_reported() {
	[ "$(uplink_field "$1" failover_at_ms)" != null ]
}

# uplinks_set: eth1 (share 1) and eth2 (share 3), gateways by address,
# both up; a VIP on the three backends.
uplinks_set() {
	uplink_topo
	vip_with "$VIP4:80/tcp" "${B4[@]}"
	must xlb uplink add eth1 --gateway 198.18.41.1 --share 1
	must xlb uplink add eth2 --gateway 198.18.42.1 --share 3
	wait_for 30 uplink_is eth1 up || fail "eth1 not up: $(uplink_field eth1 why)"
	wait_for 30 uplink_is eth2 up || fail "eth2 not up: $(uplink_field eth2 why)"
}

uplinks_clear() {
	xlb uplink del eth1 >/dev/null 2>&1
	xlb uplink del eth2 >/dev/null 2>&1
	in_ns lb ip link set eth1 up
}

# up_wrk SECONDS: wrk with a new connection per request from the client
# to the VIP, in the background; its output in $W/wrk.out.
up_wrk() {
	in_ns cl timeout $(($1 + 60)) wrk -t 2 -c 16 -d "${1}s" --timeout 10s \
		-H 'Connection: close' "http://$VIP4/" >"$W/wrk.out" 2>&1
}

# wrk_clean: wrk ran and saw no error of any kind.
wrk_clean() {
	cat "$W/wrk.out"
	grep -q 'requests in' "$W/wrk.out" ||
		fail "wrk did not run: $(tail -1 "$W/wrk.out")"
	if grep -E 'Socket errors|Non-2xx' "$W/wrk.out"; then
		fail "wrk saw errors: $(grep -E 'Socket errors|Non-2xx' "$W/wrk.out" | oneline)"
	fi
}

# backend_resets: RSTs the backends have sent so far. Every RST a client
# connection could get comes from a backend (the balancer sends none),
# e.g. from one that a flow moved to by mistake. (The client's own
# counters also count the RSTs wrk sends when it stops mid-request.)
backend_resets() {
	local i n=0 r

	for i in $(seq "$TOPO_BACKENDS"); do
		r=$(in_ns "b$i" nstat -az TcpOutRsts | awk '$1 == "TcpOutRsts" { print $2 }')
		n=$((n + r))
	done
	echo "$n"
}

# Shares 1:3: over a wrk run the bytes the two routers receive from the
# balancer split 25/75 within 5 points, and nothing leaves by eth0.
t_uplink_shares_follow_targets() {
	local a0 b0 a1 b1 tx0 tx1 share

	uplinks_set
	a0=$(rx_from_lb 1) b0=$(rx_from_lb 2)
	tx0=$(in_ns rt ip -s -j link show dev r-lb | jq '.[0].stats64.rx.packets')
	up_wrk 8
	wrk_clean
	a1=$(rx_from_lb 1) b1=$(rx_from_lb 2)
	tx1=$(in_ns rt ip -s -j link show dev r-lb | jq '.[0].stats64.rx.packets')
	xlb uplink list
	share=$(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) \
		'BEGIN { if (a + b > 0) printf "%.1f", 100 * a / (a + b) }')
	echo "bytes from the balancer: u1 $((a1 - a0)), u2 $((b1 - b0)): u1's share $share% (target 25%)"
	[ -n "$share" ] || fail "no bytes reached the uplink routers"
	awk -v s="$share" 'BEGIN { exit !(s >= 20 && s <= 30) }' ||
		fail "u1 took $share% of the bytes, want 25 +- 5"
	# A few frames of its own (ARP, ND) may pass; not the 10,000s of wrk.
	[ $((tx1 - tx0)) -lt 100 ] ||
		fail "$((tx1 - tx0)) frames still left by eth0"
	uplinks_clear
}

# Under load, eth1 is set down: the data path has it down within 100 ms
# of the event, every request succeeds and no connection is reset; set up
# again, it takes new flows again.
t_uplink_failover_under_load() {
	local t0 at fo r0 r1 a0 a1 b0 wrk_pid

	uplinks_set
	r0=$(backend_resets)
	up_wrk 10 &
	wrk_pid=$!
	# Once both carry the load, take eth1 down.
	a0=$(rx_from_lb 1)
	wait_for 30 rx_grew 1 "$a0" 100000 ||
		fail "no traffic on eth1 before the failover"
	# From an ip already running in lb's namespace: starting one costs
	# tens of ms here, which the measurement must not count.
	coproc IPB { in_ns lb ip -batch -; }
	echo "link show dev eth1" >&"${IPB[1]}"
	read -r -t 30 _ <&"${IPB[0]}" || fail "ip -batch did not start"
	t0=$(now_ms)
	echo "link set dev eth1 down" >&"${IPB[1]}"
	wait_for 30 uplink_is eth1 down || fail "eth1 not marked down"
	eval "exec ${IPB[1]}>&-" # ip ends at the end of its input
	# The state is xlbd's view; failover_at_ms the write the data path
	# reads, which may follow it by a moment.
	wait_for 30 failover_reported eth1 ||
		fail "no failover time reported"
	at=$(uplink_field eth1 failover_at_ms)
	fo=$((at - t0))
	echo "eth1 down: uplink_set written $fo ms after ip link set down" \
		"(xlbd: $(uplink_field eth1 failover_latency_us_last) us from the event's receipt)"
	[ "$fo" -le 100 ] || fail "failover took $fo ms, want <= 100"
	a0=$(uplink_field eth1 packets)
	# Resets read while wrk still runs, once eth2 has carried 4 MB more
	# (seconds of load, past every retransmission the outage caused):
	# when wrk stops it drops requests in flight, which is not ours.
	b0=$(rx_from_lb 2)
	wait_for 30 rx_grew 2 "$b0" 4000000 ||
		fail "eth2 did not carry the load"
	kill -0 "$wrk_pid" 2>/dev/null ||
		fail "wrk ended before the resets were read: nothing was tested"
	r1=$(backend_resets)
	wait "$wrk_pid"
	wrk_clean
	a1=$(uplink_field eth1 packets)
	[ "$a1" = "$a0" ] || fail "$((a1 - a0)) frames sent by eth1 while it was down"
	[ "$r1" = "$r0" ] || fail "the backends sent $((r1 - r0)) TCP resets"
	echo "flows moved off eth1: $(uplink_field eth1 failovers)"

	in_ns lb ip link set eth1 up
	wait_for 30 uplink_is eth1 up || fail "eth1 not up again: $(uplink_field eth1 why)"
	a0=$(rx_from_lb 1)
	up_wrk 3
	wrk_clean
	a1=$(rx_from_lb 1)
	echo "after eth1 came back: $((a1 - a0)) bytes by it"
	[ $((a1 - a0)) -gt 100000 ] || fail "eth1 takes no new flows after coming back"
	uplinks_clear
}

# kill -9 of xlbd under load with uplinks set: the attached program keeps
# reaching xlb_egress through the pinned slot, so frames keep leaving by
# both uplinks while xlbd is away; the restarted xlbd adopts it all, and
# no request fails.
t_uplink_kill9_keeps_sending() {
	local a b n

	uplinks_set
	kill9_load "http://$VIP4"
	wait_for 30 answered_more 0 100 || fail "no load before the kill"
	run xlbd_stop KILL
	a=$(rx_from_lb 1) b=$(rx_from_lb 2) n=$(answered)
	wait_for 30 answered_more "$n" 100 ||
		fail "new connections stopped with xlbd down"
	if [ "$(rx_from_lb 1)" -le "$a" ] || [ "$(rx_from_lb 2)" -le "$b" ]; then
		fail "an uplink carried nothing while xlbd was down"
	fi
	run xlbd_start || fail "xlbd did not restart"
	wait_for 30 uplink_is eth1 up || fail "eth1 not up after the restart"
	n=$(answered)
	wait_for 30 answered_more "$n" 100 ||
		fail "new connections stopped after the restart"
	kill9_load_clean
	xlb uplink list
	uplinks_clear
}

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of full-NAT: plain nginx backends (no decapsulation, no VIP on
# lo: the NAT VIPs below are on no backend) reached through a `nat` VIP
# by curl and wrk over IPv4 and IPv6, a pool too small for one more
# connection, its ports used again after the linger, kill -9 of xlbd
# under load, and health checks of NAT backends.
# Sourced by run.sh; each t_NAME runs in its own subshell after xlb_reset.

NVIP4=198.19.0.9
NVIP6=2001:db8:100::9
NPOOL4=198.18.200.1-198.18.200.2
NPOOL6=2001:db8:200::1-2001:db8:200::2

# nat_vip VIP POOL RANGE [--ports LO-HI] ADDR...: a client-NAT pool, a VIP
# in nat mode taking its ports from it, and its backends.
nat_vip() {
	local vip=$1 pool=$2 range=$3 b
	local -a opts=()

	shift 3
	if [ "${1:-}" = --ports ]; then
		opts=(--ports "$2")
		shift 2
	fi
	must xlb pool add "$pool" "$range" "${opts[@]}"
	must xlb vip add "$vip" --mode nat --pool "$pool"
	for b in "$@"; do
		must xlb backend add "$vip" "$b"
	done
}

# nat_wrk URL SECONDS: wrk with a new connection per request (so its
# requests/s are connections/s through the NAT); fails on any error and
# prints the rate.
nat_wrk() {
	in_ns cl timeout $(($2 + 60)) wrk -t 2 -c 20 -d "${2}s" \
		-H 'Connection: close' "$1" >"$W/wrk.out" 2>&1
	cat "$W/wrk.out"
	grep -q 'requests in' "$W/wrk.out" ||
		fail "wrk did not run: $(tail -1 "$W/wrk.out")"
	grep -E 'Socket errors|Non-2xx' "$W/wrk.out" &&
		fail "wrk saw errors: $(grep -E 'Socket errors|Non-2xx' "$W/wrk.out" | oneline)"
	echo "connections/s through the NAT: $(awk '/^Requests\/sec/ { print $2 }' "$W/wrk.out")"
}

# pool_figures POOL: what the pool's allocator did, on one line.
pool_figures() {
	xlb -j pool show "$1" | jq -c '{refills, topups, steals, reclaims,
		refill_latency_us_last, refill_latency_us_max, entries}'
}

t_nat_http_v4() {
	nat_vip "$NVIP4:80/tcp" p4 "$NPOOL4" "${B4[@]}"
	http_check "http://$NVIP4" 60 tx_nat tx_nat_reply
	nat_wrk "http://$NVIP4/" 5
	pool_figures p4
}

t_nat_http_v6() {
	nat_vip "[$NVIP6]:80/tcp" p6 "$NPOOL6" "${B6[@]}"
	http_check "http://[$NVIP6]" 60 tx_nat tx_nat_reply
	nat_wrk "http://[$NVIP6]/" 5
	pool_figures p6
}

# pool_figures POOL: what the pool's allocator did, on one line.
pool_figures() {
	xlb -j pool show "$1" | jq -c '{refills, topups, steals, reclaims,
		refill_latency_us_last, refill_latency_us_max, entries}'
}

# One address x 64 ports: 64 connections held open from one CPU of the
# client take every port, the 65th gets no answer (its SYNs dropped and
# counted), those held keep working; closed, their ports come back after
# the linger and serve new connections.
t_nat_tiny_pool() {
	local d0 d1 held r

	echo '{"global": {"nat_linger_ms": 1000}, "vips": []}' >"$W/nat.json"
	must xlb config apply "$W/nat.json"
	nat_vip "$NVIP4:80/tcp" tiny 198.18.200.7 --ports 20000-20063 \
		"${B4[@]}"
	d0=$(counter drop_nat_pool_exhausted)
	# One CPU sends them all: the test is of the pool, not of how the
	# client's CPUs share out its ports.
	HOLD_CPU=0 hold_start nt "$NVIP4" 64
	held=$(hold_round nt open) || fail "hold.sh failed"
	echo "held: $(echo "$held" | tally_col)"
	echo "$held" | grep -qv ' b[123]$' &&
		fail "64 connections of a 64-port pool did not all open: $(echo "$held" | grep -v ' b[123]$' | oneline)"
	xlb pool show tiny
	pool_figures tiny
	r=$(in_ns cl taskset -c 0 curl -sS -g --connect-timeout 3 --max-time 5 \
		"http://$NVIP4/" 2>&1) &&
		fail "a 65th connection was answered: $r"
	d1=$(counter drop_nat_pool_exhausted)
	echo "drop_nat_pool_exhausted: $d0 -> $d1"
	[ "$d1" -gt "$d0" ] ||
		fail "the 65th connection failed but drop_nat_pool_exhausted did not say why"
	held=$(hold_round nt again) || fail "hold.sh failed"
	echo "$held" | grep -qv ' b[123]$' &&
		fail "a held connection broke when the pool ran out: $(echo "$held" | oneline)"
	hold_close
	# Closed: entries go after the linger, then whole sub-pools return.
	wait_for 60 in_ns cl taskset -c 0 curl -sS -g --connect-timeout 2 --max-time 4 \
		-o /dev/null "http://$NVIP4/" ||
		fail "no port came back after the connections closed: $(xlb pool show tiny | oneline)"
	xlb pool show tiny
}

# kill -9 xlbd under load through the NAT VIP, restart it: no request
# fails. wrk in 2-second runs of keep-alive connections and new
# connections from curl, 100 at a time, go on while xlbd is away: new
# connections take ports from what the CPUs hold (xlbd keeps their slots
# full while the pool has plenty: the headroom), established ones keep
# their entries, and the restarted xlbd adopts every sub-pool as it is.
t_nat_kill9_under_wrk() {
	local n

	nat_vip "$NVIP4:80/tcp" p4 "$NPOOL4" "${B4[@]}"
	kill9_load "http://$NVIP4"
	wait_for 30 answered_more 0 100 || fail "no load before the kill"
	pool_figures p4
	run xlbd_stop KILL
	n=$(answered)
	wait_for 30 answered_more "$n" 200 ||
		fail "new connections stopped with xlbd down"
	run xlbd_start || fail "xlbd did not restart"
	if ! kill -0 "$WPID" || ! kill -0 "$LPID"; then
		fail "the load ended before xlbd was back: nothing was tested"
	fi
	n=$(answered)
	wait_for 30 answered_more "$n" 100 ||
		fail "new connections stopped after the restart"
	kill9_load_clean
	pool_figures p4
}

# A NAT backend's check reaches it at its own address (no tunnel):
# stopping its server takes it out, new connections go to the others,
# and it comes back when it answers again.
t_nat_health_check() {
	local v=$NVIP4:80/tcp a got

	nat_vip "$v" p4 "$NPOOL4" "${B4[@]}"
	must xlb check set "$v" --kind http "${QUICK[@]}" --fall 2 --rise 2
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	on_exit nginx_ensure 2
	nginx_stop 2
	wait_health "$v" 198.18.32.2 down 20
	got=$(http_each "http://$NVIP4" 30 | grep -x 'b[0-9]' | tally)
	echo "with b2 down: $got"
	[ $(($(count_of b1 "$got") + $(count_of b3 "$got"))) -eq 30 ] ||
		fail "30 requests with b2 down: $got"
	nginx_ensure 2
	wait_health "$v" 198.18.32.2 up 20
}

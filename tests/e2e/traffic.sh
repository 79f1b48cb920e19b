# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of the data path seen from a client: requests through VIPs in
# every encapsulation, UDP, weights, connection affinity while the backend
# set changes, and drain. Sourced by run.sh; each t_NAME runs in its own
# subshell after xlb_reset.

B4=(198.18.31.2 198.18.32.2 198.18.33.2)
B6=(2001:db8:31::2 2001:db8:32::2 2001:db8:33::2)
BIG_SIZE=2097152 # topo_nginx's /big

# http_check URLBASE N COUNTER...: N requests on new connections all
# answered, by every backend, and each COUNTER (the encapsulation's, or
# both ways of full-NAT) grew by at least SYN, request and FIN of each.
http_check() {
	local base=$1 n=$2 cnt got total b after
	local -A before

	shift 2
	for cnt in "$@"; do
		before[$cnt]=$(counter "$cnt") || fail "no counter $cnt in xlb stats"
	done
	got=$(http_each "$base" "$n" | grep -x 'b[0-9]' | tally)
	echo "answers: $got"
	total=0
	for b in b1 b2 b3; do
		total=$((total + $(count_of $b "$got")))
	done
	[ "$total" -eq "$n" ] ||
		fail "$total of $n requests to $base answered ($got)"
	for b in b1 b2 b3; do
		[ "$(count_of $b "$got")" -gt 0 ] ||
			fail "$b never answered in $n requests ($got)"
	done
	for cnt in "$@"; do
		after=$(counter "$cnt")
		echo "$cnt: ${before[$cnt]} -> $after"
		[ $((after - before[$cnt])) -ge $((3 * n)) ] ||
			fail "$cnt grew by $((after - before[$cnt])) for $n connections"
	done
}

t_http_v4() {
	vip_with "$VIP4:80/tcp" "${B4[@]}"
	http_check "http://$VIP4" 60 tx_ipip
}

t_http_v6() {
	vip_with "[$VIP6]:80/tcp" "${B6[@]}"
	http_check "http://[$VIP6]" 60 tx_ip6ip6
}

# An IPv4 VIP served by IPv6 backends: IPv4 in IPv6.
t_http_4in6() {
	vip_with "$VIP4:80/tcp" "${B6[@]}"
	http_check "http://$VIP4" 60 tx_4in6
}

# An IPv6 VIP served by IPv4 backends: IPv6 in IPv4.
t_http_6in4() {
	vip_with "[$VIP6]:80/tcp" "${B4[@]}"
	http_check "http://[$VIP6]" 60 tx_6in4
}

# GUE (the agents accept it on 6080 by default), chosen per VIP, over IPv4
# and over IPv6.
t_http_gue() {
	vip_with "$VIP4:80/tcp" --encap gue "${B4[@]}"
	http_check "http://$VIP4" 60 tx_gue
}

t_http_gue_v6() {
	vip_with "[$VIP6]:80/tcp" --encap gue "${B6[@]}"
	http_check "http://[$VIP6]" 60 tx_gue
}

# One datagram from each of N client sockets (N source ports), one after
# the other; every one answered by the service on some backend.
t_udp_v4() {
	local n=60 got total b

	vip_with "$VIP4:5353/udp" "${B4[@]}"
	# shellcheck disable=SC2016 # expanded by bash -c
	got=$(in_ns cl timeout 120 bash -c '
		for ((i = 0; i < $1; i++)); do
			exec {fd}<>"/dev/udp/$2/5353" || exit 1
			echo ping >&"$fd"
			# One read() per datagram (bash read would take one
			# byte of it and drop the rest).
			r=$(timeout 3 dd bs=512 count=1 status=none <&"$fd")
			echo "${r:-none}"
			exec {fd}>&-
		done' _ "$n" "$VIP4" | tally)
	echo "answers: $got"
	total=$(($(count_of b1 "$got") + $(count_of b2 "$got") +
		$(count_of b3 "$got")))
	[ "$total" -eq "$n" ] || fail "$total of $n datagrams answered ($got)"
	for b in b1 b2 b3; do
		[ "$(count_of $b "$got")" -gt 0 ] ||
			fail "$b never answered in $n datagrams ($got)"
	done
}

# Weights 1:2:3: new connections land within 10% (relative) of 1/6, 2/6,
# 3/6. 6000 connections: with 3000 the 1/6 share alone would miss the
# bound by chance in about one run of 70.
t_weights() {
	local n=6000 got i want have lo hi bad=""

	vip_with "$VIP4:80/tcp" 198.18.31.2:1 198.18.32.2:2 198.18.33.2:3
	got=$(http_answers "http://$VIP4" "$n" | grep -x 'b[0-9]' | tally)
	echo "answers: $got"
	for i in 1 2 3; do
		want=$((n * i / 6))
		have=$(count_of "b$i" "$got")
		lo=$((want - want / 10)) hi=$((want + want / 10))
		echo "b$i: $have, want $lo..$hi"
		[ "$have" -ge "$lo" ] && [ "$have" -le "$hi" ] ||
			bad="$bad b$i=$have (want $lo..$hi)"
	done
	[ -z "$bad" ] || fail "shares off:$bad"
}

# Connections held open keep their backend while a third backend is added
# (so a third of them hash elsewhere) and removed again.
t_held_connections_keep_backend() {
	local r0 r1 r2 d

	vip_with "$VIP4:80/tcp" 198.18.31.2 198.18.32.2
	hold_start held "$VIP4" 30
	r0=$(hold_round held open) || fail "hold.sh failed"
	echo "$r0" | tally_col
	echo "$r0" | grep -qv ' b[12]$' &&
		fail "opening: $(echo "$r0" | grep -cv ' b[12]$') of 30 connections failed"
	must xlb backend add "$VIP4:80/tcp" 198.18.33.2
	r1=$(hold_round held added) || fail "hold.sh failed"
	must xlb backend del "$VIP4:80/tcp" 198.18.33.2
	r2=$(hold_round held removed) || fail "hold.sh failed"
	hold_close
	d=$(diff_rounds "$r0" "$r1")
	[ -z "$d" ] || fail "after adding a backend, $(echo "$d" | wc -l) of 30 held connections changed: $(echo "$d" | oneline)"
	d=$(diff_rounds "$r0" "$r2")
	[ -z "$d" ] || fail "after removing it, $(echo "$d" | wc -l) of 30 held connections changed: $(echo "$d" | oneline)"
}

# Removing a backend moves the flows that were on it and no other.
# Established flows: 30 held connections; those on b3 break (they move to
# a backend that resets them), the others answer from the same backend.
# New connections: 300 fixed client ports probed before and after; those
# that hashed to b3 move, the others stay, and the fraction moved is shown.
t_remove_moves_only_its_flows() {
	local r0 r1 d on3 p0 p1 n n3 from3 other busy

	vip_with "$VIP4:80/tcp" "${B4[@]}"
	hold_open rm 30
	r0=$HELD
	p0=$(probe_ports "http://$VIP4" 20000 20299)
	echo "ports: $(echo "$p0" | tally_col)"
	echo "$p0" | grep -q ' -$' &&
		fail "$(echo "$p0" | grep -c ' -$') of 300 probes unanswered before removing"

	must xlb backend del "$VIP4:80/tcp" 198.18.33.2
	r1=$(hold_round rm removed) || fail "hold.sh failed"
	hold_close
	p1=$(probe_ports "http://$VIP4" 20000 20299)
	echo "ports after: $(echo "$p1" | tally_col)"

	# Held connections: exactly those on b3 changed.
	on3=$(echo "$r0" | awk '$2 == "b3" { print $1 }' | sort)
	d=$(diff_rounds "$r0" "$r1")
	echo "held connections changed: $(echo "$d" | grep -c .) of 30, $(echo "$on3" | grep -c .) were on b3"
	[ -n "$on3" ] || fail "no held connection was on b3: nothing was tested"
	[ "$(echo "$d" | awk '{ print $1 }' | sort)" = "$on3" ] ||
		fail "held connections that changed are not those on b3: $(echo "$d" | oneline)"
	echo "$d" | grep -q ' b3$' &&
		fail "a held connection is still answered by the removed b3"

	# New connections from the same ports: compare the ports answered
	# both times (a few may be busy in TIME_WAIT, see probe_ports).
	echo "$p1" | grep -q ' -$' &&
		fail "$(echo "$p1" | grep -c ' -$') of 300 probes unanswered after removing"
	d=$(join <(echo "$p0") <(echo "$p1") | awk '$2 ~ /^b[0-9]+$/ && $3 ~ /^b[0-9]+$/')
	n=$(echo "$d" | grep -c .)
	busy=$((300 - n))
	[ "$busy" -le 15 ] || fail "$busy of 300 client ports were busy"
	n3=$(echo "$d" | awk '$2 == "b3"' | grep -c .)
	from3=$(echo "$d" | awk '$2 == "b3" && $3 != "b3"' | grep -c .)
	other=$(echo "$d" | awk '$2 != "b3" && $2 != $3' | grep -c .)
	echo "moved: $((from3 + other)) of $n ports ($(((from3 + other) * 100 / n))%;" \
		"$n3 were on b3, $((n3 * 100 / n))%): $from3 of the $n3 on b3," \
		"$other of the $((n - n3)) on b1/b2 ($busy ports busy)"
	[ "$n3" -gt 0 ] || fail "no probed port was on b3: nothing was tested"
	[ "$from3" -eq "$n3" ] || fail "$((n3 - from3)) ports still reach the removed b3"
	[ "$other" -eq 0 ] ||
		fail "$other of the $((n - n3)) ports on b1/b2 moved too"
}

# Drain: open downloads on the drained backend complete, new connections
# avoid it.
t_drain() {
	local i x addr got pids=() size bad=""

	vip_with "$VIP4:80/tcp" "${B4[@]}"
	for i in $(seq 0 5); do
		in_ns cl curl -s --max-time 20 --limit-rate 512K \
			-o "$W/dl$i" "http://$VIP4/big" &
		pids+=($!)
	done
	# The first line of /big names the backend.
	wait_for 20 grep -q . "$W/dl0" 2>/dev/null || fail "download 0 did not start"
	x=$(head -1 "$W/dl0")
	addr=198.18.3${x#b}.2
	echo "download 0 is on $x ($addr)"
	must xlb backend set "$VIP4:80/tcp" "$addr" --state drain
	xlb backend list "$VIP4:80/tcp" | grep "$addr"
	got=$(http_answers "http://$VIP4" 150 | grep -x 'b[0-9]' | tally)
	echo "new connections: $got"
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" || bad="$bad dl$i(curl exit $?)"
		size=$(stat -c %s "$W/dl$i" 2>/dev/null || echo 0)
		echo "dl$i: $(head -1 "$W/dl$i" 2>/dev/null) $size bytes"
		[ "$size" -eq "$BIG_SIZE" ] || bad="$bad dl$i($size bytes)"
	done
	[ -z "$bad" ] || fail "downloads did not complete:$bad"
	[ "$(count_of "$x" "$got")" -eq 0 ] ||
		fail "drained $x got $(count_of "$x" "$got") of 150 new connections ($got)"
	[ $(($(count_of b1 "$got") + $(count_of b2 "$got") + $(count_of b3 "$got"))) -eq 150 ] ||
		fail "not every new connection was answered ($got)"
}

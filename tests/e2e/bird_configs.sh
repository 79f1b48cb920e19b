#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Proves the example BIRD configs (scripts/bird/) do what they say: a
# router and two balancers in network namespaces, BIRD in each with the
# example config (its defines set by sed, its log sent to a file), VIPs
# announced the way xlbd does it (a blackhole route in table 100, protocol
# 177). Checks that the router's FIB holds one multipath route with both
# balancers as nexthops, drops one when it withdraws, and drops one whose
# BIRD is killed (BFD / session loss), printing how long that took.
#   tests/e2e/bird_configs.sh        V=1 also shows BIRD's logs on failure
# Prints "PASS name" or "FAIL name: reason" per step, then
# "N passed, N failed[, N skipped]"; exits 1 when a step failed.
#
#   lb1 (198.18.50.2, 2001:db8:50::2) ── rt ── lb2 (198.18.51.2, ...:51::2)
set -u

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$DIR/../.." && pwd)
CONF=$ROOT/scripts/bird
TABLE=100
VIP4=198.19.0.1
VIP6=2001:db8:100::1

summary() { # passed failed skipped
	if [ "$3" -gt 0 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
}

if [ -z "${XLB_BIRD_INNER:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v bird >/dev/null; then
		echo "SKIP bird_configs: needs root and bird (bird2)"
		summary 0 0 1
		exit 0
	fi
	export XLB_BIRD_INNER=$$
	exec unshare --mount --net --pid --fork --mount-proc \
		--kill-child=SIGTERM --propagation private "$0" "$@"
fi

# ---- inside the namespaces from here on ----

mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
W=$(mktemp -d /run/xlb-bird.XXXXXX) && mount -t tmpfs tmpfs "$W"

cleanup() {
	trap - EXIT INT TERM
	for p in "$W"/*.pid; do
		[ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	umount -l "$W" 2>/dev/null
	rmdir "$W" 2>/dev/null
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

in_ns() {
	local n=$1
	shift
	nsenter --net="/run/netns/$n" "$@"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_for MS CMD...: polls CMD until it succeeds or MS have passed.
wait_for() {
	local end=$(($(now_ms) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.005
	done
}

# link LB N: lb<N> to the router on 198.18.(49+N).0/24, 2001:db8:(49+N)::/64.
link() {
	local lb=lb$1 net=$((49 + $1))

	ip link add "rt-$lb" netns rt type veth peer name "$lb-rt" netns "$lb"
	in_ns rt ip addr add "198.18.$net.1/24" dev "rt-$lb"
	in_ns rt ip addr add "2001:db8:$net::1/64" dev "rt-$lb"
	in_ns "$lb" ip addr add "198.18.$net.2/24" dev "$lb-rt"
	in_ns "$lb" ip addr add "2001:db8:$net::2/64" dev "$lb-rt"
	in_ns rt ip link set "rt-$lb" up
	in_ns "$lb" ip link set "$lb-rt" up
}

# define FILE NAME VALUE: sets a "define NAME = ...;" line of a config.
define() {
	sed -i "s|^define $2 = [^;]*;|define $2 = $3;|" "$1"
	grep -q "^define $2 = $3;" "$1"
}

# conf NODE EXAMPLE: the node's config from the example, logging to a file.
conf() {
	local f=$W/$1.conf

	sed "s|^log syslog all;|log \"$W/$1.log\" all;|" "$CONF/$2.conf" >"$f"
	case $1 in
	lb*)
		local net=$((49 + ${1#lb}))
		define "$f" ROUTER_ID "198.18.$net.2" &&
			define "$f" ROUTER_IP4 "198.18.$net.1" &&
			define "$f" ROUTER_IP6 "2001:db8:$net::1" &&
			define "$f" ROUTE_TABLE $TABLE
		;;
	esac
}

bird_start() { # NODE
	in_ns "$1" bird -f -s "$W/$1.ctl" -c "$W/$1.conf" -P "$W/$1.pid" \
		2>>"$W/$1.log" &
	wait_for 10000 test -S "$W/$1.ctl"
}

setup() {
	for n in rt lb1 lb2; do
		ip netns add $n
		in_ns $n ip link set lo up
		in_ns $n sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1
		in_ns $n sysctl -qw net.ipv6.conf.all.accept_dad=0
		in_ns $n sysctl -qw net.ipv6.conf.default.accept_dad=0
	done
	in_ns rt sysctl -qw net.ipv4.ip_forward=1
	in_ns rt sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns rt sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	in_ns rt sysctl -qw net.ipv6.fib_multipath_hash_policy=1
	link 1 && link 2 || return 1
	conf rt router && conf lb1 balancer && conf lb2 balancer || return 1
	for n in rt lb1 lb2; do bird_start $n || return 1; done
}

passed=0 failed=0
pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
	[ "${V:-0}" = 1 ] && tail -n 20 "$W"/*.log | sed 's/^/    | /'
}

# The nexthops of the router's route to a VIP, sorted, one line.
hops() { # 4|6 VIP
	in_ns rt ip -"$1" route show "$2" |
		sed -n 's/.*via \([0-9a-f.:]*\) dev.*/\1/p' | sort | tr '\n' ' '
}
hops_are() { # 4|6 VIP "A B "
	[ "$(hops "$1" "$2")" = "$3" ]
}
established() { # NODE PROTO
	birdc -s "$W/$1.ctl" show protocols "$2" | grep -q Established
}
announce() { # NODE add|del VIP
	in_ns "$1" ip route "$2" blackhole "$3" table $TABLE proto 177
}

if ! setup >"$W/setup.log" 2>&1; then
	echo "FAIL setup: namespaces or BIRD did not come up:"
	tail -20 "$W/setup.log" "$W"/*.log | sed 's/^/    | /'
	summary 0 1 0
	exit 1
fi

both4="198.18.50.2 198.18.51.2 "
both6="2001:db8:50::2 2001:db8:51::2 "
ok=1
for p in lb1_4 lb1_6 lb2_4 lb2_6; do
	wait_for 30000 established rt $p || ok=0
done
if [ $ok = 1 ]; then
	pass sessions_established
else
	fail sessions_established "router's BGP sessions not all up in 30 s"
fi

announce lb1 add $VIP4 && announce lb2 add $VIP4 &&
	announce lb1 add $VIP6 && announce lb2 add $VIP6
if wait_for 10000 hops_are 4 $VIP4 "$both4" &&
	wait_for 10000 hops_are 6 $VIP6 "$both6"; then
	pass ecmp_both_balancers
else
	fail ecmp_both_balancers "router has '$(hops 4 $VIP4)' / '$(hops 6 $VIP6)'"
fi

# Another route of the table (not a VIP) must not leave the balancer.
in_ns lb1 ip route add blackhole 198.18.99.0/24 table $TABLE proto 177
t0=$(now_ms)
announce lb2 del $VIP4
if wait_for 10000 hops_are 4 $VIP4 "198.18.50.2 "; then
	pass "withdraw_drops_nexthop ($(($(now_ms) - t0)) ms)"
else
	fail withdraw_drops_nexthop "router has '$(hops 4 $VIP4)'"
fi
if in_ns rt ip route show 198.18.99.0/24 | grep -q .; then
	fail only_vips_exported "router learned 198.18.99.0/24"
else
	pass only_vips_exported
fi

# why LB: what the router's BGP session to it says went wrong.
why() {
	birdc -s "$W/rt.ctl" show protocols "$1" |
		sed -n "s/^$1 .*  \(Active\|Connect\|Idle\) *//p"
}

# A frozen BIRD keeps its TCP connection open: only BFD can tell.
announce lb2 add $VIP4
wait_for 10000 hops_are 4 $VIP4 "$both4"
t0=$(now_ms)
kill -STOP "$(cat "$W/lb2.pid")"
if wait_for 10000 hops_are 4 $VIP4 "198.18.50.2 "; then
	ms=$(($(now_ms) - t0))
	pass "frozen_bird_drops_nexthop ($ms ms; router saw: $(why lb2_4))"
else
	fail frozen_bird_drops_nexthop "router has '$(hops 4 $VIP4)'"
fi
kill -CONT "$(cat "$W/lb2.pid")"
wait_for 20000 hops_are 4 $VIP4 "$both4"

t0=$(now_ms)
kill -9 "$(cat "$W/lb2.pid")"
if wait_for 10000 hops_are 4 $VIP4 "198.18.50.2 "; then
	ms=$(($(now_ms) - t0))
	pass "killed_bird_drops_nexthop ($ms ms; router saw: $(why lb2_4))"
else
	fail killed_bird_drops_nexthop "router has '$(hops 4 $VIP4)'"
fi

# A restarted BIRD is back in the group in seconds, not a minute.
t0=$(now_ms)
rm -f "$W/lb2.ctl"
if bird_start lb2 && wait_for 20000 hops_are 4 $VIP4 "$both4"; then
	pass "restarted_bird_rejoins ($(($(now_ms) - t0)) ms)"
else
	fail restarted_bird_rejoins "router has '$(hops 4 $VIP4)' after 20 s"
fi

summary $passed $failed 0
[ $failed -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# The xlb demo (`make demo`): a client, a router, a balancer and three
# backends in network namespaces (scripts/topo.sh); xlbd on the balancer,
# an IPv4 and an IPv6 VIP configured with the CLI, real requests with curl,
# and what the CLI then shows. Exits 0 when every request was answered.
#
# It re-executes itself in new mount, network and PID namespaces with its
# own bpffs, /run/netns and scratch tmpfs, so nothing it makes is seen outside or
# outlives it (also on failure, Ctrl-C or kill). Needs root.
# shellcheck source-path=SCRIPTDIR
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

if [ -z "${XLB_DEMO_INNER:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "demo: needs root (network namespaces, XDP): sudo make demo" >&2
		exit 1
	fi
	for f in xlbd xlb xlb-agent; do
		if [ ! -x "$BUILD/bin/$f" ]; then
			echo "demo: $BUILD/bin/$f is missing: run 'make all'" >&2
			exit 1
		fi
	done
	export XLB_DEMO_INNER=$$
	exec unshare --mount --net --pid --fork --mount-proc \
		--kill-child=SIGTERM --propagation private "$0" "$@"
fi

# ---- inside the namespaces ----
if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' G='' R='' N=''
fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
die() {
	printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2
	if [ -s "${W:-/nonexistent}/xlbd.log" ]; then
		echo "last lines of xlbd's log:" >&2
		tail -5 "$W/xlbd.log" | sed 's/^/  /' >&2
	fi
	exit 1
}

mount -t bpf bpf /sys/fs/bpf || die "cannot mount a bpffs"
mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
# A private scratch tmpfs. Not over /tmp: the checkout itself may live
# there (CI clones anywhere), and mounting over it would hide the build.
SCRATCH=$(mktemp -d /run/xlb-scratch.XXXXXX) && mount -t tmpfs -o mode=1777 tmpfs "$SCRATCH"
export TMPDIR=$SCRATCH
W=$(mktemp -d "$SCRATCH"/xlb-demo.XXXXXX)
chmod 755 "$W" # nginx workers read from here
export XLB_BIN=$BUILD/bin XDP_PASS_OBJ=$BUILD/bpf/veth_pass.bpf.o
# shellcheck disable=SC2034 # topo.sh's
TOPO_PREFIX=demo${XLB_DEMO_INNER}-
# shellcheck source=topo.sh
. "$ROOT/scripts/topo.sh"
SOCK=$W/xlbd.sock
VIP4_SVC=$VIP4:80/tcp
VIP6_SVC=[$VIP6]:80/tcp

cleanup() {
	trap - EXIT INT TERM
	echo
	echo "cleaning up: stopping xlbd and the servers, removing the namespaces"
	[ -n "${XLBD_PID:-}" ] && kill "$XLBD_PID" 2>/dev/null
	topo_down >/dev/null 2>&1
	# The mountpoint is on the host's /run: leave nothing there.
	umount -l "$SCRATCH" 2>/dev/null
	rmdir "$SCRATCH" 2>/dev/null
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

# Shows an xlb command as it would be typed, then runs it.
xlb() {
	printf '%s$ xlb %s%s\n' "$B" "$*" "$N"
	"$XLB_BIN/xlb" -s "$SOCK" "$@"
}

step "Topology"
cat <<EOF
  client $CLIENT4, $CLIENT6
    |
  router ---- balancer $LB4 (xlbd, XDP)     VIPs $VIP4, $VIP6
    |
    +-- b1 198.18.31.2, 2001:db8:31::2   backends: xlb-agent (decap)
    +-- b2 198.18.32.2, 2001:db8:32::2   and nginx answering "bN"
    +-- b3 198.18.33.2, 2001:db8:33::2
  Requests go client -> router -> balancer -> (tunnel) -> backend;
  answers go straight back to the client (direct server return).
EOF
topo_up >"$W/topo.log" 2>&1 || die "building the topology failed: $(tail -1 "$W/topo.log")"
for i in 1 2 3; do
	topo_nginx "$i" "$W" || die "nginx did not start on b$i"
	topo_agent "$i" "$W"
done
nsenter --net="/run/netns/$(ns lb)" "$XLB_BIN/xlbd" -i eth0 \
	--state-dir "$W/state" -s "$SOCK" --metrics 127.0.0.1:9120 \
	>"$W/xlbd.log" 2>&1 &
XLBD_PID=$!
for _ in $(seq 50); do
	"$XLB_BIN/xlb" -s "$SOCK" status >/dev/null 2>&1 && break
	kill -0 "$XLBD_PID" 2>/dev/null || die "xlbd exited at start"
	sleep 0.1
done
"$XLB_BIN/xlb" -s "$SOCK" status >/dev/null 2>&1 || die "xlbd does not answer"
echo "namespaces up; xlbd runs on the balancer:"
sed 's/^/  /' "$W/xlbd.log"

step "Configure an IPv4 and an IPv6 VIP, three backends each"
xlb vip add "$VIP4_SVC" || die "vip add failed"
for i in 1 2 3; do
	xlb backend add "$VIP4_SVC" "$(backend_addr "$i")" || die "backend add failed"
done
xlb vip add "$VIP6_SVC" || die "vip add failed"
for i in 1 2 3; do
	xlb backend add "$VIP6_SVC" "$(backend_addr "$i" 6)" || die "backend add failed"
done

failed=0
# requests URL N: N curls from the client, each a new connection (so a new
# source port and a new pick); prints who answered.
requests() {
	local url=$1 n=$2 i got seen=""

	printf '%s$ curl %s%s   (from the client, %d times)\n' "$B" "$url" "$N" "$n"
	for i in $(seq "$n"); do
		if got=$(nsenter --net="/run/netns/$(ns cl)" curl -s -g \
			--max-time 3 "$url"); then
			printf '  request %d: answered by %s%s%s\n' "$i" "$G" "$got" "$N"
			case " $seen " in *" $got "*) ;; *) seen="$seen $got" ;; esac
		else
			printf '  request %d: %sNO ANSWER%s (curl exit %d)\n' "$i" "$R" "$N" $?
			failed=$((failed + 1))
		fi
	done
	# shellcheck disable=SC2086 # a list of names
	set -- $seen
	if [ $# -gt 1 ]; then
		echo "  -> spread over $# backends:$seen"
	elif [ $# -eq 1 ]; then
		echo "  -> all on $1 (possible by chance; run the demo again)"
	fi
}

step "Requests to the IPv4 VIP"
requests "http://$VIP4/" 6
step "Requests to the IPv6 VIP"
requests "http://[$VIP6]/" 6

step "What the balancer shows"
xlb vip list
echo
xlb ring show "$VIP4_SVC"
echo
xlb ring show "$VIP6_SVC"
echo
xlb stats
echo
xlb stats backend

echo
if [ "$failed" -gt 0 ]; then
	die "$failed of 12 requests got no answer"
fi
printf '%sdemo: all 12 requests answered%s\n' "$G" "$N"

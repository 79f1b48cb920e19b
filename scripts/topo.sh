# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# The network-namespace topology of the demo and the e2e tests, sourced by
# both. Addresses exist only inside these namespaces (DESIGN.md): underlay
# 198.18.0.0/16, VIPs 198.19.0.0/16, IPv6 2001:db8::/32.
#
#   client ──(1500)── router ──(1600)── balancer (xlbd, XDP xlb_balance)
#                                        (and full-NAT pools 198.18.200/24)
#                      │   └─(1600)── b1 ┐ backends: xlb-agent (XDP decap),
#                      ├─────(1600)── b2 ├ nginx and a UDP service bound
#                      └─────(1600)── b3 ┘ to the VIPs on lo
#
# The router sends VIP traffic to the balancer, which encapsulates it and
# sends it back (XDP_TX) to the router, which routes it to the backend;
# backends answer the client directly. The underlay MTU is 1600 so an
# encapsulated 1500-byte packet fits.
#
# Commands run in a namespace through `nsenter --net` (not `ip netns
# exec`, which remounts /sys and would hide the bpffs the caller mounted),
# so callers first enter a private mount namespace (unshare -m) with their
# own bpffs on /sys/fs/bpf.

TOPO_PREFIX=${TOPO_PREFIX:-xlb$$-}
TOPO_BACKENDS=${TOPO_BACKENDS:-3}
VIP4=198.19.0.1
VIP6=2001:db8:100::1
# shellcheck disable=SC2034 # the tests' and the demo's (topo_routed makes them)
CLIENT4=198.18.10.2
# shellcheck disable=SC2034
CLIENT6=2001:db8:10::2
LB4=198.18.20.2
LB6=2001:db8:20::2
# Where full-NAT pools take their addresses: routed to the balancer.
NAT_NET4=198.18.200.0/24
NAT_NET6=2001:db8:200::/64

ns() { echo "${TOPO_PREFIX}$1"; }

# Run a command in a namespace: in_ns NAME CMD...
in_ns() {
	local n=$1
	shift
	nsenter --net="/run/netns/$(ns "$n")" "$@"
}

# backend_addr I [6]: the underlay address of backend I.
backend_addr() {
	if [ "${2:-4}" = 6 ]; then
		echo "2001:db8:3$1::2"
	else
		echo "198.18.3$1.2"
	fi
}

# link A IFA B IFB MTU: a veth pair between namespaces A and B.
topo_link() {
	ip link add "$2" netns "$(ns "$1")" mtu "$5" type veth \
		peer name "$4" netns "$(ns "$3")" mtu "$5"
	in_ns "$1" ip link set "$2" up
	in_ns "$3" ip link set "$4" up
}

topo_sysctl() {
	in_ns "$1" sysctl -qw "$2" >/dev/null
}

# An XDP program that passes everything, on a veth whose peer sends with
# XDP_TX: without one, veth drops those frames.
topo_xdp_pass() {
	in_ns "$1" ip link set dev "$2" xdpdrv obj "$XDP_PASS_OBJ" sec xdp
}

# topo_ns NAME: a namespace with lo up and no duplicate address detection
# (addresses are usable at once).
topo_ns() {
	ip netns add "$(ns "$1")"
	in_ns "$1" ip link set lo up
	topo_sysctl "$1" net.ipv6.conf.all.accept_dad=0
	topo_sysctl "$1" net.ipv6.conf.default.accept_dad=0
}

# topo_router: the router forwards, and does not filter by reverse path:
# replies come from the VIPs, which it routes elsewhere.
topo_router() {
	topo_sysctl rt net.ipv4.ip_forward=1
	topo_sysctl rt net.ipv6.conf.all.forwarding=1
	topo_sysctl rt net.ipv4.conf.all.rp_filter=0
	topo_sysctl rt net.ipv4.conf.default.rp_filter=0
}

# topo_routed NAME NET MTU: NAME's eth0 linked to the router's r-NAME,
# NAME 198.18.NET.2/24 and 2001:db8:NET::2/64, the router .1 and ::1 on
# its side and NAME's default routes through them: every host of the
# topologies hangs off the router this way.
topo_routed() {
	local n=$1 net=$2

	topo_link "$n" eth0 rt "r-$n" "$3"
	in_ns "$n" ip addr add "198.18.$net.2/24" dev eth0
	in_ns "$n" ip addr add "2001:db8:$net::2/64" dev eth0 nodad
	in_ns rt ip addr add "198.18.$net.1/24" dev "r-$n"
	in_ns rt ip addr add "2001:db8:$net::1/64" dev "r-$n" nodad
	in_ns "$n" ip route add default via "198.18.$net.1"
	in_ns "$n" ip -6 route add default via "2001:db8:$net::1"
}

# topo_client: the client namespace's link to the router.
topo_client() {
	topo_routed cl 10 1500
	# veth hands on TCP/UDP checksums unfinished (offload); the XDP
	# programs on the way turn the frame into one whose checksum nobody
	# will finish. A real client's NIC computes it: make ours do so too.
	in_ns cl ethtool -K eth0 tx off >/dev/null
}

# topo_backend I: backend I's link to the router, its underlay addresses
# (backend_addr) and the VIPs on lo.
topo_backend() {
	local i=$1

	topo_routed "b$i" "3$i" 1600 # backend_addr's
	in_ns "b$i" ip addr add "$VIP4/32" dev lo
	in_ns "b$i" ip addr add "$VIP6/128" dev lo
	# Decapsulated packets arrive on eth0 for an address on lo.
	topo_sysctl "b$i" net.ipv4.conf.all.rp_filter=0
	topo_sysctl "b$i" net.ipv4.conf.eth0.rp_filter=0
	# Full-NAT replies pass the balancer's XDP program: their checksums
	# must be whole when they leave (as topo_client says).
	in_ns "b$i" ethtool -K eth0 tx off >/dev/null
}

topo_up() {
	local i names="cl rt lb"

	for i in $(seq 1 "$TOPO_BACKENDS"); do names="$names b$i"; done
	for n in $names; do
		topo_ns "$n"
	done
	topo_router
	topo_client

	topo_routed lb 20 1600 # LB4, LB6
	in_ns rt ip route add 198.19.0.0/16 via "$LB4"
	in_ns rt ip -6 route add 2001:db8:100::/48 via "$LB6"
	# The client-NAT pools of full-NAT VIPs are the balancer's too.
	in_ns rt ip route add "$NAT_NET4" via "$LB4"
	in_ns rt ip -6 route add "$NAT_NET6" via "$LB6"
	topo_xdp_pass rt r-lb

	for i in $(seq 1 "$TOPO_BACKENDS"); do
		topo_backend "$i"
	done
}

# Stops every process left in our namespaces, then removes them.
topo_down() {
	local n pids

	for n in $(ip netns list 2>/dev/null | awk '{print $1}' |
		grep "^${TOPO_PREFIX}"); do
		pids=$(ip netns pids "$n" 2>/dev/null)
		# shellcheck disable=SC2086 # a list of pids
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	sleep 0.2
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' |
		grep "^${TOPO_PREFIX}"); do
		pids=$(ip netns pids "$n" 2>/dev/null)
		# shellcheck disable=SC2086 # a list of pids
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
}

# nginx on backend I, answering "bI" on port 80 (v4 and v6), logs in DIR.
# /big is 2 MiB starting with the line "bI", for long-lived downloads
# (with curl --limit-rate) whose answering backend can be read early.
topo_nginx() {
	local i=$1 dir=$2/nginx-b$1

	mkdir -p "$dir"
	{
		echo "b$i"
		head -c $((2 * 1024 * 1024 - 3)) /dev/zero | tr '\0' x
	} >"$dir/big"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
daemon on;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	keepalive_requests 100000;
	server {
		listen 80 reuseport;
		listen [::]:80 reuseport;
		location / { return 200 "b$i\n"; }
		location = /big {
			alias $dir/big;
			default_type application/octet-stream;
		}
	}
}
EOF
	in_ns "b$i" nginx -c "$dir/nginx.conf"
}

topo_nginx_stop() {
	local pid
	pid=$(cat "$2/nginx-b$1/nginx.pid" 2>/dev/null) && kill "$pid"
}

# A UDP service on backend I, bound to VIP4:5353 so replies leave from the
# VIP: nginx's stream module answers every datagram with "bI". Not socat's
# UDP-RECVFROM with fork: its children race for the datagrams that arrive
# from two peers at once (a client and the health checker), and the
# loser's datagram is never answered.
topo_udp() {
	local i=$1 dir=$2/udp-b$1

	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
daemon on;
events { worker_connections 1024; }
stream {
	server {
		listen $VIP4:5353 udp;
		return "b$i\n";
	}
}
EOF
	in_ns "b$i" nginx -c "$dir/nginx.conf"
}

# topo_udp_stop I DIR: stops backend I's UDP service.
topo_udp_stop() {
	local pid
	pid=$(cat "$2/udp-b$1/nginx.pid" 2>/dev/null) && kill "$pid"
}

topo_agent() {
	in_ns "b$1" "$XLB_BIN/xlb-agent" --interface eth0 \
		>"$2/agent-b$1.log" 2>&1 &
}

#!/usr/bin/env bash
# Installs the Debian packages xlb needs, and only those that are missing:
# a second run does nothing and needs no network. Debian 12 or Ubuntu
# 22.04+, as root.
#   scripts/deps.sh            build, test, demo and benchmark packages
#   scripts/deps.sh check      also what `make check` runs (clang-format,
#                              cppcheck)
#   scripts/deps.sh --missing [check]   print the missing ones, install
#                              nothing (the Makefile's hint on a fresh
#                              machine)
set -euo pipefail

pkgs=(
	# build; gcc-multilib brings gnu/stubs-32.h, which the BPF target's
	# view of glibc's headers asks for
	make gcc clang llvm pkg-config libbpf-dev libxdp-dev libelf-dev
	zlib1g-dev bpftool gcc-multilib
	# libraries of the userspace tools (JSON config, HTTP metrics, HTTP
	# client of etcd's JSON gateway)
	libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
	# HTTPS health checks (TLS on the checker's own non-blocking sockets)
	libssl-dev
	# readiness and reload under systemd (sd_notify)
	libsystemd-dev
	# the manual pages' source format, and what renders them (the docs
	# suite reads them as man and groff do)
	scdoc groff-base man-db
	# tests, demo and benchmarks: real servers and clients in namespaces
	# (nginx's stream module is the backends' UDP service)
	libcmocka-dev iproute2 xdp-tools util-linux ethtool nginx-light
	libnginx-mod-stream curl wrk socat jq
	# a real CPU hog on a backend (e2e of agent load reports)
	stress-ng
	# several balancers as one: routing (BIRD 2 announces VIPs, a router
	# spreads flows by ECMP) and shared state (an etcd cluster)
	bird2 etcd-server etcd-client
	# the dashboards' alert rules checked against a real Prometheus
	prometheus
	# `xlb trace` capture files read back by a real dissector (e2e)
	tshark
	# make deb (debhelper's dh; dpkg-buildpackage; no fakeroot, the
	# package's rules need no root) and make bench's picture
	debhelper dpkg-dev gnuplot-nox
)
check_pkgs=(clang-format cppcheck)

list_only=0
if [ "${1:-}" = --missing ]; then
	list_only=1
	shift
fi
case ${1:-} in
"") ;;
check) pkgs+=("${check_pkgs[@]}") ;;
*)
	echo "usage: scripts/deps.sh [--missing] [check]" >&2
	exit 2
	;;
esac

# One dpkg-query for all: names are architecture-independent here.
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "${pkgs[@]}" 2>/dev/null |
	awk '/ install ok installed$/ { printf "%s ", $1 }')"
missing=()
for p in "${pkgs[@]}"; do
	[[ $installed == *" $p "* ]] || missing+=("$p")
done
if [ $list_only = 1 ]; then
	[ ${#missing[@]} -eq 0 ] || echo "${missing[*]}"
	exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark's wireshark-common asks whether non-root may capture: no.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
apt-get update -qq
# Packaged servers (nginx) must not start on the host: the tests run their
# own inside namespaces. policy-rc.d tells the maintainer scripts so.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	made_policy=1
fi
trap '[ $made_policy = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

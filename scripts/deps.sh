#!/usr/bin/env bash
# Installs the Debian packages xlb needs to build, test and benchmark, and
# only those that are missing: a second run does nothing and needs no
# network. Debian 12 or Ubuntu 22.04+, as root.
set -euo pipefail

pkgs=(
	# build
	make gcc clang llvm pkg-config libbpf-dev libxdp-dev libelf-dev
	zlib1g-dev bpftool gcc-multilib
	# libraries of the userspace tools (JSON config, HTTP metrics)
	libjansson-dev libmicrohttpd-dev
	# tests, demo and benchmarks: real servers and clients in namespaces
	libcmocka-dev iproute2 xdp-tools util-linux ethtool nginx-light curl wrk socat jq
)

missing=()
for p in "${pkgs[@]}"; do
	# Package names are architecture-independent here; ask dpkg directly.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
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

#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# The Debian package as an operator meets it: `apt-get install ./xlb_*.deb`
# for real (dpkg, maintainer scripts, man-db's trigger), the files and
# `--version` of the three programs, `man xlb`, units installed but not
# enabled, then `apt-get purge` and nothing of xlb left; and, as the case
# that must fail, dpkg refusing the package when a library it links is
# missing (Depends comes from the binaries, not from a hand-kept list).
#   tests/e2e/deb.sh [FILE.deb]    default: build/xlb_VERSION_ARCH.deb,
#                                  made by `make deb` when missing
#   V=1 tests/e2e/deb.sh           also show every step's output
# Prints "PASS name", "FAIL name: reason" or "SKIP name: why" per step,
# then "N passed, N failed[, N skipped]"; exits 1 when a step failed.
#
# The host's packages are never touched: the script re-executes itself in
# new mount, network and PID namespaces and mounts there an overlay over
# /usr, /etc and /var whose upper layer is a tmpfs, so dpkg and apt write
# only into that tmpfs, which goes away with the namespace (even if the
# script is killed). The upper layer is then exactly what install and
# purge changed, which is what the leftover check reads. /run/systemd is
# hidden (an empty tmpfs): the maintainer scripts see no running systemd
# and talk to none. No network: a dependency that is not already on the
# host fails the install instead of being fetched.
set -u

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$DIR/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
VERSION=$(sed -n 's/^#define XLB_VERSION "\(.*\)"$/\1/p' "$ROOT/user/lib/version.h")
DEB=${1:-$BUILD/xlb_${VERSION}_$(dpkg --print-architecture).deb}
case $DEB in /*) ;; *) DEB=$PWD/$DEB ;; esac
PROGS="xlbd xlb xlb-agent"
LAYERS="usr etc var"

summary() { # passed failed skipped
	if [ "$3" -gt 0 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
}

if [ -z "${XLB_DEB_INNER:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! grep -qw overlay /proc/filesystems; then
		echo "SKIP deb: needs root and overlayfs (a throwaway /usr, /etc, /var)"
		summary 0 0 1
		exit 0
	fi
	if [ ! -f "$DEB" ] && [ $# -eq 0 ]; then
		echo "deb: $DEB missing: make deb"
		make -C "$ROOT" --no-print-directory BUILD="$BUILD" deb || {
			echo "FAIL build: make deb failed"
			summary 0 1 0
			exit 1
		}
	fi
	[ -f "$DEB" ] || {
		echo "FAIL build: no $DEB"
		summary 0 1 0
		exit 1
	}
	export XLB_DEB_INNER=$$
	exec unshare --mount --net --pid --fork --mount-proc \
		--kill-child=SIGTERM --propagation private "$0" "$@"
fi

# ---- inside the namespaces from here on ----

setup_failed() {
	echo "FAIL setup: $*"
	summary 0 1 0
	exit 1
}

W=$(mktemp -d /run/xlb-deb.XXXXXX) || setup_failed "no scratch folder in /run"
mount -t tmpfs tmpfs "$W" || setup_failed "no scratch tmpfs"

cleanup() {
	trap - EXIT INT TERM
	# The overlays and the tmpfs go with the mount namespace; the
	# mountpoint itself is on the host's /run.
	umount -l "$W" 2>/dev/null
	rmdir "$W" 2>/dev/null
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

for d in $LAYERS; do
	mkdir -p "$W/upper/$d" "$W/work/$d"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$W/upper/$d,workdir=$W/work/$d" "/$d" ||
		setup_failed "cannot mount an overlay on /$d"
done
mount -t tmpfs tmpfs /run/systemd
mkdir -p "$W/log"
export DEBIAN_FRONTEND=noninteractive

passed=0 failed=0 skipped=0

# step NAME: runs s_NAME in a subshell, its output in W/log/NAME; a
# failing step says why on its last line (fail).
fail() {
	echo "$*" >"$W/reason"
	exit 1
}

step() {
	local name=$1 rc

	rm -f "$W/reason"
	("s_$name") >"$W/log/$name" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $(cat "$W/reason" 2>/dev/null || echo "exit $rc")"
		failed=$((failed + 1))
		[ "${V:-0}" = 1 ] || tail -8 "$W/log/$name" | sed 's/^/    | /'
	fi
	[ "${V:-0}" = 1 ] && sed 's/^/    | /' "$W/log/$name"
	return 0
}

# What the package holds, files only, without the leading '.'.
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' >"$W/files"

s_install() {
	dpkg-query -W -f='${Status}\n' xlb 2>/dev/null | grep -q ' installed$' &&
		fail "xlb is already installed on this host: the test needs it absent"
	# What an operator types; apt installs the dependencies it needs
	# (none here: all are on the build host, and there is no network).
	apt-get install -y --no-install-recommends "$DEB" ||
		fail "apt-get install $DEB failed"
	[ "$(dpkg-query -W -f='${Status} ${Version}' xlb)" = "install ok installed $VERSION" ] ||
		fail "dpkg does not list xlb $VERSION as installed"
}

s_files() {
	local f p out

	for f in /usr/sbin/xlbd /usr/sbin/xlb /usr/sbin/xlb-agent \
		/lib/systemd/system/xlbd.service /lib/systemd/system/xlb-agent.service \
		/usr/share/man/man8/xlb.8.gz /usr/share/man/man8/xlbd.8.gz \
		/usr/share/man/man8/xlb-agent.8.gz /usr/share/man/man5/xlb.json.5.gz \
		/usr/share/bash-completion/completions/xlb \
		/usr/share/doc/xlb/copyright /usr/share/doc/xlb/changelog.gz \
		/usr/share/doc/xlb/examples/xlb.json \
		/usr/share/doc/xlb/examples/xlbd.default \
		/usr/share/doc/xlb/examples/xlb-agent.default \
		/usr/share/doc/xlb/examples/xlb-agent.example.json; do
		[ -f "$f" ] || echo "$f" >>"$W/missing"
	done
	[ -s "$W/missing" ] && fail "not installed: $(tr '\n' ' ' <"$W/missing")"
	for p in $PROGS; do
		out=$(ldd "/usr/sbin/$p") || fail "ldd /usr/sbin/$p failed"
		echo "$out" | grep 'not found' && fail "$p: a library it links is missing"
		out=$("/usr/sbin/$p" --version) || fail "$p --version failed"
		echo "$p --version: $out"
		[ "$out" = "$p $VERSION" ] || fail "$p --version says '$out', not '$p $VERSION'"
	done
	grep -q '^ExecStart=/usr/sbin/xlbd ' /lib/systemd/system/xlbd.service ||
		fail "xlbd.service does not start /usr/sbin/xlbd"
	grep -q '"vips"' /usr/share/doc/xlb/examples/xlb.json ||
		fail "the example config is compressed or empty"
}

s_man() {
	local out

	# The file as installed, then by name as `man xlb` finds it.
	out=$(MANWIDTH=80 man -l /usr/share/man/man8/xlb.8.gz 2>&1) ||
		fail "man -l xlb.8.gz failed: $out"
	echo "$out" | head -5
	echo "$out" | grep -q '^NAME' || fail "man -l xlb.8.gz shows no NAME section"
	out=$(MANWIDTH=80 MANPAGER=cat man 5 xlb.json 2>&1) ||
		fail "man 5 xlb.json failed: $out"
	echo "$out" | grep -q 'vips' || fail "man 5 xlb.json does not describe vips"
}

s_units_not_enabled() {
	local u state out

	for u in xlbd.service xlb-agent.service; do
		ls /etc/systemd/system/*.wants/"$u" 2>/dev/null &&
			fail "$u is enabled after install"
		command -v systemctl >/dev/null || continue
		state=$(systemctl --root=/ is-enabled "$u" 2>&1)
		echo "$u: $state"
		[ "$state" = disabled ] || fail "systemctl is-enabled $u says '$state', not disabled"
	done
	command -v systemd-analyze >/dev/null || return 0
	out=$(systemd-analyze verify /lib/systemd/system/xlbd.service \
		/lib/systemd/system/xlb-agent.service 2>&1)
	echo "$out"
	echo "$out" | grep -Eq 'Unknown (key|section)|Failed to parse|[Ii]nvalid' &&
		fail "systemd-analyze verify finds unknown options in the installed units"
	return 0
}

s_purge() {
	local f left

	apt-get purge -y xlb || fail "apt-get purge xlb failed"
	dpkg-query -W -f='${Status}\n' xlb 2>/dev/null | grep -q ' installed$' &&
		fail "dpkg still lists xlb as installed"
	while read -r f; do
		[ -e "$f" ] && echo "$f" >>"$W/left"
	done <"$W/files"
	[ -s "$W/left" ] && fail "left after purge: $(head -5 "$W/left" | tr '\n' ' ')"
	# The upper layers hold every file install and purge wrote; of xlb's
	# (the program's or dpkg's and deb-systemd-helper's records of it)
	# none may stay. Logs stay, as for any package, and so does man-db's
	# cache of formatted pages (var/cache/man/catN): this test's own man
	# and systemd-analyze's Documentation= check wrote it, and man-db's
	# daily job prunes it.
	left=$(cd "$W/upper" && find . \( -path ./var/log -o -path ./var/cache/man \) \
		-prune -o -path '*xlb*' -print)
	[ -z "$left" ] || fail "left after purge: $(echo "$left" | head -5 | tr '\n' ' ')"
	# (Not the merged view: the host may have its own /var/lib/xlb.)
	[ ! -e "$W/upper/usr/share/doc/xlb" ] || fail "purge left /usr/share/doc/xlb"
	echo "written and not removed by install + purge:"
	(cd "$W/upper" && find . ! -type d | sort)
}

# The case that must fail: without a library xlbd links (libjansson4,
# taken away with --force-depends inside the overlay), dpkg refuses to
# configure xlb and says which dependency is missing.
s_missing_library_refused() {
	local out

	dpkg --remove --force-depends libjansson4 ||
		fail "could not remove libjansson4 from the throwaway root"
	out=$(dpkg -i "$DEB" 2>&1) && fail "dpkg -i succeeded without libjansson4"
	echo "$out"
	echo "$out" | grep -q ' xlb depends on libjansson4' ||
		fail "dpkg did not name libjansson4 as the missing dependency"
}

t0=$(date +%s)
step install
if [ "$failed" -eq 0 ]; then
	step files
	step man
	step units_not_enabled
	step purge
	step missing_library_refused
else
	for n in files man units_not_enabled purge missing_library_refused; do
		echo "SKIP $n: not installed"
		skipped=$((skipped + 1))
	done
fi
echo "deb: $(basename "$DEB") in $(($(date +%s) - t0)) s"
summary "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]

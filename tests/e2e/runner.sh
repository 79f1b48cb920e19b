# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# What every e2e runner (run.sh, cluster.sh) does around its tests, sourced
# first thing:
#   runner_enter NAME SCRIPT ARGS...  re-executes SCRIPT in new mount,
#                     network and PID namespaces (once), or says SKIP when
#                     not root; NAME names the suite
#   runner_mounts PREFIX  its own bpffs, /run/netns and scratch tmpfs (not
#                     over /tmp: the checkout may live there); W, the
#                     work folder, and the exports of topo.sh and lib.sh
#   runner_require TOOL...  the built binaries and these tools are there
#   runner_setup WHAT FN  FN (the bed) with its output in W/log/setup
#   runner_run BEFORE NAME...  each test t_NAME after BEFORE, in a
#                     subshell bounded by TEST_TIMEOUT; PASS, FAIL or SKIP
#                     per test, then the summary; returns 1 on a failure
# Everything a runner starts dies with its PID namespace, and every mount
# with its mount namespace, even if it is killed.

summary() { # passed failed skipped
	if [ "$3" -gt 0 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
}

runner_enter() {
	local name=$1

	shift
	[ -z "${XLB_E2E_INNER:-}" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP $name: needs root (network namespaces, XDP)"
		summary 0 0 1
		exit 0
	fi
	export XLB_E2E_INNER=$$
	# Ctrl-C reaches the runner itself (same process group); should
	# unshare be killed, --kill-child sends the runner SIGTERM. Either
	# way the runner's trap tears down.
	exec unshare --mount --net --pid --fork --mount-proc \
		--kill-child=SIGTERM --propagation private "$@"
}

setup_failed() {
	echo "FAIL setup: $*"
	summary 0 1 0
	exit 1
}

runner_mounts() {
	mount -t bpf bpf /sys/fs/bpf || setup_failed "cannot mount bpffs"
	mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
	SCRATCH=$(mktemp -d /run/xlb-scratch.XXXXXX) &&
		mount -t tmpfs -o mode=1777 tmpfs "$SCRATCH"
	export TMPDIR=$SCRATCH
	W=$(mktemp -d "$SCRATCH/xlb-$1.XXXXXX")
	# nginx workers (www-data) read the files served from here.
	chmod 755 "$W"
	mkdir -p "$W/log"
	export XLB_BIN=$BUILD/bin XDP_PASS_OBJ=$BUILD/bpf/veth_pass.bpf.o
	# shellcheck disable=SC2034 # topo.sh's
	TOPO_PREFIX=$1${XLB_E2E_INNER}-
}

# The scratch tmpfs goes last, with everything in it.
runner_unmount() {
	umount -l "$SCRATCH" 2>/dev/null
	rmdir "$SCRATCH" 2>/dev/null
}

runner_require() {
	local f t

	for f in "$XLB_BIN/xlbd" "$XLB_BIN/xlb" "$XLB_BIN/xlb-agent" \
		"$XDP_PASS_OBJ"; do
		[ -e "$f" ] || setup_failed "$f is missing (run 'make all')"
	done
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			setup_failed "$t is not installed (run 'make deps')"
	done
}

runner_setup() {
	if ! "$2" >"$W/log/setup" 2>&1; then
		echo "FAIL setup: $1 did not come up:"
		tail -20 "$W/log/setup" | sed 's/^/    | /'
		summary 0 1 0
		exit 1
	fi
	[ "${V:-0}" = 1 ] && sed 's/^/    | /' "$W/log/setup"
	return 0
}

# runner_one BEFORE NAME: one test; its exit status (77: skipped), the
# reason in W/reason.
runner_one() {
	local before=$1 name=$2 tpid wpid rc

	rm -f "$W/reason"
	(
		"$before"
		"t_$name"
	) >"$W/log/$name" 2>&1 &
	tpid=$!
	(sleep "${TEST_TIMEOUT:-300}" && kill -0 "$tpid" 2>/dev/null &&
		echo "timed out after ${TEST_TIMEOUT:-300}s" >"$W/reason" &&
		kill -TERM "$tpid") &
	wpid=$!
	wait "$tpid"
	rc=$?
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	return "$rc"
}

runner_run() {
	local before=$1 name rc reason passed=0 failed=0 skipped=0

	shift
	# shellcheck disable=SC2086 # a list of names
	[ $# -gt 0 ] || set -- $ALL_TESTS
	for name in "$@"; do
		if ! declare -F "t_$name" >/dev/null 2>&1; then
			echo "FAIL $name: no such test (tests: $(echo "$ALL_TESTS" | tr -s '\n\t' '  '))"
			failed=$((failed + 1))
			continue
		fi
		runner_one "$before" "$name"
		rc=$?
		reason=$(cat "$W/reason" 2>/dev/null)
		case $rc in
		0)
			echo "PASS $name"
			passed=$((passed + 1))
			;;
		77)
			echo "SKIP $name: $reason"
			skipped=$((skipped + 1))
			;;
		*)
			echo "FAIL $name: ${reason:-exit $rc}"
			failed=$((failed + 1))
			;;
		esac
		if [ "${V:-0}" = 1 ]; then
			sed 's/^/    | /' "$W/log/$name"
		elif [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
			tail -8 "$W/log/$name" | sed 's/^/    | /'
		fi
	done
	summary "$passed" "$failed" "$skipped"
	[ "$failed" -eq 0 ]
}

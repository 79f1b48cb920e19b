#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# The end-to-end tests: real clients, a real balancer and real servers in
# network namespaces (scripts/topo.sh).
#   tests/e2e/run.sh [TEST...]      all tests, or only these
#   V=1 tests/e2e/run.sh            also show every test's commands and output
# Prints "PASS name", "FAIL name: reason" or "SKIP name: why" per test, then
# "N passed, N failed[, N skipped]"; exits 1 when a test failed.
#
# It re-executes itself in new mount, network and PID namespaces, and
# mounts there its own bpffs (/sys/fs/bpf), /run/netns and scratch tmpfs, so it
# sees and touches no other namespace, pin or file of the host, and
# everything it made goes away with it even if it is killed: the PID
# namespace takes every process down with the runner, the mount namespace
# every mount. The topology is built once; each test starts from a daemon
# with no VIPs (xlb_reset) and the teardown runs from a trap on exit.
# shellcheck source-path=SCRIPTDIR
set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

ALL_TESTS="http_v4 http_v6 http_4in6 http_6in4 http_gue http_gue_v6 udp_v4
	weights held_connections_keep_backend remove_moves_only_its_flows
	drain xlbd_kill9_restart restart_rebuilds_old_rings
	restart_halves_disagree cli_commands cli_json cli_bad_inputs metrics
	agent_detach failover_new_connections tunnel_check_catches_missing_vip
	tunnel_check_catches_missing_decap recovery_slow_start exec_check
	http_body_check udp_check check_bad_inputs operator_wins all_down_keep
	new_backend_waits_for_rise restart_keeps_health health_reporting
	flap_held_down
	vip_add_addresses check_down_keep_or_move control_slow_clients
	second_xlbd_refused options_checked_first config_note_and_stats_pins
	failed_save_changes_nothing journal_kill9_keeps_edit
	agent_cpu_hog agent_stale agent_haproxy_style agent_malformed
	agent_check_cli balance_bytes
	install_layout unit_exec_start_notify"

summary() { # passed failed skipped
	if [ "$3" -gt 0 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
}

if [ -z "${XLB_E2E_INNER:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP e2e: needs root (network namespaces, XDP)"
		summary 0 0 1
		exit 0
	fi
	export XLB_E2E_INNER=$$
	# Ctrl-C reaches the runner itself (same process group); should
	# unshare be killed, --kill-child sends the runner SIGTERM. Either
	# way the trap below tears down.
	exec unshare --mount --net --pid --fork --mount-proc \
		--kill-child=SIGTERM --propagation private "$0" "$@"
fi

# ---- inside the namespaces from here on ----

mount -t bpf bpf /sys/fs/bpf || { echo "FAIL setup: cannot mount bpffs"; summary 0 1 0; exit 1; }
mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
# A private scratch tmpfs. Not over /tmp: the checkout itself may live
# there (CI clones anywhere), and mounting over it would hide the build.
SCRATCH=$(mktemp -d /run/xlb-scratch.XXXXXX) && mount -t tmpfs -o mode=1777 tmpfs "$SCRATCH"
export TMPDIR=$SCRATCH
W=$(mktemp -d "$SCRATCH"/xlb-e2e.XXXXXX)
# nginx workers (www-data) read the files served from here.
chmod 755 "$W"
mkdir -p "$W/log"
export XLB_BIN=$BUILD/bin XDP_PASS_OBJ=$BUILD/bpf/veth_pass.bpf.o
# shellcheck disable=SC2034 # topo.sh's
TOPO_PREFIX=e2e${XLB_E2E_INNER}-
# shellcheck source=../../scripts/topo.sh
. "$ROOT/scripts/topo.sh"
# shellcheck source=lib.sh
. "$E2E_DIR/lib.sh"
# shellcheck source=traffic.sh
. "$E2E_DIR/traffic.sh"
# shellcheck source=control.sh
. "$E2E_DIR/control.sh"
# shellcheck source=health.sh
. "$E2E_DIR/health.sh"
# shellcheck source=daemon.sh
. "$E2E_DIR/daemon.sh"
# shellcheck source=feedback.sh
. "$E2E_DIR/feedback.sh"
# shellcheck source=install.sh
. "$E2E_DIR/install.sh"

cleanup() {
	trap - EXIT INT TERM
	xlbd_stop TERM
	topo_down >/dev/null 2>&1
	# The mountpoint is on the host's /run: leave nothing there.
	umount -l "$SCRATCH" 2>/dev/null
	rmdir "$SCRATCH" 2>/dev/null
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

for f in "$XLB_BIN/xlbd" "$XLB_BIN/xlb" "$XLB_BIN/xlb-agent" "$XDP_PASS_OBJ"; do
	if [ ! -e "$f" ]; then
		echo "FAIL setup: $f is missing (run 'make all')"
		summary 0 1 0
		exit 1
	fi
done
for t in curl wrk socat nginx ethtool nsenter jq stress-ng; do
	if ! command -v "$t" >/dev/null; then
		echo "FAIL setup: $t is not installed (run 'make deps')"
		summary 0 1 0
		exit 1
	fi
done

setup() {
	local i

	topo_up || return 1
	for i in $(seq "$TOPO_BACKENDS"); do
		topo_nginx "$i" "$W" || return 1
		topo_agent "$i" "$W"
		topo_udp "$i" "$W" || return 1
	done
	# A broken path then fails a connect in 7 s, not 2 minutes.
	in_ns cl sysctl -qw net.ipv4.tcp_syn_retries=2
	xlbd_start
}

if ! setup >"$W/log/setup" 2>&1; then
	echo "FAIL setup: topology or xlbd did not come up:"
	tail -20 "$W/log/setup" | sed 's/^/    | /'
	summary 0 1 0
	exit 1
fi
[ "${V:-0}" = 1 ] && sed 's/^/    | /' "$W/log/setup"

passed=0 failed=0 skipped=0
# A watchdog for a test that hangs, not a deadline for a slow one: a busy
# machine may take several times as long as an idle one.
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
# shellcheck disable=SC2086 # a list of names
[ $# -gt 0 ] || set -- $ALL_TESTS
for name in "$@"; do
	if ! declare -F "t_$name" >/dev/null 2>&1; then
		echo "FAIL $name: no such test (tests: $(echo "$ALL_TESTS" | tr -s '\n\t' '  '))"
		failed=$((failed + 1))
		continue
	fi
	log=$W/log/$name
	rm -f "$W/reason"
	# A subshell: a test's fail/skip exits only the test. The watchdog
	# bounds a test that hangs.
	(
		xlb_reset >/dev/null || fail "xlb config apply of no VIPs failed"
		"t_$name"
	) >"$log" 2>&1 &
	tpid=$!
	(sleep "$TEST_TIMEOUT" && kill -0 "$tpid" 2>/dev/null &&
		echo "timed out after ${TEST_TIMEOUT}s" >"$W/reason" &&
		kill -TERM "$tpid") &
	wpid=$!
	wait "$tpid"
	rc=$?
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
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
		sed 's/^/    | /' "$log"
	elif [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		tail -8 "$log" | sed 's/^/    | /'
	fi
	# A test that killed xlbd and failed must not fail the next ones.
	if ! xlb status >/dev/null 2>&1; then
		xlbd_stop KILL
		xlbd_start >>"$W/log/setup" 2>&1
	fi
done

summary "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]

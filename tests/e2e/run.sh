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
	drain xlbd_kill9_restart restart_replaces_older_program
	restart_halves_disagree cli_commands cli_json cli_bad_inputs cli_batch
	metrics
	agent_detach failover_new_connections tunnel_check_catches_missing_vip
	tunnel_check_catches_missing_decap recovery_slow_start exec_check
	http_body_check https_check udp_check check_bad_inputs operator_wins all_down_keep
	new_backend_waits_for_rise restart_keeps_health health_reporting
	flap_held_down
	vip_add_addresses check_down_keep_or_move control_slow_clients
	second_xlbd_refused options_checked_first config_note_and_stats_pins
	failed_save_changes_nothing journal_kill9_keeps_edit
	agent_cpu_hog agent_stale agent_haproxy_style agent_malformed
	agent_check_cli balance_bytes flow_list_shows_held top_shows_rates
	trace_writes_pcap
	prometheus_rules_and_dashboard prometheus_alert_fires
	install_layout unit_exec_start_notify
	nat_http_v4 nat_http_v6 nat_tiny_pool nat_kill9_under_wrk
	nat_health_check
	uplink_shares_follow_targets uplink_failover_under_load
	uplink_kill9_keeps_sending"

# shellcheck source=runner.sh
. "$E2E_DIR/runner.sh"
runner_enter e2e "$0" "$@"

# ---- inside the namespaces from here on ----

runner_mounts e2e
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
# shellcheck source=nat.sh
. "$E2E_DIR/nat.sh"
# shellcheck source=uplink.sh
. "$E2E_DIR/uplink.sh"
# shellcheck source=feedback.sh
. "$E2E_DIR/feedback.sh"
# shellcheck source=observe.sh
. "$E2E_DIR/observe.sh"
# shellcheck source=monitoring.sh
. "$E2E_DIR/monitoring.sh"
# shellcheck source=install.sh
. "$E2E_DIR/install.sh"

cleanup() {
	trap - EXIT INT TERM
	xlbd_stop TERM
	topo_down >/dev/null 2>&1
	# The mountpoint is on the host's /run: leave nothing there.
	runner_unmount
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

runner_require curl wrk socat nginx ethtool nsenter jq stress-ng

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

runner_setup "the topology or xlbd" setup

# Every test starts from a daemon with no VIPs; one that killed xlbd and
# failed must not fail the next ones.
before_test() {
	if ! xlb status >/dev/null 2>&1; then
		xlbd_stop KILL
		xlbd_start >>"$W/log/setup" 2>&1
	fi
	xlb_reset >/dev/null || fail "xlb config apply of no VIPs failed"
}

runner_run before_test "$@"

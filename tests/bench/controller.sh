#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Controller benchmarks: how long xlbd takes to apply configuration, what
# HTTP through the balancer costs against HTTP straight to a backend, how
# soon new connections stop failing once a backend dies (health checks),
# how soon after 100 backends fail at once every ring is rebuilt and live
# (failover_storm), and what 10 000 health checks a second cost xlbd.
# Figures are printed and written to $BUILD/bench/controller.json, a JSON
# list of {"scenario", "value", "unit"} (the whole file, every run).
#
# Benchmarks never fail on time. A scenario whose requests fail (a rejected
# apply, wrk errors, a VIP that does not answer) says so on stderr, is
# written with "value": null and an "error", and makes the exit status 1;
# the other scenarios still run. 2 is a usage error.
#
#   tests/bench/controller.sh [SCENARIO...]     (default: all, in order)
#
# Knobs: XLB_BIN (build/bin), BUILD (build), XLB_BENCH_APPLY_REPS (3),
# XLB_BENCH_WEIGHT_REPS (20), XLB_BENCH_WRK_SECS (5),
# XLB_BENCH_FAILOVER_REPS (5), XLB_BENCH_STORM_REPS (5),
# XLB_BENCH_HC_SECS (10), XLB_BENCH_PERF=DIR (perf record -g of xlbd
# during the timed part of config_apply, weight_change and
# failover_storm, into DIR/SCENARIO.data), V=1 (daemon logs on stderr at
# the end). Needs root, iproute2, nginx, wrk, curl.
#
# Everything runs in a private mount namespace (its own bpffs) and in
# network namespaces made here (scripts/topo.sh), torn down on exit.
#
# To add a scenario: write bench_NAME (it sets up the daemon state it
# needs with apply_config, then calls record / record_error) and add NAME
# to SCENARIOS.
SCENARIOS="http config_apply weight_change weight_change_1vip failover failover_storm hc_cpu agent_cpu"

set -eu
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
	echo "controller bench: needs root (network namespaces, XDP)" >&2
	exit 2
fi
if [ -z "${XLB_BENCH_UNSHARED:-}" ]; then
	export XLB_BENCH_UNSHARED=1
	exec unshare -m --propagation private -- "$0" "$@"
fi

BUILD=${BUILD:-build}
export XLB_BIN=${XLB_BIN:-$BUILD/bin}
export XDP_PASS_OBJ=$BUILD/bpf/veth_pass.bpf.o
export TOPO_PREFIX=xlbcb$$-
APPLY_REPS=${XLB_BENCH_APPLY_REPS:-3}
WEIGHT_REPS=${XLB_BENCH_WEIGHT_REPS:-20}
WRK_SECS=${XLB_BENCH_WRK_SECS:-5}
FAILOVER_REPS=${XLB_BENCH_FAILOVER_REPS:-5}
STORM_REPS=${XLB_BENCH_STORM_REPS:-5}
PERF_DIR=${XLB_BENCH_PERF:-}
HC_SECS=${XLB_BENCH_HC_SECS:-10}
OUT=$BUILD/bench/controller.json
# Absolute: nginx resolves relative paths against its prefix.
WORK=$(realpath -m "$BUILD/bench/controller.d")
# Our own bpffs, but xlbd locks pin directories by path host-wide
# (/run/xlb): a name of this run lets benches run side by side.
PIN=/sys/fs/bpf/xlbcb$$
SOCK=$WORK/xlbd.sock
HTTP_VIP=198.19.0.1:80/tcp
# Backend 1's own address: nginx listens on every address.
DIRECT_URL=http://198.18.31.2/
# The config-apply sizes: VIPs x backends per VIP.
APPLY_VIPS=100
APPLY_BACKENDS=100
# The VIP and backend whose weight bench_weight_change changes.
WEIGHT_VIP=198.19.1.1:80/tcp
WEIGHT_ADDR=198.18.101.1

for a in "$@"; do
	case " $SCENARIOS " in
	*" $a "*) ;;
	*)
		echo "controller bench: unknown scenario '$a' (have: $SCENARIOS)" >&2
		exit 2
		;;
	esac
done
for f in "$XLB_BIN/xlbd" "$XLB_BIN/xlb" "$XLB_BIN/xlb-agent" "$XDP_PASS_OBJ"; do
	if [ ! -e "$f" ]; then
		echo "controller bench: $f missing: run 'make all' first" >&2
		exit 2
	fi
done

# shellcheck source=scripts/topo.sh
. scripts/topo.sh

XLBD_PID=
failed=0
names=()
values=()
units=()
errors=()
notes=()

cleanup() {
	set +e
	perf_stop
	stop_xlbd
	topo_down
	if [ "${V:-0}" = 1 ] && [ -f "$WORK/xlbd.log" ]; then
		echo "== xlbd log" >&2
		cat "$WORK/xlbd.log" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "controller bench: $*" >&2
	exit 1
}

# record NAME VALUE UNIT [NOTE]: one figure; a note (written as "note")
# says when it was not measured as its name suggests.
record() {
	names+=("$1")
	values+=("$2")
	units+=("$3")
	errors+=("")
	notes+=("${4:-}")
	printf '  %-28s %12s %s\n' "$1" "$2" "$3"
}

# record_error NAME UNIT WHY: a scenario whose requests failed.
record_error() {
	names+=("$1")
	values+=(null)
	units+=("$2")
	errors+=("$3")
	notes+=("")
	failed=1
	printf '  %-28s %12s %s\n' "$1" FAILED "$2"
	echo "controller bench: FAILED: $1: $3" >&2
}

# The CLI, talking to our daemon.
xlb_cli() {
	"$XLB_BIN/xlb" -s "$SOCK" "$@"
}

json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "${s//$'\n'/ }"
}

write_json() {
	local i sep=
	{
		echo "["
		for i in "${!names[@]}"; do
			printf '%s  {"scenario": %s, "value": %s, "unit": %s' \
				"$sep" "$(json_str "${names[$i]}")" \
				"${values[$i]}" "$(json_str "${units[$i]}")"
			if [ -n "${errors[$i]}" ]; then
				printf ', "error": %s' "$(json_str "${errors[$i]}")"
			fi
			if [ -n "${notes[$i]}" ]; then
				printf ', "note": %s' "$(json_str "${notes[$i]}")"
			fi
			printf '}'
			sep=$',\n'
		done
		printf '\n]\n'
	} >"$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
}

# Microseconds since the epoch (bash 5's EPOCHREALTIME, no fork).
now_us() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t))
}

# median V...: the middle value (mean of the two middle ones when even).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# samples US...: the individual times, in ms, for the curious.
samples() {
	local t line=

	for t in "$@"; do line="$line $(us_to_ms "$t")"; done
	echo "    (samples, ms:$line)"
}

# us_to_ms US: milliseconds with three decimals.
us_to_ms() {
	awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'
}

# A fresh xlbd on the balancer: empty state, program loaded anew (the
# previous one detached and unpinned its maps on exit).
start_xlbd() {
	local i

	stop_xlbd
	rm -rf "$WORK/state"
	rm -f "$SOCK"
	# nsenter itself, not in_ns: $! must be xlbd (nsenter execs it),
	# not a subshell that would leave xlbd running when killed.
	nsenter --net="/run/netns/$(ns lb)" "$XLB_BIN/xlbd" -v -i eth0 \
		--state-dir "$WORK/state" --pin-dir "$PIN" -s "$SOCK" \
		--metrics off --detach-on-exit >>"$WORK/xlbd.log" 2>&1 &
	XLBD_PID=$!
	for i in $(seq 1 100); do
		if ! kill -0 "$XLBD_PID" 2>/dev/null; then
			XLBD_PID=
			tail -n 20 "$WORK/xlbd.log" >&2
			die "xlbd exited at start (log: $WORK/xlbd.log)"
		fi
		xlb_cli status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "xlbd did not answer within 10 s (log: $WORK/xlbd.log)"
}

# perf_start NAME / perf_stop: a profile of xlbd (call graphs) into
# $PERF_DIR/NAME.data while a scenario's timed part runs, when asked.
PERF_PID=
perf_start() {
	[ -n "$PERF_DIR" ] && [ -n "$XLBD_PID" ] || return 0
	mkdir -p "$PERF_DIR"
	perf record -q -g -p "$XLBD_PID" -o "$PERF_DIR/$1.data" \
		>/dev/null 2>&1 &
	PERF_PID=$!
	# perf is attached once it has written its header.
	for _ in $(seq 1 50); do
		[ -s "$PERF_DIR/$1.data" ] && break
		sleep 0.1
	done
}

perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
}

stop_xlbd() {
	local i

	[ -n "$XLBD_PID" ] || return 0
	kill -TERM "$XLBD_PID" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$XLBD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -KILL "$XLBD_PID" 2>/dev/null; then
		echo "controller bench: xlbd ignored SIGTERM for 10 s:" \
			"killed (log: $WORK/xlbd.log)" >&2
	fi
	wait "$XLBD_PID" 2>/dev/null || true
	XLBD_PID=
}

# gen_hc_config FILE NVIPS NBACKENDS VIP [FIRST [GLOBAL]]: VIPs named as
# by gen_config, each with the JSON members VIP, whose backends are
# listeners of the "hc" namespace (hc_listeners): backend j of VIP i is
# 198.18.(128+i%128).j. FIRST's members go to every VIP's first backend,
# GLOBAL's to the global section.
gen_hc_config() {
	awk -v nv="$2" -v nb="$3" -v vx="$4" -v b1="${5:-}" -v gl="${6:-}" 'BEGIN {
		printf "{%s\"vips\": [\n", gl == "" ? "" : "\"global\": {" gl "}, "
		for (i = 0; i < nv; i++) {
			printf "  {\"vip\": \"198.19.%d.%d:80/tcp\", %s, \"backends\": [",
				int(i / 250) + 1, i % 250 + 1, vx
			for (j = 1; j <= nb; j++)
				printf "%s{\"addr\": \"198.18.%d.%d\"%s}",
					(j > 1 ? ", " : ""), 128 + i % 128, j,
					(j == 1 && b1 != "" ? ", " b1 : "")
			printf "]}%s\n", (i < nv - 1 ? "," : "")
		}
		printf "]}\n"
	}' >"$1"
}

# gen_config FILE NVIPS NBACKENDS: VIP i is 198.19.(i/250+1).(i%250+1):80
# (so the first is 198.19.1.1); its backend j is 198.18.(101+i%150).j.
gen_config() {
	awk -v nv="$2" -v nb="$3" 'BEGIN {
		printf "{\"vips\": [\n"
		for (i = 0; i < nv; i++) {
			printf "  {\"vip\": \"198.19.%d.%d:80/tcp\", \"ring_size\": 65537, \"backends\": [",
				int(i / 250) + 1, i % 250 + 1
			for (j = 1; j <= nb; j++)
				printf "%s{\"addr\": \"198.18.%d.%d\"}",
					(j > 1 ? ", " : ""), 101 + i % 150, j
			printf "]}%s\n", (i < nv - 1 ? "," : "")
		}
		printf "]}\n"
	}' >"$1"
}

# apply_config FILE: prints the wall clock in microseconds; on failure
# the CLI's message is left in $WORK/apply.err and the status is 1.
apply_config() {
	local t0 t1 rc=0

	t0=$(now_us)
	xlb_cli config apply "$1" >/dev/null 2>"$WORK/apply.err" || rc=$?
	t1=$(now_us)
	echo $((t1 - t0))
	return $rc
}

# The largest number of VIPs of NBACKENDS backends the daemon takes,
# from the limit in its error message ("limit N over all VIPs").
fitting_vips() {
	local limit

	limit=$(sed -n 's/.*too many backends (limit \([0-9]*\).*/\1/p' \
		"$WORK/apply.err")
	[ -n "$limit" ] && echo $((limit / $1))
}

# --- scenarios --------------------------------------------------------

# wrk_run NAME URL: requests/s and p99 of one wrk run from the client.
wrk_run() {
	local name=$1 url=$2 out=$WORK/wrk-$1.txt rps p99 why=

	if ! in_ns cl wrk --latency -t1 -c16 -d"${WRK_SECS}s" "$url" \
		>"$out" 2>&1; then
		why="wrk failed: $(tail -n 1 "$out")"
	fi
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	p99=$(awk '$1 == "99%" {
		v = $2; u = v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000
		else if (u == "m") v *= 60000
		printf "%.3f", v }' "$out")
	if [ -z "$why" ] && grep -q '^ *Socket errors:' "$out"; then
		why="wrk: $(grep '^ *Socket errors:' "$out" | sed 's/^ *//')"
	fi
	if [ -z "$why" ] && grep -q 'Non-2xx or 3xx' "$out"; then
		why="wrk: $(grep 'Non-2xx or 3xx' "$out" | sed 's/^ *//')"
	fi
	if [ -z "$why" ] && { [ -z "$rps" ] || [ -z "$p99" ]; }; then
		why="no figures in wrk's output ($out)"
	fi
	if [ -z "$why" ] && awk -v r="$rps" 'BEGIN { exit !(r <= 0) }'; then
		why="no request answered"
	fi
	if [ -n "$why" ]; then
		record_error "http_rps_$name" requests/s "$why"
		record_error "http_p99_ms_$name" ms "$why"
		return
	fi
	record "http_rps_$name" "$rps" requests/s
	record "http_p99_ms_$name" "$p99" ms
}

# HTTP through the balancer (198.19.0.1 -> b1..b3) and straight to b1.
bench_http() {
	local i cfg=$WORK/http.json before after resp

	printf '{"vips": [{"vip": "%s", "backends": [' "$HTTP_VIP" >"$cfg"
	for i in $(seq 1 "$TOPO_BACKENDS"); do
		[ "$i" -gt 1 ] && printf ', ' >>"$cfg"
		printf '{"addr": "%s"}' "$(backend_addr "$i")" >>"$cfg"
	done
	printf ']}]}\n' >>"$cfg"
	start_xlbd
	if ! apply_config "$cfg" >/dev/null; then
		record_error http_rps_via_vip requests/s \
			"config apply: $(cat "$WORK/apply.err")"
		record_error http_p99_ms_via_vip ms \
			"config apply: $(cat "$WORK/apply.err")"
		wrk_run direct "$DIRECT_URL"
		return
	fi
	# The VIP must answer (a few tries: new connections spread over
	# the backends) before we measure.
	for i in $(seq 1 "$TOPO_BACKENDS"); do
		resp=$(in_ns cl curl -sS -m 2 "http://${HTTP_VIP%%:*}/" 2>&1) ||
			true
		if [ "${resp#b}" = "$resp" ]; then
			record_error http_rps_via_vip requests/s \
				"the VIP does not answer: '$resp'"
			record_error http_p99_ms_via_vip ms \
				"the VIP does not answer: '$resp'"
			wrk_run direct "$DIRECT_URL"
			return
		fi
	done
	before=$(vip_packets)
	wrk_run via_vip "http://${HTTP_VIP%%:*}/"
	after=$(vip_packets)
	echo "    (balancer forwarded $((after - before)) packets to the VIP's backends)"
	wrk_run direct "$DIRECT_URL"
}

# Packets the balancer sent to the HTTP VIP's backends.
vip_packets() {
	"$XLB_BIN/xlb" -j --pin-dir "$PIN" stats vip "$HTTP_VIP" 2>/dev/null |
		grep -o '"packets": *[0-9]*' | head -n 1 | grep -o '[0-9]*$' ||
		echo 0
}

# One config file of APPLY_VIPS x APPLY_BACKENDS onto a fresh daemon.
bench_config_apply() {
	local name="config_apply_${APPLY_VIPS}x${APPLY_BACKENDS}_ms"
	local cfg=$WORK/apply.json nv times=() t r

	gen_config "$cfg" "$APPLY_VIPS" "$APPLY_BACKENDS"
	for r in $(seq 1 "$APPLY_REPS"); do
		start_xlbd
		perf_start "config_apply.$r"
		if ! t=$(apply_config "$cfg"); then
			perf_stop
			record_error "$name" ms \
				"rejected after $(us_to_ms "$t") ms: $(cat "$WORK/apply.err")"
			break
		fi
		perf_stop
		times+=("$t")
	done
	if [ "${#times[@]}" = "$APPLY_REPS" ]; then
		samples "${times[@]}"
		record "$name" "$(us_to_ms "$(median "${times[@]}")")" ms
		return
	fi
	# Still give a figure: the largest state of these VIPs that fits.
	nv=$(fitting_vips "$APPLY_BACKENDS") || return 0
	[ "$nv" -gt 0 ] || return 0
	name="config_apply_${nv}x${APPLY_BACKENDS}_ms"
	gen_config "$cfg" "$nv" "$APPLY_BACKENDS"
	times=()
	for r in $(seq 1 "$APPLY_REPS"); do
		start_xlbd
		if ! t=$(apply_config "$cfg"); then
			record_error "$name" ms "$(cat "$WORK/apply.err")"
			return
		fi
		times+=("$t")
	done
	samples "${times[@]}"
	record "$name" "$(us_to_ms "$(median "${times[@]}")")" ms
}

# commit_times MARK: the commit times xlbd logged after line MARK
# ("applied: N VIPs in X ms (Y ms to save, ...)"), in microseconds, one per line.
commit_times() {
	tail -n +$(($1 + 1)) "$WORK/xlbd.log" |
		sed -n 's/.*applied: [0-9]* VIPs in \([0-9.]*\) ms.*/\1/p' |
		awk '{ printf "%d\n", $1 * 1000 }'
}

# weight_vip_fp: the fingerprint of WEIGHT_VIP's ring, as xlbd reports it.
weight_vip_fp() {
	xlb_cli ring show "$WEIGHT_VIP" | awk '/fingerprint/ { print $NF }'
}

# weight_changes NAME NVIPS: WEIGHT_REPS weight changes of one backend
# (CLI call to swapped ring) with NVIPS VIPs of 65537 slots x
# APPLY_BACKENDS backends loaded; fewer VIPs if the daemon takes no more.
# Beside the CLI's wall clock: NAME_xlbd, the daemon's own time for the
# commit (from its log), and NAME_cli_start, a CLI that starts and exits
# without asking the daemon (xlb --version), timed between the changes:
# what process start alone costs of the figure on this machine; and
# NAME_batch, the same changes as lines of one `xlb batch` (weight_batch).
weight_changes() {
	local name=$1 nv=$2 cfg=$WORK/weight.json times=() t0 t1 r fp prev=
	local err=$WORK/weight.err note="" starts=() mark xt

	start_xlbd
	gen_config "$cfg" "$nv" "$APPLY_BACKENDS"
	if ! apply_config "$cfg" >/dev/null; then
		nv=$(fitting_vips "$APPLY_BACKENDS") || nv=0
		if [ "$nv" -le 0 ]; then
			record_error "$name" ms \
				"config apply: $(cat "$WORK/apply.err")"
			return
		fi
		note="$nv VIPs loaded, not $2: the daemon takes no more"
		gen_config "$cfg" "$nv" "$APPLY_BACKENDS"
		if ! apply_config "$cfg" >/dev/null; then
			record_error "$name" ms \
				"config apply: $(cat "$WORK/apply.err")"
			return
		fi
	fi
	echo "    (state: $nv VIPs x $APPLY_BACKENDS backends, 65537-slot rings)"
	mark=$(wc -l <"$WORK/xlbd.log")
	perf_start "$name"
	for r in $(seq 1 "$WEIGHT_REPS"); do
		t0=$(now_us)
		"$XLB_BIN/xlb" --version >/dev/null
		t1=$(now_us)
		starts+=($((t1 - t0)))
		# 2, 3, 2, 3...: every call changes the weight, so the ring.
		t0=$(now_us)
		if ! xlb_cli backend set "$WEIGHT_VIP" "$WEIGHT_ADDR" \
			--weight $((2 + r % 2)) >/dev/null 2>"$err"; then
			record_error "$name" ms "$(cat "$err")"
			return
		fi
		t1=$(now_us)
		times+=($((t1 - t0)))
		# The answer comes after the swap: the ring must be new.
		fp=$(weight_vip_fp)
		if [ -z "$fp" ] || [ "$fp" = "$prev" ]; then
			record_error "$name" ms \
				"ring fingerprint '$fp' unchanged by a weight change"
			return
		fi
		prev=$fp
	done
	perf_stop
	samples "${times[@]}"
	record "$name" "$(us_to_ms "$(median "${times[@]}")")" ms "$note"
	mapfile -t xt < <(commit_times "$mark")
	if [ "${#xt[@]}" -gt 0 ]; then
		record "${name%_ms}_xlbd_ms" \
			"$(us_to_ms "$(median "${xt[@]}")")" ms "$note"
	fi
	record "${name%_ms}_cli_start_ms" \
		"$(us_to_ms "$(median "${starts[@]}")")" ms
	weight_batch "${name%_ms}_batch_ms" "$(median "${starts[@]}")" "$note"
}

# weight_batch NAME START_US NOTE: WEIGHT_REPS weight changes as the lines
# of one `xlb batch`, as a script making many changes runs them: the
# batch's wall clock less one process start (START_US, measured above),
# per change. Every line is answered after its ring is live, as above;
# xlbd's log must show one commit per line.
weight_batch() {
	local name=$1 start=${2%.*} note=$3 f=$WORK/weights.xlb t0 t1 mark n fp0 fp r

	: >"$f"
	for r in $(seq 1 "$WEIGHT_REPS"); do
		echo "backend set $WEIGHT_VIP $WEIGHT_ADDR --weight $((4 + r % 2))" >>"$f"
	done
	fp0=$(weight_vip_fp)
	mark=$(wc -l <"$WORK/xlbd.log")
	t0=$(now_us)
	if ! xlb_cli batch "$f" >/dev/null 2>"$WORK/weight.err"; then
		record_error "$name" ms "$(cat "$WORK/weight.err")"
		return
	fi
	t1=$(now_us)
	n=$(commit_times "$mark" | wc -l)
	fp=$(weight_vip_fp)
	if [ "$n" != "$WEIGHT_REPS" ] || [ "$fp" = "$fp0" ]; then
		record_error "$name" ms \
			"$n commits for $WEIGHT_REPS lines; fingerprint $fp0 -> $fp"
		return
	fi
	record "$name" "$(us_to_ms $(((t1 - t0 - start) / WEIGHT_REPS)))" ms \
		"$note"
}

# The weight change with the config-apply state loaded.
bench_weight_change() {
	weight_changes weight_change_ms "$APPLY_VIPS"
}

# The same with only the changed VIP loaded: the difference is what a
# change costs per VIP and backend the daemon holds besides.
bench_weight_change_1vip() {
	weight_changes "weight_change_1x${APPLY_BACKENDS}_ms" 1
}

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $(($(now_us) / 1000))
}

# health_of ADDR: the HEALTH column of backend ADDR of the HTTP VIP.
health_of() {
	xlb_cli backend list "$HTTP_VIP" 2>/dev/null | awk -v a="$1" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "HEALTH") k = i; next }
		$2 == a && k { print $k }'
}

# wait_health ADDR HEALTH: polls (50 ms) for 5 s at most; 1 if it did not
# come.
wait_health() {
	local i

	for i in $(seq 1 100); do
		[ "$(health_of "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# probe_loop SECS URL OUT: new connections from the client, one curl after
# the other for SECS (3000 at most), each logged in OUT as "START_MS ok"
# or "START_MS fail CURL_EXIT_CODE".
probe_loop() {
	# shellcheck disable=SC2016 # expanded by bash -c
	in_ns cl timeout $(($1 + 10)) bash -c '
		end=$((${EPOCHREALTIME/./} / 1000 + $1 * 1000))
		for ((i = 0; i < 3000; i++)); do
			t=$((${EPOCHREALTIME/./} / 1000))
			[ "$t" -lt "$end" ] || break
			curl -s -o /dev/null --max-time 1 \
				-H "Connection: close" "$2?$i"
			rc=$?
			if [ "$rc" = 0 ]; then
				echo "$t ok"
			else
				echo "$t fail $rc"
			fi
		done' _ "$1" "$2" >"$3" 2>&1
}

# Failover: an HTTP check every 100 ms, fall 3; backend 3's nginx is
# stopped while 4 loops of curl open new connections; the figure is the
# time from the kill to the start of the last new connection that failed
# (median of FAILOVER_REPS). Flap damping is off: the same backend going
# down and up 5 times in a minute would be held down.
bench_failover() {
	local cfg=$WORK/failover.json i r j t_kill last fails total
	local url=http://${HTTP_VIP%%:*}/ dead times=() why="" pids

	dead=$(backend_addr 3)
	printf '{"global": {"flap_count": 0}, "vips": [{"vip": "%s", "check": {"kind": "http", "interval_ms": 100, "fall": 3, "rise": 2}, "backends": [' \
		"$HTTP_VIP" >"$cfg"
	for i in $(seq 1 "$TOPO_BACKENDS"); do
		[ "$i" -gt 1 ] && printf ', ' >>"$cfg"
		printf '{"addr": "%s"}' "$(backend_addr "$i")" >>"$cfg"
	done
	printf ']}]}\n' >>"$cfg"
	start_xlbd
	if ! apply_config "$cfg" >/dev/null; then
		record_error failover_ms ms "config apply: $(cat "$WORK/apply.err")"
		return
	fi
	for r in $(seq 1 "$FAILOVER_REPS"); do
		if ! wait_health "$dead" up; then
			why="$dead not up before run $r: $(health_of "$dead")"
			break
		fi
		pids=()
		for j in 1 2 3 4; do
			probe_loop 3 "$url" "$WORK/failover.$j" &
			pids+=($!)
		done
		sleep 0.7
		t_kill=$(now_ms)
		kill "$(cat "$WORK/nginx-b3/nginx.pid")" || true
		wait "${pids[@]}" || true
		# The stopped nginx must be gone before its successor starts.
		for i in $(seq 1 50); do
			[ -e "$WORK/nginx-b3/nginx.pid" ] || break
			sleep 0.1
		done
		if ! topo_nginx 3 "$WORK"; then
			why="run $r: nginx on backend 3 did not start again"
			break
		fi
		total=$(cat "$WORK"/failover.[1-4] | grep -c . || true)
		fails=$(cat "$WORK"/failover.[1-4] | awk '$2 != "ok"' | grep -c . || true)
		# A connection started just before the kill may fail by it
		# (its SYN reached a nginx already stopping); earlier is wrong.
		last=$(cat "$WORK"/failover.[1-4] | awk -v t="$t_kill" '
			$2 != "ok" { if ($1 < t - 100) early++; else if ($1 - t > l) l = $1 - t; n++ }
			END { if (early) print "early"; else if (n) print l; else print "none" }')
		echo "    (run $r: $fails of $total new connections failed;" \
			"the last one $last ms after the kill)"
		case $last in
		early)
			why="run $r: new connections failed before the kill: $(cat "$WORK"/failover.[1-4] |
				awk -v t="$t_kill" '$2 != "ok" && $1 < t - 100 { print $1 - t " ms: curl exit " $3 }' |
				head -n 3 | tr '\n' ' ')"
			break
			;;
		none)
			why="run $r: no new connection failed (none reached the stopped backend)"
			break
			;;
		esac
		if [ "$last" -gt 2000 ]; then
			why="run $r: new connections still failed $last ms after the kill"
			break
		fi
		times+=("$last")
	done
	if [ -n "$why" ]; then
		record_error failover_ms ms "$why"
		return
	fi
	echo "    (samples, ms: ${times[*]})"
	record failover_ms "$(median "${times[@]}")" ms
}

# hc_nginx DIR PORT BODY: an nginx of its own in the "hc" namespace,
# answering BODY on PORT of every address, its files under DIR.
hc_nginx() {
	local dir=$1

	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
daemon on;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	server {
		listen $2 backlog=4096;
		location / { return 200 "$3\n"; }
	}
}
EOF
	in_ns hc nginx -c "$dir/nginx.conf"
}

# The listener of the storm's checks: port 81 of every address of the
# "hc" namespace (hc_listeners), a process of its own so that stopping it
# fails those checks at once and leaves port 80 serving.
storm_listener() {
	local dir=$WORK/nginx-hc81

	hc_nginx "$dir" 81 hc81
}

storm_listener_stop() {
	local pidf=$WORK/nginx-hc81/nginx.pid i

	[ -e "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
	for i in $(seq 1 50); do
		[ -e "$pidf" ] || return 0
		sleep 0.1
	done
	return 1
}

# wait_up N: polls (100 ms) for 30 s at most until N backends are up
# (by their checks: backends without one are "unchecked").
wait_up() {
	local i up

	for i in $(seq 1 300); do
		up=$(backends_up)
		[ "$up" = "$1" ] && return 0
		sleep 0.1
	done
	echo "    ($up backends up, waiting for $1)" >&2
	return 1
}

# Failover storm: STORM_VIPS VIPs x STORM_BACKENDS backends on the "hc"
# namespace's addresses; backend 1 of every VIP has a TCP check of its
# own to port 81 (every 50 ms, fall 1), the rest none. Stopping the port
# 81 listener fails those 100 backends at once, one in every VIP, so
# every ring is rebuilt. The figure is xlbd's own, from its log: the
# worst time from a failure's detection to every ring it changes rebuilt
# and live (the checks' interval is not in it), median of STORM_REPS
# storms; failover_storm_span_ms is the first detection to the last ring
# live, the checks' spread included; failover_storm_backends_ms the worst
# time from a detection to the failed backends' state in the data path,
# from when no new flow goes to them (their slots are skipped) though
# their rings are still being rebuilt.
STORM_VIPS=100
STORM_BACKENDS=100

# storm_figures MARK: from the daemon's log lines after line MARK, "health
# changes live X ms after their detection (backends written at B ms; N
# rings rebuilt, P by patching; at T ms)": the worst X, the sum of N, the
# last T less the first T - X, the worst B and the sum of P.
storm_figures() {
	tail -n +$(($1 + 1)) "$WORK/xlbd.log" |
		sed -n 's/.*health changes live \([0-9.]*\) ms after their detection (backends written at \([0-9.]*\) ms; \([0-9]*\) rings rebuilt, \([0-9]*\) by patching; at \([0-9.]*\) ms).*/\1 \3 \5 \2 \4/p' |
		awk '{ if ($1 > w) w = $1; n += $2; if ($4 > b) b = $4; p += $5
		       if (!f || $3 - $1 < f) f = $3 - $1; if ($3 > l) l = $3 }
		     END { printf "%.3f %d %.3f %.3f %d\n", w, n, l - f, b, p }'
}

bench_failover_storm() {
	local cfg=$WORK/storm.json r mark worst span built down patched times=()
	local spans=() downs=()
	local why=

	if ! hc_listeners || ! storm_listener; then
		record_error failover_storm_ms ms "no listeners (namespace hc)"
		return
	fi
	gen_hc_config "$cfg" "$STORM_VIPS" "$STORM_BACKENDS" \
		'"slow_start_ms": 0' \
		'"check": {"kind": "tcp", "tunnel": false, "port": 81, "interval_ms": 50, "timeout_ms": 40, "fall": 1, "rise": 1}' \
		'"flap_count": 0'
	start_xlbd
	if ! apply_config "$cfg" >/dev/null; then
		record_error failover_storm_ms ms \
			"config apply: $(cat "$WORK/apply.err")"
		return
	fi
	for r in $(seq 1 "$STORM_REPS"); do
		if ! wait_up "$STORM_VIPS"; then
			why="run $r: not every backend up before the storm"
			break
		fi
		mark=$(wc -l <"$WORK/xlbd.log")
		perf_start "failover_storm.$r"
		storm_listener_stop || true
		# Waited on through the log, not the CLI: a request would
		# take the daemon's time while it rebuilds.
		for _ in $(seq 1 200); do
			read -r worst built span down patched \
				< <(storm_figures "$mark")
			[ "$built" -ge "$STORM_VIPS" ] && break
			sleep 0.05
		done
		perf_stop
		if [ "$(backends_up)" != 0 ]; then
			why="run $r: the checked backends did not all go down"
			break
		fi
		echo "    (run $r: $built rings rebuilt, $patched by patching;" \
			"worst $worst ms after" \
			"detection; first detection to last ring live $span ms)"
		if [ "$built" -lt "$STORM_VIPS" ]; then
			why="run $r: $built rings rebuilt, not $STORM_VIPS"
			break
		fi
		times+=("$worst")
		spans+=("$span")
		downs+=("$down")
		if ! storm_listener; then
			why="run $r: the port 81 listener did not start again"
			break
		fi
	done
	if [ -n "$why" ]; then
		record_error failover_storm_ms ms "$why"
		return
	fi
	echo "    (samples, ms: ${times[*]})"
	record failover_storm_ms "$(median "${times[@]}")" ms
	record failover_storm_span_ms "$(median "${spans[@]}")" ms
	record failover_storm_backends_ms "$(median "${downs[@]}")" ms
}

# The "hc" namespace, linked to the balancer's, owns every address of
# 198.18.128.0/17 (a local route) and runs nginx on port 80: a listener
# for as many backends as the health-check benchmark wants.
hc_listeners() {
	local dir=$WORK/nginx-hc

	ip netns list | grep -q "^$(ns hc)\\b" && return 0
	ip netns add "$(ns hc)"
	in_ns hc ip link set lo up
	topo_link lb hc0 hc eth0 1500
	in_ns lb ip addr add 198.18.40.1/24 dev hc0
	in_ns hc ip addr add 198.18.40.2/24 dev eth0
	in_ns lb ip route add 198.18.128.0/17 via 198.18.40.2
	in_ns hc ip route add local 198.18.128.0/17 dev lo
	hc_nginx "$dir" 80 hc
}

# TCP passive opens in the "hc" namespace: the checks its listener saw.
hc_passive_opens() {
	in_ns hc cat /proc/net/snmp | awk '$1 == "Tcp:" && !h {
			for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") k = i
			h = 1; next }
		$1 == "Tcp:" { print $k }'
}

# backends_up: how many backends `xlb backend list` shows up.
backends_up() {
	xlb_cli backend list | awk '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "HEALTH") k = i; next }
		k && $k == "up" { n++ } END { print n + 0 }'
}

# Health-check cost: HC_VIPS VIPs x HC_BACKENDS backends, a plain TCP check
# each every 1000 ms, against real listeners (hc_listeners). Figures:
# xlbd's CPU (utime + stime of /proc/PID/stat, every thread) over HC_SECS
# as % of one core, and the checks a second the listeners accepted (the
# daemon counts no checks).
HC_VIPS=100
HC_BACKENDS=100
bench_hc_cpu() {
	local cfg=$WORK/hc.json up i hz s0 s1 o0 o1 t0 t1 cpu rate
	local want=$((HC_VIPS * HC_BACKENDS))

	if ! hc_listeners; then
		record_error hc_cpu_percent_10k % "no listeners (namespace hc)"
		return
	fi
	gen_hc_config "$cfg" "$HC_VIPS" "$HC_BACKENDS" \
		'"check": {"kind": "tcp", "tunnel": false, "interval_ms": 1000, "timeout_ms": 500}'
	# First without the checks, then with them: backends that serve
	# when they gain a check keep serving, where new ones would wait for
	# rise good checks, and xlbd applies those changes one at a time.
	sed 's/"check": {[^}]*}, //' "$cfg" >"$cfg.nocheck"
	start_xlbd
	if ! apply_config "$cfg.nocheck" >/dev/null ||
		! apply_config "$cfg" >/dev/null; then
		record_error hc_cpu_percent_10k % \
			"config apply: $(cat "$WORK/apply.err")"
		return
	fi
	# All up at once: they served before.
	for i in $(seq 1 30); do
		up=$(backends_up)
		[ "$up" -ge "$want" ] && break
		sleep 0.5
	done
	if [ "$up" -lt "$want" ]; then
		xlb_cli backend list | awk 'NR > 1 && $6 != "up"' | head -n 5 >&2
		record_error hc_cpu_percent_10k % \
			"only $up of $want backends came up: checks fail"
		return
	fi
	hz=$(getconf CLK_TCK)
	t0=$(now_us)
	s0=$(awk '{ print $14 + $15 }' "/proc/$XLBD_PID/stat")
	o0=$(hc_passive_opens)
	sleep "$HC_SECS"
	t1=$(now_us)
	s1=$(awk '{ print $14 + $15 }' "/proc/$XLBD_PID/stat")
	o1=$(hc_passive_opens)
	up=$(backends_up)
	cpu=$(awk -v d=$((s1 - s0)) -v hz="$hz" -v us=$((t1 - t0)) \
		'BEGIN { printf "%.1f", 100 * d / hz / (us / 1e6) }')
	rate=$(awk -v d=$((o1 - o0)) -v us=$((t1 - t0)) \
		'BEGIN { printf "%.0f", d / (us / 1e6) }')
	echo "    ($HC_VIPS VIPs x $HC_BACKENDS backends, TCP every 1000 ms:" \
		"$((s1 - s0)) ticks (1/$hz s) in $(us_to_ms $((t1 - t0))) ms;" \
		"$up of $want up at the end)"
	if [ "$up" -lt "$want" ]; then
		record_error hc_cpu_percent_10k % \
			"$((want - up)) of $want backends went down during the run"
		return
	fi
	record hc_cpu_percent_10k "$cpu" "% of one core"
	record hc_checks_per_s_10k "$rate" checks/s
}

# An HAProxy-style agent on port 5555 of every address of the "hc"
# namespace (hc_listeners): nginx's stream module answers "50%" to each
# connection and closes, without a fork per report (socat's would cost
# more than the daemon measured).
agent_listener() {
	local dir=$WORK/nginx-agent

	[ -f "$dir/nginx.pid" ] && return 0
	hc_listeners || return 1
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
daemon on;
events { worker_connections 4096; }
stream {
	server {
		listen 5555 backlog=4096;
		return "50%\n";
	}
}
EOF
	in_ns hc nginx -c "$dir/nginx.conf"
}

# agent_reports: the reports xlbd took, over every backend.
agent_reports() {
	xlb_cli -j backend list |
		jq '[.backends[].agent_reports // 0] | add // 0'
}

# Agent-check cost: AGENT_VIPS VIPs x AGENT_BACKENDS backends, an agent
# check each every 1000 ms (1000 reports a second), no health check.
# Figures: xlbd's CPU over HC_SECS as % of one core per 1000 reports a
# second, and the reports a second it took.
AGENT_VIPS=10
AGENT_BACKENDS=100
bench_agent_cpu() {
	local cfg=$WORK/agent.json hz s0 s1 r0 r1 t0 t1 cpu rate per

	if ! agent_listener; then
		record_error agent_cpu_percent_per_1k % "no agent (namespace hc)"
		return
	fi
	gen_hc_config "$cfg" "$AGENT_VIPS" "$AGENT_BACKENDS" \
		'"agent": {"kind": "agent", "interval_ms": 1000, "timeout_ms": 500}'
	start_xlbd
	if ! apply_config "$cfg" >/dev/null; then
		record_error agent_cpu_percent_per_1k % \
			"config apply: $(cat "$WORK/apply.err")"
		return
	fi
	# Every check has run once by then (first runs spread over one
	# interval), and the 50% weights are in force.
	sleep 2
	hz=$(getconf CLK_TCK)
	t0=$(now_us)
	s0=$(awk '{ print $14 + $15 }' "/proc/$XLBD_PID/stat")
	r0=$(agent_reports)
	sleep "$HC_SECS"
	t1=$(now_us)
	s1=$(awk '{ print $14 + $15 }' "/proc/$XLBD_PID/stat")
	r1=$(agent_reports)
	cpu=$(awk -v d=$((s1 - s0)) -v hz="$hz" -v us=$((t1 - t0)) \
		'BEGIN { printf "%.2f", 100 * d / hz / (us / 1e6) }')
	rate=$(awk -v d=$((r1 - r0)) -v us=$((t1 - t0)) \
		'BEGIN { printf "%.0f", d / (us / 1e6) }')
	echo "    ($AGENT_VIPS VIPs x $AGENT_BACKENDS backends, agent every" \
		"1000 ms: $((s1 - s0)) ticks (1/$hz s), $((r1 - r0)) reports" \
		"in $(us_to_ms $((t1 - t0))) ms)"
	if [ "$rate" -lt 100 ]; then
		record_error agent_cpu_percent_per_1k % \
			"only $rate reports a second: the agent does not answer"
		return
	fi
	per=$(awk -v c="$cpu" -v r="$rate" 'BEGIN { printf "%.2f", c / (r / 1000) }')
	record agent_cpu_percent_per_1k "$per" "% of one core per 1000 reports/s"
	record agent_reports_per_s "$rate" reports/s
}

# --- main -------------------------------------------------------------

mkdir -p "$BUILD/bench"
rm -rf "$WORK" "$OUT"
mkdir -p "$WORK/bin"
# A copy of the binaries: a rebuild during the run must not change them.
cp "$XLB_BIN/xlbd" "$XLB_BIN/xlb" "$XLB_BIN/xlb-agent" "$WORK/bin/"
XLB_BIN=$WORK/bin
# Our own bpffs, over whatever the host has there.
mount -t bpf bpf /sys/fs/bpf
topo_up
for i in $(seq 1 "$TOPO_BACKENDS"); do
	topo_nginx "$i" "$WORK"
	topo_agent "$i" "$WORK"
done

echo "controller benchmarks (wrk -t1 -c16 -d${WRK_SECS}s; apply median of" \
	"$APPLY_REPS; weight change median of $WEIGHT_REPS)"
# shellcheck disable=SC2086 # a list of names
[ $# -gt 0 ] || set -- $SCENARIOS
for s in "$@"; do
	echo "== $s"
	"bench_$s"
done
stop_xlbd
write_json
echo
echo "figures written to $OUT"
if [ "$failed" != 0 ]; then
	echo "controller bench: some scenarios FAILED (see above)" >&2
	exit 1
fi

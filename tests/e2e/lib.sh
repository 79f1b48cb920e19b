# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# Helpers of the e2e tests, sourced by run.sh after scripts/topo.sh: the
# daemon (start, kill, reset), the CLI, traffic from the client namespace
# (HTTP, UDP, connections held open) and the verdicts (fail, skip).
# Everything here runs inside the runner's private namespaces; every
# client command is bounded in time (curl --max-time, timeout).

# now_ms: milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME/./}

	echo $((t / 1000))
}

# sleep_until MS: sleeps until now_ms is MS (not at all if it is past).
sleep_until() {
	local ms=$(($1 - $(now_ms)))

	[ "$ms" -gt 0 ] && sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	return 0
}

# wait_for SECONDS CMD...: CMD every 50 ms until it succeeds; 1 if it
# still fails after SECONDS. Every wait of the tests is one of these, with a
# deadline generous enough for a busy machine: it only matters when the
# condition never comes.
wait_for() {
	local end=$(($(now_ms) + $1 * 1000))

	shift
	while ! "$@"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# gone PID: the process is no more.
gone() {
	! kill -0 "$1" 2>/dev/null
}

# xdp_on NS: an XDP program is attached to eth0 of namespace NS.
xdp_on() {
	in_ns "$1" ip link show dev eth0 | grep -q 'prog/xdp'
}

# The daemon the helpers below talk to. cluster.sh points them at one of
# its balancers by setting these for one call (lb_env).
SOCK=$W/xlbd.sock
METRICS_PORT=9120
XLBD_PIDFILE=$W/xlbd.pid
XLBD_NS=lb
XLBD_STATE_DIR=$W/state
XLBD_LOG=$W/xlbd.log
XLBD_PIN_DIR= # xlbd's default

# A test's verdicts: the reason goes to run.sh through a file, since each
# test runs in a subshell. 77 is "skipped", as in automake.
fail() {
	echo "FAIL: $*"
	echo "$*" >"$W/reason"
	exit 1
}

skip() {
	echo "SKIP: $*"
	echo "$*" >"$W/reason"
	exit 77
}

# Logs a command into the test's output, then runs it.
run() {
	echo "+ $*"
	"$@"
}

xlb() {
	"$XLB_BIN/xlb" -s "$SOCK" ${XLBD_PIN_DIR:+--pin-dir "$XLBD_PIN_DIR"} "$@"
}

# xlbd_up_or_gone: xlbd answers on its socket, or has exited.
xlbd_up_or_gone() {
	xlb status >/dev/null 2>&1 || gone "$(cat "$XLBD_PIDFILE")"
}

# xlbd in the balancer namespace, with our state dir, socket and metrics
# port; waits until it answers on its socket.
# XLBD_EXTRA: more options, words split on spaces (the cluster's).
# shellcheck disable=SC2086 # XLBD_EXTRA is a list of words
xlbd_start() {
	local i

	# nsenter itself becomes xlbd, so $! is the daemon's pid. Disowned:
	# killing it must not make the shell that started it report it.
	nsenter --net="/run/netns/$(ns "$XLBD_NS")" "$XLB_BIN/xlbd" -i eth0 \
		--state-dir "$XLBD_STATE_DIR" -s "$SOCK" \
		${XLBD_PIN_DIR:+--pin-dir "$XLBD_PIN_DIR"} \
		--metrics "127.0.0.1:$METRICS_PORT" ${XLBD_EXTRA:-} \
		>>"$XLBD_LOG" 2>&1 &
	echo $! >"$XLBD_PIDFILE"
	disown $!
	wait_for 30 xlbd_up_or_gone
	xlb status >/dev/null 2>&1 && return 0
	echo "xlbd did not come up; its log:" >&2
	tail -5 "$XLBD_LOG" >&2
	return 1
}

# Ends xlbd with a signal (TERM by default) and waits for it to go.
xlbd_stop() {
	local pid i

	pid=$(cat "$XLBD_PIDFILE" 2>/dev/null) || return 0
	kill -"${1:-TERM}" "$pid" 2>/dev/null
	wait_for 30 gone "$pid"
	rm -f "$XLBD_PIDFILE"
}

# No VIPs: the state every test starts from.
xlb_reset() {
	echo '{"vips": []}' >"$W/empty.json"
	xlb config apply "$W/empty.json"
}

# must CMD...: run, and fail the test with the command and its error if it
# fails.
must() {
	local rc

	echo "+ $*"
	"$@" 2>"$W/must.err"
	rc=$?
	cat "$W/must.err" >&2
	[ "$rc" -eq 0 ] || fail "$* (exit $rc): $(oneline <"$W/must.err")"
}

# vip_with VIP [--encap E] ADDR[:WEIGHT]...: a fresh VIP with these
# backends; fails the test if the CLI refuses.
vip_with() {
	local vip=$1 b
	local -a opts=()

	shift
	if [ "${1:-}" = --encap ]; then
		opts=(--encap "$2")
		shift 2
	fi
	must xlb vip add "$vip" "${opts[@]}"
	for b in "$@"; do
		case $b in
		*:*:*) must xlb backend add "$vip" "$b" ;; # IPv6
		*:*) must xlb backend add "$vip" "${b%:*}" --weight "${b#*:}" ;;
		*) must xlb backend add "$vip" "$b" ;;
		esac
	done
}

# cell COLUMN ROW: from a table of the CLI on stdin, the value in the
# column headed COLUMN of the row whose first field is ROW; fails if none.
# A header is a line whose first field is in capitals (VIP, ADDR, ...),
# so columns may be added or moved without breaking the tests.
cell() {
	awk -v c="$1" -v r="$2" '
		$1 ~ /^[A-Z]+$/ { k = 0; for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
		$1 == r && k { print $k; f = 1; exit }
		END { exit !f }'
}

# A global counter's packets from `xlb stats` (the pinned maps).
counter() {
	xlb stats | cell PACKETS "$1"
}

# http_answers URLBASE N [CURLOPTS...]: N requests on N new connections
# (Connection: close), 50 at a time, from the client: one curl, for
# volume; prints one line per answer ("b2"), errors on stderr. URLBASE
# like http://198.19.0.1 or http://[2001:db8:100::1].
http_answers() {
	local base=$1 n=$2 i
	local -a urls=()

	shift 2
	for i in $(seq "$n"); do urls+=("$base/?$i"); done
	# --no-progress-meter: curl 7.88 draws the -Z meter despite -s.
	in_ns cl timeout 120 curl -sS --no-progress-meter -g -Z \
		--parallel-max 50 --connect-timeout 3 --max-time 5 \
		-H 'Connection: close' "$@" "${urls[@]}"
}

# http_each URLBASE N: as http_answers, but one curl per request, 10 at a
# time, so that every failure is that request's own.
http_each() {
	seq "$2" | in_ns cl timeout 120 xargs -P 10 -I{} curl -sS -g \
		--max-time 3 -H 'Connection: close' "$1/?{}"
}

# oneline: stdin on one line, cut to 160 characters, for a FAIL reason.
oneline() {
	tr '\n' ' ' | head -c 160
}

# tally: counts the answers of http_answers on stdin -> "b1=N b2=N b3=N".
tally() {
	sort | uniq -c | awk '{ printf "%s%s=%d", sep, $2, $1; sep = " " }
		END { print "" }'
}

# tally_col: the tally of the second column of "I bN" lines.
tally_col() {
	awk '{ print $2 }' | tally
}

# count_of NAME "b1=N b2=N": N (0 if absent).
count_of() {
	local kv

	for kv in $2; do
		[ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }
	done
	echo 0
}

# probe_ports URLBASE FIRST LAST: one request from each client source port,
# 20 at a time -> "PORT bI" lines sorted by port, "PORT -" when none
# answered, "PORT busy" when the port could not be bound. The server
# closes first (Connection: close), so the client mostly keeps no
# TIME_WAIT and the same ports can be probed again; mostly: when curl has
# the whole answer before the server's FIN it closes first, and that port
# stays busy for a minute. Use ports below the ephemeral range (32768 and
# up): any other connection may hold a port in it.
probe_ports() {
	local base=$1
	# shellcheck disable=SC2016 # expanded by sh -c
	seq "$2" "$3" | in_ns cl xargs -P 20 -I{} sh -c \
		'b=$(curl -sS -g --max-time 5 --local-port {} \
			-H "Connection: close" "$0/")
		 case $? in 0) ;; 45) b=busy ;; *) b=- ;; esac
		 echo "{} ${b:--}"' "$base" | sort -n
}

# hold_start NAME ADDR N: N connections to be held open from the client by
# hold.sh, driven through the fifo $W/NAME.in; its answers go to
# $W/NAME.out; HOLD_CPU=N pins it to CPU N. The first hold_round, "open",
# opens them. Not in a $(...):
# the fifo's writing end must stay open in the caller.
hold_start() {
	local name=$1

	rm -f "$W/$name.in" "$W/$name.out"
	mkfifo "$W/$name.in"
	in_ns cl ${HOLD_CPU:+taskset -c "$HOLD_CPU"} \
		timeout 600 bash "$E2E_DIR/hold.sh" "$2" 80 "$3" \
		<"$W/$name.in" >"$W/$name.out" 2>&1 &
	exec {HOLD_FD}>"$W/$name.in"
}

# hold_round NAME ROUND: one request on every held connection; waits for
# it (30 s at most) and prints "I bN" (or "I broken") per connection.
hold_round() {
	local name=$1 round=$2 i

	echo "$round" >&"$HOLD_FD"
	wait_for 60 grep -q "^done $round\$" "$W/$name.out" 2>/dev/null ||
		{ echo "hold.sh did not finish round $round" >&2; return 1; }
	awk -v r="$round" '$1 == r { print $2, $3 }' "$W/$name.out"
}

# hold_open NAME N: N connections held open to VIP4 (hold_start), every
# one answered by a backend of the three; HELD gets the first round.
hold_open() {
	hold_start "$1" "$VIP4" "$2"
	HELD=$(hold_round "$1" open) || fail "hold.sh failed"
	echo "held: $(echo "$HELD" | tally_col)"
	echo "$HELD" | grep -qv ' b[123]$' &&
		fail "opening held connections failed: $(echo "$HELD" | oneline)"
	return 0
}

hold_close() {
	echo quit >&"$HOLD_FD"
	exec {HOLD_FD}>&-
}

# diff_rounds A B: "I bX bY" for each connection whose answer differs
# between two hold_round outputs.
diff_rounds() {
	join <(echo "$1" | sort) <(echo "$2" | sort) | awk '$2 != $3'
}

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of weights that follow load: xlb-agent on a backend reports
# the load of each service it hosts (HAProxy's agent check, per VIP), a
# real CPU hog makes its CPU-heavy service's weight fall while its
# I/O-heavy one keeps its weight, held connections stay, a silent agent
# goes stale back to the configured weight, an unmodified HAProxy-style
# agent is honoured, malformed replies never become weights, and the
# byte-share loop evens out a workload whose few heavy flows sit on one
# backend. Sourced by run.sh after lib.sh, traffic.sh (B4, B6) and
# health.sh (on_exit, bfield); each t_NAME runs in its own subshell after
# xlb_reset.

FB_DIR=$W/fb
# The agent checks of these tests: a report every 300 ms, stale after 3.
FB_IV=300

# bjson VIP ADDR KEY: KEY of the backend in `xlb -j backend list VIP`.
bjson() {
	xlb -j backend list "$1" |
		jq -r --arg a "$2" --arg k "$3" '.backends[] | select(.addr == $a) | .[$k]'
}

# agent_factor_is VIP ADDR TEST: the agent factor xlbd has in force for
# the backend passes awk's TEST on x ("x <= 0.5").
agent_factor_is() {
	bjson "$1" "$2" agent_factor | awk "{ x = \$1; exit !($3) }"
}

# reported VIP ADDR: the backend has a report in force (not stale).
reported() {
	bjson "$1" "$2" agent_reason | grep -q '^agent: '
}

# fb_agent I CONFIG: xlb-agent on backend I serving load reports only
# (its decap agent of setup runs on): pid in FB_AGENT; stopped at exit.
fb_agent() {
	mkdir -p "$FB_DIR"
	# nsenter, not in_ns (a function, so a subshell): $! is the agent.
	nsenter --net="/run/netns/$(ns "b$1")" "$XLB_BIN/xlb-agent" \
		--config "$2" -v >>"$FB_DIR/agent-b$1.log" 2>&1 &
	FB_AGENT=$!
	on_exit kill "$FB_AGENT"
	wait_for 20 in_ns "b$1" sh -c 'ss -Hltn "sport = :5555" | grep -q .' ||
		fail "xlb-agent on b$1 is not listening: $(tail -3 "$FB_DIR/agent-b$1.log" | oneline)"
}

# fb_config FILE SERVICES_JSON [HOOK_JSON]: an agent config sampling every
# 100 ms with a test's services: cpu-heavy weighs CPU so that a busy host
# reports ~90% load, io-heavy is the issue's and barely feels the CPU.
fb_config() {
	local hook=""

	[ -n "${3:-}" ] && hook="\"hook\": $3,"
	mkdir -p "$FB_DIR"
	cat >"$1" <<EOF
{
	"listen_port": 5555,
	"sample_ms": 100,
	"ceilings": {"cpu_pct": 90, "conns": 1000},
	"profiles": {
		"cpu-heavy": {"cpu": 0.9, "conns": 0.05, "mem": 0.05},
		"io-heavy": {"conns": 0.6, "mem": 0.3, "cpu": 0.1},
		"hooked": {"hook": 1.0}
	},
	$hook
	"services": $2
}
EOF
}

# tally_share NAME TALLY: NAME's share of the answers, in percent (awk real).
tally_share() {
	echo "$2" | tr ' ' '\n' |
		awk -F= -v b="$1" '{ n += $2 } $1 == b { m = $2 } END { printf "%.2f", n ? 100 * m / n : 0 }'
}

# want_share VIP ADDR: the backend's share of new flows as xlbd's
# effective weights say (the agent's factor as xlbd shows it), percent.
want_share() {
	xlb -j backend list "$1" |
		jq -r --arg a "$2" '([.backends[].effective_weight] | add) as $s |
			.backends[] | select(.addr == $a) | 100 * .effective_weight / $s' |
		awk '{ printf "%.2f", $1 }'
}

# (a) and (b): a real CPU hog on b1 takes its CPU-heavy service's weight
# down to what its agent reports, measured over 3000 new connections;
# held connections stay; its I/O-heavy service's weight barely moves.
t_agent_cpu_hog() {
	local cpu="$VIP4:80/tcp" io="[$VIP6]:80/tcp" b1=${B4[0]} b16=${B6[0]}
	local io0 io1 f0 f1 want got share tries r1 d hog

	fb_config "$FB_DIR/cpu.json" "[
		{\"service\": \"$cpu\", \"profile\": \"cpu-heavy\", \"drain_above\": 1},
		{\"service\": \"$io\", \"profile\": \"io-heavy\", \"drain_above\": 1}]"
	fb_agent 1 "$FB_DIR/cpu.json"
	vip_with "$cpu" "${B4[@]}"
	vip_with "$io" "${B6[@]}"
	must xlb check set "$cpu" --kind agent --interval "$FB_IV"
	must xlb check set "$io" --kind agent --interval "$FB_IV"
	wait_for 20 reported "$cpu" "$b1" || fail "no report for $cpu: $(bjson "$cpu" "$b1" agent_reason)"
	wait_for 20 reported "$io" "$b16" || fail "no report for $io: $(bjson "$io" "$b16" agent_reason)"
	io0=$(bjson "$io" "$b16" agent_factor)
	echo "before the hog: cpu-heavy $(bjson "$cpu" "$b1" agent_factor), io-heavy $io0"
	hold_open held 30

	# Every CPU of the machine busy, at the lowest priority: the agent
	# reads the host's /proc/stat, like a real one.
	nsenter --net="/run/netns/$(ns b1)" nice -n 19 stress-ng --cpu 0 --cpu-method loop --timeout 120s \
		--quiet >/dev/null 2>&1 &
	hog=$!
	on_exit kill "$hog"
	wait_for 30 agent_factor_is "$cpu" "$b1" "x <= 0.5" ||
		fail "cpu-heavy weight of b1 still $(bjson "$cpu" "$b1" agent_factor) under the hog: $(bjson "$cpu" "$b1" agent_reason)"
	echo "under the hog: $(bjson "$cpu" "$b1" agent_reason)"

	# The factor may move between reports: measure again if it did.
	for tries in 1 2 3; do
		f0=$(bjson "$cpu" "$b1" agent_factor)
		want=$(want_share "$cpu" "$b1")
		got=$(http_answers "http://$VIP4" 3000 | grep -x 'b[0-9]' | tally)
		f1=$(bjson "$cpu" "$b1" agent_factor)
		echo "try $tries: factor $f0 -> $f1, want b1 $want%, answers $got"
		[ "$f0" = "$f1" ] && break
	done
	share=$(tally_share b1 "$got")
	echo "b1: $share% of new connections, want $want% +-3"
	awk -v s="$share" -v w="$want" 'BEGIN { exit !(s - w <= 3 && w - s <= 3) }' ||
		fail "b1 got $share% of 3000 new connections, want $want% +-3 (factor $f1; $got)"
	awk -v w="$want" 'BEGIN { exit !(w < 100 / 3 - 10) }' ||
		fail "the expected share $want% of b1 is not below its configured 33%"

	r1=$(hold_round held after) || fail "hold.sh failed"
	hold_close
	d=$(diff_rounds "$HELD" "$r1")
	[ -z "$d" ] || fail "$(echo "$d" | wc -l) of 30 held connections changed backend: $(echo "$d" | oneline)"

	io1=$(bjson "$io" "$b16" agent_factor)
	echo "io-heavy: $io0 before, $io1 under the hog; cpu-heavy $f1"
	awk -v a="$io0" -v b="$io1" -v c="$f1" 'BEGIN { exit !(a - b <= 0.15 && b - c >= 0.3) }' ||
		fail "io-heavy weight of b1 went $io0 -> $io1 under a CPU hog (cpu-heavy: $f1)"
}

# (c) The agent's reports stop: after 3 intervals they are stale and the
# weight is the configured one again, logged and counted.
t_agent_stale() {
	local vip="$VIP4:80/tcp" b1=${B4[0]} t0 dt

	mkdir -p "$FB_DIR"
	echo 70 >"$FB_DIR/load"
	fb_config "$FB_DIR/hook.json" "[{\"service\": \"$vip\", \"profile\": \"hooked\"}]" \
		"{\"file\": \"$FB_DIR/load\", \"ceiling\": 100, \"interval_ms\": 100}"
	fb_agent 1 "$FB_DIR/hook.json"
	vip_with "$vip" "${B4[0]}:4" "${B4[1]}:4"
	must xlb check set "$vip" --kind agent --interval "$FB_IV"
	wait_for 20 agent_factor_is "$vip" "$b1" "x == 0.3" ||
		fail "b1's factor is $(bjson "$vip" "$b1" agent_factor), want 0.3: $(bjson "$vip" "$b1" agent_reason)"
	[ "$(bjson "$vip" "$b1" effective_weight)" = 1.2 ] ||
		fail "effective weight $(bjson "$vip" "$b1" effective_weight), want 4 x 0.3"
	xlb backend list "$vip"
	t0=$(now_ms)
	kill "$FB_AGENT"
	wait_for 20 agent_factor_is "$vip" "$b1" "x == 1" ||
		fail "weight not back after the agent died: $(bjson "$vip" "$b1" agent_reason)"
	dt=$(($(now_ms) - t0))
	echo "configured weight back after $dt ms: $(bjson "$vip" "$b1" agent_reason)"
	bjson "$vip" "$b1" agent_reason | grep -q '^stale' ||
		fail "reason is not stale: $(bjson "$vip" "$b1" agent_reason)"
	# Its last report came at most one interval before the kill.
	[ "$dt" -ge $((2 * FB_IV)) ] || fail "stale after $dt ms, before 3 intervals of $FB_IV ms"
	[ "$(bjson "$vip" "$b1" effective_weight)" = 4 ] ||
		fail "effective weight $(bjson "$vip" "$b1" effective_weight) once stale, want 4"
	[ "$(xlb -j backend list "$vip" | jq --arg a "$b1" '.backends[] | select(.addr == $a) | .health')" = '"unchecked"' ] ||
		fail "a dead agent changed the backend's health"
	grep -q "agent of backend $b1 of $vip: no report .* stale" "$W/xlbd.log" ||
		fail "no log line for the stale agent"
}

# (e) An agent of a few lines of shell that ignores the request line and
# answers "50%", as HAProxy users have them, is honoured.
t_agent_haproxy_style() {
	local vip="$VIP4:80/tcp" b2=${B4[1]} pid s

	nsenter --net="/run/netns/$(ns b2)" \
		socat TCP-LISTEN:5556,reuseaddr,fork SYSTEM:'echo 50%' \
		>/dev/null 2>&1 &
	pid=$!
	on_exit kill "$pid"
	vip_with "$vip" "${B4[@]}"
	must xlb check set "$vip" --kind agent --port 5556 --interval "$FB_IV"
	wait_for 20 agent_factor_is "$vip" "$b2" "x == 0.5" ||
		fail "b2's factor is $(bjson "$vip" "$b2" agent_factor): $(bjson "$vip" "$b2" agent_reason)"
	xlb backend list "$vip"
	# b1 and b3 have no agent on 5556: they keep their weight.
	agent_factor_is "$vip" "${B4[0]}" "x == 1" || fail "b1 without an agent lost weight"
	s=$(xlb -j ring show "$vip" | jq --arg a "$b2" '.backends[] | select(.addr == $a) | .share_percent')
	echo "b2 holds $s% of the ring, want 20 (0.5 / 2.5)"
	awk -v s="$s" 'BEGIN { exit !(s > 19 && s < 21) }' || fail "b2 holds $s% of the ring, want 20"
}

# malformed_at_least VIP ADDR N: xlbd counted N malformed replies.
malformed_at_least() {
	[ "$(bjson "$1" "$2" agent_malformed)" -ge "$3" ] 2>/dev/null
}

# Replies that mean nothing are counted and logged, never a weight.
t_agent_malformed() {
	local vip="$VIP4:80/tcp" b2=${B4[1]} pid

	nsenter --net="/run/netns/$(ns b2)" \
		socat TCP-LISTEN:5556,reuseaddr,fork SYSTEM:'echo 150%' \
		>/dev/null 2>&1 &
	pid=$!
	on_exit kill "$pid"
	vip_with "$vip" "${B4[@]}"
	must xlb check set "$vip" --kind agent --port 5556 --interval "$FB_IV"
	wait_for 20 malformed_at_least "$vip" "$b2" 3 ||
		fail "malformed replies not counted: $(xlb -j backend list "$vip" | oneline)"
	agent_factor_is "$vip" "$b2" "x == 1" || fail "a malformed reply became a weight"
	bjson "$vip" "$b2" agent_reason | grep -q 'malformed' ||
		fail "the reason does not say malformed: $(bjson "$vip" "$b2" agent_reason)"
	grep -q "agent of backend $b2 of $vip: malformed reply" "$W/xlbd.log" ||
		fail "no log line for the malformed reply"
	[ "$(grep -c "agent of backend $b2 of $vip: malformed reply" "$W/xlbd.log")" -le 12 ] ||
		fail "malformed replies are logged without a limit"
}

# The agent check through the CLI: set, show, delete; what is refused.
t_agent_check_cli() {
	local vip="$VIP4:80/tcp" m

	mkdir -p "$FB_DIR"
	vip_with "$vip" "${B4[@]}"
	must xlb check set "$vip" --kind tcp
	must xlb check set "$vip" --kind agent --port 5557 --interval 700
	xlb vip show "$vip" | grep -q '^agent: *port 5557 every 700 ms' ||
		fail "vip show does not show the agent check"
	xlb check show "$vip" | tee "$FB_DIR/show"
	grep -q ' agent ' "$FB_DIR/show" || fail "check show lists no agent check"
	grep -q ' tcp ' "$FB_DIR/show" || fail "the agent check replaced the health check"
	[ "$(xlb -j check show "$vip" | jq '[.checks[] | select(.kind == "agent")][0].port')" = 5557 ] ||
		fail "check show -j: no agent check on port 5557"
	xlb check set "$vip" --kind agent --rise 2 && fail "--rise accepted for an agent check"
	xlb check set "$vip" --backend "${B4[0]}" --kind agent && fail "a backend's own agent check accepted"
	xlb check del "$vip" --kind tcp && fail "check del --kind tcp accepted"
	xlb backend list "$vip" | head -1 | grep -q 'EFFECTIVE *AGENT *AGENT-WHY *CORR *CORR-WHY' ||
		fail "backend list lacks the weight's columns"
	xlb -j backend list "$vip" |
		jq -e '.backends[0] | has("effective_weight") and has("agent_factor") and has("agent_reason") and has("correction") and has("correction_reason")' ||
		fail "backend list -j lacks the weight's keys"
	m=$(in_ns lb curl -sS --max-time 5 -f "http://127.0.0.1:$METRICS_PORT/metrics") ||
		fail "GET /metrics failed"
	echo "$m" | grep -q "^xlb_backend_weight_effective{vip=\"$vip\",backend=\"${B4[0]}\"} 1$" ||
		fail "no xlb_backend_weight_effective of 1"
	echo "$m" | grep -q "^xlb_backend_agent_load{vip=\"$vip\"" || fail "no xlb_backend_agent_load"
	must xlb check del "$vip" --kind agent
	xlb check show "$vip" | grep -q ' agent ' && fail "the agent check is still there"
	xlb check show "$vip" | grep -q ' tcp ' || fail "deleting the agent check took the health check"
	xlb check del "$vip" --kind agent && fail "deleting a missing agent check succeeded"
	must xlb vip set "$vip" --balance bytes --balance-window 1000
	xlb vip show "$vip" | grep -q '^balance: *bytes$' || fail "vip show does not say balance bytes"
	[ "$(xlb -j vip list | jq '.vips[0].balance_window_ms')" = 1000 ] ||
		fail "vip list -j lacks balance_window_ms 1000"
	xlb vip set "$vip" --balance bogus && fail "--balance bogus accepted"
	xlb vip set "$vip" --balance-window 50 && fail "--balance-window 50 accepted"
	echo "$m" | grep -q '^# TYPE xlb_backend_byte_share gauge' || fail "no xlb_backend_byte_share"
	return 0
}

# bytes_now VIP: "ADDR BYTES" per backend, from the metrics (backend_stats).
bytes_now() {
	in_ns lb curl -sS --max-time 5 -f "http://127.0.0.1:$METRICS_PORT/metrics" |
		awk -v v="$1" -F'[{}",= ]+' '$1 == "xlb_backend_bytes_total" && $3 == v { print $5, $NF }'
}

# byte_shares BEFORE AFTER: "ADDR PERCENT" of each backend's bytes between
# two bytes_now.
byte_shares() {
	join <(echo "$1" | sort) <(echo "$2" | sort) |
		awk '{ d[$1] = $3 - $2; t += $3 - $2 } END { for (a in d) printf "%s %.1f\n", a, t ? 100 * d[a] / t : 0 }' |
		sort
}

# shares_within VIP POINTS: every backend's byte share of the last window,
# as xlbd measured it, is within POINTS of its target.
shares_within() {
	xlb -j backend list "$1" | jq -e --argjson p "$2" \
		'[.backends[] | .target_share > 0 and ((.byte_share - .target_share) | fabs) * 100 <= $p] | all' >/dev/null
}

# windows_to_converge VIP WINDOW_MS MAX: the windows xlbd measured until
# its shares were within 5 points of their targets in 2 windows in a row
# (the second's number is printed); 1 if not within MAX windows. One
# window in range could be the workload's noise.
windows_to_converge() {
	local prev="" cur n=0 ok=0 end=$(($(now_ms) + ($3 + 2) * $2))

	while [ "$(now_ms)" -lt "$end" ]; do
		cur=$(window_of "$1")
		if [ "$cur" != "$prev" ] && echo "$cur" | grep -qv ',0,0'; then
			prev=$cur
			n=$((n + 1))
			echo "window $n: $cur" >&2
			if shares_within "$1" 5; then ok=$((ok + 1)); else ok=0; fi
			[ "$ok" -ge 2 ] && { echo "$n"; return 0; }
			[ "$n" -ge "$3" ] && return 1
		fi
		sleep 0.2
	done
	return 1
}

# window_of VIP: each backend's address, byte share, target, correction.
window_of() {
	xlb -j backend list "$1" |
		jq -c '[.backends[] | [.addr, .byte_share, .target_share, .correction]]'
}

# mice URL: small uploads (16 kB) on new connections from the client,
# 8 at a time, up to 800 a second (enough that a window's shares are not
# the noise of a few connections), for 2 minutes at most;
# its pid (GNU timeout, which passes a TERM on to wrk) in MICE.
mice() {
	cat >"$FB_DIR/mouse.lua" <<EOF
wrk.method = "POST"
wrk.body = string.rep("x", 16384)
wrk.headers["Connection"] = "close"
-- 10 ms between requests of a connection: at most 800 a second, a
-- pace that leaves the machine to others and still fills a window.
function delay() return 10 end
EOF
	nsenter --net="/run/netns/$(ns cl)" timeout 130 wrk -t 1 -c 8 -d 120s \
		-s "$FB_DIR/mouse.lua" "$1/" >"$FB_DIR/wrk.out" 2>&1 &
	MICE=$!
	on_exit kill "$MICE"
}

# (d) Two heavy uploads sit on b1 (a minority of flows carrying most of
# its bytes); small uploads follow the ring. Balancing by bytes, the
# shares come within 5 points of their targets (2 windows in a row)
# within 10 windows and stay near them (the test's own measure over the
# 3 windows after), and no
# flow moves: the heavy uploads and 30 held connections keep their
# backend to the end. Uploads: the balancer sees the bytes toward the
# backends only (the answers go straight back, DSR), so a download's
# weight here is its ACKs; an upload's is all of it.
t_balance_bytes() {
	local vip="$VIP4:80/tcp" b1=${B4[0]} ports p pids=() w0 b0 bn s r1 d rate n i
	local -a urls
	local win

	mkdir -p "$FB_DIR"
	# nginx takes bodies up to 1 MiB: an elephant is many on one
	# connection (keep-alive), so it is one flow.
	head -c $((900 * 1024)) /dev/zero >"$FB_DIR/elephant"
	vip_with "$vip" "${B4[@]}"
	# Two client ports the ring gives b1 (below the ephemeral range),
	# not left in TIME_WAIT by their probe.
	ports=$(probe_ports "http://$VIP4" 20001 20060 | awk '$2 == "b1" { print $1 }')
	ports=$(echo "$ports" | grep -vxF -f <(in_ns cl ss -Htan state time-wait |
		awk '{ sub(/.*:/, "", $3); print $3 }') | head -2)
	[ "$(echo "$ports" | wc -w)" = 2 ] || fail "no two client ports reach b1: $ports"
	hold_open held 30
	mice "http://$VIP4"
	# The elephants' rate follows what the mice make on this machine
	# (a busy one makes far fewer): together 20% of the mice's bytes,
	# so b1 starts near 45% of the bytes and its target stays reachable
	# while the mice keep at least 40% of their pace.
	sleep 1
	b0=$(bytes_now "$vip")
	sleep 3
	rate=$(join <(echo "$b0" | sort) <(bytes_now "$vip" | sort) |
		awk '{ t += $3 - $2 } END { printf "%d", t / 3 * 0.1 }')
	[ "$rate" -ge 10000 ] || fail "the small uploads make only $((rate * 10)) bytes/s"
	# A window holds ~1000 small uploads (1 to 5 s), so that its shares
	# are not mostly the noise of a few connections.
	win=$(awk -v r="$rate" 'BEGIN { c = r / 0.1 / 17000; w = int(1000 / c + 0.999);
		print (w < 1 ? 1 : w > 5 ? 5 : w) * 1000 }')
	echo "small uploads: $((rate * 10)) bytes/s; each heavy one: $rate bytes/s; windows of $win ms"
	# Bodies for 90 s at that rate: they outlast the test.
	n=$((rate * 90 / (900 * 1024) + 1))
	urls=()
	for i in $(seq "$n"); do urls+=("http://$VIP4/?e$i"); done
	for p in $ports; do
		nsenter --net="/run/netns/$(ns cl)" curl -sS --local-port "$p" \
			--limit-rate "$rate" --max-time 150 -H 'Expect:' \
			--data-binary @"$FB_DIR/elephant" \
			"${urls[@]}" \
			>"$FB_DIR/elephant.$p" 2>&1 &
		pids+=($!)
	done
	on_exit kill "${pids[@]}"

	# Unbalanced first: b1 carries the elephants and its share of mice.
	sleep 1
	b0=$(bytes_now "$vip")
	sleep 3
	s=$(byte_shares "$b0" "$(bytes_now "$vip")")
	echo "byte shares, flows only: $(echo "$s" | oneline) ($(echo "$b0" | oneline))"
	echo "$s" | awk -v a="$b1" '$1 == a { exit !($2 > 100 / 3 + 5) }' ||
		fail "b1 carries no skew to correct: $(echo "$s" | oneline)"

	must xlb vip set "$vip" --balance bytes --balance-window "$win"
	w0=$(windows_to_converge "$vip" "$win" 12) ||
		fail "byte shares not within 5 points for 2 windows in a row within 12: $(window_of "$vip")"
	xlb backend list "$vip"
	grep "of $vip: share correction" "$W/xlbd.log" | tail -12
	echo "within 5 points after $w0 windows"
	[ "$w0" -le 10 ] || fail "byte shares took $w0 windows to come within 5 points"

	# The test's own measure from the metrics, over the next 3 windows:
	# the loop holds what it reached. 7 points, not 5: this machine's
	# load moves the workload's own mix (wrk's pace against the heavy
	# uploads' fixed one) while the loop follows it a window late.
	b0=$(bytes_now "$vip")
	sleep $((3 * win / 1000))
	s=$(byte_shares "$b0" "$(bytes_now "$vip")")
	echo "byte shares, balanced: $(echo "$s" | oneline)"
	echo "$s" | awk '{ if ($2 < 100 / 3 - 7 || $2 > 100 / 3 + 7) bad = 1 } END { exit bad }' ||
		fail "byte shares measured off target: $(echo "$s" | oneline)"

	# No flow moved: the elephants still upload and every answer they
	# had was b1's (a moved one would have been reset by its new
	# backend, and curl's next connection answered by another).
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null ||
			fail "a heavy upload ended early: $(cat "$FB_DIR"/elephant.* | oneline)"
	done
	grep -hvx b1 "$FB_DIR"/elephant.* &&
		fail "a heavy upload was answered by another backend than b1"
	r1=$(hold_round held after) || fail "hold.sh failed"
	hold_close
	d=$(diff_rounds "$HELD" "$r1")
	[ -z "$d" ] || fail "$(echo "$d" | wc -l) of 30 held connections changed backend: $(echo "$d" | oneline)"
	bn=$(grep -c "of $vip: share correction" "$W/xlbd.log")
	echo "$bn weight changes logged"
	[ "$bn" -gt 0 ] || fail "no share correction logged"
}

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# Seeing what the balancer holds and does: `xlb flow` (the flow tables
# read from the pins) and `xlb top` (rates per VIP and backend). Sourced
# by run.sh after lib.sh and traffic.sh (B4).

# held_ports NAME: "PORT bK" for each connection held by hold.sh NAME,
# from its first round ($HELD) and its "ports" answer.
held_ports() {
	local ports

	ports=$(hold_round "$1" ports) || fail "hold.sh did not give its ports"
	join <(echo "$ports" | sort) <(echo "$HELD" | sort) |
		awk '{ print $2, $3 }' | sort -n
}

# flows_of_client VIP PORTS: "PORT bK" for each flow `xlb flow list VIP`
# shows from the client's PORTS (one per line), the backend address
# turned into its name (198.18.32.2 is b2), as hold.sh names them. Only
# those ports: the table keeps the flows of closed connections of earlier
# tests (TCP flows are not expired, only replaced), and a VIP added again
# with the same key finds them.
flows_of_client() {
	xlb flow list "$1" | awk -v c="$CLIENT4" -v ports="$2" '
		BEGIN { n = split(ports, p, "\n"); for (i = 1; i <= n; i++) want[p[i]] = 1 }
		$1 ~ /^[A-Z]+$/ { for (i = 1; i <= NF; i++) k[$i] = i; next }
		{ split($k["CLIENT"], a, ":") }
		a[1] == c && (a[2] in want) { b = $k["BACKEND"]; sub(/^198\.18\.3/, "b", b)
			sub(/\.2$/, "", b); print a[2], b }' | sort -n
}

# Held connections are listed, exactly, with the backend that answers
# each; count, --backend, --limit and -j agree; a deleted VIP's flows are
# no more listed; bad arguments are usage errors.
t_flow_list_shows_held() {
	local v="$VIP4:80/tcp" want got n b addr on_b rc arg t0 age listed
	local mine ports

	vip_with "$v" "${B4[@]}"
	t0=$(now_ms)
	hold_open flows 12
	want=$(held_ports flows)
	echo "held (port backend): $(echo "$want" | oneline)"
	[ "$(echo "$want" | grep -c ' b[123]$')" -eq 12 ] ||
		fail "hold.sh gave no port for every connection: $(echo "$want" | oneline)"
	run xlb flow list "$v"
	got=$(flows_of_client "$v" "$(echo "$want" | awk '{ print $1 }')")
	[ "$got" = "$want" ] ||
		fail "flow list is not the held connections: got $(echo "$got" | oneline) want $(echo "$want" | oneline)"
	run xlb flow count
	# Count and list agree (older flows of closed connections count too).
	listed=$(xlb -j flow list "$v" | jq '.flows | length')
	n=$(xlb flow count | cell FLOWS "$v") || fail "flow count has no row for $v"
	{ [ "$n" -eq "$listed" ] && [ "$n" -ge 12 ]; } ||
		fail "flow count says $n flows for $v, the list $listed, 12 are held"
	n=$(xlb -j flow count "$v" | jq -r '.total')
	[ "$n" = "$listed" ] || fail "flow count -j $v says total $n, the list $listed"

	# The held connections' own flows, by client port, in -j output.
	# shellcheck disable=SC2016 # $p and $ports are jq's
	mine='[.flows[] | select(.client | startswith("'"$CLIENT4"':")) |
		select((.client | split(":") | last) as $p | $ports | index($p))]'
	ports=$(echo "$want" | awk '{ print $1 }' | jq -R . | jq -cs .)
	b=$(echo "$want" | awk 'NR == 1 { print $2 }')
	addr=198.18.3${b#b}.2
	on_b=$(echo "$want" | awk -v b="$b" '$2 == b' | wc -l)
	run xlb flow list "$v" --backend "$addr"
	got=$(xlb -j flow list "$v" --backend "$addr" |
		jq -r --argjson ports "$ports" "$mine | length")
	n=$(xlb -j flow list "$v" --backend "$addr" |
		jq -r --arg a "$addr" '[.flows[] | select(.backend != $a)] | length')
	if [ "$n" -ne 0 ] || [ "$got" -ne "$on_b" ]; then
		fail "--backend $addr lists $n flows of other backends and $got held ones, $on_b are held on $b"
	fi
	n=$(xlb -j flow list --limit 5 | jq -r '.flows | length')
	[ "$n" -eq 5 ] || fail "--limit 5 listed $n flows"
	got=$(xlb -j flow list "$v" | jq -r --argjson ports "$ports" "$mine"' | .[] |
		"\(.client | split(":") | last) \(.backend)"' |
		sed 's/ 198\.18\.3\([0-9]\)\.2$/ b\1/' | sort -n)
	[ "$got" = "$want" ] || fail "flow list -j differs from the held connections: $(echo "$got" | oneline)"
	# An age is since the flow's last packet: after the first was sent.
	age=$(xlb -j flow list "$v" | jq --argjson ports "$ports" "$mine"' | map(.age_ms) | max')
	echo "oldest age of a held connection's flow ${age} ms, $(($(now_ms) - t0)) ms since opening"
	[ "$age" -le $(($(now_ms) - t0 + 100)) ] ||
		fail "a flow is ${age} ms old, the connections are $(($(now_ms) - t0)) ms old"

	# The pins answer with xlbd down (it leaves the program and maps).
	xlbd_stop TERM
	got=$(xlb -j flow list "$v" | jq --argjson ports "$ports" "$mine | length")
	xlbd_start || fail "xlbd did not come back"
	[ "$got" = 12 ] || fail "with xlbd down, flow list shows '$got' of the 12 held connections"

	hold_close
	must xlb vip del "$v"
	run xlb flow list
	n=$(xlb -j flow list | jq -r '[.flows[] | select(.vip == "'"$v"'")] | length')
	[ "$n" -eq 0 ] || fail "$n flows of the deleted VIP $v are still listed"
	n=$(xlb -j flow count | jq -r '.total')
	[ "$n" -eq 0 ] || fail "flow count says $n flows with no VIP left"

	for arg in "198.19.0.1:80" "--limit 0" "--limit abc" "--bogus" \
		"$v $v"; do
		# shellcheck disable=SC2086 # the words of one case
		xlb flow list $arg >/dev/null 2>&1
		rc=$?
		[ "$rc" -eq 2 ] || fail "xlb flow list $arg exited $rc, not 2"
	done
	xlb flow count --backend 198.18.31.2 >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || fail "xlb flow count --backend exited $rc, not 2"
	xlb flow list "[$VIP6]:80/tcp" >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || fail "flow list of a VIP not in the maps exited $rc, not 1"
}

# top_max JSONLINES KEY-FILTER: the largest packets_per_s over the
# screens of the rows the jq filter selects ("-" when none).
# top_max FILE SELECT [FIELD]: the largest FIELD (packets_per_s) of the
# rows SELECT picks over every screen of FILE ("-" when none has it).
top_max() {
	jq -rs "[.[].rows[] | select($2) | .${3:-packets_per_s}] | max // \"-\"" <"$1"
}

# Under a loop of new connections, top shows packets/s and new flows/s for
# the VIP and packets/s for each backend that answered, none for a drained
# one; piped, one block per screen; -j, one object per screen; bad
# arguments are usage errors.
t_top_shows_rates() {
	local v="$VIP4:80/tcp" pid b addr max n rc arg

	vip_with "$v" "${B4[@]}"
	must xlb backend set "$v" "${B4[2]}" --state drain
	rm -f "$W/top.stop"
	(while [ ! -e "$W/top.stop" ]; do http_answers "http://$VIP4" 20; done) \
		>"$W/top.answers" 2>/dev/null &
	pid=$!
	wait_for 30 grep -q '^b' "$W/top.answers" ||
		{ touch "$W/top.stop"; fail "no answer from $VIP4"; }
	xlb -j top --count 3 --interval 500 >"$W/top.json"
	rc=$?
	xlb top --count 2 --interval 500 >"$W/top.txt"
	touch "$W/top.stop"
	wait "$pid"
	cat "$W/top.txt"
	[ "$rc" -eq 0 ] || fail "xlb -j top exited $rc"
	n=$(jq -s length <"$W/top.json") || fail "xlb -j top printed no JSON: $(oneline <"$W/top.json")"
	[ "$n" -eq 3 ] || fail "xlb -j top --count 3 printed $n objects"
	max=$(top_max "$W/top.json" ".vip == \"$v\" and (has(\"backend\") | not)")
	echo "VIP $v: at most $max packets/s"
	awk "BEGIN { exit !(\"$max\" + 0 > 0) }" || fail "top shows no packets/s for $v ($max)"
	max=$(top_max "$W/top.json" ".vip == \"$v\" and (has(\"backend\") | not)" new_flows_per_s)
	echo "VIP $v: at most $max new flows/s"
	awk "BEGIN { exit !(\"$max\" + 0 > 0) }" || fail "top shows no new flows/s for $v ($max)"
	while read -r b; do
		addr=198.18.3${b#b}.2
		max=$(top_max "$W/top.json" ".backend == \"$addr\"")
		echo "$b ($addr): at most $max packets/s"
		[ "$b" != b3 ] || fail "drained b3 answered new connections"
		awk "BEGIN { exit !(\"$max\" + 0 > 0) }" || fail "top shows no packets/s for $b, which answered ($max)"
	done < <(grep -x 'b[0-9]' "$W/top.answers" | sort -u)
	max=$(top_max "$W/top.json" ".backend == \"${B4[2]}\"")
	[ "$max" = 0 ] || fail "top shows $max packets/s for the drained ${B4[2]}"
	n=$(grep -c '^xlb top ' "$W/top.txt")
	[ "$n" -eq 2 ] || fail "piped xlb top --count 2 printed $n blocks"
	grep -q -- "-> ${B4[2]} .*drain" "$W/top.txt" || fail "the drained backend's line says no drain"
	grep "^$v " "$W/top.txt" | awk '$NF !~ /^[0-9.]+$/ { exit 1 }' ||
		fail "the piped VIP line's NEW/S is not a number"

	# xlbd down: the counters still come, each backend id under VIP "-".
	xlbd_stop TERM
	n=$(xlb -j top --count 1 --interval 100 |
		jq -r '[.rows[] | select(.vip == "-" and .backend == "'"${B4[2]}"'" and .state == "drain")] | length')
	xlbd_start || fail "xlbd did not come back"
	[ "$n" = 1 ] || fail "with xlbd down, top shows ${B4[2]} draining $n times, not once"

	for arg in "--interval 5" "--interval x" "--count 0" "extra"; do
		# shellcheck disable=SC2086 # the words of one case
		xlb top $arg >/dev/null 2>&1
		rc=$?
		[ "$rc" -eq 2 ] || fail "xlb top $arg exited $rc, not 2"
	done
}

# trace_on: the switch of the pinned trace map (1 on, 0 off).
trace_on() {
	bpftool -j map lookup pinned "${XLBD_PIN_DIR:-/sys/fs/bpf/xlb}/trace" \
		key 0 0 0 0 | jq -r '.formatted.value[".data.trace"][0].xlb_trace_cfg.on'
}

# While curl makes requests to a VIP, `xlb trace -c 20 -w FILE VIP`
# writes a pcapng that tshark reads: 20 packets from the client to the
# VIP, each with a tx_* verdict and the backend in its comment; then the
# switch is off; -j gives one object per packet. A running trace prints one line per packet, refuses a
# second one, and turns the switch off on SIGINT. A verdict filter keeps
# only that verdict; bad arguments are usage errors.
t_trace_writes_pcap() {
	local v="$VIP4:80/tcp" pid tpid rc n arg f="$W/t.pcapng"
	# The CLI as xlb() runs it, as a command for timeout and &.
	local -a cli=("$XLB_BIN/xlb" -s "$SOCK"
		${XLBD_PIN_DIR:+--pin-dir "$XLBD_PIN_DIR"})

	command -v tshark >/dev/null || skip "no tshark (scripts/deps.sh)"
	vip_with "$v" "${B4[@]}"
	[ "$(trace_on)" = 0 ] || fail "tracing is on before any trace: $(trace_on)"
	rm -f "$W/trace.stop"
	(while [ ! -e "$W/trace.stop" ]; do http_answers "http://$VIP4" 10; done) \
		>/dev/null 2>&1 &
	pid=$!
	run timeout 60 "${cli[@]}" trace -c 20 -w "$f" "$v"
	rc=$?
	[ "$rc" -eq 0 ] || { touch "$W/trace.stop"; fail "xlb trace -c 20 exited $rc"; }
	[ "$(trace_on)" = 0 ] || { touch "$W/trace.stop"; fail "tracing still on after -c 20"; }
	tshark -r "$f" -T fields -E separator=' ' -e ip.src -e ip.dst \
		-e tcp.dstport -e frame.comment >"$W/t.fields" 2>"$W/t.err"
	rc=$?
	head -3 "$W/t.fields"
	[ "$rc" -eq 0 ] || { touch "$W/trace.stop"; fail "tshark cannot read $f: $(oneline <"$W/t.err")"; }
	n=$(wc -l <"$W/t.fields")
	[ "$n" -eq 20 ] || { touch "$W/trace.stop"; fail "tshark read $n packets, want 20"; }
	n=$(awk -v c="$CLIENT4" -v d="$VIP4" '$1 == c && $2 == d && $3 == 80 &&
		$4 ~ /^tx_[a-z0-9]+$/ && $5 == "->" && $6 ~ /^198\.18\.3[0-9]\.2$/' "$W/t.fields" | wc -l)
	[ "$n" -eq 20 ] || { touch "$W/trace.stop"; fail "$n of 20 packets are client -> VIP:80 with tx_* -> backend: $(oneline <"$W/t.fields")"; }

	# -j: one object per packet, through the same calls as the lines.
	timeout 60 "${cli[@]}" -j trace -c 3 "$v" >"$W/t.json" 2>/dev/null
	n=$(jq -rs --arg c "$CLIENT4" '[.[] | select(.src == $c and
		(.verdict | startswith("tx_")) and (.backend | startswith("198.18.3")))] |
		length' <"$W/t.json")
	[ "$n" = 3 ] || { touch "$W/trace.stop"; fail "xlb -j trace -c 3 gave $n of 3 objects: $(oneline <"$W/t.json")"; }

	# Lines, until SIGINT; a second trace meanwhile is refused.
	"${cli[@]}" trace "$VIP4" >"$W/t.lines" 2>"$W/t.lines.err" &
	tpid=$!
	wait_for 30 grep -q . "$W/t.lines" ||
		{ touch "$W/trace.stop"; kill -INT "$tpid"; fail "a running trace printed nothing"; }
	xlb trace -c 1 >/dev/null 2>"$W/t.second"
	rc=$?
	cat "$W/t.second"
	kill -INT "$tpid"
	wait_for 30 gone "$tpid" || fail "xlb trace did not end on SIGINT"
	wait "$tpid"
	n=$?
	touch "$W/trace.stop"
	wait "$pid"
	head -3 "$W/t.lines"
	{ [ "$rc" -eq 1 ] && grep -q "another xlb trace runs (pid $tpid)" "$W/t.second"; } ||
		fail "a second trace was not refused (exit $rc): $(oneline <"$W/t.second")"
	[ "$n" -eq 0 ] || fail "xlb trace ended by SIGINT exited $n"
	[ "$(trace_on)" = 0 ] || fail "tracing still on after SIGINT"
	n=$(grep -cv -E "^[0-9:.]+ tx_[a-z0-9]+ $CLIENT4:[0-9]+ > $VIP4:80 tcp \[[SFPR.]+\] len [0-9]+ -> 198\.18\.3[0-9]\.2 cpu [0-9]+$" "$W/t.lines")
	[ "$n" -eq 0 ] || fail "$n lines are not client > VIP tx -> backend: $(grep -v -E "tx_" "$W/t.lines" | oneline)"

	# A verdict filter: no packet is dropped here, so nothing comes.
	timeout 3 "${cli[@]}" trace drop_fragment -c 1 >"$W/t.drop"
	rc=$?
	{ [ "$rc" -eq 124 ] && [ ! -s "$W/t.drop" ]; } || fail "a trace of drop_fragment exited $rc with: $(oneline <"$W/t.drop")"
	[ "$(trace_on)" = 0 ] || fail "tracing still on after SIGTERM"

	for arg in "--count 0" "-c 1 --count 1" "--sample x" "--reason bogus" \
		"$v $v" "198.19.0.1:80" "--stop -c 1"; do
		# shellcheck disable=SC2086 # the words of one case
		xlb trace $arg >/dev/null 2>&1
		rc=$?
		[ "$rc" -eq 2 ] || fail "xlb trace $arg exited $rc, not 2"
	done
	xlb trace 198.18.99.99 >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || fail "a trace of an address neither VIP nor backend exited $rc, not 1"
}

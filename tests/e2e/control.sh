# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of the control plane as an operator meets it: xlbd killed and
# restarted under load, rings of an older xlb or of a flip cut short
# replaced, the CLI's answers to bad input, the metrics page, and
# xlb-agent leaving no program behind.
# Sourced by run.sh; each t_NAME runs in its own subshell after xlb_reset.

# kill -9 xlbd while a load generator runs and new connections keep
# coming, restart it with the same arguments: no request fails, the
# desired state is the same, the counters go on from where they were.
# answered: new connections of the kill9 load answered by a backend so
# far; answered_more N K: at least K more than N.
answered() {
	grep -cx 'b[0-9]' "$W/loop.out"
}

answered_more() {
	[ "$(answered)" -ge $(($1 + $2)) ]
}

# kill9_load URLBASE: load until the restarted daemon has been seen
# serving (a busy machine restarts it slowly), at most a minute: wrk in
# 2-second runs of keep-alive connections, each reporting ($W/wrk.out),
# and new connections, 100 at a time ($W/loop.out), until $W/stop
# exists. Sets WPID and LPID.
kill9_load() {
	rm -f "$W/stop" "$W/wrk.out" "$W/loop.out"
	(
		end=$((SECONDS + 60))
		while [ ! -e "$W/stop" ] && [ $SECONDS -lt $end ]; do
			in_ns cl timeout 30 wrk -t 2 -c 20 -d 2s "$1/"
		done
	) >>"$W/wrk.out" 2>&1 &
	WPID=$!
	(
		end=$((SECONDS + 60))
		while [ ! -e "$W/stop" ] && [ $SECONDS -lt $end ]; do
			http_answers "$1" 100 --parallel-max 10
		done
	) >"$W/loop.out" 2>&1 &
	LPID=$!
}

# kill9_load_clean: stops the load, waits for it, and fails the test on
# any wrk run that did not finish or saw an error, and on any new
# connection that failed; prints what it saw.
kill9_load_clean() {
	local rounds bad

	touch "$W/stop"
	wait "$WPID"
	wait "$LPID"
	cat "$W/wrk.out"
	grep -q 'requests in' "$W/wrk.out" || fail "wrk did not run: $(tail -1 "$W/wrk.out")"
	[ "$(grep -c 'requests in' "$W/wrk.out")" -eq "$(grep -c '^Running' "$W/wrk.out")" ] ||
		fail "a wrk run did not finish: $(grep -E 'Running|requests in' "$W/wrk.out" | oneline)"
	grep -E 'Socket errors|Non-2xx' "$W/wrk.out" &&
		fail "wrk saw errors: $(grep -E 'Socket errors|Non-2xx' "$W/wrk.out" | tr '\n' ' ')"
	rounds=$(grep -cx 'b[0-9]' "$W/loop.out")
	bad=$(grep -vx 'b[0-9]' "$W/loop.out" | head -3)
	echo "new connections answered: $rounds"
	[ -z "$bad" ] || fail "new connections failed around the restart: $bad"
	[ "$rounds" -ge 100 ] || fail "only $rounds new connections made"
}

t_xlbd_kill9_restart() {
	local dump0 dump1 prog0 s0 s1 bad

	vip_with "$VIP4:80/tcp" "${B4[@]}"
	dump0=$(xlb config dump) || fail "config dump failed"
	prog0=$(xlb status | awk '/^program id:/ { print $3 }')
	kill9_load "http://$VIP4"
	wait_for 30 answered_more 0 100 || fail "no load before the kill"
	s0=$(xlb stats) || fail "xlb stats failed before the kill"
	run xlbd_stop KILL
	n=$(answered)
	wait_for 30 answered_more "$n" 100 ||
		fail "new connections stopped with xlbd down"
	# Monitoring works while the daemon is away.
	xlb stats >/dev/null || fail "xlb stats failed while xlbd was down"
	xlb status >/dev/null 2>&1 && fail "xlb status answered while xlbd was down"
	run xlbd_start || fail "xlbd did not restart"
	s1=$(xlb stats) || fail "xlb stats failed after the restart"
	if ! kill -0 "$WPID" || ! kill -0 "$LPID"; then
		fail "the load ended before xlbd was back: nothing was tested"
	fi
	n=$(answered)
	wait_for 30 answered_more "$n" 100 ||
		fail "new connections stopped after the restart"
	kill9_load_clean
	xlb status | grep -E '^(program id|adopted):'
	# The restarted daemon adopts the running program: no re-attach.
	xlb status | grep -q '^adopted: *yes' ||
		fail "the restarted xlbd did not adopt the running balancer"
	[ "$(xlb status | awk '/^program id:/ { print $3 }')" = "$prog0" ] ||
		fail "the XDP program changed across the restart"
	dump1=$(xlb config dump) || fail "config dump failed after the restart"
	[ "$dump0" = "$dump1" ] || fail "config dump differs after the restart: $(diff <(echo "$dump0") <(echo "$dump1") | head -5 | tr '\n' ' ')"
	# Every counter (packets and bytes) after the restart >= before.
	bad=$(join <(echo "$s0" | sed 1d | sort) <(echo "$s1" | sed 1d | sort) |
		awk '{ n = (NF - 1) / 2
			for (i = 2; i <= n + 1; i++)
				if ($(i + n) < $i) print $1 ": " $i " -> " $(i + n) }')
	echo "rx: $(echo "$s0" | cell PACKETS rx) -> $(echo "$s1" | cell PACKETS rx) packets"
	[ "$(echo "$s0" | cell PACKETS rx)" -gt 0 ] || fail "no packets counted before the kill"
	[ -z "$bad" ] || fail "counters went back: $(echo "$bad" | oneline)"
}

# le32 N: the four bytes of N, little end first, as bpftool takes them.
le32() {
	printf '0x%02x 0x%02x 0x%02x 0x%02x' $(($1 & 255)) \
		$(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

# map_bytes PIN KEY: the value bytes of entry KEY (a number) of a pinned
# map, one 0x.. per line.
map_bytes() {
	# shellcheck disable=SC2046 # four words, the key's bytes
	bpftool -j map lookup pinned "$1" key $(le32 "$2") |
		grep -o '"value":\[[^]]*\]' | grep -o '0x[0-9a-f]*'
}

# ring_map_id ID: the map id of VIP id ID's ring.
ring_map_id() {
	local -a b

	mapfile -t b < <(map_bytes /sys/fs/bpf/xlb/maglev_rings "$1")
	[ "${#b[@]}" = 4 ] || return 1
	echo $((b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24))
}

# ring_entries ID: max_entries of the ring map of VIP id ID.
ring_entries() {
	local map

	map=$(ring_map_id "$1") || return 1
	bpftool -j map show id "$map" |
		grep -o '"max_entries":[0-9]*' | grep -o '[0-9]*$'
}

# An older xlb's balancer (its rings in `rings`, one slot per element,
# which this version's program does not read) left attached by a killed
# xlbd: the new xlbd must not adopt it, whose rings it would no longer
# write. Made here by moving this version's ring map away from its pin
# (the running program then uses no map pinned as maglev_rings) and
# pinning a `rings` beside it. The restarted xlbd replaces the program,
# says so, unpins `rings`, and the VIP answers with rings of two slots
# per element; held connections keep their backends (the flow table is
# pinned, of this version's shape).
t_restart_replaces_older_program() {
	local v=$VIP4:80/tcp pin=/sys/fs/bpf/xlb m=101 id prog0 prog1 got n b
	local before after

	must xlb vip add "$v" --ring-size $m
	for b in "${B4[@]}"; do must xlb backend add "$v" "$b"; done
	id=$(xlb -j vip show "$v" | grep -o '"vip_id": *[0-9]*' | grep -o '[0-9]*$')
	[ "$(ring_entries "$id")" = $((2 * ((m + 1) / 2))) ] ||
		fail "the ring of $m slots has $(ring_entries "$id") entries, not two halves of two slots an element"
	prog0=$(xlb status | awk '/^program id:/ { print $3 }')
	hold_open old 20
	before=$HELD
	run xlbd_stop KILL
	bpftool map create "$pin/rings" type array key 4 value 4 entries 4 \
		name rings || fail "bpftool cannot pin an old rings map"
	rm "$pin/maglev_rings" || fail "cannot unpin maglev_rings"
	run xlbd_start || fail "xlbd did not restart"
	grep "another version's" "$W/xlbd.log" ||
		fail "xlbd did not say it replaces a program of another version"
	xlb status | grep -E '^(program id|adopted):'
	prog1=$(xlb status | awk '/^program id:/ { print $3 }')
	if [ -z "$prog1" ] || [ "$prog1" = "$prog0" ]; then
		fail "the older program ($prog0) is still the one attached ($prog1)"
	fi
	xlb status | grep -q '^adopted: *no' ||
		fail "xlbd says it adopted the older program"
	[ -e "$pin/rings" ] && fail "the older xlb's rings map is still pinned"
	[ "$(ring_entries "$id")" = $((2 * ((m + 1) / 2))) ] ||
		fail "the ring was not built anew: $(ring_entries "$id") entries"
	after=$(hold_round old after) || fail "hold.sh failed"
	hold_close
	n=$(diff_rounds "$before" "$after" | wc -l)
	echo "held connections that changed backend: $n of 20"
	[ "$n" = 0 ] || fail "held connections changed backend: $(diff_rounds "$before" "$after" | oneline)"
	got=$(http_answers "http://$VIP4" 30 | grep -x 'b[0-9]' | tally)
	echo "new connections: $got"
	n=$(($(count_of b1 "$got") + $(count_of b2 "$got") + $(count_of b3 "$got")))
	[ "$n" = 30 ] || fail "after the replacement $n of 30 new connections answered: $got"
}

# An xlbd killed between the two updates of a flip leaves vip_info and
# the vips entry naming different halves: packets read either, so the
# restarted xlbd must not write into either; it swaps a new ring in, and
# the VIP keeps answering.
t_restart_halves_disagree() {
	local v=$VIP4:80/tcp pin=/sys/fs/bpf/xlb m=101 id i map0 got n
	local -a key val

	must xlb vip add "$v" --ring-size $m
	for i in "${B4[@]}"; do must xlb backend add "$v" "$i"; done
	id=$(xlb -j vip show "$v" | grep -o '"vip_id": *[0-9]*' | grep -o '[0-9]*$')
	map0=$(ring_map_id "$id") || fail "no ring for VIP id $id"
	run xlbd_stop KILL
	# The vips key of VIP4:80/tcp: address (16), port (2), proto, family.
	key=()
	for i in ${VIP4//./ }; do key+=("$(printf '0x%02x' "$i")"); done
	key+=(0 0 0 0 0 0 0 0 0 0 0 0 0x00 0x50 6 2)
	mapfile -t val < <(bpftool -j map lookup pinned "$pin/vips" key "${key[@]}" |
		grep -o '"value":\[[^]]*\]' | grep -o '0x[0-9a-f]*')
	[ "${#val[@]}" = 16 ] || fail "no vips entry for $v"
	# ring_half is byte 13: the vips entry now names the other half.
	val[13]=$(printf '0x%02x' $((1 - val[13])))
	bpftool map update pinned "$pin/vips" key "${key[@]}" value "${val[@]}" ||
		fail "bpftool cannot write the vips entry"
	run xlbd_start || fail "xlbd did not restart"
	[ "$(ring_map_id "$id")" != "$map0" ] ||
		fail "the restarted xlbd kept the ring whose halves are in doubt"
	got=$(http_answers "http://$VIP4" 30 | grep -x 'b[0-9]' | tally)
	echo "after the restart: $got"
	n=$(($(count_of b1 "$got") + $(count_of b2 "$got") + $(count_of b3 "$got")))
	[ "$n" = 30 ] || fail "$n of 30 new connections answered: $got"
}

# cli_case RC ARGS...: xlb with these arguments exits RC, with one line on
# stderr ("xlb: ...") and nothing on stdout, and the desired state
# (config dump) is what it was.
cli_case() {
	local want=$1 rc out err

	shift
	"$XLB_BIN/xlb" "$@" >"$W/cli.out" 2>"$W/cli.err"
	rc=$?
	out=$(cat "$W/cli.out")
	err=$(cat "$W/cli.err")
	echo "xlb $* -> $rc: $err"
	if [ "$(xlb config dump)" != "$CLI_DUMP" ]; then
		echo "  changed the desired state"
		echo "xlb $*: changed the desired state" >>"$W/cli.bad"
		CLI_DUMP=$(xlb config dump)
	elif [ "$rc" -ne "$want" ]; then
		echo "  want exit $want"
		echo "xlb $*: exit $rc, want $want" >>"$W/cli.bad"
	elif [ "$(grep -c . "$W/cli.err")" -ne 1 ] || [ "${err#xlb: }" = "$err" ]; then
		echo "  want one line 'xlb: ...' on stderr"
		echo "xlb $*: stderr not one 'xlb:' line" >>"$W/cli.bad"
	elif [ -n "$out" ]; then
		echo "  want nothing on stdout, got: $out"
		echo "xlb $*: wrote to stdout" >>"$W/cli.bad"
	fi
}

t_cli_bad_inputs() {
	local dump0 dump1 v=$VIP4:80/tcp S=(-s "$SOCK") n

	vip_with "$v" 198.18.31.2 198.18.32.2
	dump0=$(xlb config dump) || fail "config dump failed"
	CLI_DUMP=$dump0
	rm -f "$W/cli.bad"
	echo '{"vips": [{"vip": "198.19.0.1:80/tcp", "bogus": 1}]}' >"$W/bad-key.json"
	echo '{"vips": [' >"$W/bad-syntax.json"
	echo '{"vips": [{"vip": "198.19.0.1:80/tcp", "backends": [{"addr": "198.18.31.2", "weight": 70000}]}]}' >"$W/bad-weight.json"

	# Usage errors and invalid arguments: 2, the daemon not asked.
	cli_case 2 "${S[@]}"
	cli_case 2 "${S[@]}" frobnicate
	cli_case 2 "${S[@]}" --bogus vip list
	cli_case 2 "${S[@]}" vip frobnicate
	cli_case 2 "${S[@]}" vip add
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80/icmp
	cli_case 2 "${S[@]}" vip add 198.19.0.2:99999/tcp
	cli_case 2 "${S[@]}" vip add 300.19.0.2:80/tcp
	cli_case 2 "${S[@]}" vip add '[2001:db8:100::2:80/tcp'
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80/tcp extra
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80/tcp --flags bogus
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80/tcp --encap vxlan
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80/tcp --ring-size 65536
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80/tcp --ring-size 5
	cli_case 2 "${S[@]}" vip add 198.19.0.2:80/tcp --ring-size
	cli_case 2 "${S[@]}" vip del
	cli_case 2 "${S[@]}" backend add "$v"
	cli_case 2 "${S[@]}" backend add "$v" 198.18.31.300
	cli_case 2 "${S[@]}" backend add "$v" 198.18.33.2 --weight 65536
	cli_case 2 "${S[@]}" backend add "$v" 198.18.33.2 --weight -1
	cli_case 2 "${S[@]}" backend add "$v" 198.18.33.2 --weight 1 --weight 2
	cli_case 2 "${S[@]}" backend add "$v" 198.18.33.2 --state sleepy
	cli_case 2 "${S[@]}" backend set "$v" 198.18.31.2
	cli_case 2 "${S[@]}" backend del "$v" not-an-address
	cli_case 2 "${S[@]}" ring show
	cli_case 2 "${S[@]}" stats --watch 0
	cli_case 2 "${S[@]}" stats vip 198.19.0.1
	cli_case 2 "${S[@]}" config apply "$W/bad-key.json"
	cli_case 2 "${S[@]}" config apply "$W/bad-weight.json"
	cli_case 2 "${S[@]}" config apply "$W/bad-syntax.json"

	# Refusals: 1, nothing changed.
	cli_case 1 "${S[@]}" vip add "$v"
	cli_case 1 "${S[@]}" vip del 198.19.0.9:80/tcp
	cli_case 1 "${S[@]}" vip show '[2001:db8:100::9]:80/tcp'
	cli_case 1 "${S[@]}" backend add 198.19.0.9:80/tcp 198.18.31.2
	cli_case 1 "${S[@]}" backend add "$v" 198.18.31.2
	cli_case 1 "${S[@]}" backend del "$v" 198.18.33.2
	cli_case 1 "${S[@]}" backend set "$v" 198.18.39.2 --state drain
	cli_case 1 "${S[@]}" ring show 198.19.0.9:80/tcp
	cli_case 1 "${S[@]}" config apply "$W/no-such-file.json"
	cli_case 1 -s "$W/no-such.sock" vip list
	cli_case 1 "${S[@]}" stats vip 198.19.0.9:80/tcp
	cli_case 1 "${S[@]}" --pin-dir "$W/no-such-dir" stats

	dump1=$(xlb config dump) || fail "config dump failed"
	[ "$dump0" = "$dump1" ] || fail "the desired state changed: $(diff <(echo "$dump0") <(echo "$dump1") | head -5 | tr '\n' ' ')"
	if [ -s "$W/cli.bad" ]; then
		n=$(wc -l <"$W/cli.bad")
		fail "$n cases wrong: $(head -3 "$W/cli.bad" | tr '\n' ';')"
	fi
}

# The Prometheus page, read as Prometheus would from the balancer's host.
t_metrics() {
	local m b v

	vip_with "$VIP4:80/tcp" "${B4[@]}"
	http_answers "http://$VIP4" 30 >/dev/null
	m=$(in_ns lb curl -sS --max-time 5 -f \
		"http://127.0.0.1:$METRICS_PORT/metrics") ||
		fail "GET /metrics failed"
	echo "$m" | grep -E '^xlb_(packets_total|backend_packets_total)'
	v=$(echo "$m" | awk '$1 == "xlb_packets_total{counter=\"tx_ipip\"}" { print $2 }')
	[ -n "$v" ] || fail "no xlb_packets_total{counter=\"tx_ipip\"} line"
	[ "$v" -gt 0 ] || fail "xlb_packets_total{counter=\"tx_ipip\"} is $v after 30 requests"
	for b in "${B4[@]}"; do
		v=$(echo "$m" | awk -v l="xlb_backend_packets_total{vip=\"$VIP4:80/tcp\",backend=\"$b\"}" \
			'$1 == l { print $2 }')
		[ -n "$v" ] || fail "no xlb_backend_packets_total line for $b"
		[ "$v" -gt 0 ] || fail "xlb_backend_packets_total for $b is $v after 30 requests"
	done
}

# SIGTERM to xlb-agent detaches its program from the backend's NIC.
t_agent_detach() {
	local pid p

	for p in $(ip netns pids "$(ns b3)"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = xlb-agent ] && pid=$p
	done
	[ -n "${pid:-}" ] || fail "no xlb-agent runs on b3"
	xdp_on b3 || fail "no XDP program on b3's eth0 while the agent runs"
	run kill -TERM "$pid"
	wait_for 20 gone "$pid" || fail "xlb-agent still runs 20 s after SIGTERM"
	in_ns b3 ip link show dev eth0
	xdp_on b3 && fail "an XDP program is still attached to b3's eth0 after the agent left"
	# The next tests need b3 back.
	topo_agent 3 "$W"
	wait_for 20 xdp_on b3 || fail "xlb-agent did not come back on b3"
}

# The commands an operator reads and writes with, when all goes well.
t_cli_commands() {
	local v=$VIP4:80/tcp v6="[$VIP6]:80/tcp" list ring fp fp0 slots dump f
	local b d total bad got

	vip_with "$v" 198.18.31.2:1 198.18.32.2:2 198.18.33.2:3
	must xlb vip add "$v6" --flags no-sport --encap gue --ring-size 251
	list=$(xlb vip list) || fail "vip list failed"
	echo "$list"
	[ "$(echo "$list" | cell BACKENDS "$v")" = 3 ] ||
		fail "vip list does not show $v with 3 backends"
	got="$(echo "$list" | cell FLAGS "$v6") $(echo "$list" | cell ENCAP "$v6")"
	got="$got $(echo "$list" | cell RING "$v6") $(echo "$list" | cell BACKENDS "$v6")"
	[ "$got" = "no-sport gue 251 0" ] ||
		fail "vip list shows $v6 as '$got', not 'no-sport gue 251 0' (flags, encap, ring, backends)"

	ring=$(xlb ring show "$v") || fail "ring show failed"
	echo "$ring"
	fp0=$(echo "$ring" | awk '$1 == "fingerprint:" { print $2 }')
	[ -n "$fp0" ] || fail "ring show has no fingerprint"
	[ "$(echo "$list" | cell FINGERPRINT "$v")" = "$fp0" ] ||
		fail "vip list and ring show disagree on the fingerprint"
	# Weights 1:2:3 of 65537 slots: each within one slot of exact.
	total=0 bad=""
	for b in 198.18.31.2:1 198.18.32.2:2 198.18.33.2:3; do
		slots=$(echo "$ring" | cell SLOTS "${b%:*}") ||
			fail "ring show does not list ${b%:*}"
		total=$((total + slots))
		d=$((slots * 6 - 65537 * ${b#*:}))
		[ "$d" -ge -6 ] && [ "$d" -le 6 ] || bad="$bad ${b%:*}=$slots"
	done
	[ "$total" = 65537 ] || bad="$bad total=$total"
	[ -z "$bad" ] || fail "ring slots not in proportion to weights 1:2:3:$bad"

	must xlb backend set "$v" 198.18.33.2 --weight 0
	ring=$(xlb ring show "$v")
	[ "$(echo "$ring" | cell SLOTS 198.18.33.2)" = 0 ] ||
		fail "weight 0 still holds slots: $(echo "$ring" | grep 198.18.33.2)"
	fp=$(echo "$ring" | awk '$1 == "fingerprint:" { print $2 }')
	[ "$fp" != "$fp0" ] || fail "the fingerprint did not change with the weights"
	must xlb backend set "$v" 198.18.33.2 --weight 3
	fp=$(xlb ring show "$v" | awk '$1 == "fingerprint:" { print $2 }')
	[ "$fp" = "$fp0" ] || fail "the same backends and weights gave another table ($fp, was $fp0)"

	xlb vip show "$v" | grep -c '^198\.18\.3' | grep -qx 3 ||
		fail "vip show does not list 3 backends"
	xlb backend list "$v" | grep -c '^198\.19\.0\.1:80/tcp' | grep -qx 3 ||
		fail "backend list does not list 3 backends"
	xlb status | grep -q '^interface: *eth0' || fail "status does not name eth0"
	xlb status | grep -q '^vips: *2$' || fail "status does not count 2 VIPs"
	xlb stats vip "$v" | grep -q "^$v" || fail "stats vip does not show $v"
	xlb stats backend 198.18.31.2 | grep -q '^198\.18\.31\.2' ||
		fail "stats backend does not show 198.18.31.2"

	# config dump | apply is a round trip.
	dump=$(xlb config dump) || fail "config dump failed"
	f=$W/dump.json
	echo "$dump" >"$f"
	must xlb vip del "$v6"
	xlb vip list | grep -qF "$v6" && fail "vip del left $v6 in vip list"
	must xlb config apply "$f"
	[ "$(xlb config dump)" = "$dump" ] || fail "config apply of a dump did not restore it"
	xlb --version | grep -q '^xlb ' || fail "xlb --version"
}

# xlb batch runs a file's lines in order as one process: the lines
# before a failing one are made, the failing one is named FILE:LINE with
# its own exit status, and nothing after it runs; from standard input
# too, where quotes and comments are read as a shell would.
t_cli_batch() {
	local v=$VIP4:80/tcp v2=198.19.0.2:80/tcp f=$W/edits.xlb out rc

	cat >"$f" <<-EOF
		# two VIPs' worth of edits
		vip add $v
		backend add $v 198.18.31.2 --weight 2   # the first
		backend add $v 198.18.32.2
		backend set $v 198.18.31.2 --weight 4

		vip add $v2 --ring-size 65536
		backend add $v2 198.18.33.2
	EOF
	out=$(xlb batch "$f" 2>&1)
	rc=$?
	echo "batch -> $rc: $out"
	[ "$rc" = 2 ] || fail "a batch whose line 7 is a usage error exited $rc, not 2"
	echo "$out" | grep -qF "$f:7: vip add: " ||
		fail "the error does not name $f:7 and its command: $out"
	[ "$(xlb vip show "$v" | cell WEIGHT 198.18.31.2)" = 4 ] ||
		fail "line 5's weight is not live: $(xlb vip show "$v")"
	[ "$(xlb vip list | cell BACKENDS "$v")" = 2 ] ||
		fail "lines 3-4 did not add two backends"
	xlb vip list | grep -qF "$v2" && fail "line 8 ran after line 7 failed"

	# A refusal by xlbd (1) stops it too; quotes and # as in a shell.
	out=$(printf '%s\n' "vip add '$v2' # quoted" "vip add \"$v2\"" \
		"backend add $v2 198.18.33.2" | xlb batch 2>&1)
	rc=$?
	echo "batch from stdin -> $rc: $out"
	[ "$rc" = 1 ] || fail "a batch whose line 2 xlbd refuses exited $rc, not 1"
	echo "$out" | grep -qF -- "-:2: vip add: " || fail "the refusal does not name -:2: $out"
	[ "$(xlb vip list | cell BACKENDS "$v2")" = 0 ] ||
		fail "line 3 ran after line 2 was refused"
	printf 'vip del %s\n' "$v2" | must xlb batch -
	xlb vip list | grep -qF "$v2" && fail "vip del from standard input did not run"
	out=$(echo "vip add \"$v2" | xlb batch 2>&1)
	rc=$?
	if [ "$rc" != 2 ] || ! echo "$out" | grep -q "unclosed quote"; then
		fail "an unclosed quote is not a usage error ($rc): $out"
	fi
}

# Every view in JSON (-j) parses, errors included.
t_cli_json() {
	local v=$VIP4:80/tcp c out

	command -v jq >/dev/null || skip "jq is not installed"
	vip_with "$v" "${B4[@]}"
	for c in "vip list" "vip show $v" "backend list" "backend list $v" \
		"ring show $v" "status" "stats" "stats vip" "stats backend" \
		"config dump"; do
		# shellcheck disable=SC2086
		out=$(xlb -j $c) || fail "xlb -j $c failed"
		echo "xlb -j $c: $(echo "$out" | head -c 100)"
		echo "$out" | jq -e . >/dev/null || fail "xlb -j $c is not JSON"
	done
	xlb -j vip list | jq -e --arg v "$v" '.vips[] | select(.vip == $v) | .fingerprint' ||
		fail "xlb -j vip list has no fingerprint for $v"
	out=$(xlb -j vip show 198.19.0.9:80/tcp 2>/dev/null)
	echo "$out" | jq -e '.error' || fail "xlb -j on an error does not print {\"error\": ...}"
}

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# The cluster's own cases, sourced by cluster.sh after cluster_lib.sh:
# xlbd in cluster mode (etcd, announcing by routes) on the test bed,
# checked as an operator would: edits made on one node applied by all,
# a node joining, a backend failing everywhere at once, etcd losing a
# member or everything, bad data in etcd, a gap in a node's watch.

# cl_status N [JQ]: node N's `xlb -j cluster status`, or a field of it.
cl_status() {
	lb_env "$1" xlb -j cluster status | jq -r "${2:-.}"
}

# fps_equal VIP N...: these nodes built the same, non-empty ring of VIP.
fps_equal() {
	local v=$1 f="" x i

	shift
	for i in "$@"; do
		x=$(fingerprint "$i" "$v" 2>/dev/null)
		case $x in "" | null) return 1 ;; esac
		[ -z "$f" ] || [ "$x" = "$f" ] || return 1
		f=$x
	done
}

# fp_is VIP FP N...: each of these nodes holds ring FP for VIP.
fp_is() {
	local v=$1 f=$2 i

	shift 2
	for i in "$@"; do
		[ "$(fingerprint "$i" "$v" 2>/dev/null)" = "$f" ] || return 1
	done
}

# mode_is MODE N...: each node says its cluster mode is MODE.
mode_is() {
	local m=$1 i

	shift
	for i in "$@"; do
		[ "$(cl_status "$i" .mode 2>/dev/null)" = "$m" ] || return 1
	done
}

# same_generation N...: these nodes applied the same etcd revision; its
# value on stdout.
same_generation() {
	local g="" x i

	for i in "$@"; do
		x=$(cl_status "$i" .generation 2>/dev/null) || return 1
		[ -z "$g" ] || [ "$x" = "$g" ] || return 1
		g=$x
	done
	echo "$g"
}

# slots_of N VIP ADDR: the ring slots ADDR holds in node N's table of VIP.
slots_of() {
	lb_env "$1" xlb -j ring show "$2" |
		jq -r --arg a "$3" '.backends[] | select(.addr == $a) | .slots'
}

slots_are() {
	local v=$1 a=$2 want=$3 i

	shift 3
	for i in "$@"; do
		case $want in
		0) [ "$(slots_of "$i" "$v" "$a")" = 0 ] || return 1 ;;
		+) [ "$(slots_of "$i" "$v" "$a")" -gt 0 ] 2>/dev/null || return 1 ;;
		esac
	done
}

# members_are N COUNT: node N counts COUNT members.
members_are() {
	[ "$(cl_status "$1" .members 2>/dev/null)" = "$2" ]
}

# status_above N FIELD V: node N's cluster status FIELD is more than V.
status_above() {
	[ "$(cl_status "$1" ".$2" 2>/dev/null)" -gt "$3" ] 2>/dev/null
}

joined() {
	[ "$(cl_status "$1" .joined 2>/dev/null)" = true ]
}

# median of the numbers on stdin.
median() {
	sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# revision_at N REV: node N applied config revision REV or later.
revision_at() {
	[ "$(cl_status "$1" .config_revision 2>/dev/null)" -ge "$2" ] 2>/dev/null
}

# An edit made with xlb on lb1 goes through etcd and every node applies
# it: ten weight changes, each until all three rings are equal. The
# figure is the time from the command's start to the last node's apply,
# as the nodes stamp it (config_applied_unix_ms, one clock here), not as
# the polling sees it: a poll costs tens of ms of CLI and jq.
t_edit_applied_everywhere() {
	local v="$VIP4:80/tcp" b1 i t0 f rev last x n ms all=""

	b1=$(backend_addr 1)
	for i in $(seq 2 11); do
		t0=$(now_ms)
		must lb_env 1 xlb backend set "$v" "$b1" --weight "$i"
		f=$(fingerprint 1 "$v")
		rev=$(cl_status 1 .config_revision)
		wait_for 20 fp_is "$v" "$f" 2 3 ||
			fail "weight $i: lb2/lb3 did not build lb1's ring $f within 20 s"
		last=0
		for n in 1 2 3; do
			wait_for 10 revision_at "$n" "$rev" || fail "lb$n is not at revision $rev"
			x=$(cl_status "$n" .config_applied_unix_ms)
			[ "$x" -gt "$last" ] && last=$x
		done
		ms=$((last - t0))
		all="$all $ms"
	done
	echo "edit on lb1 -> applied on lb1..lb3 with equal rings, ms:$all"
	echo "median $(echo "$all" | tr ' ' '\n' | grep . | median) ms, slowest $(echo "$all" | tr ' ' '\n' | sort -n | tail -1) ms"
	same_generation 1 2 3 >/dev/null ||
		wait_for 10 same_generation 1 2 3 >/dev/null ||
		fail "the nodes did not reach one generation"
	echo "generation $(same_generation 1 2 3) on lb1..lb3"
	# Two edits from two nodes at once: none lost silently. Each is
	# applied, or refused as a conflict with nothing changed.
	lb_env 2 xlb backend set "$v" "$b1" --weight 20 >"$W/e2" 2>&1 &
	x=$!
	lb_env 3 xlb backend set "$v" "$(backend_addr 2)" --weight 30 >"$W/e3" 2>&1
	n=$?
	wait "$x"
	x=$?
	cat "$W/e2" "$W/e3"
	[ "$x" -eq 0 ] || [ "$n" -eq 0 ] || fail "both concurrent edits failed"
	[ "$x" -eq 0 ] || grep -q 'changed since' "$W/e2" ||
		fail "lb2's edit failed, not as a conflict: $(cat "$W/e2")"
	[ "$n" -eq 0 ] || grep -q 'changed since' "$W/e3" ||
		fail "lb3's edit failed, not as a conflict: $(cat "$W/e3")"
	# What was answered done is what every node holds.
	wait_for 20 fps_equal "$v" 1 2 3 || fail "rings differ after two concurrent edits"
	[ "$x" -ne 0 ] || lb_env 1 xlb -j backend list "$v" |
		jq -e --arg a "$b1" '.backends[] | select(.addr == $a) | .weight == 20' >/dev/null ||
		fail "lb2's edit was answered done but lb1 does not hold it"
	[ "$n" -ne 0 ] || lb_env 1 xlb -j backend list "$v" |
		jq -e --arg a "$(backend_addr 2)" '.backends[] | select(.addr == $a) | .weight == 30' >/dev/null ||
		fail "lb3's edit was answered done but lb1 does not hold it"
	must lb_env 1 xlb config apply "$CLUSTER_CONF"
	wait_for 20 fps_equal "$v" 1 2 3 || fail "rings differ after the config was put back"
}

# A fourth balancer joins: it reads the whole state, builds the same
# rings, and only then announces; the router spreads over four next hops
# and no held connection breaks (flows that move to lb4 find the same
# backend there). Stopped, it leaves at once (its lease revoked).
t_fourth_joins() {
	local r0 r1 log j a

	hold_open join 30
	r0=$HELD
	lb_start 4 || fail "lb4 did not start"
	wait_for 30 nexthops_are "$VIP4" 4 ||
		fail "the router has $(router_nexthops "$VIP4") next hops, not 4, after lb4 joined"
	log=$(lb_dir 4)/xlbd.log
	j=$(grep -n 'cluster: joined' "$log" | head -1 | cut -d: -f1)
	a=$(grep -n "announcing $VIP4" "$log" | head -1 | cut -d: -f1)
	{ [ -n "$j" ] && [ -n "$a" ]; } || fail "lb4's log has no join or no announcement"
	[ "$j" -lt "$a" ] || fail "lb4 announced before its rings matched (log lines $a, $j)"
	grep -E 'cluster: (read the whole|joined)|announcing' "$log" | head -3
	fps_equal "$VIP4:80/tcp" 1 2 3 4 || fail "lb4's ring differs"
	wait_for 10 members_are 1 4 ||
		fail "lb1 sees $(cl_status 1 .members) members, not 4"
	r1=$(hold_round join after) || fail "hold.sh failed"
	hold_close
	diff_rounds "$r0" "$r1" >"$W/join.diff"
	[ ! -s "$W/join.diff" ] ||
		fail "held connections changed backend or broke when lb4 joined: $(oneline <"$W/join.diff")"
	echo "30 held connections kept their backends while lb4 joined"
	lb_env 4 xlbd_stop TERM
	wait_for 30 nexthops_are "$VIP4" 3 || fail "lb4 still announced after it stopped"
	wait_for 10 members_are 1 3 ||
		fail "lb1 still counts lb4 as a member after it stopped"
	bird_kill lb4
}

# A backend fails: each node's own checks see it, the quorum (2 of 3)
# takes it out of every ring in the same generation; back, it returns
# everywhere.
t_backend_fails_everywhere() {
	local v="$VIP4:80/tcp" b2 g

	b2=$(backend_addr 2)
	must lb_env 1 xlb check set "$v" --kind tcp --port 80 --interval 300 \
		--timeout 200 --rise 2 --fall 2
	wait_for 20 slots_are "$v" "$b2" + 1 2 3 || fail "b2 not serving on every node"
	topo_nginx_stop 2 "$W"
	wait_for 30 slots_are "$v" "$b2" 0 1 2 3 ||
		fail "b2 is still in a ring: $(for i in 1 2 3; do echo -n "lb$i=$(slots_of "$i" "$v" "$b2") "; done)"
	wait_for 10 same_generation 1 2 3 >/dev/null || fail "the nodes differ in generation"
	g=$(same_generation 1 2 3)
	fps_equal "$v" 1 2 3 || fail "rings differ after b2 failed"
	echo "b2 out of every ring at generation $g; seen down by: $(cl_status 1 '.vips[0].seen_down | map("\(.backend) \(.votes) votes") | join(", ")')"
	http_answers "http://$VIP4" 30 | grep -q b2 && fail "b2 still answered new connections"
	topo_nginx 2 "$W"
	wait_for 30 slots_are "$v" "$b2" + 1 2 3 || fail "b2 did not return to every ring"
	fps_equal "$v" 1 2 3 || fail "rings differ after b2 returned"
	must lb_env 1 xlb check del "$v"
}

# One etcd member stops: nothing changes (no node goes to its own view,
# edits still go through); back, it rejoins. Then every member stops:
# each node serves on from its last state, says why it takes no edit,
# and converges once etcd is back.
t_etcd_loses_members() {
	local v="$VIP4:80/tcp" n0 i got

	n0=$(cat "$(lb_dir 1)/xlbd.log" "$(lb_dir 2)/xlbd.log" "$(lb_dir 3)/xlbd.log" |
		grep -c 'etcd is unreachable')
	etcd_kill 2
	must lb_env 2 xlb backend set "$v" "$(backend_addr 3)" --weight 7
	wait_for 20 fps_equal "$v" 1 2 3 || fail "rings differ with one etcd member down"
	mode_is cluster 1 2 3 || fail "a node left cluster mode with one etcd member down"
	i=$(cat "$(lb_dir 1)/xlbd.log" "$(lb_dir 2)/xlbd.log" "$(lb_dir 3)/xlbd.log" |
		grep -c 'etcd is unreachable')
	[ "$i" -eq "$n0" ] || fail "a node found etcd unreachable with one member down"
	echo "one member down: edits applied everywhere, every node in cluster mode"
	etcd_start 2
	wait_for 60 etcd_healthy || fail "member 2 did not rejoin"

	for i in 1 2 3; do etcd_kill "$i"; done
	wait_for 30 mode_is own-view 1 2 3 ||
		fail "not every node went to its own view: $(for i in 1 2 3; do echo -n "lb$i=$(cl_status "$i" .mode) "; done)"
	got=$(http_answers "http://$VIP4" 30 | grep -cx 'b[123]')
	[ "$got" -eq 30 ] || fail "$got of 30 connections answered with etcd down"
	echo "etcd down: 30 of 30 new connections answered, every node on its own view"
	if lb_env 1 xlb vip add 198.19.0.9:80/tcp 2>"$W/refused"; then
		fail "a VIP was added with etcd down"
	fi
	echo "refused: $(cat "$W/refused")"
	grep -q 'etcd is unreachable' "$W/refused" || fail "the refusal does not say etcd is unreachable"
	lb_env 1 xlb -j vip list | grep -q 198.19.0.9 && fail "the refused VIP is there"
	for i in 1 2 3; do etcd_start "$i"; done
	wait_for 60 etcd_healthy || fail "etcd did not come back"
	wait_for 30 mode_is cluster 1 2 3 || fail "not every node is back in cluster mode"
	must lb_env 1 xlb config apply "$CLUSTER_CONF"
	wait_for 20 fps_equal "$v" 1 2 3 || fail "rings differ after etcd came back"
	echo "etcd back: every node in cluster mode, an edit applied everywhere"
}

# Bad data in etcd (not JSON, a newer format, an invalid config) is
# refused whole by every node, which keeps what it has.
t_etcd_bad_config() {
	local v="$VIP4:80/tcp" f key i bad
	local -a r0

	f=$(fingerprint 1 "$v")
	key=$(cl_status 1 .cluster)config
	for bad in 'not json' '{"format": 99, "config": {}}' \
		'{"format": 1, "config": {"vips": [{"vip": "198.19.0.1:80/tcp", "backends": [{"addr": "198.18.31.2", "weight": -1}]}]}}'; do
		for i in 1 2 3; do r0[i]=$(cl_status "$i" .rejected); done
		etcdctl_rt --endpoints="$(etcd_endpoints)" put "$key" "$bad" >/dev/null ||
			fail "etcdctl put failed"
		for i in 1 2 3; do
			wait_for 20 status_above "$i" rejected "${r0[i]}" ||
				fail "lb$i did not refuse: $bad"
		done
		for i in 1 2 3; do
			wait_for 20 fp_is "$v" "$f" "$i" || fail "lb$i's ring changed after bad data"
		done
		echo "refused everywhere: $(cl_status 2 .last_rejected)"
	done
	lb_env 2 xlb -j vip list | grep -q "$VIP4" || fail "lb2 lost its VIP"
	# An edit puts a good config back over the bad one.
	must lb_env 1 xlb config apply "$CLUSTER_CONF"
	wait_for 20 fps_equal "$v" 1 2 3 || fail "rings differ after a good config"
}

# A node whose watch broke while etcd compacted past it finds the gap
# and reads the whole state again: lb3 watches through member 3 only;
# frozen, it misses an edit; member 3 restarts (lb3's stream is gone)
# after etcd compacted; thawed, lb3 resumes from a compacted revision.
t_watch_gap_resync() {
	local v="$VIP4:80/tcp" pid rev r0 f

	lb_env 3 xlbd_stop TERM
	XLBD_ETCD=$(etcd_endpoints 3) lb_start 3 || fail "lb3 did not start"
	wait_for 30 joined 3 || fail "lb3 did not join"
	r0=$(cl_status 3 .resyncs)
	pid=$(cat "$(lb_dir 3)/xlbd.pid")
	kill -STOP "$pid"
	etcd_kill 3
	must lb_env 1 xlb backend set "$v" "$(backend_addr 1)" --weight 9
	f=$(fingerprint 1 "$v")
	rev=$(etcdctl_rt --endpoints="$(etcd_endpoints 1 2)" endpoint status -w json |
		jq '.[0].Status.header.revision')
	etcdctl_rt --endpoints="$(etcd_endpoints 1 2)" compact "$rev" >/dev/null ||
		fail "etcdctl compact failed"
	etcd_start 3
	wait_for 60 etcd_healthy || fail "member 3 did not rejoin"
	kill -CONT "$pid"
	wait_for 30 fp_is "$v" "$f" 3 || fail "lb3 did not converge after the gap"
	[ "$(cl_status 3 .resyncs)" -gt "$r0" ] || fail "lb3 converged without reading the whole state"
	grep 'a gap in the watch' "$(lb_dir 3)/xlbd.log" | tail -1
	lb_env 3 xlbd_stop TERM
	lb_start 3 || fail "lb3 did not start again"
	must lb_env 1 xlb config apply "$CLUSTER_CONF"
	wait_for 20 fps_equal "$v" 1 2 3 || fail "rings differ at the end"
}

# ann_is N ADDR STATE BIRD: node N's status says ADDR is STATE (announced
# or withdrawn) and BIRD reports it as BIRD.
ann_is() {
	lb_env "$1" xlb -j status |
		jq -e --arg a "$2" --arg s "$3" --arg b "$4" \
			'.announce[] | select(.addr == $a) | .state == $s and .bird == $b' \
			>/dev/null
}

# xlb status shows each VIP address as announced, as BIRD has it (in its
# table and exported to the router); drained, the node withdraws both
# and says why, BIRD has dropped them, and the router has one next hop
# less; undrained, all comes back.
t_status_shows_announcement() {
	wait_for 20 ann_is 2 "$VIP4" announced exported ||
		fail "lb2 does not show $VIP4 announced and exported: $(lb_env 2 xlb -j status | jq -c .announce)"
	ann_is 2 "$VIP6" announced exported || fail "lb2 does not show $VIP6 exported"
	run lb_env 2 xlb status
	must lb_env 2 xlb node drain
	wait_for 20 nexthops_are "$VIP4" 2 || fail "the router still uses lb2 after its drain"
	wait_for 20 ann_is 2 "$VIP4" withdrawn absent ||
		fail "lb2 drained does not show $VIP4 withdrawn and absent: $(lb_env 2 xlb -j status | jq -c .announce)"
	lb_env 2 xlb -j status | jq -e '.drained and (.announce[0].reason == "drained")' >/dev/null ||
		fail "lb2's status does not say it is drained"
	run lb_env 2 xlb status
	must lb_env 2 xlb node undrain
	wait_for 20 nexthops_are "$VIP4" 3 || fail "the router does not use lb2 again after undrain"
	wait_for 20 ann_is 2 "$VIP4" announced exported || fail "lb2 undrained does not announce $VIP4"
}

# xlbd_refuses WHY ARGS...: xlbd (in lb4's namespace, whose eth0 is free)
# exits 2 with a message containing WHY before touching anything.
xlbd_refuses() {
	local why=$1 rc

	shift
	in_ns lb4 timeout 10 "$XLB_BIN/xlbd" -i eth0 --metrics off \
		--state-dir "$W/refused-state" -s "$W/refused.sock" "$@" \
		>"$W/refused.out" 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || fail "xlbd $* exited $rc, not 2: $(oneline <"$W/refused.out")"
	grep -q -- "$why" "$W/refused.out" ||
		fail "xlbd $*: no '$why' in: $(oneline <"$W/refused.out")"
	xdp_on lb4 && fail "xlbd $* attached a program before refusing"
	return 0
}

# Bad options of announcing and of the cluster are usage errors, said
# before anything is touched; bad CLI arguments too.
t_cluster_options_refused() {
	local e

	# A stopped xlbd leaves its program attached (by design): lb4's
	# from fourth_joins goes, so that a refusal is seen touching nothing.
	lb_xdp_off 4
	xdp_on lb4 && fail "lb4's XDP program is still attached"
	e=$(etcd_endpoints 1)
	xlbd_refuses "needs --cluster" --etcd "$e"
	xlbd_refuses "need --etcd" --cluster c --node n
	xlbd_refuses "--node" --etcd "$e" --cluster c --node 'a b'
	xlbd_refuses "--cluster" --etcd "$e" --cluster 'x/y' --node n
	xlbd_refuses "kernel's own" --route-table 254
	xlbd_refuses "--route-table" --route-table 0
	xlbd_refuses "--heartbeat" --etcd "$e" --cluster c --node n --heartbeat 5
	xlbd_refuses "--health-quorum" --etcd "$e" --cluster c --node n --health-quorum none
	xlbd_refuses "go together" --etcd "$e" --cluster c --node n --etcd-user u
	for a in "node drain now" "node" "node bogus" "cluster status x" "cluster bogus"; do
		# shellcheck disable=SC2086 # the words of a command
		lb_env 1 xlb $a >"$W/cli.out" 2>&1
		e=$?
		[ "$e" -eq 2 ] || fail "xlb $a exited $e, not 2: $(oneline <"$W/cli.out")"
	done
	echo "9 bad xlbd options and 5 bad commands refused as usage errors"
}

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of health checks as an operator meets them: a backend that
# dies leaves the ring within interval x fall, comes back after rise with
# its slow start, checks through the tunnel catch what plain ones miss,
# every kind of check fails and recovers, bad check settings are refused,
# the operator's drain and down win, --all-down drop or keep, new
# backends wait for rise, a restart of xlbd keeps what the checks found,
# flapping is held down, and every change is logged, counted and shown.
# Sourced by run.sh after lib.sh, traffic.sh (B4) and control.sh
# (cli_case); each t_NAME runs in its own subshell after xlb_reset.
#
# Tests that break a backend (nginx stopped, VIP taken off lo, ...) mend
# it from an EXIT trap (on_exit), so a failed test does not leave the
# next ones a broken backend.

HC_DIR=$W/hc
# The checks of these tests: a change is seen within a second, and the
# timeout is one a busy machine meets (a check's timeout must stay below
# its interval).
QUICK=(--interval 200 --timeout 150)

# on_exit CMD...: run CMD when the test ends, however it ends (fail, the
# watchdog's TERM); commands run last first.
on_exit() {
	local c

	printf -v c '%q ' "$@"
	HC_UNDO="$c; ${HC_UNDO:-}"
	# shellcheck disable=SC2064 # now: the list as it stands
	trap "$HC_UNDO" EXIT
	trap 'exit 143' TERM
}

# bfield VIP ADDR COLUMN: the backend's COLUMN in `xlb backend list VIP`
# (STATE, HEALTH, REASON, CHECK: the left-aligned ones, which may hold
# spaces, so they are cut at the header's columns).
bfield() {
	xlb backend list "$1" | awk -v a="$2" -v c="$3" '
		NR == 1 {
			s = 0; e = 0; rest = $0; off = 0
			while (match(rest, /[^ ]+/)) {
				name = substr(rest, RSTART, RLENGTH)
				if (s && !e) e = off + RSTART
				if (name == c) s = off + RSTART
				off += RSTART + RLENGTH - 1
				rest = substr(rest, RSTART + RLENGTH)
			}
			if (!s) exit 1
			next
		}
		$2 == a {
			v = e ? substr($0, s, e - s) : substr($0, s)
			sub(/^ +/, "", v); sub(/ +$/, "", v)
			print v; f = 1; exit
		}
		END { exit !f }'
}

# health_is VIP ADDR HEALTH: the backend's HEALTH column is HEALTH.
health_is() {
	[ "$(bfield "$1" "$2" HEALTH)" = "$3" ]
}

# wait_health VIP ADDR HEALTH SECONDS: waits for the backend's health;
# fails the test with what `backend list` says when it does not come.
wait_health() {
	local t0

	t0=$(now_ms)
	wait_for "$4" health_is "$1" "$2" "$3" ||
		fail "$2 not $3 within $4 s: $(xlb backend list "$1" | grep -F " $2 " | tr -s ' ')"
	echo "$2 $3 after $(($(now_ms) - t0)) ms"
}

# slots VIP ADDR: the backend's slots in the VIP's ring.
slots() {
	xlb ring show "$1" | cell SLOTS "$2"
}

# nginx_stop I: stops backend I's nginx and waits for it to be gone.
nginx_stop() {
	local pid

	pid=$(cat "$W/nginx-b$1/nginx.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait_for 20 gone "$pid" || fail "nginx on b$1 did not stop"
}

# nginx_ensure I: backend I's nginx runs (started again if it does not).
nginx_ensure() {
	local pid

	pid=$(cat "$W/nginx-b$1/nginx.pid" 2>/dev/null) &&
		kill -0 "$pid" 2>/dev/null && return 0
	topo_nginx "$1" "$W"
}

# pids_in I COMM: the pids of the processes named COMM on backend I.
pids_in() {
	local p

	for p in $(ip netns pids "$(ns "b$1")"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"
	done
}

# udp_ensure I: backend I's UDP service runs.
udp_ensure() {
	local pid

	pid=$(cat "$W/udp-b$1/nginx.pid" 2>/dev/null) &&
		kill -0 "$pid" 2>/dev/null && return 0
	topo_udp "$1" "$W"
}

# hc_files_ok: every backend's file of the exec checks says healthy.
hc_files_ok() {
	local a

	mkdir -p "$HC_DIR" && rm -f "$HC_DIR"/*
	for a in "${B4[@]}"; do touch "$HC_DIR/ok-$a"; done
}

# exec_checked VIP: VIP with the three backends and an exec check that
# passes while $HC_DIR/ok-ADDR exists (QUICK, fall 2, rise 2); returns
# once every backend is up.
exec_checked() {
	local a

	hc_files_ok
	vip_with "$1" "${B4[@]}"
	must xlb check set "$1" --kind exec "${QUICK[@]}" --fall 2 --rise 2 \
		--cmd "test -e $HC_DIR/ok-\$XLB_BACKEND"
	for a in "${B4[@]}"; do wait_health "$1" "$a" up 20; done
}

# agent_ensure I: backend I's xlb-agent runs and its program is attached.
agent_ensure() {
	[ -n "$(pids_in "$1" xlb-agent)" ] || topo_agent "$1" "$W"
	wait_for 20 xdp_on "b$1" && return 0
	echo "xlb-agent did not come back on b$1" >&2
}

# share_of ADDR ANSWERS: the percentage of answers from backend ADDR
# (198.18.3I.2 answers "bI"), of all answers.
share_of() {
	local b=b${1#198.18.3}

	b=${b%.2}
	echo "$2" | awk -v b="$b" '/^b[0-9]$/ { n++; if ($1 == b) k++ }
		END { printf "%d\n", n ? 100 * k / n : 0 }'
}

# answers_avoid ADDR ANSWERS N: N answers, none from ADDR's backend.
answers_avoid() {
	local b=b${1#198.18.3} got

	b=${b%.2}
	got=$(echo "$2" | grep -x 'b[0-9]' | tally)
	echo "answers: $got"
	[ "$(count_of "$b" "$got")" -eq 0 ] ||
		fail "$b ($1) answered $(count_of "$b" "$got") of $3 new connections ($got)"
	[ "$(echo "$2" | grep -cx 'b[0-9]')" -eq "$3" ] ||
		fail "$(echo "$2" | grep -cx 'b[0-9]') of $3 new connections answered ($got)"
}

# http_quick N: N requests to VIP4 on new connections, one curl each, all
# at once, given 1 s (curl -Z's own --connect-timeout counts from the
# start of the whole run, so its late transfers would never connect).
http_quick() {
	seq "$1" | in_ns cl timeout 20 xargs -P "$1" -I{} curl -sS -g \
		--max-time 1 -H 'Connection: close' "http://$VIP4/?{}"
}

# load_start NAME URL SECONDS: three loops of new connections from the
# client for SECONDS (2000 at most each), one curl after the other; each
# attempt is logged in $W/NAME.J as "START_MS bN", or "START_MS -" when it
# failed. load_wait (not in a subshell: they are the caller's children)
# waits for them.
load_start() {
	local j

	LOAD_PIDS=()
	for j in 1 2 3; do
		# shellcheck disable=SC2016 # expanded by bash -c
		in_ns cl timeout $(($3 + 30)) bash -c '
			end=$((${EPOCHREALTIME/./} / 1000 + $2 * 1000))
			for ((i = 0; i < 2000; i++)); do
				t=$((${EPOCHREALTIME/./} / 1000))
				[ "$t" -lt "$end" ] || break
				b=$(curl -sS --max-time 5 -H "Connection: close" \
					"$1/?$i" 2>/dev/null) || b=-
				echo "$t ${b:--}"
			done' _ "$2" "$3" >"$W/$1.$j" 2>&1 &
		LOAD_PIDS+=($!)
	done
}

load_wait() {
	wait "${LOAD_PIDS[@]}"
}

# 1. A backend's nginx stops: once xlbd has seen it down, every new
# connection succeeds and none reaches it (the maps are written before
# `backend list` can show the change); connections held open to the other
# backends are not disturbed. How long detection takes is a figure of
# `make bench` (failover_ms), not a deadline here: on a busy machine it
# varies.
t_failover_new_connections() {
	local a v=$VIP4:80/tcp dead=198.18.33.2 r0 r1 d t_kill deadline log
	local before after n bad late p0 p1 live

	vip_with "$v" "${B4[@]}"
	must xlb check set "$v" --kind http "${QUICK[@]}" --fall 3
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	on_exit nginx_ensure 3

	hold_open fo 20
	r0=$HELD
	live=$(echo "$r0" | grep -c ' b[12]$')
	[ "$live" -gt 0 ] || fail "no held connection on b1 or b2: nothing to test"

	load_start fo "http://$VIP4" 8
	wait_for 20 grep -qs ' b3$' "$W"/fo.[123] || fail "the load reached no b3 before the kill"
	t_kill=$(now_ms)
	run topo_nginx_stop 3 "$W"
	wait_health "$v" "$dead" down 20
	deadline=$(now_ms)
	xlb backend list "$v"
	p0=$(xlb stats backend "$dead" | cell PACKETS "$dead")
	load_wait
	p1=$(xlb stats backend "$dead" | cell PACKETS "$dead")
	log=$(sort -n "$W"/fo.[123])
	r1=$(hold_round fo after) || fail "hold.sh failed"
	hold_close

	before=$(echo "$log" | awk -v t="$t_kill" '$1 < t && $2 == "b3"' | grep -c .)
	n=$(echo "$log" | awk -v t="$deadline" '$1 >= t' | grep -c .)
	bad=$(echo "$log" | awk -v t="$deadline" '$1 >= t && $2 !~ /^b[12]$/' | grep -c .)
	late=$(echo "$log" | awk -v t="$t_kill" '$1 >= t && $2 == "-" { l = $1 - t } END { print l + 0 }')
	after=$(echo "$log" | awk -v t="$deadline" '$1 >= t' | awk '{ print $2 }' | tally)
	echo "new connections: $(echo "$log" | grep -c .), b3 answered $before before the kill;" \
		"last failure $late ms after the kill; down seen after $((deadline - t_kill)) ms;" \
		"after that: $n ($after)"
	echo "packets to $dead after the deadline: $p0 -> $p1"
	[ "$before" -gt 0 ] || fail "b3 answered no new connection before the kill: nothing was tested"
	[ "$n" -ge 30 ] || fail "only $n new connections after $dead was down: the load did not run"
	[ "$bad" -eq 0 ] ||
		fail "$bad of $n new connections failed or reached b3 after it was down (last failure $late ms after the kill)"
	[ "$p0" = "$p1" ] || fail "the balancer sent $((p1 - p0)) packets to the dead $dead after it was down"

	echo "held after: $(echo "$r1" | tally_col)"
	d=$(diff_rounds "$(echo "$r0" | grep ' b[12]$')" "$r1")
	[ -z "$d" ] || fail "$(echo "$d" | grep -c .) of $live connections held to live backends changed: $(echo "$d" | oneline)"
}

# 2. The VIP taken off a backend's lo: the backend's own address still
# answers, so a --plain check keeps it up (and clients that land there
# fail); the check through the tunnel, as clients go, takes it out.
t_tunnel_check_catches_missing_vip() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 got

	vip_with "$v" "${B4[@]}"
	must xlb check set "$v" --kind tcp --plain "${QUICK[@]}" --fall 2
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	on_exit in_ns b3 ip addr replace "$VIP4/32" dev lo
	run in_ns b3 ip addr del "$VIP4/32" dev lo
	# The plain check goes on passing: 10 intervals.
	sleep 1
	health_is "$v" "$addr" up ||
		fail "the plain check took $addr down: $(bfield "$v" "$addr" CHECK)"
	[ "$(slots "$v" "$addr")" -gt 0 ] || fail "$addr left the ring under a passing plain check"
	# ... while clients that land on b3 are not answered.
	got=$(http_quick 30 2>/dev/null | grep -x 'b[0-9]' | tally)
	echo "with the plain check: $got"
	[ "$(count_of b3 "$got")" -eq 0 ] || fail "b3 answered without the VIP on lo ($got)"
	[ $(($(count_of b1 "$got") + $(count_of b2 "$got"))) -lt 30 ] ||
		fail "every request was answered: the missing VIP was not missed by clients, nothing was tested"

	must xlb check set "$v" --kind tcp "${QUICK[@]}" --fall 2
	wait_health "$v" "$addr" down 20
	echo "check: $(bfield "$v" "$addr" CHECK), reason: $(bfield "$v" "$addr" REASON)"
	{ health_is "$v" 198.18.31.2 up && health_is "$v" 198.18.32.2 up; } ||
		fail "the tunnel check took a healthy backend down: $(xlb backend list "$v" | oneline)"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "$addr still has $(slots "$v" "$addr") slots"
	answers_avoid "$addr" "$(http_answers "http://$VIP4" 60)" 60

	run in_ns b3 ip addr add "$VIP4/32" dev lo
	wait_health "$v" "$addr" up 20
	[ "$(slots "$v" "$addr")" -gt 0 ] || fail "$addr up again but has no slots"
}

# 2b. The same with the backend's decapsulation gone (xlb-agent killed).
t_tunnel_check_catches_missing_decap() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 pid

	vip_with "$v" "${B4[@]}"
	must xlb check set "$v" --kind http --plain "${QUICK[@]}" --fall 2
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	pid=$(pids_in 3 xlb-agent)
	[ -n "$pid" ] || fail "no xlb-agent runs on b3"
	on_exit agent_ensure 3
	run kill -TERM "$pid"
	wait_for 20 gone "$pid" || fail "xlb-agent on b3 did not stop"
	xdp_on b3 && fail "b3 still has its decap program"
	sleep 1
	health_is "$v" "$addr" up ||
		fail "the plain check took $addr down: $(bfield "$v" "$addr" CHECK)"

	must xlb check set "$v" --kind http "${QUICK[@]}" --fall 2
	wait_health "$v" "$addr" down 20
	echo "check: $(bfield "$v" "$addr" CHECK)"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "$addr still has $(slots "$v" "$addr") slots"
	answers_avoid "$addr" "$(http_answers "http://$VIP4" 60)" 60

	agent_ensure 3
	wait_health "$v" "$addr" up 20
}

# 3. A backend back after rise ramps up over the VIP's slow start: its
# slots and its share of new connections grow over the 8 s, not at once.
t_recovery_slow_start() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 t_up s0 s1 s2 a0 a1 a2 full r0

	vip_with "$v" "${B4[@]}"
	must xlb vip set "$v" --slow-start 8000
	must xlb check set "$v" --kind http "${QUICK[@]}" --fall 2 --rise 2
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	full=$(slots "$v" "$addr")
	on_exit nginx_ensure 3
	nginx_stop 3
	wait_health "$v" "$addr" down 20
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "$addr down but holds slots"
	run topo_nginx 3 "$W"
	wait_health "$v" "$addr" up 20
	t_up=$(now_ms)
	r0=$(bfield "$v" "$addr" REASON)
	s0=$(slots "$v" "$addr")
	a0=$(http_answers "http://$VIP4" 150)
	echo "+$(($(now_ms) - t_up)) ms: $s0 slots, share $(share_of "$addr" "$a0")%, reason '$r0'"
	sleep_until $((t_up + 4000))
	s1=$(slots "$v" "$addr")
	a1=$(http_answers "http://$VIP4" 150)
	echo "+$(($(now_ms) - t_up)) ms: $s1 slots, share $(share_of "$addr" "$a1")%"
	sleep_until $((t_up + 9000))
	s2=$(slots "$v" "$addr")
	a2=$(http_answers "http://$VIP4" 300)
	echo "+$(($(now_ms) - t_up)) ms: $s2 slots, share $(share_of "$addr" "$a2")%, reason '$(bfield "$v" "$addr" REASON)'"
	a0=$(share_of "$addr" "$a0") a1=$(share_of "$addr" "$a1") a2=$(share_of "$addr" "$a2")

	[ "$s2" -eq "$full" ] || fail "$addr has $s2 slots after the slow start, $full before it went down"
	[ "$a2" -ge 20 ] || fail "$addr's share after the slow start is $a2%, not about 33%"
	[ "$r0" = "slow start" ] || fail "reason '$r0' right after coming back, not 'slow start'"
	[ "$s0" -lt $((full / 2)) ] ||
		fail "$addr came back with $s0 of its $full slots at once: no slow start (shares $a0% -> $a1% -> $a2%)"
	[ "$a0" -lt $((a2 / 2)) ] ||
		fail "$addr's share right after coming back is $a0%, its final one $a2%: no slow start"
	{ [ "$s0" -lt "$s1" ] && [ "$s1" -lt "$s2" ]; } ||
		fail "$addr's slots did not grow over the slow start: $s0 -> $s1 -> $s2"
}

# 4a. exec: /bin/sh -c CMD with XLB_BACKEND, XLB_VIP, XLB_PORT; a file
# per backend says whether it is healthy.
t_exec_check() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 env

	hc_files_ok
	vip_with "$v" "${B4[@]}"
	# shellcheck disable=SC2016 # expanded by the check's shell
	must xlb check set "$v" --kind exec "${QUICK[@]}" --fall 2 --rise 2 \
		--cmd "d=$HC_DIR"'; echo "$XLB_BACKEND $XLB_VIP $XLB_PORT" >"$d/env-$XLB_BACKEND"; test -e "$d/ok-$XLB_BACKEND"'
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	env=$(cat "$HC_DIR/env-$addr" 2>/dev/null)
	[ "$env" = "$addr $v 80" ] || fail "the command's environment gave '$env', not '$addr $v 80'"

	rm "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" down 20
	echo "check: $(bfield "$v" "$addr" CHECK)"
	[ "$(bfield "$v" "$addr" CHECK)" = "exit 1" ] ||
		fail "last check of $addr '$(bfield "$v" "$addr" CHECK)', not 'exit 1'"
	{ health_is "$v" 198.18.31.2 up && health_is "$v" 198.18.32.2 up; } ||
		fail "another backend went down too: $(xlb backend list "$v" | oneline)"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "$addr still has slots"
	answers_avoid "$addr" "$(http_answers "http://$VIP4" 60)" 60

	touch "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" up 20
	[ "$(slots "$v" "$addr")" -gt 0 ] || fail "$addr up again but has no slots"
}

# A second nginx config for backend 3: status 200, but a page without "b3".
nginx_sorry() {
	local dir=$W/nginx-sorry

	mkdir -p "$dir"
	sed -e "s|$W/nginx-b3|$dir|g" -e 's|return 200 "b3\\n"|return 200 "sorry, closed\\n"|' \
		"$W/nginx-b3/nginx.conf" >"$dir/nginx.conf"
	grep -q 'sorry, closed' "$dir/nginx.conf" || fail "cannot make the sorry page's config"
	in_ns b3 nginx -c "$dir/nginx.conf"
}

nginx_sorry_stop() {
	local pid

	pid=$(cat "$W/nginx-sorry/nginx.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait_for 20 gone "$pid"
}

# 4b. http with --body: each backend's check expects its own page ("bI");
# b3 then serves a page without it, still with status 200.
t_http_body_check() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 i code

	vip_with "$v" "${B4[@]}"
	for i in 1 2 3; do
		must xlb check set "$v" --backend "198.18.3$i.2" --kind http \
			--path / --status 200 --body "b$i" "${QUICK[@]}" --fall 2 --rise 2
	done
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	on_exit nginx_ensure 3
	on_exit nginx_sorry_stop
	nginx_stop 3
	nginx_sorry || fail "the sorry nginx did not start on b3"
	code=$(in_ns cl curl -sS --max-time 3 -o /dev/null -w '%{http_code}' "http://$addr/")
	[ "$code" = 200 ] || fail "b3's sorry page answers $code, not 200: nothing to test"
	wait_health "$v" "$addr" down 20
	echo "check: $(bfield "$v" "$addr" CHECK)"
	[ "$(bfield "$v" "$addr" CHECK)" = "body lacks 'b3'" ] ||
		fail "last check of $addr '$(bfield "$v" "$addr" CHECK)', not \"body lacks 'b3'\""
	answers_avoid "$addr" "$(http_answers "http://$VIP4" 60)" 60

	nginx_sorry_stop
	run topo_nginx 3 "$W"
	wait_health "$v" "$addr" up 20
	[ "$(slots "$v" "$addr")" -gt 0 ] || fail "$addr up again but has no slots"
	# The status alone decides when it differs.
	must xlb check set "$v" --backend "$addr" --kind http --status 204 --body b3 "${QUICK[@]}" --fall 2
	wait_health "$v" "$addr" down 20
	[ "$(bfield "$v" "$addr" CHECK)" = "HTTP 200" ] ||
		fail "last check of $addr '$(bfield "$v" "$addr" CHECK)', not 'HTTP 200'"
}

# tls_cert NAME: a self-signed certificate for backend.test (its own CA)
# in $W/tls-NAME.crt and its key in $W/tls-NAME.key.
tls_cert() {
	[ -s "$W/tls-$1.crt" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$W/tls-$1.key" -out "$W/tls-$1.crt" -days 2 \
		-subj /CN=backend.test -addext subjectAltName=DNS:backend.test \
		2>/dev/null
}

# https_nginx I NAME: backend I serves "bI" over TLS on port 443 with the
# certificate NAME (beside its plain nginx, which it leaves alone).
https_nginx() {
	local dir=$W/nginx-tls-b$1

	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
daemon on;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	server {
		listen 443 ssl;
		ssl_certificate $W/tls-$2.crt;
		ssl_certificate_key $W/tls-$2.key;
		location / { return 200 "b$1\n"; }
	}
}
EOF
	in_ns "b$1" nginx -c "$dir/nginx.conf"
}

https_nginx_stop() {
	local pid

	pid=$(cat "$W/nginx-tls-b$1/nginx.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait_for 20 gone "$pid" || fail "the TLS nginx on b$1 did not stop"
	rm -f "$W/nginx-tls-b$1/nginx.pid"
}

# 4d. https through the tunnel: nginx with TLS on every backend, checked
# with SNI and verification against the test's own CA; b3 then presents a
# certificate of another CA (the handshake fails: down), and without
# --verify the same certificate is fine again (up).
t_https_check() {
	local a i v=$VIP4:443/tcp addr=198.18.33.2 ca=$W/tls-good.crt
	# A TLS handshake is more than a connect: no tight timeout.
	local -a slow=(--interval 1000 --timeout 800 --fall 2 --rise 2)

	command -v openssl >/dev/null || skip "no openssl(1)"
	nginx -V 2>&1 | grep -q with-http_ssl_module || skip "nginx without TLS"
	{ tls_cert good && tls_cert other; } || fail "openssl req failed"
	for i in 1 2 3; do
		on_exit https_nginx_stop "$i"
		https_nginx "$i" good || fail "the TLS nginx did not start on b$i"
	done
	vip_with "$v" "${B4[@]}"
	must xlb check set "$v" --kind https --sni backend.test --verify \
		--ca "$ca" --body b "${slow[@]}"
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	xlb check show "$v" | grep -q 'sni backend.test verify' ||
		fail "check show lacks the TLS settings: $(xlb check show "$v" | oneline)"

	https_nginx_stop 3
	https_nginx 3 other || fail "the TLS nginx did not start again on b3"
	wait_health "$v" "$addr" down 20
	echo "check: $(bfield "$v" "$addr" CHECK)"
	case $(bfield "$v" "$addr" CHECK) in
	"handshake: "*) ;;
	*) fail "last check of $addr '$(bfield "$v" "$addr" CHECK)', not a failed handshake" ;;
	esac
	{ health_is "$v" 198.18.31.2 up && health_is "$v" 198.18.32.2 up; } ||
		fail "another backend went down too: $(xlb backend list "$v" | oneline)"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "$addr still has slots"

	# Not verified (the default), the other CA's certificate passes.
	must xlb check set "$v" --kind https --sni backend.test --body b "${slow[@]}"
	wait_health "$v" "$addr" up 20
	[ "$(bfield "$v" "$addr" CHECK)" = ok ] ||
		fail "last check of $addr '$(bfield "$v" "$addr" CHECK)', not 'ok'"
}

# udp_answers N: one datagram to VIP4:5353 from each of N client sockets,
# one after the other -> the answers, "none" for a missing one.
udp_answers() {
	# shellcheck disable=SC2016 # expanded by bash -c
	in_ns cl timeout 120 bash -c '
		for ((i = 0; i < $1; i++)); do
			exec {fd}<>"/dev/udp/$2/5353" || exit 1
			echo ping >&"$fd"
			r=$(timeout 3 dd bs=512 count=1 status=none <&"$fd")
			echo "${r:-none}"
			exec {fd}>&-
		done' _ "$1" "$VIP4"
}

# 4c. udp: send "ping", expect "b" in the answer ("bI"); b3's service
# stopped (ICMP port unreachable); b2's own check expecting another text.
t_udp_check() {
	local v=$VIP4:5353/udp addr=198.18.33.2 got

	vip_with "$v" "${B4[@]}"
	must xlb check set "$v" --kind udp --send ping --expect b "${QUICK[@]}" --fall 2 --rise 2
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	on_exit udp_ensure 3
	run topo_udp_stop 3 "$W"
	wait_health "$v" "$addr" down 20
	echo "check: $(bfield "$v" "$addr" CHECK)"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "$addr still has slots"
	got=$(udp_answers 30 | tally)
	echo "answers: $got"
	[ $(($(count_of b1 "$got") + $(count_of b2 "$got"))) -eq 30 ] ||
		fail "not every datagram answered by b1 or b2 with b3's service down ($got)"

	run topo_udp 3 "$W"
	wait_health "$v" "$addr" up 20
	# b2's own check expects another backend's answer. (Not b3 again:
	# four changes in a minute would hold it down as a flapper.)
	must xlb check set "$v" --backend 198.18.32.2 --kind udp --send ping --expect b1 "${QUICK[@]}" --fall 2
	wait_health "$v" 198.18.32.2 down 3
	[ "$(bfield "$v" 198.18.32.2 CHECK)" = "answer lacks 'b1'" ] ||
		fail "last check of 198.18.32.2 '$(bfield "$v" 198.18.32.2 CHECK)', not \"answer lacks 'b1'\""
	# Without it, the VIP's check again.
	must xlb check del "$v" --backend 198.18.32.2
	wait_health "$v" 198.18.32.2 up 3
}

# 5. Bad check settings: one line "xlb: ...", exit 2 (usage) or 1 (the
# daemon refuses), nothing changed (cli_case, control.sh).
t_check_bad_inputs() {
	local a v=$VIP4:80/tcp S=(-s "$SOCK") n dump0 f=$W/badcheck

	vip_with "$v" 198.18.31.2 198.18.32.2
	must xlb vip add 198.19.0.5/tcp
	must xlb check set "$v" --kind tcp --interval 1000
	dump0=$(xlb config dump) || fail "config dump failed"
	# shellcheck disable=SC2034 # cli_case's
	CLI_DUMP=$dump0
	rm -f "$W/cli.bad"
	cfg() { # NAME CHECK-JSON
		printf '{"vips": [{"vip": "%s", "check": %s, "backends": [{"addr": "198.18.31.2"}]}]}\n' \
			"$v" "$2" >"$f-$1.json"
	}
	cfg interval '{"kind": "tcp", "interval_ms": -100}'
	cfg timeout '{"kind": "tcp", "interval_ms": 100, "timeout_ms": 100}'
	cfg kind '{"kind": "ping"}'
	cfg exec '{"kind": "exec"}'
	cfg rise '{"kind": "tcp", "rise": 0}'
	cfg key '{"kind": "tcp", "intervall_ms": 100}'

	cli_case 2 "${S[@]}" check set "$v" --kind tcp --interval -100
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --interval 5
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --interval 100 --timeout 100
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --interval 100 --timeout 200
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --timeout 0
	cli_case 2 "${S[@]}" check set "$v" --kind bogus
	cli_case 2 "${S[@]}" check set "$v"
	cli_case 2 "${S[@]}" check set "$v" --kind exec
	cli_case 2 "${S[@]}" check set "$v" --kind exec --cmd ''
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --rise 0
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --fall 0
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --fall 101
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --port -1
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --port 65536
	cli_case 2 "${S[@]}" check set "$v" --kind http --status 99
	cli_case 2 "${S[@]}" check set "$v" --kind http --path 'a b'
	cli_case 2 "${S[@]}" check set "$v" --kind http --path '/a b'
	cli_case 2 "${S[@]}" check set "$v" --kind http --body "$(printf '%0200d' 0)"
	cli_case 2 "${S[@]}" check set "$v" --kind exec --cmd "true $(printf '%0300d' 0)"
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --interval 3600001
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --plain --tunnel
	cli_case 2 "${S[@]}" check set "$v" --kind tcp --interval
	cli_case 2 "${S[@]}" check set "$v" --backend not-an-address --kind tcp
	cli_case 2 "${S[@]}" check set 198.19.0.5/tcp --kind tcp
	cli_case 2 "${S[@]}" check set "$v" --kind tcp extra
	cli_case 2 "${S[@]}" check frobnicate
	cli_case 2 "${S[@]}" vip set "$v"
	cli_case 2 "${S[@]}" vip set "$v" --slow-start -1
	cli_case 2 "${S[@]}" vip set "$v" --all-down maybe
	for n in interval timeout kind exec rise key; do
		cli_case 2 "${S[@]}" config apply "$f-$n.json"
	done

	cli_case 1 "${S[@]}" check set 198.19.0.9:80/tcp --kind tcp
	cli_case 1 "${S[@]}" check set "$v" --backend 198.18.39.2 --kind tcp
	cli_case 1 "${S[@]}" check del 198.19.0.9:80/tcp
	cli_case 1 "${S[@]}" check del "$v" --backend 198.18.39.2
	cli_case 1 "${S[@]}" check show 198.19.0.9:80/tcp
	cli_case 1 "${S[@]}" vip set 198.19.0.9:80/tcp --slow-start 1000

	[ "$(xlb config dump)" = "$dump0" ] || fail "the desired state changed: $(diff <(echo "$dump0") <(xlb config dump) | head -5 | oneline)"
	if [ -s "$W/cli.bad" ]; then
		n=$(wc -l <"$W/cli.bad")
		fail "$n cases wrong: $(head -3 "$W/cli.bad" | tr '\n' ';')"
	fi
}

# 6. The operator wins over the checks: a drained backend whose check
# fails stays drained (its connections go on, it gets no new ones), also
# when the check passes again; a healthy backend set down stays out.
t_operator_wins() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 r0 r1 d on3

	exec_checked "$v"
	hold_open op 20
	r0=$HELD
	on3=$(echo "$r0" | grep -c ' b3$')
	[ "$on3" -gt 0 ] || fail "no held connection on b3: nothing to test"

	must xlb backend set "$v" "$addr" --state drain
	rm "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" down 20
	xlb backend list "$v"
	[ "$(bfield "$v" "$addr" STATE)" = drain ] || fail "$addr is '$(bfield "$v" "$addr" STATE)', not drain"
	[ "$(bfield "$v" "$addr" REASON)" = "operator: drain" ] ||
		fail "reason '$(bfield "$v" "$addr" REASON)', not 'operator: drain'"
	r1=$(hold_round op failing) || fail "hold.sh failed"
	d=$(diff_rounds "$r0" "$r1")
	[ -z "$d" ] || fail "a failing check moved connections of the drained $addr: $(echo "$d" | oneline)"
	answers_avoid "$addr" "$(http_answers "http://$VIP4" 90)" 90

	touch "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" up 20
	[ "$(bfield "$v" "$addr" STATE)" = drain ] || fail "$addr is '$(bfield "$v" "$addr" STATE)' once healthy, not drain"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "the drained $addr got slots back with its health"
	answers_avoid "$addr" "$(http_answers "http://$VIP4" 90)" 90
	r1=$(hold_round op healthy) || fail "hold.sh failed"
	hold_close
	d=$(diff_rounds "$r0" "$r1")
	[ -z "$d" ] || fail "held connections changed: $(echo "$d" | oneline)"

	# Down on a healthy backend: out, for longer than rise checks.
	must xlb backend set "$v" 198.18.32.2 --state down
	sleep 0.5
	health_is "$v" 198.18.32.2 up || fail "198.18.32.2's check failed: nothing to test"
	[ "$(bfield "$v" 198.18.32.2 REASON)" = "operator: down" ] ||
		fail "reason '$(bfield "$v" 198.18.32.2 REASON)', not 'operator: down'"
	[ "$(slots "$v" 198.18.32.2)" -eq 0 ] || fail "198.18.32.2 set down still has slots"
	answers_avoid 198.18.32.2 "$(http_answers "http://$VIP4" 60)" 60
	must xlb backend set "$v" 198.18.32.2 --state up
	[ "$(slots "$v" 198.18.32.2)" -gt 0 ] || fail "198.18.32.2 set up again has no slots"
}

# 7. Every backend's check fails (a plain check of a port nothing listens
# on) while the backends serve. keep: the VIP goes on serving from all of
# them; drop: new connections are dropped and counted.
t_all_down_keep() {
	local a v=$VIP4:80/tcp got c0 c1 n

	vip_with "$v" "${B4[@]}"
	must xlb vip set "$v" --all-down keep
	must xlb check set "$v" --kind tcp --plain --port 81 "${QUICK[@]}" --fall 2
	for a in "${B4[@]}"; do wait_health "$v" "$a" down 20; done
	xlb backend list "$v"
	[ "$(bfield "$v" 198.18.31.2 REASON)" = "all down: last ring kept" ] ||
		fail "reason '$(bfield "$v" 198.18.31.2 REASON)', not 'all down: last ring kept'"
	got=$(http_answers "http://$VIP4" 60 | grep -x 'b[0-9]' | tally)
	echo "keep: $got"
	n=$(($(count_of b1 "$got") + $(count_of b2 "$got") + $(count_of b3 "$got")))
	[ "$n" -eq 60 ] || fail "with --all-down keep, $n of 60 new connections answered ($got)"
	for b in b1 b2 b3; do
		[ "$(count_of $b "$got")" -gt 0 ] || fail "with --all-down keep, $b got none of 60 ($got)"
	done

	must xlb vip set "$v" --all-down drop
	c0=$(counter drop_no_backend)
	got=$(http_quick 20 2>/dev/null | grep -x 'b[0-9]' | tally)
	c1=$(counter drop_no_backend)
	echo "drop: '$got', drop_no_backend $c0 -> $c1"
	[ -z "$got" ] || fail "with --all-down drop, new connections were answered ($got)"
	[ $((c1 - c0)) -ge 20 ] || fail "drop_no_backend grew by $((c1 - c0)) for 20 connections"
	[ "$(bfield "$v" 198.18.31.2 REASON)" = "check failed" ] ||
		fail "reason '$(bfield "$v" 198.18.31.2 REASON)', not 'check failed'"

	must xlb vip set "$v" --all-down keep
	got=$(http_answers "http://$VIP4" 30 | grep -x 'b[0-9]' | tally)
	echo "keep again: $got"
	n=$(($(count_of b1 "$got") + $(count_of b2 "$got") + $(count_of b3 "$got")))
	[ "$n" -eq 30 ] || fail "back to keep, $n of 30 new connections answered ($got)"
}

# A check set on backends that serve leaves them serving until it fails;
# a backend added afterwards gets no connection before rise good results.
t_new_backend_waits_for_rise() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 t0 h r

	vip_with "$v" 198.18.31.2 198.18.32.2
	must xlb check set "$v" --kind http --interval 300 --rise 3
	for a in 198.18.31.2 198.18.32.2; do
		h=$(bfield "$v" "$a" HEALTH)
		[ "$h" = up ] || fail "$a, serving before, is '$h' as soon as its check is set"
		[ "$(slots "$v" "$a")" -gt 0 ] || fail "$a left the ring when its check was set"
	done
	t0=$(now_ms)
	must xlb backend add "$v" "$addr"
	h=$(bfield "$v" "$addr" HEALTH) r=$(bfield "$v" "$addr" REASON)
	echo "new backend: $h, '$r', $(slots "$v" "$addr") slots"
	[ "$h" = down ] || fail "the new $addr is '$h' before any check, not down"
	[ "$r" = "awaiting checks" ] || fail "reason '$r' for the new $addr, not 'awaiting checks'"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "the new $addr has slots before its checks"
	answers_avoid "$addr" "$(http_answers "http://$VIP4" 30)" 30
	wait_health "$v" "$addr" up 20
	# 3 results 300 ms apart (the first at some point of the first 300).
	[ $(($(now_ms) - t0)) -ge 600 ] || fail "$addr up $(($(now_ms) - t0)) ms after being added: before rise x interval"
	[ "$(slots "$v" "$addr")" -gt 0 ] || fail "$addr up but has no slots"
}

# kill -9 of xlbd and a restart: backends that served keep serving, and a
# backend its checks took down stays out (the maps held it down: a
# restart must not send new connections to it again).
t_restart_keeps_health() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 got n

	vip_with "$v" "${B4[@]}"
	must xlb check set "$v" --kind http --interval 500 --fall 3 --rise 2
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	on_exit nginx_ensure 3
	nginx_stop 3
	wait_health "$v" "$addr" down 20
	run xlbd_stop KILL
	run xlbd_start || fail "xlbd did not restart"
	xlb backend list "$v"
	xlb ring show "$v" | tail -4
	got=$(http_answers "http://$VIP4" 60 2>/dev/null | grep -x 'b[0-9]' | tally)
	n=$(($(count_of b1 "$got") + $(count_of b2 "$got")))
	echo "right after the restart: $got"
	[ "$n" -eq 60 ] || fail "$((60 - n)) of 60 new connections failed right after the restart ($got): the dead $addr is back in the ring"
	for a in 198.18.31.2 198.18.32.2; do
		[ "$(slots "$v" "$a")" -gt 0 ] || fail "$a, healthy, has no slots after the restart"
	done
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "the dead $addr has $(slots "$v" "$addr") slots after the restart"
}

# metric NAME{LABELS}: its value on xlbd's metrics page ("" if none);
# label values may hold spaces.
metric() {
	in_ns lb curl -sS --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" |
		awk -v k="$1 " 'index($0, k) == 1 { print $NF }'
}

# backend_json VIP ADDR: the backend's object in `xlb -j backend list VIP`
# (flat: no object inside).
backend_json() {
	xlb -j backend list "$1" | grep -o "{[^{}]*\"addr\":\"$2\"[^{}]*}"
}

# What an operator reads about a change of health: one log line each way,
# the metrics, and the JSON of `backend list`.
t_health_reporting() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 l0 lines ev0 ev1 j f lbl bad=""

	exec_checked "$v"
	l0=$(wc -l <"$W/xlbd.log")
	ev0=$(metric xlb_health_events_total)
	lbl="{vip=\"$v\",backend=\"$addr\""
	rm "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" down 20
	[ "$(metric "xlb_backend_health$lbl,health=\"down\",reason=\"check failed\"}")" = 1 ] ||
		bad="$bad; no xlb_backend_health$lbl,health=\"down\",reason=\"check failed\"} 1"
	touch "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" up 20

	lines=$(tail -n +$((l0 + 1)) "$W/xlbd.log" | grep -F "$addr")
	echo "log: $lines"
	echo "$lines" | grep -qxF "xlbd: backend $addr of $v is down after 2 failed checks (exit 1)" ||
		bad="$bad; no log line 'backend $addr of $v is down after 2 failed checks (exit 1)'"
	echo "$lines" | grep -qxF "xlbd: backend $addr of $v is up after 2 good checks (ok)" ||
		bad="$bad; no log line 'backend $addr of $v is up after 2 good checks (ok)'"
	[ "$(echo "$lines" | grep -c .)" -eq 2 ] || bad="$bad; $(echo "$lines" | grep -c .) log lines about $addr, not 2"

	ev1=$(metric xlb_health_events_total)
	echo "xlb_health_events_total: $ev0 -> $ev1"
	[ -n "$ev0" ] && [ "$((ev1 - ev0))" -eq 2 ] || bad="$bad; xlb_health_events_total $ev0 -> $ev1, not +2"
	[ "$(metric "xlb_backend_transitions_total$lbl}")" = 2 ] ||
		bad="$bad; xlb_backend_transitions_total$lbl} is '$(metric "xlb_backend_transitions_total$lbl}")', not 2"
	[ "$(metric "xlb_backend_health$lbl,health=\"up\",reason=\"check ok\"}")" = 1 ] ||
		bad="$bad; no xlb_backend_health$lbl,health=\"up\",reason=\"check ok\"} 1"

	j=$(backend_json "$v" "$addr")
	echo "json: $j"
	for f in '"health":"up"' '"reason":"check ok"' '"check_result":"ok"' \
		'"check_ms":[0-9.]+' '"since_s":[0-9]+' '"effective_weight":1' \
		'"transitions":2'; do
		echo "$j" | grep -qE "$f([,}])" || bad="$bad; no $f in xlb -j backend list"
	done
	[ -z "$bad" ] || fail "${bad#; }"
}

# A backend that changes state flap_count times within flap_window_ms is
# held down for flap_hold_ms, good checks or not, then must earn rise.
t_flap_held_down() {
	local a v=$VIP4:80/tcp addr=198.18.33.2 t_held t_up cfg=$W/flap.json

	hc_files_ok
	cat >"$cfg" <<EOF
{"global": {"flap_count": 3, "flap_window_ms": 60000, "flap_hold_ms": 4000},
 "vips": [{"vip": "$v",
   "backends": [{"addr": "198.18.31.2"}, {"addr": "198.18.32.2"},
                {"addr": "$addr"}]}]}
EOF
	must xlb config apply "$cfg"
	# Serving backends that gain a check keep serving: no change yet.
	must xlb check set "$v" --kind exec "${QUICK[@]}" --rise 2 --fall 2 \
		--cmd "test -e $HC_DIR/ok-\$XLB_BACKEND"
	for a in "${B4[@]}"; do wait_health "$v" "$a" up 20; done
	# Changes 1 (down), 2 (up: not held), 3 (down: flapping).
	rm "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" down 20
	touch "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" up 20
	grep -qF "xlbd: backend $addr of $v flapping" "$W/xlbd.log" &&
		fail "$addr was held down after 2 changes of 3 allowed: held too early"
	rm "$HC_DIR/ok-$addr"
	wait_health "$v" "$addr" down 20
	t_held=$(now_ms)
	touch "$HC_DIR/ok-$addr"
	sleep 1
	xlb backend list "$v"
	[ "$(bfield "$v" "$addr" REASON)" = "flapping: held down" ] ||
		fail "reason '$(bfield "$v" "$addr" REASON)' 1 s into the hold, not 'flapping: held down'"
	health_is "$v" "$addr" down || fail "$addr is up 1 s into its 4 s hold"
	[ "$(bfield "$v" "$addr" CHECK)" = ok ] || fail "its checks do not pass: nothing was tested"
	[ "$(slots "$v" "$addr")" -eq 0 ] || fail "$addr holds slots while held down"
	grep -qF "xlbd: backend $addr of $v flapping: held down for 4000 ms" "$W/xlbd.log" ||
		fail "no log line 'backend $addr of $v flapping: held down for 4000 ms'"
	wait_health "$v" "$addr" up 20
	t_up=$(now_ms)
	echo "up $((t_up - t_held)) ms after it was held"
	[ $((t_up - t_held)) -ge 4000 ] || fail "up $((t_up - t_held)) ms after being held for 4000 ms"
	[ "$(slots "$v" "$addr")" -gt 0 ] || fail "$addr up again but has no slots"
}

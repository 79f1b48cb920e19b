# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of scripts/monitoring/: the alert rules load in promtool and
# name only metrics xlbd exports, so do the dashboard's queries (which
# must also parse as PromQL), and a real Prometheus scraping the test's
# xlbd fires BackendDown when a backend's nginx stops and resolves it
# when it comes back, VipNoServingBackend (and nothing else) when the
# operator drains every backend, DropsByReasonRising when a client sends
# to a VIP without backends. Sourced by run.sh after lib.sh,
# traffic.sh (B4) and health.sh (QUICK, on_exit, wait_health); each
# t_NAME runs in its own subshell after xlb_reset.

MON_DIR=$ROOT/scripts/monitoring
MON_RULES=$MON_DIR/xlb-alerts.yml
MON_DASH=$MON_DIR/xlb-dashboard.json
# What xlbd exports only as a member of a cluster (--etcd) or when it
# announces VIPs (--route-table): the e2e xlbd runs with neither. The
# rules file lists them too, for its reader.
MON_CLUSTER_ONLY="xlb_cluster_nodes xlb_cluster_generation
	xlb_cluster_fingerprint_mismatch xlb_cluster_etcd_up xlb_cluster_joined
	xlb_cluster_rejected_total xlb_cluster_resyncs_total
	xlb_cluster_nodes_lost_total xlb_vip_announced"
PROM_ADDR=127.0.0.1:9090

# mon_cluster_only NAME: NAME is one of MON_CLUSTER_ONLY.
mon_cluster_only() {
	local c

	# shellcheck disable=SC2086 # a list of names
	for c in $MON_CLUSTER_ONLY; do [ "$c" = "$1" ] && return 0; done
	return 1
}

# mon_words: stdin's words on one line.
mon_words() {
	tr -s ' \n\t' '   ' | sed 's/ $//'
}

# mon_scrape: xlbd's /metrics, from the balancer's namespace.
mon_scrape() {
	in_ns lb curl -sS --max-time 5 -f "http://127.0.0.1:$METRICS_PORT/metrics"
}

# mon_names: the xlb_ metric names in PromQL text on stdin.
mon_names() {
	grep -oE '\bxlb_[a-z0-9_]+' | sort -u
}

# mon_rule_names: metric names the rules use (comments left out: they
# only document).
mon_rule_names() {
	grep -v '^[[:space:]]*#' "$MON_RULES" | mon_names
}

# mon_series_names: the names of the series of a scrape on stdin.
mon_series_names() {
	grep -v '^#' | sed 's/[{ ].*//' | sort -u
}

# mon_missing NAMES: those of NAMES without a series in a scrape of xlbd
# and not cluster-only; prints them, 1 if any.
mon_missing() {
	local m have n miss=

	m=$(mon_scrape) || return 1
	have=$(mon_series_names <<<"$m")
	for n in $1; do
		grep -qx "$n" <<<"$have" && continue
		mon_cluster_only "$n" && continue
		miss="$miss $n"
	done
	echo "${miss# }"
	[ -z "$miss" ]
}

# mon_vip_full VIP: VIP with the three backends, an HTTP health check,
# an agent check and the byte-share loop, so that every per-backend
# series xlbd has exists; returns once every backend is up.
mon_vip_full() {
	local a

	vip_with "$1" "${B4[@]}"
	must xlb check set "$1" --kind http "${QUICK[@]}" --fall 3
	must xlb check set "$1" --kind agent --interval 300
	must xlb vip set "$1" --balance bytes --balance-window 1000
	for a in "${B4[@]}"; do wait_health "$1" "$a" up 20; done
}

t_prometheus_rules_and_dashboard() {
	local v=$VIP4:80/tcp names miss n doc

	command -v promtool >/dev/null || skip "promtool is not installed (make deps)"
	run promtool check rules "$MON_RULES" || fail "promtool check rules $MON_RULES failed"
	jq -e '.schemaVersion and (.panels | length > 0)' "$MON_DASH" >/dev/null ||
		fail "$MON_DASH is not a dashboard (invalid JSON, or no panels)"

	# The dashboard's queries parse: promtool checks them as recording
	# rules, with Grafana's variables given values.
	# shellcheck disable=SC2016 # Grafana's variables, not the shell's
	jq -r '.. | objects | .expr? // empty' "$MON_DASH" |
		sed 's/\$__rate_interval/1m/g; s/\$instance/.*/g; s/\$vip/.*/g' |
		jq -Rs '{groups: [{name: "dashboard", rules: [split("\n") |
			map(select(length > 0)) | to_entries[] |
			{record: "dashboard_expr_\(.key)", expr: .value}]}]}' \
		>"$W/dash-rules.yml"
	run promtool check rules "$W/dash-rules.yml" ||
		fail "a query of the dashboard is not PromQL (see promtool's error above)"

	# Every name the cluster-only rules use is documented as such.
	doc=$(grep '^[[:space:]]*#' "$MON_RULES" | mon_names)
	for n in $(mon_rule_names); do
		mon_cluster_only "$n" && ! grep -qx "$n" <<<"$doc" &&
			fail "$n is cluster-only but the rules file does not say so"
	done

	# Those absent here are at least in xlbd's source, so a typo in
	# them still fails.
	for n in $MON_CLUSTER_ONLY; do
		grep -qE "\"${n}[\"{]" "$ROOT/user/xlbd/metrics.c" ||
			fail "cluster-only $n is not a metric of user/xlbd/metrics.c"
	done

	names=$( (mon_rule_names
		jq -r '.. | objects | (.expr?, .definition?) // empty' "$MON_DASH" | mon_names) |
		sort -u)
	echo "metrics used: $(mon_words <<<"$names")"
	mon_vip_full "$v"
	http_answers "http://$VIP4" 30 >/dev/null
	# Agent reports and check latencies come within a few intervals.
	if ! wait_for 30 mon_missing "$names" >/dev/null; then
		miss=$(mon_missing "$names")
		fail "used but not exported by xlbd: $miss"
	fi
	echo "all exported (cluster-only, absent here: $(mon_words <<<"$MON_CLUSTER_ONLY"))"
}

# mon_prom_start: Prometheus in the balancer's namespace, scraping xlbd
# every second with the rules of scripts/monitoring/ (their for: cut to
# 1s: a test cannot wait minutes); ready when it answers.
mon_prom_start() {
	local d=$W/prom

	rm -rf "$d" && mkdir -p "$d/data"
	sed -E 's/^([[:space:]]*for:).*/\1 1s/' "$MON_RULES" >"$d/xlb-alerts.yml"
	cat >"$d/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		rule_files: ["$d/xlb-alerts.yml"]
		scrape_configs:
		  - job_name: xlb
		    static_configs: [{targets: ["127.0.0.1:$METRICS_PORT"]}]
	EOF
	run promtool check config "$d/prometheus.yml" || fail "promtool check config failed"
	in_ns lb prometheus --config.file="$d/prometheus.yml" \
		--storage.tsdb.path="$d/data" --web.listen-address="$PROM_ADDR" \
		>"$d/log" 2>&1 &
	PROM_PID=$!
	on_exit mon_prom_stop
	wait_for 60 mon_prom_api /-/ready >/dev/null 2>&1 ||
		fail "Prometheus not ready in 60 s: $(tail -3 "$d/log" | oneline)"
}

mon_prom_stop() {
	[ -n "${PROM_PID:-}" ] || return 0
	kill "$PROM_PID" 2>/dev/null
	wait_for 30 gone "$PROM_PID" || kill -KILL "$PROM_PID" 2>/dev/null
}

# mon_prom_api PATH: GET from Prometheus's HTTP API.
mon_prom_api() {
	in_ns lb curl -sS --max-time 5 -f "http://$PROM_ADDR$1"
}

# mon_alert NAME [LABEL=]VALUE: the state of alert NAME whose label
# LABEL (backend by default) is VALUE: pending or firing, nothing when
# there is none; 1 when Prometheus does not answer.
mon_alert() {
	local j l=backend v=$2

	case $v in *=*) l=${v%%=*} v=${v#*=} ;; esac
	j=$(mon_prom_api /api/v1/alerts) || return 1
	jq -r --arg a "$1" --arg l "$l" --arg v "$v" '.data.alerts[] |
		select(.labels.alertname == $a and .labels[$l] == $v) |
		.state' <<<"$j"
}

# mon_alert_is NAME [LABEL=]VALUE STATE: as mon_alert says ("" for none).
mon_alert_is() {
	local s

	s=$(mon_alert "$1" "$2") && [ "$s" = "$3" ]
}

# mon_scraped: Prometheus has scraped xlbd with success and evaluated
# the rules at least once, all of them without error.
mon_scraped() {
	mon_prom_api '/api/v1/query?query=up%7Bjob%3D%22xlb%22%7D' |
		jq -e '.data.result[0].value[1] == "1"' >/dev/null &&
		mon_prom_api /api/v1/rules |
		jq -e '[.data.groups[].rules[]] | length > 0 and all(.health == "ok")' >/dev/null
}

# mon_alerts_brief: every alert pending or firing, on one line.
mon_alerts_brief() {
	mon_prom_api /api/v1/alerts | jq -c '[.data.alerts[] |
		{a: .labels.alertname, b: .labels.backend, s: .state}]'
}

mon_no_alerts() {
	mon_prom_api /api/v1/alerts | jq -e '.data.alerts == []' >/dev/null
}

t_prometheus_alert_fires() {
	local v=$VIP4:80/tcp dead=${B4[2]} t0 t_down t_fire t_back t_gone a

	command -v prometheus >/dev/null || skip "prometheus is not installed (make deps)"
	mon_vip_full "$v"
	on_exit nginx_ensure 3
	mon_prom_start
	wait_for 60 mon_scraped || fail "Prometheus did not scrape xlbd, or a rule fails: $(mon_prom_api /api/v1/rules | jq -c '[.data.groups[].rules[] | select(.health != "ok") | {name, lastError}]' | oneline)"
	# A healthy xlb fires nothing (XlbdDown's absent() may fire before
	# the first scrape: it resolves with the next evaluation).
	wait_for 30 mon_no_alerts ||
		fail "alerts with every backend up: $(mon_alerts_brief)"
	a=$(mon_alerts_brief)
	echo "alerts before: $a"
	mon_alert_is BackendDown "$dead" "" || fail "BackendDown for $dead before it went down: $a"

	t0=$(now_ms)
	run topo_nginx_stop 3 "$W"
	wait_health "$v" "$dead" down 20
	t_down=$(now_ms)
	wait_for 60 mon_alert_is BackendDown "$dead" firing ||
		fail "BackendDown for $dead not firing 60 s after it was down: $(mon_prom_api /api/v1/alerts | oneline)"
	t_fire=$(now_ms)
	mon_prom_api /api/v1/alerts | jq '.data.alerts[] | select(.labels.alertname == "BackendDown")'
	mon_prom_api /api/v1/alerts | jq -e --arg b "$dead" '.data.alerts[] |
		select(.labels.alertname == "BackendDown" and .labels.backend == $b) |
		.labels.severity == "warning" and (.annotations.summary | contains($b))' >/dev/null ||
		fail "BackendDown for $dead lacks its severity or a summary naming it"
	for a in "${B4[0]}" "${B4[1]}"; do
		mon_alert_is BackendDown "$a" "" || fail "BackendDown also for $a, which is up"
	done

	nginx_ensure 3
	t_back=$(now_ms)
	wait_health "$v" "$dead" up 20
	wait_for 60 mon_alert_is BackendDown "$dead" "" ||
		fail "BackendDown for $dead still $(mon_alert BackendDown "$dead") 60 s after nginx came back"
	t_gone=$(now_ms)
	echo "down seen by xlbd $((t_down - t0)) ms after nginx stopped;" \
		"BackendDown firing $((t_fire - t0)) ms after ($((t_fire - t_down)) ms after xlbd saw it);" \
		"resolved $((t_gone - t_back)) ms after nginx came back"

	# Every backend drained by the operator: the VIP takes no new flow
	# (VipNoServingBackend), and no BackendDown (the operator's word).
	for a in "${B4[@]}"; do must xlb backend set "$v" "$a" --state drain; done
	t0=$(now_ms)
	wait_for 60 mon_alert_is VipNoServingBackend "vip=$v" firing ||
		fail "VipNoServingBackend for $v not firing 60 s after its backends were drained: $(mon_alerts_brief)"
	echo "VipNoServingBackend firing $(($(now_ms) - t0)) ms after the drain"
	a=$(mon_alerts_brief)
	echo "alerts: $a"
	[ "$(jq '[.[] | select(.a != "VipNoServingBackend")] | length' <<<"$a")" = 0 ] ||
		fail "other alerts than VipNoServingBackend with every backend drained: $a"

	# A UDP VIP without backends, and a client sending to it: its drops
	# go over 10/s.
	must xlb vip add "$VIP4:80/udp"
	t0=$(now_ms)
	wait_for 60 mon_drops_firing ||
		fail "DropsByReasonRising not firing 60 s after drops began: $(mon_alerts_brief); $(xlb stats | grep drop_ | oneline)"
	echo "DropsByReasonRising firing $(($(now_ms) - t0)) ms after drops began:" \
		"$(mon_prom_api /api/v1/alerts | jq -r '.data.alerts[] |
			select(.labels.alertname == "DropsByReasonRising") | .annotations.summary')"
}

# mon_drops_firing: sends 1000 UDP datagrams from the client to VIP4:80
# (a UDP VIP without backends), then whether DropsByReasonRising fires.
mon_drops_firing() {
	# shellcheck disable=SC2016 # expanded by bash -c
	in_ns cl timeout 10 bash -c 'for i in {1..1000}; do echo x >"/dev/udp/$0/80"; done' "$VIP4"
	mon_prom_api /api/v1/alerts | jq -e '.data.alerts[] |
		select(.labels.alertname == "DropsByReasonRising" and .state == "firing")' >/dev/null
}

# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# e2e tests of xlb as an operator installs and runs it: `make install`
# and `make uninstall` into a DESTDIR, and xlbd started exactly as
# scripts/systemd/xlbd.service starts it, talking to a NOTIFY_SOCKET the
# test reads (READY=1, RELOADING=1 on SIGHUP, STOPPING=1). Sourced by
# run.sh after lib.sh, health.sh (on_exit) and daemon.sh; each t_NAME
# runs in its own subshell after xlb_reset.

# The files a `make install PREFIX=/usr` must put under DESTDIR.
INSTALL_FILES="usr/sbin/xlbd usr/sbin/xlb usr/sbin/xlb-agent
	lib/systemd/system/xlbd.service lib/systemd/system/xlb-agent.service
	usr/share/bash-completion/completions/xlb usr/share/doc/xlb/LICENSE
	usr/share/doc/xlb/examples/xlb-agent.example.json
	usr/share/doc/xlb/examples/xlbd.default
	usr/share/doc/xlb/examples/xlb-agent.default"

# install_make DESTDIR TARGET: make TARGET at the checkout's root, on the
# tree already built (install depends on all, which is up to date).
install_make() {
	run make -C "$ROOT" --no-print-directory BUILD="$BUILD" \
		DESTDIR="$1" PREFIX=/usr "$2"
}

# install_units_verify DIR: systemd knows every key of the installed
# units (systemd-analyze verify names an unknown one).
install_units_verify() {
	local out

	command -v systemd-analyze >/dev/null || {
		echo "no systemd-analyze: units not verified"
		return 0
	}
	out=$(systemd-analyze verify "$1"/*.service 2>&1)
	echo "$out"
	! echo "$out" | grep -Eq 'Unknown (key|section)|Failed to parse|[Ii]nvalid'
}

t_install_layout() {
	local dest=$W/root f p out version left

	# install depends on all: on a stale tree it would relink the
	# programs the other tests are running.
	make -C "$ROOT" --no-print-directory -q BUILD="$BUILD" all ||
		fail "the build is not up to date: run 'make all' first"
	rm -rf "$dest"
	install_make "$dest" install || fail "make install failed"
	for f in $INSTALL_FILES; do
		[ -f "$dest/$f" ] || echo "$f" >>"$W/install.missing"
	done
	for f in "$BUILD"/man/*.8 "$BUILD"/man/*.5; do
		[ -e "$f" ] || continue
		[ -f "$dest/usr/share/man/man${f##*.}/${f##*/}" ] ||
			echo "man page ${f##*/}" >>"$W/install.missing"
	done
	[ -s "$W/install.missing" ] &&
		fail "not installed: $(tr '\n' ' ' <"$W/install.missing")"
	grep -q '^ExecStart=/usr/sbin/xlbd ' "$dest/lib/systemd/system/xlbd.service" ||
		fail "the installed unit does not start /usr/sbin/xlbd"
	install_units_verify "$dest/lib/systemd/system" ||
		fail "systemd-analyze verify finds unknown options in the units"

	version=$(sed -n 's/^#define XLB_VERSION "\(.*\)"$/\1/p' "$ROOT/user/lib/version.h")
	for p in xlbd xlb xlb-agent; do
		[ -x "$dest/usr/sbin/$p" ] || fail "$p is not executable"
		out=$("$dest/usr/sbin/$p" --version) || fail "$p --version failed"
		echo "$p --version: $out"
		[ "$out" = "$p $version" ] || fail "$p --version says '$out', not '$p $version'"
	done

	install_make "$dest" uninstall || fail "make uninstall failed"
	left=$(find "$dest" ! -type d)
	[ -z "$left" ] || fail "left after uninstall: $(echo "$left" | head -5 | tr '\n' ' ')"
	# Directories xlb alone had are gone too; shared ones may stay.
	[ ! -e "$dest/usr/share/doc/xlb" ] || fail "uninstall left usr/share/doc/xlb"
	rm -rf "$dest"
}

# unit_argv UNIT ENVFILE: ExecStart of UNIT as systemd expands it with
# ENVFILE (${VAR} one word, $VAR split on spaces), one word a line; the
# program from the build, not /usr/sbin.
unit_argv() {
	local line w v

	line=$(sed -n 's/^ExecStart=//p' "$1")
	(
		set -a
		# shellcheck disable=SC1090 # the test's own file
		. "$2"
		for w in $line; do
			# shellcheck disable=SC2016 # the unit's text, not ours
			case $w in
			/usr/sbin/*) echo "$XLB_BIN/${w#/usr/sbin/}" ;;
			'${'*'}')
				v=${w#??}
				v=${v%\}}
				echo "${!v:-}"
				;;
			'$'*)
				v=${w#?}
				for v in ${!v:-}; do echo "$v"; done
				;;
			*) echo "$w" ;;
			esac
		done
	)
}

# notified N LINE: the notify socket got LINE at least N times.
notified() {
	[ "$(grep -cx "$2" "$W/unit/notify.log" 2>/dev/null)" -ge "$1" ]
}

# unit_kill PID: the test's xlbd gone, whatever the test's outcome.
unit_kill() {
	kill -KILL "$1" 2>/dev/null
	wait_for 30 gone "$1"
}

uxlb() {
	"$XLB_BIN/xlb" -s "$W/unit/xlbd.sock" "$@"
}

# unit_config FILE VIP...: a configuration of these VIPs, one backend each.
unit_config() {
	local f=$1 v sep=

	shift
	{
		printf '{"vips": ['
		for v in "$@"; do
			printf '%s{"vip": "%s", "backends": [{"addr": "198.18.31.2"}]}' \
				"$sep" "$v"
			sep=', '
		done
		printf ']}\n'
	} >"$f"
}

# xlbd as the unit starts it (the e2e's own stopped; it comes back at the
# end and adopts the same program and pins, as after `systemctl restart`),
# with NOTIFY_SOCKET read by socat: READY=1 only once it serves, SIGHUP
# re-reads --config (a bad one changes nothing), SIGTERM says STOPPING=1
# and exits 0.
t_unit_exec_start_notify() {
	local u=$W/unit v1=$VIP4:80/tcp v2=$VIP4:8080/tcp pid rc dump
	local -a argv

	rm -rf "$u" && mkdir -p "$u"
	unit_config "$u/xlb.json" "$v1"
	cat >"$u/default" <<-EOF
		XLB_INTERFACE=eth0
		XLBD_OPTS="--config $u/xlb.json --state-dir $u/state -s $u/xlbd.sock --metrics off"
	EOF
	mapfile -t argv < <(unit_argv "$ROOT/scripts/systemd/xlbd.service" "$u/default")
	echo "ExecStart: ${argv[*]}"
	if [ "${argv[1]}" != --interface ] || [ "${argv[2]}" != eth0 ]; then
		fail "ExecStart did not expand to --interface eth0: ${argv[*]}"
	fi

	socat -u "UNIX-RECV:$u/notify.sock" - >"$u/notify.log" 2>&1 &
	on_exit kill $!
	wait_for 10 test -S "$u/notify.sock" || fail "the notify socket did not appear"
	xlbd_stop TERM
	on_exit xlbd_start
	NOTIFY_SOCKET=$u/notify.sock nsenter --net="/run/netns/$(ns lb)" \
		"${argv[@]}" >"$u/xlbd.log" 2>&1 &
	pid=$!
	on_exit unit_kill "$pid"
	wait_for 30 notified 1 READY=1 || {
		tail -5 "$u/xlbd.log"
		fail "no READY=1 from xlbd"
	}
	# At READY=1, not some time after: it must already serve.
	uxlb status || fail "READY=1 came but xlb status does not answer"
	xdp_on lb || fail "READY=1 came but no XDP program is attached"
	uxlb vip show "$v1" >/dev/null || fail "READY=1 came before --config's VIP was applied"
	notified 1 "STATUS=serving 1 VIPs on eth0" || fail "no STATUS= line with the VIPs"

	unit_config "$u/xlb.json" "$v1" "$v2"
	run kill -HUP "$pid"
	wait_for 30 notified 2 READY=1 || fail "no READY=1 after SIGHUP"
	notified 1 RELOADING=1 || fail "no RELOADING=1 on SIGHUP"
	uxlb vip show "$v2" >/dev/null || fail "SIGHUP did not apply the VIP added to --config"

	dump=$(uxlb config dump)
	echo '{"vips": [{"vip": "198.19.0.9:80/tcp", "bogus": 1}]}' >"$u/xlb.json"
	run kill -HUP "$pid"
	wait_for 30 notified 3 READY=1 || fail "no READY=1 after a bad SIGHUP"
	notified 2 RELOADING=1 || fail "no RELOADING=1 on the second SIGHUP"
	grep "reload:" "$u/xlbd.log"
	grep -q "reload: $u/xlb.json: vips\[0\]: unknown key 'bogus'.*nothing changed" "$u/xlbd.log" ||
		fail "the bad config's error with its key path is not in the log"
	[ "$(uxlb config dump)" = "$dump" ] || fail "a bad config on SIGHUP changed the configuration"

	run kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "xlbd exited $rc on SIGTERM"
	notified 1 STOPPING=1 || fail "no STOPPING=1 on SIGTERM"

	# Without --config (the state file holds the VIPs now) SIGHUP has
	# nothing to re-read: it says so and changes nothing.
	echo 'XLBD_OPTS="--state-dir '"$u"'/state -s '"$u"'/xlbd.sock --metrics off"' >>"$u/default"
	mapfile -t argv < <(unit_argv "$ROOT/scripts/systemd/xlbd.service" "$u/default")
	NOTIFY_SOCKET=$u/notify.sock nsenter --net="/run/netns/$(ns lb)" \
		"${argv[@]}" >"$u/xlbd.log" 2>&1 &
	pid=$!
	on_exit unit_kill "$pid"
	wait_for 30 notified 4 READY=1 || fail "no READY=1 from xlbd without --config"
	run kill -HUP "$pid"
	wait_for 30 grep -q "nothing to re-read" "$u/xlbd.log" ||
		fail "SIGHUP without --config did not say there is nothing to re-read"
	notified 3 RELOADING=1 && fail "RELOADING=1 without a file to reload"
	[ "$(uxlb config dump)" = "$dump" ] || fail "SIGHUP without --config changed the configuration"
	run kill -TERM "$pid"
	wait "$pid" || fail "xlbd exited $? on SIGTERM"
	cat "$u/notify.log"
}

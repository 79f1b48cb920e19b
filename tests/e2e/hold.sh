# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
# Holds N HTTP/1.1 keep-alive connections to ADDR:PORT open and, for each
# line ROUND read on stdin, sends one request on every one of them:
#   bash hold.sh ADDR PORT N  <commands  >answers
# The first round ("open") opens the connections. Per round it prints
# "ROUND I bK" (backend K answered on connection I) or "ROUND I broken"
# (reset, closed, or no answer within the round's 30 s: a connection that
# moved to a backend that does not know it is reset), then "done ROUND".
# "quit" or end of input closes everything; "ports" sends nothing and
# prints "ports I PORT" (the client port of connection I, "-" if broken). Run in the client namespace
# by lib.sh; a broken path costs seconds, not minutes: after one failed
# connect no more are tried, and a round's answers share one deadline.
addr=$1 port=$2 n=$3
declare -a fds
# A write to a connection reset meanwhile must fail, not end us (printf
# writes a request in several pieces, and a reset can come in between).
trap '' PIPE

# Seconds left until the round's deadline, as "S.UUUUUU" (0.01 at least).
left() {
	local us=$((deadline - ${EPOCHREALTIME/./}))

	[ "$us" -lt 10000 ] && us=10000
	printf '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

# The body of the answer on fd, after its status line and headers.
answer() {
	local fd=$1 line

	read -r -t "$(left)" -u "$fd" line || return 1
	case $line in
	"HTTP/1.1 200"*) ;;
	*) return 1 ;;
	esac
	# A read that times out has consumed part of a line: the connection
	# is out of step from then on, so it is broken, never half-read.
	while :; do
		read -r -t "$(left)" -u "$fd" line || return 1
		[ "${line%$'\r'}" = "" ] && break
	done
	read -r -t "$(left)" -u "$fd" line || return 1
	echo "$line"
}

broken() {
	local fd=${fds[$1]}

	[ "$fd" = broken ] || exec {fd}>&-
	fds[$1]=broken
}

# port_of FD: the local port of the TCP socket on FD, from /proc/net/tcp*
# (this namespace's).
port_of() {
	local ino sl laddr rest i

	ino=$(readlink "/proc/$$/fd/$1") || return 1
	ino=${ino#socket:[}
	ino=${ino%]}
	# shellcheck disable=SC2034 # the columns before the inode
	while read -r sl laddr rest; do
		read -r -a i <<<"$rest"
		[ "${i[7]}" = "$ino" ] && { echo $((16#${laddr##*:})); return 0; }
	done < <(cat /proc/net/tcp /proc/net/tcp6)
	return 1
}

while read -r round; do
	[ "$round" = quit ] && break
	if [ "$round" = ports ]; then
		for ((i = 0; i < n; i++)); do
			p=-
			[ "${fds[i]}" != broken ] && p=$(port_of "${fds[i]}")
			echo "ports $i ${p:--}"
		done
		echo "done ports"
		continue
	fi
	if [ "$round" = open ]; then
		for ((i = 0; i < n; i++)); do
			fds[i]=broken
			[ "$i" -gt 0 ] && [ "${fds[i - 1]}" = broken ] && continue
			exec {fd}<>"/dev/tcp/$addr/$port" && fds[i]=$fd
		done
	fi
	for ((i = 0; i < n; i++)); do
		[ "${fds[i]}" = broken ] && continue
		printf 'GET / HTTP/1.1\r\nHost: xlb\r\n\r\n' >&"${fds[i]}" ||
			broken "$i"
	done 2>/dev/null
	deadline=$((${EPOCHREALTIME/./} + 30000000))
	for ((i = 0; i < n; i++)); do
		if [ "${fds[i]}" != broken ] && b=$(answer "${fds[i]}"); then
			echo "$round $i $b"
		else
			echo "$round $i broken"
			broken "$i"
		fi
	done
	echo "done $round"
done

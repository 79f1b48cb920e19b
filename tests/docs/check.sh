#!/usr/bin/env bash
# The manuals against the programs: every object, command and option the
# programs' own help prints, and every key the field tables and the
# config writer know, must be in the manual that documents it; the
# pages must render without a warning; the example config must load
# with xlbd's own reader. Nothing is listed here: what is checked is read
# from the built programs (build/bin) and tests/docs/schema_dump, so a
# new option or key without its documentation fails.
#   tests/docs/check.sh        one PASS/FAIL line per check, then
#                              "N passed, N failed"
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/bin
MAN=$BUILD/man
DUMP=$BUILD/tests/schema_dump
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

# A page as text, one paragraph head per line: wide, no hyphenation, no
# overstrike, so a word is found whole.
render() {
	groff -man -Tascii -P-cbou -rLL=400n -rHY=0 "$1" 2>/dev/null
}

# missing_in FILE WORD...: the words FILE lacks, space-separated; a word
# is found whole, not as part of a longer option or key. One awk for
# the lot: the suite runs beside others on a busy machine.
missing_in() {
	local f=$1
	shift
	awk -v words="$*" '
		{ text = text "\n" $0 }
		END {
			n = split(words, w, " ")
			for (i = 1; i <= n; i++)
				if (!whole(text, w[i]))
					out = out " " w[i]
			print substr(out, 2)
		}
		function whole(s, x,    p, before, after, prev) {
			prev = ""
			while ((p = index(s, x)) > 0) {
				before = p > 1 ? substr(s, p - 1, 1) : prev
				after = substr(s, p + length(x), 1)
				if (before !~ /[A-Za-z0-9_-]/ &&
				    after !~ /[A-Za-z0-9_-]/)
					return 1
				prev = substr(s, p, 1)
				s = substr(s, p + 1)
			}
			return 0
		}' "$f"
}

# check NAME FILE WORD...: one line for the lot.
check() {
	local name=$1 f=$2 miss
	shift 2
	if [ $# -eq 0 ]; then
		fail "$name" "nothing to check (help text not parsed)"
		return
	fi
	miss=$(missing_in "$f" "$@")
	if [ -z "$miss" ]; then
		pass "$name ($# words)"
	else
		fail "$name" "missing: $miss"
	fi
}

# Options (long, and short ones as "-x") of a help text on stdin.
options_of() {
	grep -oE -- '(^|[^A-Za-z0-9_-])--?[a-z][a-z0-9-]*' |
		sed -E 's/^[^-]*//' | sort -u
}

for p in "$BIN/xlb" "$BIN/xlbd" "$BIN/xlb-agent" "$DUMP"; do
	if [ ! -x "$p" ]; then
		fail "built" "$p is missing: run make all"
		echo "$passed passed, $failed failed"
		exit 1
	fi
done

# ---- the pages exist and render ------------------------------------------
for page in xlb.8 xlbd.8 xlb-agent.8 xlb.json.5; do
	if [ ! -s "$MAN/$page" ]; then
		fail "page $page" "$MAN/$page was not built (make man)"
		continue
	fi
	render "$MAN/$page" >"$tmp/$page.txt"
	warn=$(groff -man -z -ww "$MAN/$page" 2>&1)
	if [ -n "$warn" ]; then
		fail "render $page" "groff: $(echo "$warn" | head -3 | tr '\n' ' ')"
	elif ! man -l "$MAN/$page" 2>"$tmp/man.err" >/dev/null ||
		[ -s "$tmp/man.err" ]; then
		fail "render $page" "man -l: $(head -3 "$tmp/man.err")"
	else
		pass "render $page"
	fi
done
X8=$tmp/xlb.8.txt XD8=$tmp/xlbd.8.txt XA8=$tmp/xlb-agent.8.txt
XJ5=$tmp/xlb.json.5.txt
touch "$X8" "$XD8" "$XA8" "$XJ5"

# ---- xlb: objects, commands, options -------------------------------------
"$BIN/xlb" help >"$tmp/xlb.help" 2>&1
# OBJECT := { vip | backend | ... } may run over several lines.
objects=$(sed -n '/^OBJECT :=/,/}/p' "$tmp/xlb.help" |
	sed 's/OBJECT :=//' | tr -c 'a-z\n' ' ' | tr ' ' '\n' | grep . | sort -u)
# shellcheck disable=SC2086
check "xlb.8 objects" "$X8" $objects
# shellcheck disable=SC2046
check "xlb.8 global options" "$X8" $(options_of <"$tmp/xlb.help")

for o in $objects; do
	if ! "$BIN/xlb" "$o" help >"$tmp/$o.help" 2>&1; then
		fail "xlb $o help" "exit status $?"
		continue
	fi
	# Its commands: the lowercase words of its usage lines, each on a
	# line of the page that names "xlb OBJECT" (aliases included).
	words=$(grep -E "^(Usage: |       )xlb $o( |$)" "$tmp/$o.help" |
		sed -E "s/^.*xlb $o//" | sed -E 's/--?[a-z][a-z-]*//g' |
		tr -c 'a-z\n' ' ' | tr ' ' '\n' | grep -E '^[a-z]+$' | sort -u)
	grep -E "xlb $o( |$)" "$X8" >"$tmp/$o.lines"
	# shellcheck disable=SC2086
	miss=$(missing_in "$tmp/$o.lines" $words)
	if [ -z "$words" ]; then
		fail "xlb.8 $o commands" "no usage line parsed"
	elif [ -n "$miss" ]; then
		fail "xlb.8 $o commands" "missing: $miss"
	else
		pass "xlb.8 $o commands ($(echo "$words" | wc -w) words)"
	fi
	opts=$(options_of <"$tmp/$o.help")
	if [ -n "$opts" ]; then
		# shellcheck disable=SC2086
		check "xlb.8 $o options" "$X8" $opts
	fi
done

# The options the field tables make (xlb's help prints them too, but
# the tables are the source).
"$DUMP" >"$tmp/schema.tsv"
# shellcheck disable=SC2046
check "xlb.8 schema options" "$X8" $(cut -f3 "$tmp/schema.tsv" |
	tr '|' '\n' | grep . | sed 's/^/--/' | sort -u)

# ---- xlbd and xlb-agent ----------------------------------------------------
# shellcheck disable=SC2046
check "xlbd.8 options" "$XD8" $("$BIN/xlbd" --help 2>&1 | options_of)
# shellcheck disable=SC2046
check "xlb-agent.8 options" "$XA8" $("$BIN/xlb-agent" --help 2>&1 | options_of)
# The agent's config keys: the lists its reader accepts (only_keys and
# the metrics a profile weighs), from its source.
# shellcheck disable=SC2046
check "xlb-agent.8 config keys" "$XA8" $(awk \
	'/(keys|metric_keys)\[\] = \{/,/NULL\};/' user/agent/config.c |
	grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)

# The signals each program handles: those its event loop blocks to
# read them (sigaddset(&mask, SIG...)), from its source.
signals_of() {
	grep -ohE 'sigaddset\(&mask, SIG[A-Z0-9]+' "$@" | grep -oE 'SIG[A-Z0-9]+' |
		sort -u
}
# shellcheck disable=SC2046
check "xlbd.8 signals" "$XD8" $(signals_of user/xlbd/*.c)
# shellcheck disable=SC2046
check "xlb-agent.8 signals" "$XA8" $(signals_of user/agent/*.c)

# ---- xlb.json.5: every key of every table, every key the writer writes ----
for obj in $(cut -f1 "$tmp/schema.tsv" | sort -u); do
	# shellcheck disable=SC2046
	check "xlb.json.5 $obj keys" "$XJ5" $(awk -F'\t' -v o="$obj" \
		'$1 == o { print $2 }' "$tmp/schema.tsv")
done
# Each key as a paragraph head "key (type...", not only in passing.
sed -nE 's/^ *([a-z_0-9]+) \(.*/\1/p' "$XJ5" >"$tmp/entries"
# shellcheck disable=SC2046
miss=$(missing_in "$tmp/entries" $(cut -f2 "$tmp/schema.tsv" | sort -u))
if [ -z "$miss" ]; then
	pass "xlb.json.5 key entries"
else
	fail "xlb.json.5 key entries" "no entry for: $miss"
fi
# Top level and nested keys (global, vips, backends, check, agent...).
# shellcheck disable=SC2046
check "xlb.json.5 document keys" "$XJ5" $("$DUMP" --keys |
	sed -E 's/.*\.//; s/\[\]//g' | sort -u)

# ---- the example config ----------------------------------------------------
if out=$("$DUMP" --check scripts/examples/xlb.json 2>&1); then
	pass "example loads ($out)"
else
	fail "example loads" "$out"
fi
# It is the page's example, and shows every key of the tables but ids.
if grep -qF '"flap_hold_ms": 30000' "$XJ5" &&
	grep -qF "$(grep -m1 '"vip"' scripts/examples/xlb.json | tr -d '\t ')" \
		<(tr -d ' ' <"$XJ5"); then
	pass "example in xlb.json.5"
else
	fail "example in xlb.json.5" "scripts/examples/xlb.json not included"
fi
# Column 7 is the default, empty for ids (the maps give them).
grep -oE '"[a-z_0-9]+":' scripts/examples/xlb.json | tr -d '":' >"$tmp/ex.keys"
# shellcheck disable=SC2046
miss=$(missing_in "$tmp/ex.keys" $(awk -F'\t' '$7 != "" { print $2 }' \
	"$tmp/schema.tsv" | sort -u))
if [ -z "$miss" ]; then
	pass "example shows every key"
else
	fail "example shows every key" "missing: $miss"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Runs xlb's test suites and adds their results into one closing line,
# "N passed, N failed[, N skipped]". Exit 0 only when nothing failed.
#   tests/run.sh [all|unit|bpf|fuzz|e2e]
# Each suite prints its own summary; a suite that crashes or prints none
# counts as one failure, so a broken runner can never look green.
set -u
BUILD=${BUILD:-build}
what=${1:-all}
passed=0 failed=0 skipped=0

# Adds the "N passed, N failed[, N skipped]" line of a suite's output.
add_plain() {
	local out=$1 line
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
	if [ -z "$line" ]; then
		return 1
	fi
	line=${line#*: }
	set -- $(echo "$line" | tr -cs '0-9' ' ')
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + ${3:-0}))
}

# cmocka closes with "[  PASSED  ] N test(s)." and maybe "[  FAILED  ] N".
add_cmocka() {
	local out=$1 p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	[ -n "$p" ] || [ -n "$f" ] || return 1
	passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
}

run_suite() {
	local name=$1 kind=$2
	shift 2
	local out rc
	out=$(mktemp)
	echo "== $name"
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	if ! "add_$kind" "$out"; then
		echo "$name: no summary line (exit $rc): counted as 1 failure"
		failed=$((failed + 1))
	elif [ $rc -ne 0 ] && ! grep -qE '[1-9][0-9]* failed|FAILED' "$out"; then
		echo "$name: exit $rc with no failure reported: counted as 1 failure"
		failed=$((failed + 1))
	fi
	rm -f "$out"
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		run_suite "unit/$(basename "$t")" cmocka "$t"
	done
fi
if [ "$what" = all ] || [ "$what" = bpf ]; then
	run_suite "bpf/golden" plain "$BUILD/tests/golden"
fi
if [ "$what" = all ] || [ "$what" = fuzz ]; then
	# A fast subset with a fixed seed; `make fuzz` runs the full corpus.
	run_suite "fuzz" plain "$BUILD/tests/fuzz" --seed 1 --count 20000
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
	if [ -x tests/e2e/run.sh ]; then
		run_suite "e2e" plain tests/e2e/run.sh
	fi
fi

echo
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]

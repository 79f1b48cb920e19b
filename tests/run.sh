#!/usr/bin/env bash
# Runs xlb's test suites and adds their results into one closing line,
# "N passed, N failed[, N skipped]". Exit 0 only when nothing failed.
#   tests/run.sh [all|unit|bpf|fuzz|docs|e2e]     V=1 shows every case
# Prints one line per suite with its counts and time, and the failures as
# they happen. A suite that crashes or prints no summary of its own counts
# as one failure, so a broken runner can never look green.
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

# What a suite prints that is worth showing without V=1: a plain suite's
# lines but those of cases that passed and its summary; cmocka's failures.
quiet_plain() {
	grep --line-buffered -vE '^PASS |^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed'
}

quiet_cmocka() {
	grep --line-buffered -E '^\[ *(ERROR|LINE|FAILED|SKIPPED) *\]'
}

# run_suite NAME KIND CMD...: runs one suite, streaming its failures (all
# its output with V=1) as they come, then one line: the suite's counts
# and how long it took.
run_suite() {
	local name=$1 kind=$2
	shift 2
	local out rc t0 line
	out=$(mktemp)
	t0=$(date +%s%N)
	if [ "${V:-0}" = 1 ]; then
		echo "== $name"
		"$@" 2>&1 | tee "$out"
	else
		"$@" 2>&1 | tee "$out" | "quiet_$kind"
	fi
	rc=${PIPESTATUS[0]}
	local p0=$passed f0=$failed s0=$skipped
	if ! "add_$kind" "$out"; then
		echo "$name: no summary line (exit $rc): counted as 1 failure"
		failed=$((failed + 1))
	elif [ $rc -ne 0 ] && ! grep -qE '[1-9][0-9]* failed|FAILED' "$out"; then
		echo "$name: exit $rc with no failure reported: counted as 1 failure"
		failed=$((failed + 1))
	fi
	line="$((passed - p0)) passed, $((failed - f0)) failed"
	[ $((skipped - s0)) -gt 0 ] && line="$line, $((skipped - s0)) skipped"
	printf '%-22s %s (%d.%01d s)\n' "$name" "$line" \
		$((($(date +%s%N) - t0) / 1000000000)) \
		$((($(date +%s%N) - t0) / 100000000 % 10))
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
if [ "$what" = all ] || [ "$what" = docs ]; then
	# The manuals against the programs' help and the field tables.
	run_suite "docs" plain tests/docs/check.sh
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
	if [ -x tests/e2e/run.sh ]; then
		run_suite "e2e" plain tests/e2e/run.sh
	fi
	# The example BIRD configs, in namespaces of their own.
	run_suite "e2e/bird_configs" plain tests/e2e/bird_configs.sh
	# The Debian package installed and purged in a throwaway overlay.
	run_suite "e2e/deb" plain tests/e2e/deb.sh
	# Several balancers as one: BIRD, ECMP, etcd, four xlbd members.
	run_suite "e2e/cluster" plain tests/e2e/cluster.sh
fi

echo
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]

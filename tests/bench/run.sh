#!/usr/bin/env bash
# make bench: runs the benchmark binary and leaves its figures in
# $BUILD/bench/datapath.json and their picture in $BUILD/bench/bench.svg
# (tests/bench/plot.sh). Benchmarks print figures and never fail on time;
# the exit status is the binary's (1: a scenario did not take the path it
# measures, 2: usage): a picture that cannot be drawn (no gnuplot) is
# said, not failed. Arguments go to the binary, e.g.
#   tests/bench/run.sh tcp_flow_hit decap
# and XLB_BENCH_PACKETS / XLB_BENCH_REPS / XLB_BENCH_BUILDS / XLB_BENCH_CPU
# shorten or steer a run.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
json=$BUILD/bench/datapath.json
mkdir -p "$BUILD/bench"
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
rc=0
"$BUILD/tests/bench" -o "$json" "$@" || rc=$?
# Only figures this run wrote (not after -l or -h, nor a failed run's).
if [ $rc -eq 0 ] && [ "$json" -nt "$stamp" ]; then
	tests/bench/plot.sh "$json" "$BUILD/bench/bench.svg" ||
		echo "bench: no picture (see above); the figures are in $json"
fi
exit $rc

#!/usr/bin/env bash
# make bench: runs the benchmark binary and leaves its figures in
# $BUILD/bench/datapath.json. Benchmarks print figures and never fail on
# time; the exit status is the binary's (1: a scenario did not take the
# path it measures, 2: usage). Arguments go to the binary, e.g.
#   tests/bench/run.sh tcp_flow_hit decap
# and XLB_BENCH_PACKETS / XLB_BENCH_REPS / XLB_BENCH_BUILDS / XLB_BENCH_CPU
# shorten or steer a run.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
mkdir -p "$BUILD/bench"
exec "$BUILD/tests/bench" -o "$BUILD/bench/datapath.json" "$@"

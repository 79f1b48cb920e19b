#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# The data-path figures of a bench run as a picture: per scenario, the
# median ns per packet beside its floor (the same harness and frame
# without the balancer), and the ratio of the two, which is the figure
# that compares across machines. Reads the JSON the bench binary writes
# (not its printed table), draws with gnuplot.
#   tests/bench/plot.sh [DATAPATH.json [OUT.svg]]
#       default: $BUILD/bench/datapath.json -> $BUILD/bench/bench.svg
# Without gnuplot or jq it draws nothing, says why, and exits 0: the
# figures are in the JSON and on the terminal anyway. Exits 1 when the
# JSON has no data-path scenario or gnuplot fails.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
in=${1:-$BUILD/bench/datapath.json}
out=${2:-$BUILD/bench/bench.svg}

for t in gnuplot jq; do
	if ! command -v "$t" >/dev/null; then
		echo "bench: no picture: $t is not installed (make deps installs it)"
		exit 0
	fi
done
[ -r "$in" ] || {
	echo "bench: no picture: cannot read $in" >&2
	exit 1
}

dat=$(mktemp)
trap 'rm -f "$dat" "$out.tmp"' EXIT
# Scenario, ns/packet, floor ns, ratio: the rows that have all three
# (memory, scaling and build rows measure something else).
jq -r '.[] | select(.ns_per_packet and .floor_ns and .ratio_to_floor) |
	[.scenario, .ns_per_packet, .floor_ns, .ratio_to_floor] | @tsv' \
	"$in" >"$dat"
[ -s "$dat" ] || {
	echo "bench: no picture: no data-path scenario in $in" >&2
	exit 1
}

# What the figures were measured on, for the title.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr -s ' ')
title="xlb make bench, $(date -r "$in" '+%Y-%m-%d %H:%M')${cpu:+, $cpu}, kernel $(uname -r)"

# Written to OUT.tmp and renamed: a reader never sees half a picture.
gnuplot <<-EOF
	set terminal svg size 1000,760 dynamic noenhanced font 'sans,11' background rgb 'white'
	set output '$out.tmp'
	set datafile separator '\t'
	set multiplot layout 2,1 title '${title//\'/}'
	set style fill solid 0.85 noborder
	set grid ytics lc rgb '#dddddd'
	set border 3
	set xtics nomirror rotate by -25 scale 0
	set ytics nomirror
	set yrange [0:*]
	set offsets 0.5, 0.5, graph 0.12, 0
	set key top left

	set ylabel 'ns per packet (median)'
	plot '$dat' using (\$0 - 0.2):2:(0.4) with boxes lc rgb '#3465a4' title 'balancer', \
		'' using (\$0 + 0.2):3:(0.4) with boxes lc rgb '#babdb6' title 'floor (harness alone)', \
		'' using (\$0 - 0.2):2:(sprintf('%.0f', \$2)) with labels offset 0, 0.6 font ',9' notitle, \
		'' using 0:(NaN):xtic(1) notitle

	set ylabel 'ratio to floor'
	plot '$dat' using 0:4:(0.6) with boxes lc rgb '#f57900' title 'ns per packet / floor ns', \
		'' using 0:4:(sprintf('%.1f', \$4)) with labels offset 0, 0.6 font ',9' notitle, \
		'' using 0:(NaN):xtic(1) notitle
	unset multiplot
EOF
mv "$out.tmp" "$out"
echo "bench: picture of $(wc -l <"$dat") scenarios in $out"

#!/bin/bash
# converge.sh — start -> everything up, memory and idle cost of cgwd, of
# Libreswan 4.10 + FRR 8.4 and of strongSwan 5.9 + BIRD 2 in its place,
# against the same emulated AWS side. One VM boot (tests/vm/vm-run.sh) runs
# bench/converge-vm.sh, which runs the lab (lab/lab.sh with
# CGW_LAB_MEASURE=1) with each gateway in turn, CGW_BENCH_RUNS times each
# (default 3), interleaved.
#
#   sudo bench/converge.sh                        # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_RUNS=5 bench/converge.sh
#
# Prints the VM's console (each run's key lines, then a table: median,
# min, max and the ratios baseline/cgwd) and writes the results to
# bench/results-converge.json (CGW_BENCH_OUT to change that). Libreswan is
# fetched into the VM cache on the host first (tests/vm/prepare-libreswan.sh);
# FRR, strongSwan and BIRD come from the host (the VM sees its /). Exit
# status: vm-run.sh's (0 = measured), 1 when no results came back. See
# bench/README.md.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
OUT=${CGW_BENCH_OUT:-$BENCH_DIR/results-converge.json}
export CGW_BUILD_DIR=${CGW_BUILD_DIR:-$SRC_DIR/build}
# Under TCG a run takes 1.5-3 min: 9 runs, with room for a loaded host.
export CGW_VM_TIMEOUT=${CGW_VM_TIMEOUT:-3600}

[[ $EUID -eq 0 ]] || { echo "converge.sh: run as root (the VM harness needs it)" >&2; exit 1; }
[[ -x $CGW_BUILD_DIR/daemon/cgwd ]] ||
	{ echo "converge.sh: no $CGW_BUILD_DIR/daemon/cgwd: build first or set CGW_BUILD_DIR" >&2; exit 1; }
for b in /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh bird swanctl; do
	command -v "$b" >/dev/null ||
		{ echo "converge.sh: missing $b (apt-get install frr bird2 strongswan-swanctl)" >&2; exit 1; }
done

CGW_REQUIRE_LIBRESWAN=1 bash "$SRC_DIR/tests/vm/prepare-libreswan.sh"

log=$(mktemp "${TMPDIR:-/tmp}/cgw-bench.XXXXXX")
trap 'rm -f "$log"' EXIT
rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$EPOCHREALTIME
st=0
(cd "$SRC_DIR" && bash tests/vm/vm-run.sh bench/converge-vm.sh) 2>&1 | tee "$log" || st=${PIPESTATUS[0]}
json=$(sed -n 's/^CGW-BENCH-JSON //p' "$log" | tail -n1)
if [[ -z $json ]]; then
	echo "converge.sh: no results (status $st)" >&2
	exit 1
fi
wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
jq --argjson wall "$wall" --arg rev "$rev" --arg l0 "$load0" \
	--arg l1 "$(cut -d' ' -f1-3 /proc/loadavg)" --arg build "$CGW_BUILD_DIR" \
	'. + {source: $rev, build_dir: $build, wall_clock_s: $wall,
	      host_loadavg: {before: $l0, after: $l1}}' <<<"$json" >"$OUT"
echo "converge.sh: results in $OUT (whole benchmark ${wall} s, VM boot included)"
exit "$st"

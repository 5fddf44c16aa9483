#!/bin/bash
# rekey-loss.sh — packets lost per CHILD SA rekey, and the time from a
# blackholed path to "peer dead" and from its return to "tunnel up", for
# cgwd and for Libreswan 4.10 in its place, each against the same AWS-like
# strongSwan peer. One VM boot (tests/vm/vm-run.sh) runs
# bench/rekey-loss-vm.sh, which measures cgwd, then Libreswan.
#
#   sudo bench/rekey-loss.sh                      # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_REKEYS=20 bench/rekey-loss.sh
#
# Prints the VM's console (per-phase lines, then a table) and writes the
# results to bench/results-rekey-loss.json (CGW_BENCH_OUT to change that).
# Libreswan is fetched into the VM cache on the host first
# (tests/vm/prepare-libreswan.sh). Exit status: vm-run.sh's (0 = measured
# and cgwd lost nothing), 1 when no results came back. See bench/README.md.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
OUT=${CGW_BENCH_OUT:-$BENCH_DIR/results-rekey-loss.json}
export CGW_BUILD_DIR=${CGW_BUILD_DIR:-$SRC_DIR/build}
export CGW_VM_TIMEOUT=${CGW_VM_TIMEOUT:-1200}

[[ $EUID -eq 0 ]] || { echo "rekey-loss.sh: run as root (the VM harness needs it)" >&2; exit 1; }
[[ -x $CGW_BUILD_DIR/daemon/cgwd ]] ||
	{ echo "rekey-loss.sh: no $CGW_BUILD_DIR/daemon/cgwd: build first or set CGW_BUILD_DIR" >&2; exit 1; }

CGW_REQUIRE_LIBRESWAN=1 bash "$SRC_DIR/tests/vm/prepare-libreswan.sh"

log=$(mktemp "${TMPDIR:-/tmp}/cgw-bench.XXXXXX")
trap 'rm -f "$log"' EXIT
rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$EPOCHREALTIME
st=0
(cd "$SRC_DIR" && bash tests/vm/vm-run.sh bench/rekey-loss-vm.sh) 2>&1 | tee "$log" || st=${PIPESTATUS[0]}
json=$(sed -n 's/^CGW-BENCH-JSON //p' "$log" | tail -n1)
if [[ -z $json ]]; then
	echo "rekey-loss.sh: no results (status $st)" >&2
	exit 1
fi
wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
if command -v jq >/dev/null; then
	jq --argjson wall "$wall" --arg rev "$rev" --arg l0 "$load0" \
		--arg l1 "$(cut -d' ' -f1-3 /proc/loadavg)" --arg build "$CGW_BUILD_DIR" \
		'. + {source: $rev, build_dir: $build, wall_clock_s: $wall,
		      host_loadavg: {before: $l0, after: $l1}}' <<<"$json" >"$OUT"
else
	printf '%s\n' "$json" >"$OUT"
fi
echo "rekey-loss.sh: results in $OUT (whole benchmark ${wall} s, VM boot included)"
exit "$st"

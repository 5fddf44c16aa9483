#!/bin/bash
# handshake-cost.sh — CPU instructions per IKE handshake on the responder
# (callgrind), cgwd against strongSwan's charon and Libreswan's pluto, all
# answering the same scripted strongSwan initiator. One VM boot
# (tests/vm/vm-run.sh) runs bench/handshake-cost-vm.sh.
#
#   sudo bench/handshake-cost.sh                  # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_HANDSHAKES=20 bench/handshake-cost.sh
#
# Prints the VM's console (a table: Ir with 0 and K handshakes, Ir per
# handshake, the ratio to cgwd) and writes bench/results-handshake-cost.json
# (CGW_BENCH_OUT to change that). Needs valgrind on the host (the VM sees
# its /); Libreswan is fetched into the VM cache first
# (tests/vm/prepare-libreswan.sh). See bench/README.md.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
OUT=${CGW_BENCH_OUT:-$BENCH_DIR/results-handshake-cost.json}
export CGW_BUILD_DIR=${CGW_BUILD_DIR:-$SRC_DIR/build}
export CGW_VM_TIMEOUT=${CGW_VM_TIMEOUT:-3600}

[[ $EUID -eq 0 ]] || { echo "handshake-cost.sh: run as root (the VM harness needs it)" >&2; exit 1; }
[[ -x $CGW_BUILD_DIR/daemon/cgwd ]] ||
	{ echo "handshake-cost.sh: no $CGW_BUILD_DIR/daemon/cgwd: build first or set CGW_BUILD_DIR" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "handshake-cost.sh: missing valgrind (apt-get install valgrind)" >&2; exit 1; }

CGW_REQUIRE_LIBRESWAN=1 bash "$SRC_DIR/tests/vm/prepare-libreswan.sh"

log=$(mktemp "${TMPDIR:-/tmp}/cgw-bench.XXXXXX")
trap 'rm -f "$log"' EXIT
rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
t0=$EPOCHREALTIME
st=0
(cd "$SRC_DIR" && bash tests/vm/vm-run.sh bench/handshake-cost-vm.sh) 2>&1 | tee "$log" || st=${PIPESTATUS[0]}
json=$(sed -n 's/^CGW-BENCH-JSON //p' "$log" | tail -n1)
if [[ -z $json ]]; then
	echo "handshake-cost.sh: no results (status $st)" >&2
	exit 1
fi
wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
jq --argjson wall "$wall" --arg rev "$rev" --arg build "$CGW_BUILD_DIR" \
	'. + {source: $rev, build_dir: $build, wall_clock_s: $wall}' <<<"$json" >"$OUT"
echo "handshake-cost.sh: results in $OUT (whole benchmark ${wall} s, VM boot included)"
exit "$st"

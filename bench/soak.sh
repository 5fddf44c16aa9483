#!/bin/bash
# soak.sh — an hour of accelerated lifetimes under traffic (issue #6): the
# lab (lab/lab.sh: cgwd against strongSwan 5.9.8 + BIRD 2 as the AWS side,
# two tunnels with BGP) with bench/soak-lab.sh as its CGW_LAB_RUN hook:
# a CHILD rekey every 30 s on each tunnel, an IKE rekey every 10 min, a
# ~20/s ping and an iperf3 stream lan -> vpc, cgwd's RSS, fds and CPU
# sampled every minute; cgwd is an ASan + UBSan build (4 MB quarantine), stopped at the end
# so that LeakSanitizer runs. One VM boot (tests/vm/vm-run.sh).
#
#   sudo CGW_BUILD_DIR=/work/main/build-asan bench/soak.sh      # an hour
#   sudo CGW_SOAK_SECONDS=180 CGW_BUILD_DIR=... bench/soak.sh  # a try
#
# Environment: CGW_BUILD_DIR (a build with -Db_sanitize=address,undefined
# -Db_lundef=false; default build-asan), CGW_SOAK_SECONDS (3600) and the
# other CGW_SOAK_* of bench/soak-lab.sh, CGW_BENCH_OUT (results file,
# default bench/results-soak.json), the VM harness's CGW_VM_* (timeout:
# the soak plus 30 min). Prints the VM's console; writes the
# CGW-SOAK-RESULT line (with the host's load and the source revision) as
# one JSON line. Exit status: the soak's (0 = every criterion held), 1
# when no result came back.
#
# In the VM: soak.sh --in-vm runs the lab with the hook.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")

in_vm() {
	# Small quarantine: ASan's default (256 MB) would grow the RSS for the
	# whole hour and hide a real leak's slope; 4 MB (full within minutes:
	# the rekeys free ~0.75 MB a minute) still catches a use after free of
	# what was freed in the last few minutes.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=4:malloc_context_size=20}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	CGW_LAB_RUN=$BENCH_DIR/soak-lab.sh CGW_LAB_REKEYS=0 CGW_LAB_EXPECT=up \
		CGW_LAB_GATEWAY=cgwd CGW_LAB_STATE=/run/cgwb-soak CGW_LAB_PREFIX=cgwbs- \
		CGW_LAB_HOLD=0 CGW_LAB_LOGS="" \
		exec bash "$SRC_DIR/lab/lab.sh"
}

host() {
	local out=${CGW_BENCH_OUT:-$BENCH_DIR/results-soak.json}
	local secs=${CGW_SOAK_SECONDS:-3600}
	export CGW_BUILD_DIR=${CGW_BUILD_DIR:-$SRC_DIR/build-asan}
	export CGW_SOAK_SECONDS=$secs
	# ASan's quarantine (4 MB, see in_vm) fills in the first minutes: RSS
	# growth counts from the 10th minute on an hour's run.
	export CGW_SOAK_WARMUP=${CGW_SOAK_WARMUP:-$((secs >= 1800 ? 600 : secs / 4))}
	export CGW_VM_TIMEOUT=${CGW_VM_TIMEOUT:-$((secs + 1800))}
	export CGW_SCENARIO_TIMEOUT=$CGW_VM_TIMEOUT
	[[ $EUID -eq 0 ]] || { echo "soak.sh: run as root (the VM harness needs it)" >&2; exit 1; }
	[[ -x $CGW_BUILD_DIR/daemon/cgwd ]] ||
		{ echo "soak.sh: no $CGW_BUILD_DIR/daemon/cgwd: build first or set CGW_BUILD_DIR" >&2; exit 1; }
	command -v iperf3 >/dev/null || { echo "soak.sh: missing iperf3 (apt-get install iperf3)" >&2; exit 1; }
	local log rev load0 t0 st=0 json wall
	log=$(mktemp "${TMPDIR:-/tmp}/cgw-soak.XXXXXX")
	trap 'rm -f "$log"' EXIT
	rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$EPOCHREALTIME
	(cd "$SRC_DIR" && bash tests/vm/vm-run.sh bench/soak.sh --in-vm) 2>&1 | tee "$log" || st=${PIPESTATUS[0]}
	json=$(sed -n 's/^CGW-SOAK-RESULT //p' "$log" | tail -n1 | tr -d '\r')
	if [[ -z $json ]]; then
		echo "soak.sh: no result (status $st)" >&2
		exit 1
	fi
	wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
	jq -c --argjson wall "$wall" --arg rev "$rev" --arg l0 "$load0" \
		--arg l1 "$(cut -d' ' -f1-3 /proc/loadavg)" --arg build "$CGW_BUILD_DIR" \
		--arg smp "${CGW_VM_SMP:-2}" --argjson st "$st" \
		'. + {source: $rev, build_dir: $build, vm_smp: $smp, exit_status: $st,
		      wall_clock_s: $wall, host_loadavg: {before: $l0, after: $l1}}' <<<"$json" >"$out"
	echo "soak.sh: results in $out (status $st, ${wall} s with the VM boot)"
	exit "$st"
}

if [[ ${1:-} == --in-vm ]]; then
	in_vm
else
	host
fi

# bench/lib.sh — the host side every VM benchmark shares (sourced by
# bench/converge.sh, bgp-failover.sh, rekey-loss.sh, tunnel-up.sh and
# handshake-cost.sh): check what the run needs, fetch Libreswan into the
# VM cache, boot the VM once for the benchmark's -vm.sh script, and save
# the CGW-BENCH-JSON line it prints with what was measured (source
# revision, build) and how busy the host was (TCG shares its CPUs).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
export CGW_BUILD_DIR=${CGW_BUILD_DIR:-$SRC_DIR/build}

# bench_vm NAME VM_TIMEOUT [COMMAND...]: run bench/NAME-vm.sh in the VM
# (CGW_VM_TIMEOUT defaults to VM_TIMEOUT seconds) after checking that we
# are root, cgwd is built and each COMMAND is installed; write the results
# to CGW_BENCH_OUT (default bench/results-NAME.json). Exits with the
# VM's status (0 = measured), or 1 when no results came back.
bench_vm() {
	local name=$1 timeout=$2 out log rev load0 t0 st=0 json wall b
	shift 2
	out=${CGW_BENCH_OUT:-$BENCH_DIR/results-$name.json}
	export CGW_VM_TIMEOUT=${CGW_VM_TIMEOUT:-$timeout}

	[[ $EUID -eq 0 ]] || { echo "$name.sh: run as root (the VM harness needs it)" >&2; exit 1; }
	[[ -x $CGW_BUILD_DIR/daemon/cgwd ]] ||
		{ echo "$name.sh: no $CGW_BUILD_DIR/daemon/cgwd: build first or set CGW_BUILD_DIR" >&2; exit 1; }
	for b in jq "$@"; do
		command -v "$b" >/dev/null ||
			{ echo "$name.sh: missing $b (apt-get install \$(grep -hv '^#' tests/vm/packages.txt lab/packages.txt))" >&2; exit 1; }
	done
	CGW_REQUIRE_LIBRESWAN=1 bash "$SRC_DIR/tests/vm/prepare-libreswan.sh"

	log=$(mktemp "${TMPDIR:-/tmp}/cgw-bench.XXXXXX")
	trap 'rm -f "$log"' EXIT
	rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$EPOCHREALTIME
	(cd "$SRC_DIR" && bash tests/vm/vm-run.sh "bench/$name-vm.sh") 2>&1 | tee "$log" ||
		st=${PIPESTATUS[0]}
	json=$(sed -n 's/^CGW-BENCH-JSON //p' "$log" | tail -n1)
	if [[ -z $json ]]; then
		echo "$name.sh: no results (status $st)" >&2
		exit 1
	fi
	wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
	jq --argjson wall "$wall" --arg rev "$rev" --arg l0 "$load0" \
		--arg l1 "$(cut -d' ' -f1-3 /proc/loadavg)" --arg build "$CGW_BUILD_DIR" \
		'. + {source: $rev, build_dir: $build, wall_clock_s: $wall,
		      host_loadavg: {before: $l0, after: $l1}}' <<<"$json" >"$out"
	echo "$name.sh: results in $out (whole benchmark ${wall} s, VM boot included)"
	exit "$st"
}

#!/bin/bash
# bgp-failover-vm.sh — the BGP failover benchmark's measurement, run as
# root in the test VM by bench/bgp-failover.sh (through tests/vm/vm-run.sh),
# or natively on a kernel with ESP/VTI/GCM and Libreswan installed. See
# bench/README.md.
#
# Each run is the lab (lab/lab.sh) with CGW_LAB_EXPECT=failover: the
# emulated AWS side (strongSwan + BIRD 2, 172.20.0.0/16 on both tunnels,
# MED 100 on aws-1, 200 on aws-2, hold 30 s, DPD like AWS), a LAN host, a
# VPC host, and the gateway under test:
#   cgwd            one config file, both tunnels with BGP;
#   libreswan-frr   Libreswan 4.10 (classic AWS route-based recipe: VTIs
#                   made by its updown script, dpddelay=10 dpdtimeout=30
#                   dpdaction=restart) + FRR 8.4 zebra and bgpd (classic
#                   two-neighbor config, timers 10 30, connect 10,
#                   no bgp ebgp-requires-policy).
# The lab measures, from `ip -ts monitor` timestamps and a timestamped
# 100/s ping lan -> vpc:
#   (a) tunnel up -> route installed: aws-1's CHILD SA (both ESP states)
#       -> 172.20.0.0/16 via vti1 in the gateway's kernel, at start-up;
#   (b) failover: aws-1's outer path blackholed (nft in the AWS namespace)
#       -> the gateway's route moves to vti2; -> the AWS side's route to
#       the LAN moves to vti2; the ping's gap and lost packets;
#   restore: the drop removed -> routes back on vti1, pings lost then.
# Runs alternate cgwd, libreswan-frr, cgwd, ... CGW_BENCH_RUNS times each
# (default 2). CGW_BENCH_SHOW=1 prints each run's whole lab output. The
# lab runs with CGW_LAB_FAILOVER_LIMITS=0: a cgwd figure outside its
# limits is recorded (limits_missed), not dropped.
#
# Output: per run the lab's key lines; a table (median, min, max); the
# ratios libreswan-frr/cgwd; one line "CGW-BENCH-JSON {...}" that
# bench/bgp-failover.sh saves as bench/results-bgp-failover.json.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
# shellcheck source=../tests/vm/lib.sh
source "$SRC_DIR/tests/vm/lib.sh"

readonly RUNS=${CGW_BENCH_RUNS:-2}
readonly BUILD=${CGW_BUILD_DIR:-$SRC_DIR/build}
readonly GATEWAYS=(cgwd libreswan-frr)
W=$(mktemp -d /tmp/cgwb-failover.XXXXXX)
readonly W
on_exit "rm -rf $W"

declare -a RAW=()	# CGW-LAB-RESULT objects, with "run" added
declare -a FAILED=()	# "gateway run: why"

one_run() {
	local gw=$1 n=$2 st=0 t0=$EPOCHREALTIME res out
	out=$W/run-$gw-$n.out
	echo "==== run $n, $gw"
	CGW_BUILD_DIR=$BUILD CGW_LAB_EXPECT=failover CGW_LAB_GATEWAY=$gw \
		CGW_LAB_STATE=/run/cgwb-failover CGW_LAB_PREFIX=cgwb- CGW_LAB_HOLD=0 \
		CGW_LAB_FAILOVER_LIMITS=0 \
		bash "$SRC_DIR/lab/lab.sh" >"$out" 2>&1 || st=$?
	if [[ ${CGW_BENCH_SHOW:-0} == 1 ]]; then
		cat "$out"
	else
		grep -E '^\[lab .*(start-up:|blackhole|gateway:|AWS side:|cgwd:|OK: failover|restore|route changes|NOT OK|FAIL|SKIP)' "$out" || true
	fi
	local dt=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000000 ))
	if ((st != 0)); then
		[[ ${CGW_BENCH_SHOW:-0} == 1 ]] || tail -n 60 "$out"
		FAILED+=("$gw run $n: lab exit $st: $(grep -m1 -E 'FAIL:|SKIP:' "$out" || echo '?')")
		echo "run $n $gw: FAILED (exit $st, ${dt}s)"
		return 0
	fi
	res=$(sed -n 's/^CGW-LAB-RESULT //p' "$out" | tail -n1)
	if ! jq -e . >/dev/null 2>&1 <<<"$res"; then
		FAILED+=("$gw run $n: no CGW-LAB-RESULT line")
		return 0
	fi
	RAW+=("$(jq -c --argjson n "$n" --argjson wall "$dt" '. + {run: $n, wall_clock_s: $wall}' <<<"$res")")
	echo "run $n $gw: done in ${dt}s"
}

# The metrics, as "key|what" (keys of CGW-LAB-RESULT).
METRICS=(
	"sa1_to_route_vti1_s|(a) aws-1 CHILD SA -> route via vti1 (s)"
	"start_to_route_vti1_s|    daemon start -> route via vti1 (s)"
	"blackhole_to_gateway_switch_s|(b) blackhole -> gateway route via vti2 (s)"
	"blackhole_to_aws_switch_s|    blackhole -> AWS route via vti2 (s)"
	"failover_gap_s|    ping gap (s)"
	"failover_lost|    pings lost in the failover"
	"restore_to_gateway_route_s|restore -> gateway route back on vti1 (s)"
	"restore_lost|    pings lost in the restore"
)

report() {
	local all stats k what gw line
	all=$(printf '%s\n' "${RAW[@]}" | jq -s '.')
	# shellcheck disable=SC2016  # jq program
	stats=$(jq --arg metrics "$(printf '%s\n' "${METRICS[@]%%|*}")" '
		def med: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 * 1000 | round / 1000 end;
		. as $runs
		| [($metrics | split("\n") | map(select(length > 0)))[] as $k
		   | {key: $k, value: ([("cgwd", "libreswan-frr") as $g
			| {key: $g, value: ([$runs[] | select(.gateway == $g) | .[$k] | select(. != null)]
				| {median: med, min: min, max: max, runs: .})}] | from_entries)}]
		| from_entries' <<<"$all")
	echo
	echo "BGP failover, $RUNS run(s) per gateway (median, min, max)"
	printf '%-46s %-24s %-24s %s\n' metric cgwd libreswan-frr ratio
	for line in "${METRICS[@]}"; do
		k=${line%%|*} what=${line#*|}
		local c l r
		c=$(jq -r --arg k "$k" '.[$k].cgwd | if .median == null then "n/a" else "\(.median) (\(.min)-\(.max))" end' <<<"$stats")
		l=$(jq -r --arg k "$k" '.[$k]["libreswan-frr"] | if .median == null then "n/a" else "\(.median) (\(.min)-\(.max))" end' <<<"$stats")
		r=$(jq -r --arg k "$k" '.[$k] as $m | if ($m.cgwd.median // 0) > 0 and $m["libreswan-frr"].median != null
			then ($m["libreswan-frr"].median / $m.cgwd.median * 100 | round / 100 | tostring) else "-" end' <<<"$stats")
		printf '%-46s %-24s %-24s %s\n' "$what" "$c" "$l" "$r"
	done
	if ((${#FAILED[@]})); then
		echo
		echo "runs that failed:"
		printf '  %s\n' "${FAILED[@]}"
	fi
	local versions
	versions=$(jq -c '[.[] | {(.gateway): .gateway_version}] | add // {} | . + {aws_side: ($runs_aws // null)}' \
		--argjson runs_aws "$(jq -c '.[0].aws_side // null' <<<"$all")" <<<"$all" 2>/dev/null || echo '{}')
	printf 'CGW-BENCH-JSON %s\n' "$(jq -c -n --argjson stats "$stats" --argjson raw "$all" \
		--argjson versions "$versions" --argjson runs "$RUNS" \
		--arg date "$(date +%Y-%m-%dT%H:%M:%S%z)" --arg kernel "$(uname -r)" \
		--argjson cpus "$(nproc)" --argjson vm "$([[ ${CGW_IN_VM:-} == 1 ]] && echo true || echo false)" \
		--argjson failed "$(printf '%s\n' "${FAILED[@]}" | jq -R . | jq -s 'map(select(length > 0))')" '
		{benchmark: "bgp-failover", date: $date, kernel: $kernel, cpus: $cpus, vm: $vm,
		 runs_per_gateway: $runs, versions: $versions, metrics: $stats,
		 ratio_libreswan_frr_over_cgwd: ($stats | with_entries(.value = (
			if (.value.cgwd.median // 0) > 0 and .value["libreswan-frr"].median != null
			then (.value["libreswan-frr"].median / .value.cgwd.median * 100 | round / 100) else null end))),
		 failed_runs: $failed, raw: $raw}')"
}

main() {
	check_kernel_modules
	require_cmd ip ping jq nft swanctl bird birdc vtysh
	[[ -x $BUILD/daemon/cgwd ]] || fail "no cgwd in $BUILD: set CGW_BUILD_DIR"
	echo "kernel $(uname -r), $(nproc) CPUs${CGW_IN_VM:+, qemu VM (${CGW_VM_ACCEL:-tcg})}; $RUNS run(s) per gateway"
	local n gw
	for ((n = 1; n <= RUNS; n++)); do
		for gw in "${GATEWAYS[@]}"; do
			one_run "$gw" "$n"
		done
	done
	((${#RAW[@]})) || fail "no run gave results: ${FAILED[*]}"
	report
}

main "$@"

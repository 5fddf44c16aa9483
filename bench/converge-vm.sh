#!/bin/bash
# converge-vm.sh — the convergence benchmark's measurement, run as root in
# the test VM by bench/converge.sh (through tests/vm/vm-run.sh), or natively
# on a kernel with ESP/VTI/GCM and Libreswan installed. See bench/README.md.
#
# Each run is the lab (lab/lab.sh, CGW_LAB_EXPECT=up, CGW_LAB_MEASURE=1,
# CGW_LAB_REKEYS=0): the same emulated AWS side (strongSwan + BIRD 2) for
# every gateway under test:
#   cgwd            lab/cgw.conf.in: both tunnels with BGP;
#   libreswan-frr   Libreswan 4.10 (classic AWS route-based recipe) + FRR
#                   8.4 zebra and bgpd (classic two-neighbor config);
#   strongswan      strongSwan's charon + BIRD 2 (the lab's reference).
# Per run, from the daemon's start (lab/measure.sh): both CHILD SAs
# installed, both BGP sessions Established, the VPC route via vti1 in the
# kernel, the first ping lan -> vpc answered (through a tunnel only),
# all of these; then the RSS of the whole stack and, over CGW_LAB_IDLE
# (default 30) idle seconds, its context switches per second (every
# thread: voluntary + nonvoluntary) and CPU time.
# Runs alternate cgwd, libreswan-frr, strongswan, cgwd, ...
# CGW_BENCH_RUNS times each (default 3), so that slow phases of a shared
# host hit all of them. CGW_BENCH_GATEWAYS picks gateways (default all
# three); CGW_BENCH_SHOW=1 prints each run's whole lab output.
#
# Output: per run the lab's key lines; a table (median, min, max); the
# ratios baseline/cgwd; one line "CGW-BENCH-JSON {...}" that
# bench/converge.sh saves as bench/results-converge.json.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
# shellcheck source=../tests/vm/lib.sh
source "$SRC_DIR/tests/vm/lib.sh"

readonly RUNS=${CGW_BENCH_RUNS:-3}
readonly BUILD=${CGW_BUILD_DIR:-$SRC_DIR/build}
read -r -a GATEWAYS <<<"${CGW_BENCH_GATEWAYS:-cgwd libreswan-frr strongswan}"
readonly GATEWAYS
W=$(mktemp -d /tmp/cgwb-converge.XXXXXX)
readonly W
on_exit "rm -rf $W"

declare -a RAW=()	# CGW-LAB-RESULT objects, with "run" added
declare -a FAILED=()	# "gateway run: why"

one_run() {
	local gw=$1 n=$2 st=0 t0=$EPOCHREALTIME res out
	out=$W/run-$gw-$n.out
	echo "==== run $n, $gw"
	CGW_BUILD_DIR=$BUILD CGW_LAB_EXPECT=up CGW_LAB_GATEWAY=$gw CGW_LAB_MEASURE=1 \
		CGW_LAB_REKEYS=0 CGW_LAB_STATE=/run/cgwb-converge CGW_LAB_PREFIX=cgwb- \
		CGW_LAB_HOLD=0 bash "$SRC_DIR/lab/lab.sh" >"$out" 2>&1 || st=$?
	if [[ ${CGW_BENCH_SHOW:-0} == 1 ]]; then
		cat "$out"
	else
		grep -E '^\[lab .*(start-up:|measure:|Libreswan:|FRR |NOT OK|FAIL|SKIP)' "$out" || true
	fi
	local dt=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000000 ))
	if ((st != 0)); then
		[[ ${CGW_BENCH_SHOW:-0} == 1 ]] || tail -n 60 "$out"
		FAILED+=("$gw run $n: lab exit $st: $(grep -m1 -E 'FAIL:|SKIP:' "$out" || echo '?')")
		echo "run $n $gw: FAILED (exit $st, ${dt}s)"
		return 0
	fi
	res=$(sed -n 's/^CGW-LAB-RESULT //p' "$out" | tail -n1)
	if ! jq -e '.start_to_all_up_s and .rss_kb' >/dev/null 2>&1 <<<"$res"; then
		FAILED+=("$gw run $n: no CGW-LAB-RESULT line with the measurements")
		return 0
	fi
	RAW+=("$(jq -c --argjson n "$n" --argjson wall "$dt" '. + {run: $n, wall_clock_s: $wall}' <<<"$res")")
	echo "run $n $gw: done in ${dt}s"
}

# The metrics, as "key|what" (keys of CGW-LAB-RESULT).
METRICS=(
	"start_to_both_sas_s|start -> both CHILD SAs installed (s)"
	"start_to_both_bgp_s|start -> both BGP sessions Established (s)"
	"start_to_route_vti1_s|start -> VPC route via vti1 in the kernel (s)"
	"start_to_first_ping_s|start -> first ping lan -> vpc answered (s)"
	"start_to_all_up_s|start -> all of the above (s)"
	"stack_start_to_all_up_s|first daemon's start (FRR: zebra) -> all (s)"
	"rss_kb|RSS of the whole stack (kB)"
	"idle_wakeups_per_s|idle: context switches per second"
	"idle_voluntary_per_s|idle: voluntary context switches per second"
	"idle_cpu_ms|idle: CPU time over the window (ms)"
)

# jq: per metric and gateway median/min/max/runs, and the ratios
# baseline/cgwd of the medians.
# shellcheck disable=SC2016  # jq programs
STATS_JQ='
	def med: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 * 1000 | round / 1000 end;
	. as $runs
	| [($metrics | split("\n") | map(select(length > 0)))[] as $k
	   | {key: $k, value: ([$gws | split(" ")[] as $g
		| {key: $g, value: ([$runs[] | select(.gateway == $g) | .[$k] | select(. != null)]
			| {median: med, min: min, max: max, runs: .})}] | from_entries)}]
	| from_entries'
# shellcheck disable=SC2016
RATIO_JQ='
	def r($b): if (.cgwd.median // 0) > 0 and .[$b].median != null
		then (.[$b].median / .cgwd.median * 100 | round / 100) else null end;
	with_entries(.value = {"libreswan-frr": (.value | r("libreswan-frr")),
			       strongswan: (.value | r("strongswan"))})'

report() {
	local all stats ratios line k what gw cells
	all=$(printf '%s\n' "${RAW[@]}" | jq -s '.')
	stats=$(jq --arg metrics "$(printf '%s\n' "${METRICS[@]%%|*}")" --arg gws "${GATEWAYS[*]}" \
		"$STATS_JQ" <<<"$all")
	ratios=$(jq "$RATIO_JQ" <<<"$stats")
	echo
	echo "Convergence, memory, idle: $RUNS run(s) per gateway (median (min-max)); ratio = baseline / cgwd"
	printf '%-48s' metric
	printf ' %-26s' "${GATEWAYS[@]}"
	printf ' %s\n' 'ratio lsw+frr / sw+bird'
	for line in "${METRICS[@]}"; do
		k=${line%%|*} what=${line#*|}
		printf '%-48s' "$what"
		for gw in "${GATEWAYS[@]}"; do
			cells=$(jq -r --arg k "$k" --arg g "$gw" '.[$k][$g] |
				if .median == null then "n/a" else "\(.median) (\(.min)-\(.max))" end' <<<"$stats")
			printf ' %-26s' "$cells"
		done
		jq -r --arg k "$k" '.[$k] | "\(.["libreswan-frr"] // "-") / \(.strongswan // "-")"' <<<"$ratios"
	done
	if ((${#FAILED[@]})); then
		echo
		echo "runs that failed:"
		printf '  %s\n' "${FAILED[@]}"
	fi
	local versions
	versions=$(jq -c '([.[] | {(.gateway): .gateway_version}] | add // {})
		+ {aws_side: (.[0].aws_side // null)}' <<<"$all")
	printf 'CGW-BENCH-JSON %s\n' "$(jq -c -n --argjson stats "$stats" --argjson ratios "$ratios" \
		--argjson raw "$all" --argjson versions "$versions" --argjson runs "$RUNS" \
		--arg date "$(date +%Y-%m-%dT%H:%M:%S%z)" --arg kernel "$(uname -r)" \
		--argjson cpus "$(nproc)" --argjson vm "$([[ ${CGW_IN_VM:-} == 1 ]] && echo true || echo false)" \
		--argjson idle "${CGW_LAB_IDLE:-30}" \
		--argjson failed "$(printf '%s\n' "${FAILED[@]}" | jq -R . | jq -s 'map(select(length > 0))')" '
		{benchmark: "converge", date: $date, kernel: $kernel, cpus: $cpus, vm: $vm,
		 runs_per_gateway: $runs, idle_window_s: $idle, versions: $versions,
		 method: {times: "from the IKE daemon start (lab T_GW_START; Libreswan + FRR: pluto, with zebra and bgpd already up; stack_start_to_all_up_s counts from zebra start): CHILD SAs and routes from ip -ts monitor in the gateway namespace, BGP from the AWS-side BIRD (since of Established, ms), ping -D -i 0.02 lan -> vpc (clear text LAN -> VPC blackholed on the AWS side)",
			  rss: "sum of VmRSS over the stack processes in the gateway namespace",
			  wakeups: "sum over every thread of those processes of voluntary + nonvoluntary context switch deltas, divided by the idle window (idle_voluntary_per_s: the voluntary ones only)",
			  cpu: "utime + stime delta of those processes over the idle window"},
		 metrics: $stats, ratio_over_cgwd: $ratios, failed_runs: $failed, raw: $raw}')"
}

main() {
	check_kernel_modules
	require_cmd ip ping jq swanctl bird birdc vtysh
	[[ -x $BUILD/daemon/cgwd ]] || fail "no cgwd in $BUILD: set CGW_BUILD_DIR"
	echo "kernel $(uname -r), $(nproc) CPUs${CGW_IN_VM:+, qemu VM (${CGW_VM_ACCEL:-tcg})}; $RUNS run(s) per gateway: ${GATEWAYS[*]}"
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

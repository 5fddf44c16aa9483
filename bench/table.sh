#!/bin/bash
# table.sh — the benchmark table (markdown) for docs/benchmarks.md, from
# bench/all.sh's results file or, without one, from the separate
# bench/results-*.json files of the last run of each benchmark.
#
#   bench/table.sh                         # bench/results.json if it exists
#   bench/table.sh bench/results.json
#   bench/table.sh --parts                 # bench/results-*.json
#
# Columns: what, cgwd, Libreswan 4.10 + FRR 8.4, strongSwan 5.9 + BIRD 2
# (converge: median (min-max) over the runs), the ratio baseline/cgwd of
# the medians, the issue's target and whether cgwd meets it.
# A figure a run did not produce shows as "-".

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# merged: one object, a key per benchmark, from the separate files.
merged_parts() {
	local f name args=() keys=()
	for name in converge handshake-cost rekey-loss bgp-failover bgp-scale tunnel-up; do
		f=$BENCH_DIR/results-$name.json
		[[ -s $f ]] || continue
		args+=(--slurpfile "${name//-/_}" "$f")
		keys+=("${name//-/_}: \$${name//-/_}[0]")
	done
	local IFS=,
	jq -n "${args[@]}" "{benchmarks: {${keys[*]}}}"
}

if [[ ${1:-} == --parts ]] || { [[ -z ${1:-} ]] && [[ ! -s $BENCH_DIR/results.json ]]; }; then
	json=$(merged_parts)
else
	json=$(<"${1:-$BENCH_DIR/results.json}")
fi

# shellcheck disable=SC2016  # jq program
jq -r '
	.benchmarks as $b
	| def num: if . == null then "-" elif type == "number" then
		(if . >= 100 then (. | round | tostring) else (. * 1000 | round / 1000 | tostring) end)
		else tostring end;
	  def s: if . == null then "-" else "\(num) s" end;
	  def mega: if . == null then "-" else "\(. / 10000 | round / 100) M" end;
	  def x($a; $c): if $a == null or $c == null or $c == 0 then "-"
		else "\($a / $c * 100 | round / 100)x" end;
	  def med($m; $g): $b.converge.metrics[$m][$g].median;
	  def cell($m; $g; $unit): $b.converge.metrics[$m][$g] as $v
		| if $v.median == null then "-"
		  elif ($v.runs | length) > 1 then "\($v.median | num)\($unit) (\($v.min | num)-\($v.max | num))"
		  else "\($v.median | num)\($unit)" end;
	  def conv($m; $unit; $target; $met):
		[$m, cell($m; "cgwd"; $unit), cell($m; "libreswan-frr"; $unit), cell($m; "strongswan"; $unit),
		 "\(x(med($m; "libreswan-frr"); med($m; "cgwd"))) / \(x(med($m; "strongswan"); med($m; "cgwd")))",
		 $target, $met];
	  def yes($c): if $c == null then "-" elif $c then "yes" else "**no**" end;
	  def row: "| " + join(" | ") + " |";
	  def lab($m): {"start_to_both_sas_s": "start → both CHILD SAs installed",
		"start_to_both_bgp_s": "start → both BGP sessions Established",
		"start_to_route_vti1_s": "start → VPC route (via tunnel 1) in the kernel",
		"start_to_first_ping_s": "start → first ping LAN → VPC answered",
		"start_to_all_up_s": "start → all of the above",
		"stack_start_to_all_up_s": "… counted from the first daemon of the stack (FRR: zebra, up before pluto)",
		"rss_kb": "RSS of the whole stack after convergence",
		"idle_wakeups_per_s": "idle wakeups (context switches) per second",
		"idle_voluntary_per_s": "… of which voluntary (the thread slept and woke)",
		"idle_cpu_ms": "idle CPU time over the window"}[$m] // $m;
	  ($b.converge.metrics // {}) as $cm
	| (med("start_to_all_up_s"; "libreswan-frr")) as $lall
	| (med("start_to_all_up_s"; "cgwd")) as $call
	| ($b.bgp_failover.metrics // {}) as $fm
	| ($b.rekey_loss.gateways // {}) as $rk
	| ($b.bgp_scale // {}) as $sc
	| ($b.handshake_cost.responders // {}) as $hs
	| "| what | cgwd | Libreswan 4.10 + FRR 8.4 | strongSwan 5.9 + BIRD 2 | ratio (baseline / cgwd) | target | met |",
	  "| --- | --- | --- | --- | --- | --- | --- |",
	  (if $b.converge then
		(["start_to_both_sas_s", "start_to_both_bgp_s", "start_to_route_vti1_s", "start_to_first_ping_s"][]
			| conv(.; " s"; ""; "") | .[0] |= lab(.) | row),
		(conv("start_to_all_up_s"; " s"; "≥ 10x faster than Libreswan + FRR";
			yes(if $lall and $call then $lall / $call >= 10 else null end)) | .[0] |= lab(.) | row),
		(conv("stack_start_to_all_up_s"; " s"; ""; "") | .[0] |= lab(.) | row),
		(conv("rss_kb"; " kB"; "≤ 1/10 of Libreswan + FRR";
			yes(if med("rss_kb"; "libreswan-frr") then med("rss_kb"; "cgwd") * 10 <= med("rss_kb"; "libreswan-frr") else null end))
			| .[0] |= lab(.) | row),
		(conv("idle_wakeups_per_s"; "/s"; "≤ 1/s";
			yes(if med("idle_wakeups_per_s"; "cgwd") then med("idle_wakeups_per_s"; "cgwd") <= 1 else null end))
			| .[0] |= lab(.) + " (\($b.converge.idle_window_s) s window)" | row),
		(if $cm.idle_voluntary_per_s then conv("idle_voluntary_per_s"; "/s"; ""; "") | .[0] |= lab(.) | row else empty end),
		(conv("idle_cpu_ms"; " ms"; ""; "") | .[0] |= lab(.) + " (\($b.converge.idle_window_s) s)" | row)
	   else empty end),
	  (if $b.bgp_failover then
		(["tunnel 1 blackholed under a ping → the gateway route to the VPC on tunnel 2",
		  ($fm.blackhole_to_gateway_switch_s.cgwd.median | s), ($fm.blackhole_to_gateway_switch_s["libreswan-frr"].median | s), "-",
		  x($fm.blackhole_to_gateway_switch_s["libreswan-frr"].median; $fm.blackhole_to_gateway_switch_s.cgwd.median),
		  "≤ dpd-timeout + 1 s = 31 s", yes(if $fm.blackhole_to_gateway_switch_s.cgwd.median then $fm.blackhole_to_gateway_switch_s.cgwd.median <= 31 else null end)] | row),
		([$b.bgp_failover.raw[]?.ping_rate | select(. != null)] as $pr
		 | ["… ping gap LAN → VPC (ping at \($pr | min // "?")-\($pr | max // "?")/s, asked for 200/s; ends when the AWS side switches too)",
		  "\($fm.failover_gap_s.cgwd.median | s), \($fm.failover_lost.cgwd.median | num) lost",
		  "\($fm.failover_gap_s["libreswan-frr"].median | s), \($fm.failover_lost["libreswan-frr"].median | num) lost", "-",
		  x($fm.failover_gap_s["libreswan-frr"].median; $fm.failover_gap_s.cgwd.median), "", ""] | row),
		(["path back → the route on tunnel 1 again",
		  "\($fm.restore_to_gateway_route_s.cgwd.median | s), \($fm.restore_lost.cgwd.median | num) lost",
		  "\($fm.restore_to_gateway_route_s["libreswan-frr"].median | s), \($fm.restore_lost["libreswan-frr"].median | num) lost", "-",
		  x($fm.restore_to_gateway_route_s["libreswan-frr"].median; $fm.restore_to_gateway_route_s.cgwd.median), "", ""] | row)
	   else empty end),
	  (if $b.rekey_loss then
		(["packets lost per CHILD rekey (\($rk.cgwd.rekeys // "-") rekeys, half by each end, ~\($rk.cgwd.rate // "-") pings/s)",
		  ($rk.cgwd.per_rekey | num), "Libreswan alone: \($rk.libreswan.per_rekey | num)", "-",
		  (if ($rk.cgwd.per_rekey // 1) == 0 then "cgwd loses none" else x($rk.libreswan.per_rekey; $rk.cgwd.per_rekey) end),
		  "0", yes(if $rk.cgwd then $rk.cgwd.per_rekey == 0 else null end)] | row),
		(["outer path blackholed → peer declared dead (under traffic)",
		  ($rk.cgwd.dead_s | s), "Libreswan alone: \($rk.libreswan.dead_s | s)", "-",
		  x($rk.libreswan.dead_s; $rk.cgwd.dead_s), "", ""] | row)
	   else empty end),
	  (if $b.bgp_scale.seconds_to_all_installed then
		(["\($sc.prefixes) prefixes from one feeder → all in the kernel (host kernel, no VM)",
		  ($sc.seconds_to_all_installed.cgwd | s), "FRR: \($sc.seconds_to_all_installed.frr | s)",
		  "BIRD: \($sc.seconds_to_all_installed.bird | s)",
		  "\(x($sc.seconds_to_all_installed.frr; $sc.seconds_to_all_installed.cgwd)) / \(x($sc.seconds_to_all_installed.bird; $sc.seconds_to_all_installed.cgwd))",
		  "faster than BIRD and FRR",
		  yes($sc.seconds_to_all_installed.cgwd < $sc.seconds_to_all_installed.bird and $sc.seconds_to_all_installed.cgwd < $sc.seconds_to_all_installed.frr)] | row),
		(["RSS with those \($sc.prefixes) prefixes",
		  "\($sc.rss_kib.cgwd | num) kB", "FRR: \($sc.rss_kib.frr | num) kB", "BIRD: \($sc.rss_kib.bird | num) kB",
		  "\(x($sc.rss_kib.frr; $sc.rss_kib.cgwd)) / \(x($sc.rss_kib.bird; $sc.rss_kib.cgwd))", "", ""] | row)
	   else empty end),
	  (if $b.handshake_cost then
		(["CPU instructions per IKE handshake as responder (callgrind Ir, \($b.handshake_cost.handshakes) handshakes − none)",
		  ($hs.cgwd.ir_per_handshake | mega), "pluto: \($hs.pluto.ir_per_handshake | mega)",
		  "charon: \($hs.charon.ir_per_handshake | mega)",
		  "\($hs.pluto.ratio_over_cgwd // "-")x / \($hs.charon.ratio_over_cgwd // "-")x", "", ""] | row)
	   else empty end)
' <<<"$json"

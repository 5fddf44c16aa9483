#!/bin/bash
# soak-lab.sh — the soak, run by the lab (lab/lab.sh) once everything is
# up: CGW_LAB_RUN=bench/soak-lab.sh. bench/soak.sh (an hour, in the VM)
# and tests/vm/scenarios/74-soak-short.sh (two minutes) run it.
#
# Accelerated lifetimes: cgwd's config is rewritten so that every CHILD SA
# is rekeyed 30 s after it was made (esp-lifetime 40 s, rekey-margin 10 s,
# no fuzz) and the IKE SA every CGW_SOAK_IKE_LIFETIME - 10 s; `cgwctl
# reload` applies it (the tunnels are made again, BGP comes back up).
# Then, for CGW_SOAK_SECONDS:
#   - a ping lan -> vpc (-i CGW_SOAK_PING_INTERVAL, 0.05 s: ~20/s) and a
#     TCP stream lan -> vpc (iperf3 -b CGW_SOAK_IPERF_RATE, 2M: what TCG
#     carries through ESP without saturating);
#   - every CGW_SOAK_SAMPLE seconds (60): cgwd's VmRSS, open fds and CPU
#     time from /proc, tunnel and BGP states from `cgwctl status`.
# At the end cgwd is stopped with SIGTERM, so that LeakSanitizer runs as
# it exits (the ASan build is meant), and its log is searched for
# sanitizer reports.
#
# Asserted (exit 1 otherwise; the figures are printed first):
#   - no ping lost within [-1 s, +10 s] of any rekey cgwd started
#     (CHILD or IKE, either tunnel);
#   - both tunnels up and both BGP sessions Established at every sample,
#     no session re-established (established_count unchanged);
#   - at least 80 % of the CHILD rekeys the lifetimes call for were done;
#   - cgwd's RSS at the end at most CGW_SOAK_RSS_MARGIN_KB (2048) above
#     its RSS at the first sample after CGW_SOAK_WARMUP seconds (120:
#     allocator pools and ASan's quarantine, capped by ASAN_OPTIONS, fill
#     during the first rekeys); open fds at the end no more than at start;
#   - no AddressSanitizer, LeakSanitizer or UBSan report in cgwd's log.
# One line "CGW-SOAK-RESULT {json}" carries the figures.

set -euo pipefail
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../tests/vm/lib.sh
source "$SRC_DIR/tests/vm/lib.sh"
# shellcheck source=../tests/vm/ike-lib.sh
source "$SRC_DIR/tests/vm/ike-lib.sh"

readonly SECS=${CGW_SOAK_SECONDS:-3600}
readonly SAMPLE=${CGW_SOAK_SAMPLE:-60}
readonly WARMUP=${CGW_SOAK_WARMUP:-120}
readonly IKE_LIFE=${CGW_SOAK_IKE_LIFETIME:-610}
readonly PING_IVAL=${CGW_SOAK_PING_INTERVAL:-0.05}
readonly IPERF_RATE=${CGW_SOAK_IPERF_RATE:-2M}
readonly RSS_MARGIN_KB=${CGW_SOAK_RSS_MARGIN_KB:-2048}
readonly CHILD_REKEY_S=30

: "${LAB_STATE:?run me through lab/lab.sh (CGW_LAB_RUN)}"
readonly W=$LAB_STATE/soak
mkdir -p "$W"
ike_init "$W"
PID=${LAB_PID_cgwd:?cgwd is not the lab gateway}
read -r -a TUNS <<<"$LAB_TUN_NAMES"

ctl() { ip netns exec "$LAB_NS_GW" "$LAB_CGWCTL" -s "$LAB_CGWD_SOCK" "$@"; }

# ------------------------------------------------------------- cgwd's view

# STATUS: cgwctl status --json; ST_UP (tunnels up), ST_EST (sessions
# Established), ST_ESTCOUNT (sum of established_count), ST_REKEYS,
# ST_IKE_REKEYS (sums over the tunnels).
status_read() {
	local out
	STATUS=$(ctl status --json 2>/dev/null) || return 1
	out=$(jq -r '[
		([.tunnels[] | select(.state == "up")] | length),
		([.neighbors[] | select(.state == "Established")] | length),
		([.neighbors[].established_count] | add // 0),
		([.tunnels[].rekeys // 0] | add // 0),
		([.tunnels[].ike_rekeys // 0] | add // 0)] | map(tostring) | join(" ")' <<<"$STATUS") ||
		return 1
	read -r ST_UP ST_EST ST_ESTCOUNT ST_REKEYS ST_IKE_REKEYS <<<"$out"
}
all_up() {
	status_read || return 1
	((ST_UP == ${#TUNS[@]} && ST_EST == ${#TUNS[@]}))
}
vpc_route() { [[ $(ip -n "$LAB_NS_GW" route show "$LAB_VPC_NET") == *"dev vti"* ]]; }

# cgwd's /proc figures: RSS_KB, FDS, CPU_TICKS (utime + stime). Builtins.
proc_read() {
	local k v rest
	RSS_KB=0
	while read -r k v rest; do
		[[ $k == VmRSS: ]] && { RSS_KB=$v; break; }
	done <"/proc/$PID/status"
	local fds=("/proc/$PID/fd/"*)
	FDS=${#fds[@]}
	read -r rest <"/proc/$PID/stat"
	rest=${rest##*) }
	read -r -a v <<<"$rest"
	CPU_TICKS=$((v[11] + v[12]))
}

# ------------------------------------------------------------- set-up

# Every tunnel: CHILD SAs rekeyed after 30 s, the IKE SA after IKE_LIFE-10.
accelerate() {
	local extra="esp-lifetime = $((CHILD_REKEY_S + 10))s\nrekey-margin = 10s\nrekey-fuzz = 0\nike-lifetime = ${IKE_LIFE}s"
	sed -i "/^\[tunnel /a $extra" "$LAB_CGWD_CONF"
	"$LAB_CGWD" -n -c "$LAB_CGWD_CONF" >"$W/check.out" 2>&1 ||
		{ cat "$W/check.out"; fail "the accelerated config does not pass cgwd -n"; }
	ctl reload >"$W/reload.out" 2>&1 || { cat "$W/reload.out"; fail "cgwctl reload failed"; }
	vm_log "config: CHILD rekey every ${CHILD_REKEY_S} s, IKE rekey every $((IKE_LIFE - 10)) s; reloaded ($(tr '\n' ' ' <"$W/reload.out"))"
	ike_nap 2
	until_ok 180 "both tunnels and BGP sessions up again" all_up ||
		{ ctl status || true; fail "tunnels/BGP not up after the reload"; }
	until_ok 60 "the route to $LAB_VPC_NET via a VTI" vpc_route ||
		fail "no route to $LAB_VPC_NET after the reload"
	local rk
	rk=$(jq -r '[.tunnels[].ike_sas[]?.children[]?.rekey_in // empty] | max // "none"' <<<"$STATUS")
	[[ $rk != none ]] || fail "after the reload cgwd reports no CHILD SA rekey time"
	((rk <= CHILD_REKEY_S)) ||
		fail "after the reload cgwd's CHILD SAs rekey in $rk s, not within ${CHILD_REKEY_S} s"
	vm_log "up again: ${ST_UP} tunnels, ${ST_EST} sessions; next CHILD rekey in <= $rk s"
}

start_load() {
	ip netns exec "$LAB_NS_VPC" iperf3 -s -1 -J >"$W/iperf-server.json" 2>&1 &
	IPERF_SRV=$!
	on_exit "kill $IPERF_SRV 2>/dev/null || true"
	until_ok 30 "iperf3's server" ss_listens || fail "iperf3 -s does not listen in $LAB_NS_VPC"
	ping_start "$LAB_NS_LAN" "$LAB_VPC_HOST" "$PING_IVAL" "$SECS" "$W/ping.log"
	ip netns exec "$LAB_NS_LAN" iperf3 -c "$LAB_VPC_HOST" -t "$SECS" -b "$IPERF_RATE" \
		-i 10 --connect-timeout 10000 -J >"$W/iperf.json" 2>&1 &
	IPERF_CLI=$!
	vm_log "load: ping lan -> vpc every ${PING_IVAL} s, iperf3 -b $IPERF_RATE for ${SECS} s"
}
ss_listens() { [[ $(ip netns exec "$LAB_NS_VPC" ss -Hltn 'sport = :5201') == *5201* ]]; }

# ------------------------------------------------------------- the run

declare -a SAMPLES=()
FAILS=()
EST0=0 RSS_WARM="" FDS0=0 FDS_MAX=0 RSS_MAX=0

LAST_T=-1
sample() {
	local t=$1 ok=1
	LAST_T=$t
	proc_read
	status_read || ok=0
	((ok && ST_UP == ${#TUNS[@]} && ST_EST == ${#TUNS[@]} && ST_ESTCOUNT == EST0)) ||
		FAILS+=("at ${t} s: ${ST_UP:-?} tunnels up, ${ST_EST:-?} sessions Established, established_count ${ST_ESTCOUNT:-?} (was $EST0)")
	SAMPLES+=("{\"t\":$t,\"rss_kb\":$RSS_KB,\"fds\":$FDS,\"cpu_ticks\":$CPU_TICKS,\"tunnels_up\":${ST_UP:-0},\"bgp_established\":${ST_EST:-0},\"child_rekeys\":${ST_REKEYS:-0},\"ike_rekeys\":${ST_IKE_REKEYS:-0}}")
	((RSS_KB > RSS_MAX)) && RSS_MAX=$RSS_KB
	((FDS > FDS_MAX)) && FDS_MAX=$FDS
	[[ -z $RSS_WARM ]] && ((t >= WARMUP)) && RSS_WARM=$RSS_KB
	vm_log "soak ${t}/${SECS} s: cgwd rss ${RSS_KB} kB, ${FDS} fds, cpu ${CPU_TICKS} ticks; tunnels up ${ST_UP:-?}, BGP ${ST_EST:-?}, CHILD rekeys ${ST_REKEYS:-?}, IKE rekeys ${ST_IKE_REKEYS:-?}"
}

run() {
	local t0=${EPOCHREALTIME%.*} now next=0 t
	while :; do
		now=${EPOCHREALTIME%.*}
		t=$((now - t0))
		if ((t >= next)); then
			sample "$t"
			next=$((next + SAMPLE))
		fi
		((t >= SECS)) && break
		alive "$PID" || fail "cgwd (pid $PID) exited during the soak"
		ike_nap "$((next - t < SECS - t ? next - t : SECS - t))"
		((next - t > 0)) || ike_nap 1
	done
	((LAST_T == t)) || sample "$t"
}

# ------------------------------------------------------------- accounting

# Epoch ms of cgwd's rekey starts (CHILD and IKE) from its log, whose
# lines begin with the local time of day: in REKEY_MS.
rekey_times() {
	local h m s midnight
	printf -v h '%(%H)T' -1
	printf -v m '%(%M)T' -1
	printf -v s '%(%S)T' -1
	midnight=$(( ${EPOCHREALTIME%.*} - 10#$h * 3600 - 10#$m * 60 - 10#$s ))
	local out
	out=$(awk -v base="$midnight" '
		/-> REKEYING \((rekey sent|IKE SA rekey sent)\)/ {
			split($1, a, /[:.]/)
			printf "%.0f\n", (base + a[1] * 3600 + a[2] * 60 + a[3]) * 1000 + a[4]
		}' "$LAB_CGWD_LOG")
	REKEY_MS=()
	[[ -z $out ]] || mapfile -t REKEY_MS <<<"$out"
}

# Lost pings within [-1 s, +10 s] of a rekey start: AT_REKEY; all lost: P_LOST.
attribute_loss() {
	local i r lo ival_ms
	ival_ms=$(awk -v i="$PING_IVAL" 'BEGIN { printf "%d", i * 1000 }')
	AT_REKEY=0 AT_REKEY_RUNS=""
	for i in "${!P_LOSS_TS[@]}"; do
		lo=$((P_LOSS_TS[i] + ival_ms))
		for r in "${REKEY_MS[@]}"; do
			if ((lo >= r - 1000 && lo <= r + 10000)); then
				AT_REKEY=$((AT_REKEY + P_LOSS_N[i]))
				AT_REKEY_RUNS+="${AT_REKEY_RUNS:+, }${P_LOSS_N[i]} at $((lo - r)) ms from a rekey"
				break
			fi
		done
	done
}

# SIGTERM to cgwd, wait for it to exit (LeakSanitizer runs then), count
# sanitizer reports in its log: SAN_REPORTS, SAN_FIRST.
stop_cgwd() {
	local i
	kill -TERM "$PID" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		alive "$PID" || break
		ike_nap 0.1
	done
	alive "$PID" && FAILS+=("cgwd still running 30 s after SIGTERM")
	ike_nap 1	# the log's reader drains the pipe
	SAN_REPORTS=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' \
		"$LAB_CGWD_LOG" || true)
	SAN_FIRST=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$LAB_CGWD_LOG" || true)
	SAN_BUILD=$(grep -c -E '__asan_init|__ubsan_handle' "$LAB_CGWD" 2>/dev/null || true)
}

iperf_figures() {
	IPERF=$(jq -c '{sent_mbps: ((.end.sum_sent.bits_per_second // 0) / 1e6 * 100 | round / 100),
		received_mbps: ((.end.sum_received.bits_per_second // 0) / 1e6 * 100 | round / 100),
		retransmits: (.end.sum_sent.retransmits // null),
		seconds: (.end.sum_sent.seconds // 0 | round), error: (.error // null)}' \
		"$W/iperf.json" 2>/dev/null) || IPERF='{"error":"no iperf3 JSON"}'
}

main() {
	local ver
	ver=$("$LAB_CGWD" -V 2>/dev/null || echo cgwd)
	accelerate
	status_read
	EST0=$ST_ESTCOUNT
	local rk0=$ST_REKEYS ik0=$ST_IKE_REKEYS
	proc_read
	local rss_first=$RSS_KB cpu_first=$CPU_TICKS
	FDS0=$FDS
	start_load
	run
	ping_stop
	wait "$IPERF_CLI" 2>/dev/null || true
	local rss_end=$RSS_KB fds_end=$FDS cpu_end=$CPU_TICKS
	local rekeys=$((ST_REKEYS - rk0)) ike_rekeys=$((ST_IKE_REKEYS - ik0))
	ping_account "$W/ping.log"
	rekey_times
	attribute_loss
	iperf_figures
	stop_cgwd
	[[ -n $RSS_WARM ]] || RSS_WARM=$rss_first
	local want=$((SECS * ${#TUNS[@]} * 8 / (CHILD_REKEY_S * 10)))
	local growth=$((rss_end - RSS_WARM))
	local cpu_s
	cpu_s=$(awk -v t="$((cpu_end - cpu_first))" 'BEGIN { printf "%.1f", t / 100 }')
	((AT_REKEY == 0)) || FAILS+=("$AT_REKEY pings lost at rekeys ($AT_REKEY_RUNS)")
	((rekeys >= want)) || FAILS+=("$rekeys CHILD rekeys in ${SECS} s, expected at least $want")
	((growth <= RSS_MARGIN_KB)) ||
		FAILS+=("cgwd's RSS grew ${growth} kB after the warm-up (${RSS_WARM} -> ${rss_end} kB), margin ${RSS_MARGIN_KB} kB")
	((fds_end <= FDS0)) || FAILS+=("cgwd has $fds_end fds at the end, $FDS0 at the start")
	((SAN_REPORTS == 0)) || FAILS+=("$SAN_REPORTS sanitizer report lines in cgwd's log: $SAN_FIRST")
	local fails_json samples_json
	fails_json=$(printf '%s\n' "${FAILS[@]}" | jq -R . | jq -s -c 'map(select(length > 0))')
	samples_json=$(printf '%s\n' "${SAMPLES[@]}" | jq -s -c .)
	printf 'CGW-SOAK-RESULT {"cgwd":"%s","sanitized_build":%s,"kernel":"%s","seconds":%s,"child_rekey_every_s":%s,"ike_rekey_every_s":%s,"child_rekeys":%s,"ike_rekeys":%s,"rekey_starts_logged":%s,"ping_interval_s":%s,"pings_sent":%s,"pings_received":%s,"pings_lost":%s,"pings_lost_at_rekeys":%s,"ping_missing":"%s","iperf3":%s,"rss_kb":{"first":%s,"after_warmup":%s,"end":%s,"max":%s},"rss_growth_after_warmup_kb":%s,"fds":{"start":%s,"end":%s,"max":%s},"cgwd_cpu_s":%s,"sanitizer_reports":%s,"bgp_established_count":%s,"failures":%s,"samples":%s}\n' \
		"$ver" "$([[ $SAN_BUILD -gt 0 ]] && echo true || echo false)" "$(uname -r)" "$SECS" \
		"$CHILD_REKEY_S" "$((IKE_LIFE - 10))" "$rekeys" "$ike_rekeys" "${#REKEY_MS[@]}" \
		"$PING_IVAL" "$P_TX" "$P_RX" "$P_LOST" "$AT_REKEY" "$P_MISSING" "$IPERF" \
		"$rss_first" "$RSS_WARM" "$rss_end" "$RSS_MAX" "$growth" "$FDS0" "$fds_end" "$FDS_MAX" \
		"$cpu_s" "$SAN_REPORTS" "$EST0" "$fails_json" "$samples_json"
	vm_log "soak: ${rekeys} CHILD + ${ike_rekeys} IKE rekeys; pings ${P_RX}/${P_TX} answered, ${P_LOST} lost, ${AT_REKEY} at rekeys; iperf3 $IPERF; cgwd rss ${rss_first} -> ${RSS_WARM} (warm) -> ${rss_end} kB, fds ${FDS0} -> ${fds_end}, cpu ${cpu_s} s; ${SAN_REPORTS} sanitizer reports"
	if ((${#FAILS[@]})); then
		printf 'FAIL: soak: %s\n' "${FAILS[@]}"
		exit 1
	fi
	pass "soak: ${SECS} s, ${rekeys} CHILD and ${ike_rekeys} IKE rekeys, 0 pings lost at rekeys, RSS +${growth} kB after warm-up, no sanitizer report"
}

main "$@"

#!/bin/bash
# An IKE_SA_INIT flood from spoofed sources against cgwd with both tunnels
# up and busy. The lab (lab/lab.sh) brings up cgwd against its AWS side
# (strongSwan + BIRD 2, two tunnels with BGP); this file is also its
# CGW_LAB_RUN hook, which adds an attacker namespace, by default on a
# second link of the gateway's (CGW_FLOOD_VIA=direct), or behind the AWS
# side's internet router (=internet: accept_local on its link, as an
# internet router does not check sources; under TCG that forwarding hop
# holds the flood to 6,000-9,000/s):
#
#   ns atk 10.99.0.2 -- atk0 10.99.0.1 (ns gw, or ns aws), 100.64.0.0/16
#   routed back to atk
#
# cgw-floodtool (tests/vm/floodtool.c) sends CGW_FLOOD_PPS (10,000)
# IKE_SA_INIT requests a second for CGW_FLOOD_SECONDS (30), each with a
# fresh SPI and nonce, from three sources in turn: the two AWS endpoints'
# addresses (198.51.100.1, .129: cgwd's responder takes those, creating
# half-open SAs until IKE_HALF_OPEN_COOKIES, then answering with COOKIEs
# that the real peer ignores) and random hosts of 100.64.0.0/16 (no such
# peer: dropped). Meanwhile a ping runs across each tunnel (gateway ->
# 169.254.10.1 over vti1, -> 169.254.11.1 over vti2, 10/s each) and one
# lan -> vpc (10/s), and a third of the way in cgwd rekeys aws-1's CHILD
# SA: its exchange has to get through the flood (the gateway's UDP queue
# drops most of it: its retransmissions do).
#
# Asserted:
#   - cookies engaged: cgwd's cookies_sent grew on both tunnels;
#   - half-open SAs bounded: never more than 8 (IKE_HALF_OPEN_COOKIES)
#     at a sample, and none left 50 s after the flood (their 30 s timer);
#   - the tunnels held: the same IKE SAs before and after (no
#     re-authentication), aws-2's CHILD SA unchanged, aws-1's replaced by
#     the rekey within 40 s of the flood's end; both BGP sessions
#     Established throughout, established_count unchanged;
#   - each ping loses at most CGW_FLOOD_MAX_LOSS_PCT (10) % during the
#     flood, and none in the 10 s after it nor in a 3 s ping later;
#   - cgwd's RSS after the flood at most 2048 kB above before.
# Reported (CGW-FLOOD-RESULT): the rate floodtool reached, the gateway's
# UDP datagrams delivered and dropped (queue full), cgwd's CPU time over
# the flood (user, system: /proc), its RSS, the rekey's duration. Takes
# 2.5-3 min under TCG.
#
# Environment: CGW_BUILD_DIR (cgwd, cgwctl), CGW_FLOODTOOL (default
# $CGW_BUILD_DIR/tests/vm/cgw-floodtool), CGW_FLOOD_PPS,
# CGW_FLOOD_SECONDS, CGW_FLOOD_PROCS (1), CGW_FLOOD_VIA (direct, the
# default: see attach_direct; or internet), CGW_FLOOD_MAX_LOSS_PCT;
# CGW_LAB_* reach the lab.

set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

readonly PPS=${CGW_FLOOD_PPS:-10000}
readonly FLOOD_S=${CGW_FLOOD_SECONDS:-30}
readonly MAX_LOSS_PCT=${CGW_FLOOD_MAX_LOSS_PCT:-10}
readonly PROCS=${CGW_FLOOD_PROCS:-1}
readonly VIA=${CGW_FLOOD_VIA:-direct}
readonly HALF_OPEN_MAX=8	# IKE_HALF_OPEN_COOKIES in ike/ike-internal.h
readonly RSS_MARGIN_KB=2048

# ================================================================ the hook

ctl() { ip netns exec "$LAB_NS_GW" "$LAB_CGWCTL" -s "$LAB_CGWD_SOCK" "$@"; }

setup_attacker() {
	ATK=${LAB_NS_GW%gw}atk
	ip netns del "$ATK" 2>/dev/null || true
	ip netns add "$ATK"
	on_exit "ip netns del $ATK 2>/dev/null || true"
	[[ $VIA == direct ]] && { attach_direct; return; }
	ip link add eth0 netns "$ATK" type veth peer name atk0 netns "$LAB_NS_AWS"
	ip -n "$ATK" -b - <<-EOF
	link set lo up
	link set eth0 up
	addr add 10.99.0.2/30 dev eth0
	route add default via 10.99.0.1
	EOF
	ip -n "$LAB_NS_AWS" -b - <<-EOF
	link set atk0 up
	addr add 10.99.0.1/30 dev atk0
	route add 100.64.0.0/16 via 10.99.0.2
	EOF
	ip netns exec "$LAB_NS_AWS" sysctl -q -w net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.atk0.rp_filter=0 net.ipv4.conf.atk0.accept_local=1
}

# CGW_FLOOD_VIA=direct: the attacker on a second link of the gateway's
# (a second uplink; no forwarding hop in the AWS namespace, which under
# TCG costs the flood a third of its rate). Replies to the spoofed peer
# addresses still leave by the default route.
attach_direct() {
	ip link add eth0 netns "$ATK" type veth peer name atk0 netns "$LAB_NS_GW"
	ip -n "$ATK" -b - <<-EOF
	link set lo up
	link set eth0 up
	addr add 10.99.0.2/30 dev eth0
	route add default via 10.99.0.1
	EOF
	ip -n "$LAB_NS_GW" -b - <<-EOF
	link set atk0 up
	addr add 10.99.0.1/30 dev atk0
	route add 100.64.0.0/16 via 10.99.0.2
	EOF
	ip netns exec "$LAB_NS_GW" sysctl -q -w net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.atk0.rp_filter=0
}

# cgwd's view, in globals: ST_SPIS (established IKE SAs and their CHILD
# SAs, per tunnel), ST_IKE (the IKE SAs alone), ST_HALF (IKE SAs in
# INIT_DONE), ST_COOKIES and ST_REKEYS (per tunnel, space-separated),
# ST_EST (sessions Established), ST_ESTCOUNT.
status_read() {
	local json out
	json=$(ctl status --json 2>/dev/null) || return 1
	out=$(jq -r '[
		([.tunnels[] | .name + "=" + ([.ike_sas[]? | select(.state == "ESTABLISHED")
			| .spi_i + "/" + .spi_r + "[" + ([.children[]? | .spi_in + "/" + .spi_out]
			| join(",")) + "]"] | join(" "))] | join(" ")),
		([.tunnels[].ike_sas[]? | select(.state == "INIT_DONE")] | length),
		([.tunnels[] | (.cookies_sent // 0)] | map(tostring) | join(" ")),
		([.tunnels[] | .name + "=" + ([.ike_sas[]? | select(.state == "ESTABLISHED")
			| .spi_i + "/" + .spi_r] | join(" "))] | join(" ")),
		([.tunnels[] | (.rekeys // 0)] | map(tostring) | join(" ")),
		([.neighbors[] | select(.state == "Established")] | length),
		([.neighbors[].established_count] | add // 0)] | map(tostring) | join("\u001f")' \
		<<<"$json") || return 1
	IFS=$'\x1f' read -r ST_SPIS ST_HALF ST_COOKIES ST_IKE ST_REKEYS ST_EST ST_ESTCOUNT <<<"$out"
}

proc_read() {	# RSS_KB, CPU_TICKS (UTIME + STIME) of cgwd; builtins only
	local k v rest pid=${LAB_PID_cgwd:?cgwd is not the lab gateway}
	RSS_KB=0
	while read -r k v rest; do
		[[ $k == VmRSS: ]] && { RSS_KB=$v; break; }
	done <"/proc/$pid/status"
	read -r rest <"/proc/$pid/stat"
	rest=${rest##*) }
	read -r -a v <<<"$rest"
	UTIME=${v[11]} STIME=${v[12]}
	CPU_TICKS=$((UTIME + STIME))
}

# The gateway's UDP counters (its namespace's /proc/net/snmp): UDP_IN
# (datagrams delivered to a socket), UDP_RCVBUF (dropped: a full queue).
udp_read() {
	local out i
	local -a n v
	out=$(ip netns exec "$LAB_NS_GW" grep '^Udp:' /proc/net/snmp)
	read -r -a n <<<"${out%%$'\n'*}"
	read -r -a v <<<"${out#*$'\n'}"
	for i in "${!n[@]}"; do
		case ${n[i]} in
		InDatagrams) UDP_IN=${v[i]} ;;
		RcvbufErrors) UDP_RCVBUF=${v[i]} ;;
		esac
	done
}

# ping_go NAME NS DST SECS: 10/s, timestamped, into $W/NAME.log.
declare -A PINGS=()
ping_go() {
	ip netns exec "$2" ping -n -D -i 0.1 -c "$(($4 * 10))" -W 3 "$3" >"$W/$1.log" 2>&1 &
	PINGS[$1]=$!
}

# Pings of FILE sent within [FROM, TO) ms and how many of those were never
# answered: W_SENT, W_LOST. A ping's time is its reply's stamp; a lost
# one's, the last reply's plus 100 ms per ping since.
window_loss() {
	local out
	out=$(awk -v from="$2" -v to="$3" '
		/bytes from/ && match($0, /icmp_seq=[0-9]+/) {
			seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
			if (!(seq in ts)) ts[seq] = substr($1, 2, length($1) - 2) * 1000
			if (seq > max) max = seq
		}
		/packets transmitted/ { if ($1 > max) max = $1 }
		END {
			sent = 0; lost = 0; last = 0
			for (s = 1; s <= max; s++) {
				if (s in ts) { t = ts[s]; last = s; lt = t }
				else if (last) t = lt + (s - last) * 100
				else continue
				if (t < from || t >= to) continue
				sent++; if (!(s in ts)) lost++
			}
			print sent, lost
		}' "$1")
	read -r W_SENT W_LOST <<<"$out"
}

hook() {
	# shellcheck source=../ike-lib.sh
	source "$HERE/../ike-lib.sh"
	W=$LAB_STATE/flood
	mkdir -p "$W"
	ike_init "$W"
	local tool=${CGW_FLOODTOOL:-$LAB_BUILD/tests/vm/cgw-floodtool}
	[[ -x $tool ]] || fail "no $tool: build it (ninja -C \$CGW_BUILD_DIR) or set CGW_FLOODTOOL"
	setup_attacker
	vm_log "attacker namespace $ATK: 10.99.0.2, $([[ $VIA == direct ]] && echo "on a link of $LAB_NS_GW" || echo "behind $LAB_NS_AWS"); 100.64.0.0/16 routed to it"

	status_read || fail "cgwctl status failed"
	local spis0=$ST_SPIS ike0=$ST_IKE est0=$ST_ESTCOUNT cookies0=$ST_COOKIES
	((ST_EST == 2)) || fail "before the flood: $ST_EST BGP sessions Established, expected 2"
	[[ $spis0 == *"aws-1="*"["*"/"*"]"*"aws-2="*"["*"/"*"]"* ]] ||
		fail "before the flood: tunnels not both established with a CHILD SA: $spis0"
	proc_read
	local rss0=$RSS_KB
	vm_log "before: $spis0; cookies $cookies0; cgwd rss ${rss0} kB"

	local run_s=$((FLOOD_S + 25))
	ping_go vti1 "$LAB_NS_GW" 169.254.10.1 "$run_s"
	ping_go vti2 "$LAB_NS_GW" 169.254.11.1 "$run_s"
	ping_go lan "$LAB_NS_LAN" "$LAB_VPC_HOST" "$run_s"
	ike_nap 5

	status_read || fail "cgwctl status failed"
	local rekeys0=$ST_REKEYS
	now_ms
	local t_start=$NOW_MS
	proc_read
	udp_read
	local cpu0=$CPU_TICKS ut0=$UTIME st0=$STIME udp_in0=$UDP_IN udp_drop0=$UDP_RCVBUF
	# CGW_FLOOD_PROCS flooders share the rate (under TCG a second one
	# mostly takes CPU from the rest of the VM).
	local i fpids=()
	for ((i = 1; i <= PROCS; i++)); do
		ip netns exec "$ATK" "$tool" --dst "$LAB_GW_WAN" --src 198.51.100.1 \
			--src 198.51.100.129 --src 100.64.0.0/16 --pps "$((PPS / PROCS))" \
			--seconds "$FLOOD_S" >"$W/flood.$i.out" 2>&1 &
		fpids+=("$!")
	done
	local fpid=${fpids[0]} half_max=0 rss_max=0 samples=0 ctl_fail=0 est_min=2 rekeyed=0
	REKEY_SEEN=""
	while alive "$fpid"; do
		ike_nap 3
		# A third of the way in, a CHILD rekey of aws-1: the control
		# plane must get through the flood.
		if ((!rekeyed)); then
			now_ms
			if ((NOW_MS - t_start >= FLOOD_S * 1000 / 3)); then
				ctl tunnel rekey aws-1 >"$W/rekey.out" 2>&1 ||
					fail "cgwctl tunnel rekey aws-1 failed during the flood: $(cat "$W/rekey.out")"
				rekeyed=$NOW_MS
				vm_log "flood: CHILD rekey of aws-1 started ($(( (NOW_MS - t_start) / 1000 )) s in)"
			fi
		fi
		proc_read
		((RSS_KB > rss_max)) && rss_max=$RSS_KB
		if status_read; then
			samples=$((samples + 1))
			((ST_HALF > half_max)) && half_max=$ST_HALF
			((ST_EST < est_min)) && est_min=$ST_EST
			((ST_ESTCOUNT == est0)) || est_min=-1
			if [[ -z $REKEY_SEEN ]] && ((rekeyed)); then rekey_done || true; fi
		else
			ctl_fail=$((ctl_fail + 1))
		fi
	done
	for i in "${!fpids[@]}"; do
		wait "${fpids[i]}" || fail "cgw-floodtool failed: $(cat "$W/flood.$((i + 1)).out")"
	done
	now_ms
	local t_end=$NOW_MS
	proc_read
	udp_read
	local cpu1=$CPU_TICKS rss1=$RSS_KB ut1=$UTIME st1=$STIME
	local udp_in=$((UDP_IN - udp_in0)) udp_drop=$((UDP_RCVBUF - udp_drop0))
	local flood
	flood=$(sed -n 's/^FLOODTOOL //p' "$W"/flood.*.out | jq -s -c '{sent: (map(.sent) | add),
		seconds: (map(.seconds) | max), pps: ((map(.sent) | add) / (map(.seconds) | max) | round),
		target_pps: (map(.target_pps) | add), errors: (map(.errors) | add),
		sources: .[0].sources, processes: length}')
	[[ $(jq .processes <<<"$flood") == "$PROCS" ]] ||
		fail "cgw-floodtool printed no result: $(cat "$W"/flood.*.out)"
	vm_log "flood over: $flood; the gateway's UDP: $udp_in delivered, $udp_drop dropped (socket queue full)"
	status_read || fail "cgwctl status failed right after the flood"
	local cookies1=$ST_COOKIES
	((ST_HALF > half_max)) && half_max=$ST_HALF
	# The rekey must complete (within its retransmissions: 31 s).
	[[ -n $REKEY_SEEN ]] || until_ok 40 "aws-1's CHILD rekey to complete" rekey_done ||
		fail "aws-1's CHILD rekey, started during the flood, did not complete: rekeys $rekeys0 -> $ST_REKEYS"
	local t_rekey=$(( (REKEY_SEEN - rekeyed) / 1000 ))
	local p
	for p in "${PINGS[@]}"; do wait "$p" 2>/dev/null || true; done

	# The figures.
	local cpu_s cpu_pct ut_s st_s
	cpu_s=$(awk -v t="$((cpu1 - cpu0))" 'BEGIN { printf "%.2f", t / 100 }')
	ut_s=$(awk -v t="$((ut1 - ut0))" 'BEGIN { printf "%.2f", t / 100 }')
	st_s=$(awk -v t="$((st1 - st0))" 'BEGIN { printf "%.2f", t / 100 }')
	cpu_pct=$(awk -v c="$cpu_s" -v s="$(((t_end - t_start) / 1000))" 'BEGIN { printf "%.0f", s ? 100 * c / s : 0 }')
	local name losses="" worst=0 after_lost=0 pj=""
	for name in vti1 vti2 lan; do
		window_loss "$W/$name.log" "$t_start" "$t_end"
		local pct=0 sent=$W_SENT lost=$W_LOST
		((sent > 0)) || fail "ping $name: none sent during the flood ($W/$name.log)"
		pct=$((100 * lost / sent))
		((pct > worst)) && worst=$pct
		window_loss "$W/$name.log" "$((t_end + 2000))" "$((t_end + 12000))"
		after_lost=$((after_lost + W_LOST))
		losses+="${losses:+, }$name $lost/$sent lost"
		pj+="${pj:+,}\"$name\":{\"sent\":$sent,\"lost\":$lost,\"lost_after\":$W_LOST,\"sent_after\":$W_SENT}"
	done
	local c0 c1 grew=1
	read -r -a c0 <<<"$cookies0"
	read -r -a c1 <<<"$cookies1"
	for i in "${!c1[@]}"; do ((c1[i] > c0[i])) || grew=0; done

	# Back to normal: the half-open SAs expire.
	local t_half=""
	for ((i = 0; i < 50; i++)); do
		status_read && ((ST_HALF == 0)) && { now_ms; t_half=$(( (NOW_MS - t_end) / 1000 )); break; }
		ike_nap 1
	done
	proc_read
	local rss2=$RSS_KB
	ping_go post "$LAB_NS_LAN" "$LAB_VPC_HOST" 3
	wait "${PINGS[post]}" || true
	window_loss "$W/post.log" 0 99999999999999
	local post_lost=$W_LOST post_sent=$W_SENT
	status_read || fail "cgwctl status failed after the flood"

	printf 'CGW-FLOOD-RESULT {"via":"%s","flood":%s,"udp_delivered":%s,"udp_dropped_queue_full":%s,"cgwd_cpu_s":%s,"cgwd_utime_s":%s,"cgwd_stime_s":%s,"cgwd_cpu_pct":%s,"rss_kb":{"before":%s,"max":%s,"after":%s,"settled":%s},"cookies_before":"%s","cookies_after":"%s","half_open_max":%s,"half_open_gone_after_s":%s,"rekey_during_flood_done_s":%s,"status_samples":%s,"status_failures":%s,"pings":{%s},"post_pings":{"sent":%s,"lost":%s}}\n' \
		"$VIA" "$flood" "$udp_in" "$udp_drop" "$cpu_s" "$ut_s" "$st_s" "$cpu_pct" "$rss0" "$rss_max" "$rss1" \
		"$rss2" "$cookies0" "$cookies1" "$half_max" "${t_half:-null}" "$t_rekey" "$samples" \
		"$ctl_fail" "$pj" "$post_sent" "$post_lost"
	vm_log "flood: $(jq -r '"\(.sent) sent in \(.seconds) s: \(.pps) pps (target \(.target_pps))"' <<<"$flood"); cgwd cpu ${cpu_s} s (${cpu_pct}%: user ${ut_s}, system ${st_s}), rss ${rss0} -> ${rss1} -> ${rss2} kB; cookies ${cookies0} -> ${cookies1}; half-open max ${half_max}, gone ${t_half:-never} s after; aws-1's CHILD rekey done ${t_rekey} s after it started; pings during the flood: $losses; after: $after_lost lost"

	# Each tunnel keeps its IKE SA; aws-2 its CHILD SA too; aws-1 has one
	# new CHILD SA pair (the rekey), not the old one.
	local fails=() new1 old1
	old1=${spis0#aws-1=*[}
	old1=${old1%%]*}
	new1=${ST_SPIS#aws-1=*[}
	new1=${new1%%]*}
	((grew)) || fails+=("cookies_sent did not grow on every tunnel: $cookies0 -> $cookies1")
	((half_max <= HALF_OPEN_MAX)) || fails+=("$half_max half-open SAs at a sample (cookies engage at $HALF_OPEN_MAX)")
	[[ -n $t_half ]] || fails+=("half-open SAs still there 50 s after the flood ($ST_HALF)")
	[[ $ST_IKE == "$ike0" ]] || fails+=("the IKE SAs changed (re-authenticated?): before $ike0; after $ST_IKE")
	[[ ${ST_SPIS#*aws-2=} == "${spis0#*aws-2=}" ]] ||
		fails+=("aws-2's SAs changed: before $spis0; after $ST_SPIS")
	[[ $new1 != *,* && -n $new1 && $new1 != "$old1" ]] ||
		fails+=("aws-1 after its rekey: CHILD SAs [$new1], before [$old1]")
	((est_min == 2)) || fails+=("a BGP session left Established or was re-established during the flood")
	((ST_EST == 2 && ST_ESTCOUNT == est0)) ||
		fails+=("after the flood: $ST_EST sessions Established, established_count $ST_ESTCOUNT (was $est0)")
	((worst <= MAX_LOSS_PCT)) || fails+=("pings lost during the flood: $losses (limit ${MAX_LOSS_PCT} %)")
	((after_lost == 0 && post_lost == 0)) ||
		fails+=("pings lost after the flood: $after_lost in the 10 s after it, $post_lost of $post_sent later")
	((rss2 - rss0 <= RSS_MARGIN_KB)) || fails+=("cgwd's RSS grew from $rss0 to $rss2 kB")
	if ((${#fails[@]})); then
		printf 'FAIL: flood: %s\n' "${fails[@]}"
		exit 1
	fi
	pass "flood: same IKE SAs, aws-1 rekeyed through it, BGP up, cookies engaged, half-open <= $half_max"
}

# aws-1's CHILD rekey counter moved past rekeys0 (REKEY_SEEN: when seen).
rekey_done() {
	local -a r0 r1
	status_read || return 1
	read -r -a r0 <<<"$rekeys0"
	read -r -a r1 <<<"$ST_REKEYS"
	((r1[0] > r0[0])) || return 1
	now_ms
	REKEY_SEEN=$NOW_MS
}

# ================================================================ the scenario

scenario() {
	SRC=$(cd "$CGW_VM_DIR/../.." && pwd)
	BUILD=$(cd "${CGW_BUILD_DIR:-$SRC/build}" 2>/dev/null && pwd) || BUILD=${CGW_BUILD_DIR:-$SRC/build}
	check_kernel_modules
	require_cmd ip ping jq swanctl bird birdc /usr/sbin/charon-systemd
	[[ -x $BUILD/daemon/cgwd && -x $BUILD/cgwctl/cgwctl ]] ||
		skip "no cgwd/cgwctl in $BUILD: build first, set CGW_BUILD_DIR"
	local tool=${CGW_FLOODTOOL:-$BUILD/tests/vm/cgw-floodtool}
	[[ -x $tool ]] || skip "no $tool: build it (ninja) or set CGW_FLOODTOOL"
	export CGW_FLOODTOOL=$tool
	T=$(mktemp -d /tmp/cgwt-flood.XXXXXX)
	on_exit "rm -rf $T"
	local st=0
	CGW_BUILD_DIR=$BUILD CGW_LAB_EXPECT=up CGW_LAB_GATEWAY=cgwd CGW_LAB_REKEYS=0 \
		CGW_LAB_RUN=$HERE/71-sa-init-flood.sh CGW_LAB_STATE=/run/cgwt-flood \
		CGW_LAB_PREFIX=cgwt71- CGW_LAB_HOLD=0 \
		bash "$SRC/lab/lab.sh" 2>&1 | tee "$T/lab.out" || st=${PIPESTATUS[0]}
		case $st in
	0) ;;
	77) skip "the lab skipped: $(grep -m1 'SKIP:' "$T/lab.out" || echo '?')" ;;
	*) fail "the flood scenario failed (lab.sh exited $st): $(grep -m1 -E '^FAIL:' "$T/lab.out" || echo 'no FAIL line')" ;;
	esac
	local res
	res=$(sed -n 's/^CGW-FLOOD-RESULT //p' "$T/lab.out" | tail -n1)
	[[ -n $res ]] || fail "the flood hook passed but printed no CGW-FLOOD-RESULT line"
	echo "CGW-FLOOD-RESULT $res"
	j() { jq -r "$1" <<<"$res"; }
	pass "SA_INIT flood: $(j .flood.sent) requests in $(j .flood.seconds) s = $(j .flood.pps) pps (target $(j .flood.target_pps)) from 2 spoofed peer addresses + 100.64.0.0/16; cookies $(j .cookies_before) -> $(j .cookies_after); half-open SAs at most $(j .half_open_max), gone $(j .half_open_gone_after_s) s after"
	pass "tunnels and BGP held: same IKE SAs (no re-authentication), aws-1's CHILD rekey through the flood done in $(j .rekey_during_flood_done_s) s, sessions Established throughout; the gateway's UDP queue dropped $(j .udp_dropped_queue_full) of $(j '.udp_dropped_queue_full + .udp_delivered') datagrams; pings lost during the flood: vti1 $(j .pings.vti1.lost)/$(j .pings.vti1.sent), vti2 $(j .pings.vti2.lost)/$(j .pings.vti2.sent), lan->vpc $(j .pings.lan.lost)/$(j .pings.lan.sent); after: 0"
	pass "cgwd: $(j .cgwd_cpu_s) s CPU over the flood ($(j .cgwd_cpu_pct) % of one CPU), RSS $(j .rss_kb.before) -> max $(j .rss_kb.max) -> $(j .rss_kb.settled) kB"
	pass "71-sa-init-flood"
}

if [[ -n ${LAB_STATE:-} ]]; then
	hook
else
	scenario
fi

#!/bin/bash
# Faults under traffic. The lab (lab/lab.sh) builds cgwd's world: two
# tunnels with BGP to an emulated AWS side of strongSwan 5.9 + BIRD 2
# (AWS-like: hold 30 s, DPD, the BGP session reset with its tunnel), LAN
# and VPC hosts:
#
#  ns lan          ns gw (cgwd)             ns aws (strongSwan + BIRD)       ns vpc
#  192.168.2.10 -- 192.168.2.1              203.0.113.1 (internet router)   172.20.1.10
#                  203.0.113.10 ----------- lo 198.51.100.1   (aws-1) ---- 172.20.0.1
#                  vti1 169.254.10.2 ====== vti1 169.254.10.1  MED 100
#                  vti2 169.254.11.2 ====== vti2 169.254.11.1  MED 200
#                                           lo 198.51.100.129 (aws-2)
#
# This script runs the lab with itself as the lab's hook (CGW_LAB_RUN).
# A ping lan -> vpc runs through every case; one PASS/FAIL line each:
#   kill-9    kill -9 cgwd, start it again with the lab's command line: it
#             cleans up what the dead one left (no duplicate XFRM states
#             or policies, one VTI per tunnel), both tunnels and BGP
#             sessions come back, the VPC route is back in the kernel (via
#             vti1, one route); time to route-back and pings lost.
#   reload-errors  a config with an error, cgwctl reload: refused with the
#             error's line, the old config keeps running (same SPIs, no
#             rekey, no BGP session reset: same establishment count,
#             uptime going on), no ping lost; then the good file again,
#             reload: nothing changes either.
#   reload-one  only aws-2's ESP proposal changes, reload: aws-2 alone is
#             renegotiated (new SPIs, its session comes back); aws-1 is
#             untouched: same SPIs, no rekey, same VTI, its BGP session
#             not reset at either end (cgwd's count and uptime, BIRD's
#             "since"), no ping lost.
#   flood     CGW_73_FLOOD (default 60,000) route adds and deletes with
#             ip -batch in the gateway's namespace while cgwd runs (cgwd
#             subscribes to no rtnetlink group: its routes are written,
#             not watched; the flood must not disturb it): cgwd answers
#             during the flood, its route and sessions untouched, no
#             warning in its log.
#   both-down both AWS endpoints blackholed (nft in ns aws): cgwd declares
#             both peers dead and the BGP route leaves the kernel; the
#             drop goes: both tunnels and sessions back, the route back
#             via vti1, one SA pair per tunnel; times and pings lost.
# Takes 4-6 minutes under TCG, about half of it the lab's start.
#
# Environment: CGW_BUILD_DIR (cgwd, cgwctl); CGW_73_FLOOD (route
# operations in the flood); CGW_73_KILL_ROUNDS (kill -9 and restart that
# many times, default 1); CGW_LAB_* reach the lab.

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# ---------------------------------------------------------------- the hook

if [[ ${CGW_73_HOOK:-} == 1 ]]; then
	# shellcheck source=../ike-lib.sh
	source "$CGW_VM_DIR/ike-lib.sh"
	T=$CGW_73_DIR
	ike_init "$T"
	SOCK=$LAB_CGWD_SOCK
	CTL=("$LAB_CGWCTL" -s "$SOCK")
	GW=$LAB_NS_GW
	read -r AWS1 AWS2 <<<"$LAB_TUN_AWS"
	PID=${LAB_PID_cgwd:?the lab exported no cgwd pid}
	LOG=$LAB_CGWD_LOG
	CASE=setup
	RESULTS=()

	die() {
		echo "---- last 40 lines of $LOG"
		tail -n 40 "$LOG" 2>/dev/null || true
		ping_stop
		fail "$CASE: $*"
	}
	# cgwd started by us (after kill -9) is ours to stop: the lab's
	# teardown knows only the pid it started.
	OUR_CGWD=""
	stop_ours() {
		ping_stop
		[[ -n $OUR_CGWD ]] || return 0
		kill -TERM "$OUR_CGWD" 2>/dev/null || return 0
		local i
		for ((i = 0; i < 100; i++)); do alive "$OUR_CGWD" || return 0; ike_nap 0.1; done
		kill -KILL "$OUR_CGWD" 2>/dev/null || true
	}
	trap stop_ours EXIT

	elapsed_s() { now_ms; fmt_ms $((NOW_MS - $1)); }

	# ---- cgwd's view
	STATUS=""
	status() { STATUS=$("${CTL[@]}" status --json 2>/dev/null); }
	# nb FIELD NAME: a neighbor's field from STATUS
	nb() { jq -r --arg n "$2" ".neighbors[] | select(.name == \$n) | .$1 // \"-\"" <<<"$STATUS"; }
	all_up() {	# both tunnels up with one IKE and one CHILD SA, both sessions Established
		status || return 1
		[[ $(jq '[.tunnels[] | select(.state == "up" and (.ike_sas | length) == 1 and
			([.ike_sas[].children[]?] | length) == 1)] | length' <<<"$STATUS") == 2 &&
		   $(jq '[.neighbors[] | select(.state == "Established")] | length' <<<"$STATUS") == 2 ]]
	}
	none_up() {
		status || return 1
		[[ $(jq '[.tunnels[] | select(.state == "up")] | length' <<<"$STATUS") == 0 ]]
	}
	# The kernel's route to the VPC: exactly one, via vti1, from BGP.
	ROUTE=""
	route_vti1() {
		ROUTE=$(ip -n "$GW" route show "$LAB_VPC_NET") || return 1
		[[ $ROUTE =~ via\ 169\.254\.10\.1\ dev\ vti1\ proto\ bgp && $ROUTE != *$'\n'* ]]
	}
	route_gone() { ROUTE=$(ip -n "$GW" route show "$LAB_VPC_NET") && [[ -z $ROUTE ]]; }
	aws_one_sa_each() {	# the AWS side: one IKE SA and one CHILD SA per tunnel
		local out
		out=$("$LAB_AWS_SWANCTL" --list-sas 2>/dev/null) || return 1
		[[ $(grep -c ': #[0-9]*, ESTABLISHED' <<<"$out") == 2 &&
		   $(grep -c 'INSTALLED, TUNNEL' <<<"$out") == 2 ]]
	}
	bird_since() {	# bird_since PROTO: "state since" of a BIRD protocol
		$LAB_AWS_BIRDC show protocols "$1" | awk -v p="$1" '$1 == p { print $4, $5, $6 }'
	}

	# snapshot NAME: what must not change on an untouched tunnel
	declare -A SNAP=() EST=() UP=()
	snapshot() {
		local n=$1
		tunnel_stat "$SOCK" "$n" || die "cgwctl status has no tunnel $n"
		ifindex_of "vti${n#aws-}"
		SNAP[$n]="SPIs $TS_SPIS, rekeys $TS_REKEYS CHILD/$TS_IKE_REKEYS IKE, vti ifindex $IFX"
		status || die "cgwctl status"
		EST[$n]=$(nb established_count "$n")
		UP[$n]=$(nb uptime "$n")
	}
	ifindex_of() { local l; l=$(ip -n "$GW" -o link show "$1" 2>/dev/null) || { IFX=none; return 0; }; IFX=${l%%:*}; }
	# untouched NAME SECS: same SAs and VTI, same BGP session (count, and
	# an uptime that went on for at least SECS - 2)
	untouched() {
		local n=$1 secs=$2 before=${SNAP[$1]} est=${EST[$1]} up=${UP[$1]}
		snapshot "$n"
		[[ ${SNAP[$n]} == "$before" ]] || die "$n was touched: before: $before; after: ${SNAP[$n]}"
		[[ ${UP[$n]} =~ ^[0-9]+$ && $up =~ ^[0-9]+$ ]] || die "$n: BGP session not Established (uptime ${UP[$n]}, before $up)"
		[[ ${EST[$n]} == "$est" ]] ||
			die "$n: BGP session reset (established $est -> ${EST[$n]} times)"
		((${UP[$n]} >= up + secs - 2)) ||
			die "$n: BGP uptime ${UP[$n]} s, was $up s $secs s ago: the session was reset"
	}

	# ---- cgwd's log: the lab's until kill -9, ours after
	log_mark() { file_size "$LOG"; LOG_OFF=$FILE_SIZE; }
	warnings_since() {	# warnings_since OFF: cgwd's warning lines since
		count_since "$LOG" 'ENOBUFS|cannot|error|fail|lost' "$1"
	}

	ping_begin() { ping_start "$LAB_NS_LAN" "$LAB_VPC_HOST" 0.02 600 "$T/ping-$CASE.log"; }
	ping_end() {
		ping_stop
		ping_account "$T/ping-$CASE.log" "${1:-}" || die "no ping statistics in $T/ping-$CASE.log"
	}

	# ================================================================ kill -9
	case_kill9() {
		CASE=kill-9
		kcount "$GW" || die "ip xfrm"
		local before_pol=$K_CGW_POLICIES before
		before=$(kcount_str)
		((K_STATES == 4 && K_VTIS == 2)) || die "before: $(kcount_str): expected 4 ESP states and 2 VTIs"
		ping_begin
		ike_nap 2
		now_ms
		local t_kill=$NOW_MS
		local victim=${OUR_CGWD:-$PID}
		kill -KILL "$victim"
		until_ok 10 "cgwd to die" eval '! alive $victim' || die "cgwd (pid $victim) survived kill -9"
		# The lab's command line (start_cgwd), our own timestamped log.
		LOG=$T/cgwd-restarted.log
		[[ -p $T/cgwd.fifo ]] || mkfifo -m 0600 "$T/cgwd.fifo"
		log_mark
		local off=$LOG_OFF
		_ts_lines <"$T/cgwd.fifo" >>"$LOG" &
		now_ms
		local t_start=$NOW_MS
		# shellcheck disable=SC2086  # CGW_LAB_CGWD_ARGS: words
		setsid ip netns exec "$GW" "$LAB_CGWD" -c "$LAB_CGWD_CONF" ${CGW_LAB_CGWD_ARGS:-} \
			>"$T/cgwd.fifo" 2>&1 &
		OUR_CGWD=$!
		# shellcheck disable=SC2034  # read by cgwd_wait_ctl (ike-lib.sh)
		CGWD_PID=$OUR_CGWD
		vm_log "[kill-9] cgwd $victim killed; restarted as pid $OUR_CGWD: $LAB_CGWD -c $LAB_CGWD_CONF ${CGW_LAB_CGWD_ARGS:-}"
		local WATCH_PID=$OUR_CGWD WATCH_NAME=cgwd
		cgwd_wait_ctl "$SOCK" || die "the restarted cgwd does not answer on $SOCK"
		until_ok 90 "both tunnels up and both sessions Established" all_up ||
			die "not back: $(jq -c '[.tunnels[] | {name, state}], [.neighbors[] | {name, state}]' <<<"$STATUS")"
		local s_up
		elapsed_s "$t_start"; s_up=$S
		until_ok 30 "$LAB_VPC_NET via vti1 in the kernel" route_vti1 ||
			die "no route to $LAB_VPC_NET via vti1: ${ROUTE:-none}"
		local s_route
		elapsed_s "$t_start"; s_route=$S
		until_ok 30 "the AWS side to keep one IKE and one CHILD SA per tunnel" aws_one_sa_each ||
			die "the AWS side holds old SAs: $("$LAB_AWS_SWANCTL" --list-sas | grep -E 'ESTABLISHED|INSTALLED' | tr '\n' ' ')"
		ike_nap 2
		ping_end "$t_kill"
		kcount "$GW" || die "ip xfrm"
		((K_STATES == 4 && K_LARVAL == 0 && K_CGW_POLICIES == before_pol && K_VTIS == 2)) ||
			die "kernel state after the restart: $(kcount_str) (larval $K_LARVAL); before: $before"
		local cleaned="" retries=""
		grep_line "$LOG" 'xfrm: flush: ' "$off" && cleaned=${MATCH#* cgwd: }
		grep_line "$LOG" 'vti: flush: ' "$off" && cleaned+=", ${MATCH#* cgwd: }"
		count_lines "$LOG" 'failed in [A-Z_]+: ' "$off"
		if ((COUNT)); then
			# Not an error in itself (cgwd tries again), but say why, with
			# the AWS side's view of it.
			retries="; $COUNT failed attempt(s), tried again: $(tail -c +$((off + 1)) "$LOG" | grep -E 'failed in [A-Z_]+: ' | sed 's/^[0-9.]* cgwd: //' | tr '\n' ' ')"
			echo "---- cgwd's log of the restart"
			tail -c +$((off + 1)) "$LOG" | grep -v -E '\[(xfrm|vti)\]' | head -n 60
			echo "---- the AWS side's charon.log around the failed attempt(s)"
			grep -E 'authentication|AUTH|no matching|peer config|unique|INITIAL_CONTACT|deleting|received|sending' \
				"$LAB_AWS_DIR/charon.log" | tail -n 60
		fi
		RESULTS+=("kill-9: restarted cgwd (${cleaned:-no flush line}): both tunnels and BGP sessions up after $s_up s, $LAB_VPC_NET via vti1 in the kernel after $s_route s; kernel: $(kcount_str) as before (no duplicates); ping (50/s) lost $P_LOST of $P_TX${P_GAP:+, a gap of $P_GAP ms}$retries")
		pass "${RESULTS[-1]}"
	}

	# ================================================================ reload with errors
	case_reload_errors() {
		CASE=reload-errors
		snapshot aws-1
		snapshot aws-2
		cp -p "$LAB_CGWD_CONF" "$T/cgw.conf.good"
		ping_begin
		now_ms
		local t0=$NOW_MS out st=0
		# aws-2's mark becomes a word: an error on that line
		sed -i 's/^mark = 200$/mark = two-hundred/' "$LAB_CGWD_CONF"
		grep -q '^mark = two-hundred$' "$LAB_CGWD_CONF" || die "could not break the config"
		out=$("${CTL[@]}" --json reload 2>&1) || st=$?
		((st == 1)) || die "cgwctl reload of a broken config exited $st (want 1): $out"
		local errs line
		line=$(grep -n '^mark = two-hundred$' "$LAB_CGWD_CONF" | cut -d: -f1)
		errs=$(grep -F "$LAB_CGWD_CONF:$line:" <<<"$out") ||
			die "cgwctl does not show the error on line $line of the config: $out"
		[[ $out == *"running config is kept"* ]] || die "the reply does not say the old config is kept: $out"
		ike_nap 3
		cp -p "$T/cgw.conf.good" "$LAB_CGWD_CONF"
		out=$("${CTL[@]}" --json reload 2>&1) || die "reload of the good config failed: $out"
		[[ $(jq -r '[.added, .removed, .changed | length] | add' <<<"$out") == 0 ]] ||
			die "reload of the unchanged config changed something: $out"
		ike_nap 2
		local secs
		now_ms; secs=$(( (NOW_MS - t0) / 1000 ))
		untouched aws-1 "$secs"
		untouched aws-2 "$secs"
		ping_end
		((P_LOST == 0)) || die "$P_LOST pings lost (icmp_seq $P_MISSING)"
		RESULTS+=("reload-errors: refused ($errs), the old config kept: both tunnels keep their SAs (${SNAP[aws-1]}; ${SNAP[aws-2]}), both BGP sessions up (established ${EST[aws-1]}/${EST[aws-2]} times, uptime ${UP[aws-1]} s); the good file again: nothing changed; $P_TX pings, 0 lost")
		pass "${RESULTS[-1]}"
	}

	# ================================================================ reload one tunnel
	_aws2_renewed() {
		all_up && tunnel_stat "$SOCK" aws-2 && [[ $TS_SPIS != "$1" ]]
	}
	case_reload_one() {
		CASE=reload-one
		snapshot aws-1
		snapshot aws-2
		local aws2_spis est2=${EST[aws-2]} bird1
		tunnel_stat "$SOCK" aws-2; aws2_spis=$TS_SPIS
		bird1=$(bird_since aws_1)
		ping_begin
		now_ms
		local t0=$NOW_MS out
		# aws-2's ESP proposal: AES-GCM-128 instead of 256 (the AWS side
		# accepts both)
		awk '/^\[tunnel aws-2\]$/ { s = 1 } /^\[/ && !/aws-2/ { s = 0 }
			s && /^esp = / { $0 = "esp = aes128gcm16-modp2048" } { print }' \
			"$T/cgw.conf.good" >"$T/cgw.conf.new"
		chmod 0600 "$T/cgw.conf.new"
		cp -p "$T/cgw.conf.new" "$LAB_CGWD_CONF"
		out=$("${CTL[@]}" --json reload 2>&1) || die "cgwctl reload failed: $out"
		[[ $(jq -r '.changed | join(",")' <<<"$out") == aws-2 &&
		   $(jq -r '.unchanged | join(",")' <<<"$out") == aws-1 ]] ||
			die "reload should report aws-2 changed, aws-1 unchanged: $out"
		local WATCH_PID=${OUR_CGWD:-$PID} WATCH_NAME=cgwd
		until_ok 60 "aws-2 renegotiated, both sessions Established" _aws2_renewed "$aws2_spis" ||
			die "aws-2 not back with new SAs (status: $(jq -c '[.tunnels[] | {name, state}], [.neighbors[] | {name, state}]' <<<"$STATUS"))"
		local s_back
		elapsed_s "$t0"; s_back=$S
		local new2=$TS_SPIS
		kcount_mark "$GW" 200
		((K_MARK_STATES == 2)) || die "aws-2 has $K_MARK_STATES ESP states (want 2)"
		ip -n "$GW" xfrm state | grep -q -E 'rfc4106\(gcm\(aes\)\) 0x[0-9a-f]{40} 128' ||
			die "no AES-GCM-128 ESP state in the kernel after the reload"
		ike_nap 2
		local secs
		now_ms; secs=$(( (NOW_MS - t0) / 1000 ))
		untouched aws-1 "$secs"
		# BIRD prints "since" from its monotonic clock: the same session may
		# show a millisecond apart. Reset or not: did it start before the reload?
		local bird1_after since_ms
		bird1_after=$(bird_since aws_1)
		since_ms=$(date -d "${bird1_after#up }" +%s%3N 2>/dev/null) || since_ms=""
		[[ $bird1_after == up\ * && -n $since_ms ]] && ((since_ms < t0)) ||
			die "the AWS side's BGP session on aws-1 changed state during the reload: $bird1 -> $bird1_after"
		status
		(($(nb established_count aws-2) == est2 + 1)) ||
			die "aws-2's session: established $est2 -> $(nb established_count aws-2) times (want one more)"
		ping_end
		((P_LOST == 0)) || die "$P_LOST pings lost through aws-1 (icmp_seq $P_MISSING)"
		RESULTS+=("reload-one: aws-2's ESP proposal changed: aws-2 alone renegotiated ($aws2_spis -> $new2, AES-GCM-128 in the kernel, its session up again) after $s_back s; aws-1 untouched (${SNAP[aws-1]}; BGP established ${EST[aws-1]} times, uptime ${UP[aws-1]} s; BIRD: $bird1); $P_TX pings, 0 lost")
		pass "${RESULTS[-1]}"
	}

	# ================================================================ route flood
	case_flood() {
		CASE=flood
		local n=${CGW_73_FLOOD:-60000} half i
		half=$((n / 2))
		awk -v n="$half" 'BEGIN {
			for (i = 0; i < n; i++) printf "route add blackhole 10.%d.%d.%d/32\n", int(i / 65536), int(i / 256) % 256, i % 256
			for (i = 0; i < n; i++) printf "route del blackhole 10.%d.%d.%d/32\n", int(i / 65536), int(i / 256) % 256, i % 256
		}' >"$T/flood.batch"
		snapshot aws-1
		snapshot aws-2
		log_mark
		local off=$LOG_OFF
		ping_begin
		now_ms
		local t0=$NOW_MS
		ip -n "$GW" -batch "$T/flood.batch" >"$T/flood.out" 2>&1 &
		local fpid=$! answered=0 tries=0 st=0
		while alive "$fpid"; do
			tries=$((tries + 1))
			"${CTL[@]}" status >/dev/null 2>&1 && answered=$((answered + 1))
			ike_nap 1
		done
		wait "$fpid" || st=$?
		((st == 0)) || die "ip -batch failed ($st): $(head -n 3 "$T/flood.out")"
		local s_flood rate
		elapsed_s "$t0"; s_flood=$S
		rate=$(( n * 1000 / (NOW_MS - t0 + 1) ))
		((answered == tries)) || die "cgwd answered $answered of $tries cgwctl status during the flood"
		ike_nap 2
		local secs
		now_ms; secs=$(( (NOW_MS - t0) / 1000 ))
		route_vti1 || die "after the flood the kernel's route to $LAB_VPC_NET is: ${ROUTE:-none}"
		untouched aws-1 "$secs"
		untouched aws-2 "$secs"
		alive "${OUR_CGWD:-$PID}" || die "cgwd died"
		warnings_since "$off"
		((COUNT == 0)) || die "cgwd logged $COUNT warnings during the flood: $(tail -c +$((off + 1)) "$LOG" | grep -E 'ENOBUFS|cannot|error|fail|lost' | head -n 3)"
		ping_end
		RESULTS+=("flood: $n route operations ($half adds, $half deletes) in $s_flood s ($rate/s) in cgwd's namespace: cgwd answered all $tries status requests during it, its route ($LAB_VPC_NET via vti1), SAs and BGP sessions untouched, no warning logged; ping lost $P_LOST of $P_TX")
		pass "${RESULTS[-1]}"
	}

	# ================================================================ both tunnels down and up
	bh_on() {
		ip netns exec "$LAB_NS_AWS" nft -f - <<-EOF
		table inet cgwt73_bh {
		  chain in {
		    type filter hook input priority -10; policy accept;
		    ip saddr $LAB_GW_WAN ip daddr { $AWS1, $AWS2 } drop
		  }
		  chain out {
		    type filter hook output priority -10; policy accept;
		    ip saddr { $AWS1, $AWS2 } ip daddr $LAB_GW_WAN drop
		  }
		}
		EOF
	}
	bh_off() { ip netns exec "$LAB_NS_AWS" nft delete table inet cgwt73_bh; }
	down_and_gone() { none_up && route_gone; }
	case_both_down() {
		CASE=both-down
		log_mark
		local off=$LOG_OFF
		ping_begin
		ike_nap 2
		now_ms
		local t_bh=$NOW_MS
		bh_on || die "nft: cannot blackhole the AWS endpoints"
		local WATCH_PID=${OUR_CGWD:-$PID} WATCH_NAME=cgwd
		until_ok 60 "cgwd to declare both tunnels down and the BGP route to leave the kernel" down_and_gone ||
			{ bh_off; die "after 60 s: tunnels $(jq -c '[.tunnels[] | {name, state}]' <<<"$STATUS"), route: ${ROUTE:-none}"; }
		local s_down
		elapsed_s "$t_bh"; s_down=$S

		local t dead=""
		for t in aws-1 aws-2; do
			grep_line "$LOG" "^[0-9.]+ cgwd: $t: peer .* declared dead" "$off" ||
				{ bh_off; die "cgwd logged no 'declared dead' line for $t"; }
			ms_at "$MATCH"
			fmt_ms $((MS - t_bh))
			dead+="${dead:+, }$t at $S s"
		done
		ike_nap 1
		now_ms
		local t_r=$NOW_MS
		bh_off || die "nft: cannot remove the blackhole"
		until_ok 120 "both tunnels and sessions back" all_up ||
			die "not back: $(jq -c '[.tunnels[] | {name, state}], [.neighbors[] | {name, state}]' <<<"$STATUS")"
		local s_up
		elapsed_s "$t_r"; s_up=$S
		until_ok 30 "$LAB_VPC_NET via vti1 in the kernel" route_vti1 ||
			die "no route to $LAB_VPC_NET via vti1: ${ROUTE:-none}"
		local s_route
		elapsed_s "$t_r"; s_route=$S
		until_ok 60 "the AWS side to keep one IKE and one CHILD SA per tunnel" aws_one_sa_each ||
			die "the AWS side holds old SAs: $("$LAB_AWS_SWANCTL" --list-sas | grep -E 'ESTABLISHED|INSTALLED' | tr '\n' ' ')"
		until_ok 60 "the ping to come through again" _ping_back "$T/ping-$CASE.log" "$t_r" ||
			die "no ping reply since the blackhole went"
		local s_ping
		elapsed_s "$t_r"; s_ping=$S
		ike_nap 1
		ping_end "$t_r"
		kcount "$GW" || die "ip xfrm"
		((K_STATES == 4 && K_LARVAL == 0 && K_VTIS == 2)) || die "kernel state: $(kcount_str) (larval $K_LARVAL)"
		RESULTS+=("both-down: both AWS endpoints blackholed: cgwd declared both dead ($dead) and $LAB_VPC_NET left the kernel after $s_down s; drop removed: both tunnels and sessions up after $s_up s, the route via vti1 after $s_route s, pings through after $s_ping s; $(kcount_str); ping lost $P_LOST of $P_TX")
		pass "${RESULTS[-1]}"
	}
	# _ping_back FILE FROM-MS: the ping's last line is a reply stamped after FROM-MS
	_ping_back() {
		local l
		l=$(tail -n 1 "$1") || return 1
		[[ $l =~ ^\[([0-9]+)\.([0-9]{3})[0-9]*\]\ .*bytes\ from ]] || return 1
		((10#${BASH_REMATCH[1]}${BASH_REMATCH[2]} > $2))
	}

	all_up || die "the lab handed over with cgwd not all up"
	route_vti1 || die "the lab handed over without $LAB_VPC_NET via vti1: $ROUTE"
	for ((round = 1; round <= ${CGW_73_KILL_ROUNDS:-1}; round++)); do
		case_kill9
	done
	case_reload_errors
	case_reload_one
	case_flood
	case_both_down
	stop_ours
	OUR_CGWD=""
	pass "73-faults: ${#RESULTS[@]} cases"
	exit 0
fi

# ---------------------------------------------------------------- the scenario

SRC=$(cd "$CGW_VM_DIR/../.." && pwd)
BUILD=$(cd "${CGW_BUILD_DIR:-$SRC/build}" 2>/dev/null && pwd) || BUILD=${CGW_BUILD_DIR:-$SRC/build}
readonly SRC BUILD

check_kernel_modules
require_cmd ip ping jq nft swanctl bird birdc /usr/sbin/charon-systemd setsid awk
[[ -x $BUILD/daemon/cgwd && -x $BUILD/cgwctl/cgwctl ]] ||
	skip "no cgwd/cgwctl in $BUILD: build first, set CGW_BUILD_DIR"
modprobe -qa veth nf_tables 2>/dev/null || true

T=$(mktemp -d /tmp/cgwt-73.XXXXXX)
readonly T
on_exit "rm -rf $T"

t0=$EPOCHREALTIME
CGW_73_HOOK=1 CGW_73_DIR=$T CGW_BUILD_DIR=$BUILD CGW_LAB_EXPECT=up CGW_LAB_GATEWAY=cgwd \
	CGW_LAB_REKEYS=0 CGW_LAB_CGWD_ARGS="-d xfrm -d vti -d ike" CGW_LAB_RUN=$CGW_VM_DIR/scenarios/73-faults.sh \
	CGW_LAB_STATE=/run/cgwt-faults CGW_LAB_PREFIX=cgwt73- CGW_LAB_HOLD=0 \
	run_lab 73-faults "$T/lab.out"
pass "73-faults in $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000000 )) s (lab start included)"

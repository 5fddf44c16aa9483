#!/bin/bash
# cgwd stays up: rekeys under heavy traffic, a peer that restarts without
# state, a blackholed path, an idle dead peer. One cgwd and one strongSwan
# (the AWS side) for the whole scenario, one tunnel t1.
#
#  netns cgwt-sgw (cgwd)                       netns cgwt-saws (charon)
# +-----------------------------+            +------------------------------+
# | wan0 203.0.113.10 ----------+------------+ inet0 203.0.113.1            |
# | vti1 169.254.10.2 (by cgwd) |            | lo 198.51.100.1/32 (AWS end) |
# +-----------------------------+            | vti1 169.254.10.1/30 key 100 |
#                                            +------------------------------+
#
# Cases (in this order, each starts from the tunnel up):
#   rekeys     ping at 200/s across the VTI while both sides rekey on short
#              timers (cgwd esp 40 s / margin 10 s / ike 120 s, strongSwan
#              child 35 s / ike 100 s) and by command: cgwctl and swanctl
#              CHILD rekeys, both at once (collision), IKE rekeys both ways;
#              >= 10 CHILD rekeys, 0 lost pings, one SA pair each side.
#   peer-restart  kill -9 charon (its kernel SAs flushed too: a replaced AWS
#              endpoint has none), start it again (connection loaded, not
#              initiated) with a ping running: cgwd finds out by its fast
#              liveness check and is up again by itself within 15 s.
#   blackhole  nft drops IKE and ESP between the two (AWS side) under a
#              ping: cgwd declares the peer dead within ~5 s, re-initiates
#              with backoff; after the drop is removed the tunnel comes back.
#   idle-dpd   no traffic, the same drop: dead after dpd-delay (3 s) +
#              dpd-timeout (6 s).
#
# Environment: CGW_BUILD_DIR, CGW_STAYUP_CASES (substrings: run only those
# cases; each later case only needs the tunnel up).

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../ike-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../ike-lib.sh"

readonly G=cgwt-sgw A=cgwt-saws
readonly GW_WAN=203.0.113.10 INET_GW=203.0.113.1 AWS=198.51.100.1
readonly AWS_IN=169.254.10.1
readonly PSK=Cgw.scenario50_PSK.stayUp.1
readonly IKE_P=aes256-sha256-modp2048 ESP_P=aes256gcm16-modp2048

T=$(mktemp -d /tmp/cgwt-stayup.XXXXXX)
readonly T SW=$T/sw SOCK=$T/cgwd.sock LOG=$T/cgwd.log SWLOG=$T/sw/charon.log
on_exit "rm -rf $T"
CASE=""
declare -a RESULTS=()
NPASS=0 NFAIL=0 NSKIP=0

# ================================================================ setup

ns_procs_stop_all() { ns_procs_stop "$G"; ns_procs_stop "$A"; }

write_confs() {
	(umask 077; printf '%s' "$PSK" >"$T/t1.psk")
	cat >"$T/cgw.conf" <<-EOF
	[gateway]
	control-socket = $SOCK
	local-address = $GW_WAN

	[tunnel t1]
	remote = $AWS
	psk-file = $T/t1.psk
	inside = 169.254.10.0/30
	vti = vti1
	mark = 100
	ike = $IKE_P
	esp = $ESP_P
	startup = start
	ike-lifetime = 120s
	esp-lifetime = 40s
	rekey-margin = 10s
	dpd-delay = 10s
	dpd-timeout = 30s
	dpd-action = restart
	EOF
	chmod 0600 "$T/cgw.conf"
	# idle-dpd: short DPD. (Not for the other cases: a regular DPD in
	# flight keeps the fast liveness check from starting, see case 3.)
	sed -e 's/^dpd-delay = .*/dpd-delay = 3s/' -e 's/^dpd-timeout = .*/dpd-timeout = 6s/' \
		"$T/cgw.conf" >"$T/cgw-dpd.conf"
	chmod 0600 "$T/cgw-dpd.conf"
	sw_write_conf "$SW"
	# strongSwan rekeys on its own too: IKE at 100 s, CHILD at 35-40 s.
	local conn
	conn=$(sw_conn t1 "$AWS" "$GW_WAN" "$AWS" "$GW_WAN" 100 none "$IKE_P" "$ESP_P")
	conn=${conn/rekey_time = 28530s/rekey_time = 100s}
	conn=${conn/rekey_time = 3330s/rekey_time = 35s}
	conn=${conn/life_time = 3600s/life_time = 40s}
	sw_write_swanctl "$SW" "$conn" "$(sw_secret t1 "$AWS" "$GW_WAN" "$PSK")"
}

setup() {
	vm_log "setup: loading modules"
	check_kernel_modules
	require_cmd ip ping jq swanctl nft "$CHARON"
	[[ -x $CGWD && -x $CGWCTL ]] || skip "no cgwd/cgwctl in $IKE_BUILD: build first, set CGW_BUILD_DIR"
	modprobe -qa veth nf_tables 2>/dev/null || true
	ike_init "$T"
	ns_add "$G" "$A"
	on_exit ns_procs_stop_all
	ip link add wan0 netns "$G" type veth peer name inet0 netns "$A"
	ip -n "$G" -b - <<-EOF
	addr add $GW_WAN/24 dev wan0
	link set wan0 up
	route add default via $INET_GW
	EOF
	ip -n "$A" -b - <<-EOF
	addr add $INET_GW/24 dev inet0
	addr add $AWS/32 dev lo
	link set inet0 up
	link add vti1 type vti local $AWS remote $GW_WAN key 100
	addr add $AWS_IN/30 dev vti1
	link set vti1 mtu 1436 up
	EOF
	nsx "$A" sysctl -q -w net.ipv4.conf.vti1.disable_policy=1 \
		net.ipv4.conf.vti1.rp_filter=0 net.ipv4.conf.all.rp_filter=0
	# nft usable at all? (the blackhole cases need it)
	nsx "$A" nft -f - <<-EOF || fail "nft does not work in $A (nf_tables module?)"
	table inet cgwt_probe {
	  chain c {
	    type filter hook input priority 0; policy accept;
	  }
	}
	EOF
	nsx "$A" nft delete table inet cgwt_probe || fail "nft delete table"
	write_confs
	local out
	out=$("$CGWD" -n -c "$T/cgw.conf" 2>&1) || fail "cgwd -n refuses the config: $out"
	sw_start "$SW" "$A" || fail "charon did not start (see $SW/charon.out)"
	sw_load "$SW" || fail "swanctl --load-all"
	sw "$SW" --version --daemon 2>/dev/null | grep -v '^loaded plugins' >"$T/sw-version" || true
	cgwd_start "$T" "$G" "$T/cgw.conf"
	cgwd_wait_ctl "$SOCK" || fail "cgwd did not answer on $SOCK"
	pass "setup: namespaces $G $A, charon and cgwd running ($(head -1 "$T/sw-version" 2>/dev/null))"
}

# ================================================================ helpers

# ms_at LINE — the epoch-ms timestamp heading a cgwd.log line (_ts_lines)
# or a charon.log line (time_format %s + ms), in MS.
ms_at() { local t=${1%% *}; MS=$((10#${t/./})); }
now_ms() { local t=${EPOCHREALTIME/./}; NOW_MS=$((t / 1000)); }
# fmt_ms MS — "1.234" seconds, in S.
fmt_ms() { local m=$1 sign=""; ((m < 0)) && { sign=-; m=$((-m)); }; printf -v S '%s%d.%03d' "$sign" $((m / 1000)) $((m % 1000)); }
log_off() { file_size "$LOG"; LOG_OFF=$FILE_SIZE; }

# tstat — cgwd's view of t1: TS_STATE TS_REASON TS_REKEYS TS_IKE_REKEYS
# TS_NIKE TS_NCHILD.
tstat() {
	local json out
	json=$(ctl_json "$SOCK") || return 1
	out=$(jq -r '.tunnels[] | select(.name == "t1") | [.state, (.reason // ""),
		(.rekeys // "-"), (.ike_rekeys // "-"), ((.ike_sas // []) | length),
		([(.ike_sas // [])[].children[]?] | length)] | map(tostring) | join("\u001f")' \
		<<<"$json") || return 1
	[[ -n $out ]] || return 1
	IFS=$'\x1f' read -r TS_STATE TS_REASON TS_REKEYS TS_IKE_REKEYS TS_NIKE TS_NCHILD <<<"$out"
}
_is_up() { tstat && [[ $TS_STATE == up ]]; }

# sw_counts — strongSwan: SW_IKE IKE SAs, SW_CHILD installed CHILD SAs.
sw_counts() {
	local line
	SW_IKE=0 SW_CHILD=0
	SW_OUT=$(sw "$SW" --list-sas 2>&1) || return 1
	while IFS= read -r line; do
		if [[ $line =~ ^t1:\ \#[0-9]+,\ ([A-Z_]+), ]]; then
			SW_IKE=$((SW_IKE + 1))
		elif [[ $line =~ ^\ \ t1:\ \#[0-9]+,\ reqid\ [0-9]+,\ INSTALLED ]]; then
			SW_CHILD=$((SW_CHILD + 1))
		fi
	done <<<"$SW_OUT"
}
_one_pair_everywhere() {
	kcount "$G" && ((K_STATES == 2)) || return 1
	local g=$K_STATES
	kcount "$A" && ((K_STATES == 2)) || return 1
	sw_counts && ((SW_IKE == 1 && SW_CHILD == 1)) || return 1
	tstat && [[ $TS_STATE == up && $TS_NIKE == 1 && $TS_NCHILD == 1 ]] || return 1
	G_STATES=$g A_STATES=$K_STATES
}
_ping_ok() { nsx "$G" ping -n -q -c 1 -W 1 "$AWS_IN" >/dev/null 2>&1; }

# ensure_up — the tunnel up and carrying traffic (start of every case).
ensure_up() {
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 60 "t1 up in cgwd's status" _is_up || fail "t1 not up (state ${TS_STATE:-?}: ${TS_REASON:-})"
	until_ok 20 "a ping across t1" _ping_ok || fail "no ping across t1 although it is up"
}

# nft_drop / nft_restore — in the AWS namespace, drop IKE (udp 500/4500)
# and ESP from and to cgwd's address, both ways.
nft_drop() {
	nsx "$A" nft -f - <<-EOF
	table inet cgwt_bh {
	  chain in {
	    type filter hook input priority -10; policy accept;
	    ip saddr $GW_WAN udp dport { 500, 4500 } drop
	    ip saddr $GW_WAN ip protocol esp drop
	  }
	  chain out {
	    type filter hook output priority -10; policy accept;
	    ip daddr $GW_WAN udp sport { 500, 4500 } drop
	    ip daddr $GW_WAN ip protocol esp drop
	  }
	}
	EOF
}
nft_restore() { nsx "$A" nft delete table inet cgwt_bh 2>/dev/null || true; }

# ping stats of FILE: P_TX P_RX
ping_stats() {
	local line
	P_TX="" P_RX=""
	while IFS= read -r line; do
		[[ $line =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]] &&
			{ P_TX=${BASH_REMATCH[1]} P_RX=${BASH_REMATCH[2]}; }
	done <"$1"
	[[ -n $P_TX ]]
}

show_logs() {
	local f
	for f in "$LOG" "$SWLOG"; do
		[[ -s $f ]] || continue
		echo "---- last lines of ${f#"$T"/}"
		tail -n "${CGW_STAYUP_LOG_LINES:-40}" "$f"
	done
}

selected() {
	[[ -z ${CGW_STAYUP_CASES:-} ]] && return 0
	local p
	for p in $CGW_STAYUP_CASES; do [[ $1 == *"$p"* ]] && return 0; done
	return 1
}

# run_case NAME FUNCTION — in a subshell; CHARON_PID is kept in a file.
run_case() {
	local name=$1 t0=$EPOCHREALTIME rc dt
	shift
	selected "$name" || return 0
	CASE=$name
	echo "==== case $name"
	set +e
	(
		set -eE
		trap 'st=$?; printf "FAIL: %s: line %s: command failed (status %s): %s\n" "$CASE" "$LINENO" "$st" "$BASH_COMMAND"' ERR
		"$@"
		alive "$CGWD_PID" || fail "cgwd (pid $CGWD_PID) is no longer running at the end of the case"
	)
	rc=$?
	set -e
	nft_restore
	[[ -r $SW/charon.pid ]] && read -r CHARON_PID <"$SW/charon.pid"
	[[ -r $T/cgwd.pid ]] && read -r CGWD_PID <"$T/cgwd.pid"
	dt=$(((${EPOCHREALTIME/./} - ${t0/./}) / 100000))
	dt="$((dt / 10)).$((dt % 10))s"
	case $rc in
	0) NPASS=$((NPASS + 1)); RESULTS+=("PASS $name ($dt)"); echo "PASS: case $name ($dt)" ;;
	77) NSKIP=$((NSKIP + 1)); RESULTS+=("SKIP $name"); echo "SKIP: case $name" ;;
	*)
		NFAIL=$((NFAIL + 1)); RESULTS+=("FAIL $name ($dt)")
		show_logs
		echo "FAIL: case $name ($dt)" ;;
	esac
	if ! alive "$CGWD_PID"; then
		echo "cgwd is gone: the remaining cases cannot run"
		CGWD_DEAD=1
	fi
}

# ================================================================ cases

# A forced action of the rekeys case, logged.
act() {
	local what=$1
	vm_log "rekeys: $what"
	case $what in
	cgw-child) "$CGWCTL" -s "$SOCK" tunnel rekey t1 child >/dev/null ;;
	sw-child) sw "$SW" --rekey --child t1 >/dev/null ;;
	collision)
		# Both at the same moment: neither waits for the other. (Under
		# TCG the two commands start some 100 ms apart: whether the
		# requests really cross is counted, not asserted. Delaying the
		# AWS side with netem did not make them cross either, and
		# removing the qdisc drops what it holds.)
		"$CGWCTL" -s "$SOCK" tunnel rekey t1 child >/dev/null 2>&1 &
		local p1=$!
		sw "$SW" --rekey --child t1 >/dev/null 2>&1 &
		local p2=$! r=0
		wait "$p1" || r=1
		wait "$p2" || r=1
		return $r ;;
	cgw-ike) "$CGWCTL" -s "$SOCK" tunnel rekey t1 ike >/dev/null ;;
	sw-ike) sw "$SW" --rekey --ike t1 >/dev/null ;;
	esac
}

case_rekeys() {
	ensure_up
	log_off
	local off=$LOG_OFF sw_off
	file_size "$SWLOG"
	sw_off=$FILE_SIZE
	tstat || fail "cgwctl status"
	local r0=$TS_REKEYS i0=$TS_IKE_REKEYS
	local count=14000 plog=$T/ping-rekeys.log t0=$EPOCHREALTIME
	nsx "$G" ping -n -D -i 0.005 -c "$count" -W 3 "$AWS_IN" >"$plog" 2>&1 &
	local ping_pid=$!
	local acts=(cgw-child sw-child collision cgw-ike cgw-child sw-child collision sw-ike
		cgw-child collision sw-child cgw-child collision)
	local a errs=0
	for a in "${acts[@]}"; do
		ike_nap 3.5
		alive "$ping_pid" || break
		act "$a" || { errs=$((errs + 1)); vm_log "rekeys: $a: command failed"; }
	done
	vm_log "rekeys: forced actions done; waiting for the ping to finish"
	local i
	for ((i = 0; i < 600; i++)); do alive "$ping_pid" && ike_nap 0.5 || break; done
	alive "$ping_pid" && { kill -ALRM "$ping_pid"; ike_nap 2; }
	wait "$ping_pid" || true
	local secs
	secs=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000000))
	ping_stats "$plog" || { cat "$plog"; fail "no ping statistics"; }
	local rate=$((P_TX / (secs > 0 ? secs : 1)))
	# Which sequence numbers went unanswered, and when they were sent.
	local line seq prev_seq=0 prev_ts="" missing="" errlines="" loss_ts=()
	while IFS= read -r line; do
		if [[ $line == *icmp_seq=* && $line != *"bytes from"* ]] || [[ $line == *ping:* ]]; then
			errlines+="${errlines:+ | }$line"
			continue
		fi
		[[ $line =~ ^\[([0-9.]+)\]\ .*icmp_seq=([0-9]+) ]] || continue
		seq=${BASH_REMATCH[2]}
		if ((seq > prev_seq + 1)); then
			missing+="${missing:+, }$((prev_seq + 1))..$((seq - 1)) (after the reply stamped $prev_ts)"
			[[ -n $prev_ts ]] && loss_ts+=("$prev_ts")
		fi
		prev_seq=$seq prev_ts=${BASH_REMATCH[1]}
	done <"$plog"
	((prev_seq < P_TX)) && missing+="${missing:+, }$((prev_seq + 1))..$P_TX (at the end)"
	[[ -n $missing ]] && vm_log "rekeys: unanswered icmp_seq: $missing"
	[[ -n $errlines ]] && vm_log "rekeys: ping's error lines: ${errlines:0:1500}"
	# Both logs around each loss (2 s before, 1 s after).
	local lt lms lines=() l f
	for f in "$LOG" "$SWLOG"; do
		file_lines lines "$f"
		for lt in "${loss_ts[@]:0:3}"; do
			lms=${lt%.*}${lt#*.}; lms=$((10#${lms:0:13}))
			echo "---- ${f#"$T"/} around the loss after the reply stamped $lt"
			for l in "${lines[@]}"; do
				[[ $l =~ ^[0-9]+\.[0-9]{3}\  ]] || continue
				[[ $l == *"vici client"* || $l == *"[CFG] vici"* ]] && continue
				ms_at "$l"
				((MS >= lms - 2000 && MS <= lms + 1000)) && printf '%s\n' "$l"
			done
		done
	done
	vm_log "rekeys: ping $P_TX transmitted, $P_RX received in ${secs}s (~$rate/s)"
	# Settle: replaced SAs are deleted a moment after the rekey.
	until_ok 20 "one SA pair on each side" _one_pair_everywhere ||
		{ ip -n "$G" xfrm state; ip -n "$A" xfrm state; printf '%s\n' "$SW_OUT"
		  fail "after the rekeys: cgwd side $K_STATES states? strongSwan $SW_IKE IKE / $SW_CHILD CHILD, cgwd status $TS_NIKE IKE / $TS_NCHILD CHILD (want 2 states each side, 1 IKE + 1 CHILD)"; }
	# Counting. cgwd: CHILD SAs that reached INSTALLED (initial excluded:
	# every line here is a rekey); status counters. strongSwan: CHILD SAs
	# established and IKE SAs rekeyed.
	count_lines "$LOG" "CHILD SA [0-9a-f]+/[0-9a-f]+: [A-Z_]+ -> INSTALLED" "$off"
	local g_inst=$COUNT
	count_lines "$LOG" "rekey collision" "$off"
	local g_coll=$COUNT
	count_lines "$SWLOG" "CHILD_SA t1\{[0-9]+\} established with SPIs" "$sw_off"
	local s_child=$COUNT
	count_lines "$SWLOG" "IKE_SA t1\[[0-9]+\] rekeyed|rekeyed IKE_SA|IKE_SA t1\[[0-9]+\] established between" "$sw_off"
	local s_ike=$COUNT
	local d_child="?" d_ike="?"
	[[ $r0 != - && $TS_REKEYS != - ]] && d_child=$((TS_REKEYS - r0))
	[[ $i0 != - && $TS_IKE_REKEYS != - ]] && d_ike=$((TS_IKE_REKEYS - i0))
	local figures="ping $P_TX sent / $P_RX received (~$rate/s over ${secs}s); CHILD rekeys: cgwd INSTALLED $g_inst, status +$d_child, strongSwan 'CHILD_SA established' lines $s_child; IKE rekeys: status +$d_ike, strongSwan $s_ike; collisions logged by cgwd $g_coll; ${#acts[@]} forced ($errs command errors); states $G_STATES/$A_STATES, strongSwan $SW_IKE IKE + $SW_CHILD CHILD"
	vm_log "rekeys: $figures"
	((P_TX >= 2000)) || fail "rekeys: only $P_TX pings sent: $figures"
	((P_TX == P_RX)) || fail "rekeys: $((P_TX - P_RX)) pings lost (icmp_seq ${missing:-?}; ping's error lines: ${errlines:0:600}): $figures"
	local n_child=$g_inst
	((s_child > n_child)) && n_child=$s_child
	((n_child >= 10)) || fail "rekeys: fewer than 10 CHILD rekeys: $figures"
	[[ $d_ike == "?" ]] || ((d_ike >= 2 || s_ike >= 2)) || fail "rekeys: fewer than 2 IKE rekeys: $figures"
	((errs == 0)) || fail "rekeys: $errs rekey commands failed: $figures"
	pass "rekeys: 0 lost: $figures"
}

case_peer_restart() {
	ensure_up
	local plog=$T/ping-restart.log
	nsx "$G" ping -n -D -i 0.05 -c 300 -W 1 "$AWS_IN" >"$plog" 2>&1 &
	local ping_pid=$!
	ike_nap 2
	log_off
	local off=$LOG_OFF
	now_ms
	local kill_ms=$NOW_MS
	kill -KILL "$CHARON_PID"
	wait "$CHARON_PID" 2>/dev/null || true
	# charon's kernel SAs outlive it; an AWS endpoint replaced for
	# maintenance has none: flush them (iproute2: one xfrm command a call).
	ip -n "$A" xfrm state flush
	ip -n "$A" xfrm policy flush
	vm_log "peer-restart: charon killed, its SAs flushed; starting it again"
	sw_start "$SW" "$A" || fail "charon did not start again"
	sw_load "$SW" || fail "swanctl --load-all"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 40 "cgwd to log t1 up again" grep_line "$LOG" ": tunnel up$" "$off" ||
		{ kill -ALRM "$ping_pid" 2>/dev/null; fail "peer-restart: t1 not up again within 40 s of the kill"; }
	ms_at "$MATCH"
	local up_ms=$MS
	until_ok 5 "status up" _is_up || fail "peer-restart: cgwd logged tunnel up but status says $TS_STATE"
	now_ms
	local st_ms=$NOW_MS
	local dead_line="" down_line=""
	grep_line "$LOG" "declared dead|tunnel down" "$off" && dead_line=${MATCH#* }
	grep_line "$LOG" "declared dead" "$off" && dead_line=${MATCH#* }
	# The ping ends by itself (-c 300; no -w: with a deadline ping stops
	# at the first error the network reports).
	wait "$ping_pid" || true
	ping_stats "$plog" || true
	# The first reply after the gap: the first one stamped after the kill
	# whose predecessor is more than 1 s older.
	local line prev=0 ts first="" gap_ms=0
	while IFS= read -r line; do
		[[ $line =~ ^\[([0-9]+)\.([0-9]{3})[0-9]*\]\ .*bytes\ from ]] || continue
		ts=$((10#${BASH_REMATCH[1]}${BASH_REMATCH[2]}))
		if ((ts > kill_ms && prev > 0 && ts - prev > 1000)); then first=$ts gap_ms=$((ts - prev)); break; fi
		prev=$ts
	done <"$plog"
	fmt_ms $((up_ms - kill_ms)); local t_up=$S
	fmt_ms $((st_ms - kill_ms)); local t_st=$S
	local t_reply="none"
	[[ -n $first ]] && { fmt_ms $((first - kill_ms)); t_reply=$S; fmt_ms "$gap_ms"; t_reply+=" s (gap $S s)"; }
	local figures="kill -> 'tunnel up' ${t_up} s (status up seen at ${t_st} s), kill -> first ping reply after the gap $t_reply; ping ${P_TX:-?} sent / ${P_RX:-?} received; cgwd: ${dead_line:-no 'declared dead' line}"
	vm_log "peer-restart: $figures"
	[[ -n $first ]] || fail "peer-restart: no ping reply after the gap: $figures"
	((up_ms - kill_ms <= 15000)) || fail "peer-restart: up again after more than 15 s: $figures"
	[[ $dead_line == *"fast liveness"* ]] ||
		vm_log "peer-restart: note: not found by the fast liveness check"
	until_ok 20 "one SA pair on each side" _one_pair_everywhere ||
		fail "peer-restart: not one SA pair each side afterwards (cgwd side states, strongSwan $SW_IKE IKE / $SW_CHILD CHILD): $figures"
	pass "peer-restart: $figures"
}

_dead_logged() { grep_line "$LOG" "declared dead" "$1"; }
_backoffs() { count_lines "$LOG" "initiating again in [0-9]+ s" "$1"; ((COUNT >= $2)); }

case_blackhole() {
	ensure_up
	local plog=$T/ping-bh.log
	nsx "$G" ping -n -q -i 0.05 -W 1 -w 150 "$AWS_IN" >"$plog" 2>&1 &
	local ping_pid=$!
	ike_nap 2
	log_off
	local off=$LOG_OFF
	now_ms
	local drop_ms=$NOW_MS
	nft_drop || fail "nft drop rules"
	vm_log "blackhole: dropping IKE and ESP in $A"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 30 "cgwd to declare the peer dead" _dead_logged "$off" ||
		{ kill -ALRM "$ping_pid"; fail "blackhole: cgwd did not declare the peer dead within 30 s"; }
	local dead=$MATCH
	ms_at "$dead"
	local dead_ms=$MS
	fmt_ms $((dead_ms - drop_ms)); local t_dead=$S
	tstat || fail "cgwctl status"
	local st=$TS_STATE reason=$TS_REASON
	vm_log "blackhole: dead after $t_dead s: ${dead#* }; status $st: $reason"
	# Re-initiation with backoff: wait for two backoff lines.
	until_ok 90 "two 'initiating again' lines" _backoffs "$off" 2 ||
		vm_log "blackhole: only $COUNT 'initiating again' line(s)"
	local nb=$COUNT l backs=""
	local data=""; IFS= read -r -d '' data <"$LOG" || true
	while IFS= read -r l; do
		if [[ $l =~ initiating\ again\ in\ ([0-9]+)\ s ]]; then
			ms_at "$l"; fmt_ms $((MS - drop_ms)); backs+="${backs:+, }${BASH_REMATCH[1]} s (at +$S)"
		fi
	done <<<"${data:off}"
	tstat || true
	local st2=$TS_STATE
	log_off
	local off2=$LOG_OFF
	now_ms
	local restore_ms=$NOW_MS
	nft_restore
	vm_log "blackhole: drop removed"
	until_ok 60 "t1 up again" grep_line "$LOG" ": tunnel up$" "$off2" ||
		{ kill -ALRM "$ping_pid"; fail "blackhole: t1 not up within 60 s of removing the drop (backoffs: $backs)"; }
	ms_at "$MATCH"
	fmt_ms $((MS - restore_ms)); local t_back=$S
	fmt_ms $((restore_ms - drop_ms)); local t_drop=$S
	until_ok 20 "a ping across t1" _ping_ok || fail "blackhole: no ping after the tunnel came back"
	kill -ALRM "$ping_pid" 2>/dev/null || true
	wait "$ping_pid" || true
	ping_stats "$plog" || true
	local figures="drop -> dead $t_dead s; status while dropped: $st ($reason); re-initiation backoffs: ${backs:-none}; dropped for $t_drop s; restore -> up $t_back s"
	vm_log "blackhole: $figures"
	[[ $st != up ]] || fail "blackhole: status still up after the peer was declared dead: $figures"
	[[ $reason =~ liveness|dead ]] || fail "blackhole: status reason names neither liveness nor dead: $figures"
	[[ $dead == *"fast liveness"* ]] || fail "blackhole: declared dead, but not by the fast liveness check (${dead#* }): $figures"
	((dead_ms - drop_ms <= 8000)) || fail "blackhole: declared dead after more than 8 s: $figures"
	((nb >= 2)) || fail "blackhole: fewer than 2 re-initiation backoff lines: $figures"
	# dpd-action restart: the first attempt at once, then 1, 2, 4 ... 30 s
	# between attempts (each attempt itself retransmits for ~31 s)
	[[ $backs =~ ^0\ s.*,\ 1\ s ]] || fail "blackhole: backoff does not start 0 s, 1 s: $figures"
	pass "blackhole: $figures"
}

case_idle_dpd() {
	# cgwd again with dpd-delay 3 s, dpd-timeout 6 s.
	kill -TERM "$CGWD_PID"
	local i
	for ((i = 0; i < 100; i++)); do alive "$CGWD_PID" || break; ike_nap 0.1; done
	alive "$CGWD_PID" && fail "idle-dpd: cgwd still running 10 s after SIGTERM"
	echo "---- restart with dpd-delay 3s, dpd-timeout 6s" >>"$LOG"
	cgwd_start "$T" "$G" "$T/cgw-dpd.conf"
	cgwd_wait_ctl "$SOCK" || fail "idle-dpd: restarted cgwd did not answer"
	ensure_up
	# Idle: nothing for a few seconds (the ensure_up ping is answered).
	ike_nap 2
	log_off
	local off=$LOG_OFF
	now_ms
	local drop_ms=$NOW_MS
	nft_drop || fail "nft drop rules"
	vm_log "idle-dpd: dropping IKE and ESP in $A, no traffic"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 40 "cgwd to declare the peer dead" _dead_logged "$off" ||
		fail "idle-dpd: cgwd did not declare the idle peer dead within 40 s"
	local dead=$MATCH
	ms_at "$dead"
	fmt_ms $((MS - drop_ms)); local t_dead=$S
	local d_ms=$((MS - drop_ms))
	tstat || fail "cgwctl status"
	local figures="drop -> dead $t_dead s (dpd-delay 3 s + dpd-timeout 6 s); cgwd: ${dead#* }; status $TS_STATE: $TS_REASON"
	vm_log "idle-dpd: $figures"
	nft_restore
	until_ok 60 "t1 up again" grep_line "$LOG" ": tunnel up$" "$off" ||
		fail "idle-dpd: t1 not up again after removing the drop"
	[[ $dead == *dpd-timeout* ]] || fail "idle-dpd: not declared dead by the DPD timeout: $figures"
	((d_ms >= 5500 && d_ms <= 11000)) || fail "idle-dpd: dead after $t_dead s, want 6..9 s (5.5..11): $figures"
	pass "idle-dpd: $figures"
}

# ================================================================ main

CGWD_DEAD=0
setup
run_case rekeys case_rekeys
((CGWD_DEAD)) || run_case peer-restart case_peer_restart
((CGWD_DEAD)) || run_case blackhole case_blackhole
((CGWD_DEAD)) || run_case idle-dpd case_idle_dpd

[[ -s $T/sw-version ]] && echo "==== strongSwan: $(head -1 "$T/sw-version")"
echo "==== 50-stay-up: $NPASS passed, $NFAIL failed, $NSKIP skipped"
printf '  %s\n' "${RESULTS[@]}"
((NPASS + NFAIL > 0)) || skip "no case selected (CGW_STAYUP_CASES=${CGW_STAYUP_CASES:-})"
((NFAIL == 0)) || fail "$NFAIL case(s) failed"
pass "50-stay-up"

#!/bin/bash
# cgwd stays up against Libreswan 4.10 (pluto) as the AWS-side peer:
# rekeys from both ends under 200 pings a second, a peer that restarts
# without state, a blackholed outer path. One cgwd and one pluto for the
# whole scenario, one tunnel t1 (50-stay-up.sh does the same against
# strongSwan).
#
#  netns cgwt-lgw (cgwd)                       netns cgwt-laws (pluto)
# +-----------------------------+            +--------------------------------+
# | wan0 203.0.113.10 ----------+------------+ inet0 203.0.113.1/24           |
# | vti1 169.254.10.2 (by cgwd) |            |       198.51.100.1/32 (AWS end)|
# +-----------------------------+            | vti1 169.254.10.1/30 key 100   |
#                                            +--------------------------------+
#
# pluto's conn is AWS's side of the tunnel: auto=add (AWS waits for the
# customer), 0/0 <-> 0/0, mark=100/0xffffffff, IKE AES-CBC-256/SHA2-256/
# MODP2048, ESP AES-GCM-16-256 with PFS MODP2048, dpdaction=clear. Its VTI
# is made here (like the strongSwan side's in scenario 50) and its updown
# script is off (leftupdown=%disabled): each updown run costs pluto
# seconds under TCG, and the AWS side has no such script either.
#
# Cases (in this order, each starts from the tunnel up):
#   rekeys        two pings across the VTI (> 200 a second together) for
#                 90 s while both sides rekey: first, every 4 s, a CHILD
#                 rekey by command, alternately cgwctl and whack
#                 --rekey-ipsec, with one IKE rekey from each side among
#                 them (never both at once: see collision); then cgwd's
#                 own timers (esp-lifetime 30 s, rekey-margin 10 s, no
#                 fuzz: every 20 s; ike-lifetime 120 s). pluto's lifetimes
#                 (salifetime 60 s, ikelifetime 180 s, rekeymargin 15 s)
#                 are longer, as AWS's are, so its timers never fire first.
#                 Asserted: >= 10 CHILD and >= 2 IKE rekeys, counted by
#                 cgwd's status (rekeys, ike_rekeys) and pluto's log
#                 ("rekeyed Child SA", "rekeyed IKE SA"); no ping lost
#                 except where Libreswan's responder behaviour makes it
#                 unavoidable (see the comment in case_rekeys: those
#                 losses are attributed one by one and reported); one ESP
#                 state pair in each namespace at the end.
#   peer-restart  kill -9 pluto, flush its kernel SAs (a replaced AWS
#                 endpoint has none), start it again (auto=add) under a
#                 ping: cgwd finds out by its fast liveness check and is up
#                 again by itself within 12 s of the kill.
#   blackhole     nft drops IKE and ESP between the two (AWS side) under a
#                 ping: cgwd declares the peer dead within 8 s, its status
#                 says so, it re-initiates with backoff; after the drop is
#                 removed the tunnel comes back within 15 s and carries the
#                 ping, one ESP pair each side.
#   collision     opt-in (CGW_STAYUP_CASES=collision): both ends rekey at
#                 once; a KNOWN Libreswan 4.10 failure, see case_collision.
#
# Needs Libreswan in the VM cache (tests/vm/prepare-libreswan.sh, which
# vm-run.sh runs on the host); skips without it.
# Environment: CGW_BUILD_DIR, CGW_STAYUP_CASES (substrings: run only those
# cases), CGW_LSW_DEBUG (plutodebug, default none).

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../ike-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../ike-lib.sh"
# shellcheck source=../libreswan.sh
source "$CGW_VM_DIR/libreswan.sh"

readonly G=cgwt-lgw A=cgwt-laws
readonly GW_WAN=203.0.113.10 INET_GW=203.0.113.1 AWS=198.51.100.1
readonly AWS_IN=169.254.10.1 MARK=100 CONN=aws
readonly PSK=Cgw.scenario51_PSK.stayUp.2
readonly REKEY_SECS=90

T=$(mktemp -d /tmp/cgwt-51.XXXXXX)
readonly T L=$T/l SOCK=$T/cgwd.sock LOG=$T/cgwd.log
on_exit "rm -rf $T"
CASE=""
declare -a RESULTS=()
NPASS=0 NFAIL=0 NSKIP=0 CGWD_DEAD=0

# ================================================================ setup

stop_all() {
	[[ -r $T/lsw.pid ]] && read -r LSW_PID <"$T/lsw.pid"
	lsw_stop "$L" >/dev/null 2>&1 || true
	ns_procs_stop "$G"
	ns_procs_stop "$A"
}

write_confs() {
	(umask 077; printf '%s' "$PSK" >"$T/t1.psk")
	(umask 077; cat >"$T/cgw.conf") <<-EOF
	[gateway]
	control-socket = $SOCK
	local-address = $GW_WAN

	[tunnel t1]
	remote = $AWS
	psk-file = $T/t1.psk
	inside = 169.254.10.0/30
	vti = vti1
	mark = $MARK
	ike = aes256-sha256-modp2048
	esp = aes256gcm16-modp2048
	startup = start
	ike-lifetime = 120s
	esp-lifetime = 30s
	rekey-margin = 10s
	rekey-fuzz = 0
	dpd-delay = 10s
	dpd-timeout = 30s
	dpd-action = restart
	EOF
	lsw_dir_init "$L"
	lsw_conn "$L" "$CONN" \
		authby=secret ikev2=insist type=tunnel \
		"left=$AWS" "leftid=$AWS" "right=$GW_WAN" "rightid=$GW_WAN" \
		leftsubnet=0.0.0.0/0 rightsubnet=0.0.0.0/0 \
		'ike=aes256-sha2_256;modp2048' 'esp=aes_gcm256;modp2048' \
		ikelifetime=180s salifetime=60s rekeymargin=15s rekeyfuzz=0% \
		"mark=$MARK/0xffffffff" leftupdown=%disabled replay-window=1024 \
		dpddelay=10 dpdtimeout=30 dpdaction=clear auto=add
	lsw_secret "$L" "$AWS" "$GW_WAN" "$PSK"
}

_conn_loaded() { lsw_log_has "$L" "\"$CONN\".*added IKEv2 connection|added IKEv2 connection.*\"$CONN\""; }
_conn_refused() { lsw_log_has "$L" "failed to add connection"; }

# start_pluto — pluto in $A; returns once it loaded the conn (1 when it
# refused it, exited or took more than 60 s).
start_pluto() {
	rm -f "$L/run/pluto.pid" "$L/run/pluto.ctl"
	lsw_start "$L" "$A"
	echo "$LSW_PID" >"$T/lsw.pid"
	local deadline=$((${EPOCHREALTIME%.*} + 60))
	until _conn_loaded; do
		_conn_refused && { vm_log "pluto refused conn $CONN"; return 1; }
		alive "$LSW_PID" || { vm_log "pluto exited"; return 1; }
		((${EPOCHREALTIME%.*} < deadline)) || { vm_log "pluto did not load conn $CONN in 60 s"; return 1; }
		ike_nap 0.2
	done
}

setup() {
	vm_log "setup: loading modules"
	check_kernel_modules
	require_cmd ip ping jq nft
	[[ -x $CGWD && -x $CGWCTL ]] || skip "no cgwd/cgwctl in $IKE_BUILD: build first, set CGW_BUILD_DIR"
	modprobe -qa veth nf_tables 2>/dev/null || true
	lsw_setup
	ike_init "$T"
	ns_add "$G" "$A"
	on_exit stop_all
	ip link add wan0 netns "$G" type veth peer name inet0 netns "$A"
	ip -n "$G" -b - <<-EOF
	addr add $GW_WAN/24 dev wan0
	link set wan0 up
	route add default via $INET_GW
	EOF
	ip -n "$A" -b - <<-EOF
	addr add $INET_GW/24 dev inet0
	addr add $AWS/32 dev inet0
	link set inet0 up
	link add vti1 type vti local $AWS remote $GW_WAN key $MARK
	addr add $AWS_IN/30 dev vti1
	link set vti1 mtu 1436 up
	EOF
	nsx "$A" sysctl -q -w net.ipv4.conf.vti1.disable_policy=1 \
		net.ipv4.conf.vti1.rp_filter=0 net.ipv4.conf.all.rp_filter=0
	nft_works "$A" || fail "nft does not work in $A (nf_tables module?)"
	write_confs
	local out
	out=$("$CGWD" -n -c "$T/cgw.conf" 2>&1) || fail "cgwd -n refuses the config: $out"
	start_pluto || { lsw_show_log "$L"; fail "pluto did not start"; }
	cgwd_start "$T" "$G" "$T/cgw.conf"
	cgwd_wait_ctl "$SOCK" || fail "cgwd did not answer on $SOCK"
	pass "setup: namespaces $G $A, pluto ($LSW_VERSION) and cgwd ($("$CGWD" -V)) running"
}

# ================================================================ helpers

log_off() { file_size "$LOG"; LOG_OFF=$FILE_SIZE; }
lsw_off() { file_size "$L/pluto.log"; LSW_OFF=$FILE_SIZE; }

tstat() { tunnel_stat "$SOCK" t1; }
_is_up() { tstat && [[ $TS_STATE == up ]]; }

# One SA pair everywhere: 2 ESP states in each namespace, one IPsec SA in
# pluto, one IKE SA with one CHILD SA in cgwd. With LARVAL_OK=1, SPIs pluto
# reserved for a rekey it still tries on a stale IKE SA (states without
# keys) are not counted (see the blackhole case).
LARVAL_OK=0
_one_pair_everywhere() {
	kcount "$G" && ((K_STATES == 2)) || return 1
	G_STATES=$K_STATES
	kcount "$A" || return 1
	A_STATES=$K_STATES A_LARVAL=$K_LARVAL
	if ((LARVAL_OK)); then ((K_STATES - K_LARVAL == 2)) || return 1; else ((K_STATES == 2)) || return 1; fi
	lsw_esp_count "$L" && ((LSW_NESP == 1)) || return 1
	tstat && [[ $TS_STATE == up && $TS_NIKE == 1 && $TS_NCHILD == 1 ]]
}
one_pair_or_fail() {
	until_ok 25 "one SA pair on each side" _one_pair_everywhere && return 0
	echo "---- xfrm state in $G"; ip -n "$G" xfrm state | grep -E '^src|proto' || true
	echo "---- xfrm state in $A"; ip -n "$A" xfrm state | grep -E '^src|proto' || true
	echo "---- pluto --trafficstatus"; printf '%s\n' "${LSW_TRAFFIC:-}"
	fail "$1: not one SA pair on each side (ESP states: cgwd side ${G_STATES:-?}, pluto side ${A_STATES:-?} (${A_LARVAL:-?} without keys); pluto IPsec SAs ${LSW_NESP:-?}; cgwd status ${TS_NIKE:-?} IKE / ${TS_NCHILD:-?} CHILD)"
}

# lsw_ike_count — IKE SAs pluto holds (established or rekeying), in LSW_NIKE.
lsw_ike_count() {
	local out line
	LSW_NIKE=0
	out=$(lsw_whack "$L" --showstates 2>&1) || true
	LSW_STATES=""
	while IFS= read -r line; do
		[[ $line =~ \#[0-9]+: ]] && LSW_STATES+="${LSW_STATES:+ | }${line:0:160}"
		[[ $line =~ \#[0-9]+:.*STATE_V2_ESTABLISHED_IKE_SA ]] && LSW_NIKE=$((LSW_NIKE + 1))
	done <<<"$out"
	return 0
}

_ping_ok() { nsx "$G" ping -n -q -c 1 -W 1 "$AWS_IN" >/dev/null 2>&1; }

ensure_up() {
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 60 "t1 up in cgwd's status" _is_up || fail "t1 not up (state ${TS_STATE:-?}: ${TS_REASON:-})"
	until_ok 20 "a ping across t1" _ping_ok || fail "no ping across t1 although it is up"
}

show_logs() {
	echo "---- last ${CGW_STAYUP_LOG_LINES:-50} lines of cgwd.log"
	tail -n "${CGW_STAYUP_LOG_LINES:-50}" "$LOG" 2>/dev/null || true
	lsw_show_log "$L" "${CGW_STAYUP_LOG_LINES:-50}"
}

# Both logs around a loss (1 s before, 0.5 s after the reply stamped MS),
# without liveness chatter (grep and awk: the logs are long).
show_around() {
	local lms=$1 secs="" t
	echo "---- cgwd.log around the loss after the reply stamped $lms"
	awk -v a=$((lms - 1000)) -v b=$((lms + 500)) '!/INFORMATIONAL|liveness/ {
		t = $1 * 1000; if (t >= a && t <= b) print }' "$LOG" || true
	echo "---- pluto.log around it"
	for t in $((lms - 1000)) $((lms - 500)) "$lms" $((lms + 500)); do
		printf -v t '%(%H:%M:%S)T' $((t / 1000))
		[[ $secs == *"$t"* ]] || secs+="${secs:+|}$t"
	done
	grep -E " ($secs)\." "$L/pluto.log" || true
	return 0
}

selected() {
	[[ -z ${CGW_STAYUP_CASES:-} ]] && return 0
	local p
	for p in $CGW_STAYUP_CASES; do [[ $1 == *"$p"* ]] && return 0; done
	return 1
}

# run_case NAME FUNCTION — in a subshell; LSW_PID is kept in $T/lsw.pid.
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
	ping_stop
	nft_unblackhole "$A"
	[[ -r $T/lsw.pid ]] && read -r LSW_PID <"$T/lsw.pid"
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
	lsw-child) lsw_whack "$L" --name "$CONN" --rekey-ipsec --asynchronous >/dev/null ;;
	collision)
		# Both at once; under TCG the two commands start some 100 ms
		# apart, so whether the requests cross is counted, not asserted.
		"$CGWCTL" -s "$SOCK" tunnel rekey t1 child >/dev/null 2>&1 &
		local p1=$!
		lsw_whack "$L" --name "$CONN" --rekey-ipsec --asynchronous >/dev/null 2>&1 &
		local p2=$! r=0
		wait "$p1" || r=1
		wait "$p2" || r=1
		return $r ;;
	cgw-ike) "$CGWCTL" -s "$SOCK" tunnel rekey t1 ike >/dev/null ;;
	lsw-ike) lsw_whack "$L" --name "$CONN" --rekey-ike --asynchronous >/dev/null ;;
	esac
}

# attribute_losses OFF LOFF — sort the rekeys ping's runs of lost pings
# (P_LOSS_TS, P_LOSS_N) by the CHILD rekey they fall in:
#   LOSS_WIN   one cgwd initiated (from its request, "INSTALLED ->
#              REKEYING (rekey sent)", to 0.2 s after the new SA's
#              "CREATING -> INSTALLED"): pluto, the responder, sent on the
#              new SA before cgwd could have its keys;
#   LOSS_RESP  one pluto initiated ("initiating rekey to replace Child SA"
#              to 0.5 s after "initiator rekeyed Child SA"): cgwd, the
#              responder, had not installed its new inbound SA when pluto
#              used it;
#   LOSS_OTHER anywhere else.
# Also LOSS_WIN_MAX (most in one run), LOSS_DESC, N_CGW_CHILD (CHILD rekeys
# cgwd initiated). Logs from byte OFF of cgwd.log, LOFF of pluto.log.
attribute_losses() {
	local off=$1 loff=$2 l i t n desc lines
	local -a req=() inst=() lsw_resp=() lsw_start=() lsw_done=()
	lines=$(tail -c +$((off + 1)) "$LOG" | grep -E 'CHILD SA [0-9a-f]+/[0-9a-f]+: (INSTALLED -> REKEYING \(rekey sent\)|CREATING -> INSTALLED)') || true
	while IFS= read -r l; do
		[[ -n $l ]] || continue
		ms_at "$l"
		if [[ $l == *"(rekey sent)"* ]]; then req+=("$MS"); else inst+=("$MS"); fi
	done <<<"$lines"
	lines=$(tail -c +$((loff + 1)) "$L/pluto.log" | grep -E 'rekeyed Child SA|initiating rekey to replace Child SA') || true
	while IFS= read -r l; do
		lsw_line_ms "$l" || continue
		case $l in
		*"responder rekeyed Child SA"*) lsw_resp+=("$LSW_MS") ;;
		*"initiator rekeyed Child SA"*) lsw_done+=("$LSW_MS") ;;
		*"initiating rekey"*) lsw_start+=("$LSW_MS") ;;
		esac
	done <<<"$lines"
	N_CGW_CHILD=${#req[@]}
	LOSS_WIN=0 LOSS_WIN_MAX=0 LOSS_RESP=0 LOSS_OTHER=0 LOSS_DESC=""
	for ((i = 0; i < ${#P_LOSS_TS[@]}; i++)); do
		t=${P_LOSS_TS[i]} n=${P_LOSS_N[i]} desc=""
		local r e k x y
		for r in "${req[@]}"; do
			e=""
			for k in "${inst[@]}"; do ((k >= r)) && { e=$k; break; }; done
			[[ -n $e ]] || continue
			((e - r < 3000 && t >= r - 100 && t <= e + 200)) || continue
			x=""
			for y in "${lsw_resp[@]}"; do ((y >= r - 100 && y <= e + 100)) && { x=$y; break; }; done
			desc="$n lost at +$((t - r)) ms into a CHILD rekey cgwd initiated (request -> installed $((e - r)) ms${x:+; pluto, the responder, answered at +$((x - r)) ms})"
			LOSS_WIN=$((LOSS_WIN + n))
			((n > LOSS_WIN_MAX)) && LOSS_WIN_MAX=$n
			break
		done
		if [[ -z $desc ]]; then
			for r in "${lsw_start[@]}"; do
				e=""
				for k in "${lsw_done[@]}"; do ((k >= r)) && { e=$k; break; }; done
				[[ -n $e ]] || continue
				((e - r < 3000 && t >= r - 100 && t <= e + 500)) || continue
				desc="$n lost at +$((t - r)) ms into a CHILD rekey pluto initiated (its request -> its 'initiator rekeyed' $((e - r)) ms): cgwd, the responder, had no keys on its new inbound SA yet"
				LOSS_RESP=$((LOSS_RESP + n))
				break
			done
		fi
		if [[ -z $desc ]]; then
			LOSS_OTHER=$((LOSS_OTHER + n))
			desc="$n lost after the reply stamped $t: in no CHILD rekey"
		fi
		LOSS_DESC+="${LOSS_DESC:+; }$desc"
	done
}

case_rekeys() {
	ensure_up
	log_off
	lsw_off
	local off=$LOG_OFF loff=$LSW_OFF
	tstat || fail "cgwctl status"
	local r0=$TS_REKEYS i0=$TS_IKE_REKEYS
	xfrm_stat "$G"; local g_ns0=$XS_NOSTATES g_acq0=$XS_ACQERR
	xfrm_stat "$A"; local a_ns0=$XS_NOSTATES a_acq0=$XS_ACQERR
	local plog=$T/ping-rekeys.log t0=$EPOCHREALTIME
	# Two pings at 0.004 s: > 200 a second under TCG (see ping_start).
	ping_start "$G" "$AWS_IN" 0.004 $((REKEY_SECS + 30)) "$plog" 2
	local ping_pid=$PING_PID
	# Never both at once here: see the collision case.
	local acts=(cgw-child lsw-child cgw-ike cgw-child lsw-child lsw-ike
		cgw-child lsw-child cgw-child lsw-child cgw-child lsw-child)
	local a errs=0
	for a in "${acts[@]}"; do
		ike_nap 4
		alive "$ping_pid" || break
		act "$a" || { errs=$((errs + 1)); vm_log "rekeys: $a: command failed"; }
	done
	vm_log "rekeys: forced actions done; the timers go on until ${REKEY_SECS}s"
	while alive "$ping_pid" && (((${EPOCHREALTIME/./} - ${t0/./}) / 1000000 < REKEY_SECS)); do ike_nap 0.5; done
	ping_stop
	local secs=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000000))
	ping_account "$plog" || { cat "$plog"; fail "no ping statistics"; }
	local rate=$((P_TX / (secs > 0 ? secs : 1)))
	[[ -n $P_MISSING ]] && vm_log "rekeys: unanswered icmp_seq: $P_MISSING"
	[[ -n $P_ERRS ]] && vm_log "rekeys: ping's error lines: ${P_ERRS:0:1500}"
	vm_log "rekeys: ping $P_TX transmitted, $P_RX received in ${secs}s (~$rate/s, slowest 10 s: ${P_SLOWEST:-?}/s), $P_LOST never answered"
	xfrm_stat "$G"; local g_ns=$((XS_NOSTATES - g_ns0)) g_acq=$((XS_ACQERR - g_acq0)) g_xs=$XS_NONZERO
	xfrm_stat "$A"; local a_ns=$((XS_NOSTATES - a_ns0 + XS_ACQERR - a_acq0)) a_xs=$XS_NONZERO
	# Settle: replaced SAs are deleted a moment after the rekey.
	until_ok 25 "one SA pair on each side" _one_pair_everywhere || true
	# Counting. cgwd: its status counters, CHILD SAs that reached
	# INSTALLED (the first one is before the offset: every line here is a
	# rekey), the rekeys it initiated; pluto: "rekeyed Child SA" / "rekeyed
	# IKE SA" lines (either role), those it initiated.
	tstat || fail "cgwctl status"
	count_since "$LOG" "CHILD SA [0-9a-f]+/[0-9a-f]+: [A-Z_]+ -> INSTALLED" "$off"
	local g_inst=$COUNT
	count_since "$LOG" "rekey collision" "$off"
	local g_coll=$COUNT
	count_since "$L/pluto.log" "rekeyed Child SA" "$loff"
	local l_child=$COUNT
	count_since "$L/pluto.log" "initiator rekeyed Child SA" "$loff"
	local l_init=$COUNT
	count_since "$L/pluto.log" "rekeyed IKE SA" "$loff"
	local l_ike=$COUNT
	local d_child="?" d_ike="?"
	[[ $r0 != - && $TS_REKEYS != - ]] && d_child=$((TS_REKEYS - r0))
	[[ $i0 != - && $TS_IKE_REKEYS != - ]] && d_ike=$((TS_IKE_REKEYS - i0))
	attribute_losses "$off" "$loff"
	local figures="ping $P_TX sent / $P_RX received (~$rate/s over ${secs}s, slowest 10 s ${P_SLOWEST:-?}/s); CHILD rekeys: cgwd status +$d_child (INSTALLED lines $g_inst; $N_CGW_CHILD initiated by cgwd), pluto 'rekeyed Child SA' $l_child ($l_init initiated by pluto); IKE rekeys: cgwd status +$d_ike, pluto 'rekeyed IKE SA' $l_ike; collisions logged by cgwd $g_coll; ${#acts[@]} forced ($errs command errors); ESP dropped for an unknown SPI / an SPI without keys yet (XfrmInNoStates / XfrmAcquireError): cgwd side $g_ns / $g_acq, pluto side $a_ns; ESP states $G_STATES/${A_STATES:-?}, pluto IPsec SAs ${LSW_NESP:-?}"
	vm_log "rekeys: $figures"
	if ((P_LOST > 0)); then
		vm_log "rekeys: losses: ${LOSS_DESC:-none attributed}"
		vm_log "rekeys: xfrm_stat: cgwd side: ${g_xs:-all 0}; pluto side: ${a_xs:-all 0}"
		local lt
		for lt in "${P_LOSS_TS[@]:0:6}"; do show_around "$lt"; done
	fi
	((rate >= 200)) || fail "rekeys: only ~$rate pings a second: $figures"
	# Libreswan 4.10, the responder of a CHILD rekey, sends on its new
	# outbound SA as soon as it has answered (its log: "responder rekeyed
	# Child SA" at the moment of the answer). The initiator cannot have the
	# keys of the matching inbound SA before it has that answer (its nonce,
	# its KE for PFS): replies pluto sends in that window reach cgwd for the
	# SPI cgwd reserved, still without keys, and its kernel drops them
	# (XfrmAcquireError). strongSwan as responder holds the new outbound SA
	# back until the old one is deleted (scenario 50: 0 lost). What is
	# asserted here: no loss outside the CHILD rekeys cgwd initiated (pluto's
	# own, IKE rekeys, collisions, the steady state), every lost ping one of
	# those drops (XfrmAcquireError on cgwd's side >= lost), nothing dropped
	# on pluto's side (cgwd never sent on an SA too early or too late).
	# Losses in a rekey pluto initiated are cgwd's: as the responder it
	# must have the new inbound SA keyed before its answer leaves (at the
	# time of writing ike/rekey.c answer_create() sends the answer, then
	# installs).
	((LOSS_RESP == 0)) ||
		fail "rekeys: $LOSS_RESP pings lost in CHILD rekeys pluto initiated: pluto used the new SA before cgwd had installed its keys (${LOSS_DESC}): $figures"
	((LOSS_OTHER == 0 && P_LOST == LOSS_WIN)) ||
		fail "rekeys: $P_LOST pings lost, $((P_LOST - LOSS_WIN)) outside the Libreswan-responder window (icmp_seq ${P_MISSING:-?}; ${LOSS_DESC:-}; ping's error lines: ${P_ERRS:0:600}): $figures"
	((g_acq >= P_LOST)) || fail "rekeys: $P_LOST lost but only $g_acq dropped for an SPI without keys on cgwd's side: $figures"
	((a_ns == 0)) || fail "rekeys: pluto's side dropped $a_ns ESP packets for SPIs it had no (keyed) state for: $figures"
	[[ $d_child != "?" ]] || fail "rekeys: cgwd's status has no rekeys counter: $figures"
	((d_child >= 10)) || fail "rekeys: fewer than 10 CHILD rekeys in cgwd's status: $figures"
	((l_child >= 10)) || fail "rekeys: fewer than 10 CHILD rekeys in pluto's log: $figures"
	((l_init >= 3 && N_CGW_CHILD >= 3)) || fail "rekeys: want >= 3 CHILD rekeys initiated by each side: $figures"
	((d_ike >= 2)) || fail "rekeys: fewer than 2 IKE rekeys in cgwd's status: $figures"
	((l_ike >= 2)) || fail "rekeys: fewer than 2 IKE rekeys in pluto's log: $figures"
	((errs == 0)) || fail "rekeys: $errs rekey commands failed: $figures"
	one_pair_or_fail rekeys
	if ((P_LOST == 0)); then
		pass "rekeys: 0 lost: $figures"
	else
		pass "rekeys: 0 lost except $LOSS_WIN replies pluto sent on a new SA before cgwd could have its keys ($N_CGW_CHILD CHILD rekeys cgwd initiated, at most $LOSS_WIN_MAX in one; ${LOSS_DESC}): $figures"
	fi
}

case_peer_restart() {
	ensure_up
	local plog=$T/ping-restart.log
	ping_start "$G" "$AWS_IN" 0.05 20 "$plog"
	local ping_pid=$PING_PID
	ike_nap 2
	log_off
	local off=$LOG_OFF
	# The old log stays readable: pluto keeps writing to the renamed file
	# until it dies; the new pluto starts a fresh pluto.log.
	mv "$L/pluto.log" "$L/pluto-before-restart.log"
	now_ms
	local kill_ms=$NOW_MS
	lsw_kill "$L"
	# pluto's kernel SAs outlive it; a replaced AWS endpoint has none.
	ip -n "$A" xfrm state flush
	ip -n "$A" xfrm policy flush
	vm_log "peer-restart: pluto killed, its SAs flushed; starting it again"
	start_pluto || { lsw_show_log "$L"; fail "peer-restart: pluto did not start again"; }
	now_ms
	local ready_ms=$NOW_MS
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 40 "cgwd to log t1 up again" grep_line "$LOG" ": tunnel up$" "$off" ||
		fail "peer-restart: t1 not up again within 40 s of the kill"
	ms_at "$MATCH"
	local up_ms=$MS
	until_ok 5 "status up" _is_up || fail "peer-restart: cgwd logged tunnel up but status says $TS_STATE"
	local dead_line=""
	grep_line "$LOG" "declared dead|tunnel down" "$off" && dead_line=${MATCH#* }
	grep_line "$LOG" "declared dead" "$off" && dead_line=${MATCH#* }
	wait "$ping_pid" || true
	PING_PID=""
	ping_account "$plog" "$kill_ms" || true
	fmt_ms $((up_ms - kill_ms)); local t_up=$S
	fmt_ms $((ready_ms - kill_ms)); local t_ready=$S
	fmt_ms $((up_ms - ready_ms)); local t_ready_up=$S
	local t_reply=none
	[[ -n $P_FIRST_AFTER ]] && { fmt_ms $((P_FIRST_AFTER - kill_ms)); t_reply=$S; fmt_ms "$P_GAP"; t_reply+=" s (gap $S s)"; }
	local figures="kill -> 'tunnel up' $t_up s (pluto running again after $t_ready s, then up in $t_ready_up s), kill -> first ping reply after the gap $t_reply; ping ${P_TX:-?} sent / ${P_RX:-?} received; cgwd: ${dead_line:-no 'declared dead' line}"
	vm_log "peer-restart: $figures"
	[[ -n $P_FIRST_AFTER ]] || fail "peer-restart: no ping reply after the gap: $figures"
	((up_ms - kill_ms <= 12000)) || fail "peer-restart: up again after more than 12 s: $figures"
	[[ $dead_line == *"fast liveness"* ]] ||
		vm_log "peer-restart: note: not found by the fast liveness check"
	one_pair_or_fail peer-restart
	pass "peer-restart: $figures"
}

_dead_logged() { grep_line "$LOG" "declared dead" "$1"; }
_backoff_logged() { grep_line "$LOG" "initiating again in [0-9]+ s" "$1"; }

case_blackhole() {
	ensure_up
	local plog=$T/ping-bh.log
	ping_start "$G" "$AWS_IN" 0.05 150 "$plog"
	ike_nap 2
	log_off
	local off=$LOG_OFF
	now_ms
	local drop_ms=$NOW_MS
	nft_blackhole "$A" "$GW_WAN" || fail "nft drop rules"
	vm_log "blackhole: dropping IKE and ESP in $A"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 30 "cgwd to declare the peer dead" _dead_logged "$off" ||
		fail "blackhole: cgwd did not declare the peer dead within 30 s"
	local dead=$MATCH
	ms_at "$dead"
	local dead_ms=$MS
	fmt_ms $((dead_ms - drop_ms)); local t_dead=$S
	tstat || fail "cgwctl status"
	local st=$TS_STATE reason=$TS_REASON deads=$TS_DEAD
	vm_log "blackhole: dead after $t_dead s: ${dead#* }; status $st: $reason"
	until_ok 20 "an 'initiating again' line" _backoff_logged "$off" ||
		vm_log "blackhole: no 'initiating again' line"
	local backoff=${MATCH#* }
	log_off
	local off2=$LOG_OFF
	now_ms
	local restore_ms=$NOW_MS
	nft_unblackhole "$A"
	vm_log "blackhole: drop removed"
	until_ok 60 "t1 up again" grep_line "$LOG" ": tunnel up$" "$off2" ||
		fail "blackhole: t1 not up within 60 s of removing the drop"
	ms_at "$MATCH"
	fmt_ms $((MS - restore_ms)); local t_back=$S
	local back_ms=$((MS - restore_ms))
	fmt_ms $((restore_ms - drop_ms)); local t_drop=$S
	until_ok 20 "a ping across t1" _ping_ok || fail "blackhole: no ping after the tunnel came back"
	ping_stop
	local figures="drop -> dead $t_dead s; status while dropped: $st ($reason; dead_peers $deads); re-initiation: ${backoff:-none}; dropped for $t_drop s; restore -> up $t_back s"
	vm_log "blackhole: $figures"
	[[ $st != up ]] || fail "blackhole: status still up after the peer was declared dead: $figures"
	[[ $reason =~ liveness|dead ]] || fail "blackhole: status reason names neither liveness nor dead: $figures"
	[[ $dead == *"fast liveness"* ]] || fail "blackhole: declared dead, but not by the fast liveness check (${dead#* }): $figures"
	((dead_ms - drop_ms <= 8000)) || fail "blackhole: declared dead after more than 8 s: $figures"
	[[ -n $backoff ]] || fail "blackhole: cgwd did not re-initiate with backoff: $figures"
	((back_ms <= 15000)) || fail "blackhole: up more than 15 s after the path came back: $figures"
	# pluto keeps its old IKE SA after cgwd's new IKE_AUTH (with
	# INITIAL_CONTACT): Libreswan 4.10 replaces the Child SA, not the IKE
	# SA, which stays until its own liveness check or lifetime ends it
	# (unchanged 75 s later in a trial run). If its CHILD rekey timer fired
	# while the path was cut, the SPI it reserved for that rekey stays too
	# (a state without keys) until its retransmissions give up (60 s).
	# Neither carries traffic: states without keys are not counted here,
	# the extra IKE SA is reported.
	LARVAL_OK=1
	one_pair_or_fail blackhole
	lsw_ike_count
	local stale=""
	((A_LARVAL == 0 && LSW_NIKE <= 1)) ||
		stale="; pluto still holds $LSW_NIKE IKE SAs and $A_LARVAL ESP state(s) without keys"
	vm_log "blackhole: after: $(kcount_str)$stale"
	[[ -z $stale ]] || vm_log "blackhole: pluto's states: $LSW_STATES"
	pass "blackhole: $figures$stale"
}

# Opt-in (CGW_STAYUP_CASES=collision): both ends rekey the CHILD SA at the
# same time, under the two pings. The two commands alone rarely cross
# under TCG, so a gate makes sure: cgwd's IKE requests to pluto are
# dropped (nft, in cgwd's namespace; its answers pass) while cgwd sends its
# rekey request and pluto sends its own; once cgwd has logged the
# collision (pluto's request met cgwd's outstanding one) the gate opens
# (CGW_51_GATE=after: only once pluto has completed its rekey) and cgwd's
# retransmitted request reaches pluto, which answers it as a rekey of the
# old SA or with CHILD_SA_NOT_FOUND depending on whether it has deleted
# that SA yet (1 s after its own rekey). In a first trial run (without the gate)
# Libreswan 4.10 broke on that: pluto logged "EXPECTATION FAILED:
# ...msgid_windows.responder.recv == ...responder.sent", dropped cgwd's
# answer ("response with Message ID N has no matching SA"), answered
# cgwd's retransmitted request with TS_UNACCEPTABLE ("Add SA ... File
# exists") yet sent on the SA pair of its first answer: ESP black-holed
# until the next rekey. In another, pluto answered cgwd's request as a
# rekey of the SA it had just replaced and kept both new pairs although
# its own was the redundant one (it does not resolve collisions as RFC
# 7296 2.8.1 says). That is why the rekeys case never fires both at once.
# Outcome: PASS when one pair is left and no more than a few pings were
# lost in a row (the Libreswan-responder window of the rekeys case), SKIP
# with a KNOWN line for those two Libreswan behaviours, FAIL otherwise
# (cgwd died, no traffic again within 40 s, a black hole or two pairs with
# no Libreswan failure to explain them).
_collided() { count_since "$LOG" "rekey collision" "$1"; ((COUNT > 0)); }
gate_close() {
	nsx "$G" nft -f - <<-EOF
	table inet cgwt_gate {
	  chain out {
	    type filter hook output priority 0; policy accept;
	    ip daddr $AWS udp dport 500 @th,216,8 & 0x20 == 0 drop
	  }
	}
	EOF
}
gate_open() { nsx "$G" nft delete table inet cgwt_gate 2>/dev/null || true; }

case_collision() {
	ensure_up
	log_off
	lsw_off
	local off=$LOG_OFF loff=$LSW_OFF plog=$T/ping-collision.log crossed=0
	ping_start "$G" "$AWS_IN" 0.004 120 "$plog" 2
	ike_nap 3
	gate_close || fail "collision: nft gate"
	vm_log "collision: gate closed; both rekey"
	"$CGWCTL" -s "$SOCK" tunnel rekey t1 child >/dev/null || vm_log "collision: cgwctl rekey failed"
	lsw_whack "$L" --name "$CONN" --rekey-ipsec --asynchronous >/dev/null || vm_log "collision: whack failed"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 5 "cgwd to see the crossed request" _collided "$off" && crossed=1
	# CGW_51_GATE=after: open once pluto has completed its rekey (cgwd's
	# answer passed the gate); default: at once, so that cgwd's
	# retransmitted request may reach pluto before pluto deletes the old
	# SA (1 s after its rekey), or cross its exchange.
	if [[ ${CGW_51_GATE:-now} == after ]]; then
		until_ok 5 "pluto to complete its rekey" grep_line "$L/pluto.log" "initiator rekeyed Child SA" "$loff" || true
	fi
	gate_open
	vm_log "collision: gate open (crossed: $crossed)"
	xfrm_stat "$G"; local g0=$((XS_NOSTATES + XS_ACQERR))
	xfrm_stat "$A"; local a0=$((XS_NOSTATES + XS_ACQERR))
	ike_nap 4
	# Which SAs each side holds and uses a few seconds after the crossing.
	echo "---- ESP states 4 s after the crossing (cgwd side, then pluto side)"
	ip -n "$G" -s xfrm state | grep -E '^src|proto esp|[0-9]+\(packets\)' || true
	ip -n "$A" -s xfrm state | grep -E '^src|proto esp|[0-9]+\(packets\)' || true
	xfrm_stat "$G"; local gd=$((XS_NOSTATES + XS_ACQERR - g0)) gx=$XS_NONZERO
	xfrm_stat "$A"; local ad=$((XS_NOSTATES + XS_ACQERR - a0)) ax=$XS_NONZERO
	vm_log "collision: ESP dropped for unknown or keyless SPIs in the 4 s after: cgwd side $gd, pluto side $ad; xfrm_stat (since boot) cgwd side: ${gx:-all 0}; pluto side: ${ax:-all 0}"
	echo "---- policies (cgwd side, then pluto side)"
	ip -n "$G" xfrm policy | grep -E '^src|dir|tmpl|mark' | head -n 20 || true
	ip -n "$A" xfrm policy | grep -E '^src 0|dir|tmpl|mark' | grep -v socket | head -n 20 || true
	ike_nap 4
	until_ok 40 "a ping across t1 after the collision" _ping_ok ||
		{ ping_stop; fail "collision: no traffic across t1 40 s after the crossed rekeys"; }
	ping_stop
	ping_account "$plog" || fail "collision: no ping statistics"
	count_since "$L/pluto.log" "EXPECTATION FAILED" "$loff"
	local lsw_bug=$COUNT
	kcount "$G"; local gs=$K_STATES
	kcount "$A"; local as=$K_STATES
	local decision=""
	grep_line "$LOG" "rekey collision: (ours|the peer's) has the lowest nonce" "$off" && decision=${MATCH#*: }
	local yn=no
	((crossed)) && yn=yes
	local figures="crossed: $yn; ping $P_TX sent, $P_LOST lost${P_MISSING:+ (icmp_seq $P_MISSING)}; cgwd: ${decision:-no lowest-nonce decision (no second pair reached it)}; pluto 'EXPECTATION FAILED' lines: $lsw_bug; ESP states $gs/$as"
	vm_log "collision: $figures"
	echo "---- pluto.log from the crossing on"
	tail -c +$((loff + 1)) "$L/pluto.log" | grep -v -E 'liveness|INFORMATIONAL' | head -n 40 || true
	((crossed)) || skip "collision: the rekeys did not cross: $figures"
	# A few pings lost in one go are the Libreswan-responder window of the
	# rekeys case; a second or more without replies is a black hole.
	local n longest=0
	for n in "${P_LOSS_N[@]}"; do ((n > longest)) && longest=$n; done
	if ((longest < 100 && gs == 2 && as == 2)); then
		pass "collision: crossed CHILD rekeys, one pair each side, longest run of lost pings $longest: $figures"
	elif ((lsw_bug > 0)); then
		echo "KNOWN: collision: Libreswan 4.10 loses its message-ID window bookkeeping on crossed CREATE_CHILD_SA exchanges: $figures"
		skip "collision: known Libreswan 4.10 failure"
	elif ((gs > 2 || as > 2)) && [[ $decision == *"the peer's has the lowest nonce"* ]]; then
		# RFC 7296 2.8.1: the initiator of the exchange with the lowest
		# nonce deletes the pair it made; pluto, that initiator, never does.
		echo "KNOWN: collision: two SA pairs stay: pluto made the redundant one (lowest nonce) and does not delete it (RFC 7296 2.8.1): $figures"
		skip "collision: known Libreswan 4.10 behaviour"
	else
		fail "collision: $longest pings lost in a row or more than one pair, with no Libreswan failure logged: $figures"
	fi
}

# ================================================================ main

setup
run_case rekeys case_rekeys
((CGWD_DEAD)) || run_case peer-restart case_peer_restart
((CGWD_DEAD)) || run_case blackhole case_blackhole
[[ ${CGW_STAYUP_CASES:-} == *collision* ]] && { ((CGWD_DEAD)) || run_case collision case_collision; }

echo "==== Libreswan: $LSW_VERSION"
echo "==== 51-stay-up-libreswan: $NPASS passed, $NFAIL failed, $NSKIP skipped"
printf '  %s\n' "${RESULTS[@]}"
((NPASS + NFAIL > 0)) || skip "no case passed or failed (CGW_STAYUP_CASES=${CGW_STAYUP_CASES:-})"
((NFAIL == 0)) || fail "$NFAIL case(s) failed"
pass "51-stay-up-libreswan"

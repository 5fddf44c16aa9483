# shellcheck shell=bash
# measure.sh — convergence, memory and idle figures for lab/lab.sh (sourced
# by it; bench/converge-vm.sh turns it on with CGW_LAB_MEASURE=1). Nothing
# here runs unless CGW_LAB_MEASURE=1.
#
#   measure_before_gateway  before the gateway starts: a rule on the AWS
#                           side so that LAN -> VPC traffic only arrives
#                           through a tunnel, and a timestamped 50/s ping
#                           lan -> vpc that runs until the first answer
#   measure_converge        after up_times: daemon start -> both BGP
#                           sessions Established (the AWS side's BIRD: the
#                           "since" of each session's last state change),
#                           -> first ping answered, -> all of it
#   measure_idle            once everything is up: RSS of the gateway's
#                           processes, then CGW_LAB_IDLE seconds (default
#                           30) of idle: context switches of every thread
#                           of those processes and their CPU time
# The figures are added to the lab's CGW-LAB-RESULT line (RES_UP).
#
# The gateway's processes ("the stack") are those in the gateway's
# namespace (`ip netns pids`) whose name is one of the stack's daemons:
# cgwd; charon-systemd and bird (strongSwan + BIRD); pluto, zebra, bgpd,
# staticd, watchfrr, mgmtd (Libreswan + FRR). The lab's monitors run in
# that namespace too (`ip -n`) and are not counted.

MEASURE=${CGW_LAB_MEASURE:-0}
IDLE_S=${CGW_LAB_IDLE:-30}
MEASURE_SETTLE_S=${CGW_LAB_IDLE_SETTLE:-5}
MEASURE_PING=""	# the convergence ping's reply log

measure_before_gateway() {
	(( MEASURE )) || return 0
	# The gateway's default route leads to the AWS namespace, which could
	# forward LAN -> VPC in clear text: only a tunnel may deliver it.
	in_ns "$NS_AWS" ip rule add iif inet0 to "$VPC_NET" blackhole priority 100
	MEASURE_PING=$STATE/converge-ping.log
	: >"$MEASURE_PING"
	in_ns "$NS_LAN" ping -n -D -i 0.02 "$VPC_HOST" >"$MEASURE_PING" 2>&1 &
	# shellcheck disable=SC2034  # PIDS is lab.sh's: its teardown stops it
	PIDS["converge-ping"]=$!
	say "measure: LAN -> VPC only through a tunnel; ping -i 0.02 lan -> vpc running"
}

# Libreswan + FRR: FRR's daemons start (and are ready) before pluto, whose
# start is the lab's T_GW_START; the stack's own start is noted too.
T_STACK_START=""
measure_stack_start() {
	now_ms
	T_STACK_START=$NOW_MS
}

# The first answer in the convergence ping's log: its epoch ms in MS.
first_reply_ms() {
	local l
	while IFS= read -r l; do
		[[ $l =~ ^\[([0-9]+)\.([0-9]{3})[0-9]*\]\ .*bytes\ from ]] || continue
		MS=$(( 10#${BASH_REMATCH[1]}${BASH_REMATCH[2]} ))
		return 0
	done <"$MEASURE_PING"
	return 1
}

# When each AWS-side session last changed state (to Established: it is
# up now), from `birdc show protocols` ("since" with milliseconds), in
# BGP_SINCE[proto].
declare -A BGP_SINCE=()
bgp_since() {
	local out line re
	out=$(aws_birdc show protocols) || return 1
	re='^(aws_[12]) +BGP +[^ ]+ +up +[0-9-]+ ([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3}) +Established'
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		tod_ms "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}"
		BGP_SINCE[${BASH_REMATCH[1]}]=$MS
	done <<<"$out"
	[[ -n ${BGP_SINCE[aws_1]:-} && -n ${BGP_SINCE[aws_2]:-} ]]
}

have_reply() { first_reply_ms; }

measure_converge() {
	(( MEASURE )) || return 0
	local sas="" r1="" ping bgp all
	wait_until "the first ping answer lan -> vpc" "$UP_TIMEOUT" converge-ping have_reply
	first_reply_ms
	ping=$MS
	stop_pid converge-ping
	bgp_since || { aws_birdc show protocols || true; fail "measure: birdc show protocols gives no Established time for aws_1 and aws_2"; }
	bgp=$(( BGP_SINCE[aws_1] > BGP_SINCE[aws_2] ? BGP_SINCE[aws_1] : BGP_SINCE[aws_2] ))
	mon_poll
	ev_find EV_SA "$T_GW_START" "^up 0$" && sas=$EV_MS
	ev_find EV_SA "$T_GW_START" "^up 1$" && (( EV_MS > sas )) && sas=$EV_MS
	ev_find EV_GW_ROUTE "$T_GW_START" "^vti1$" && r1=$EV_MS
	[[ -n $sas && -n $r1 ]] || fail "measure: the monitors missed both CHILD SAs or the route via vti1"
	all=$(( sas > bgp ? sas : bgp ))
	(( r1 > all )) && all=$r1
	(( ping > all )) && all=$ping
	local s_bgp s_ping s_all
	fmt_s $(( bgp - T_GW_START )); s_bgp=$S
	fmt_s $(( ping - T_GW_START )); s_ping=$S
	fmt_s $(( all - T_GW_START )); s_all=$S
	say "measure: gateway start -> both BGP sessions Established ${s_bgp} s; -> first ping lan -> vpc answered ${s_ping} s; -> all of it ${s_all} s"
	RES_UP+=",\"start_to_both_bgp_s\":$s_bgp,\"start_to_first_ping_s\":$s_ping,\"start_to_all_up_s\":$s_all"
	fmt_s $(( all - ${T_STACK_START:-$T_GW_START} ))
	[[ -n $T_STACK_START ]] && say "measure: the first daemon of the stack (zebra) started before pluto: from it to all up ${S} s"
	RES_UP+=",\"stack_start_to_all_up_s\":$S"
}

# The stack's pids, in STACK_PIDS, and "name:pid" in STACK_NAMES.
STACK_RE='^(cgwd|charon-systemd|charon|bird|pluto|zebra|bgpd|staticd|watchfrr|mgmtd)$'
stack_pids() {
	local pid comm
	STACK_PIDS=() STACK_NAMES=()
	for pid in $(ip netns pids "$NS_GW"); do
		comm=""
		read -r comm <"/proc/$pid/comm" 2>/dev/null || continue
		[[ $comm =~ $STACK_RE ]] || continue
		STACK_PIDS+=("$pid")
		STACK_NAMES+=("$comm:$pid")
	done
	(( ${#STACK_PIDS[@]} ))
}

# Sum of VmRSS (kB) over the stack, in RSS_KB.
stack_rss() {
	local pid k v
	RSS_KB=0
	for pid in "${STACK_PIDS[@]}"; do
		while read -r k v _; do
			[[ $k == VmRSS: ]] && RSS_KB=$(( RSS_KB + v ))
		done <"/proc/$pid/status" 2>/dev/null || true
	done
}

# Context switches (voluntary + nonvoluntary, every thread; VCSW: the
# voluntary ones, i.e. the thread slept and woke, which a host's load
# does not add to) and CPU ticks (utime + stime of the process, all
# threads) over the stack: CSW, VCSW, TICKS.
stack_counters() {
	local pid t k v stat
	CSW=0 VCSW=0 TICKS=0
	for pid in "${STACK_PIDS[@]}"; do
		for t in /proc/"$pid"/task/*; do
			while read -r k v; do
				case $k in
				voluntary_ctxt_switches:) CSW=$(( CSW + v )) VCSW=$(( VCSW + v )) ;;
				nonvoluntary_ctxt_switches:) CSW=$(( CSW + v )) ;;
				esac
			done <"$t/status" 2>/dev/null || true
		done
		read -r stat <"/proc/$pid/stat" 2>/dev/null || continue
		stat=${stat##*) }	# the fields after "(comm) "
		read -r -a stat <<<"$stat"
		TICKS=$(( TICKS + stat[11] + stat[12] ))	# fields 14, 15
	done
}

measure_idle() {
	(( MEASURE )) || return 0
	section "measure: memory and idle"
	stack_pids || fail "measure: no process of the gateway's stack in $NS_GW"
	# Let start-up work (updown scripts, the first keepalives) finish.
	nap "$MEASURE_SETTLE_S"
	stack_pids || fail "measure: the gateway's stack is gone"
	stack_rss
	say "measure: RSS of ${STACK_NAMES[*]}: $RSS_KB kB"
	local pids0="${STACK_PIDS[*]}" csw0 vcsw0 ticks0 t0 t1
	stack_counters
	csw0=$CSW vcsw0=$VCSW ticks0=$TICKS t0=${EPOCHREALTIME/./}
	nap "$IDLE_S"
	stack_counters
	t1=${EPOCHREALTIME/./}
	stack_pids
	[[ ${STACK_PIDS[*]} == "$pids0" ]] ||
		fail "measure: the stack's processes changed while idle ($pids0 -> ${STACK_PIDS[*]})"
	local hz us=$(( t1 - t0 )) wk vwk cpu
	hz=$(getconf CLK_TCK)
	# wakeups per second with 2 decimals; CPU in ms
	wk=$(( (CSW - csw0) * 100000000 / us ))
	printf -v wk '%d.%02d' $(( wk / 100 )) $(( wk % 100 ))
	vwk=$(( (VCSW - vcsw0) * 100000000 / us ))
	printf -v vwk '%d.%02d' $(( vwk / 100 )) $(( vwk % 100 ))
	cpu=$(( (TICKS - ticks0) * 1000 / hz ))
	fmt_s $(( us / 1000 ))
	say "measure: idle ${S} s: $(( CSW - csw0 )) context switches ($wk/s; voluntary $(( VCSW - vcsw0 )), $vwk/s), CPU $cpu ms"
	RES_UP+=",\"rss_kb\":$RSS_KB,\"stack\":\"${STACK_NAMES[*]}\",\"idle_s\":$S"
	RES_UP+=",\"idle_csw\":$(( CSW - csw0 )),\"idle_voluntary_csw\":$(( VCSW - vcsw0 )),\"idle_voluntary_per_s\":$vwk,\"idle_wakeups_per_s\":$wk,\"idle_cpu_ms\":$cpu"
}

#!/bin/bash
# Two cgwd instances, one per namespace, with AES-GCM and Curve25519
# (ike = aes256gcm16-prfsha256-x25519, esp = aes256gcm16-x25519: DH group
# 31, which AWS does not offer but two cgwd can use).
#
#   netns cgwt-ca (cgwd "A")                   netns cgwt-cb (cgwd "B")
#  +---------------------------------+       +---------------------------------+
#  | vti1 169.254.20.1/30  key 100   |  ESP  | vti1 169.254.20.2/30  key 100   |
#  | veth-a 192.0.2.1/24 ------------+-------+------------ veth-b 192.0.2.2/24 |
#  +---------------------------------+       +---------------------------------+
#
# Cases (fresh namespaces and daemons each):
#   one-initiator  A startup=start, B startup=add: up on both, A the
#                  initiator and B the responder, one IKE SA with one
#                  CHILD SA on each, one ESP pair per namespace, ping both
#                  ways across the inside /30, ESP counters moved.
#   both-start     A and B startup=start, launched together: whatever
#                  order the two starts take under TCG.
#   crossed        A and B startup=start with A's IPv4 egress on the veth
#                  dropped (tc matchall) until both have sent IKE_SA_INIT
#                  and A has answered B's (the answer dropped too): when
#                  the gate opens both requests are outstanding, so the
#                  IKE_SA_INITs cross for certain.
# For both-start and crossed the checks are: the tunnel comes up on both
# sides and ping crosses it, right away and again 40 s later (after the
# ~31 s retransmission budget, when an SA one side dropped silently is
# gone on the other side too). The number of IKE/CHILD SAs and ESP states
# is printed as INFO; more than one pair is a KNOWN line, not a failure
# (AWS.md pain point 2: both ends initiate, keep exactly one SA pair).
# The crossed case prints both daemons' SA events either way.
#
# CGW_SCENARIO_CASES picks cases (default "one-initiator both-start
# crossed"); CGW_CGWD_ARGS sets cgwd's debug flags (default
# "-d ike -d ike-packets").

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

readonly A=cgwt-ca B=cgwt-cb
readonly A_OUT=192.0.2.1 B_OUT=192.0.2.2
readonly A_IN=169.254.20.1 B_IN=169.254.20.2 INSIDE=169.254.20.0/30
readonly MARK=100 TUN=peer
readonly IKE=aes256gcm16-prfsha256-x25519 ESP=aes256gcm16-x25519
readonly PINGS=5
readonly BUILD=${CGW_BUILD_DIR:-build}
readonly CGWD=$BUILD/daemon/cgwd CGWCTL=$BUILD/cgwctl/cgwctl
readonly WORK=/run/cgwt-31
read -r -a CGWD_ARGS <<<"${CGW_CGWD_ARGS:--d ike -d ike-packets}"
read -r -a CASES <<<"${CGW_SCENARIO_CASES:-one-initiator both-start crossed}"

declare -A PID=()	# side (A/B) -> cgwd pid
CASE=""
DIR_A="" DIR_B=""
KNOWN=()

# ------------------------------------------------------------- helpers

# nap SECS — sleep without starting a process (a FIFO read time-out).
NAP_FD=""
nap() {
	if [[ -z $NAP_FD ]]; then
		mkfifo -m 0600 "$WORK/.nap"
		exec {NAP_FD}<>"$WORK/.nap"
	fi
	read -r -t "$1" -u "$NAP_FD" || true
}

# file_has FILE REGEX — a line of FILE matches (bash builtins only).
file_has() {
	local line
	[[ -f $1 ]] || return 1
	while IFS= read -r line; do
		[[ $line =~ $2 ]] && return 0
	done <"$1"
	return 1
}

# wait_line SIDE REGEX SECS — until that cgwd's log has a matching line;
# fails when SECS pass or the cgwd exits.
wait_line() {
	local side=$1 re=$2 secs=$3 deadline f
	f=$(side_dir "$side")/cgwd.log
	deadline=$(( ${EPOCHREALTIME%.*} + secs ))
	until file_has "$f" "$re"; do
		if ! kill -0 "${PID[$side]}" 2>/dev/null; then
			vm_log "cgwd $side exited while waiting for /$re/"
			return 1
		fi
		if (( ${EPOCHREALTIME%.*} >= deadline )); then
			vm_log "timed out after ${secs}s waiting for /$re/ in $f"
			return 1
		fi
		nap 0.2
	done
}

side_dir() { if [[ $1 == A ]]; then printf '%s\n' "$DIR_A"; else printf '%s\n' "$DIR_B"; fi; }
side_ns() { if [[ $1 == A ]]; then printf '%s\n' "$A"; else printf '%s\n' "$B"; fi; }

cgwctl_side() {
	local side=$1
	shift
	nsx "$(side_ns "$side")" "$CGWCTL" -s "$(side_dir "$side")/cgwd.sock" "$@"
}

ms_since() { printf '%d' $(( (${EPOCHREALTIME/./} - ${1/./}) / 1000 )); }

show_logs() {
	local side d
	for side in A B; do
		d=$(side_dir "$side")
		[[ -s $d/cgwd.log ]] || continue
		echo "---- last 80 lines of cgwd $side ($d/cgwd.log)"
		tail -n 80 "$d/cgwd.log"
		echo "---- xfrm state in $(side_ns "$side")"
		ip -n "$(side_ns "$side")" xfrm state 2>/dev/null | grep -E '^src|proto|aead' || true
	done
}

die() {
	show_logs
	fail "[$CASE] $*"
}

stop_cgwd() {
	local side=$1 pid=${PID[$1]:-} i
	[[ -n $pid ]] || return 0
	unset "PID[$side]"
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		nap 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- setup

setup_once() {
	check_kernel_modules
	require_cmd ip ping jq tc
	[[ -x $CGWD && -x $CGWCTL ]] || fail "no cgwd/cgwctl in $BUILD: set CGW_BUILD_DIR"
	# The crossed case's gate: clsact + matchall + drop.
	modprobe -qa sch_ingress cls_matchall act_gact 2>/dev/null || true
	echo "cgwd: $("$CGWD" -V)"
	rm -rf "$WORK"
	mkdir -m 0700 "$WORK"
	on_exit "stop_cgwd A; stop_cgwd B"
}

setup_net() {
	ns_add "$A" "$B"
	ip link add veth-a netns "$A" type veth peer name veth-b netns "$B" || fail "veth pair"
	ip -n "$A" -batch - <<-EOF || fail "$A addresses"
	addr add $A_OUT/24 dev veth-a
	link set veth-a up
	EOF
	ip -n "$B" -batch - <<-EOF || fail "$B addresses"
	addr add $B_OUT/24 dev veth-b
	link set veth-b up
	EOF
}

# write_conf SIDE STARTUP PSK — cgw.conf for one side. A takes the first
# address of the inside /30, B the second (cgwd's default, AWS-style).
write_conf() {
	local side=$1 startup=$2 psk=$3 dir self peer inside=""
	dir=$WORK/$CASE-$side
	mkdir -m 0700 "$dir"
	if [[ $side == A ]]; then
		DIR_A=$dir self=$A_OUT peer=$B_OUT
		inside="local-inside = $A_IN
remote-inside = $B_IN"
	else
		DIR_B=$dir self=$B_OUT peer=$A_OUT
	fi
	(umask 077; printf '%s' "$psk" >"$dir/$TUN.psk")
	(umask 077; cat >"$dir/cgw.conf") <<-EOF
	[gateway]
	control-socket = $dir/cgwd.sock
	local-address = $self

	[tunnel $TUN]
	remote = $peer
	psk-file = $dir/$TUN.psk
	inside = $INSIDE
	$inside
	vti = vti1
	mark = $MARK
	ike = $IKE
	esp = $ESP
	startup = $startup
	EOF
	"$CGWD" -n -c "$dir/cgw.conf" >"$dir/check.out" 2>&1 ||
		{ cat "$dir/check.out"; fail "[$CASE] cgwd -n refuses $side's config"; }
}

start_cgwd() {
	local side=$1 dir ns
	dir=$(side_dir "$side")
	ns=$(side_ns "$side")
	nsx "$ns" "$CGWD" -c "$dir/cgw.conf" "${CGWD_ARGS[@]}" "${@:2}" >"$dir/cgwd.log" 2>&1 &
	PID[$side]=$!
	vm_log "[$CASE] cgwd $side started (pid ${PID[$side]})"
}

# ---------------------------------------------------------------- checks

wait_up() {
	local t0=$1 side
	for side in A B; do
		wait_line "$side" "$TUN: tunnel up" 120 || die "cgwd $side: tunnel $TUN not up"
	done
	vm_log "[$CASE] up on both sides $(ms_since "$t0") ms after the start"
}

# sa_summary SIDE — sets SUMMARY (state, IKE SAs, CHILD SAs, roles,
# algorithms) and ESP_STATES from cgwctl status --json and ip xfrm.
sa_summary() {
	local side=$1 json st
	json=$(cgwctl_side "$side" status --json) || die "cgwd $side: cgwctl status --json failed"
	SUMMARY=$(jq -r --arg t "$TUN" '.tunnels[] | select(.name == $t) |
		"\(.state) ike_sas=\(.ike_sas | length) children=\([.ike_sas[].children[]] | length) " +
		"roles=\([.ike_sas[].role] | join(",")) ike=\(.ike_sas[0].algorithms // "-") " +
		"esp=\(.ike_sas[0].children[0].algorithms // "-") " +
		"packets_in=\([.ike_sas[].children[].packets_in // 0] | add // 0) " +
		"packets_out=\([.ike_sas[].children[].packets_out // 0] | add // 0)"' <<<"$json") ||
		{ printf '%s\n' "$json"; die "cgwd $side: unexpected JSON"; }
	st=$(ip -n "$(side_ns "$side")" xfrm state) || die "ip xfrm state"
	ESP_STATES=$(grep -c 'proto esp' <<<"$st" || true)
	STATUS_JSON=$json
}

# ping_across FROM_NS SRC DST
ping_across() {
	local ns=$1 src=$2 dst=$3 out
	if ! out=$(nsx "$ns" ping -n -c "$PINGS" -i 0.2 -w 30 -I "$src" "$dst" 2>&1); then
		printf '%s\n' "$out"
		die "ping $src -> $dst over vti1"
	fi
	pass "[$CASE] ping $src -> $dst over vti1: $(grep -o '[0-9]* received' <<<"$out")"
}

check_exact() {
	local side want_role
	for side in A B; do
		sa_summary "$side"
		vm_log "[$CASE] $side: $SUMMARY esp_states=$ESP_STATES"
		want_role=initiator
		[[ $side == B ]] && want_role=responder
		[[ $SUMMARY == "up "* ]] || { printf '%s\n' "$STATUS_JSON"; die "$side: not up: $SUMMARY"; }
		[[ $SUMMARY == *"ike_sas=1 children=1 roles=$want_role "* ]] ||
			{ printf '%s\n' "$STATUS_JSON"; die "$side: want one IKE SA ($want_role) with one CHILD SA: $SUMMARY"; }
		[[ $SUMMARY == *" ike=$IKE "* ]] ||
			{ printf '%s\n' "$STATUS_JSON"; die "$side: IKE SA not $IKE: $SUMMARY"; }
		[[ $SUMMARY == *" esp=aes256gcm16 "* ]] ||
			{ printf '%s\n' "$STATUS_JSON"; die "$side: CHILD SA not aes256gcm16: $SUMMARY"; }
		((ESP_STATES == 2)) || die "$side: $ESP_STATES ESP states, want 2"
		pass "[$CASE] $side: up, one IKE SA ($want_role, $IKE), one CHILD SA (aes256gcm16), 2 ESP states"
	done
}

check_counters() {
	local side pin pout
	for side in A B; do
		sa_summary "$side"
		[[ $SUMMARY =~ packets_in=([0-9]+)\ packets_out=([0-9]+) ]] || die "$side: no counters: $SUMMARY"
		pin=${BASH_REMATCH[1]} pout=${BASH_REMATCH[2]}
		((pin >= PINGS && pout >= PINGS)) ||
			{ printf '%s\n' "$STATUS_JSON"; die "$side: CHILD SA counters $pin in / $pout out, want >= $PINGS"; }
		pass "[$CASE] $side: CHILD SA counters $pin packets in, $pout out"
	done
}

# show_transitions — IKE/CHILD SA transitions and deletes in both logs,
# for the record when a double initiation left more than one pair.
show_transitions() {
	local side d
	for side in A B; do
		d=$(side_dir "$side")
		echo "---- cgwd $side: SA events ($d/cgwd.log)"
		grep -E 'IKE SA|CHILD SA|tunnel (up|down)|DELETE|delet|collision|INFORMATIONAL' "$d/cgwd.log" |
			sed "s/^/  $side /" || true
	done
}

# Informational: what a double initiation left behind.
report_pairs() {
	local when=$1 side pairs
	for side in A B; do
		sa_summary "$side"
		[[ $SUMMARY =~ ike_sas=([0-9]+)\ children=([0-9]+) ]] || true
		pairs=$((ESP_STATES / 2))
		echo "INFO: [$CASE] $when: cgwd $side: $SUMMARY esp_states=$ESP_STATES"
		if [[ $SUMMARY != "up "* ]]; then
			printf '%s\n' "$STATUS_JSON"
			die "$side not up $when: $SUMMARY"
		fi
		if ((pairs != 1 || BASH_REMATCH[1] != 1 || BASH_REMATCH[2] != 1)); then
			local k="KNOWN: [$CASE] $when: cgwd $side holds ${BASH_REMATCH[1]} IKE SAs, ${BASH_REMATCH[2]} CHILD SAs, $pairs ESP pairs (want 1 each): the double initiation was not resolved"
			echo "$k"
			KNOWN+=("$k")
		fi
	done
}

# after_double_start — the pairs now, and 40 s later (beyond the ~31 s
# retransmission budget, so a duplicate that one side dropped silently
# has died on the other side too), when the tunnel must still carry
# traffic; the SA events when more than one pair was seen.
after_double_start() {
	local before=${#KNOWN[@]}
	report_pairs "after ping"
	nap 40
	report_pairs "40 s later"
	ping_across "$A" "$A_IN" "$B_IN"
	ping_across "$B" "$B_IN" "$A_IN"
	# The crossed case's events are worth reading even when they
	# converged: they show how the collision was resolved.
	if ((${#KNOWN[@]} > before)) || [[ $CASE == crossed ]]; then show_transitions; fi
}

# ---------------------------------------------------------------- cases

case_one_initiator() {
	local psk=$1 t0
	write_conf A start "$psk"
	write_conf B add "$psk"
	start_cgwd B
	wait_line B . 30 || die "cgwd B said nothing"
	t0=$EPOCHREALTIME
	start_cgwd A
	wait_up "$t0"
	check_exact
	ping_across "$A" "$A_IN" "$B_IN"
	ping_across "$B" "$B_IN" "$A_IN"
	check_counters
}

case_both_start() {
	local psk=$1 t0
	write_conf A start "$psk"
	write_conf B start "$psk"
	t0=$EPOCHREALTIME
	start_cgwd A
	start_cgwd B
	wait_up "$t0"
	ping_across "$A" "$A_IN" "$B_IN"
	ping_across "$B" "$B_IN" "$A_IN"
	after_double_start
}

case_crossed() {
	local psk=$1 t0
	write_conf A start "$psk"
	write_conf B start "$psk"
	# Gate: every IPv4 packet A sends on the veth is dropped (ARP passes),
	# its IKE_SA_INIT request and its answer to B's: both requests stay
	# outstanding until the gate opens.
	tc -n "$A" -batch - <<-EOF || die "tc gate (sch_ingress, cls_matchall, act_gact)"
	qdisc add dev veth-a clsact
	filter add dev veth-a egress pref 1 protocol ip matchall action drop
	EOF
	t0=$EPOCHREALTIME
	start_cgwd A
	start_cgwd B
	wait_line A "INIT_SENT \\(initiating\\)" 60 || die "cgwd A did not initiate"
	wait_line B "INIT_SENT \\(initiating\\)" 60 || die "cgwd B did not initiate"
	wait_line A "IKE_SA_INIT answered" 60 || die "cgwd A never answered B's IKE_SA_INIT"
	tc -n "$A" filter del dev veth-a egress pref 1 || die "opening the gate"
	vm_log "[$CASE] gate opened $(ms_since "$t0") ms after the start: both IKE_SA_INIT requests outstanding"
	wait_up "$t0"
	ping_across "$A" "$A_IN" "$B_IN"
	ping_across "$B" "$B_IN" "$A_IN"
	after_double_start
}

run_case() {
	local psk t0=$EPOCHREALTIME chars=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._
	CASE=$1
	echo "== case $CASE"
	psk=${chars:RANDOM % 52:1}
	while ((${#psk} < 32)); do psk+=${chars:RANDOM % ${#chars}:1}; done
	setup_net
	case $CASE in
	one-initiator) case_one_initiator "$psk" ;;
	both-start) case_both_start "$psk" ;;
	crossed) case_crossed "$psk" ;;
	*) fail "unknown case $CASE" ;;
	esac
	stop_cgwd A
	stop_cgwd B
	ns_del "$A"
	ns_del "$B"
	pass "[$CASE] done in $(( $(ms_since "$t0") / 1000 )) s"
}

setup_once
for c in "${CASES[@]}"; do run_case "$c"; done
if ((${#KNOWN[@]})); then
	echo "KNOWN issues (not failures): ${#KNOWN[@]}"
	printf '  %s\n' "${KNOWN[@]}"
fi
pass "cgwd-to-cgwd: ${CASES[*]}"

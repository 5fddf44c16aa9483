#!/bin/bash
# cgwd against Libreswan 4.10 (pluto), route-based like the classic AWS
# recipe, with real ESP through VTIs on both ends.
#
#   netns cgwt-lsw (pluto)                     netns cgwt-cgw (cgwd)
#  +---------------------------------+       +---------------------------------+
#  | vti1 169.254.10.1/30  key 100   |       | vti1 169.254.10.2/30  key 100   |
#  |  (made by Libreswan's _updown:  |  ESP  |  (made by cgwd)                 |
#  |   vti-interface, leftvti, mark) |       |                                 |
#  | veth-l 192.0.2.1/24 ------------+-------+------------ veth-c 192.0.2.10/24|
#  +---------------------------------+       +---------------------------------+
#
# Libreswan's conn (what AWS users run on their side today): authby=secret,
# ikev2=insist, ike=aes256-sha2_256-modp2048, 0.0.0.0/0 <-> 0.0.0.0/0,
# mark=100/0xffffffff, vti-interface=vti1, vti-routing=no,
# leftvti=169.254.10.1/30, dpddelay/dpdtimeout.
#
# Cases (fresh namespaces, pluto and cgwd each):
#   initiator  cgwd startup=start, Libreswan auto=add;
#              ESP AES-CBC-256 + HMAC-SHA2-256-128 (esp=aes256-sha2_256)
#   responder  cgwd startup=add, Libreswan auto=start;
#              ESP AES-GCM-16-256 (esp=aes_gcm256)
# Each checks: `cgwctl status --json` says up, ping across the inside /30
# (and the ESP counters moved), exactly one IKE SA and one CHILD SA in
# cgwd, one IPsec SA in pluto, one ESP state pair in each namespace.
#
# Needs Libreswan in the VM cache: tests/vm/prepare-libreswan.sh, run on
# the host before the VM boots (the VM has no network); skips without it.
# CGW_SCENARIO_CASES="initiator responder" picks cases; CGW_LSW_DEBUG sets
# plutodebug (default none); CGW_CGWD_ARGS overrides cgwd's debug flags
# (default "-d ike -d ike-packets").

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../libreswan.sh
source "$CGW_VM_DIR/libreswan.sh"

readonly L=cgwt-lsw C=cgwt-cgw
readonly L_OUT=192.0.2.1 C_OUT=192.0.2.10
readonly L_IN=169.254.10.1 C_IN=169.254.10.2 INSIDE=169.254.10.0/30
readonly MARK=100 TUN=lsw CONN=cgw
readonly PINGS=5
readonly BUILD=${CGW_BUILD_DIR:-build}
readonly CGWD=$BUILD/daemon/cgwd CGWCTL=$BUILD/cgwctl/cgwctl
readonly WORK=/run/cgwt-30
read -r -a CGWD_ARGS <<<"${CGW_CGWD_ARGS:--d ike -d ike-packets}"
read -r -a CASES <<<"${CGW_SCENARIO_CASES:-initiator responder}"

CGWD_PID=""
CASE=""
CDIR="" LDIR=""

# ------------------------------------------------------------- helpers

# file_has FILE REGEX — a line of FILE matches (bash builtins only).
file_has() {
	local line
	[[ -f $1 ]] || return 1
	while IFS= read -r line; do
		[[ $line =~ $2 ]] && return 0
	done <"$1"
	return 1
}

# wait_line FILE REGEX SECS PID — until FILE has a matching line; fails
# when SECS pass or process PID exits.
wait_line() {
	local f=$1 re=$2 secs=$3 pid=$4 deadline
	deadline=$(( ${EPOCHREALTIME%.*} + secs ))
	until file_has "$f" "$re"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			vm_log "process $pid exited while waiting for /$re/ in $f"
			return 1
		fi
		if (( ${EPOCHREALTIME%.*} >= deadline )); then
			vm_log "timed out after ${secs}s waiting for /$re/ in $f"
			return 1
		fi
		lsw_nap 0.2
	done
}

# A PSK the way AWS makes them: 32 of [A-Za-z0-9._], not starting with 0.
gen_psk() {
	local chars=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._
	local -n _out=$1
	_out=${chars:RANDOM % 52:1}
	while ((${#_out} < 32)); do _out+=${chars:RANDOM % ${#chars}:1}; done
}

show_logs() {
	if [[ -s $CDIR/cgwd.log ]]; then
		echo "---- last 80 lines of $CDIR/cgwd.log"
		tail -n 80 "$CDIR/cgwd.log"
	fi
	[[ -n $LDIR ]] && lsw_show_log "$LDIR" 80
	echo "---- xfrm state in $C"; ip -n "$C" xfrm state 2>/dev/null | grep -E '^src|proto|aead|enc|auth' || true
	echo "---- xfrm state in $L"; ip -n "$L" xfrm state 2>/dev/null | grep -E '^src|proto|aead|enc|auth' || true
}

# die MSG — a case failed: what both ends logged, then FAIL.
die() {
	show_logs
	fail "[$CASE] $*"
}

cgwctl() { nsx "$C" "$CGWCTL" -s "$CDIR/cgwd.sock" "$@"; }

stop_cgwd() {
	local pid=$CGWD_PID i
	[[ -n $pid ]] || return 0
	CGWD_PID=""
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		lsw_nap 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- setup

setup_once() {
	check_kernel_modules
	require_cmd ip ping jq
	[[ -x $CGWD && -x $CGWCTL ]] || fail "no cgwd/cgwctl in $BUILD: set CGW_BUILD_DIR"
	lsw_setup
	vm_log "$LSW_VERSION"
	echo "Libreswan: $LSW_VERSION"
	echo "Libreswan packages: $(paste -sd' ' "${LSW_TREE:-/dev/null}/.packages" 2>/dev/null || echo installed)"
	echo "cgwd: $("$CGWD" -V)"
	rm -rf "$WORK"
	mkdir -m 0700 "$WORK"
	on_exit "stop_cgwd; [[ -n \$LDIR ]] && lsw_stop \$LDIR"
}

# Fresh namespaces and veth for one case.
setup_net() {
	ns_add "$L" "$C"
	ip link add veth-l netns "$L" type veth peer name veth-c netns "$C" || fail "veth pair"
	ip -n "$L" -batch - <<-EOF || fail "$L addresses"
	addr add $L_OUT/24 dev veth-l
	link set veth-l up
	EOF
	ip -n "$C" -batch - <<-EOF || fail "$C addresses"
	addr add $C_OUT/24 dev veth-c
	link set veth-c up
	EOF
}

# write_lsw AUTO ESP PSK — Libreswan's side: the classic AWS-style
# route-based conn (Libreswan is "left" in its own file).
write_lsw() {
	local auto=$1 esp=$2 psk=$3
	LDIR=$WORK/$CASE-l
	lsw_dir_init "$LDIR"
	lsw_conn "$LDIR" "$CONN" \
		authby=secret ikev2=insist type=tunnel \
		"left=$L_OUT" "leftid=$L_OUT" "right=$C_OUT" "rightid=$C_OUT" \
		leftsubnet=0.0.0.0/0 rightsubnet=0.0.0.0/0 \
		ike=aes256-sha2_256-modp2048 "esp=$esp" \
		ikelifetime=28800s salifetime=3600s \
		"mark=$MARK/0xffffffff" vti-interface=vti1 vti-routing=no \
		"leftvti=$L_IN/30" \
		dpddelay=10 dpdtimeout=30 dpdaction=restart \
		keyingtries=%forever "auto=$auto"
	lsw_secret "$LDIR" "$L_OUT" "$C_OUT" "$psk"
}

# write_cgwd STARTUP ESP PSK — cgwd's side.
write_cgwd() {
	local startup=$1 esp=$2 psk=$3
	CDIR=$WORK/$CASE-c
	mkdir -m 0700 "$CDIR"
	(umask 077; printf '%s' "$psk" >"$CDIR/$TUN.psk")
	(umask 077; cat >"$CDIR/cgw.conf") <<-EOF
	[gateway]
	control-socket = $CDIR/cgwd.sock
	local-address = $C_OUT

	[tunnel $TUN]
	remote = $L_OUT
	psk-file = $CDIR/$TUN.psk
	inside = $INSIDE
	vti = vti1
	mark = $MARK
	ike = aes256-sha256-modp2048
	esp = $esp
	dpd-delay = 10s
	dpd-timeout = 30s
	startup = $startup
	EOF
	"$CGWD" -n -c "$CDIR/cgw.conf" >"$CDIR/check.out" 2>&1 ||
		{ cat "$CDIR/check.out"; fail "[$CASE] cgwd -n refuses the config"; }
}

start_cgwd() {
	nsx "$C" "$CGWD" -c "$CDIR/cgw.conf" "${CGWD_ARGS[@]}" >"$CDIR/cgwd.log" 2>&1 &
	CGWD_PID=$!
	vm_log "[$CASE] cgwd started (pid $CGWD_PID): ${CGWD_ARGS[*]}"
}

start_pluto() {
	lsw_start "$LDIR" "$L"
	vm_log "[$CASE] pluto started (pid $LSW_PID)"
	lsw_wait_log "$LDIR" "\"$CONN\".*added IKEv2 connection|added IKEv2 connection.*\"$CONN\"" 60 ||
		die "pluto did not load conn $CONN"
}

# ---------------------------------------------------------------- checks

wait_up() {
	local t0=$EPOCHREALTIME
	wait_line "$CDIR/cgwd.log" "$TUN: tunnel up" 90 "$CGWD_PID" ||
		die "cgwd: tunnel $TUN not up"
	lsw_wait_log "$LDIR" "\"$CONN\".*established Child SA" 30 ||
		die "pluto: no established Child SA"
	vm_log "[$CASE] up on both ends after $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) ms"
}

check_status() {
	local json got
	json=$(cgwctl status --json) || die "cgwctl status --json failed"
	got=$(jq -r --arg t "$TUN" '.tunnels[] | select(.name == $t) |
		"\(.state) ike_sas=\(.ike_sas | length) children=\([.ike_sas[].children[]] | length) " +
		"role=\(.ike_sas[0].role // "-") ike=\(.ike_sas[0].algorithms // "-") " +
		"esp=\(.ike_sas[0].children[0].algorithms // "-")"' <<<"$json") ||
		{ printf '%s\n' "$json"; die "cgwctl status --json: unexpected JSON"; }
	vm_log "[$CASE] cgwctl: $got"
	[[ $got == "up "* ]] || { printf '%s\n' "$json"; die "cgwctl status: tunnel $TUN is not up: $got"; }
	pass "[$CASE] cgwctl status --json: $TUN up ($got)"
	[[ $got == *"ike_sas=1 children=1 "* ]] ||
		{ printf '%s\n' "$json"; die "cgwd holds more or fewer than one IKE SA with one CHILD SA: $got"; }
	local want_role=initiator
	[[ $CASE == responder ]] && want_role=responder
	[[ $got == *"role=$want_role "* ]] || die "cgwd's IKE SA should be the $want_role: $got"
}

ping_across() {
	local out
	vm_log "[$CASE] ping $C_IN -> $L_IN over vti1"
	if ! out=$(nsx "$C" ping -n -c "$PINGS" -i 0.2 -w 30 -I "$C_IN" "$L_IN" 2>&1); then
		printf '%s\n' "$out"
		die "ping $C_IN -> $L_IN over vti1"
	fi
	pass "[$CASE] ping $C_IN -> $L_IN over vti1: $(grep -o '[0-9]* received' <<<"$out")"
}

# ESP state pairs per namespace, and the packet counters in cgwd's status.
check_sas() {
	local ns st n out json
	for ns in "$C" "$L"; do
		st=$(ip -n "$ns" xfrm state) || die "ip xfrm state in $ns"
		n=$(grep -c 'proto esp' <<<"$st" || true)
		vm_log "[$CASE] $ns: $n ESP states"
		((n == 2)) || { printf '%s\n' "$st"; die "$ns has $n ESP states, want 2 (one SA pair)"; }
	done
	pass "[$CASE] one ESP SA pair in each namespace"
	out=$(lsw_whack "$LDIR" --trafficstatus 2>&1) || true
	printf '%s\n' "$out" | sed 's/^/pluto trafficstatus: /'
	n=$(grep -c 'type=ESP' <<<"$out" || true)
	((n == 1)) || die "pluto --trafficstatus lists $n IPsec SAs, want 1"
	pass "[$CASE] pluto: one IPsec SA"
	grep -E 'established (IKE|Child) SA' "$LDIR/pluto.log" | sed 's/^/pluto: /' || true
	json=$(cgwctl status --json) || die "cgwctl status --json failed"
	out=$(jq -r --arg t "$TUN" '.tunnels[] | select(.name == $t) | .ike_sas[0].children[0] |
		"\(.packets_in // 0) \(.packets_out // 0)"' <<<"$json")
	read -r pin pout <<<"$out"
	if ((pin < PINGS || pout < PINGS)); then
		printf '%s\n' "$json"
		die "cgwd's CHILD SA counted $pin in / $pout out packets, want >= $PINGS each"
	fi
	pass "[$CASE] cgwd's CHILD SA counters: $pin packets in, $pout out"
}

# ---------------------------------------------------------------- cases

run_case() {
	local psk t0=$EPOCHREALTIME
	CASE=$1
	echo "== case $CASE"
	gen_psk psk
	setup_net
	case $CASE in
	initiator)
		# Libreswan waits (like AWS by default); cgwd initiates.
		write_lsw add aes256-sha2_256 "$psk"
		write_cgwd start aes256-sha256 "$psk"
		start_pluto
		start_cgwd ;;
	responder)
		# cgwd waits; Libreswan initiates (AWS startup action "start").
		write_lsw start aes_gcm256 "$psk"
		write_cgwd add aes256gcm16-modp2048 "$psk"
		start_cgwd
		wait_line "$CDIR/cgwd.log" "." 30 "$CGWD_PID" || die "cgwd said nothing"
		start_pluto ;;
	*) fail "unknown case $CASE" ;;
	esac
	wait_up
	check_status
	ping_across
	check_sas
	stop_cgwd
	lsw_stop "$LDIR"
	LDIR=""
	ns_del "$L"
	ns_del "$C"
	pass "[$CASE] done in $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000000 )) s"
}

setup_once
for c in "${CASES[@]}"; do run_case "$c"; done
pass "ike-libreswan: ${CASES[*]}"

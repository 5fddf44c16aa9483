#!/bin/bash
# Hostile IKE input: a scripted IKEv2 peer (tests/vm/ike-peer.py) brings up
# a real tunnel with cgwd as the responder (x25519, AES-CBC-256 +
# HMAC-SHA2-256-128, PSK; the CHILD SA in this kernel), then throws
# malformed and misplaced messages at it, in the clear, protected with the
# real keys and on UDP 4500. Each case checks cgwd's answer (or silence,
# RFC 7296 2.21), its log line, and that the SA still works and is the same
# one. Meanwhile a second tunnel, to strongSwan, carries a ping: it must
# lose (near) nothing and see no rekey, reset or dead peer.
#
#  netns cgwt-hpeer           netns cgwt-haws (charon, router)      netns cgwt-hgw (cgwd)
# +------------------+       +-------------------------------+     +---------------------+
# | ike-peer.py      |       | lo 198.51.100.1/32 (AWS end)  |     |                     |
# | hp0 192.0.2.2 ---+-------+ hp1 192.0.2.1                 |     |                     |
# +------------------+       | inet0 203.0.113.1 ------------+-----+ wan0 203.0.113.10   |
#                            | vti1 169.254.10.1/30 key 100  |     | vti1 .10.2 (aws)    |
#                            +-------------------------------+     | vti2 .11.2 (hostile)|
#                                                                  +---------------------+
#
# Cases (ike-peer.py prints one PASS/FAIL line each, then a summary):
#   clear: truncated header, header length short/long, payload length
#     overrun / below 4, a 65507-byte datagram, 4000 unknown payloads,
#     4000 vendor IDs, unknown critical payload (UNSUPPORTED_CRITICAL_PAYLOAD
#     with its type), major version 3 (INVALID_MAJOR_VERSION), IKE_SA_INIT
#     flagged response, KE group mismatch (INVALID_KE_PAYLOAD), a KE too
#     short (silence, the
#     tunnel's last error untouched), a flood of 600 such SA_INITs (the
#     answers go out, cgwd's log gets one line per 10 s, the next says how
#     many it held back), IKE_SA_INIT retransmitted (the same answer byte
#     for byte, no second SA), a second IKE SA whose IKE_AUTH has a wrong
#     PSK and INITIAL_CONTACT (AUTHENTICATION_FAILED, the established SA
#     untouched); an unknown non-critical payload rides in the real
#     IKE_SA_INIT and is ignored
#   protected: unknown critical payload in SK, bad ICV (counted in
#     status: integrity_failures), wrong/unknown SPIs
#     (silent: cgwd sends no INVALID_IKE_SPI, RFC 7296 2.21.4 lets it),
#     replayed request (cached answer byte for byte), the replayed ID with
#     a bad ICV (silence), old and far-future message IDs, a response to
#     nothing, SK too short / IV cut short, padding length past the data
#     (INVALID_SYNTAX), DELETE with a bad SPI size or count (INVALID_SYNTAX),
#     CREATE_CHILD_SA rekey with a bad proposal (NO_PROPOSAL_CHOSEN)
#   UDP 4500: garbage, a NAT keepalive, marker + truncated IKE header, ESP
#     for an unknown SPI (the kernel counts it in XfrmInNoStates)
#
# Environment: CGW_BUILD_DIR (daemon/cgwd, cgwctl/cgwctl), CGW_PYTHON
# (default /usr/bin/python3, which has python3-cryptography).

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../ike-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../ike-lib.sh"

readonly G=cgwt-hgw A=cgwt-haws H=cgwt-hpeer
readonly GW_WAN=203.0.113.10 INET_GW=203.0.113.1 AWS=198.51.100.1
readonly PEER=192.0.2.2 PEER_GW=192.0.2.1
readonly PSK=Cgw.scenario70_PSK.strongSwan.1 HPSK=Cgw.scenario70_PSK.hostile.2
readonly PY=${CGW_PYTHON:-/usr/bin/python3}
readonly MAX_LOST=2	# pings lost to TCG scheduling, not to the hostile traffic

T=$(mktemp -d /tmp/cgwt-hostile.XXXXXX)
readonly T
on_exit "rm -rf $T"
SOCK=$T/cgwd.sock

ns_procs_stop_all() { ns_procs_stop "$G" "$H"; ns_procs_stop "$A"; }

setup() {
	check_kernel_modules
	require_cmd ip ping jq swanctl "$CHARON" "$PY"
	[[ -x $CGWD && -x $CGWCTL ]] || skip "no cgwd/cgwctl in $IKE_BUILD: build first, set CGW_BUILD_DIR"
	"$PY" -c 'import cryptography.hazmat.primitives.asymmetric.x25519' 2>/dev/null ||
		skip "$PY lacks python3-cryptography (see tests/vm/packages.txt)"
	modprobe -qa veth 2>/dev/null || true
	ike_init "$T"
	ns_add "$G" "$A" "$H"
	on_exit ns_procs_stop_all
	ip link add wan0 netns "$G" type veth peer name inet0 netns "$A"
	ip link add hp0 netns "$H" type veth peer name hp1 netns "$A"
	ip -n "$G" -b - <<-EOF
	addr add $GW_WAN/24 dev wan0
	link set wan0 up
	route add default via $INET_GW
	EOF
	ip -n "$H" -b - <<-EOF
	addr add $PEER/24 dev hp0
	link set hp0 up
	route add default via $PEER_GW
	EOF
	ip -n "$A" -b - <<-EOF
	addr add $INET_GW/24 dev inet0
	addr add $PEER_GW/24 dev hp1
	addr add $AWS/32 dev lo
	link set inet0 up
	link set hp1 up
	link add vti1 type vti local $AWS remote $GW_WAN key 100
	addr add 169.254.10.1/30 dev vti1
	link set vti1 mtu 1436 up
	EOF
	nsx "$A" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.vti1.disable_policy=1 \
		net.ipv4.conf.vti1.rp_filter=0 net.ipv4.conf.all.rp_filter=0
	pass "setup: namespaces $G (cgwd) $A (strongSwan, router) $H (ike-peer.py)"
}

write_confs() {
	(umask 077
	 printf '%s' "$PSK" >"$T/aws.psk"
	 printf '%s' "$HPSK" >"$T/hostile.psk")
	cat >"$T/cgw.conf" <<-EOF
	[gateway]
	control-socket = $SOCK
	local-address = $GW_WAN

	[tunnel aws]
	remote = $AWS
	psk-file = $T/aws.psk
	inside = 169.254.10.0/30
	vti = vti1
	mark = 100
	ike = aes256-sha256-modp2048
	esp = aes256gcm16-modp2048
	startup = start
	dpd-delay = 10s

	[tunnel hostile]
	remote = $PEER
	psk-file = $T/hostile.psk
	inside = 169.254.11.0/30
	vti = vti2
	mark = 200
	ike = aes256-sha256-x25519
	esp = aes256gcm16
	startup = add
	dpd-delay = 30s
	EOF
	chmod 0600 "$T/cgw.conf"
	sw_write_conf "$T/sw"
	sw_write_swanctl "$T/sw" \
		"$(sw_conn aws "$AWS" "$GW_WAN" "$AWS" "$GW_WAN" 100 none \
			aes256-sha256-modp2048 aes256gcm16-modp2048)" \
		"$(sw_secret aws "$AWS" "$GW_WAN" "$PSK")"
}

_aws_up() {
	grep_line "$T/cgwd.log" "aws: tunnel up$" &&
		grep_line "$T/sw/charon.log" "CHILD_SA aws\{[0-9]+\} established"
}

show_logs() {
	local f
	for f in "$T/cgwd.log" "$T/sw/charon.log"; do
		[[ -s $f ]] || continue
		echo "---- last lines of ${f#"$T"/}"
		tail -n "${CGW_HOSTILE_LOG_LINES:-60}" "$f"
	done
}

main() {
	local t0=$EPOCHREALTIME rc=0 out
	setup
	write_confs
	sw_start "$T/sw" "$A" || fail "charon did not start (see $T/sw/charon.out)"
	sw_load "$T/sw" || fail "swanctl --load-all"
	out=$("$CGWD" -n -c "$T/cgw.conf" 2>&1) || fail "cgwd -n refuses the config: $out"
	cgwd_start "$T" "$G" "$T/cgw.conf"
	cgwd_wait_ctl "$SOCK" || fail "cgwd did not answer on $SOCK"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 45 "tunnel aws up on both sides" _aws_up || { show_logs; fail "tunnel aws not up"; }
	tunnel_stat "$SOCK" aws || fail "no tunnel aws in cgwctl status"
	local spis=$TS_SPIS rekeys=$TS_REKEYS ike_rekeys=$TS_IKE_REKEYS dead=$TS_DEAD
	local swv
	swv=$(sw "$T/sw" --version --daemon 2>/dev/null | grep -v '^loaded plugins') || true
	pass "tunnel aws up against strongSwan (${swv:-version ?}): $spis"

	# The ping runs through the whole hostile run (ping_stop ends it).
	ping_start "$G" 169.254.10.1 0.05 600 "$T/ping"
	vm_log "hostile peer starting"
	ip netns exec "$H" "$PY" "$CGW_VM_DIR/ike-peer.py" --local "$PEER" --remote "$GW_WAN" \
		--psk-file "$T/hostile.psk" --cgwd-pid "$CGWD_PID" --cgwd-log "$T/cgwd.log" \
		--cgwctl "$CGWCTL" --sock "$SOCK" --tunnel hostile || rc=$?
	ike_nap 1
	ping_stop
	((rc == 0)) || { show_logs; echo "FAIL: ike-peer.py exited with status $rc"; }

	alive "$CGWD_PID" || fail "cgwd is no longer running"
	# (a cgwd built with -Db_sanitize=address,undefined reports here)
	count_since "$T/cgwd.log" "AddressSanitizer|runtime error:"
	((COUNT == 0)) || { show_logs; fail "$COUNT sanitizer report(s) in cgwd's log"; }
	kcount_mark "$G" 200
	((K_MARK_STATES == 2)) || { ip -n "$G" xfrm state; fail "hostile tunnel: $K_MARK_STATES ESP states with mark 200 in the kernel, want 2"; }
	pass "hostile tunnel: its CHILD SA pair is in the kernel (2 ESP states, mark 200)"
	tunnel_stat "$SOCK" aws || fail "no tunnel aws in cgwctl status"
	[[ $TS_STATE == up && $TS_SPIS == "$spis" ]] ||
		fail "tunnel aws: $TS_STATE $TS_SPIS, want up $spis"
	[[ $TS_REKEYS == "$rekeys" && $TS_IKE_REKEYS == "$ike_rekeys" && $TS_DEAD == "$dead" ]] ||
		fail "tunnel aws: rekeys $rekeys -> $TS_REKEYS, IKE rekeys $ike_rekeys -> $TS_IKE_REKEYS, dead peers $dead -> $TS_DEAD"
	pass "tunnel aws: still up with the same SPIs, no rekey, no dead peer"
	ping_account "$T/ping" || fail "no ping output"
	vm_log "ping over aws: sent $P_TX, answered $P_RX, lost $P_LOST ${P_MISSING:+($P_MISSING)}"
	((P_TX >= 100)) || fail "only $P_TX pings sent over tunnel aws"
	((P_LOST <= MAX_LOST)) || fail "tunnel aws lost $P_LOST of $P_TX pings ($P_MISSING), want <= $MAX_LOST"
	pass "tunnel aws carried a ping throughout: $P_RX of $P_TX answered, $P_LOST lost"
	local dt=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000000 ))
	((rc == 0)) || fail "hostile cases failed (see above)"
	pass "70-hostile-ike (${dt}s)"
}

main

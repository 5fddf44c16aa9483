#!/bin/bash
# A reload leaves unchanged tunnels untouched. One cgwd with two tunnels
# to strongSwan (the AWS side), pings across both while the config
# changes under them:
#
#  netns cgwt-rgw (cgwd)                       netns cgwt-raws (charon)
# +-----------------------------+            +-------------------------------+
# | wan0 203.0.113.10 ----------+------------+ inet0 203.0.113.1             |
# | vti1 169.254.10.2 (t1)      |            | lo 198.51.100.1   (t1's end)  |
# | vti2 169.254.11.2 (t2)      |            | lo 198.51.100.129 (t2's end)  |
# +-----------------------------+            | vti1 169.254.10.1/30 key 100  |
#                                            | vti2 169.254.11.1/30 key 200  |
#                                            +-------------------------------+
#
# Steps, one ping at 100/s across t1 running through all of them:
#   change   t2's esp-lifetime changes, `cgwctl reload`: the reply lists t2
#            changed and t1 unchanged; t2 is renegotiated (new IKE and
#            CHILD SPIs, strongSwan told with a DELETE, ping across it);
#            t1 keeps its IKE and CHILD SPIs, its rekey counters and its
#            VTI (same ifindex).
#   remove   t2's section goes, reload: t2 is gone from the status, its
#            ESP states (mark 200) and vti2 are gone, strongSwan got a
#            DELETE and holds no t2 SA; t1 untouched.
#   add      t2's section comes back, reload: t2 up again, ping across it,
#            one ESP pair per tunnel; t1 untouched.
# At the end: the t1 ping lost nothing.
#
# Environment: CGW_BUILD_DIR.

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../ike-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../ike-lib.sh"

readonly G=cgwt-rgw A=cgwt-raws
readonly GW_WAN=203.0.113.10 INET_GW=203.0.113.1
readonly AWS1=198.51.100.1 AWS2=198.51.100.129
readonly IN1=169.254.10.1 IN2=169.254.11.1
readonly PSK1=Cgw.scenario53_PSK.t1 PSK2=Cgw.scenario53_PSK.t2
readonly IKE_P=aes256-sha256-modp2048 ESP_P=aes256gcm16-modp2048

T=$(mktemp -d /tmp/cgwt-53.XXXXXX)
readonly T SW=$T/sw SOCK=$T/cgwd.sock LOG=$T/cgwd.log SWLOG=$T/sw/charon.log
on_exit "rm -rf $T"
STEP=setup

die() {
	echo "---- last 60 lines of cgwd.log"
	tail -n 60 "$LOG" 2>/dev/null || true
	echo "---- last 40 lines of charon.log"
	tail -n 40 "$SWLOG" 2>/dev/null || true
	fail "[$STEP] $*"
}

stop_all() { ping_stop; ns_procs_stop "$G"; ns_procs_stop "$A"; }

# tunnel_section NAME — cgw.conf's section for t1 or t2 (ESP lifetime in
# $T/t2.esp-lifetime for t2).
tunnel_section() {
	local n=$1 remote=$AWS1 inside=169.254.10.0/30 mark=100 life=3000s
	if [[ $n == t2 ]]; then
		remote=$AWS2 inside=169.254.11.0/30 mark=200 life=$T2_LIFE
	fi
	cat <<-EOF

	[tunnel $n]
	remote = $remote
	psk-file = $T/$n.psk
	inside = $inside
	vti = vti${n#t}
	mark = $mark
	ike = $IKE_P
	esp = $ESP_P
	esp-lifetime = $life
	startup = start
	EOF
}

# write_conf TUNNEL... — the gateway section and those tunnels.
write_conf() {
	local n
	{
		printf '[gateway]\ncontrol-socket = %s\nlocal-address = %s\n' "$SOCK" "$GW_WAN"
		for n in "$@"; do tunnel_section "$n"; done
	} >"$T/cgw.conf.new"
	chmod 0600 "$T/cgw.conf.new"
	mv "$T/cgw.conf.new" "$T/cgw.conf"
	local out
	out=$("$CGWD" -n -c "$T/cgw.conf" 2>&1) || die "cgwd -n refuses the config: $out"
}

setup() {
	check_kernel_modules
	require_cmd ip ping jq swanctl "$CHARON"
	[[ -x $CGWD && -x $CGWCTL ]] || skip "no cgwd/cgwctl in $IKE_BUILD: build first, set CGW_BUILD_DIR"
	modprobe -qa veth 2>/dev/null || true
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
	addr add $AWS1/32 dev lo
	addr add $AWS2/32 dev lo
	link set inet0 up
	link add vti1 type vti local $AWS1 remote $GW_WAN key 100
	addr add $IN1/30 dev vti1
	link set vti1 mtu 1436 up
	link add vti2 type vti local $AWS2 remote $GW_WAN key 200
	addr add $IN2/30 dev vti2
	link set vti2 mtu 1436 up
	EOF
	nsx "$A" sysctl -q -w net.ipv4.conf.vti1.disable_policy=1 net.ipv4.conf.vti1.rp_filter=0 \
		net.ipv4.conf.vti2.disable_policy=1 net.ipv4.conf.vti2.rp_filter=0 \
		net.ipv4.conf.all.rp_filter=0
	(umask 077; printf '%s' "$PSK1" >"$T/t1.psk"; printf '%s' "$PSK2" >"$T/t2.psk")
	T2_LIFE=3000s
	write_conf t1 t2
	sw_write_conf "$SW"
	sw_write_swanctl "$SW" \
		"$(sw_conn t1 "$AWS1" "$GW_WAN" "$AWS1" "$GW_WAN" 100 none "$IKE_P" "$ESP_P")
$(sw_conn t2 "$AWS2" "$GW_WAN" "$AWS2" "$GW_WAN" 200 none "$IKE_P" "$ESP_P")" \
		"$(sw_secret t1 "$AWS1" "$GW_WAN" "$PSK1")
$(sw_secret t2 "$AWS2" "$GW_WAN" "$PSK2")"
	sw_start "$SW" "$A" || die "charon did not start (see $SW/charon.out)"
	sw_load "$SW" || die "swanctl --load-all"
	cgwd_start "$T" "$G" "$T/cgw.conf"
	cgwd_wait_ctl "$SOCK" || die "cgwd did not answer on $SOCK"
}

# ---------------------------------------------------------------- helpers

log_off() { file_size "$LOG"; LOG_OFF=$FILE_SIZE; }
sw_off() { file_size "$SWLOG"; SW_OFF=$FILE_SIZE; }

_up() { tunnel_stat "$SOCK" "$1" && [[ $TS_STATE == up && $TS_NIKE == 1 && $TS_NCHILD == 1 ]]; }
_ping_ok() { nsx "$G" ping -n -q -c 1 -W 1 "$1" >/dev/null 2>&1; }
ifindex() { local l; l=$(ip -n "$G" -o link show "$1" 2>/dev/null) || { IFX=none; return 0; }; IFX=${l%%:*}; }

wait_up() {
	local n=$1 dst=$2
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 60 "$n up with one IKE and one CHILD SA" _up "$n" ||
		die "$n not up (state ${TS_STATE:-?}: ${TS_REASON:-}; ${TS_NIKE:-?} IKE / ${TS_NCHILD:-?} CHILD SAs)"
	until_ok 20 "a ping across $n" _ping_ok "$dst" || die "no ping across $n although it is up"
}

# t1_snapshot — what must not change on t1: SPIs, rekey counters, VTI.
t1_snapshot() {
	tunnel_stat "$SOCK" t1 || die "cgwctl status"
	ifindex vti1
	T1_SNAP="SPIs $TS_SPIS; rekeys $TS_REKEYS CHILD / $TS_IKE_REKEYS IKE; vti1 ifindex $IFX"
}
t1_untouched() {
	local before=$T1_SNAP
	t1_snapshot
	[[ $T1_SNAP == "$before" ]] || die "t1 was touched: before: $before; after: $T1_SNAP"
	[[ $TS_STATE == up ]] || die "t1 is $TS_STATE after the reload"
}

# reload — cgwctl --json reload; the lists in R_ADDED R_REMOVED R_CHANGED
# R_UNCHANGED (space separated).
reload() {
	local out
	out=$("$CGWCTL" -s "$SOCK" --json reload 2>&1) || die "cgwctl reload failed: $out"
	R_ADDED=$(jq -r '.added // [] | join(" ")' <<<"$out") &&
		R_REMOVED=$(jq -r '.removed // [] | join(" ")' <<<"$out") &&
		R_CHANGED=$(jq -r '.changed // [] | join(" ")' <<<"$out") &&
		R_UNCHANGED=$(jq -r '.unchanged // [] | join(" ")' <<<"$out") ||
		die "cgwctl --json reload: unexpected reply: $out"
	vm_log "[$STEP] reload: added [$R_ADDED] removed [$R_REMOVED] changed [$R_CHANGED] unchanged [$R_UNCHANGED]"
}

# ---------------------------------------------------------------- steps

step_change() {
	STEP=change
	tunnel_stat "$SOCK" t2 || die "cgwctl status"
	local t2_before=$TS_SPIS
	log_off; sw_off
	local off=$LOG_OFF soff=$SW_OFF
	T2_LIFE=2400s
	write_conf t1 t2
	reload
	[[ $R_CHANGED == t2 && $R_UNCHANGED == t1 && -z $R_ADDED$R_REMOVED ]] ||
		die "reload should report t2 changed, t1 unchanged"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 30 "t2 up again" grep_line "$LOG" "t2: tunnel up$" "$off" || die "t2 not renegotiated"
	wait_up t2 "$IN2"
	local t2_after=$TS_SPIS
	[[ $t2_after != "$t2_before" ]] || die "t2 still has its old SAs ($t2_before)"
	until_ok 10 "strongSwan to log the DELETE for t2's old IKE SA" \
		grep_line "$SWLOG" "received DELETE for IKE_SA t2\[" "$soff" ||
		die "strongSwan was not told (no DELETE for t2's old IKE SA)"
	t1_untouched
	pass "change: t2 renegotiated ($t2_before -> $t2_after, the peer got a DELETE), t1 untouched ($T1_SNAP)"
}

_t2_gone() {
	tunnel_stat "$SOCK" t2 && return 1
	kcount_mark "$G" 200 && ((K_MARK_STATES == 0)) || return 1
	ifindex vti2
	[[ $IFX == none ]] || return 1
	local out
	out=$(sw "$SW" --list-sas 2>&1) || return 1
	[[ $out != *"t2: #"* ]]
}

step_remove() {
	STEP=remove
	sw_off
	local soff=$SW_OFF
	write_conf t1
	reload
	[[ $R_REMOVED == t2 && $R_UNCHANGED == t1 && -z $R_ADDED$R_CHANGED ]] ||
		die "reload should report t2 removed, t1 unchanged"
	until_ok 15 "t2's status, ESP states, vti2 and strongSwan's SA to go" _t2_gone ||
		die "t2 not gone: status ${TS_STATE:-gone}, ESP states with mark 200: ${K_MARK_STATES:-?}, vti2 ifindex $IFX"
	grep_line "$SWLOG" "received DELETE for IKE_SA t2\[" "$soff" ||
		die "t2's SAs are gone but strongSwan got no DELETE for them"
	t1_untouched
	pass "remove: t2 gone from status and kernel (no ESP state with mark 200, no vti2), strongSwan got a DELETE; t1 untouched"
}

step_add() {
	STEP=add
	log_off
	T2_LIFE=3000s
	write_conf t1 t2
	reload
	[[ $R_ADDED == t2 && $R_UNCHANGED == t1 && -z $R_REMOVED$R_CHANGED ]] ||
		die "reload should report t2 added, t1 unchanged"
	wait_up t2 "$IN2"
	local t2_spis=$TS_SPIS
	kcount_mark "$G" 100; local n1=$K_MARK_STATES
	kcount_mark "$G" 200; local n2=$K_MARK_STATES
	((n1 == 2 && n2 == 2)) || die "ESP states per tunnel: t1 $n1, t2 $n2 (want one pair each)"
	t1_untouched
	pass "add: t2 up again (SPIs $t2_spis), one ESP pair per tunnel; t1 untouched"
}

# ---------------------------------------------------------------- main

t_start=$EPOCHREALTIME
setup
wait_up t1 "$IN1"
wait_up t2 "$IN2"
pass "setup: t1 and t2 up, pings across both"
t1_snapshot
plog=$T/ping-t1.log
ping_start "$G" "$IN1" 0.01 120 "$plog"
ike_nap 2
step_change
step_remove
step_add
STEP=end
ike_nap 2
ping_stop
ping_account "$plog" || { cat "$plog"; die "no ping statistics"; }
vm_log "t1 ping: $P_TX sent, $P_RX received${P_MISSING:+; missing icmp_seq $P_MISSING}"
((P_TX >= 500)) || die "only $P_TX pings across t1"
((P_LOST == 0)) || die "$P_LOST pings across t1 lost during the reloads (icmp_seq $P_MISSING)"
t1_untouched
pass "53-reload: t1 untouched through three reloads ($P_TX pings, 0 lost; $T1_SNAP) in $(( (${EPOCHREALTIME/./} - ${t_start/./}) / 1000000 )) s"

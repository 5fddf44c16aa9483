#!/bin/bash
# rekey-loss-vm.sh — the rekey-loss benchmark's measurement, run as root in
# the test VM (by tests/vm/scenarios/52-bench-rekey-loss.sh in the suite,
# or by bench/rekey-loss.sh, which saves the results). See bench/README.md.
#
# Packets lost per CHILD SA rekey, and how long a blackholed path takes to
# be noticed and to recover, for cgwd and for Libreswan 4.10 in its place,
# each against the same AWS-like strongSwan peer:
#
#   ns cgwb-rgw (gateway under test)          ns cgwb-raws (strongSwan)
#  +----------------------------+           +-----------------------------+
#  | wan0 203.0.113.10/24       +-----------+ inet0 203.0.113.1/24        |
#  | vti1 169.254.10.2 mark 100 |           | lo 198.51.100.1  (aws-1)    |
#  +----------------------------+           | vti1 169.254.10.1/30 key 100|
#                                           +-----------------------------+
#
# Gateways (one tunnel each, the same lifetimes, algorithms and DPD):
#   cgwd       esp-lifetime 600 s, ike-lifetime 3600 s, rekey-margin 60 s,
#              rekey-fuzz 0, dpd-delay 10 s, dpd-timeout 30 s (and its
#              default 2 s liveness-probe), dpd-action restart
#   Libreswan  the classic AWS recipe: salifetime=600s ikelifetime=3600s
#              rekeymargin=60s rekeyfuzz=0%, dpddelay=10 dpdtimeout=30
#              dpdaction=restart, vti-interface/leftvti/mark, auto=start
# No rekey comes from a lifetime during a run: every rekey is forced, the
# same way for both, so both get the same number of each kind.
#
# Per gateway, on a fresh gateway namespace:
#   rekeys     pings across the VTI, > 200/s (two pings at -i 0.004: under
#              TCG one ping's interval is rounded up); every 4 s a CHILD rekey,
#              alternately started by the gateway (cgwctl tunnel rekey /
#              ipsec whack --rekey-ipsec) and by the peer (swanctl
#              --rekey --child): CGW_BENCH_REKEYS (default 12) in all.
#              Loss = pings unanswered; each gap is charged to the rekey
#              before it. Rekeys are counted from strongSwan's log (the
#              same count for both gateways).
#              Drops for SPIs without keyed state (XfrmInNoStates +
#              XfrmAcquireError) are counted on both sides.
#   blackhole  a ping at 20/s; nft drops IKE and ESP on the AWS side:
#              drop -> the gateway declares the peer dead (its log); the
#              drop is lifted 1 s later: lift -> the tunnel is up again
#              (cgwd: "tunnel up"; pluto: "established Child SA").
#              Waits at most CGW_BENCH_DEAD_MAX s (default 100) for dead.
#
# Output: a table, and one line "CGW-BENCH-JSON {...}" that
# bench/rekey-loss.sh saves as bench/results-rekey-loss.json.
# Exit status: 0 when cgwd lost no packet in its rekeys (Libreswan's
# figures are reported, never judged), 1 otherwise or when a run failed,
# 77 when it cannot run here (no Libreswan, not root...).
# CGW_BENCH_GATEWAYS (default "cgwd libreswan") picks the gateways.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
# shellcheck source=../tests/vm/lib.sh
source "$SRC_DIR/tests/vm/lib.sh"
# shellcheck source=../tests/vm/ike-lib.sh
source "$SRC_DIR/tests/vm/ike-lib.sh"
# shellcheck source=../tests/vm/libreswan.sh
source "$SRC_DIR/tests/vm/libreswan.sh"

readonly GW=cgwb-rgw AWSNS=cgwb-raws
readonly GW_WAN=203.0.113.10 INET_GW=203.0.113.1 AWS=198.51.100.1
readonly AWS_IN=169.254.10.1 GW_IN=169.254.10.2 MARK=100 TUN=aws-1
readonly REKEYS=${CGW_BENCH_REKEYS:-12} INTERVAL=4
readonly DEAD_MAX=${CGW_BENCH_DEAD_MAX:-100}
readonly ESP_LIFE=600 IKE_LIFE=3600 MARGIN=60
read -r -a GATEWAYS <<<"${CGW_BENCH_GATEWAYS:-cgwd libreswan}"

W=$(mktemp -d /tmp/cgwb-rl.XXXXXX)
readonly W SW=$W/sw SWLOG=$W/sw/charon.log
on_exit "rm -rf $W"
PSK=""
DAEMON_PID=""
declare -A R=()		# "gw key" -> value, for the table and the JSON

# ------------------------------------------------------------- AWS side

setup_aws() {
	ns_add "$AWSNS"
	ip -n "$AWSNS" -b - <<-EOF || fail "AWS side addresses and VTI"
	addr add $AWS/32 dev lo
	link add vti1 type vti local $AWS remote $GW_WAN key $MARK
	addr add $AWS_IN/30 dev vti1
	link set vti1 mtu 1436 up
	EOF
	nsx "$AWSNS" sysctl -q -w net.ipv4.conf.vti1.disable_policy=1 \
		net.ipv4.conf.vti1.rp_filter=0 net.ipv4.conf.all.rp_filter=0 || fail "AWS sysctls"
	nft_works "$AWSNS" || fail "nft does not work in $AWSNS"
	# Inside addresses only through the tunnel: without this a ping from a
	# gateway that has no VTI yet goes out its default route in clear and
	# is answered, and "the tunnel carries a ping" means nothing.
	nsx "$AWSNS" nft -f - <<-EOF || fail "nft: the clear-text guard"
	table inet cgwb_guard {
	  chain in {
	    type filter hook input priority 0; policy accept;
	    iifname "inet0" ip daddr 169.254.0.0/16 drop
	  }
	}
	EOF
	sw_write_conf "$SW"
	sw_write_swanctl "$SW" \
		"$(sw_conn "$TUN" "$AWS" "$GW_WAN" "$AWS" "$GW_WAN" "$MARK" none \
			aes256-sha256-modp2048 aes256gcm16-modp2048)" \
		"$(sw_secret "$TUN" "$AWS" "$GW_WAN" "$PSK")"
	sw_start "$SW" "$AWSNS" || fail "charon did not start (see $SW/charon.out)"
	sw_load "$SW" || fail "swanctl --load-all"
}

# The AWS side forgets what the last gateway left (nothing, normally).
aws_reset() {
	local out
	out=$(sw "$SW" --list-sas 2>/dev/null) || true
	[[ $out == *"$TUN: #"* ]] || return 0
	sw "$SW" --terminate --ike "$TUN" --force --timeout 2 >/dev/null 2>&1 || true
}

# A fresh gateway namespace on a new veth pair.
setup_gw() {
	ns_del "$GW"
	ip netns add "$GW"
	ip link add wan0 netns "$GW" type veth peer name inet0 netns "$AWSNS" || fail "veth"
	ip -n "$AWSNS" -b - <<-EOF || fail "AWS inet0"
	addr add $INET_GW/24 dev inet0
	link set inet0 up
	EOF
	ip -n "$GW" -b - <<-EOF || fail "gateway addresses"
	link set lo up
	addr add $GW_WAN/24 dev wan0
	link set wan0 up
	route add default via $INET_GW
	EOF
}

# ------------------------------------------------------------- gateways

write_confs() {
	mkdir -m 0700 "$W/cgwd"
	(umask 077; printf '%s' "$PSK" >"$W/cgwd/$TUN.psk")
	(umask 077; cat >"$W/cgwd/cgw.conf") <<-EOF
	[gateway]
	control-socket = $W/cgwd/cgwd.sock
	local-address = $GW_WAN

	[tunnel $TUN]
	remote = $AWS
	psk-file = $W/cgwd/$TUN.psk
	inside = 169.254.10.0/30
	vti = vti1
	mark = $MARK
	ike = aes256-sha256-modp2048
	esp = aes256gcm16-modp2048
	startup = start
	ike-lifetime = ${IKE_LIFE}s
	esp-lifetime = ${ESP_LIFE}s
	rekey-margin = ${MARGIN}s
	rekey-fuzz = 0
	dpd-delay = 10s
	dpd-timeout = 30s
	dpd-action = restart
	EOF
	"$CGWD" -n -c "$W/cgwd/cgw.conf" >/dev/null || fail "cgwd -n refuses the bench config"
	[[ " ${GATEWAYS[*]} " == *" libreswan "* ]] || return 0
	lsw_dir_init "$W/lsw"
	lsw_conn "$W/lsw" "$TUN" \
		authby=secret ikev2=insist type=tunnel \
		"left=$GW_WAN" "leftid=$GW_WAN" "right=$AWS" "rightid=$AWS" \
		leftsubnet=0.0.0.0/0 rightsubnet=0.0.0.0/0 \
		'ike=aes256-sha2_256;dh14' 'esp=aes_gcm256;dh14' \
		"ikelifetime=${IKE_LIFE}s" "salifetime=${ESP_LIFE}s" \
		"rekeymargin=${MARGIN}s" rekeyfuzz=0% keyingtries=%forever \
		"mark=$MARK/0xffffffff" vti-interface=vti1 vti-routing=no vti-shared=no \
		"leftvti=$GW_IN/30" replay-window=1024 \
		dpddelay=10 dpdtimeout=30 dpdaction=restart auto=start
	lsw_secret "$W/lsw" "$GW_WAN" "$AWS" "$PSK"
}

# start_gateway GW — its log: cgwd.log (epoch-ms stamps) or pluto.log.
start_gateway() {
	case $1 in
	cgwd)
		local fifo=$W/cgwd/cgwd.fifo
		[[ -p $fifo ]] || mkfifo -m 0600 "$fifo"
		_ts_lines <"$fifo" >>"$W/cgwd/cgwd.log" &
		# Without debug categories: the lines used here are info level.
		ip netns exec "$GW" "$CGWD" -c "$W/cgwd/cgw.conf" >"$fifo" 2>&1 &
		DAEMON_PID=$! ;;
	libreswan)
		rm -f "$W/lsw/run/pluto.pid" "$W/lsw/run/pluto.ctl"
		lsw_start "$W/lsw" "$GW"
		DAEMON_PID=$LSW_PID ;;
	esac
}

stop_gateway() {
	local gw=$1 i
	[[ -n $DAEMON_PID ]] || return 0
	if [[ $gw == libreswan ]]; then
		LSW_PID=$DAEMON_PID
		lsw_stop "$W/lsw"
	else
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do alive "$DAEMON_PID" || break; ike_nap 0.2; done
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	DAEMON_PID=""
}

gw_log() { if [[ $1 == cgwd ]]; then printf '%s\n' "$W/cgwd/cgwd.log"; else printf '%s\n' "$W/lsw/pluto.log"; fi; }

# line_ms GW LINE — epoch ms of a line of that gateway's log, in MS.
line_ms() {
	if [[ $1 == cgwd ]]; then ms_at "$2"; else lsw_line_ms "$2" || return 1; MS=$LSW_MS; fi
}

gw_rekey() {
	case $1 in
	cgwd) "$CGWCTL" -s "$W/cgwd/cgwd.sock" tunnel rekey "$TUN" child >/dev/null ;;
	libreswan) lsw_whack "$W/lsw" --name "$TUN" --rekey-ipsec --asynchronous >/dev/null ;;
	esac
}

_ping_ok() { nsx "$GW" ping -n -q -c 1 -W 1 "$AWS_IN" >/dev/null 2>&1; }
_gw_up() {
	if [[ $1 == cgwd ]]; then
		tunnel_stat "$W/cgwd/cgwd.sock" "$TUN" && [[ $TS_STATE == up ]]
	else
		lsw_log_has "$W/lsw" "established Child SA"
	fi
}

# ------------------------------------------------------------- phases

# rekey_phase GW — sets R["GW rekeys"], ["lost"], ["sent"], per initiator.
rekey_phase() {
	local gw=$1 plog=$W/ping-rekeys-$1.log k t0 sw_off
	local -a at=() by=()
	file_size "$SWLOG"; sw_off=$FILE_SIZE
	local rk0=0 lsw_off=0
	if [[ $gw == cgwd ]]; then
		tunnel_stat "$W/cgwd/cgwd.sock" "$TUN" && rk0=$TS_REKEYS
	else
		file_size "$W/lsw/pluto.log"; lsw_off=$FILE_SIZE
	fi
	xfrm_stat "$GW"; local g0=$((XS_NOSTATES + XS_ACQERR))
	xfrm_stat "$AWSNS"; local a0=$((XS_NOSTATES + XS_ACQERR))
	t0=$EPOCHREALTIME
	ping_start "$GW" "$AWS_IN" 0.004 600 "$plog" 2
	local errs=0
	for ((k = 0; k < REKEYS; k++)); do
		ike_nap "$INTERVAL"
		now_ms; at+=("$NOW_MS")
		if ((k % 2 == 0)); then
			by+=(gateway)
			gw_rekey "$gw" || { errs=$((errs + 1)); vm_log "$gw: gateway rekey command failed"; }
		else
			by+=(peer)
			sw "$SW" --rekey --child "$TUN" >/dev/null 2>&1 || { errs=$((errs + 1)); vm_log "$gw: swanctl --rekey failed"; }
		fi
	done
	ike_nap 3
	ping_stop
	local secs=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000000))
	ping_account "$plog" || { cat "$plog"; fail "$gw: no ping statistics"; }
	xfrm_stat "$GW"; local gns=$((XS_NOSTATES + XS_ACQERR - g0))
	xfrm_stat "$AWSNS"; local ans=$((XS_NOSTATES + XS_ACQERR - a0))
	# Charge each gap to the rekey started last before it.
	local i j lost_gw=0 lost_peer=0 lost_none=0 gaps=""
	for ((i = 0; i < ${#P_LOSS_TS[@]}; i++)); do
		local t=${P_LOSS_TS[i]} n=${P_LOSS_N[i]} who=none
		for ((j = ${#at[@]} - 1; j >= 0; j--)); do
			((at[j] <= t + 5)) && { who=${by[j]}; break; }
		done
		case $who in
		gateway) lost_gw=$((lost_gw + n)) ;;
		peer) lost_peer=$((lost_peer + n)) ;;
		*) lost_none=$((lost_none + n)) ;;
		esac
		gaps+="${gaps:+, }$n after rekey by $who"
	done
	# New CHILD SAs strongSwan established (it logs some twice: count
	# their unique ids); the gateway's own count alongside.
	local nrk
	nrk=$(tail -c +$((sw_off + 1)) "$SWLOG" | grep -o -E "CHILD_SA $TUN\{[0-9]+\} established with SPIs" |
		sort -u | wc -l)
	if [[ $gw == cgwd ]]; then
		tunnel_stat "$W/cgwd/cgwd.sock" "$TUN" || true
		R["$gw own_count"]=$(( ${TS_REKEYS:-0} - rk0 ))
	else
		count_since "$W/lsw/pluto.log" "rekeyed Child SA" "$lsw_off"
		R["$gw own_count"]=$COUNT
	fi
	R["$gw rekeys"]=$nrk
	R["$gw forced"]=$REKEYS
	R["$gw sent"]=$P_TX
	R["$gw lost"]=$P_LOST
	R["$gw lost_gw"]=$lost_gw
	R["$gw lost_peer"]=$lost_peer
	R["$gw lost_other"]=$lost_none
	R["$gw rate"]=$((P_TX / (secs > 0 ? secs : 1)))
	R["$gw slowest"]=${P_SLOWEST:-0}
	R["$gw nostates_gw"]=$gns
	R["$gw nostates_peer"]=$ans
	R["$gw errors"]=$errs
	R["$gw per_rekey_gw"]=$(awk -v l="$lost_gw" -v n=$(((REKEYS + 1) / 2)) 'BEGIN { printf "%.2f", l / n }')
	R["$gw per_rekey_peer"]=$(awk -v l="$lost_peer" -v n=$((REKEYS / 2)) 'BEGIN { printf "%.2f", n ? l / n : 0 }')
	R["$gw per_rekey"]=$(awk -v l="$P_LOST" -v n="$nrk" 'BEGIN { if (n > 0) printf "%.2f", l / n; else print "null" }')
	vm_log "$gw rekeys: $nrk CHILD rekeys (strongSwan's log; the gateway counted ${R["$gw own_count"]}; $REKEYS forced, $errs command errors), ping $P_TX sent at ~${R["$gw rate"]}/s, $P_LOST lost (gateway-started rekeys $lost_gw, peer-started $lost_peer, elsewhere $lost_none${gaps:+: $gaps}); ESP dropped for an SPI without (keyed) state: gateway side $gns, peer side $ans"
	((errs == 0)) || fail "$gw: $errs rekey commands failed"
}

_dead() { grep_line "$(gw_log "$1")" "$2" "$3"; }
_upline() { grep_line "$(gw_log "$1")" "$2" "$3"; }

# blackhole_phase GW — sets R["GW dead_s"], ["up_s"].
blackhole_phase() {
	local gw=$1 log dead_re up_re
	log=$(gw_log "$gw")
	if [[ $gw == cgwd ]]; then
		dead_re="declared dead" up_re=": tunnel up$"
	else
		dead_re="second timeout exceeded|liveness action|DPD action" up_re="established Child SA"
	fi
	ping_start "$GW" "$AWS_IN" 0.05 600 "$W/ping-bh-$gw.log"
	ike_nap 2
	file_size "$log"; local off=$FILE_SIZE
	now_ms; local drop_ms=$NOW_MS
	nft_blackhole "$AWSNS" "$GW_WAN" || fail "nft drop rules"
	local dead_ms="" up_ms=""
	if until_ok "$DEAD_MAX" "$gw to declare the peer dead" _dead "$gw" "$dead_re" "$off"; then
		line_ms "$gw" "$MATCH" && dead_ms=$MS
		vm_log "$gw: dead: ${MATCH:0:200}"
	fi
	ike_nap 1
	file_size "$log"; local off2=$FILE_SIZE
	now_ms; local lift_ms=$NOW_MS
	nft_unblackhole "$AWSNS"
	if until_ok 120 "$gw to bring the tunnel up again" _upline "$gw" "$up_re" "$off2"; then
		line_ms "$gw" "$MATCH" && up_ms=$MS
	fi
	until_ok 20 "a ping across the tunnel" _ping_ok || vm_log "$gw: no ping after the blackhole"
	ping_stop
	local d=null u=null
	[[ -n $dead_ms ]] && { fmt_ms $((dead_ms - drop_ms)); d=$S; }
	[[ -n $up_ms ]] && { fmt_ms $((up_ms - lift_ms)); u=$S; }
	R["$gw dead_s"]=$d
	R["$gw up_s"]=$u
	vm_log "$gw blackhole: drop -> dead ${d/null/> $DEAD_MAX} s, lift -> up ${u/null/> 120} s"
}

one_gateway() {
	local gw=$1 t0=$EPOCHREALTIME
	vm_log "==== $gw"
	setup_gw
	start_gateway "$gw"
	local WATCH_PID=$DAEMON_PID WATCH_NAME=$gw
	until_ok 90 "$gw to bring the tunnel up" _gw_up "$gw" || { show_gw_log "$gw"; fail "$gw: tunnel never came up"; }
	until_ok 30 "$gw's tunnel to carry a ping" _ping_ok || { show_gw_log "$gw"; fail "$gw: tunnel up but no ping across it"; }
	WATCH_PID=""
	now_ms
	fmt_ms $(((${EPOCHREALTIME/./} - ${t0/./}) / 1000)); vm_log "$gw: tunnel up ($S s after start)"
	rekey_phase "$gw"
	blackhole_phase "$gw"
	[[ ${CGW_BENCH_SHOW:-0} == 1 ]] && show_gw_log "$gw" 400
	stop_gateway "$gw"
	ns_del "$GW"
	aws_reset
}

show_gw_log() {
	local f
	f=$(gw_log "$1")
	echo "---- $1: last ${2:-60} lines of $f"
	tail -n "${2:-60}" "$f" 2>/dev/null || true
	echo "---- strongSwan: last 30 lines"
	tail -n 30 "$SWLOG" 2>/dev/null || true
}

report() {
	local gw v_cgwd=$1 v_ss=$2 ratio=null
	echo
	printf '%-10s %8s %8s %6s %9s %10s %10s %8s %8s\n' gateway rekeys pings lost lost/rk "by-gw" "by-peer" dead_s up_s
	for gw in "${GATEWAYS[@]}"; do
		printf '%-10s %8s %8s %6s %9s %10s %10s %8s %8s\n' "$gw" "${R["$gw rekeys"]}" "${R["$gw sent"]}" \
			"${R["$gw lost"]}" "${R["$gw per_rekey"]}" "${R["$gw lost_gw"]}" "${R["$gw lost_peer"]}" \
			"${R["$gw dead_s"]}" "${R["$gw up_s"]}"
	done
	if [[ -n ${R["cgwd per_rekey"]:-} && -n ${R["libreswan per_rekey"]:-} ]]; then
		ratio=$(awk -v a="${R["libreswan per_rekey"]}" -v b="${R["cgwd per_rekey"]}" \
			'BEGIN { if (a == "null" || b == "null") print "null"; else if (b + 0 == 0) print (a + 0 == 0 ? "1.0" : "null"); else printf "%.2f", a / b }')
		echo "lost per rekey, Libreswan/cgwd: $ratio$([[ $ratio == null && ${R["cgwd per_rekey"]} == 0.00 ]] && echo " (cgwd lost none: no finite ratio)")"
	fi
	local json="" k
	for gw in "${GATEWAYS[@]}"; do
		json+="\"$gw\":{"
		for k in rekeys own_count forced sent rate slowest lost per_rekey per_rekey_gw per_rekey_peer lost_gw lost_peer lost_other nostates_gw nostates_peer dead_s up_s; do
			json+="\"$k\":${R["$gw $k"]:-null},"
		done
		json="${json%,}},"
	done
	printf 'CGW-BENCH-JSON {"benchmark":"rekey-loss","date":"%(%Y-%m-%dT%H:%M:%S%z)T","kernel":"%s","cpus":%s,"vm":%s,"cgwd":"%s","libreswan":"%s","strongswan":"%s","setup":{"esp_lifetime_s":%s,"ike_lifetime_s":%s,"rekey_margin_s":%s,"rekeys_forced":%s,"rekey_interval_s":%s,"ping":"2 x ping -i 0.004","dead_max_s":%s},"gateways":{%s},"lost_per_rekey_ratio_libreswan_over_cgwd":%s}\n' \
		-1 "$(uname -r)" "$(nproc)" "$([[ ${CGW_IN_VM:-} == 1 ]] && echo true || echo false)" \
		"$v_cgwd" "${LSW_VERSION:-}" "$v_ss" "$ESP_LIFE" "$IKE_LIFE" "$MARGIN" "$REKEYS" "$INTERVAL" "$DEAD_MAX" \
		"${json%,}" "$ratio"
}

cleanup() {
	ping_stop
	[[ -n $DAEMON_PID ]] && { kill -KILL "$DAEMON_PID" 2>/dev/null || true; }
	ns_procs_stop "$GW" 2>/dev/null || true
	ns_del "$GW"
	ns_procs_stop "$AWSNS" 2>/dev/null || true
}

main() {
	local t_start=$EPOCHREALTIME gw v_cgwd v_ss chars=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._
	check_kernel_modules
	require_cmd ip ping jq nft swanctl "$CHARON"
	[[ -x $CGWD && -x $CGWCTL ]] || skip "no cgwd/cgwctl in $IKE_BUILD: build first, set CGW_BUILD_DIR"
	[[ " ${GATEWAYS[*]} " == *" libreswan "* ]] && lsw_setup
	modprobe -qa veth nf_tables 2>/dev/null || true
	ike_init "$W"
	on_exit cleanup
	PSK=${chars:RANDOM % 52:1}
	while ((${#PSK} < 32)); do PSK+=${chars:RANDOM % ${#chars}:1}; done
	v_cgwd=$("$CGWD" -V)
	v_ss=$(dpkg-query -W -f='${Version}' strongswan-libcharon 2>/dev/null || echo '?')
	echo "gateway A: $v_cgwd ($CGWD)"
	echo "gateway B: ${LSW_VERSION:-not run}"
	echo "AWS side:  strongSwan charon-systemd $v_ss"
	echo "kernel $(uname -r), $(nproc) CPUs${CGW_IN_VM:+, qemu VM (${CGW_VM_ACCEL:-tcg})}"
	setup_aws
	write_confs
	for gw in "${GATEWAYS[@]}"; do one_gateway "$gw"; done
	report "$v_cgwd" "$v_ss"
	vm_log "benchmark done in $(( (${EPOCHREALTIME/./} - ${t_start/./}) / 1000000 )) s"
	if [[ -n ${R["cgwd lost"]:-} ]]; then
		((R["cgwd lost"] == 0)) ||
			fail "cgwd lost ${R["cgwd lost"]} pings over ${R["cgwd rekeys"]} CHILD rekeys (gateway-started ${R["cgwd lost_gw"]}, peer-started ${R["cgwd lost_peer"]})"
		((R["cgwd rekeys"] >= 10)) || fail "only ${R["cgwd rekeys"]} CHILD rekeys counted for cgwd (want >= 10)"
		pass "cgwd lost no packet over ${R["cgwd rekeys"]} CHILD rekeys (${R["cgwd sent"]} pings at ~${R["cgwd rate"]}/s)"
	fi
}

main "$@"

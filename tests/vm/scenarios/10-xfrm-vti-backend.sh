#!/bin/bash
# cgw's kernel data-path modules (xfrm/, vti/) against a real kernel,
# driven through their APIs by cgw-xfrmtool (tests/vm/xfrmtool.c).
#
#   netns cgwt-xl                                       netns cgwt-xr
#  +---------------------------------+             +---------------------------------+
#  | vti1 169.254.10.2/30  key 100   |  tunnel 1   | vti1 169.254.10.1/30  key 100   |
#  |   AES-GCM-256, replay 1024      |  ESP        |                                 |
#  | vti2 169.254.11.2/30  key 200   |  tunnel 2   | vti2 169.254.11.1/30  key 200   |
#  |   AES-CBC-256 + HMAC-SHA2-256-128, ESN        |                                 |
#  |                                 |             |                                 |
#  | veth-l 192.0.2.1  (tunnel 1) ---+---- veth ---+--- veth-r 192.0.2.2  (tunnel 1) |
#  |        192.0.2.11 (tunnel 2)    |             |          192.0.2.12 (tunnel 2)  |
#  +---------------------------------+             +---------------------------------+
#
# Through the API: inbound SPIs allocated (larval states, then updated),
# outbound states added, marked 0/0 policies out/in/fwd, VTIs with
# address, MTU, up and sysctls; pings over both VTIs; counters read back
# (ESP states and VTIs); HMAC-SHA2-256 truncated to 128 bits in the
# kernel; the sysctl checks; soft/hard expiry events; a NAT-T (UDP 4500)
# state; no duplicates; EEXIST and ownership refusals (delete and
# update never touch someone else's entry under the same key); finally
# flush_owned removes exactly cgw's states, policies and VTIs while a
# foreign state, two foreign policies and a foreign link survive.
#
# CGW_XFRMTOOL: the program (default $CGW_BUILD_DIR/tests/vm/cgw-xfrmtool).

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

readonly L=cgwt-xl R=cgwt-xr
readonly L1=192.0.2.1 R1=192.0.2.2 L2=192.0.2.11 R2=192.0.2.12
readonly REQ1=0x7c6e0001 REQ2=0x7c6e0002 REQ3=0x7c6e0003 REQ4=0x7c6e0004
readonly M1=100 M2=200 M3=300 M4=400
readonly PINGS=5
readonly XT=${CGW_XFRMTOOL:-${CGW_BUILD_DIR:-build}/tests/vm/cgw-xfrmtool}

# hexkey VAR BYTES FIRST — VAR=0x<BYTES bytes counting up from FIRST> (no fork).
hexkey() {
	local -n _k=$1
	local i
	_k=0x
	for ((i = 0; i < $2; i++)); do printf -v _k '%s%02x' "$_k" $((($3 + i) % 256)); done
}
hexkey GCM_LR 36 0x10		# AES-256 key + 4-byte salt, left -> right
hexkey GCM_RL 36 0x40
hexkey CBC_LR 32 0x70
hexkey CBC_RL 32 0x90
hexkey SHA_LR 32 0xb0
hexkey SHA_RL 32 0xd0
hexkey GCM128 20 0x01

# xt NS ARGS... — run the tool in a namespace.
xt() {
	local ns=$1
	shift
	nsx "$ns" "$XT" "$@"
}

setup() {
	check_kernel_modules
	require_cmd ip ping
	[[ -x $XT ]] || skip "cgw-xfrmtool not built ($XT); set CGW_XFRMTOOL"
	ns_add "$L" "$R"
	ip link add veth-l netns "$L" type veth peer name veth-r netns "$R" || fail "veth pair"
	ip -n "$L" -batch - <<-EOF || fail "$L addresses"
	addr add $L1/24 dev veth-l
	addr add $L2/24 dev veth-l
	link set veth-l up
	EOF
	ip -n "$R" -batch - <<-EOF || fail "$R addresses"
	addr add $R1/24 dev veth-r
	addr add $R2/24 dev veth-r
	link set veth-r up
	EOF
}

# alloc_spis NS SELF1 PEER1 SELF2 PEER2 — inbound SPIs of both tunnels
# (peer -> self); sets SPI1 and SPI2.
alloc_spis() {
	local out l1 l2
	out=$(xt "$1" -f - <<-EOF
	spi alloc $3 $2 reqid $REQ1 mark $M1
	spi alloc $5 $4 reqid $REQ2 mark $M2
	EOF
	) || fail "$1: spi alloc"
	l1=${out%%$'\n'*}
	l2=${out#*$'\n'}
	[[ $l1 =~ ^spi\ (0x[0-9a-f]{8})$ && $l2 =~ ^spi\ (0x[0-9a-f]{8})$ ]] ||
		fail "$1: spi alloc printed: $out"
	SPI1=${l1#spi }
	SPI2=${l2#spi }
	(( SPI1 >= 0x100 && SPI2 >= 0x100 )) || fail "$1: SPI below 0x100"
}

# side_batch SELF1 PEER1 SELF2 PEER2 IN1 OUT1 IN2 OUT2 GCM_IN GCM_OUT CBC_IN
#            CBC_OUT SHA_IN SHA_OUT INSIDE1 INSIDE2
# — tool commands installing one side: states, policies, VTIs.
side_batch() {
	local s1=$1 p1=$2 s2=$3 p2=$4 in1=$5 out1=$6 in2=$7 out2=$8
	local gi=$9 go=${10} ci=${11} co=${12} hi=${13} ho=${14} a1=${15} a2=${16}
	local cbc="enc aes-cbc keylen 256 auth sha256 replay 64 esn"
	cat <<-EOF
	state update $p1 $s1 spi $in1 reqid $REQ1 mark $M1 enc aes-gcm keylen 256 key $gi replay 1024 dir in
	state add $s1 $p1 spi $out1 reqid $REQ1 mark $M1 enc aes-gcm keylen 256 key $go replay 1024 dir out
	state update $p2 $s2 spi $in2 reqid $REQ2 mark $M2 $cbc key $ci authkey $hi dir in
	state add $s2 $p2 spi $out2 reqid $REQ2 mark $M2 $cbc key $co authkey $ho dir out
	policy add out 0.0.0.0/0 0.0.0.0/0 tmpl $s1 $p1 reqid $REQ1 mark $M1
	policy add in 0.0.0.0/0 0.0.0.0/0 tmpl $p1 $s1 reqid $REQ1 mark $M1
	policy add fwd 0.0.0.0/0 0.0.0.0/0 tmpl $p1 $s1 reqid $REQ1 mark $M1
	policy add out 0.0.0.0/0 0.0.0.0/0 tmpl $s2 $p2 reqid $REQ2 mark $M2
	policy add in 0.0.0.0/0 0.0.0.0/0 tmpl $p2 $s2 reqid $REQ2 mark $M2
	policy add fwd 0.0.0.0/0 0.0.0.0/0 tmpl $p2 $s2 reqid $REQ2 mark $M2
	vti create vti1 $s1 $p1 mark $M1
	vti addr vti1 $a1/30
	vti mtu vti1 1436
	vti up vti1
	vti create vti2 $s2 $p2 mark $M2
	vti addr vti2 $a2/30
	vti mtu vti2 1436
	vti up vti2
	vti check vti1
	EOF
}

install() {
	local lspi1 lspi2 out
	alloc_spis "$L" "$L1" "$R1" "$L2" "$R2"
	lspi1=$SPI1 lspi2=$SPI2
	alloc_spis "$R" "$R1" "$L1" "$R2" "$L2"
	LSPI1=$lspi1 LSPI2=$lspi2 RSPI1=$SPI1 RSPI2=$SPI2
	vm_log "SPIs: $L in $LSPI1/$LSPI2, $R in $RSPI1/$RSPI2"
	pass "SPIs allocated through xfrm_alloc_spi: $LSPI1 $LSPI2 $RSPI1 $RSPI2"
	out=$(side_batch "$L1" "$R1" "$L2" "$R2" "$LSPI1" "$RSPI1" "$LSPI2" "$RSPI2" \
		"$GCM_RL" "$GCM_LR" "$CBC_RL" "$CBC_LR" "$SHA_RL" "$SHA_LR" \
		169.254.10.2 169.254.11.2 | xt "$L" -f -) || fail "$L: install"
	[[ $out == "vti1 warnings=1 ip_forward" ]] || fail "$L: vti check said: $out"
	pass "$L: vti check warns about ip_forward=0 in a fresh namespace"
	side_batch "$R1" "$L1" "$R2" "$L2" "$RSPI1" "$LSPI1" "$RSPI2" "$LSPI2" \
		"$GCM_LR" "$GCM_RL" "$CBC_LR" "$CBC_RL" "$SHA_LR" "$SHA_RL" \
		169.254.10.1 169.254.11.1 | xt "$R" -f - >/dev/null || fail "$R: install"
	pass "states (GCM-256, CBC-256+SHA256), policies, VTIs installed on both sides"
}

# The kernel's view of what the API asked for.
check_kernel_view() {
	local st link sysctls
	st=$(ip -n "$L" xfrm state get src "$L2" dst "$R2" proto esp spi "$RSPI2" \
		mark "$M2" mask 0xffffffff) || fail "ip xfrm state get (tunnel 2)"
	[[ $st =~ auth-trunc\ hmac\(sha256\)\ 0x[0-9a-f]+\ 128 ]] ||
		{ printf '%s\n' "$st"; fail "HMAC-SHA2-256 not truncated to 128 bits"; }
	[[ $st =~ flag\ .*esn ]] || { printf '%s\n' "$st"; fail "ESN flag missing"; }
	pass "ip xfrm: auth-trunc hmac(sha256) ... 128 (RFC 4868), ESN on tunnel 2"
	st=$(ip -n "$L" xfrm state get src "$L1" dst "$R1" proto esp spi "$RSPI1" \
		mark "$M1" mask 0xffffffff) || fail "ip xfrm state get (tunnel 1)"
	[[ $st =~ aead\ rfc4106\(gcm\(aes\)\)\ 0x[0-9a-f]{72}\ 128 && $st =~ replay_window\ 1024 ]] ||
		{ printf '%s\n' "$st"; fail "tunnel 1 state is not GCM-256 with window 1024"; }
	pass "ip xfrm: aead rfc4106(gcm(aes)) 288-bit key, icv 128, replay_window 1024"
	link=$(ip -n "$L" -d link show vti1)
	[[ $link =~ ikey\ 0\.0\.0\.100\ okey\ 0\.0\.0\.100 && $link =~ mtu\ 1436 && $link =~ UP ]] ||
		{ printf '%s\n' "$link"; fail "vti1 keys/MTU/state"; }
	sysctls=$(nsx "$L" cat /proc/sys/net/ipv4/conf/vti1/disable_policy \
		/proc/sys/net/ipv4/conf/vti1/rp_filter)
	[[ $sysctls == $'1\n2' ]] || fail "vti1 disable_policy/rp_filter: $sysctls"
	pass "vti1: ikey=okey=100, mtu 1436, up, disable_policy=1, rp_filter=2"
}

# vti_check_sysctls against the kernel's own values: with all.rp_filter=1
# the VTI's 2 still wins (max), a VTI at 0 becomes strict.
check_sysctl_warnings() {
	local out
	nsx "$L" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward &&
		echo 1 >/proc/sys/net/ipv4/conf/all/rp_filter &&
		echo 0 >/proc/sys/net/ipv4/conf/vti2/rp_filter' || fail "set sysctls"
	out=$(xt "$L" -f - <<-EOF
	vti check vti1
	vti check vti2
	EOF
	) || fail "vti check"
	[[ $out == $'vti1 warnings=0\nvti2 warnings=2 rp_filter' ]] || fail "vti check: $out"
	echo 2 | nsx "$L" tee /proc/sys/net/ipv4/conf/vti2/rp_filter >/dev/null
	pass "vti_check_sysctls: all=1 + vti1=2 -> loose, no warning; all=1 + vti2=0 -> strict, warned"
}

ping_across() {
	local out src dst
	while read -r src dst; do
		vm_log "ping $src -> $dst"
		if ! out=$(nsx "$L" ping -n -c "$PINGS" -i 0.2 -w 30 -I "$src" "$dst" 2>&1); then
			printf '%s\n' "$out"
			nsx "$L" ip -s xfrm state || true
			fail "ping $src -> $dst"
		fi
		pass "ping $src -> $dst: $(grep -o '[0-9]* received' <<<"$out")"
	done <<-EOF
	169.254.10.2 169.254.10.1
	169.254.11.2 169.254.11.1
	EOF
}

# packets NS DST SPI MARK — the state's packet counter via xfrm_state_get().
packets() {
	local out
	out=$(xt "$1" state get "$2" spi "$3" mark "$4") || return 1
	[[ $out =~ packets=([0-9]+) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

check_counters() {
	local n dst spi mark what
	while read -r dst spi mark what; do
		n=$(packets "$L" "$dst" "$spi" "$mark") || n=
		if [[ ! $n =~ ^[0-9]+$ ]] || ((n < PINGS)); then
			fail "$L: state spi $spi ($what) counted ${n:-nothing}, want >= $PINGS"
		fi
		pass "$L: xfrm_state_get spi $spi ($what): $n packets"
	done <<-EOF
	$R1 $RSPI1 $M1 tunnel-1-out
	$L1 $LSPI1 $M1 tunnel-1-in
	$R2 $RSPI2 $M2 tunnel-2-out
	$L2 $LSPI2 $M2 tunnel-2-in
	EOF
	n=$(xt "$L" vti counters vti2) || fail "vti counters"
	if [[ ! $n =~ rx_packets=([0-9]+).*tx_packets=([0-9]+) ]] ||
		((BASH_REMATCH[1] < PINGS || BASH_REMATCH[2] < PINGS)); then
		fail "vti2 counters: $n"
	fi
	pass "vti_get_counters: $n"
}

# Expiry events, NAT-T state, duplicates and refusals: one tool run.
check_events_and_more() {
	local out
	out=$(xt "$L" -f - <<-EOF
	state add $L1 $R1 spi 0x5001 reqid $REQ3 mark $M3 enc aes-gcm keylen 128 key $GCM128 soft-secs 2 hard-secs 4
	state add $L1 $R1 spi 0x6001 reqid $REQ4 mark $M4 enc aes-gcm keylen 256 key $GCM_LR encap 4500 4500
	events count 2 timeout 40
	EOF
	) || { printf '%s\n' "$out"; fail "expiry events"; }
	printf '%s\n' "$out"
	[[ $out =~ event\ expire-soft\ dst=$R1\ spi=0x00005001\ reqid=$REQ3\ mark=$M3/0xffffffff ]] ||
		fail "no soft expire event for spi 0x5001"
	[[ $out =~ event\ expire-hard\ dst=$R1\ spi=0x00005001 ]] || fail "no hard expire event"
	pass "xfrm_events_read: expire-soft then expire-hard for spi 0x5001"
	out=$(ip -n "$L" xfrm state get src "$L1" dst "$R1" proto esp spi 0x6001 mark "$M4" \
		mask 0xffffffff) || fail "NAT-T state missing"
	[[ $out =~ encap\ type\ espinudp\ sport\ 4500\ dport\ 4500 ]] ||
		{ printf '%s\n' "$out"; fail "NAT-T state without UDP encapsulation"; }
	pass "NAT-T state: encap type espinudp sport 4500 dport 4500"
	if out=$(xt "$L" policy add out 0.0.0.0/0 0.0.0.0/0 tmpl "$L1" "$R1" reqid "$REQ1" \
		mark "$M1" 2>&1); then
		fail "a duplicate policy was accepted"
	fi
	[[ $out =~ already\ exists ]] || fail "duplicate policy: $out"
	pass "duplicate policy refused: ${out##*: }"
}

check_no_duplicates() {
	local out dups
	out=$(xt "$L" list) || fail "list"
	printf '%s\n' "$out"
	dups=$(grep -o 'dst=[^ ]* spi=[^ ]*' <<<"$out" | sort | uniq -d)
	[[ -z $dups ]] || fail "duplicate states: $dups"
	[[ $(grep -c '^state .*owned=yes' <<<"$out") == 5 ]] || fail "want 5 owned states"
	[[ $(grep -c '^policy .*owned=yes' <<<"$out") == 6 ]] || fail "want 6 owned policies"
	pass "xfrm_list: 5 states, 6 policies, no duplicates"
}

check_flush() {
	local out
	ip -n "$L" -batch - <<-EOF || fail "foreign entries"
	xfrm state add src $L1 dst $R1 proto esp spi 0x7777 reqid 5 mode tunnel aead rfc4106(gcm(aes)) $GCM128 128
	xfrm policy add dir out src 10.0.0.0/8 dst 10.1.0.0/16 tmpl src $L1 dst $R1 proto esp reqid 5 mode tunnel
	xfrm policy add dir out src 10.2.0.0/16 dst 0.0.0.0/0 priority 509663 mark $M1 mask 0xffffffff tmpl src $L1 dst $R1 proto esp reqid 5 mode tunnel
	EOF
	if out=$(xt "$L" state del "$R1" spi 0x7777 mark 0/0 2>&1); then
		fail "a foreign state was deleted"
	fi
	[[ $out =~ not\ cgw\'s ]] || fail "foreign state delete: $out"
	pass "xfrm_state_del refuses someone else's state: ${out#*: }"
	# An update replaces what the kernel's lookup finds: the unmarked
	# foreign state matches mark 100 too, the policy by selector and mark.
	if out=$(xt "$L" state update "$L1" "$R1" spi 0x7777 reqid "$REQ1" mark "$M1" \
		enc aes-gcm keylen 128 key "$GCM128" 2>&1); then
		fail "a foreign state was updated"
	fi
	[[ $out =~ not\ cgw\'s ]] || fail "foreign state update: $out"
	if out=$(xt "$L" policy update out 10.2.0.0/16 0.0.0.0/0 tmpl "$L1" "$R1" \
		reqid "$REQ1" mark "$M1" 2>&1); then
		fail "a foreign policy was replaced"
	fi
	[[ $out =~ priority\ 509663,\ not\ cgw\'s ]] || fail "foreign policy update: $out"
	pass "updates refuse to replace someone else's state or policy"
	out=$(xt "$L" -f - <<-EOF
	flush
	list all
	vti flush vti1 vti2 veth-l
	vti exists veth-l
	EOF
	) || { printf '%s\n' "$out"; fail "flush"; }
	printf '%s\n' "$out"
	[[ $out =~ flushed\ 11 ]] || fail "flush removed the wrong number"
	[[ $(grep -c 'owned=yes' <<<"$out") == 0 ]] || fail "owned entries survived flush"
	[[ $(grep -c '^state .*spi=0x00007777 .*owned=no' <<<"$out") == 1 ]] || fail "foreign state gone"
	[[ $(grep -c '^policy .*priority=0 .*owned=no' <<<"$out") == 1 ]] || fail "foreign policy gone"
	[[ $(grep -c '^policy .*priority=509663 .*owned=no' <<<"$out") == 1 ]] ||
		fail "foreign priority-509663 policy gone"
	[[ $out =~ vti\ flushed\ 2 && $out =~ veth-l\ not-a-vti ]] || fail "vti flush"
	ip -n "$L" link show veth-l >/dev/null || fail "veth-l was deleted"
	pass "flush_owned: 11 removed; foreign state, 2 foreign policies and veth-l survive"
	out=$(xt "$R" -f - <<-EOF
	flush
	vti flush vti1 vti2
	list all
	EOF
	) || fail "$R: flush"
	[[ $out == $'flushed 10\nvti flushed 2' ]] || fail "$R flush: $out"
	pass "$R: flush_owned left nothing behind"
}

setup
install
check_kernel_view
check_sysctl_warnings
ping_across
check_counters
check_events_and_more
check_no_duplicates
check_flush
pass "xfrm-vti-backend"

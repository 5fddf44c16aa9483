#!/bin/bash
# Self-test of the kernel test harness: real ESP (AES-GCM) through VTI.
#
#   netns cgwt-left                                  netns cgwt-right
#  +----------------------------+                +----------------------------+
#  | vti1 169.254.10.1/30       |                | vti1 169.254.10.2/30       |
#  |  ikey/okey 100 = xfrm mark |                |  ikey/okey 100 = xfrm mark |
#  |   |                        |                |                        |   |
#  |   | policy out/in/fwd      |   ESP tunnel   |      policy out/in/fwd |   |
#  |   | 0/0 <-> 0/0 mark 100   |   spi 0x1001 ->|   mark 100             |   |
#  |   v                        |<- spi 0x2002   |                        v   |
#  | veth-l 192.0.2.1/24 -------+----- veth -----+------- veth-r 192.0.2.2/24 |
#  +----------------------------+                +----------------------------+
#
# No IKE: the states are keyed by hand (rfc4106(gcm(aes)), 160-bit key =
# 128-bit AES key + 32-bit salt, 128-bit ICV). Pings 169.254.10.1 ->
# 169.254.10.2 across the VTIs, then checks that the ESP states' packet
# counters rose on both sides, i.e. the pings really went through ESP.

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

readonly L=cgwt-left R=cgwt-right
readonly L_OUT=192.0.2.1 R_OUT=192.0.2.2
readonly L_IN=169.254.10.1 R_IN=169.254.10.2
readonly SPI_LR=0x1001 SPI_RL=0x2002 MARK=100
readonly KEY_LR=0x0102030405060708090a0b0c0d0e0f1011121314
readonly KEY_RL=0x2122232425262728292a2b2c2d2e2f3031323334
readonly PINGS=5

# xfrm_batch SELF PEER — ip -batch commands for one side's states and
# marked catch-all policies (tunnel mode ESP between the outside addresses).
xfrm_batch() {
	local self=$1 peer=$2 spi_out spi_in key_out key_in
	if [[ $self == "$L_OUT" ]]; then
		spi_out=$SPI_LR spi_in=$SPI_RL key_out=$KEY_LR key_in=$KEY_RL
	else
		spi_out=$SPI_RL spi_in=$SPI_LR key_out=$KEY_RL key_in=$KEY_LR
	fi
	local aead="aead rfc4106(gcm(aes))"
	local mark="mark $MARK mask 0xffffffff"
	cat <<-EOF
	xfrm state add src $self dst $peer proto esp spi $spi_out reqid 1 mode tunnel replay-window 32 $aead $key_out 128 $mark
	xfrm state add src $peer dst $self proto esp spi $spi_in reqid 1 mode tunnel replay-window 32 $aead $key_in 128 $mark
	xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 $mark tmpl src $self dst $peer proto esp reqid 1 mode tunnel
	xfrm policy add dir in src 0.0.0.0/0 dst 0.0.0.0/0 $mark tmpl src $peer dst $self proto esp reqid 1 mode tunnel
	xfrm policy add dir fwd src 0.0.0.0/0 dst 0.0.0.0/0 $mark tmpl src $peer dst $self proto esp reqid 1 mode tunnel
	link add vti1 type vti local $self remote $peer ikey $MARK okey $MARK
	EOF
}

# side_setup NS VETH SELF PEER INSIDE — addresses, xfrm, VTI for one side.
side_setup() {
	local ns=$1 veth=$2 self=$3 peer=$4 inside=$5
	{
		echo "addr add $self/24 dev $veth"
		echo "link set $veth up"
		xfrm_batch "$self" "$peer"
		echo "addr add $inside/30 dev vti1"
		echo "link set vti1 up"
	} | ip -n "$ns" -batch - || fail "$ns: ip -batch setup"
	nsx "$ns" sysctl -q -w net.ipv4.conf.vti1.disable_policy=1 \
		net.ipv4.conf.vti1.rp_filter=0 net.ipv4.conf.all.rp_filter=0 ||
		fail "$ns: vti1 sysctls"
}

setup() {
	check_kernel_modules
	require_cmd ip ping sysctl
	ns_add "$L" "$R"
	ip link add veth-l netns "$L" type veth peer name veth-r netns "$R" ||
		fail "veth pair"
	side_setup "$L" veth-l "$L_OUT" "$R_OUT" "$L_IN"
	side_setup "$R" veth-r "$R_OUT" "$L_OUT" "$R_IN"
	pass "two namespaces, ESP-GCM states + marked policies, vti1 on each side"
}

ping_across() {
	local out
	vm_log "ping $L_IN -> $R_IN over vti1"
	if ! out=$(nsx "$L" ping -n -c "$PINGS" -i 0.2 -w 30 -I "$L_IN" "$R_IN" 2>&1); then
		printf '%s\n' "$out"
		nsx "$L" ip -s xfrm state || true
		fail "ping $L_IN -> $R_IN over vti1"
	fi
	printf '%s\n' "$out" | grep -E 'transmitted|rtt'
	pass "ping $L_IN -> $R_IN over vti1"
}

# check_counter NS SRC DST SPI WHAT — the state counted at least $PINGS.
check_counter() {
	local n
	n=$(esp_packets "$1" "$2" "$3" "$4" mark "$MARK" mask 0xffffffff) || n=""
	vm_log "$1: ESP spi $4 ($5): ${n:-?} packets"
	if [[ ! $n =~ ^[0-9]+$ ]] || ((n < PINGS)); then
		fail "$1: ESP state spi $4 ($5) counted ${n:-no} packets, want >= $PINGS"
	fi
	pass "$1: ESP spi $4 $5: $n packets"
}

check_counters() {
	check_counter "$L" "$L_OUT" "$R_OUT" "$SPI_LR" "out, encrypted"
	check_counter "$L" "$R_OUT" "$L_OUT" "$SPI_RL" "in, decrypted"
	check_counter "$R" "$L_OUT" "$R_OUT" "$SPI_LR" "in, decrypted"
	check_counter "$R" "$R_OUT" "$L_OUT" "$SPI_RL" "out, encrypted"
}

setup
ping_across
check_counters
pass "selftest-esp-vti"

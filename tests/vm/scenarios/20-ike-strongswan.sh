#!/bin/bash
# cgwd's IKEv2 against strongSwan (the "AWS side"): both roles, the
# algorithm families AWS offers, INVALID_KE_PAYLOAD, wrong PSK both ways,
# no common proposal both ways, kill -9 and restart, clean shutdown, and
# NAT-T through a masquerading NAT.
#
#  netns cgwt-ipriv           netns cgwt-inat              netns cgwt-iaws (charon)
# +-----------------+        +--------------------+        +------------------------------+
# | cgwd (NAT case) |        | nft masquerade     |        | lo 198.51.100.1/32 (AWS end) |
# | wan0 10.0.0.2 --+--------+ in0 10.0.0.1       |        | vti1 169.254.10.1/30 key 100 |
# | vti1 .12.2      |        | out0 198.18.0.2 ---+--------+ nat0 198.18.0.1              |
# +-----------------+        +--------------------+        | vti3 169.254.12.1/30 key 300 |
#                                                          |   (remote 198.18.0.2)        |
#  netns cgwt-igw (cgwd)                                   |                              |
# +-----------------------------+                          |                              |
# | wan0 203.0.113.10 ----------+--------------------------+ inet0 203.0.113.1            |
# | vti1 169.254.10.2 (by cgwd) |                          +------------------------------+
# +-----------------------------+
#
# Cases (strongSwan 5.9 as the AWS side; "init": cgwd initiates with
# startup = start, strongSwan waits; "resp": cgwd waits with startup = add,
# strongSwan initiates with start_action = start):
#   alg-{a,b,c,d-*}-{init,resp}  tunnel up in cgwctl status, ping across the
#       VTI's /30, ESP counted by both xfrm states and cgwctl, the kernel's
#       algorithm (GCM, CBC+HMAC-SHA1-96, CBC+HMAC-SHA2-256-128, -384-192,
#       -512-256), exactly one IKE SA + CHILD SA pair each side
#   invalid-ke        cgwd offers ecp256 first, strongSwan wants modp2048
#   wrong-psk-init    AUTHENTICATION_FAILED logged, status reason, retries
#                     1 s then 2 s after each failure (strongSwan's log)
#   wrong-psk-resp    cgwd answers AUTHENTICATION_FAILED and says why
#   no-proposal-init  NO_PROPOSAL_CHOSEN logged with what cgwd offered
#   no-proposal-resp  "no proposal chosen: peer offered ...; we accept ..."
#   kill9-restart     no duplicate states/policies/VTIs, INITIAL_CONTACT
#   sigterm-cleanup   every state, policy and VTI removed, DELETE sent
#   nat-t             IKE and ESP on UDP 4500 through nft masquerade
#
# Every case is a function run in a subshell with a fresh charon (own
# strongswan.conf, vici socket, log with ms timestamps) and a fresh cgwd
# (-d ike -d ike-packets, log timestamped); between cases every process in
# the namespaces is stopped and the XFRM state flushed. A case prints
# PASS:/FAIL: lines; a failing case prints the tail of both logs and the
# scenario goes on with the next one. The scenario fails if any case
# failed.
#
# Environment: CGW_BUILD_DIR (daemon/cgwd, cgwctl/cgwctl), CGW_IKE_CASES
# (space-separated substrings: run only matching cases), CGW_IKE_LOGS=DIR
# (a writable directory to copy every case's logs to; inside the VM only
# useful with a shared writable path).

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../ike-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../ike-lib.sh"

readonly G=cgwt-igw A=cgwt-iaws N=cgwt-inat P=cgwt-ipriv
readonly GW_WAN=203.0.113.10 INET_GW=203.0.113.1 AWS=198.51.100.1
readonly PRIV=10.0.0.2 PRIV_GW=10.0.0.1 NAT_OUT=198.18.0.2 AWS_NAT=198.18.0.1
readonly PSK=Cgw.scenario20_PSK.strongSwan.1 WRONG_PSK=Wrong.PSK_for.this.tunnel.77
readonly UP_TIMEOUT=45 PINGS=3
# `ip -s xfrm state` adds the key size after the key: "0x... (288 bits) 128".
readonly BITS='( \([0-9]+ bits\))?'

T=$(mktemp -d /tmp/cgwt-ike.XXXXXX)
readonly T
on_exit "rm -rf $T"
CASE="" CDIR="" SOCK=""
declare -a RESULTS=()
NPASS=0 NFAIL=0 NSKIP=0

# ================================================================ setup

setup() {
	vm_log "setup: loading modules"
	check_kernel_modules
	require_cmd ip ping jq swanctl "$CHARON"
	[[ -x $CGWD && -x $CGWCTL ]] || skip "no cgwd/cgwctl in $IKE_BUILD: build first, set CGW_BUILD_DIR"
	modprobe -qa veth sha512 2>/dev/null || true
	# NAT-T case (the VM cannot autoload modules).
	modprobe -qa nf_tables nf_conntrack nf_nat nft_chain_nat nft_masq 2>/dev/null ||
		vm_log "some netfilter modules did not load (NAT case may fail)"
	ike_init "$T"
	ns_add "$G" "$A" "$N" "$P"
	on_exit ns_procs_stop_all	# runs before the namespaces go
	ip link add wan0 netns "$G" type veth peer name inet0 netns "$A"
	ip link add wan0 netns "$P" type veth peer name in0 netns "$N"
	ip link add out0 netns "$N" type veth peer name nat0 netns "$A"
	ip -n "$G" -b - <<-EOF
	addr add $GW_WAN/24 dev wan0
	link set wan0 up
	route add default via $INET_GW
	EOF
	ip -n "$P" -b - <<-EOF
	addr add $PRIV/24 dev wan0
	link set wan0 up
	route add default via $PRIV_GW
	EOF
	ip -n "$N" -b - <<-EOF
	addr add $PRIV_GW/24 dev in0
	addr add $NAT_OUT/24 dev out0
	link set in0 up
	link set out0 up
	route add default via $AWS_NAT
	EOF
	ip -n "$A" -b - <<-EOF
	addr add $INET_GW/24 dev inet0
	addr add $AWS_NAT/24 dev nat0
	addr add $AWS/32 dev lo
	link set inet0 up
	link set nat0 up
	link add vti1 type vti local $AWS remote $GW_WAN key 100
	addr add 169.254.10.1/30 dev vti1
	link set vti1 mtu 1436 up
	link add vti3 type vti local $AWS remote $NAT_OUT key 300
	addr add 169.254.12.1/30 dev vti3
	link set vti3 mtu 1436 up
	EOF
	nsx "$A" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.vti1.disable_policy=1 \
		net.ipv4.conf.vti1.rp_filter=0 net.ipv4.conf.vti3.disable_policy=1 \
		net.ipv4.conf.vti3.rp_filter=0 net.ipv4.conf.all.rp_filter=0
	nsx "$N" sysctl -q -w net.ipv4.ip_forward=1
	vm_log "setup: namespaces done; warming up ESP transforms"
	warm_up_esp
	vm_log "setup: done"
	pass "setup: namespaces $G $A $N $P, AWS-side VTIs vti1 (key 100), vti3 (key 300)"
}

ns_procs_stop_all() { ns_procs_stop "$G" "$P"; ns_procs_stop "$A" "$N"; }

# Build (and self-test) the kernel's ESP transforms once, up front, so the
# first CHILD SA of a case does not pay for it.
warm_up_esp() {
	local k20 k16 k32 k48 k64 k36
	printf -v k20 '0x%040d' 0
	printf -v k36 '0x%072d' 0
	printf -v k16 '0x%032d' 0
	printf -v k32 '0x%064d' 0
	printf -v k48 '0x%096d' 0
	printf -v k64 '0x%0128d' 0
	ip -n "$A" -force -b - >/dev/null 2>&1 <<-EOF || true
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x101 mode tunnel aead rfc4106(gcm(aes)) $k20 128
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x102 mode tunnel aead rfc4106(gcm(aes)) $k36 128
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x103 mode tunnel enc cbc(aes) $k32 auth-trunc hmac(sha256) $k32 128
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x104 mode tunnel enc cbc(aes) $k16 auth-trunc hmac(sha1) $k20 96
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x105 mode tunnel enc cbc(aes) $k32 auth-trunc hmac(sha384) $k48 192
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x106 mode tunnel enc cbc(aes) $k32 auth-trunc hmac(sha512) $k64 256
	xfrm state flush
	EOF
}

# ================================================================ per case

# Between cases: cgwd first (TERM: it deletes its SAs while charon still
# answers), then charon and anything else, then whatever kernel state is
# left, so that the next case starts from nothing.
cleanup_case() {
	ns_procs_stop "$G" "$P"
	ns_procs_stop "$A" "$N"
	local ns
	# iproute2 exits after an xfrm flush even in batch mode: xfrm last.
	for ns in "$G" "$P" "$A"; do
		ip -n "$ns" -force -b - >/dev/null 2>&1 <<-EOF || true
		$([[ $ns != "$A" ]] && echo "link del vti1")
		xfrm policy flush
		EOF
		ip -n "$ns" xfrm state flush 2>/dev/null || true
	done
}

# Tails of the logs of a failed case.
show_logs() {
	local f
	for f in "$CDIR/cgwd.log" "$CDIR/sw/charon.log"; do
		[[ -s $f ]] || continue
		echo "---- last lines of ${f#"$T"/}"
		tail -n "${CGW_IKE_LOG_LINES:-50}" "$f"
	done
}

selected() {
	[[ -z ${CGW_IKE_CASES:-} ]] && return 0
	local p
	for p in $CGW_IKE_CASES; do [[ $1 == *"$p"* ]] && return 0; done
	return 1
}

# run_case NAME FUNCTION [ARGS...]
run_case() {
	local name=$1 t0=$EPOCHREALTIME rc dt
	shift
	selected "$name" || return 0
	CASE=$name CDIR=$T/$name SOCK=$T/$name/cgwd.sock
	mkdir -p "$CDIR"
	echo "==== case $name"
	set +e
	(
		set -eE
		trap 'st=$?; printf "FAIL: %s: line %s: command failed (status %s): %s\n" "$CASE" "$LINENO" "$st" "$BASH_COMMAND"' ERR
		"$@"
		# Whatever the case checked, cgwd must not have died on the way
		# (cases that stop it on purpose clear CGWD_PID).
		if [[ -n $CGWD_PID ]] && ! alive "$CGWD_PID"; then
			fail "cgwd (pid $CGWD_PID) is no longer running at the end of the case"
		fi
	)
	rc=$?
	set -e
	dt=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 100000 ))
	dt="$((dt / 10)).$((dt % 10))s"
	[[ ${CGW_IKE_VERBOSE:-0} == 1 && $rc != 1 ]] && show_logs
	case $rc in
	0) NPASS=$((NPASS + 1)); RESULTS+=("PASS $name ($dt)"); echo "PASS: case $name ($dt)" ;;
	77) NSKIP=$((NSKIP + 1)); RESULTS+=("SKIP $name"); echo "SKIP: case $name" ;;
	*)
		NFAIL=$((NFAIL + 1)); RESULTS+=("FAIL $name ($dt)")
		show_logs
		echo "FAIL: case $name ($dt)" ;;
	esac
	if [[ -n ${CGW_IKE_LOGS:-} ]]; then
		if mkdir -p "$CGW_IKE_LOGS/$name" 2>/dev/null; then
			cp "$CDIR"/*.log "$CDIR"/*.conf "$CDIR"/sw/charon.log "$CGW_IKE_LOGS/$name/" 2>/dev/null || true
		fi
	fi
	cleanup_case
}

# ================================================================ building blocks

# cgw_conf NAME REMOTE INSIDE MARK IKE ESP STARTUP PSK [LOCAL] — writes
# $CDIR/cgw.conf (and the 0600 PSK file) for one tunnel.
cgw_conf() {
	local name=$1 remote=$2 inside=$3 mark=$4 ike=$5 esp=$6 startup=$7 psk=$8
	local local=${9:-$GW_WAN}
	(umask 077; printf '%s' "$psk" >"$CDIR/$name.psk")
	cat >"$CDIR/cgw.conf" <<-EOF
	[gateway]
	control-socket = $SOCK
	local-address = $local

	[tunnel $name]
	remote = $remote
	psk-file = $CDIR/$name.psk
	inside = $inside
	vti = vti1
	mark = $mark
	ike = $ike
	esp = $esp
	startup = $startup
	dpd-delay = 10s
	EOF
	chmod 0600 "$CDIR/cgw.conf"
}

# aws_conf NAME START IKE ESP PSK [REMOTE_ADDRS REMOTE_ID MARK] — the
# strongSwan side's swanctl.conf in $CDIR/sw.
aws_conf() {
	local name=$1 start=$2 ike=$3 esp=$4 psk=$5
	local raddrs=${6:-$GW_WAN} rid=${7:-$GW_WAN} mark=${8:-100}
	sw_write_conf "$CDIR/sw"
	sw_write_swanctl "$CDIR/sw" \
		"$(sw_conn "$name" "$AWS" "$raddrs" "$AWS" "$rid" "$mark" "$start" "$ike" "$esp")" \
		"$(sw_secret "$name" "$AWS" "$rid" "$psk")"
}

aws() { sw "$CDIR/sw" "$@"; }

# start_pair ROLE NS — charon, then cgwd; ROLE "init": cgwd initiates
# (strongSwan's config loaded first), "resp": strongSwan initiates on
# load, after cgwd answers on its control socket.
start_pair() {
	local role=$1 ns=${2:-$G}
	sw_start "$CDIR/sw" "$A" || fail "charon did not start (see $CDIR/sw/charon.out)"
	if [[ -n ${NEED_ALG:-} ]]; then
		local algs
		algs=$(aws --list-algs 2>&1) || true
		[[ $algs == *"$NEED_ALG"* ]] ||
			skip "$CASE: strongSwan lacks $NEED_ALG in swanctl --list-algs (needs its curve25519 plugin or OpenSSL's X25519)"
	fi
	[[ $role == init ]] && { sw_load "$CDIR/sw" || fail "swanctl --load-all"; }
	local out
	out=$("$CGWD" -n -c "$CDIR/cgw.conf" 2>&1) || fail "cgwd -n refuses the config: $out"
	cgwd_start "$CDIR" "$ns" "$CDIR/cgw.conf"
	cgwd_wait_ctl "$SOCK" || fail "cgwd did not answer on $SOCK"
	[[ $role == resp ]] && { sw_load "$CDIR/sw" || fail "swanctl --load-all"; }
	return 0
}

_up_both() {
	grep_line "$CDIR/cgwd.log" ": tunnel up$" && grep_line "$CDIR/sw/charon.log" "CHILD_SA $1\{[0-9]+\} established"
}

# wait_up NAME — cgwd says "tunnel up" and charon "CHILD_SA ... established".
wait_up() {
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok "$UP_TIMEOUT" "$1 up on both sides" _up_both "$1" ||
		fail "$1 not up within ${UP_TIMEOUT}s (cgwd: $(grep_line "$CDIR/cgwd.log" 'failed|refused|error' && echo "$MATCH"))"
}

# tunnel_json NAME — the tunnel's object from cgwctl status --json in TJ,
# and its main fields (one jq): T_STATE T_ROLE T_IKE_ALG T_ESP_ALG T_NIKE
# T_NCHILD T_PIN T_POUT T_NATT T_REASON.
tunnel_json() {
	local json out
	json=$(ctl_json "$SOCK") || fail "cgwctl status --json failed"
	out=$(jq -r --arg n "$1" '.tunnels[] | select(.name == $n)
		| (tojson, ([.state, (.ike_sas[0].role // "-"), (.ike_sas[0].algorithms // "-"),
		   (.ike_sas[0].children[0].algorithms // "-"), ((.ike_sas // []) | length),
		   ([(.ike_sas // [])[].children[]?] | length), (.packets_in // 0), (.packets_out // 0),
		   (.ike_sas[0].nat_t // false), (.reason // "")] | map(tostring) | join("\u001f")))' \
		<<<"$json") || fail "cgwctl status --json is not what we expect: $json"
	[[ -n $out ]] || fail "cgwctl status --json has no tunnel $1: $json"
	TJ=${out%%$'\n'*}
	IFS=$'\x1f' read -r T_STATE T_ROLE T_IKE_ALG T_ESP_ALG T_NIKE T_NCHILD T_PIN T_POUT \
		T_NATT T_REASON <<<"${out#*$'\n'}"
}

# ping_across NS DST — PINGS pings must be answered.
ping_across() {
	local out
	out=$(nsx "$1" ping -n -c "$PINGS" -i 0.2 -W 2 -w 15 "$2" 2>&1) ||
		{ printf '%s\n' "$out"; nsx "$1" ip -s xfrm state || true; fail "ping $2 from $1"; }
	[[ $out =~ ([0-9]+)\ received ]]
	pass "$CASE: ping $2 across the VTI: ${BASH_REMATCH[1]}/$PINGS answered"
}

# sw_counts NAME — strongSwan's view: SW_IKE (IKE SAs of NAME), SW_CHILD
# (installed CHILD SAs), SW_IKE_LINE (the algorithms line), SW_OUT.
sw_counts() {
	local line prev=""
	SW_IKE=0 SW_CHILD=0 SW_IKE_ALG=""
	SW_OUT=$(aws --list-sas 2>&1) || return 1
	while IFS= read -r line; do
		if [[ $line =~ ^$1:\ \#[0-9]+,\ ([A-Z_]+), ]]; then
			SW_IKE=$((SW_IKE + 1))
		elif [[ $line =~ ^\ \ $1:\ \#[0-9]+,\ reqid\ [0-9]+,\ INSTALLED ]]; then
			SW_CHILD=$((SW_CHILD + 1))
		elif [[ $prev =~ ^\ \ remote\  && $line =~ ^\ \ [A-Z] ]]; then
			SW_IKE_ALG=${line#  }
		fi
		prev=$line
	done <<<"$SW_OUT"
	return 0
}

_sw_one_pair() { sw_counts "$1" && ((SW_IKE == 1 && SW_CHILD == 1)); }
_g_two_states() { kcount "$1" && ((K_STATES == 2)); }

# check_up NAME NS DST XFRM_RE SW_ALG_RE — the tunnel carries traffic and
# both sides hold exactly one IKE SA and one CHILD SA pair.
check_up() {
	local name=$1 ns=$2 dst=$3 xre=$4 swre=$5 n line
	ping_across "$ns" "$dst"
	esp_min_packets "$ns"
	((ESP_N == 2 && ESP_MIN >= PINGS)) ||
		{ printf '%s\n' "$ESP_OUT"; fail "ip -s xfrm state: $ESP_N states, fewest packets ${ESP_MIN:-none} (want 2 states, >= $PINGS each)"; }
	if [[ -n $xre ]]; then
		n=0
		while IFS= read -r line; do [[ $line =~ $xre ]] && n=$((n + 1)); done <<<"$ESP_OUT"
		((n == 2)) || { printf '%s\n' "$ESP_OUT"; fail "ip xfrm state: $n of 2 states match /$xre/"; }
		pass "$CASE: ip xfrm state: both states /${xre/"$BITS"/}/"
	fi
	tunnel_json "$name"
	[[ $T_STATE == up ]] || fail "cgwctl status: $name is $T_STATE, want up: $TJ"
	pass "$CASE: cgwctl status: $name up, IKE $T_IKE_ALG ($T_ROLE), ESP $T_ESP_ALG"
	((T_PIN >= PINGS && T_POUT >= PINGS)) ||
		fail "cgwctl status counters: packets_in=$T_PIN packets_out=$T_POUT, want >= $PINGS"
	pass "$CASE: ESP counted: both xfrm states >= $ESP_MIN packets; cgwctl packets_in=$T_PIN packets_out=$T_POUT"
	[[ "$T_NIKE $T_NCHILD" == "1 1" ]] ||
		fail "cgwctl status: $name has $T_NIKE IKE SA(s), $T_NCHILD CHILD SA(s), want 1 and 1: $TJ"
	kcount "$ns"
	((K_STATES == 2 && K_CGW_POLICIES == 3 && K_POLICIES == 3 && K_VTIS == 1)) ||
		{ ip -n "$ns" xfrm state; ip -n "$ns" xfrm policy; fail "cgwd side: $(kcount_str), want 2 / 3 / 1"; }
	local gk
	gk=$(kcount_str)
	# strongSwan may take a moment to drop a replaced SA.
	until_ok 10 "strongSwan: one IKE SA and one CHILD SA" _sw_one_pair "$name" ||
		{ printf '%s\n' "$SW_OUT"; fail "strongSwan holds $SW_IKE IKE SA(s), $SW_CHILD installed CHILD SA(s) for $name, want 1 and 1"; }
	[[ -z $swre || $SW_IKE_ALG =~ $swre ]] ||
		{ printf '%s\n' "$SW_OUT"; fail "strongSwan's IKE SA uses '$SW_IKE_ALG', want /$swre/"; }
	until_ok 10 "two xfrm states on the AWS side" _g_two_states "$A" ||
		{ ip -n "$A" xfrm state; fail "AWS side: $(kcount_str), want 2 states"; }
	pass "$CASE: one IKE SA + one CHILD SA pair each side (strongSwan: $SW_IKE_ALG, 2 states; cgwd: 1 + 1, $gk)"
}

# ================================================================ cases

# The daemon's version line, asked once (vici) and kept in $T/sw-version.
sw_version() {
	if [[ ! -s $T/sw-version ]]; then
		aws --version --daemon 2>/dev/null | grep -v '^loaded plugins' >"$T/sw-version" || true
	fi
	SW_VERSION=""
	[[ -s $T/sw-version ]] && read -r SW_VERSION <"$T/sw-version"
	return 0
}

# case_algs ROLE IKE ESP XFRM_RE SW_ALG_RE [NEEDS_ALG]
case_algs() {
	local role=$1 ike=$2 esp=$3 xre=$4 swre=$5 need=${6:-}
	local start=none cstart=start
	[[ $role == resp ]] && start=start cstart=add
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 "$ike" "$esp" "$cstart" "$PSK"
	aws_conf t1 "$start" "$ike" "$esp" "$PSK"
	NEED_ALG=$need start_pair "$role"
	sw_version
	wait_up t1
	check_up t1 "$G" 169.254.10.1 "$xre" "$swre"
	local who=$T_ROLE
	if [[ $role == init && $who != initiator ]] || [[ $role == resp && $who != responder ]]; then
		fail "cgwd's IKE SA role is $who, want ${role/init/initiator}"
	fi
	[[ $role == resp ]] && { grep_line "$CDIR/sw/charon.log" "initiating IKE_SA t1" ||
		fail "strongSwan did not initiate"; }
	pass "$CASE: $ike / $esp, cgwd $who (${SW_VERSION:-strongSwan ?})"
}

case_invalid_ke() {
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 aes256-sha256-ecp256,aes256-sha256-modp2048 \
		aes256gcm16-modp2048 start "$PSK"
	aws_conf t1 none aes256-sha256-modp2048 aes256gcm16-modp2048 "$PSK"
	start_pair init
	wait_up t1
	grep_line "$CDIR/cgwd.log" "peer wants DH group 14: retrying" ||
		fail "cgwd's log has no 'peer wants DH group 14: retrying'"
	pass "$CASE: cgwd: ${MATCH#* }"
	grep_line "$CDIR/sw/charon.log" "ECP_256 unacceptable, requesting MODP_2048" &&
		pass "$CASE: strongSwan: ${MATCH#*> }"
	check_up t1 "$G" 169.254.10.1 "" "MODP_2048"
	count_lines "$CDIR/sw/charon.log" "parsed IKE_SA_INIT request 0"
	((COUNT == 2)) || fail "strongSwan parsed $COUNT IKE_SA_INIT requests, want 2 (ecp256, then modp2048)"
	pass "$CASE: two IKE_SA_INIT (ECP_256 refused, MODP_2048 accepted), tunnel up"
}

_n_inits() { count_lines "$CDIR/sw/charon.log" "parsed IKE_SA_INIT request 0"; ((COUNT >= $1)); }

# ms_of LINE — the ms timestamp at the start of a charon log line, in MS.
ms_of() { local t=${1%% *}; MS=$((10#${t/./})); }

case_wrong_psk_init() {
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 aes256-sha256-modp2048 aes256gcm16-modp2048 start "$WRONG_PSK"
	aws_conf t1 none aes256-sha256-modp2048 aes256gcm16-modp2048 "$PSK"
	start_pair init
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 30 "3 IKE_SA_INIT (first + 2 retries) at strongSwan" _n_inits 3 ||
		fail "strongSwan saw $COUNT IKE_SA_INIT request(s) within 30 s, want >= 3 (initial + 2 retries)"
	grep_line "$CDIR/cgwd.log" "AUTHENTICATION_FAILED.*PSK|PSK.*AUTHENTICATION_FAILED" ||
		fail "cgwd's log names neither AUTHENTICATION_FAILED nor the PSK"
	pass "$CASE: cgwd: ${MATCH#* cgwd: }"
	grep_line "$CDIR/sw/charon.log" "MAC mismatched" && pass "$CASE: strongSwan: ${MATCH#*> }"
	# Backoff on the wire: from strongSwan's AUTH_FAILED answer to the next
	# IKE_SA_INIT it parses.
	local lines l fails=() inits=() gaps=()
	file_lines lines "$CDIR/sw/charon.log"
	for l in "${lines[@]}"; do
		if [[ $l == *"generating IKE_AUTH response 1 [ N(AUTH_FAILED) ]"* ]]; then
			ms_of "$l"; fails+=("$MS")
		elif [[ $l == *"parsed IKE_SA_INIT request 0 "* ]]; then
			ms_of "$l"; inits+=("$MS")
		fi
	done
	((${#fails[@]} >= 2 && ${#inits[@]} >= 3)) ||
		fail "strongSwan log: ${#fails[@]} AUTH_FAILED answers, ${#inits[@]} IKE_SA_INIT (want >= 2, >= 3)"
	local i
	for i in 0 1; do gaps+=($((inits[i + 1] - fails[i]))); done
	vm_log "retry gaps after AUTH_FAILED: ${gaps[0]} ms, ${gaps[1]} ms"
	((gaps[0] >= 900 && gaps[0] <= 1900)) ||
		fail "first retry ${gaps[0]} ms after AUTH_FAILED, want ~1000 (900..1900)"
	((gaps[1] >= 1900 && gaps[1] <= 3200 && gaps[1] > gaps[0] + 500)) ||
		fail "second retry ${gaps[1]} ms after AUTH_FAILED, want ~2000 (1900..3200, longer than the first)"
	pass "$CASE: retries with backoff seen by strongSwan: ${gaps[0]} ms, then ${gaps[1]} ms after AUTH_FAILED"
	alive "$CGWD_PID" || fail "cgwd exited"
	tunnel_json t1
	local st=$T_STATE reason=$T_REASON
	[[ $st != up && $reason == *AUTHENTICATION_FAILED* ]] ||
		fail "cgwctl status: state '$st', reason '$reason' (want down/connecting, reason naming AUTHENTICATION_FAILED)"
	pass "$CASE: cgwd keeps running; status: $st, reason: $reason"
	kcount "$G"
	pass "$CASE: kernel after $COUNT attempts: $(kcount_str), of which $K_LARVAL larval (SPI-only) state(s)"
}

case_wrong_psk_resp() {
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 aes256-sha256-modp2048 aes256gcm16-modp2048 add "$PSK"
	aws_conf t1 start aes256-sha256-modp2048 aes256gcm16-modp2048 "$WRONG_PSK"
	start_pair resp
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 30 "strongSwan to receive AUTHENTICATION_FAILED" \
		grep_line "$CDIR/sw/charon.log" "received AUTHENTICATION_FAILED notify error" ||
		fail "strongSwan never received AUTHENTICATION_FAILED from cgwd"
	pass "$CASE: strongSwan: ${MATCH#*> }"
	grep_line "$CDIR/cgwd.log" "(AUTH|PSK).*answered AUTHENTICATION_FAILED|AUTHENTICATION_FAILED.*PSK" ||
		fail "cgwd's log does not say why it answered AUTHENTICATION_FAILED"
	pass "$CASE: cgwd: ${MATCH#* cgwd: }"
	alive "$CGWD_PID" || fail "cgwd exited"
	tunnel_json t1
	local st=$T_STATE reason=$T_REASON
	[[ $st == down && -n $reason ]] ||
		fail "cgwctl status: state '$st', reason '$reason' (want down with a reason)"
	kcount "$G"
	((K_STATES == 0)) || fail "cgwd side holds $(kcount_str) after a refused IKE_AUTH, want no states"
	pass "$CASE: cgwd keeps running; status: $st, reason: $reason; $(kcount_str)"
}

case_no_proposal_init() {
	local ours=aes256-sha256-modp2048
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 "$ours" aes256gcm16-modp2048 start "$PSK"
	aws_conf t1 none aes128-sha1-modp1024 aes128-sha1 "$PSK"
	start_pair init
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 20 "cgwd to log NO_PROPOSAL_CHOSEN" grep_line "$CDIR/cgwd.log" "NO_PROPOSAL_CHOSEN" ||
		fail "cgwd's log never names NO_PROPOSAL_CHOSEN"
	local line=$MATCH
	grep_line "$CDIR/sw/charon.log" "received proposals unacceptable" &&
		pass "$CASE: strongSwan: ${MATCH#*> }"
	until_ok 10 "a second attempt" _n_inits 2 || fail "cgwd did not try again after NO_PROPOSAL_CHOSEN"
	alive "$CGWD_PID" || fail "cgwd exited"
	tunnel_json t1
	local st=$T_STATE reason=$T_REASON
	[[ $st != up && $reason == *NO_PROPOSAL_CHOSEN* ]] ||
		fail "cgwctl status: state '$st', reason '$reason' (want not up, reason naming NO_PROPOSAL_CHOSEN)"
	pass "$CASE: cgwd keeps running and retries; status: $st, reason: $reason"
	grep_line "$CDIR/cgwd.log" "NO_PROPOSAL_CHOSEN.*$ours|$ours.*NO_PROPOSAL_CHOSEN" ||
		fail "cgwd logs '${line#* cgwd: }' but not what it offered ($ours)"
	pass "$CASE: cgwd: ${MATCH#* cgwd: }"
}

case_no_proposal_resp() {
	local ours=aes256-sha256-modp2048
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 "$ours" aes256gcm16-modp2048 add "$PSK"
	aws_conf t1 start aes128-sha1-modp1024 aes128-sha1 "$PSK"
	start_pair resp
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 20 "cgwd to log 'no proposal chosen'" \
		grep_line "$CDIR/cgwd.log" "no proposal chosen: peer offered .*; we accept .*" ||
		fail "cgwd's log has no 'no proposal chosen: peer offered ...; we accept ...'"
	pass "$CASE: cgwd: ${MATCH#* cgwd: }"
	[[ $MATCH =~ offered\ [^\;]*aes128[^\;]*sha1[^\;]*modp1024 && $MATCH =~ accept\ .*$ours ]] ||
		fail "the line does not name strongSwan's offer (aes128/sha1/modp1024) and our $ours"
	until_ok 10 "strongSwan to receive NO_PROPOSAL_CHOSEN" \
		grep_line "$CDIR/sw/charon.log" "received NO_PROPOSAL_CHOSEN notify error" ||
		fail "strongSwan never received NO_PROPOSAL_CHOSEN"
	pass "$CASE: strongSwan: ${MATCH#*> }"
	alive "$CGWD_PID" || fail "cgwd exited"
	tunnel_json t1
	[[ $T_STATE == down ]] || fail "cgwctl status: $T_STATE, want down"
	pass "$CASE: cgwd keeps running; status: down, reason: ${T_REASON:-(none)}"
}

_restarted_up() { grep_line "$CDIR/cgwd.log" ": tunnel up$" "$1"; }

case_kill9_restart() {
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 aes256-sha256-modp2048 aes256gcm16-modp2048 start "$PSK"
	aws_conf t1 none aes256-sha256-modp2048 aes256gcm16-modp2048 "$PSK"
	start_pair init
	wait_up t1
	check_up t1 "$G" 169.254.10.1 "" ""
	local old=$CGWD_PID
	kill -KILL "$old"
	wait "$old" 2>/dev/null || true
	kcount "$G"
	pass "$CASE: cgwd killed with SIGKILL; left behind: $(kcount_str)"
	file_size "$CDIR/cgwd.log"
	local off=$FILE_SIZE
	echo "---- restart after kill -9" >>"$CDIR/cgwd.log"
	cgwd_start "$CDIR" "$G" "$CDIR/cgw.conf"
	cgwd_wait_ctl "$SOCK" || fail "restarted cgwd did not answer"
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok "$UP_TIMEOUT" "the tunnel up again" _restarted_up "$off" ||
		fail "tunnel not up within ${UP_TIMEOUT}s of the restart"
	grep_line "$CDIR/cgwd.log" "removed [0-9]+ XFRM states/policies left by a previous instance" "$off" ||
		fail "restarted cgwd did not report removing the old XFRM states/policies"
	pass "$CASE: cgwd: ${MATCH#* cgwd: }"
	grep_line "$CDIR/cgwd.log" "removed [0-9]+ VTI" "$off" && pass "$CASE: cgwd: ${MATCH#* cgwd: }"
	grep_line "$CDIR/sw/charon.log" "INITIAL_CONTACT|destroying duplicate" &&
		pass "$CASE: strongSwan: ${MATCH#*> }"
	check_up t1 "$G" 169.254.10.1 "" ""
	pass "$CASE: after kill -9 + restart: no duplicates, tunnel up, one SA pair each side"
}

_sw_no_sa() { sw_counts "$1" && ((SW_IKE == 0)); }
_g_empty() { kcount "$G" && ((K_STATES == 0 && K_CGW_POLICIES == 0 && K_VTIS == 0)); }

case_sigterm() {
	cgw_conf t1 "$AWS" 169.254.10.0/30 100 aes256-sha256-modp2048 aes256gcm16-modp2048 start "$PSK"
	aws_conf t1 none aes256-sha256-modp2048 aes256gcm16-modp2048 "$PSK"
	start_pair init
	wait_up t1
	check_up t1 "$G" 169.254.10.1 "" ""
	local rc=0 i
	kill -TERM "$CGWD_PID"
	for ((i = 0; i < 100; i++)); do alive "$CGWD_PID" || break; ike_nap 0.1; done
	alive "$CGWD_PID" && fail "cgwd still running 10 s after SIGTERM"
	wait "$CGWD_PID" || rc=$?
	CGWD_PID=""
	((rc == 0)) || fail "cgwd exited with status $rc on SIGTERM"
	kcount "$G"
	((K_STATES == 0 && K_CGW_POLICIES == 0 && K_VTIS == 0)) ||
		{ ip -n "$G" xfrm state; ip -n "$G" xfrm policy; ip -n "$G" -d link show type vti;
		  fail "after SIGTERM cgwd left $(kcount_str), want all 0"; }
	pass "$CASE: SIGTERM: cgwd exited 0, removed every state, policy and VTI ($(kcount_str))"
	until_ok 10 "strongSwan to see the DELETE" \
		grep_line "$CDIR/sw/charon.log" "received DELETE for IKE_SA t1" ||
		fail "strongSwan never received a DELETE for the IKE SA"
	pass "$CASE: strongSwan: ${MATCH#*> }"
	until_ok 10 "strongSwan without SAs" _sw_no_sa t1 ||
		{ printf '%s\n' "$SW_OUT"; fail "strongSwan still lists $SW_IKE IKE SA(s)"; }
	kcount "$A"
	((K_STATES == 0)) || fail "AWS side still holds $(kcount_str)"
	pass "$CASE: strongSwan holds no SA and no xfrm state"
}

case_natt() {
	command -v nft >/dev/null || skip "$CASE: no nft (install nftables)"
	ip netns exec "$N" nft -f - <<-EOF || fail "nft masquerade rule (modules nf_tables/nft_chain_nat/nft_masq?)"
	table ip nat {
	  chain post {
	    type nat hook postrouting priority srcnat; policy accept;
	    oifname "out0" masquerade
	  }
	}
	EOF
	cgw_conf nat "$AWS" 169.254.12.0/30 300 aes256-sha256-modp2048 aes256gcm16-modp2048 start \
		"$PSK" "$PRIV"
	aws_conf nat none aes256-sha256-modp2048 aes256gcm16-modp2048 "$PSK" %any "$PRIV" 300
	start_pair init "$P"
	wait_up nat
	grep_line "$CDIR/cgwd.log" "NAT detected.*moving to UDP 4500" ||
		fail "cgwd did not detect the NAT"
	pass "$CASE: cgwd: ${MATCH#* cgwd: }"
	check_up nat "$P" 169.254.12.1 "encap type espinudp sport 4500 dport 4500" ""
	[[ $T_NATT == true ]] || fail "cgwctl status: nat_t is not true: $TJ"
	local raw
	raw=$(aws --list-sas --raw 2>&1) || fail "swanctl --list-sas --raw"
	[[ $raw =~ remote-port=4500 && $raw =~ nat-remote=yes ]] ||
		{ printf '%s\n' "$SW_OUT" "$raw"; fail "strongSwan's IKE SA is not on UDP 4500 with NAT on the remote side"; }
	local l
	while IFS= read -r l; do [[ $l =~ remote\ \' ]] && break; done <<<"$SW_OUT"
	pass "$CASE: strongSwan: IKE on 4500, nat-remote=yes (${l#  })"
}

# ================================================================ main

setup
run_case alg-a-init case_algs init aes256-sha256-modp2048 aes256gcm16-modp2048 \
	"aead rfc4106\\(gcm\\(aes\\)\\) 0x[0-9a-f]{72}$BITS 128" 'AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048'
run_case alg-a-resp case_algs resp aes256-sha256-modp2048 aes256gcm16-modp2048 \
	"aead rfc4106\\(gcm\\(aes\\)\\) 0x[0-9a-f]{72}$BITS 128" 'AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048'
run_case alg-b-init case_algs init aes128-sha1-modp2048 aes128-sha1 \
	"auth-trunc hmac\\(sha1\\) 0x[0-9a-f]{40}$BITS 96" 'AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048'
run_case alg-b-resp case_algs resp aes128-sha1-modp2048 aes128-sha1 \
	"auth-trunc hmac\\(sha1\\) 0x[0-9a-f]{40}$BITS 96" 'AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_2048'
run_case alg-c-init case_algs init aes256gcm16-prfsha384-ecp384 aes256-sha256 \
	"auth-trunc hmac\\(sha256\\) 0x[0-9a-f]{64}$BITS 128" 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384'
run_case alg-c-resp case_algs resp aes256gcm16-prfsha384-ecp384 aes256-sha256 \
	"auth-trunc hmac\\(sha256\\) 0x[0-9a-f]{64}$BITS 128" 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384'
run_case alg-d-ecp256-init case_algs init aes128-sha256-ecp256 aes128gcm16-ecp256 \
	"aead rfc4106\\(gcm\\(aes\\)\\) 0x[0-9a-f]{40}$BITS 128" 'AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256'
run_case alg-d-ecp256-resp case_algs resp aes128-sha256-ecp256 aes128gcm16-ecp256 \
	"aead rfc4106\\(gcm\\(aes\\)\\) 0x[0-9a-f]{40}$BITS 128" 'AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256'
run_case alg-d-modp3072-init case_algs init aes256-sha384-modp3072 aes256-sha384-modp3072 \
	"auth-trunc hmac\\(sha384\\) 0x[0-9a-f]{96}$BITS 192" 'AES_CBC-256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/MODP_3072'
run_case alg-d-modp3072-resp case_algs resp aes256-sha384-modp3072 aes256-sha384-modp3072 \
	"auth-trunc hmac\\(sha384\\) 0x[0-9a-f]{96}$BITS 192" 'AES_CBC-256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/MODP_3072'
run_case alg-d-x25519-init case_algs init aes256-sha512-x25519 aes256-sha512 \
	"auth-trunc hmac\\(sha512\\) 0x[0-9a-f]{128}$BITS 256" 'AES_CBC-256/HMAC_SHA2_512_256/PRF_HMAC_SHA2_512/CURVE_25519' CURVE_25519
run_case alg-d-x25519-resp case_algs resp aes256-sha512-x25519 aes256-sha512 \
	"auth-trunc hmac\\(sha512\\) 0x[0-9a-f]{128}$BITS 256" 'AES_CBC-256/HMAC_SHA2_512_256/PRF_HMAC_SHA2_512/CURVE_25519' CURVE_25519
run_case invalid-ke case_invalid_ke
run_case wrong-psk-init case_wrong_psk_init
run_case wrong-psk-resp case_wrong_psk_resp
run_case no-proposal-init case_no_proposal_init
run_case no-proposal-resp case_no_proposal_resp
run_case kill9-restart case_kill9_restart
run_case sigterm-cleanup case_sigterm
run_case nat-t case_natt

[[ -s $T/sw-version ]] && echo "==== strongSwan: $(<"$T/sw-version")"
echo "==== 20-ike-strongswan: $NPASS passed, $NFAIL failed, $NSKIP skipped"
printf '  %s\n' "${RESULTS[@]}"
((NPASS + NFAIL > 0)) || skip "no case selected (CGW_IKE_CASES=${CGW_IKE_CASES:-})"
((NFAIL == 0)) || fail "$NFAIL case(s) failed"
pass "20-ike-strongswan"

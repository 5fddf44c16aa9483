#!/bin/bash
# cgw lab: cgwd as the customer gateway against an emulated AWS Site-to-Site
# VPN made of real strongSwan (charon, swanctl) and BIRD 2, on network
# namespaces.
#
#                                   "internet" (routed)
#  ns lan              ns gw (cgwd)          ns aws (strongSwan + BIRD)        ns vpc
# +--------------+    +------------------+    +-----------------------------+    +---------------+
# | eth0         |    | lan0      wan0   |    | inet0                vpc0   |    | eth0          |
# | 192.168.2.10 +----+ .2.1  203.0.113.10 +--+ 203.0.113.1     172.20.0.1  +----+ 172.20.1.10/16|
# | /24          |    |                  |    |                             |    | gw 172.20.0.1 |
# | gw .2.1      |    | vti1 169.254.10.2|    | lo 198.51.100.1/32   (aws-1)|    +---------------+
# +--------------+    | vti2 169.254.11.2|    | lo 198.51.100.129/32 (aws-2)|
#                     | (made by cgwd or |    | vti1 169.254.10.1/30 key 100|
#                     | the gateway under|    | vti2 169.254.11.1/30 key 200|
#                     | test)            |    +-----------------------------+
#                     +------------------+
#
#  tunnel aws-1: IKEv2 203.0.113.10 <-> 198.51.100.1,   inside 169.254.10.0/30,
#                mark 100, BGP 65000 <-> 64512, AWS exports 172.20.0.0/16 MED 100
#  tunnel aws-2: IKEv2 203.0.113.10 <-> 198.51.100.129, inside 169.254.11.0/30,
#                mark 200, BGP 65000 <-> 64512, AWS exports 172.20.0.0/16 MED 200
#
# The aws namespace is also the customer's internet router (203.0.113.1):
# the gateway reaches both AWS endpoints through its default route.
# The AWS side behaves like AWS does by default: it never initiates IKE
# (startup action "add"), answers DPD, sends its own DPD after 10 s and
# declares a silent peer dead some 30 s later (DPD action "clear"), holds
# BGP for 30 s, and has graceful restart off. When its IKE side takes a
# tunnel down (DPD, a DELETE from the gateway), the BGP session over that
# tunnel is reset at once and its routes withdrawn (strongSwan's updown
# hook restarts the BIRD protocol), as AWS takes BGP down with the tunnel.
#
# Usage: lab.sh (as root; lab/run.sh runs it in a VM when the host kernel
# lacks ESP/VTI). Environment:
#   CGW_BUILD_DIR       build directory with daemon/cgwd, cgwctl/cgwctl
#                       (default: <source>/build)
#   CGW_LAB_HOLD=1      keep the lab up until Ctrl-C (prints how to use it)
#   CGW_LAB_RUN=SCRIPT  once the checks pass, run SCRIPT (bash) with the
#                       lab's names exported (see run_hook: namespaces,
#                       addresses, cgwctl, the daemons' pids, log files);
#                       its exit status is the lab's (77 = skip); tests
#                       and benchmarks use it to act on a running lab
#   CGW_LAB_REKEYS=0    "up" with cgwd: skip the rekeys-under-traffic check
#   CGW_LAB_MEASURE=1   "up": also time start -> BGP Established and -> first
#                       ping answered, then the stack's RSS and its context
#                       switches and CPU over CGW_LAB_IDLE (30) idle seconds
#                       (lab/measure.sh; bench/converge-vm.sh uses it)
#   CGW_LAB_EXPECT      what to check before exiting:
#                       "up" (default): both tunnels and both BGP sessions
#                         up, 172.20.0.0/16 learned from both with the best
#                         path (MED 100) via aws-1 in the gateway's kernel,
#                         192.168.2.0/24 learned by the AWS side on both
#                         tunnels, ping lan -> vpc, then (cgwd) rekeys from
#                         both ends under traffic without loss;
#                       "failover": "up", then aws-1's outer path
#                         blackholed under a 100/s ping lan -> vpc: the
#                         route moves to vti2, the ping resumes once the AWS
#                         side has switched too; then the path comes back
#                         and the route returns to vti1 (see check_failover);
#                       "tunnels": a static-routing VPN (no BGP: static
#                         routes on both sides), both tunnels up, ESP across
#                         each, rekeys under traffic;
#                       "configured": cgwd lists both tunnels and neighbors
#   CGW_LAB_GATEWAY     "cgwd" (default), "strongswan" (a reference gateway
#                       made of strongSwan + BIRD), "libreswan-frr" (what
#                       cgwd replaces: Libreswan 4.10 with VTIs made by its
#                       updown script, FRR's zebra + bgpd; needs the VM or
#                       an installed Libreswan, see tests/vm/libreswan.sh),
#                       or "none" (AWS side only)
#   CGW_LAB_AWS_START   AWS side's start_action: none (default, AWS "add"),
#                       trap or start (AWS initiates)
#   CGW_LAB_AWS_IKE, CGW_LAB_AWS_ESP   AWS side's proposals (swanctl syntax)
#   CGW_LAB_CGWD_ARGS   extra cgwd arguments, e.g. "-v -d all"
#   CGW_LAB_TIMEOUT     seconds allowed per start-up step (default 60)
#   CGW_LAB_UP_TIMEOUT  seconds allowed for tunnels/BGP to come up (default 120)
#   CGW_LAB_FAILOVER_LIMITS=0  failover: report cgwd's figures that miss
#                       their limits instead of failing (benchmarks)
#   CGW_LAB_PING_RATE   pings per second the failover check asks of ping
#                       (default 200; under TCG it manages 100-150)
#   CGW_LAB_STATE       state directory (default /run/cgw-lab)
#   CGW_LAB_PREFIX      namespace name prefix (default "cgwlab-")
#   CGW_LAB_LOGS=DIR    copy all logs and configs there (PSKs excluded) at exit
#   CGW_LAB_SHOW_LOGS=1 print the last CGW_LAB_SHOW_LINES (80) lines of every
#                       log at exit (what comes back from the VM)
#
# Results: "[lab ...] OK: ..." lines, "PASS" at the end (exit 0), and with
# CGW_LAB_EXPECT=up or failover one line "CGW-LAB-RESULT {json}" with the
# figures (times in seconds), which tests/vm/scenarios/60-bgp-failover.sh
# and bench/bgp-failover-vm.sh read.

set -Eeuo pipefail
shopt -s nullglob

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$LAB_DIR")
BUILD=${CGW_BUILD_DIR:-$SRC_DIR/build}
STATE=${CGW_LAB_STATE:-/run/cgw-lab}
P=${CGW_LAB_PREFIX:-cgwlab-}
HOLD=${CGW_LAB_HOLD:-0}
EXPECT=${CGW_LAB_EXPECT:-up}
GATEWAY=${CGW_LAB_GATEWAY:-cgwd}
AWS_START=${CGW_LAB_AWS_START:-none}
STEP_TIMEOUT=${CGW_LAB_TIMEOUT:-60}
UP_TIMEOUT=${CGW_LAB_UP_TIMEOUT:-120}
PING_RATE=${CGW_LAB_PING_RATE:-200}

NS_LAN=${P}lan NS_GW=${P}gw NS_AWS=${P}aws NS_VPC=${P}vpc
ALL_NS=("$NS_LAN" "$NS_GW" "$NS_AWS" "$NS_VPC")

LAN_HOST=192.168.2.10 LAN_GW=192.168.2.1 LAN_NET=192.168.2.0/24
GW_WAN=203.0.113.10 INET_GW=203.0.113.1
VPC_HOST=172.20.1.10 VPC_GW=172.20.0.1 VPC_NET=172.20.0.0/16
GW_ASN=65000 AWS_ASN=64512

# Per tunnel: name, AWS outside address, inside /30 (first three octets:
# AWS is .1, the customer .2), mark (VTI key), MED AWS attaches.
TUN_NAME=(aws-1 aws-2)
TUN_AWS=(198.51.100.1 198.51.100.129)
TUN_INSIDE=(169.254.10 169.254.11)
TUN_MARK=(100 200)
TUN_MED=(100 200)

# What AWS accepts (AWS.md: AES-CBC/GCM 128/256, SHA1/SHA2, DH 2, 14-24;
# PFS 2, 5, 14-24). The preferred proposal comes first: strongSwan as
# responder picks its own first match.
AWS_IKE=${CGW_LAB_AWS_IKE:-aes256-sha256-modp2048,aes128-aes256-sha1-sha256-sha384-sha512-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256,aes128gcm16-aes256gcm16-prfsha1-prfsha256-prfsha384-prfsha512-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256}
AWS_ESP=${CGW_LAB_AWS_ESP:-aes256gcm16-modp2048,aes128gcm16-aes256gcm16-modp1024-modp1536-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256,aes128-aes256-sha1-sha256-sha384-sha512-modp1024-modp1536-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256}

AWS_DIR=$STATE/aws
REF_DIR=$STATE/gw-ref
CGWD=$BUILD/daemon/cgwd
CGWCTL=$BUILD/cgwctl/cgwctl
CGWD_SOCK=$STATE/cgwd.sock
CHARON=/usr/sbin/charon-systemd

NL=$'\n'
declare -A PIDS=()		# name -> pid of the daemons we started
HAVE_VTI=0
T_GW_START=0
T0=${EPOCHREALTIME/./}

# ---------------------------------------------------------------- helpers

# Seconds since start, in ELAPSED (no subshell: builtins only).
elapsed() {
	local t=$(( ${EPOCHREALTIME/./} - T0 ))
	printf -v ELAPSED '%d.%d' $(( t / 1000000 )) $(( t % 1000000 / 100000 ))
}
say() { elapsed; printf '[lab %6ss] %s\n' "$ELAPSED" "$*"; }
section() { printf '\n==== %s\n' "$*"; }

# Sleep without starting a process (each start costs 0.2-0.5 s under TCG):
# read with a timeout from a FIFO nobody writes to (opened by main; no
# process substitution, the VM has no /dev/fd).
SLEEP_FD=""
nap() {
	if [[ -n $SLEEP_FD ]]; then
		read -r -t "$1" -u "$SLEEP_FD" || true
	else
		sleep "$1"
	fi
}

LOGS_SHOWN=0
show_logs() {
	(( LOGS_SHOWN )) && return 0
	LOGS_SHOWN=1
	local f
	for f in "$AWS_DIR/charon.log" "$AWS_DIR/bird.log" "$AWS_DIR/updown.log" "$STATE/cgwd.log" \
		 "$REF_DIR/charon.log" "$REF_DIR/bird.log" "$STATE/lsw/pluto.log" \
		 "$STATE/frr/bgpd.log" "$STATE/frr/zebra.log"; do
		[[ -s $f ]] || continue
		printf -- '---- errors in %s\n' "$f"
		grep -Ei 'fail|unable|error|refus|invalid|no_proposal|unacceptable|not found|not recognized|mismatch' "$f" |
			head -n 20 || true
		printf -- '---- last lines of %s\n' "$f"
		tail -n 25 "$f" || true
	done
}

fail() {
	elapsed
	printf '\n[lab %6ss] FAIL: %s\n' "$ELAPSED" "$*" >&2
	show_logs >&2
	exit 1
}

trap 'fail "line $LINENO: command failed (status $?): $BASH_COMMAND"' ERR

# shellcheck source=measure.sh
source "$LAB_DIR/measure.sh"

# wait_until DESC TIMEOUT PIDNAME CMD...: run CMD until it succeeds; fail
# when TIMEOUT seconds pass or the daemon PIDNAME (may be empty) exits.
wait_until() {
	local desc=$1 timeout=$2 pidname=$3
	shift 3
	local deadline=$(( ${EPOCHREALTIME/./} + timeout * 1000000 ))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if [[ -n $pidname ]] && ! kill -0 "${PIDS[$pidname]}" 2>/dev/null; then
			fail "$pidname exited while waiting for $desc"
		fi
		if (( ${EPOCHREALTIME/./} > deadline )); then
			fail "timed out after ${timeout}s waiting for $desc"
		fi
		nap 0.2
	done
}

# has_all TEXT REGEX...: every extended regex matches TEXT.
has_all() {
	local text=$1 re
	shift
	for re in "$@"; do
		[[ $text =~ $re ]] || return 1
	done
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# swanctl against one of our charons: sw DIR COMMAND [ARGS].
sw() {
	local dir=$1 cmd=$2
	shift 2
	STRONGSWAN_CONF=$dir/strongswan.conf SWANCTL_DIR=$dir/swanctl \
		swanctl "$cmd" --uri "unix://$dir/charon.vici" "$@"
}
aws_sw() { sw "$AWS_DIR" "$@"; }
aws_birdc() { birdc -s "$AWS_DIR/bird.ctl" "$@"; }
cgwctl() { in_ns "$NS_GW" "$CGWCTL" -s "$CGWD_SOCK" "$@"; }

# A pre-shared key as AWS makes them: 32 characters of [A-Za-z0-9._], not
# starting with 0.
gen_psk() {
	local raw=""
	while (( ${#raw} < 32 )); do
		raw+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9._')
		while [[ $raw == 0* ]]; do raw=${raw#0}; done
	done
	printf '%s' "${raw:0:32}"
}

# ---------------------------------------------------------------- time and monitors

# Times are epoch milliseconds. now_ms: NOW_MS.
now_ms() { local t=${EPOCHREALTIME/./}; NOW_MS=$(( t / 1000 )); }
# fmt_s MS: "1.234" (seconds, 3 decimals), in S.
fmt_s() {
	local m=$1 sign=""
	(( m < 0 )) && { sign=-; m=$(( -m )); }
	printf -v S '%s%d.%03d' "$sign" $(( m / 1000 )) $(( m % 1000 ))
}
# tod_ms H M S FRAC: the epoch ms of that local time of day (today, or
# yesterday if that is more than a minute ahead), in MS. Builtins only:
# it runs for every monitor line.
tod_ms() {
	local sec=${EPOCHREALTIME%.*} h m s frac=${4}000
	printf -v h '%(%H)T' "$sec"
	printf -v m '%(%M)T' "$sec"
	printf -v s '%(%S)T' "$sec"
	MS=$(( (sec - (10#$h * 3600 + 10#$m * 60 + 10#$s)) * 1000 +
		(10#$1 * 3600 + 10#$2 * 60 + 10#$3) * 1000 + 10#${frac:0:3} ))
	(( MS > sec * 1000 + 60000 )) && MS=$(( MS - 86400000 ))
	return 0
}

# Reading files that grow (monitor output, a ping's replies) without
# starting a process: one open descriptor per file, read from where the
# last call stopped; a partial last line waits for the next call.
declare -A TAIL_FD=() TAIL_PART=()
tail_open() {	# tail_open NAME FILE
	local fd
	exec {fd}<"$2"
	TAIL_FD[$1]=$fd
	TAIL_PART[$1]=""
}
tail_read() {	# tail_read NAME ARRAY: new complete lines, at most 500
	local -n _lines=$2
	local fd=${TAIL_FD[$1]} line=""
	_lines=()
	while (( ${#_lines[@]} < 500 )) && IFS= read -r -u "$fd" line; do
		_lines+=("${TAIL_PART[$1]}$line")
		TAIL_PART[$1]=""
		line=""
	done
	TAIL_PART[$1]+=$line
}

# The monitors: `ip -ts monitor route` in the gateway and AWS namespaces
# and `ip -ts xfrm monitor` in the gateway's, started before the gateway
# and proven listening. mon_poll digests their new lines into
#   EV_GW_ROUTE   "MS DEV"  the gateway's route to the VPC now goes via
#                 DEV ("-" when it was deleted); MS from ip's own stamps
#   EV_AWS_ROUTE  "MS DEV"  the same for the AWS side's route to the LAN
#   EV_SA         "MS up|down TUNNEL-INDEX"  a tunnel's ESP states (both
#                 directions, keys loaded) complete / no longer complete
#   GW_ROUTE_DEV, AWS_ROUTE_DEV, SA_LIVE[i]: the current state
# and notes "Deleted" route messages (not replacements) in
# EV_GW_ROUTE_DEL / EV_AWS_ROUTE_DEL.
MONITORS=0
EV_GW_ROUTE=() EV_AWS_ROUTE=() EV_SA=() EV_GW_ROUTE_DEL=() EV_AWS_ROUTE_DEL=()
GW_ROUTE_DEV=- AWS_ROUTE_DEV=-
SA_LIVE=(0 0)
declare -A MON_PROBE=() ESP_LIVE=()
XFRM_KIND="" XFRM_PEND="" XFRM_TUN=""

mon_route_line() {	# mon_route_line WHICH PREFIX LINE
	local which=$1 prefix=$2 line=$3 del="" rest dev
	[[ $line =~ ^\[[0-9-]+T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)\]\ (Deleted\ )?(.*)$ ]] || return 0
	del=${BASH_REMATCH[5]} rest=${BASH_REMATCH[6]}
	tod_ms "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}"
	[[ $rest == 192.0.2.99* ]] && MON_PROBE[$which]=1
	[[ $rest == "$prefix "* ]] || return 0
	dev=-
	[[ $rest =~ \ dev\ ([^ ]+) ]] && dev=${BASH_REMATCH[1]}
	if [[ $which == gw ]]; then
		if [[ -n $del ]]; then
			EV_GW_ROUTE_DEL+=("$MS $dev")
			[[ $dev == "$GW_ROUTE_DEV" ]] || return 0
			dev=-
		fi
		GW_ROUTE_DEV=$dev
		EV_GW_ROUTE+=("$MS $dev")
	else
		if [[ -n $del ]]; then
			EV_AWS_ROUTE_DEL+=("$MS $dev")
			[[ $dev == "$AWS_ROUTE_DEV" ]] || return 0
			dev=-
		fi
		AWS_ROUTE_DEV=$dev
		EV_AWS_ROUTE+=("$MS $dev")
	fi
}

# ESP states by tunnel (the AWS end's address), counted when they carry
# keys (a larval state from an SPI allocation does not), uncounted when
# deleted.
mon_xfrm_line() {
	local line=$1 rest i n
	if [[ $line =~ ^\[[0-9-]+T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)\]\ (.*)$ ]]; then
		tod_ms "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}"
		XFRM_MS=$MS
		rest=${BASH_REMATCH[5]} XFRM_KIND=new XFRM_PEND="" XFRM_TUN=""
		case $rest in
		Deleted\ *) XFRM_KIND=del rest=${rest#Deleted } ;;
		Updated\ *) rest=${rest#Updated } ;;
		Expired\ *) XFRM_KIND=exp rest=${rest#Expired } ;;
		esac
		[[ $rest == *192.0.2.2* ]] && MON_PROBE[xfrm]=1
		[[ $rest =~ ^src\ ([0-9.]+)\ dst\ ([0-9.]+)\ *$ ]] || return 0
		for i in 0 1; do
			[[ ${BASH_REMATCH[1]} == "${TUN_AWS[i]}" || ${BASH_REMATCH[2]} == "${TUN_AWS[i]}" ]] && XFRM_TUN=$i
		done
		[[ -n $XFRM_TUN ]] && XFRM_PEND="dst=${BASH_REMATCH[2]}"
		return 0
	fi
	[[ -n $XFRM_PEND ]] || return 0
	if [[ $XFRM_PEND != *spi=* && $line =~ ^[[:space:]]+proto\ esp\ spi\ (0x[0-9a-f]+) ]]; then
		XFRM_PEND+=" spi=${BASH_REMATCH[1]}"
		case $XFRM_KIND in
		del) [[ -n ${ESP_LIVE[$XFRM_PEND]:-} ]] && { unset "ESP_LIVE[$XFRM_PEND]"; sa_count "$XFRM_TUN" -1; }
		     XFRM_PEND="" ;;
		exp) XFRM_PEND="" ;;
		esac
	elif [[ $XFRM_PEND == *spi=* && $line =~ ^[[:space:]]+(aead|enc)\  ]]; then
		if [[ -z ${ESP_LIVE[$XFRM_PEND]:-} ]]; then
			ESP_LIVE[$XFRM_PEND]=$XFRM_TUN
			sa_count "$XFRM_TUN" 1
		fi
		XFRM_PEND=""
	fi
}
sa_count() {	# sa_count TUNNEL-INDEX +1|-1
	local i=$1 was=${SA_LIVE[$1]}
	SA_LIVE[i]=$(( was + $2 ))
	if (( was < 2 && SA_LIVE[i] >= 2 )); then
		EV_SA+=("$XFRM_MS up $i")
	elif (( was >= 2 && SA_LIVE[i] < 2 )); then
		EV_SA+=("$XFRM_MS down $i")
	fi
}

mon_poll() {
	(( MONITORS )) || return 0
	local l lines=()
	tail_read gwr lines
	for l in "${lines[@]}"; do mon_route_line gw "$VPC_NET" "$l"; done
	tail_read awsr lines
	for l in "${lines[@]}"; do mon_route_line aws "$LAN_NET" "$l"; done
	tail_read gwx lines
	for l in "${lines[@]}"; do mon_xfrm_line "$l"; done
}

# ev_find ARRAY FROM-MS PATTERN: the first event at or after FROM-MS whose
# text (after the time) matches the regex PATTERN; its time in EV_MS.
ev_find() {
	local -n _ev=$1
	local from=$2 re=$3 e
	EV_MS=""
	for e in "${_ev[@]}"; do
		(( ${e%% *} >= from )) || continue
		if [[ ${e#* } =~ $re ]]; then
			EV_MS=${e%% *}
			return 0
		fi
	done
	return 1
}
# wait_event DESC TIMEOUT PIDNAME ARRAY FROM-MS PATTERN: poll the
# monitors until ev_find succeeds; 1 on time-out or when PIDNAME exits.
wait_event() {
	local desc=$1 timeout=$2 pidname=$3 arr=$4 from=$5 re=$6
	local deadline=$(( ${EPOCHREALTIME/./} + timeout * 1000000 ))
	while :; do
		mon_poll
		ev_find "$arr" "$from" "$re" && return 0
		if [[ -n $pidname ]] && ! kill -0 "${PIDS[$pidname]}" 2>/dev/null; then
			say "$pidname exited while waiting for $desc"
			return 1
		fi
		if (( ${EPOCHREALTIME/./} > deadline )); then
			say "timed out after ${timeout}s waiting for $desc"
			return 1
		fi
		nap 0.1
	done
}

start_monitors() {
	section "monitors"
	: >"$STATE/gw-route.mon"
	: >"$STATE/gw-xfrm.mon"
	: >"$STATE/aws-route.mon"
	ip -n "$NS_GW" -ts monitor route >"$STATE/gw-route.mon" 2>&1 &
	PIDS[gw-route-monitor]=$!
	# SA messages only: the replay "async events" come every other packet.
	ip -n "$NS_GW" -ts xfrm monitor SA >"$STATE/gw-xfrm.mon" 2>&1 &
	PIDS[gw-xfrm-monitor]=$!
	ip -n "$NS_AWS" -ts monitor route >"$STATE/aws-route.mon" 2>&1 &
	PIDS[aws-route-monitor]=$!
	tail_open gwr "$STATE/gw-route.mon"
	tail_open awsr "$STATE/aws-route.mon"
	tail_open gwx "$STATE/gw-xfrm.mon"
	MONITORS=1
	# Proven listening: a probe route and a probe ESP state must show up.
	local i k40
	printf -v k40 '0x%040d' 0
	for (( i = 0; i < 20; i++ )); do
		printf 'route add 192.0.2.99/32 dev lo\nroute del 192.0.2.99/32 dev lo\n' |
			ip -n "$NS_GW" -b - >/dev/null 2>&1 || true
		printf 'route add 192.0.2.99/32 dev lo\nroute del 192.0.2.99/32 dev lo\n' |
			ip -n "$NS_AWS" -b - >/dev/null 2>&1 || true
		ip -n "$NS_GW" xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x99 \
			mode tunnel aead 'rfc4106(gcm(aes))' "$k40" 128 >/dev/null 2>&1 || true
		ip -n "$NS_GW" xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x99 >/dev/null 2>&1 || true
		nap 0.3
		mon_poll
		[[ -n ${MON_PROBE[gw]:-} && -n ${MON_PROBE[aws]:-} && -n ${MON_PROBE[xfrm]:-} ]] && break
	done
	(( i < 20 )) || fail "the route/xfrm monitors never showed their probes (gw ${MON_PROBE[gw]:-no}, aws ${MON_PROBE[aws]:-no}, xfrm ${MON_PROBE[xfrm]:-no})"
	say "route monitors (gateway, AWS side) and xfrm monitor (gateway) listening"
}

# ---------------------------------------------------------------- teardown

stop_pid() {	# stop_pid NAME: TERM, wait up to 10 s, then KILL
	local name=$1 pid=${PIDS[$1]:-} t0=${EPOCHREALTIME/./} dt
	[[ -n $pid ]] || return 0
	unset "PIDS[$name]"
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null; do
		if (( ${EPOCHREALTIME/./} - t0 > 10000000 )); then
			say "$name (pid $pid) ignored SIGTERM for 10 s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		nap 0.05
	done
	wait "$pid" 2>/dev/null || true
	dt=$(( (${EPOCHREALTIME/./} - t0) / 100000 ))
	say "stopped $name ($(( dt / 10 )).$(( dt % 10 )) s)"
}

TORN_DOWN=0
teardown() {
	local rc=$?
	(( TORN_DOWN )) && return 0
	TORN_DOWN=1
	trap - ERR
	set +e
	section "teardown"
	# cgwd first, while its namespace and peers still exist, so that it
	# can remove its kernel state the way it does in production.
	local name
	for name in ping cgwd pluto gw-bgpd gw-zebra gw-bird gw-charon aws-charon aws-bird; do
		stop_pid "$name"
	done
	for name in "${!PIDS[@]}"; do
		stop_pid "$name"
	done
	if [[ ${CGW_LAB_SHOW_LOGS:-0} == 1 && -d $STATE ]]; then
		local f
		for f in "$STATE"/*.log "$AWS_DIR"/*.log "$REF_DIR"/*.log "$STATE"/lsw/*.log "$STATE"/frr/*.log; do
			[[ -s $f ]] || continue
			printf -- '---- %s (last %s lines)\n' "$f" "${CGW_LAB_SHOW_LINES:-80}"
			tail -n "${CGW_LAB_SHOW_LINES:-80}" "$f"
		done
	fi
	if [[ -n ${CGW_LAB_LOGS:-} && -d $STATE ]]; then
		mkdir -p "$CGW_LAB_LOGS"
		(cd "$STATE" && find . -type f ! -name '*.psk' ! -name 'swanctl.conf' \
			-exec cp --parents {} "$CGW_LAB_LOGS"/ \;)
		say "logs and configs copied to $CGW_LAB_LOGS"
	fi
	delete_namespaces
	rm -rf "$STATE"
	rm -f "$STATE.lock"
	say "done, exit status $rc"
	exit "$rc"
}

delete_namespaces() {
	local ns
	for ns in "${ALL_NS[@]}"; do
		[[ -e /run/netns/$ns ]] || continue
		# Anything still running in our namespaces belongs to an earlier,
		# killed lab (or a shell a user opened in HOLD mode): leave other
		# processes alone, just drop the namespace names.
		ip netns del "$ns" 2>/dev/null || true
	done
}

# ---------------------------------------------------------------- checks

preflight() {
	[[ $EUID -eq 0 ]] || fail "run as root (sudo lab/run.sh, or sudo $0)"
	case $EXPECT in configured|tunnels|up|failover) ;; *) fail "CGW_LAB_EXPECT must be configured, tunnels, up or failover";; esac
	case $GATEWAY in cgwd|strongswan|libreswan-frr|none) ;; *) fail "CGW_LAB_GATEWAY must be cgwd, strongswan, libreswan-frr or none";; esac
	[[ $EXPECT != tunnels || $GATEWAY == cgwd ]] ||
		fail "CGW_LAB_EXPECT=tunnels (static routes) is for cgwd; the other gateways run with BGP (CGW_LAB_EXPECT=up)"
	[[ $GATEWAY != none || $EXPECT == configured ]] ||
		fail "CGW_LAB_GATEWAY=none: only CGW_LAB_EXPECT=configured makes sense (nothing can come up)"
	case $AWS_START in none|trap|start) ;; *) fail "CGW_LAB_AWS_START must be none, trap or start";; esac
	local missing=() b
	for b in ip swanctl "$CHARON" bird birdc jq ping; do
		command -v "$b" >/dev/null || missing+=("$b")
	done
	[[ $EXPECT == failover ]] && { command -v nft >/dev/null || missing+=("nft (nftables)"); }
	if [[ $GATEWAY == libreswan-frr ]]; then
		for b in /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh; do
			command -v "$b" >/dev/null || missing+=("$b (frr)")
		done
	fi
	(( ${#missing[@]} == 0 )) ||
		fail "missing programs: ${missing[*]} (install the packages in lab/packages.txt)"
	if [[ $GATEWAY == cgwd ]]; then
		[[ -x $CGWD && -x $CGWCTL ]] ||
			fail "no cgwd/cgwctl in $BUILD: build first (meson setup build && ninja -C build) or set CGW_BUILD_DIR"
	fi
}

# ---------------------------------------------------------------- network

# Modules the lab needs. Load them by hand: the test VM's kernel cannot
# autoload (its modprobe helper runs in the initramfs, not our root). Best
# effort, since a kernel may have them built in, and a host may lack ESP
# and VTI. The crypto modules run self-tests as they load (3 s for aes
# under TCG): they load in the background while the AWS side starts.
NET_MODULES=(veth ip_vti esp4 xfrm_user xfrm4_tunnel)
CRYPTO_MODULES=(aes gcm ghash_generic ctr seqiv echainiv cbc authenc hmac sha1 sha256 sha512)
CRYPTO_PID=""

setup_network() {
	section "network"
	modprobe -q -a "${NET_MODULES[@]}" 2>/dev/null || true
	modprobe -q -a "${CRYPTO_MODULES[@]}" >/dev/null 2>&1 &
	CRYPTO_PID=$!
	ip -b - <<-EOF
	netns add $NS_LAN
	netns add $NS_GW
	netns add $NS_AWS
	netns add $NS_VPC
	link add eth0 netns $NS_LAN type veth peer name lan0 netns $NS_GW
	link add wan0 netns $NS_GW type veth peer name inet0 netns $NS_AWS
	link add vpc0 netns $NS_AWS type veth peer name eth0 netns $NS_VPC
	EOF
	ip -n "$NS_LAN" -b - <<-EOF
	link set lo up
	link set eth0 up
	addr add $LAN_HOST/24 dev eth0
	route add default via $LAN_GW
	EOF
	ip -n "$NS_GW" -b - <<-EOF
	link set lo up
	link set lan0 up
	link set wan0 up
	addr add $LAN_GW/24 dev lan0
	addr add $GW_WAN/24 dev wan0
	route add default via $INET_GW
	EOF
	ip -n "$NS_AWS" -b - <<-EOF
	link set lo up
	link set inet0 up
	link set vpc0 up
	addr add $INET_GW/24 dev inet0
	addr add ${TUN_AWS[0]}/32 dev lo
	addr add ${TUN_AWS[1]}/32 dev lo
	addr add $VPC_GW/16 dev vpc0
	EOF
	ip -n "$NS_VPC" -b - <<-EOF
	link set lo up
	link set eth0 up
	addr add $VPC_HOST/16 dev eth0
	route add default via $VPC_GW
	EOF
	in_ns "$NS_GW" sysctl -q -w net.ipv4.ip_forward=1
	in_ns "$NS_AWS" sysctl -q -w net.ipv4.ip_forward=1
	say "namespaces ${ALL_NS[*]} up"
}

# The AWS side's VTIs, made by hand as AWS does: one per tunnel, keyed by
# the tunnel's mark, the AWS end of the inside /30 on it.
setup_aws_vtis() {
	if ! ip -n "$NS_AWS" link add vti-probe type vti local 127.0.0.1 remote 127.0.0.2 key 1 2>/dev/null; then
		say "kernel lacks ip_vti: AWS-side VTIs skipped; the data path needs the VM (lab/run.sh)"
		return 0
	fi
	ip -n "$NS_AWS" link del vti-probe
	HAVE_VTI=1
	local i cmds="" sysctls=()
	for i in 0 1; do
		local vti=vti$((i + 1))
		cmds+="link add $vti type vti local ${TUN_AWS[i]} remote $GW_WAN key ${TUN_MARK[i]}
addr add ${TUN_INSIDE[i]}.1/30 dev $vti
link set $vti mtu 1436 up
"
		sysctls+=("net.ipv4.conf.$vti.disable_policy=1" "net.ipv4.conf.$vti.rp_filter=0")
	done
	ip -n "$NS_AWS" -b - <<<"$cmds"
	in_ns "$NS_AWS" sysctl -q -w "${sysctls[@]}"
	say "AWS-side VTIs vti1 (key ${TUN_MARK[0]}), vti2 (key ${TUN_MARK[1]}) up"
}

# Once the crypto modules are in, have the kernel build (and self-test) the
# ESP transforms once, before the gateway starts, instead of on the first
# CHILD SAs of both tunnels at the same time.
warm_up_esp() {
	if [[ -n $CRYPTO_PID ]]; then
		wait "$CRYPTO_PID" 2>/dev/null || true
		CRYPTO_PID=""
	fi
	(( HAVE_VTI )) || return 0
	local k40 k32 k64
	printf -v k40 '0x%040d' 0
	printf -v k32 '0x%032d' 0
	printf -v k64 '0x%064d' 0
	ip -n "$NS_AWS" -force -b - >/dev/null 2>&1 <<-EOF || true
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x101 mode tunnel aead rfc4106(gcm(aes)) $k40 128
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x102 mode tunnel enc cbc(aes) $k32 auth-trunc hmac(sha256) $k64 128
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x103 mode tunnel enc cbc(aes) $k32 auth-trunc hmac(sha1) $k32 96
	xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x101
	xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x102
	xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x103
	EOF
	say "kernel ESP transforms ready (AES-GCM, AES-CBC with HMAC-SHA1/SHA256)"
}

# ---------------------------------------------------------------- strongSwan

# write_strongswan_conf DIR: a charon of its own (plugins, vici socket,
# log file) that shares nothing with a strongSwan installed on the host.
write_strongswan_conf() {
	local dir=$1
	mkdir -m 0700 "$dir" "$dir/swanctl"
	cat >"$dir/strongswan.conf" <<-EOF
	# Written by cgw lab/lab.sh.
	charon-systemd {
	  journal {
	    default = -1
	  }
	}
	charon {
	  load_modular = no
	  load = random nonce openssl kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici updown
	  # Route-based: the VTIs carry the traffic; no routes in table 220,
	  # no virtual IPs.
	  install_routes = no
	  install_virtual_ip = no
	  # Declare a silent peer dead after ~30 s (AWS: 3 missed 10 s DPDs).
	  retransmit_timeout = 4
	  retransmit_base = 1.4
	  retransmit_tries = 3
	  plugins {
	    vici {
	      socket = unix://$dir/charon.vici
	    }
	  }
	  filelog {
	    lab {
	      path = $dir/charon.log
	      time_format = %H:%M:%S
	      ike_name = yes
	      flush_line = yes
	      default = 1
	      ike = 2
	      knl = 1
	    }
	  }
	}
	swanctl {
	  load = random nonce openssl pem pkcs1 x509 pubkey
	}
	EOF
}

# swanctl_conn NAME LOCAL REMOTE MARK START IKE ESP [UPDOWN]: one
# route-based tunnel; UPDOWN, a script charon runs when its CHILD SA comes
# up or goes down.
swanctl_conn() {
	local name=$1 local=$2 remote=$3 mark=$4 start=$5 ike=$6 esp=$7 updown=${8:-}
	cat <<-EOF
	  $name {
	    version = 2
	    local_addrs = $local
	    remote_addrs = $remote
	    proposals = $ike
	    # AWS: phase 1 lifetime 28,800 s, rekey margin 270 s, fuzz 100 %
	    rekey_time = 28530s
	    over_time = 270s
	    rand_time = 270s
	    reauth_time = 0
	    dpd_delay = 10s
	    mobike = no
	    unique = replace
	    local {
	      auth = psk
	      id = $local
	    }
	    remote {
	      auth = psk
	      id = $remote
	    }
	    children {
	      $name {
	        mode = tunnel
	        local_ts = 0.0.0.0/0
	        remote_ts = 0.0.0.0/0
	        esp_proposals = $esp
	        # VTI-style binding: the VTI's key selects the policies
	        mark_in = $mark
	        mark_out = $mark
	        # AWS: phase 2 lifetime 3,600 s, rekey margin 270 s, fuzz 100 %
	        rekey_time = 3330s
	        life_time = 3600s
	        rand_time = 270s
	        replay_window = 1024
	        start_action = $start
	        dpd_action = clear
	        close_action = none${updown:+
	        updown = $updown}
	      }
	    }
	  }
	EOF
}

swanctl_secret() {	# swanctl_secret NAME LOCAL REMOTE PSK
	cat <<-EOF
	  ike-$1 {
	    id-local = $2
	    id-remote = $3
	    secret = "$4"
	  }
	EOF
}

# Daemons run in sessions of their own (setsid: no extra process, it
# execs), so that a Ctrl-C on the terminal reaches only this script, which
# then stops them in order: cgwd first, while its peers still answer.

# start_charon NAME NS DIR: start charon-systemd in NS; PIDS[NAME].
start_charon() {
	local name=$1 ns=$2 dir=$3
	STRONGSWAN_CONF=$dir/strongswan.conf \
		setsid ip netns exec "$ns" "$CHARON" >"$dir/charon.out" 2>&1 &
	PIDS[$name]=$!
	say "$name started (pid $!)"
}

# load_charon NAME DIR CONN...: wait for the vici socket, load the
# configuration and check that every CONN is loaded.
load_charon() {
	local name=$1 dir=$2
	shift 2
	wait_until "$name's vici socket" "$STEP_TIMEOUT" "$name" test -S "$dir/charon.vici"
	wait_until "$name to answer on vici" "$STEP_TIMEOUT" "$name" sw "$dir" --stats
	sw "$dir" --load-all >"$dir/load.out" 2>&1 ||
		{ cat "$dir/load.out" >&2; fail "$name: swanctl --load-all failed"; }
	local conns c res=()
	conns=$(sw "$dir" --list-conns)
	for c in "$@"; do res+=("(^|$NL)$c: IKEv2"); done
	has_all "$conns" "${res[@]}" ||
		{ printf '%s\n' "$conns" >&2; fail "$name: swanctl --list-conns does not show $*"; }
	say "$name: connections $* loaded"
}

# The AWS side takes BGP down with the tunnel: charon runs this hook (as
# PLUTO_VERB up-client / down-client, PLUTO_CONNECTION = the tunnel) when
# a CHILD SA comes up or goes down (DPD "clear", a DELETE from the gateway,
# an IKE SA replaced). It counts the tunnel's CHILD SAs; when the last one
# goes, it restarts the tunnel's BIRD protocol: the session ends, its
# routes are withdrawn at once, and BIRD waits for the peer again. (A
# rekey runs no hook; a replaced IKE SA's old CHILD SA may go down after
# the new one came up, hence the count.)
write_aws_updown() {
	cat >"$AWS_DIR/updown.sh" <<-EOF
	#!/bin/bash
	# Written by cgw lab/lab.sh: the AWS side's strongSwan updown hook.
	PATH=/usr/sbin:/usr/bin:/sbin:/bin
	case \$PLUTO_VERB in
	up-*) d=1 ;;
	down-*) d=-1 ;;
	*) exit 0 ;;
	esac
	name=\$PLUTO_CONNECTION
	f=$AWS_DIR/children.\$name
	exec 9>>"\$f.lock"
	flock 9
	n=0
	[[ -s \$f ]] && read -r n <"\$f"
	n=\$((n + d))
	((n < 0)) && n=0
	echo "\$n" >"\$f"
	printf '%(%H:%M:%S)T %s: %s, %s CHILD SA(s) up\\n' -1 "\$name" "\$PLUTO_VERB" "\$n" >>$AWS_DIR/updown.log
	if ((d < 0 && n == 0)); then
	  printf '%(%H:%M:%S)T %s: tunnel down: restarting BGP protocol %s\\n' -1 "\$name" "\${name/-/_}" >>$AWS_DIR/updown.log
	  birdc -s $AWS_DIR/bird.ctl restart "\${name/-/_}" >>$AWS_DIR/updown.log 2>&1
	fi
	exit 0
	EOF
	chmod 0755 "$AWS_DIR/updown.sh"
}

setup_aws_strongswan() {
	write_strongswan_conf "$AWS_DIR"
	write_aws_updown
	local i conns="" secrets=""
	for i in 0 1; do
		conns+=$(swanctl_conn "${TUN_NAME[i]}" "${TUN_AWS[i]}" "$GW_WAN" \
			"${TUN_MARK[i]}" "$AWS_START" "$AWS_IKE" "$AWS_ESP" "$AWS_DIR/updown.sh")$'\n'
		secrets+=$(swanctl_secret "${TUN_NAME[i]}" "${TUN_AWS[i]}" "$GW_WAN" \
			"$(<"$STATE/${TUN_NAME[i]}.psk")")$'\n'
	done
	(umask 077; printf '# Written by cgw lab/lab.sh: the emulated AWS side.\nconnections {\n%s}\nsecrets {\n%s}\n' \
		"$conns" "$secrets" >"$AWS_DIR/swanctl/swanctl.conf")
	start_charon aws-charon "$NS_AWS" "$AWS_DIR"
}

# ---------------------------------------------------------------- BIRD

start_bird() {	# start_bird NAME NS DIR
	local name=$1 ns=$2 dir=$3
	bird -p -c "$dir/bird.conf" 2>"$dir/bird.out" ||
		{ cat "$dir/bird.out" >&2; fail "$name: bird.conf does not parse"; }
	setsid ip netns exec "$ns" bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl" \
		-P "$dir/bird.pid" >"$dir/bird.out" 2>&1 &
	PIDS[$name]=$!
	say "$name started (pid $!)"
}

# wait_bird NAME DIR PROTO...: the control socket answers and lists PROTOs.
bird_lists() {
	local dir=$1 out re
	shift
	out=$(birdc -s "$dir/bird.ctl" show protocols) || return 1
	for re in "$@"; do
		[[ $out =~ (^|$NL)${re}[[:space:]]+BGP ]] || return 1
	done
}
wait_bird() {
	local name=$1 dir=$2
	shift 2
	wait_until "$name's control socket" "$STEP_TIMEOUT" "$name" test -S "$dir/bird.ctl"
	wait_until "$name to list BGP protocols $*" "$STEP_TIMEOUT" "$name" bird_lists "$dir" "$@"
	say "$name: BGP protocols $* configured"
}

setup_aws_bird() {
	local i protos=""
	for i in 0 1; do
		protos+="
protocol bgp ${TUN_NAME[i]/-/_} from aws_tunnel {
  description \"tunnel ${TUN_NAME[i]}\";
  local ${TUN_INSIDE[i]}.1 as $AWS_ASN;
  neighbor ${TUN_INSIDE[i]}.2 as $GW_ASN;
  ipv4 {
    import all;
    export filter {
      if proto = \"vpc\" then { bgp_med = ${TUN_MED[i]}; accept; }
      reject;
    };
  };
}
"
	done
	cat >"$AWS_DIR/bird.conf" <<-EOF
	# Written by cgw lab/lab.sh: the emulated AWS side's BGP.
	log "$AWS_DIR/bird.log" all;
	router id ${TUN_AWS[0]};
	timeformat protocol iso long ms;

	protocol device {
	}

	# Routes learned from the customer go to the kernel (the VPC's return
	# path); the VPC prefix itself is connected there already.
	protocol kernel {
	  ipv4 {
	    import none;
	    export where source = RTS_BGP;
	  };
	}

	# The VPC CIDR, advertised on both tunnels.
	protocol static vpc {
	  ipv4;
	  route $VPC_NET blackhole;
	}

	# AWS: hold 30 s, keepalive 10 s, no graceful restart (a dead tunnel's
	# routes go at once, like AWS fails over on the hold timer).
	template bgp aws_tunnel {
	  local as $AWS_ASN;
	  hold time 30;
	  keepalive time 10;
	  connect retry time 5;
	  graceful restart off;
	}
	$protos
	EOF
	start_bird aws-bird "$NS_AWS" "$AWS_DIR"
}

# ---------------------------------------------------------------- gateway

# The gateway's config from cgw.conf.in: for a static-routing VPN
# (CGW_LAB_EXPECT=tunnels) without [bgp] and bgp-peer-asn, with static
# routes to the VPC instead (metric 100 via aws-1, 200 via aws-2).
cgwd_conf() {
	local line out="" skip=0 i
	while IFS= read -r line; do
		line=${line//@STATE@/$STATE}
		if [[ $EXPECT == tunnels ]]; then
			[[ $line == \[* ]] && skip=0
			[[ $line == "[bgp]" ]] && skip=1
			(( skip )) && continue
			[[ $line == bgp-* ]] && continue
		fi
		out+=$line$'\n'
		if [[ $EXPECT == tunnels ]]; then
			for i in 0 1; do
				[[ $line == "[tunnel ${TUN_NAME[i]}]" ]] || continue
				out+="route = $VPC_NET"$'\n'"route-metric = ${TUN_MED[i]}"$'\n'
			done
		fi
	done <"$LAB_DIR/cgw.conf.in"
	printf '%s' "$out"
}

# Prefix each line of cgwd's output with the time of day (ms): cgwd logs
# none of its own when it is not under systemd.
ts_lines() {
	local line t
	while IFS= read -r line; do
		t=${EPOCHREALTIME/./}
		printf '%(%H:%M:%S)T.%03d %s\n' "$(( t / 1000000 ))" "$(( t / 1000 % 1000 ))" "$line"
	done
}

start_cgwd() {
	(umask 077; cgwd_conf >"$STATE/cgw.conf")
	local out
	out=$("$CGWD" -n -c "$STATE/cgw.conf" 2>&1) ||
		{ printf '%s\n' "$out" >&2; fail "cgwd -n: the lab's cgw.conf does not pass cgwd's check"; }
	mkfifo -m 0600 "$STATE/cgwd.fifo"
	ts_lines <"$STATE/cgwd.fifo" >"$STATE/cgwd.log" &
	now_ms
	T_GW_START=$NOW_MS
	# shellcheck disable=SC2086  # CGW_LAB_CGWD_ARGS: words, e.g. "-v -d all"
	setsid ip netns exec "$NS_GW" "$CGWD" -c "$STATE/cgw.conf" ${CGW_LAB_CGWD_ARGS:-} \
		>"$STATE/cgwd.fifo" 2>&1 &
	PIDS[cgwd]=$!
	say "cgwd started (pid $!): $CGWD -c $STATE/cgw.conf ${CGW_LAB_CGWD_ARGS:-}"
	wait_until "cgwd's control socket" "$STEP_TIMEOUT" cgwd test -S "$CGWD_SOCK"
	wait_until "cgwd to answer on its control socket" "$STEP_TIMEOUT" cgwd cgwctl status
	say "cgwd answers on $CGWD_SOCK"
}

# A reference customer gateway made of strongSwan + BIRD (what cgwd
# replaces), to check the lab itself: CGW_LAB_GATEWAY=strongswan.
start_reference_gateway() {
	local i cmds="" sysctls=() conns="" secrets="" protos=""
	if (( HAVE_VTI )); then
		for i in 0 1; do
			local vti=vti$((i + 1))
			cmds+="link add $vti type vti local $GW_WAN remote ${TUN_AWS[i]} key ${TUN_MARK[i]}
addr add ${TUN_INSIDE[i]}.2/30 dev $vti
link set $vti mtu 1436 up
"
			sysctls+=("net.ipv4.conf.$vti.disable_policy=1" "net.ipv4.conf.$vti.rp_filter=0")
		done
		ip -n "$NS_GW" -b - <<<"$cmds"
		in_ns "$NS_GW" sysctl -q -w "${sysctls[@]}"
	fi
	write_strongswan_conf "$REF_DIR"
	now_ms
	T_GW_START=$NOW_MS
	for i in 0 1; do
		conns+=$(swanctl_conn "${TUN_NAME[i]}" "$GW_WAN" "${TUN_AWS[i]}" \
			"${TUN_MARK[i]}" start aes256-sha256-modp2048 aes256gcm16-modp2048)$'\n'
		secrets+=$(swanctl_secret "${TUN_NAME[i]}" "$GW_WAN" "${TUN_AWS[i]}" \
			"$(<"$STATE/${TUN_NAME[i]}.psk")")$'\n'
		protos+="
protocol bgp ${TUN_NAME[i]/-/_} {
  local ${TUN_INSIDE[i]}.2 as $GW_ASN;
  neighbor ${TUN_INSIDE[i]}.1 as $AWS_ASN;
  hold time 30;
  keepalive time 10;
  connect retry time 5;
  graceful restart off;
  ipv4 { import all; export where proto = \"lan\"; };
}
"
	done
	(umask 077; printf 'connections {\n%s}\nsecrets {\n%s}\n' "$conns" "$secrets" \
		>"$REF_DIR/swanctl/swanctl.conf")
	cat >"$REF_DIR/bird.conf" <<-EOF
	log "$REF_DIR/bird.log" all;
	router id $LAN_GW;
	protocol device {
	}
	protocol kernel {
	  ipv4 { import none; export where source = RTS_BGP; };
	}
	protocol static lan {
	  ipv4;
	  route $LAN_NET blackhole;
	}
	$protos
	EOF
	start_charon gw-charon "$NS_GW" "$REF_DIR"
	start_bird gw-bird "$NS_GW" "$REF_DIR"
	write_swanctl_helper gw-swanctl "$REF_DIR"
	load_charon gw-charon "$REF_DIR" "${TUN_NAME[@]}"
	wait_bird gw-bird "$REF_DIR" "${TUN_NAME[@]//-/_}"
}

# What cgwd replaces, as AWS users run it today (CGW_LAB_GATEWAY=
# libreswan-frr): Libreswan's pluto with two conns in the classic
# route-based AWS recipe (its updown script makes each VTI when the CHILD
# SA comes up: vti-interface, leftvti, mark; DPD like AWS's sample
# configuration), and FRR's zebra + bgpd with the classic two-neighbor
# config (timers 10 30, connect 10, no bgp ebgp-requires-policy, network
# 192.168.2.0/24). Libreswan comes from tests/vm/libreswan.sh (the VM
# copies a cached tree into its overlay; natively an installed one).
LSW_DIR="" FRR_DIR=""

# What tests/vm/libreswan.sh expects of its caller.
vm_log() { say "$*"; }
skip() {
	elapsed
	printf '\n[lab %6ss] SKIP: %s\n' "$ELAPSED" "$*" >&2
	exit 77
}

vtysh_gw() { vtysh --vty_socket "$FRR_DIR" "$@"; }

start_libreswan_frr() {
	local lib=$SRC_DIR/tests/vm/libreswan.sh i
	[[ -f $lib ]] || fail "CGW_LAB_GATEWAY=libreswan-frr needs $lib"
	# shellcheck source=../tests/vm/libreswan.sh
	source "$lib"
	lsw_setup
	say "Libreswan: $LSW_VERSION"
	# FRR drops to its own user: let it through the state directory (the
	# PSK files and configs in it stay 0600).
	chmod 0711 "$STATE"
	FRR_DIR=$STATE/frr
	mkdir -m 0755 "$FRR_DIR"
	chown frr:frr "$FRR_DIR" || fail "no user frr (install frr)"
	cat >"$FRR_DIR/zebra.conf" <<-EOF
	hostname ${P}gw
	log file $FRR_DIR/zebra.log informational
	EOF
	local nbrs=""
	for i in 0 1; do
		nbrs+=" neighbor ${TUN_INSIDE[i]}.1 remote-as $AWS_ASN
 neighbor ${TUN_INSIDE[i]}.1 description AWS-VPN-Tunnel-$(( i + 1 ))
 neighbor ${TUN_INSIDE[i]}.1 timers 10 30
 neighbor ${TUN_INSIDE[i]}.1 timers connect 10
"
	done
	cat >"$FRR_DIR/bgpd.conf" <<-EOF
	frr defaults traditional
	hostname ${P}gw
	log file $FRR_DIR/bgpd.log informational
	!
	router bgp $GW_ASN
	 bgp router-id $LAN_GW
	 bgp log-neighbor-changes
	 no bgp ebgp-requires-policy
	 timers bgp 10 30
	$nbrs
	 address-family ipv4 unicast
	  network $LAN_NET
	 exit-address-family
	!
	EOF
	chmod 0644 "$FRR_DIR"/*.conf
	measure_stack_start
	setsid ip netns exec "$NS_GW" /usr/lib/frr/zebra -f "$FRR_DIR/zebra.conf" \
		-i "$FRR_DIR/zebra.pid" -z "$FRR_DIR/zserv.api" --vty_socket "$FRR_DIR" \
		>"$FRR_DIR/zebra.out" 2>&1 &
	PIDS[gw-zebra]=$!
	wait_until "zebra's API socket" "$STEP_TIMEOUT" gw-zebra test -S "$FRR_DIR/zserv.api"
	setsid ip netns exec "$NS_GW" /usr/lib/frr/bgpd -f "$FRR_DIR/bgpd.conf" \
		-i "$FRR_DIR/bgpd.pid" -z "$FRR_DIR/zserv.api" --vty_socket "$FRR_DIR" \
		>"$FRR_DIR/bgpd.out" 2>&1 &
	PIDS[gw-bgpd]=$!
	wait_until "bgpd to answer" "$STEP_TIMEOUT" gw-bgpd vtysh_gw -d bgpd -c 'show bgp summary'
	say "FRR $(vtysh_gw -c 'show version' 2>/dev/null | sed -n 's/^FRRouting \([^ ]*\).*/\1/p'): zebra and bgpd running (neighbors ${TUN_INSIDE[0]}.1, ${TUN_INSIDE[1]}.1)"
	LSW_DIR=$STATE/lsw
	lsw_dir_init "$LSW_DIR"
	for i in 0 1; do
		lsw_conn "$LSW_DIR" "${TUN_NAME[i]}" \
			authby=secret ikev2=insist type=tunnel \
			"left=$GW_WAN" "leftid=$GW_WAN" "right=${TUN_AWS[i]}" "rightid=${TUN_AWS[i]}" \
			leftsubnet=0.0.0.0/0 rightsubnet=0.0.0.0/0 \
			'ike=aes256-sha2_256;dh14' 'esp=aes_gcm256;dh14' \
			ikelifetime=8h salifetime=1h keyingtries=%forever \
			"mark=${TUN_MARK[i]}/0xffffffff" "vti-interface=vti$(( i + 1 ))" \
			vti-routing=no vti-shared=no "leftvti=${TUN_INSIDE[i]}.2/30" \
			dpddelay=10 dpdtimeout=30 dpdaction=restart auto=start
		lsw_secret "$LSW_DIR" "$GW_WAN" "${TUN_AWS[i]}" "$(<"$STATE/${TUN_NAME[i]}.psk")"
	done
	now_ms
	T_GW_START=$NOW_MS
	lsw_start "$LSW_DIR" "$NS_GW"
	PIDS[pluto]=$LSW_PID
	say "pluto started (pid $LSW_PID): conns ${TUN_NAME[*]}, auto=start"
}

# ---------------------------------------------------------------- report

report_start() {
	section "strongSwan (AWS side)"
	aws_sw --version --daemon | grep -v '^loaded plugins' || true
	aws_sw --list-conns | grep -E '^[^ ]|^ *(local|remote):|^ *[^ ]+: TUNNEL|^ *(local|remote) (TS|ts)' || true
}

# What each side sees at the end.
report_end() {
	section "AWS side: strongSwan SAs, BIRD protocols and routes"
	aws_sw --list-sas || true
	aws_birdc show protocols || true
	aws_birdc show route || true
	case $GATEWAY in
	cgwd)
		section "cgwctl status"
		cgwctl status || true
		if [[ $EXPECT == up || $EXPECT == failover ]]; then
			section "cgwctl bgp routes"
			cgwctl bgp routes || true
		fi
		;;
	strongswan)
		section "reference gateway: strongSwan SAs, BIRD protocols and routes"
		sw "$REF_DIR" --list-sas || true
		birdc -s "$REF_DIR/bird.ctl" show protocols || true
		birdc -s "$REF_DIR/bird.ctl" show route || true
		;;
	libreswan-frr)
		section "Libreswan + FRR: SAs, BGP neighbors and routes"
		lsw_whack "$LSW_DIR" --trafficstatus || true
		vtysh_gw -c 'show bgp summary' -c 'show ip bgp' || true
		;;
	esac
	if (( HAVE_VTI )) && [[ $GATEWAY != none ]]; then
		section "the gateway's kernel routes"
		ip -n "$NS_GW" route show || true
	fi
}

# One line of figures for scripts (scenario 60, bench/bgp-failover-vm.sh).
result_line() {
	local v="" aws
	case $GATEWAY in
	cgwd) v=$("$CGWD" -V 2>/dev/null || echo cgwd) ;;
	libreswan-frr) v="${LSW_VERSION%% IKEv2*} + FRR $(vtysh_gw -c 'show version' 2>/dev/null | sed -n 's/^FRRouting \([^ ]*\).*/\1/p')" ;;
	strongswan) v="strongSwan $(dpkg-query -W -f='${Version}' strongswan-libcharon 2>/dev/null) + BIRD" ;;
	esac
	aws="strongSwan $(dpkg-query -W -f='${Version}' strongswan-libcharon 2>/dev/null) + $(birdc -s "$AWS_DIR/bird.ctl" show status 2>/dev/null | sed -n 's/^BIRD \([0-9.]*\)$/BIRD \1/p' | head -n1)"
	printf 'CGW-LAB-RESULT {"gateway":"%s","gateway_version":"%s","aws_side":"%s","expect":"%s","kernel":"%s"%s%s}\n' \
		"$GATEWAY" "$v" "$aws" "$EXPECT" "$(uname -r)" "${RES_UP:+,$RES_UP}" "${RES_FO:+,$RES_FO}"
}

# ---------------------------------------------------------------- checks

# cgwd knows both tunnels and both neighbors (none for a static-routing VPN).
check_configured() {
	[[ $GATEWAY == cgwd ]] || return 0
	local json
	json=$(cgwctl status --json) || fail "cgwctl status --json failed"
	# Accept the bare status object or the control reply around it.
	local got
	got=$(jq -r '(.result? // .) as $s
		| [ ($s.tunnels // [] | map(.name) | sort | join(",")),
		    ($s.neighbors // [] | map(select((.remote_as // .peer_as) == 64512)) | length | tostring)
		  ] | join(" ")' <<<"$json") ||
		{ printf '%s\n' "$json" >&2; fail "cgwctl status --json is not the JSON we expect"; }
	local want=2
	[[ $EXPECT == tunnels ]] && want=0	# a static-routing VPN: no BGP
	if [[ $got != "aws-1,aws-2 $want" ]]; then
		printf '%s\n' "$json" >&2
		fail "expected tunnels aws-1,aws-2 and $want neighbors with remote_as 64512; cgwctl status --json gave: $got"
	fi
	if (( want )); then
		say "OK: cgwctl status lists tunnels aws-1, aws-2 and $want neighbors (remote AS 64512)"
	else
		say "OK: cgwctl status lists tunnels aws-1, aws-2 and no BGP neighbor (static routing)"
	fi
}

# CGW_LAB_EXPECT=tunnels: both IKE and CHILD SAs up (seen from both ends)
# and ESP across each tunnel's inside /30, without BGP yet.
cgwd_tunnels_up() {
	local json
	json=$(cgwctl status --json) || return 1
	[[ $(jq -r '[.tunnels[] | select(.state == "up") | .name] | sort | join(",")' \
		<<<"$json") == "aws-1,aws-2" ]]
}
check_tunnels() {
	(( HAVE_VTI )) || fail "CGW_LAB_EXPECT=tunnels needs ESP and VTI in the kernel (run through lab/run.sh)"
	section "waiting for both tunnels (up to ${UP_TIMEOUT}s)"
	wait_until "both IKE and CHILD SAs on the AWS side" "$UP_TIMEOUT" cgwd aws_tunnels_up
	wait_until "cgwctl status: aws-1 and aws-2 up" "$UP_TIMEOUT" cgwd cgwd_tunnels_up
	say "both tunnels up: ESTABLISHED with CHILD SAs INSTALLED on the AWS side, up in cgwctl status"
	aws_sw --list-sas
	local i
	for i in 10 11; do
		in_ns "$NS_GW" ping -c 3 -i 0.2 -W 2 "169.254.$i.1" ||
			fail "no ping reply from the AWS side's inside address 169.254.$i.1"
	done
	say "ping 169.254.10.1 (vti1) and 169.254.11.1 (vti2) from the gateway answer"
	# A static-routing VPN: AWS routes the customer prefix to the tunnels
	# (as configured on the VPN connection), cgwd installs the VPC route.
	in_ns "$NS_AWS" ip route replace "$LAN_NET" dev vti1 metric 100
	in_ns "$NS_AWS" ip route replace "$LAN_NET" dev vti2 metric 200
	in_ns "$NS_GW" ip route show "$VPC_NET"
	in_ns "$NS_LAN" ping -c 3 -i 0.2 -W 2 "$VPC_HOST" ||
		fail "no ping reply from the VPC host $VPC_HOST through the tunnel"
	say "ping lan ($LAN_HOST) -> vpc ($VPC_HOST) answers through aws-1"
	local json
	json=$(cgwctl status --json)
	cgwctl status
	[[ $(jq '[.tunnels[] | select(.packets_in > 0 and .packets_out > 0)] | length' \
		<<<"$json") == 2 ]] || fail "cgwctl status shows no traffic counted on both tunnels"
	say "OK: both tunnels up, ESP across both, counters in cgwctl status"
	check_rekeys
}

# CHILD SA rekeys under traffic: cgwd rekeys aws-1, strongSwan (the AWS
# side) rekeys aws-1 too; a ping LAN -> VPC runs through all of it.
ESP_SAS_COUNT() { in_ns "$NS_GW" ip xfrm state | grep -c '^src'; }
check_rekeys() {
	section "rekeys under traffic"
	local log=$STATE/rekey-ping.log i
	in_ns "$NS_LAN" ping -i 0.05 -c 260 -W 1 "$VPC_HOST" >"$log" 2>&1 &
	local ping_pid=$!
	for i in 1 2; do
		nap 1
		cgwctl tunnel rekey aws-1 || fail "cgwctl tunnel rekey aws-1 failed"
		nap 1
		aws_sw --rekey --child aws-1 >/dev/null || fail "strongSwan could not rekey aws-1"
	done
	nap 1
	cgwctl tunnel rekey aws-1 ike || fail "cgwctl tunnel rekey aws-1 ike failed"
	nap 1
	aws_sw --rekey --ike aws-1 >/dev/null || fail "strongSwan could not rekey aws-1's IKE SA"
	wait "$ping_pid" || true
	tail -2 "$log"
	local lost
	lost=$(sed -n 's/.* \([0-9]*\)% packet loss.*/\1/p' "$log")
	nap 1
	local n
	n=$(ESP_SAS_COUNT)
	cgwctl status
	[[ $n == 4 ]] || fail "after the rekeys the gateway has $n ESP states, expected 4 (one pair per tunnel)"
	[[ $lost == 0 ]] || fail "pings lost during 4 CHILD SA rekeys: $lost%"
	local ikes
	ikes=$(aws_sw --list-sas | grep -c '^aws-1: #.*ESTABLISHED')
	[[ $ikes == 1 ]] || fail "after the IKE rekeys the AWS side has $ikes IKE SAs for aws-1"
	say "OK: 4 CHILD SA and 2 IKE SA rekeys on aws-1 (half by cgwd, half by the AWS side) under a 20/s ping: 0% loss, one SA pair per tunnel, one IKE SA"
}

# ---- CGW_LAB_EXPECT=up ------------------------------------------------------
# Tunnels and BGP up, seen from the AWS side, from the gateway's kernel and
# from the gateway itself, and traffic across.
aws_tunnels_up() {
	local sas
	sas=$(aws_sw --list-sas) || return 1
	has_all "$sas" \
		"aws-1: #[0-9]+, ESTABLISHED" "aws-2: #[0-9]+, ESTABLISHED" \
		"aws-1: #[0-9]+, reqid [0-9]+, INSTALLED" "aws-2: #[0-9]+, reqid [0-9]+, INSTALLED"
}
# Both sessions Established, and the LAN learned over both tunnels.
aws_bgp_up() {
	local out
	out=$(aws_birdc show protocols) || return 1
	has_all "$out" "aws_1 +BGP +[^ ]+ +up .*Established" "aws_2 +BGP +[^ ]+ +up .*Established" || return 1
	out=$(aws_birdc show route for "$LAN_HOST") || return 1
	has_all "$out" "${LAN_NET//./\\.} +unicast \\[aws_[12] " "unicast \\[aws_1 " "unicast \\[aws_2 "
}
# The gateway's kernel: one route to the VPC, via AWS's end of aws-1 (the
# lower MED) on vti1, from BGP (protocol bgp; the reference gateway's
# BIRD: protocol bird).
GW_ROUTE=""
gw_route_best() {
	GW_ROUTE=$(ip -n "$NS_GW" route show "$VPC_NET") || return 1
	[[ $GW_ROUTE =~ ^${VPC_NET//./\\.}\ (nhid\ [0-9]+\ )?via\ ${TUN_INSIDE[0]//./\\.}\.1\ dev\ vti1\ proto\ (bgp|bird)( |$) &&
		$GW_ROUTE != *$'\n'* ]]
}
gateway_pidname() {
	case $GATEWAY in
	cgwd) GWPID=cgwd ;;
	strongswan) GWPID=gw-charon ;;
	libreswan-frr) GWPID=pluto ;;
	*) GWPID="" ;;
	esac
}

# The reference gateway sees what AWS sends: the VPC prefix on both
# tunnels, MED 100 on aws-1 and 200 on aws-2, the best path via aws-1.
check_up_reference() {
	local out
	out=$(birdc -s "$REF_DIR/bird.ctl" show route for "$VPC_HOST" all)
	has_all "$out" "${VPC_NET//./\\.} +unicast \\[aws_1 [^]]*\\] \\*" \
		"BGP\\.med: ${TUN_MED[0]}" "BGP\\.med: ${TUN_MED[1]}" ||
		{ printf '%s\n' "$out" >&2; fail "reference gateway: expected $VPC_NET from both tunnels, MED ${TUN_MED[0]}/${TUN_MED[1]}, best via aws-1"; }
	say "OK: reference gateway learned $VPC_NET on both tunnels, MED ${TUN_MED[0]}/${TUN_MED[1]}, best via aws-1"
}

check_up_libreswan_frr() {
	local out
	out=$(vtysh_gw -c "show ip bgp $VPC_NET")
	has_all "$out" "Paths: \\(2 available, best #[12]" "${TUN_INSIDE[0]//./\\.}\\.1 from ${TUN_INSIDE[0]//./\\.}\\.1" \
		"metric ${TUN_MED[0]},.* best" "metric ${TUN_MED[1]}" ||
		{ printf '%s\n' "$out" >&2; fail "FRR: expected $VPC_NET from both tunnels, MED ${TUN_MED[0]}/${TUN_MED[1]}, best via aws-1"; }
	say "OK: FRR learned $VPC_NET on both tunnels, MED ${TUN_MED[0]}/${TUN_MED[1]}, best via aws-1"
}

# cgwd's BGP routes: {"routes": [...], "local": [...]}.
bgp_routes_json() {
	local out
	out=$(cgwctl bgp routes --json) || return 1
	jq -c '.result? // .' <<<"$out"
}

cgwd_bgp_up() {
	local json
	json=$(cgwctl status --json) || return 1
	[[ $(jq -r '[(.tunnels[] | select(.state == "up") | .name)] | sort | join(",")' <<<"$json") == aws-1,aws-2 &&
	   $(jq -r '[(.neighbors[] | select(.state == "Established") | .name)] | sort | join(",")' <<<"$json") == aws-1,aws-2 ]]
}

# cgwd's own view: tunnels up, sessions Established with prefixes both
# ways, the VPC prefix with two paths and the best (installed) via aws-1,
# the LAN announced, traffic counted.
check_up_cgwd() {
	local json got routes
	wait_until "cgwctl status: both tunnels up, both neighbors Established" "$STEP_TIMEOUT" cgwd cgwd_bgp_up
	json=$(cgwctl status --json)
	got=$(jq -r '[.neighbors[] | "\(.name) \(.address) \(.prefixes_received)/\(.prefixes_accepted)/\(.prefixes_best) \(.prefixes_advertised)"] | sort | join(", ")' <<<"$json")
	[[ $got == "aws-1 ${TUN_INSIDE[0]}.1 1/1/1 1, aws-2 ${TUN_INSIDE[1]}.1 1/1/0 1" ]] ||
		{ cgwctl status; fail "cgwctl status: neighbors (name address received/accepted/best advertised): $got; expected aws-1 1/1/1 1, aws-2 1/1/0 1"; }
	say "OK: cgwctl status: aws-1, aws-2 up; neighbors Established, prefixes received/accepted/best, advertised: $got"
	routes=$(bgp_routes_json) || fail "cgwctl bgp routes --json failed"
	got=$(jq -r --arg p "$VPC_NET" '[.routes[] | select(.prefix == $p) |
		"installed=\(.installed) paths=\(.paths | length)",
		(.paths | sort_by(.peer)[] | "\(.peer) via \(.next_hop) med \(.med // "-") as-path \(.as_path)\(if .best then " best" else "" end)")] | join("; ")' <<<"$routes")
	[[ $got == "installed=true paths=2; aws-1 via ${TUN_INSIDE[0]}.1 med ${TUN_MED[0]} as-path $AWS_ASN best; aws-2 via ${TUN_INSIDE[1]}.1 med ${TUN_MED[1]} as-path $AWS_ASN" ]] ||
		{ printf '%s\n' "$routes" >&2; fail "cgwd's Loc-RIB for $VPC_NET: $got"; }
	say "OK: cgwd's Loc-RIB: $VPC_NET $got"
	[[ $(jq -r '[.local[].prefix] | join(",")' <<<"$routes") == "$LAN_NET" ]] ||
		{ printf '%s\n' "$routes" >&2; fail "cgwd does not list $LAN_NET as announced"; }
	[[ $GW_ROUTE =~ proto\ bgp\ metric\ 20 ]] ||
		fail "the kernel route is not protocol bgp, metric 20: $GW_ROUTE"
	json=$(cgwctl status --json)
	[[ $(jq '[.tunnels[] | select(.name == "aws-1" and .packets_in > 0 and .packets_out > 0)] | length' \
		<<<"$json") == 1 ]] || fail "cgwctl status shows no traffic counted on aws-1"
	say "OK: cgwd announces $LAN_NET; the kernel route is protocol bgp, metric 20; aws-1 counts traffic"
}

# Start-up times from the monitors: both CHILD SAs, and each tunnel's
# CHILD SA -> the route to the VPC through it in the kernel.
RES_UP=""
up_times() {
	(( MONITORS )) || return 0
	mon_poll
	local sa1="" sa2="" r_any="" r1="" line=""
	ev_find EV_SA "$T_GW_START" "^up 0$" && sa1=$EV_MS
	ev_find EV_SA "$T_GW_START" "^up 1$" && sa2=$EV_MS
	ev_find EV_GW_ROUTE "$T_GW_START" "^vti[12]$" && r_any=$EV_MS
	ev_find EV_GW_ROUTE "$T_GW_START" "^vti1$" && r1=$EV_MS
	[[ -n $sa1 && -n $sa2 && -n $r_any && -n $r1 ]] ||
		{ say "the monitors missed a start-up event (SAs ${sa1:--}/${sa2:--}, route ${r_any:--}/${r1:--})"; return 0; }
	local both=$(( sa1 > sa2 ? sa1 : sa2 )) first=$(( sa1 < sa2 ? sa1 : sa2 ))
	fmt_s $(( both - T_GW_START )); local s_sas=$S
	fmt_s $(( r_any - T_GW_START )); local s_any=$S
	fmt_s $(( r1 - T_GW_START )); local s_r1=$S
	fmt_s $(( r1 - sa1 )); local s_a=$S
	fmt_s $(( r_any - first )); local s_b=$S
	say "start-up: gateway start -> both CHILD SAs ${s_sas} s; -> first route to $VPC_NET ${s_any} s (${s_b} s after the first CHILD SA); aws-1's CHILD SA -> route via vti1 ${s_a} s (at ${s_r1} s)"
	RES_UP="\"start_to_both_sas_s\":$s_sas,\"start_to_first_route_s\":$s_any,\"first_sa_to_first_route_s\":$s_b,\"start_to_route_vti1_s\":$s_r1,\"sa1_to_route_vti1_s\":$s_a"
}

check_up() {
	(( HAVE_VTI )) || fail "CGW_LAB_EXPECT=$EXPECT needs ESP and VTI in the kernel (run through lab/run.sh)"
	section "waiting for the tunnels and BGP (up to ${UP_TIMEOUT}s)"
	gateway_pidname
	wait_until "both IKE and CHILD SAs on the AWS side" "$UP_TIMEOUT" "$GWPID" aws_tunnels_up
	say "both tunnels ESTABLISHED with CHILD SAs INSTALLED on the AWS side"
	wait_until "both BGP sessions Established on the AWS side, $LAN_NET learned over both" "$UP_TIMEOUT" "$GWPID" aws_bgp_up
	say "OK: AWS side: both BGP sessions Established; $LAN_NET learned over aws-1 and aws-2"
	wait_until "$VPC_NET via ${TUN_INSIDE[0]}.1 on vti1 in the gateway's kernel" "$UP_TIMEOUT" "$GWPID" gw_route_best
	say "OK: gateway's kernel: $GW_ROUTE"
	up_times
	measure_converge
	aws_sw --list-sas
	aws_birdc show route
	section "ping lan ($LAN_HOST) -> vpc ($VPC_HOST)"
	local i ok=0
	for (( i = 0; i < 10; i++ )); do
		if in_ns "$NS_LAN" ping -c 3 -i 0.2 -W 2 "$VPC_HOST"; then ok=1; break; fi
		nap 1
	done
	(( ok )) || fail "no ping reply from $VPC_HOST across the tunnel"
	case $GATEWAY in
	cgwd) check_up_cgwd ;;
	strongswan) check_up_reference ;;
	libreswan-frr) check_up_libreswan_frr ;;
	esac
	say "OK: tunnels up, BGP Established, $VPC_NET via aws-1, ping lan -> vpc answers"
}


# ---- CGW_LAB_EXPECT=failover -----------------------------------------------
# aws-1's outer path fails one way or the other on the internet: nft in the
# AWS namespace (the customer's internet router and AWS's endpoints) drops
# everything between the gateway's outside address and AWS's end of aws-1,
# both ways. aws-2 is untouched.
blackhole_on() {
	in_ns "$NS_AWS" nft -f - <<-EOF
	table inet cgwlab_blackhole {
	  chain in {
	    type filter hook input priority -10; policy accept;
	    ip saddr $GW_WAN ip daddr ${TUN_AWS[0]} drop
	  }
	  chain out {
	    type filter hook output priority -10; policy accept;
	    ip saddr ${TUN_AWS[0]} ip daddr $GW_WAN drop
	  }
	}
	EOF
}
blackhole_off() { in_ns "$NS_AWS" nft delete table inet cgwlab_blackhole; }

# A timestamped ping lan -> vpc at PING_RATE per second. It is not read
# as it runs (bash under TCG reads a line slower than 100 come): ping_last
# looks at its last line, ping_account at the whole output once it ended.
ping_start() {
	local file=$1 ival
	printf -v ival '0.%03d' $(( 1000 / PING_RATE ))
	: >"$file"
	in_ns "$NS_LAN" ping -n -D -i "$ival" "$VPC_HOST" >"$file" 2>&1 &
	PIDS[ping]=$!
	PING_FILE=$file
	wait_until "the first ping reply from $VPC_HOST" 20 ping ping_last 0
}
# ping_last FROM-MS: the last line is a reply stamped after FROM-MS.
ping_last() {
	local l
	l=$(tail -n 1 "$PING_FILE") || return 1
	[[ $l =~ ^\[([0-9]+)\.([0-9]{3})[0-9]*\]\ .*bytes\ from ]] || return 1
	(( 10#${BASH_REMATCH[1]}${BASH_REMATCH[2]} > $1 ))
}
# ping_stop: stop it: SIGALRM, which ping takes like a Ctrl-C (a
# background job ignores SIGINT).
ping_stop() {
	local pid=${PIDS[ping]:-}
	[[ -n $pid ]] || return 0
	unset "PIDS[ping]"
	kill -ALRM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
# ping_account FILE FROM-MS: P_SENT (the highest sequence number
# answered), P_LOST (those below it without an answer: packets still in
# flight when ping stopped do not count), P_MISSING (their ranges),
# P_RATE (packets per second ping managed: under TCG it falls short of
# what -i asks), and
# the first reply after FROM-MS that ends a silence of more than a second:
# P_RESUME (its time, ms) and P_GAP (the silence, ms; empty if none).
ping_account() {
	local out
	out=$(awk -v from="$2" '
		/bytes from/ && !/DUP!/ {
			if (!match($0, /^\[[0-9]+\.[0-9]+\]/)) next
			t = substr($0, 2, RLENGTH - 2); split(t, p, ".")
			ms = p[1] * 1000 + int(substr(p[2] "000", 1, 3))
			if (!match($0, /icmp_seq=[0-9]+/)) next
			seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
			if (!(seq in seen)) { seen[seq] = 1; got++ }
			if (first_ms == "") { first_ms = ms; first_seq = seq }
			if (seq > top) top = seq
			if (resume == "" && last > 0 && ms > from && ms - last > 1000) { resume = ms; gap = ms - last }
			last = ms
		}
		END {
			miss = ""; n = 0
			for (i = 1; i <= top; i++) {
				if (i in seen) continue
				j = i; while (j + 1 <= top && !((j + 1) in seen)) j++
				if (n++ < 5) miss = miss (miss == "" ? "" : ", ") i ".." j
				i = j
			}
			rate = (last > first_ms) ? (top - first_seq) * 1000 / (last - first_ms) : 0
			printf "%d %d %d %s %s %s\n", top, top - got, rate, (resume == "" ? "-" : sprintf("%.0f", resume)),
				(gap == "" ? "-" : sprintf("%.0f", gap)), (miss == "" ? "-" : miss)
		}' "$1") || return 1
	read -r P_SENT P_LOST P_RATE P_RESUME P_GAP P_MISSING <<<"$out"
	[[ $P_RESUME == - ]] && P_RESUME=""
	[[ $P_GAP == - ]] && P_GAP=""
	[[ $P_MISSING == - ]] && P_MISSING=""
	return 0
}

# first_log_ms FILE FROM-MS ERE: the first line of FILE stamped "HH:MM:SS.mmm"
# (or "... HH:MM:SS.mmm" BIRD's way) at or after FROM-MS that matches ERE:
# LOG_MS, LOG_LINE.
first_log_ms() {
	local file=$1 from=$2 re=$3 l
	LOG_MS="" LOG_LINE=""
	[[ -r $file ]] || return 1
	while IFS= read -r l; do
		[[ $l =~ $re ]] || continue
		[[ $l =~ ([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3}) ]] || continue
		tod_ms "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}"
		(( MS >= from )) || continue
		LOG_MS=$MS LOG_LINE=$l
		return 0
	done <"$file"
	return 1
}

# Both ends have BGP up on aws-1 again.
aws1_bgp_back() {
	local out
	out=$(aws_birdc show protocols) || return 1
	has_all "$out" "aws_1 +BGP +[^ ]+ +up .*Established" || return 1
	[[ $GATEWAY == cgwd ]] || return 0
	cgwd_bgp_up
}

FO_TIMEOUT=${CGW_LAB_FAILOVER_TIMEOUT:-150}
RES_FO=""
# A figure outside what cgwd promises fails the lab, unless
# CGW_LAB_FAILOVER_LIMITS=0 (a benchmark keeps measuring; the misses go
# into the result line).
LIMITS_MISSED=()
limit() {
	[[ ${CGW_LAB_FAILOVER_LIMITS:-1} == 0 ]] || fail "$*"
	say "NOT OK (limit not enforced): $*"
	LIMITS_MISSED+=("$*")
}
check_failover() {
	section "failover: aws-1's outer path blackholed under a ping lan -> vpc (-i for ${PING_RATE}/s)"
	gateway_pidname
	mon_poll
	[[ $GW_ROUTE_DEV == vti1 && $AWS_ROUTE_DEV == vti1 ]] ||
		fail "before the blackhole both sides must route over aws-1: gateway's route to $VPC_NET via ${GW_ROUTE_DEV}, AWS side's to $LAN_NET via ${AWS_ROUTE_DEV}"
	# nft's first start reads it and its libraries over 9p (seconds under
	# TCG): start it once before anything is timed. The drop is timed
	# when nft returns, its rules committed.
	in_ns "$NS_AWS" nft list tables >/dev/null
	local plog=$STATE/ping-failover.log
	ping_start "$plog"
	nap 2
	now_ms
	local t_nft=$NOW_MS
	blackhole_on
	now_ms
	local t_bh=$NOW_MS
	fmt_s $(( t_bh - t_nft ))
	say "blackhole: everything between $GW_WAN and ${TUN_AWS[0]} (aws-1) dropped in $NS_AWS (nft took $S s; times from its return)"
	wait_event "the gateway's route to $VPC_NET via vti2" "$FO_TIMEOUT" "$GWPID" EV_GW_ROUTE "$t_bh" '^vti2$' ||
		fail "failover: the gateway's route to $VPC_NET did not move to vti2 within ${FO_TIMEOUT}s"
	local t_gw=$EV_MS
	fmt_s $(( t_gw - t_bh )); local s_gw=$S
	say "gateway: $VPC_NET via vti2 after $s_gw s"
	wait_event "the AWS side's route to $LAN_NET via vti2" "$FO_TIMEOUT" "" EV_AWS_ROUTE "$t_bh" '^vti2$' ||
		fail "failover: the AWS side's route to $LAN_NET did not move to vti2 within ${FO_TIMEOUT}s"
	local t_aws=$EV_MS
	fmt_s $(( t_aws - t_bh )); local s_aws=$S
	local why="its BGP hold timer"
	if first_log_ms "$AWS_DIR/updown.log" "$(( t_bh - 1000 ))" "aws-1: tunnel down" && (( LOG_MS <= t_aws )); then
		why="its IKE side's DPD (updown hook)"
	fi
	say "AWS side: $LAN_NET via vti2 after $s_aws s ($why)"
	local later=$(( t_gw > t_aws ? t_gw : t_aws ))
	wait_until "the ping to resume" 30 "" ping_last "$later"
	nap 2
	ping_stop
	ping_account "$plog" "$t_bh"
	[[ -n $P_RESUME ]] || fail "failover: no gap found in the ping's replies ($plog)"
	local lost=$P_LOST sent=$P_SENT t_res=$P_RESUME rate=$P_RATE
	fmt_s "$P_GAP"; local s_gap=$S
	fmt_s $(( t_res - t_bh )); local s_res=$S
	local dead="" s_dead=null s_dead_route=null
	if [[ $GATEWAY == cgwd ]] && first_log_ms "$STATE/cgwd.log" "$(( t_bh - 1000 ))" "aws-1: peer .* declared dead"; then
		dead=${LOG_LINE#* }
		dead=${dead#cgwd: }
		fmt_s $(( LOG_MS - t_bh )); s_dead=$S
		fmt_s $(( t_gw - LOG_MS )); s_dead_route=$S
		say "cgwd: ${dead} (after $s_dead s; the route moved $s_dead_route s later)"
	fi
	say "OK: failover: the ping (${rate}/s) resumed after $s_res s: $lost of $sent pings lost, a gap of $s_gap s (gateway switched at $s_gw s, AWS side at $s_aws s)"
	if [[ $GATEWAY == cgwd ]]; then
		(( t_gw - t_bh <= 10000 )) ||
			limit "cgwd: the route moved to vti2 $s_gw s after the blackhole: expected within 10 s (liveness probe: 2-4 s + 3.5 s)"
		[[ -n $dead ]] || fail "cgwd never declared aws-1's peer dead"
		(( t_gw - LOG_MS <= 1500 )) ||
			limit "cgwd: the route moved $s_dead_route s after the tunnel was declared dead: expected at once"
	fi
	(( t_res >= later - 500 && t_res <= later + 5000 )) ||
		limit "the ping resumed at $s_res s, not right after both sides switched (gateway $s_gw s, AWS $s_aws s)"

	section "restore: aws-1's path comes back"
	plog=$STATE/ping-restore.log
	ping_start "$plog"
	nap 1
	now_ms
	blackhole_off
	now_ms
	local t_r=$NOW_MS
	say "blackhole removed"
	wait_event "the gateway's route to $VPC_NET back via vti1" "$FO_TIMEOUT" "$GWPID" EV_GW_ROUTE "$t_r" '^vti1$' ||
		fail "restore: the gateway's route to $VPC_NET did not come back to vti1 within ${FO_TIMEOUT}s"
	local t_gwb=$EV_MS
	fmt_s $(( t_gwb - t_r )); local s_gwb=$S
	local t_sa="" s_sa=null s_sa_route=null
	if ev_find EV_SA "$t_r" '^up 0$' && (( EV_MS <= t_gwb )); then
		t_sa=$EV_MS
		fmt_s $(( t_sa - t_r )); s_sa=$S
		fmt_s $(( t_gwb - t_sa )); s_sa_route=$S
	fi
	wait_event "the AWS side's route to $LAN_NET back via vti1" "$FO_TIMEOUT" "" EV_AWS_ROUTE "$t_r" '^vti1$' ||
		fail "restore: the AWS side's route to $LAN_NET did not come back to vti1 within ${FO_TIMEOUT}s"
	local t_awsb=$EV_MS
	fmt_s $(( t_awsb - t_r )); local s_awsb=$S
	wait_until "BGP on aws-1 Established again at both ends" 30 "$GWPID" aws1_bgp_back
	nap 3
	ping_stop
	ping_account "$plog" "$t_r"
	local lost2=$P_LOST sent2=$P_SENT missing2=$P_MISSING rate2=$P_RATE
	mon_poll
	local e dels="" adels=""
	for e in "${EV_GW_ROUTE_DEL[@]}"; do (( ${e%% *} >= t_bh )) && dels+="${dels:+, }${e#* }"; done
	for e in "${EV_AWS_ROUTE_DEL[@]}"; do (( ${e%% *} >= t_bh )) && adels+="${adels:+, }${e#* }"; done
	say "restore: aws-1's CHILD SA installed again after ${s_sa/null/-} s; the gateway's route back via vti1 after $s_gwb s (${s_sa_route/null/-} s after the CHILD SA), the AWS side's after $s_awsb s; $lost2 of $sent2 pings (${rate2}/s) lost${missing2:+ (icmp_seq $missing2)}"
	say "route changes by replacement: gateway ${dels:+not all: deletes of }${dels:-all}, AWS side ${adels:+not all: deletes of }${adels:-all}"
	if [[ $GATEWAY == cgwd ]]; then
		[[ -n $t_sa ]] || limit "restore: no new CHILD SA for aws-1 seen before the route came back"
		(( lost2 == 0 )) ||
			limit "restore: $lost2 pings lost (icmp_seq $missing2) while the routes moved back to aws-1"
		[[ -z $dels ]] ||
			limit "cgwd deleted its route to $VPC_NET ($dels) instead of replacing it"
		(( ${#LIMITS_MISSED[@]} )) ||
			say "OK: restore: the route moved back to vti1 without loss (replaced, never deleted)"
	fi
	RES_FO="\"ping_interval_rate\":$PING_RATE,\"ping_rate\":$rate,\"blackhole_to_gateway_switch_s\":$s_gw,\"blackhole_to_declared_dead_s\":$s_dead,\"declared_dead_to_route_s\":$s_dead_route,\"blackhole_to_aws_switch_s\":$s_aws,\"aws_switch_by\":\"$why\",\"blackhole_to_ping_resumed_s\":$s_res,\"failover_lost\":$lost,\"failover_sent\":$sent,\"failover_gap_s\":$s_gap,\"restore_to_sa_s\":$s_sa,\"restore_sa_to_route_s\":$s_sa_route,\"restore_to_gateway_route_s\":$s_gwb,\"restore_to_aws_route_s\":$s_awsb,\"restore_lost\":$lost2,\"restore_sent\":$sent2,\"gateway_route_deletes\":\"$dels\",\"aws_route_deletes\":\"$adels\",\"limits_missed\":$(printf '%s\n' "${LIMITS_MISSED[@]}" | jq -R . | jq -s -c 'map(select(length > 0))')"
}

hold() {
	section "the lab is up; Ctrl-C tears it down"
	echo "  namespaces:    ${ALL_NS[*]}"
	echo "  a shell:       ip netns exec $NS_GW bash     (or $NS_LAN, $NS_AWS, $NS_VPC)"
	if [[ $GATEWAY == cgwd ]]; then
		echo "  cgwd status:   ip netns exec $NS_GW $CGWCTL -s $CGWD_SOCK status"
		echo "  cgwd log:      $STATE/cgwd.log     (config: $STATE/cgw.conf)"
	elif [[ $GATEWAY == strongswan ]]; then
		echo "  gateway IKE:   $STATE/bin/gw-swanctl --list-sas     (log: $REF_DIR/charon.log)"
		echo "  gateway BGP:   birdc -s $REF_DIR/bird.ctl show protocols all"
	elif [[ $GATEWAY == libreswan-frr ]]; then
		echo "  gateway IKE:   ipsec whack --ctlsocket $LSW_DIR/run/pluto.ctl --trafficstatus     (log: $LSW_DIR/pluto.log)"
		echo "  gateway BGP:   vtysh --vty_socket $FRR_DIR -c 'show bgp summary'     (logs: $FRR_DIR/*.log)"
	fi
	echo "  AWS IKE:       $STATE/bin/aws-swanctl --list-sas     (log: $AWS_DIR/charon.log)"
	echo "  AWS BGP:       birdc -s $AWS_DIR/bird.ctl show protocols all     (log: $AWS_DIR/bird.log)"
	echo "  traffic:       ip netns exec $NS_LAN ping $VPC_HOST"
	while :; do
		local pid name
		wait -n -p pid "${PIDS[@]}" || true
		for name in "${!PIDS[@]}"; do
			[[ ${PIDS[$name]} == "${pid:-}" ]] || continue
			fail "$name (pid $pid) exited"
		done
	done
}

# CGW_LAB_RUN=SCRIPT: run SCRIPT against the running lab. Everything a
# script needs to find its way is exported as LAB_*; the lab is torn down
# after it returns, whatever it did.
run_hook() {
	local script=$1 name rc=0
	section "CGW_LAB_RUN: $script"
	export LAB_STATE=$STATE LAB_GATEWAY=$GATEWAY LAB_BUILD=$BUILD
	export LAB_NS_LAN=$NS_LAN LAB_NS_GW=$NS_GW LAB_NS_AWS=$NS_AWS LAB_NS_VPC=$NS_VPC
	export LAB_LAN_HOST=$LAN_HOST LAB_LAN_NET=$LAN_NET LAB_GW_WAN=$GW_WAN
	export LAB_VPC_HOST=$VPC_HOST LAB_VPC_NET=$VPC_NET
	export LAB_GW_ASN=$GW_ASN LAB_AWS_ASN=$AWS_ASN
	export LAB_TUN_NAMES="${TUN_NAME[*]}" LAB_TUN_AWS="${TUN_AWS[*]}"
	export LAB_TUN_INSIDE="${TUN_INSIDE[*]}" LAB_TUN_MARKS="${TUN_MARK[*]}"
	export LAB_CGWD=$CGWD LAB_CGWCTL=$CGWCTL LAB_CGWD_SOCK=$CGWD_SOCK
	export LAB_CGWD_CONF=$STATE/cgw.conf LAB_CGWD_LOG=$STATE/cgwd.log
	export LAB_AWS_DIR=$AWS_DIR LAB_AWS_SWANCTL=$STATE/bin/aws-swanctl
	export LAB_AWS_BIRDC="birdc -s $AWS_DIR/bird.ctl"
	for name in "${!PIDS[@]}"; do
		export "LAB_PID_${name//[^A-Za-z0-9]/_}=${PIDS[$name]}"
	done
	bash "$script" || rc=$?
	(( rc == 0 )) && { say "CGW_LAB_RUN: $script passed"; return 0; }
	(( rc == 77 )) && { say "CGW_LAB_RUN: $script skipped"; exit 77; }
	fail "CGW_LAB_RUN: $script exited $rc"
}

# write_swanctl_helper NAME DIR: $STATE/bin/NAME runs swanctl against the
# charon whose files are in DIR (NAME --list-sas, NAME --initiate ...).
write_swanctl_helper() {
	mkdir -p "$STATE/bin"
	cat >"$STATE/bin/$1" <<-EOF
	#!/bin/sh
	# swanctl for the lab's charon in $2
	cmd=\$1; shift
	STRONGSWAN_CONF=$2/strongswan.conf SWANCTL_DIR=$2/swanctl \\
	  exec swanctl "\$cmd" --uri unix://$2/charon.vici "\$@"
	EOF
	chmod 0755 "$STATE/bin/$1"
}

# ---------------------------------------------------------------- main

main() {
	preflight
	# One lab at a time; leftovers of a killed lab are cleaned up.
	exec {LOCK_FD}>"$STATE.lock"
	flock -n "$LOCK_FD" || fail "another lab is running (lock $STATE.lock held)"
	delete_namespaces
	rm -rf "$STATE"
	mkdir -m 0700 "$STATE"
	trap teardown EXIT
	mkfifo -m 0600 "$STATE/.nap"
	exec {SLEEP_FD}<>"$STATE/.nap"
	trap 'exit 130' INT
	trap 'exit 143' TERM

	say "cgw lab: gateway=$GATEWAY expect=$EXPECT aws-start=$AWS_START kernel $(uname -r)"
	setup_network
	setup_aws_vtis

	local t
	for t in "${TUN_NAME[@]}"; do
		(umask 077; gen_psk >"$STATE/$t.psk")
	done
	say "PSKs written to $STATE/aws-1.psk, $STATE/aws-2.psk (0600)"

	section "emulated AWS side"
	setup_aws_strongswan
	setup_aws_bird
	load_charon aws-charon "$AWS_DIR" "${TUN_NAME[@]}"
	wait_bird aws-bird "$AWS_DIR" aws_1 aws_2
	write_swanctl_helper aws-swanctl "$AWS_DIR"
	warm_up_esp

	if [[ ($EXPECT == up || $EXPECT == failover) && $GATEWAY != none ]] && (( HAVE_VTI )); then
		start_monitors
		measure_before_gateway
	fi
	case $GATEWAY in
	cgwd)
		section "gateway: cgwd"
		start_cgwd
		;;
	strongswan)
		section "gateway: reference strongSwan + BIRD"
		start_reference_gateway
		;;
	libreswan-frr)
		section "gateway: Libreswan + FRR"
		start_libreswan_frr
		;;
	none)
		;;
	esac

	report_start
	section "checks"
	check_configured
	case $EXPECT in
	tunnels)
		check_tunnels
		;;
	up)
		check_up
		measure_idle
		[[ $GATEWAY == cgwd && ${CGW_LAB_REKEYS:-1} == 1 ]] && check_rekeys
		;;
	failover)
		check_up
		check_failover
		;;
	esac
	report_end
	[[ $EXPECT == up || $EXPECT == failover ]] && result_line
	say "lab ready"

	[[ -n ${CGW_LAB_RUN:-} ]] && run_hook "$CGW_LAB_RUN"
	if [[ $HOLD == 1 ]]; then
		hold
	fi
	say "PASS"
}

main "$@"

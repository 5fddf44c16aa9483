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
#                     | (made by cgwd)   |    | vti1 169.254.10.1/30 key 100|
#                     +------------------+    | vti2 169.254.11.1/30 key 200|
#                                             +-----------------------------+
#
#  tunnel aws-1: IKEv2 203.0.113.10 <-> 198.51.100.1,   inside 169.254.10.0/30,
#                mark 100, BGP 65000 <-> 64512, AWS exports 172.20.0.0/16 MED 100
#  tunnel aws-2: IKEv2 203.0.113.10 <-> 198.51.100.129, inside 169.254.11.0/30,
#                mark 200, BGP 65000 <-> 64512, AWS exports 172.20.0.0/16 MED 200
#
# The aws namespace is also the customer's internet router (203.0.113.1):
# the gateway reaches both AWS endpoints through its default route.
# The AWS side behaves like AWS does by default: it never initiates IKE
# (startup action "add"), answers DPD, sends its own DPD after 10 s,
# holds BGP for 30 s, and has graceful restart off.
#
# Usage: lab.sh (as root; lab/run.sh runs it in a VM when the host kernel
# lacks ESP/VTI). Environment:
#   CGW_BUILD_DIR       build directory with daemon/cgwd, cgwctl/cgwctl
#                       (default: <source>/build)
#   CGW_LAB_HOLD=1      keep the lab up until Ctrl-C (prints how to use it)
#   CGW_LAB_EXPECT      what to check before exiting: "configured" (both
#                       tunnels and neighbors listed), "tunnels" (default:
#                       both tunnels up, ESP across each inside /30) or
#                       "up" (tunnels and BGP up, ping lan -> vpc)
#   CGW_LAB_GATEWAY     "cgwd" (default), "strongswan" (a reference gateway
#                       made of strongSwan + BIRD instead of cgwd, to check
#                       the lab itself), or "none" (AWS side only)
#   CGW_LAB_AWS_START   AWS side's start_action: none (default, AWS "add"),
#                       trap or start (AWS initiates)
#   CGW_LAB_AWS_IKE, CGW_LAB_AWS_ESP   AWS side's proposals (swanctl syntax)
#   CGW_LAB_CGWD_ARGS   extra cgwd arguments, e.g. "-v -d all"
#   CGW_LAB_TIMEOUT     seconds allowed per start-up step (default 60)
#   CGW_LAB_UP_TIMEOUT  seconds allowed for tunnels/BGP to come up (default 120)
#   CGW_LAB_STATE       state directory (default /run/cgw-lab)
#   CGW_LAB_PREFIX      namespace name prefix (default "cgwlab-")
#   CGW_LAB_LOGS=DIR    copy all logs and configs there (PSKs excluded) at exit

set -Eeuo pipefail
shopt -s nullglob

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$LAB_DIR")
BUILD=${CGW_BUILD_DIR:-$SRC_DIR/build}
STATE=${CGW_LAB_STATE:-/run/cgw-lab}
P=${CGW_LAB_PREFIX:-cgwlab-}
HOLD=${CGW_LAB_HOLD:-0}
EXPECT=${CGW_LAB_EXPECT:-tunnels}
GATEWAY=${CGW_LAB_GATEWAY:-cgwd}
AWS_START=${CGW_LAB_AWS_START:-none}
STEP_TIMEOUT=${CGW_LAB_TIMEOUT:-60}
UP_TIMEOUT=${CGW_LAB_UP_TIMEOUT:-120}

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
	for f in "$AWS_DIR/charon.log" "$AWS_DIR/bird.log" "$STATE/cgwd.log" \
		 "$REF_DIR/charon.log" "$REF_DIR/bird.log"; do
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
	for name in cgwd gw-bird gw-charon aws-bird aws-charon; do
		stop_pid "$name"
	done
	for name in "${!PIDS[@]}"; do
		stop_pid "$name"
	done
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
	case $EXPECT in configured|tunnels|up) ;; *) fail "CGW_LAB_EXPECT must be configured, tunnels or up";; esac
	case $GATEWAY in cgwd|strongswan|none) ;; *) fail "CGW_LAB_GATEWAY must be cgwd, strongswan or none";; esac
	case $AWS_START in none|trap|start) ;; *) fail "CGW_LAB_AWS_START must be none, trap or start";; esac
	local missing=() b
	for b in ip swanctl "$CHARON" bird birdc jq ping; do
		command -v "$b" >/dev/null || missing+=("$b")
	done
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
	  load = random nonce openssl kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici
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

# swanctl_conn NAME LOCAL REMOTE MARK START IKE ESP: one route-based tunnel.
swanctl_conn() {
	local name=$1 local=$2 remote=$3 mark=$4 start=$5 ike=$6 esp=$7
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
	        close_action = none
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

setup_aws_strongswan() {
	write_strongswan_conf "$AWS_DIR"
	local i conns="" secrets=""
	for i in 0 1; do
		conns+=$(swanctl_conn "${TUN_NAME[i]}" "${TUN_AWS[i]}" "$GW_WAN" \
			"${TUN_MARK[i]}" "$AWS_START" "$AWS_IKE" "$AWS_ESP")$'\n'
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
	timeformat protocol iso long;

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

start_cgwd() {
	local conf
	conf=$(<"$LAB_DIR/cgw.conf.in")
	conf=${conf//@STATE@/$STATE}
	if [[ $EXPECT == up ]]; then
		conf=${conf//@ROUTES1@/}
		conf=${conf//@ROUTES2@/}
	else
		conf=${conf//@ROUTES1@/route = $VPC_NET$'\n'route-metric = 100}
		conf=${conf//@ROUTES2@/route = $VPC_NET$'\n'route-metric = 200}
	fi
	(umask 077; printf '%s\n' "$conf" >"$STATE/cgw.conf")
	local out
	out=$("$CGWD" -n -c "$STATE/cgw.conf" 2>&1) ||
		{ printf '%s\n' "$out" >&2; fail "cgwd -n: the lab's cgw.conf does not pass cgwd's check"; }
	# shellcheck disable=SC2086  # CGW_LAB_CGWD_ARGS: words, e.g. "-v -d all"
	setsid ip netns exec "$NS_GW" "$CGWD" -c "$STATE/cgw.conf" ${CGW_LAB_CGWD_ARGS:-} \
		>"$STATE/cgwd.log" 2>&1 &
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

# ---------------------------------------------------------------- report

report() {
	section "strongSwan (AWS side)"
	aws_sw --version --daemon | grep -v '^loaded plugins' || true
	aws_sw --list-conns | grep -E '^[^ ]|^ *(local|remote):|^ *[^ ]+: TUNNEL|^ *(local|remote) (TS|ts)' || true
	aws_sw --list-sas || true
	section "BIRD (AWS side)"
	aws_birdc show protocols || true
	if [[ $GATEWAY == cgwd ]]; then
		section "cgwctl status"
		cgwctl status || true
	fi
}

# ---------------------------------------------------------------- checks

# This milestone: cgwd knows both tunnels and both neighbors.
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
	if [[ $got != "aws-1,aws-2 2" ]]; then
		printf '%s\n' "$json" >&2
		fail "expected tunnels aws-1,aws-2 and 2 neighbors with remote_as 64512; cgwctl status --json gave: $got"
	fi
	say "OK: cgwctl status lists tunnels aws-1, aws-2 and 2 neighbors (remote AS 64512)"
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

# ---- LATER MILESTONES (CGW_LAB_EXPECT=up) ----------------------------------
# Tunnels up and traffic across. Everything here is observed from the AWS
# side and the hosts, so it does not depend on cgwd's status format; when
# cgwd has IKE and BGP, make "up" the default and add cgwd's own view
# (tunnel state, SA counters, Established neighbors) to check_up_cgwd.
aws_tunnels_up() {
	local sas
	sas=$(aws_sw --list-sas) || return 1
	has_all "$sas" \
		"aws-1: #[0-9]+, ESTABLISHED" "aws-2: #[0-9]+, ESTABLISHED" \
		"aws-1: #[0-9]+, reqid [0-9]+, INSTALLED" "aws-2: #[0-9]+, reqid [0-9]+, INSTALLED"
}
aws_bgp_up() {
	local out
	out=$(aws_birdc show protocols) || return 1
	has_all "$out" "aws_1 +BGP +[^ ]+ +up .*Established" "aws_2 +BGP +[^ ]+ +up .*Established" || return 1
	out=$(aws_birdc show route for "$LAN_HOST") || return 1
	[[ $out =~ ${LAN_NET%/*}/24 ]]
}
# The reference gateway sees what AWS sends: the VPC prefix on both
# tunnels, MED 100 on aws-1 and 200 on aws-2, the best path via aws-1.
check_up_reference() {
	[[ $GATEWAY == strongswan ]] || return 0
	local out
	out=$(birdc -s "$REF_DIR/bird.ctl" show route for "$VPC_HOST" all)
	has_all "$out" "${VPC_NET//./\\.} +unicast \\[aws_1 [^]]*\\] \\*" \
		"BGP\\.med: ${TUN_MED[0]}" "BGP\\.med: ${TUN_MED[1]}" ||
		{ printf '%s\n' "$out" >&2; fail "reference gateway: expected $VPC_NET from both tunnels, MED ${TUN_MED[0]}/${TUN_MED[1]}, best via aws-1"; }
	say "reference gateway learned $VPC_NET on both tunnels, MED ${TUN_MED[0]}/${TUN_MED[1]}, best via aws-1"
}

check_up_cgwd() {
	[[ $GATEWAY == cgwd ]] || return 0
	# TODO(milestone IKE/BGP): check cgwctl status --json: both tunnels up
	# with a CHILD SA, both neighbors Established, 172.20.0.0/16 learned
	# via 169.254.10.1 (lower MED), counters non-zero after the ping.
	:
}
check_up() {
	(( HAVE_VTI )) || fail "CGW_LAB_EXPECT=up needs ESP and VTI in the kernel (run through lab/run.sh)"
	section "waiting for the tunnels and BGP (up to ${UP_TIMEOUT}s)"
	local gwpid=""
	[[ $GATEWAY == cgwd ]] && gwpid=cgwd
	wait_until "both IKE and CHILD SAs on the AWS side" "$UP_TIMEOUT" "$gwpid" aws_tunnels_up
	say "both tunnels ESTABLISHED with CHILD SAs INSTALLED"
	wait_until "both BGP sessions Established and $LAN_NET learned" "$UP_TIMEOUT" "$gwpid" aws_bgp_up
	say "both BGP sessions Established; AWS side learned $LAN_NET"
	aws_sw --list-sas
	aws_birdc show route
	section "ping lan ($LAN_HOST) -> vpc ($VPC_HOST)"
	local i ok=0
	for (( i = 0; i < 10; i++ )); do
		if in_ns "$NS_LAN" ping -c 3 -i 0.2 -W 2 "$VPC_HOST"; then ok=1; break; fi
		nap 1
	done
	(( ok )) || fail "no ping reply from $VPC_HOST across the tunnel"
	check_up_reference
	check_up_cgwd
	say "OK: tunnels up, BGP Established, ping lan -> vpc answers"
}
# ---- END LATER MILESTONES --------------------------------------------------

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

	case $GATEWAY in
	cgwd)
		section "gateway: cgwd"
		start_cgwd
		;;
	strongswan)
		section "gateway: reference strongSwan + BIRD"
		start_reference_gateway
		;;
	none)
		;;
	esac

	report
	section "checks"
	check_configured
	if [[ $EXPECT == tunnels ]]; then
		check_tunnels
	fi
	if [[ $EXPECT == up ]]; then
		check_up
	fi
	say "lab ready"

	if [[ $HOLD == 1 ]]; then
		hold
	fi
	say "PASS"
}

main "$@"

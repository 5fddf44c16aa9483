#!/bin/bash
# tunnel-up-vm.sh — the tunnel-up benchmark's scenario, run in the test VM
# by bench/tunnel-up.sh (through tests/vm/vm-run.sh). See bench/README.md.
#
# The lab's topology without BGP: an emulated AWS side (strongSwan,
# swanctl, two conns that never initiate, two VTIs) and a gateway
# namespace where the gateway under test runs:
#
#   ns cgwb-gw (gateway under test)          ns cgwb-aws (strongSwan)
#  +----------------------------+           +-----------------------------+
#  | wan0 203.0.113.10/24       +-----------+ inet0 203.0.113.1/24        |
#  | vti1 169.254.10.2 mark 100 |           | lo 198.51.100.1   (aws-1)   |
#  | vti2 169.254.11.2 mark 200 |           | lo 198.51.100.129 (aws-2)   |
#  +----------------------------+           | vti1/vti2 169.254.10/11.1   |
#                                           +-----------------------------+
#
# Gateways: (a) cgwd, two tunnels, startup = start; (b) Libreswan 4.10
# pluto, two conns as in the classic AWS recipe (authby=secret,
# ikev2=insist, ike=aes256-sha2_256;dh14, esp=aes_gcm256;dh14,
# 0/0 <-> 0/0, mark, vti-interface, vti-routing=no, leftvti, dpd,
# auto=start). Same algorithms on both: IKE AES-CBC-256/SHA2-256/MODP2048,
# ESP AES-GCM-16-256.
#
# One run: a fresh gateway namespace; `ip -ts xfrm monitor` and
# `ip -ts monitor link address` in it, proven listening (a probe address
# must show up); t0; the daemon starts (`ip netns exec NS DAEMON`, the
# same for both); the monitors' own timestamps give
#   sa4    the 4th live ESP state (2 tunnels x in/out) — both CHILD SAs
#          installed: the headline number;
#   ready  sa4 and both VTIs up with their inside address (Libreswan's
#          updown script makes its VTIs after the SAs).
# Nothing polls the system while the daemon works: a bash reader parses
# the monitor's output as it comes and reports through a FIFO. After the
# measurement a ping over each VTI checks the tunnels really carry
# traffic. Runs alternate cgwd, Libreswan, cgwd, ... CGW_BENCH_RUNS
# (default 3) times each. CGW_BENCH_SHOW=1 prints each run's monitor lines.
#
# Output: a table (median, min, max per gateway and metric), the ratio
# Libreswan/cgwd, and one line "CGW-BENCH-JSON {...}" that
# bench/tunnel-up.sh saves as bench/results-tunnel-up.json.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
# shellcheck source=../tests/vm/lib.sh
source "$SRC_DIR/tests/vm/lib.sh"
# shellcheck source=../tests/vm/libreswan.sh
source "$SRC_DIR/tests/vm/libreswan.sh"

readonly RUNS=${CGW_BENCH_RUNS:-3}
readonly RUN_TIMEOUT=${CGW_BENCH_TIMEOUT:-120}
readonly BUILD=${CGW_BUILD_DIR:-$SRC_DIR/build}
readonly CGWD=$BUILD/daemon/cgwd
readonly CHARON=/usr/sbin/charon-systemd
readonly W=/run/cgwb
readonly NS_GW=cgwb-gw NS_AWS=cgwb-aws
readonly GW_WAN=203.0.113.10 INET_GW=203.0.113.1
readonly TUN_NAME=(aws-1 aws-2) TUN_AWS=(198.51.100.1 198.51.100.129)
readonly TUN_INSIDE=(169.254.10 169.254.11) TUN_MARK=(100 200)
readonly AWS_IKE=aes256-sha256-modp2048,aes128-aes256-sha1-sha256-sha384-sha512-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521,aes128gcm16-aes256gcm16-prfsha1-prfsha256-prfsha384-prfsha512-modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521
readonly AWS_ESP=aes256gcm16-modp2048,aes128gcm16-aes256gcm16-modp1024-modp1536-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521,aes128-aes256-sha1-sha256-sha384-sha512-modp1024-modp1536-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521

CHARON_PID="" DAEMON_PID="" MON_PID="" READER_PID="" RFD=""
declare -A RES=()	# "gw metric" -> space-separated microseconds
declare -a RAW=()	# JSON objects, one per run

# ------------------------------------------------------------- helpers

nap() { read -r -t "$1" -u "$NAP_FD" || true; }

# us_of_day H M S US — US_OF_DAY = microseconds since midnight (10# for
# leading zeros). No fork: it runs while the daemon under test works.
us_of_day() { US_OF_DAY=$(( ((10#$1 * 60 + 10#$2) * 60 + 10#$3) * 1000000 + 10#$4 )); }

# epoch_us_of_day EPOCHREALTIME — the same for a bash timestamp (local
# time, like ip's -ts stamps).
epoch_us_of_day() {
	local hms us=${1#*.}
	printf -v hms '%(%H %M %S)T' "${1%.*}"
	# shellcheck disable=SC2086  # three words
	us_of_day $hms "${us:0:6}"
}

# fmt_s US — seconds with 3 decimals.
fmt_s() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

# sorted_stats "US US ..." — sets MED MIN MAX.
sorted_stats() {
	local -a v
	read -r -a v <<<"$1"
	local i j t n=${#v[@]}
	for ((i = 1; i < n; i++)); do
		t=${v[i]}
		for ((j = i - 1; j >= 0 && v[j] > t; j--)); do v[j + 1]=${v[j]}; done
		v[j + 1]=$t
	done
	MIN=${v[0]} MAX=${v[n - 1]}
	if ((n % 2)); then MED=${v[n / 2]}; else MED=$(((v[n / 2 - 1] + v[n / 2]) / 2)); fi
}

sw() {
	STRONGSWAN_CONF=$W/aws/strongswan.conf SWANCTL_DIR=$W/aws/swanctl \
		swanctl "$@" --uri "unix://$W/aws/charon.vici"
}

# ------------------------------------------------------------- monitor

# The reader: parses both monitors' output on stdin, writes
# "probe", "sa1 <us-of-day>" ... "sa4 <us-of-day>" (1st ... 4th live ESP
# state), "ready <us-of-day>" lines to the FIFO $1,
# copies everything to $2. Live ESP states are counted by dst/SPI: added
# by a new or updated state carrying keys (an aead/enc line), removed by
# "Deleted".
monitor_reader() {
	local out=$1 copy=$2 line ts=0 rest kind="" pend="" n=0
	local -A live=() up=() addr=()
	local sa4=0 ready=0 probe=0 top=0
	exec 3>"$out"
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$copy"
		if [[ $line =~ ^\[[0-9-]+T([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)\]\ (.*)$ ]]; then
			us_of_day "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}"
			ts=$US_OF_DAY
			rest=${BASH_REMATCH[5]}
			kind=new pend=""
			case $rest in
			Deleted\ *) kind=del rest=${rest#Deleted } ;;
			Updated\ *) kind=upd rest=${rest#Updated } ;;
			Expired\ *) kind=exp rest=${rest#Expired } ;;
			esac
			if [[ $rest =~ ^src\ ([0-9.]+)\ dst\ ([0-9.]+)\ *$ ]]; then
				pend="dst=${BASH_REMATCH[2]}"
			elif [[ $kind != del && $rest =~ ^[0-9]+:\ (vti[12])(@[^:]*)?:\ \<([^>]*)\> ]]; then
				[[ ,${BASH_REMATCH[3]}, == *,UP,* ]] && up[${BASH_REMATCH[1]}]=1
			elif [[ $kind != del && $rest =~ ^[0-9]+:\ (vti[12])\ +inet\ ([0-9.]+/[0-9]+) ]]; then
				addr[${BASH_REMATCH[1]}]=1
			elif ((!probe)) && [[ $rest == *"inet 127.0.0.2/"* ]]; then
				probe=1
				echo probe >&3
			fi
		elif [[ -n $pend && $line =~ ^[[:space:]]+proto\ esp\ spi\ (0x[0-9a-f]+) ]]; then
			pend+=" spi=${BASH_REMATCH[1]}"
			if [[ $kind == del || $kind == exp ]]; then
				[[ $kind == del && -n ${live[$pend]:-} ]] && { unset "live[$pend]"; n=$((n - 1)); }
				pend=""
			fi
		elif [[ -n $pend && $pend == *spi=* && $line =~ ^[[:space:]]+(aead|enc)\  ]]; then
			if [[ -z ${live[$pend]:-} ]]; then
				live[$pend]=1
				n=$((n + 1))
				if ((n > top && n <= 4)); then
					top=$n
					echo "sa$n $ts" >&3
				fi
			fi
			pend=""
			((sa4 || n < 4)) || sa4=$ts
		fi
		if ((sa4 && !ready)) && [[ -n ${up[vti1]:-} && -n ${up[vti2]:-} &&
			-n ${addr[vti1]:-} && -n ${addr[vti2]:-} ]]; then
			ready=$ts
			echo "ready $ready" >&3
		fi
	done
}

# start_monitor RUNDIR — the monitor and its reader, listening when this
# returns (the probe address was seen).
start_monitor() {
	local d=$1 msg
	mkfifo -m 0600 "$d/mon.fifo" "$d/result.fifo"
	# Two monitors (`ip monitor` has no xfrm object), one FIFO: each
	# message is one write, well below PIPE_BUF, so lines never mix.
	ip -n "$NS_GW" -ts xfrm monitor >"$d/mon.fifo" 2>&1 &
	MON_PID=$!
	ip -n "$NS_GW" -ts monitor link address >"$d/mon.fifo" 2>&1 &
	MON_PID+=" $!"
	monitor_reader "$d/result.fifo" "$d/monitor.log" <"$d/mon.fifo" &
	READER_PID=$!
	exec {RFD}<"$d/result.fifo"
	local i
	for ((i = 0; i < 10; i++)); do
		ip -n "$NS_GW" addr add 127.0.0.2/8 dev lo 2>/dev/null ||
			ip -n "$NS_GW" addr del 127.0.0.2/8 dev lo
		if read -r -t 3 -u "$RFD" msg && [[ $msg == probe ]]; then
			return 0
		fi
	done
	fail "the xfrm/link monitor never showed the probe address"
}

stop_monitor() {
	local p
	for p in $MON_PID; do kill "$p" 2>/dev/null || true; done
	if [[ -n $READER_PID ]]; then wait "$READER_PID" 2>/dev/null || true; fi
	for p in $MON_PID; do wait "$p" 2>/dev/null || true; done
	[[ -n $RFD ]] && exec {RFD}<&-
	MON_PID="" READER_PID="" RFD=""
}

# ------------------------------------------------------------- AWS side

setup_aws() {
	local i cmds="" conns="" secrets=""
	ns_add "$NS_AWS"
	for i in 0 1; do
		cmds+="addr add ${TUN_AWS[i]}/32 dev lo
link add vti$((i + 1)) type vti local ${TUN_AWS[i]} remote $GW_WAN key ${TUN_MARK[i]}
addr add ${TUN_INSIDE[i]}.1/30 dev vti$((i + 1))
link set vti$((i + 1)) mtu 1436 up
"
	done
	ip -n "$NS_AWS" -b - <<<"$cmds" || fail "AWS side addresses and VTIs"
	nsx "$NS_AWS" sysctl -q -w net.ipv4.ip_forward=1 \
		net.ipv4.conf.vti1.disable_policy=1 net.ipv4.conf.vti1.rp_filter=0 \
		net.ipv4.conf.vti2.disable_policy=1 net.ipv4.conf.vti2.rp_filter=0 || fail "AWS sysctls"
	mkdir -m 0700 "$W/aws" "$W/aws/swanctl"
	cat >"$W/aws/strongswan.conf" <<-EOF
	charon-systemd {
	  journal {
	    default = -1
	  }
	}
	charon {
	  load_modular = no
	  load = random nonce openssl kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici
	  install_routes = no
	  install_virtual_ip = no
	  plugins {
	    vici {
	      socket = unix://$W/aws/charon.vici
	    }
	  }
	  filelog {
	    bench {
	      path = $W/aws/charon.log
	      time_format = %H:%M:%S
	      ike_name = yes
	      flush_line = yes
	      default = 1
	    }
	  }
	}
	swanctl {
	  load = random nonce openssl pem pkcs1 x509 pubkey
	}
	EOF
	for i in 0 1; do
		conns+="  ${TUN_NAME[i]} {
    version = 2
    local_addrs = ${TUN_AWS[i]}
    remote_addrs = $GW_WAN
    proposals = $AWS_IKE
    rekey_time = 28530s
    reauth_time = 0
    dpd_delay = 10s
    mobike = no
    unique = replace
    local {
      auth = psk
      id = ${TUN_AWS[i]}
    }
    remote {
      auth = psk
      id = $GW_WAN
    }
    children {
      ${TUN_NAME[i]} {
        mode = tunnel
        local_ts = 0.0.0.0/0
        remote_ts = 0.0.0.0/0
        esp_proposals = $AWS_ESP
        mark_in = ${TUN_MARK[i]}
        mark_out = ${TUN_MARK[i]}
        rekey_time = 3330s
        life_time = 3600s
        replay_window = 1024
        start_action = none
        dpd_action = clear
      }
    }
  }
"
		secrets+="  ike-${TUN_NAME[i]} {
    id-local = ${TUN_AWS[i]}
    id-remote = $GW_WAN
    secret = \"${PSK[i]}\"
  }
"
	done
	(umask 077; printf 'connections {\n%s}\nsecrets {\n%s}\n' "$conns" "$secrets" \
		>"$W/aws/swanctl/swanctl.conf")
	STRONGSWAN_CONF=$W/aws/strongswan.conf \
		ip netns exec "$NS_AWS" "$CHARON" >"$W/aws/charon.out" 2>&1 &
	CHARON_PID=$!
	local deadline=$((${EPOCHREALTIME%.*} + 60))
	until [[ -S $W/aws/charon.vici ]] && sw --stats >/dev/null 2>&1; do
		kill -0 "$CHARON_PID" 2>/dev/null || { cat "$W/aws/charon.out"; fail "charon exited"; }
		((${EPOCHREALTIME%.*} < deadline)) || fail "charon's vici socket never answered"
		nap 0.5
	done
	sw --load-all >"$W/aws/load.out" 2>&1 || { cat "$W/aws/load.out"; fail "swanctl --load-all"; }
	vm_log "AWS side: strongSwan up with ${TUN_NAME[*]}"
}

# The AWS side forgets the last run's SAs (the gateway deleted them when
# it stopped; anything left is terminated without waiting for the peer).
aws_reset() {
	local out
	out=$(sw --list-sas 2>/dev/null) || true
	[[ $out == *ESTABLISHED* || $out == *CONNECTING* || $out == *INSTALLED* ]] || return 0
	vm_log "AWS side still holds SAs: terminating them"
	sw --terminate --ike aws-1 --force --timeout 2 >/dev/null 2>&1 || true
	sw --terminate --ike aws-2 --force --timeout 2 >/dev/null 2>&1 || true
}

# ------------------------------------------------------------- gateways

# Once the crypto modules are in, let the kernel build its ESP transforms
# once (the lab does the same), so that no run pays for it.
warm_up() {
	local k40
	printf -v k40 '0x%040d' 0
	ip -n "$NS_AWS" -force -b - >/dev/null 2>&1 <<-EOF || true
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x101 mode tunnel aead rfc4106(gcm(aes)) $k40 128
	xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x101
	EOF
	# Page the binaries in (9p) before anything is timed.
	"$CGWD" -V >/dev/null
	"$LSW_EXECDIR/pluto" --version >/dev/null
	"$LSW_EXECDIR/addconn" --help >/dev/null 2>&1 || true
	"$LSW_EXECDIR/whack" --help >/dev/null 2>&1 || true
	ip tunnel help >/dev/null 2>&1 || true
}

write_cgwd_conf() {
	local i
	mkdir -m 0700 "$W/cgwd"
	{
		printf '[gateway]\ncontrol-socket = %s\nlocal-address = %s\n' "$W/cgwd/cgwd.sock" "$GW_WAN"
		for i in 0 1; do
			(umask 077; printf '%s' "${PSK[i]}" >"$W/cgwd/${TUN_NAME[i]}.psk")
			cat <<-EOF

			[tunnel ${TUN_NAME[i]}]
			remote = ${TUN_AWS[i]}
			psk-file = $W/cgwd/${TUN_NAME[i]}.psk
			inside = ${TUN_INSIDE[i]}.0/30
			vti = vti$((i + 1))
			mark = ${TUN_MARK[i]}
			ike = aes256-sha256-modp2048
			esp = aes256gcm16-modp2048
			startup = start
			EOF
		done
	} >"$W/cgwd/cgw.conf"
	chmod 0600 "$W/cgwd/cgw.conf"
	"$CGWD" -n -c "$W/cgwd/cgw.conf" || fail "cgwd -n refuses the bench config"
}

# The classic AWS recipe, route-based, both conns auto=start.
write_lsw_conf() {
	local i
	lsw_dir_init "$W/lsw"
	for i in 0 1; do
		lsw_conn "$W/lsw" "${TUN_NAME[i]}" \
			authby=secret ikev2=insist type=tunnel \
			"left=$GW_WAN" "leftid=$GW_WAN" "right=${TUN_AWS[i]}" "rightid=${TUN_AWS[i]}" \
			leftsubnet=0.0.0.0/0 rightsubnet=0.0.0.0/0 \
			'ike=aes256-sha2_256;dh14' 'esp=aes_gcm256;dh14' \
			ikelifetime=8h salifetime=1h keyingtries=%forever \
			"mark=${TUN_MARK[i]}/0xffffffff" "vti-interface=vti$((i + 1))" \
			vti-routing=no vti-shared=no "leftvti=${TUN_INSIDE[i]}.2/30" \
			dpddelay=10 dpdtimeout=30 dpdaction=restart auto=start
		lsw_secret "$W/lsw" "$GW_WAN" "${TUN_AWS[i]}" "${PSK[i]}"
	done
}

# A fresh gateway namespace.
setup_gw() {
	ns_del "$NS_GW"
	ip netns add "$NS_GW"
	ip link add wan0 netns "$NS_GW" type veth peer name inet0 netns "$NS_AWS" || fail "veth"
	ip -n "$NS_AWS" -b - <<-EOF || fail "AWS inet0"
	addr add $INET_GW/24 dev inet0
	link set inet0 up
	EOF
	ip -n "$NS_GW" -b - <<-EOF || fail "gateway addresses"
	link set lo up
	addr add $GW_WAN/24 dev wan0
	link set wan0 up
	route add default via $INET_GW
	EOF
}

start_gateway() {
	local gw=$1 d=$2
	case $gw in
	cgwd)
		T0=$EPOCHREALTIME
		ip netns exec "$NS_GW" "$CGWD" -c "$W/cgwd/cgw.conf" >"$d/daemon.log" 2>&1 &
		DAEMON_PID=$! ;;
	libreswan)
		rm -f "$W/lsw/run/pluto.pid" "$W/lsw/run/pluto.ctl"
		lsw_start "$W/lsw" "$NS_GW"
		T0=$LSW_T0
		DAEMON_PID=$LSW_PID ;;
	esac
}

stop_gateway() {
	local gw=$1 d=$2 i
	[[ -n $DAEMON_PID ]] || return 0
	if [[ $gw == libreswan ]]; then
		lsw_stop "$W/lsw"
		cp "$W/lsw/pluto.log" "$d/daemon.log" 2>/dev/null || true
	else
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			nap 0.2
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	DAEMON_PID=""
}

show_run_logs() {
	local d=$1
	echo "---- monitor ($d/monitor.log), last 40 lines"
	tail -n 40 "$d/monitor.log" 2>/dev/null || true
	echo "---- gateway log, last 40 lines"
	if [[ -s $d/daemon.log ]]; then tail -n 40 "$d/daemon.log"; else tail -n 40 "$W/lsw/pluto.log" 2>/dev/null || true; fi
	echo "---- AWS side charon.log, last 30 lines"
	tail -n 30 "$W/aws/charon.log" 2>/dev/null || true
}

# one_run GW N — measure one start; appends to RES and RAW.
one_run() {
	local gw=$1 n=$2
	local d=$W/run-$gw-$n msg sa4=0 ready=0 t0 deadline left ok=1 i
	local -a sas=()
	mkdir -p "$d"
	setup_gw
	start_monitor "$d"
	start_gateway "$gw" "$d"
	deadline=$((${EPOCHREALTIME%.*} + RUN_TIMEOUT))
	while ((!sa4 || !ready)); do
		left=$((deadline - ${EPOCHREALTIME%.*}))
		((left > 0)) || break
		# After sa4, give the VTIs at most 30 s more.
		((sa4 && left > 30)) && { left=30; deadline=$((${EPOCHREALTIME%.*} + 30)); }
		read -r -t "$left" -u "$RFD" msg || break
		case $msg in
		sa[123]\ *) sas[${msg:2:1}]=${msg#sa? } ;;
		sa4\ *) sa4=${msg#sa4 } ;;
		ready\ *) ready=${msg#ready } ;;
		esac
	done
	local dsa=-1 dready=-1 timeline="" k
	epoch_us_of_day "$T0"
	t0=$US_OF_DAY
	sas[4]=$sa4
	for k in 1 2 3 4; do
		((${sas[k]:-0})) || continue
		i=$((sas[k] - t0))
		((i < 0)) && i=$((i + 86400000000))
		timeline+="$(fmt_s "$i"),"
	done
	if ((sa4)); then
		dsa=$((sa4 - t0))
		((dsa < 0)) && dsa=$((dsa + 86400000000))
	fi
	if ((ready)); then
		dready=$((ready - t0))
		((dready < 0)) && dready=$((dready + 86400000000))
	fi
	# Not timed: the tunnels must carry traffic.
	local pings=""
	if ((sa4)); then
		for i in 0 1; do
			if nsx "$NS_GW" ping -n -q -c 1 -w 15 "${TUN_INSIDE[i]}.1" >/dev/null 2>&1; then
				pings+="${TUN_NAME[i]}:ok "
			else
				pings+="${TUN_NAME[i]}:FAIL "
				ok=0
			fi
		done
	fi
	stop_gateway "$gw" "$d"
	stop_monitor
	if [[ ${CGW_BENCH_SHOW:-0} == 1 ]]; then
		printf -- '---- run %s #%d: t0 %(%H:%M:%S)T.%s; monitor:\n' "$gw" "$n" "${T0%.*}" "${T0#*.}"
		grep -E '^\[|proto esp' "$d/monitor.log" || true
		echo "---- run $gw #$n: gateway log"
		cat "$d/daemon.log" 2>/dev/null || true
		echo "---- run $gw #$n: AWS side log"
		cat "$W/aws/charon.log" 2>/dev/null || true
	fi
	: >"$W/aws/charon.log"
	ns_del "$NS_GW"
	aws_reset
	if ((!sa4)); then
		show_run_logs "$d"
		fail "$gw run $n: the 4th ESP state never came (${RUN_TIMEOUT}s)"
	fi
	((ok)) || { show_run_logs "$d"; fail "$gw run $n: tunnels up but ping failed: $pings"; }
	RES["$gw sa4"]+="$dsa "
	if ((dready >= 0)); then
		RES["$gw ready"]+="$dready "
	else
		vm_log "$gw run $n: the VTIs never came up with their addresses"
	fi
	RAW+=("{\"gateway\":\"$gw\",\"run\":$n,\"sa4_s\":$(fmt_s "$dsa"),\"ready_s\":$( ((dready >= 0)) && fmt_s "$dready" || echo null),\"sa1_to_4_s\":[${timeline%,}],\"ping\":\"${pings% }\"}")
	printf 'run %-9s #%d: 4th SA %ss, VTIs ready %ss (SAs at %s s), ping %s\n' "$gw" "$n" "$(fmt_s "$dsa")" \
		"$( ((dready >= 0)) && fmt_s "$dready" || echo -)" "${timeline%,}" "${pings% }"
}

# ------------------------------------------------------------- main

cleanup() {
	stop_gateway cgwd /dev/null 2>/dev/null || true
	stop_monitor 2>/dev/null || true
	if [[ -n $CHARON_PID ]]; then
		kill -TERM "$CHARON_PID" 2>/dev/null || true
		wait "$CHARON_PID" 2>/dev/null || true
	fi
	ns_del "$NS_GW"
}

main() {
	local t_start=$EPOCHREALTIME gw n i
	check_kernel_modules
	require_cmd ip ping swanctl "$CHARON"
	[[ -x $CGWD ]] || fail "no cgwd in $BUILD: set CGW_BUILD_DIR"
	lsw_setup
	rm -rf "$W"
	mkdir -m 0700 "$W"
	mkfifo -m 0600 "$W/.nap"
	exec {NAP_FD}<>"$W/.nap"
	on_exit cleanup
	local chars=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._
	PSK=()
	for i in 0 1; do
		PSK[i]=${chars:RANDOM % 52:1}
		while ((${#PSK[i]} < 32)); do PSK[i]+=${chars:RANDOM % ${#chars}:1}; done
	done
	local v_cgwd v_ss
	v_cgwd=$("$CGWD" -V)
	v_ss=$(dpkg-query -W -f='${Version}' strongswan-libcharon 2>/dev/null || echo '?')
	echo "gateway A: $v_cgwd ($CGWD)"
	echo "gateway B: $LSW_VERSION"
	echo "AWS side:  strongSwan charon-systemd $v_ss"
	echo "kernel $(uname -r), $(nproc) CPUs${CGW_IN_VM:+, qemu VM (${CGW_VM_ACCEL:-tcg})}"
	setup_aws
	write_cgwd_conf
	write_lsw_conf
	warm_up
	vm_log "setup done in $(( (${EPOCHREALTIME/./} - ${t_start/./}) / 1000000 )) s; $RUNS runs per gateway"
	for ((n = 1; n <= RUNS; n++)); do
		for gw in cgwd libreswan; do
			one_run "$gw" "$n"
		done
	done
	report "$v_cgwd" "$v_ss"
}

report() {
	local v_cgwd=$1 v_ss=$2 gw m stats="" line
	local -A med=()
	echo
	echo "time from daemon start to ... (seconds, $RUNS runs each)"
	printf '%-10s %-28s %8s %8s %8s\n' gateway metric median min max
	for gw in cgwd libreswan; do
		for m in sa4 ready; do
			[[ -n ${RES["$gw $m"]:-} ]] || { printf '%-10s %-28s %8s\n' "$gw" "$m" n/a; continue; }
			sorted_stats "${RES["$gw $m"]}"
			med["$gw $m"]=$MED
			if [[ $m == sa4 ]]; then line="both CHILD SAs installed"; else line="... and both VTIs up"; fi
			printf '%-10s %-28s %8s %8s %8s\n' "$gw" "$line" "$(fmt_s "$MED")" "$(fmt_s "$MIN")" "$(fmt_s "$MAX")"
			stats+="\"${gw}_$m\":{\"median_s\":$(fmt_s "$MED"),\"min_s\":$(fmt_s "$MIN"),\"max_s\":$(fmt_s "$MAX"),\"runs_s\":[$(for v in ${RES["$gw $m"]}; do printf '%s,' "$(fmt_s "$v")"; done | sed 's/,$//')]},"
		done
	done
	local r_sa4=null r_ready=null
	if [[ -n ${med["cgwd sa4"]:-} && -n ${med["libreswan sa4"]:-} ]]; then
		r_sa4=$(awk -v a="${med["libreswan sa4"]}" -v b="${med["cgwd sa4"]}" 'BEGIN { printf "%.2f", a / b }')
	fi
	if [[ -n ${med["cgwd ready"]:-} && -n ${med["libreswan ready"]:-} ]]; then
		r_ready=$(awk -v a="${med["libreswan ready"]}" -v b="${med["cgwd ready"]}" 'BEGIN { printf "%.2f", a / b }')
	fi
	echo
	echo "ratio Libreswan/cgwd (medians): both CHILD SAs installed $r_sa4, with VTIs up $r_ready"
	local IFS=,
	printf 'CGW-BENCH-JSON {"benchmark":"tunnel-up","date":"%(%Y-%m-%dT%H:%M:%S%z)T","kernel":"%s","cpus":%s,"vm":%s,"runs":%s,"cgwd":"%s","libreswan":"%s","strongswan":"%s","metrics":{%s},"ratio_libreswan_over_cgwd":{"sa4":%s,"ready":%s},"raw":[%s]}\n' \
		-1 "$(uname -r)" "$(nproc)" "$([[ ${CGW_IN_VM:-} == 1 ]] && echo true || echo false)" "$RUNS" \
		"$v_cgwd" "$LSW_VERSION" "$v_ss" "${stats%,}" "$r_sa4" "$r_ready" "${RAW[*]}"
}

main "$@"

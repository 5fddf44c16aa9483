#!/bin/bash
# handshake-cost-vm.sh — CPU instructions per IKE handshake on the
# responder, run as root in the test VM by bench/handshake-cost.sh (or
# natively on a kernel with ESP/VTI/GCM). See bench/README.md.
#
# Two namespaces over a veth: an initiator (strongSwan's charon, driven by
# swanctl) and the responder under test, run under
# `valgrind --tool=callgrind`:
#   cgwd     one [tunnel], startup = add (waits for the peer);
#   charon   strongSwan 5.9 (charon-systemd), one conn, start_action none;
#   pluto    Libreswan 4.10, one conn, auto=add (skipped when Libreswan is
#            not available).
# CGW_BENCH_HS_RESPONDERS picks responders (default "cgwd charon pluto").
# Same proposals everywhere: IKE aes256-sha256-modp2048, ESP
# aes256gcm16-modp2048 (the IKE_AUTH CHILD SA does no DH); PSK; 0/0
# selectors bound to mark 100 (cgwd also has its VTI). No updown scripts
# (charon's updown plugin not loaded, pluto's leftupdown=%disabled): only
# the daemon's own work is counted.
#
# Per responder two runs: K handshakes (CGW_BENCH_HANDSHAKES, default 10:
# swanctl --initiate of the CHILD SA, i.e. IKE_SA_INIT + IKE_AUTH with
# the CHILD SA installed in the kernel, then swanctl --terminate of the IKE
# SA, i.e. an INFORMATIONAL delete), and a baseline with none. Both start
# the daemon, wait until it is ready without talking to it (its socket, or
# a log line; charon also gets its swanctl --load-all in both), do their
# handshakes, and stop it with SIGTERM. Instructions per handshake =
# (Ir(K) - Ir(0)) / K, callgrind's total over all threads. The initiator
# waits for each answer (retransmit after 60 s), so the responder never
# sees a retransmission.
#
# Output: a table and one line "CGW-BENCH-JSON {...}" that
# bench/handshake-cost.sh saves as bench/results-handshake-cost.json.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
# shellcheck source=../tests/vm/lib.sh
source "$SRC_DIR/tests/vm/lib.sh"
# shellcheck source=../tests/vm/ike-lib.sh
source "$SRC_DIR/tests/vm/ike-lib.sh"

readonly K=${CGW_BENCH_HANDSHAKES:-10}
read -r -a RESPONDERS <<<"${CGW_BENCH_HS_RESPONDERS:-cgwd charon pluto}"
readonly RESPONDERS
readonly BUILD=${CGW_BUILD_DIR:-$SRC_DIR/build}
readonly CGWD=$BUILD/daemon/cgwd
readonly NS_I=cgwb-hsi NS_R=cgwb-hsr
readonly ADDR_I=192.0.2.1 ADDR_R=192.0.2.2
readonly IKE=aes256-sha256-modp2048 ESP=aes256gcm16-modp2048
readonly MARK=100 CONN=hs
readonly W=/run/cgwb-hs
readonly PSK=cgwbHandshakeCostBench.0123456789
RESPONDER_PID=""
declare -A IR=() NOTE=()	# "responder:k" -> Ir; responder -> note

say() { vm_log "$*"; }

# ------------------------------------------------------------- initiator

# A charon that waits for answers as long as valgrind needs.
initiator_start() {
	local d=$W/ini
	mkdir -p "$d/swanctl"
	chmod 0700 "$d"
	cat >"$d/strongswan.conf" <<-EOF
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
	  retransmit_timeout = 60
	  retransmit_tries = 1
	  plugins {
	    vici {
	      socket = unix://$d/charon.vici
	    }
	  }
	  filelog {
	    bench {
	      path = $d/charon.log
	      time_format = %s
	      default = 1
	    }
	  }
	}
	swanctl {
	  load = random nonce openssl pem pkcs1 x509 pubkey
	}
	EOF
	sw_write_swanctl "$d" "$(sw_conn "$CONN" "$ADDR_I" "$ADDR_R" "$ADDR_I" "$ADDR_R" "$MARK" none "$IKE" "$ESP")" \
		"$(sw_secret "$CONN" "$ADDR_I" "$ADDR_R" "$PSK")"
	sw_start "$d" "$NS_I" || fail "the initiator's charon did not start"
	sw_load "$d" || fail "the initiator's swanctl --load-all failed"
}

# One handshake and its delete, both answered.
handshake() {
	local d=$W/ini out
	out=$(sw "$d" --initiate --child "$CONN" --timeout 180 2>&1) ||
		{ printf '%s\n' "$out" | tail -n 20; return 1; }
	[[ $out == *"initiate completed successfully"* ]] || { printf '%s\n' "$out" | tail -n 20; return 1; }
	out=$(sw "$d" --terminate --ike "$CONN" --timeout 180 2>&1) ||
		{ printf '%s\n' "$out" | tail -n 20; return 1; }
	[[ $out == *"terminate completed successfully"* ]] || { printf '%s\n' "$out" | tail -n 20; return 1; }
}

# ------------------------------------------------------------- responders

# valgrind_cmd NAME: the callgrind prefix, its output in $W/NAME.cg.<pid>.
valgrind_cmd() {
	VG=(valgrind --tool=callgrind --callgrind-out-file="$W/$1.cg.%p"
		--dump-instr=no --compress-strings=no -q)
}

resp_cgwd_start() {
	local d=$W/cgwd
	mkdir -p "$d"
	chmod 0700 "$d"
	(umask 077; printf '%s\n' "$PSK" >"$d/psk")
	cat >"$d/cgw.conf" <<-EOF
	[gateway]
	control-socket = $d/cgwd.sock
	local-address = $ADDR_R

	[tunnel $CONN]
	remote = $ADDR_I
	psk-file = $d/psk
	inside = 169.254.30.0/30
	vti = vti1
	mark = $MARK
	ike = $IKE
	esp = $ESP
	startup = add
	EOF
	chmod 0600 "$d/cgw.conf"
	rm -f "$d/cgwd.sock"
	valgrind_cmd "cgwd-$1"
	ip netns exec "$NS_R" "${VG[@]}" "$CGWD" -c "$d/cgw.conf" >"$d/cgwd-$1.log" 2>&1 &
	RESPONDER_PID=$!
	echo "$RESPONDER_PID" >"$W/responder.pid"
	local WATCH_PID=$RESPONDER_PID WATCH_NAME=cgwd
	until_ok 300 "cgwd's control socket" _is_sock "$d/cgwd.sock" ||
		{ tail -n 30 "$d/cgwd-$1.log"; fail "cgwd under valgrind did not start"; }
}

resp_charon_start() {
	local d=$W/rsp
	rm -rf "$d"
	mkdir -p "$d/swanctl"
	chmod 0700 "$d"
	cat >"$d/strongswan.conf" <<-EOF
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
	      socket = unix://$d/charon.vici
	    }
	  }
	  filelog {
	    bench {
	      path = $d/charon-$1.log
	      time_format = %s
	      default = 1
	    }
	  }
	}
	swanctl {
	  load = random nonce openssl pem pkcs1 x509 pubkey
	}
	EOF
	sw_write_swanctl "$d" "$(sw_conn "$CONN" "$ADDR_R" "$ADDR_I" "$ADDR_R" "$ADDR_I" "$MARK" none "$IKE" "$ESP")" \
		"$(sw_secret "$CONN" "$ADDR_R" "$ADDR_I" "$PSK")"
	valgrind_cmd "charon-$1"
	STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "$NS_R" "${VG[@]}" "$CHARON" \
		>"$d/charon-$1.out" 2>&1 &
	RESPONDER_PID=$!
	echo "$RESPONDER_PID" >"$W/responder.pid"
	local WATCH_PID=$RESPONDER_PID WATCH_NAME=charon
	until_ok 300 "the responder charon's vici socket" _is_sock "$d/charon.vici" ||
		{ tail -n 30 "$d/charon-$1.out"; fail "charon under valgrind did not start"; }
	# The same in both runs: one load, no polling.
	local i
	for ((i = 0; i < 60; i++)); do
		sw_load "$d" >/dev/null 2>&1 && return 0
		ike_nap 2
	done
	fail "the responder charon never took swanctl --load-all"
}

resp_pluto_start() {
	local d=$W/lsw
	rm -rf "$d"
	lsw_dir_init "$d"
	lsw_conn "$d" "$CONN" authby=secret ikev2=insist type=tunnel \
		"left=$ADDR_R" "leftid=$ADDR_R" "right=$ADDR_I" "rightid=$ADDR_I" \
		leftsubnet=0.0.0.0/0 rightsubnet=0.0.0.0/0 \
		'ike=aes256-sha2_256;dh14' 'esp=aes_gcm256;dh14' \
		"mark=$MARK/0xffffffff" leftupdown=%disabled auto=add
	lsw_secret "$d" "$ADDR_R" "$ADDR_I" "$PSK"
	valgrind_cmd "pluto-$1"
	ip netns exec "$NS_R" "${VG[@]}" "$LSW_EXECDIR/pluto" --nofork \
		--config "$d/ipsec.conf" --secretsfile "$d/ipsec.secrets" \
		--nssdir "$d/nss" --rundir "$d/run" --ipsecdir "$d" \
		--logfile "$d/pluto.log" >"$d/pluto-$1.out" 2>&1 &
	RESPONDER_PID=$!
	echo "$RESPONDER_PID" >"$W/responder.pid"
	LSW_PID=$RESPONDER_PID
	lsw_wait_log "$d" "\"$CONN\".*added IKEv2 connection|added IKEv2 connection.*\"$CONN\"" 600 ||
		{ lsw_show_log "$d"; fail "pluto under valgrind never loaded its conn"; }
	lsw_wait_log "$d" "listening for IKE messages" 60 || true
}

# Stop the responder (SIGTERM: each shuts down cleanly) and wait for
# callgrind's file; its total Ir in IR[responder:k].
resp_stop() {
	local name=$1 k=$2 pid=$RESPONDER_PID i f line
	RESPONDER_PID="" LSW_PID=""
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		ike_nap 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		fail "$name under valgrind ignored SIGTERM for 300 s"
	fi
	wait "$pid" 2>/dev/null || true
	f=$W/$name-$k.cg.$pid
	[[ -s $f ]] || fail "no callgrind output $f"
	while IFS= read -r line; do
		[[ $line =~ ^(totals|summary):\ ([0-9]+) ]] && { IR[$name:$k]=${BASH_REMATCH[2]}; break; }
	done <"$f"
	[[ -n ${IR[$name:$k]:-} ]] || fail "no totals in $f"
	echo "$name:$k ${IR[$name:$k]}" >>"$W/ir.txt"
	say "$name, $k handshake(s): Ir ${IR[$name:$k]}"
}

# One responder: baseline, then K handshakes.
measure() {
	local name=$1 k n
	for k in 0 "$K"; do
		say "$name under callgrind, $k handshake(s)"
		"resp_${name}_start" "$k"
		for ((n = 1; n <= k; n++)); do
			handshake || fail "$name: handshake $n of $k failed"
		done
		resp_stop "$name" "$k"
	done
}

# ------------------------------------------------------------- report

# IR[] from the subshells' $W/ir.txt.
read_results() {
	local key ir
	while read -r key ir; do
		IR[$key]=$ir
	done <"$W/ir.txt"
}

report() {
	local name per rows="" json="" base
	echo
	echo "Instructions per IKE handshake on the responder (callgrind Ir; (Ir($K) - Ir(0)) / $K)"
	printf '%-8s %16s %16s %14s %s\n' responder "Ir(0)" "Ir($K)" "Ir/handshake" "ratio to cgwd"
	base=""
	[[ -n ${IR[cgwd:$K]:-} ]] && base=$(( (${IR[cgwd:$K]} - ${IR[cgwd:0]}) / K ))
	for name in "${RESPONDERS[@]}"; do
		if [[ -z ${IR[$name:$K]:-} ]]; then
			printf '%-8s %s\n' "$name" "not measured: ${NOTE[$name]:-?}"
			json+="${json:+,}\"$name\":{\"note\":\"${NOTE[$name]:-?}\"}"
			continue
		fi
		per=$(( (${IR[$name:$K]} - ${IR[$name:0]}) / K ))
		local ratio=null
		[[ -n $base ]] && ratio=$(awk -v a="$per" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
		printf '%-8s %16s %16s %14s %s\n' "$name" "${IR[$name:0]}" "${IR[$name:$K]}" "$per" "$ratio"
		json+="${json:+,}\"$name\":{\"ir_baseline\":${IR[$name:0]},\"ir_k\":${IR[$name:$K]},\"ir_per_handshake\":$per,\"ratio_over_cgwd\":$ratio${NOTE[$name]:+,\"note\":\"${NOTE[$name]}\"}}"
	done
	rows="\"cgwd\":\"$("$CGWD" -V 2>/dev/null || echo cgwd)\",\"strongswan\":\"$(dpkg-query -W -f='${Version}' strongswan-libcharon 2>/dev/null)\",\"libreswan\":\"${LSW_VERSION:-}\",\"valgrind\":\"$(valgrind --version)\""
	printf 'CGW-BENCH-JSON {"benchmark":"handshake-cost","date":"%(%Y-%m-%dT%H:%M:%S%z)T","kernel":"%s","cpus":%s,"vm":%s,"handshakes":%s,"ike":"%s","esp":"%s","versions":{%s},"responders":{%s}}\n' \
		-1 "$(uname -r)" "$(nproc)" "$([[ ${CGW_IN_VM:-} == 1 ]] && echo true || echo false)" \
		"$K" "$IKE" "$ESP" "$rows" "$json"
}

main() {
	check_kernel_modules
	require_cmd ip valgrind swanctl "$CHARON"
	[[ -x $CGWD ]] || fail "no cgwd in $BUILD: set CGW_BUILD_DIR"
	((K > 0)) || fail "CGW_BENCH_HANDSHAKES must be at least 1"
	rm -rf "$W"
	mkdir -p "$W"
	chmod 0700 "$W"
	on_exit "rm -rf $W"
	ike_init "$W"
	ns_add "$NS_I" "$NS_R"
	ip link add veth-i netns "$NS_I" type veth peer name veth-r netns "$NS_R"
	ip -n "$NS_I" addr add "$ADDR_I/24" dev veth-i
	ip -n "$NS_R" addr add "$ADDR_R/24" dev veth-r
	ip -n "$NS_I" link set veth-i up
	ip -n "$NS_R" link set veth-r up
	# shellcheck disable=SC2016  # expanded when the hook runs
	on_exit '[[ -n $RESPONDER_PID ]] && kill -KILL "$RESPONDER_PID" 2>/dev/null; ns_procs_stop '"$NS_I $NS_R"
	: >"$W/ir.txt"
	initiator_start
	echo "$K handshakes per run; $(valgrind --version); strongSwan $(dpkg-query -W -f='${Version}' strongswan-libcharon) as the initiator"
	local name
	for name in "${RESPONDERS[@]}"; do
		case $name in
		cgwd|charon) ;;
		pluto)
			# shellcheck source=../tests/vm/libreswan.sh
			source "$SRC_DIR/tests/vm/libreswan.sh"
			if (lsw_setup >/dev/null 2>&1); then
				lsw_setup
			else
				NOTE[pluto]="no Libreswan here (run tests/vm/prepare-libreswan.sh on the host)"
				continue
			fi
			;;
		*) fail "CGW_BENCH_HS_RESPONDERS: unknown responder $name" ;;
		esac
		# In a subshell: one responder that fails leaves the others'
		# figures (and its failure is noted in the results).
		# (Not in an || list: that would turn set -e off inside.)
		local st
		set +e
		(measure "$name")
		st=$?
		set -e
		if ((st != 0)); then
			NOTE[$name]="failed (exit $st): see the console output"
			if [[ -s $W/responder.pid ]]; then
				kill -KILL "$(<"$W/responder.pid")" 2>/dev/null || true
			fi
			ns_procs_stop "$NS_R"
		fi
	done
	read_results
	[[ -n ${IR[cgwd:$K]:-} ]] || fail "no figures for cgwd"
	report
}

main "$@"

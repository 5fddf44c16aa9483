#!/bin/bash
# No secret leaves cgwd: not in its log at every level, not in what
# cgwctl prints, not in a core dump of the running daemon. The lab
# (lab/lab.sh) builds cgwd's world: two tunnels with BGP to an emulated AWS
# side of strongSwan 5.9 + BIRD 2, LAN and VPC hosts:
#
#  ns lan          ns gw (cgwd -v -d all)    ns aws (charon: ike/chd log level 4)  ns vpc
#  192.168.2.10 -- 192.168.2.1              203.0.113.1                           172.20.1.10
#                  203.0.113.10 ----------- lo 198.51.100.1 (aws-1), .129 (aws-2)
#                  vti1, vti2 ============= vti1, vti2
#
# This script runs the lab with itself as the lab's hook (CGW_LAB_RUN),
# which, with everything up:
#   1. raises the AWS charon's log level (ike and chd groups to 4, where
#      strongSwan logs SKEYSEED, g^ir, SK_d, SK_ai/ar, SK_ei/er, SK_pi/pr
#      and the CHILD SA keys) with swanctl --reload-settings;
#   2. rekeys each tunnel's CHILD SA and IKE SA from both ends, so that
#      both the initiator and the responder code of cgwd made fresh keys;
#   3. collects the secrets: both PSKs, every key charon logged (the IKE
#      SAs before and after the rekeys, the CHILD SAs), the ESP keys in the
#      gateway's kernel (which legitimately holds them);
#   4. collects what cgwd shows: its log (-v -d all: every category),
#      cgwctl status (text and --json), bgp neighbors, bgp routes, metrics,
#      cgwd -nv (the config as cgwd prints it); and dumps cgwd's memory:
#      gcore (gdb attaches as root: cgwd is not dumpable and has
#      RLIMIT_CORE 0, neither stops a tracer) and, in the VM, the kernel's
#      own core dump: cgwd is non-dumpable (PR_SET_DUMPABLE 0), which no
#      sysctl overrides, so gdb undoes it as an admin would (prctl called
#      in cgwd), prlimit raises RLIMIT_CORE, core_pattern points into our
#      directory, SIGABRT;
#   5. searches all of it for every secret as raw bytes, hex (both cases,
#      plain, spaced, colon-separated), base64, and the first/last 16
#      bytes of longer keys (tests/vm/secrets-scan.py).
# Controls, so that "nothing found" means something: the same scan finds
# the keys in charon's own log, the kernel's ESP keys are among the keys
# charon logged, and the core holds cgwd's heap (the psk-file path).
# The secrets are never printed; charon's log is emptied after use.
#
# Environment: CGW_BUILD_DIR (cgwd, cgwctl); CGW_LAB_* reach the lab.

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SCAN=$CGW_VM_DIR/secrets-scan.py

# ---------------------------------------------------------------- the hook

if [[ ${CGW_72_HOOK:-} == 1 ]]; then
	T=$CGW_72_DIR
	CTL=("$LAB_CGWCTL" -s "$LAB_CGWD_SOCK")
	CHARON_LOG=$LAB_AWS_DIR/charon.log
	PID=${LAB_PID_cgwd:?the lab exported no cgwd pid}
	nap() { read -r -t "$1" -u "$NAP_FD" || true; }
	mkfifo -m 0600 "$T/.nap"
	exec {NAP_FD}<>"$T/.nap"

	# Keys land in charon's log from here on: empty it and put its level
	# back whatever happens, so that no failure path prints them.
	charon_level() {
		sed -i -E "s/^([[:space:]]*ike = )[0-9]+/\\1$1/; s/^([[:space:]]*chd = )[0-9]+/\\1$1/" \
			"$LAB_AWS_DIR/strongswan.conf"
		grep -q '^[[:space:]]*chd = ' "$LAB_AWS_DIR/strongswan.conf" ||
			sed -i -E "s/^([[:space:]]*)ike = ([0-9]+)$/&\\n\\1chd = $1/" "$LAB_AWS_DIR/strongswan.conf"
		"$LAB_AWS_SWANCTL" --reload-settings >/dev/null
	}
	cleanup() {
		charon_level 1 2>/dev/null || true
		: >"$CHARON_LOG"
		echo "(charon's log emptied: it held the keys)"
	}
	trap cleanup EXIT

	charon_level 4
	vm_log "AWS charon: ike and chd log level 4 (swanctl --reload-settings)"

	# Both ends rekey each tunnel's CHILD and IKE SA.
	wait_settled() {	# one IKE SA and one CHILD SA per tunnel at both ends
		local i json n
		for ((i = 0; i < 100; i++)); do
			json=$("${CTL[@]}" status --json) || return 1
			n=$(jq '[.tunnels[] | select(.state == "up" and (.ike_sas | length) == 1 and
				([.ike_sas[].children[]?] | length) == 1)] | length' <<<"$json")
			if [[ $n == 2 ]] && [[ $("$LAB_AWS_SWANCTL" --list-sas | grep -c 'ESTABLISHED') == 2 ]]; then
				return 0
			fi
			nap 0.3
		done
		return 1
	}
	for t in $LAB_TUN_NAMES; do
		"${CTL[@]}" tunnel rekey "$t" child >/dev/null || fail "cgwctl tunnel rekey $t child"
		nap 1
		"$LAB_AWS_SWANCTL" --rekey --child "$t" >/dev/null || fail "swanctl --rekey --child $t"
		nap 1
		"${CTL[@]}" tunnel rekey "$t" ike >/dev/null || fail "cgwctl tunnel rekey $t ike"
		nap 2
		"$LAB_AWS_SWANCTL" --rekey --ike "$t" >/dev/null || fail "swanctl --rekey --ike $t"
		nap 2
	done
	wait_settled || fail "the tunnels did not settle to one IKE and one CHILD SA each after the rekeys"
	vm_log "rekeyed each tunnel's CHILD SA and IKE SA from both ends (cgwctl, swanctl)"

	# ---- the secrets (file mode 0600, never printed)
	umask 077
	secrets=$T/secrets
	: >"$secrets"
	for t in $LAB_TUN_NAMES; do
		printf 'PSK of %s\t%s\n' "$t" "$(od -An -v -tx1 "$LAB_STATE/$t.psk" | tr -d ' \n')" >>"$secrets"
	done
	python3 "$SCAN" charon-keys "$CHARON_LOG" >"$T/charon-keys"
	cat "$T/charon-keys" >>"$secrets"
	ip -n "$LAB_NS_GW" xfrm state >"$T/xfrm-state"
	n_esp=0
	declare -A charon_hex=()
	while IFS=$'\t' read -r name hex; do charon_hex[$hex]=$name; done <"$T/charon-keys"
	n_esp_in_charon=0
	while read -r kind _alg hex _rest; do
		[[ $kind =~ ^(aead|enc|auth|auth-trunc)$ && $hex == 0x* ]] || continue
		n_esp=$((n_esp + 1))
		printf 'ESP key %d in the kernel (%s)\t%s\n' "$n_esp" "$kind" "${hex#0x}" >>"$secrets"
		[[ -n ${charon_hex[${hex#0x}]:-} ]] && n_esp_in_charon=$((n_esp_in_charon + 1))
	done <"$T/xfrm-state"

	count() { grep -c -E "$1" "$T/charon-keys" || true; }
	n_ike_sas=$(count ' Sk_d #')
	summary="PSKs of aws-1, aws-2 ($(wc -c <"$LAB_STATE/aws-1.psk"), $(wc -c <"$LAB_STATE/aws-2.psk") bytes);"
	summary+=" from charon's log: $n_ike_sas IKE SAs' SK_d, $(count ' Sk_ai #') SK_ai, $(count ' Sk_ar #') SK_ar,"
	summary+=" $(count ' Sk_ei #') SK_ei, $(count ' Sk_er #') SK_er, $(count ' Sk_pi #') SK_pi, $(count ' Sk_pr #') SK_pr,"
	summary+=" $(count ' SKEYSEED #') SKEYSEED, $(count 'shared Diffie Hellman') g^ir,"
	summary+=" $(count 'encryption (initiator|responder) key') CHILD SA encryption keys;"
	summary+=" $n_esp ESP keys from the gateway's kernel"
	vm_log "secrets: $summary"
	for t in $LAB_TUN_NAMES; do
		n=$(grep -c "^$t Sk_d #" "$T/charon-keys" || true)
		((n >= 2)) || fail "charon logged SK_d for $n IKE SA(s) of $t, expected 2 or more (before and after the IKE rekeys): is its log level 4?"
	done
	((n_esp == 4)) || fail "the gateway's kernel shows $n_esp ESP keys, expected 4 (one SA pair per tunnel)"
	((n_esp_in_charon == n_esp)) ||
		fail "only $n_esp_in_charon of the kernel's $n_esp ESP keys are among the keys parsed from charon's log"
	pass "control: the $n_esp ESP keys in the gateway's kernel are among the CHILD SA keys parsed from charon's log"

	# ---- what cgwd shows
	outs=()
	out() {	# out NAME CMD...: CMD's output (stdout and stderr) to scan as NAME
		local f=$T/out-$1
		"${@:2}" >"$f" 2>&1 || fail "$1: ${*:2} failed: $(head -c 300 "$f")"
		outs+=("$1=$f")
	}
	out "cgwctl-status" "${CTL[@]}" status
	out "cgwctl-status--json" "${CTL[@]}" status --json
	out "cgwctl-bgp-neighbors--json" "${CTL[@]}" --json bgp neighbors
	out "cgwctl-bgp-neighbors" "${CTL[@]}" bgp neighbors
	out "cgwctl-bgp-routes--json" "${CTL[@]}" --json bgp routes
	out "cgwctl-metrics" "${CTL[@]}" metrics
	out "cgwd-nv" "$LAB_CGWD" -nv -c "$LAB_CGWD_CONF"
	grep -q 'psk-file' "$T/out-cgwd-nv" || fail "cgwd -nv did not print the config"

	# ---- cgwd's memory: gcore
	cp "/proc/$PID/maps" "$T/maps"
	grep -q 'VmFlags:.* dd' "/proc/$PID/smaps" ||
		fail "cgwd has no mapping marked MADV_DONTDUMP (dd): its secrets would be in any core dump"
	t0=$EPOCHREALTIME
	gdb -nx -batch -p "$PID" -ex "gcore $T/gcore" >"$T/gdb.out" 2>&1 ||
		fail "gdb could not gcore cgwd (pid $PID): $(tail -n 3 "$T/gdb.out")"
	[[ -s $T/gcore ]] || fail "gdb wrote no core: $(tail -n 3 "$T/gdb.out")"
	kill -0 "$PID" || fail "cgwd did not survive gdb"
	vm_log "gcore of cgwd (pid $PID): $(wc -c <"$T/gcore") bytes in $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) ms"
	printf 'control: the psk-file path\t%s\n' "$(printf '%s' "$LAB_STATE/aws-1.psk" | od -An -v -tx1 | tr -d ' \n')" \
		>"$T/control"
	python3 "$SCAN" scan --secrets "$T/control" gcore="$T/gcore" >"$T/control.out" &&
		fail "control: cgwd's heap (its config: the psk-file path) is not in the gcore: the dump is empty?"
	pass "control: the gcore holds cgwd's heap (the psk-file path string found)"
	python3 "$SCAN" scan --secrets "$secrets" "charon.log=$CHARON_LOG" >"$T/charon.scan" &&
		fail "control: the scan finds no key in charon's own log"
	pass "control: the scan finds $(grep -c '^FOUND' "$T/charon.scan") key encodings in charon's own log (level 4)"

	# ---- the scan: log, outputs, gcore
	places=("cgwd.log=$LAB_CGWD_LOG" "${outs[@]}" "gcore=$T/gcore")
	st=0
	python3 "$SCAN" scan --secrets "$secrets" --maps "$T/maps" "${places[@]}" >"$T/scan.out" || st=$?
	cat "$T/scan.out"
	((st == 0)) || fail "secrets found in cgwd's log, cgwctl's output or a gcore of cgwd (see FOUND lines)"
	pass "no secret in cgwd's log (-v -d all, $(wc -l <"$LAB_CGWD_LOG") lines), ${#outs[@]} cgwctl/cgwd outputs, a gcore of cgwd"

	# ---- the kernel's core dump (the VM only: it changes a system-wide
	# sysctl). cgwd makes itself non-dumpable (PR_SET_DUMPABLE 0), so the
	# kernel never dumps it, whatever RLIMIT_CORE says: an admin who wants
	# a core must undo that. Do it as they would, from a debugger, and see
	# what the kernel's dump (which honours MADV_DONTDUMP too) holds.
	cores="a gcore"
	if [[ ${CGW_IN_VM:-} == 1 ]]; then
		grep -q 'privdrop: .*not dumpable' "$LAB_CGWD_LOG" || fail "cgwd did not log that it is not dumpable"
		gdb -nx -batch -p "$PID" -ex 'print (int) prctl(4, 1, 0, 0, 0)' >"$T/gdb-prctl.out" 2>&1 ||
			fail "gdb could not make cgwd dumpable: $(tail -n 2 "$T/gdb-prctl.out")"
		grep -q '^\$1 = 0$' "$T/gdb-prctl.out" || fail "prctl(PR_SET_DUMPABLE, 1) in cgwd: $(grep '^\$1' "$T/gdb-prctl.out")"
		old_pattern=$(cat /proc/sys/kernel/core_pattern)
		sysctl -q -w "kernel.core_pattern=$T/kcore.%p"
		prlimit --pid "$PID" --core=unlimited:unlimited
		kill -ABRT "$PID"
		for ((i = 0; i < 300; i++)); do
			st=$(awk '{ print $3 }' "/proc/$PID/stat" 2>/dev/null || echo gone)
			[[ $st == Z || $st == gone ]] && break
			nap 0.1
		done
		sysctl -q -w "kernel.core_pattern=$old_pattern"
		[[ -s $T/kcore.$PID ]] || fail "SIGABRT: the kernel wrote no core to $T/kcore.$PID"
		vm_log "the kernel's core dump of cgwd (made dumpable by gdb, SIGABRT): $(wc -c <"$T/kcore.$PID") bytes"
		st=0
		python3 "$SCAN" scan --secrets "$secrets" --maps "$T/maps" "kernel-core=$T/kcore.$PID" \
			>"$T/scan-kcore.out" || st=$?
		cat "$T/scan-kcore.out"
		((st == 0)) || fail "secrets found in the kernel's core dump of cgwd (see FOUND lines)"
		cores="a gcore and the kernel's core dump"
	else
		vm_log "not in the VM: no kernel core dump (it would change a system-wide sysctl); gcore only"
	fi
	pass "72-secrets: no secret found: $(wc -l <"$secrets") searched ($summary) in cgwd's log (-v -d all), ${#outs[@]} cgwctl/cgwd outputs, $cores of cgwd"
	exit 0
fi

# ---------------------------------------------------------------- the scenario

SRC=$(cd "$CGW_VM_DIR/../.." && pwd)
BUILD=$(cd "${CGW_BUILD_DIR:-$SRC/build}" 2>/dev/null && pwd) || BUILD=${CGW_BUILD_DIR:-$SRC/build}
readonly SRC BUILD

check_kernel_modules
require_cmd ip jq swanctl bird birdc /usr/sbin/charon-systemd gdb python3 prlimit od
[[ -x $BUILD/daemon/cgwd && -x $BUILD/cgwctl/cgwctl ]] ||
	skip "no cgwd/cgwctl in $BUILD: build first, set CGW_BUILD_DIR"
modprobe -qa veth 2>/dev/null || true

T=$(mktemp -d /tmp/cgwt-72.XXXXXX)
readonly T
on_exit "rm -rf $T"

# Start-up first: a cgwd that has only read its config (one tunnel,
# startup add: no IKE), in a namespace of its own. With lazy binding the
# PSK's bytes stayed on its stack (the dynamic linker's resolver saved the
# vector registers memcpy() had moved them through) until later work
# overwrote them: the lab below comes too late to see that, this catches
# it (cgwd is linked with -z now since).
start_check() {
	local d=$T/start ns=cgwt72-start pid i st=0
	mkdir -m 0700 "$d"
	ns_add "$ns"
	ip -n "$ns" addr add 203.0.113.10/32 dev lo
	(umask 077; od -An -v -tx1 -N16 /dev/urandom | tr -d ' \n' >"$d/t1.psk")
	cat >"$d/cgw.conf" <<-EOF
	[gateway]
	control-socket = $d/cgwd.sock
	local-address = 203.0.113.10

	[tunnel t1]
	remote = 198.51.100.1
	psk-file = $d/t1.psk
	inside = 169.254.10.0/30
	vti = vti1
	mark = 100
	ike = aes256-sha256-modp2048
	esp = aes256gcm16-modp2048
	startup = add
	EOF
	chmod 0600 "$d/cgw.conf"
	ip netns exec "$ns" "$BUILD/daemon/cgwd" -c "$d/cgw.conf" -v -d all >"$d/cgwd.log" 2>&1 &
	pid=$!
	on_exit "kill $pid 2>/dev/null"
	for ((i = 0; i < 100; i++)); do
		"$BUILD/cgwctl/cgwctl" -s "$d/cgwd.sock" status >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || fail "start-up: cgwd exited: $(tail -n 3 "$d/cgwd.log")"
		sleep 0.2
	done
	cp "/proc/$pid/maps" "$d/maps"
	gdb -nx -batch -p "$pid" -ex "gcore $d/gcore" >"$d/gdb.out" 2>&1 && [[ -s $d/gcore ]] ||
		fail "start-up: gdb could not gcore cgwd: $(tail -n 3 "$d/gdb.out")"
	kill "$pid"
	printf 'PSK of t1\t%s\n' "$(od -An -v -tx1 "$d/t1.psk" | tr -d ' \n')" >"$d/secrets"
	python3 "$SCAN" scan --secrets "$d/secrets" --maps "$d/maps" "cgwd.log=$d/cgwd.log" \
		"gcore=$d/gcore" >"$d/scan.out" || st=$?
	cat "$d/scan.out"
	((st == 0)) || fail "start-up: the PSK is in cgwd's memory after its start (see FOUND lines)"
	pass "start-up: the PSK (32 bytes) is neither in cgwd's log nor in a gcore taken right after its start"
}
start_check

CGW_72_HOOK=1 CGW_72_DIR=$T CGW_BUILD_DIR=$BUILD CGW_LAB_EXPECT=up CGW_LAB_GATEWAY=cgwd \
	CGW_LAB_REKEYS=0 CGW_LAB_CGWD_ARGS="-v -d all" CGW_LAB_RUN=$CGW_VM_DIR/scenarios/72-secrets.sh \
	CGW_LAB_STATE=/run/cgwt-secrets CGW_LAB_PREFIX=cgwt72- CGW_LAB_HOLD=0 \
	run_lab 72-secrets "$T/lab.out"

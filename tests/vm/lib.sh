# shellcheck shell=bash
# lib.sh — helpers for kernel test scenarios (tests/vm/scenarios/*.sh).
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# Scenarios run as root, either inside the test VM (CGW_IN_VM=1) or on a
# host whose kernel has ESP/VTI/GCM (see vm-run.sh). Exit status: 0 pass,
# 77 skip (call `skip REASON`), anything else fail.
#
# Under TCG every process start costs 0.2-0.5 s: prefer one `ip -batch`
# over many `ip` calls, and monitors or timestamped logs over polling.

set -euo pipefail

# Directory of tests/vm, for scenarios that need sibling files.
# shellcheck disable=SC2034
CGW_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ------------------------------------------------------------- messages

# vm_log MSG... — timestamped log line (no fork: bash builtins only).
vm_log() {
	local ts frac=${EPOCHREALTIME#*.}
	printf -v ts '%(%H:%M:%S)T' -1
	printf '[%s.%s] %s\n' "$ts" "${frac:0:3}" "$*" >&2
}

# pass MSG / fail MSG — a result line; fail also ends the scenario.
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	exit 1
}

# skip REASON — the scenario cannot run here: exit 77.
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# require_cmd CMD... — skip unless every command exists.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "missing command: $c"
	done
}

# ------------------------------------------------------------- exit hooks

_CGW_EXIT_HOOKS=()

# on_exit CMD — run the shell command CMD when the scenario exits (last
# registered runs first). Installs the EXIT trap on first use.
on_exit() {
	if [[ ${#_CGW_EXIT_HOOKS[@]} -eq 0 ]]; then
		trap _cgw_run_exit_hooks EXIT
		trap 'exit 130' INT TERM
	fi
	_CGW_EXIT_HOOKS+=("$1")
}

_cgw_run_exit_hooks() {
	local rc=$? i
	set +e
	for ((i = ${#_CGW_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${_CGW_EXIT_HOOKS[i]}"
	done
	return "$rc"
}

# ------------------------------------------------------------- namespaces

# ns_add NAME... — create network namespaces (a stale one of the same name,
# left by a crashed run, is removed first) with loopback up; they are
# deleted when the scenario exits. Name them cgwt-* so a native run does
# not touch anyone else's.
ns_add() {
	local ns
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null || true
		ip netns add "$ns"
		on_exit "ns_del $ns"
		ip -n "$ns" link set lo up
	done
}

# ns_del NAME — delete a namespace (its veth, vti, xfrm state go with it).
ns_del() { ip netns del "$1" 2>/dev/null || true; }

# nsx NS CMD... — run CMD inside namespace NS.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ------------------------------------------------------------- waiting

# wait_for SECONDS WHAT CMD... — run CMD until it succeeds, at most
# SECONDS; on time-out log WHAT and return 1. Polls every 0.2 s: keep CMD
# cheap (a builtin test is best under TCG).
wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$(( ${EPOCHREALTIME%.*} + secs ))
	until "$@"; do
		if (( ${EPOCHREALTIME%.*} >= deadline )); then
			vm_log "timed out after ${secs}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# ------------------------------------------------------------- kernel

# Modules for IPsec over VTI: ESP, VTI, XFRM netlink, and the crypto for
# AES-GCM (rfc4106), AES-CBC with HMAC-SHA1/SHA2 (authenc), and IV makers.
# AES itself is checked in /proc/crypto: "modprobe aes" also tries
# padlock_aes, which fails without VIA hardware.
CGW_KERNEL_MODULES=(
	esp4 ip_vti xfrm_user
	gcm ghash_generic ctr seqiv echainiv
	cbc authenc hmac sha1 sha256 sha512
)

# True if /proc/crypto lists algorithm $1 (bash builtins only).
crypto_has() {
	local key val
	while IFS=: read -r key val; do
		[[ ${key%% *} == name && ${val# } == "$1" ]] && return 0
	done </proc/crypto
	return 1
}

# check_kernel_modules — load the modules above (one modprobe when all
# load). Missing ones mean skip on a host, but fail inside the VM (whose
# kernel has them all).
check_kernel_modules() {
	local m missing=()
	if ! modprobe -qa "${CGW_KERNEL_MODULES[@]}" 2>/dev/null; then
		for m in "${CGW_KERNEL_MODULES[@]}"; do
			modprobe -q "$m" 2>/dev/null || missing+=("$m")
		done
	fi
	crypto_has aes || missing+=(aes)
	[[ ${#missing[@]} -eq 0 ]] && return 0
	if [[ ${CGW_IN_VM:-} == 1 ]]; then
		fail "VM kernel lacks modules: ${missing[*]}"
	fi
	skip "kernel lacks modules: ${missing[*]}"
}

# esp_packets NS SRC DST SPI [ARGS...] — packets counted by that ESP
# state; ARGS complete the ID (e.g. "mark 100 mask 0xffffffff"). Prints
# nothing (and fails) when there is no such state.
esp_packets() {
	local ns=$1 src=$2 dst=$3 spi=$4 out
	shift 4
	out=$(ip -n "$ns" -s xfrm state get src "$src" dst "$dst" proto esp \
		spi "$spi" "$@") || return 1
	# "lifetime current:" is followed by "  <n>(bytes), <n>(packets)".
	awk '/lifetime current:/ { cur = 1; next }
		cur && /\(packets\)/ { gsub(/.*, |\(packets\).*/, ""); print; exit }' <<<"$out"
}

# run_lab NAME OUT: run lab/lab.sh (its settings in the caller's CGW_LAB_*
# environment, e.g. `CGW_LAB_RUN=hook.sh run_lab 72-secrets "$T/lab.out"`),
# keep its output in OUT and print it; skip when the lab skips, fail with
# its first FAIL line when it fails, and fail when a hook NAME passed
# without its final "PASS: NAME" line.
run_lab() {
	local name=$1 out=$2 st=0
	bash "$CGW_VM_DIR/../../lab/lab.sh" >"$out" 2>&1 || st=$?
	cat "$out"
	case $st in
	0) ;;
	77) skip "the lab skipped: $(grep -m1 'SKIP:' "$out" || echo '?')" ;;
	*) fail "$name: the lab or its hook failed (exit $st): $(grep -m1 -E '^FAIL:' "$out" ||
		grep -m1 'FAIL:' "$out" || echo 'no FAIL line')" ;;
	esac
	[[ -z ${CGW_LAB_RUN:-} ]] || grep -q "^PASS: $name" "$out" ||
		fail "the hook passed without its final PASS line"
}

#!/bin/bash
# all.sh — every benchmark, one command: one VM boot for those that need
# ESP/VTI in the kernel (bench/all-vm.sh: converge, which covers tunnel-up,
# then handshake-cost, rekey-loss, bgp-failover), then bgp-scale on this
# host's kernel (no VM: control plane and kernel routes only, and nothing
# else running in the VM meanwhile). Writes bench/results.json (every
# figure, the date, the versions, the machine) and prints the table for
# docs/benchmarks.md (bench/table.sh).
#
#   sudo bench/all.sh                           # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b bench/all.sh
#   sudo CGW_BENCH_QUICK=1 bench/all.sh         # smaller and faster
#
# Full run under TCG on 2 cores: about an hour (converge 3 x 3 lab runs,
# handshake-cost 3 responders x 2 callgrind runs, rekey-loss 2 x 12
# rekeys, bgp-failover 2 x 2 lab runs, bgp-scale 3 x 100,000 prefixes).
# CGW_BENCH_QUICK=1: 1 run per gateway, 3 handshakes, 4 rekeys, 10 s idle
# window, 20,000 prefixes (a smoke test of the whole chain, not figures
# for the docs). CGW_BENCH_OUT changes the results file; CGW_BENCH_ONLY
# picks VM benchmarks (see all-vm.sh); CGW_BENCH_SCALE=0 skips bgp-scale.
# Exit status: 0 when every benchmark gave its figures, 1 otherwise (the
# results file holds whatever did).

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
OUT=${CGW_BENCH_OUT:-$BENCH_DIR/results.json}
export CGW_BUILD_DIR=${CGW_BUILD_DIR:-$SRC_DIR/build}
export CGW_VM_TIMEOUT=${CGW_VM_TIMEOUT:-10800}
SCALE_N=100000
if [[ ${CGW_BENCH_QUICK:-0} == 1 ]]; then
	export CGW_BENCH_RUNS=${CGW_BENCH_RUNS:-1} CGW_BENCH_HANDSHAKES=${CGW_BENCH_HANDSHAKES:-3}
	export CGW_BENCH_REKEYS=${CGW_BENCH_REKEYS:-4} CGW_LAB_IDLE=${CGW_LAB_IDLE:-10}
	SCALE_N=20000
fi

die() { echo "all.sh: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "run as root (the VM harness and the namespaces need it)"
[[ -x $CGW_BUILD_DIR/daemon/cgwd ]] || die "no $CGW_BUILD_DIR/daemon/cgwd: build first or set CGW_BUILD_DIR"
for b in /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh bird birdc swanctl nft valgrind qemu-system-x86_64 jq; do
	command -v "$b" >/dev/null ||
		die "missing $b (apt-get install \$(grep -v '^#' tests/vm/packages.txt lab/packages.txt) valgrind)"
done
CGW_REQUIRE_LIBRESWAN=1 bash "$SRC_DIR/tests/vm/prepare-libreswan.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/cgw-bench-all.XXXXXX")
trap 'rm -rf "$W"' EXIT
rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
date0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$SECONDS
failed=0

echo "######## VM benchmarks (one boot)"
(cd "$SRC_DIR" && bash tests/vm/vm-run.sh bench/all-vm.sh) 2>&1 | tee "$W/vm.log" || failed=1
grep '^CGW-BENCH-FAILED' "$W/vm.log" && failed=1
vm_s=$(( SECONDS - t0 ))

scale='{}'
if [[ ${CGW_BENCH_SCALE:-1} == 1 ]]; then
	echo "######## bgp-scale ($SCALE_N prefixes, host kernel)"
	if CGW_BENCH_JSON=$W/scale.json bash "$BENCH_DIR/bgp-scale.sh" "$SCALE_N" && [[ -s $W/scale.json ]]; then
		scale=$(<"$W/scale.json")
	else
		echo "CGW-BENCH-FAILED bgp-scale"
		failed=1
	fi
fi

# Every VM benchmark's JSON line, keyed by its name.
sed -n 's/^CGW-BENCH-JSON //p' "$W/vm.log" | jq -s --argjson scale "$scale" '
	(map({key: (.benchmark | gsub("-"; "_")), value: .}) | from_entries)
	+ (if $scale == {} then {} else {bgp_scale: $scale} end)' >"$W/benchmarks.json"

machine=$(jq -n --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
	--argjson cpus "$(nproc)" --arg mem "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
	--arg kernel "$(uname -r)" --arg os "$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)" \
	--arg qemu "$(qemu-system-x86_64 --version | head -n1)" \
	'{cpu: $cpu, cpus: $cpus, memory: $mem, host_kernel: $kernel, os: $os,
	  vm: "qemu TCG (no KVM), 2 vCPUs, 1 GiB, Debian 6.1 kernel", qemu: $qemu}')
pkg() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }
lsw_trees=(/var/cache/cgw-vm/libreswan/libreswan_*)
versions=$(jq -n --arg cgwd "$("$CGW_BUILD_DIR/daemon/cgwd" -V 2>/dev/null || echo cgwd)" \
	--arg sw "$(pkg strongswan-charon)" --arg bird "$(pkg bird2)" --arg frr "$(pkg frr)" \
	--arg vg "$(pkg valgrind)" \
	--arg lsw "${lsw_trees[-1]##*/}" \
	'{cgwd: $cgwd, strongswan: $sw, bird2: $bird, frr: $frr, valgrind: $vg,
	  libreswan: ($lsw | sub("^libreswan_"; ""))}')
jq -n --slurpfile b "$W/benchmarks.json" --argjson machine "$machine" --argjson versions "$versions" \
	--arg date "$date0" --arg rev "$rev" --arg l0 "$load0" --arg l1 "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--argjson wall "$(( SECONDS - t0 ))" --argjson vm_s "$vm_s" \
	--argjson quick "$([[ ${CGW_BENCH_QUICK:-0} == 1 ]] && echo true || echo false)" \
	'{date: $date, source: $rev, quick: $quick, machine: $machine, versions: $versions,
	  host_loadavg: {before: $l0, after: $l1}, wall_clock_s: $wall, vm_wall_clock_s: $vm_s,
	  benchmarks: $b[0]}' >"$OUT"

echo
echo "######## results in $OUT ($(( SECONDS - t0 )) s in all); the table for docs/benchmarks.md:"
echo
bash "$BENCH_DIR/table.sh" "$OUT"
exit "$failed"

#!/bin/bash
# all-vm.sh — every VM benchmark in one boot, run by bench/all.sh through
# tests/vm/vm-run.sh: converge (which covers tunnel-up: start -> both
# CHILD SAs, for all three gateways), handshake-cost, rekey-loss and
# bgp-failover, one after the other, each in its own bash. Each prints its
# table and its "CGW-BENCH-JSON {...}" line; a benchmark that fails prints
# "CGW-BENCH-FAILED NAME STATUS" and the others still run. The selection:
# CGW_BENCH_ONLY="converge handshake-cost ..." (default all four).

set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
read -r -a ONLY <<<"${CGW_BENCH_ONLY:-converge handshake-cost rekey-loss bgp-failover}"
failed=0
for name in "${ONLY[@]}"; do
	[[ -f $BENCH_DIR/$name-vm.sh ]] || { echo "CGW-BENCH-FAILED $name no-such-benchmark"; failed=1; continue; }
	printf '\n######## %s (%(%H:%M:%S)T)\n' "$name" -1
	t0=$SECONDS
	bash "$BENCH_DIR/$name-vm.sh"
	st=$?
	printf '######## %s: status %s after %s s\n' "$name" "$st" $(( SECONDS - t0 ))
	(( st == 0 )) || { echo "CGW-BENCH-FAILED $name $st"; failed=1; }
done
exit "$failed"

#!/bin/bash
# The rekey-loss benchmark (bench/rekey-loss-vm.sh) as a suite scenario:
# packets lost per CHILD SA rekey and blackhole detection/recovery times,
# cgwd against strongSwan, then Libreswan 4.10 in cgwd's place against the
# same strongSwan, in this boot. Passes when cgwd loses no packet over its
# >= 10 rekeys; Libreswan's figures are printed, not judged. The results
# line "CGW-BENCH-JSON {...}" is what bench/rekey-loss.sh saves as
# bench/results-rekey-loss.json. About 4-5 minutes under TCG, most of it
# Libreswan waiting out its 60 s retransmission budget in the blackhole.
#
# Environment: CGW_BUILD_DIR, CGW_SRC_DIR, and the benchmark's own
# CGW_BENCH_* variables (see bench/README.md).

set -euo pipefail
src=${CGW_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
exec bash "$src/bench/rekey-loss-vm.sh" "$@"

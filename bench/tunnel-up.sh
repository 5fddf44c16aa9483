#!/bin/bash
# tunnel-up.sh — how long from the gateway daemon's start until both
# tunnels to an emulated AWS side (strongSwan) have their CHILD SAs
# installed: cgwd against Libreswan 4.10 configured like the classic AWS
# recipe. One VM boot (tests/vm/vm-run.sh) runs bench/tunnel-up-vm.sh,
# which alternates the two gateways CGW_BENCH_RUNS times each (default 3).
#
#   sudo bench/tunnel-up.sh                       # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_RUNS=5 bench/tunnel-up.sh
#
# Prints the VM's console (the per-run lines, then a table: median, min,
# max and the ratio Libreswan/cgwd) and writes the results to
# bench/results-tunnel-up.json (CGW_BENCH_OUT to change that). Libreswan is
# fetched into the VM cache on the host first (tests/vm/prepare-libreswan.sh).
# Exit status: vm-run.sh's (0 = measured), 1 when no results came back.
# See bench/README.md.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The scenario may take a while under TCG: 6 runs of up to ~60 s each.
bench_vm tunnel-up 1800

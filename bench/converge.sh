#!/bin/bash
# converge.sh — start -> everything up, memory and idle cost of cgwd, of
# Libreswan 4.10 + FRR 8.4 and of strongSwan 5.9 + BIRD 2 in its place,
# against the same emulated AWS side. One VM boot (tests/vm/vm-run.sh) runs
# bench/converge-vm.sh, which runs the lab (lab/lab.sh with
# CGW_LAB_MEASURE=1) with each gateway in turn, CGW_BENCH_RUNS times each
# (default 3), interleaved.
#
#   sudo bench/converge.sh                        # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_RUNS=5 bench/converge.sh
#
# Prints the VM's console (each run's key lines, then a table: median,
# min, max and the ratios baseline/cgwd) and writes the results to
# bench/results-converge.json (CGW_BENCH_OUT to change that). Libreswan is
# fetched into the VM cache on the host first (tests/vm/prepare-libreswan.sh);
# FRR, strongSwan and BIRD come from the host (the VM sees its /). Exit
# status: vm-run.sh's (0 = measured), 1 when no results came back. See
# bench/README.md.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Under TCG a run takes 1.5-3 min: 9 runs, with room for a loaded host.
bench_vm converge 3600 /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh bird swanctl

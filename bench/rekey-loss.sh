#!/bin/bash
# rekey-loss.sh — packets lost per CHILD SA rekey, and the time from a
# blackholed path to "peer dead" and from its return to "tunnel up", for
# cgwd and for Libreswan 4.10 in its place, each against the same AWS-like
# strongSwan peer. One VM boot (tests/vm/vm-run.sh) runs
# bench/rekey-loss-vm.sh, which measures cgwd, then Libreswan.
#
#   sudo bench/rekey-loss.sh                      # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_REKEYS=20 bench/rekey-loss.sh
#
# Prints the VM's console (per-phase lines, then a table) and writes the
# results to bench/results-rekey-loss.json (CGW_BENCH_OUT to change that).
# Libreswan is fetched into the VM cache on the host first
# (tests/vm/prepare-libreswan.sh). Exit status: vm-run.sh's (0 = measured
# and cgwd lost nothing), 1 when no results came back. See bench/README.md.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_vm rekey-loss 1200

#!/bin/bash
# bgp-failover.sh — BGP failover under traffic and tunnel-up -> route
# times, cgwd against Libreswan 4.10 + FRR 8.4 in its place (issue #4 (a)
# and (b)). One VM boot (tests/vm/vm-run.sh) runs bench/bgp-failover-vm.sh,
# which runs the lab (lab/lab.sh, CGW_LAB_EXPECT=failover) with each
# gateway in turn, CGW_BENCH_RUNS times each (default 2).
#
#   sudo bench/bgp-failover.sh                    # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_RUNS=3 bench/bgp-failover.sh
#
# Prints the VM's console (each run's key lines, then a table: median,
# min, max and the ratio libreswan-frr/cgwd) and writes the results to
# bench/results-bgp-failover.json (CGW_BENCH_OUT to change that).
# Libreswan is fetched into the VM cache on the host first
# (tests/vm/prepare-libreswan.sh); FRR, strongSwan and BIRD come from the
# host (the VM sees its /). Exit status: vm-run.sh's (0 = measured), 1
# when no results came back. See bench/README.md.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Under TCG a cgwd run takes ~2 min, a Libreswan + FRR run ~3 min.
bench_vm bgp-failover 3600 /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh bird nft

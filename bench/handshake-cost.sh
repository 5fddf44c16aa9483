#!/bin/bash
# handshake-cost.sh — CPU instructions per IKE handshake on the responder
# (callgrind), cgwd against strongSwan's charon and Libreswan's pluto, all
# answering the same scripted strongSwan initiator. One VM boot
# (tests/vm/vm-run.sh) runs bench/handshake-cost-vm.sh.
#
#   sudo bench/handshake-cost.sh                  # after building cgwd
#   sudo CGW_BUILD_DIR=/tmp/b CGW_BENCH_HANDSHAKES=20 bench/handshake-cost.sh
#
# Prints the VM's console (a table: Ir with 0 and K handshakes, Ir per
# handshake, the ratio to cgwd) and writes bench/results-handshake-cost.json
# (CGW_BENCH_OUT to change that). Needs valgrind on the host (the VM sees
# its /); Libreswan is fetched into the VM cache first
# (tests/vm/prepare-libreswan.sh). See bench/README.md.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_vm handshake-cost 3600 valgrind

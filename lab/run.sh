#!/bin/bash
# lab/run.sh — run the cgw lab (lab/lab.sh) through the kernel harness:
# natively when this kernel has ESP, VTI and AES-GCM, otherwise in the
# test VM (tests/vm/vm-run.sh). Needs root. Every CGW_* variable reaches
# lab.sh (see the top of lab.sh for the list), e.g.
#
#   sudo lab/run.sh                          # the demo; exit 0 = pass
#   sudo CGW_LAB_HOLD=1 lab/run.sh           # keep it up, explore, Ctrl-C
#   sudo CGW_LAB_GATEWAY=strongswan CGW_LAB_EXPECT=up lab/run.sh
#                                            # check the lab itself with a
#                                            # strongSwan+BIRD gateway
#   sudo CGW_VM=force lab/run.sh             # always use the VM
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$LAB_DIR")
VM_RUN=$SRC_DIR/tests/vm/vm-run.sh
BUILD=${CGW_BUILD_DIR:-$SRC_DIR/build}

[[ $EUID -eq 0 ]] || { echo "lab/run.sh: run as root (sudo lab/run.sh)" >&2; exit 1; }

# Fail before booting a VM for nothing.
if [[ ${CGW_LAB_GATEWAY:-cgwd} == cgwd && ! -x $BUILD/daemon/cgwd ]]; then
	echo "lab/run.sh: no $BUILD/daemon/cgwd: build first (meson setup build && ninja -C build) or set CGW_BUILD_DIR" >&2
	exit 1
fi

# Holding the lab open is for exploring it from a shell here: a VM's
# namespaces cannot be entered from the host, so run natively unless
# the caller chose otherwise. The control plane works on any kernel.
if [[ ${CGW_LAB_HOLD:-0} == 1 && -z ${CGW_VM:-} ]]; then
	echo "lab/run.sh: CGW_LAB_HOLD=1: running natively (set CGW_VM=force for the VM)" >&2
	export CGW_VM=native
fi

if [[ ! -f $VM_RUN ]]; then
	echo "lab/run.sh: $VM_RUN missing: running lab.sh natively" >&2
	exec bash "$LAB_DIR/lab.sh" "$@"
fi
exec bash "$VM_RUN" "$LAB_DIR/lab.sh" "$@"

#!/bin/bash
# prepare-libreswan.sh — host-side preparation for the Libreswan scenarios
# (scenarios/30-ike-libreswan.sh, bench/tunnel-up-vm.sh): fetch and unpack
# Debian's libreswan into the VM cache ($CGW_VM_CACHE/libreswan, default
# /var/cache/cgw-vm/libreswan) BEFORE the VM boots, since the VM has no
# network. Once per version; afterwards a run costs one `apt-cache show`.
# See libreswan.sh for what is fetched and how scenarios use it.
#
# Meant to be run by vm-run.sh on the host before it boots the VM (a
# "prepare hook"), and by hand before vm-run.sh until that is wired:
#
#   bash tests/vm/prepare-libreswan.sh && bash tests/vm/vm-run.sh run-suite.sh 30-ike
#
# Exit status: 0, also when the download fails (offline, no apt source):
# the scenarios then skip with a message saying so. Set
# CGW_REQUIRE_LIBRESWAN=1 to make that a failure (exit 1) instead.

set -euo pipefail
# shellcheck source=libreswan.sh
source "$(dirname "${BASH_SOURCE[0]}")/libreswan.sh"

if tree=$(lsw_fetch); then
	printf 'prepare-libreswan: %s (%s)\n' "$tree" \
		"$(paste -sd, "$tree/.packages" 2>/dev/null || echo '?')" >&2
	exit 0
fi
if [[ ${CGW_REQUIRE_LIBRESWAN:-0} == 1 ]]; then
	echo "prepare-libreswan: FAIL: no Libreswan for the VM" >&2
	exit 1
fi
echo "prepare-libreswan: warning: no Libreswan for the VM; its scenarios will skip" >&2
exit 0

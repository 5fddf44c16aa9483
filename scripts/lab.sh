#!/bin/bash
# The main job (README): installs what the lab needs, builds cgw, and runs
# the lab: cgwd on a gateway namespace against an emulated AWS side made of
# real strongSwan and BIRD, ending with `cgwctl status`. The lab runs in
# the kernel VM when this host's kernel lacks ESP/VTI (see lab/README.md).
# CGW_LAB_HOLD=1 keeps it running for you to explore.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/deps.sh
[ -d build/meson-info ] || meson setup build
ninja -C build
export CGW_BUILD_DIR="$top/build"
exec bash lab/run.sh "$@"

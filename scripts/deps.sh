#!/bin/bash
# Install every Debian package cgw needs to build, test and run the lab:
# the union of scripts/packages-build.txt, tests/vm/packages.txt and
# lab/packages.txt. Idempotent; needs root (or sudo).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
lists=("$top/scripts/packages-build.txt" "$top/tests/vm/packages.txt" "$top/lab/packages.txt")

mapfile -t pkgs < <(cat "${lists[@]}" 2>/dev/null | sed 's/#.*//' | awk 'NF {print $1}' | sort -u)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} packages"

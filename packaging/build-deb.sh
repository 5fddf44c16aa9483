#!/bin/bash
# build-deb.sh [OUTDIR] — build the cgw .deb from this source tree:
# copy the tree (tracked and untracked files, no build dirs) to a temp dir,
# put packaging/debian there as debian/, run `dpkg-buildpackage -us -uc -b`,
# and leave the .deb (and .buildinfo/.changes) in OUTDIR (default ./dist).
#
# Unit tests are skipped (DEB_BUILD_OPTIONS=nocheck) unless CGW_DEB_CHECK=1.
# Needs: dpkg-dev debhelper fakeroot plus the Build-Depends of
# packaging/debian/control (`dpkg-checkbuilddeps` says which are missing).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d /tmp/cgw-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
upstream=${version%-*}
tree=$tmp/cgw-$upstream
mkdir -p "$tree"
# The source as git sees it (tracked + untracked, not ignored), else a plain
# copy without build directories.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		grep -zv -e '^build[^/]*/' -e '^debian/' -e '^dist/' |
		while IFS= read -r -d '' f; do [[ -e $src/$f ]] && printf '%s\0' "$f"; done |
		tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude=./debian --exclude=./dist -cf - . |
		tar -C "$tree" -xf -
fi
cp -r "$src/packaging/debian" "$tree/debian"

cd "$tree"
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-$([[ ${CGW_DEB_CHECK:-0} == 1 ]] || echo nocheck)}
export DEB_BUILD_PROFILES=${DEB_BUILD_PROFILES:-$([[ ${CGW_DEB_CHECK:-0} == 1 ]] || echo nocheck)}
dpkg-checkbuilddeps ${DEB_BUILD_PROFILES:+-P "$DEB_BUILD_PROFILES"}
dpkg-buildpackage -us -uc -b -j"${CGW_DEB_JOBS:-2}"
cd "$tmp"
cp -v ./*.deb ./*.buildinfo ./*.changes "$out"/
echo "built: $(ls "$out"/cgw_"${version}"_*.deb)"

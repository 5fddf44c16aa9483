#!/bin/bash
# build-rpm.sh [OUTDIR] — build the cgw binary RPM from this source tree
# with packaging/cgw.spec: tarball of the tree (tracked and untracked files,
# no build dirs) in a temp rpmbuild topdir, `rpmbuild -bb --nodeps`, RPMs
# copied to OUTDIR (default ./dist). On Debian: apt-get install rpm (the
# build dependencies are then Debian's, hence --nodeps; the %meson and
# systemd macros are absent and the spec falls back to plain commands).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
top=$(mktemp -d /tmp/cgw-rpm.XXXXXX)
trap 'rm -rf "$top"' EXIT

version=$(sed -n 's/^Version:[[:space:]]*//p' "$src/packaging/cgw.spec")
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS} "$top/stage/cgw-$version"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		grep -zv -e '^build[^/]*/' -e '^debian/' -e '^dist/' |
		while IFS= read -r -d '' f; do [[ -e $src/$f ]] && printf '%s\0' "$f"; done |
		tar -C "$src" --null -T - -cf - | tar -C "$top/stage/cgw-$version" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude=./debian --exclude=./dist -cf - . |
		tar -C "$top/stage/cgw-$version" -xf -
fi
tar -C "$top/stage" -czf "$top/SOURCES/cgw-$version.tar.gz" "cgw-$version"
cp "$src/packaging/cgw.sysusers" "$top/SOURCES/"
cp "$src/packaging/cgw.spec" "$top/SPECS/"

rpmbuild -bb --nodeps \
	--define "_topdir $top" \
	--define "debug_package %{nil}" \
	--define "_smp_mflags -j${CGW_RPM_JOBS:-2}" \
	"$top/SPECS/cgw.spec"
find "$top/RPMS" -name '*.rpm' -exec cp -v {} "$out"/ \;
for f in "$out"/cgw-"$version"-*.rpm; do
	echo "built: $f"
	rpm -qlvp "$f"
done

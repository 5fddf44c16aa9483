#!/bin/bash
# run.sh CGWD CGWCTL — packaging checks:
#   unit-verify    systemd-analyze verify packaging/cgwd.service (ExecStart/
#                  ExecReload pointed at the built binaries)
#   unit-exposure  systemd-analyze security --offline=yes: exposure <= 2.0
#   sysusers-tmpfiles  cgw.sysusers + cgw.tmpfiles applied to a scratch root:
#                  user cgw, /etc/cgw 0700 cgw:cgw
#   privdrop       test-privdrop.sh (root, inside unshare -n)
#   deb, rpm       only with CGW_TEST_PACKAGES=1 (slow): build-deb.sh +
#                  lintian (no errors), build-rpm.sh
# A check whose tool is missing is skipped with the reason. Exit 0 when
# nothing failed (77 when everything was skipped), 1 otherwise.
set -u

CGWD=${1:?usage: run.sh CGWD CGWCTL}
CGWCTL=${2:?usage: run.sh CGWD CGWCTL}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
unit=$src/packaging/cgwd.service
max_exposure=${CGW_MAX_EXPOSURE:-2.0}
work=$(mktemp -d /tmp/cgw-pkgtest.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0

result() {	# result NAME pass|fail|skip REASON
	case $2 in
	pass) passed=$((passed + 1)); echo "PASS $1${3:+: $3}" ;;
	fail) failed=$((failed + 1)); echo "FAIL $1${3:+: $3}" ;;
	skip) skipped=$((skipped + 1)); echo "SKIP $1${3:+: $3}" ;;
	esac
}

# --- the unit
if ! command -v systemd-analyze >/dev/null; then
	result unit-verify skip "systemd-analyze not installed"
	result unit-exposure skip "systemd-analyze not installed"
else
	mkdir -p "$work/unit"
	# Documentation=man:... makes verify run man(1): not installed here.
	sed -e '/^Documentation=/d' -e "s|/usr/sbin/cgwd|$CGWD|g" -e "s|/usr/sbin/cgwctl|$CGWCTL|g" "$unit" \
		>"$work/unit/cgwd.service"
	if out=$(cd "$work/unit" && systemd-analyze verify ./cgwd.service 2>&1) && [[ -z $out ]]; then
		result unit-verify pass
	else
		result unit-verify fail "$out"
	fi
	out=$(cd "$work/unit" && systemd-analyze security --offline=yes --no-pager \
		./cgwd.service 2>&1)
	level=$(sed -n 's/.*Overall exposure level for cgwd.service: \([0-9.]*\).*/\1/p' <<<"$out")
	if [[ -z $level ]]; then
		if grep -q "unrecognized option\|--offline" <<<"$out"; then
			result unit-exposure skip "systemd-analyze security --offline needs systemd >= 250"
		else
			result unit-exposure fail "no exposure figure: $out"
		fi
	elif awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l <= m) }'; then
		result unit-exposure pass "$level <= $max_exposure"
	else
		grep '✗' <<<"$out"
		result unit-exposure fail "$level > $max_exposure"
	fi
fi

# --- sysusers.d and tmpfiles.d, applied to a scratch root
if ! command -v systemd-sysusers >/dev/null || ! command -v systemd-tmpfiles >/dev/null; then
	result sysusers-tmpfiles skip "systemd-sysusers/systemd-tmpfiles not installed"
elif [[ $(id -u) != 0 ]]; then
	result sysusers-tmpfiles skip "needs root (chown in the scratch root)"
else
	root=$work/root
	mkdir -p "$root/etc"
	: >"$root/etc/passwd"; : >"$root/etc/group"
	if systemd-sysusers --root="$root" "$src/packaging/cgw.sysusers" >/dev/null 2>&1 &&
	   systemd-tmpfiles --root="$root" --create "$src/packaging/cgw.tmpfiles" >/dev/null 2>&1; then
		uid=$(awk -F: '$1 == "cgw" { print $3 }' "$root/etc/passwd")
		shell=$(awk -F: '$1 == "cgw" { print $7 }' "$root/etc/passwd")
		got=$(stat -c '%a %u %g' "$root/etc/cgw" 2>/dev/null)
		if [[ -n $uid && $uid -lt 1000 && $shell == */nologin && $got == "700 $uid $uid" ]]; then
			result sysusers-tmpfiles pass "system user cgw ($uid), /etc/cgw $got"
		else
			result sysusers-tmpfiles fail "user cgw uid '$uid' shell '$shell', /etc/cgw '$got'"
		fi
	else
		result sysusers-tmpfiles fail "systemd-sysusers or systemd-tmpfiles refused the files"
	fi
fi

# --- privdrop
"$here/test-privdrop.sh" "$CGWD" "$CGWCTL" >"$work/privdrop.log" 2>&1
rc=$?
sed 's/^/    /' "$work/privdrop.log"
case $rc in
0) result privdrop pass ;;
77) result privdrop skip "$(sed -n 's/^SKIP: //p' "$work/privdrop.log")" ;;
*) result privdrop fail "exit $rc" ;;
esac

# --- packages (slow, opt-in)
if [[ ${CGW_TEST_PACKAGES:-0} != 1 ]]; then
	result deb skip "set CGW_TEST_PACKAGES=1 to build the .deb"
	result rpm skip "set CGW_TEST_PACKAGES=1 to build the .rpm"
else
	if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
		result deb skip "dpkg-dev/debhelper not installed"
	elif "$src/packaging/build-deb.sh" "$work/dist" >"$work/deb.log" 2>&1; then
		deb=$(ls "$work"/dist/cgw_*.deb | grep -v dbgsym | head -1)
		dpkg -c "$deb" | awk '{ print "    " $1, $2, $6 }'
		missing=
		for f in ./usr/sbin/cgwd ./usr/sbin/cgwctl ./lib/systemd/system/cgwd.service \
			./usr/lib/sysusers.d/cgw.conf ./usr/lib/tmpfiles.d/cgw.conf \
			./usr/lib/modules-load.d/cgw.conf; do
			dpkg -c "$deb" | awk '{ print $6 }' | grep -qx "$f" || missing+=" $f"
		done
		if [[ -n $missing ]]; then
			result deb fail "missing from the .deb:$missing"
		elif ! command -v lintian >/dev/null; then
			result deb pass "built; lintian not installed"
		elif lint=$(lintian --fail-on error "$deb" 2>&1); then
			result deb pass "built, lintian: no errors"
			grep -v 'running with root' <<<"$lint" | sed 's/^/    /'
		else
			result deb fail "lintian: $lint"
		fi
	else
		tail -30 "$work/deb.log"
		result deb fail "build-deb.sh failed"
	fi
	if ! command -v rpmbuild >/dev/null; then
		result rpm skip "rpmbuild not installed (apt-get install rpm)"
	elif "$src/packaging/build-rpm.sh" "$work/dist" >"$work/rpm.log" 2>&1; then
		rpm=$(ls "$work"/dist/cgw-*.rpm | head -1)
		list=$(rpm -qlp "$rpm")
		sed 's/^/    /' <<<"$list"
		missing=
		for f in /usr/sbin/cgwd /usr/sbin/cgwctl /usr/lib/systemd/system/cgwd.service \
			/usr/lib/sysusers.d/cgw.conf /usr/lib/tmpfiles.d/cgw.conf \
			/usr/lib/modules-load.d/cgw.conf /etc/cgw; do
			grep -qx "$f" <<<"$list" || missing+=" $f"
		done
		if [[ -z $missing ]]; then result rpm pass; else result rpm fail "missing:$missing"; fi
	else
		tail -30 "$work/rpm.log"
		result rpm fail "build-rpm.sh failed"
	fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
((failed)) && exit 1
((passed == 0)) && exit 77
exit 0

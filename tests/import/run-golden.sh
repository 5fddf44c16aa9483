#!/bin/bash
# Golden tests of `cgwctl import`: for every cases/NAME.args, run the
# importer on the fixtures with those arguments plus `-o out/cgw.conf` in a
# scratch copy, and compare the exit status (NAME.status), stderr
# (NAME.stderr, scratch paths shown as @WORK@) and the written config
# (NAME.conf). Every written config must have mode 0600, its PSK files too,
# nothing may reach stdout, and `cgwd -n -c` must accept it. Then a few
# behaviours: stdout output without -o carries no PSK, existing files are
# not overwritten without --force.
#
# usage: run-golden.sh IMPORTER SRCDIR [CGWD] [--update]
#   IMPORTER is tests/import/import-driver, or cgwctl (then "import" is added).
set -euo pipefail

drv=$(realpath "$1")
src=$(realpath "$2")
cgwd=${3:-}
update=${4:-}
if [ "$cgwd" = --update ]; then update=--update; cgwd=; fi
[ -z "$cgwd" ] || cgwd=$(realpath "$cgwd")
pre=()
[ "$(basename "$drv")" != cgwctl ] || pre=(import)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# $1 name, $2 expected file, $3 actual file
compare() {
	if [ "$update" = --update ]; then cp "$3" "$2"; fi
	if [ -f "$2" ] && diff -u "$2" "$3"; then ok "$1"; else bad "$1"; fi
}

mode_of() { stat -c %a "$1"; }

check_written() {	# $1 name, $2 work dir
	local f bad_mode=""
	for f in "$2"/out/*; do
		[ "$(mode_of "$f")" = 600 ] || bad_mode="$bad_mode $(basename "$f")"
	done
	if [ -z "$bad_mode" ]; then ok "$1 modes 0600"; else bad "$1 modes:$bad_mode"; fi
	[ -n "$cgwd" ] || return 0
	if (cd "$2/out" && "$cgwd" -n -c cgw.conf) >"$2/cgwd.out" 2>&1; then
		ok "$1 cgwd -n"
	else
		cat "$2/cgwd.out"; bad "$1 cgwd -n"
	fi
}

run_case() {	# $1 args file
	local name work status line
	name=$(basename "$1" .args)
	work=$tmp/$name
	mkdir -p "$work/out"
	cp -r "$src/fixtures" "$work/fixtures"
	read -r line <"$1"
	eval "set -- $line"
	status=0
	(cd "$work" && "$drv" "${pre[@]}" "$@" -o out/cgw.conf) \
		>"$work/stdout" 2>"$work/stderr.raw" || status=$?
	sed "s#$work#@WORK@#g" "$work/stderr.raw" >"$work/stderr"
	echo "$status" >"$work/status"
	compare "$name status" "$src/cases/$name.status" "$work/status"
	compare "$name stderr" "$src/cases/$name.stderr" "$work/stderr"
	if [ -s "$work/stdout" ]; then bad "$name: wrote to stdout"; fi
	if [ "$status" = 0 ]; then
		compare "$name config" "$src/cases/$name.conf" "$work/out/cgw.conf"
		check_written "$name" "$work"
	elif [ -e "$work/out/cgw.conf" ]; then
		bad "$name: failed but wrote a config"
	fi
}

for args in "$src"/cases/*.args; do
	run_case "$args"
done

# Without -o: the config on stdout, PSK files by absolute path, no PSK text.
work=$tmp/stdout-case
mkdir -p "$work/psk"
if "$drv" "${pre[@]}" aws-xml "$src/fixtures/xml-bgp.xml" --psk-dir "$work/psk" \
	>"$work/stdout" 2>/dev/null &&
   grep -q "^psk-file = $(realpath "$work/psk")/aws-1.psk$" "$work/stdout" &&
   ! grep -qF -f "$work/psk/aws-1.psk" "$work/stdout" &&
   ! grep -qF -f "$work/psk/aws-2.psk" "$work/stdout"; then
	ok "stdout: config without PSKs"
else
	bad "stdout: config without PSKs"
fi

# Existing files are kept unless --force.
if "$drv" "${pre[@]}" aws-xml "$src/fixtures/xml-bgp.xml" --psk-dir "$work/psk" \
	>/dev/null 2>"$work/err" ; then
	bad "refuses to overwrite PSK files"
elif grep -q "exists (use --force to overwrite)" "$work/err"; then
	ok "refuses to overwrite PSK files"
else
	bad "refuses to overwrite PSK files (message)"
fi
if "$drv" "${pre[@]}" aws-xml "$src/fixtures/xml-bgp.xml" --psk-dir "$work/psk" \
	--force >/dev/null 2>&1; then
	ok "--force overwrites"
else
	bad "--force overwrites"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

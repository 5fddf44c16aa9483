#!/bin/bash
# Golden config tests: `cgwd -n -v` on every tests/conf/good/*.conf must
# print exactly good/NAME.expected, and that output must parse back to
# itself; `cgwd -n` on every tests/conf/bad/*.conf must fail (status 1)
# printing exactly bad/NAME.errors. The fixtures are copied to a temporary
# directory first so that file modes are what the test says (git keeps
# no modes): everything 0600, except files named world-readable*.
#
# usage: run-golden.sh CGWD SRCDIR [--update]
set -euo pipefail

cgwd=$(realpath "$1")
src=$(realpath "$2")
update=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp -r "$src/good" "$src/bad" "$tmp/"
chmod 600 "$tmp"/good/* "$tmp"/bad/*
chmod 644 "$tmp"/bad/world-readable* 2>/dev/null || true

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# $1 name, $2 expected file, $3 actual file
compare() {
	if [ "$update" = --update ]; then
		cp "$3" "$2"
	fi
	if diff -u "$2" "$3"; then ok "$1"; else bad "$1"; fi
}

for conf in "$tmp"/good/*.conf; do
	name=$(basename "$conf" .conf)
	cd "$tmp/good"
	if ! "$cgwd" -n -v -c "$name.conf" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		cat "$tmp/$name.err"
		bad "good/$name: rejected"
		continue
	fi
	compare "good/$name canonical" "$src/good/$name.expected" "$tmp/$name.out"
	# The canonical form is a config too, and prints as itself.
	cp "$tmp/$name.out" "$tmp/good/$name.canon"
	chmod 600 "$tmp/good/$name.canon"
	if "$cgwd" -n -v -c "$name.canon" >"$tmp/$name.out2" 2>"$tmp/$name.err2" &&
	   cmp -s "$tmp/$name.out" "$tmp/$name.out2"; then
		ok "good/$name round trip"
	else
		cat "$tmp/$name.err2"; diff -u "$tmp/$name.out" "$tmp/$name.out2" || true
		bad "good/$name round trip"
	fi
done

for conf in "$tmp"/bad/*.conf; do
	name=$(basename "$conf" .conf)
	cd "$tmp/bad"
	status=0
	"$cgwd" -n -c "$name.conf" >/dev/null 2>"$tmp/$name.errors" || status=$?
	if [ "$status" != 1 ]; then
		bad "bad/$name: exit status $status, expected 1"
		continue
	fi
	compare "bad/$name errors" "$src/bad/$name.errors" "$tmp/$name.errors"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

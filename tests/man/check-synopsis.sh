#!/bin/sh
# The SYNOPSIS of each man page must be the program's own usage lines.
#
#   tests/man/check-synopsis.sh [CGWD [CGWCTL]]
#
# Defaults: build/daemon/cgwd, build/cgwctl/cgwctl; the pages are read
# from docs/man next to this script. The .scd source's SYNOPSIS (markup
# * and _ removed, one line per paragraph) is compared with the usage
# block the binary prints (cgwd -h, cgwctl --help: the lines before the
# first empty one, "usage:" removed). Exit 0 when both match, 1 with a
# diff otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
man=$here/../../docs/man
cgwd=${1:-build/daemon/cgwd}
cgwctl=${2:-build/cgwctl/cgwctl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# SYNOPSIS lines of an .scd page.
page_synopsis() {
	awk '/^# /{ on = ($0 == "# SYNOPSIS"); next }
	     on && NF { gsub(/\*/, ""); gsub(/\\_/, "\001"); gsub(/_/, "");
			gsub(/\001/, "_"); sub(/\+\+$/, ""); sub(/[ \t]+$/, ""); print }' "$1"
}

# Usage lines of a --help text on stdin.
help_usage() {
	awk '/^$/{ exit } { sub(/^[Uu]sage:[ \t]*/, ""); sub(/^[ \t]+/, "");
			    sub(/[ \t]+$/, ""); print }'
}

check() {	# check NAME PAGE PROGRAM HELP-OPTION
	if ! "$3" "$4" >"$tmp/$1.help" 2>&1; then
		echo "FAIL $1: '$3 $4' failed"; cat "$tmp/$1.help"; status=1; return
	fi
	help_usage <"$tmp/$1.help" >"$tmp/$1.usage"
	page_synopsis "$2" >"$tmp/$1.synopsis"
	if [ ! -s "$tmp/$1.synopsis" ]; then
		echo "FAIL $1: no SYNOPSIS in $2"; status=1
	elif diff -u --label "$3 $4" --label "$2 SYNOPSIS" "$tmp/$1.usage" \
		"$tmp/$1.synopsis"; then
		echo "ok   $1: SYNOPSIS matches '$3 $4' ($(wc -l <"$tmp/$1.usage") lines)"
	else
		status=1
	fi
}

check cgwd "$man/cgwd.8.scd" "$cgwd" -h
check cgwctl "$man/cgwctl.8.scd" "$cgwctl" --help
# cgw.conf(5) has no program: its SYNOPSIS is the default path.
[ "$(page_synopsis "$man/cgw.conf.5.scd")" = "/etc/cgw/cgw.conf" ] ||
	{ echo "FAIL cgw.conf.5: SYNOPSIS is not /etc/cgw/cgw.conf"; status=1; }
exit $status

#!/bin/bash
# Hostile BGP input on the wire: cgwd's embedded speaker against a scripted
# peer (tests/bgp/hostile.py, raw TCP) that sends every RFC 7606 / RFC 4271
# 6.x error class in UPDATE, header and OPEN, and against connection floods
# on port 179. Each case checks cgwd's real reaction: the NOTIFICATION (code,
# subcode, data), or treat-as-withdraw / attribute discard with the session
# kept, the prefix in or out of `cgwctl bgp routes` and the kernel,
# update_errors counted and a log line; then that the session still works.
#
#   cgwt-bgph-i "the internet"         cgwt-bgph-a: cgwd AS 65000         cgwt-bgph-b: hostile.py
#  +----------------------+ veth-i    +-------------------------+ veth-a  +--------------------------+
#  | 198.51.100.1         |-----------| 198.51.100.2 (public,   |---------| 10.99.0.1  h1  AS 64512  |
#  | connects to :179 of  |    veth-o |  [gateway] local-addr.) | veth-b  | 10.99.0.11-15 h2-h6      |
#  | the public address:  |           | 10.99.0.2/24: BGP only  |         |   AS 64512 (eBGP)        |
#  | refused (RST)        |           |  here (local-address)   |         | 10.99.0.20 ib  AS 65000  |
#  +----------------------+           | 192.168.2.1/24 on lan0  |         | 10.99.0.30 obs AS 64600  |
#                                     |  (network, exported)    |         |   (export = all)         |
#                                     +-------------------------+         | 10.99.0.9  a stranger    |
#                                                                         +--------------------------+
# All neighbors are passive (hostile.py opens) with local-address 10.99.0.2.
# h1-h6 share the UPDATE error cases in turn: cgwd logs at most 10 UPDATE
# errors per neighbor, then one per 6 s, and every case wants its line.
#
#   tests/bgp/hostile.sh [CGWD [CGWCTL]]   (root; default build/daemon/cgwd,
#                                           build/cgwctl/cgwctl)
#   CGW_HOSTILE_CASES="ORIGIN OPEN"  only the cases whose names contain these
#   words (the floods run only without it);  CGW_HOSTILE_KEEP=1 keep the work
#   directory;  CGW_HOSTILE_FLOOD=N  stranger connections (default 10000).
#
# Exit 0 all passed, 1 a FAIL, 77 skipped (not root, no network namespaces,
# or a program missing: the line says which).
set -u
export LC_ALL=C
CGWD=${1:-${CGWD:-build/daemon/cgwd}}
CGWCTL=${2:-${CGWCTL:-build/cgwctl/cgwctl}}
NFLOOD=${CGW_HOSTILE_FLOOD:-10000}
ONLY=${CGW_HOSTILE_CASES:-}

A=cgwt-bgph-a B=cgwt-bgph-b I=cgwt-bgph-i
AADDR=10.99.0.2 PUB=198.51.100.2 INET=198.51.100.1 STRANGER=10.99.0.9
PY=/usr/bin/python3

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
[ -x "$CGWD" ] || { echo "FAIL: no cgwd at $CGWD"; exit 1; }
[ -x "$CGWCTL" ] || { echo "FAIL: no cgwctl at $CGWCTL"; exit 1; }
for p in ip ss "$PY"; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: missing $p (Debian: iproute2 python3)"; exit 77; }
done
if ! ip netns add cgwt-bgph-probe 2>/dev/null; then
	echo "SKIP: cannot create a network namespace"; exit 77
fi
ip netns del cgwt-bgph-probe
CGWD=$(realpath "$CGWD") CGWCTL=$(realpath "$CGWCTL")
HOSTILE=$(cd "$(dirname "$0")" && pwd)/hostile.py

W=$(mktemp -d /tmp/cgwt-bgph.XXXXXX)
chmod 755 "$W"
fails=0 passes=0 CGW_PID=
T0=${EPOCHREALTIME/./}

cleanup() {
	if [ -n "$CGW_PID" ]; then
		kill "$CGW_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$CGW_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$CGW_PID" 2>/dev/null
		wait "$CGW_PID" 2>/dev/null
	fi
	for ns in $A $B $I; do ip netns del $ns 2>/dev/null; done
	if [ "$fails" -gt 0 ] || [ "${CGW_HOSTILE_KEEP:-}" = 1 ]; then
		echo "logs and configs kept in $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
wait_until() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
# run_py NS ARGS...: hostile.py in NS; its PASS/FAIL lines counted here
run_py() {
	local ns=$1 rc
	shift
	ip netns exec "$ns" "$PY" "$HOSTILE" "$@" 2>&1 | tee "$W/py.out"
	rc=${PIPESTATUS[0]}
	passes=$((passes + $(grep -c '^PASS ' "$W/py.out")))
	fails=$((fails + $(grep -c '^FAIL ' "$W/py.out")))
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$W/py.out"; then
		fail "hostile.py $1 exited $rc without a FAIL line"
	fi
}

# ---- namespaces ----
for ns in $A $B $I; do ip netns del $ns 2>/dev/null; ip netns add $ns; ip -n $ns link set lo up; done
ip link add veth-a netns $A type veth peer name veth-b netns $B
ip link add veth-o netns $A type veth peer name veth-i netns $I
ip -n $A addr add $AADDR/24 dev veth-a
ip -n $A addr add $PUB/24 dev veth-o
ip -n $I addr add $INET/24 dev veth-i
for a in 10.99.0.1 10.99.0.11 10.99.0.12 10.99.0.13 10.99.0.14 10.99.0.15 10.99.0.20 10.99.0.30 $STRANGER; do
	ip -n $B addr add $a/24 dev veth-b
done
ip -n $A link add lan0 type veth peer name lan1
ip -n $A addr add 192.168.2.1/24 dev lan0
for l in veth-a veth-o lan0 lan1; do ip -n $A link set $l up; done
ip -n $B link set veth-b up
ip -n $I link set veth-i up
wait_until 5 ip netns exec $B ping -c1 -W1 -q $AADDR >/dev/null 2>&1 ||
	{ fail "namespaces: $AADDR not reachable from $B"; exit 1; }
# many short connections: let TIME_WAIT not run the ports out
ip netns exec $B sysctl -qw net.ipv4.ip_local_port_range="10000 65000"

# ---- cgwd ----
neighbor() {	# NAME ADDRESS ASN EXPORT
	printf '\n[neighbor %s]\naddress = %s\nremote-asn = %s\nlocal-address = %s\n' "$1" "$2" "$3" $AADDR
	printf 'passive = yes\nhold-time = 90s\nexport = %s\n' "$4"
}
{
	cat <<-EOF
	[gateway]
	control-socket = $W/cgw.sock
	local-address = $PUB

	[bgp]
	asn = 65000
	router-id = $AADDR
	network = 192.168.2.0/24
	network-mode = always
	EOF
	neighbor h1 10.99.0.1 64512 local
	neighbor h2 10.99.0.11 64512 local
	neighbor h3 10.99.0.12 64512 local
	neighbor h4 10.99.0.13 64512 local
	neighbor h5 10.99.0.14 64512 local
	neighbor h6 10.99.0.15 64512 local
	neighbor ib 10.99.0.20 65000 local
	neighbor obs 10.99.0.30 64600 all
} >"$W/cgw.conf"
chmod 600 "$W/cgw.conf"
ip netns exec $A "$CGWD" -c "$W/cgw.conf" -d bgp >"$W/cgw.log" 2>&1 &
CGW_PID=$!
wait_until 5 test -S "$W/cgw.sock" || { fail "cgwd did not start"; tail "$W/cgw.log"; exit 1; }
cat >"$W/env" <<-EOF
CGWCTL=$CGWCTL
SOCK=$W/cgw.sock
LOG=$W/cgw.log
PID=$CGW_PID
NS_A=$A
CGW_ADDR=$AADDR
CGW_ID=$AADDR
CGW_AS=65000
CGW_NET=192.168.2.0/24
STRANGER=$STRANGER
NB_h1=10.99.0.1,64512
NB_h2=10.99.0.11,64512
NB_h3=10.99.0.12,64512
NB_h4=10.99.0.13,64512
NB_h5=10.99.0.14,64512
NB_h6=10.99.0.15,64512
NB_ib=10.99.0.20,65000
NB_obs=10.99.0.30,64600
EOF
echo "cgwd: $CGWD (pid $CGW_PID), $(python3 --version)"

# ---- where cgwd listens: only the configured local address ----
wait_until 3 eval "ip netns exec $A ss -Hltn | grep -q ':179 '"
listen=$(ip netns exec $A ss -Hltn | awk '{ print $4 }' | sort | paste -sd ' ')
if [ "$listen" = "$AADDR:179" ]; then
	pass "listeners: cgwd listens on $listen only (ss -ltn in its namespace), not on $PUB or 0.0.0.0"
else
	fail "listeners: ss -ltn shows '$listen', want only $AADDR:179"
fi

# ---- the cases: UPDATE, header, OPEN ----
# shellcheck disable=SC2086
run_py $B cases "$W/env" --errors="$W/errors.json" $ONLY

# every hostile session is closed now: nothing learned is left, in cgwctl or the kernel
learned() {
	"$CGWCTL" -s "$W/cgw.sock" bgp routes --json 2>/dev/null |
		"$PY" -c 'import json, sys; print(len(json.load(sys.stdin).get("routes", [])))'
}
kroutes() { ip -n $A -4 route show proto bgp | wc -l; }
if wait_until 5 eval '[ "$(learned)" = 0 ] && [ "$(kroutes)" = 0 ]'; then
	pass "all sessions closed: cgwctl bgp routes --json lists no learned route, the kernel no proto bgp route"
else
	fail "all sessions closed, yet cgwctl bgp routes lists $(learned) routes, the kernel has $(kroutes)"
fi

# what cgwctl itself says: each neighbor's update_errors, as many as its cases made
if [ -s "$W/errors.json" ]; then
	"$CGWCTL" -s "$W/cgw.sock" bgp neighbors --json >"$W/neighbors.json" 2>&1
	if out=$("$PY" - "$W/errors.json" "$W/neighbors.json" <<-'EOF'
		import json, sys
		want = json.load(open(sys.argv[1]))
		got = {n['name']: n.get('update_errors', 0) for n in json.load(open(sys.argv[2]))['neighbors']}
		bad = ['%s %s (want %s)' % (k, got.get(k, 0), v) for k, v in want.items() if got.get(k, 0) != v]
		bad += ['%s %s (want 0)' % (k, v) for k, v in got.items() if k not in want and v]
		print('; '.join(bad) or ', '.join('%s %s' % (k, got[k]) for k in sorted(got)))
		sys.exit(1 if bad else 0)
		EOF
	); then
		pass "cgwctl bgp neighbors --json: update_errors $out, one per treat-as-withdraw or discard case"
	else
		fail "cgwctl bgp neighbors --json: update_errors $out"
	fi
fi

if [ -z "$ONLY" ]; then
	# ---- floods on port 179 ----
	run_py $I refused $PUB 2000
	n0=$(grep -c 'not a configured neighbor' "$W/cgw.log")
	run_py $B flood "$W/env" stranger "$NFLOOD"
	n1=$(grep -c 'not a configured neighbor' "$W/cgw.log")
	lines=$((n1 - n0))
	if [ "$lines" -ge 1 ] && [ "$lines" -le 20 ]; then
		pass "stranger flood: $lines log lines about it for $NFLOOD connections (rate-limited): $(grep 'not a configured neighbor' "$W/cgw.log" | tail -n1 | sed 's/^cgwd: //')"
	else
		fail "stranger flood: $lines log lines for $NFLOOD connections (want 1..20)"
	fi
	run_py $B flood "$W/env" peer 2000
	n0=$(grep -c 'obs: OPEN from AS 65099' "$W/cgw.log")
	run_py $B flood "$W/env" resets 500
	lines=$(($(grep -c 'obs: OPEN from AS 65099' "$W/cgw.log") - n0))
	if [ "$lines" -ge 1 ] && [ "$lines" -le 20 ]; then
		pass "reset flood: $lines log lines for 500 session resets (rate-limited per peer)"
	else
		fail "reset flood: $lines log lines for 500 session resets (want 1..20)"
	fi
fi

# ---- cgwd survived all of it and stops cleanly ----
if kill -0 "$CGW_PID" 2>/dev/null && "$CGWCTL" -s "$W/cgw.sock" status >/dev/null 2>&1; then
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$CGW_PID/status)
	nfd=$(ls /proc/$CGW_PID/fd | wc -l)
	kill -TERM "$CGW_PID"
	rc=0
	wait "$CGW_PID" || rc=$?
	CGW_PID=
	if [ "$rc" = 0 ] && ! grep -q 'BUG\|AddressSanitizer\|runtime error' "$W/cgw.log"; then
		pass "cgwd alive at the end (RSS $rss kB, $nfd fds), exit 0 on SIGTERM, no BUG/sanitizer line in its log ($(wc -l <"$W/cgw.log") lines)"
	else
		fail "cgwd exit status $rc; $(grep -m3 'BUG\|AddressSanitizer\|runtime error' "$W/cgw.log")"
	fi
else
	fail "cgwd died or does not answer: $(tail -n 5 "$W/cgw.log")"
fi

echo "total $(( (${EPOCHREALTIME/./} - T0) / 1000 )) ms: $passes PASS, $fails FAIL"
[ "$fails" = 0 ]

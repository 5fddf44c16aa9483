#!/bin/bash
# cgw's BGP route installation (bgp/rib.c + bgp/fib*.c, netlink backend)
# against a real kernel, driven through the APIs by cgw-fibtool
# (tests/vm/fibtool.c): RIB updates, rib_flush_changes(), batched
# rtnetlink (many routes per sendmsg, failures only, ENOBUFS resync).
#
#   netns cgwt-fib (cgw)                          netns cgwt-fibaws ("AWS")
#  +-------------------------------------+       +---------------------------+
#  | tun1 169.254.10.2/30 ---------------+ veth  +--- tun1p 169.254.10.1/30  |
#  | tun2 169.254.11.2/30 ---------------+ veth  +--- tun2p 169.254.11.1/30  |
#  |                                     |       |   (peers 1 and 2: the    |
#  | N /24 routes 20.0.0.0 and up,       |       |    gateways, nothing     |
#  | proto bgp (186), table main, metric 20      |    runs here)            |
#  +-------------------------------------+       +---------------------------+
#
# 1. baseline: `ip -batch` adds the same N routes (a request and an ack
#    each), timed, then flushed;
# 2. peer 1 announces N prefixes: N routes via tun1, timed, ratio printed;
#    `ip route show proto bgp | wc -l` = N;
# 3. peer 2 announces them with a lower MED: N NLM_F_REPLACEs to tun2;
# 4. ECMP on, peer 1 equal on 1000 prefixes: RTA_MULTIPATH routes;
# 5. both sessions down: N deletes, none left, foreign routes untouched;
# 6. leftovers of a previous run: held and adopted (graceful restart),
#    swept, then reconciled away;
# 7. ENOBUFS: a tiny receive buffer and 20% of the prefixes taken by
#    static routes with our metric: failure replies are lost, the FIB
#    resyncs by dump and diff; once the static routes go, reconcile
#    installs the rest.
#
# CGW_FIBTOOL: the program (default $CGW_BUILD_DIR/tests/vm/cgw-fibtool).
# CGW_FIB_ROUTES: N (default 100000).

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

readonly NS=cgwt-fib AWS=cgwt-fibaws
readonly N=${CGW_FIB_ROUTES:-100000}
readonly FT=${CGW_FIBTOOL:-${CGW_BUILD_DIR:-build}/tests/vm/cgw-fibtool}
readonly GW1=169.254.10.1 GW2=169.254.11.1
TMP=$(mktemp -d)
readonly TMP
on_exit "rm -rf $TMP"

setup() {
	require_cmd ip awk
	[[ -x $FT ]] || skip "cgw-fibtool not built ($FT); set CGW_FIBTOOL"
	((N >= 20000)) || fail "CGW_FIB_ROUTES must be >= 20000"
	ns_add "$NS" "$AWS"
	ip -n "$NS" -batch - <<-EOF || fail "links"
	link add tun1 type veth peer name tun1p netns $AWS
	link add tun2 type veth peer name tun2p netns $AWS
	addr add 169.254.10.2/30 dev tun1
	addr add 169.254.11.2/30 dev tun2
	link set tun1 up
	link set tun2 up
	EOF
	ip -n "$AWS" -batch - <<-EOF || fail "peer links"
	addr add $GW1/30 dev tun1p
	addr add $GW2/30 dev tun2p
	link set tun1p up
	link set tun2p up
	EOF
}

# ft_start [OPTIONS] — run cgw-fibtool in $NS as a coprocess.
ft_start() {
	coproc FTP { exec ip netns exec "$NS" "$FT" "$@"; }
}

# ft CMD... — send one command, wait for its reply (in REPLY), fail on error.
ft() {
	printf '%s\n' "$*" >&"${FTP[1]}"
	IFS= read -r -t 900 REPLY <&"${FTP[0]}" || fail "cgw-fibtool: no reply to: $*"
	[[ $REPLY == ok* ]] || fail "cgw-fibtool: $*: $REPLY"
	vm_log "$* -> $REPLY"
}

ft_stop() {
	local pid=$FTP_PID
	printf 'quit\n' >&"${FTP[1]}"
	wait "$pid" || fail "cgw-fibtool exited with $?"
}

# field NAME — the value of NAME=... in REPLY.
field() {
	[[ $REPLY =~ (^|[[:space:]])$1=([^[:space:]]+) ]] || fail "no $1= in: $REPLY"
	printf '%s\n' "${BASH_REMATCH[2]}"
}

count_bgp() { ip -n "$NS" route show proto bgp "$@" | wc -l; }
expect_count() {
	local want=$1 got
	shift
	got=$(count_bgp "$@")
	[[ $got == "$want" ]] || fail "ip route show proto bgp $*: $got lines, want $want"
}

baseline() {
	local t0 t1
	"$FT" gen add "$N" via $GW1 dev tun1 proto bgp metric 20 >"$TMP/add" || fail "gen"
	t0=$EPOCHREALTIME
	ip -n "$NS" -batch "$TMP/add" || fail "ip -batch"
	t1=$EPOCHREALTIME
	IPB_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
	expect_count "$N"
	ip -n "$NS" route flush proto bgp
	expect_count 0
	pass "baseline: ip -batch added $N routes in $IPB_MS ms"
}

install_move_delete() {
	local ann ins ratio
	ft_start
	ft peer 1 $GW1 tun1
	ft peer 2 $GW2 tun2
	ft announce 1 "$N" 100
	ann=$(field ms)
	ft flush
	ins=$(field ms)
	[[ $(field changes) == "$N" && $(field adds) == "$N" && $(field errors) == 0 ]] ||
		fail "install: $REPLY"
	expect_count "$N"
	expect_count "$N" dev tun1
	ratio=$(awk -v a="$IPB_MS" -v b="$ins" -v c="$ann" 'BEGIN { printf "%.1f", a / (b + c) }')
	pass "$N routes via tun1 in $ins ms (+ $ann ms RIB updates) in $(field sends) sendmsgs;" \
		"ip -batch $IPB_MS ms: ${ratio}x faster"
	ft stats
	pass "RIB: $(field bytes_per_prefix) bytes/prefix at $N prefixes ($(field attrs) attribute set)"
	ft announce 2 "$N" 50
	ft flush
	[[ $(field replaces) == "$N" && $(field errors) == 0 ]] || fail "move: $REPLY"
	expect_count "$N"
	expect_count "$N" dev tun2
	pass "best path moved: $N NLM_F_REPLACEs to tun2 in $(field ms) ms, none left on tun1"
	ecmp
	ft flushpeer 1
	ft flushpeer 2
	ft flush
	[[ $(field dels) == "$N" && $(field errors) == 0 ]] || fail "delete: $REPLY"
	ft_stop
	expect_count 0
	pass "both sessions down: $N routes deleted in $(field ms) ms, none left"
}

ecmp() {
	local r
	ft ecmp on
	ft flush
	ft announce 1 1000 50
	ft flush
	[[ $(field changes) == 1000 ]] || fail "ecmp: $REPLY"
	r=$(ip -n "$NS" route show 20.0.0.0/24 proto bgp)
	[[ $r == *"nexthop via $GW1 dev tun1"* && $r == *"nexthop via $GW2 dev tun2"* ]] ||
		{ printf '%s\n' "$r"; fail "20.0.0.0/24 is not multipath"; }
	[[ $(ip -n "$NS" -o route show proto bgp | grep -c nexthop) == 1000 ]] ||
		fail "want 1000 multipath routes"
	pass "ECMP: 1000 routes replaced by RTA_MULTIPATH via tun1 and tun2"
	ft ecmp off
	ft flush
	[[ $(ip -n "$NS" -o route show proto bgp | grep -c nexthop) == 0 ]] || fail "ECMP off"
}

leftovers() {
	ip -n "$NS" -batch - <<-EOF || fail "foreign routes"
	route add 198.51.100.0/24 via $GW1 dev tun1 proto static metric 20
	route add 198.51.101.0/24 via $GW1 dev tun1 proto bgp metric 20 table 100
	EOF
	ft_start
	ft peer 1 $GW1 tun1
	ft announce 1 1000 100
	ft flush
	ft_stop				# quits with its routes installed
	expect_count 1000
	ft_start
	ft hold
	[[ $(field ret) == 1000 ]] || fail "hold: $REPLY"
	ft peer 1 $GW1 tun1
	ft announce 1 500 100
	ft flush
	[[ $(field adopted) == 500 && $(field msgs) == 0 ]] || fail "adopt: $REPLY"
	ft sweep
	[[ $(field ret) == 500 ]] || fail "sweep: $REPLY"
	ft_stop
	expect_count 500
	pass "graceful restart: 1000 leftovers held, 500 adopted without a request, 500 swept"
	ft_start
	ft reconcile
	[[ $(field dels) == 500 ]] || fail "reconcile: $REPLY"
	ft_stop
	expect_count 0
	[[ $(ip -n "$NS" route show 198.51.100.0/24 proto static) == *"via $GW1"* ]] ||
		fail "a static route was removed"
	[[ $(ip -n "$NS" route show table 100 proto bgp | wc -l) == 1 ]] ||
		fail "a bgp route in another table was removed"
	pass "start-up reconcile removed 500 leftovers; static and table-100 routes survive"
}

enobufs() {
	local k=$((N / 5))
	"$FT" gen add "$k" via $GW1 dev tun1 proto static metric 20 >"$TMP/static" || fail "gen"
	ip -n "$NS" -batch "$TMP/static" || fail "static routes"
	ft_start --rcvbuf 1024
	ft peer 1 $GW1 tun1
	ft announce 1 "$N" 100
	ft flush
	(($(field enobufs) >= 1 && $(field resyncs) >= 1 && $(field errors) < k)) ||
		fail "no ENOBUFS: $REPLY"
	expect_count $((N - k))
	pass "ENOBUFS: $(field errors) of $k failure replies read, $(field enobufs) overruns," \
		"resynced by dump: $((N - k)) routes, resync_needed=$(field resync_needed)"
	"$FT" gen del "$k" via $GW1 dev tun1 proto static metric 20 >"$TMP/unstatic" || fail "gen"
	ip -n "$NS" -batch "$TMP/unstatic" || fail "static routes removed"
	ft reconcile
	[[ $(field resync_needed) == 0 ]] || fail "reconcile: $REPLY"
	expect_count "$N"
	ft stats
	ft removeall
	[[ $(field ret) == "$N" ]] || fail "removeall: $REPLY"
	ft_stop
	expect_count 0
	pass "static routes gone: reconcile installed the other $k; removeall left none"
}

setup
baseline
install_move_delete
leftovers
enobufs
pass "bgp-fib"

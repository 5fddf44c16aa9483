#!/bin/bash
# bench/bgp-scale.sh — 100,000 prefixes from one feeder into each BGP
# stack under test, side by side in one run: cgwd, BIRD 2 and FRR 8.4
# (zebra + bgpd). Measures the time from the gateway's start to all
# prefixes in its kernel table and the RSS of the gateway's processes
# after. Control plane and kernel routes only: runs on this host's kernel
# in network namespaces (cgwb-*), no VM needed. Needs root.
#
#   sudo bench/bgp-scale.sh [N]            # N prefixes, default 100000
#   CGW_BUILD_DIR=build sudo bench/bgp-scale.sh
#
# Prints a table and writes bench/results-bgp-scale.json.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CGW_BUILD_DIR:-$SRC/build}
N=${1:-100000}
TMP=$(mktemp -d /tmp/cgw-bgp-scale.XXXXXX)
OUT_JSON=${CGW_BENCH_JSON:-$SRC/bench/results-bgp-scale.json}
NS_F=cgwb-feed NS_G=cgwb-gw
TIMEOUT=${CGW_BENCH_TIMEOUT:-300}

die() { echo "bgp-scale: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "bgp-scale: needs root (namespaces, routes)" >&2; exit 77; }
for b in bird birdc /usr/lib/frr/zebra /usr/lib/frr/bgpd "$BUILD/daemon/cgwd" "$BUILD/cgwctl/cgwctl"; do
	[[ -x $(command -v "$b" || echo "$b") ]] || { echo "bgp-scale: missing $b" >&2; exit 77; }
done

cleanup() {
	local pids
	pids=$(ip netns pids "$NS_G" 2>/dev/null; ip netns pids "$NS_F" 2>/dev/null) || true
	[[ -n $pids ]] && kill $pids 2>/dev/null || true
	sleep 0.3
	pids=$(ip netns pids "$NS_G" 2>/dev/null; ip netns pids "$NS_F" 2>/dev/null) || true
	[[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
	ip netns del "$NS_G" 2>/dev/null || true
	ip netns del "$NS_F" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

now() { date +%s.%N; }

# ---- the feeder: BIRD with N static routes, AS 64512, in its own namespace
make_feeder() {
	ip netns add "$NS_F"
	ip -n "$NS_F" link set lo up
	python3 - "$N" >"$TMP/feed-routes.conf" <<-'EOF'
	import sys
	n = int(sys.argv[1])
	for i in range(n):  # /24s from 20.0.0.0 upwards (clear of the link)
	    print(f"  route {20 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.0/24 blackhole;")
	EOF
	cat >"$TMP/feeder.conf" <<-EOF
	log "$TMP/feeder.log" { warning, error, fatal };
	router id 10.255.0.1;
	protocol device {}
	protocol static feed {
	  ipv4;
	$(cat "$TMP/feed-routes.conf")
	}
	protocol bgp to_gateway {
	  local 10.255.0.1 as 64512;
	  neighbor 10.255.0.2 as 65000;
	  hold time 90;
	  ipv4 { import none; export where proto = "feed"; };
	}
	EOF
	ip netns exec "$NS_F" bird -c "$TMP/feeder.conf" -s "$TMP/feeder.ctl" -P "$TMP/feeder.pid" ||
		die "the feeder BIRD did not start"
	local i
	for (( i = 0; i < 600; i++ )); do
		birdc -s "$TMP/feeder.ctl" show route count 2>/dev/null | grep -q "^$N of $N routes" && return 0
		sleep 0.1
	done
	die "the feeder did not load $N routes"
}

make_gw_ns() {
	ip netns add "$NS_G"
	ip link add fg netns "$NS_F" type veth peer name gf netns "$NS_G"
	ip -n "$NS_F" addr add 10.255.0.1/24 dev fg
	ip -n "$NS_G" addr add 10.255.0.2/24 dev gf
	ip -n "$NS_F" link set fg up
	ip -n "$NS_G" link set gf up
	ip -n "$NS_G" link set lo up
}

del_gw_ns() {
	local pids
	pids=$(ip netns pids "$NS_G" 2>/dev/null) || true
	[[ -n $pids ]] && kill $pids 2>/dev/null || true
	sleep 0.5
	pids=$(ip netns pids "$NS_G" 2>/dev/null) || true
	[[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
	ip netns del "$NS_G"
	sleep 0.5
}

routes_in_kernel() { ip -n "$NS_G" -4 route show table main | grep -c ' via 10.255.0.1 ' || true; }

rss_kib() {	# the gateway namespace's processes, summed
	local pid sum=0 v
	for pid in $(ip netns pids "$NS_G"); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
		sum=$(( sum + ${v:-0} ))
	done
	echo "$sum"
}

# wait_all START NAME: seconds from START until N routes are in the kernel
wait_all() {
	local start=$1 name=$2 n=0 deadline
	deadline=$(( $(date +%s) + TIMEOUT ))
	while (( $(date +%s) < deadline )); do
		n=$(routes_in_kernel)
		if (( n >= N )); then
			python3 -c "print(f'{$(now) - $start:.2f}')"
			return 0
		fi
		sleep 0.2
	done
	echo "bgp-scale: $name: only $n of $N routes after ${TIMEOUT}s" >&2
	echo "timeout"
}

declare -A T RSS VER

run_cgwd() {
	cat >"$TMP/cgw.conf" <<-EOF
	[gateway]
	control-socket = $TMP/cgwd.sock
	local-address = 10.255.0.2
	[bgp]
	asn = 65000
	router-id = 10.255.0.2
	[neighbor feeder]
	address = 10.255.0.1
	remote-asn = 64512
	local-address = 10.255.0.2
	EOF
	chmod 600 "$TMP/cgw.conf"
	make_gw_ns
	local start
	start=$(now)
	ip netns exec "$NS_G" "$BUILD/daemon/cgwd" -c "$TMP/cgw.conf" >"$TMP/cgwd.log" 2>&1 &
	T[cgwd]=$(wait_all "$start" cgwd)
	sleep 1
	RSS[cgwd]=$(rss_kib)
	VER[cgwd]=$("$BUILD/daemon/cgwd" -V 2>&1 | head -1)
	del_gw_ns
}

run_bird() {
	cat >"$TMP/gw-bird.conf" <<-EOF
	log "$TMP/gw-bird.log" { warning, error, fatal };
	router id 10.255.0.2;
	protocol device {}
	protocol kernel { ipv4 { import none; export all; }; merge paths on; }
	protocol bgp feeder {
	  local 10.255.0.2 as 65000;
	  neighbor 10.255.0.1 as 64512;
	  ipv4 { import all; export none; };
	}
	EOF
	make_gw_ns
	local start
	start=$(now)
	ip netns exec "$NS_G" bird -c "$TMP/gw-bird.conf" -s "$TMP/gw-bird.ctl" -P "$TMP/gw-bird.pid"
	T[bird]=$(wait_all "$start" bird)
	sleep 1
	RSS[bird]=$(rss_kib)
	VER[bird]=$(bird --version 2>&1 | head -1)
	del_gw_ns
}

run_frr() {
	mkdir -p "$TMP/frr"
	chmod 755 "$TMP"	# FRR drops to user frr: it must reach its files
	chmod 777 "$TMP/frr"
	cat >"$TMP/frr/zebra.conf" <<-EOF
	hostname gw
	EOF
	cat >"$TMP/frr/bgpd.conf" <<-EOF
	hostname gw
	router bgp 65000
	 bgp router-id 10.255.0.2
	 no bgp ebgp-requires-policy
	 neighbor 10.255.0.1 remote-as 64512
	 address-family ipv4 unicast
	  neighbor 10.255.0.1 activate
	 exit-address-family
	EOF
	make_gw_ns
	local start common="--vty_socket $TMP/frr -z $TMP/frr/zserv.api"
	start=$(now)
	# shellcheck disable=SC2086
	ip netns exec "$NS_G" /usr/lib/frr/zebra -d -f "$TMP/frr/zebra.conf" -i "$TMP/frr/zebra.pid" \
		$common --log "file:$TMP/frr/zebra.log" >/dev/null 2>&1
	# shellcheck disable=SC2086
	ip netns exec "$NS_G" /usr/lib/frr/bgpd -d -f "$TMP/frr/bgpd.conf" -i "$TMP/frr/bgpd.pid" \
		$common --log "file:$TMP/frr/bgpd.log" >/dev/null 2>&1
	T[frr]=$(wait_all "$start" frr)
	sleep 1
	RSS[frr]=$(rss_kib)
	VER[frr]="FRR $(/usr/lib/frr/bgpd --version 2>&1 | awk '/version/ { print $NF; exit }')"
	del_gw_ns
}

make_feeder
echo "feeder: BIRD with $N prefixes ready"
run_cgwd; echo "cgwd: ${T[cgwd]} s, RSS ${RSS[cgwd]} KiB"
run_bird; echo "bird: ${T[bird]} s, RSS ${RSS[bird]} KiB"
run_frr;  echo "frr:  ${T[frr]} s, RSS ${RSS[frr]} KiB"

python3 - "$OUT_JSON" "$N" "${T[cgwd]}" "${T[bird]}" "${T[frr]}" \
	"${RSS[cgwd]}" "${RSS[bird]}" "${RSS[frr]}" "${VER[cgwd]}" "${VER[bird]}" "${VER[frr]}" <<-'EOF'
import json, sys, datetime, platform
out, n = sys.argv[1], int(sys.argv[2])
def num(s):
    try: return float(s)
    except ValueError: return None
t = dict(zip(["cgwd", "bird", "frr"], map(num, sys.argv[3:6])))
rss = dict(zip(["cgwd", "bird", "frr"], map(int, sys.argv[6:9])))
ver = dict(zip(["cgwd", "bird", "frr"], sys.argv[9:12]))
res = {"benchmark": "bgp-scale", "date": datetime.date.today().isoformat(),
       "kernel": platform.release(), "prefixes": n,
       "seconds_to_all_installed": t, "rss_kib": rss, "versions": ver,
       "ratio_time_bird_over_cgwd": (t["bird"] / t["cgwd"]) if t["bird"] and t["cgwd"] else None,
       "ratio_time_frr_over_cgwd": (t["frr"] / t["cgwd"]) if t["frr"] and t["cgwd"] else None,
       "ratio_rss_bird_over_cgwd": rss["bird"] / rss["cgwd"] if rss["cgwd"] else None,
       "ratio_rss_frr_over_cgwd": rss["frr"] / rss["cgwd"] if rss["cgwd"] else None}
json.dump(res, open(out, "w"), indent=2)
print(f"\n{n} prefixes from one BIRD feeder, start of the gateway -> all in the kernel")
print(f"{'stack':8} {'seconds':>9} {'RSS KiB':>9}  version")
for k in ["cgwd", "bird", "frr"]:
    s = f"{t[k]:.2f}" if t[k] is not None else "timeout"
    print(f"{k:8} {s:>9} {rss[k]:>9}  {ver[k]}")
for k in ["bird", "frr"]:
    if res[f"ratio_time_{k}_over_cgwd"]:
        print(f"{k}/cgwd: time x{res[f'ratio_time_{k}_over_cgwd']:.2f}, RSS x{res[f'ratio_rss_{k}_over_cgwd']:.2f}")
print(f"written {out}")
EOF

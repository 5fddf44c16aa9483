#!/bin/bash
# cgwd's BGP failover between the two tunnels of an AWS VPN connection,
# under traffic. The lab (lab/lab.sh, CGW_LAB_EXPECT=failover) builds it:
# the AWS side is strongSwan + BIRD 2 set up like AWS (ASN 64512,
# 172.20.0.0/16 announced on both tunnels with MED 100 on aws-1 and 200
# on aws-2, hold 30 s, no graceful restart, DPD after 10 s and dead some
# 30 s later, the BGP session reset when its tunnel goes down), cgwd is
# the gateway, a LAN host and a VPC host sit behind them:
#
#  ns lan          ns gw (cgwd)             ns aws (strongSwan + BIRD)       ns vpc
#  192.168.2.10 -- 192.168.2.1              203.0.113.1 (internet router)   172.20.1.10
#                  203.0.113.10 ----------- lo 198.51.100.1   (aws-1) ---- 172.20.0.1
#                  vti1 169.254.10.2 ====== vti1 169.254.10.1  MED 100
#                  vti2 169.254.11.2 ====== vti2 169.254.11.1  MED 200
#                                           lo 198.51.100.129 (aws-2)
#
# Asserted (the lab's checks; each "OK:" line of its output is one):
#   up        both tunnels up, both sessions Established (cgwctl status and
#             BIRD), 172.20.0.0/16 in cgwd's Loc-RIB with two paths, the
#             best via aws-1 (169.254.10.1, MED 100), installed in the
#             kernel (proto bgp, metric 20, dev vti1); 192.168.2.0/24
#             learned by the AWS side on both tunnels; ping lan -> vpc.
#   failover  a ping lan -> vpc (-i 0.005: ~100-110/s under TCG, the rate
#             is reported); nft drops everything between the
#             gateway and aws-1's AWS endpoint (in ns aws): cgwd declares
#             aws-1 dead (fast liveness check) and its route to the VPC
#             moves to vti2 within 10 s, at once after "declared dead"; the
#             ping resumes right after the AWS side has switched too (its
#             hold timer, or its DPD through the updown hook). Lost pings
#             and the gap are reported.
#   restore   the drop goes: cgwd re-initiates aws-1, its session is
#             Established again (both ends), the route moves back to vti1
#             by replacement (never deleted), and no ping is lost.
# The figures come back in the lab's CGW-LAB-RESULT line and are printed
# on the PASS lines. Takes 70-120 s under TCG (the AWS side's hold timer
# alone is 20-30 s of it).
#
# Environment: CGW_BUILD_DIR (cgwd, cgwctl); CGW_LAB_* reach the lab
# (e.g. CGW_LAB_SHOW_LOGS=1 prints every log at the end).

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SRC=$(cd "$CGW_VM_DIR/../.." && pwd)
BUILD=$(cd "${CGW_BUILD_DIR:-$SRC/build}" 2>/dev/null && pwd) || BUILD=${CGW_BUILD_DIR:-$SRC/build}
readonly SRC BUILD

check_kernel_modules
require_cmd ip ping jq nft swanctl bird birdc /usr/sbin/charon-systemd
[[ -x $BUILD/daemon/cgwd && -x $BUILD/cgwctl/cgwctl ]] ||
	skip "no cgwd/cgwctl in $BUILD: build first, set CGW_BUILD_DIR"
modprobe -qa veth nf_tables 2>/dev/null || true

T=$(mktemp -d /tmp/cgwt-bgpfo.XXXXXX)
readonly T
on_exit "rm -rf $T"

# Its own state directory and namespace names: a native run does not meet
# a lab someone runs on the same host.
st=0
CGW_BUILD_DIR=$BUILD CGW_LAB_EXPECT=failover CGW_LAB_GATEWAY=cgwd \
	CGW_LAB_STATE=/run/cgwt-bgpfo CGW_LAB_PREFIX=cgwt60- CGW_LAB_HOLD=0 \
	bash "$SRC/lab/lab.sh" >"$T/lab.out" 2>&1 || st=$?
cat "$T/lab.out"
case $st in
0) ;;
77) skip "the lab skipped: $(grep -m1 'SKIP:' "$T/lab.out" || echo '?')" ;;
*) fail "lab.sh (CGW_LAB_EXPECT=failover) exited $st: $(grep -m1 'FAIL:' "$T/lab.out" || echo 'no FAIL line')" ;;
esac

res=$(sed -n 's/^CGW-LAB-RESULT //p' "$T/lab.out" | tail -n1)
[[ -n $res ]] || fail "the lab passed but printed no CGW-LAB-RESULT line"
jq -e . >/dev/null <<<"$res" || fail "CGW-LAB-RESULT is not JSON: $res"
j() { jq -r "$1" <<<"$res"; }

pass "up: both tunnels and BGP sessions up, 172.20.0.0/16 via aws-1 (MED 100) in the kernel, 192.168.2.0/24 learned on both tunnels; gateway start -> both CHILD SAs $(j .start_to_both_sas_s) s, aws-1's CHILD SA -> route via vti1 $(j .sa1_to_route_vti1_s) s"
pass "failover: blackhole -> aws-1 declared dead $(j .blackhole_to_declared_dead_s) s -> route via vti2 $(j .declared_dead_to_route_s) s later ($(j .blackhole_to_gateway_switch_s) s after the blackhole); AWS side switched at $(j .blackhole_to_aws_switch_s) s ($(j .aws_switch_by)); ping at $(j .ping_rate)/s resumed at $(j .blackhole_to_ping_resumed_s) s: $(j .failover_lost) of $(j .failover_sent) lost, gap $(j .failover_gap_s) s"
pass "restore: aws-1's CHILD SA back $(j .restore_to_sa_s) s after the drop was removed, route back via vti1 $(j .restore_sa_to_route_s) s after it (replaced, not deleted); AWS side back at $(j .restore_to_aws_route_s) s; $(j .restore_lost) of $(j .restore_sent) pings lost"
pass "60-bgp-failover"

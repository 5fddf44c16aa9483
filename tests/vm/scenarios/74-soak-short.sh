#!/bin/bash
# A short soak: bench/soak-lab.sh (what bench/soak.sh runs for an hour)
# for two minutes, as the lab's CGW_LAB_RUN hook. cgwd against the lab's
# AWS side (strongSwan + BIRD 2, two tunnels with BGP), its lifetimes
# accelerated by a reload: every CHILD SA rekeyed 30 s after it was made,
# the IKE SAs after 60 s; a ~20/s ping and a 2 Mbit/s iperf3 stream
# lan -> vpc throughout; cgwd's RSS and fds sampled every 10 s.
#
# Asserted (soak-lab.sh's criteria): no ping lost within [-1 s, +10 s] of
# a rekey; both tunnels up and both BGP sessions Established at every
# sample, none re-established; at least 80 % of the CHILD rekeys the
# lifetimes call for (8 of 10 here); cgwd's RSS at the end at most
# 1024 kB above its RSS after 40 s (the first rekeys done), no more fds
# than at the start; no sanitizer report in cgwd's log (with an ASan
# build in CGW_BUILD_DIR). Takes 4-5 min under TCG (the lab's start-up,
# the reload, 120 s of soak).
#
# Environment: CGW_BUILD_DIR (cgwd, cgwctl); CGW_SOAK_* reach the hook.

set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SRC=$(cd "$CGW_VM_DIR/../.." && pwd)
BUILD=$(cd "${CGW_BUILD_DIR:-$SRC/build}" 2>/dev/null && pwd) || BUILD=${CGW_BUILD_DIR:-$SRC/build}
readonly SRC BUILD

check_kernel_modules
require_cmd ip ping jq iperf3 ss swanctl bird birdc /usr/sbin/charon-systemd
[[ -x $BUILD/daemon/cgwd && -x $BUILD/cgwctl/cgwctl ]] ||
	skip "no cgwd/cgwctl in $BUILD: build first, set CGW_BUILD_DIR"

T=$(mktemp -d /tmp/cgwt-soak.XXXXXX)
readonly T
on_exit "rm -rf $T"

# With an ASan build: a 1 MB quarantine, or its filling (256 MB by default)
# would be all the RSS growth two minutes can show.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
st=0
CGW_BUILD_DIR=$BUILD CGW_LAB_EXPECT=up CGW_LAB_GATEWAY=cgwd CGW_LAB_REKEYS=0 \
	CGW_LAB_RUN=$SRC/bench/soak-lab.sh CGW_LAB_STATE=/run/cgwt-soak CGW_LAB_PREFIX=cgwt74- \
	CGW_LAB_HOLD=0 CGW_SOAK_SECONDS=${CGW_SOAK_SECONDS:-120} CGW_SOAK_SAMPLE=10 \
	CGW_SOAK_WARMUP=40 CGW_SOAK_IKE_LIFETIME=70 CGW_SOAK_RSS_MARGIN_KB=1024 \
	bash "$SRC/lab/lab.sh" 2>&1 | tee "$T/lab.out" || st=${PIPESTATUS[0]}
case $st in
0) ;;
77) skip "the lab skipped: $(grep -m1 'SKIP:' "$T/lab.out" || echo '?')" ;;
*) fail "the short soak failed (lab.sh exited $st): $(grep -m1 -E '^FAIL:' "$T/lab.out" || echo 'no FAIL line')" ;;
esac

res=$(sed -n 's/^CGW-SOAK-RESULT //p' "$T/lab.out" | tail -n1)
[[ -n $res ]] || fail "the soak passed but printed no CGW-SOAK-RESULT line"
j() { jq -r "$1" <<<"$res"; }
pass "short soak: $(j .seconds) s, $(j .child_rekeys) CHILD and $(j .ike_rekeys) IKE rekeys under a ping and iperf3 ($(j .iperf3.received_mbps) Mbit/s, $(j .iperf3.retransmits) retransmits): $(j .pings_lost) of $(j .pings_sent) pings lost, $(j .pings_lost_at_rekeys) at rekeys; cgwd RSS $(j .rss_kb.first) -> $(j .rss_kb.after_warmup) -> $(j .rss_kb.end) kB (+$(j .rss_growth_after_warmup_kb) kB, margin 1024), fds $(j .fds.start) -> $(j .fds.end), $(j .sanitizer_reports) sanitizer reports (sanitized build: $(j .sanitized_build))"
pass "74-soak-short"

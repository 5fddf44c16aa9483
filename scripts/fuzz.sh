#!/bin/bash
# Build the libFuzzer harnesses (clang, ASan+UBSan) and run each for
# SECONDS (default 30; CI's smoke run) on a copy of its seed corpus.
# Prints the executions per harness; a crash fails the run and leaves the
# reproducer in build-fuzz/findings/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-30}

[ -d build-fuzz/meson-info ] ||
	CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=disabled >/dev/null
ninja -C build-fuzz >/dev/null

mkdir -p build-fuzz/findings
status=0
for exe in build-fuzz/tests/fuzz/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=$(basename "$exe")
	corpus=build-fuzz/corpus/${name#fuzz_}
	mkdir -p "$corpus"
	cp -n tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
	log=build-fuzz/$name.log
	if "$exe" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix=build-fuzz/findings/"$name"- "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz: $name: $runs executions in ${secs}s, no finding"
	else
		echo "fuzz: $name: FINDING (see $log and build-fuzz/findings/)"
		tail -40 "$log"
		status=1
	fi
done
exit $status

#!/bin/bash
# Build the libFuzzer harnesses (clang, ASan+UBSan) and run each on a copy
# of its seed corpus.
#
#   scripts/fuzz.sh [SECONDS]        each harness for SECONDS (default 30;
#                                    CI's smoke run uses 20)
#   scripts/fuzz.sh --long [RUNS]    each harness until RUNS executions
#                                    (default 10,000,000), CGW_FUZZ_LANES
#                                    harnesses at a time (default: cores)
#
# Prints the executions and exec/s per harness; a crash fails the run and
# leaves the reproducer in build-fuzz/findings/. CGW_FUZZ_BUILD picks the
# build directory (default build-fuzz); CGW_FUZZ_ONLY=REGEX runs only the
# harnesses whose name matches (grep -E, e.g. 'netlink|conf').
# tests/fuzz/<harness>.options, if present, holds extra libFuzzer flags
# for that harness, one a line (e.g. -max_len=4096); # starts a comment.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bdir=${CGW_FUZZ_BUILD:-build-fuzz}
mode=time
if [ "${1:-}" = --long ]; then
	mode=runs
	limit=${2:-10000000}
else
	limit=${1:-30}
fi

[ -d "$bdir"/meson-info ] ||
	CC=clang meson setup "$bdir" -Dfuzz=true -Dtests=disabled >/dev/null
ninja -C "$bdir" >/dev/null
mkdir -p "$bdir"/findings

# One harness: prints its line; exit 1 on a finding.
run_one() {
	local exe=$1 name corpus log start secs runs rate flag opts
	name=$(basename "$exe")
	corpus=$bdir/corpus/${name#fuzz_}
	mkdir -p "$corpus"
	cp -n tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
	log=$bdir/$name.log
	if [ "$mode" = runs ]; then flag=-runs=$limit; else flag=-max_total_time=$limit; fi
	start=$(date +%s)
	opts=()
	if [ -f tests/fuzz/"$name".options ]; then
		mapfile -t opts < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' tests/fuzz/"$name".options)
	fi
	if "$exe" "$flag" -print_final_stats=1 "${opts[@]}" \
		-artifact_prefix="$bdir"/findings/"$name"- "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		secs=$(( $(date +%s) - start ))
		echo "fuzz: $name: $runs executions in ${secs}s ($rate/s), no finding"
	else
		echo "fuzz: $name: FINDING (see $log and $bdir/findings/)"
		tail -40 "$log"
		return 1
	fi
}

exes=()
for exe in "$bdir"/tests/fuzz/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	[ -z "${CGW_FUZZ_ONLY:-}" ] || basename "$exe" | grep -Eq -- "$CGW_FUZZ_ONLY" || continue
	exes+=("$exe")
done
if [ ${#exes[@]} -eq 0 ]; then
	echo "fuzz: no harness in $bdir/tests/fuzz matches '${CGW_FUZZ_ONLY:-}'" >&2
	exit 1
fi

status=0
if [ "$mode" = runs ]; then
	lanes=${CGW_FUZZ_LANES:-$(nproc)}
	export -f run_one
	export bdir mode limit
	printf '%s\n' "${exes[@]}" | xargs -P "$lanes" -I{} bash -c 'run_one "$1"' _ {} ||
		status=1
else
	for exe in "${exes[@]}"; do
		run_one "$exe" || status=1
	done
fi
exit $status

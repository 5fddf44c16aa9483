#!/bin/bash
# run-suite.sh [PATTERN...] — run the kernel test scenarios, one after the
# other, in one boot: `vm-run.sh run-suite.sh` (what `meson test --suite vm`
# does). Runs tests/vm/scenarios/*.sh in file-name order (name them NN-*),
# or only those whose name contains one of the PATTERNs.
#
# Each scenario runs as `bash SCENARIO` with a time limit
# (CGW_SCENARIO_TIMEOUT, default 600 s); exit 0 = pass, 77 = skip, other =
# fail. Prints "PASS name (Ns)" / "FAIL name (Ns, status N)" / "SKIP name"
# per scenario and closes with "N passed, N failed, N skipped".
# Exit status: 1 if any failed or none ran; 77 if all were skipped; else 0.

set -euo pipefail

SCEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scenarios
readonly SCEN_DIR
readonly SCEN_TIMEOUT=${CGW_SCENARIO_TIMEOUT:-600}

# Seconds since $1 (an EPOCHREALTIME), one decimal.
since() {
	local us=$(( (${EPOCHREALTIME/./} - ${1/./}) / 100000 ))
	printf '%d.%d' $((us / 10)) $((us % 10))
}

# True if scenario $1 is selected by the PATTERN arguments.
selected() {
	local name=$1
	shift
	[[ $# -eq 0 ]] && return 0
	local p
	for p in "$@"; do [[ $name == *"$p"* ]] && return 0; done
	return 1
}

main() {
	local passed=0 failed=0 skipped=0 f name t0 st
	local -a failures=()
	echo "== cgw kernel suite: kernel $(uname -r)${CGW_IN_VM:+ (VM)}"
	for f in "$SCEN_DIR"/*.sh; do
		[[ -f $f ]] || continue
		name=$(basename "$f" .sh)
		selected "$name" "$@" || continue
		echo "== RUN $name"
		t0=$EPOCHREALTIME
		st=0
		timeout -k 5 "$SCEN_TIMEOUT" bash "$f" </dev/null || st=$?
		case $st in
		0) passed=$((passed + 1)); echo "PASS $name ($(since "$t0")s)" ;;
		77) skipped=$((skipped + 1)); echo "SKIP $name" ;;
		*)
			failed=$((failed + 1)); failures+=("$name")
			[[ $st == 124 ]] && echo "(timed out after ${SCEN_TIMEOUT}s)"
			echo "FAIL $name ($(since "$t0")s, status $st)" ;;
		esac
	done
	[[ $failed -eq 0 ]] || echo "failed: ${failures[*]}"
	echo "$passed passed, $failed failed, $skipped skipped"
	if ((failed > 0)); then return 1; fi
	if ((passed + skipped == 0)); then echo "no scenario ran"; return 1; fi
	if ((passed == 0 && skipped > 0)); then return 77; fi
	return 0
}

main "$@"

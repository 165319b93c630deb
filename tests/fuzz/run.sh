#!/bin/sh
# Runs the libFuzzer targets of tests/fuzz (built with ASan and UBSan by a tree configured with
# CC=clang --enable-fuzzing).  Fails on any finding: crash, sanitizer report, leak, timeout.
#
#   run.sh smoke            each target a few seconds, about 60 s in all (CI)
#   run.sh long [SECONDS]   each target SECONDS (default 300), its corpus kept and grown
#
# From the top of the build tree (make fuzz-smoke / make fuzz do that), or with FUZZ_BIN_DIR
# naming the directory of the binaries.  FUZZ_TARGETS picks targets (names, space-separated).
# The committed seeds (tests/fuzz/corpus/<target>) are read, never written: what a run finds
# goes to FUZZ_WORK_DIR (default tests/fuzz/work of the build tree): <target>/corpus (grown
# corpus), <target>/log, and <target>/crash-*, leak-*, timeout-* for findings.  To reproduce
# one: tests/fuzz/<target> FILE  (FUZZ_LOG=1 also prints the module's debug log).
# FUZZ_RESULT names a file that gets one line per target in automake's summary form
# ("# PASS: 1 (fuzz-sw)" or "# FAIL: 1 ..."), which scripts/summary.sh counts.
set -eu

mode=${1:-smoke}
srcdir=$(cd "$(dirname "$0")" && pwd)
bindir=${FUZZ_BIN_DIR:-tests/fuzz}
workdir=${FUZZ_WORK_DIR:-$bindir/work}
targets=${FUZZ_TARGETS:-"fuzz-module fuzz-card-files fuzz-hicos-dir fuzz-cache fuzz-sw fuzz-config
	fuzz-tool-inputs fuzz-text"}

case $mode in
smoke)
	# A fresh corpus from the seeds each time: CI runs the same thing every time.
	rm -rf "$workdir"
	;;
long)
	seconds=${2:-300}
	case $seconds in
	'' | *[!0-9]*)
		echo "run.sh: long needs a number of seconds, not \"$seconds\"" >&2
		exit 2
		;;
	esac
	;;
*)
	echo "usage: run.sh smoke | long [SECONDS]" >&2
	exit 2
	;;
esac

# Smoke: the whole module gets the most time, the small parsers the least (60 s in all).
smoke_seconds() {
	case $1 in
	fuzz-module) echo 18 ;;
	fuzz-card-files) echo 10 ;;
	fuzz-sw) echo 8 ;;
	*) echo 6 ;;
	esac
}

# Leaks count (libFuzzer checks after each input that allocated more than it freed); UBSan
# stops at its first report; ASan reports are findings.  A smaller quarantine (freed memory kept
# unused to catch use after free) than the default 256 MB: fewer page faults, faster runs.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1:quarantine_size_mb=32${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS

result=${FUZZ_RESULT:-/dev/null}
failed=
for target in $targets; do
	bin=$bindir/$target
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin is not built (make $bin in a tree configured with --enable-fuzzing)" >&2
		exit 2
	fi
	if [ "$mode" = smoke ]; then
		secs=$(smoke_seconds "$target")
	else
		secs=$seconds
	fi
	out=$workdir/$target
	mkdir -p "$out/corpus"
	printf '%-18s %4ss ... ' "$target" "$secs"
	# The work corpus first: libFuzzer adds new inputs to the first directory only.
	case $target in
	fuzz-module | fuzz-card-files | fuzz-sw) dict=-dict=$srcdir/card.dict ;;
	*) dict= ;;
	esac
	# shellcheck disable=SC2086 # $dict: one word or none
	if "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		$dict -artifact_prefix="$out/" "$out/corpus" "$srcdir/corpus/$target" >"$out/log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
		cov=$(sed -n 's/^#[0-9]*[^c]*cov: \([0-9]*\).*/\1/p' "$out/log" | tail -n 1)
		echo "ok: ${runs:-?} runs, coverage ${cov:-?}"
		echo "# PASS: 1 ($target, ${secs}s, ${runs:-?} runs, no finding)" >>"$result"
	else
		echo "FAILED (see $out/log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz oracle failed|.*runtime error)' "$out/log" |
			head -n 5 | sed 's/^/    /'
		for finding in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
			if [ -e "$finding" ]; then echo "    finding: $finding"; fi
		done
		failed="$failed $target"
		echo "# FAIL: 1 ($target: see $out/log)" >>"$result"
	fi
done

if [ -n "$failed" ]; then
	echo "run.sh: findings in:$failed" >&2
	exit 1
fi
echo "run.sh: no findings"

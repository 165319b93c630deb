#!/usr/bin/env bash
# The module and the tools under AddressSanitizer + UndefinedBehaviorSanitizer, and under valgrind
# memcheck (issue 9, "Sanitizers and leaks in CI").  As root, after scripts/setup.sh build:
#   scripts/sanitize.sh all        build, check and valgrind below; ends with "N passed, N failed,
#                                  N skipped" (exit 1 when one failed)
#   scripts/sanitize.sh run        the same without the closing line; results in
#                                  _build/sanitize.result (./quickstart test with P11U_SANITIZE=1)
#   scripts/sanitize.sh build      configure + make in _build-asan/ (gcc -fsanitize=address,undefined
#                                  with UBSan trapping, --enable-werror) and the test programs
#   scripts/sanitize.sh check      on that build, the unit tests and the integration tests that load
#                                  the module into programs (make check: _build-asan/*.log, .trs);
#                                  each process's reports go to _build-asan/sanitizer-logs/TEST/,
#                                  and one that counts makes the test an ERROR
#   scripts/sanitize.sh valgrind   tests/sanitize/valgrind.sh on the normal build _build/ (one
#                                  list/login/sign/lock/unlock/finalize run under memcheck)
#   scripts/sanitize.sh fuzz       the fuzz targets of tests/fuzz (clang, libFuzzer, ASan+UBSan)
#                                  built in _build-fuzz/, each run a few seconds (about a minute
#                                  in all); one result per target in _build/fuzz.result
#                                  (./quickstart test with P11U_FUZZ=1)
#   scripts/sanitize.sh env [NAME] the environment `check` gives a test, as export lines, with the
#                                  reports going to _build-asan/sanitizer-logs/NAME/
#   scripts/sanitize.sh reports DIR  the reports in DIR that count (exit 1 when there is one)
# Environment: P11U_ASAN_BUILD (default _build-asan), P11U_BUILD (default _build),
# P11U_FUZZ_BUILD (default _build-fuzz), P11U_SANITIZE_TESTS (integration tests to run, names
# like test-gnutls; default the list below, "full" the longer one), P11U_SANITIZE_JOBS (make -j,
# default nproc), P11U_ASAN_OPTIONS (appended to ASAN_OPTIONS).
# docs/testing-sanitizers.md says how to run each part by hand.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
asan_build=${P11U_ASAN_BUILD:-$top/_build-asan}
build=${P11U_BUILD:-$top/_build}
fuzz_build=${P11U_FUZZ_BUILD:-$top/_build-fuzz}
jobs=${P11U_SANITIZE_JOBS:-$(nproc)}

# The integration tests that load the module into a program, each for what it adds to the unit
# tests, the valgrind sequence and the fuzz targets (which cover the unlock paths, SO login +
# C_InitPIN and the user-code token's C_SetPIN, and every parser): other people's programs
# (pkcs11-tool, p11tool, gnutls-cli, certutil/modutil, openssl, ssh-keygen/ssh-add:
# uninstrumented, given the runtime by LD_PRELOAD), our tool (p11unlock, instrumented: unlock,
# card selection and hostile card text, a card swapped mid-unlock), hostile card contents through
# pkcs11-tool, the module's threads (removal, concurrency, the reader-event monitor and cards read
# at the same time) and its cache.  About half of the suite's time under ASan;
# P11U_SANITIZE_TESTS=full runs full_tests below.
default_tests="
	test-pkcs11-tool test-pkcs11-labels test-pkcs11-junk-cert
	test-removal test-concurrency test-presence test-cache
	test-tool-unlock test-tool-cards test-tool-safety
	test-gnutls test-nss test-openssl test-ssh"

# Every integration test that loads the module.  Left out even here: the rig-only tests (no
# module), test-install-prefix (no module loaded), test-firefox (Firefox under ASan's runtime is
# not cheap), and the two tests that run the p11-kit program, test-p11kit and test-unlock-vendor:
# with ASan's runtime preloaded, p11-kit never exits (even `p11-kit --help`, with no module
# registered: its library's destructor waits forever for glibc's locale lock in freelocale).
full_tests="$default_tests
	test-pkcs11-pin test-pkcs11-cards
	test-unlock-so test-unlock-token test-unlock-opensc test-unlock-guard
	test-events
	test-tool-tries test-tool-inputs test-tool-modules test-tool-interactive test-tool-streams"

# Timing tests ("within N ms"): run one at a time, after the others, so that a busy machine
# does not push an instrumented call past its bound (and with the fast unwinder, see
# sanitizer_env).
serial_tests="test-concurrency test-presence"

# Programs of other projects that load the module in these tests: each is run through a shim
# that preloads ASan's runtime (a module built with ASan cannot be loaded otherwise).
# ssh-agent is setgid: the loader drops LD_PRELOAD for it and its children, so its helper (the
# process that loads the module) gets a shim of its own through SSH_PKCS11_HELPER.
clients="pkcs11-tool p11tool gnutls-cli certutil modutil pk12util openssl ssh-keygen
	ssh-add /usr/lib/openssh/ssh-pkcs11-helper"

# UBSan traps (-fsanitize-undefined-trap-on-error): gcc's UBSan runtime, next to ASan's in one
# process, ignores log_path and writes its reports to stderr only (both runtimes export
# __sanitizer_set_report_path, and UBSan's own call lands in ASan's copy), where nobody may read
# them.  A trap is a SIGILL, which ASan reports (handle_sigill=1) to the log file with its stack:
# the file and line of the check.  Nothing calls UBSan's runtime then, and no client preloads it
# (libtool leaves the trap flag out of the link, so the module still lists libubsan, unused).
san_cflags="-g -O1 -fsanitize=address,undefined -fsanitize-undefined-trap-on-error -fno-omit-frame-pointer"

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "sanitize.sh: run this as root (the integration tests run a private pcscd)" >&2
		exit 1
	fi
}

do_build() {
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
	mkdir -p "$asan_build"
	# A build directory git never lists (the way meson marks its build directories).
	echo '*' >"$asan_build/.gitignore"
	cd "$asan_build"
	# The absolute source path makes every frame of our code name $top in the reports.
	if [ ! -f Makefile ]; then
		"$top/configure" --enable-werror --prefix=/usr/local --sysconfdir=/etc \
			CC=gcc CFLAGS="$san_cflags" LDFLAGS="-fsanitize=address,undefined -fsanitize-undefined-trap-on-error" >configure.out 2>&1 || {
			tail -40 configure.out
			return 1
		}
	fi
	make -j"$jobs" >build.out 2>&1 || {
		grep -E 'error|warning' build.out | head -40
		tail -20 build.out
		return 1
	}
	make -j"$jobs" check TESTS= >build-check.out 2>&1 || {
		tail -40 build-check.out
		return 1
	}
}

# ----- the environment of one test -----------------------------------------------------------

runtime() {
	local lib
	lib=$(gcc -print-file-name="$1")
	[ -f "$lib" ] || {
		echo "sanitize.sh: $1 of gcc not found" >&2
		exit 1
	}
	readlink -f "$lib"
}

# Every process writes its reports to LOGDIR/asan.EXE.PID instead of stderr:
# reports from processes whose output nobody reads (a client under tmux, the virtual card behind
# the rig) count as much as the test's own.  The verdict comes from those files, not from exit
# codes:
#   - memory errors and undefined behaviour (a trap: see san_cflags) stop the process
#     (abort_on_error: SIGABRT), so a test that looks at the process also sees it fail, and
#     every one of them counts;
#   - a leak changes no exit status (exitcode=0): an uninstrumented client's own leaks (OpenSC's
#     pkcs11-tool frees little before exit) must not change what the test sees.  In our own
#     programs (p11-script, p11unlock, p11unlock-vcard, the unit tests) every leak counts.  In
#     another project's program a leak counts when a frame of its allocation stack is in our
#     code (a source file under $top); the others are counted in the test's log and ignored.
# Allocation stacks are unwound the slow way (fast_unwind_on_malloc=0): through the libraries
# built without frame pointers, whole stacks are what finds our frames in a client's leak and
# what lets a suppression name the library function behind a leak that is not ours.  The timing
# test (serial_tests) runs with the fast unwinder in our programs, whose slow mallocs would
# push its calls past their bounds; the clients keep the slow one there too (see make_shims).
# tests/sanitize/lsan.supp holds the leaks that are reported against us and are not ours.
sanitizer_env() {
	local logdir=$1
	export ASAN_OPTIONS="log_path=$logdir/asan:log_exe_name=1:abort_on_error=1:handle_sigill=1:exitcode=0:detect_leaks=1:fast_unwind_on_malloc=${P11U_SANITIZE_FAST_UNWIND:-0}:malloc_context_size=64:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${P11U_ASAN_OPTIONS:+:$P11U_ASAN_OPTIONS}"
	export LSAN_OPTIONS="suppressions=$top/tests/sanitize/lsan.supp:print_suppressions=0"
	export P11U_SANITIZE_PRELOAD
	P11U_SANITIZE_PRELOAD=$(runtime libasan.so)
	export PATH="$asan_build/sanitize-clients:$PATH"
	[ ! -x "$asan_build/sanitize-clients/ssh-pkcs11-helper" ] ||
		export SSH_PKCS11_HELPER="$asan_build/sanitize-clients/ssh-pkcs11-helper"
}

make_shims() {
	local dir=$asan_build/sanitize-clients c real
	rm -rf "$dir"
	mkdir -p "$dir"
	for c in $clients; do
		real=$(PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin command -v "$c") || continue
		c=${c##*/}
		cat >"$dir/$c" <<EOF
#!/bin/sh
# $c with ASan's runtime preloaded (scripts/sanitize.sh)
ASAN_OPTIONS="\$ASAN_OPTIONS:fast_unwind_on_malloc=0" \\
	LD_PRELOAD="\$P11U_SANITIZE_PRELOAD\${LD_PRELOAD:+:\$LD_PRELOAD}" exec $real "\$@"
EOF
		chmod +x "$dir/$c"
	done
}

# Our programs: every leak in them counts.
our_programs="p11-script p11unlock p11unlock-vcard test-*"

# reports LOGDIR: prints the reports that count (see sanitizer_env) found in LOGDIR, and a line
# about the leaks that do not; fails when one counts.
reports() {
	local logdir=$1 f
	local -a files=()
	for f in "$logdir"/asan.*; do
		[ -e "$f" ] && files+=("$f")
	done
	[ ${#files[@]} = 0 ] && return 0
	awk -v ours="$top/" -v programs="$our_programs" '
		BEGIN {
			n = split(programs, p, " ")
			for (i = 1; i <= n; i++) {
				gsub(/\*/, ".*", p[i])
				re = re (re == "" ? "" : "|") p[i]
			}
			re = "^(" re ")$"
		}
		function flush_leak() {
			if (leak != "") {
				if (mine) { ours_text = ours_text leak "\n"; n_ours++ }
				else { theirs++; theirs_bytes += leak_bytes }
			}
			leak = ""
		}
		FNR == 1 {
			flush_leak()
			file = FILENAME; sub(/.*\//, "", file)
			# asan.EXE.PID (log_exe_name)
			exe = file; sub(/^[a-z]+\./, "", exe); sub(/\.[0-9]+$/, "", exe)
			our_program = exe ~ re
		}
		# A leak: its allocation stack, up to the blank line.
		/^(Direct|Indirect) leak of/ {
			flush_leak(); leak = file ": " $0; mine = our_program; leak_bytes = $4; next
		}
		leak != "" && /^ *#[0-9]+ / {
			leak = leak "\n" $0
			# A frame of our code: symbolized into a source file under $top.  (An address only
			# named by its module can be misnamed: code of an unloaded library, such as an
			# OpenSSL engine, is put down to whatever is mapped there now.)
			if (index($0, " " ours)) mine = 1
			next
		}
		leak != "" { flush_leak() }
		# Anything else a sanitizer says, but the leak report framing and its summary.
		/ERROR: LeakSanitizer: detected memory leaks/ || /^SUMMARY: AddressSanitizer: [0-9]+ byte\(s\) leaked/ ||
		/^=+$/ || /^$/ { next }
		/-----------------------------------------------------/ { next }
		{ other = other file ": " $0 "\n"; n_other++ }
		END {
			flush_leak()
			if (theirs) printf "sanitizer: %d leak(s) (%d bytes) of other programs, without a frame in our code: not counted\n", theirs, theirs_bytes
			if (n_other) printf "%s", other
			if (n_ours) printf "sanitizer: %d leak(s) from our code:\n%s", n_ours, ours_text
			exit (n_other || n_ours) ? 1 : 0
		}' "${files[@]}"
}

# run-test TEST [ARGS]: make check's LOG_COMPILER.  Runs TEST with its own log directory, then
# appends what the sanitizers reported to its TAP output as diagnostics; a report that counts
# makes it exit 1 (tap-driver: ERROR, whatever the TAP said).
run_test() {
	local name logdir rc=0 out
	name=${1#"$top"/}
	name=${name#./}
	name=${name//\//_}
	name=${name%.sh}
	logdir=$asan_build/sanitizer-logs/$name
	rm -rf "$logdir"
	mkdir -p "$logdir"
	sanitizer_env "$logdir"
	"$@" || rc=$?
	if out=$(reports "$logdir"); then
		[ -z "$out" ] || sed 's/^/# /' <<<"$out"
	else
		sed 's/^/# /' <<<"$out"
		echo "# sanitizer reports that count: see $logdir"
		[ "$rc" != 0 ] || rc=1
	fi
	return "$rc"
}

# check_batch NAME JOBS TEST...: make check of these tests with run-test; output in NAME.out.
check_batch() {
	local name=$1 jobs=$2 rc=0 t
	shift 2
	for t in "$@"; do
		rm -f "${t%.sh}.log" "${t%.sh}.trs"
	done
	make -k -j"$jobs" check AM_COLOR_TESTS=no TESTS="$*" TEST_SUITE_LOG="$name-suite.log" \
		LOG_COMPILER="$top/scripts/sanitize.sh run-test" \
		SH_LOG_COMPILER="$top/scripts/sanitize.sh run-test" >"$name.out" 2>&1 || rc=$?
	grep -q '^# TOTAL:' "$name.out" || echo "# FAIL: 1 (make check did not run the tests: see $asan_build/$name.out)" >>"$name.out"
	grep -E '^# [A-Z]+: ' "$name.out" | sed "s/^/$name: /"
	if [ $rc != 0 ]; then
		# The whole log of every test that did not pass.
		for t in "$@"; do
			t=${t%.sh}
			[ -f "$t.trs" ] && grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$t.trs" || continue
			echo "=== $asan_build/$t.log"
			cat "$t.log"
		done
	fi
	return $rc
}

do_check() {
	need_root
	local t unit rc=0 names=${P11U_SANITIZE_TESTS:-$default_tests}
	[ "$names" != full ] || names=$full_tests
	local -a parallel=() serial=()
	cd "$asan_build"
	make_shims
	# The unit tests: every test program the build has (make check's TESTS without the scripts).
	# The Makefile is brought up to date first: what automake says then is not a test.
	make -s Makefile >/dev/null 2>&1 || true
	unit=$(make -s -f Makefile -f - sanitize-print-tests <<'EOF'
sanitize-print-tests:
	@echo $(TESTS)
EOF
	)
	for t in $unit; do
		case $t in *.sh) ;; */test-*) parallel+=("$t") ;; esac
	done
	for t in $names; do
		case " $serial_tests " in
		*" $t "*) serial+=("tests/integration/$t.sh") ;;
		*) parallel+=("tests/integration/$t.sh") ;;
		esac
	done
	rm -rf sanitizer-logs
	check_batch sanitize "$jobs" "${parallel[@]}" || rc=1
	if [ ${#serial[@]} != 0 ] && ! P11U_SANITIZE_FAST_UNWIND=1 check_batch sanitize-serial 1 "${serial[@]}"; then
		# Their bounds are the normal build's: a loaded machine can push an instrumented call
		# past one.  Once more when no sanitizer report came with the failure (a report is never
		# retried away); the first run's output stays in sanitize-serial-1.out.
		if grep -q '^# sanitizer reports that count' "${serial[@]/%.sh/.log}" 2>/dev/null; then
			rc=1
		else
			echo "sanitize-serial: failed without a sanitizer report; running it once more"
			mv sanitize-serial.out sanitize-serial-1.out
			P11U_SANITIZE_FAST_UNWIND=1 check_batch sanitize-serial 1 "${serial[@]}" || rc=1
		fi
	fi
	cat sanitize.out >sanitize.results
	[ ${#serial[@]} = 0 ] || cat sanitize-serial.out >>sanitize.results
	return $rc
}

do_valgrind() {
	need_root
	local rc=0
	mkdir -p "$build"
	[ -f "$build/Makefile" ] || {
		echo "# FAIL: 1 (valgrind: no build in $build; scripts/setup.sh build)" | tee "$build/valgrind.out"
		return 1
	}
	cd "$build"
	[ -x tests/integration/p11-script ] || make -j"$jobs" check TESTS= >/dev/null 2>&1 || true
	make check AM_COLOR_TESTS=no TESTS=tests/sanitize/valgrind.sh \
		TEST_SUITE_LOG=tests/sanitize/valgrind-suite.log >valgrind.out 2>&1 || rc=$?
	grep -q '^# TOTAL:' valgrind.out || echo "# FAIL: 1 (valgrind: make check did not run the test: see $build/valgrind.out)" >>valgrind.out
	grep -E '^# [A-Z]+: ' valgrind.out | sed 's/^/valgrind: /'
	if [ $rc != 0 ] && [ -f tests/sanitize/valgrind.log ]; then
		echo "=== $build/tests/sanitize/valgrind.log"
		cat tests/sanitize/valgrind.log
	fi
	return $rc
}

# build + check + valgrind; every result in $build/sanitize.result (the "# PASS: n" lines
# scripts/summary.sh counts).
do_run() {
	local rc=0 result=$build/sanitize.result
	mkdir -p "$build"
	: >"$result"
	echo "sanitize: ASan/UBSan build in $asan_build"
	if (do_build); then
		(do_check) || rc=1
		cat "$asan_build/sanitize.results" >>"$result"
	else
		echo "# FAIL: 1 (the ASan/UBSan build: see $asan_build/build.out)" >>"$result"
		rc=1
	fi
	echo "sanitize: valgrind on $build"
	(do_valgrind) || rc=1
	cat "$build/valgrind.out" >>"$result"
	return $rc
}

# The fuzz targets' smoke run (tests/fuzz/run.sh smoke) on a clang build with --enable-fuzzing;
# results in $build/fuzz.result.
do_fuzz() {
	local result=$build/fuzz.result
	mkdir -p "$build" "$fuzz_build"
	: >"$result"
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
	echo '*' >"$fuzz_build/.gitignore"
	cd "$fuzz_build"
	echo "fuzz: libFuzzer targets in $fuzz_build"
	if [ ! -f Makefile ]; then
		"$top/configure" --enable-fuzzing --enable-werror CC=clang >configure.out 2>&1 || {
			tail -40 configure.out
			echo "# FAIL: 1 (the fuzzing build: see $fuzz_build/configure.out)" >>"$result"
			return 1
		}
	fi
	make -j"$jobs" fuzz-build >build.out 2>&1 || {
		grep -E 'error|warning' build.out | head -40
		tail -20 build.out
		echo "# FAIL: 1 (the fuzzing build: see $fuzz_build/build.out)" >>"$result"
		return 1
	}
	FUZZ_RESULT=$result sh "$top/tests/fuzz/run.sh" smoke
}

case "${1:-}" in
build) do_build ;;
check) do_check ;;
valgrind) do_valgrind ;;
fuzz) do_fuzz ;;
run) do_run ;;
all)
	rc=0
	do_run || rc=1
	"$top/scripts/summary.sh" "$build/sanitize.result"
	exit $rc
	;;
reports)
	reports "${2:?usage: scripts/sanitize.sh reports LOGDIR}"
	;;
run-test)
	shift
	run_test "$@"
	;;
env)
	[ -d "$asan_build/sanitize-clients" ] || make_shims
	sanitizer_env "$asan_build/sanitizer-logs/${2:-manual}"
	mkdir -p "$asan_build/sanitizer-logs/${2:-manual}"
	printf 'export %q\n' "ASAN_OPTIONS=$ASAN_OPTIONS" "LSAN_OPTIONS=$LSAN_OPTIONS" \
		"P11U_SANITIZE_PRELOAD=$P11U_SANITIZE_PRELOAD" \
		"PATH=$PATH" "top_builddir=$asan_build" \
		${SSH_PKCS11_HELPER:+"SSH_PKCS11_HELPER=$SSH_PKCS11_HELPER"}
	;;
*)
	sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac

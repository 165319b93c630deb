# tests/integration/p11-script.sh: driving p11-script (tests/integration/p11-script.c) from
# the shell tests.  Source after lib.sh and p11.sh.
# shellcheck shell=bash
#
#   require_script                   skip_all unless p11-script is built
#   p11s [MODULE] <<EOF ... EOF      run a script to the end; prints "COMMAND -> RESULT" lines
#   script_bg NAME <<EOF ... EOF     run a script in the background (output in $TEST_TMP/NAME.out);
#                                    `pause STEP` lines in it wait for the test (see below)
#   script_at NAME STEP              wait until script NAME reached `pause STEP`
#   script_go NAME STEP              let it go on
#   script_end NAME                  wait for it to finish; prints its output
#   result_of OUTPUT COMMAND         the result of the first line of OUTPUT that ran COMMAND
#   apdu_count NAME                  how many APDUs card NAME has answered (lines of its log)
#   commands_with_data NAME INS P2   commands INS (hex) with P1=00, P2 and data in card NAME's log
#   verifies_with_data NAME REF      VERIFY commands with data for reference REF (01 PIN, 02 user
#                                    code) in card NAME's log
#   resets NAME                      RESET RETRY COUNTER commands (with data) in card NAME's log
#   card_tries NAME                  "pin_tries=N user_code_tries=M" of card NAME
#   wrong_pins                       three logins with the PIN $WRONG through pkcs11-tool (p11t):
#                                    the card's PIN locked
#   transcript_is OUTPUT DESC <<EOF  one test per expected "COMMAND -> RESULT  # why" line
#
# Pause steps are files: `pause STEP` creates STEP.waiting and waits for STEP, in the working
# directory of the script, a fresh $TEST_TMP/NAME.steps for each script_bg (p11s scripts run
# in $TEST_TMP).

P11_SCRIPT=${P11U_P11_SCRIPT:-$top_builddir/tests/integration/p11-script}
# Longest a script may take (a hung module call must not hang the test suite).
: "${P11_SCRIPT_TIMEOUT:=120}"

require_script() {
	[ -x "$P11_SCRIPT" ] || skip_all "p11-script is not built ($P11_SCRIPT; make check builds it)"
}

# shellcheck disable=SC2120 # the module argument is optional
p11s() {
	local module=${1:-$MODULE}
	(cd "$TEST_TMP" && timeout "$P11_SCRIPT_TIMEOUT" "$P11_SCRIPT" "$module") 2>&1
}

script_bg() {
	local name=$1 pid
	rm -rf "$TEST_TMP/$name.steps"
	mkdir "$TEST_TMP/$name.steps"
	cat >"$TEST_TMP/$name.script"
	(cd "$TEST_TMP/$name.steps" && exec timeout "$P11_SCRIPT_TIMEOUT" "$P11_SCRIPT" "$MODULE") \
		<"$TEST_TMP/$name.script" >"$TEST_TMP/$name.out" 2>&1 &
	pid=$!
	echo "$pid" >"$TEST_TMP/$name.pid"
}

script_at() {
	local name=$1 step=$2 pid i
	pid=$(cat "$TEST_TMP/$name.pid")
	for ((i = 0; i < 600; i++)); do
		[ -e "$TEST_TMP/$name.steps/$step.waiting" ] && return 0
		proc_running "$pid" || break
		sleep 0.1
	done
	diag "script $name did not reach pause $step; its output:" "$(cat "$TEST_TMP/$name.out")"
	return 1
}

script_go() {
	: >"$TEST_TMP/$1.steps/$2"
}

# (It polls rather than `wait`s: it is usually called inside $(...), a subshell that cannot
# wait for the test's own background jobs.  The timeout bounds the script's life.)
script_end() {
	local name=$1 pid
	pid=$(cat "$TEST_TMP/$name.pid")
	while proc_running "$pid"; do
		sleep 0.05
	done
	cat "$TEST_TMP/$name.out"
}

result_of() {
	local line
	while IFS= read -r line; do
		if [ "${line%% -> *}" = "$2" ]; then
			echo "${line#* -> }"
			return
		fi
	done <<<"$1"
	echo "(no line for: $2)"
}

apdu_count() {
	grep -c '^apdu ' "$(card_log "$1")" || true
}

commands_with_data() {
	grep -c "INS=$2 P1=00 P2=$3 Lc=[1-9]" "$(card_log "$1")" || true
}

verifies_with_data() {
	commands_with_data "$1" 20 "$2"
}

resets() {
	commands_with_data "$1" 2C 01
}

card_tries() {
	"$P11U_VCARD" status "$(card_state "$1")" | grep -E '^(pin|user_code)_tries=' | tr '\n' ' ' |
		sed 's/ $//'
}

wrong_pins() {
	local i
	for i in 1 2 3; do
		p11t --login --pin env:WRONG -O >/dev/null
	done
}

# transcript_is OUTPUT DESC <<EOF: one TAP test per expected line (each "COMMAND -> RESULT",
# optionally followed by "  # why", which becomes the test's description), comparing it with
# the same line of OUTPUT, then one test that OUTPUT has no further lines.  Counts as
# (expected lines + 1) tests.
transcript_is() {
	local out=$1 desc=$2 i=0 want why got
	local -a got_lines
	mapfile -t got_lines <<<"$out"
	while IFS= read -r want; do
		why=
		if [[ $want == *"  # "* ]]; then
			why=${want#*  # }
			want=${want%%  # *}
		fi
		want=${want%"${want##*[! ]}"}
		got=${got_lines[i]-"(no line $((i + 1)))"}
		is "$got" "$want" "$desc: ${why:-$want}"
		i=$((i + 1))
	done
	if [ "${#got_lines[@]}" -gt "$i" ]; then
		fail "$desc: no further output" "${got_lines[@]:i}"
	else
		pass "$desc: no further output"
	fi
}

# tests/integration/hicos-lib.sh: what the tests of the real-card variants share (source after
# lib.sh, p11.sh and p11-script.sh).
#   script_without_io NAME CARD <<EOF   runs a p11-script whose lines between `pause io-start`
#                                       and `pause io-end` must not reach CARD; prints the
#                                       script's output, then "apdus: N", the APDUs CARD
#                                       answered meanwhile (its log: lines "apdu N: ...")
#   verifies CARD [CLA]                 the VERIFY commands (INS 20) in CARD's log, of class CLA
#                                       (a regular expression, default: any)
# shellcheck shell=bash

script_without_io() {
	local name=$1 card=$2 before
	script_bg "$name"
	script_at "$name" io-start || return 1
	before=$(apdu_count "$card")
	script_go "$name" io-start
	script_at "$name" io-end || return 1
	echo "apdus: $(($(apdu_count "$card") - before))" >"$TEST_TMP/$name.apdus"
	script_go "$name" io-end
	script_end "$name"
	cat "$TEST_TMP/$name.apdus"
}

verifies() {
	local cla=${2:-'[0-9A-F]{2}'}
	grep -cE "^apdu [0-9]+: CLA=$cla INS=20 " "$(card_log "$1")" || true
}

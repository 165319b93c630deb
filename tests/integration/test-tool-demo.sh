#!/bin/bash
# The quick start's demo (scripts/demo.sh, run by `./quickstart demo`): the unlock of a locked
# virtual card runs in Traditional Chinese under a zh_TW locale, from the build tree (no make
# install, no P11UNLOCK_LOCALEDIR), and the demo ends by saying how to try p11unlock yourself;
# `./quickstart try` (scripts/demo.sh try) gives a shell where p11unlock, as typed by hand,
# releases the virtual card, and lock-card locks it again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd tmux tmux
require_cmd pkcs11-tool opensc

plan 16

DEMO=$top_srcdir/scripts/demo.sh
unset P11UNLOCK_LOCALEDIR P11UNLOCK_CONF P11UNLOCK_MODULE LANGUAGE LC_ALL LC_MESSAGES
export LANG=C.UTF-8 top_builddir

# --- the scripted demo --------------------------------------------------------------------------------
RC=0
"$DEMO" </dev/null >"$TEST_TMP/demo.out" 2>&1 || RC=$?
OUT=$(cat "$TEST_TMP/demo.out")
is "$RC" 0 "demo: exit 0"
like "$OUT" "^步驟 1：偵測卡片$" "demo: the steps in Chinese"
like "$OUT" "^注意事項：$" "demo: the form's notes"
like "$OUT" "^鎖卡解碼/重設PIN碼成功$" "demo: 鎖卡解碼/重設PIN碼成功"
unlike "$OUT" "p11unlock: no zh_TW messages|Card unlocked and PIN reset" "demo: no English fallback"
like "$OUT" "^pin_tries=3$" "demo: the card's PIN works again"
like "$OUT" "^  \./quickstart try +a shell with a locked virtual card, where you type p11unlock$" \
	"demo: ends saying how to try p11unlock yourself"

# --- try it yourself ------------------------------------------------------------------------------------
tmux_session "'$DEMO' try; echo EXIT=\$?; sleep 600"
step "try: the shell says what to type" "^  p11unlock +release the lock \(用戶代碼 Ab12cd34, then a new PIN twice\)$"
step "try: its prompt" "^\(p11unlock 試用\) .*# $"
answer "p11unlock --list"
step "try: the locked card, in Chinese" "^    PIN碼：已鎖卡$"
answer "p11unlock"
step "try: p11unlock asks for the user code" "^用戶代碼（6 至 10 個字元）：$"
answer "$USER_CODE"
wait_screen "^新PIN碼（6 至 8 個字元）：$" && answer 86427531
wait_screen "^再次輸入新PIN碼：$" && answer 86427531
step "try: the question" "\[是\(y\)/否\(N\)\] $"
answer 是
step "try: released" "^鎖卡解碼/重設PIN碼成功$"
answer "lock-card"
locked_again=
for _ in $(seq 100); do
	[ "$(grep -c '^    PIN碼：已鎖卡$' <<<"$(screen)")" -ge 2 ] && locked_again=1 && break
	sleep 0.2
done
ok "try: lock-card locks it again" test -n "$locked_again"
answer "exit"
step "try: exit ends the demo, exit 0" "EXIT=0"
unlike "$(screen)" "86427531|個字元）：$USER_CODE" "try: nothing typed at a hidden prompt was echoed"

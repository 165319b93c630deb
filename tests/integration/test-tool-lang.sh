#!/bin/bash
# p11unlock speaks Traditional Chinese out of the box, and says so when it cannot:
# - run from the build tree without P11UNLOCK_LOCALEDIR (as `quickstart demo` and a developer
#   run it), LANG=zh_TW.UTF-8 or --lang zh_TW give Chinese: `make` puts the catalog next to
#   the tool (tools/p11unlock/locale), and the tool looks there;
# - no catalog for the language asked for: said on stderr, in English; a catalog that anyone
#   may write is not used;
# - on a terminal under a zh_TW locale the whole unlock: the form's notes (注意事項) before
#   the secrets, the hidden typing explained, the unlock question whole (once cut by a 64-byte
#   buffer), an unclear answer asked again, 是 confirms, 否 cancels, YES too;
# - --show-new-pin shows the new PIN as it is typed, never the user code.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd tmux tmux
require_cmd cmp diffutils

plan 48

tool_setup
have_zh_catalog || skip_all "no zh_TW catalog (configure --disable-nls)"
BUILD_MO=$top_builddir/tools/p11unlock/locale/zh_TW/LC_MESSAGES/p11unlock.mo
GMO=$top_builddir/po/zh_TW.gmo
[ -f "$GMO" ] || GMO=$top_srcdir/po/zh_TW.gmo
# shellcheck disable=SC2016 # a make rule
LOCALEDIR=$(printf 'p11u-print:\n\t@echo $(localedir)\n' |
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" -f Makefile -f - p11u-print | tail -n 1)
USAGE_ZH="用法：p11unlock [選項]..."
USAGE_EN="Usage: p11unlock [OPTION]..."

# help TOOL ENV...: TOOL --help with the environment ENV (P11UNLOCK_LOCALEDIR unset unless ENV
# sets it); sets RC, OUT (the first line) and ERR.
help() {
	local tool=$1
	shift
	RC=0
	env -u P11UNLOCK_LOCALEDIR -u LANGUAGE -u LC_ALL -u LC_MESSAGES "$@" "$tool" --help \
		>"$TEST_TMP/help.out" 2>"$TEST_TMP/help.err" || RC=$?
	OUT=$(head -n 1 "$TEST_TMP/help.out")
	ERR=$(cat "$TEST_TMP/help.err")
}

# --- the build tree's catalog ---------------------------------------------------------------------
ok "make put the catalog next to the tool (tools/p11unlock/locale)" test -f "$BUILD_MO"
ok "it is po/zh_TW.gmo" cmp "$GMO" "$BUILD_MO"
help "$P11U_TOOL" LANG=zh_TW.UTF-8
is "$RC.$OUT.$ERR" "0.$USAGE_ZH." "LANG=zh_TW.UTF-8, from the build tree, no P11UNLOCK_LOCALEDIR: Chinese"
help "$P11U_TOOL" LANG=C.UTF-8
is "$RC.$OUT.$ERR" "0.$USAGE_EN." "LANG=C.UTF-8: English, and nothing said"
RC=0
env -u P11UNLOCK_LOCALEDIR LANG=C.UTF-8 "$P11U_TOOL" --lang zh_TW --help >"$TEST_TMP/help.out" 2>"$TEST_TMP/help.err" || RC=$?
is "$RC.$(head -n 1 "$TEST_TMP/help.out").$(cat "$TEST_TMP/help.err")" "0.$USAGE_ZH." \
	"--lang zh_TW under C.UTF-8, from the build tree: Chinese"
help "$P11U_TOOL" LANG=de_DE.UTF-8
is "$RC.$OUT.$ERR" "0.$USAGE_EN." "a language the tool does not translate: English, nothing said"

# --- no catalog: said, in English -------------------------------------------------------------------
mkdir -p "$TEST_TMP/empty"
help "$P11U_TOOL" P11UNLOCK_LOCALEDIR="$TEST_TMP/empty" LANG=zh_TW.UTF-8
is "$RC.$OUT" "0.$USAGE_EN" "P11UNLOCK_LOCALEDIR without zh_TW: English"
is "$ERR" "p11unlock: no zh_TW messages in $TEST_TMP/empty (P11UNLOCK_LOCALEDIR): the messages are in English." \
	"P11UNLOCK_LOCALEDIR without zh_TW: said"

# A copy of the tool elsewhere: the catalog next to it is used when only root or the user can
# have written it.
mkdir -p "$TEST_TMP/bin"
cp "$P11U_TOOL" "$TEST_TMP/bin/p11unlock"
if [ -e "$LOCALEDIR/zh_TW/LC_MESSAGES/p11unlock.mo" ]; then
	skip "a copy without a catalog next to it: said" "a catalog is installed in $LOCALEDIR"
	skip "a copy without a catalog next to it: English" "a catalog is installed in $LOCALEDIR"
else
	help "$TEST_TMP/bin/p11unlock" LANG=zh_TW.UTF-8
	is "$ERR" "p11unlock: no zh_TW messages in $LOCALEDIR nor in $TEST_TMP/bin/locale: the messages are in English. Run make (build tree) or make install, or set P11UNLOCK_LOCALEDIR." \
		"a copy without a catalog next to it (nor installed): said, naming both places"
	is "$RC.$OUT" "0.$USAGE_EN" "a copy without a catalog next to it: English"
fi
mkdir -p "$TEST_TMP/bin/locale/zh_TW/LC_MESSAGES"
cp "$BUILD_MO" "$TEST_TMP/bin/locale/zh_TW/LC_MESSAGES/p11unlock.mo"
help "$TEST_TMP/bin/p11unlock" LANG=zh_TW.UTF-8
is "$RC.$OUT.$ERR" "0.$USAGE_ZH." "a copy with a catalog next to it: Chinese"
chmod o+w "$TEST_TMP/bin/locale/zh_TW/LC_MESSAGES"
help "$TEST_TMP/bin/p11unlock" LANG=zh_TW.UTF-8
if [ -e "$LOCALEDIR/zh_TW/LC_MESSAGES/p11unlock.mo" ]; then
	skip "a catalog anyone may write is not used" "a catalog is installed in $LOCALEDIR"
else
	is "$OUT" "$USAGE_EN" "a catalog in a directory anyone may write is not used"
fi
chmod o-w "$TEST_TMP/bin/locale/zh_TW/LC_MESSAGES"

# --- on a terminal, under a zh_TW locale ------------------------------------------------------------
rig_up
locked_card 0 gina
NEWPIN=13572468
tmux_session "env -u P11UNLOCK_LOCALEDIR -u LANGUAGE LANG=zh_TW.UTF-8 '$P11U_TOOL'; echo EXIT=\$?; sleep 600"
step "zh_TW locale: 步驟 1" "^步驟 1：偵測卡片$"
step "zh_TW locale: no slot number, no card type" "^    讀卡機：$(reader_name 0)$"
unlike "$(screen)" "插槽|卡片類型|P11U V1" "zh_TW locale: no jargon without --verbose"
step "zh_TW locale: 步驟 3" "^步驟 3：輸入用戶代碼及新PIN碼$"
step "the notes (注意事項) before the secrets" \
	"注意事項："$'\n'"  1\\. 請勿對這張卡片使用其他程式的「解PIN碼鎖」功能，以免造成卡片損毀。"$'\n'"  2\\. 請妥善保管您的PIN碼，切勿告知他人，也不要與卡片放在一起。"$'\n'"  3\\. 若忘記用戶代碼，須先由組織及團體憑證管理中心重設用戶代碼。"$'\n'
step "the hidden typing is explained" \
	"^輸入的內容不會顯示在螢幕上：請輸入每個回答後按 Enter。若要在輸入新PIN碼時看到所輸入的內容，請執行 p11unlock --show-new-pin。$"
step "zh_TW locale: the user code" "^用戶代碼（6 至 10 個字元）：$"
answer "$USER_CODE"
step "zh_TW locale: the new PIN" "^新PIN碼（6 至 8 個字元）：$"
answer "$NEWPIN"
step "zh_TW locale: again" "^再次輸入新PIN碼：$"
answer "$NEWPIN"
step "zh_TW locale: the tries" "^用戶代碼：剩餘 3 次$"
step "the unlock question, whole, with its answers" \
	"^現在解除卡片 XC00000000091349 的鎖卡並設定新PIN碼？\[是\(y\)/否\(N\)\] $"
answer 好
step "an unclear answer is asked again" \
	"現在解除卡片 XC00000000091349 的鎖卡並設定新PIN碼？\[是\(y\)/否\(N\)\] 好"$'\n'"請回答「是」\\(y\\) 或「否」\\(n\\)。"$'\n'"現在解除卡片 XC00000000091349 的鎖卡並設定新PIN碼？\\[是\\(y\\)/否\\(N\\)\\] $"
is "$(counters gina)" 0/3 "nothing sent before the answer"
answer 是
step "是 confirms: 步驟 5" "^步驟 5：解除鎖卡並重設PIN碼$"
step "是 confirms: 鎖卡解碼/重設PIN碼成功, exit 0" "鎖卡解碼/重設PIN碼成功"$'\n'"EXIT=0"
unlike "$(screen)" "p11unlock: no |$USER_CODE|$NEWPIN" "zh_TW locale: no catalog notice, nothing typed echoed"
is "$(counters gina)" 3/3 "是: the card is released (3/3)"
ok "是: the new PIN logs in" pin_works "$NEWPIN"

# 否 cancels.
lock_pin 0 || bail_out "could not lock the PIN again"
tmux_start --lang zh_TW
step "否: the user code" "^用戶代碼（6 至 10 個字元）：$"
answer "$USER_CODE"
wait_screen "^新PIN碼（6 至 8 個字元）：$" && answer 24682468
wait_screen "^再次輸入新PIN碼：$" && answer 24682468
step "否: the question" "\[是\(y\)/否\(N\)\] $"
answer 否
step "否 cancels: nothing sent, exit 5" "未確認：沒有對卡片送出任何指令。"$'\n'"EXIT=5"
is "$(counters gina)" 0/3 "否: the card's counters unchanged"

# YES (capitals) confirms in English.
tmux_start --lang en
step "YES: the user code" "^User code \(6-10 characters\): $"
answer "$USER_CODE"
wait_screen "^New PIN \(6-8 characters\): $" && answer 24682468
wait_screen "^New PIN again: $" && answer 24682468
step "YES: the question" "^Unlock card XC00000000091349 and set the new PIN now\? \[y/N\] $"
answer YES
step "YES confirms: released, exit 0" "Card unlocked and PIN reset"$'\n'"EXIT=0"
is "$(counters gina)" 3/3 "YES: the card is released (3/3)"

# --- --show-new-pin: the eye button ------------------------------------------------------------------
tmux_start --lang en --show-new-pin
step "--show-new-pin: says what is shown" \
	"^What you type for the user code is not shown on the screen; the new PIN is shown as you type it \(--show-new-pin\)\.$"
step "--show-new-pin: the user code" "^User code \(6-10 characters\): $"
answer "$USER_CODE"
step "--show-new-pin: the new PIN" "^New PIN \(6-8 characters\): $"
answer 97531864
step "--show-new-pin: the new PIN is shown as typed" "^New PIN \(6-8 characters\): 97531864$"
answer 97531864
step "--show-new-pin: so is its repetition" "^New PIN again: 97531864$"
unlike "$(screen)" "$USER_CODE" "--show-new-pin: the user code is still hidden"
step "--show-new-pin: the question" "\[y/N\] $"
answer n
step "--show-new-pin: declined, exit 5" "Not confirmed: nothing was sent to the card\."$'\n'"EXIT=5"
tool_run "" --help
like "$OUT" "--show-new-pin    show the new PIN as it is typed" "--help names --show-new-pin"
like "$OUT" "--verbose         also show the readers' slot numbers" "--help names --verbose"

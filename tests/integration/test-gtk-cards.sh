#!/bin/bash
# p11unlock-gtk with cards coming and going while it is open: a second card put in shows up in
# the 選擇卡片 drop-down by itself (C_WaitForSlotEvent in the window's watcher thread), choosing
# it shows its details; the chosen card taken out empties the entries (what was typed for it
# goes nowhere else) and says so until the holder acts, whatever cards come and go meanwhile;
# no card at all is said, and the card put back shows up; a card pulled
# out while it works ("作業進行中，請稍候"): the window says it was removed, the card's PIN is still
# locked and the entries are empty; the window cannot be closed while the card works, and closed
# afterwards the program ends (its slot watcher wakes from C_WaitForSlotEvent).  Screenshots of
# every step go to tests/artifacts/test-gtk-cards/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"
. "$(dirname "$0")/gtk-lib.sh"

require_rig
require_tool
require_gtk

plan 21

tool_setup
rig_up --readers 2 # 4 readers
locked_card 0 alice
BOB=XC00000000099999
BOB_HOLDER="C=TW,O=第二張測試卡"
gtk_up
gtk_lang en
gtk_start
ALICE_ITEM="$CARD_NUMBER ($(reader_name 0))"
BOB_ITEM="$BOB ($(reader_name 1))"
# items_wait LIST: until the drop-down lists LIST (one item a line; 20 s at most); sets ITEMS.
items_wait() {
	local i
	for ((i = 0; i < 20; i++)); do
		ITEMS=$(gtk items)
		[ "$ITEMS" = "$1" ] && return 0
		sleep 1
	done
}

gtk_step "one card: it is chosen" "^label\|$CARD_NUMBER\|" gtk-en-10-one-card

# --- a second card, put in while the window is open ------------------------------------------
locked_card 1 bob --card-number "$BOB" --holder-dn "$BOB_HOLDER"
items_wait "$ALICE_ITEM
$BOB_ITEM"
is "$ITEMS" "$ALICE_ITEM
$BOB_ITEM" "the second card shows up in the drop-down by itself, with its reader"
gtk items "$GTK_ARTIFACTS/gtk-en-11-two-cards.png" >/dev/null
gtk choose 1
gtk_step "the second card chosen: its number" "^label\|$BOB\|" gtk-en-12-second-chosen
gtk_step "the second card chosen: its holder" "^label\|$BOB_HOLDER\|" gtk-en-12-second-chosen

# --- the chosen card taken out ------------------------------------------------------------------
gtk_fill "$USER_CODE" 654321
card_remove 1
gtk_step "the chosen card taken out: said" \
	"^label\|Card $BOB was taken out: what you typed for it was cleared\.\|" gtk-en-13-taken-out
is "$(gtk length "$F_CODE")/$(gtk length "$F_PIN")/$(gtk length "$F_AGAIN")" 0/0/0 \
	"the chosen card taken out: the entries are emptied"
# Another detection before the holder acts (a card put in, then taken out; a locked card's
# removal is two slot events as well) leaves the notice: it must be seen.
TAKEN_OUT="^label\|Card $BOB was taken out: what you typed for it was cleared\.\|"
CAROL=XC00000000077777
card_create carol --card-number "$CAROL"
card_insert 2 carol || bail_out "card carol not inserted"
items_wait "$ALICE_ITEM
$CAROL ($(reader_name 2))"
is "$ITEMS" "$ALICE_ITEM
$CAROL ($(reader_name 2))" "a third card put in shows up in the drop-down"
like "$(gtk dump)" "$TAKEN_OUT" "... and the notice of the card taken out stays"
card_remove 2
items_wait "$ALICE_ITEM"
like "$(gtk dump)" "$TAKEN_OUT" "the third card taken out again: the notice still stays"
is "$ITEMS" "$ALICE_ITEM" "the drop-down lists the card left"
gtk_step "the card left is shown" "^label\|$CARD_NUMBER\|" gtk-en-13-taken-out

# --- no card, then the card back (slow: each answer takes a second) ---------------------------------
card_remove 0
gtk_step "no card: said" '^label\|No card found: insert your card into the reader\.\|' gtk-en-14-no-card
card_insert 0 alice --latency-us 1000000 || bail_out "card alice not inserted again"
gtk_step "the card put back shows up" "^label\|User code: 3 tries left\|" gtk-en-14-no-card

# --- pulled out while the card works ------------------------------------------------------------
gtk_fill "$USER_CODE" 654321
gtk_click_step "the release started: the window works" "$B_UNLOCK" '^label\|Working, please wait…\|' \
	gtk-en-15-working
gtk close # refused while the card works: the steps below need the window
card_remove 0
gtk_step "pulled out mid-way: the window says the card was removed" \
	"^label\|Card $CARD_NUMBER was removed" gtk-en-16-pulled-out
ok "the window asked to close while the card worked is still open" proc_running "$GTK_PID"
# Where the release stood when the card left decides what the window may say: the card's
# counters tell, and the message must agree with them.
said=$(gtk dump | grep "^label|Card $CARD_NUMBER was removed")
case $(counters alice) in
0/3) like "$said" "Nothing was sent to any card|The user code you typed may have reached the card" \
	"PIN still locked: the window says nothing or the user code may have reached the card" ;;
3/3) like "$said" "The user code was correct, but the new PIN may not be set" \
	"PIN reset before the card left: the window says the new PIN may not be set" ;;
*) fail "the card's counters after the removal" "got: $(counters alice)" ;;
esac
is "$(vcard_status_get alice user_code_tries)" 3 "the right user code: no try spent, whenever the card left"
is "$(gtk length "$F_CODE")/$(gtk length "$F_PIN")/$(gtk length "$F_AGAIN")" 0/0/0 \
	"pulled out mid-way: the entries are empty"
is "$(gtk enabled "$B_UNLOCK")" no "pulled out mid-way: nothing to release any more"

# --- closing the window ends the program -------------------------------------------------------------
gtk close
rc=0
for ((i = 0; i < 100; i++)); do
	proc_running "$GTK_PID" || break
	sleep 0.1
done
if proc_running "$GTK_PID"; then
	fail "closing the window ends the program (the slot watcher wakes from its wait)" "still running"
else
	wait "$GTK_PID" || rc=$?
	GTK_PID=
	is "$rc" 0 "closing the window ends the program (the slot watcher wakes from its wait), exit 0"
fi

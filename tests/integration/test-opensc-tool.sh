#!/bin/bash
# The virtual card through the real stack (opensc-tool / pcsc_scan / scriptor ->
# pcsc-lite -> the rig's pcscd -> vpcd -> p11unlock-vcard run): presence, ATRs,
# class byte, T=1 and T=0 responses, insert and removal events, --remove-after.
. "$(dirname "$0")/lib.sh"

require_rig
require_cmd pcsc_scan pcsc-tools
require_cmd scriptor pcsc-tools
require_cmd stdbuf coreutils

plan 22

T1_ATR=3b:89:01:50:31:31:55:56:43:41:52:44:cf
T0_ATR=3b:09:50:31:31:55:56:43:41:52:44
CARD_TYPE_HEX="50 31 31 55 20 56 31 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20"

# scriptor_out READER_INDEX APDU...: scriptor's "< ..." answer lines, one per APDU,
# without its explanations ("< 90 00 : Normal processing." -> "90 00").
scriptor_out() {
	local name=$1
	shift
	name=$(reader_name "$name")
	printf '%s\n' "$@" | scriptor -r "$name" 2>&1 |
		awk '/^< / { line = substr($0, 3); collecting = 1 }
		     /^[0-9A-F][0-9A-F] / && collecting && !/^< / { line = line $0 }
		     collecting && / : / { sub(/ : .*/, "", line); gsub(/ +$/, "", line); print line; collecting = 0 }'
}

# pcsc_scan_states FILE NAME: the card states pcsc_scan reported for reader NAME,
# consecutive repeats folded ("removed inserted removed").
pcsc_scan_states() {
	awk -v name="$2" '
		/Reader [0-9]+: / { cur = substr($0, index($0, ": ") + 2); next }
		/Card state:/ && cur == name {
			s = /Card inserted/ ? "inserted" : /Card removed/ ? "removed" : "other"
			if (s != last) { printf "%s%s", sep, s; sep = " "; last = s }
		}' "$1"
}

rig_up

# --- T=1 (default) ----------------------------------------------------------------
card_create t1
card_insert 0 t1

like "$(opensc-tool -l)" "^0 +Yes +Virtual PCD 00 00$" "opensc-tool -l shows reader 0 with a card"
is "$(opensc-tool -r 0 -a 2>/dev/null)" "$T1_ATR" "the T=1 ATR (historical bytes P11UVCARD)"
is "$(apdu_sw 0 '80 A4 00 00 02 3F 00')" "90 00" "SELECT MF with class 80 gets 90 00"
is "$(apdu_sw 0 '00 A4 00 00 02 3F 00')" "6E 00" "SELECT MF with class 00 gets 6E 00"

out=$(opensc-tool -r 0 -s "80 A4 00 00 02 09 00" -s "80 A4 00 00 02 09 05" -s "80 B0 00 00 18" 2>&1)
like "$out" "P11U V1" "opensc-tool reads the card type P11U V1 from EF 0905"

is "$(scriptor_out 0 "80 A4 00 00 02 3F 00" "80 A4 00 00 02 09 00" "80 A4 00 00 02 09 05" \
	"80 B0 00 00 18" "80 B0 00 00 20" | tr '\n' '|')" \
	"90 00|90 00|90 00|$CARD_TYPE_HEX 90 00|$CARD_TYPE_HEX 62 82|" \
	"T=1 at the PC/SC level: READ BINARY returns the data, a read past the end 6282"

log=$(card_log t1)
like "$(cat "$log")" "^apdu [0-9]+: CLA=80 INS=B0 P1=00 P2=00 Lc=0 Le=24 data=- -> SW=9000 len=24 resp=5031315520563120" \
	"the card log shows the READ BINARY with its response"
like "$(head -n 2 "$log" | tr '\n' '|')" "^inserted\|atr 3B8901503131555643415244CF\|$" \
	"the card log starts with the insertion and the ATR"

# --- insertion and removal seen by pcsc_scan ----------------------------------------
scan_out=$TEST_TMP/pcsc_scan.out
timeout 60 stdbuf -oL pcsc_scan -n >"$scan_out" 2>&1 &
scan_pid=$!
for ((i = 0; i < 100; i++)); do
	[ -n "$(pcsc_scan_states "$scan_out" "Virtual PCD 00 01")" ] && break
	sleep 0.1
done
card_create hotplug
card_insert 1 hotplug
card_remove 1
for ((i = 0; i < 100; i++)); do
	[ "$(pcsc_scan_states "$scan_out" "Virtual PCD 00 01")" = "removed inserted removed" ] && break
	sleep 0.1
done
kill "$scan_pid" 2>/dev/null
wait "$scan_pid" 2>/dev/null
is "$(pcsc_scan_states "$scan_out" "Virtual PCD 00 01")" "removed inserted removed" \
	"pcsc_scan sees the card inserted into and removed from reader 1"
is "$(pcsc_scan_states "$scan_out" "Virtual PCD 00 00")" "inserted" \
	"pcsc_scan sees reader 0's card all along"

card_remove 0
like "$(opensc-tool -l)" "^0 +No +Virtual PCD 00 00$" "after rig remove, opensc-tool -l shows reader 0 empty"

# --- T=0 -------------------------------------------------------------------------------
card_create t0
card_insert 0 t0 --t0

is "$(opensc-tool -r 0 -a 2>/dev/null)" "$T0_ATR" "the T=0 ATR"
is "$(apdu_sw 0 '80 A4 00 00 02 3F 00')" "90 00" "T=0: SELECT MF with class 80 gets 90 00"
is "$(apdu_sw 0 '00 A4 00 00 02 3F 00')" "6E 00" "T=0: SELECT MF with class 00 gets 6E 00"

# At the PC/SC level a T=0 card announces data with 61xx and answers a wrong Le with 6Cxx.
is "$(scriptor_out 0 "80 A4 00 00 02 09 00" "80 A4 00 00 02 09 05" "80 B0 00 00 18" \
	"00 C0 00 00 18" "80 B0 00 00 20" | tr '\n' '|')" \
	"90 00|90 00|61 18|$CARD_TYPE_HEX 90 00|6C 18|" \
	"T=0 at the PC/SC level: 61 18, GET RESPONSE 00 C0 fetches the data, a wrong Le gets 6C 18"

# opensc-tool (libopensc's sc_transmit) follows 61xx with GET RESPONSE and 6Cxx with a resend.
log=$(card_log t0)
before=$(grep -c '^apdu' "$log")
out=$(opensc-tool -r 0 -s "80 A4 00 00 02 09 00" -s "80 A4 00 00 02 09 05" -s "80 B0 00 00 20" 2>&1)
like "$out" "Received \(SW1=0x90, SW2=0x00\):" "T=0: opensc-tool gets 90 00 and data for READ BINARY with a wrong Le"
like "$out" "P11U V1" "T=0: the data is the card type"
is "$(tail -n +$((before + 1)) "$log" | grep '^apdu' | grep -v 'CLA=00 INS=A4' | tail -n 3 |
	sed 's/^apdu [0-9]*: //; s/ data=.*-> / -> /; s/ len=.*//' | tr '\n' '|')" \
	"CLA=80 INS=B0 P1=00 P2=00 Lc=0 Le=32 -> SW=6C18|CLA=80 INS=B0 P1=00 P2=00 Lc=0 Le=24 -> SW=6118|CLA=00 INS=C0 P1=00 P2=00 Lc=0 Le=24 -> SW=9000|" \
	"T=0: the card saw READ BINARY (6C18), the resend (6118) and GET RESPONSE (9000)"
card_remove 0

# --- --remove-after ------------------------------------------------------------------
card_create drop
card_insert 1 drop --remove-after 2
is "$(scriptor_out 1 "80 A4 00 00 02 3F 00" "80 A4 00 00 02 09 00" "80 A4 00 00 02 09 05" | tr '\n' '|')" \
	"90 00|90 00|" "--remove-after 2: two APDUs are answered, the third is not"
ok "--remove-after 2: the card drops off reader 1" rig wait 1 empty
is "$(grep -c '^apdu' "$(card_log drop)")" 2 "--remove-after 2: the card processed exactly two APDUs"
is "$(tail -n 1 "$(card_log drop)")" "removed after the last APDU (--remove-after)" \
	"--remove-after 2: the card log says why it left"

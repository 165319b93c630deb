#!/bin/bash
# The PC/SC rig itself: readers and their names, isolation from the host
# (no vpcd port and no mount visible outside the namespace), one card per
# reader with two vpcd entries, a second rig next to the first, and a stop that
# ends every process it started.
. "$(dirname "$0")/lib.sh"

require_rig
require_cmd ss iproute2
require_cmd setpriv util-linux

plan 17

# Refused clearly without root (run as nobody; the directory is never created).  nobody gets
# its own copy of the script: the checkout may sit where only root can read (CI's /root).
nobody_dir=$(mktemp -d /tmp/p11u-nobody.XXXXXX)
chmod 755 "$nobody_dir"
install -m 755 "$RIG" "$nobody_dir/rig.sh"
out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$nobody_dir/rig.sh" start "$nobody_dir/as-nobody" 2>&1)
rc=$?
rm -rf "$nobody_dir"
is "$rc" 1 "rig.sh start exits 1 when not root"
like "$out" "needs root" "rig.sh says it needs root"

rig_up --readers 2

expected_names="Virtual PCD 00 00
Virtual PCD 00 01
Virtual PCD 1 00 00
Virtual PCD 1 00 01"
is "$(rig readers | cut -d' ' -f3-)" "$expected_names" "rig.sh readers: two vpcd entries make four readers"
is "$(opensc-tool -l | sed -n 's/^[0-9]\+ \+No \+//p')" "$expected_names" \
	"pcscd lists the four empty readers in index order"
is "$(reader_name 2)" "Virtual PCD 1 00 00" "reader-name 2"

holder=$(cut -d' ' -f1 "$RIG_DIR/holder.pid")
ports=$(rig readers | cut -d' ' -f2 | sort -n | tr '\n' ' ')
listening_inside=$(nsenter -t "$holder" -n ss -ltnH | awk '{ sub(/.*:/, "", $4); print $4 }' |
	sort -n | tr '\n' ' ')
is "$listening_inside" "$ports" "vpcd listens on its four ports inside the rig's network namespace"

listening_outside=$(ss -ltnH | awk -v ports=" $ports" '{ p = $4; sub(/.*:/, "", p); if (index(ports, " " p " ")) print $4 }')
is "$listening_outside" "" "no vpcd port listens in the host's network namespace"

is "$(grep -c -- "$RIG_DIR" /proc/self/mountinfo)" 0 "none of the rig's mounts is visible on the host"

# A card in reader 3 (second entry, second slot) shows up there and only there.
card_create second
card_insert 3 second
is "$(opensc-tool -l | awk '$1 ~ /^[0-9]+$/ { printf "%s%s", sep, $2; sep = " " }')" "No No No Yes" \
	"a card inserted in reader 3 shows up in reader 3 only"
is "$(apdu_sw 3 '80 A4 00 00 02 3F 00')" "90 00" "the card in reader 3 answers SELECT MF"
card_remove 3
is "$(opensc-tool -l | grep -c ' Yes ')" 0 "after remove every reader is empty"
is "$(tail -n 1 "$(card_log second)")" "removed (signal)" "the card left on SIGTERM"

# A second rig at the same time: same ports, its own namespace.
rig2=$TEST_TMP/rig2
env2=$("$RIG" start "$rig2" 2>&1)
is "$env2" "PCSCLITE_CSOCK_NAME=$rig2/run/pcscd.comm
P11U_RIG_DIR=$rig2" "a second rig starts next to the first and prints its environment"
is "$(PCSCLITE_CSOCK_NAME=$rig2/run/pcscd.comm opensc-tool -l | grep -c '^[0-9]')" 2 \
	"the second rig has its own two readers"
"$RIG" stop "$rig2"

# stop ends every process the rig started.
card_insert 0 second
pids=$(cut -d' ' -f1 "$RIG_DIR"/*.pid | tr '\n' ' ')
is "$(wc -w <<<"$pids")" 3 "the rig runs three processes (namespace holder, pcscd, one card)"
rig stop
alive=
for pid in $pids; do
	proc_running "$pid" && alive="$alive $pid"
done
is "$alive" "" "rig.sh stop ends the card, pcscd and the namespace holder"
is "$(ls "$RIG_DIR"/*.pid 2>/dev/null)" "" "rig.sh stop leaves no PID files"

#!/bin/bash
# The vpcd socket loop of p11unlock-vcard (tools/vcard/vpcd.c) against a fake
# vpcd written in Python, in a private network namespace: framing, control
# codes, connecting before vpcd is up, SIGTERM, vpcd closing, --remove-after,
# --latency-us, and protocol errors (every one ends the session, exit 1).
. "$(dirname "$0")/lib.sh"

require_root
require_namespaces
require_cmd ip iproute2
require_cmd python3 python3
require_vcard

plan 19

# The fake vpcd: listens on 127.0.0.1:PORT, accepts the card, runs the steps:
#   msg:HEX    send a message (length prefix added)     raw:HEX  send bytes as they are
#   recv       print the next message as hex ("eof" when the card closed the connection)
#   timed      like recv, prefixed with the milliseconds it took
#   term       SIGTERM the card ($CARD_PID)             close    close the connection
cat >"$TEST_TMP/fake-vpcd.py" <<'EOF'
import os, signal, socket, struct, sys, time

def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data

def recv_message(conn):
    head = recv_exact(conn, 2)
    if head is None:
        return "eof"
    body = recv_exact(conn, struct.unpack(">H", head)[0])
    return "eof" if body is None else body.hex().upper()

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(1)
server.settimeout(10)
conn, _ = server.accept()
conn.settimeout(10)
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print("connected", flush=True)
for step in sys.argv[2:]:
    op, _, arg = step.partition(":")
    if op == "msg":
        payload = bytes.fromhex(arg)
        conn.sendall(struct.pack(">H", len(payload)) + payload)
    elif op == "raw":
        conn.sendall(bytes.fromhex(arg))
    elif op == "recv":
        print(recv_message(conn), flush=True)
    elif op == "timed":
        start = time.monotonic()
        message = recv_message(conn)
        print("%d %s" % ((time.monotonic() - start) * 1000, message), flush=True)
    elif op == "term":
        os.kill(int(os.environ["CARD_PID"]), signal.SIGTERM)
    elif op == "close":
        conn.close()
EOF

# session "CARD ARGS" STEPS...: the card starts first (so it has to wait for vpcd),
# the fake vpcd 0.3 s later.  Prints the fake vpcd's lines, then "exit=N".
export PORT=35963
session() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	CARD_ARGS=$1 unshare -n bash -c '
		ip link set lo up
		read -r -a card_args <<<"$CARD_ARGS"
		"$P11U_VCARD" run "$STATE" --port "$PORT" "${card_args[@]}" 2>"$ERR" &
		export CARD_PID=$!
		sleep 0.3
		python3 "$TEST_TMP/fake-vpcd.py" "$PORT" "$@"
		for ((i = 0; i < 50; i++)); do
			kill -0 $CARD_PID 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 $CARD_PID 2>/dev/null; then
			kill -KILL $CARD_PID
			echo exit=still-running
		else
			wait $CARD_PID
			echo exit=$?
		fi' session "${@:2}"
}
export P11U_VCARD TEST_TMP
export STATE=$TEST_TMP/card.state ERR=$TEST_TMP/card.err
card_create card

ATR=3B8901503131555643415244CF
T0_ATR=3B09503131555643415244
SELECT_MF=80A40000023F00

is "$(session "" close | tr '\n' ' ')" "connected exit=0 " \
	"the card connects once vpcd is up; vpcd closing the connection is a clean exit"
out=$(session "" msg:04 recv msg:01 msg:$SELECT_MF recv msg:00 msg:02 msg:04 recv term recv | tr '\n' ' ')
is "$out" "connected $ATR 9000 $ATR eof exit=0 " \
	"ATR on request, power on/off/reset answer nothing, an APDU gets its response, SIGTERM ends cleanly"
is "$(session "--t0" msg:04 recv close | sed -n 2p)" "$T0_ATR" "--t0: the T=0 ATR"

# Framing: a message split over several writes, and two messages in one write.
is "$(session "" raw:00 raw:0780A400 raw:00023F00 recv raw:000104000104 recv recv close | tr '\n' ' ')" \
	"connected 9000 $ATR $ATR exit=0 " "messages split over writes and joined in one write are framed right"

# The longest short APDU (4 + 1 + 255 + 1 = 261 bytes) is an APDU, not a protocol error.
long_apdu=80B00000FF$(printf '00%.0s' $(seq 255))00
out=$(session "" msg:01 "msg:$long_apdu" recv close | tr '\n' ' ')
like "$out" "^connected [0-9A-F]{4} exit=0 $" "a 261-byte APDU is answered with a status word"

# --remove-after: the card leaves right after answering the N-th APDU.
is "$(session "--remove-after 2" msg:01 msg:$SELECT_MF recv msg:04 recv msg:$SELECT_MF recv recv | tr '\n' ' ')" \
	"connected 9000 $ATR 9000 eof exit=0 " \
	"--remove-after 2: two APDUs answered (control codes do not count), then the card leaves"

# --latency-us delays APDU responses, not the ATR.
out=$(session "--latency-us 300000" msg:04 timed msg:$SELECT_MF timed close)
atr_ms=$(sed -n '2s/ .*//p' <<<"$out")
apdu_ms=$(sed -n '3s/ .*//p' <<<"$out")
is "$(sed -n '3s/^[0-9]* //p' <<<"$out")" "9000" "--latency-us 300000: the APDU is answered"
ok "--latency-us 300000: the APDU response took at least 300 ms (took $apdu_ms ms)" test "$apdu_ms" -ge 300
ok "--latency-us 300000: the ATR is not delayed (took $atr_ms ms)" test "$atr_ms" -lt 250

# SIGTERM while the card is still waiting for vpcd.
# shellcheck disable=SC2016 # expanded by the inner bash
out=$(unshare -n bash -c '
	"$P11U_VCARD" run "$STATE" --port "$PORT" 2>"$ERR" &
	pid=$!
	sleep 0.3
	kill -TERM $pid
	wait $pid
	echo exit=$?')
is "$out" "exit=0" "SIGTERM while waiting for vpcd is a clean exit"
like "$(cat "$ERR")" "waiting for vpcd at 127.0.0.1:$PORT" "the card says it is waiting for vpcd"

# Protocol errors: the card closes the connection and exits 1, saying why.
is "$(session "" raw:0000 recv | tr '\n' ' ')" "connected eof exit=1 " "an empty message ends the session (exit 1)"
like "$(cat "$ERR")" "protocol error: message of 0 bytes" "... and says so"
is "$(session "" raw:0106 recv | tr '\n' ' ')" "connected eof exit=1 " \
	"a 262-byte message (longer than any short APDU) ends the session (exit 1)"
like "$(cat "$ERR")" "protocol error: message of 262 bytes" "... and says so"
is "$(session "" msg:03 recv | tr '\n' ' ')" "connected eof exit=1 " "an unknown control code ends the session (exit 1)"
like "$(cat "$ERR")" "unknown vpcd control code 3" "... and says so"
is "$(session "" raw:000780A4 close | tr '\n' ' ')" "connected exit=1 " \
	"vpcd closing in the middle of a message is an error (exit 1)"
like "$(cat "$ERR")" "closed the connection mid-message" "... and says so"

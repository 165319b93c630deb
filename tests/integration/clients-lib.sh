# tests/integration/clients-lib.sh: what the real-client tests (Firefox, NSS, GnuTLS, OpenSSL,
# p11-kit) share.  Source it after lib.sh and p11.sh:
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/p11.sh"
#   . "$(dirname "$0")/clients-lib.sh"
#
#   start_bg NAME CMD [ARGS...]  CMD in the background, output in $TEST_TMP/NAME.log, stopped at
#                                exit by its PID; its PID is in BG_PID
#   jget JSON EXPR               EXPR (Python, the parsed JSON is `d`) printed: strings raw,
#                                true/false/null as JSON, other values as JSON
#   server_cert DIR              a test CA and a server certificate for 127.0.0.1 in DIR:
#                                server-ca.pem, server.pem, server.key
#   card_certs NAME DIR          the card's certificates (p11unlock-vcard export) in DIR, plus
#                                DIR/client-cas.pem (issuing + root CA, what servers ask for)
#   wait_for_file FILE [SECONDS] until FILE exists and is not empty
#   artifact_dir                 $top_builddir/tests/artifacts/<test name> (created): files a
#                                test keeps for people to look at (screenshots)
#   card_label [INDEX]           sets LABEL: the label of the card token in reader INDEX
#                                (default 0), as pkcs11-tool -L shows it with the module loaded
#                                directly; bails out when no token shows up within 15 seconds
#
# The virtual card's secrets are exported (PIN, USER_CODE) so the tools take them from the
# environment (`--pin env:PIN`, GNUTLS_PIN=...), never from argv.
# shellcheck shell=bash

# p11unlock-vcard create's defaults.
CARD_NUMBER=XC00000000091349
PIN=123456
USER_CODE=Ab12cd34
export PIN USER_CODE

_client_pids=()

# Stops what start_bg started (registered first, so it runs after the tests' own at_exit steps).
_clients_cleanup() {
	local pid
	for pid in "${_client_pids[@]}"; do
		if proc_running "$pid"; then
			kill -TERM "$pid" 2>/dev/null
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				proc_running "$pid" || break
				sleep 0.2
			done
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	return 0
}

at_exit _clients_cleanup

start_bg() {
	local name=$1
	shift
	"$@" >"$TEST_TMP/$name.log" 2>&1 </dev/null &
	BG_PID=$!
	_client_pids+=("$BG_PID")
}

jget() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2], {"d": d})
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
' "$1" "$2"
}

server_cert() {
	local dir=$1
	mkdir -p "$dir"
	(
		cd "$dir" &&
			openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout server-ca.key \
				-out server-ca.pem -subj "/CN=p11unlock test server CA" \
				-addext "basicConstraints=critical,CA:TRUE" \
				-addext "keyUsage=critical,keyCertSign,cRLSign" &&
			openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
				-subj "/CN=127.0.0.1" &&
			printf '%s\n' "subjectAltName=IP:127.0.0.1" "extendedKeyUsage=serverAuth" \
				"basicConstraints=CA:FALSE" \
				"keyUsage=critical,digitalSignature,keyEncipherment" >server.ext &&
			openssl x509 -req -in server.csr -CA server-ca.pem -CAkey server-ca.key \
				-CAcreateserial -days 2 -extfile server.ext -out server.pem
	) >"$dir/openssl.log" 2>&1 || bail_out "could not make the test server's certificate (see $dir/openssl.log)"
}

card_certs() {
	local name=$1 dir=$2
	"$P11U_VCARD" export "$(card_state "$name")" "$dir" >/dev/null ||
		bail_out "p11unlock-vcard export $name failed"
	cat "$dir/issuing-ca.pem" "$dir/root-ca.pem" >"$dir/client-cas.pem"
}

wait_for_file() {
	local i
	for ((i = 0; i < ${2:-15} * 10; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

artifact_dir() {
	local dir
	dir=$top_builddir/tests/artifacts/$(basename "$0" .sh)
	mkdir -p "$dir" && echo "$dir"
}

card_label() {
	local i out slot=$((2 * ${1:-0}))
	LABEL=
	for ((i = 0; i < 30; i++)); do
		out=$(p11t -L)
		LABEL=$(sed -n "/^Slot $slot /,/^Slot /s/^ *token label *: //p" <<<"$out" | head -n 1)
		[ -n "$LABEL" ] && return 0
		sleep 0.5
	done
	bail_out "no card token in reader ${1:-0}: $(tr '\n' ' ' <<<"$out")"
}

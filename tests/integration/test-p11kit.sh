#!/bin/bash
# p11-kit: after a real `make install`, p11-kit list-modules shows the module and its token
# and p11-kit's proxy module (what NSS, GnuTLS and most of Debian load) sees the token and
# signs with it; remoting, as Flatpak apps and containers use it: `p11-kit server --provider
# <module> "pkcs11:..."` and a client loading p11-kit-client.so with P11_KIT_SERVER_ADDRESS
# lists the token, signs, and releases a locked PIN with SO login + C_InitPIN.
#
# The install is real (`make install` with the configured prefix, and the registration in
# p11-kit's own module config directory, as a package or `--with-p11-module-configs` puts it:
# with a prefix other than p11-kit's, `make install` alone keeps it under the prefix) but happens
# in a private mount namespace: the prefix (and sysconfdir, when it is
# outside) is an overlay whose changes land in the test's directory, and p11-kit's module
# config directory is replaced by an empty one of ours, so the machine is never changed and
# no other registered module (OpenSC, which would probe the rig's readers) is loaded.
#
# p11-kit 0.24 matches the server's tokens when a client starts and forwards no blocking slot
# waits: the card is inserted before the server starts, and each client is a new process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"

require_rig
require_module
require_cmd p11-kit p11-kit
require_cmd make make
require_cmd openssl openssl
PROXY=$(pkg-config p11-kit-1 --variable proxy_module 2>/dev/null) ||
	PROXY=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
CLIENT=$(pkg-config p11-kit-1 --variable p11_module_path 2>/dev/null)/p11-kit-client.so
[ -f "$PROXY" ] || skip_all "p11-kit's proxy module not found ($PROXY)"
[ -f "$CLIENT" ] || skip_all "p11-kit's client module not found ($CLIENT)"
[ -f "$top_builddir/Makefile" ] || skip_all "no configured build tree in $top_builddir"

plan 22

# make_var NAME: a variable of the build tree's Makefile, fully expanded.
make_var() {
	printf 'p11u-print-%%:\n\t@echo $($*)\n' |
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" -f Makefile -f - \
			"p11u-print-$1"
}

rig_up
p11_setup
card_create alice --pin "$PIN" --user-code "$USER_CODE" --card-number "$CARD_NUMBER"
card_insert 0 alice
card_certs alice "$TEST_TMP/card"
card_label 0
CARD_URI="pkcs11:model=P11U%20V1;serial=$CARD_NUMBER"
openssl x509 -in "$TEST_TMP/card/signature.pem" -pubkey -noout >"$TEST_TMP/signature.pub"
printf 'p11unlock through p11-kit\n' >"$TEST_TMP/msg.txt"

status() {
	vcard_status_get alice "$1"
}

# --- make install, in a private mount namespace -----------------------------------------------
PREFIX=$(make_var prefix)
SYSCONFDIR=$(make_var sysconfdir)
PKCS11DIR=$(make_var pkcs11dir)
MODCONFDIR=$(pkg-config p11-kit-1 --variable p11_module_configs 2>/dev/null) ||
	MODCONFDIR=/usr/share/p11-kit/modules
diag "make install: prefix $PREFIX, module in $PKCS11DIR, registration in $MODCONFDIR"

# The overlays: the prefix, and sysconfdir when it is elsewhere.
overlays=("$PREFIX")
case $SYSCONFDIR/ in "$PREFIX"/*) ;; *) overlays+=("$SYSCONFDIR") ;; esac
NS=$TEST_TMP/ns
mkdir -p "$NS/modules"
ns_ok=yes
for dir in "${overlays[@]}" "$MODCONFDIR"; do
	[ -d "$dir" ] || {
		ns_ok="$dir does not exist (it would be created on the machine)"
		break
	}
done
if [ "$ns_ok" = yes ]; then
	start_bg install-ns unshare -m --propagation unchanged -- /bin/sh -c '
		set -e
		ns=$1 modconf=$2
		shift 2
		mount -n --make-rprivate / 2>/dev/null || true
		case $(findmnt -n -o PROPAGATION --target "$modconf") in
		*shared*) echo "cannot make the mounts private" >&2; exit 1 ;;
		esac
		i=0
		for dir; do
			i=$((i + 1))
			mkdir -p "$ns/upper$i" "$ns/work$i"
			mount -n -t overlay overlay \
				-o "lowerdir=$dir,upperdir=$ns/upper$i,workdir=$ns/work$i" "$dir"
		done
		mount -n --bind "$ns/modules" "$modconf"
		echo ready >"$ns/ready"
		exec sleep 100000' install-ns "$NS" "$MODCONFDIR" "${overlays[@]}"
	NS_PID=$BG_PID
	wait_for_file "$NS/ready" 10 || ns_ok="no private mount namespace: $(cat "$TEST_TMP/install-ns.log")"
fi

# in_ns CMD...: CMD in that namespace (the rig's pcscd is reached by its socket path).
in_ns() {
	nsenter -t "$NS_PID" -m -r -w -- "$@"
}

if [ "$ns_ok" = yes ]; then
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nsenter -t "$NS_PID" -m -r -w -- \
		make -C "$top_builddir" install p11modconfdir="$MODCONFDIR" >"$TEST_TMP/make-install.log" 2>&1
	is "$?" 0 "make install (in the private namespace)"
	ok "the module is installed in $PKCS11DIR" in_ns test -f "$PKCS11DIR/p11unlock-pkcs11.so"
	is "$(in_ns grep -v '^#' "$MODCONFDIR/p11unlock.module")" "module: $PKCS11DIR/p11unlock-pkcs11.so" \
		"p11unlock.module in p11-kit's config directory names the module by absolute path"
	ok "the machine itself is unchanged (no module in $PKCS11DIR outside the namespace)" \
		test ! -e "$PKCS11DIR/p11unlock-pkcs11.so" -a ! -e "$MODCONFDIR/p11unlock.module"

	out=$(in_ns p11-kit list-modules 2>&1)
	like "$out" "^p11unlock: $PKCS11DIR/p11unlock-pkcs11.so\$" "p11-kit list-modules: the module"
	like "$out" "^    token: $LABEL\$" "p11-kit list-modules: its token"
	like "$(sed -n "/token: $LABEL/,/flags:/p" <<<"$out" | tr -s ' \n' ' ')" \
		"manufacturer: p11unlock model: P11U V1 serial-number: $CARD_NUMBER" \
		"p11-kit list-modules: manufacturer, model, serial"

	out=$(in_ns pkcs11-tool --module "$PROXY" -L 2>&1)
	like "$out" "token label +: $LABEL" "pkcs11-tool through p11-kit-proxy.so lists the token"
	like "$out" "serial num +: $CARD_NUMBER" "... with its serial"
	in_ns pkcs11-tool --module "$PROXY" --login --pin env:PIN --sign --mechanism SHA256-RSA-PKCS \
		--id 5349474e -i "$TEST_TMP/msg.txt" -o "$TEST_TMP/proxy.sig" >/dev/null 2>&1
	is "$(openssl dgst -sha256 -verify "$TEST_TMP/signature.pub" -signature "$TEST_TMP/proxy.sig" \
		"$TEST_TMP/msg.txt" 2>&1)" "Verified OK" "a signature through the proxy verifies"
else
	for desc in "make install" "module installed" "p11unlock.module" "machine unchanged" \
		"list-modules: module" "list-modules: token" "list-modules: details" "proxy: token" \
		"proxy: serial" "proxy: signature"; do
		skip "$desc" "$ns_ok"
	done
fi

# --- remoting: p11-kit server + p11-kit-client.so ----------------------------------------------------
export XDG_RUNTIME_DIR=$TEST_TMP/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
start_bg p11-kit-server p11-kit server -f --provider "$MODULE" "$CARD_URI"
SERVER_PID=$BG_PID
for _ in $(seq 100); do
	grep -q '^P11_KIT_SERVER_PID=' "$TEST_TMP/p11-kit-server.log" && break
	sleep 0.1
done
address=$(sed -n 's/^P11_KIT_SERVER_ADDRESS=\([^;]*\);.*/\1/p' "$TEST_TMP/p11-kit-server.log")
like "$address" "^unix:path=$XDG_RUNTIME_DIR/p11-kit/pkcs11-$SERVER_PID\$" \
	"p11-kit server prints the address of its socket in \$XDG_RUNTIME_DIR"
is "$(sed -n 's/^P11_KIT_SERVER_PID=\([0-9]*\);.*/\1/p' "$TEST_TMP/p11-kit-server.log")" "$SERVER_PID" \
	"... and its PID"
export P11_KIT_SERVER_ADDRESS=$address

remote() {
	pkcs11-tool --module "$CLIENT" "$@" 2>&1
}

out=$(remote -L)
like "$out" "token label +: $LABEL" "remoting: the client lists the card token"
like "$out" "token model +: P11U V1" "remoting: ... its model"
remote --login --pin env:PIN --sign --mechanism SHA256-RSA-PKCS --id 5349474e \
	-i "$TEST_TMP/msg.txt" -o "$TEST_TMP/remote.sig" >/dev/null
is "$(openssl dgst -sha256 -verify "$TEST_TMP/signature.pub" -signature "$TEST_TMP/remote.sig" \
	"$TEST_TMP/msg.txt" 2>&1)" "Verified OK" "remoting: a signature made through the client verifies"

export BAD_PIN=000000 BAD_USER_CODE=Zz99zz99 NEW_PIN=112233
for _ in 1 2 3; do
	remote --login --pin env:BAD_PIN -O >/dev/null
done
is "$(status pin_blocked)/$(status user_code_tries)" 1/3 "remoting: three wrong PINs through the client block the PIN"
like "$(remote -L)" "token flags +:.*user PIN locked" "remoting: the client sees the token's PIN locked"
out=$(remote --login --login-type so --so-pin env:BAD_USER_CODE --init-pin --new-pin env:NEW_PIN)
like "$out" "C_Login failed: rv = CKR_PIN_INCORRECT" "remoting: SO login with a wrong user code: CKR_PIN_INCORRECT"
is "$(status user_code_tries)/$(status pin_blocked)" 2/1 "remoting: one user-code try spent, the PIN still blocked"
out=$(remote --login --login-type so --so-pin env:USER_CODE --init-pin --new-pin env:NEW_PIN)
like "$out" "User PIN successfully initialized" "remoting: SO login with the user code + C_InitPIN"
is "$(status pin_blocked)/$(status pin_tries)/$(status user_code_tries)" 0/3/3 "remoting: the PIN is released, counters full"
is "$(remote --login --pin env:NEW_PIN -O | grep -c '^Private Key Object')" 2 \
	"remoting: the new PIN logs in (two private keys)"

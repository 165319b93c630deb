# tests/integration/firefox-lib.sh: what the Firefox tests share.  Source it after lib.sh,
# p11.sh and clients-lib.sh:
#
#   require_firefox              skip_all unless firefox-esr 153 or later and python3 are there
#   ff DIR COMMAND ARGS...       one marionette.py command against the Firefox of DIR (stderr
#                                to $TEST_TMP/marionette.err)
#   ff_start DIR [--policy]      Firefox with a fresh profile in DIR, stopped (by PID) when the
#                                test ends; bails out when it does not start.  It starts holding
#                                FF_POLICY_LOCK shared; --policy: the caller holds it exclusively
#   ff_policy_lock / ff_policy_unlock
#                                hold FF_POLICY_LOCK exclusively while a test's own
#                                /etc/firefox/policies/policies.json exists
#   ff_trust_ca DIR FILE.pem     the CA in FILE.pem trusted for servers, as Certificate Manager
#                                -> Authorities -> Import does
#   png_at_least FILE W H        FILE is a PNG at least W x H pixels (a window, not a stub)
#
# MARIONETTE is the path of marionette.py; FF_TIMEOUT (P11U_FIREFOX_TIMEOUT, default 90 s) bounds
# each wait for Firefox, a prompt, a page.
# shellcheck shell=bash

MARIONETTE=$P11U_LIB_DIR/marionette.py
# Generous but bounded: a Firefox start, a prompt, a page load.
FF_TIMEOUT=${P11U_FIREFOX_TIMEOUT:-90}
# Every Firefox reads /etc/firefox/policies/policies.json as it starts: a test that writes one
# (test-firefox.sh) must not have its module loaded into the Firefox of a test running beside it.
FF_POLICY_LOCK=/run/lock/p11unlock-firefox-policies.lock
[ -d /run/lock ] || FF_POLICY_LOCK=${TMPDIR:-/tmp}/p11unlock-firefox-policies.lock

require_firefox() {
	local major
	require_cmd firefox-esr firefox-esr
	# marionette.py speaks to the PSM interfaces of firefox-esr 153 (bookworm-security); the 140
	# of a Debian 12 without its security updates has other ones (nsIPKCS11Module.listSlots()...).
	major=$(firefox-esr --version 2>/dev/null | sed -n 's/^Mozilla Firefox \([0-9]*\)\..*/\1/p')
	[ "${major:-0}" -ge 153 ] ||
		skip_all "firefox-esr ${major:-?} is older than 153: enable bookworm-security (scripts/setup.sh sources)"
	require_cmd python3 python3
	require_cmd flock util-linux
}

ff() {
	python3 "$MARIONETTE" --timeout "$FF_TIMEOUT" "$@" 2>>"$TEST_TMP/marionette.err"
}

ff_start() {
	local lock=(flock -s "$FF_POLICY_LOCK")
	[ "${2:-}" = --policy ] && lock=()
	mkdir -p "$1"
	at_exit python3 "$MARIONETTE" stop "$1"
	"${lock[@]}" python3 "$MARIONETTE" --timeout "$FF_TIMEOUT" start "$1" >"$1/start.json" \
		2>>"$TEST_TMP/marionette.err" ||
		bail_out "firefox-esr did not start: $(tail -n 3 "$TEST_TMP/marionette.err" "$1/firefox.log")"
}

ff_policy_lock() {
	exec {_ff_policy_fd}>"$FF_POLICY_LOCK"
	flock -x "$_ff_policy_fd"
}

ff_policy_unlock() {
	exec {_ff_policy_fd}>&-
}

ff_trust_ca() {
	ff "$1" chrome "
		const pem = await IOUtils.readUTF8('$2');
		Cc['@mozilla.org/security/x509certdb;1'].getService(Ci.nsIX509CertDB)
			.addCertFromBase64(pem.replace(/-----[^-]+-----|\\s+/g, ''), 'C,,');
		return true;" >/dev/null || bail_out "could not import the CA $2"
}

png_at_least() {
	python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
	head = f.read(24)
ok = head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
w, h = struct.unpack(">II", head[16:24]) if ok else (0, 0)
if not ok or w < int(sys.argv[2]) or h < int(sys.argv[3]):
	sys.exit("%s: not a PNG of at least %sx%s (%dx%d)" % (sys.argv[1], sys.argv[2], sys.argv[3], w, h))
' "$@"
}

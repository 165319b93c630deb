# Real clients end to end (issue 6): Firefox (Marionette), NSS tools, GnuTLS, OpenSSL's pkcs11
# engine and p11-kit (proxy, make install, remoting), each against the rig's real pcscd and a
# virtual test card.  They need root and skip themselves (TAP "1..0 # SKIP") without it or
# without the client program.
CLIENT_TESTS = \
	tests/integration/test-nss.sh \
	tests/integration/test-gnutls.sh \
	tests/integration/test-openssl.sh \
	tests/integration/test-p11kit.sh \
	tests/integration/test-firefox.sh \
	tests/integration/test-firefox-hicos.sh

TESTS += $(CLIENT_TESTS)
dist_check_SCRIPTS += $(CLIENT_TESTS)
EXTRA_DIST += \
	tests/integration/clients-lib.sh \
	tests/integration/firefox-lib.sh \
	tests/integration/marionette.py \
	tests/integration/tls-server.py \
	docs/screenshots/firefox-client-auth.png \
	docs/screenshots/firefox-hicos-certificates.png \
	docs/screenshots/firefox-unlock-1-token-selected.png \
	docs/screenshots/firefox-unlock-2-change-password-filled.png \
	docs/screenshots/firefox-unlock-3-result.png \
	docs/screenshots/firefox-unlock-4-login-new-pin.png \
	docs/screenshots/firefox-unlock-5-logged-in.png

# The Firefox tests keep their screenshots for people to look at.
CLEANFILES += tests/artifacts/test-firefox/*.png tests/artifacts/test-firefox-hicos/*.png

# Real clients end to end (issue 6): Firefox (Marionette), NSS tools, GnuTLS, OpenSSL's pkcs11
# engine and p11-kit (proxy, make install, remoting), each against the rig's real pcscd and a
# virtual test card.  They need root and skip themselves (TAP "1..0 # SKIP") without it or
# without the client program.
CLIENT_TESTS = \
	tests/integration/test-nss.sh \
	tests/integration/test-gnutls.sh \
	tests/integration/test-openssl.sh \
	tests/integration/test-p11kit.sh \
	tests/integration/test-firefox.sh

TESTS += $(CLIENT_TESTS)
dist_check_SCRIPTS += $(CLIENT_TESTS)
EXTRA_DIST += \
	tests/integration/clients-lib.sh \
	tests/integration/marionette.py \
	tests/integration/tls-server.py \
	docs/screenshots/firefox-client-auth.png \
	docs/screenshots/firefox-security-devices-locked.png \
	docs/screenshots/firefox-security-devices-unlocked.png

# test-firefox.sh keeps its screenshots for people to look at.
CLEANFILES += tests/artifacts/test-firefox/*.png

# Real clients end to end, continued (issue 13): OpenSSL 3 through pkcs11-provider (Debian 12:
# pkcs11-provider from bookworm-backports) and Java (OpenJDK 17, SunPKCS11: keytool, jarsigner),
# each against the rig's real pcscd and a virtual test card.  They need root and skip themselves
# (TAP "1..0 # SKIP") without it or without the client program.
CLIENT2_TESTS = \
	tests/integration/test-provider.sh \
	tests/integration/test-java.sh

TESTS += $(CLIENT2_TESTS)
dist_check_SCRIPTS += $(CLIENT2_TESTS)

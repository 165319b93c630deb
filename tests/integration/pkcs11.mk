# Integration tests of the PKCS#11 module through real clients (pkcs11-tool) on the rig.
PKCS11_TESTS = \
	tests/integration/test-pkcs11-tool.sh \
	tests/integration/test-pkcs11-pin.sh \
	tests/integration/test-pkcs11-cards.sh \
	tests/integration/test-pkcs11-labels.sh \
	tests/integration/test-pkcs11-junk-cert.sh \
	tests/integration/test-conformance.sh \
	tests/integration/test-ssh.sh

TESTS += $(PKCS11_TESTS)
dist_check_SCRIPTS += $(PKCS11_TESTS)
EXTRA_DIST += tests/integration/p11.sh

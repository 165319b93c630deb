# Integration tests of the unlock extension (issue 4), of the module's removal, reset,
# slot-event and fork behaviour (issue 3), and of its cache of public card data and presence
# from reader events (issue 10), on the rig with the real pcscd.
# p11-script is a small PKCS#11 client that runs exact call sequences read from stdin.
check_PROGRAMS += tests/integration/p11-script
tests_integration_p11_script_SOURCES = tests/integration/p11-script.c
tests_integration_p11_script_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS) $(CRYPTO_CFLAGS) -pthread
# Only the CK_RV names of the module's sources (libp11u-ckr has no entry point: the module's
# C_* functions come from the dlopen'ed module alone).
tests_integration_p11_script_LDADD = src/pkcs11/libp11u-ckr.la -ldl -lpthread

UNLOCK_TESTS = \
	tests/integration/test-unlock-so.sh \
	tests/integration/test-unlock-token.sh \
	tests/integration/test-unlock-opensc.sh \
	tests/integration/test-unlock-vendor.sh \
	tests/integration/test-unlock-guard.sh \
	tests/integration/test-removal.sh \
	tests/integration/test-events.sh \
	tests/integration/test-concurrency.sh \
	tests/integration/test-cache.sh \
	tests/integration/test-presence.sh

TESTS += $(UNLOCK_TESTS)
dist_check_SCRIPTS += $(UNLOCK_TESTS)
EXTRA_DIST += tests/integration/p11-script.sh

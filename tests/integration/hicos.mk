# Integration tests of real HiCOS cards (issue 11) through virtual gen1 and gen2 cards on the
# rig: the module through pkcs11-tool and p11-script, and the p11unlock tool.  They need root
# and skip themselves (TAP "1..0 # SKIP") without it.
HICOS_TESTS = \
	tests/integration/test-hicos-gen1.sh \
	tests/integration/test-hicos-gen2.sh \
	tests/integration/test-tool-hicos.sh

TESTS += $(HICOS_TESTS)
dist_check_SCRIPTS += $(HICOS_TESTS)
EXTRA_DIST += tests/integration/hicos-lib.sh

# Foundation integration tests: a real pcscd with vpcd readers and the virtual
# card, through tests/rig.sh (in its own mount + network namespace).  They need
# root and skip themselves (TAP "1..0 # SKIP") without it.
FOUNDATION_TESTS = \
	tests/integration/test-vpcd.sh \
	tests/integration/test-rig.sh \
	tests/integration/test-opensc-tool.sh \
	tests/integration/test-pin-block.sh

TESTS += $(FOUNDATION_TESTS)
dist_check_SCRIPTS += $(FOUNDATION_TESTS)
EXTRA_DIST += tests/rig.sh tests/integration/lib.sh

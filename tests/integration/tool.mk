# Integration tests of the p11unlock tool (issue 5): the tool, the module, a real pcscd with vpcd
# readers and the virtual card, through tests/rig.sh.  They need root and skip themselves
# (TAP "1..0 # SKIP") without it.
TOOL_TESTS = \
	tests/integration/test-tool-unlock.sh \
	tests/integration/test-tool-tries.sh \
	tests/integration/test-tool-inputs.sh \
	tests/integration/test-tool-cards.sh \
	tests/integration/test-tool-modules.sh \
	tests/integration/test-tool-interactive.sh

TESTS += $(TOOL_TESTS)
dist_check_SCRIPTS += $(TOOL_TESTS)
EXTRA_DIST += tests/integration/tool-lib.sh

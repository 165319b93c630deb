# Integration tests of the p11unlock tool (issue 5): the tool, the module, a real pcscd with vpcd
# readers and the virtual card, through tests/rig.sh.  They need root and skip themselves
# (TAP "1..0 # SKIP") without it.
TOOL_TESTS = \
	tests/integration/test-tool-unlock.sh \
	tests/integration/test-tool-tries.sh \
	tests/integration/test-tool-inputs.sh \
	tests/integration/test-tool-cards.sh \
	tests/integration/test-tool-modules.sh \
	tests/integration/test-tool-interactive.sh \
	tests/integration/test-tool-streams.sh \
	tests/integration/test-tool-safety.sh \
	tests/integration/test-tool-lang.sh \
	tests/integration/test-tool-retry.sh \
	tests/integration/test-tool-removal.sh \
	tests/integration/test-tool-detect.sh \
	tests/integration/test-tool-demo.sh \
	tests/integration/test-tool-man.sh

TESTS += $(TOOL_TESTS)
dist_check_SCRIPTS += $(TOOL_TESTS)
EXTRA_DIST += tests/integration/tool-lib.sh

# make install with a custom prefix writes nothing outside it (configure and the install of
# p11unlock.module in a fresh build directory; root for a private mount namespace).
INSTALL_TESTS = tests/integration/test-install-prefix.sh
TESTS += $(INSTALL_TESTS)
dist_check_SCRIPTS += $(INSTALL_TESTS)

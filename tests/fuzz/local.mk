# Fuzzing with clang's libFuzzer, ASan and UBSan (issue 9; tests/fuzz/run.sh says how to run).
# Built only in a tree configured with --enable-fuzzing (CC=clang), and only by
#   make fuzz-build    the targets, nothing run
#   make fuzz-smoke    every target for a few seconds, about a minute in all
#   make fuzz          every target for FUZZ_SECONDS (default 300) each
#   make fuzz-seeds    writes the seed corpora of tests/fuzz/corpus again (gen-seeds.c)
# never by `make` or `make check`.
#
# The code under test is compiled again with the fuzzing instrumentation, from the source lists
# of the real libraries, into three convenience libraries; tests/fuzz/fake-reader.c stands in
# for src/pcsc/reader.c.  Sources and seed corpora are distributed; the binaries are not built
# by distcheck.

FUZZ_TARGETS = \
	tests/fuzz/fuzz-module \
	tests/fuzz/fuzz-card-files \
	tests/fuzz/fuzz-hicos-dir \
	tests/fuzz/fuzz-cache \
	tests/fuzz/fuzz-sw \
	tests/fuzz/fuzz-config \
	tests/fuzz/fuzz-tool-inputs \
	tests/fuzz/fuzz-text

EXTRA_PROGRAMS += $(FUZZ_TARGETS) tests/fuzz/gen-seeds
EXTRA_LTLIBRARIES = tests/fuzz/libfuzz-card.la tests/fuzz/libfuzz-front.la \
	tests/fuzz/libfuzz-tool.la
CLEANFILES += $(FUZZ_TARGETS) tests/fuzz/gen-seeds $(EXTRA_LTLIBRARIES)
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/card.dict tests/fuzz/corpus
# What runs them in CI next to the ASan and valgrind runs (quickstart's P11U_FUZZ and
# P11U_SANITIZE), and how to run all three by hand.
EXTRA_DIST += scripts/sanitize.sh tests/sanitize docs/testing-sanitizers.md docs/security.md

# The card layer and the common helpers, with the fake reader and the card script.
tests_fuzz_libfuzz_card_la_SOURCES = \
	$(src_common_libp11u_common_la_SOURCES) $(src_card_libp11u_card_la_SOURCES) \
	tests/fuzz/fuzz-script.c tests/fuzz/fuzz-script.h \
	tests/fuzz/fake-reader.c tests/fuzz/fake-reader.h
tests_fuzz_libfuzz_card_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_libfuzz_card_la_LIBADD = $(CRYPTO_LIBS) -lpthread

# The PKCS#11 front.  OpenSSL's deprecated RSA padding stays in its own library, uninstrumented.
tests_fuzz_libfuzz_front_la_SOURCES = \
	$(src_pkcs11_libp11u_objects_la_SOURCES) $(src_pkcs11_libp11u_ckr_la_SOURCES) \
	$(src_pkcs11_libp11u_pkcs11_la_SOURCES)
tests_fuzz_libfuzz_front_la_CPPFLAGS = $(P11U_PKCS11_CPPFLAGS)
tests_fuzz_libfuzz_front_la_CFLAGS = $(P11U_PKCS11_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_libfuzz_front_la_LIBADD = src/pkcs11/libp11u-rsa-padding.la $(CRYPTO_LIBS) -lpthread

# The p11unlock tool's parsers.
tests_fuzz_libfuzz_tool_la_SOURCES = $(tools_p11unlock_libp11unlock_tool_la_SOURCES)
tests_fuzz_libfuzz_tool_la_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS)
tests_fuzz_libfuzz_tool_la_CFLAGS = $(P11UNLOCK_TOOL_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_libfuzz_tool_la_LIBADD = $(CRYPTO_LIBS) $(P11KIT_LIBS) $(LIBINTL) -ldl

FUZZ_TARGET_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS) $(FUZZ_CFLAGS)
FUZZ_CARD_LDADD = tests/fuzz/libfuzz-card.la $(CRYPTO_LIBS) -lpthread
FUZZ_FRONT_LDADD = tests/fuzz/libfuzz-front.la $(FUZZ_CARD_LDADD)

tests_fuzz_fuzz_module_SOURCES = tests/fuzz/fuzz-module.c \
	tests/fuzz/module-session.c tests/fuzz/module-session.h
tests_fuzz_fuzz_module_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_module_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_module_LDADD = $(FUZZ_FRONT_LDADD)

tests_fuzz_fuzz_card_files_SOURCES = tests/fuzz/fuzz-card-files.c \
	tests/fuzz/card-session.c tests/fuzz/card-session.h
tests_fuzz_fuzz_card_files_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_card_files_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_card_files_LDADD = $(FUZZ_CARD_LDADD)

tests_fuzz_fuzz_cache_SOURCES = tests/fuzz/fuzz-cache.c
tests_fuzz_fuzz_cache_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_cache_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_cache_LDADD = $(FUZZ_CARD_LDADD)

tests_fuzz_fuzz_hicos_dir_SOURCES = tests/fuzz/fuzz-hicos-dir.c
tests_fuzz_fuzz_hicos_dir_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_hicos_dir_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_hicos_dir_LDADD = $(FUZZ_CARD_LDADD)

tests_fuzz_fuzz_sw_SOURCES = tests/fuzz/fuzz-sw.c
tests_fuzz_fuzz_sw_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_sw_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sw_LDADD = $(FUZZ_CARD_LDADD)

tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c
tests_fuzz_fuzz_config_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_LDADD = $(FUZZ_FRONT_LDADD)

tests_fuzz_fuzz_tool_inputs_SOURCES = tests/fuzz/fuzz-tool-inputs.c
tests_fuzz_fuzz_tool_inputs_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS)
tests_fuzz_fuzz_tool_inputs_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_tool_inputs_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_tool_inputs_LDADD = tests/fuzz/libfuzz-tool.la $(FUZZ_CARD_LDADD) \
	$(P11KIT_LIBS) $(LIBINTL) -ldl

tests_fuzz_fuzz_text_SOURCES = tests/fuzz/fuzz-text.c
tests_fuzz_fuzz_text_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_fuzz_text_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_text_LDADD = $(FUZZ_CARD_LDADD)

# The seed generator: the fuzz targets' sessions recorded against the virtual card.  Its own
# main, so the sanitizers without libFuzzer's.
tests_fuzz_gen_seeds_SOURCES = tests/fuzz/gen-seeds.c \
	tests/fuzz/module-session.c tests/fuzz/module-session.h \
	tests/fuzz/card-session.c tests/fuzz/card-session.h
tests_fuzz_gen_seeds_CFLAGS = $(FUZZ_TARGET_CFLAGS)
tests_fuzz_gen_seeds_LDFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_gen_seeds_LDADD = tests/fuzz/libfuzz-front.la tests/fuzz/libfuzz-card.la \
	tools/vcard/libvcard.la $(CRYPTO_LIBS) -lpthread

FUZZ_SECONDS = 300

if ENABLE_FUZZING
fuzz-build: $(FUZZ_TARGETS)
fuzz-smoke: $(FUZZ_TARGETS)
	$(SHELL) $(srcdir)/tests/fuzz/run.sh smoke
fuzz: $(FUZZ_TARGETS)
	$(SHELL) $(srcdir)/tests/fuzz/run.sh long $(FUZZ_SECONDS)
fuzz-seeds: tests/fuzz/gen-seeds
	tests/fuzz/gen-seeds $(srcdir)/tests/fuzz/corpus $(srcdir)
else
fuzz-build fuzz-smoke fuzz fuzz-seeds:
	@echo "$@: configure with CC=clang --enable-fuzzing to build the fuzz targets" >&2; exit 1
endif
.PHONY: fuzz-build fuzz-smoke fuzz fuzz-seeds

# What run.sh leaves: the corpora grown by `make fuzz`, logs, and findings.
clean-local: fuzz-clean
fuzz-clean:
	-rm -rf tests/fuzz/work
.PHONY: fuzz-clean

# Regressions of what the fuzzers found: an ordinary unit test, built and run by `make check`
# (with cmocka), fuzzing enabled or not.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-fuzz-findings
TESTS += tests/unit/test-fuzz-findings
tests_unit_test_fuzz_findings_SOURCES = tests/unit/test-fuzz-findings.c
tests_unit_test_fuzz_findings_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS)
tests_unit_test_fuzz_findings_LDADD = src/pkcs11/libp11u-objects.la src/pkcs11/libp11u-ckr.la \
	src/card/libp11u-card.la src/common/libp11u-common.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
endif

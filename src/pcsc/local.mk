# PC/SC transport (src/pcsc/reader.h) over PCSC-lite.
# Link src/common/libp11u-common.la next to it (not added here: two convenience libraries
# carrying the same objects would clash in a shared module).
noinst_LTLIBRARIES += src/pcsc/libp11u-pcsc.la
src_pcsc_libp11u_pcsc_la_SOURCES = src/pcsc/reader.c src/pcsc/reader.h
src_pcsc_libp11u_pcsc_la_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) $(CRYPTO_CFLAGS) -fvisibility=hidden
src_pcsc_libp11u_pcsc_la_LIBADD = $(PCSC_LIBS) $(CRYPTO_LIBS) -lpthread

# The transport against a real pcscd in the test rig (tests/rig.sh; needs root, else skipped).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-pcsc
TESTS += tests/unit/test-pcsc
tests_unit_test_pcsc_SOURCES = tests/unit/test-pcsc.c
tests_unit_test_pcsc_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pcsc_LDADD = src/pcsc/libp11u-pcsc.la src/card/libp11u-card.la \
	src/common/libp11u-common.la tools/vcard/libvcard.la \
	$(PCSC_LIBS) $(CRYPTO_LIBS) $(CMOCKA_LIBS) -lpthread
endif

# The virtual card: an APDU library (libvcard.la, used in-process by unit tests and the
# card layer's tests), the vpcd socket loop and the p11unlock-vcard program.
noinst_LTLIBRARIES += tools/vcard/libvcard.la
tools_vcard_libvcard_la_SOURCES = \
	tools/vcard/vcard.h tools/vcard/vcard-internal.h \
	tools/vcard/vcard.c \
	tools/vcard/vcard-apdu.c \
	tools/vcard/vcard-security.c \
	tools/vcard/vcard-hicos.c \
	tools/vcard/vcard-pkcs15.c \
	tools/vcard/vcard-state.c \
	tools/vcard/vcard-create.c
tools_vcard_libvcard_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tools_vcard_libvcard_la_LIBADD = $(CRYPTO_LIBS)

bin_PROGRAMS += tools/vcard/p11unlock-vcard
tools_vcard_p11unlock_vcard_SOURCES = \
	tools/vcard/main.c \
	tools/vcard/vpcd.c tools/vcard/vpcd.h
tools_vcard_p11unlock_vcard_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tools_vcard_p11unlock_vcard_LDADD = tools/vcard/libvcard.la $(CRYPTO_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-vcard tests/unit/test-vcard-hicos
TESTS += tests/unit/test-vcard tests/unit/test-vcard-hicos
tests_unit_test_vcard_SOURCES = tests/unit/test-vcard.c
tests_unit_test_vcard_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_vcard_LDADD = tools/vcard/libvcard.la $(CRYPTO_LIBS) $(CMOCKA_LIBS)
tests_unit_test_vcard_hicos_SOURCES = tests/unit/test-vcard-hicos.c
tests_unit_test_vcard_hicos_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_vcard_hicos_LDADD = tools/vcard/libvcard.la $(CRYPTO_LIBS) $(CMOCKA_LIBS)
endif

# The card layer (src/card/card.h): the card profile over a transport.
# Link src/common/libp11u-common.la next to it (not added here: two convenience libraries
# carrying the same objects would clash in a shared module).
noinst_LTLIBRARIES += src/card/libp11u-card.la
src_card_libp11u_card_la_SOURCES = \
	src/card/card.h src/card/card-int.h src/card/profile.h \
	src/card/card.c src/card/profile.c \
	src/card/apdu.c src/card/apdu-log.c \
	src/card/files.c src/card/snapshot.c src/card/keys.c \
	src/card/secret.c src/card/keyops.c \
	src/card/pkcs15.c src/card/pkcs15.h \
	src/card/hicos-read.c src/card/hicos-ops.c
src_card_libp11u_card_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -fvisibility=hidden
src_card_libp11u_card_la_LIBADD = $(CRYPTO_LIBS)

# Unit tests: the card layer in-process against the virtual card's APDU library (no pcscd).
if HAVE_CMOCKA
card_test_ldadd = src/card/libp11u-card.la src/common/libp11u-common.la tools/vcard/libvcard.la \
	$(CRYPTO_LIBS) $(CMOCKA_LIBS)
card_test_cflags = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test-card tests/unit/test-card-faults tests/unit/test-apdu-log \
	tests/unit/test-card-hicos tests/unit/test-card-hicos-faults tests/unit/test-card-cache
TESTS += tests/unit/test-card tests/unit/test-card-faults tests/unit/test-apdu-log \
	tests/unit/test-card-hicos tests/unit/test-card-hicos-faults tests/unit/test-card-cache

tests_unit_test_card_SOURCES = tests/unit/test-card.c \
	tests/unit/test-card-transport.c tests/unit/test-card-transport.h
tests_unit_test_card_CFLAGS = $(card_test_cflags)
tests_unit_test_card_LDADD = $(card_test_ldadd)

tests_unit_test_card_faults_SOURCES = tests/unit/test-card-faults.c \
	tests/unit/test-card-transport.c tests/unit/test-card-transport.h
tests_unit_test_card_faults_CFLAGS = $(card_test_cflags)
tests_unit_test_card_faults_LDADD = $(card_test_ldadd)

tests_unit_test_apdu_log_SOURCES = tests/unit/test-apdu-log.c \
	tests/unit/test-card-transport.c tests/unit/test-card-transport.h
tests_unit_test_apdu_log_CFLAGS = $(card_test_cflags)
tests_unit_test_apdu_log_LDADD = $(card_test_ldadd)

tests_unit_test_card_hicos_SOURCES = tests/unit/test-card-hicos.c \
	tests/unit/test-card-transport.c tests/unit/test-card-transport.h
tests_unit_test_card_hicos_CFLAGS = $(card_test_cflags)
tests_unit_test_card_hicos_LDADD = $(card_test_ldadd)

tests_unit_test_card_hicos_faults_SOURCES = tests/unit/test-card-hicos-faults.c \
	tests/unit/test-card-transport.c tests/unit/test-card-transport.h
tests_unit_test_card_hicos_faults_CFLAGS = $(card_test_cflags)
tests_unit_test_card_hicos_faults_LDADD = $(card_test_ldadd)

tests_unit_test_card_cache_SOURCES = tests/unit/test-card-cache.c \
	tests/unit/test-card-transport.c tests/unit/test-card-transport.h
tests_unit_test_card_cache_CFLAGS = $(card_test_cflags)
tests_unit_test_card_cache_LDADD = $(card_test_ldadd)
endif

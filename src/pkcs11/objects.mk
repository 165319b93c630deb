# Objects and crypto of the PKCS#11 front (libp11u-objects.la, linked into the module).

# OpenSSL's RSA padding functions are deprecated in 3.0: this one small library wraps them
# and is the only code compiled with OPENSSL_SUPPRESS_DEPRECATED.
noinst_LTLIBRARIES += src/pkcs11/libp11u-rsa-padding.la
src_pkcs11_libp11u_rsa_padding_la_SOURCES = \
	src/pkcs11/rsa-padding.c src/pkcs11/rsa-padding.h
src_pkcs11_libp11u_rsa_padding_la_CPPFLAGS = $(AM_CPPFLAGS) -DOPENSSL_SUPPRESS_DEPRECATED
src_pkcs11_libp11u_rsa_padding_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(CRYPTO_CFLAGS)

noinst_LTLIBRARIES += src/pkcs11/libp11u-objects.la
src_pkcs11_libp11u_objects_la_SOURCES = \
	src/pkcs11/object.c src/pkcs11/object.h \
	src/pkcs11/object-int.h src/pkcs11/object-dir.c \
	src/pkcs11/crypto.c src/pkcs11/crypto.h \
	src/pkcs11/mechanism.c src/pkcs11/mechanism.h
src_pkcs11_libp11u_objects_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS)
src_pkcs11_libp11u_objects_la_LIBADD = src/pkcs11/libp11u-rsa-padding.la $(CRYPTO_LIBS)

if HAVE_CMOCKA
# In-process tests against the virtual card's APDU library through the real card layer.
# errors.c is the module's one card-result -> CK_RV mapping (crypto.c calls it).
OBJECTS_TEST_LDADD = \
	src/pkcs11/libp11u-objects.la src/card/libp11u-card.la tools/vcard/libvcard.la \
	src/common/libp11u-common.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
OBJECTS_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS)

check_PROGRAMS += tests/unit/test-object tests/unit/test-crypto tests/unit/test-object-dir
TESTS += tests/unit/test-object tests/unit/test-crypto tests/unit/test-object-dir
tests_unit_test_object_SOURCES = tests/unit/test-object.c \
	tests/unit/card-fixture.c tests/unit/card-fixture.h
tests_unit_test_object_CFLAGS = $(OBJECTS_TEST_CFLAGS)
tests_unit_test_object_LDADD = $(OBJECTS_TEST_LDADD)
tests_unit_test_crypto_SOURCES = tests/unit/test-crypto.c \
	tests/unit/card-fixture.c tests/unit/card-fixture.h \
	src/pkcs11/errors.c
tests_unit_test_crypto_CFLAGS = $(OBJECTS_TEST_CFLAGS)
tests_unit_test_crypto_LDADD = $(OBJECTS_TEST_LDADD)
tests_unit_test_object_dir_SOURCES = tests/unit/test-object-dir.c \
	tests/unit/card-fixture.c tests/unit/card-fixture.h \
	src/pkcs11/errors.c
tests_unit_test_object_dir_CFLAGS = $(OBJECTS_TEST_CFLAGS)
tests_unit_test_object_dir_LDADD = $(OBJECTS_TEST_LDADD)
endif

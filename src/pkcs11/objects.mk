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
	src/pkcs11/crypto.c src/pkcs11/crypto.h \
	src/pkcs11/mechanism.c src/pkcs11/mechanism.h
src_pkcs11_libp11u_objects_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS)
src_pkcs11_libp11u_objects_la_LIBADD = src/pkcs11/libp11u-rsa-padding.la $(CRYPTO_LIBS)

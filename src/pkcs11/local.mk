# The PKCS#11 front.  One source list, two builds: the convenience library libp11u-pkcs11.la
# (which in-process tests link) and the module p11unlock-pkcs11.so made from it, which exports
# only the PKCS#11 entry points (version script).
P11U_PKCS11_CPPFLAGS = $(AM_CPPFLAGS) -DP11U_SYSCONFDIR='"$(sysconfdir)"'
P11U_PKCS11_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(PCSC_CFLAGS) $(P11KIT_CFLAGS)

# CK_RV names and the card-result mapping alone, with no entry point: also for test clients
# that dlopen the module (tests/integration/p11-script).
noinst_LTLIBRARIES += src/pkcs11/libp11u-ckr.la
src_pkcs11_libp11u_ckr_la_SOURCES = src/pkcs11/errors.c src/pkcs11/errors.h
src_pkcs11_libp11u_ckr_la_CPPFLAGS = $(P11U_PKCS11_CPPFLAGS)
src_pkcs11_libp11u_ckr_la_CFLAGS = $(P11U_PKCS11_CFLAGS)

noinst_LTLIBRARIES += src/pkcs11/libp11u-pkcs11.la
src_pkcs11_libp11u_pkcs11_la_SOURCES = \
	src/pkcs11/front.h src/pkcs11/pkcs11-compat.h \
	src/pkcs11/module.c src/pkcs11/interface.c src/pkcs11/call.c \
	src/pkcs11/conf.c src/pkcs11/conf.h src/pkcs11/cache.c src/pkcs11/cache.h \
	src/pkcs11/slot.c src/pkcs11/token.c src/pkcs11/session.c \
	src/pkcs11/login.c src/pkcs11/find.c src/pkcs11/ops.c \
	include/p11unlock/p11unlock.h
src_pkcs11_libp11u_pkcs11_la_CPPFLAGS = $(P11U_PKCS11_CPPFLAGS)
src_pkcs11_libp11u_pkcs11_la_CFLAGS = $(P11U_PKCS11_CFLAGS)
# Each convenience library once: the module is linked from this one alone.
src_pkcs11_libp11u_pkcs11_la_LIBADD = src/pkcs11/libp11u-ckr.la \
	src/pkcs11/libp11u-objects.la src/card/libp11u-card.la src/pcsc/libp11u-pcsc.la \
	src/common/libp11u-common.la $(CRYPTO_LIBS) $(PCSC_LIBS) -lpthread

pkcs11_LTLIBRARIES += src/pkcs11/p11unlock-pkcs11.la
src_pkcs11_p11unlock_pkcs11_la_SOURCES =
src_pkcs11_p11unlock_pkcs11_la_LIBADD = src/pkcs11/libp11u-pkcs11.la
# -z nodelete: a reader's I/O thread may still be in pcscd when the application finalizes and
# unloads the module (a stalled card, src/pcsc/reader.h); the code it returns to must stay.
src_pkcs11_p11unlock_pkcs11_la_LDFLAGS = -module -avoid-version -shared -no-undefined \
	-Wl,-z,nodelete -Wl,--version-script=$(srcdir)/src/pkcs11/p11unlock-pkcs11.map
EXTRA_src_pkcs11_p11unlock_pkcs11_la_DEPENDENCIES = $(srcdir)/src/pkcs11/p11unlock-pkcs11.map
EXTRA_DIST += src/pkcs11/p11unlock-pkcs11.map

# The vendor extension header.
p11unlockincludedir = $(includedir)/p11unlock
p11unlockinclude_HEADERS = include/p11unlock/p11unlock.h

# A commented sample configuration (every setting at its default).
dist_sysconf_DATA = src/pkcs11/p11unlock.conf

# p11-kit registration: the module's absolute installed path, written at make time; only the
# file name when the module goes into p11-kit's own module directory (pkg-config variable
# p11_module_path, e.g. configure --prefix=/usr --libdir=/usr/lib/<triplet> as Debian's
# packages do), which p11-kit resolves against that directory of its own architecture: the
# registration is then the same file on every architecture (a Multi-Arch: same package).
p11modconfdir = $(p11_module_configs)
p11modconf_DATA = src/pkcs11/p11unlock.module
CLEANFILES += src/pkcs11/p11unlock.module
src/pkcs11/p11unlock.module: Makefile
	$(AM_V_GEN)$(MKDIR_P) src/pkcs11 && \
	module='$(pkcs11dir)/p11unlock-pkcs11.so' && \
	if test "x$(pkcs11dir)" = "x`$(PKG_CONFIG) --variable=p11_module_path p11-kit-1 2>/dev/null`"; then \
		module=p11unlock-pkcs11.so; \
	fi && \
	printf '%s\n' "# p11unlock PKCS#11 module (installed by make install)" \
		"module: $$module" >$@

# distcheck installs into a temporary prefix: keep the registration inside it.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-p11-module-configs='$${libdir}/p11-kit/modules'

if HAVE_CMOCKA
P11U_PKCS11_TEST_CFLAGS = $(P11U_PKCS11_CFLAGS) $(CMOCKA_CFLAGS)
P11U_PKCS11_TEST_LDADD = src/pkcs11/libp11u-pkcs11.la $(CMOCKA_LIBS) $(CRYPTO_LIBS) \
	$(PCSC_LIBS) -lpthread

check_PROGRAMS += tests/unit/test-pkcs11-errors tests/unit/test-pkcs11-config \
	tests/unit/test-pkcs11-module
TESTS += tests/unit/test-pkcs11-errors tests/unit/test-pkcs11-config \
	tests/unit/test-pkcs11-module
tests_unit_test_pkcs11_errors_SOURCES = tests/unit/test-pkcs11-errors.c
tests_unit_test_pkcs11_errors_CFLAGS = $(P11U_PKCS11_TEST_CFLAGS)
tests_unit_test_pkcs11_errors_LDADD = $(P11U_PKCS11_TEST_LDADD)
tests_unit_test_pkcs11_config_SOURCES = tests/unit/test-pkcs11-config.c
tests_unit_test_pkcs11_config_CFLAGS = $(P11U_PKCS11_TEST_CFLAGS)
tests_unit_test_pkcs11_config_LDADD = $(P11U_PKCS11_TEST_LDADD)
tests_unit_test_pkcs11_module_SOURCES = tests/unit/test-pkcs11-module.c
tests_unit_test_pkcs11_module_CFLAGS = $(P11U_PKCS11_TEST_CFLAGS)
tests_unit_test_pkcs11_module_LDADD = $(P11U_PKCS11_TEST_LDADD)
endif

# A PKCS#11 module is loaded by path: the libtool archive next to it is of no use to anyone.
# (pkcs11dir is a data directory to automake, so this is an install-data hook; without the .la,
# libtool's uninstall no longer knows the .so, hence the uninstall hook.)
install-data-hook: remove-module-la
remove-module-la:
	rm -f $(DESTDIR)$(pkcs11dir)/p11unlock-pkcs11.la
uninstall-hook: remove-module-so
remove-module-so:
	rm -f $(DESTDIR)$(pkcs11dir)/p11unlock-pkcs11.so
.PHONY: remove-module-la remove-module-so

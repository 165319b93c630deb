# Small helpers shared by every layer.
noinst_LTLIBRARIES += src/common/libp11u-common.la
src_common_libp11u_common_la_SOURCES = \
	src/common/log.c src/common/log.h \
	src/common/text.c src/common/text.h \
	src/common/thread.c src/common/thread.h \
	src/common/transport.h
src_common_libp11u_common_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
src_common_libp11u_common_la_LIBADD = -lpthread

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-text
TESTS += tests/unit/test-text
tests_unit_test_text_SOURCES = tests/unit/test-text.c
tests_unit_test_text_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_text_LDADD = src/common/libp11u-common.la $(CMOCKA_LIBS)
endif

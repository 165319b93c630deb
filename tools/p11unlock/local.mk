# The p11unlock tool (issue 5): thin, PKCS#11 only (p11-kit), messages through gettext.
P11UNLOCK_TOOL_CPPFLAGS = $(AM_CPPFLAGS) -DLOCALEDIR=\"$(localedir)\" \
	-DP11U_MODULE_PATH=\"$(pkcs11dir)/p11unlock-pkcs11.so\"
P11UNLOCK_TOOL_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS)

# Everything but main(), shared with the unit tests.
noinst_LTLIBRARIES += tools/p11unlock/libp11unlock-tool.la
tools_p11unlock_libp11unlock_tool_la_SOURCES = \
	tools/p11unlock/certinfo.c tools/p11unlock/certinfo.h \
	tools/p11unlock/flow.c tools/p11unlock/flow.h \
	tools/p11unlock/i18n.c tools/p11unlock/i18n.h \
	tools/p11unlock/prompt.c tools/p11unlock/prompt.h \
	tools/p11unlock/report.c tools/p11unlock/report.h \
	tools/p11unlock/secret.c tools/p11unlock/secret.h \
	tools/p11unlock/text.c tools/p11unlock/text.h \
	tools/p11unlock/token.c tools/p11unlock/token.h \
	tools/p11unlock/vendor.c tools/p11unlock/vendor.h
tools_p11unlock_libp11unlock_tool_la_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS)
tools_p11unlock_libp11unlock_tool_la_CFLAGS = $(P11UNLOCK_TOOL_CFLAGS)
tools_p11unlock_libp11unlock_tool_la_LIBADD = src/common/libp11u-common.la $(CRYPTO_LIBS) \
	$(P11KIT_LIBS) $(LIBINTL) -ldl

bin_PROGRAMS += tools/p11unlock/p11unlock
tools_p11unlock_p11unlock_SOURCES = tools/p11unlock/main.c
tools_p11unlock_p11unlock_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS)
tools_p11unlock_p11unlock_CFLAGS = $(P11UNLOCK_TOOL_CFLAGS)
tools_p11unlock_p11unlock_LDADD = tools/p11unlock/libp11unlock-tool.la

dist_man1_MANS = tools/p11unlock/p11unlock.1

if HAVE_CMOCKA
P11UNLOCK_TOOL_TESTS = \
	tools/p11unlock/test-secret \
	tools/p11unlock/test-certinfo \
	tools/p11unlock/test-token
check_PROGRAMS += $(P11UNLOCK_TOOL_TESTS)
TESTS += $(P11UNLOCK_TOOL_TESTS)
P11UNLOCK_TOOL_TEST_LDADD = tools/p11unlock/libp11unlock-tool.la $(CMOCKA_LIBS)
P11UNLOCK_TOOL_TEST_CFLAGS = $(P11UNLOCK_TOOL_CFLAGS) $(CMOCKA_CFLAGS)

tools_p11unlock_test_secret_SOURCES = tools/p11unlock/test-secret.c \
	tools/p11unlock/test-lang.c tools/p11unlock/test-lang.h
tools_p11unlock_test_secret_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS) -DTOP_SRCDIR=\"$(abs_top_srcdir)\"
tools_p11unlock_test_secret_CFLAGS = $(P11UNLOCK_TOOL_TEST_CFLAGS)
tools_p11unlock_test_secret_LDADD = $(P11UNLOCK_TOOL_TEST_LDADD)

tools_p11unlock_test_certinfo_SOURCES = tools/p11unlock/test-certinfo.c \
	tools/p11unlock/test-lang.c tools/p11unlock/test-lang.h
tools_p11unlock_test_certinfo_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS) -DTOP_SRCDIR=\"$(abs_top_srcdir)\"
tools_p11unlock_test_certinfo_CFLAGS = $(P11UNLOCK_TOOL_TEST_CFLAGS)
tools_p11unlock_test_certinfo_LDADD = $(P11UNLOCK_TOOL_TEST_LDADD)

tools_p11unlock_test_token_SOURCES = tools/p11unlock/test-token.c \
	tools/p11unlock/test-lang.c tools/p11unlock/test-lang.h
tools_p11unlock_test_token_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS) -DTOP_SRCDIR=\"$(abs_top_srcdir)\"
tools_p11unlock_test_token_CFLAGS = $(P11UNLOCK_TOOL_TEST_CFLAGS)
tools_p11unlock_test_token_LDADD = $(P11UNLOCK_TOOL_TEST_LDADD)
endif

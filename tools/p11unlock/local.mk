# The p11unlock tool (issue 5): thin, PKCS#11 only (p11-kit), messages through gettext.
P11UNLOCK_TOOL_CPPFLAGS = $(AM_CPPFLAGS) -DLOCALEDIR=\"$(localedir)\" \
	-DP11U_MODULE_PATH=\"$(pkcs11dir)/p11unlock-pkcs11.so\" \
	-DP11U_SYSCONFDIR=\"$(sysconfdir)\"
P11UNLOCK_TOOL_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(P11KIT_CFLAGS)

# Everything but main(), shared with the unit tests.
noinst_LTLIBRARIES += tools/p11unlock/libp11unlock-tool.la
tools_p11unlock_libp11unlock_tool_la_SOURCES = \
	tools/p11unlock/certinfo.c tools/p11unlock/certinfo.h \
	tools/p11unlock/flow.c tools/p11unlock/flow.h \
	tools/p11unlock/i18n.c tools/p11unlock/i18n.h \
	tools/p11unlock/messages.c tools/p11unlock/messages.h \
	tools/p11unlock/outcome.c tools/p11unlock/outcome.h \
	tools/p11unlock/prompt.c tools/p11unlock/prompt.h \
	tools/p11unlock/report.c tools/p11unlock/report.h \
	tools/p11unlock/secret.c tools/p11unlock/secret.h \
	tools/p11unlock/steps.c tools/p11unlock/steps.h \
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

# The build tree's message catalogs, next to the tool: tools/p11unlock/locale/LL/LC_MESSAGES/
# p11unlock.mo for each language of po/LINGUAS, copied from po/LL.gmo (which the po/ subdir,
# built first, makes in the source tree).  p11unlock run from the build tree (quickstart demo,
# _build/tools/p11unlock/p11unlock) finds them without P11UNLOCK_LOCALEDIR; not installed.
P11UNLOCK_BUILD_LOCALEDIR = tools/p11unlock/locale
all-local: p11unlock-build-locale
p11unlock-build-locale:
	@for lang in `sed -e 's/#.*//' $(top_srcdir)/po/LINGUAS`; do \
	  gmo=$(top_builddir)/po/$$lang.gmo; \
	  test -f "$$gmo" || gmo=$(top_srcdir)/po/$$lang.gmo; \
	  test -f "$$gmo" || continue; \
	  dir=$(P11UNLOCK_BUILD_LOCALEDIR)/$$lang/LC_MESSAGES; \
	  cmp -s "$$gmo" "$$dir/$(PACKAGE).mo" && continue; \
	  echo "  CP       $$dir/$(PACKAGE).mo"; \
	  $(MKDIR_P) "$$dir" && cp "$$gmo" "$$dir/$(PACKAGE).mo" || exit 1; \
	done
.PHONY: p11unlock-build-locale
CLEANFILES += $(P11UNLOCK_BUILD_LOCALEDIR)/*/LC_MESSAGES/$(PACKAGE).mo

# Man pages, English and Traditional Chinese, with the configured paths filled in.
P11UNLOCK_MAN_SUBST = sed \
	-e 's|@pkcs11dir[@]|$(pkcs11dir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localedir[@]|$(localedir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'
nodist_man1_MANS = tools/p11unlock/p11unlock.1
p11unlockzhtwman1dir = $(mandir)/zh_TW/man1
nodist_p11unlockzhtwman1_DATA = tools/p11unlock/zh_TW/p11unlock.1
EXTRA_DIST += tools/p11unlock/p11unlock.1.in tools/p11unlock/p11unlock.zh_TW.1.in
CLEANFILES += tools/p11unlock/p11unlock.1 tools/p11unlock/zh_TW/p11unlock.1
tools/p11unlock/p11unlock.1: $(srcdir)/tools/p11unlock/p11unlock.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(P11UNLOCK_MAN_SUBST) $(srcdir)/tools/p11unlock/p11unlock.1.in >$@.tmp && mv $@.tmp $@
# groff 1.22 breaks lines only at spaces: a zero-width break point (\:) after each Chinese
# character or punctuation mark, unless closing punctuation follows, lets it wrap Chinese text
# (with perl, which Debian always has; else as written).
P11UNLOCK_MAN_CJK_BREAKS = perl -CSD -pe \
	's/([\x{3400}-\x{9FFF}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}])(?=[\x{3400}-\x{9FFF}\x{300C}\x{300E}\x{FF08}A-Za-z0-9])/$$1\\:/g'
tools/p11unlock/zh_TW/p11unlock.1: $(srcdir)/tools/p11unlock/p11unlock.zh_TW.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(P11UNLOCK_MAN_SUBST) $(srcdir)/tools/p11unlock/p11unlock.zh_TW.1.in | \
	{ if perl -e 1 2>/dev/null; then $(P11UNLOCK_MAN_CJK_BREAKS); else cat; fi; } >$@.tmp && \
	mv $@.tmp $@

if HAVE_CMOCKA
P11UNLOCK_TOOL_TESTS = \
	tools/p11unlock/test-secret \
	tools/p11unlock/test-certinfo \
	tools/p11unlock/test-token \
	tools/p11unlock/test-messages \
	tools/p11unlock/test-steps
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

# Every question and message of the tool, formatted whole in both languages.
tools_p11unlock_test_messages_SOURCES = tools/p11unlock/test-messages.c \
	tools/p11unlock/test-lang.c tools/p11unlock/test-lang.h
tools_p11unlock_test_messages_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS) -DTOP_SRCDIR=\"$(abs_top_srcdir)\"
tools_p11unlock_test_messages_CFLAGS = $(P11UNLOCK_TOOL_TEST_CFLAGS)
tools_p11unlock_test_messages_LDADD = $(P11UNLOCK_TOOL_TEST_LDADD)

# The steps both front ends share (steps.h): gate, notes, module setup.
tools_p11unlock_test_steps_SOURCES = tools/p11unlock/test-steps.c \
	tools/p11unlock/test-lang.c tools/p11unlock/test-lang.h
tools_p11unlock_test_steps_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS) -DTOP_SRCDIR=\"$(abs_top_srcdir)\"
tools_p11unlock_test_steps_CFLAGS = $(P11UNLOCK_TOOL_TEST_CFLAGS)
tools_p11unlock_test_steps_LDADD = $(P11UNLOCK_TOOL_TEST_LDADD)
endif

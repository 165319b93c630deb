# The desktop window p11unlock-gtk (issue 12): GTK 4, on the tool's library (tools/p11unlock),
# built when configure finds GTK 4 (--without-gtk skips it).  Its tests drive the real window
# under Xvfb through the accessibility tree (tests/integration/test-gtk-*.sh).
P11UNLOCK_GTK_DIST = \
	tools/p11unlock-gtk/p11unlock-gtk.desktop \
	tools/p11unlock-gtk/p11unlock-gtk.svg
P11UNLOCK_GTK_TESTS = \
	tests/integration/test-gtk-unlock.sh \
	tests/integration/test-gtk-tries.sh \
	tests/integration/test-gtk-cards.sh
EXTRA_DIST += $(P11UNLOCK_GTK_DIST) tests/integration/gtk-lib.sh tests/integration/gtk-driver.py
dist_check_SCRIPTS += $(P11UNLOCK_GTK_TESTS)

if HAVE_GTK
bin_PROGRAMS += tools/p11unlock-gtk/p11unlock-gtk
tools_p11unlock_gtk_p11unlock_gtk_SOURCES = \
	tools/p11unlock-gtk/main.c \
	tools/p11unlock-gtk/window.c tools/p11unlock-gtk/window.h
# GTK 4.8 (Debian 12) is the oldest GTK this builds with: newer GTKs deprecate its dialogs.
tools_p11unlock_gtk_p11unlock_gtk_CPPFLAGS = $(P11UNLOCK_TOOL_CPPFLAGS) \
	-DGDK_VERSION_MIN_REQUIRED=GDK_VERSION_4_8 -DGDK_VERSION_MAX_ALLOWED=GDK_VERSION_4_8
tools_p11unlock_gtk_p11unlock_gtk_CFLAGS = $(P11UNLOCK_TOOL_CFLAGS) $(GTK_CFLAGS)
tools_p11unlock_gtk_p11unlock_gtk_LDADD = tools/p11unlock/libp11unlock-tool.la $(GTK_LIBS)

p11unlockgtkdesktopdir = $(datadir)/applications
p11unlockgtkdesktop_DATA = tools/p11unlock-gtk/p11unlock-gtk.desktop
p11unlockgtkicondir = $(datadir)/icons/hicolor/scalable/apps
p11unlockgtkicon_DATA = tools/p11unlock-gtk/p11unlock-gtk.svg

P11UNLOCK_GTK_BUILT = yes
TESTS += $(P11UNLOCK_GTK_TESTS)
endif

# Run from the build tree, the window finds the catalogs `make` copies next to p11unlock.
all-local: p11unlock-gtk-build-locale
p11unlock-gtk-build-locale:
	@test -z "$(P11UNLOCK_GTK_BUILT)" || test -L tools/p11unlock-gtk/locale || \
	  ln -sfn ../p11unlock/locale tools/p11unlock-gtk/locale
.PHONY: p11unlock-gtk-build-locale
CLEANFILES += tools/p11unlock-gtk/locale

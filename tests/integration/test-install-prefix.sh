#!/bin/bash
# make install keeps p11unlock.module (the p11-kit registration) inside the prefix: a fresh
# VPATH build of the source tree, configured with --prefix=<temp dir>, installs it into
# <prefix>/share/p11-kit/modules (expanded by make: DESTDIR and `make install prefix=...`
# apply), naming the module by its absolute installed path, and writes nothing into p11-kit's
# system directory; with p11-kit's own prefix (/usr) it goes to p11-kit's directory, and
# --with-p11-module-configs=DIR wins over both.
#
# Only configure and the install target of the .module file run (no compiler).  The make
# commands run in a private mount namespace where p11-kit's directory is covered by an empty
# one of ours: whatever lands there is seen, and the machine's directory is never written.
. "$(dirname "$0")/lib.sh"

[ "${P11U_SKIP_INTEGRATION:-0}" = 1 ] && skip_all "P11U_SKIP_INTEGRATION=1"
require_root
require_namespaces
require_cmd make make
require_cmd pkg-config pkg-config
require_cmd findmnt util-linux
[ -x "$top_srcdir/configure" ] || skip_all "no configure in $top_srcdir (run ./autogen.sh)"
[ ! -f "$top_srcdir/config.status" ] ||
	skip_all "$top_srcdir is configured in place: configure refuses a VPATH build of it"
SYSDIR=$(pkg-config --variable=p11_module_configs p11-kit-1)
P11KIT_PREFIX=$(pkg-config --variable=prefix p11-kit-1)
[ -d "$SYSDIR" ] || skip_all "p11-kit's module directory is missing ($SYSDIR)"

plan 16

SHIELD=$TEST_TMP/shield
mkdir -p "$SHIELD"
# shielded CMD...: CMD (from a clean make environment) in a private mount namespace where
# $SYSDIR is $SHIELD.
# shellcheck disable=SC2016 # the inner script expands its own variables
shielded() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL unshare -m --propagation unchanged -- /bin/sh -c '
		set -e
		shield=$1 sysdir=$2
		shift 2
		mount -n --make-rprivate / 2>/dev/null || true
		case $(findmnt -n -o PROPAGATION --target "$sysdir") in
		*shared*) echo "cannot make the mounts private" >&2; exit 1 ;;
		esac
		mount -n --bind "$shield" "$sysdir"
		exec "$@"' shielded "$SHIELD" "$SYSDIR" "$@"
}

# build_tree DIR CONFIGURE-ARGS...: a fresh VPATH build directory of $top_srcdir, configured
# (sharing one cache: the checks do not depend on the prefix).
build_tree() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && shielded "$top_srcdir/configure" --cache-file="$TEST_TMP/config.cache" "$@") \
		>"$dir.configure.log" 2>&1 || {
		tail -n 20 "$dir.configure.log" >&2
		return 1
	}
}

# make_var DIR NAME: a variable of DIR's Makefile, fully expanded (the last line: make may
# first regenerate the Makefile, as another make of the source tree can have touched it).
# shellcheck disable=SC2016 # a make rule
make_var() {
	printf 'p11u-print-%%:\n\t@echo $($*)\n' |
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$1" -f Makefile -f - "p11u-print-$2" | tail -n 1
}

# install_module DIR [MAKE ARGS...]: installs p11unlock.module alone from build DIR.
install_module() {
	local dir=$1
	shift
	shielded make -C "$dir" install-p11modconfDATA "$@" >>"$dir.install.log" 2>&1
}

sysdir_before=$(ls -la --time-style=full-iso "$SYSDIR" 2>&1)
PREFIX=$TEST_TMP/prefix
MODULE_FILE=p11unlock.module

# --- a custom prefix -----------------------------------------------------------------------------
started=$SECONDS
build_tree "$TEST_TMP/build" --prefix="$PREFIX" || bail_out "configure --prefix=$PREFIX failed"
diag "configure took $((SECONDS - started)) s"
like "$(grep '^p11_module_configs = ' "$TEST_TMP/build/Makefile")" '^p11_module_configs = \$\{datadir\}/p11-kit/modules$' \
	"custom prefix: the registration directory is \${datadir}/p11-kit/modules, expanded by make"
install_module "$TEST_TMP/build"
is "$?" 0 "custom prefix: make install-p11modconfDATA"
ok "custom prefix: p11unlock.module is under the prefix" \
	test -f "$PREFIX/share/p11-kit/modules/$MODULE_FILE"
is "$(grep -v '^#' "$PREFIX/share/p11-kit/modules/$MODULE_FILE" 2>&1)" \
	"module: $PREFIX/lib/pkcs11/p11unlock-pkcs11.so" \
	"custom prefix: it names the module by its absolute installed path"
install_module "$TEST_TMP/build" DESTDIR="$TEST_TMP/dest"
ok "custom prefix: DESTDIR applies" \
	test -f "$TEST_TMP/dest$PREFIX/share/p11-kit/modules/$MODULE_FILE"
install_module "$TEST_TMP/build" prefix="$TEST_TMP/other"
ok "custom prefix: make install prefix=... applies" \
	test -f "$TEST_TMP/other/share/p11-kit/modules/$MODULE_FILE"

# --- --with-p11-module-configs ------------------------------------------------------------------
build_tree "$TEST_TMP/build-with" --prefix="$PREFIX" --with-p11-module-configs="$TEST_TMP/chosen" ||
	bail_out "configure --with-p11-module-configs failed"
is "$(make_var "$TEST_TMP/build-with" p11modconfdir)" "$TEST_TMP/chosen" \
	"--with-p11-module-configs=DIR: the registration directory is DIR"
install_module "$TEST_TMP/build-with"
ok "--with-p11-module-configs=DIR: p11unlock.module is installed there" \
	test -f "$TEST_TMP/chosen/$MODULE_FILE"
is "$(grep -v '^#' "$TEST_TMP/chosen/$MODULE_FILE" 2>&1)" \
	"module: $PREFIX/lib/pkcs11/p11unlock-pkcs11.so" \
	"--with-p11-module-configs=DIR: the module's absolute path"

# --- p11-kit's own prefix ----------------------------------------------------------------------
build_tree "$TEST_TMP/build-sys" --prefix="$P11KIT_PREFIX" ||
	bail_out "configure --prefix=$P11KIT_PREFIX failed"
is "$(make_var "$TEST_TMP/build-sys" p11modconfdir)" "$SYSDIR" \
	"prefix $P11KIT_PREFIX (p11-kit's): the registration goes to p11-kit's directory"
install_module "$TEST_TMP/build-sys" DESTDIR="$TEST_TMP/dest-sys"
ok "prefix $P11KIT_PREFIX: p11unlock.module in DESTDIR$SYSDIR" \
	test -f "$TEST_TMP/dest-sys$SYSDIR/$MODULE_FILE"
is "$(grep -v '^#' "$TEST_TMP/dest-sys$SYSDIR/$MODULE_FILE" 2>&1)" \
	"module: $(make_var "$TEST_TMP/build-sys" pkcs11dir)/p11unlock-pkcs11.so" \
	"prefix $P11KIT_PREFIX: the module's absolute path"

# --- nothing outside ------------------------------------------------------------------------------
is "$(ls -A "$SHIELD")" "" "nothing was written into p11-kit's directory ($SYSDIR)"
is "$(ls -la --time-style=full-iso "$SYSDIR" 2>&1)" "$sysdir_before" \
	"the machine's $SYSDIR is unchanged"
is "$(find "$TEST_TMP/prefix" -type f | sed "s|^$TEST_TMP/prefix/||")" "share/p11-kit/modules/$MODULE_FILE" \
	"the custom prefix holds p11unlock.module alone"
ok "the source tree is still unconfigured (nothing written there)" test ! -e "$top_srcdir/config.status"

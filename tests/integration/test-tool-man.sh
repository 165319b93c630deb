#!/bin/bash
# The man pages of p11unlock: English and Traditional Chinese, made at build time with the
# configured paths (no "$(libdir)" or "@pkcs11dir@" left), installed as man1/p11unlock.1 and
# zh_TW/man1/p11unlock.1 (found by `man -L zh_TW p11unlock`), and rendered without groff
# warnings, the Chinese one wrapped within the terminal's width.  No card and no root needed.
. "$(dirname "$0")/lib.sh"

[ "${P11U_SKIP_INTEGRATION:-0}" = 1 ] && skip_all "P11U_SKIP_INTEGRATION=1"
require_cmd make make
require_cmd man man-db
require_cmd groff groff-base

plan 13

EN=$top_builddir/tools/p11unlock/p11unlock.1
ZH=$top_builddir/tools/p11unlock/zh_TW/p11unlock.1
{ [ -f "$EN" ] && [ -f "$ZH" ]; } || skip_all "the man pages are not built ($EN, $ZH)"

# make_var NAME: a variable of the build's Makefile, fully expanded.
# shellcheck disable=SC2016 # a make rule
make_var() {
	printf 'p11u-print-%%:\n\t@echo $($*)\n' |
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" -f Makefile -f - "p11u-print-$1" | tail -n 1
}
PKCS11DIR=$(make_var pkcs11dir)
SYSCONFDIR=$(make_var sysconfdir)
MANDIR=$(make_var mandir)

for page in "$EN" "$ZH"; do
	name=${page#"$top_builddir"/}
	is "$(grep -nE '\$\(|@[a-zA-Z_]+@' "$page")" "" "$name: no unexpanded \$(...) or @...@"
	like "$(cat "$page")" "^\.I $PKCS11DIR/p11unlock\\\\-pkcs11\.so$" "$name: the module's configured path"
	like "$(cat "$page")" "^\.I $SYSCONFDIR/p11unlock\.conf$" "$name: the configuration's path"
done

# rendered PAGE LANG: the page as man shows it at 80 columns; groff's warnings in $TEST_TMP/warn.
rendered() {
	LANG=$2 LC_ALL=$2 MANWIDTH=80 man -l "$1" 2>"$TEST_TMP/warn" | col -bx
}
out=$(rendered "$EN" C.UTF-8)
like "$out" "p11unlock - release a locked smart card and set a new PIN with the user" "English page: rendered"
is "$(cat "$TEST_TMP/warn")" "" "English page: no groff warning"
out=$(rendered "$ZH" zh_TW.UTF-8)
like "$out" "p11unlock - 以用戶代碼解除智慧卡的鎖卡並設定新的PIN碼" "Chinese page: rendered"
is "$(cat "$TEST_TMP/warn")" "" "Chinese page: no groff warning (Chinese text can wrap)"
# (Chinese characters take two columns; the preformatted examples are as wide as they are.)
width=$(LC_ALL=zh_TW.UTF-8 grep -P '\p{Han}' <<<"$out" | LC_ALL=zh_TW.UTF-8 wc -L)
ok "Chinese page: the Chinese text wraps within 80 columns (widest: $width)" test "$width" -le 80

# --- installed --------------------------------------------------------------------------------------------
DEST=$TEST_TMP/dest
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" DESTDIR="$DEST" \
	install-man1 install-nodist_p11unlockzhtwman1DATA >"$TEST_TMP/install.log" 2>&1 ||
	diag "$(cat "$TEST_TMP/install.log")"
is "$(cd "$DEST" && find . -type f | sort)" "./${MANDIR#/}/man1/p11unlock.1
./${MANDIR#/}/zh_TW/man1/p11unlock.1" "make install: man1/p11unlock.1 and zh_TW/man1/p11unlock.1"
like "$(LANG=C.UTF-8 MANPATH="$DEST$MANDIR" MANWIDTH=80 man -L zh_TW p11unlock 2>/dev/null | col -bx)" \
	"以用戶代碼解除智慧卡的鎖卡並設定新的PIN碼" "man -L zh_TW p11unlock finds the Chinese page"

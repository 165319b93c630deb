/* Messages: gettext with the "p11unlock" domain (po/zh_TW.po holds the
 * Traditional Chinese translation; the msgids are English). */
#ifndef P11UNLOCK_TOOL_I18N_H
#define P11UNLOCK_TOOL_I18N_H

#include <libintl.h>
#include <stdbool.h>

#define _(s)  gettext(s)
#define N_(s) (s)

/* Sets the locale and binds the message catalog.  lang: NULL to follow the
 * locale, or "zh_TW" / "en" (--lang): sets LANGUAGE, and when the locale
 * in the environment cannot carry the messages (C, POSIX, not UTF-8, or not
 * generated) falls back to <lang>.UTF-8, then C.UTF-8.  The catalog is read
 * from $P11UNLOCK_LOCALEDIR when set (tests); else, run from the build tree,
 * from the "locale" directory next to the executable (`make` copies po/'s
 * catalogs there); else from LOCALEDIR.  When the language asked for is one
 * the tool translates and no catalog is found, says so on stderr (in English). */
void i18n_init(const char *lang);

/* True for the language names --lang accepts. */
bool i18n_lang_valid(const char *lang);

#endif

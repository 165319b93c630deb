/* Unit tests in both languages: the messages come from the catalog the build
 * makes from po/zh_TW.po (po/zh_TW.gmo in the source tree), reached through
 * P11UNLOCK_LOCALEDIR like the integration tests do. */
#ifndef P11UNLOCK_TOOL_TEST_LANG_H
#define P11UNLOCK_TOOL_TEST_LANG_H

#include <stdbool.h>

/* Switches the messages to "en" or "zh_TW".  false: the zh_TW catalog was not built
 * (configure --disable-nls); the caller skips its Chinese assertions. */
bool test_lang_set(const char *lang);

#endif

#include "config.h"

#include "i18n.h"

#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool locale_carries_messages(void)
{
	const char *messages = setlocale(LC_MESSAGES, NULL);

	/* gettext ignores LANGUAGE in the C locale; an ASCII locale cannot show Chinese. */
	if (messages == NULL || strcmp(messages, "C") == 0 || strcmp(messages, "POSIX") == 0)
		return false;
	return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

/* The language part of the locale the environment asks for ("zh_TW" of "zh_TW.UTF-8"). */
static void language_from_environment(char *out, size_t size)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *value = getenv(vars[i]);
		if (value == NULL || value[0] == '\0')
			continue;
		snprintf(out, size, "%s", value);
		out[strcspn(out, ".@")] = '\0';
		return;
	}
}

static void fall_back_to_utf8_locale(const char *lang)
{
	char name[64];

	if (lang != NULL) {
		snprintf(name, sizeof(name), "%s.UTF-8", lang);
		if (setlocale(LC_ALL, name) != NULL)
			return;
	}
	setlocale(LC_ALL, "C.UTF-8");
}

bool i18n_lang_valid(const char *lang)
{
	return strcmp(lang, "zh_TW") == 0 || strcmp(lang, "en") == 0;
}

void i18n_init(const char *lang)
{
	const char *dir = getenv("P11UNLOCK_LOCALEDIR");

	if (lang != NULL) {
		setenv("LANGUAGE", lang, 1);
		if (setlocale(LC_ALL, "") == NULL || !locale_carries_messages())
			fall_back_to_utf8_locale(lang);
	} else if (setlocale(LC_ALL, "") == NULL) {
		/* The environment names a locale that is not generated (zh_TW.UTF-8 on a
		 * fresh Debian): keep its language for the messages, over C.UTF-8. */
		char wanted[64];
		language_from_environment(wanted, sizeof(wanted));
		if (wanted[0] != '\0' && strcmp(wanted, "C") != 0 && strcmp(wanted, "POSIX") != 0 &&
		    getenv("LANGUAGE") == NULL)
			setenv("LANGUAGE", wanted, 1);
		fall_back_to_utf8_locale(NULL);
	}
	if (dir == NULL || dir[0] == '\0')
		dir = LOCALEDIR;
	bindtextdomain(PACKAGE, dir);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
}

#include "config.h"

#include "i18n.h"

#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

/* The languages po/ translates (po/LINGUAS): asked for, they need a catalog. */
static const char *const translated[] = {"zh_TW"};

static bool locale_carries_messages(void)
{
	const char *messages = setlocale(LC_MESSAGES, NULL);

	/* gettext ignores LANGUAGE in the C locale; an ASCII locale cannot show Chinese. */
	if (messages == NULL || strcmp(messages, "C") == 0 || strcmp(messages, "POSIX") == 0)
		return false;
	return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

/* The language part of a locale or LANGUAGE entry: "zh_TW" of "zh_TW.UTF-8" or "zh_TW:en".  A
 * new string. */
static char *language_part(const char *value)
{
	char *language = xstrdup(value);

	language[strcspn(language, ".@:")] = '\0';
	return language;
}

/* The language of the locale the environment asks for ("zh_TW" of LANG=zh_TW.UTF-8), or NULL. */
static char *language_from_environment(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *value = getenv(vars[i]);

		if (value != NULL && value[0] != '\0')
			return language_part(value);
	}
	return NULL;
}

static void fall_back_to_utf8_locale(const char *lang)
{
	if (lang != NULL) {
		char *name = xasprintf("%s.UTF-8", lang);
		bool set = setlocale(LC_ALL, name) != NULL;

		free(name);
		if (set)
			return;
	}
	setlocale(LC_ALL, "C.UTF-8");
}

bool i18n_lang_valid(const char *lang)
{
	return strcmp(lang, "zh_TW") == 0 || strcmp(lang, "en") == 0;
}

/* The language gettext will look for, as it does: none in the C locale, else LANGUAGE's first
 * entry, else the locale of LC_MESSAGES.  A new string, or NULL. */
static char *language_wanted(void)
{
	const char *messages = setlocale(LC_MESSAGES, NULL);
	const char *language = getenv("LANGUAGE");

	if (messages == NULL || strcmp(messages, "C") == 0 || strcmp(messages, "POSIX") == 0)
		return NULL;
	if (language != NULL && language[0] != '\0')
		return language_part(language);
	return language_part(messages);
}

static bool is_translated(const char *language)
{
	for (size_t i = 0; i < sizeof(translated) / sizeof(translated[0]); i++) {
		if (strcmp(language, translated[i]) == 0)
			return true;
	}
	return false;
}

/* A file or directory only root or this user can have written: owned by one of them, and not
 * writable by everyone. */
static bool trusted_path(const char *path, bool directory)
{
	struct stat st;

	if (stat(path, &st) != 0 || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & S_IWOTH) != 0)
		return false;
	return directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* DIR/LANG/LC_MESSAGES/p11unlock.mo exists, and DIR, its subdirectories and the file are
 * trusted (the catalog's text is shown to a holder about to type secrets). */
static bool trusted_catalog(const char *dir, const char *language)
{
	char *paths[] = {
	    xasprintf("%s", dir),
	    xasprintf("%s/%s", dir, language),
	    xasprintf("%s/%s/LC_MESSAGES", dir, language),
	    xasprintf("%s/%s/LC_MESSAGES/%s.mo", dir, language, PACKAGE),
	};
	size_t n = sizeof(paths) / sizeof(paths[0]);
	bool trusted = true;

	for (size_t i = 0; i < n; i++) {
		trusted = trusted && trusted_path(paths[i], i + 1 < n);
		free(paths[i]);
	}
	return trusted;
}

/* The build tree's catalogs: "locale" next to the executable (tools/p11unlock/locale, made by
 * `make` from po/), or next to the directory of a libtool .libs/ executable.  NULL when the
 * executable cannot be found.  A new string. */
static char *locale_dir_of_executable(void)
{
	char *exe = realpath("/proc/self/exe", NULL);
	char *slash, *dir;

	if (exe == NULL)
		return NULL;
	slash = strrchr(exe, '/');
	if (slash == NULL) {
		free(exe);
		return NULL;
	}
	*slash = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL && strcmp(slash + 1, ".libs") == 0)
		*slash = '\0';
	dir = xasprintf("%s/locale", exe);
	free(exe);
	return dir;
}

static bool catalog_loaded(void)
{
	/* A catalog's header is the translation of "" (not a message to extract). */
	static const char header_msgid[] = "";
	const char *header = gettext(header_msgid);

	return header != NULL && header[0] != '\0';
}

static void bind_catalog(const char *dir)
{
	bindtextdomain(PACKAGE, dir);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
}

/* Binds the catalog: $P11UNLOCK_LOCALEDIR alone when set; else the build tree's when the tool
 * runs from it and it has the language (it matches this executable; an installed catalog may
 * be older); else the installed LOCALEDIR.  A language the tool translates without a catalog
 * found is said, in English, on stderr. */
static void bind_catalogs(void)
{
	const char *env_dir = getenv("P11UNLOCK_LOCALEDIR");
	char *language = language_wanted();
	char *exe_dir = NULL;
	const char *dir = LOCALEDIR;

	if (env_dir != NULL && env_dir[0] != '\0') {
		dir = env_dir;
	} else if (language != NULL && is_translated(language)) {
		exe_dir = locale_dir_of_executable();
		if (exe_dir != NULL && trusted_catalog(exe_dir, language))
			dir = exe_dir;
	}
	bind_catalog(dir);
	if (language != NULL && is_translated(language) && !catalog_loaded()) {
		if (dir == env_dir)
			fprintf(stderr,
			        "p11unlock: no %s messages in %s (P11UNLOCK_LOCALEDIR): "
			        "the messages are in English.\n",
			        language, dir);
		else
			fprintf(stderr,
			        "p11unlock: no %s messages in %s%s%s: the messages are in English. "
			        "Run make (build tree) or make install, or set "
			        "P11UNLOCK_LOCALEDIR.\n",
			        language, LOCALEDIR, exe_dir != NULL ? " nor in " : "",
			        exe_dir != NULL ? exe_dir : "");
	}
	free(exe_dir);
	free(language);
}

void i18n_init(const char *lang)
{
	if (lang != NULL) {
		setenv("LANGUAGE", lang, 1);
		if (setlocale(LC_ALL, "") == NULL || !locale_carries_messages())
			fall_back_to_utf8_locale(lang);
	} else if (setlocale(LC_ALL, "") == NULL) {
		/* The environment names a locale that is not generated (zh_TW.UTF-8 on a
		 * fresh Debian): keep its language for the messages, over C.UTF-8. */
		char *wanted = language_from_environment();

		if (wanted != NULL && wanted[0] != '\0' && strcmp(wanted, "C") != 0 &&
		    strcmp(wanted, "POSIX") != 0 && getenv("LANGUAGE") == NULL)
			setenv("LANGUAGE", wanted, 1);
		free(wanted);
		fall_back_to_utf8_locale(NULL);
	}
	bind_catalogs();
}

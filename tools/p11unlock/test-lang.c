#include "config.h"

#include "test-lang.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"

/* Short enough for the paths built under it. */
static char localedir[PATH_MAX / 2];
static char link_path[PATH_MAX];

static void remove_localedir(void)
{
	char path[PATH_MAX / 2 + 64];

	unlink(link_path);
	snprintf(path, sizeof(path), "%s/zh_TW/LC_MESSAGES", localedir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/zh_TW", localedir);
	rmdir(path);
	rmdir(localedir);
}

/* A locale directory whose zh_TW catalog is the build's po/zh_TW.gmo. */
static bool make_localedir(void)
{
	const char *srcdir = getenv("top_srcdir");
	char gmo[PATH_MAX], path[PATH_MAX / 2 + 64];

	if (localedir[0] != '\0')
		return true;
	snprintf(gmo, sizeof(gmo), "%s/po/zh_TW.gmo", srcdir != NULL ? srcdir : TOP_SRCDIR);
	if (access(gmo, R_OK) != 0)
		return false;
	if (snprintf(localedir, sizeof(localedir), "%s/p11unlock-test-XXXXXX",
	             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp") >=
	        (int)sizeof(localedir) ||
	    mkdtemp(localedir) == NULL)
		return false;
	snprintf(path, sizeof(path), "%s/zh_TW", localedir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/zh_TW/LC_MESSAGES", localedir);
	mkdir(path, 0700);
	snprintf(link_path, sizeof(link_path), "%s/p11unlock.mo", path);
	if (symlink(gmo, link_path) != 0) {
		remove_localedir();
		return false;
	}
	atexit(remove_localedir);
	setenv("P11UNLOCK_LOCALEDIR", localedir, 1);
	return true;
}

bool test_lang_set(const char *lang)
{
	if (strcmp(lang, "en") != 0 && !make_localedir())
		return false;
	i18n_init(lang);
	return true;
}

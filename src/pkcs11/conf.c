/* Configuration file parsing (see conf.h). */
#include "config.h"

#include "pkcs11/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

#ifndef P11U_SYSCONFDIR
#define P11U_SYSCONFDIR "/etc"
#endif

#define CONFIG_FILE_MAX (64 * 1024)

enum setting_kind {
	SETTING_BOOL,
	SETTING_SECONDS, /* 1 .. P11U_CARD_TIMEOUT_MAX */
};

static const struct {
	const char *key;
	enum setting_kind kind;
	size_t offset;
} settings[] = {
    {"allow_test_cards", SETTING_BOOL, offsetof(struct p11u_config, allow_test_cards)},
    {"user_code_token", SETTING_BOOL, offsetof(struct p11u_config, user_code_token)},
    {"opensc_unblock_styles", SETTING_BOOL, offsetof(struct p11u_config, opensc_unblock_styles)},
    {"hicos_login", SETTING_BOOL, offsetof(struct p11u_config, hicos_login)},
    {"card_timeout", SETTING_SECONDS, offsetof(struct p11u_config, card_timeout)},
    {"cache", SETTING_BOOL, offsetof(struct p11u_config, cache)},
};

void p11u_config_defaults(struct p11u_config *cfg)
{
	cfg->allow_test_cards = false;
	cfg->user_code_token = true;
	cfg->opensc_unblock_styles = false;
	cfg->hicos_login = false;
	cfg->card_timeout = P11U_CARD_TIMEOUT_DEFAULT;
	cfg->cache = true;
}

static bool parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = {"yes", "true", "1"};
	static const char *const no[] = {"no", "false", "0"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Whole seconds, 1 .. P11U_CARD_TIMEOUT_MAX, digits only. */
static bool parse_seconds(const char *value, unsigned *out)
{
	unsigned long n = 0;

	if (*value == '\0' || strlen(value) > 3)
		return false;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n < 1 || n > P11U_CARD_TIMEOUT_MAX)
		return false;
	*out = (unsigned)n;
	return true;
}

/* One setting's value; reports and returns false when it is not valid. */
static bool set_value(struct p11u_config *cfg, size_t i, const char *value, unsigned lineno,
                      p11u_config_report_fn report, void *ctx)
{
	char message[160];
	char *field = (char *)cfg + settings[i].offset;

	switch (settings[i].kind) {
	case SETTING_BOOL:
		if (parse_bool(value, (bool *)field))
			return true;
		snprintf(message, sizeof message,
		         "%s: value must be yes/no/true/false/1/0; keeping %s", settings[i].key,
		         *(bool *)field ? "yes" : "no");
		break;
	case SETTING_SECONDS:
		if (parse_seconds(value, (unsigned *)field))
			return true;
		snprintf(message, sizeof message, "%s: value must be 1 to %d seconds; keeping %u",
		         settings[i].key, P11U_CARD_TIMEOUT_MAX, *(unsigned *)field);
		break;
	}
	report(ctx, lineno, message);
	return false;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One line, already stripped of its comment.  Returns false when it was reported. */
static bool parse_line(char *line, unsigned lineno, struct p11u_config *cfg,
                       p11u_config_report_fn report, void *ctx)
{
	char message[160];
	char *eq, *key, *value;

	line = trim(line);
	if (*line == '\0')
		return true;
	eq = strchr(line, '=');
	if (eq == NULL) {
		report(ctx, lineno, "expected `key = value`");
		return false;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		if (strcmp(key, settings[i].key) == 0)
			return set_value(cfg, i, value, lineno, report, ctx);
	}
	snprintf(message, sizeof message, "unknown key `%.64s`", key);
	report(ctx, lineno, message);
	return false;
}

unsigned p11u_config_parse(const char *text, struct p11u_config *cfg, p11u_config_report_fn report,
                           void *ctx)
{
	unsigned problems = 0, lineno = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *hash = memchr(p, '#', len);
		size_t content = hash != NULL ? (size_t)(hash - p) : len; /* without the comment */
		char line[256];

		lineno++;
		if (content >= sizeof line) {
			report(ctx, lineno, "line too long");
			problems++;
		} else {
			memcpy(line, p, content);
			line[content] = '\0';
			if (!parse_line(line, lineno, cfg, report, ctx))
				problems++;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return problems;
}

const char *p11u_config_path(void)
{
	const char *env = getenv("P11UNLOCK_CONF");

	if (env != NULL && *env != '\0')
		return env;
	return P11U_SYSCONFDIR "/p11unlock.conf";
}

/* Problems go to the debug log every time and to stderr once per process. */
static bool warned;
static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;

struct report_ctx {
	const char *path;
	bool to_stderr;
};

static void report_problem(void *ctx, unsigned line, const char *message)
{
	const struct report_ctx *rc = ctx;

	char where[32] = "";

	if (line > 0)
		snprintf(where, sizeof where, ":%u", line);
	P11U_DEBUG(P11U_LOG_CONFIG, "%s%s: %s", rc->path, where, message);
	if (rc->to_stderr)
		fprintf(stderr, "p11unlock: %s%s: %s\n", rc->path, where, message);
}

/* Reads a whole (small) file; NULL with errno set on failure. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;

	if (f == NULL)
		return NULL;
	text = malloc(CONFIG_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(text, 1, CONFIG_FILE_MAX, f);
	if (ferror(f) || !feof(f)) {
		int err = ferror(f) ? EIO : EFBIG;
		fclose(f);
		free(text);
		errno = err;
		return NULL;
	}
	fclose(f);
	text[n] = '\0';
	return text;
}

void p11u_config_load(struct p11u_config *cfg)
{
	const char *path = p11u_config_path();
	const char *env = getenv("P11UNLOCK_CONF");
	struct report_ctx rc = {path, false};
	char *text;

	p11u_config_defaults(cfg);
	pthread_mutex_lock(&warned_lock);
	rc.to_stderr = !warned;
	text = read_file(path);
	if (text == NULL) {
		/* The installed file is optional; a file named explicitly must exist. */
		if (errno != ENOENT || (env != NULL && *env != '\0')) {
			char message[128];
			snprintf(message, sizeof message, "cannot read: %s; using defaults",
			         strerror(errno));
			report_problem(&rc, 0, message);
			warned = true;
		} else {
			P11U_DEBUG(P11U_LOG_CONFIG, "%s: not found; using defaults", path);
		}
	} else {
		if (p11u_config_parse(text, cfg, report_problem, &rc) > 0)
			warned = true;
		free(text);
	}
	pthread_mutex_unlock(&warned_lock);
	P11U_DEBUG(P11U_LOG_CONFIG,
	           "allow_test_cards=%s user_code_token=%s opensc_unblock_styles=%s "
	           "hicos_login=%s card_timeout=%u cache=%s",
	           cfg->allow_test_cards ? "yes" : "no", cfg->user_code_token ? "yes" : "no",
	           cfg->opensc_unblock_styles ? "yes" : "no", cfg->hicos_login ? "yes" : "no",
	           cfg->card_timeout, cfg->cache ? "yes" : "no");
}

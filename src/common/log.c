#include "config.h"

#include "common/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned cat;
} categories[] = {
    {"call", P11U_LOG_CALL}, {"apdu", P11U_LOG_APDU},     {"card", P11U_LOG_CARD},
    {"pcsc", P11U_LOG_PCSC}, {"config", P11U_LOG_CONFIG},
};

static unsigned enabled_mask;
static FILE *log_stream;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static unsigned parse_mask(const char *spec)
{
	if (spec == NULL || *spec == '\0' || strcmp(spec, "0") == 0)
		return 0;
	if (strcmp(spec, "1") == 0 || strcmp(spec, "all") == 0)
		return ~0u;
	unsigned mask = 0;
	for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++) {
		const char *p = strstr(spec, categories[i].name);
		size_t n = strlen(categories[i].name);
		if (p != NULL && (p == spec || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			mask |= categories[i].cat;
	}
	return mask;
}

static void log_init(void)
{
	enabled_mask = parse_mask(getenv("P11UNLOCK_DEBUG"));
}

bool p11u_log_enabled(unsigned cat)
{
	pthread_once(&log_once, log_init);
	return (enabled_mask & cat) != 0;
}

void p11u_log_reinit(void)
{
	pthread_once(&log_once, log_init);
	log_init();
}

void p11u_log_set_stream(FILE *stream)
{
	log_stream = stream;
}

static const char *cat_name(unsigned cat)
{
	for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
		if (categories[i].cat == cat)
			return categories[i].name;
	return "log";
}

void p11u_log(unsigned cat, const char *fmt, ...)
{
	FILE *out = log_stream != NULL ? log_stream : stderr;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent threads don't interleave inside a line. */
	fprintf(out, "p11unlock[%s]: %s\n", cat_name(cat), line);
	fflush(out);
}

/* fuzz-config: the configuration file parser (p11u_config_parse) on any text.  Checked: the
 * settings stay within their ranges, every problem is reported once with a line number of the
 * text and a bounded message, and parsing is deterministic. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-script.h"
#include "pkcs11/conf.h"

struct reports {
	unsigned count;
	unsigned lines; /* lines in the text */
};

static void report(void *ctx, unsigned line, const char *message)
{
	struct reports *r = ctx;

	r->count++;
	FUZZ_CHECK(line >= 1 && line <= r->lines, "problem reported on line %u of %u", line,
	           r->lines);
	FUZZ_CHECK(message != NULL && strnlen(message, 200) < 200, "report message too long");
}

static void check_config(const struct p11u_config *cfg)
{
	FUZZ_CHECK(cfg->card_timeout >= 1 && cfg->card_timeout <= P11U_CARD_TIMEOUT_MAX,
	           "card_timeout %u", cfg->card_timeout);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p11u_config a, b;
	struct reports ra = {0, 0}, rb;
	char *text = malloc(size + 1);
	unsigned problems;

	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	/* Lines as the parser counts them: up to each newline, and a last one without. */
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		ra.lines++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	rb = ra;

	p11u_config_defaults(&a);
	problems = p11u_config_parse(text, &a, report, &ra);
	FUZZ_CHECK(problems == ra.count, "%u problems, %u reported", problems, ra.count);
	check_config(&a);

	/* The same text gives the same settings. */
	p11u_config_defaults(&b);
	FUZZ_CHECK(p11u_config_parse(text, &b, report, &rb) == problems, "unstable problems");
	FUZZ_CHECK(a.allow_test_cards == b.allow_test_cards &&
	               a.user_code_token == b.user_code_token &&
	               a.opensc_unblock_styles == b.opensc_unblock_styles &&
	               a.card_timeout == b.card_timeout,
	           "unstable settings");
	free(text);
	return 0;
}

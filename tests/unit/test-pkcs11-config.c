/* config.c: the `key = value` file, its defaults and its complaints. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkcs11/conf.h"

struct reports {
	unsigned count;
	unsigned lines[8];
	char last[200];
};

static void record(void *ctx, unsigned line, const char *message)
{
	struct reports *r = ctx;

	if (r->count < 8)
		r->lines[r->count] = line;
	r->count++;
	snprintf(r->last, sizeof r->last, "%s", message);
}

static void test_defaults(void **state)
{
	struct p11u_config cfg;

	p11u_config_defaults(&cfg);
	assert_false(cfg.allow_test_cards);
	assert_true(cfg.user_code_token);
	assert_false(cfg.opensc_unblock_styles);
}

static void test_values(void **state)
{
	struct p11u_config cfg;
	struct reports r = {0};
	const char *text =
	    "# a comment longer than any setting line could be: "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
	    "\n"
	    "  allow_test_cards = yes   # trailing comment\n"
	    "user_code_token=FALSE\n"
	    "opensc_unblock_styles\t=\t1";

	p11u_config_defaults(&cfg);
	assert_int_equal(p11u_config_parse(text, &cfg, record, &r), 0);
	assert_int_equal(r.count, 0);
	assert_true(cfg.allow_test_cards);
	assert_false(cfg.user_code_token);
	assert_true(cfg.opensc_unblock_styles);

	p11u_config_defaults(&cfg);
	assert_int_equal(p11u_config_parse("allow_test_cards = true\nuser_code_token = no\n"
	                                   "opensc_unblock_styles = 0\n",
	                                   &cfg, record, &r),
	                 0);
	assert_true(cfg.allow_test_cards);
	assert_false(cfg.user_code_token);
	assert_false(cfg.opensc_unblock_styles);
}

static void test_problems_reported(void **state)
{
	struct p11u_config cfg;
	struct reports r = {0};
	const char *text = "allow_test_cards = maybe\n"
	                   "allow_test_card = yes\n"
	                   "just words\n"
	                   "user_code_token = no\n";

	p11u_config_defaults(&cfg);
	assert_int_equal(p11u_config_parse(text, &cfg, record, &r), 3);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.lines[0], 1);
	assert_int_equal(r.lines[1], 2);
	assert_int_equal(r.lines[2], 3);
	/* A bad value keeps the default; later good lines still apply. */
	assert_false(cfg.allow_test_cards);
	assert_false(cfg.user_code_token);
}

/* card_timeout: whole seconds 1..600; anything else is reported and keeps the value. */
static void test_card_timeout(void **state)
{
	static const char *const bad[] = {"0", "601", "-5", "1.5", "20s", "", "0020", "abc"};
	struct p11u_config cfg;
	struct reports r = {0};

	p11u_config_defaults(&cfg);
	assert_int_equal(cfg.card_timeout, 20);
	assert_int_equal(p11u_config_parse("card_timeout = 3\n", &cfg, record, &r), 0);
	assert_int_equal(cfg.card_timeout, 3);
	assert_int_equal(p11u_config_parse("card_timeout = 600\n", &cfg, record, &r), 0);
	assert_int_equal(cfg.card_timeout, 600);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[64];

		snprintf(line, sizeof line, "card_timeout = %s\n", bad[i]);
		cfg.card_timeout = 7;
		assert_int_equal(p11u_config_parse(line, &cfg, record, &r), 1);
		assert_int_equal(cfg.card_timeout, 7);
	}
}

static void test_load_from_env(void **state)
{
	char path[] = "/tmp/p11u-config-XXXXXX";
	int fd = mkstemp(path);
	struct p11u_config cfg;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "allow_test_cards = yes\n", 23), 23);
	close(fd);
	setenv("P11UNLOCK_CONF", path, 1);
	assert_string_equal(p11u_config_path(), path);
	p11u_config_load(&cfg);
	assert_true(cfg.allow_test_cards);
	assert_true(cfg.user_code_token);
	unlink(path);

	/* A named file that is missing: defaults (and a warning). */
	p11u_config_load(&cfg);
	assert_false(cfg.allow_test_cards);
	unsetenv("P11UNLOCK_CONF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),          cmocka_unit_test(test_values),
	    cmocka_unit_test(test_problems_reported), cmocka_unit_test(test_card_timeout),
	    cmocka_unit_test(test_load_from_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

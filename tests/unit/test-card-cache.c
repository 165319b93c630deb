/* The card layer's use of a cache of public data (card.h, struct p11u_card_cache), in-process
 * against the virtual card: what a cold open stores, that a warm open sends exactly the
 * identification, the card number and the 256-byte check, and that any entry that does not
 * match the card or does not parse is not used (the card is read whole, as without a cache).
 * Also the card number read alone and an open that is given it. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card/card.h"
#include "test-card-transport.h"

#define PIN       "123456"
#define USER_CODE "Ab12cd34"

/* The APDUs of an open: identification 3, card number 2, the check 3. */
#define WARM_OPEN_APDUS 8

static char *dir;

/* An in-memory cache with one entry. */
struct mem_cache {
	char number[32];
	uint8_t *data;
	size_t len;
	unsigned loads, stores;
};

static bool mem_load(void *ctx, const char *number, uint8_t **data, size_t *len)
{
	struct mem_cache *c = ctx;

	c->loads++;
	if (c->data == NULL || strcmp(c->number, number) != 0)
		return false;
	*data = malloc(c->len);
	assert_non_null(*data);
	memcpy(*data, c->data, c->len);
	*len = c->len;
	return true;
}

static void mem_store(void *ctx, const char *number, const uint8_t *data, size_t len)
{
	struct mem_cache *c = ctx;

	c->stores++;
	free(c->data);
	c->data = malloc(len);
	assert_non_null(c->data);
	memcpy(c->data, data, len);
	c->len = len;
	strncpy(c->number, number, sizeof c->number - 1);
}

static int group_setup(void **state)
{
	(void)state;
	dir = test_dir_new();
	test_card_create(dir, "one.state", NULL, 1024, PIN, USER_CODE);
	test_card_create(dir, "two.state", NULL, 1024, PIN, USER_CODE); /* same number, new certs */
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	test_dir_remove(dir);
	return 0;
}

/* The card of template read without a cache (the reference). */
static struct p11u_card *open_fresh(const char *template_name)
{
	struct test_card *tc = test_card_load(dir, template_name, "fresh.state", false);
	struct p11u_card *card = NULL;

	assert_int_equal(p11u_card_open(&tc->transport, tc->atr, tc->atr_len, &card), P11U_CARD_OK);
	test_card_free(tc); /* the card's public data stays in memory */
	return card;
}

static void assert_same_certs(const struct p11u_card_info *a, const struct p11u_card_info *b)
{
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		assert_int_equal(a->certs[slot].len, b->certs[slot].len);
		assert_memory_equal(a->certs[slot].der, b->certs[slot].der, a->certs[slot].len);
	}
}

/* The open with the cache, kept (for its info). */
static struct p11u_card *open_kept(const char *template_name, struct mem_cache *mc,
                                   unsigned long *apdus, struct test_card **tc)
{
	const struct p11u_card_cache cache = {mc, mem_load, mem_store};
	struct p11u_card *card = NULL;

	*tc = test_card_load(dir, template_name, "card.state", false);
	assert_int_equal(p11u_card_open_cached(&(*tc)->transport, (*tc)->atr, (*tc)->atr_len,
	                                       &cache, NULL, &card),
	                 P11U_CARD_OK);
	*apdus = (*tc)->apdus;
	return card;
}

static void test_cold_then_warm(void **state)
{
	struct mem_cache mc = {0};
	struct test_card *tc1, *tc2;
	unsigned long cold, warm;
	struct p11u_card *c1, *c2;

	(void)state;
	c1 = open_kept("one.state", &mc, &cold, &tc1);
	assert_int_equal(mc.stores, 1);
	assert_false(p11u_card_info(c1)->from_cache);
	assert_true(cold > WARM_OPEN_APDUS);
	c2 = open_kept("one.state", &mc, &warm, &tc2);
	assert_int_equal(warm, WARM_OPEN_APDUS);
	assert_true(p11u_card_info(c2)->from_cache);
	assert_int_equal(mc.stores, 1); /* nothing new to store */
	assert_string_equal(p11u_card_info(c2)->card_number, p11u_card_info(c1)->card_number);
	assert_same_certs(p11u_card_info(c1), p11u_card_info(c2));
	p11u_card_free(c1);
	p11u_card_free(c2);
	test_card_free(tc1);
	test_card_free(tc2);
	free(mc.data);
}

static void test_recreated_card(void **state)
{
	struct mem_cache mc = {0};
	struct test_card *tc1, *tc2;
	unsigned long apdus;
	struct p11u_card *c1, *c2, *fresh;

	(void)state;
	c1 = open_kept("one.state", &mc, &apdus, &tc1);
	/* Another card with the same card number and its own certificates. */
	c2 = open_kept("two.state", &mc, &apdus, &tc2);
	assert_string_equal(p11u_card_info(c1)->card_number, p11u_card_info(c2)->card_number);
	assert_false(p11u_card_info(c2)->from_cache);
	assert_true(apdus > WARM_OPEN_APDUS);
	assert_int_equal(mc.stores, 2);
	fresh = open_fresh("two.state");
	assert_same_certs(p11u_card_info(c2), p11u_card_info(fresh));
	assert_memory_not_equal(p11u_card_info(c1)->certs[P11U_CERT_SIGNATURE].der,
	                        p11u_card_info(c2)->certs[P11U_CERT_SIGNATURE].der, 64);
	p11u_card_free(c1);
	p11u_card_free(c2);
	p11u_card_free(fresh);
	test_card_free(tc1);
	test_card_free(tc2);
	free(mc.data);
}

/* A stored entry changed at any one byte (or cut) is not used: the card is read whole. */
static void test_bad_entries(void **state)
{
	struct mem_cache good = {0};
	struct test_card *tc;
	unsigned long apdus;
	struct p11u_card *card;

	(void)state;
	card = open_kept("one.state", &good, &apdus, &tc);
	p11u_card_free(card);
	test_card_free(tc);
	for (size_t pos = 0; pos < good.len; pos += 37) {
		struct mem_cache mc = good;

		mc.data = malloc(good.len);
		assert_non_null(mc.data);
		memcpy(mc.data, good.data, good.len);
		mc.data[pos] ^= 0x5A;
		card = open_kept("one.state", &mc, &apdus, &tc);
		assert_false(p11u_card_info(card)->from_cache);
		assert_true(apdus > WARM_OPEN_APDUS);
		p11u_card_free(card);
		test_card_free(tc);
		free(mc.data);
	}
	for (size_t cut = 0; cut < good.len; cut += 97) {
		struct mem_cache mc = good;

		mc.data = malloc(good.len);
		assert_non_null(mc.data);
		memcpy(mc.data, good.data, good.len);
		mc.len = cut;
		card = open_kept("one.state", &mc, &apdus, &tc);
		assert_false(p11u_card_info(card)->from_cache);
		p11u_card_free(card);
		test_card_free(tc);
		free(mc.data);
	}
	free(good.data);
}

static void test_number_alone(void **state)
{
	struct test_card *tc = test_card_load(dir, "one.state", "card.state", false);
	struct p11u_card *card = NULL;
	char number[17];

	(void)state;
	assert_int_equal(p11u_card_read_number(&tc->transport, tc->atr, tc->atr_len, number),
	                 P11U_CARD_OK);
	assert_int_equal(tc->apdus, 3); /* SELECT 0900, SELECT 0903, READ BINARY */
	tc->apdus = 0;
	assert_int_equal(
	    p11u_card_open_cached(&tc->transport, tc->atr, tc->atr_len, NULL, number, &card),
	    P11U_CARD_OK);
	assert_string_equal(p11u_card_info(card)->card_number, number);
	/* Without a cache: identification 3, the store (08F2 selected: 2 SELECTs, 4 certificates
	 * of 1024-bit keys, read without the card number's SELECT and READ. */
	{
		struct test_card *tc2 = test_card_load(dir, "one.state", "card2.state", false);
		struct p11u_card *card2 = NULL;

		assert_int_equal(p11u_card_open(&tc2->transport, tc2->atr, tc2->atr_len, &card2),
		                 P11U_CARD_OK);
		assert_int_equal(tc->apdus + 2, tc2->apdus);
		p11u_card_free(card2);
		test_card_free(tc2);
	}
	p11u_card_free(card);
	test_card_free(tc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cold_then_warm),
	    cmocka_unit_test(test_recreated_card),
	    cmocka_unit_test(test_bad_entries),
	    cmocka_unit_test(test_number_alone),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

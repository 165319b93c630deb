/* The card layer's test transport over the virtual card (see test-card-transport.h). */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-card-transport.h"

static enum p11u_io_rv tc_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                   size_t *resp_len)
{
	struct test_card *tc = ctx;
	uint8_t answer[VCARD_RESP_MAX];
	size_t n;

	assert_non_null(cmd);
	assert_true(cmd_len >= 4);
	tc->apdus++;
	if (tc->remove_at != 0 && tc->apdus >= tc->remove_at)
		tc->removed = true;
	if (tc->removed)
		return P11U_IO_REMOVED;
	if (tc->resets_pending > 0) {
		tc->resets_pending--;
		return P11U_IO_RESET;
	}
	n = vcard_process(tc->vcard, cmd, cmd_len, answer);
	assert_true(n >= 2 && n <= sizeof answer);
	if (tc->hook != NULL)
		tc->hook(tc, cmd, cmd_len, answer, &n, sizeof answer);
	if (n > *resp_len)
		return P11U_IO_BUFFER;
	memcpy(resp, answer, n);
	*resp_len = n;
	return P11U_IO_OK;
}

static enum p11u_io_rv tc_begin(void *ctx)
{
	struct test_card *tc = ctx;

	if (tc->removed)
		return P11U_IO_REMOVED;
	if (tc->resets_pending > 0) {
		/* The transport reconnected; the transaction is not held. */
		tc->resets_pending--;
		return P11U_IO_RESET;
	}
	assert_int_equal(tc->depth, 0); /* the card layer nests, the transport does not */
	tc->begins++;
	tc->depth++;
	return P11U_IO_OK;
}

static enum p11u_io_rv tc_end(void *ctx)
{
	struct test_card *tc = ctx;

	assert_int_equal(tc->depth, 1);
	tc->ends++;
	tc->depth--;
	return tc->removed ? P11U_IO_REMOVED : P11U_IO_OK;
}

char *test_dir_new(void)
{
	char *dir = strdup("/tmp/p11u-test-card-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

void test_dir_remove(char *dir)
{
	DIR *d;
	struct dirent *e;

	if (dir == NULL)
		return;
	d = opendir(dir);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char path[PATH_MAX];

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

void test_card_create(const char *dir, const char *name, const char *card_type, int key_bits,
                      const char *pin, const char *user_code)
{
	struct vcard_params params = {0};
	char path[PATH_MAX], err[512] = "";

	snprintf(path, sizeof path, "%s/%s", dir, name);
	params.card_type = card_type;
	params.key_bits = key_bits;
	params.pin = pin;
	params.user_code = user_code;
	if (vcard_create(path, &params, err, sizeof err) != 0)
		fail_msg("vcard_create %s: %s", name, err);
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out;
	char buf[8192];
	size_t n;

	assert_non_null(in);
	out = fopen(to, "wb");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

struct test_card *test_card_load(const char *dir, const char *template_name, const char *copy_name,
                                 bool t0)
{
	struct test_card *tc = calloc(1, sizeof *tc);
	char template_path[PATH_MAX], err[512] = "";

	assert_non_null(tc);
	snprintf(template_path, sizeof template_path, "%s/%s", dir, template_name);
	snprintf(tc->state_path, sizeof tc->state_path, "%s/%s", dir, copy_name);
	copy_file(template_path, tc->state_path);
	tc->vcard = vcard_load(tc->state_path, err, sizeof err);
	if (tc->vcard == NULL)
		fail_msg("vcard_load: %s", err);
	vcard_set_t0(tc->vcard, t0);
	tc->atr_len = vcard_atr(tc->vcard, tc->atr, sizeof tc->atr);
	assert_true(tc->atr_len > 0);
	tc->transport.ctx = tc;
	tc->transport.transmit = tc_transmit;
	tc->transport.begin = tc_begin;
	tc->transport.end = tc_end;
	return tc;
}

void test_card_free(struct test_card *tc)
{
	if (tc == NULL)
		return;
	vcard_free(tc->vcard);
	unlink(tc->state_path);
	free(tc);
}

void test_card_reset_by_other(struct test_card *tc)
{
	vcard_reset(tc->vcard);
	tc->resets_pending = 1;
}

/* A struct p11u_transport over the virtual card's APDU library, in-process (no
 * pcscd), for the card layer's unit tests.  It counts APDUs and transactions,
 * injects removal and reset, and lets a test rewrite answers (malformed-card
 * tests). */
#ifndef P11U_TEST_CARD_TRANSPORT_H
#define P11U_TEST_CARD_TRANSPORT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/transport.h"
#include "vcard/vcard.h"

struct test_card;

/* Called after the card answered (resp/resp_len hold its answer, *resp_len <= cap): may
 * rewrite the answer (cap bytes available). */
typedef void (*test_card_hook)(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                               uint8_t *resp, size_t *resp_len, size_t cap);

struct test_card {
	struct p11u_transport transport;
	struct vcard *vcard;
	char state_path[PATH_MAX];
	uint8_t atr[33];
	size_t atr_len;

	unsigned long apdus;  /* commands sent */
	unsigned long begins; /* transactions begun */
	unsigned long ends;   /* transactions ended */
	int depth;            /* begins - ends */

	/* Fault injection. */
	unsigned long remove_at; /* the N-th APDU and every later call: P11U_IO_REMOVED (0 never) */
	bool removed;
	int resets_pending; /* this many begin/transmit calls report P11U_IO_RESET */
	test_card_hook hook;
	void *hook_data;
};

/* A scratch directory for state files; removed (with its files) by test_dir_remove(). */
char *test_dir_new(void);
void test_dir_remove(char *dir);

/* Personalizes a card into dir/name (fails the test on error).  card_type NULL = default,
 * key_bits 0 = default. */
void test_card_create(const char *dir, const char *name, const char *card_type, int key_bits,
                      const char *pin, const char *user_code);

/* Loads a private copy of dir/template as dir/copy (counters start as in the template). */
struct test_card *test_card_load(const char *dir, const char *template_name, const char *copy_name,
                                 bool t0);
void test_card_free(struct test_card *tc);

/* Another process resets the card: the verified PIN is gone, and the next transport call
 * reports P11U_IO_RESET (once). */
void test_card_reset_by_other(struct test_card *tc);

#endif

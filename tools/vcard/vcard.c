/* The virtual card's life cycle: load, reset, status, the out-of-band user-code
 * reset, export, and the ATRs.  APDUs are in vcard-apdu.c and
 * vcard-security.c, personalization in vcard-create.c, the state file in
 * vcard-state.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "vcard/vcard-internal.h"

/* ATRs (docs/card-profile.md, "ATR").  Historical bytes: "P11UVCARD". */
static const uint8_t atr_t1[] = {
    0x3B,                                                 /* TS: direct convention */
    0x89,                                                 /* T0: TD1 follows, 9 historical bytes */
    0x01,                                                 /* TD1: T=1, nothing follows */
    0x50, 0x31, 0x31, 0x55, 0x56, 0x43, 0x41, 0x52, 0x44, /* "P11UVCARD" */
    0xCF,                                                 /* TCK: XOR of T0 .. last byte */
};

static const uint8_t atr_t0[] = {
    0x3B,                                                 /* TS: direct convention */
    0x09,                                                 /* T0: no interface bytes, 9 historical */
    0x50, 0x31, 0x31, 0x55, 0x56, 0x43, 0x41, 0x52, 0x44, /* "P11UVCARD"; T=0 only: no TCK */
};

void vcard_set_error(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (!err || err_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

bool vcard_secret_format_ok(uint8_t ref, const uint8_t *secret, size_t len, uint16_t *sw)
{
	size_t min = VCARD_PIN_MIN, max = VCARD_PIN_MAX;

	if (ref == VCARD_REF_USER_CODE) {
		min = VCARD_USER_CODE_MIN;
		max = VCARD_USER_CODE_MAX;
	}
	if (len < min || len > max) {
		*sw = SW_WRONG_LENGTH;
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (secret[i] < 0x21 || secret[i] > 0x7e) {
			*sw = SW_WRONG_DATA;
			return false;
		}
	}
	*sw = SW_OK;
	return true;
}

static void session_reset(struct vcard_session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->current_df = VCARD_FILE_MF;
	s->current_ef = VCARD_FILE_NONE;
	/* Default security environments, so PSO works without MSE SET. */
	s->se_sign.key = VCARD_KEY_SIGNATURE;
	s->se_sign.alg = VCARD_ALG_PKCS1;
	s->se_decipher.key = VCARD_KEY_ENCRYPTION;
	s->se_decipher.alg = VCARD_ALG_PKCS1;
}

struct vcard *vcard_load(const char *state_path, char *err, size_t err_size)
{
	struct vcard *card = calloc(1, sizeof(*card));

	if (!card || !(card->state_path = strdup(state_path))) {
		free(card);
		vcard_set_error(err, err_size, "out of memory");
		return NULL;
	}
	if (vcard_data_load(&card->data, state_path, &card->file_id, err, err_size) != 0) {
		free(card->state_path);
		free(card);
		return NULL;
	}
	session_reset(&card->session);
	return card;
}

void vcard_free(struct vcard *card)
{
	if (!card)
		return;
	vcard_data_clear(&card->data);
	free(card->state_path);
	OPENSSL_cleanse(card, sizeof(*card));
	free(card);
}

void vcard_set_t0(struct vcard *card, bool t0)
{
	card->t0 = t0;
}

/* A real-card variant's ATR ([ours]): the same form as the test card's, its mark as the
 * historical bytes ("CHTMOICA" as on first-generation cards). */
static size_t hicos_atr(const struct vcard *card, uint8_t *atr, size_t atr_size)
{
	const char *mark = vcard_hicos_atr_mark(card->data.variant);
	size_t k = strlen(mark), len = card->t0 ? 2 + k : 4 + k;
	uint8_t tck = 0;

	if (atr_size < len)
		return 0;
	atr[0] = 0x3B;
	if (card->t0) {
		atr[1] = (uint8_t)k; /* no interface bytes: T=0 */
		memcpy(atr + 2, mark, k);
		return len;
	}
	atr[1] = (uint8_t)(0x80 | k); /* TD1 follows */
	atr[2] = 0x01;                /* T=1 */
	memcpy(atr + 3, mark, k);
	for (size_t i = 1; i < len - 1; i++)
		tck ^= atr[i];
	atr[len - 1] = tck;
	return len;
}

size_t vcard_atr(const struct vcard *card, uint8_t *atr, size_t atr_size)
{
	const uint8_t *src = card->t0 ? atr_t0 : atr_t1;
	size_t len = card->t0 ? sizeof(atr_t0) : sizeof(atr_t1);

	if (card->data.variant != VCARD_VARIANT_TEST)
		return hicos_atr(card, atr, atr_size);
	if (atr_size < len)
		return 0;
	memcpy(atr, src, len);
	return len;
}

void vcard_reset(struct vcard *card)
{
	session_reset(&card->session);
	card->last_secret = false;
}

bool vcard_last_was_secret(const struct vcard *card)
{
	return card->last_secret;
}

int vcard_persist(struct vcard *card)
{
	char err[512];

	if (vcard_data_save(&card->data, card->state_path, &card->file_id, err, sizeof(err)) != 0) {
		fprintf(stderr, "p11unlock-vcard: %s\n", err);
		return -1;
	}
	return 0;
}

void vcard_get_status(const struct vcard *card, struct vcard_status *status)
{
	size_t len = VCARD_CARD_TYPE_SIZE;

	memset(status, 0, sizeof(*status));
	memcpy(status->card_number, card->data.card_number, VCARD_CARD_NUMBER_SIZE);
	while (len > 0 &&
	       (card->data.card_type[len - 1] == 0x20 || card->data.card_type[len - 1] == 0x00))
		len--;
	memcpy(status->card_type, card->data.card_type, len);
	status->pin_tries = card->data.pin_tries;
	status->user_code_tries = card->data.user_code_tries;
	status->variant = card->data.variant;
}

int vcard_set_file(struct vcard *card, uint16_t fid, const uint8_t *data, size_t len, char *err,
                   size_t err_size)
{
	int i = vcard_dir_file_index(&card->data, fid);
	struct vcard_dir_file *f;

	if (i < 0 || len > VCARD_DIR_FILE_MAX || (len > 0 && !data)) {
		vcard_set_error(err, err_size, "EF %04X: not a file this card can replace", fid);
		return -1;
	}
	f = &card->data.dir_files[i];
	if (len > 0)
		memcpy(f->data, data, len);
	f->len = len;
	return vcard_data_save(&card->data, card->state_path, &card->file_id, err, err_size);
}

int vcard_reset_user_code(struct vcard *card, const char *new_user_code, char *err, size_t err_size)
{
	size_t len = strlen(new_user_code);
	struct vcard_data before;
	uint16_t sw;
	int rc;

	if (!vcard_secret_format_ok(VCARD_REF_USER_CODE, (const uint8_t *)new_user_code, len,
	                            &sw)) {
		vcard_set_error(err, err_size,
		                "the user code must be 6 to 10 printable ASCII characters "
		                "(0x21-0x7E, no spaces)");
		return -1;
	}
	memcpy(&before, &card->data, sizeof(before));
	OPENSSL_cleanse(card->data.user_code, sizeof(card->data.user_code));
	memcpy(card->data.user_code, new_user_code, len);
	card->data.user_code_tries = VCARD_TRIES_MAX;
	rc = vcard_data_save(&card->data, card->state_path, &card->file_id, err, err_size);
	if (rc != 0)
		memcpy(&card->data, &before, sizeof(before));
	else
		card->session.user_code_verified = false;
	OPENSSL_cleanse(&before, sizeof(before));
	return rc;
}

/* Export. */

static const struct {
	enum vcard_cert_slot slot;
	const char *file;
} export_files[] = {
    {VCARD_SLOT_ROOT_CA, "root-ca.pem"},
    {VCARD_SLOT_ISSUING_CA, "issuing-ca.pem"},
    {VCARD_SLOT_ENCRYPTION, "encryption.pem"},
    {VCARD_SLOT_SIGNATURE, "signature.pem"},
};

/* The certificate in a slot, or NULL for an empty slot (first byte 00 or FF). */
static int slot_certificate(const struct vcard *card, enum vcard_cert_slot slot, X509 **out,
                            char *err, size_t err_size)
{
	const uint8_t *p = card->data.cert_store + (size_t)slot * VCARD_CERT_SLOT_SIZE;

	*out = NULL;
	if (p[0] == 0x00 || p[0] == 0xFF)
		return 0;
	*out = d2i_X509(NULL, &p, VCARD_CERT_SLOT_SIZE);
	if (!*out) {
		vcard_set_error(err, err_size, "certificate slot %d does not hold a certificate",
		                (int)slot);
		return -1;
	}
	return 0;
}

static int write_pem(const char *dir, const char *name, X509 *const *certs, size_t n, char *err,
                     size_t err_size)
{
	char path[4096];
	FILE *f;
	int ok = 1;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		vcard_set_error(err, err_size, "%s: path too long", dir);
		return -1;
	}
	f = fopen(path, "w");
	if (!f) {
		vcard_set_error(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (certs[i])
			ok &= PEM_write_X509(f, certs[i]);
	if (fclose(f) != 0 || !ok) {
		vcard_set_error(err, err_size, "%s: write error", path);
		return -1;
	}
	return 0;
}

int vcard_export(const struct vcard *card, const char *dir, char *err, size_t err_size)
{
	X509 *certs[VCARD_CERT_SLOTS] = {NULL};
	X509 *chain[2];
	int rc = -1;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		vcard_set_error(err, err_size, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < VCARD_CERT_SLOTS; i++)
		if (slot_certificate(card, export_files[i].slot, &certs[export_files[i].slot], err,
		                     err_size) != 0)
			goto out;
	for (size_t i = 0; i < VCARD_CERT_SLOTS; i++) {
		X509 *cert = certs[export_files[i].slot];

		if (cert && write_pem(dir, export_files[i].file, &cert, 1, err, err_size) != 0)
			goto out;
	}
	/* The CA chain, issuing CA first: what a TLS server needs to check the card's certificates.
	 */
	chain[0] = certs[VCARD_SLOT_ISSUING_CA];
	chain[1] = certs[VCARD_SLOT_ROOT_CA];
	if ((chain[0] || chain[1]) && write_pem(dir, "ca-chain.pem", chain, 2, err, err_size) != 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < VCARD_CERT_SLOTS; i++)
		X509_free(certs[i]);
	return rc;
}

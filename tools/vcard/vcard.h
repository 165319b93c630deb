/* The virtual card: the card profile of docs/card-profile.md served from a
 * state file.  This library does APDUs only (no sockets), so unit tests and the
 * card layer's tests run the card in-process; vpcd.c puts it on a vpcd reader.
 *
 * The state file is one file, rewritten atomically (temp file, fsync, rename)
 * after every persistent change.  A wrong VERIFY/CHANGE/RESET persists the
 * decremented counter before the answer is produced.
 */
#ifndef P11U_VCARD_H
#define P11U_VCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest response vcard_process can produce: 256 data bytes + SW. */
#define VCARD_RESP_MAX 258

/* What the card answers as: the p11unlock test card's profile, or a first- or second-generation
 * HiCOS card as the public traces show them (docs/card-profile.md, "Real cards"). */
enum vcard_variant {
	VCARD_VARIANT_TEST = 0,
	VCARD_VARIANT_GEN1,
	VCARD_VARIANT_GEN2,
};

struct vcard_params {
	const char *card_number; /* default "XC00000000091349" */
	const char *holder_dn; /* default "C=TW,O=組織及團體憑證管理中心憑證測試中心" (UTF-8) */
	const char *not_before; /* YYYY-MM-DD, default "2025-09-01" */
	const char *not_after;  /* YYYY-MM-DD, default "2031-09-01" */
	const char *pin;        /* default "123456" */
	const char *user_code;  /* default "Ab12cd34" */
	int key_bits;           /* default 2048; 1024..3072 */
	const char *card_type;  /* default "P11U V1" ("CHT V32N" for gen1, "HiCOS GPPKI" for gen2) */
	enum vcard_variant variant; /* gen1 and gen2 take RSA-2048 keys only */
	/* Tests: bit n set = slot n of EF 08F2 (0 root CA, 1 issuing CA, 2 encryption,
	 * 3 signature) holds junk instead of its certificate (VCARD_JUNK_CERT_LEN). */
	unsigned junk_cert_slots;
};

/* What a junk slot holds: a certificate's `30 82 hi lo` header of a length that fits the
 * slot, then bytes that are not DER; the rest of the slot is zero. */
#define VCARD_JUNK_CERT_HEADER_LEN 4
#define VCARD_JUNK_CERT_LEN        0x104

struct vcard_status {
	char card_number[17];
	char card_type[25];
	enum vcard_variant variant;
	int pin_tries;
	int user_code_tries;
};

struct vcard;

/* Personalizes a new card into STATE (fails if the certificates would not fit their slots).
 * err/err_size receive a message on failure.  Returns 0 on success. */
int vcard_create(const char *state_path, const struct vcard_params *params, char *err,
                 size_t err_size);

/* Loads a card from STATE.  Returns NULL (and a message in err) on failure. */
struct vcard *vcard_load(const char *state_path, char *err, size_t err_size);
void vcard_free(struct vcard *card);

/* T=0 behaviour (ATR, 61xx for every response with data, 6Cxx for a wrong Le). */
void vcard_set_t0(struct vcard *card, bool t0);

/* The ATR for the current mode; returns its length. */
size_t vcard_atr(const struct vcard *card, uint8_t *atr, size_t atr_size);

/* Power on / reset: clears the verified PIN, the current selection, a pending chain and pending
 * response data. */
void vcard_reset(struct vcard *card);

/* Processes one command APDU.  resp must hold VCARD_RESP_MAX bytes; returns the response length
 * (data + SW1 SW2, at least 2). */
size_t vcard_process(struct vcard *card, const uint8_t *apdu, size_t apdu_len, uint8_t *resp);

/* Whether the last processed command's data or response must be redacted in a log
 * (VERIFY in every class, the protected 8C 20 included, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER, PSO DECIPHER, a gen1 card's raw RSA (EA, C1) and their GET RESPONSE). */
bool vcard_last_was_secret(const struct vcard *card);

void vcard_get_status(const struct vcard *card, struct vcard_status *status);

/* The CA's out-of-band user-code reset: new user code, user-code counter back to 3. */
int vcard_reset_user_code(struct vcard *card, const char *new_user_code, char *err,
                          size_t err_size);

/* Tests of the module against hostile cards: replaces the content of an EF of DF 5030 of a gen1 or
 * gen2 card (a directory file 4100, 4101, 4104, 4107, or the data file 4108; at most 4096
 * bytes), in memory and in STATE.  Returns 0, or -1 with a message. */
int vcard_set_file(struct vcard *card, uint16_t fid, const uint8_t *data, size_t len, char *err,
                   size_t err_size);

/* Writes root-ca.pem, issuing-ca.pem, encryption.pem, signature.pem (and the chain) into DIR. */
int vcard_export(const struct vcard *card, const char *dir, char *err, size_t err_size);

#endif

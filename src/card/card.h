/* The card layer: the HiCOS-style card profile (docs/card-profile.md) over a
 * transport.  This header is the whole interface the PKCS#11 front uses.
 *
 * - p11u_card_open() identifies the card and reads its public files once
 *   (card type, card number, the four certificate slots) into neutral records.
 * - Everything else is a security or crypto operation that crosses into the
 *   card.  Each runs in its own PC/SC transaction and re-selects the files it
 *   needs (another process may have changed the selection).
 * - Card variants are operation tables inside the card layer.  A real HiCOS
 *   card (type "CHT V..N") has the read path only: every security operation
 *   returns P11U_CARD_E_NOT_SUPPORTED without sending anything to the card.
 * - Secrets are checked against the profile's rules before any card I/O:
 *   a PIN or user code that cannot be valid returns P11U_CARD_E_SECRET_FORMAT
 *   and costs no try.  The card layer never logs a secret and keeps none.
 */
#ifndef P11U_CARD_H
#define P11U_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/transport.h"

enum p11u_card_rv {
	P11U_CARD_OK = 0,
	P11U_CARD_E_SECRET_INCORRECT, /* wrong PIN / user code; *tries_left says how many remain */
	P11U_CARD_E_SECRET_BLOCKED,   /* counter at 0 (6983): nothing was checked */
	P11U_CARD_E_SECRET_FORMAT,    /* length or characters outside the rules (local check, or
	                                 6700/6A80) */
	P11U_CARD_E_NOT_VERIFIED,     /* key operation without a verified PIN (6982) */
	P11U_CARD_E_NOT_SUPPORTED, /* this card kind does not get this operation (no I/O was done)
	                            */
	P11U_CARD_E_UNRECOGNIZED,  /* not a card of this profile */
	P11U_CARD_E_REMOVED,       /* card removed or swapped */
	P11U_CARD_E_RESET,         /* card reset by someone else: verified state lost */
	P11U_CARD_E_DATA_LEN, /* input length wrong for the key (e.g. larger than the modulus) */
	P11U_CARD_E_BAD_RESPONSE, /* malformed or unexpected answer from the card */
	P11U_CARD_E_COMM,         /* transport error */
	P11U_CARD_E_TIMEOUT,      /* the reader did not answer within its deadline (stalled) */
	P11U_CARD_E_ARGS,         /* caller error (NULL, buffer too small: see *out_len) */
	P11U_CARD_E_NO_MEMORY,
};

/* What kind of card this is decides what it may receive. */
enum p11u_card_kind {
	P11U_CARD_KIND_TEST,  /* p11unlock test card, card type "P11U V1": full profile */
	P11U_CARD_KIND_HICOS, /* real HiCOS card, card type "CHT V..N": read path only */
};

enum p11u_secret {
	P11U_SECRET_PIN = 1,       /* reference 0x01: 6-8 printable ASCII 0x21-0x7E */
	P11U_SECRET_USER_CODE = 2, /* reference 0x02: 6-10 printable ASCII, case-sensitive */
};

#define P11U_PIN_MIN       6
#define P11U_PIN_MAX       8
#define P11U_USER_CODE_MIN 6
#define P11U_USER_CODE_MAX 10
#define P11U_TRIES_MAX     3

/* Certificate store slots of EF 08F2, in file order. */
enum p11u_cert_slot {
	P11U_CERT_ROOT_CA = 0, /* offset 0x0000 */
	P11U_CERT_ISSUING_CA,  /* offset 0x0700 */
	P11U_CERT_ENCRYPTION,  /* offset 0x0E00, key reference 0x02, CKA_ID "KEYX" */
	P11U_CERT_SIGNATURE,   /* offset 0x1500, key reference 0x01, CKA_ID "SIGN" */
	P11U_CERT_SLOTS
};

enum p11u_keyref {
	P11U_KEY_SIGNATURE = 0x01,
	P11U_KEY_ENCRYPTION = 0x02,
};

/* What the card computes: PKCS#1 v1.5 on the card, or raw RSA (padding done by the caller). */
enum p11u_rsa_alg {
	P11U_RSA_RAW = 0x00,
	P11U_RSA_PKCS1 = 0x02,
};

struct p11u_card_cert {
	uint8_t *der; /* NULL when the slot is empty */
	size_t len;
};

/* Public facts read once at p11u_card_open(). */
struct p11u_card_info {
	enum p11u_card_kind kind;
	char card_type[25];   /* EF 0905, trailing padding removed, e.g. "P11U V1" */
	char card_number[17]; /* EF 0903, e.g. "XC00000000091349" */
	struct p11u_card_cert certs[P11U_CERT_SLOTS];
};

/* Counters as the card reports them without cost (VERIFY with no data). */
struct p11u_secret_state {
	int tries_left; /* 0..3 */
	bool verified;  /* verified in this card session (PIN only; a user code grants nothing) */
};

struct p11u_card;

/* Identifies the card from its ATR and EF 0905 and reads its public files.
 * Returns P11U_CARD_E_UNRECOGNIZED for anything that is not a test card or a
 * real HiCOS card.  The transport must stay valid until p11u_card_free(). */
enum p11u_card_rv p11u_card_open(const struct p11u_transport *transport, const uint8_t *atr,
                                 size_t atr_len, struct p11u_card **out);
void p11u_card_free(struct p11u_card *card);

const struct p11u_card_info *p11u_card_info(const struct p11u_card *card);

/* True when the card gets security operations (a test card); false for real HiCOS cards. */
bool p11u_card_has_security_ops(const struct p11u_card *card);

/* Checks a secret against the profile's rules, without any card I/O. */
bool p11u_secret_format_ok(enum p11u_secret which, const uint8_t *secret, size_t len);

/* Groups several operations into one PC/SC transaction (calls nest). */
enum p11u_card_rv p11u_card_begin(struct p11u_card *card);
void p11u_card_end(struct p11u_card *card);

/* Tries left and verified state, without cost (empty VERIFY). */
enum p11u_card_rv p11u_card_secret_state(struct p11u_card *card, enum p11u_secret which,
                                         struct p11u_secret_state *state);

/* VERIFY.  On P11U_CARD_E_SECRET_INCORRECT *tries_left holds the count (may be NULL). */
enum p11u_card_rv p11u_card_verify(struct p11u_card *card, enum p11u_secret which,
                                   const uint8_t *secret, size_t len, int *tries_left);

/* CHANGE REFERENCE DATA for the PIN (old PIN checked on the card, counts a try when wrong). */
enum p11u_card_rv p11u_card_change_pin(struct p11u_card *card, const uint8_t *old_pin,
                                       size_t old_len, const uint8_t *new_pin, size_t new_len,
                                       int *tries_left);

/* RESET RETRY COUNTER: user code + new PIN; on success PIN counter and user-code counter are 3.
 * *tries_left reports the user code's counter on P11U_CARD_E_SECRET_INCORRECT. */
enum p11u_card_rv p11u_card_reset_pin(struct p11u_card *card, const uint8_t *user_code,
                                      size_t uc_len, const uint8_t *new_pin, size_t new_len,
                                      int *tries_left);

/* Private-key operations (MSE SET + PSO).  Need the PIN verified in this card session.
 * in: a DigestInfo (P11U_RSA_PKCS1 sign), or a block of exactly the modulus size (raw),
 *     or the cryptogram (decipher, exactly the modulus size).
 * out/out_len: *out_len is the buffer size on input, the result length on output;
 * P11U_CARD_E_ARGS with *out_len set to the needed size when the buffer is too small. */
enum p11u_card_rv p11u_card_sign(struct p11u_card *card, enum p11u_keyref key,
                                 enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                 uint8_t *out, size_t *out_len);
enum p11u_card_rv p11u_card_decipher(struct p11u_card *card, enum p11u_keyref key,
                                     enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t *out_len);

/* GET CHALLENGE, as many times as needed. */
enum p11u_card_rv p11u_card_random(struct p11u_card *card, uint8_t *out, size_t len);

const char *p11u_card_rv_str(enum p11u_card_rv rv);

/* APDU trace formatting (used for P11UNLOCK_DEBUG=apdu; public so a unit test can prove the
 * masking).  Commands carrying secrets (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER)
 * and responses carrying plaintext (PSO DECIPHER and the GET RESPONSE after it) show lengths only.
 */
void p11u_apdu_format_command(const uint8_t *apdu, size_t len, char *out, size_t out_size);
void p11u_apdu_format_response(const uint8_t *resp, size_t len, bool redact, char *out,
                               size_t out_size);

#endif

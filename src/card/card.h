/* The card layer: the HiCOS-style card profile (docs/card-profile.md) over a
 * transport.  This header is the whole interface the PKCS#11 front uses.
 *
 * - p11u_card_open() identifies the card and reads its public files once
 *   (card type, card number, the four certificate slots) into neutral records;
 *   with a cache (p11u_card_open_cached), a card whose public data is in it and
 *   unchanged costs three APDUs more than its identification.
 * - Everything else is a security or crypto operation that crosses into the
 *   card.  Each runs in its own PC/SC transaction and re-selects the files it
 *   needs (another process may have changed the selection).
 * - Card variants are operation tables inside the card layer: the p11unlock test
 *   card; a first-generation HiCOS card ("gen1": card type "CHT V..N" and a CHT mark
 *   in the ATR), whose objects come from its PKCS#15-style directory files and which
 *   gets the protected VERIFY and raw RSA of the public traces, once the caller
 *   enabled that (p11u_card_enable_real_login); a second-generation card ("gen2",
 *   the GPPKI applet), read only; and a "CHT V..N" card without the ATR mark, read
 *   by the fixed layout only.  An operation a variant does not get returns
 *   P11U_CARD_E_NOT_SUPPORTED without sending anything to the card.
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
	P11U_CARD_KIND_HICOS, /* card type "CHT V..N" without a CHT mark in its ATR: the fixed
	                         layout of EF 08F2, read path only */
	P11U_CARD_KIND_GEN1,  /* first-generation HiCOS card: card type "CHT V..N" and a CHT
	                         mark in the ATR; directory files; protected VERIFY (opt-in),
	                         raw RSA */
	P11U_CARD_KIND_GEN2,  /* second-generation card (GPPKI applet): directory files, read
	                         path only */
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

/* A key reference of the card.  The test card's keys are 0x01 and 0x02; a real card's come
 * from its directory files (0-255). */
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

/* Objects a real card's directory files name (PrKDF, PuKDF, CDF, DODF in DF 5030, PKCS#15
 * style), as neutral records: the card layer reads and checks them, the caller builds its
 * objects from them.  Labels are UTF-8 made safe to show (common/text.h). */
#define P11U_DIR_ID_MAX      32
#define P11U_DIR_LABEL_MAX   64
#define P11U_DIR_OBJECTS_MAX 16 /* entries kept per directory file */

/* PKCS#15 KeyUsageFlags (ISO/IEC 7816-15), bit n of the BIT STRING = 1 << n. */
enum p11u_key_usage {
	P11U_USAGE_ENCRYPT = 1 << 0,
	P11U_USAGE_DECRYPT = 1 << 1,
	P11U_USAGE_SIGN = 1 << 2,
	P11U_USAGE_SIGN_RECOVER = 1 << 3,
	P11U_USAGE_WRAP = 1 << 4,
	P11U_USAGE_UNWRAP = 1 << 5,
	P11U_USAGE_VERIFY = 1 << 6,
	P11U_USAGE_VERIFY_RECOVER = 1 << 7,
	P11U_USAGE_DERIVE = 1 << 8,
	P11U_USAGE_NON_REPUDIATION = 1 << 9,
};

/* What every directory entry has: its identifier (CKA_ID) and label (CKA_LABEL). */
struct p11u_dir_name {
	uint8_t id[P11U_DIR_ID_MAX];
	size_t id_len;
	char label[P11U_DIR_LABEL_MAX + 1];
};

/* A CDF entry whose certificate was read from EF 08F2. */
struct p11u_dir_cert {
	struct p11u_dir_name name;
	bool authority; /* a CA certificate (the entry's flag, or the certificate says so) */
	uint8_t *der;   /* exactly one DER certificate */
	size_t len;
};

/* A PrKDF entry (is_private: a key the card computes with) or a PuKDF entry.  The public key
 * comes from the certificate with the same identifier, else from the card's key records;
 * modulus is NULL when neither gave one. */
struct p11u_dir_key {
	struct p11u_dir_name name;
	bool is_private;
	unsigned usage; /* enum p11u_key_usage bits */
	int keyref;     /* the card's key reference, -1 when the entry names none */
	uint8_t *modulus;
	size_t modulus_len;
	uint8_t exponent[8];
	size_t exponent_len;
};

/* A DODF entry whose (public) value was read. */
struct p11u_dir_data {
	struct p11u_dir_name name;
	char application[P11U_DIR_LABEL_MAX + 1];
	uint8_t *value;
	size_t len;
};

struct p11u_card_dir {
	struct p11u_dir_cert certs[P11U_DIR_OBJECTS_MAX];
	size_t n_certs;
	struct p11u_dir_key keys[2 * P11U_DIR_OBJECTS_MAX];
	size_t n_keys;
	struct p11u_dir_data data[P11U_DIR_OBJECTS_MAX];
	size_t n_data;
};

/* Public facts read once at p11u_card_open(). */
struct p11u_card_info {
	enum p11u_card_kind kind;
	char card_type[25];   /* EF 0905, trailing padding removed, e.g. "P11U V1" */
	char card_number[17]; /* EF 0903, e.g. "XC00000000091349" */
	/* The fixed layout of EF 08F2 (test card, P11U_CARD_KIND_HICOS); empty for gen1/gen2. */
	struct p11u_card_cert certs[P11U_CERT_SLOTS];
	/* gen1/gen2: the objects of the directory files; NULL for the fixed layout. */
	const struct p11u_card_dir *dir;
	bool from_cache; /* certs came from the cache, checked against the card (see below) */
};

/* Where the public data of a card may be kept between processes: the caller stores bytes, the
 * card layer decides what goes in (card type, card number, the certificate store: public
 * files only, never a counter or a secret) and whether what comes back may be used.
 *
 * Same card, unchanged: the card number (EF 0903) and the first 256 bytes of the signature
 * certificate's slot (EF 08F2 at 0x1500) are read from the card on every open and must equal
 * what was stored.  A card re-issued or re-created under the same card number has new
 * certificates, and a new certificate has a new serial number, which lies in those 256 bytes
 * (with its issuer, validity and subject).  Anything else in the stored bytes (malformed,
 * another card, a certificate that does not parse) means a full read, as without a cache.
 * Only the fixed layout (test card, a HiCOS card without the CHT mark) uses it. */
struct p11u_card_cache {
	void *ctx;
	/* The bytes last stored for this card number (malloc'd, the caller of load frees them), or
	 * false when there are none. */
	bool (*load)(void *ctx, const char *card_number, uint8_t **data, size_t *len);
	void (*store)(void *ctx, const char *card_number, const uint8_t *data, size_t len);
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
/* The same with a cache of public data (may be NULL; must stay valid until the open returns),
 * and the card number when p11u_card_read_number() read it for this insertion (else NULL): a
 * card of the fixed layout is then not asked for it again. */
enum p11u_card_rv p11u_card_open_cached(const struct p11u_transport *transport,
                                        const uint8_t *atr, size_t atr_len,
                                        const struct p11u_card_cache *cache,
                                        const char *card_number, struct p11u_card **out);

/* The card number alone (EF 0903: SELECT and READ BINARY, which cost no try on any card; the
 * test card's short path when the ATR is the test card's), for a caller looking for one card
 * among several.  The card is not identified and nothing else is read. */
enum p11u_card_rv p11u_card_read_number(const struct p11u_transport *transport,
                                        const uint8_t *atr, size_t atr_len, char number[17]);
void p11u_card_free(struct p11u_card *card);

const struct p11u_card_info *p11u_card_info(const struct p11u_card *card);

/* True when the card gets security operations: a test card, or a first-generation card whose
 * login was enabled and whose directory names a private key it can use.  False otherwise. */
bool p11u_card_has_security_ops(const struct p11u_card *card);

/* Whether the card applies PKCS#1 v1.5 padding itself (P11U_RSA_PKCS1).  When false (gen1) it
 * computes raw RSA only: the caller pads before signing and unpads after deciphering. */
bool p11u_card_pads_pkcs1(const struct p11u_card *card);

/* Whether the card can report its counters without cost (p11u_card_secret_state) and change or
 * reset its PIN.  False for real cards: their counters are known from VERIFY answers only. */
bool p11u_card_has_pin_management(const struct p11u_card *card);

/* The protected VERIFY of a first-generation card is off until the caller enables it (the
 * module's hicos_login = yes): until then p11u_card_verify() answers
 * P11U_CARD_E_NOT_SUPPORTED with no card I/O.  No effect on other kinds. */
void p11u_card_enable_real_login(struct p11u_card *card, bool enabled);

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
 * masking).  Commands carrying secrets (VERIFY in every class, the protected 8C 20 of gen1
 * included, CHANGE REFERENCE DATA, RESET RETRY COUNTER) and responses carrying plaintext (PSO
 * DECIPHER, a gen1 decipher, and the GET RESPONSE after them) show lengths only.
 */
void p11u_apdu_format_command(const uint8_t *apdu, size_t len, char *out, size_t out_size);
void p11u_apdu_format_response(const uint8_t *resp, size_t len, bool redact, char *out,
                               size_t out_size);

#endif

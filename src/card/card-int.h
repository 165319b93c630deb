/* Inside the card layer: the card object, the operations table of a card
 * variant, the APDU exchange and the status-word mapping.  Not for the
 * PKCS#11 front (it includes card/card.h only). */
#ifndef P11U_CARD_INT_H
#define P11U_CARD_INT_H

#include "card/card.h"
#include "card/profile.h"

/* Largest RSA modulus the card layer handles (bytes). */
#define P11U_MODULUS_MAX 512
/* Keys a card may name (the test card two; a real card as its PrKDF says). */
#define P11U_CARD_KEYS_MAX P11U_DIR_OBJECTS_MAX

/* How a card variant addresses its files. */
enum p11u_file_access {
	P11U_ACCESS_PROFILE, /* 80 A4 00 00 02 FID from 3F00; 80 B0 of up to 256 bytes */
	P11U_ACCESS_GEN1,    /* the same commands, at most 0xC8 bytes per READ BINARY */
	P11U_ACCESS_GEN2,    /* the applet by AID, then 00 A4 00 04 02 FID 00; 00 B0, 0xC8 */
};

/* What a command is, for the status-word table (a 6700 means "secret format" after
 * VERIFY but "input length" after PSO). */
enum p11u_cmd_kind {
	P11U_CMD_FILE = 1 << 0,   /* SELECT, READ BINARY */
	P11U_CMD_SECRET = 1 << 1, /* VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER */
	P11U_CMD_KEY = 1 << 2,    /* MSE SET, PSO */
	P11U_CMD_OTHER = 1 << 3,  /* GET CHALLENGE */
};

/* One command APDU, before encoding. */
struct p11u_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* up to P11U_APDU_CHAIN_MAX bytes; over 255 is chained */
	size_t data_len;
	size_t le;            /* 0 = no Le (no data expected), else 1..256 */
	bool omit_le;         /* le bytes of response data are expected, but no Le byte is sent
	                         (a command as the traces show it): 61xx is fetched, 6Cxx is an
	                         error (never a resend that changes the command) */
	bool raw_sw;          /* the first answer's status word as it is: no GET RESPONSE, no
	                         resend, 61xx not taken for success (the protected VERIFY) */
	bool secret_response; /* response data is plaintext: the trace shows lengths only */
};

/* A card variant: the commands it gets.  Security operations are NULL for a card kind that
 * must not receive them (p11u_card_*() then answer P11U_CARD_E_NOT_SUPPORTED, no I/O). */
struct p11u_card_ops {
	const char *name;
	enum p11u_card_kind kind;
	enum p11u_file_access access;
	bool raw_rsa_only; /* sign and decipher take P11U_RSA_RAW only (the caller pads) */
	/* Read path: card number and certificate store into card->info. */
	enum p11u_card_rv (*read_public)(struct p11u_card *card);
	enum p11u_card_rv (*secret_state)(struct p11u_card *card, enum p11u_secret which,
	                                  struct p11u_secret_state *state);
	enum p11u_card_rv (*verify)(struct p11u_card *card, enum p11u_secret which,
	                            const uint8_t *secret, size_t len, int *tries_left);
	enum p11u_card_rv (*change_pin)(struct p11u_card *card, const uint8_t *old_pin,
	                                size_t old_len, const uint8_t *new_pin, size_t new_len,
	                                int *tries_left);
	enum p11u_card_rv (*reset_pin)(struct p11u_card *card, const uint8_t *user_code,
	                               size_t uc_len, const uint8_t *new_pin, size_t new_len,
	                               int *tries_left);
	/* in/in_len are already checked against the key (p11u_card_key_check). */
	enum p11u_card_rv (*sign)(struct p11u_card *card, enum p11u_keyref key,
	                          enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
	                          uint8_t *out, size_t *out_len);
	enum p11u_card_rv (*decipher)(struct p11u_card *card, enum p11u_keyref key,
	                              enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
	                              uint8_t *out, size_t *out_len);
	enum p11u_card_rv (*random)(struct p11u_card *card, uint8_t *out, size_t len);
};

/* The public RSA key that goes with a key reference, from its certificate (or key records). */
struct p11u_card_key {
	int ref;     /* the key reference */
	size_t size; /* modulus bytes; 0 = no usable public key */
	uint8_t modulus[P11U_MODULUS_MAX];
};

struct p11u_card {
	const struct p11u_transport *transport;
	const struct p11u_card_ops *ops;
	struct p11u_card_info info;
	struct p11u_card_dir *dir; /* gen1/gen2: what info.dir points to */
	struct p11u_card_key keys[P11U_CARD_KEYS_MAX];
	size_t n_keys;
	bool real_login; /* gen1: p11u_card_enable_real_login(card, true) was called */
	unsigned tx_depth; /* p11u_card_begin() nesting */
	/* The test card's profile makes DFs 0900 and 5030 reachable from anywhere: a card whose
	 * ATR says it is one gets no SELECT 3F00, and no SELECT of a DF that is already current
	 * in this transaction.  Real cards get the whole path every time, as the traces show. */
	bool short_paths;
	uint16_t current_df; /* 0: unknown (a new transaction, or a failed SELECT) */
	const struct p11u_card_cache *cache; /* during p11u_card_open only */
};

/* apdu.c */
enum p11u_card_rv p11u_card_rv_from_io(enum p11u_io_rv io);
/* Sends one command (chaining, GET RESPONSE after 61xx, resend after 6Cxx) and collects the
 * response data into resp (at most resp_cap bytes; more is P11U_CARD_E_BAD_RESPONSE).
 * P11U_CARD_OK means a final status word arrived (*sw): map it with p11u_sw_to_rv(). */
enum p11u_card_rv p11u_apdu_exchange(struct p11u_card *card, const struct p11u_apdu *apdu,
                                     uint8_t *resp, size_t resp_cap, size_t *resp_len,
                                     uint16_t *sw);
/* The one status-word table.  63Cx sets *tries_left (may be NULL) to x; 6983 sets 0. */
enum p11u_card_rv p11u_sw_to_rv(uint16_t sw, enum p11u_cmd_kind kind, int *tries_left);
/* A command that answers with a status word only: p11u_apdu_exchange + p11u_sw_to_rv. */
enum p11u_card_rv p11u_apdu_command(struct p11u_card *card, const struct p11u_apdu *apdu,
                                    enum p11u_cmd_kind kind, int *tries_left);

/* files.c: the read path (every card kind), addressed as card->ops->access says (the test
 * card's way before identification). */
enum p11u_card_rv p11u_files_read_card_type(struct p11u_card *card,
                                            char type[P11U_CARD_TYPE_LEN + 1]);
enum p11u_card_rv p11u_files_read_card_number(struct p11u_card *card);
/* The fixed layout: card number and the four slots of EF 08F2. */
enum p11u_card_rv p11u_files_read_public(struct p11u_card *card);
/* Selects an EF by its path from the root (3F00, or the gen2 applet): root, df, ef. */
enum p11u_card_rv p11u_files_select_ef(struct p11u_card *card, uint16_t df, uint16_t ef);
/* READ BINARY of up to len bytes of the current EF from offset; *got < len when the file ends
 * first.  Exactly len bytes or P11U_CARD_E_BAD_RESPONSE with the _exact variant. */
enum p11u_card_rv p11u_files_read(struct p11u_card *card, size_t offset, uint8_t *buf, size_t len,
                                  size_t *got);
enum p11u_card_rv p11u_files_read_exact(struct p11u_card *card, size_t offset, uint8_t *buf,
                                        size_t len);
/* The first bytes of the signature certificate's slot: what tells a cached card unchanged. */
#define P11U_PROBE_LEN P11U_APDU_LE_MAX
/* Whether der[0..len) is one DER certificate with nothing after it. */
bool p11u_files_one_certificate(const uint8_t *der, size_t len);

/* snapshot.c: the fixed layout's public data as bytes for the caller's cache, and back.
 * restore fills card->info.certs when the cache holds this card (type, number) with this probe
 * and certificates that check out; save stores what was just read. */
bool p11u_snapshot_restore(struct p11u_card *card, const uint8_t *probe, size_t probe_len);
void p11u_snapshot_save(const struct p11u_card *card, const uint8_t *probe, size_t probe_len);

/* hicos-read.c: gen2 detection and the read path of gen1 and gen2 (directory files). */
/* SELECT of the gen2 applet by AID: P11U_CARD_OK when the card answers 9000. */
enum p11u_card_rv p11u_gen2_select_applet(struct p11u_card *card);
enum p11u_card_rv p11u_hicos_read_public(struct p11u_card *card);
void p11u_hicos_dir_free(struct p11u_card_dir *dir);

/* hicos-ops.c: what the public traces show of gen1 security: the protected VERIFY and raw RSA. */
/* The data of the protected VERIFY (IV || 3DES-CBC cryptogram, 32 bytes) for a PIN of 1-10
 * bytes and an IV (8 bytes).  False when OpenSSL fails.  The caller wipes out. */
bool p11u_hicos_verify_data(const uint8_t *pin, size_t pin_len, const uint8_t iv[8],
                            uint8_t out[P11U_HICOS_VERIFY_LC]);
enum p11u_card_rv p11u_gen1_verify(struct p11u_card *card, enum p11u_secret which,
                                   const uint8_t *secret, size_t len, int *tries_left);
enum p11u_card_rv p11u_gen1_sign(struct p11u_card *card, enum p11u_keyref key,
                                 enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                 uint8_t *out, size_t *out_len);
enum p11u_card_rv p11u_gen1_decipher(struct p11u_card *card, enum p11u_keyref key,
                                     enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t *out_len);

/* profile.c */
const struct p11u_card_ops *p11u_profile_identify(const uint8_t *atr, size_t atr_len,
                                                  const char *card_type);
/* The table of a card that answered the SELECT of the gen2 applet. */
const struct p11u_card_ops *p11u_profile_gen2(void);
/* Whether the ATR carries the test card's mark (the short paths before identification). */
bool p11u_profile_atr_is_test(const uint8_t *atr, size_t atr_len);

/* secret.c: PIN commands of the test card. */
enum p11u_card_rv p11u_test_secret_state(struct p11u_card *card, enum p11u_secret which,
                                         struct p11u_secret_state *state);
enum p11u_card_rv p11u_test_verify(struct p11u_card *card, enum p11u_secret which,
                                   const uint8_t *secret, size_t len, int *tries_left);
enum p11u_card_rv p11u_test_change_pin(struct p11u_card *card, const uint8_t *old_pin,
                                       size_t old_len, const uint8_t *new_pin, size_t new_len,
                                       int *tries_left);
enum p11u_card_rv p11u_test_reset_pin(struct p11u_card *card, const uint8_t *user_code,
                                      size_t uc_len, const uint8_t *new_pin, size_t new_len,
                                      int *tries_left);

/* keyops.c: key commands of the test card. */
enum p11u_card_rv p11u_test_sign(struct p11u_card *card, enum p11u_keyref key,
                                 enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                 uint8_t *out, size_t *out_len);
enum p11u_card_rv p11u_test_decipher(struct p11u_card *card, enum p11u_keyref key,
                                     enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t *out_len);
enum p11u_card_rv p11u_test_random(struct p11u_card *card, uint8_t *out, size_t len);

/* keys.c: public keys from the certificates (or the directory's key records), and input checks
 * against them. */
enum p11u_card_rv p11u_keys_load(struct p11u_card *card);
/* Adds key reference ref with a big-endian modulus; false when the table is full or the modulus
 * is not usable. */
bool p11u_keys_add(struct p11u_card *card, int ref, const uint8_t *modulus, size_t len);
/* NULL for an unknown key reference or one without a usable RSA certificate. */
const struct p11u_card_key *p11u_card_key(const struct p11u_card *card, enum p11u_keyref key);
/* P11U_CARD_E_DATA_LEN unless in fits the key: a DigestInfo short enough for PKCS#1 padding
 * (sign, P11U_RSA_PKCS1), else a block of exactly the modulus size, below the modulus. */
enum p11u_card_rv p11u_keys_check_input(const struct p11u_card_key *key, bool sign,
                                        enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len);

#endif

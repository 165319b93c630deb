/* Inside the virtual card: what the state file holds, the card session, and the
 * functions the vcard-*.c files share.  Not for use outside tools/vcard. */
#ifndef P11U_VCARD_INTERNAL_H
#define P11U_VCARD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>

#include "vcard/vcard.h"

/* Files (docs/card-profile.md, "Files"). */
#define VCARD_CARD_TYPE_SIZE   24     /* EF 0905 */
#define VCARD_CARD_NUMBER_SIZE 16     /* EF 0903 */
#define VCARD_CERT_SLOT_SIZE   0x0700 /* one slot of EF 08F2 */
#define VCARD_CERT_SLOTS       4
#define VCARD_CERT_STORE_SIZE  (VCARD_CERT_SLOTS * VCARD_CERT_SLOT_SIZE)

/* Slot order in EF 08F2 (offset = index * VCARD_CERT_SLOT_SIZE). */
enum vcard_cert_slot {
	VCARD_SLOT_ROOT_CA = 0,
	VCARD_SLOT_ISSUING_CA = 1,
	VCARD_SLOT_ENCRYPTION = 2,
	VCARD_SLOT_SIGNATURE = 3,
};

/* Secrets (references of VERIFY). */
#define VCARD_REF_PIN       0x01
#define VCARD_REF_USER_CODE 0x02
#define VCARD_PIN_MIN       6
#define VCARD_PIN_MAX       8
#define VCARD_USER_CODE_MIN 6
#define VCARD_USER_CODE_MAX 10
#define VCARD_TRIES_MAX     3

/* Keys (references of MSE SET). */
#define VCARD_KEY_SIGNATURE  0x01
#define VCARD_KEY_ENCRYPTION 0x02
#define VCARD_ALG_RAW        0x00
#define VCARD_ALG_PKCS1      0x02
#define VCARD_KEY_BITS_MIN   1024
#define VCARD_KEY_BITS_MAX   3072

/* Real-card variants (docs/card-profile.md, "Real cards"). */
#define VCARD_DIR_FILE_MAX    4096 /* a directory file, or the data file 4108 */
#define VCARD_DIR_FILES       5    /* 4100, 4101, 4104, 4107, 4108 */
#define VCARD_HICOS_READ_MAX  0xC8 /* gen1: READ BINARY of at most 0xC8 bytes */
#define VCARD_HICOS_KEY_BITS  2048 /* gen1 and gen2: raw RSA-2048 */
#define VCARD_HICOS_REF_SIGN  0x01 /* key references ([ours]; the records r .. r+3 of EF 0811) */
#define VCARD_HICOS_REF_CRYPT 0x05

/* Transport limits. */
#define VCARD_CHAIN_MAX    1024                     /* command data of a whole chain */
#define VCARD_RESPONSE_MAX (VCARD_KEY_BITS_MAX / 8) /* largest response data */
#define VCARD_SHORT_LE_MAX 256

/* Status words. */
enum {
	SW_OK = 0x9000,
	SW_BYTES_REMAINING = 0x6100, /* | count (00 = 256 or more) */
	SW_END_OF_FILE = 0x6282,
	SW_MEMORY_FAILURE = 0x6581,
	SW_WRONG_LENGTH = 0x6700,
	SW_LAST_OF_CHAIN_EXPECTED = 0x6883,
	SW_SECURITY_NOT_SATISFIED = 0x6982,
	SW_BLOCKED = 0x6983,
	SW_NO_RESPONSE_DATA = 0x6985, /* GET RESPONSE with nothing waiting */
	SW_WRONG_DATA = 0x6A80,
	SW_FILE_NOT_FOUND = 0x6A82,
	SW_RECORD_NOT_FOUND = 0x6A83,
	SW_REF_NOT_FOUND = 0x6A88,
	SW_NOT_ALLOWED = 0x6981, /* command incompatible with the file structure */
	SW_CONDITIONS = 0x6985,  /* conditions of use not satisfied */
	SW_WRONG_P1P2 = 0x6A86,
	SW_WRONG_OFFSET = 0x6B00,
	SW_WRONG_LE = 0x6C00, /* | exact count */
	SW_INS_NOT_SUPPORTED = 0x6D00,
	SW_CLA_NOT_SUPPORTED = 0x6E00,
	SW_TRIES_LEFT = 0x63C0, /* | tries left */
};

/* An EF of DF 5030 that gen1 and gen2 cards have and the test card has not. */
struct vcard_dir_file {
	uint16_t fid;
	size_t len;
	uint8_t data[VCARD_DIR_FILE_MAX];
};

/* Everything the state file holds: the card's persistent memory. */
struct vcard_data {
	enum vcard_variant variant;
	struct vcard_dir_file dir_files[VCARD_DIR_FILES]; /* gen1, gen2 */
	uint8_t card_type[VCARD_CARD_TYPE_SIZE];
	uint8_t card_number[VCARD_CARD_NUMBER_SIZE];
	uint8_t cert_store[VCARD_CERT_STORE_SIZE];
	char pin[VCARD_PIN_MAX + 1];             /* NUL-terminated */
	char user_code[VCARD_USER_CODE_MAX + 1]; /* NUL-terminated */
	int pin_tries;
	int user_code_tries;
	EVP_PKEY *sign_key;    /* key reference 0x01 */
	EVP_PKEY *decrypt_key; /* key reference 0x02 */
};

enum vcard_file {
	VCARD_FILE_NONE = 0,
	VCARD_FILE_MF,
	VCARD_FILE_DF_INFO, /* DF 0900 */
	VCARD_FILE_DF_PKI,  /* DF 5030 */
	VCARD_FILE_EF_CARD_TYPE,
	VCARD_FILE_EF_CARD_NUMBER,
	VCARD_FILE_EF_CERT_STORE,
	VCARD_FILE_EF_KEYS,     /* EF 0810: gen1 key file (VERIFY, EA) */
	VCARD_FILE_EF_PUBKEYS,  /* EF 0811: key records */
	VCARD_FILE_EF_DIR,      /* EF 4100 .. 4108 (dir_files[current_dir_file]) */
	VCARD_FILE_APPLET,      /* gen2: the GPPKI applet, the root of its files */
};

/* A security environment set by MSE SET. */
struct vcard_se {
	uint8_t key;
	uint8_t alg;
};

/* The header of a chained command. */
struct vcard_chain_header {
	bool valid;
	uint8_t ins, p1, p2;
};

/* Volatile state: lost at power-off or reset. */
struct vcard_session {
	bool pin_verified;
	bool user_code_verified;
	enum vcard_file current_df;
	enum vcard_file current_ef; /* VCARD_FILE_NONE when a DF was selected last */
	struct vcard_se se_sign;
	struct vcard_se se_decipher;
	size_t current_dir_file; /* which dir_files[] VCARD_FILE_EF_DIR is */
	bool applet_selected;    /* gen2 */
	/* gen1 raw RSA: the first half of the input (EA 82), the last half of the result (C1). */
	struct {
		bool have_first;
		uint8_t ref;
		uint8_t first[128];
		bool have_rest;
		uint8_t rest[128];
	} rsa;
	struct {
		bool active;
		uint8_t ins, p1, p2;
		size_t len;
		uint8_t data[VCARD_CHAIN_MAX];
	} chain;
	/* The header of the chain the previous command broke: the next command
	 * with this header is a continuation without a start (6883). */
	struct vcard_chain_header broken;
	/* Response data waiting for GET RESPONSE. */
	struct {
		size_t len, off;
		bool secret;
		uint8_t data[VCARD_RESPONSE_MAX];
	} pending;
};

/* Identity of the state file as last read or written, to notice changes made
 * by another process (status, reset-user-code). */
struct vcard_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool valid;
};

struct vcard {
	char *state_path;
	struct vcard_data data;
	struct vcard_file_id file_id;
	struct vcard_session session;
	bool t0;
	bool last_secret;
};

/* A parsed short command APDU. */
struct vcard_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	bool has_le;
	size_t le; /* 1..256 when has_le */
};

/* vcard-state.c */
void vcard_data_init(struct vcard_data *data);
void vcard_data_clear(struct vcard_data *data);
/* Writes data to path atomically; records the new file's identity in id (may be NULL). */
int vcard_data_save(const struct vcard_data *data, const char *path, struct vcard_file_id *id,
                    char *err, size_t err_size);
int vcard_data_load(struct vcard_data *data, const char *path, struct vcard_file_id *id, char *err,
                    size_t err_size);
bool vcard_file_changed(const char *path, const struct vcard_file_id *id);

/* vcard.c */
/* Persists the card's data (counters, secrets).  Returns 0, or -1 (message on stderr). */
int vcard_persist(struct vcard *card);
bool vcard_secret_format_ok(uint8_t ref, const uint8_t *secret, size_t len, uint16_t *sw);
void vcard_set_error(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* vcard-apdu.c: building responses. */
size_t vcard_respond_sw(uint8_t *resp, uint16_t sw);
/* Response data of a command: returned at once or through GET RESPONSE, depending on the mode
 * and the size.  sw is the status word when all of the data fits (9000 or 6282). */
size_t vcard_respond_data(struct vcard *card, const uint8_t *data, size_t len, uint16_t sw,
                          bool secret, uint8_t *resp);

/* vcard-apdu.c: the file commands, shared with the real-card variants. */
size_t vcard_cmd_get_response(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);
/* Makes FID the current file as SELECT does (the DFs from anywhere, an EF from its DF); returns
 * SW_OK or SW_FILE_NOT_FOUND. */
uint16_t vcard_select_fid(struct vcard *card, uint16_t fid);
/* READ BINARY of the current EF, Le at most le_max. */
size_t vcard_read_binary(struct vcard *card, const struct vcard_apdu *a, size_t le_max,
                         uint8_t *resp);

/* vcard-hicos.c: the commands of the gen1 and gen2 variants (every class and instruction). */
size_t vcard_hicos_command(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);
/* The ATR's historical bytes of a variant. */
const char *vcard_hicos_atr_mark(enum vcard_variant variant);

/* vcard-pkcs15.c: personalization of the directory files of a gen1 or gen2 card. */
int vcard_pkcs15_personalize(struct vcard_data *data, char *err, size_t err_size);
/* The index of EF fid in data->dir_files, or -1. */
int vcard_dir_file_index(const struct vcard_data *data, uint16_t fid);

/* vcard-security.c: the security and crypto commands. */
/* A PIN presented (already in plaintext): counts a wrong one (persisted first), puts the counter
 * back on a right one; the status word of the check (9000, 63Cx, 6983, 6581). */
uint16_t vcard_check_pin(struct vcard *card, const uint8_t *pin, size_t len);
size_t vcard_cmd_verify(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);
size_t vcard_cmd_change_reference_data(struct vcard *card, const struct vcard_apdu *a,
                                       uint8_t *resp);
size_t vcard_cmd_reset_retry_counter(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);
size_t vcard_cmd_mse(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);
size_t vcard_cmd_pso(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);
size_t vcard_cmd_get_challenge(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);

#endif

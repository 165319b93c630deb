/* The real-card variants of the virtual card: a first-generation HiCOS card (gen1) and the
 * second-generation GPPKI applet (gen2), answering the commands of the public traces as
 * docs/card-profile.md ("Real cards") records them, so the module's real-card paths are tested
 * end to end.  What the traces do not show is marked [ours] there.
 *
 * gen1: CLA 80 (GET RESPONSE also 00; any other class 6E00); SELECT and READ BINARY of at most
 * 0xC8 bytes; READ RECORD 80 B2 <rec> 00 81 of EF 0811 (the key records); the protected VERIFY
 * 8C 20 00 01 20 || IV || cryptogram, checked by decrypting it and checking its MAC; raw RSA-2048
 * with 80 EA 82 / 80 EA 02 / 80 C1.  A plaintext VERIFY and every command of the test card's
 * profile: 6D00.
 * gen2: nothing but the SELECT of the applet by AID until it is selected; then 00 A4 00 04 02
 * FID 00, 00 B0, 80 B2 <ref> 03|04 00; every security command needs secure messaging: 6982. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "vcard/vcard-internal.h"

#define CLA_ISO          0x00
#define CLA_PLAIN        0x80
#define CLA_PROTECTED    0x8C
#define INS_SELECT       0xA4
#define INS_READ_BINARY  0xB0
#define INS_READ_RECORD  0xB2
#define INS_GET_RESPONSE 0xC0
#define INS_VERIFY       0x20
#define INS_RSA          0xEA
#define INS_RSA_REST     0xC1
#define HALF             128
#define RECORD_LEN       (1 + HALF)
#define DES_BLOCK        8

static const uint8_t gen2_aid[] = {0xA0, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00, 0x06,
                                   0x22, 0x01, 0x69, 0x64, 0x00, 0x01, 0x01, 0x01};
static const uint8_t des_key[] = "CHTTL8f0HiCardV2";

const char *vcard_hicos_atr_mark(enum vcard_variant variant)
{
	return variant == VCARD_VARIANT_GEN1 ? "CHTMOICA" : "GPPKIVCARD";
}

/* The key a reference names (sign key 01, encryption key 05), or NULL. */
static EVP_PKEY *key_of_ref(struct vcard *card, uint8_t ref)
{
	if (ref == VCARD_HICOS_REF_SIGN)
		return card->data.sign_key;
	if (ref == VCARD_HICOS_REF_CRYPT)
		return card->data.decrypt_key;
	return NULL;
}

/* The big-endian modulus of a key (256 bytes). */
static bool modulus_of(EVP_PKEY *key, uint8_t out[2 * HALF])
{
	BIGNUM *n = NULL;
	bool ok = EVP_PKEY_get_bn_param(key, "n", &n) && BN_bn2binpad(n, out, 2 * HALF) == 2 * HALF;

	BN_free(n);
	return ok;
}

/* ---- gen1 ------------------------------------------------------------------------------ */

/* Record rec of EF 0811: for key reference r, r = exponent (first 4 bytes, big-endian), r+1
 * zeros, r+2 and r+3 the modulus with its least-significant 32-bit word first. */
static bool key_record(struct vcard *card, uint8_t rec, uint8_t out[HALF])
{
	static const uint8_t refs[] = {VCARD_HICOS_REF_SIGN, VCARD_HICOS_REF_CRYPT};
	uint8_t modulus[2 * HALF];

	memset(out, 0, HALF);
	for (size_t i = 0; i < sizeof(refs); i++) {
		EVP_PKEY *key = key_of_ref(card, refs[i]);
		BIGNUM *e = NULL;
		int part = rec - refs[i];

		if (part < 0 || part > 3)
			continue;
		if (part == 0) {
			bool ok = EVP_PKEY_get_bn_param(key, "e", &e) && BN_bn2binpad(e, out, 4) == 4;
			BN_free(e);
			return ok;
		}
		if (part == 1)
			return true;
		if (!modulus_of(key, modulus))
			return false;
		/* Word w (from the least significant) of the modulus is word w of r+2 || r+3. */
		for (size_t w = 32 * (size_t)(part - 2); w < 32 * (size_t)(part - 1); w++)
			memcpy(out + 4 * (w % 32), modulus + 2 * HALF - 4 * (w + 1), 4);
		return true;
	}
	return false;
}

static size_t gen1_read_record(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	uint8_t record[RECORD_LEN];

	if (a->p2 != 0x00)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 0 || !a->has_le || a->le != RECORD_LEN)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (card->session.current_ef == VCARD_FILE_EF_KEYS)
		return vcard_respond_sw(resp, SW_SECURITY_NOT_SATISFIED); /* private keys [ours] */
	if (card->session.current_ef != VCARD_FILE_EF_PUBKEYS)
		return vcard_respond_sw(resp, SW_NOT_ALLOWED);
	record[0] = a->p1;
	if (!key_record(card, a->p1, record + 1))
		return vcard_respond_sw(resp, SW_RECORD_NOT_FOUND);
	return vcard_respond_data(card, record, sizeof(record), SW_OK, false, resp);
}

static bool des_ede_cbc(const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out,
                        bool encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, tail = 0;
	bool ok = ctx && EVP_CipherInit_ex(ctx, EVP_des_ede_cbc(), NULL, des_key, iv, encrypt) &&
	          EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	          EVP_CipherUpdate(ctx, out, &n, in, (int)len) &&
	          EVP_CipherFinal_ex(ctx, out + n, &tail) && (size_t)(n + tail) == len;

	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* The PIN in a protected VERIFY's data (IV || cryptogram): decrypted, its padding and its MAC
 * checked.  Returns the PIN's length (0 when the block is not well-formed). */
static size_t unwrap_pin(const uint8_t *data, uint8_t pin[10])
{
	static const uint8_t six[6] = {6, 6, 6, 6, 6, 6};
	uint8_t plain[24], mac_in[16], mac_out[16];
	size_t len = 0;

	if (des_ede_cbc(data, data + DES_BLOCK, sizeof(plain), plain, false) &&
	    memcmp(plain + 18, six, sizeof(six)) == 0) {
		memcpy(mac_in, plain, 10);
		memcpy(mac_in + 10, six, sizeof(six));
		if (des_ede_cbc(data, mac_in, sizeof(mac_in), mac_out, true) &&
		    CRYPTO_memcmp(mac_out + DES_BLOCK, plain + 10, DES_BLOCK) == 0) {
			while (len < 10 && plain[len] != 0xFF)
				len++;
			memcpy(pin, plain, 10);
			for (size_t i = len; i < 10; i++)
				if (plain[i] != 0xFF)
					len = 0; /* FF padding, then nothing else */
		}
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(mac_in, sizeof(mac_in));
	return len;
}

static size_t gen1_verify(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	uint8_t pin[10];
	size_t len;
	uint16_t sw;

	if (a->cla != CLA_PROTECTED)
		return vcard_respond_sw(resp, SW_INS_NOT_SUPPORTED); /* no plaintext VERIFY */
	if (a->p1 != 0x00 || a->p2 != 0x01)
		return vcard_respond_sw(resp, SW_REF_NOT_FOUND);
	if (a->lc != 0x20)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (card->session.current_ef != VCARD_FILE_EF_KEYS)
		return vcard_respond_sw(resp, SW_CONDITIONS); /* [ours]: EF 0810 first */
	if (card->data.pin_tries == 0)
		return vcard_respond_sw(resp, SW_BLOCKED);
	len = unwrap_pin(a->data, pin);
	if (len == 0) {
		OPENSSL_cleanse(pin, sizeof(pin));
		return vcard_respond_sw(resp, SW_WRONG_DATA); /* [ours]: a bad block costs nothing */
	}
	sw = vcard_check_pin(card, pin, len);
	OPENSSL_cleanse(pin, sizeof(pin));
	return vcard_respond_sw(resp, sw);
}

/* Raw RSA with the private key: in (256 bytes, below the modulus) into out. */
static bool raw_rsa(EVP_PKEY *key, const uint8_t *in, uint8_t *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	size_t len = 2 * HALF;
	bool ok = ctx && EVP_PKEY_decrypt_init(ctx) > 0 &&
	          EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0 &&
	          EVP_PKEY_decrypt(ctx, out, &len, in, 2 * HALF) > 0 && len == 2 * HALF;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* 80 EA 82 <ref> 80 || first half (kept), 80 EA 02 <ref> 80 || last half (result bytes 0-127,
 * bytes 128-255 kept for C1). */
static size_t gen1_rsa(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct vcard_session *s = &card->session;
	uint8_t in[2 * HALF], out[2 * HALF];
	EVP_PKEY *key = key_of_ref(card, a->p2);
	size_t n;

	if (a->p1 != 0x82 && a->p1 != 0x02)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != HALF)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (!key)
		return vcard_respond_sw(resp, SW_REF_NOT_FOUND);
	if (!s->pin_verified)
		return vcard_respond_sw(resp, SW_SECURITY_NOT_SATISFIED);
	if (a->p1 == 0x82) {
		s->rsa.have_first = true;
		s->rsa.ref = a->p2;
		memcpy(s->rsa.first, a->data, HALF);
		return vcard_respond_sw(resp, SW_OK);
	}
	if (!s->rsa.have_first || s->rsa.ref != a->p2)
		return vcard_respond_sw(resp, SW_CONDITIONS);
	memcpy(in, s->rsa.first, HALF);
	memcpy(in + HALF, a->data, HALF);
	s->rsa.have_first = false;
	if (!raw_rsa(key, in, out))
		return vcard_respond_sw(resp, SW_WRONG_DATA); /* not below the modulus */
	memcpy(s->rsa.rest, out + HALF, HALF);
	s->rsa.have_rest = true;
	n = vcard_respond_data(card, out, HALF, SW_OK, true, resp);
	OPENSSL_cleanse(out, sizeof(out));
	return n;
}

static size_t gen1_rsa_rest(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct vcard_session *s = &card->session;
	size_t n;

	if (a->p1 != 0x00 || a->p2 != HALF)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 0 || !a->has_le || a->le != HALF)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (!s->rsa.have_rest)
		return vcard_respond_sw(resp, SW_CONDITIONS);
	n = vcard_respond_data(card, s->rsa.rest, HALF, SW_OK, true, resp);
	OPENSSL_cleanse(&s->rsa, sizeof(s->rsa));
	return n;
}

static size_t gen1_command(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	if (a->ins == INS_GET_RESPONSE && (a->cla == CLA_ISO || a->cla == CLA_PLAIN))
		return vcard_cmd_get_response(card, a, resp);
	if (a->ins == INS_VERIFY && (a->cla == CLA_PROTECTED || a->cla == CLA_PLAIN))
		return gen1_verify(card, a, resp);
	if (a->cla != CLA_PLAIN)
		return vcard_respond_sw(resp, SW_CLA_NOT_SUPPORTED);
	switch (a->ins) {
	case INS_SELECT:
		if (a->p1 != 0x00 || a->p2 != 0x00)
			return vcard_respond_sw(resp, SW_WRONG_P1P2);
		if (a->lc != 2)
			return vcard_respond_sw(resp, SW_WRONG_LENGTH);
		return vcard_respond_sw(resp, vcard_select_fid(card, (uint16_t)(a->data[0] << 8 |
		                                                                a->data[1])));
	case INS_READ_BINARY:
		return vcard_read_binary(card, a, VCARD_HICOS_READ_MAX, resp);
	case INS_READ_RECORD:
		return gen1_read_record(card, a, resp);
	case INS_RSA:
		return gen1_rsa(card, a, resp);
	case INS_RSA_REST:
		return gen1_rsa_rest(card, a, resp);
	default:
		return vcard_respond_sw(resp, SW_INS_NOT_SUPPORTED);
	}
}

/* ---- gen2 ------------------------------------------------------------------------------ */

/* 00 A4 04 0C 10 <AID> 00 selects the applet; 00 A4 00 04 02 <FID> 00 a file in it. */
static size_t gen2_select(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct vcard_session *s = &card->session;

	if (a->p1 == 0x04 && a->p2 == 0x0C) {
		if (a->lc != sizeof(gen2_aid) || memcmp(a->data, gen2_aid, sizeof(gen2_aid)) != 0)
			return vcard_respond_sw(resp, SW_FILE_NOT_FOUND);
		s->applet_selected = true;
		s->current_df = VCARD_FILE_APPLET;
		s->current_ef = VCARD_FILE_NONE;
		return vcard_respond_sw(resp, SW_OK);
	}
	if (!s->applet_selected)
		return vcard_respond_sw(resp, SW_FILE_NOT_FOUND);
	if (a->p1 != 0x00 || a->p2 != 0x04)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 2)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	return vcard_respond_sw(resp, vcard_select_fid(card, (uint16_t)(a->data[0] << 8 | a->data[1])));
}

/* 80 B2 <ref> 03 00 / 04 00: the first / last half of the modulus of key <ref>. */
static size_t gen2_read_record(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	uint8_t modulus[2 * HALF];
	EVP_PKEY *key = key_of_ref(card, a->p1);

	if (a->p2 != 0x03 && a->p2 != 0x04)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 0 || !a->has_le)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (card->session.current_ef != VCARD_FILE_EF_KEYS &&
	    card->session.current_ef != VCARD_FILE_EF_PUBKEYS)
		return vcard_respond_sw(resp, SW_NOT_ALLOWED);
	if (!key || !modulus_of(key, modulus))
		return vcard_respond_sw(resp, SW_RECORD_NOT_FOUND);
	return vcard_respond_data(card, modulus + (a->p2 == 0x03 ? 0 : HALF), HALF, SW_OK, false,
	                          resp);
}

static size_t gen2_command(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	if (a->ins == INS_GET_RESPONSE && (a->cla == CLA_ISO || a->cla == CLA_PLAIN))
		return vcard_cmd_get_response(card, a, resp);
	if (a->cla == CLA_ISO && a->ins == INS_SELECT)
		return gen2_select(card, a, resp);
	if (!card->session.applet_selected)
		return vcard_respond_sw(resp, SW_INS_NOT_SUPPORTED);
	if (a->cla == CLA_ISO && a->ins == INS_READ_BINARY)
		return vcard_read_binary(card, a, VCARD_SHORT_LE_MAX, resp);
	if (a->cla == CLA_PLAIN && a->ins == INS_READ_RECORD)
		return gen2_read_record(card, a, resp);
	switch (a->ins) {
	case INS_VERIFY: /* every class: secure messaging only */
	case INS_RSA:
	case INS_RSA_REST:
	case 0x22:
	case 0x24:
	case 0x2A:
	case 0x2C:
		return vcard_respond_sw(resp, SW_SECURITY_NOT_SATISFIED);
	default:
		return vcard_respond_sw(resp, SW_INS_NOT_SUPPORTED);
	}
}

size_t vcard_hicos_command(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	/* Any command but GET RESPONSE and C1 drops a raw RSA result waiting for C1. */
	if (a->ins != INS_GET_RESPONSE && a->ins != INS_RSA_REST)
		card->session.rsa.have_rest = false;
	if (card->data.variant == VCARD_VARIANT_GEN1)
		return gen1_command(card, a, resp);
	return gen2_command(card, a, resp);
}

/* Benchmark of the card layer over the virtual card, in-process (no pcscd, no reader):
 * how long the read path (identify + four certificates), a PIN check, an RSA signature and a
 * decipherment take, and how many APDUs each costs.  Prints numbers; asserts nothing.
 *   bench/bench-card [ITERATIONS] [KEY_BITS] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "card/card.h"
#include "tests/unit/card-fixture.h"

static unsigned long apdus;
static enum p11u_io_rv (*real_transmit)(void *, const uint8_t *, size_t, uint8_t *, size_t *);

static enum p11u_io_rv counting_transmit(void *ctx, const uint8_t *cmd, size_t len, uint8_t *resp,
                                         size_t *resp_len)
{
	apdus++;
	return real_transmit(ctx, cmd, len, resp, resp_len);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, int n, double seconds, unsigned long n_apdus)
{
	printf("%-34s %8.3f ms/op %8.1f ops/s %6.1f APDUs/op\n", what, seconds * 1000 / n,
	       n / seconds, (double)n_apdus / n);
}

#define MEASURE(what, n, stmt)                                                                     \
	do {                                                                                       \
		unsigned long a0 = apdus;                                                          \
		double t0 = now();                                                                 \
		for (int i_ = 0; i_ < (n); i_++) {                                                 \
			if ((stmt) != P11U_CARD_OK) {                                              \
				fprintf(stderr, "%s failed\n", what);                              \
				return 1;                                                          \
			}                                                                          \
		}                                                                                  \
		report(what, n, now() - t0, apdus - a0);                                           \
	} while (0)

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 50;
	struct vcard_params params = {.key_bits = argc > 2 ? atoi(argv[2]) : 2048};
	struct card_fixture fx;
	static const uint8_t pin[] = "123456";
	uint8_t digest_info[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	                           0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	uint8_t out[512], cryptogram[512];
	size_t out_len, cryptogram_len = sizeof cryptogram;

	if (n <= 0 || card_fixture_open(&fx, &params) != 0) {
		fprintf(stderr, "usage: bench-card [ITERATIONS] [KEY_BITS]\n");
		return 2;
	}
	real_transmit = fx.transport.transmit;
	fx.transport.transmit = counting_transmit;
	RAND_bytes(digest_info + 19, 32);

	/* A cryptogram for the encryption key, made with its certificate. */
	X509 *enc = card_fixture_exported_cert(&fx, "encryption");
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(enc), NULL);
	if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    EVP_PKEY_encrypt(ctx, cryptogram, &cryptogram_len, (const uint8_t *)"benchmark", 9) <=
	        0)
		return 1;
	EVP_PKEY_CTX_free(ctx);
	X509_free(enc);

	printf("card layer over the in-process virtual card, RSA-%d, %d iterations\n",
	       params.key_bits, n);
	struct p11u_card *card = NULL;
	uint8_t atr[64];
	size_t atr_len = vcard_atr(fx.vcard, atr, sizeof atr);
	MEASURE("open (identify + 4 certificates)", n,
	        (p11u_card_free(card), card = NULL,
	         p11u_card_open(&fx.transport, atr, atr_len, &card)));
	p11u_card_free(card);
	struct p11u_secret_state st;
	MEASURE("tries left (empty VERIFY)", n,
	        p11u_card_secret_state(fx.card, P11U_SECRET_PIN, &st));
	MEASURE("VERIFY PIN", n, p11u_card_verify(fx.card, P11U_SECRET_PIN, pin, 6, NULL));
	MEASURE(
	    "sign PKCS#1 (DigestInfo SHA-256)", n,
	    (out_len = sizeof out, p11u_card_sign(fx.card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1,
	                                          digest_info, sizeof digest_info, out, &out_len)));
	MEASURE(
	    "decipher PKCS#1", n,
	    (out_len = sizeof out, p11u_card_decipher(fx.card, P11U_KEY_ENCRYPTION, P11U_RSA_PKCS1,
	                                              cryptogram, cryptogram_len, out, &out_len)));
	MEASURE("GET CHALLENGE 32 bytes", n, p11u_card_random(fx.card, out, 32));
	card_fixture_close(&fx);
	return 0;
}

/* A minimal raw PC/SC client: sends exactly the floor APDU sequence of one benchmark job (derived
 * in bench/README.md from docs/card-profile.md) to the p11unlock test card, in one transaction,
 * and checks every status word, so that it really did the job.  The module's time for the same
 * job is compared with this program's.  Prints nothing on success; asserts no timing.
 *   bench/bench-raw list|sign|unlock|p11unlock READER_INDEX
 *   bench/bench-raw serial READER_INDEX OTHER_READER_INDEX
 * Secrets come from the environment: BENCH_PIN (sign), BENCH_USER_CODE and BENCH_NEW_PIN
 * (unlock, p11unlock, serial). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <winscard.h>

#define BENCH_DATA "benchmark data\n"

struct card {
	SCARDHANDLE handle;
	const SCARD_IO_REQUEST *pci;
};

static SCARDCONTEXT ctx;

static void die(const char *what, LONG rv)
{
	fprintf(stderr, "bench-raw: %s: %s\n", what, pcsc_stringify_error(rv));
	exit(1);
}

/* Sends one APDU that must succeed (9000); anything else ends the program. */
static void send_apdu(struct card *card, const unsigned char *apdu, size_t len, const char *what)
{
	unsigned char resp[258];
	DWORD resp_len = sizeof(resp);
	LONG rv = SCardTransmit(card->handle, card->pci, apdu, len, NULL, resp, &resp_len);
	unsigned sw;

	if (rv != SCARD_S_SUCCESS)
		die(what, rv);
	if (resp_len < 2) {
		fprintf(stderr, "bench-raw: %s: answer of %lu bytes\n", what,
		        (unsigned long)resp_len);
		exit(1);
	}
	sw = (unsigned)resp[resp_len - 2] << 8 | resp[resp_len - 1];
	OPENSSL_cleanse(resp, sizeof(resp));
	if (sw != 0x9000) {
		fprintf(stderr, "bench-raw: %s: SW %04X\n", what, sw);
		exit(1);
	}
}

#define SEND(card, what, ...)                                                                      \
	do {                                                                                       \
		static const unsigned char a_[] = {__VA_ARGS__};                                   \
		send_apdu(card, a_, sizeof(a_), what);                                             \
	} while (0)

/* The card type (EF 0905) and the card number (EF 0903): the safe identification. */
static void identify(struct card *card)
{
	SEND(card, "SELECT DF 0900", 0x80, 0xA4, 0x00, 0x00, 0x02, 0x09, 0x00);
	SEND(card, "SELECT EF 0905", 0x80, 0xA4, 0x00, 0x00, 0x02, 0x09, 0x05);
	SEND(card, "READ BINARY 0905", 0x80, 0xB0, 0x00, 0x00, 24);
}

static void card_number(struct card *card)
{
	SEND(card, "SELECT EF 0903", 0x80, 0xA4, 0x00, 0x00, 0x02, 0x09, 0x03);
	SEND(card, "READ BINARY 0903", 0x80, 0xB0, 0x00, 0x00, 16);
}

/* The cache check: card number, then the signature certificate's first 256 bytes (serial number,
 * issuer, validity, subject), which a re-issue changes. */
static void validate(struct card *card)
{
	card_number(card);
	SEND(card, "SELECT DF 5030", 0x80, 0xA4, 0x00, 0x00, 0x02, 0x50, 0x30);
	SEND(card, "SELECT EF 08F2", 0x80, 0xA4, 0x00, 0x00, 0x02, 0x08, 0xF2);
	SEND(card, "READ BINARY 08F2 at 0x1500", 0x80, 0xB0, 0x15, 0x00, 0x00);
}

/* VERIFY without data: tries left, costs nothing (63Cx, 6983 blocked, 9000 verified). */
static void counter(struct card *card, unsigned char ref)
{
	const unsigned char apdu[] = {0x80, 0x20, 0x00, ref};
	unsigned char resp[2];
	DWORD resp_len = sizeof(resp);
	LONG rv = SCardTransmit(card->handle, card->pci, apdu, sizeof(apdu), NULL, resp, &resp_len);

	if (rv != SCARD_S_SUCCESS)
		die("VERIFY without data", rv);
	if (resp_len != 2 ||
	    !((resp[0] == 0x63 && (resp[1] & 0xF0) == 0xC0) ||
	      (resp[0] == 0x69 && resp[1] == 0x83) || (resp[0] == 0x90 && resp[1] == 0x00))) {
		fprintf(stderr, "bench-raw: VERIFY without data: unexpected answer\n");
		exit(1);
	}
}

static const char *secret_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || strlen(v) < 6 || strlen(v) > 10) {
		fprintf(stderr, "bench-raw: %s must hold 6-10 characters\n", name);
		exit(2);
	}
	return v;
}

static void verify(struct card *card, unsigned char ref, const char *secret)
{
	unsigned char apdu[5 + 10];
	size_t n = strlen(secret);

	memcpy(apdu, (const unsigned char[]){0x80, 0x20, 0x00, ref, (unsigned char)n}, 5);
	memcpy(apdu + 5, secret, n);
	send_apdu(card, apdu, 5 + n, "VERIFY");
	OPENSSL_cleanse(apdu, sizeof(apdu));
}

static void sign(struct card *card)
{
	/* DigestInfo of SHA-256, then the digest of the data pkcs11-tool signs in the benchmark. */
	unsigned char apdu[5 + 51 + 1] = {0x80, 0x2A, 0x9E, 0x9A, 51,   0x30, 0x31, 0x30,
	                                  0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	                                  0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	unsigned int md_len = 32;

	verify(card, 0x01, secret_env("BENCH_PIN"));
	SEND(card, "MSE SET", 0x80, 0x22, 0x41, 0xB6, 0x06, 0x84, 0x01, 0x01, 0x80, 0x01, 0x02);
	if (!EVP_Digest(BENCH_DATA, strlen(BENCH_DATA), apdu + 5 + 19, &md_len, EVP_sha256(), NULL))
		die("SHA-256", SCARD_F_INTERNAL_ERROR);
	apdu[sizeof(apdu) - 1] = 0x00; /* Le 256 */
	send_apdu(card, apdu, sizeof(apdu), "PSO COMPUTE DIGITAL SIGNATURE");
}

/* SO login (VERIFY of the user code), then C_InitPIN (RESET RETRY COUNTER). */
static void release(struct card *card)
{
	const char *code = secret_env("BENCH_USER_CODE");
	const char *pin = secret_env("BENCH_NEW_PIN");
	unsigned char apdu[5 + 1 + 10 + 1 + 10];
	size_t lc = 1 + strlen(code) + 1 + strlen(pin);

	verify(card, 0x02, code);
	memcpy(apdu, (const unsigned char[]){0x80, 0x2C, 0x00, 0x01, (unsigned char)lc}, 5);
	apdu[5] = (unsigned char)strlen(code);
	memcpy(apdu + 6, code, strlen(code));
	apdu[6 + strlen(code)] = (unsigned char)strlen(pin);
	memcpy(apdu + 7 + strlen(code), pin, strlen(pin));
	send_apdu(card, apdu, 5 + lc, "RESET RETRY COUNTER");
	OPENSSL_cleanse(apdu, sizeof(apdu));
}

static struct card open_card(const char *readers, long index)
{
	const char *r = readers;
	struct card card;
	DWORD proto;
	LONG rv;

	for (long i = 0; i < index && *r; i++)
		r += strlen(r) + 1;
	if (!*r) {
		fprintf(stderr, "bench-raw: no reader %ld\n", index);
		exit(1);
	}
	rv = SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	                  &card.handle, &proto);
	if (rv != SCARD_S_SUCCESS)
		die("SCardConnect", rv);
	card.pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	rv = SCardBeginTransaction(card.handle);
	if (rv != SCARD_S_SUCCESS)
		die("SCardBeginTransaction", rv);
	return card;
}

static void close_card(struct card *card)
{
	SCardEndTransaction(card->handle, SCARD_LEAVE_CARD);
	SCardDisconnect(card->handle, SCARD_LEAVE_CARD);
}

static long parse_index(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 64) {
		fprintf(stderr, "bench-raw: bad reader index: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	char *readers = NULL;
	DWORD len = SCARD_AUTOALLOCATE;
	const char *job = argc > 1 ? argv[1] : "";
	int serial = strcmp(job, "serial") == 0;
	struct card card;
	LONG rv;

	if (argc != (serial ? 4 : 3) || (!serial && strcmp(job, "list") && strcmp(job, "sign") &&
	                                 strcmp(job, "unlock") && strcmp(job, "p11unlock"))) {
		fprintf(stderr, "usage: bench-raw list|sign|unlock|p11unlock READER_INDEX\n"
		                "       bench-raw serial READER_INDEX OTHER_READER_INDEX\n");
		return 2;
	}
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS)
		die("SCardEstablishContext", rv);
	rv = SCardListReaders(ctx, NULL, (LPSTR)&readers, &len);
	if (rv != SCARD_S_SUCCESS)
		die("SCardListReaders", rv);
	if (serial) {
		/* The other card: only its card number, to see it is not the one asked for. */
		card = open_card(readers, parse_index(argv[3]));
		SEND(&card, "SELECT DF 0900", 0x80, 0xA4, 0x00, 0x00, 0x02, 0x09, 0x00);
		card_number(&card);
		close_card(&card);
	}
	card = open_card(readers, parse_index(argv[2]));
	identify(&card);
	validate(&card);
	counter(&card, 0x01);
	counter(&card, 0x02);
	if (strcmp(job, "sign") == 0) {
		sign(&card);
	} else if (strcmp(job, "unlock") == 0) {
		release(&card);
	} else if (strcmp(job, "p11unlock") == 0 || serial) {
		counter(&card, 0x02); /* the tries step: the card's answer, never a cached one */
		release(&card);
	}
	close_card(&card);
	SCardFreeMemory(ctx, readers);
	SCardReleaseContext(ctx);
	return 0;
}

/* p11unlock-vcard: a virtual p11unlock test card for a vsmartcard vpcd reader.
 * Exit codes: 0 success, 1 failure, 2 usage error. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcard/vcard.h"
#include "vcard/vpcd.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: p11unlock-vcard COMMAND STATE [OPTIONS]\n"
    "\n"
    "A virtual p11unlock TEST card (card type \"P11U V1\"; or, --variant, a virtual first- or\n"
    "second-generation HiCOS card) served to a vsmartcard vpcd reader.\n"
    "STATE is the card's state file (its memory: PIN, user code, counters, keys).\n"
    "\n"
    "Commands:\n"
    "  create STATE [OPTIONS]     personalize a new card (overwrites STATE)\n"
    "      --card-number N        16 characters (default XC00000000091349)\n"
    "      --holder-dn DN         holder's name, e.g. "
    "\"C=TW,O=組織及團體憑證管理中心憑證測試中心\"\n"
    "      --not-before DATE      YYYY-MM-DD (default 2025-09-01)\n"
    "      --not-after DATE       YYYY-MM-DD (default 2031-09-01)\n"
    "      --pin PIN              6-8 printable ASCII (default 123456)\n"
    "      --user-code CODE       6-10 printable ASCII (default Ab12cd34)\n"
    "      --key-bits N           RSA key size, 1024-3072 (default 2048)\n"
    "      --card-type TYPE       EF 0905 (default \"P11U V1\"; e.g. \"CHT V32N\" to test how\n"
    "                             the module treats real cards)\n"
    "      --variant V            test (default), gen1 or gen2: answer as a first- or\n"
    "                             second-generation HiCOS card (RSA-2048, directory files)\n"
    "      --corrupt-cert-slot S  root, issuing, encryption or signature: that slot of\n"
    "                             EF 08F2 holds junk, not a certificate (tests; repeatable)\n"
    "  run STATE [OPTIONS]        serve the card until SIGTERM (= card removed)\n"
    "      --host H               vpcd's address (default 127.0.0.1)\n"
    "      --port N               vpcd's port (default 35963)\n"
    "      --t0                   behave as a T=0 card (T=0 ATR, 61xx/6Cxx)\n"
    "      --latency-us N         delay each response by N microseconds\n"
    "      --remove-after N       leave the reader right after the N-th APDU\n"
    "      --slow-removal MS      with --remove-after: after the N-th APDU every APDU fails\n"
    "                             while the reader still sees the card for MS milliseconds\n"
    "      --log FILE             one line per APDU (secrets redacted)\n"
    "  status STATE               print card_number, card_type and the counters\n"
    "  reset-user-code STATE --new-user-code CODE\n"
    "                             what the CA's user-code reset does (counter back to 3)\n"
    "  export STATE DIR           write the certificates as PEM files into DIR\n"
    "  --help                     this text\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "p11unlock-vcard: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'p11unlock-vcard --help'.\n");
	return EXIT_USAGE;
}

/* A whole non-negative decimal number no larger than max. */
static bool parse_number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/* Parses a subcommand's options (GNU getopt_long: options and arguments in any
 * order); the npos positional arguments go to pos[].  Returns 0, or EXIT_USAGE after
 * printing a message. */
typedef int (*option_fn)(int opt, const char *arg, void *ctx);

static int parse_options(int argc, char **argv, const struct option *longopts, option_fn fn,
                         void *ctx, const char **pos, int npos)
{
	int opt, got = 0, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (opt == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		if (opt == '?')
			return usage_error("unknown option: %s", argv[optind - 1]);
		rc = fn(opt, optarg, ctx);
		if (rc != 0)
			return rc;
	}
	for (; optind < argc; optind++) {
		if (got == npos)
			return usage_error("unexpected argument: %s", argv[optind]);
		pos[got++] = argv[optind];
	}
	if (got != npos)
		return usage_error("%s", npos == 1 ? "missing STATE" : "missing STATE or DIR");
	return 0;
}

/* The card in STATE, or NULL after saying why. */
static struct vcard *load_card(const char *state)
{
	char err[512];
	struct vcard *card = vcard_load(state, err, sizeof(err));

	if (!card)
		fprintf(stderr, "p11unlock-vcard: %s\n", err);
	return card;
}

/* EXIT_SUCCESS, or EXIT_FAILURE after saying what failed. */
static int command_result(int rc, const char *what, const char *err)
{
	if (rc == 0)
		return EXIT_SUCCESS;
	fprintf(stderr, "p11unlock-vcard: %s: %s\n", what, err);
	return EXIT_FAILURE;
}

/* create */

enum {
	OPT_CARD_NUMBER = 256,
	OPT_HOLDER_DN,
	OPT_NOT_BEFORE,
	OPT_NOT_AFTER,
	OPT_PIN,
	OPT_USER_CODE,
	OPT_KEY_BITS,
	OPT_CARD_TYPE,
	OPT_CORRUPT_CERT_SLOT,
	OPT_VARIANT,
	OPT_PORT,
	OPT_HOST,
	OPT_T0,
	OPT_LATENCY,
	OPT_REMOVE_AFTER,
	OPT_SLOW_REMOVAL,
	OPT_LOG,
	OPT_NEW_USER_CODE
};

static int create_option(int opt, const char *arg, void *ctx)
{
	struct vcard_params *p = ctx;
	unsigned long bits;

	switch (opt) {
	case OPT_CARD_NUMBER:
		p->card_number = arg;
		break;
	case OPT_HOLDER_DN:
		p->holder_dn = arg;
		break;
	case OPT_NOT_BEFORE:
		p->not_before = arg;
		break;
	case OPT_NOT_AFTER:
		p->not_after = arg;
		break;
	case OPT_PIN:
		p->pin = arg;
		break;
	case OPT_USER_CODE:
		p->user_code = arg;
		break;
	case OPT_CARD_TYPE:
		p->card_type = arg;
		break;
	case OPT_KEY_BITS:
		if (!parse_number(arg, 65536, &bits) || bits == 0)
			return usage_error("--key-bits: not a number: %s", arg);
		p->key_bits = (int)bits;
		break;
	case OPT_VARIANT:
		if (strcmp(arg, "test") == 0)
			p->variant = VCARD_VARIANT_TEST;
		else if (strcmp(arg, "gen1") == 0)
			p->variant = VCARD_VARIANT_GEN1;
		else if (strcmp(arg, "gen2") == 0)
			p->variant = VCARD_VARIANT_GEN2;
		else
			return usage_error("--variant: not test, gen1 or gen2: %s", arg);
		break;
	case OPT_CORRUPT_CERT_SLOT: {
		/* In EF 08F2's slot order. */
		static const char *const slots[] = {"root", "issuing", "encryption", "signature"};
		size_t i = 0;

		while (i < sizeof(slots) / sizeof(slots[0]) && strcmp(arg, slots[i]) != 0)
			i++;
		if (i == sizeof(slots) / sizeof(slots[0]))
			return usage_error("--corrupt-cert-slot: not root, issuing, encryption or "
			                   "signature: %s",
			                   arg);
		p->junk_cert_slots |= 1u << i;
		break;
	}
	default:
		return usage_error("unexpected option");
	}
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"card-number", required_argument, NULL, OPT_CARD_NUMBER},
	    {"holder-dn", required_argument, NULL, OPT_HOLDER_DN},
	    {"not-before", required_argument, NULL, OPT_NOT_BEFORE},
	    {"not-after", required_argument, NULL, OPT_NOT_AFTER},
	    {"pin", required_argument, NULL, OPT_PIN},
	    {"user-code", required_argument, NULL, OPT_USER_CODE},
	    {"key-bits", required_argument, NULL, OPT_KEY_BITS},
	    {"card-type", required_argument, NULL, OPT_CARD_TYPE},
	    {"corrupt-cert-slot", required_argument, NULL, OPT_CORRUPT_CERT_SLOT},
	    {"variant", required_argument, NULL, OPT_VARIANT},
	    {NULL, 0, NULL, 0},
	};
	struct vcard_params params = {0};
	const char *state;
	char err[512];
	int rc;

	rc = parse_options(argc, argv, longopts, create_option, &params, &state, 1);
	if (rc != 0)
		return rc;
	if (vcard_create(state, &params, err, sizeof(err)) != 0) {
		fprintf(stderr, "p11unlock-vcard: create %s: %s\n", state, err);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

/* run */

struct run_opts {
	struct vcard_serve_opts serve;
	bool t0;
	const char *log_path;
};

static int run_option(int opt, const char *arg, void *ctx)
{
	struct run_opts *r = ctx;
	unsigned long v;

	switch (opt) {
	case OPT_HOST:
		r->serve.host = arg;
		break;
	case OPT_T0:
		r->t0 = true;
		break;
	case OPT_LOG:
		r->log_path = arg;
		break;
	case OPT_PORT:
		if (!parse_number(arg, 65535, &v) || v == 0)
			return usage_error("--port: not a port number (1-65535): %s", arg);
		r->serve.port = (int)v;
		break;
	case OPT_LATENCY:
		if (!parse_number(arg, 60000000, &v))
			return usage_error(
			    "--latency-us: not a number of microseconds (at most 60 s): %s", arg);
		r->serve.latency_us = (unsigned)v;
		break;
	case OPT_REMOVE_AFTER:
		if (!parse_number(arg, ULONG_MAX, &v) || v == 0)
			return usage_error("--remove-after: not a positive number: %s", arg);
		r->serve.remove_after = v;
		break;
	case OPT_SLOW_REMOVAL:
		if (!parse_number(arg, 60000, &v) || v == 0)
			return usage_error(
			    "--slow-removal: not a number of milliseconds (1-60000): %s", arg);
		r->serve.slow_removal_ms = (unsigned)v;
		break;
	default:
		return usage_error("unexpected option");
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"host", required_argument, NULL, OPT_HOST},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"t0", no_argument, NULL, OPT_T0},
	    {"latency-us", required_argument, NULL, OPT_LATENCY},
	    {"remove-after", required_argument, NULL, OPT_REMOVE_AFTER},
	    {"slow-removal", required_argument, NULL, OPT_SLOW_REMOVAL},
	    {"log", required_argument, NULL, OPT_LOG},
	    {NULL, 0, NULL, 0},
	};
	struct run_opts r;
	struct vcard *card;
	const char *state;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = parse_options(argc, argv, longopts, run_option, &r, &state, 1);
	if (rc != 0)
		return rc;
	card = load_card(state);
	if (!card)
		return EXIT_FAILURE;
	vcard_set_t0(card, r.t0);
	if (r.log_path) {
		r.serve.log = fopen(r.log_path, "a");
		if (!r.serve.log) {
			fprintf(stderr, "p11unlock-vcard: --log %s: %s\n", r.log_path,
			        strerror(errno));
			vcard_free(card);
			return EXIT_FAILURE;
		}
	}
	rc = vcard_serve(card, &r.serve) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	if (r.serve.log)
		fclose(r.serve.log);
	vcard_free(card);
	return rc;
}

/* status */

static int no_option(int opt, const char *arg, void *ctx)
{
	return usage_error("unexpected option");
}

static int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {{NULL, 0, NULL, 0}};
	struct vcard_status st;
	struct vcard *card;
	const char *state;
	int rc;

	rc = parse_options(argc, argv, longopts, no_option, NULL, &state, 1);
	if (rc != 0)
		return rc;
	card = load_card(state);
	if (!card)
		return EXIT_FAILURE;
	vcard_get_status(card, &st);
	vcard_free(card);
	printf("card_number=%s\n", st.card_number);
	printf("card_type=%s\n", st.card_type);
	printf("pin_tries=%d\n", st.pin_tries);
	printf("user_code_tries=%d\n", st.user_code_tries);
	printf("pin_blocked=%d\n", st.pin_tries == 0);
	printf("user_code_blocked=%d\n", st.user_code_tries == 0);
	if (st.variant != VCARD_VARIANT_TEST)
		printf("variant=%s\n", st.variant == VCARD_VARIANT_GEN1 ? "gen1" : "gen2");
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* reset-user-code */

static int reset_option(int opt, const char *arg, void *ctx)
{
	*(const char **)ctx = arg;
	return 0;
}

static int cmd_reset_user_code(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"new-user-code", required_argument, NULL, OPT_NEW_USER_CODE},
	    {NULL, 0, NULL, 0},
	};
	const char *state, *code = NULL;
	struct vcard *card;
	char err[512];
	int rc;

	rc = parse_options(argc, argv, longopts, reset_option, &code, &state, 1);
	if (rc != 0)
		return rc;
	if (!code)
		return usage_error("reset-user-code needs --new-user-code");
	card = load_card(state);
	if (!card)
		return EXIT_FAILURE;
	rc = vcard_reset_user_code(card, code, err, sizeof(err));
	vcard_free(card);
	return command_result(rc, "reset-user-code", err);
}

/* export */

static int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {{NULL, 0, NULL, 0}};
	const char *pos[2];
	struct vcard *card;
	char err[512];
	int rc;

	rc = parse_options(argc, argv, longopts, no_option, NULL, pos, 2);
	if (rc != 0)
		return rc;
	card = load_card(pos[0]);
	if (!card)
		return EXIT_FAILURE;
	rc = vcard_export(card, pos[1], err, sizeof(err));
	vcard_free(card);
	return command_result(rc, "export", err);
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
    {"create", cmd_create}, {"run", cmd_run},
    {"status", cmd_status}, {"reset-user-code", cmd_reset_user_code},
    {"export", cmd_export},
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("missing command");
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return EXIT_SUCCESS;
		}
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	return usage_error("unknown command: %s", argv[1]);
}

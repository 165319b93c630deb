/* In-process PKCS#11 call rates, for p11unlock's module and SoftHSM2 alike: loads MODULE, logs
 * in to the first slot with a token, and runs each call for SECONDS.  Prints numbers; asserts
 * nothing.
 *   bench/bench-calls rates MODULE SECONDS   one line per call: "NAME OPS_PER_S", then the
 *                                           resident memory: "rss_kb N" and "hwm_kb N"
 *   bench/bench-calls poll MODULE SECONDS    C_GetSessionInfo + C_GetSlotInfo every 10 ms, as NSS
 *                                           polls a token, while others sign: "polls N errors E
 *                                           worst_ms W" (the longest pair)
 *   bench/bench-calls sign MODULE SECONDS    sign in a loop (one process of a concurrent run):
 *                                           "signs N errors E worst_ms W start T0 end T1"
 *                                           (T0, T1: the signing window, wall-clock seconds)
 * The PIN comes from BENCH_PIN.  The objects used are the certificate and the private key with
 * CKA_ID "SIGN" (the card's signature key; SoftHSM2 holds a copy imported with that ID). */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST *f;
static CK_SLOT_ID slot;
static CK_SESSION_HANDLE session;
static CK_OBJECT_HANDLE key;
static const char id_sign[] = "SIGN";
static const char bench_data[] = "benchmark data\n";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(const char *what, CK_RV rv)
{
	if (rv != CKR_OK) {
		fprintf(stderr, "bench-calls: %s: CK_RV 0x%lx\n", what, (unsigned long)rv);
		exit(1);
	}
}

static CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls)
{
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                       {CKA_ID, (void *)id_sign, sizeof(id_sign) - 1}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;

	check("C_FindObjectsInit", f->C_FindObjectsInit(session, tmpl, 2));
	check("C_FindObjects", f->C_FindObjects(session, &h, 1, &n));
	check("C_FindObjectsFinal", f->C_FindObjectsFinal(session));
	if (n != 1) {
		fprintf(stderr, "bench-calls: no object with CKA_ID SIGN of class %lu\n",
		        (unsigned long)cls);
		exit(1);
	}
	return h;
}

static CK_RV sign_once(void)
{
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_BYTE sig[512];
	CK_ULONG sig_len = sizeof(sig);
	CK_RV rv = f->C_SignInit(session, &mech, key);

	if (rv != CKR_OK)
		return rv;
	return f->C_Sign(session, (CK_BYTE_PTR)bench_data, sizeof(bench_data) - 1, sig, &sig_len);
}

static void op_session_info(void)
{
	CK_SESSION_INFO info;
	check("C_GetSessionInfo", f->C_GetSessionInfo(session, &info));
}

static void op_slot_info(void)
{
	CK_SLOT_INFO info;
	check("C_GetSlotInfo", f->C_GetSlotInfo(slot, &info));
}

static void op_slot_list(void)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	check("C_GetSlotList", f->C_GetSlotList(CK_FALSE, slots, &n));
}

static void op_token_info(void)
{
	CK_TOKEN_INFO info;
	check("C_GetTokenInfo", f->C_GetTokenInfo(slot, &info));
}

static void op_find_value(void)
{
	CK_OBJECT_HANDLE cert = find(CKO_CERTIFICATE);
	CK_BYTE value[4096];
	CK_ATTRIBUTE attr = {CKA_VALUE, NULL, 0};

	check("C_GetAttributeValue (size)", f->C_GetAttributeValue(session, cert, &attr, 1));
	if (attr.ulValueLen > sizeof(value)) {
		fprintf(stderr, "bench-calls: certificate of %lu bytes\n",
		        (unsigned long)attr.ulValueLen);
		exit(1);
	}
	attr.pValue = value;
	check("C_GetAttributeValue", f->C_GetAttributeValue(session, cert, &attr, 1));
}

static void op_sign(void)
{
	check("C_Sign", sign_once());
}

/* The wall clock, to line up the signing windows of concurrent processes. */
static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs OP for about SECONDS (at least once) and prints its rate. */
static void rate(const char *name, void (*op)(void), double seconds)
{
	double t0 = now(), t;
	unsigned long n = 0;

	do {
		op();
		n++;
		t = now() - t0;
	} while (t < seconds);
	printf("%s %.1f\n", name, (double)n / t);
}

static void print_memory(void)
{
	FILE *st = fopen("/proc/self/status", "r");
	char line[256];

	if (st == NULL)
		return;
	while (fgets(line, sizeof(line), st)) {
		unsigned long kb;

		if (sscanf(line, "VmRSS: %lu", &kb) == 1)
			printf("rss_kb %lu\n", kb);
		else if (sscanf(line, "VmHWM: %lu", &kb) == 1)
			printf("hwm_kb %lu\n", kb);
	}
	fclose(st);
}

static void open_module(const char *path)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	const char *pin = getenv("BENCH_PIN");
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		fprintf(stderr, "bench-calls: %s\n", dlerror());
		exit(1);
	}
	*(void **)&get_list = dlsym(lib, "C_GetFunctionList");
	if (get_list == NULL || pin == NULL) {
		fprintf(stderr, "bench-calls: no C_GetFunctionList, or BENCH_PIN unset\n");
		exit(1);
	}
	check("C_GetFunctionList", get_list(&f));
	check("C_Initialize", f->C_Initialize(NULL));
	check("C_GetSlotList", f->C_GetSlotList(CK_TRUE, slots, &n));
	if (n == 0) {
		fprintf(stderr, "bench-calls: no token\n");
		exit(1);
	}
	slot = slots[0];
	check("C_OpenSession", f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session));
	check("C_Login", f->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	key = find(CKO_PRIVATE_KEY);
}

int main(int argc, char **argv)
{
	double seconds = argc == 4 ? atof(argv[3]) : 0;

	if (argc != 4 || seconds <= 0 ||
	    (strcmp(argv[1], "rates") && strcmp(argv[1], "sign") && strcmp(argv[1], "poll"))) {
		fprintf(stderr, "usage: bench-calls rates|sign|poll MODULE SECONDS\n");
		return 2;
	}
	open_module(argv[2]);
	if (strcmp(argv[1], "rates") == 0) {
		rate("C_GetSessionInfo", op_session_info, seconds);
		rate("C_GetSlotInfo", op_slot_info, seconds);
		rate("C_GetSlotList", op_slot_list, seconds);
		rate("C_GetTokenInfo", op_token_info, seconds);
		rate("find+CKA_VALUE", op_find_value, seconds);
		rate("sign", op_sign, seconds);
		print_memory();
	} else if (strcmp(argv[1], "poll") == 0) {
		unsigned long polls = 0, errors = 0;
		double worst = 0, t0 = now();
		const struct timespec pause = {0, 10 * 1000 * 1000};

		while (now() - t0 < seconds) {
			CK_SESSION_INFO si;
			CK_SLOT_INFO sl;
			double t1 = now();

			if (f->C_GetSessionInfo(session, &si) != CKR_OK ||
			    f->C_GetSlotInfo(slot, &sl) != CKR_OK)
				errors++;
			polls++;
			if (now() - t1 > worst)
				worst = now() - t1;
			nanosleep(&pause, NULL);
		}
		printf("polls %lu errors %lu worst_ms %.1f\n", polls, errors, worst * 1000);
	} else {
		unsigned long signs = 0, errors = 0;
		double worst = 0, t0 = now(), wall0 = wall();

		while (now() - t0 < seconds) {
			double t1 = now();
			CK_RV rv = sign_once();

			if (now() - t1 > worst)
				worst = now() - t1;
			if (rv == CKR_OK)
				signs++;
			else
				errors++;
		}
		printf("signs %lu errors %lu worst_ms %.1f start %.6f end %.6f\n", signs, errors,
		       worst * 1000, wall0, wall0 + (now() - t0));
	}
	f->C_Logout(session);
	f->C_CloseSession(session);
	f->C_Finalize(NULL);
	return 0;
}

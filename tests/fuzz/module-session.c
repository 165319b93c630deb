/* The application side of fuzz-module (see module-session.h): what a PKCS#11 application and
 * the p11unlock tool ask of the module, in one fixed order, so that the card script alone
 * decides the path.  Results are not expected to succeed; what is checked is what must hold
 * whatever the card answers: no internal error, no transaction left open, text the module
 * shows is sanitized UTF-8, lengths within what was asked. */
#include "config.h"

#include "module-session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "common/log.h"
#include "common/text.h"
#include "fake-reader.h"
#include "p11unlock/p11unlock.h"
#include "pkcs11/pkcs11-compat.h"

#define MAX_SLOTS      8
#define MAX_OBJECTS    32
#define ATTR_VALUE_MAX (64 * 1024)
#define RANDOM_LEN     300 /* two GET CHALLENGE commands */

static const char wrong_pin[] = "000000";
static const char new_pin_1[] = "654321"; /* set through the user-code token */
static const char new_pin_2[] = "111111"; /* set by the SO (C_InitPIN) */

/* Every attribute the module's objects have (src/pkcs11/object.c), and two nobody has. */
static const CK_ATTRIBUTE_TYPE attribute_types[] = {
    CKA_CLASS,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_LABEL,
    CKA_APPLICATION,
    CKA_VALUE,
    CKA_OBJECT_ID,
    CKA_CERTIFICATE_TYPE,
    CKA_ISSUER,
    CKA_SERIAL_NUMBER,
    CKA_TRUSTED,
    CKA_CERTIFICATE_CATEGORY,
    CKA_JAVA_MIDP_SECURITY_DOMAIN,
    CKA_URL,
    CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
    CKA_HASH_OF_ISSUER_PUBLIC_KEY,
    CKA_CHECK_VALUE,
    CKA_KEY_TYPE,
    CKA_SUBJECT,
    CKA_ID,
    CKA_SENSITIVE,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_SIGN,
    CKA_SIGN_RECOVER,
    CKA_VERIFY,
    CKA_VERIFY_RECOVER,
    CKA_DERIVE,
    CKA_START_DATE,
    CKA_END_DATE,
    CKA_MODULUS,
    CKA_MODULUS_BITS,
    CKA_PUBLIC_EXPONENT,
    CKA_PRIVATE_EXPONENT,
    CKA_PRIME_1,
    CKA_PRIME_2,
    CKA_EXPONENT_1,
    CKA_EXPONENT_2,
    CKA_COEFFICIENT,
    CKA_PUBLIC_KEY_INFO,
    CKA_EXTRACTABLE,
    CKA_LOCAL,
    CKA_NEVER_EXTRACTABLE,
    CKA_ALWAYS_SENSITIVE,
    CKA_KEY_GEN_MECHANISM,
    CKA_MODIFIABLE,
    CKA_COPYABLE,
    CKA_DESTROYABLE,
    CKA_ALWAYS_AUTHENTICATE,
    CKA_WRAP_WITH_TRUSTED,
    CKA_VENDOR_DEFINED | 0x7075,
    0x0FFFFFFFUL,
};
#define N_ATTRIBUTE_TYPES (sizeof attribute_types / sizeof attribute_types[0])

/* SHA-256 DigestInfo of nothing in particular: what C_Sign(CKM_RSA_PKCS) signs. */
static const CK_BYTE digest_info[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
    0x02, 0x01, 0x05, 0x00, 0x04, 0x20, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
    0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};
static const char message[] = "p11unlock fuzzing: sign and decrypt this";

static char log_buf[1024 * 1024];
static FILE *log_stream;

void module_session_setup(void)
{
	/* hicos_login: first-generation cards get their login, signing and decryption (a tree
	 * without them warns once about the unknown key).  No cache: a run must not depend on
	 * what an earlier input left in the user's cache directory. */
	static const char config[] = "allow_test_cards = yes\n"
	                             "user_code_token = yes\n"
	                             "opensc_unblock_styles = yes\n"
	                             "hicos_login = yes\n"
	                             "cache = no\n";
	char path[64];
	int fd;

	/* A memory file: nothing is left behind however the fuzzer exits. */
	fd = memfd_create("p11unlock-fuzz.conf", 0);
	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	FUZZ_CHECK(write(fd, config, sizeof config - 1) == (ssize_t)(sizeof config - 1),
	           "cannot write the configuration");
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	setenv("P11UNLOCK_CONF", path, 1);

	/* FUZZ_LOG=1 keeps the module's log on stderr, to follow a reproduced finding. */
	if (getenv("FUZZ_LOG") != NULL) {
		setenv("P11UNLOCK_DEBUG", "all", 1);
		p11u_log_reinit();
		return;
	}
	setenv("P11UNLOCK_DEBUG", "all", 1);
	p11u_log_reinit();
	log_stream = fmemopen(log_buf, sizeof log_buf, "w");
	FUZZ_CHECK(log_stream != NULL, "fmemopen failed");
	p11u_log_set_stream(log_stream);
}

/* ---- checks that hold whatever the card answers ---------------------------------------- */

static bool unsafe_code_point(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* A text field the module shows an application: valid UTF-8 without controls or bidi marks. */
static void check_text(const CK_UTF8CHAR *field, size_t size, const char *what)
{
	size_t i = 0;

	while (i < size) {
		uint32_t cp = 0;
		size_t n = p11u_utf8_decode(field + i, size - i, &cp);

		FUZZ_CHECK(n > 0, "%s: invalid UTF-8 at byte %zu", what, i);
		FUZZ_CHECK(!unsafe_code_point(cp), "%s: code point U+%04X at byte %zu", what,
		           (unsigned)cp, i);
		i += n;
	}
}

/* A secret as the APDU trace would show it unmasked: "31 32 33 ...". */
static void secret_hex(const char *secret, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (const char *p = secret; *p != '\0' && n + 4 <= size; p++)
		n += (size_t)snprintf(out + n, size - n, "%s%02X", p == secret ? "" : " ",
		                      (unsigned char)*p);
}

/* No PIN or user code in a command line of the APDU trace: the card layer masks their data. */
static void check_log(void)
{
	static const char *const secrets[] = {MODULE_SESSION_PIN, MODULE_SESSION_USER_CODE,
	                                      wrong_pin, new_pin_1, new_pin_2};
	static const char command[] = "p11unlock[apdu]: > ";
	char hex[sizeof secrets / sizeof secrets[0]][64];
	char *line, *end;
	long len;

	if (log_stream == NULL)
		return;
	fflush(log_stream);
	len = ftell(log_stream);
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		secret_hex(secrets[i], hex[i], sizeof hex[i]);
	for (line = log_buf; len > 0 && line < log_buf + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(log_buf + len - line));
		if (end == NULL)
			break;
		*end = '\0';
		if (strncmp(line, command, sizeof command - 1) != 0)
			continue;
		for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
			FUZZ_CHECK(strstr(line, hex[i]) == NULL, "a secret in the APDU trace: %s",
			           line);
	}
}

/* After every call: no internal error whatever the card said, and the card free for others. */
static CK_RV done(const char *call, CK_RV rv)
{
	FUZZ_CHECK(rv != CKR_GENERAL_ERROR && rv != CKR_HOST_MEMORY, "%s returned 0x%lx", call,
	           (unsigned long)rv);
	fake_reader_check_idle(call);
	return rv;
}

/* ---- slots and tokens -------------------------------------------------------------------- */

static CK_ULONG slot_list(CK_BBOOL present, CK_SLOT_ID *slots)
{
	CK_ULONG n = 0;

	if (done("C_GetSlotList", C_GetSlotList(present, NULL, &n)) != CKR_OK)
		return 0;
	FUZZ_CHECK(n <= MAX_SLOTS, "%lu slots for one reader", (unsigned long)n);
	if (done("C_GetSlotList", C_GetSlotList(present, slots, &n)) != CKR_OK)
		return 0;
	return n;
}

static void slot_and_token_info(CK_SLOT_ID slot)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_MECHANISM_TYPE mechs[64];
	CK_ULONG n = 0;

	if (done("C_GetSlotInfo", C_GetSlotInfo(slot, &si)) == CKR_OK) {
		check_text(si.slotDescription, sizeof si.slotDescription, "slotDescription");
		check_text(si.manufacturerID, sizeof si.manufacturerID, "slot manufacturerID");
	}
	if (done("C_GetTokenInfo", C_GetTokenInfo(slot, &ti)) == CKR_OK) {
		check_text(ti.label, sizeof ti.label, "token label");
		check_text(ti.manufacturerID, sizeof ti.manufacturerID, "token manufacturerID");
		check_text(ti.model, sizeof ti.model, "token model");
		check_text(ti.serialNumber, sizeof ti.serialNumber, "token serialNumber");
	}
	if (done("C_GetMechanismList", C_GetMechanismList(slot, NULL, &n)) != CKR_OK)
		return;
	FUZZ_CHECK(n <= 64, "%lu mechanisms", (unsigned long)n);
	if (done("C_GetMechanismList", C_GetMechanismList(slot, mechs, &n)) != CKR_OK)
		return;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_MECHANISM_INFO mi;

		done("C_GetMechanismInfo", C_GetMechanismInfo(slot, mechs[i], &mi));
	}
}

static const P11UNLOCK_FUNCTION_LIST *vendor_functions(void)
{
	CK_VERSION version = {P11UNLOCK_VERSION_MAJOR, P11UNLOCK_VERSION_MINOR};
	CK_INTERFACE *iface = NULL;

	if (C_GetInterface((CK_UTF8CHAR_PTR)P11UNLOCK_INTERFACE_NAME, &version, &iface, 0) !=
	    CKR_OK)
		fuzz_fail("no vendor interface");
	return iface->pFunctionList;
}

static void vendor_info(const P11UNLOCK_FUNCTION_LIST *vendor, CK_SLOT_ID slot)
{
	P11UNLOCK_CARD_INFO info;
	CK_ULONG pin = 99, user_code = 99;

	if (done("P11U_GetCardInfo", vendor->P11U_GetCardInfo(slot, &info)) == CKR_OK) {
		FUZZ_CHECK(memchr(info.card_number, 0, sizeof info.card_number) != NULL,
		           "card number not terminated");
		FUZZ_CHECK(memchr(info.card_type, 0, sizeof info.card_type) != NULL,
		           "card type not terminated");
	}
	if (done("P11U_GetTriesLeft", vendor->P11U_GetTriesLeft(slot, &pin, &user_code)) == CKR_OK)
		FUZZ_CHECK(pin <= 3 && user_code <= 3, "tries left %lu and %lu", (unsigned long)pin,
		           (unsigned long)user_code);
}

/* ---- objects ----------------------------------------------------------------------------- */

static CK_ULONG find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG count,
                     CK_OBJECT_HANDLE *found, CK_ULONG max)
{
	CK_ULONG n = 0, got;
	CK_RV rv;

	if (done("C_FindObjectsInit", C_FindObjectsInit(s, tmpl, count)) != CKR_OK)
		return 0;
	do {
		got = 0;
		/* A few at a time: the search continues across calls. */
		rv = done("C_FindObjects",
		          C_FindObjects(s, found + n, max - n < 3 ? max - n : 3, &got));
		FUZZ_CHECK(got <= 3, "C_FindObjects returned %lu for 3", (unsigned long)got);
		n += got;
	} while (rv == CKR_OK && got > 0 && n < max);
	done("C_FindObjectsFinal", C_FindObjectsFinal(s));
	return n;
}

static CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *id)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof cls},
	    {CKA_ID, (void *)id, strlen(id)},
	};
	CK_OBJECT_HANDLE key;

	return find(s, tmpl, 2, &key, 1) == 1 ? key : CK_INVALID_HANDLE;
}

/* One attribute: the size, then the value into a buffer of exactly that size. */
static void read_attribute(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type)
{
	CK_ATTRIBUTE attr = {type, NULL, 0};
	CK_ULONG size;

	if (done("C_GetAttributeValue", C_GetAttributeValue(s, obj, &attr, 1)) != CKR_OK ||
	    attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return;
	size = attr.ulValueLen;
	FUZZ_CHECK(size <= ATTR_VALUE_MAX, "attribute 0x%lx of %lu bytes", (unsigned long)type,
	           (unsigned long)size);
	attr.pValue = malloc(size > 0 ? size : 1);
	FUZZ_CHECK(attr.pValue != NULL, "out of memory");
	if (done("C_GetAttributeValue", C_GetAttributeValue(s, obj, &attr, 1)) == CKR_OK)
		FUZZ_CHECK(attr.ulValueLen <= size, "attribute 0x%lx: %lu bytes written into %lu",
		           (unsigned long)type, (unsigned long)attr.ulValueLen,
		           (unsigned long)size);
	free(attr.pValue);
}

/* Every attribute at once: the sizes, then the values into buffers of exactly those sizes. */
static void read_attributes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
	CK_ATTRIBUTE tmpl[N_ATTRIBUTE_TYPES];
	CK_ULONG sizes[N_ATTRIBUTE_TYPES];
	CK_RV rv;

	for (size_t t = 0; t < N_ATTRIBUTE_TYPES; t++)
		tmpl[t] = (CK_ATTRIBUTE){attribute_types[t], NULL, 0};
	rv = done("C_GetAttributeValue", C_GetAttributeValue(s, obj, tmpl, N_ATTRIBUTE_TYPES));
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID)
		return;
	for (size_t t = 0; t < N_ATTRIBUTE_TYPES; t++) {
		sizes[t] = tmpl[t].ulValueLen;
		if (sizes[t] == CK_UNAVAILABLE_INFORMATION)
			continue;
		FUZZ_CHECK(sizes[t] <= ATTR_VALUE_MAX, "attribute 0x%lx of %lu bytes",
		           (unsigned long)tmpl[t].type, (unsigned long)sizes[t]);
		tmpl[t].pValue = malloc(sizes[t] > 0 ? sizes[t] : 1);
		FUZZ_CHECK(tmpl[t].pValue != NULL, "out of memory");
	}
	done("C_GetAttributeValue", C_GetAttributeValue(s, obj, tmpl, N_ATTRIBUTE_TYPES));
	for (size_t t = 0; t < N_ATTRIBUTE_TYPES; t++) {
		if (tmpl[t].pValue != NULL && tmpl[t].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			FUZZ_CHECK(tmpl[t].ulValueLen <= sizes[t],
			           "attribute 0x%lx: %lu bytes written into %lu",
			           (unsigned long)tmpl[t].type, (unsigned long)tmpl[t].ulValueLen,
			           (unsigned long)sizes[t]);
		free(tmpl[t].pValue);
	}
}

/* Every object the session sees: every attribute, and CKA_VALUE alone (the status object's is
 * read from the card). */
static void read_objects(CK_SESSION_HANDLE s)
{
	CK_OBJECT_HANDLE found[MAX_OBJECTS];
	CK_ULONG n = find(s, NULL, 0, found, MAX_OBJECTS);

	for (CK_ULONG i = 0; i < n; i++) {
		CK_ULONG size;

		done("C_GetObjectSize", C_GetObjectSize(s, found[i], &size));
		read_attributes(s, found[i]);
		read_attribute(s, found[i], CKA_VALUE);
	}
}

/* ---- key operations ---------------------------------------------------------------------- */

/* C_Sign, C_Encrypt, C_Decrypt. */
typedef CK_RV (*single_part_fn)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR,
                                CK_ULONG_PTR);

/* A size query, then the call itself into a buffer of that size. */
static CK_BYTE *sized_output(const char *call, single_part_fn fn, CK_SESSION_HANDLE s,
                             const CK_BYTE *in, CK_ULONG in_len, CK_ULONG *out_len)
{
	CK_ULONG size = 0;
	CK_BYTE *out;

	*out_len = 0;
	if (done(call, fn(s, (CK_BYTE_PTR)in, in_len, NULL, &size)) != CKR_OK)
		return NULL;
	FUZZ_CHECK(size > 0 && size <= 4096, "%s: output of %lu bytes", call, (unsigned long)size);
	out = malloc(size);
	FUZZ_CHECK(out != NULL, "out of memory");
	*out_len = size;
	if (done(call, fn(s, (CK_BYTE_PTR)in, in_len, out, out_len)) != CKR_OK) {
		free(out);
		return NULL;
	}
	FUZZ_CHECK(*out_len <= size, "%s: %lu bytes written into %lu", call,
	           (unsigned long)*out_len, (unsigned long)size);
	return out;
}

static void sign(CK_SESSION_HANDLE s, CK_MECHANISM mech, const CK_BYTE *data, CK_ULONG len)
{
	CK_OBJECT_HANDLE key = find_key(s, CKO_PRIVATE_KEY, "SIGN");
	CK_OBJECT_HANDLE pub = find_key(s, CKO_PUBLIC_KEY, "SIGN");
	CK_BYTE *sig;
	CK_ULONG sig_len;

	if (key == CK_INVALID_HANDLE || done("C_SignInit", C_SignInit(s, &mech, key)) != CKR_OK)
		return;
	sig = sized_output("C_Sign", C_Sign, s, data, len, &sig_len);
	if (sig != NULL && pub != CK_INVALID_HANDLE &&
	    done("C_VerifyInit", C_VerifyInit(s, &mech, pub)) == CKR_OK)
		done("C_Verify", C_Verify(s, (CK_BYTE_PTR)data, len, sig, sig_len));
	free(sig);
}

/* C_SignUpdate + C_SignFinal (the card signs at the final step). */
static void sign_parts(CK_SESSION_HANDLE s)
{
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_OBJECT_HANDLE key = find_key(s, CKO_PRIVATE_KEY, "SIGN");
	CK_BYTE sig[1024];
	CK_ULONG sig_len = sizeof sig;

	if (key == CK_INVALID_HANDLE || done("C_SignInit", C_SignInit(s, &mech, key)) != CKR_OK)
		return;
	/* The message in parts of 10 bytes. */
	for (size_t at = 0; at < sizeof message - 1; at += 10) {
		size_t n = sizeof message - 1 - at < 10 ? sizeof message - 1 - at : 10;

		if (done("C_SignUpdate", C_SignUpdate(s, (CK_BYTE_PTR)message + at, n)) != CKR_OK)
			return;
	}
	if (done("C_SignFinal", C_SignFinal(s, sig, &sig_len)) == CKR_OK)
		FUZZ_CHECK(sig_len <= sizeof sig, "C_SignFinal wrote %lu bytes",
		           (unsigned long)sig_len);
}

/* Encrypt in software with the public key, decrypt on the card (OAEP and X.509: raw on the
 * card, the card's answer decoded by the module). */
static void decrypt(CK_SESSION_HANDLE s, CK_MECHANISM mech)
{
	CK_OBJECT_HANDLE pub = find_key(s, CKO_PUBLIC_KEY, "KEYX");
	CK_OBJECT_HANDLE key = find_key(s, CKO_PRIVATE_KEY, "KEYX");
	CK_BYTE *cipher = NULL, *plain;
	CK_ULONG cipher_len = 0, plain_len;

	if (pub != CK_INVALID_HANDLE &&
	    done("C_EncryptInit", C_EncryptInit(s, &mech, pub)) == CKR_OK)
		cipher = sized_output("C_Encrypt", C_Encrypt, s, (const CK_BYTE *)message,
		                      sizeof message - 1, &cipher_len);
	if (cipher != NULL && key != CK_INVALID_HANDLE &&
	    done("C_DecryptInit", C_DecryptInit(s, &mech, key)) == CKR_OK) {
		plain = sized_output("C_Decrypt", C_Decrypt, s, cipher, cipher_len, &plain_len);
		free(plain);
	}
	free(cipher);
}

static void random_bytes(CK_SESSION_HANDLE s)
{
	CK_BYTE buf[RANDOM_LEN];

	done("C_GenerateRandom", C_GenerateRandom(s, buf, sizeof buf));
}

/* ---- logins and the unlock --------------------------------------------------------------- */

static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE user, const char *secret)
{
	return done("C_Login", C_Login(s, user, (CK_UTF8CHAR_PTR)secret, strlen(secret)));
}

static CK_RV set_pin(CK_SESSION_HANDLE s, const char *old_pin, const char *new_pin)
{
	return done("C_SetPIN",
	            C_SetPIN(s, (CK_UTF8CHAR_PTR)old_pin, old_pin != NULL ? strlen(old_pin) : 0,
	                     (CK_UTF8CHAR_PTR)new_pin, strlen(new_pin)));
}

static void logout(CK_SESSION_HANDLE s)
{
	done("C_Logout", C_Logout(s));
}

/* The user's work: objects with the private keys, signatures, decryption, random bytes. */
static void user_work(CK_SESSION_HANDLE s)
{
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	const CK_BYTE *msg = (const CK_BYTE *)message;

	if (login(s, CKU_USER, MODULE_SESSION_PIN) != CKR_OK)
		return;
	read_objects(s);
	sign(s, (CK_MECHANISM){CKM_RSA_PKCS, NULL, 0}, digest_info, sizeof digest_info);
	sign(s, (CK_MECHANISM){CKM_SHA256_RSA_PKCS, NULL, 0}, msg, sizeof message - 1);
	sign(s, (CK_MECHANISM){CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof pss}, msg, sizeof message - 1);
	sign_parts(s);
	decrypt(s, (CK_MECHANISM){CKM_RSA_PKCS, NULL, 0});
	decrypt(s, (CK_MECHANISM){CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep});
	decrypt(s, (CK_MECHANISM){CKM_RSA_X_509, NULL, 0});
	random_bytes(s);
	logout(s);
}

/* Firefox's Change Password on the user-code token of a locked card. */
static void user_code_token(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s;

	slot_and_token_info(slot);
	if (done("C_OpenSession", C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
	                                        NULL, &s)) != CKR_OK)
		return;
	if (login(s, CKU_USER, MODULE_SESSION_USER_CODE) == CKR_OK) {
		fake_reader_guard_last_try(true);
		set_pin(s, MODULE_SESSION_USER_CODE, new_pin_1);
		fake_reader_guard_last_try(false);
		logout(s);
	}
	done("C_CloseSession", C_CloseSession(s));
}

/* The p11unlock tool's paths: P11U_Login with the count the holder saw. */
static void vendor_logins(const P11UNLOCK_FUNCTION_LIST *vendor, CK_SESSION_HANDLE s)
{
	CK_ULONG now = 99;

	if (done("P11U_Login", vendor->P11U_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)MODULE_SESSION_PIN,
	                                          strlen(MODULE_SESSION_PIN), 3, &now)) == CKR_OK)
		logout(s);
	FUZZ_CHECK(now == 99 || now <= 3, "P11U_Login: %lu tries now", (unsigned long)now);
	now = 99;
	if (done("P11U_Login",
	         vendor->P11U_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)MODULE_SESSION_USER_CODE,
	                            strlen(MODULE_SESSION_USER_CODE), 3, &now)) == CKR_OK)
		logout(s);
	FUZZ_CHECK(now == 99 || now <= 3, "P11U_Login: %lu tries now", (unsigned long)now);
}

static void card_session(const P11UNLOCK_FUNCTION_LIST *vendor, CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s;

	if (done("C_OpenSession", C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
	                                        NULL, &s)) != CKR_OK)
		return;
	read_objects(s);
	user_work(s);

	/* Wrong PINs until the card says it is locked: the user-code token appears. */
	for (int i = 0; i < 3 && login(s, CKU_USER, wrong_pin) == CKR_PIN_INCORRECT; i++)
		;
	login(s, CKU_USER, MODULE_SESSION_PIN); /* the right PIN, too late: blocked */
	user_code_token(slot + 1);

	/* The unlock extension: SO login with the user code, then a new PIN. */
	if (login(s, CKU_SO, MODULE_SESSION_USER_CODE) == CKR_OK) {
		done("C_InitPIN", C_InitPIN(s, (CK_UTF8CHAR_PTR)new_pin_2, strlen(new_pin_2)));
		logout(s);
	}
	/* A PIN change by its holder. */
	if (login(s, CKU_USER, new_pin_2) == CKR_OK) {
		set_pin(s, new_pin_2, MODULE_SESSION_PIN);
		logout(s);
	}
	vendor_logins(vendor, s);

	/* OpenSC's two unblocking styles (opensc_unblock_styles): never the last try either. */
	fake_reader_guard_last_try(true);
	if (login(s, CKU_CONTEXT_SPECIFIC, MODULE_SESSION_USER_CODE) == CKR_OK)
		set_pin(s, NULL, MODULE_SESSION_PIN);
	set_pin(s, MODULE_SESSION_USER_CODE, MODULE_SESSION_PIN);
	fake_reader_guard_last_try(false);

	vendor_info(vendor, slot);
	done("C_CloseSession", C_CloseSession(s));
}

void module_session_run(struct fuzz_script *script)
{
	const P11UNLOCK_FUNCTION_LIST *vendor = vendor_functions();
	CK_SLOT_ID slots[MAX_SLOTS];
	CK_ULONG n;
	CK_INFO info;

	fake_reader_start(script);
	if (log_stream != NULL)
		rewind(log_stream);
	FUZZ_CHECK(C_Initialize(NULL) == CKR_OK, "C_Initialize failed");
	done("C_GetInfo", C_GetInfo(&info));

	n = slot_list(CK_FALSE, slots);
	for (CK_ULONG i = 0; i < n; i++) {
		slot_and_token_info(slots[i]);
		vendor_info(vendor, slots[i]);
	}
	slot_list(CK_TRUE, slots);
	if (n > 0)
		card_session(vendor, slots[0]);
	n = slot_list(CK_FALSE, slots);
	for (CK_ULONG i = 0; i < n; i++)
		slot_and_token_info(slots[i]);

	for (int i = 0; i < 8; i++) {
		CK_SLOT_ID slot;

		if (done("C_WaitForSlotEvent", C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL)) !=
		    CKR_OK)
			break;
	}
	if (n > 0) {
		done("C_CloseAllSessions", C_CloseAllSessions(slots[0]));
		done("C_CloseAllSessions", C_CloseAllSessions(slots[0] + 1));
	}
	FUZZ_CHECK(C_Finalize(NULL) == CKR_OK, "C_Finalize failed");
	fake_reader_finish();
	check_log();
}

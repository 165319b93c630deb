/* p11-script: a small PKCS#11 test client driven by a script on stdin.
 *
 *   p11-script MODULE.so < commands
 *
 * It loads MODULE with dlopen, reads one command per line and prints one line per command:
 *
 *   login so env:UC -> CKR_PIN_INCORRECT
 *
 * so that shell tests can drive exact call sequences (the way NSS or Firefox does) and stop
 * between two calls while the test removes, resets or locks a card.  Empty lines and lines
 * starting with '#' are skipped.  Words are separated by blanks; "double quotes" keep blanks.
 * Secrets are never written in the script: `env:VAR` names an environment variable; `empty`
 * is a zero-length secret and `null` a NULL pointer (length 0).
 *
 * Commands (SLOT is a slot ID; results are CKR names, then details):
 *   init [null]                 C_Initialize (CKF_OS_LOCKING_OK; `null`: NULL arguments)
 *   finalize                    C_Finalize
 *   info                        C_GetInfo: cryptoki version, manufacturer, description
 *   slots [present]             C_GetSlotList: the slot IDs
 *   slot-info SLOT              C_GetSlotInfo: flags by name, description
 *   token-info SLOT             C_GetTokenInfo: label, model, serial, flags by name
 *   open SLOT ro|rw [NAME]      C_OpenSession; the new session becomes the current one
 *   use NAME                    make session NAME current
 *   close                       C_CloseSession of the current session
 *   close-all SLOT              C_CloseAllSessions
 *   session-info                C_GetSessionInfo: slot, state, flags
 *   login user|so|context SECRET    C_Login
 *   logout                      C_Logout
 *   seed-random                 C_SeedRandom with 8 bytes, current session
 *   initpin SECRET              C_InitPIN
 *   setpin OLD NEW              C_SetPIN
 *   find [class=C] [label=L] [id=I] [application=A]
 *                               C_FindObjects*: how many (the handles are kept for getattr
 *                               and sign); C = data, certificate, public-key, private-key
 *   getattr ATTR [INDEX]        C_GetAttributeValue of found object INDEX (default 0):
 *                               ATTR = label, value, id, application, class
 *   sign MECH [ID]              C_SignInit + C_Sign of fixed data with the private key whose
 *                               CKA_ID is ID (found first), or the first found object;
 *                               MECH = rsa-pkcs, sha256-rsa-pkcs
 *   wait-event [dont-block]     C_WaitForSlotEvent
 *   wait-event-thread [N]       C_WaitForSlotEvent (blocking) in N new threads (default 1, at
 *                               most 8)
 *   join [MS]                   the results of those threads, waiting at most MS (default
 *                               10000) for all of them
 *   bg COMMAND [ARGS]           COMMAND in a thread of its own (one at a time; it must not
 *                               change the current session or the found objects)
 *   bg-join [MS]                its result, waiting at most MS (default 30000)
 *   within MS COMMAND [ARGS]    COMMAND, then "(within MS ms)" when it returned within MS
 *                               milliseconds, else "(took T ms)": a bound far above a call's
 *                               own time, catching calls that wait for another card or thread
 *   interfaces                  C_GetInterfaceList: names and versions
 *   get-interface NAME|- MAJOR|- MINOR|-
 *                               C_GetInterface (`-`: NULL); a "PKCS 11" interface becomes the
 *                               function list used from then on
 *   function-list               go back to C_GetFunctionList's list
 *   v3-calls                    through the current list, which must be a 3.0 one: its
 *                               C_GetInterfaceList, C_GetInterface, and 3.0-only functions
 *                               (C_LoginUser, C_SessionCancel, the first and last message
 *                               functions) with the current session
 *   vendor-tries SLOT           P11U_GetTriesLeft ("Vendor P11UNLOCK" 1.2)
 *   vendor-info SLOT            P11U_GetCardInfo
 *   vendor-number SLOT          P11U_GetCardNumber (1.2)
 *   vendor-login user|so SECRET SEEN
 *                               P11U_Login with the current session: the VERIFY only when the
 *                               card's counter is SEEN; prints tries_now
 *   fork-check                  fork; the child calls C_GetInfo and C_GetSessionInfo (current
 *                               session) without C_Initialize, then C_Initialize,
 *                               C_GetSlotList and C_Finalize; prints the child's results
 *   pause FILE [MS]             create FILE.waiting, then wait until FILE exists (at most MS,
 *                               default 60000)
 *   sleep MS                    sleep
 *
 * Exit status: 0 when every line was understood (whatever the module returned), 1 on a
 * malformed script or a module that cannot be loaded, 2 on a usage error. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "p11unlock/p11unlock.h"
#include "pkcs11/errors.h"

#define LINE_MAX_LEN   1024
#define WORDS_MAX      16
#define SESSIONS_MAX   32
#define FOUND_MAX      64
#define RESULT_MAX     2048
#define SECRET_MAX     256
#define ATTR_VALUE_MAX 8192

typedef CK_RV (*get_interface_list_fn)(P11UNLOCK_INTERFACE *list, CK_ULONG *count);

/* PKCS#11 3.0's CK_FUNCTION_LIST_3_0 (the 2.40 header has none): the 2.40 list, then the 3.0
 * functions in specification order.  Only those called here have their types; the others
 * keep their places. */
typedef CK_RV (*login_user_fn)(CK_SESSION_HANDLE session, CK_USER_TYPE user_type,
                               CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_UTF8CHAR_PTR username,
                               CK_ULONG username_len);
typedef CK_RV (*session_cancel_fn)(CK_SESSION_HANDLE session, CK_FLAGS flags);
typedef CK_RV (*message_init_fn)(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism,
                                 CK_OBJECT_HANDLE key);
typedef CK_RV (*message_final_fn)(CK_SESSION_HANDLE session);

struct function_list_3_0 {
	CK_FUNCTION_LIST v2;
	get_interface_list_fn C_GetInterfaceList;
	P11UNLOCK_C_GetInterface C_GetInterface;
	login_user_fn C_LoginUser;
	session_cancel_fn C_SessionCancel;
	message_init_fn C_MessageEncryptInit;
	void *message_functions[18]; /* C_EncryptMessage ... C_VerifyMessageNext */
	message_final_fn C_MessageVerifyFinal;
};
_Static_assert(offsetof(struct function_list_3_0, C_GetInterfaceList) == sizeof(CK_FUNCTION_LIST),
               "the 3.0 functions follow the 2.40 list");
_Static_assert(sizeof(struct function_list_3_0) == sizeof(CK_FUNCTION_LIST) + 24 * sizeof(void *),
               "PKCS#11 3.0 adds 24 functions");

struct named_session {
	char name[32];
	CK_SESSION_HANDLE handle;
};

/* The blocking C_WaitForSlotEvent of wait-event-thread. */
/* Threads blocked in C_WaitForSlotEvent at once. */
#define WAITERS_MAX 8

struct wait_thread {
	pthread_t thread;
	bool started;
	atomic_bool done;
	CK_FUNCTION_LIST_PTR p;
	CK_RV rv;
	CK_SLOT_ID slot;
};

struct script {
	void *module;
	CK_FUNCTION_LIST_PTR p;        /* the list calls go through */
	CK_FUNCTION_LIST_PTR standard; /* C_GetFunctionList's */
	P11UNLOCK_C_GetInterface get_interface;
	get_interface_list_fn get_interface_list;

	struct named_session sessions[SESSIONS_MAX];
	size_t n_sessions;
	size_t current; /* index into sessions; none when >= n_sessions */

	CK_OBJECT_HANDLE found[FOUND_MAX];
	size_t n_found;

	struct wait_thread waiters[WAITERS_MAX];
	size_t n_waiters;

	struct bg_command *bg;
};

/* The output of one command. */
struct result {
	char text[RESULT_MAX];
	size_t len;
};

static void say(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct result *r, const char *fmt, ...)
{
	size_t room = sizeof r->text - r->len;
	va_list ap;
	int n;

	if (room <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->text + r->len, room, fmt, ap);
	va_end(ap);
	if (n > 0) /* vsnprintf cut the text to room - 1 bytes */
		r->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* --- names --------------------------------------------------------------------------------- */

struct name {
	CK_ULONG value;
	const char *name;
};

/* clang-format off */
#define NAME(x) {x, #x}
/* clang-format on */

static const struct name slot_flag_names[] = {
    NAME(CKF_TOKEN_PRESENT),
    NAME(CKF_REMOVABLE_DEVICE),
    NAME(CKF_HW_SLOT),
};

static const struct name token_flag_names[] = {
    NAME(CKF_RNG),
    NAME(CKF_WRITE_PROTECTED),
    NAME(CKF_LOGIN_REQUIRED),
    NAME(CKF_USER_PIN_INITIALIZED),
    NAME(CKF_RESTORE_KEY_NOT_NEEDED),
    NAME(CKF_CLOCK_ON_TOKEN),
    NAME(CKF_PROTECTED_AUTHENTICATION_PATH),
    NAME(CKF_DUAL_CRYPTO_OPERATIONS),
    NAME(CKF_TOKEN_INITIALIZED),
    NAME(CKF_SECONDARY_AUTHENTICATION),
    NAME(CKF_USER_PIN_COUNT_LOW),
    NAME(CKF_USER_PIN_FINAL_TRY),
    NAME(CKF_USER_PIN_LOCKED),
    NAME(CKF_USER_PIN_TO_BE_CHANGED),
    NAME(CKF_SO_PIN_COUNT_LOW),
    NAME(CKF_SO_PIN_FINAL_TRY),
    NAME(CKF_SO_PIN_LOCKED),
    NAME(CKF_SO_PIN_TO_BE_CHANGED),
};

static const struct name session_flag_names[] = {
    NAME(CKF_RW_SESSION),
    NAME(CKF_SERIAL_SESSION),
};

static const struct name session_state_names[] = {
    NAME(CKS_RO_PUBLIC_SESSION), NAME(CKS_RO_USER_FUNCTIONS), NAME(CKS_RW_PUBLIC_SESSION),
    NAME(CKS_RW_USER_FUNCTIONS), NAME(CKS_RW_SO_FUNCTIONS),
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void say_value(struct result *r, const struct name *names, size_t n, CK_ULONG value)
{
	for (size_t i = 0; i < n; i++) {
		if (names[i].value == value) {
			say(r, "%s", names[i].name);
			return;
		}
	}
	say(r, "0x%lx", value);
}

/* A CK_RV's name from the module's own table (src/pkcs11/errors.c); NULL when it has none
 * (its fallbacks name no single value). */
static const char *exact_rv_name(CK_RV rv)
{
	const char *name = p11u_ckr_name(rv);

	if (strcmp(name, "CKR_(unknown)") == 0 ||
	    (strcmp(name, "CKR_VENDOR_DEFINED") == 0 && rv != CKR_VENDOR_DEFINED))
		return NULL;
	return name;
}

static const char *rv_name(CK_RV rv)
{
	const char *name = exact_rv_name(rv);

	return name != NULL ? name : "CKR_(unknown)";
}

static void say_rv(struct result *r, CK_RV rv)
{
	const char *name = exact_rv_name(rv);

	if (name != NULL)
		say(r, "%s", name);
	else
		say(r, "0x%lx", rv);
}

/* Says rv; true when it is CKR_OK (the command goes on to say the details). */
static bool said_ok(struct result *r, CK_RV rv)
{
	say_rv(r, rv);
	return rv == CKR_OK;
}

/* Flag names joined by '|' in table order, then any unnamed bits; "0" for none. */
static void say_flags(struct result *r, const struct name *names, size_t n, CK_FLAGS flags)
{
	CK_FLAGS left = flags;
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if ((flags & names[i].value) == names[i].value) {
			say(r, "%s%s", first ? "" : "|", names[i].name);
			left &= ~names[i].value;
			first = false;
		}
	}
	if (left != 0)
		say(r, "%s0x%lx", first ? "" : "|", left);
	else if (first)
		say(r, "0");
}

/* A blank-padded PKCS#11 text field, without the padding, in double quotes. */
static void say_field(struct result *r, const char *label, const CK_UTF8CHAR *field, size_t size)
{
	while (size > 0 && (field[size - 1] == ' ' || field[size - 1] == '\0'))
		size--;
	say(r, " %s=\"%.*s\"", label, (int)size, (const char *)field);
}

/* --- words and arguments ------------------------------------------------------------------- */

/* Splits line in place into words; "..." keeps blanks.  Returns the count, or -1. */
static int split_words(char *line, char *words[], int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return -1;
		if (*p == '"') {
			char *end = strchr(p + 1, '"');
			if (end == NULL)
				return -1;
			*end = '\0';
			words[n++] = p + 1;
			p = end + 1;
			continue;
		}
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

static bool parse_ulong(const char *s, CK_ULONG *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

/* A secret argument: env:VAR, empty, or null.  The value is never printed. */
struct secret {
	CK_UTF8CHAR *ptr;
	CK_ULONG len;
	CK_UTF8CHAR bytes[SECRET_MAX];
};

static bool parse_secret(const char *arg, struct secret *s, struct result *r)
{
	memset(s, 0, sizeof *s);
	if (strcmp(arg, "null") == 0)
		return true;
	s->ptr = s->bytes;
	if (strcmp(arg, "empty") == 0)
		return true;
	if (strncmp(arg, "env:", 4) != 0) {
		say(r, "error: a secret is env:VAR, empty or null");
		return false;
	}
	const char *value = getenv(arg + 4);
	if (value == NULL) {
		say(r, "error: %s is not set", arg + 4);
		return false;
	}
	size_t len = strlen(value);
	if (len > sizeof s->bytes) {
		say(r, "error: %s is too long", arg + 4);
		return false;
	}
	memcpy(s->bytes, value, len);
	s->len = (CK_ULONG)len;
	return true;
}

static void wipe_secret(struct secret *s)
{
	volatile CK_UTF8CHAR *p = s->bytes;

	for (size_t i = 0; i < sizeof s->bytes; i++)
		p[i] = 0;
}

/* --- sessions ------------------------------------------------------------------------------ */

static bool current_session(struct script *sc, struct result *r, CK_SESSION_HANDLE *h)
{
	if (sc->current >= sc->n_sessions) {
		say(r, "error: no current session");
		return false;
	}
	*h = sc->sessions[sc->current].handle;
	return true;
}

/* Removes session i from the table (the last one takes its place); the current session stays
 * current, and none is current after removing it. */
static void forget_session(struct script *sc, size_t i)
{
	size_t last = sc->n_sessions - 1;
	size_t current = sc->current;

	sc->sessions[i] = sc->sessions[last];
	sc->n_sessions = last;
	if (current == i)
		sc->current = SESSIONS_MAX;
	else if (current == last)
		sc->current = i;
}

/* --- commands ------------------------------------------------------------------------------ */

struct command {
	const char *name;
	int min_args, max_args;
	void (*run)(struct script *sc, char **args, int n, struct result *r);
};

static void cmd_init(struct script *sc, char **args, int n, struct result *r)
{
	CK_C_INITIALIZE_ARGS init_args;

	memset(&init_args, 0, sizeof init_args);
	init_args.flags = CKF_OS_LOCKING_OK;
	if (n == 1 && strcmp(args[0], "null") != 0) {
		say(r, "error: init [null]");
		return;
	}
	say_rv(r, sc->p->C_Initialize(n == 1 ? NULL : &init_args));
}

static void cmd_finalize(struct script *sc, char **args, int n, struct result *r)
{
	(void)args;
	(void)n;
	CK_RV rv = sc->p->C_Finalize(NULL);

	if (rv == CKR_OK) {
		sc->n_sessions = 0;
		sc->current = SESSIONS_MAX;
		sc->n_found = 0;
	}
	say_rv(r, rv);
}

static void cmd_info(struct script *sc, char **args, int n, struct result *r)
{
	CK_INFO info;
	CK_RV rv;

	(void)args;
	(void)n;
	rv = sc->p->C_GetInfo(&info);
	if (!said_ok(r, rv))
		return;
	say(r, " cryptoki=%u.%u", info.cryptokiVersion.major, info.cryptokiVersion.minor);
	say_field(r, "manufacturer", info.manufacturerID, sizeof info.manufacturerID);
	say_field(r, "library", info.libraryDescription, sizeof info.libraryDescription);
}

static void cmd_slots(struct script *sc, char **args, int n, struct result *r)
{
	CK_SLOT_ID ids[64];
	CK_ULONG count = 0;
	CK_BBOOL present = CK_FALSE;
	CK_RV rv;

	if (n == 1) {
		if (strcmp(args[0], "present") != 0) {
			say(r, "error: slots [present]");
			return;
		}
		present = CK_TRUE;
	}
	rv = sc->p->C_GetSlotList(present, NULL, &count);
	if (rv == CKR_OK) {
		if (count > N_OF(ids)) {
			say(r, "error: %lu slots", count);
			return;
		}
		rv = sc->p->C_GetSlotList(present, ids, &count);
	}
	if (!said_ok(r, rv))
		return;
	for (CK_ULONG i = 0; i < count; i++)
		say(r, " %lu", ids[i]);
}

static bool slot_arg(const char *arg, CK_SLOT_ID *slot, struct result *r)
{
	if (!parse_ulong(arg, slot)) {
		say(r, "error: not a slot ID: %s", arg);
		return false;
	}
	return true;
}

static void cmd_slot_info(struct script *sc, char **args, int n, struct result *r)
{
	CK_SLOT_INFO info;
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)n;
	if (!slot_arg(args[0], &slot, r))
		return;
	rv = sc->p->C_GetSlotInfo(slot, &info);
	if (!said_ok(r, rv))
		return;
	say(r, " flags=");
	say_flags(r, slot_flag_names, N_OF(slot_flag_names), info.flags);
	say_field(r, "description", info.slotDescription, sizeof info.slotDescription);
}

static void cmd_token_info(struct script *sc, char **args, int n, struct result *r)
{
	CK_TOKEN_INFO info;
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)n;
	if (!slot_arg(args[0], &slot, r))
		return;
	rv = sc->p->C_GetTokenInfo(slot, &info);
	if (!said_ok(r, rv))
		return;
	say_field(r, "label", info.label, sizeof info.label);
	say_field(r, "model", info.model, sizeof info.model);
	say_field(r, "serial", info.serialNumber, sizeof info.serialNumber);
	say(r, " flags=");
	say_flags(r, token_flag_names, N_OF(token_flag_names), info.flags);
}

static void cmd_open(struct script *sc, char **args, int n, struct result *r)
{
	CK_SESSION_HANDLE h;
	CK_FLAGS flags = CKF_SERIAL_SESSION;
	CK_SLOT_ID slot;
	CK_RV rv;

	if (!slot_arg(args[0], &slot, r))
		return;
	if (strcmp(args[1], "rw") == 0) {
		flags |= CKF_RW_SESSION;
	} else if (strcmp(args[1], "ro") != 0) {
		say(r, "error: open SLOT ro|rw [NAME]");
		return;
	}
	if (sc->n_sessions == SESSIONS_MAX) {
		say(r, "error: too many sessions");
		return;
	}
	rv = sc->p->C_OpenSession(slot, flags, NULL, NULL, &h);
	if (!said_ok(r, rv))
		return;
	struct named_session *s = &sc->sessions[sc->n_sessions];
	snprintf(s->name, sizeof s->name, "%s", n == 3 ? args[2] : "");
	s->handle = h;
	sc->current = sc->n_sessions++;
}

static void cmd_use(struct script *sc, char **args, int n, struct result *r)
{
	(void)n;
	for (size_t i = 0; i < sc->n_sessions; i++) {
		if (strcmp(sc->sessions[i].name, args[0]) == 0) {
			sc->current = i;
			say(r, "ok");
			return;
		}
	}
	say(r, "error: no session named %s", args[0]);
}

static void cmd_close(struct script *sc, char **args, int n, struct result *r)
{
	CK_SESSION_HANDLE h;
	CK_RV rv;

	(void)args;
	(void)n;
	if (!current_session(sc, r, &h))
		return;
	rv = sc->p->C_CloseSession(h);
	/* Whatever the answer, the handle is of no further use to the script. */
	forget_session(sc, sc->current);
	say_rv(r, rv);
}

static void cmd_close_all(struct script *sc, char **args, int n, struct result *r)
{
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)n;
	if (!slot_arg(args[0], &slot, r))
		return;
	rv = sc->p->C_CloseAllSessions(slot);
	say_rv(r, rv);
}

static void cmd_session_info(struct script *sc, char **args, int n, struct result *r)
{
	CK_SESSION_INFO info;
	CK_SESSION_HANDLE h;
	CK_RV rv;

	(void)args;
	(void)n;
	if (!current_session(sc, r, &h))
		return;
	rv = sc->p->C_GetSessionInfo(h, &info);
	if (!said_ok(r, rv))
		return;
	say(r, " slot=%lu state=", info.slotID);
	say_value(r, session_state_names, N_OF(session_state_names), info.state);
	say(r, " flags=");
	say_flags(r, session_flag_names, N_OF(session_flag_names), info.flags);
}

/* user|so|context as a CK_USER_TYPE. */
static bool user_type_arg(const char *word, CK_USER_TYPE *type, struct result *r)
{
	static const struct {
		const char *word;
		CK_USER_TYPE type;
	} types[] = {{"user", CKU_USER}, {"so", CKU_SO}, {"context", CKU_CONTEXT_SPECIFIC}};

	for (size_t t = 0; t < N_OF(types); t++) {
		if (strcmp(word, types[t].word) == 0) {
			*type = types[t].type;
			return true;
		}
	}
	say(r, "error: user type must be user, so or context");
	return false;
}

static void cmd_login(struct script *sc, char **args, int n, struct result *r)
{
	struct secret pin;
	CK_SESSION_HANDLE h;
	CK_USER_TYPE type;

	(void)n;
	if (!user_type_arg(args[0], &type, r) || !current_session(sc, r, &h) ||
	    !parse_secret(args[1], &pin, r))
		return;
	say_rv(r, sc->p->C_Login(h, type, pin.ptr, pin.len));
	wipe_secret(&pin);
}

static void cmd_seed_random(struct script *sc, char **args, int n, struct result *r)
{
	CK_BYTE seed[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	CK_SESSION_HANDLE h;

	(void)args;
	(void)n;
	if (current_session(sc, r, &h))
		say_rv(r, sc->p->C_SeedRandom(h, seed, sizeof seed));
}

static void cmd_logout(struct script *sc, char **args, int n, struct result *r)
{
	CK_SESSION_HANDLE h;

	(void)args;
	(void)n;
	if (current_session(sc, r, &h))
		say_rv(r, sc->p->C_Logout(h));
}

static void cmd_initpin(struct script *sc, char **args, int n, struct result *r)
{
	struct secret pin;
	CK_SESSION_HANDLE h;

	(void)n;
	if (!current_session(sc, r, &h) || !parse_secret(args[0], &pin, r))
		return;
	say_rv(r, sc->p->C_InitPIN(h, pin.ptr, pin.len));
	wipe_secret(&pin);
}

static void cmd_setpin(struct script *sc, char **args, int n, struct result *r)
{
	struct secret old_pin, new_pin;
	CK_SESSION_HANDLE h;

	(void)n;
	if (!current_session(sc, r, &h) || !parse_secret(args[0], &old_pin, r))
		return;
	if (parse_secret(args[1], &new_pin, r)) {
		say_rv(r, sc->p->C_SetPIN(h, old_pin.ptr, old_pin.len, new_pin.ptr, new_pin.len));
		wipe_secret(&new_pin);
	}
	wipe_secret(&old_pin);
}

/* C_FindObjectsInit + C_FindObjects + C_FindObjectsFinal; keeps the handles. */
static CK_RV find_objects(struct script *sc, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count)
{
	CK_ULONG got = 0;
	CK_RV rv, final_rv;

	sc->n_found = 0;
	rv = sc->p->C_FindObjectsInit(h, tmpl, count);
	if (rv != CKR_OK)
		return rv;
	rv = sc->p->C_FindObjects(h, sc->found, FOUND_MAX, &got);
	final_rv = sc->p->C_FindObjectsFinal(h);
	if (rv != CKR_OK)
		return rv;
	if (got > FOUND_MAX)
		return CKR_GENERAL_ERROR;
	sc->n_found = got;
	return final_rv;
}

static bool object_class(const char *word, CK_OBJECT_CLASS *out)
{
	static const struct {
		const char *word;
		CK_OBJECT_CLASS value;
	} classes[] = {{"data", CKO_DATA},
	               {"certificate", CKO_CERTIFICATE},
	               {"public-key", CKO_PUBLIC_KEY},
	               {"private-key", CKO_PRIVATE_KEY}};

	for (size_t i = 0; i < N_OF(classes); i++) {
		if (strcmp(word, classes[i].word) == 0) {
			*out = classes[i].value;
			return true;
		}
	}
	return false;
}

static void cmd_find(struct script *sc, char **args, int n, struct result *r)
{
	CK_ATTRIBUTE tmpl[WORDS_MAX];
	CK_OBJECT_CLASS cls;
	CK_SESSION_HANDLE h;
	CK_RV rv;

	if (!current_session(sc, r, &h))
		return;
	for (int i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');
		if (eq == NULL) {
			say(r, "error: find takes KEY=VALUE words");
			return;
		}
		*eq = '\0';
		const char *key = args[i], *value = eq + 1;
		if (strcmp(key, "class") == 0) {
			if (!object_class(value, &cls)) {
				say(r, "error: unknown class %s", value);
				return;
			}
			tmpl[i].type = CKA_CLASS;
			tmpl[i].pValue = &cls;
			tmpl[i].ulValueLen = sizeof cls;
			continue;
		}
		if (strcmp(key, "label") == 0)
			tmpl[i].type = CKA_LABEL;
		else if (strcmp(key, "id") == 0)
			tmpl[i].type = CKA_ID;
		else if (strcmp(key, "application") == 0)
			tmpl[i].type = CKA_APPLICATION;
		else {
			say(r, "error: unknown key %s", key);
			return;
		}
		tmpl[i].pValue = (void *)value;
		tmpl[i].ulValueLen = (CK_ULONG)strlen(value);
	}
	rv = find_objects(sc, h, tmpl, (CK_ULONG)n);
	say_rv(r, rv);
	if (rv == CKR_OK)
		say(r, " found=%zu", sc->n_found);
}

static bool printable(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7F || p[i] == '"')
			return false;
	return true;
}

static void cmd_getattr(struct script *sc, char **args, int n, struct result *r)
{
	static const struct {
		const char *word;
		CK_ATTRIBUTE_TYPE type;
	} attrs[] = {{"label", CKA_LABEL},
	             {"value", CKA_VALUE},
	             {"id", CKA_ID},
	             {"application", CKA_APPLICATION},
	             {"class", CKA_CLASS}};
	static unsigned char value[ATTR_VALUE_MAX];
	CK_ATTRIBUTE attr;
	CK_SESSION_HANDLE h;
	CK_ULONG index = 0;
	size_t a;
	CK_RV rv;

	for (a = 0; a < N_OF(attrs); a++)
		if (strcmp(args[0], attrs[a].word) == 0)
			break;
	if (a == N_OF(attrs)) {
		say(r, "error: unknown attribute %s", args[0]);
		return;
	}
	if (n == 2 && !parse_ulong(args[1], &index)) {
		say(r, "error: not an index: %s", args[1]);
		return;
	}
	if (!current_session(sc, r, &h))
		return;
	if (index >= sc->n_found) {
		say(r, "error: no found object %lu", index);
		return;
	}
	attr.type = attrs[a].type;
	attr.pValue = NULL;
	attr.ulValueLen = 0;
	rv = sc->p->C_GetAttributeValue(h, sc->found[index], &attr, 1);
	if (rv == CKR_OK) {
		if (attr.ulValueLen > sizeof value) {
			say(r, "error: value of %lu bytes", attr.ulValueLen);
			return;
		}
		attr.pValue = value;
		rv = sc->p->C_GetAttributeValue(h, sc->found[index], &attr, 1);
	}
	if (!said_ok(r, rv))
		return;
	if (attr.ulValueLen > sizeof value) {
		say(r, " error: value of %lu bytes", attr.ulValueLen);
		return;
	}
	if (attr.type == CKA_CLASS && attr.ulValueLen == sizeof(CK_OBJECT_CLASS)) {
		CK_OBJECT_CLASS cls;
		memcpy(&cls, value, sizeof cls);
		say(r, " %lu", cls);
	} else if (printable(value, attr.ulValueLen)) {
		say(r, " \"%.*s\"", (int)attr.ulValueLen, (const char *)value);
	} else {
		say(r, " hex:");
		for (CK_ULONG i = 0; i < attr.ulValueLen && i < 64; i++)
			say(r, "%02x", value[i]);
		if (attr.ulValueLen > 64)
			say(r, "...(%lu bytes)", attr.ulValueLen);
	}
}

static void cmd_sign(struct script *sc, char **args, int n, struct result *r)
{
	static const struct {
		const char *word;
		CK_MECHANISM_TYPE type;
	} mechs[] = {{"rsa-pkcs", CKM_RSA_PKCS}, {"sha256-rsa-pkcs", CKM_SHA256_RSA_PKCS}};
	static const char data[] = "p11-script fixed test data";
	CK_BYTE sig[1024];
	CK_ULONG sig_len = sizeof sig;
	CK_MECHANISM mech = {0, NULL, 0};
	CK_SESSION_HANDLE h;
	size_t m;
	CK_RV rv;

	for (m = 0; m < N_OF(mechs); m++)
		if (strcmp(args[0], mechs[m].word) == 0)
			break;
	if (m == N_OF(mechs)) {
		say(r, "error: unknown mechanism %s", args[0]);
		return;
	}
	mech.mechanism = mechs[m].type;
	if (!current_session(sc, r, &h))
		return;
	if (n == 2) {
		CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
		CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls},
		                       {CKA_ID, args[1], (CK_ULONG)strlen(args[1])}};
		rv = find_objects(sc, h, tmpl, N_OF(tmpl));
		if (rv != CKR_OK) {
			say_rv(r, rv);
			say(r, " (finding the key)");
			return;
		}
	}
	if (sc->n_found == 0) {
		say(r, "no key");
		return;
	}
	rv = sc->p->C_SignInit(h, &mech, sc->found[0]);
	if (rv == CKR_OK)
		rv = sc->p->C_Sign(h, (CK_BYTE_PTR)data, sizeof data - 1, sig, &sig_len);
	say_rv(r, rv);
	if (rv == CKR_OK)
		say(r, " len=%lu", sig_len);
}

static void say_wait_result(struct result *r, CK_RV rv, CK_SLOT_ID slot)
{
	say_rv(r, rv);
	if (rv == CKR_OK)
		say(r, " slot=%lu", slot);
}

static void cmd_wait_event(struct script *sc, char **args, int n, struct result *r)
{
	CK_FLAGS flags = 0;
	CK_SLOT_ID slot = 0;

	if (n == 1) {
		if (strcmp(args[0], "dont-block") != 0) {
			say(r, "error: wait-event [dont-block]");
			return;
		}
		flags = CKF_DONT_BLOCK;
	}
	CK_RV rv = sc->p->C_WaitForSlotEvent(flags, &slot, NULL);
	say_wait_result(r, rv, slot);
}

static void *wait_thread_main(void *arg)
{
	struct wait_thread *w = arg;

	w->rv = w->p->C_WaitForSlotEvent(0, &w->slot, NULL);
	atomic_store(&w->done, true);
	return NULL;
}

static void cmd_wait_event_thread(struct script *sc, char **args, int n, struct result *r)
{
	CK_ULONG count = 1;
	int err;

	if (n == 1 && (!parse_ulong(args[0], &count) || count < 1 || count > WAITERS_MAX)) {
		say(r, "error: wait-event-thread [1-%d]", WAITERS_MAX);
		return;
	}
	if (sc->n_waiters > 0) {
		say(r, "error: wait threads are running (join them first)");
		return;
	}
	for (CK_ULONG i = 0; i < count; i++) {
		struct wait_thread *w = &sc->waiters[i];

		w->p = sc->p;
		w->slot = 0;
		w->rv = CKR_GENERAL_ERROR;
		atomic_store(&w->done, false);
		err = pthread_create(&w->thread, NULL, wait_thread_main, w);
		if (err != 0) {
			say(r, "error: pthread_create: %s", strerror(err));
			return;
		}
		sc->n_waiters++;
	}
	say(r, "started");
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool ms_arg(char **args, int n, int i, unsigned long dflt, unsigned long *ms,
                   struct result *r)
{
	CK_ULONG v = dflt;

	if (n > i && !parse_ulong(args[i], &v)) {
		say(r, "error: not milliseconds: %s", args[i]);
		return false;
	}
	*ms = v;
	return true;
}

static bool waiters_done(const struct script *sc)
{
	for (size_t i = 0; i < sc->n_waiters; i++)
		if (!atomic_load(&sc->waiters[i].done))
			return false;
	return true;
}

static void cmd_join(struct script *sc, char **args, int n, struct result *r)
{
	unsigned long limit, waited = 0;

	if (!ms_arg(args, n, 0, 10000, &limit, r))
		return;
	if (sc->n_waiters == 0) {
		say(r, "error: no wait thread");
		return;
	}
	while (!waiters_done(sc) && waited < limit) {
		sleep_ms(10);
		waited += 10;
	}
	if (!waiters_done(sc)) {
		say(r, "still waiting");
		return;
	}
	for (size_t i = 0; i < sc->n_waiters; i++) {
		pthread_join(sc->waiters[i].thread, NULL);
		if (i > 0)
			say(r, "; ");
		say_wait_result(r, sc->waiters[i].rv, sc->waiters[i].slot);
	}
	sc->n_waiters = 0;
}

static CK_VERSION list_version(const P11UNLOCK_INTERFACE *iface)
{
	CK_VERSION v;

	/* Every function list starts with its version (PKCS#11 3.0 section 3.6). */
	memcpy(&v, iface->pFunctionList, sizeof v);
	return v;
}

static void cmd_interfaces(struct script *sc, char **args, int n, struct result *r)
{
	P11UNLOCK_INTERFACE list[16];
	CK_ULONG count = 0;
	CK_RV rv;

	(void)args;
	(void)n;
	if (sc->get_interface_list == NULL) {
		say(r, "error: the module has no C_GetInterfaceList");
		return;
	}
	rv = sc->get_interface_list(NULL, &count);
	if (rv == CKR_OK) {
		if (count > N_OF(list)) {
			say(r, "error: %lu interfaces", count);
			return;
		}
		rv = sc->get_interface_list(list, &count);
	}
	if (!said_ok(r, rv))
		return;
	for (CK_ULONG i = 0; i < count; i++) {
		CK_VERSION v = list_version(&list[i]);
		say(r, "%s\"%s\" %u.%u", i == 0 ? " " : ", ", (const char *)list[i].pInterfaceName,
		    v.major, v.minor);
	}
}

static bool version_part(const char *arg, CK_BYTE *out, struct result *r)
{
	CK_ULONG v;

	if (!parse_ulong(arg, &v) || v > 255) {
		say(r, "error: not a version number: %s", arg);
		return false;
	}
	*out = (CK_BYTE)v;
	return true;
}

static void cmd_get_interface(struct script *sc, char **args, int n, struct result *r)
{
	P11UNLOCK_INTERFACE *iface = NULL;
	CK_VERSION version;
	CK_VERSION_PTR vp = NULL;
	CK_UTF8CHAR_PTR name = NULL;
	CK_RV rv;

	(void)n;
	if (sc->get_interface == NULL) {
		say(r, "error: the module has no C_GetInterface");
		return;
	}
	if (strcmp(args[0], "-") != 0)
		name = (CK_UTF8CHAR_PTR)args[0];
	if (strcmp(args[1], "-") != 0 || strcmp(args[2], "-") != 0) {
		if (!version_part(args[1], &version.major, r) ||
		    !version_part(args[2], &version.minor, r))
			return;
		vp = &version;
	}
	rv = sc->get_interface(name, vp, &iface, 0);
	if (!said_ok(r, rv))
		return;
	if (iface == NULL || iface->pFunctionList == NULL || iface->pInterfaceName == NULL) {
		say(r, " error: NULL interface");
		return;
	}
	CK_VERSION v = list_version(iface);
	say(r, " \"%s\" %u.%u", (const char *)iface->pInterfaceName, v.major, v.minor);
	if (strcmp((const char *)iface->pInterfaceName, "PKCS 11") == 0)
		sc->p = iface->pFunctionList; /* the 2.40 part of a 3.0 list has the same layout */
}

static void cmd_v3_calls(struct script *sc, char **args, int n, struct result *r)
{
	const struct function_list_3_0 *f3 = (const struct function_list_3_0 *)sc->p;
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	P11UNLOCK_INTERFACE *iface = NULL;
	CK_SESSION_HANDLE h = 0;
	CK_ULONG count = 0;

	(void)args;
	(void)n;
	if (sc->p->version.major != 3) {
		say(r, "error: the current function list is %u.%u", sc->p->version.major,
		    sc->p->version.minor);
		return;
	}
	if (sc->current < sc->n_sessions)
		h = sc->sessions[sc->current].handle;
	say(r, "C_GetInterfaceList=%s", rv_name(f3->C_GetInterfaceList(NULL, &count)));
	say(r, " C_GetInterface=%s", rv_name(f3->C_GetInterface(NULL, NULL, &iface, 0)));
	say(r, " C_LoginUser=%s", rv_name(f3->C_LoginUser(h, CKU_USER, NULL, 0, NULL, 0)));
	say(r, " C_SessionCancel=%s", rv_name(f3->C_SessionCancel(h, 0)));
	say(r, " C_MessageEncryptInit=%s", rv_name(f3->C_MessageEncryptInit(h, &mech, 0)));
	say(r, " C_MessageVerifyFinal=%s", rv_name(f3->C_MessageVerifyFinal(h)));
}

static void cmd_function_list(struct script *sc, char **args, int n, struct result *r)
{
	(void)args;
	(void)n;
	sc->p = sc->standard;
	say(r, "ok");
}

/* The vendor function list, asked for anew each time (exactly this header's version). */
static const P11UNLOCK_FUNCTION_LIST *vendor_list(struct script *sc, struct result *r)
{
	CK_VERSION version = {P11UNLOCK_VERSION_MAJOR, P11UNLOCK_VERSION_MINOR};
	P11UNLOCK_INTERFACE *iface = NULL;
	CK_RV rv;

	if (sc->get_interface == NULL) {
		say(r, "error: the module has no C_GetInterface");
		return NULL;
	}
	rv = sc->get_interface((CK_UTF8CHAR_PTR)P11UNLOCK_INTERFACE_NAME, &version, &iface, 0);
	if (rv != CKR_OK || iface == NULL || iface->pFunctionList == NULL) {
		say(r, "error: no vendor interface: %s", rv_name(rv));
		return NULL;
	}
	return iface->pFunctionList;
}

static void cmd_vendor_tries(struct script *sc, char **args, int n, struct result *r)
{
	const P11UNLOCK_FUNCTION_LIST *v;
	CK_ULONG pin = 99, code = 99;
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)n;
	if (!slot_arg(args[0], &slot, r) || (v = vendor_list(sc, r)) == NULL)
		return;
	rv = v->P11U_GetTriesLeft(slot, &pin, &code);
	say_rv(r, rv);
	if (rv == CKR_OK)
		say(r, " pin_tries=%lu user_code_tries=%lu", pin, code);
}

static void cmd_vendor_login(struct script *sc, char **args, int n, struct result *r)
{
	const P11UNLOCK_FUNCTION_LIST *v;
	CK_ULONG seen, now = 99;
	struct secret pin;
	CK_SESSION_HANDLE h;
	CK_USER_TYPE type;
	char *end;
	CK_RV rv;

	(void)n;
	seen = strtoul(args[2], &end, 10);
	if (*end != '\0' || end == args[2]) {
		say(r, "error: vendor-login user|so SECRET TRIES_SEEN");
		return;
	}
	if (!user_type_arg(args[0], &type, r) || !current_session(sc, r, &h) ||
	    (v = vendor_list(sc, r)) == NULL || !parse_secret(args[1], &pin, r))
		return;
	rv = v->P11U_Login(h, type, pin.ptr, pin.len, seen, &now);
	wipe_secret(&pin);
	say_rv(r, rv);
	if (now != 99)
		say(r, " tries_now=%lu", now);
}

static void cmd_vendor_info(struct script *sc, char **args, int n, struct result *r)
{
	const P11UNLOCK_FUNCTION_LIST *v;
	P11UNLOCK_CARD_INFO info;
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)n;
	if (!slot_arg(args[0], &slot, r) || (v = vendor_list(sc, r)) == NULL)
		return;
	memset(&info, 0xAA, sizeof info);
	rv = v->P11U_GetCardInfo(slot, &info);
	if (!said_ok(r, rv))
		return;
	/* The strings must be NUL-terminated within their arrays. */
	if (memchr(info.card_number, '\0', sizeof info.card_number) == NULL ||
	    memchr(info.card_type, '\0', sizeof info.card_type) == NULL) {
		say(r, " error: unterminated string");
		return;
	}
	say(r, " version=%u.%u kind=%s number=\"%s\" type=\"%s\"", info.version.major,
	    info.version.minor,
	    info.kind == P11UNLOCK_CARD_TEST    ? "test"
	    : info.kind == P11UNLOCK_CARD_HICOS ? "hicos"
	                                        : "unknown",
	    (const char *)info.card_number, (const char *)info.card_type);
}

static void cmd_vendor_number(struct script *sc, char **args, int n, struct result *r)
{
	const P11UNLOCK_FUNCTION_LIST *v;
	CK_UTF8CHAR number[17];
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)n;
	if (!slot_arg(args[0], &slot, r) || (v = vendor_list(sc, r)) == NULL)
		return;
	memset(number, 0xAA, sizeof number);
	rv = v->P11U_GetCardNumber(slot, number);
	if (!said_ok(r, rv))
		return;
	if (memchr(number, '\0', sizeof number) == NULL) {
		say(r, " error: unterminated string");
		return;
	}
	say(r, " number=\"%s\"", (const char *)number);
}

/* In the child: the calls, their names written to fd as one line. */
static void fork_child(struct script *sc, int fd)
{
	struct result out = {{0}, 0};
	CK_SESSION_INFO session_info;
	CK_ULONG count = 0;
	CK_INFO info;
	CK_RV rv;

	say(&out, "child C_GetInfo=%s", rv_name(sc->p->C_GetInfo(&info)));
	rv = sc->p->C_GetSessionInfo(
	    sc->current < sc->n_sessions ? sc->sessions[sc->current].handle : 1, &session_info);
	say(&out, " C_GetSessionInfo=%s", rv_name(rv));
	say(&out, " C_Initialize=%s", rv_name(sc->p->C_Initialize(NULL)));
	say(&out, " C_GetSlotList=%s", rv_name(sc->p->C_GetSlotList(CK_TRUE, NULL, &count)));
	say(&out, " C_Finalize=%s", rv_name(sc->p->C_Finalize(NULL)));
	if (write(fd, out.text, out.len) != (ssize_t)out.len)
		_exit(1);
	_exit(0);
}

static void cmd_fork_check(struct script *sc, char **args, int n, struct result *r)
{
	char buf[RESULT_MAX];
	size_t got = 0;
	int fds[2], status;
	pid_t pid;

	(void)args;
	(void)n;
	fflush(stdout);
	if (pipe(fds) != 0) {
		say(r, "error: pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		say(r, "error: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		fork_child(sc, fds[1]);
	}
	close(fds[1]);
	for (;;) {
		ssize_t k = read(fds[0], buf + got, sizeof buf - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == sizeof buf - 1)
			break;
	}
	close(fds[0]);
	buf[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say(r, "error: the child failed (status 0x%x): %s", (unsigned)status, buf);
		return;
	}
	say(r, "%s", buf);
}

static void cmd_pause(struct script *sc, char **args, int n, struct result *r)
{
	char waiting[PATH_MAX];
	unsigned long limit, waited = 0;
	struct stat st;
	FILE *f;

	(void)sc;
	if (!ms_arg(args, n, 1, 60000, &limit, r))
		return;
	if (snprintf(waiting, sizeof waiting, "%s.waiting", args[0]) >= (int)sizeof waiting) {
		say(r, "error: path too long");
		return;
	}
	fflush(stdout);
	f = fopen(waiting, "w");
	if (f == NULL) {
		say(r, "error: %s: %s", waiting, strerror(errno));
		return;
	}
	fclose(f);
	while (stat(args[0], &st) != 0 && waited < limit) {
		sleep_ms(20);
		waited += 20;
	}
	say(r, waited < limit ? "ok" : "timeout");
}

static void cmd_sleep(struct script *sc, char **args, int n, struct result *r)
{
	unsigned long ms;

	(void)sc;
	if (!ms_arg(args, n, 0, 0, &ms, r))
		return;
	sleep_ms(ms);
	say(r, "ok");
}

static void cmd_bg(struct script *sc, char **args, int n, struct result *r);
static void cmd_bg_join(struct script *sc, char **args, int n, struct result *r);
static void cmd_within(struct script *sc, char **args, int n, struct result *r);

static const struct command commands[] = {
    {"init", 0, 1, cmd_init},
    {"finalize", 0, 0, cmd_finalize},
    {"info", 0, 0, cmd_info},
    {"slots", 0, 1, cmd_slots},
    {"slot-info", 1, 1, cmd_slot_info},
    {"token-info", 1, 1, cmd_token_info},
    {"open", 2, 3, cmd_open},
    {"use", 1, 1, cmd_use},
    {"close", 0, 0, cmd_close},
    {"close-all", 1, 1, cmd_close_all},
    {"session-info", 0, 0, cmd_session_info},
    {"login", 2, 2, cmd_login},
    {"logout", 0, 0, cmd_logout},
    {"seed-random", 0, 0, cmd_seed_random},
    {"initpin", 1, 1, cmd_initpin},
    {"setpin", 2, 2, cmd_setpin},
    {"find", 0, 4, cmd_find},
    {"getattr", 1, 2, cmd_getattr},
    {"sign", 1, 2, cmd_sign},
    {"wait-event", 0, 1, cmd_wait_event},
    {"wait-event-thread", 0, 1, cmd_wait_event_thread},
    {"join", 0, 1, cmd_join},
    {"interfaces", 0, 0, cmd_interfaces},
    {"get-interface", 3, 3, cmd_get_interface},
    {"function-list", 0, 0, cmd_function_list},
    {"v3-calls", 0, 0, cmd_v3_calls},
    {"vendor-tries", 1, 1, cmd_vendor_tries},
    {"vendor-info", 1, 1, cmd_vendor_info},
    {"vendor-number", 1, 1, cmd_vendor_number},
    {"vendor-login", 3, 3, cmd_vendor_login},
    {"fork-check", 0, 0, cmd_fork_check},
    {"pause", 1, 2, cmd_pause},
    {"sleep", 1, 1, cmd_sleep},
    {"bg", 1, WORDS_MAX - 1, cmd_bg},
    {"bg-join", 0, 1, cmd_bg_join},
    {"within", 2, WORDS_MAX - 1, cmd_within},
};

/* --- commands that run other commands ------------------------------------------------------- */

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_OF(commands); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* words[0] is the command: false (said) when there is none such or the count is wrong. */
static bool command_ok(char **words, int n, struct result *r, const struct command **c)
{
	*c = n > 0 ? find_command(words[0]) : NULL;
	if (*c == NULL) {
		say(r, "error: no such command");
		return false;
	}
	if (n - 1 < (*c)->min_args || n - 1 > (*c)->max_args) {
		say(r, "error: wrong number of arguments");
		return false;
	}
	return true;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void cmd_within(struct script *sc, char **args, int n, struct result *r)
{
	const struct command *c;
	CK_ULONG limit;
	double t;

	if (!parse_ulong(args[0], &limit)) {
		say(r, "error: within MS COMMAND [ARGS]");
		return;
	}
	if (!command_ok(args + 1, n - 1, r, &c))
		return;
	t = now_ms();
	c->run(sc, args + 2, n - 2, r);
	t = now_ms() - t;
	if (t <= (double)limit)
		say(r, " (within %lu ms)", limit);
	else
		say(r, " (took %.0f ms)", t);
}

/* One command in a thread of its own, its words copied. */
struct bg_command {
	pthread_t thread;
	struct script *sc;
	const struct command *c;
	char line[LINE_MAX_LEN];
	char *words[WORDS_MAX];
	int n;
	struct result r;
	atomic_bool done;
};

static void *bg_main(void *arg)
{
	struct bg_command *bg = arg;

	bg->c->run(bg->sc, bg->words + 1, bg->n - 1, &bg->r);
	atomic_store(&bg->done, true);
	return NULL;
}

static void cmd_bg(struct script *sc, char **args, int n, struct result *r)
{
	struct bg_command *bg;
	size_t len = 0;
	int err;

	if (sc->bg != NULL) {
		say(r, "error: a bg command is running (bg-join it first)");
		return;
	}
	bg = calloc(1, sizeof *bg);
	if (bg == NULL) {
		say(r, "error: out of memory");
		return;
	}
	/* The words point into the caller's line: keep copies in the thread's own. */
	for (int i = 0; i < n; i++) {
		size_t l = strlen(args[i]) + 1;

		if (len + l > sizeof bg->line) {
			free(bg);
			say(r, "error: line too long");
			return;
		}
		memcpy(bg->line + len, args[i], l);
		bg->words[i] = bg->line + len;
		len += l;
	}
	bg->n = n;
	bg->sc = sc;
	if (!command_ok(bg->words, n, r, &bg->c)) {
		free(bg);
		return;
	}
	atomic_store(&bg->done, false);
	err = pthread_create(&bg->thread, NULL, bg_main, bg);
	if (err != 0) {
		free(bg);
		say(r, "error: pthread_create: %s", strerror(err));
		return;
	}
	sc->bg = bg;
	say(r, "started");
}

static void cmd_bg_join(struct script *sc, char **args, int n, struct result *r)
{
	struct bg_command *bg = sc->bg;
	unsigned long limit, waited = 0;

	if (!ms_arg(args, n, 0, 30000, &limit, r))
		return;
	if (bg == NULL) {
		say(r, "error: no bg command");
		return;
	}
	while (!atomic_load(&bg->done) && waited < limit) {
		sleep_ms(10);
		waited += 10;
	}
	if (!atomic_load(&bg->done)) {
		say(r, "still running");
		return;
	}
	pthread_join(bg->thread, NULL);
	say(r, "%s", bg->r.text);
	free(bg);
	sc->bg = NULL;
}

/* --- main ---------------------------------------------------------------------------------- */

static bool load_module(struct script *sc, const char *path)
{
	CK_C_GetFunctionList get_function_list;
	CK_RV rv;

	sc->module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (sc->module == NULL) {
		fprintf(stderr, "p11-script: %s\n", dlerror());
		return false;
	}
	*(void **)&get_function_list = dlsym(sc->module, "C_GetFunctionList");
	if (get_function_list == NULL) {
		fprintf(stderr, "p11-script: %s has no C_GetFunctionList\n", path);
		return false;
	}
	rv = get_function_list(&sc->standard);
	if (rv != CKR_OK || sc->standard == NULL) {
		fprintf(stderr, "p11-script: C_GetFunctionList: %s\n", rv_name(rv));
		return false;
	}
	sc->p = sc->standard;
	*(void **)&sc->get_interface = dlsym(sc->module, "C_GetInterface");
	*(void **)&sc->get_interface_list = dlsym(sc->module, "C_GetInterfaceList");
	return true;
}

/* Runs one line; false when the script itself is wrong. */
static bool run_line(struct script *sc, char *line)
{
	char display[LINE_MAX_LEN];
	char *words[WORDS_MAX];
	struct result r = {{0}, 0};
	int n;

	snprintf(display, sizeof display, "%s", line);
	n = split_words(line, words, WORDS_MAX);
	if (n < 0) {
		fprintf(stderr, "p11-script: cannot split: %s\n", display);
		return false;
	}
	if (n == 0)
		return true;
	const struct command *c = find_command(words[0]);

	if (c == NULL) {
		fprintf(stderr, "p11-script: unknown command: %s\n", display);
		return false;
	}
	if (n - 1 < c->min_args || n - 1 > c->max_args) {
		fprintf(stderr, "p11-script: wrong number of arguments: %s\n", display);
		return false;
	}
	c->run(sc, words + 1, n - 1, &r);
	printf("%s -> %s\n", display, r.text);
	fflush(stdout);
	return true;
}

int main(int argc, char **argv)
{
	static struct script sc;
	char line[LINE_MAX_LEN];
	bool ok = true;

	if (argc != 2) {
		fprintf(stderr, "usage: p11-script MODULE.so < SCRIPT\n");
		return 2;
	}
	if (!load_module(&sc, argv[1]))
		return 1;
	while (fgets(line, sizeof line, stdin) != NULL) {
		size_t len = strlen(line);
		char *p = line;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (len == sizeof line - 1) {
			fprintf(stderr, "p11-script: line too long\n");
			ok = false;
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		if (!run_line(&sc, p)) {
			ok = false;
			break;
		}
	}
	/* A wait thread still blocked in the module ends with the process; the module is not
	 * unloaded under it. */
	return ok ? 0 : 1;
}

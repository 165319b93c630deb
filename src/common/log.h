/* Debug logging: off unless P11UNLOCK_DEBUG is set in the environment.
 * P11UNLOCK_DEBUG=1 (or "all") enables every category; otherwise a comma list
 * of category names: call,apdu,card,pcsc,config.  Lines go to stderr.
 * Never pass a PIN or a user code here, not even masked: log lengths only. */
#ifndef P11U_LOG_H
#define P11U_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum p11u_log_cat {
	P11U_LOG_CALL = 1 << 0,   /* PKCS#11 entry points and their return values */
	P11U_LOG_APDU = 1 << 1,   /* APDU trace (secret data masked by the card layer) */
	P11U_LOG_CARD = 1 << 2,   /* card profile decisions */
	P11U_LOG_PCSC = 1 << 3,   /* PC/SC calls and reader events */
	P11U_LOG_CONFIG = 1 << 4, /* configuration file */
};

bool p11u_log_enabled(unsigned cat);
void p11u_log(unsigned cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For tests: send log lines to another stream (NULL = stderr) and re-read the environment. */
void p11u_log_set_stream(FILE *stream);
void p11u_log_reinit(void);

#define P11U_DEBUG(cat, ...)                                                                       \
	do {                                                                                       \
		if (p11u_log_enabled(cat))                                                         \
			p11u_log(cat, __VA_ARGS__);                                                \
	} while (0)

#endif

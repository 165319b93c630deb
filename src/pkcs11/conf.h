/* The module's configuration: a small `key = value` file, $(sysconfdir)/p11unlock.conf or the
 * file named by $P11UNLOCK_CONF.  Unknown keys and bad values are reported (debug log and one
 * stderr warning), never silently ignored; the setting keeps its default. */
#ifndef P11U_PKCS11_CONF_H
#define P11U_PKCS11_CONF_H

#include <stdbool.h>

struct p11u_config {
	bool allow_test_cards;      /* p11unlock test cards ("P11U V1") get a token (default no) */
	bool user_code_token;       /* a locked card shows the user-code token (default yes) */
	bool opensc_unblock_styles; /* OpenSC-style unblocking through C_SetPIN (default no) */
	bool hicos_login;           /* PIN login, signing and decryption on first-generation
	                               HiCOS cards (default no: read-only tokens) */
	unsigned card_timeout;      /* seconds a reader may take for one PC/SC call before the
	                               card counts as stalled (default 20, 1..600) */
	bool cache;                 /* keep cards' public data in the user's cache (default yes) */
};

#define P11U_CARD_TIMEOUT_DEFAULT 20
#define P11U_CARD_TIMEOUT_MAX     600

void p11u_config_defaults(struct p11u_config *cfg);

/* Called once per problem with the line number (1-based; 0 for the file as a whole). */
typedef void (*p11u_config_report_fn)(void *ctx, unsigned line, const char *message);

/* Parses the text of a configuration file into cfg (which should hold the defaults).
 * Returns the number of problems reported. */
unsigned p11u_config_parse(const char *text, struct p11u_config *cfg, p11u_config_report_fn report,
                           void *ctx);

/* The file this process reads: $P11UNLOCK_CONF when set, else the installed default. */
const char *p11u_config_path(void);

/* Defaults, then the file (a missing default file is fine; a missing $P11UNLOCK_CONF file is
 * reported).  Problems are logged under P11U_LOG_CONFIG and warned about on stderr once per
 * process, so an application that re-initializes the module is not flooded. */
void p11u_config_load(struct p11u_config *cfg);

#endif

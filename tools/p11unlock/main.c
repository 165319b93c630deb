/* p11unlock: releases a locked card and sets a new PIN with the user code,
 * like the card issuer's web form, through PKCS#11 only (see p11unlock(1)). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <p11-kit/uri.h>

#include "flow.h"
#include "i18n.h"
#include "steps.h"
#include "text.h"

enum command {
	COMMAND_UNLOCK,
	COMMAND_LIST,
	COMMAND_STATUS,
	COMMAND_CHANGE_PIN,
};

enum option_id {
	OPT_LIST = 256,
	OPT_STATUS,
	OPT_CHANGE_PIN,
	OPT_JSON,
	OPT_SERIAL,
	OPT_SLOT,
	OPT_TOKEN,
	OPT_MODULE,
	OPT_FOREIGN_TOKEN,
	OPT_LAST_TRY,
	OPT_YES,
	OPT_VERBOSE,
	OPT_SHOW_NEW_PIN,
	OPT_LANG,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
    {"list", no_argument, NULL, OPT_LIST},
    {"status", no_argument, NULL, OPT_STATUS},
    {"change-pin", no_argument, NULL, OPT_CHANGE_PIN},
    {"json", no_argument, NULL, OPT_JSON},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"slot", required_argument, NULL, OPT_SLOT},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"module", required_argument, NULL, OPT_MODULE},
    {"foreign-token", no_argument, NULL, OPT_FOREIGN_TOKEN},
    {"last-try", no_argument, NULL, OPT_LAST_TRY},
    {"yes", no_argument, NULL, OPT_YES},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"show-new-pin", no_argument, NULL, OPT_SHOW_NEW_PIN},
    {"lang", required_argument, NULL, OPT_LANG},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

struct options {
	enum command command;
	int commands_given;
	bool help, version;
	const char *lang;
	const char *module_path;
	const char *slot;
	const char *token_uri;
	/* The first argument getopt did not accept.  Never printed whole: it may be a secret typed
	 * in the wrong place.  An option is named up to its '=', a stray argument not at all. */
	const char *bad_option;
	int bad_option_len;
	int bad_option_val; /* a known long option used wrongly (missing or extra value), or 0 */
	char bad_short[3];  /* "-x" for an unknown short option */
	bool stray_argument;
	struct tool tool;
};

/* Opens /dev/null on each of fds 0, 1 and 2 that is closed.  Otherwise the first files the
 * process opens (the module's pcscd socket) would take them: the answers would be read from
 * that socket and the headings written into it. */
static bool standard_fds_open(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* open() takes the lowest free fd: this one, as those below it are open now */
		if (open("/dev/null", O_RDWR) != fd)
			return false;
	}
	return true;
}

/* No core file and no ptrace by other processes of the user: secrets pass through memory. */
static void protect_process(void)
{
	struct rlimit no_core = {0, 0};

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static void print_help(void)
{
	printf(_("Usage: %s [OPTION]...\n"
	         "Release a locked smart card and set a new PIN with the card's user code, or\n"
	         "set a new PIN when it is forgotten.  Answers are read from the terminal with\n"
	         "echo off, or, when stdin is not a terminal, as lines in the prompts' order:\n"
	         "user code, new PIN, new PIN again.\n"),
	       "p11unlock");
	printf("\n%s", _("Commands (default: unlock):\n"
	                 "      --list            list the cards (user-code tokens hidden)\n"
	                 "      --status          show one card\n"
	                 "      --change-pin      change the PIN (current PIN, new PIN twice)\n"));
	printf("\n%s", _("Options:\n"
	                 "      --json            --list and --status as JSON\n"
	                 "      --serial NUMBER   the card with this card number (XC...)\n"
	                 "      --slot ID         the card in this PKCS#11 slot\n"
	                 "      --token URI       the card matching this PKCS#11 URI (pkcs11:...)\n"
	                 "      --module PATH     load this PKCS#11 module instead of p11unlock's\n"
	                 "      --foreign-token   allow the SO login on a token of another module\n"
	                 "      --last-try        allow using the user code's last try\n"
	                 "      --yes             do not ask \"Unlock ... now?\" (never skips the\n"
	                 "                        last-try confirmation)\n"
	                 "      --show-new-pin    show the new PIN as it is typed (the user code\n"
	                 "                        and the current PIN stay hidden)\n"
	                 "      --verbose         also show the readers' slot numbers and the\n"
	                 "                        card types\n"
	                 "      --lang LANG       messages in zh_TW or en\n"
	                 "      --help            show this help and exit\n"
	                 "      --version         show the version and exit\n"));
	printf("\n%s", _("Exit status:\n"
	                 "  0  success\n"
	                 "  1  other error (the module, a PKCS#11 call)\n"
	                 "  2  usage or input error (nothing was sent to the card)\n"
	                 "  3  wrong user code (or wrong current PIN with --change-pin)\n"
	                 "  4  user code blocked (or PIN locked with --change-pin)\n"
	                 "  5  last try of the user code (or the unlock) not confirmed\n"
	                 "  6  no reader, no card, no card matching the selection, or the\n"
	                 "     card removed during the operation\n"
	                 "  7  card not handled: a real HiCOS card, or another module's token\n"
	                 "     without --foreign-token\n"));
	printf("\n%s", _("Environment: P11UNLOCK_MODULE names the default module.\n"
	                 "See p11unlock(1).\n"));
}

static void set_command(struct options *opts, enum command command)
{
	opts->command = command;
	opts->commands_given++;
}

/* After getopt_long returned '?'.  For an unknown short option, optind may still point at
 * the argument (more letters follow): only optopt names it.  A long option's argument is
 * ARG, named up to its '='. */
static void note_bad_option(struct options *opts, const char *arg)
{
	if (optopt > 0 && optopt < OPT_LIST) { /* not a long option's value */
		opts->bad_short[0] = '-';
		opts->bad_short[1] = (char)optopt;
		opts->bad_short[2] = '\0';
		opts->bad_option = opts->bad_short;
		opts->bad_option_len = 2;
		return;
	}
	opts->bad_option = arg;
	opts->bad_option_len = (int)strcspn(arg, "=");
	opts->bad_option_val = optopt;
}

static void parse_arguments(int argc, char **argv, struct options *opts)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_LIST:
			set_command(opts, COMMAND_LIST);
			break;
		case OPT_STATUS:
			set_command(opts, COMMAND_STATUS);
			break;
		case OPT_CHANGE_PIN:
			set_command(opts, COMMAND_CHANGE_PIN);
			break;
		case OPT_JSON:
			opts->tool.json = true;
			break;
		case OPT_SERIAL:
			opts->tool.selector.serial = optarg;
			break;
		case OPT_SLOT:
			opts->slot = optarg;
			break;
		case OPT_TOKEN:
			opts->token_uri = optarg;
			break;
		case OPT_MODULE:
			opts->module_path = optarg;
			break;
		case OPT_FOREIGN_TOKEN:
			opts->tool.foreign_token = true;
			break;
		case OPT_LAST_TRY:
			opts->tool.last_try = true;
			break;
		case OPT_YES:
			opts->tool.yes = true;
			break;
		case OPT_VERBOSE:
			opts->tool.verbose = true;
			break;
		case OPT_SHOW_NEW_PIN:
			opts->tool.show_new_pin = true;
			break;
		case OPT_LANG:
			opts->lang = optarg;
			break;
		case OPT_HELP:
			opts->help = true;
			break;
		case OPT_VERSION:
			opts->version = true;
			break;
		default:
			if (opts->bad_option == NULL)
				note_bad_option(opts, argv[optind - 1]);
			break;
		}
	}
	if (optind < argc && opts->bad_option == NULL)
		opts->stray_argument = true;
}

/* Says message (and frees it) with the --help hint. */
static bool usage_error(char *message)
{
	fprintf(stderr, "%s\n", message);
	fprintf(stderr, _("Try '%s --help' for more information.\n"), "p11unlock");
	free(message);
	return false;
}

/* Checks the combination of options and turns --slot and --token into the selector. */
static bool check_options(struct options *opts)
{
	struct card_selector *selector = &opts->tool.selector;

	if (opts->bad_option != NULL) {
		const struct option *known = long_options;

		while (known->name != NULL && known->val != opts->bad_option_val)
			known++;
		if (opts->bad_option_val == 0 || known->name == NULL)
			return usage_error(xasprintf(_("Unknown option: %.*s"),
			                             opts->bad_option_len, opts->bad_option));
		if (known->has_arg == required_argument)
			return usage_error(xasprintf(_("--%s needs a value."), known->name));
		return usage_error(xasprintf(_("--%s takes no value."), known->name));
	}
	if (opts->stray_argument)
		return usage_error(
		    xstrdup(_("An unexpected argument was given (not shown: it may be a secret). "
		              "The user code and PINs are asked for, never given on the "
		              "command line.")));
	if (opts->commands_given > 1)
		return usage_error(
		    xstrdup(_("Give only one of --list, --status and --change-pin.")));
	if (opts->tool.json && opts->command != COMMAND_LIST && opts->command != COMMAND_STATUS)
		return usage_error(xstrdup(_("--json goes with --list or --status.")));
	if (opts->slot != NULL) {
		char *end;
		unsigned long long id = strtoull(opts->slot, &end, 10);
		if (opts->slot[0] < '0' || opts->slot[0] > '9' || *end != '\0' ||
		    id > (CK_SLOT_ID)-1)
			return usage_error(
			    xasprintf(_("--slot needs a slot number, not \"%s\"."), opts->slot));
		selector->by_slot = true;
		selector->slot = (CK_SLOT_ID)id;
	}
	if (opts->token_uri != NULL) {
		selector->uri = p11_kit_uri_new();
		if (selector->uri == NULL ||
		    p11_kit_uri_parse(opts->token_uri, P11_KIT_URI_FOR_TOKEN, selector->uri) !=
		        P11_KIT_URI_OK ||
		    p11_kit_uri_any_unrecognized(selector->uri))
			return usage_error(
			    xasprintf(_("--token needs a PKCS#11 URI naming a token, such "
			                "as \"pkcs11:serial=XC00000000091349\", not "
			                "\"%s\"."),
			              opts->token_uri));
	}
	return true;
}

static int run(struct options *opts)
{
	struct tool *tool = &opts->tool;
	char *path = module_path_choose(opts->module_path);
	bool opened = path != NULL && module_open(path, &tool->module);
	int rc;

	free(path);
	if (!opened)
		return EXIT_TOOL_OTHER;
	prompt_init(&tool->prompt);
	switch (opts->command) {
	case COMMAND_LIST:
		rc = command_list(tool);
		break;
	case COMMAND_STATUS:
		rc = command_status(tool);
		break;
	case COMMAND_CHANGE_PIN:
		rc = command_change_pin(tool);
		break;
	case COMMAND_UNLOCK:
	default:
		rc = command_unlock(tool);
		break;
	}
	module_close(&tool->module);
	return rc;
}

int main(int argc, char **argv)
{
	struct options opts;
	int rc;

	if (!standard_fds_open())
		return EXIT_TOOL_OTHER;
	/* A reader that went away (`p11unlock ... | head`) must not end the tool with SIGPIPE,
	 * in the middle of a release or after it: writes fail instead, and the exit status is
	 * the card operation's.  secrets_hold() and echo_off() leave an ignored signal alone. */
	signal(SIGPIPE, SIG_IGN);
	protect_process();
	memset(&opts, 0, sizeof(opts));
	opts.command = COMMAND_UNLOCK;
	parse_arguments(argc, argv, &opts);
	if (opts.lang != NULL && !i18n_lang_valid(opts.lang)) {
		i18n_init(NULL);
		usage_error(xasprintf(_("--lang accepts zh_TW or en, not \"%s\"."), opts.lang));
		return EXIT_TOOL_USAGE;
	}
	i18n_init(opts.lang);
	if (opts.help) {
		print_help();
		return EXIT_TOOL_OK;
	}
	if (opts.version) {
		printf("p11unlock %s\n", PACKAGE_VERSION);
		return EXIT_TOOL_OK;
	}
	if (!check_options(&opts))
		rc = EXIT_TOOL_USAGE;
	else
		rc = run(&opts);
	if (opts.tool.selector.uri != NULL)
		p11_kit_uri_free(opts.tool.selector.uri);
	/* An output error does not change the result: the card operation is done. */
	fflush(stdout);
	return rc;
}

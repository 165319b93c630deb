#include "config.h"

#include "prompt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* While echo is off: the terminal's own settings and the quiet ones, and the prompt, for the
 * signal handlers.  A signal that ends the process restores echo first; a stop (Ctrl-Z)
 * restores echo for the shell, and the continuation turns it off again and shows the
 * prompt again, so an answer typed after "fg" is never echoed. */
static struct termios saved_termios, quiet_termios;
static int echo_fd = -1;
static const char *echo_prompt;
static int echo_prompt_fd = -1;

static const int restore_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP};
#define N_RESTORE_SIGNALS (sizeof(restore_signals) / sizeof(restore_signals[0]))
static struct sigaction restore_previous[N_RESTORE_SIGNALS];
static volatile sig_atomic_t restore_installed[N_RESTORE_SIGNALS];
static struct sigaction continue_previous;
static volatile sig_atomic_t stopped;
/* The fd of a question waiting for its answer on the terminal (its line is open), or -1. */
static volatile sig_atomic_t open_line_fd = -1;

void prompt_end_line(void)
{
	int fd = open_line_fd;

	if (fd >= 0) {
		open_line_fd = -1;
		(void)!write(fd, "\n", 1);
	}
}

static size_t restore_index(int sig)
{
	size_t i = 0;

	while (i < N_RESTORE_SIGNALS - 1 && restore_signals[i] != sig)
		i++;
	return i;
}

/* Echo on, then the signal's previous action (which may be the secrets' wipe, then the end
 * of the process, or a stop); raised now, delivered when this handler returns. */
static void restore_echo_and_reraise(int sig)
{
	int saved_errno = errno;
	size_t i = restore_index(sig);

	tcsetattr(echo_fd, TCSAFLUSH, &saved_termios);
	sigaction(sig, &restore_previous[i], NULL);
	restore_installed[i] = 0;
	stopped = sig == SIGTSTP;
	if (!stopped) /* what comes next on the terminal starts on a line of its own */
		prompt_end_line();
	raise(sig);
	errno = saved_errno;
}

static void install_restore_handler(size_t i)
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = restore_echo_and_reraise;
	sigemptyset(&action.sa_mask);
	if (sigaction(restore_signals[i], NULL, &restore_previous[i]) != 0 ||
	    restore_previous[i].sa_handler == SIG_IGN)
		return;
	restore_installed[i] = sigaction(restore_signals[i], &action, NULL) == 0;
}

/* After a stop: echo off again, ready for the next stop, and the question asked again. */
static void echo_off_after_stop(int sig)
{
	int saved_errno = errno;
	size_t i = restore_index(SIGTSTP);

	(void)sig;
	if (!stopped)
		return;
	stopped = 0;
	tcsetattr(echo_fd, TCSAFLUSH, &quiet_termios);
	install_restore_handler(i);
	if (echo_prompt != NULL)
		(void)!write(echo_prompt_fd, echo_prompt, strlen(echo_prompt));
	errno = saved_errno;
}

/* Echo back on, and every handler echo_off() installed removed. */
static void echo_on(int fd)
{
	sigaction(SIGCONT, &continue_previous, NULL);
	for (size_t i = 0; i < N_RESTORE_SIGNALS; i++) {
		if (restore_installed[i])
			sigaction(restore_signals[i], &restore_previous[i], NULL);
		restore_installed[i] = 0;
	}
	tcsetattr(fd, TCSAFLUSH, &saved_termios);
	echo_prompt = NULL;
}

static bool echo_off(int fd, const char *prompt, int prompt_fd)
{
	struct sigaction action;

	if (tcgetattr(fd, &saved_termios) != 0)
		return false;
	quiet_termios = saved_termios;
	quiet_termios.c_lflag &= ~(tcflag_t)ECHO;
	quiet_termios.c_lflag |= ECHONL; /* the Enter key still moves to the next line */
	echo_fd = fd;
	stopped = 0;
	echo_prompt = prompt;
	echo_prompt_fd = prompt_fd;
	for (size_t i = 0; i < N_RESTORE_SIGNALS; i++)
		install_restore_handler(i);
	memset(&action, 0, sizeof(action));
	action.sa_handler = echo_off_after_stop;
	sigemptyset(&action.sa_mask);
	sigaction(SIGCONT, &action, &continue_previous);
	if (tcsetattr(fd, TCSAFLUSH, &quiet_termios) != 0) {
		echo_on(fd);
		return false;
	}
	return true;
}

void prompt_init(struct prompt *p)
{
	p->in_fd = STDIN_FILENO;
	p->out = stdout;
	p->interactive = isatty(STDIN_FILENO) == 1;
}

enum line_rv line_read(int fd, char *buf, size_t size, size_t *len)
{
	enum line_rv rv = LINE_OK;
	size_t n = 0;
	bool got_any = false;
	char c = '\0';

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rv = LINE_ERROR;
			break;
		}
		if (r == 0) {
			if (!got_any)
				rv = LINE_EOF;
			break;
		}
		got_any = true;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
		else
			rv = LINE_TOO_LONG; /* read on to the end of the line, keep nothing */
	}
	OPENSSL_cleanse(&c, sizeof(c));
	if (rv == LINE_ERROR || rv == LINE_TOO_LONG) {
		OPENSSL_cleanse(buf, size);
		*len = 0;
		return rv;
	}
	if (rv == LINE_EOF)
		return rv;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return LINE_OK;
}

enum line_rv prompt_read(const struct prompt *p, const char *text, bool hidden, char *buf,
                         size_t size, size_t *len)
{
	bool quiet = false;
	enum line_rv rv;

	if (p->interactive) {
		fputs(text, p->out);
		fflush(p->out);
		if (hidden)
			quiet = echo_off(p->in_fd, text, fileno(p->out));
		open_line_fd = fileno(p->out);
	}
	rv = line_read(p->in_fd, buf, size, len);
	open_line_fd = -1;
	if (quiet)
		echo_on(p->in_fd);
	if (p->interactive && rv == LINE_EOF) {
		fputc('\n', p->out);
		fflush(p->out);
	}
	return rv;
}

/* text without the spaces around it: [*start, *start + *len). */
static void trim(const char *text, const char **start, size_t *len)
{
	size_t n = strlen(text);

	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	while (n > 0 && (*text == ' ' || *text == '\t')) {
		text++;
		n--;
	}
	*start = text;
	*len = n;
}

static bool trimmed_is(const char *start, size_t len, const char *word, bool any_case)
{
	return strlen(word) == len &&
	       (any_case ? strncasecmp(start, word, len) : strncmp(start, word, len)) == 0;
}

enum answer answer_parse(const char *text)
{
	const char *s;
	size_t len;

	trim(text, &s, &len);
	if (trimmed_is(s, len, "y", true) || trimmed_is(s, len, "yes", true) ||
	    trimmed_is(s, len, "是", false))
		return ANSWER_YES;
	if (len == 0 || trimmed_is(s, len, "n", true) || trimmed_is(s, len, "no", true) ||
	    trimmed_is(s, len, "否", false))
		return ANSWER_NO;
	return ANSWER_UNCLEAR;
}

bool answer_confirms_last_try(const char *text)
{
	const char *s;
	size_t len;

	trim(text, &s, &len);
	return trimmed_is(s, len, "yes", true) || trimmed_is(s, len, "是", false);
}

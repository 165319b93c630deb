#include "config.h"

#include "prompt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* The terminal's settings while echo is off, restored by a signal handler too. */
static struct termios saved_termios;
static volatile sig_atomic_t echo_is_off;
static int echo_fd = -1;

static const int restore_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define N_RESTORE_SIGNALS (sizeof(restore_signals) / sizeof(restore_signals[0]))

static void restore_echo_and_reraise(int sig)
{
	if (echo_is_off)
		tcsetattr(echo_fd, TCSAFLUSH, &saved_termios);
	echo_is_off = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool echo_off(int fd, struct sigaction old[N_RESTORE_SIGNALS])
{
	struct termios quiet;
	struct sigaction action;

	if (tcgetattr(fd, &saved_termios) != 0)
		return false;
	memset(&action, 0, sizeof(action));
	action.sa_handler = restore_echo_and_reraise;
	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < N_RESTORE_SIGNALS; i++)
		sigaction(restore_signals[i], &action, &old[i]);
	quiet = saved_termios;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL; /* the Enter key still moves to the next line */
	echo_fd = fd;
	echo_is_off = 1;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		echo_is_off = 0;
		for (size_t i = 0; i < N_RESTORE_SIGNALS; i++)
			sigaction(restore_signals[i], &old[i], NULL);
		return false;
	}
	return true;
}

static void echo_on(int fd, const struct sigaction old[N_RESTORE_SIGNALS])
{
	tcsetattr(fd, TCSAFLUSH, &saved_termios);
	echo_is_off = 0;
	for (size_t i = 0; i < N_RESTORE_SIGNALS; i++)
		sigaction(restore_signals[i], &old[i], NULL);
}

void prompt_init(struct prompt *p)
{
	p->in_fd = STDIN_FILENO;
	p->out = stdout;
	p->interactive = isatty(STDIN_FILENO) == 1;
}

enum line_rv line_read(int fd, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	bool overflow = false;
	bool got_any = false;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			OPENSSL_cleanse(buf, size);
			return LINE_ERROR;
		}
		if (r == 0) {
			if (!got_any)
				return LINE_EOF;
			break;
		}
		got_any = true;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
		else
			overflow = true;
	}
	OPENSSL_cleanse(&c, sizeof(c));
	if (overflow) {
		OPENSSL_cleanse(buf, size);
		*len = 0;
		return LINE_TOO_LONG;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return LINE_OK;
}

enum line_rv prompt_read(const struct prompt *p, const char *text, bool hidden, char *buf,
                         size_t size, size_t *len)
{
	struct sigaction old[N_RESTORE_SIGNALS];
	bool quiet = false;
	enum line_rv rv;

	if (p->interactive) {
		fputs(text, p->out);
		fflush(p->out);
		if (hidden)
			quiet = echo_off(p->in_fd, old);
	}
	rv = line_read(p->in_fd, buf, size, len);
	if (quiet)
		echo_on(p->in_fd, old);
	if (p->interactive && rv == LINE_EOF) {
		fputc('\n', p->out);
		fflush(p->out);
	}
	return rv;
}

/* The vpcd socket loop: puts a struct vcard on a vsmartcard vpcd reader.
 *
 * vpcd (the reader driver inside pcscd) listens; the card connects to it, as
 * inserting a card into the reader.  Every message in both directions is a
 * 2-byte big-endian length followed by that many bytes.  A 1-byte message from
 * vpcd is a control code (power off, power on, reset, get ATR; only the last
 * is answered), anything longer is a command APDU, answered with the response
 * APDU.  Closing the socket removes the card.
 *
 * Everything from the socket is untrusted: lengths are checked before use and
 * a message that breaks the protocol ends the session (the card is removed).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vcard/vpcd.h"

#define VPCD_DEFAULT_HOST "127.0.0.1"
#define VPCD_DEFAULT_PORT 35963
#define VPCD_RETRY_MS     100

/* Control codes (1-byte messages from vpcd). */
enum vpcd_ctrl {
	VPCD_CTRL_OFF = 0,
	VPCD_CTRL_ON = 1,
	VPCD_CTRL_RESET = 2,
	VPCD_CTRL_ATR = 4,
};

/* The card speaks short APDUs only: header, Lc, 255 data bytes, Le. */
#define APDU_SHORT_MAX (4 + 1 + 255 + 1)

#define ATR_MAX 33

/* Set by the SIGTERM/SIGINT handler; the loop only ever waits inside ppoll()
 * with those signals unblocked, so a signal can never be missed between the
 * check and the wait. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The caller's signal disposition, restored when vcard_serve returns. */
struct saved_signals {
	sigset_t old_mask;
	sigset_t wait_mask; /* old_mask without SIGTERM/SIGINT: used while waiting */
	struct sigaction old_term;
	struct sigaction old_int;
};

static void signals_install(struct saved_signals *saved)
{
	struct sigaction sa;
	sigset_t block;

	stop_requested = 0;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &saved->old_mask);
	saved->wait_mask = saved->old_mask;
	sigdelset(&saved->wait_mask, SIGTERM);
	sigdelset(&saved->wait_mask, SIGINT);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: ppoll must return EINTR */
	sigaction(SIGTERM, &sa, &saved->old_term);
	sigaction(SIGINT, &sa, &saved->old_int);
}

/* Unblocks first, so a stop signal still pending is taken by our handler rather
 * than by the caller's (default: terminate). */
static void signals_restore(const struct saved_signals *saved)
{
	sigprocmask(SIG_SETMASK, &saved->old_mask, NULL);
	sigaction(SIGTERM, &saved->old_term, NULL);
	sigaction(SIGINT, &saved->old_int, NULL);
}

enum io_result {
	IO_OK,
	IO_EOF,     /* orderly close before the first byte of a message */
	IO_STOPPED, /* SIGTERM/SIGINT */
	IO_ERROR,   /* socket error or close in the middle of a message */
};

/* Waits (interruptibly) until fd is readable, or just for timeout_ms when fd < 0.
 * timeout_ms < 0 waits without limit.  Returns IO_OK or IO_STOPPED or IO_ERROR. */
static enum io_result wait_for(int fd, int timeout_ms, const struct saved_signals *sig)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec ts;
	int rc;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
	}
	for (;;) {
		if (stop_requested)
			return IO_STOPPED;
		rc = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, timeout_ms >= 0 ? &ts : NULL,
		           &sig->wait_mask);
		if (rc >= 0)
			return stop_requested ? IO_STOPPED : IO_OK;
		if (errno != EINTR) {
			fprintf(stderr, "p11unlock-vcard: poll: %s\n", strerror(errno));
			return IO_ERROR;
		}
	}
}

/* Sleeps for us microseconds unless a stop signal arrives first. */
static enum io_result sleep_us(unsigned us, const struct saved_signals *sig)
{
	struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000L};

	if (stop_requested)
		return IO_STOPPED;
	/* ppoll with no descriptors is an interruptible sleep with the wait mask. */
	if (ppoll(NULL, 0, &ts, &sig->wait_mask) < 0 && errno != EINTR) {
		fprintf(stderr, "p11unlock-vcard: sleep: %s\n", strerror(errno));
		return IO_ERROR;
	}
	return stop_requested ? IO_STOPPED : IO_OK;
}

/* vpcd (Debian's 0.8 driver) writes the length and the payload of a message
 * with two send() calls, so Nagle holds the payload back until the length is
 * acknowledged, and a delayed ACK makes that ~40 ms per APDU.  Acknowledging at
 * once avoids it; Linux clears TCP_QUICKACK by itself, so it is set before
 * every read. */
static void ack_quickly(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* Reads exactly len bytes.  An orderly close before the first byte is IO_EOF
 * when eof_ok, an error otherwise. */
static enum io_result read_exact(int fd, uint8_t *buf, size_t len, bool eof_ok,
                                 const struct saved_signals *sig)
{
	size_t got = 0;
	enum io_result r;
	ssize_t n;

	while (got < len) {
		r = wait_for(fd, -1, sig);
		if (r != IO_OK)
			return r;
		ack_quickly(fd);
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "p11unlock-vcard: receive from vpcd: %s\n",
			        strerror(errno));
			return IO_ERROR;
		}
		if (n == 0) {
			if (got == 0 && eof_ok)
				return IO_EOF;
			fprintf(stderr,
			        "p11unlock-vcard: vpcd closed the connection mid-message\n");
			return IO_ERROR;
		}
		got += (size_t)n;
	}
	return IO_OK;
}

/* Sends one message (length prefix and payload in a single write). */
static enum io_result send_message(int fd, const uint8_t *payload, size_t len)
{
	uint8_t buf[2 + VCARD_RESP_MAX];
	size_t off = 0;
	ssize_t n;

	if (len > VCARD_RESP_MAX) {
		fprintf(stderr, "p11unlock-vcard: response of %zu bytes is too long\n", len);
		return IO_ERROR;
	}
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)(len & 0xff);
	memcpy(buf + 2, payload, len);
	while (off < len + 2) {
		n = send(fd, buf + off, len + 2 - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "p11unlock-vcard: send to vpcd: %s\n", strerror(errno));
			return IO_ERROR;
		}
		off += (size_t)n;
	}
	return IO_OK;
}

/* Opens a TCP connection to host:port; returns the socket or -1 (errno set). */
static int connect_once(const char *host, int port)
{
	struct addrinfo hints, *res, *ai;
	char service[16];
	int fd = -1, one = 1, saved_errno = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &res) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved_errno = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved_errno;
		return -1;
	}
	/* Small request/response messages: without this, Nagle plus delayed ACKs
	 * can add tens of milliseconds to every APDU. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Connects to vpcd, retrying every VPCD_RETRY_MS while it is not up yet.
 * Returns the socket, or -1 when stopped by a signal or on a hard error. */
static int connect_vpcd(const char *host, int port, const struct saved_signals *sig)
{
	bool told = false;
	int fd;

	for (;;) {
		fd = connect_once(host, port);
		if (fd >= 0)
			return fd;
		if (errno != ECONNREFUSED && errno != ENETUNREACH && errno != EHOSTUNREACH &&
		    errno != ETIMEDOUT && errno != ECONNRESET) {
			fprintf(stderr, "p11unlock-vcard: connect to vpcd at %s:%d: %s\n", host,
			        port, strerror(errno));
			return -1;
		}
		if (!told) {
			fprintf(stderr, "p11unlock-vcard: waiting for vpcd at %s:%d\n", host, port);
			told = true;
		}
		if (wait_for(-1, VPCD_RETRY_MS, sig) != IO_OK)
			return -1;
	}
}

static void log_hex(FILE *log, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(log, "%02X", data[i]);
}

/* Logs data, or only its length when it is secret. */
static void log_data(FILE *log, const char *name, const uint8_t *data, size_t len, bool secret)
{
	fprintf(log, " %s=", name);
	if (secret)
		fprintf(log, "[redacted %zu bytes]", len);
	else if (len == 0)
		fputc('-', log);
	else
		log_hex(log, data, len);
}

/* One line per APDU, e.g.
 *   apdu 3: CLA=80 INS=20 P1=00 P2=01 Lc=6 Le=- data=[redacted 6 bytes] -> SW=63C2 len=0 resp=-
 * Lc/Le follow the short-APDU cases; a command that fits none shows malformed(len=N) and the
 * bytes after the header as "raw". */
static void log_apdu(FILE *log, unsigned long seq, const uint8_t *apdu, size_t apdu_len,
                     const uint8_t *resp, size_t resp_len, bool secret)
{
	size_t lc = 0;
	int le = -1;

	fprintf(log, "apdu %lu: ", seq);
	if (apdu_len < 4) {
		log_data(log, "raw", apdu, apdu_len, secret);
	} else {
		fprintf(log, "CLA=%02X INS=%02X P1=%02X P2=%02X", apdu[0], apdu[1], apdu[2],
		        apdu[3]);
		if (apdu_len == 5) {
			le = apdu[4] ? apdu[4] : 256;
		} else if (apdu_len > 5 && apdu[4] != 0) {
			lc = apdu[4];
			if (apdu_len == 6 + lc)
				le = apdu[5 + lc] ? apdu[5 + lc] : 256;
			else if (apdu_len != 5 + lc)
				lc = 0; /* fits no short case */
		}
		if (apdu_len > 4 && lc == 0 && le < 0) {
			fprintf(log, " malformed(len=%zu)", apdu_len);
			log_data(log, "raw", apdu + 4, apdu_len - 4, secret);
		} else {
			fprintf(log, " Lc=%zu Le=", lc);
			if (le < 0)
				fputc('-', log);
			else
				fprintf(log, "%d", le);
			log_data(log, "data", apdu + 5, lc, secret);
		}
	}
	fprintf(log, " -> SW=%02X%02X len=%zu", resp[resp_len - 2], resp[resp_len - 1],
	        resp_len - 2);
	log_data(log, "resp", resp, resp_len - 2, secret);
	fputc('\n', log);
	fflush(log);
}

static void log_event(FILE *log, const char *what)
{
	if (!log)
		return;
	fprintf(log, "%s\n", what);
	fflush(log);
}

/* Answers a control code.  Returns IO_ERROR for an unknown code.  vpcd asks for
 * the ATR to poll for the card several times a second, so only the first ATR
 * of a connection is logged. */
static enum io_result handle_control(int fd, struct vcard *card, uint8_t code, FILE *log,
                                     bool *atr_logged)
{
	uint8_t atr[ATR_MAX];
	size_t atr_len;

	switch (code) {
	case VPCD_CTRL_OFF:
		vcard_reset(card);
		log_event(log, "power off");
		return IO_OK;
	case VPCD_CTRL_ON:
		vcard_reset(card);
		log_event(log, "power on");
		return IO_OK;
	case VPCD_CTRL_RESET:
		vcard_reset(card);
		log_event(log, "reset");
		return IO_OK;
	case VPCD_CTRL_ATR:
		atr_len = vcard_atr(card, atr, sizeof(atr));
		if (atr_len == 0 || atr_len > sizeof(atr)) {
			fprintf(stderr, "p11unlock-vcard: the card has no valid ATR\n");
			return IO_ERROR;
		}
		if (log && !*atr_logged) {
			fprintf(log, "atr ");
			log_hex(log, atr, atr_len);
			fputc('\n', log);
			fflush(log);
			*atr_logged = true;
		}
		return send_message(fd, atr, atr_len);
	default:
		fprintf(stderr, "p11unlock-vcard: unknown vpcd control code %u\n", code);
		return IO_ERROR;
	}
}

static double monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* serve_connection() ended because an APDU came while the card leaves (--slow-removal). */
#define SERVE_DROPPED 2

/* Serves messages on a connected socket until the session ends.  *leave_at (0: not leaving)
 * is when a card leaving slowly is gone.  Returns 0 for a clean end (signal, remove_after, vpcd
 * closed), SERVE_DROPPED when the connection must be dropped and made again, 1 otherwise. */
static int serve_connection(int fd, struct vcard *card, const struct vcard_serve_opts *opts,
                            const struct saved_signals *sig, double *leave_at)
{
	uint8_t len_buf[2], apdu[APDU_SHORT_MAX], resp[VCARD_RESP_MAX];
	unsigned long apdus = 0;
	bool atr_logged = false;
	enum io_result r;
	size_t len, resp_len;

	for (;;) {
		r = read_exact(fd, len_buf, sizeof(len_buf), true, sig);
		if (r == IO_EOF) {
			log_event(opts->log, "vpcd closed the connection");
			return 0;
		}
		if (r != IO_OK)
			break;
		len = (size_t)len_buf[0] << 8 | len_buf[1];
		if (len == 0 || len > sizeof(apdu)) {
			fprintf(stderr,
			        "p11unlock-vcard: protocol error: message of %zu bytes "
			        "(a short APDU has 4 to %d)\n",
			        len, APDU_SHORT_MAX);
			return 1;
		}
		r = read_exact(fd, apdu, len, false, sig);
		if (r != IO_OK)
			break;
		if (*leave_at > 0 && monotonic_ms() >= *leave_at) {
			log_event(opts->log, "removed (--slow-removal)");
			return 0;
		}
		if (len == 1) {
			r = handle_control(fd, card, apdu[0], opts->log, &atr_logged);
			if (r != IO_OK)
				break;
			continue;
		}

		if (*leave_at > 0)
			return SERVE_DROPPED; /* this APDU fails; the presence poll still finds the
			                         card */
		resp_len = vcard_process(card, apdu, len, resp);
		if (resp_len < 2 || resp_len > sizeof(resp)) {
			fprintf(stderr, "p11unlock-vcard: internal error: response of %zu bytes\n",
			        resp_len);
			return 1;
		}
		apdus++;
		if (opts->log)
			log_apdu(opts->log, apdus, apdu, len, resp, resp_len,
			         vcard_last_was_secret(card));
		if (opts->latency_us) {
			r = sleep_us(opts->latency_us, sig);
			if (r != IO_OK)
				break;
		}
		r = send_message(fd, resp, resp_len);
		if (r != IO_OK)
			break;
		if (opts->remove_after && apdus >= opts->remove_after && opts->slow_removal_ms) {
			log_event(opts->log,
			          "leaving: APDUs fail, the reader sees the card for a while");
			*leave_at = monotonic_ms() + opts->slow_removal_ms;
			continue;
		}
		if (opts->remove_after && apdus >= opts->remove_after) {
			log_event(opts->log, "removed after the last APDU (--remove-after)");
			return 0;
		}
	}
	if (r == IO_STOPPED) {
		log_event(opts->log, "removed (signal)");
		return 0;
	}
	return 1;
}

int vcard_serve(struct vcard *card, const struct vcard_serve_opts *opts)
{
	const char *host = opts->host ? opts->host : VPCD_DEFAULT_HOST;
	int port = opts->port ? opts->port : VPCD_DEFAULT_PORT;
	struct saved_signals sig;
	int fd, rc;

	if (port < 1 || port > 65535) {
		fprintf(stderr, "p11unlock-vcard: port %d is out of range\n", port);
		return 1;
	}
	signals_install(&sig);
	fd = connect_vpcd(host, port, &sig);
	if (fd < 0) {
		rc = stop_requested ? 0 : 1;
	} else {
		double leave_at = 0;

		log_event(opts->log, "inserted");
		for (;;) {
			rc = serve_connection(fd, card, opts, &sig, &leave_at);
			/* Closing the socket is what removes the card from the reader... */
			close(fd);
			if (rc != SERVE_DROPPED)
				break;
			/* ... unless it comes back before vpcd's next presence poll. */
			fd = connect_vpcd(host, port, &sig);
			if (fd < 0) {
				rc = stop_requested ? 0 : 1;
				break;
			}
		}
	}
	signals_restore(&sig);
	return rc;
}

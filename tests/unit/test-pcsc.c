/* The PC/SC transport against a real pcscd: the test rig (tests/rig.sh) runs a
 * private pcscd with two vpcd readers in its own namespace, and virtual cards
 * are inserted and removed there.  Needs root (namespaces); skipped otherwise.
 *
 * Reader 0 holds a T=1 test card for the whole run; reader 1 gets cards
 * inserted and removed by the tests. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <PCSC/winscard.h>

#include "card/card.h"
#include "pcsc/reader.h"
#include "vcard/vcard.h"

#define READER0 "Virtual PCD 00 00"
#define READER1 "Virtual PCD 00 01"
#define PIN     "123456"
/* The connections' deadline in these tests. */
#define TIMEOUT_MS 2000

static char rig_dir[64], rig_script[PATH_MAX];
static bool rig_up, reader1_has_card;

/* Runs `tests/rig.sh ARGS` and asserts it succeeded. */
static void rig(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void rig(const char *fmt, ...)
{
	char args[1024], cmd[PATH_MAX + 1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "'%s' %s >>'%s/test-pcsc.out' 2>&1", rig_script, args, rig_dir);
	if (system(cmd) != 0)
		fail_msg("rig.sh %s failed (see %s/test-pcsc.out)", args, rig_dir);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void create_card(const char *name)
{
	struct vcard_params params = {0};
	char path[PATH_MAX], err[256];

	snprintf(path, sizeof path, "%s/%s", rig_dir, name);
	if (vcard_create(path, &params, err, sizeof err) != 0)
		fail_msg("vcard_create: %s", err);
}

static int group_setup(void **state)
{
	const char *srcdir = getenv("top_srcdir");
	char env_line[128];

	snprintf(rig_script, sizeof rig_script, "%s/tests/rig.sh", srcdir);
	snprintf(rig_dir, sizeof rig_dir, "/tmp/p11u-test-pcsc-XXXXXX");
	assert_non_null(mkdtemp(rig_dir));
	create_card("card0.state");
	create_card("card1.state");
	rig("start '%s' --readers 1", rig_dir);
	/* Before the first PC/SC call: the client library reads it once. */
	snprintf(env_line, sizeof env_line, "%s/run/pcscd.comm", rig_dir);
	setenv("PCSCLITE_CSOCK_NAME", env_line, 1);
	rig_up = true;
	rig("insert '%s' 0 '%s/card0.state'", rig_dir, rig_dir);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	if (!rig_up)
		return 0;
	rig("stop '%s'", rig_dir);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", rig_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct p11u_pcsc *open_pcsc(void)
{
	struct p11u_pcsc *pcsc = NULL;

	assert_int_equal(p11u_pcsc_open(&pcsc), P11U_IO_OK);
	assert_non_null(pcsc);
	return pcsc;
}

static void insert_reader1(const char *extra)
{
	if (reader1_has_card)
		rig("remove '%s' 1", rig_dir);
	rig("insert '%s' 1 '%s/card1.state' %s", rig_dir, rig_dir, extra);
	reader1_has_card = true;
}

static void remove_reader1(void)
{
	if (reader1_has_card)
		rig("remove '%s' 1", rig_dir);
	reader1_has_card = false;
}

static void test_list_readers(void **state)
{
	struct p11u_pcsc *pcsc;
	char **names = NULL;

	pcsc = open_pcsc();
	assert_int_equal(p11u_pcsc_list_readers(pcsc, &names), P11U_IO_OK);
	assert_non_null(names);
	assert_string_equal(names[0], READER0);
	assert_string_equal(names[1], READER1);
	assert_null(names[2]);
	p11u_pcsc_free_names(names);
	p11u_pcsc_close(pcsc);
}

static void test_presence(void **state)
{
	struct p11u_reader_state st;
	struct p11u_pcsc *pcsc;

	remove_reader1();
	pcsc = open_pcsc();
	assert_int_equal(p11u_pcsc_reader_state(pcsc, READER0, &st), P11U_IO_OK);
	assert_true(st.present);
	assert_false(st.mute);
	assert_int_equal(st.atr_len, 13);
	assert_memory_equal(st.atr + 3, "P11UVCARD", 9);
	assert_int_equal(p11u_pcsc_reader_state(pcsc, READER1, &st), P11U_IO_OK);
	assert_false(st.present);
	assert_int_equal(st.atr_len, 0);
	assert_int_equal(p11u_pcsc_reader_state(pcsc, "No Such Reader 00 00", &st), P11U_IO_ERROR);
	p11u_pcsc_close(pcsc);
}

/* The card layer over the real transport: identification, PIN, signature. */
static void test_card_over_pcsc(void **state)
{
	struct p11u_pcsc *pcsc;
	struct p11u_reader *reader = NULL;
	struct p11u_card *card = NULL;
	struct p11u_secret_state st;
	const uint8_t *atr;
	uint8_t di[51], sig[256];
	size_t atr_len, sig_len = sizeof sig;

	pcsc = open_pcsc();
	assert_int_equal(p11u_reader_connect(READER0, TIMEOUT_MS, &reader), P11U_IO_OK);
	atr = p11u_reader_atr(reader, &atr_len);
	assert_int_equal(p11u_card_open(p11u_reader_transport(reader), atr, atr_len, &card),
	                 P11U_CARD_OK);
	assert_int_equal(p11u_card_info(card)->kind, P11U_CARD_KIND_TEST);
	assert_string_equal(p11u_card_info(card)->card_number, "XC00000000091349");
	assert_int_equal(p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, NULL),
	                 P11U_CARD_OK);
	assert_int_equal(p11u_card_secret_state(card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_true(st.verified);
	memset(di, 0x33, sizeof di);
	assert_int_equal(
	    p11u_card_sign(card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, sizeof di, sig, &sig_len),
	    P11U_CARD_OK);
	assert_int_equal(sig_len, 256);
	assert_int_equal(p11u_reader_check(reader), P11U_IO_OK);
	p11u_card_free(card);
	p11u_reader_disconnect(reader);
	p11u_pcsc_close(pcsc);
}

struct waiter {
	struct p11u_pcsc *pcsc;
	unsigned cancel_gen;
	unsigned timeout_ms;
	enum p11u_io_rv rv;
	double returned_at;
	pthread_t thread;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	const char *const readers[] = {READER0, READER1};

	w->rv = p11u_pcsc_wait_change(w->pcsc, w->cancel_gen, readers, 2, w->timeout_ms);
	w->returned_at = now();
	return NULL;
}

static void start_waiter(struct waiter *w, struct p11u_pcsc *pcsc, unsigned timeout_ms)
{
	w->pcsc = pcsc;
	w->cancel_gen = p11u_pcsc_cancel_gen(pcsc);
	w->timeout_ms = timeout_ms;
	w->rv = (enum p11u_io_rv) - 1;
	assert_int_equal(pthread_create(&w->thread, NULL, wait_thread, w), 0);
	usleep(300 * 1000); /* let it block */
}

/* Brings the wait baseline up to date (a wait reports changes since the previous wait). */
static void sync_baseline(struct p11u_pcsc *pcsc)
{
	const char *const readers[] = {READER0, READER1};

	assert_int_equal(p11u_pcsc_wait_change(pcsc, p11u_pcsc_cancel_gen(pcsc), readers, 2, 0),
	                 P11U_IO_OK);
}

static void test_wait_sees_insert_and_remove(void **state)
{
	struct p11u_reader_state before, after;
	struct p11u_pcsc *pcsc;
	struct waiter w;
	double t;

	remove_reader1();
	pcsc = open_pcsc();
	assert_int_equal(p11u_pcsc_reader_state(pcsc, READER1, &before), P11U_IO_OK);
	sync_baseline(pcsc);

	start_waiter(&w, pcsc, 20000);
	t = now();
	insert_reader1("");
	pthread_join(w.thread, NULL);
	assert_int_equal(w.rv, P11U_IO_OK);
	assert_true(w.returned_at - t < 10.0);
	assert_int_equal(p11u_pcsc_reader_state(pcsc, READER1, &after), P11U_IO_OK);
	assert_true(after.present);
	assert_int_not_equal(after.event_count, before.event_count);

	start_waiter(&w, pcsc, 20000);
	t = now();
	remove_reader1();
	pthread_join(w.thread, NULL);
	assert_int_equal(w.rv, P11U_IO_OK);
	assert_true(w.returned_at - t < 10.0);
	assert_int_equal(p11u_pcsc_reader_state(pcsc, READER1, &after), P11U_IO_OK);
	assert_false(after.present);
	p11u_pcsc_close(pcsc);
}

static void test_wait_timeout(void **state)
{
	const char *const readers[] = {READER0, READER1};
	struct p11u_pcsc *pcsc;
	double t;

	pcsc = open_pcsc();
	sync_baseline(pcsc);
	t = now();
	assert_int_equal(p11u_pcsc_wait_change(pcsc, p11u_pcsc_cancel_gen(pcsc), readers, 2, 400),
	                 P11U_IO_OK);
	t = now() - t;
	assert_true(t >= 0.35);
	assert_true(t < 3.0);
	p11u_pcsc_close(pcsc);
}

static void test_cancel_wakes_wait(void **state)
{
	struct p11u_pcsc *pcsc;
	struct waiter w;
	double t;

	pcsc = open_pcsc();
	sync_baseline(pcsc);
	start_waiter(&w, pcsc, UINT_MAX);
	t = now();
	p11u_pcsc_cancel(pcsc);
	pthread_join(w.thread, NULL);
	assert_int_equal(w.rv, P11U_IO_ERROR);
	assert_true(w.returned_at - t < 2.0);
	p11u_pcsc_close(pcsc);
}

/* A cancel that arrives after the caller decided to wait, but before the wait starts, is not
 * lost; a wait decided on after it waits. */
static void test_cancel_before_wait(void **state)
{
	const char *const readers[] = {READER0, READER1};
	struct p11u_pcsc *pcsc;
	unsigned gen;
	double t;

	pcsc = open_pcsc();
	sync_baseline(pcsc);
	gen = p11u_pcsc_cancel_gen(pcsc);
	p11u_pcsc_cancel(pcsc);
	t = now();
	assert_int_equal(p11u_pcsc_wait_change(pcsc, gen, readers, 2, 5000), P11U_IO_ERROR);
	assert_true(now() - t < 1.0);
	assert_int_equal(p11u_pcsc_wait_change(pcsc, p11u_pcsc_cancel_gen(pcsc), readers, 2, 200),
	                 P11U_IO_OK);
	p11u_pcsc_close(pcsc);
}

/* Eight threads wait at once, each on a context of its own: presence queries on the main
 * context are never held up by them (a shared wait context made every PC/SC call of the
 * process queue behind the wait in progress), and one cancel wakes them all together. */
static void test_many_waiters(void **state)
{
	struct p11u_reader_state st;
	struct p11u_pcsc *pcsc;
	struct waiter w[8];
	double t, slowest = 0;

	pcsc = open_pcsc();
	sync_baseline(pcsc);
	for (size_t i = 0; i < 8; i++) {
		w[i].pcsc = pcsc;
		w[i].cancel_gen = p11u_pcsc_cancel_gen(pcsc);
		w[i].timeout_ms = 3000;
		w[i].rv = (enum p11u_io_rv) - 1;
		assert_int_equal(pthread_create(&w[i].thread, NULL, wait_thread, &w[i]), 0);
	}
	usleep(300 * 1000);
	for (int i = 0; i < 20; i++) {
		t = now();
		assert_int_equal(p11u_pcsc_reader_state(pcsc, READER0, &st), P11U_IO_OK);
		t = now() - t;
		if (t > slowest)
			slowest = t;
		usleep(20 * 1000);
	}
	/* A query takes milliseconds; one queued behind a 3 s wait took up to 3 s. */
	assert_true(slowest < 1.0);
	t = now();
	p11u_pcsc_cancel(pcsc);
	for (size_t i = 0; i < 8; i++) {
		pthread_join(w[i].thread, NULL);
		assert_int_equal(w[i].rv, P11U_IO_ERROR);
		assert_true(w[i].returned_at - t < 1.0);
	}
	p11u_pcsc_close(pcsc);
}

/* Another application resets the card: reported once, the connection re-established, the
 * verified PIN gone. */
static void reset_card_elsewhere(const char *reader_name)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE handle;
	DWORD protocol;

	assert_int_equal(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx),
	                 SCARD_S_SUCCESS);
	assert_int_equal(SCardConnect(ctx, reader_name, SCARD_SHARE_SHARED,
	                              SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &handle, &protocol),
	                 SCARD_S_SUCCESS);
	assert_int_equal(SCardReconnect(handle, SCARD_SHARE_SHARED,
	                                SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_RESET_CARD,
	                                &protocol),
	                 SCARD_S_SUCCESS);
	SCardDisconnect(handle, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
}

static void test_reset_by_other_application(void **state)
{
	struct p11u_pcsc *pcsc;
	struct p11u_reader *reader = NULL;
	struct p11u_card *card = NULL;
	const uint8_t *atr;
	uint8_t di[51], sig[256];
	size_t atr_len, sig_len = sizeof sig;

	memset(di, 0x44, sizeof di);
	pcsc = open_pcsc();
	assert_int_equal(p11u_reader_connect(READER0, TIMEOUT_MS, &reader), P11U_IO_OK);
	atr = p11u_reader_atr(reader, &atr_len);
	assert_int_equal(p11u_card_open(p11u_reader_transport(reader), atr, atr_len, &card),
	                 P11U_CARD_OK);
	assert_int_equal(p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, NULL),
	                 P11U_CARD_OK);

	reset_card_elsewhere(READER0);
	assert_int_equal(
	    p11u_card_sign(card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, sizeof di, sig, &sig_len),
	    P11U_CARD_E_RESET);
	assert_int_equal(
	    p11u_card_sign(card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, sizeof di, sig, &sig_len),
	    P11U_CARD_E_NOT_VERIFIED);

	/* The cheap check notices it too, once. */
	reset_card_elsewhere(READER0);
	assert_int_equal(p11u_reader_check(reader), P11U_IO_RESET);
	assert_int_equal(p11u_reader_check(reader), P11U_IO_OK);
	assert_int_equal(p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, NULL),
	                 P11U_CARD_OK);
	assert_int_equal(
	    p11u_card_sign(card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, sizeof di, sig, &sig_len),
	    P11U_CARD_OK);
	p11u_card_free(card);
	p11u_reader_disconnect(reader);
	p11u_pcsc_close(pcsc);
}

static void test_removed(void **state)
{
	struct p11u_pcsc *pcsc;
	struct p11u_reader *reader = NULL;
	struct p11u_card *card = NULL;
	struct p11u_secret_state st;
	const uint8_t *atr;
	size_t atr_len;

	insert_reader1("");
	pcsc = open_pcsc();
	assert_int_equal(p11u_reader_connect(READER1, TIMEOUT_MS, &reader), P11U_IO_OK);
	atr = p11u_reader_atr(reader, &atr_len);
	assert_int_equal(p11u_card_open(p11u_reader_transport(reader), atr, atr_len, &card),
	                 P11U_CARD_OK);
	remove_reader1();
	assert_int_equal(p11u_reader_check(reader), P11U_IO_REMOVED);
	assert_int_equal(p11u_card_secret_state(card, P11U_SECRET_PIN, &st), P11U_CARD_E_REMOVED);
	p11u_card_free(card);
	p11u_reader_disconnect(reader);
	reader = (struct p11u_reader *)0x1;
	assert_int_equal(p11u_reader_connect(READER1, TIMEOUT_MS, &reader), P11U_IO_NO_CARD);
	assert_null(reader);
	p11u_pcsc_close(pcsc);
}

/* The card leaves right after answering the first APDU: the next transmit meets pcscd before
 * its presence poll saw the removal (it answers with a communication error then), and still
 * reports the removal, not a transport error. */
static void test_removed_mid_command(void **state)
{
	static const uint8_t select_mf[] = {0x80, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00};
	const struct p11u_transport *t;
	struct p11u_pcsc *pcsc;
	struct p11u_reader *reader = NULL;
	uint8_t resp[258];
	size_t resp_len = sizeof resp;

	insert_reader1("--remove-after 1");
	pcsc = open_pcsc();
	assert_int_equal(p11u_reader_connect(READER1, TIMEOUT_MS, &reader), P11U_IO_OK);
	t = p11u_reader_transport(reader);
	assert_int_equal(t->transmit(t->ctx, select_mf, sizeof select_mf, resp, &resp_len),
	                 P11U_IO_OK);
	resp_len = sizeof resp;
	assert_int_equal(t->transmit(t->ctx, select_mf, sizeof select_mf, resp, &resp_len),
	                 P11U_IO_REMOVED);
	p11u_reader_disconnect(reader);
	p11u_pcsc_close(pcsc);
	remove_reader1();
}

/* The same when pcscd's presence poll sees the removal only seconds later (as on a loaded
 * machine; here the card keeps answering the poll for 2.5 s while every APDU fails): still a
 * removal, not a transport error. */
static void test_removed_seen_late(void **state)
{
	static const uint8_t select_mf[] = {0x80, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00};
	const struct p11u_transport *t;
	struct p11u_reader *reader = NULL;
	uint8_t resp[258];
	size_t resp_len = sizeof resp;

	insert_reader1("--remove-after 1 --slow-removal 2500");
	assert_int_equal(p11u_reader_connect(READER1, 10000, &reader), P11U_IO_OK);
	t = p11u_reader_transport(reader);
	assert_int_equal(t->transmit(t->ctx, select_mf, sizeof select_mf, resp, &resp_len),
	                 P11U_IO_OK);
	resp_len = sizeof resp;
	assert_int_equal(t->transmit(t->ctx, select_mf, sizeof select_mf, resp, &resp_len),
	                 P11U_IO_REMOVED);
	p11u_reader_disconnect(reader);
	remove_reader1();
}

/* Sends a signal to the virtual card serving reader 1 (its pid file holds "PID STARTTIME"). */
static void signal_reader1_card(int sig)
{
	char path[PATH_MAX];
	FILE *f;
	long pid = 0;

	snprintf(path, sizeof path, "%s/card-1.pid", rig_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	assert_true(pid > 1);
	assert_int_equal(kill((pid_t)pid, sig), 0);
}

/* A card that answered its ATR and then stops answering (its process stopped: pcscd waits for
 * it for ever): the caller gets P11U_IO_TIMEOUT at the deadline, every later call at once,
 * other queries go on; when the card answers again, the connection works again. */
static void test_stalled_card(void **state)
{
	static const uint8_t select_mf[] = {0x80, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00};
	const struct p11u_transport *t;
	struct p11u_reader_state st;
	struct p11u_pcsc *pcsc;
	struct p11u_reader *reader = NULL;
	uint8_t resp[258];
	size_t resp_len = sizeof resp;
	double t0;
	int i;

	insert_reader1("");
	pcsc = open_pcsc();
	assert_int_equal(p11u_reader_connect(READER1, TIMEOUT_MS, &reader), P11U_IO_OK);
	t = p11u_reader_transport(reader);
	assert_int_equal(t->transmit(t->ctx, select_mf, sizeof select_mf, resp, &resp_len),
	                 P11U_IO_OK);
	signal_reader1_card(SIGSTOP);
	t0 = now();
	resp_len = sizeof resp;
	assert_int_equal(t->transmit(t->ctx, select_mf, sizeof select_mf, resp, &resp_len),
	                 P11U_IO_TIMEOUT);
	assert_true(now() - t0 >= TIMEOUT_MS / 1000.0 - 0.1);
	assert_true(p11u_reader_stalled(reader));
	t0 = now();
	assert_int_equal(t->begin(t->ctx), P11U_IO_TIMEOUT);
	assert_int_equal(p11u_reader_check(reader), P11U_IO_TIMEOUT);
	assert_true(now() - t0 < 0.5);
	/* Listing and presence have their own context. */
	assert_int_equal(p11u_pcsc_reader_state(pcsc, READER0, &st), P11U_IO_OK);
	assert_true(st.present);
	assert_true(now() - t0 < 1.0);

	signal_reader1_card(SIGCONT);
	for (i = 0; i < 100 && p11u_reader_stalled(reader); i++)
		usleep(50 * 1000);
	assert_false(p11u_reader_stalled(reader));
	resp_len = sizeof resp;
	assert_int_equal(t->transmit(t->ctx, select_mf, sizeof select_mf, resp, &resp_len),
	                 P11U_IO_OK);
	assert_int_equal(resp_len, 2);
	assert_int_equal(resp[0], 0x90);
	p11u_reader_disconnect(reader);
	p11u_pcsc_close(pcsc);
	remove_reader1();
}

/* A T=0 card through pcscd: every answer with data comes by GET RESPONSE. */
static void test_t0_card_over_pcsc(void **state)
{
	struct p11u_pcsc *pcsc;
	struct p11u_reader *reader = NULL;
	struct p11u_card *card = NULL;
	const uint8_t *atr;
	uint8_t in[256] = {0}, out[256];
	size_t atr_len, out_len = sizeof out;

	insert_reader1("--t0");
	pcsc = open_pcsc();
	assert_int_equal(p11u_reader_connect(READER1, TIMEOUT_MS, &reader), P11U_IO_OK);
	atr = p11u_reader_atr(reader, &atr_len);
	assert_int_equal(atr_len, 11); /* the T=0 ATR */
	assert_int_equal(p11u_card_open(p11u_reader_transport(reader), atr, atr_len, &card),
	                 P11U_CARD_OK);
	assert_non_null(p11u_card_info(card)->certs[P11U_CERT_SIGNATURE].der);
	assert_int_equal(p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, NULL),
	                 P11U_CARD_OK);
	/* Raw decipher of 2: chained command, answer fetched by GET RESPONSE. */
	in[255] = 0x02;
	assert_int_equal(p11u_card_decipher(card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, in, sizeof in,
	                                    out, &out_len),
	                 P11U_CARD_OK);
	assert_int_equal(out_len, 256);
	assert_int_not_equal(memcmp(out, in, 256), 0);
	p11u_card_free(card);
	p11u_reader_disconnect(reader);
	p11u_pcsc_close(pcsc);
	remove_reader1();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_readers),
	    cmocka_unit_test(test_presence),
	    cmocka_unit_test(test_card_over_pcsc),
	    cmocka_unit_test(test_wait_sees_insert_and_remove),
	    cmocka_unit_test(test_wait_timeout),
	    cmocka_unit_test(test_cancel_wakes_wait),
	    cmocka_unit_test(test_cancel_before_wait),
	    cmocka_unit_test(test_many_waiters),
	    cmocka_unit_test(test_reset_by_other_application),
	    cmocka_unit_test(test_removed),
	    cmocka_unit_test(test_removed_mid_command),
	    cmocka_unit_test(test_removed_seen_late),
	    cmocka_unit_test(test_stalled_card),
	    cmocka_unit_test(test_t0_card_over_pcsc),
	};

	/* cmocka reports a skipped test as "not ok # SKIP", which TAP counts as a failure: skip
	 * the whole program with a TAP skip plan instead. */
	if (geteuid() != 0 || getenv("top_srcdir") == NULL) {
		printf("1..0 # SKIP the test rig needs root and top_srcdir (run by make check)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

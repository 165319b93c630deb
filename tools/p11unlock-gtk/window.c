#include "config.h"

#include "window.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <p11-kit/p11-kit.h>

#include "p11unlock/certinfo.h"
#include "p11unlock/p11unlock.h"
#include "p11unlock/i18n.h"
#include "p11unlock/messages.h"
#include "p11unlock/outcome.h"
#include "p11unlock/secret.h"
#include "p11unlock/steps.h"
#include "p11unlock/text.h"
#include "p11unlock/token.h"

/* How often the watcher asks a module without C_WaitForSlotEvent for its slots. */
#define POLL_INTERVAL_US (1000 * 1000)

/* The one window of the process.  Its card list belongs to the UI thread while no job runs,
 * and to the running job (or the last-try dialog waiting for an answer) while busy. */
struct unlock_window {
	GtkWindow *window;
	GtkStringList *card_names;
	GtkDropDown *cards;
	GtkWidget *detect_button;
	GtkLabel *number, *holder, *validity, *tries, *pin_state, *problem, *status, *notes;
	GtkWidget *spinner;
	GtkLabel *busy_label; /* always there, empty while idle: assistive technologies hear the
	                         change of its text, however short the work */
	GtkEditable *user_code, *new_pin, *new_pin_again;
	GtkWidget *unlock_button, *clear_button;

	struct module module;
	bool module_ok;
	struct card_list list;
	char chosen[sizeof(((struct card *)NULL)->serial)]; /* the chosen card's number, or "" */
	bool busy;
	bool refilling;     /* the drop-down is refilled by us, not chosen by the holder */
	bool detect_wanted; /* a slot event came while busy */
	bool outcome_shown; /* an attempt's outcome is shown: detections leave it until the holder
	                       acts again (types, chooses, detects) */
	char *notice;       /* the chosen card was taken out: said before the next card's status
	                       until the holder acts again, whatever detections come meanwhile */
	int rounds;         /* the count changed under the holder this often in this attempt */
	struct secret *secrets;

	GThread *watcher;
	gint stopping;
	gint event_posted;
};

static struct unlock_window win;

/* --- small helpers ------------------------------------------------------------------------ */

/* Sets a label's text and frees it. */
static void label_take(GtkLabel *label, char *text)
{
	gtk_label_set_text(label, text);
	free(text);
}

static void status_take(char *text, bool error)
{
	label_take(win.status, text);
	if (error)
		gtk_widget_add_css_class(GTK_WIDGET(win.status), "error");
	else
		gtk_widget_remove_css_class(GTK_WIDGET(win.status), "error");
}

static struct card *chosen_card(void)
{
	for (size_t i = 0; i < win.list.count; i++) {
		if (win.chosen[0] != '\0' && strcmp(win.list.cards[i].serial, win.chosen) == 0)
			return &win.list.cards[i];
	}
	return NULL;
}

/* The entries emptied: what was typed goes, GTK's password buffers wipe their memory. */
static void clear_entries(void)
{
	gtk_editable_set_text(win.user_code, "");
	gtk_editable_set_text(win.new_pin, "");
	gtk_editable_set_text(win.new_pin_again, "");
}

static bool entries_typed(void)
{
	return gtk_editable_get_text(win.user_code)[0] != '\0' ||
	       gtk_editable_get_text(win.new_pin)[0] != '\0' ||
	       gtk_editable_get_text(win.new_pin_again)[0] != '\0';
}

static void notice_drop(void)
{
	free(win.notice);
	win.notice = NULL;
}

/* The holder acts again (types, chooses a card, detects): what was shown for the last
 * attempt or for the card taken out may give way. */
static void holder_acts(void)
{
	win.outcome_shown = false;
	notice_drop();
}

/* The card chosen can be released here at all (the checks that need no secret). */
static bool card_unlockable(const struct card *card)
{
	return card != NULL && card->kind == CARD_P11UNLOCK &&
	       release_gate_of(card) != RELEASE_BLOCKED;
}

/* --- inputs, checked as they are typed ------------------------------------------------------ */

/* One field's problem (SECRET_OK for an empty field: nothing to say yet). */
static enum secret_problem field_problem(GtkEditable *entry, enum secret_field field, bool *empty)
{
	const char *text = gtk_editable_get_text(entry);
	size_t len = strlen(text);

	*empty = len == 0;
	if (len == 0)
		return SECRET_OK;
	return len >= SECRET_BUF_SIZE ? SECRET_TOO_LONG : secret_check(field, text, len);
}

/* The two new PINs typed alike (compared without an early exit). */
static bool new_pins_equal(void)
{
	const char *a = gtk_editable_get_text(win.new_pin);
	const char *b = gtk_editable_get_text(win.new_pin_again);
	size_t len = strlen(a);

	return len == strlen(b) && CRYPTO_memcmp(a, b, len) == 0;
}

/* Updates the problem line and the buttons: the release is offered only for a card that can
 * be released and inputs that pass every local check.  The first problem is named. */
static void inputs_changed(void)
{
	bool code_empty, pin_empty;
	bool again_empty = gtk_editable_get_text(win.new_pin_again)[0] == '\0';
	enum secret_problem code =
	    field_problem(win.user_code, SECRET_FIELD_USER_CODE, &code_empty);
	enum secret_problem pin = field_problem(win.new_pin, SECRET_FIELD_NEW_PIN, &pin_empty);
	enum secret_problem again = !again_empty && !new_pins_equal() ? SECRET_MISMATCH : SECRET_OK;
	bool complete = !code_empty && !pin_empty && !again_empty && code == SECRET_OK &&
	                pin == SECRET_OK && again == SECRET_OK;

	if (code != SECRET_OK)
		label_take(win.problem, secret_problem_message(SECRET_FIELD_USER_CODE, code));
	else if (pin != SECRET_OK)
		label_take(win.problem, secret_problem_message(SECRET_FIELD_NEW_PIN, pin));
	else
		label_take(win.problem, secret_problem_message(SECRET_FIELD_NEW_PIN_AGAIN, again));
	gtk_widget_set_sensitive(win.unlock_button,
	                         !win.busy && complete && card_unlockable(chosen_card()));
}

static void on_entry_changed(GtkEditable *entry, gpointer data)
{
	if (gtk_editable_get_text(entry)[0] != '\0')
		holder_acts();
	inputs_changed();
}

/* While the card works (or the last-try question waits), nothing else may be started. */
static void set_busy(bool busy, bool working)
{
	win.busy = busy;
	gtk_widget_set_visible(win.spinner, working);
	gtk_label_set_text(win.busy_label, working ? _("Working, please wait…") : "");
	gtk_widget_set_sensitive(GTK_WIDGET(win.cards), !busy);
	gtk_widget_set_sensitive(win.detect_button, !busy);
	gtk_widget_set_sensitive(win.clear_button, !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(win.user_code), !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(win.new_pin), !busy);
	gtk_widget_set_sensitive(GTK_WIDGET(win.new_pin_again), !busy);
	inputs_changed();
}

/* --- the card shown ------------------------------------------------------------------------- */

/* The form's tries-left line, and the PIN's state under it (locked or not). */
static void show_tries(const struct card *card)
{
	label_take(win.tries, msg_user_code_tries(card));
	label_take(win.pin_state, msg_pin_tries(card));
}

static void show_card(const struct card *card)
{
	if (card == NULL) {
		gtk_label_set_text(win.number, "");
		gtk_label_set_text(win.holder, "");
		gtk_label_set_text(win.validity, "");
		gtk_label_set_text(win.tries, "");
		gtk_label_set_text(win.pin_state, "");
		gtk_label_set_text(win.notes, "");
		return;
	}
	gtk_label_set_text(win.number, card->serial);
	gtk_label_set_text(win.holder, card->has_cert ? card->cert.holder : _("(unknown)"));
	label_take(win.validity, card->has_cert
	                             ? validity_format(card->cert.not_before, card->cert.not_after)
	                             : xstrdup(_("(unknown)")));
	show_tries(card);
	label_take(win.notes, msg_notes(card));
}

/* What the holder needs to know about the card chosen before typing anything ("" when
 * nothing); *error says whether it is a refusal or a warning. */
static char *card_status_text(const struct card *card, bool *error)
{
	*error = true;
	if (card->kind == CARD_HICOS)
		return msg_hicos_refusal(card);
	if (card->kind == CARD_FOREIGN)
		return msg_foreign_refusal(card);
	if (release_gate_of(card) == RELEASE_BLOCKED)
		return msg_blocked(card);
	*error = false;
	return card->pin.state != TRIES_LOCKED ? msg_pin_not_locked() : xstrdup("");
}

/* The status line for the card chosen, after the notice of a card taken out if there is one:
 * a detection that follows (a locked card leaves two slots, so its removal is often two slot
 * events) must not hide the notice before the holder has seen it. */
static void show_card_status(const struct card *card)
{
	bool error;
	char *text;

	if (card == NULL)
		return;
	text = card_status_text(card, &error);
	if (win.notice != NULL) {
		char *both =
		    text[0] != '\0' ? xasprintf("%s\n%s", win.notice, text) : xstrdup(win.notice);
		free(text);
		text = both;
		error = true;
	}
	status_take(text, error);
}

static void on_card_selected(GObject *object, GParamSpec *pspec, gpointer data)
{
	guint index = gtk_drop_down_get_selected(win.cards);

	if (win.refilling || index == GTK_INVALID_LIST_POSITION || index >= win.list.count)
		return;
	holder_acts();
	if (strcmp(win.chosen, win.list.cards[index].serial) != 0) {
		/* What was typed was typed for the other card. */
		clear_entries();
		snprintf(win.chosen, sizeof(win.chosen), "%s", win.list.cards[index].serial);
	}
	show_card(&win.list.cards[index]);
	show_card_status(&win.list.cards[index]);
	inputs_changed();
}

/* --- jobs: card I/O in a worker thread ---------------------------------------------------- */

enum job_kind {
	JOB_DETECT,  /* the card list read again */
	JOB_CHECK,   /* the card bound to the holder's choice, its tries read again */
	JOB_RELEASE, /* the release with the count the holder saw */
};

struct job {
	enum job_kind kind;
	struct card *card;
	CK_RV rv;
	enum detect_result detect;
	enum pin_stage stage;
	bool tries_changed; /* JOB_RELEASE: asked again, nothing was sent */
	struct release_note note;
};

static void job_free(gpointer data)
{
	struct job *job = data;

	release_note_clear(&job->note);
	free(job);
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	struct job *job = data;
	const struct module *module = &win.module;

	switch (job->kind) {
	case JOB_DETECT:
		cards_unbind(module, &win.list);
		card_list_free(&win.list);
		job->rv = cards_detect(module, NULL, &win.list);
		job->detect = detect_classify(job->rv, &win.list);
		break;
	case JOB_CHECK:
		/* Every secret goes through a session opened on the card chosen (its number
		 * checked): a card swapped since the holder chose it gets nothing. */
		job->rv = job->card->bound ? CKR_OK : card_bind(module, job->card);
		if (job->rv != CKR_OK) {
			release_note_lost(job->card, job->rv, "C_OpenSession", &job->note);
			break;
		}
		job->rv = card_refresh_tries(module, job->card);
		if (job->rv != CKR_OK)
			release_note_lost(job->card, job->rv, NULL, &job->note);
		break;
	case JOB_RELEASE:
		job->rv = card_reset_pin(module, job->card, &win.secrets[0], &win.secrets[1],
		                         &job->stage);
		if (job->rv == P11UNLOCK_CKR_TRIES_CHANGED &&
		    win.rounds < RELEASE_TRIES_CHANGED_ROUNDS) {
			job->tries_changed = true;
			break;
		}
		secrets_release();
		release_note_of(module, job->card, job->rv, job->stage, false, &job->note);
		break;
	}
	g_task_return_boolean(task, TRUE);
}

static void job_done(GObject *source, GAsyncResult *result, gpointer data);
static gpointer watch_slots(gpointer data);

static void job_start(enum job_kind kind, struct card *card)
{
	struct job *job = calloc(1, sizeof(*job));
	GTask *task;

	if (job == NULL)
		abort();
	job->kind = kind;
	job->card = card;
	set_busy(true, kind != JOB_DETECT);
	task = g_task_new(NULL, NULL, job_done, NULL);
	g_task_set_task_data(task, job, job_free);
	g_task_run_in_thread(task, job_thread);
	g_object_unref(task);
}

static void detect_start(void)
{
	if (win.busy || !win.module_ok) {
		win.detect_wanted = win.module_ok;
		return;
	}
	win.detect_wanted = false;
	job_start(JOB_DETECT, NULL);
}

/* The attempt is over: the secrets wiped, its outcome shown until the holder acts again, the
 * window free again, a card event that came meanwhile handled. */
static void attempt_end(void)
{
	win.outcome_shown = true;
	if (win.secrets != NULL) {
		secrets_release();
		win.secrets = NULL;
	}
	set_busy(false, false);
	if (win.detect_wanted)
		detect_start();
}

static void detect_done(const struct job *job)
{
	struct card *card;
	guint selected = GTK_INVALID_LIST_POSITION;
	bool had_choice = win.chosen[0] != '\0';
	bool gone;

	win.refilling = true;
	gtk_string_list_splice(win.card_names, 0,
	                       g_list_model_get_n_items(G_LIST_MODEL(win.card_names)), NULL);
	for (size_t i = 0; i < win.list.count; i++) {
		char *name =
		    xasprintf("%s (%s)", win.list.cards[i].serial, win.list.cards[i].reader);

		gtk_string_list_append(win.card_names, name);
		free(name);
		if (strcmp(win.list.cards[i].serial, win.chosen) == 0)
			selected = (guint)i;
	}
	/* The card chosen left: what was typed for it must not go to another card. */
	gone = selected == GTK_INVALID_LIST_POSITION && had_choice && entries_typed();
	if (gone && !win.outcome_shown) {
		notice_drop();
		win.notice = xasprintf(
		    _("Card %s was taken out: what you typed for it was cleared."), win.chosen);
	}
	if (selected == GTK_INVALID_LIST_POSITION && had_choice) {
		clear_entries();
		win.chosen[0] = '\0';
	}
	if (selected == GTK_INVALID_LIST_POSITION && win.list.count > 0) {
		selected = 0;
		snprintf(win.chosen, sizeof(win.chosen), "%s", win.list.cards[0].serial);
	}
	gtk_drop_down_set_selected(win.cards, selected);
	win.refilling = false;

	card = chosen_card();
	show_card(card);
	if (job->detect != DETECT_OK && !win.outcome_shown) {
		notice_drop(); /* newer news: no card left to type for */
		status_take(msg_detect_problem(job->detect, job->rv, &win.list,
		                               module_display_name(&win.module),
		                               module_conf_path()),
		            true);
	} else if (!win.outcome_shown) {
		show_card_status(card);
	}
	set_busy(false, false);
	/* The watcher starts after the first detection: a card the module is still reading for
	 * one call is left out of another call's slot list, and a card present at start is no
	 * slot event, so a watcher racing the first detection could hide a card for good. */
	if (win.watcher == NULL)
		win.watcher = g_thread_new("slot-watcher", watch_slots, NULL);
	if (win.detect_wanted)
		detect_start();
}

static void last_try_ask(struct card *card);

static void check_done(struct job *job)
{
	if (job->note.text != NULL) {
		status_take(job->note.text, true);
		job->note.text = NULL;
		attempt_end();
		return;
	}
	show_tries(job->card);
	switch (release_gate_of(job->card)) {
	case RELEASE_BLOCKED:
		status_take(msg_blocked(job->card), true);
		attempt_end();
		break;
	case RELEASE_LAST_TRY:
		last_try_ask(job->card);
		break;
	case RELEASE_GO:
		job_start(JOB_RELEASE, job->card);
		break;
	}
}

static void success_show(void);

static void release_done(struct job *job)
{
	if (job->tries_changed) {
		/* Another program spent a try meanwhile; the module sent nothing.  The new count is
		 * read and shown, and the last try asked for again if it is the last. */
		win.rounds++;
		status_take(msg_tries_changed(), true);
		job_start(JOB_CHECK, job->card);
		return;
	}
	win.secrets = NULL; /* released by the job */
	show_tries(job->card);
	status_take(job->note.text, job->note.error);
	job->note.text = NULL;
	attempt_end();
	if (job->note.result == PIN_RESULT_OK) {
		success_show();
		detect_start(); /* the card's state, read again */
	}
}

static void job_done(GObject *source, GAsyncResult *result, gpointer data)
{
	struct job *job = g_task_get_task_data(G_TASK(result));

	switch (job->kind) {
	case JOB_DETECT:
		detect_done(job);
		break;
	case JOB_CHECK:
		check_done(job);
		break;
	case JOB_RELEASE:
		release_done(job);
		break;
	}
}

/* --- dialogs -------------------------------------------------------------------------------- */

enum { RESPONSE_LAST_TRY = 1 };

static void on_last_try_response(GtkDialog *dialog, int response, gpointer data)
{
	struct card *card = data;

	gtk_window_destroy(GTK_WINDOW(dialog));
	if (response == RESPONSE_LAST_TRY) {
		job_start(JOB_RELEASE, card);
		return;
	}
	status_take(msg_not_confirmed(), true);
	attempt_end();
}

/* The last try of the user code: spent only when the holder says so in this dialog (the
 * window stays busy meanwhile, so the card list cannot change under the answer). */
static void last_try_ask(struct card *card)
{
	char *warning = msg_last_try_warning(card);
	GtkWidget *dialog = gtk_message_dialog_new(
	    win.window, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_WARNING,
	    GTK_BUTTONS_NONE, "%s", _("Last try of the user code"));

	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s", warning);
	free(warning);
	gtk_dialog_add_buttons(GTK_DIALOG(dialog), _("Cancel"), GTK_RESPONSE_CANCEL,
	                       _("Use the last try"), RESPONSE_LAST_TRY, NULL);
	gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
	g_signal_connect(dialog, "response", G_CALLBACK(on_last_try_response), card);
	set_busy(true, false);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void on_success_response(GtkDialog *dialog, int response, gpointer data)
{
	gtk_window_destroy(GTK_WINDOW(dialog));
}

static void success_show(void)
{
	char *text = msg_unlocked();
	GtkWidget *dialog = gtk_message_dialog_new(
	    win.window, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_INFO,
	    GTK_BUTTONS_NONE, "%s", _("Unlock card / reset PIN: success"));

	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s", text);
	free(text);
	gtk_dialog_add_button(GTK_DIALOG(dialog), _("Close"), GTK_RESPONSE_OK);
	g_signal_connect(dialog, "response", G_CALLBACK(on_success_response), NULL);
	gtk_window_present(GTK_WINDOW(dialog));
}

/* --- buttons -------------------------------------------------------------------------------- */

/* Copies an entry into a held secret; false when it does not fit (never: checked as typed). */
static bool secret_take(GtkEditable *entry, struct secret *secret)
{
	const char *text = gtk_editable_get_text(entry);
	size_t len = strlen(text);

	if (len >= sizeof(secret->value))
		return false;
	memcpy(secret->value, text, len);
	secret->value[len] = '\0';
	secret->len = len;
	return true;
}

static void on_unlock_clicked(GtkButton *button, gpointer data)
{
	struct card *card = chosen_card();
	bool ok;

	if (win.busy || !card_unlockable(card))
		return;
	win.secrets = secrets_hold();
	ok = secret_take(win.user_code, &win.secrets[0]) &&
	     secret_take(win.new_pin, &win.secrets[1]) &&
	     secret_take(win.new_pin_again, &win.secrets[2]);
	/* The entries are emptied now: the secrets live in the held area until the attempt
	 * ends, and nowhere else. */
	clear_entries();
	ok = ok &&
	     secret_check(SECRET_FIELD_USER_CODE, win.secrets[0].value, win.secrets[0].len) ==
	         SECRET_OK &&
	     secret_check(SECRET_FIELD_NEW_PIN, win.secrets[1].value, win.secrets[1].len) ==
	         SECRET_OK &&
	     secret_equal(&win.secrets[1], &win.secrets[2]);
	secret_wipe(&win.secrets[2]); /* only compared */
	if (!ok) {
		attempt_end();
		return;
	}
	win.rounds = 0;
	status_take(xstrdup(""), false);
	job_start(JOB_CHECK, card);
}

static void on_clear_clicked(GtkButton *button, gpointer data)
{
	clear_entries();
	gtk_widget_grab_focus(GTK_WIDGET(win.user_code));
}

static void on_detect_clicked(GtkButton *button, gpointer data)
{
	holder_acts();
	status_take(xstrdup(""), false);
	detect_start();
}

static gboolean on_close_request(GtkWindow *window, gpointer data)
{
	/* Not while the card works: the attempt's outcome must be seen. */
	return win.busy;
}

/* --- the slot watcher ------------------------------------------------------------------------ */

static gboolean slot_event_idle(gpointer data)
{
	g_atomic_int_set(&win.event_posted, 0);
	if (!g_atomic_int_get(&win.stopping))
		detect_start();
	return G_SOURCE_REMOVE;
}

static void slot_event_post(void)
{
	/* One pending detection covers every event until it runs. */
	if (g_atomic_int_compare_and_exchange(&win.event_posted, 0, 1))
		g_idle_add(slot_event_idle, NULL);
}

/* For a module without C_WaitForSlotEvent: the slots with a token, summed up. */
static unsigned long slots_fingerprint(void)
{
	CK_SLOT_ID ids[64];
	CK_ULONG count = sizeof(ids) / sizeof(ids[0]);
	unsigned long sum;

	if (win.module.functions->C_GetSlotList(CK_TRUE, ids, &count) != CKR_OK)
		return 0;
	sum = count;
	for (CK_ULONG i = 0; i < count; i++)
		sum = sum * 31 + ids[i] + 1;
	return sum;
}

/* Waits for insertions and removals: the module wakes the wait at C_Finalize. */
static gpointer watch_slots(gpointer data)
{
	bool polling = false;
	unsigned long seen = 0;

	while (!g_atomic_int_get(&win.stopping)) {
		CK_SLOT_ID slot;
		CK_RV rv;

		if (polling) {
			unsigned long now = slots_fingerprint();

			if (now != seen)
				slot_event_post();
			seen = now;
			g_usleep(POLL_INTERVAL_US);
			continue;
		}
		rv = win.module.functions->C_WaitForSlotEvent(0, &slot, NULL);
		if (g_atomic_int_get(&win.stopping) || rv == CKR_CRYPTOKI_NOT_INITIALIZED)
			break;
		if (rv == CKR_OK)
			slot_event_post();
		else if (rv == CKR_FUNCTION_NOT_SUPPORTED)
			polling = true, seen = slots_fingerprint();
		else
			g_usleep(POLL_INTERVAL_US / 4); /* pcscd away: try again soon */
	}
	return NULL;
}

/* --- building the window -------------------------------------------------------------------- */

/* A row of the form: its name on the left (and as the accessible name of the field). */
static void form_row(GtkGrid *grid, int row, const char *name, GtkWidget *field)
{
	GtkWidget *label = gtk_label_new(name);

	gtk_label_set_xalign(GTK_LABEL(label), 1.0f);
	gtk_widget_set_valign(label, GTK_ALIGN_START);
	gtk_widget_set_margin_top(label, 6);
	gtk_grid_attach(grid, label, 0, row, 1, 1);
	gtk_grid_attach(grid, field, 1, row, 1, 1);
	gtk_widget_set_hexpand(field, TRUE);
}

static GtkLabel *value_label(void)
{
	GtkWidget *label = gtk_label_new("");

	gtk_label_set_xalign(GTK_LABEL(label), 0.0f);
	gtk_label_set_wrap(GTK_LABEL(label), TRUE);
	gtk_label_set_selectable(GTK_LABEL(label), FALSE);
	gtk_widget_set_margin_top(label, 6);
	return GTK_LABEL(label);
}

/* A password entry named for assistive technologies, its hint below it. */
static GtkWidget *secret_field(const char *name, const char *hint, bool peek, GtkEditable **out)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	GtkWidget *entry = gtk_password_entry_new();
	GtkWidget *hint_label = gtk_label_new(hint);

	gtk_password_entry_set_show_peek_icon(GTK_PASSWORD_ENTRY(entry), peek);
	gtk_accessible_update_property(GTK_ACCESSIBLE(entry), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
	                               -1);
	g_signal_connect(entry, "changed", G_CALLBACK(on_entry_changed), NULL);
	gtk_label_set_xalign(GTK_LABEL(hint_label), 0.0f);
	gtk_label_set_wrap(GTK_LABEL(hint_label), TRUE);
	gtk_widget_add_css_class(hint_label, "dim-label");
	gtk_box_append(GTK_BOX(box), entry);
	gtk_box_append(GTK_BOX(box), hint_label);
	*out = GTK_EDITABLE(entry);
	return box;
}

static GtkWidget *card_chooser(void)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

	win.card_names = gtk_string_list_new(NULL);
	win.cards = GTK_DROP_DOWN(gtk_drop_down_new(G_LIST_MODEL(win.card_names), NULL));
	gtk_accessible_update_property(GTK_ACCESSIBLE(win.cards), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Choose card"), -1);
	gtk_widget_set_hexpand(GTK_WIDGET(win.cards), TRUE);
	g_signal_connect(win.cards, "notify::selected", G_CALLBACK(on_card_selected), NULL);
	win.detect_button = gtk_button_new_with_label(_("Detect cards"));
	g_signal_connect(win.detect_button, "clicked", G_CALLBACK(on_detect_clicked), NULL);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(win.cards));
	gtk_box_append(GTK_BOX(box), win.detect_button);
	return box;
}

static GtkWidget *buttons_and_state(void)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

	win.unlock_button = gtk_button_new_with_label(_("Unlock card / reset PIN"));
	gtk_widget_add_css_class(win.unlock_button, "suggested-action");
	g_signal_connect(win.unlock_button, "clicked", G_CALLBACK(on_unlock_clicked), NULL);
	win.clear_button = gtk_button_new_with_label(_("Re-enter"));
	g_signal_connect(win.clear_button, "clicked", G_CALLBACK(on_clear_clicked), NULL);
	gtk_box_append(GTK_BOX(box), win.unlock_button);
	gtk_box_append(GTK_BOX(box), win.clear_button);

	win.spinner = gtk_spinner_new();
	gtk_spinner_start(GTK_SPINNER(win.spinner));
	gtk_widget_set_visible(win.spinner, FALSE);
	win.busy_label = GTK_LABEL(gtk_label_new(""));
	gtk_box_append(GTK_BOX(box), win.spinner);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(win.busy_label));
	return box;
}

static GtkWidget *tries_box(void)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);

	gtk_box_append(GTK_BOX(box), GTK_WIDGET(win.tries));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(win.pin_state));
	return box;
}

static void window_build(GtkApplication *app)
{
	GtkWidget *grid = gtk_grid_new();
	GtkWidget *outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	char *user_code_hint, *pin_hint;
	size_t min, max, pin_min, pin_max;
	int row = 0;

	secret_field_limits(SECRET_FIELD_USER_CODE, &min, &max);
	secret_field_limits(SECRET_FIELD_NEW_PIN, &pin_min, &pin_max);
	user_code_hint = xasprintf(_("%d to %d characters; upper and lower case letters differ."),
	                           (int)min, (int)max);
	pin_hint = xasprintf(_("%d to %d characters. The eye button shows what you type."),
	                     (int)pin_min, (int)pin_max);

	win.window = GTK_WINDOW(gtk_application_window_new(app));
	gtk_window_set_title(win.window, _("Unlock card / reset PIN"));
	gtk_window_set_icon_name(win.window, "p11unlock-gtk");
	gtk_window_set_default_size(win.window, 680, -1);
	g_signal_connect(win.window, "close-request", G_CALLBACK(on_close_request), NULL);

	gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	win.number = value_label();
	win.holder = value_label();
	win.validity = value_label();
	win.tries = value_label();
	win.pin_state = value_label();
	gtk_widget_set_margin_top(GTK_WIDGET(win.pin_state), 0);
	form_row(GTK_GRID(grid), row++, _("Choose card"), card_chooser());
	form_row(GTK_GRID(grid), row++, _("Card number"), GTK_WIDGET(win.number));
	form_row(GTK_GRID(grid), row++, _("Card holder information"), GTK_WIDGET(win.holder));
	form_row(GTK_GRID(grid), row++, _("Card validity"), GTK_WIDGET(win.validity));
	form_row(GTK_GRID(grid), row++, _("User code"),
	         secret_field(_("User code"), user_code_hint, false, &win.user_code));
	form_row(GTK_GRID(grid), row++, _("New PIN code"),
	         secret_field(_("New PIN code"), pin_hint, true, &win.new_pin));
	form_row(GTK_GRID(grid), row++, _("New PIN code again"),
	         secret_field(_("New PIN code again"), "", true, &win.new_pin_again));
	form_row(GTK_GRID(grid), row++, _("Tries left"), tries_box());
	free(user_code_hint);
	free(pin_hint);

	win.problem = value_label();
	gtk_widget_add_css_class(GTK_WIDGET(win.problem), "warning");
	win.status = value_label();
	win.notes = value_label();
	gtk_widget_add_css_class(GTK_WIDGET(win.notes), "dim-label");

	gtk_widget_set_margin_start(outer, 18);
	gtk_widget_set_margin_end(outer, 18);
	gtk_widget_set_margin_top(outer, 18);
	gtk_widget_set_margin_bottom(outer, 18);
	gtk_box_append(GTK_BOX(outer), grid);
	gtk_box_append(GTK_BOX(outer), GTK_WIDGET(win.problem));
	gtk_box_append(GTK_BOX(outer), buttons_and_state());
	gtk_box_append(GTK_BOX(outer), GTK_WIDGET(win.status));
	gtk_box_append(GTK_BOX(outer), GTK_WIDGET(win.notes));
	gtk_window_set_child(win.window, outer);
}

void unlock_window_open(GtkApplication *app, const char *module_path)
{
	if (win.window != NULL) {
		gtk_window_present(win.window);
		return;
	}
	window_build(app);
	set_busy(false, false);
	win.module_ok = module_path != NULL && module_open(module_path, &win.module);
	if (win.module_ok) {
		detect_start();
	} else {
		const char *why = p11_kit_message();

		status_take(text_chomp(xasprintf(_("Cannot load the PKCS#11 module %s: %s\n"),
		                                 module_path != NULL ? module_path : "",
		                                 why != NULL ? why : _("unknown error"))),
		            true);
		gtk_widget_set_sensitive(win.detect_button, FALSE);
	}
	gtk_window_present(win.window);
}

void unlock_window_shutdown(void)
{
	if (!win.module_ok)
		return;
	g_atomic_int_set(&win.stopping, 1);
	cards_unbind(&win.module, &win.list);
	card_list_free(&win.list);
	notice_drop();
	module_close(&win.module); /* wakes C_WaitForSlotEvent */
	if (win.watcher != NULL)
		g_thread_join(win.watcher);
	win.module_ok = false;
}

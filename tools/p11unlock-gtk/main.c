/* p11unlock-gtk: the card issuer's web form for a locked card (鎖卡解碼/重設PIN碼) as a desktop
 * window; the same steps and messages as p11unlock (see window.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gtk/gtk.h>

#include "p11unlock/i18n.h"
#include "p11unlock/messages.h"
#include "p11unlock/steps.h"
#include "window.h"

static char *module_path;

static void on_activate(GtkApplication *app, gpointer data)
{
	unlock_window_open(app, module_path);
}

static void on_shutdown(GApplication *app, gpointer data)
{
	unlock_window_shutdown();
}

int main(int argc, char **argv)
{
	char *lang = NULL, *module = NULL;
	GOptionEntry entries[] = {
	    {"lang", 0, 0, G_OPTION_ARG_STRING, &lang, N_("Language of the window: zh_TW or en"),
	     "LANG"},
	    {"module", 0, 0, G_OPTION_ARG_FILENAME, &module,
	     N_("PKCS#11 module to load (default: $P11UNLOCK_MODULE, else p11unlock's)"), "PATH"},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	GOptionContext *context = g_option_context_new(NULL);
	GError *error = NULL;
	GtkApplication *app;
	char *args[] = {argv[0], NULL};
	int status;

	/* Our locale and catalog (i18n_init); GTK must not set the locale again over it. */
	gtk_disable_setlocale();
	i18n_init(NULL);
	g_option_context_add_main_entries(context, entries, PACKAGE);
	g_option_context_set_translation_domain(context, PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "p11unlock-gtk: %s\n", error->message);
		g_error_free(error);
		g_option_context_free(context);
		return 2;
	}
	g_option_context_free(context);
	if (lang != NULL) {
		if (!i18n_lang_valid(lang)) {
			fprintf(stderr, _("p11unlock-gtk: --lang takes zh_TW or en\n"));
			return 2;
		}
		i18n_init(lang);
	}
	messages_front_end(FRONT_END_WINDOW);
	module_path = module_path_choose(module);
	g_free(module);
	g_free(lang);

	g_set_prgname("p11unlock-gtk");
	app = gtk_application_new("org.p11unlock.Window", G_APPLICATION_NON_UNIQUE);
	g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
	g_signal_connect(app, "shutdown", G_CALLBACK(on_shutdown), NULL);
	status = g_application_run(G_APPLICATION(app), 1, args);
	g_object_unref(app);
	free(module_path);
	return status;
}

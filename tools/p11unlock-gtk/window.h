/* The p11unlock-gtk window: the card issuer's web form (鎖卡解碼/重設PIN碼) as a GTK 4 window,
 * on the steps the command-line tool uses (tools/p11unlock: token.h, steps.h, messages.h).
 * Card I/O runs in worker threads (GTask), never on the UI thread; a watcher thread waits for
 * slot events (C_WaitForSlotEvent) so the card list follows insertions and removals. */
#ifndef P11UNLOCK_GTK_WINDOW_H
#define P11UNLOCK_GTK_WINDOW_H

#include <gtk/gtk.h>

/* Builds and shows the window of app.  module_path: the PKCS#11 module to load (p11-kit). */
void unlock_window_open(GtkApplication *app, const char *module_path);

/* Stops the watcher and closes the module (the application's "shutdown"). */
void unlock_window_shutdown(void);

#endif

/* Threads of the module's own (a connection's I/O thread, the reader monitor, a card read at
 * the same time as another): started with every signal blocked, so that the application's
 * signal handlers run only in the application's threads. */
#ifndef P11U_COMMON_THREAD_H
#define P11U_COMMON_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/* pthread_create's result.  A detached thread's ID is not needed (thread may be NULL). */
int p11u_thread_start(pthread_t *thread, bool detached, void *(*run)(void *), void *arg);

#endif

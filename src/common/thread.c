/* Threads of the module's own (thread.h). */
#include "config.h"

#include "common/thread.h"

#include <signal.h>

int p11u_thread_start(pthread_t *thread, bool detached, void *(*run)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t id;
	sigset_t all, old;
	int err = pthread_attr_init(&attr);

	if (err != 0)
		return err;
	if (detached)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The new thread inherits this mask; the caller's own mask is put back at once. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(thread != NULL ? thread : &id, &attr, run, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

/*
 * operations.c - per-account count of operations in progress.
 *
 * A short list under one mutex: it holds only accounts with operations in
 * progress, which MaxConnections bounds, and entries go when they reach
 * zero.
 */
#include "autoconfig.h"

#include "listener/operations.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/util.h"

struct user_ops {
	uid_t uid;
	int64_t count;
	struct user_ops *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct user_ops *users; /* owned list */

static struct user_ops **find(uid_t uid)
{
	struct user_ops **p = &users;
	while (*p != NULL && (*p)->uid != uid)
		p = &(*p)->next;
	return p;
}

bool operations_acquire(uid_t uid, int64_t limit)
{
	bool ok;
	pthread_mutex_lock(&lock);
	struct user_ops **p = find(uid);
	if (*p == NULL) {
		ok = limit > 0;
		if (ok) {
			struct user_ops *u = xcalloc(1, sizeof(*u));
			u->uid = uid;
			u->count = 1;
			u->next = users;
			users = u;
		}
	} else {
		ok = (*p)->count < limit;
		if (ok)
			(*p)->count++;
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

void operations_release(uid_t uid)
{
	pthread_mutex_lock(&lock);
	struct user_ops **p = find(uid);
	if (*p != NULL && --(*p)->count <= 0) {
		struct user_ops *gone = *p;
		*p = gone->next;
		free(gone);
	}
	pthread_mutex_unlock(&lock);
}

int64_t operations_count(uid_t uid)
{
	pthread_mutex_lock(&lock);
	struct user_ops **p = find(uid);
	int64_t n = *p != NULL ? (*p)->count : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

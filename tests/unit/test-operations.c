/*
 * test-operations.c - Service.MaxConcurrentOperationsPerUser bookkeeping
 * (listener/operations.c): slots up to the limit and not one more, accounts
 * independent, released slots usable again, a lowered limit (reload)
 * refusing until enough are released, and the count back to zero, from
 * several threads at once.
 */
#include "autoconfig.h"

#include <pthread.h>

#include "listener/operations.h"
#include "tests/lib/tap.h"

static void test_limit(void)
{
	for (int i = 0; i < 3; i++)
		ok(operations_acquire(1000, 3), "slot %d of 3 for uid 1000",
		   i + 1);
	ok(!operations_acquire(1000, 3), "a fourth is refused");
	ok(operations_count(1000) == 3, "the refusal took nothing (count 3)");
	ok(operations_acquire(1001, 3), "another account is not affected");
	operations_release(1000);
	ok(operations_acquire(1000, 3), "a released slot can be taken again");
	ok(!operations_acquire(1000, 2),
	   "a limit lowered by a reload refuses at once");
	operations_release(1000);
	operations_release(1000);
	ok(operations_acquire(1000, 2) && operations_count(1000) == 2,
	   "and admits once the account is under it");
	operations_release(1000);
	operations_release(1000);
	operations_release(1001);
	ok(operations_count(1000) == 0 && operations_count(1001) == 0,
	   "all released: counts are zero");
	ok(!operations_acquire(0, 0),
	   "a limit of 0 admits nothing (not reachable from config)");
	ok(operations_count(0) == 0, "and leaves nothing behind");
}

#define THREADS 4
#define ROUNDS 20000

static void *churn(void *arg)
{
	uid_t uid = (uid_t)(uintptr_t)arg;
	for (int i = 0; i < ROUNDS; i++) {
		if (operations_acquire(uid, 1000000))
			operations_release(uid);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, churn,
			       (void *)(uintptr_t)(2000 + i % 2));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ok(operations_count(2000) == 0 && operations_count(2001) == 0,
	   "acquire/release from %d threads balance out", THREADS);
}

int main(void)
{
	test_limit();
	test_threads();
	return tap_done();
}

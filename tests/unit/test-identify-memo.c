/*
 * test-identify-memo.c - unit tests of listener/identify-memo.c: exact
 * matches only (body and Content-Type, none versus empty), the size
 * limits, a full memo, and threads adding and looking up at once.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "listener/identify-memo.h"
#include "tests/lib/tap.h"

#define CT "application/soap+xml;charset=UTF-8"
#define BODY "<s:Envelope><s:Body><wsmid:Identify/></s:Body></s:Envelope>"

static void test_exact(void)
{
	ok(!identify_memo_hit(CT, BODY, strlen(BODY)), "empty memo: a miss");
	identify_memo_add(CT, BODY, strlen(BODY));
	ok(identify_memo_hit(CT, BODY, strlen(BODY)), "the same bytes: a hit");

	char other[] = BODY;
	other[3] = 'X';
	ok(!identify_memo_hit(CT, other, strlen(other)),
	   "one byte of the body changed: a miss");
	ok(!identify_memo_hit(CT, BODY, strlen(BODY) - 1),
	   "the body one byte shorter: a miss");
	ok(!identify_memo_hit(CT "x", BODY, strlen(BODY)),
	   "another Content-Type: a miss");
	ok(!identify_memo_hit("application/soap+xml;charset=UTF-16", BODY,
			      strlen(BODY)),
	   "another charset: a miss");
	ok(!identify_memo_hit(NULL, BODY, strlen(BODY)),
	   "no Content-Type: a miss");

	identify_memo_add(NULL, BODY, strlen(BODY));
	ok(identify_memo_hit(NULL, BODY, strlen(BODY)),
	   "added without a Content-Type: a hit without one");
	ok(!identify_memo_hit("", BODY, strlen(BODY)),
	   "but an empty Content-Type is not none: a miss");
	identify_memo_add(CT, BODY, strlen(BODY));
	identify_memo_clear();
	ok(!identify_memo_hit(CT, BODY, strlen(BODY)), "cleared: a miss");
}

static void test_limits(void)
{
	static char big[IDENTIFY_MEMO_MAX_BODY + 1];
	memset(big, ' ', sizeof(big));
	identify_memo_add(CT, big, sizeof(big));
	ok(!identify_memo_hit(CT, big, sizeof(big)),
	   "a body over IDENTIFY_MEMO_MAX_BODY is not kept");
	identify_memo_add(CT, big, sizeof(big) - 1);
	ok(identify_memo_hit(CT, big, sizeof(big) - 1),
	   "one of IDENTIFY_MEMO_MAX_BODY bytes is");
	identify_memo_clear();

	char ct[IDENTIFY_MEMO_MAX_CONTENT_TYPE + 2];
	memset(ct, 'a', sizeof(ct) - 1);
	ct[sizeof(ct) - 1] = '\0';
	identify_memo_add(ct, BODY, strlen(BODY));
	ok(!identify_memo_hit(ct, BODY, strlen(BODY)),
	   "a Content-Type over the limit is not kept");

	char bodies[IDENTIFY_MEMO_SLOTS + 1][128];
	for (int i = 0; i <= IDENTIFY_MEMO_SLOTS; i++) {
		snprintf(bodies[i], sizeof(bodies[i]), "%s<!-- %d -->", BODY,
			 i);
		identify_memo_add(CT, bodies[i], strlen(bodies[i]));
	}
	bool all = true;
	for (int i = 0; i < IDENTIFY_MEMO_SLOTS; i++)
		all = all &&
		      identify_memo_hit(CT, bodies[i], strlen(bodies[i]));
	ok(all, "the first IDENTIFY_MEMO_SLOTS requests are kept");
	ok(!identify_memo_hit(CT, bodies[IDENTIFY_MEMO_SLOTS],
			      strlen(bodies[IDENTIFY_MEMO_SLOTS])),
	   "a request after a full memo is not (it is parsed as before)");
	identify_memo_clear();
	ok(!identify_memo_hit(CT, "", 0), "an empty body: a miss");
	identify_memo_add(CT, NULL, 0);
	ok(identify_memo_hit(CT, NULL, 0), "an empty body, added: a hit");
	identify_memo_clear();
}

/* Threads adding the same few requests and looking them up at once:
 * every lookup after its own add hits, no slot holds a request twice
 * (ASan/TSan builds see the races, if any). */
#define THREADS 4
#define ROUNDS 2000
static char thread_bodies[3][128];
static int thread_misses;
static pthread_mutex_t misses_lock = PTHREAD_MUTEX_INITIALIZER;

static void *racer(void *arg)
{
	(void)arg;
	int misses = 0;
	for (int i = 0; i < ROUNDS; i++) {
		const char *b = thread_bodies[i % 3];
		identify_memo_add(CT, b, strlen(b));
		if (!identify_memo_hit(CT, b, strlen(b)))
			misses++;
	}
	pthread_mutex_lock(&misses_lock);
	thread_misses += misses;
	pthread_mutex_unlock(&misses_lock);
	return NULL;
}

static void test_threads(void)
{
	for (int i = 0; i < 3; i++)
		snprintf(thread_bodies[i], sizeof(thread_bodies[i]),
			 "%s<!-- t%d -->", BODY, i);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, racer, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	is_int(thread_misses, 0, "threads: every lookup after an add hits");
	/* Three distinct requests took three slots: a fourth still fits. */
	identify_memo_add(CT, BODY, strlen(BODY));
	ok(identify_memo_hit(CT, BODY, strlen(BODY)),
	   "threads: no request took two slots");
	identify_memo_clear();
}

int main(void)
{
	test_exact();
	test_limits();
	test_threads();
	return tap_done();
}

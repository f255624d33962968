/*
 * test-throttle.c - failure counting with an explicit clock
 * (helper/throttle.c): delays doubling from 100 ms to the cap,
 * lockout after MaxFailures failures within the window and for LockoutTime,
 * window expiry, success resets, LockoutTime 0 (never lock), independent
 * keys, a full address table that evicts instead of growing, and an
 * account table that never forgets a counter with failures in its window
 * (a flood of other keys, addresses or accounts, cannot unlock an
 * account; a full table of live accounts refuses instead of forgetting).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "tests/lib/tap.h"
#include "helper/throttle.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* The table size of throttle.c; the eviction tests depend on it. */
#define TABLE THROTTLE_SLOTS

/* The configuration the integration test uses, in milliseconds. */
static const struct throttle_policy P = {
	.max_failures = 3,
	.window_ms = 60000,
	.lockout_ms = 3000,
	.max_delay_ms = 800,
};

/* The tests written for one table name their keys as authres.c once
 * did: "user:..." goes to the account table, anything else to the
 * address table. */
static enum throttle_table table(const char *key)
{
	return strncmp(key, "user:", 5) == 0 ? THROTTLE_ACCOUNT : THROTTLE_ADDR;
}

static bool locked(const char *key, int64_t now,
		   const struct throttle_policy *p, int64_t *left)
{
	int64_t dummy = -1;
	return throttle_locked(table(key), key, now, p, left ? left : &dummy);
}

static int64_t fail(const char *key, int64_t now,
		    const struct throttle_policy *p)
{
	return throttle_failure(table(key), key, now, p);
}

static void succeed(const char *key)
{
	throttle_success(table(key), key);
}

static void test_delays(void)
{
	static const struct {
		int64_t cap;
		int64_t want[8];
	} cases[] = {
		{ 800, { 100, 200, 400, 800, 800, 800, 800, 800 } },
		{ 2000, { 100, 200, 400, 800, 1600, 2000, 2000, 2000 } },
		{ 1600, { 100, 200, 400, 800, 1600, 1600, 1600, 1600 } },
		{ 150, { 100, 150, 150, 150, 150, 150, 150, 150 } },
		{ 100, { 100, 100, 100, 100, 100, 100, 100, 100 } },
		{ 50, { 50, 50, 50, 50, 50, 50, 50, 50 } },
		{ 0, { 0, 0, 0, 0, 0, 0, 0, 0 } },
		{ 60000, { 100, 200, 400, 800, 1600, 3200, 6400, 12800 } },
	};
	for (size_t i = 0; i < N(cases); i++) {
		throttle_reset_all();
		/* lockout 0: only delays, the count goes on */
		struct throttle_policy p = { .max_failures = 3,
					     .window_ms = 60000,
					     .lockout_ms = 0,
					     .max_delay_ms = cases[i].cap };
		char got[128] = "", want[128] = "";
		for (int n = 0; n < 8; n++) {
			int64_t d = fail("addr:192.0.2.1", 1000 + n * 10, &p);
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
				 "%lld ", (long long)d);
			snprintf(want + strlen(want),
				 sizeof(want) - strlen(want), "%lld ",
				 (long long)cases[i].want[n]);
		}
		is_str(got, want,
		       "MaxDelayms=%lld: delays of the first 8 failures",
		       (long long)cases[i].cap);
	}

	/* Many failures: the cap holds and nothing overflows. */
	throttle_reset_all();
	struct throttle_policy big = { .max_failures = 1000000,
				       .window_ms = 86400000,
				       .lockout_ms = 0,
				       .max_delay_ms = 60000 };
	int64_t d = 0;
	bool within = true;
	for (int n = 0; n < 5000; n++) {
		d = fail("user:alice", n, &big);
		within = within && d > 0 && d <= 60000;
	}
	ok(within, "5000 failures: every delay within (0, 60000] ms");
	is_int(d, 60000, "5000 failures: the delay stays at the cap");
}

static void test_lockout(void)
{
	throttle_reset_all();
	int64_t left = -1;
	const char *k = "user:dave";
	ok(!locked(k, 0, &P, NULL), "an unknown key is not locked");
	is_int(fail(k, 1000, &P), 100, "failure 1: 100 ms");
	ok(!locked(k, 1001, &P, NULL), "1 failure: not locked");
	is_int(fail(k, 2000, &P), 200, "failure 2: 200 ms");
	ok(!locked(k, 2001, &P, NULL), "2 failures: not locked");
	is_int(fail(k, 5000, &P), 400, "failure 3: 400 ms");
	ok(locked(k, 5000, &P, &left), "3 failures in the window: locked");
	is_int(left, 3000, "locked for LockoutTime from the third failure");
	ok(locked(k, 7999, &P, &left), "still locked 1 ms before the end");
	is_int(left, 1, "1 ms left");
	ok(!locked(k, 8000, &P, NULL), "unlocked when LockoutTime has passed");
	ok(!locked("user:alice", 5000, &P, NULL), "another key is not locked");
	ok(!locked("user:dav", 5000, &P, NULL),
	   "a key that is a prefix is not locked");
	ok(!locked("user:davex", 5000, &P, NULL), "a longer key is not locked");

	/* After the lockout, the failures of the window still count: the
	 * next failure inside the window locks again and delays more. */
	is_int(fail(k, 9000, &P), 800, "failure 4 (same window): 800 ms");
	ok(locked(k, 9000, &P, &left),
	   "failure 4 within the window: locked again");
	is_int(left, 3000, "for a full LockoutTime");

	/* Failures during a lockout extend it. */
	fail(k, 11000, &P);
	ok(locked(k, 13999, &P, &left),
	   "a failure while locked extends the lock");
	is_int(left, 1, "to LockoutTime after that failure");

	/* MaxFailures 1: the first failure locks. */
	throttle_reset_all();
	struct throttle_policy one = P;
	one.max_failures = 1;
	fail("addr:10.0.0.1", 0, &one);
	ok(locked("addr:10.0.0.1", 0, &one, NULL),
	   "MaxFailures=1: the first failure locks");
}

static void test_window(void)
{
	throttle_reset_all();
	const char *k = "addr:127.0.0.5";
	fail(k, 0, &P);
	fail(k, 1000, &P);
	/* The window counts from the first failure: at 60 s it is over. */
	is_int(fail(k, 60000, &P), 100,
	       "a failure after the window starts over at 100 ms");
	ok(!locked(k, 60000, &P, NULL),
	   "and the earlier two do not count: not locked");
	fail(k, 61000, &P);
	ok(!locked(k, 61000, &P, NULL),
	   "2 failures in the new window: not locked");
	is_int(fail(k, 119999, &P), 400, "third in the new window: 400 ms");
	ok(locked(k, 119999, &P, NULL), "3 failures in the new window: locked");

	throttle_reset_all();
	fail(k, 0, &P);
	fail(k, 30000, &P);
	fail(k, 59999, &P);
	ok(locked(k, 59999, &P, NULL),
	   "3 failures just within the window: locked");

	/* Failures spread wider than the window never lock. */
	throttle_reset_all();
	bool never = true;
	for (int n = 0; n < 20; n++) {
		fail(k, (int64_t)n * 30000, &P);
		never = never && !locked(k, (int64_t)n * 30000, &P, NULL);
	}
	ok(never, "one failure every 30 s (2 per 60 s window): never locked");
}

static void test_success(void)
{
	throttle_reset_all();
	const char *k = "user:alice";
	fail(k, 0, &P);
	fail(k, 10, &P);
	succeed(k);
	is_int(fail(k, 20, &P), 100,
	       "after a success the delay is 100 ms again");
	ok(!locked(k, 20, &P, NULL),
	   "and the count restarted: 1 failure, not locked");
	fail(k, 30, &P);
	ok(!locked(k, 30, &P, NULL),
	   "2 failures after the success: not locked");
	fail(k, 40, &P);
	ok(locked(k, 40, &P, NULL), "3 failures after the success: locked");
	succeed(k);
	ok(!locked(k, 41, &P, NULL),
	   "a success forgets the key, lock included");
	succeed("user:nobody-seen");
	ok(!locked("user:nobody-seen", 41, &P, NULL),
	   "success on an unknown key is harmless");

	/* Success of one key leaves the others alone. */
	fail("addr:a", 100, &P);
	fail("addr:a", 100, &P);
	fail("addr:b", 100, &P);
	succeed("addr:b");
	fail("addr:a", 100, &P);
	ok(locked("addr:a", 100, &P, NULL),
	   "success of addr:b does not reset addr:a");
}

static void test_never_lock(void)
{
	throttle_reset_all();
	struct throttle_policy p = P;
	p.lockout_ms = 0;
	bool never = true;
	int64_t d = 0;
	for (int n = 0; n < 100; n++) {
		d = fail("addr:198.51.100.7", n, &p);
		never = never && !locked("addr:198.51.100.7", n, &p, NULL);
	}
	ok(never, "LockoutTime 0: 100 failures in the window never lock");
	is_int(d, 800, "LockoutTime 0: but the delay is at the cap");
}

static void test_table_full(void)
{
	/* The address table: a full table evicts. */
	throttle_reset_all();
	/* Every failure locks for a long time: a key's lock shows whether
	 * the table still knows it. */
	struct throttle_policy p = { .max_failures = 1,
				     .window_ms = 10000000,
				     .lockout_ms = 10000000,
				     .max_delay_ms = 800 };
	char k[32];
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "addr:10.0.%d.%d", i / 256, i % 256);
		fail(k, 1000 + i, &p);
	}
	int n = 0;
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "addr:10.0.%d.%d", i / 256, i % 256);
		n += locked(k, 6000, &p, NULL);
	}
	is_int(n, TABLE, "%d keys fill the table, all locked", TABLE);

	/* 10 more keys: the 10 least recently seen give way. */
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "addr:new%d", i);
		fail(k, 7000 + i, &p);
	}
	int news = 0, olds = 0, first10 = 0;
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "addr:new%d", i);
		news += locked(k, 8000, &p, NULL);
	}
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "addr:10.0.%d.%d", i / 256, i % 256);
		int l = locked(k, 8000, &p, NULL);
		olds += l;
		if (i < 10)
			first10 += l;
	}
	is_int(news, 10, "the 10 new keys are tracked");
	is_int(olds, TABLE - 10,
	       "10 old keys were evicted: the table did not grow");
	is_int(first10, 0, "the evicted ones are the 10 least recently seen");

	/* A key seen again is recent: it survives the next eviction. */
	fail("addr:10.0.0.10", 9000, &p); /* the oldest left */
	fail("addr:another", 9001, &p);
	ok(locked("addr:10.0.0.10", 9002, &p, NULL),
	   "a key refreshed by a new failure is not the one evicted");
	ok(!locked("addr:10.0.0.11", 9002, &p, NULL),
	   "the least recently seen one is");

	/* Expired entries are reused before any live one is evicted. */
	throttle_reset_all();
	struct throttle_policy s = { .max_failures = 1,
				     .window_ms = 100,
				     .lockout_ms = 100,
				     .max_delay_ms = 800 };
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "addr:10.1.%d.%d", i / 256, i % 256);
		/* the first 100 at t=0 (expired at t=1000), the rest at t=950 */
		fail(k, i < 100 ? 0 : 950, &s);
	}
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "addr:late%d", i);
		fail(k, 1000, &s);
	}
	n = 0;
	for (int i = 100; i < TABLE; i++) {
		snprintf(k, sizeof(k), "addr:10.1.%d.%d", i / 256, i % 256);
		n += locked(k, 1000, &s, NULL);
	}
	is_int(n, TABLE - 100,
	       "100 new keys took the 100 expired slots; "
	       "every live key is kept");
	n = 0;
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "addr:late%d", i);
		n += locked(k, 1000, &s, NULL);
	}
	is_int(n, 100, "and the 100 new keys are tracked");
}

/* The default policy: 10 failures in 300 s lock for 300 s. */
static const struct throttle_policy DEF = {
	.max_failures = 10,
	.window_ms = 300000,
	.lockout_ms = 300000,
	.max_delay_ms = 2000,
};

/* 9 failures on one account, then 4,096 other keys, then the 10th. */
static bool tenth_locks_after(enum throttle_table others)
{
	throttle_reset_all();
	int64_t now = 1000;
	for (int i = 0; i < 9; i++)
		throttle_failure(THROTTLE_ACCOUNT, "alice", now++, &DEF);
	char k[64];
	for (int i = 0; i < TABLE; i++) {
		if (others == THROTTLE_ADDR)
			snprintf(k, sizeof(k), "2001:db8::%x:%x", i >> 8,
				 i & 255);
		else
			snprintf(k, sizeof(k), "user%d", i);
		throttle_failure(others, k, now++, &DEF);
	}
	int64_t left = 0;
	bool before = throttle_locked(THROTTLE_ACCOUNT, "alice", now, &DEF,
				      &left);
	throttle_failure(THROTTLE_ACCOUNT, "alice", now, &DEF);
	return !before &&
	       throttle_locked(THROTTLE_ACCOUNT, "alice", now, &DEF, &left) &&
	       left == DEF.lockout_ms;
}

static void test_account_kept(void)
{
	ok(tenth_locks_after(THROTTLE_ADDR),
	   "9 failures on an account, 4096 new addresses: the 10th failure locks");
	ok(tenth_locks_after(THROTTLE_ACCOUNT),
	   "9 failures on an account, 4096 new accounts: the 10th failure locks");

	/* The account table full of accounts with failures in their window:
	 * a new account's failures go to the shared overflow counter. */
	throttle_reset_all();
	char k[64];
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "user%d", i);
		throttle_failure(THROTTLE_ACCOUNT, k, 1000, &DEF);
	}
	int64_t left = 0;
	bool none = true;
	for (int i = 0; i < 9; i++) {
		snprintf(k, sizeof(k), "late%d", i);
		throttle_failure(THROTTLE_ACCOUNT, k, 2000 + i, &DEF);
		none = none && !throttle_locked(THROTTLE_ACCOUNT, "bob",
						2000 + i, &DEF, &left);
	}
	ok(none,
	   "full table: 9 failures of accounts without a slot lock nobody");
	ok(!throttle_locked(THROTTLE_ACCOUNT, "user0", 2010, &DEF, &left),
	   "an account with a slot and 1 failure is not locked");
	throttle_failure(THROTTLE_ACCOUNT, "late9", 2010, &DEF);
	ok(throttle_locked(THROTTLE_ACCOUNT, "late0", 2010, &DEF, &left),
	   "the 10th failure without a slot locks the accounts without a slot");
	ok(throttle_locked(THROTTLE_ACCOUNT, "bob", 2010, &DEF, &left),
	   "including one that never failed: refused, not forgotten");
	is_int(left, DEF.lockout_ms, "for LockoutTime");
	ok(!throttle_locked(THROTTLE_ACCOUNT, "user1", 2010, &DEF, &left),
	   "accounts with a slot keep their own count");
	int n = 0;
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "user%d", i);
		throttle_failure(THROTTLE_ACCOUNT, k, 3000, &DEF);
		n += throttle_locked(THROTTLE_ACCOUNT, k, 3000, &DEF, &left);
	}
	is_int(n, 0,
	       "every account in the table still counts its own failures "
	       "(2 each: none locked)");
	throttle_success(THROTTLE_ACCOUNT, "bob");
	ok(throttle_locked(THROTTLE_ACCOUNT, "bob", 3000, &DEF, &left),
	   "a success of an account without a slot does not clear the shared count");
	ok(!throttle_locked(THROTTLE_ADDR, "192.0.2.1", 3000, &DEF, &left),
	   "the address table is untouched");

	/* Once the window of the table's counters is over, their slots are
	 * free again and a new account starts clean, although the shared
	 * counter's lock is still running. */
	throttle_reset_all();
	struct throttle_policy sh = { .max_failures = 2,
				      .window_ms = 1000,
				      .lockout_ms = 100000,
				      .max_delay_ms = 800 };
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "user%d", i);
		throttle_failure(THROTTLE_ACCOUNT, k, 0, &sh);
	}
	throttle_failure(THROTTLE_ACCOUNT, "x", 10, &sh);
	throttle_failure(THROTTLE_ACCOUNT, "y", 10, &sh);
	ok(throttle_locked(THROTTLE_ACCOUNT, "z", 20, &sh, &left),
	   "a short window: the shared counter locks");
	ok(!throttle_locked(THROTTLE_ACCOUNT, "z", 1000, &sh, &left),
	   "when the table's windows are over, an account without failures is "
	   "not locked");
	throttle_failure(THROTTLE_ACCOUNT, "z", 1000, &sh);
	ok(!throttle_locked(THROTTLE_ACCOUNT, "z", 1000, &sh, &left),
	   "and its first failure takes a free slot (1 failure: not locked)");

	/* Locked accounts whose window is over are kept too. */
	throttle_reset_all();
	struct throttle_policy lk = { .max_failures = 1,
				      .window_ms = 1000,
				      .lockout_ms = 100000,
				      .max_delay_ms = 800 };
	throttle_failure(THROTTLE_ACCOUNT, "carol", 0, &lk);
	for (int i = 0; i < TABLE; i++) {
		snprintf(k, sizeof(k), "user%d", i);
		throttle_failure(THROTTLE_ACCOUNT, k, 5000, &lk);
	}
	ok(throttle_locked(THROTTLE_ACCOUNT, "carol", 5000, &lk, &left),
	   "a locked account outside its window survives 4096 new accounts");
	is_int(left, 95000, "with its lock unchanged");
}

static void test_keys(void)
{
	throttle_reset_all();
	/* Keys as authres.c builds them: "addr:" + address, "user:" + a
	 * mapped account name (at most 64 bytes). */
	char a[80], b[80];
	memset(a, 0, sizeof(a));
	memcpy(a, "user:", 5);
	memset(a + 5, 'x', 64);
	memcpy(b, a, sizeof(b));
	b[68] = 'y';
	fail(a, 0, &P);
	fail(a, 0, &P);
	fail(a, 0, &P);
	ok(locked(a, 1, &P, NULL), "a 69-byte key locks");
	ok(!locked(b, 1, &P, NULL),
	   "a key differing in its last byte is another key");
	ok(!locked("addr:2001:db8::1", 1, &P, NULL),
	   "an IPv6 address key is separate");
	fail("addr:2001:db8::1", 0, &P);
	fail("addr:2001:db8::1", 0, &P);
	fail("addr:2001:db8::1", 0, &P);
	ok(locked("addr:2001:db8::1", 1, &P, NULL),
	   "IPv6 address keys lock too");
	ok(!locked("addr:2001:db8::", 1, &P, NULL),
	   "a prefix of it is not locked");
	throttle_reset_all();
	ok(!locked(a, 1, &P, NULL) && !locked("addr:2001:db8::1", 1, &P, NULL),
	   "throttle_reset_all forgets everything");
}

int main(void)
{
	test_delays();
	test_lockout();
	test_window();
	test_success();
	test_never_lock();
	test_table_full();
	test_account_kept();
	test_keys();
	return tap_done();
}

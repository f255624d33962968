/*
 * throttle.h - slowing down and then refusing repeated authentication
 * failures, per remote address and per account (Throttling.* settings).
 *
 * Pure bookkeeping with an explicit clock, so that it can be unit-tested;
 * the helper delays its own answer by the returned amount (a timer, never
 * a sleep), so a throttled client slows nobody else down.
 *
 * Addresses and accounts live in two separate tables of fixed size, so a
 * flood of one kind never touches the other:
 *  - an address counter may give way to a new address when its table is
 *    full (addresses are cheap to rotate, so the account counter is what
 *    really stops password guessing);
 *  - an account counter with failures in its window, or locked, is never
 *    given up.  When every account slot is taken by such a counter, the
 *    accounts without a slot share one overflow counter: their failures
 *    count there and, once it locks, every account without a slot is
 *    refused until it unlocks.  Memory stays bounded and no failure is
 *    ever forgotten; the price is that an attacker who fills the table
 *    can delay or refuse accounts that had no failure of their own (fail
 *    closed, not open).
 */
#ifndef WINRMD_PRIV_THROTTLE_H
#define WINRMD_PRIV_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

struct throttle_policy {
	int64_t max_failures; /* failures in the window that lock the key */
	int64_t window_ms;
	int64_t lockout_ms; /* 0: never lock, only delay */
	int64_t max_delay_ms;
};

enum throttle_table {
	THROTTLE_ADDR,    /* remote addresses */
	THROTTLE_ACCOUNT, /* local account names */
};

/* Slots per table. */
#define THROTTLE_SLOTS 4096
/* Longest key kept; longer keys are compared on this prefix. */
#define THROTTLE_KEY_MAX 96

/* True (and the remaining lock in *left_ms) when key is locked out. */
bool throttle_locked(enum throttle_table t, const char *key, int64_t now_ms,
		     const struct throttle_policy *p, int64_t *left_ms);
/* Records a failure; returns how long to delay the answer. */
int64_t throttle_failure(enum throttle_table t, const char *key, int64_t now_ms,
			 const struct throttle_policy *p);
/* Forgets the key's failures (after a success). */
void throttle_success(enum throttle_table t, const char *key);
/* Drops everything (tests). */
void throttle_reset_all(void);

#endif

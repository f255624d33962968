/*
 * throttle.h - slowing down and then refusing repeated authentication
 * failures, per remote address and per account (Throttling.* settings).
 *
 * Pure bookkeeping with an explicit clock, so that it can be unit-tested;
 * the helper delays its own answer by the returned amount (a timer, never
 * a sleep), so a throttled client slows nobody else down.
 */
#ifndef WINRMD_PRIV_THROTTLE_H
#define WINRMD_PRIV_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

struct throttle_policy {
	int64_t max_failures;   /* failures in the window that lock the key */
	int64_t window_ms;
	int64_t lockout_ms;     /* 0: never lock, only delay */
	int64_t max_delay_ms;
};

/* True (and the remaining lock in *left_ms) when key is locked out. */
bool throttle_locked(const char *key, int64_t now_ms,
		     const struct throttle_policy *p, int64_t *left_ms);
/* Records a failure; returns how long to delay the answer. */
int64_t throttle_failure(const char *key, int64_t now_ms,
			 const struct throttle_policy *p);
/* Forgets the key's failures (after a success). */
void throttle_success(const char *key);
/* Drops everything (tests). */
void throttle_reset_all(void);

#endif

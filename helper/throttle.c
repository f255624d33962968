/*
 * throttle.c - failure counting for throttle.h.  Two small tables, one
 * for remote addresses and one for accounts; expired entries are reused.
 * When the address table is full the least recently failed unlocked
 * address gives way; the account table never gives up a counter that
 * still has failures in its window (see throttle.h for what happens
 * instead).  Must not: allocate, or grow with what an attacker sends.
 */
#include "autoconfig.h"

#include "helper/throttle.h"

#include <string.h>

struct slot {
	char key[THROTTLE_KEY_MAX];
	int64_t window_start;
	int64_t failures;
	int64_t locked_until;
	int64_t last;
};

struct table {
	struct slot slots[THROTTLE_SLOTS];
	/* Accounts only: the shared counter of the accounts that found no
	 * slot because every slot was live (its key stays empty). */
	struct slot overflow;
};

static struct table addrs, accounts;

static struct table *table_of(enum throttle_table t)
{
	return t == THROTTLE_ACCOUNT ? &accounts : &addrs;
}

static struct slot *find(struct table *t, const char *key)
{
	if (key[0] == '\0')
		return NULL;
	for (size_t i = 0; i < THROTTLE_SLOTS; i++)
		if (t->slots[i].key[0] != '\0' &&
		    strncmp(t->slots[i].key, key, THROTTLE_KEY_MAX - 1) == 0)
			return &t->slots[i];
	return NULL;
}

static bool expired(const struct slot *s, int64_t now,
		    const struct throttle_policy *p)
{
	return s->locked_until <= now && now - s->window_start >= p->window_ms;
}

static void claim(struct slot *s, const char *key, int64_t now)
{
	memset(s, 0, sizeof(*s));
	strncpy(s->key, key, THROTTLE_KEY_MAX - 1);
	s->window_start = now;
}

/* The slot that counts key's failures: its own, a free or expired one,
 * or (addresses) an evicted one, or (accounts, table full of live
 * counters) the shared overflow counter. */
static struct slot *find_or_add(enum throttle_table tt, const char *key,
				int64_t now, const struct throttle_policy *p)
{
	struct table *t = table_of(tt);
	struct slot *s = find(t, key);
	if (s != NULL)
		return s;
	/* Reuse a free or expired slot; else, for addresses, the least
	 * recently failed one that is not locked (a flood of new keys must
	 * not push locks out); only if every slot is locked, the lock that
	 * ends first. */
	struct slot *victim = NULL, *locked = NULL;
	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct slot *c = &t->slots[i];
		if (c->key[0] == '\0' || expired(c, now, p)) {
			claim(c, key, now);
			return c;
		}
		if (c->locked_until > now) {
			if (locked == NULL ||
			    c->locked_until < locked->locked_until)
				locked = c;
		} else if (victim == NULL || c->last < victim->last) {
			victim = c;
		}
	}
	if (tt == THROTTLE_ACCOUNT || key[0] == '\0')
		return &t->overflow;
	if (victim == NULL)
		victim = locked;
	claim(victim, key, now);
	return victim;
}

/* The slot whose lock applies to key, or NULL. */
static struct slot *lookup(enum throttle_table tt, const char *key, int64_t now,
			   const struct throttle_policy *p)
{
	struct table *t = table_of(tt);
	struct slot *s = find(t, key);
	if (s != NULL || tt != THROTTLE_ACCOUNT)
		return s;
	/* An account without a slot answers to the overflow counter, but
	 * only while the table has no room for it: once a slot is free
	 * again, a new account starts with a clean count. */
	if (t->overflow.locked_until <= now)
		return NULL;
	for (size_t i = 0; i < THROTTLE_SLOTS; i++)
		if (t->slots[i].key[0] == '\0' || expired(&t->slots[i], now, p))
			return NULL;
	return &t->overflow;
}

bool throttle_locked(enum throttle_table t, const char *key, int64_t now_ms,
		     const struct throttle_policy *p, int64_t *left_ms)
{
	struct slot *s = lookup(t, key, now_ms, p);
	if (s == NULL || s->locked_until <= now_ms)
		return false;
	*left_ms = s->locked_until - now_ms;
	return true;
}

int64_t throttle_failure(enum throttle_table t, const char *key, int64_t now_ms,
			 const struct throttle_policy *p)
{
	struct slot *s = find_or_add(t, key, now_ms, p);
	if (now_ms - s->window_start >= p->window_ms) {
		s->window_start = now_ms;
		s->failures = 0;
	}
	s->failures++;
	s->last = now_ms;
	if (p->lockout_ms > 0 && s->failures >= p->max_failures)
		s->locked_until = now_ms + p->lockout_ms;
	/* 100 ms, 200 ms, 400 ms ... up to the cap. */
	int64_t delay = 100;
	for (int64_t i = 1; i < s->failures && delay < p->max_delay_ms; i++)
		delay *= 2;
	return delay < p->max_delay_ms ? delay : p->max_delay_ms;
}

void throttle_success(enum throttle_table t, const char *key)
{
	/* Only the key's own slot: a success of one account without a slot
	 * must not clear the failures the others share. */
	struct slot *s = find(table_of(t), key);
	if (s != NULL)
		memset(s, 0, sizeof(*s));
}

void throttle_reset_all(void)
{
	memset(&addrs, 0, sizeof(addrs));
	memset(&accounts, 0, sizeof(accounts));
}

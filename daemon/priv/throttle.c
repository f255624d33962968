/*
 * throttle.c - failure counting for throttle.h.  A small open table of
 * keys ("addr:1.2.3.4", "user:alice"); expired entries are reused, and
 * when the table is full the oldest entry gives way, so memory stays
 * bounded whatever an attacker sends.
 */
#include "autoconfig.h"

#include "throttle.h"

#include <string.h>

#define SLOTS 4096
#define KEY_MAX 96

struct slot {
	char key[KEY_MAX];
	int64_t window_start;
	int64_t failures;
	int64_t locked_until;
	int64_t last;
};

static struct slot slots[SLOTS];

static struct slot *find(const char *key)
{
	for (size_t i = 0; i < SLOTS; i++)
		if (slots[i].key[0] != '\0' &&
		    strncmp(slots[i].key, key, KEY_MAX - 1) == 0)
			return &slots[i];
	return NULL;
}

static bool expired(const struct slot *s, int64_t now,
		    const struct throttle_policy *p)
{
	return s->locked_until <= now && now - s->window_start >= p->window_ms;
}

static struct slot *find_or_add(const char *key, int64_t now,
				const struct throttle_policy *p)
{
	struct slot *s = find(key);
	if (s != NULL)
		return s;
	/* Reuse a free or expired slot; else the least recently failed one
	 * that is not locked (a flood of new keys must not push locks out);
	 * only if every slot is locked, the lock that ends first. */
	struct slot *victim = NULL, *locked = NULL;
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *c = &slots[i];
		if (c->key[0] == '\0' || expired(c, now, p)) {
			victim = c;
			break;
		}
		if (c->locked_until > now) {
			if (locked == NULL || c->locked_until < locked->locked_until)
				locked = c;
		} else if (victim == NULL || c->last < victim->last) {
			victim = c;
		}
	}
	if (victim == NULL)
		victim = locked;
	memset(victim, 0, sizeof(*victim));
	strncpy(victim->key, key, KEY_MAX - 1);
	victim->window_start = now;
	return victim;
}

bool throttle_locked(const char *key, int64_t now_ms,
		     const struct throttle_policy *p, int64_t *left_ms)
{
	struct slot *s = find(key);
	if (s == NULL || s->locked_until <= now_ms)
		return false;
	*left_ms = s->locked_until - now_ms;
	return true;
}

int64_t throttle_failure(const char *key, int64_t now_ms,
			 const struct throttle_policy *p)
{
	struct slot *s = find_or_add(key, now_ms, p);
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

void throttle_success(const char *key)
{
	struct slot *s = find(key);
	if (s != NULL)
		memset(s, 0, sizeof(*s));
}

void throttle_reset_all(void)
{
	memset(slots, 0, sizeof(slots));
}

/*
 * test-conns.c - expiry of the helper's connection entries
 * (helper/conns.c): the idle limit derived from the configuration,
 * an idle identity forgotten by the sweep and by a lookup, a later
 * request on that connection finding nothing (the callers refuse) or
 * starting a fresh authentication (not a protocol violation), and the
 * entries that never expire (recently used, verifying, commands running).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "tests/lib/tap.h"
#include "lib/util.h"

static struct hconn *authenticated(uint64_t id, const char *user)
{
	struct hconn *c = conns_get(id);
	c->state = HCONN_AUTHENTICATED;
	c->identity.user = xstrdup(user);
	c->identity.claimed = xstrdup(user);
	c->identity.uid = 20001;
	return c;
}

static void test_limit(void)
{
	struct winrmd_config *cfg = config_new_defaults();
	is_int(conns_idle_limit_ms(cfg), 7200000 + 60000,
	       "defaults: Winrs.IdleTimeout (2 h) is the longest wait, plus a minute");
	cfg->idle_timeout_ms = 60000;
	is_int(conns_idle_limit_ms(cfg), 120000 + 60000,
	       "IdleTimeout 60 s, MaxTimeoutms 60 s: the HTTP idle timeout (120 s) "
	       "plus a minute");
	cfg->max_timeout_ms = 600000;
	is_int(conns_idle_limit_ms(cfg), 600000 + 60000,
	       "MaxTimeoutms 600 s: a Receive may wait that long, plus a minute");
	cfg->max_timeout_ms = 4294967295LL;
	is_int(conns_idle_limit_ms(cfg), 4294967295LL + 60000,
	       "the largest MaxTimeoutms does not overflow");
	config_unref(cfg);
}

static void test_expiry(void)
{
	const int64_t limit = 180000;
	int64_t now = time_mono_ms();

	conns_set_idle_limit(0);
	struct hconn *a = authenticated(1, "alice");
	a->last_used = now - 10 * limit;
	is_int(conns_expire(now), 0,
	       "no limit in force (start-up): nothing expires");
	ok(conns_find(1) == a, "and the old identity is still found");

	conns_set_idle_limit(limit);
	a->last_used = now - limit - 1;
	struct hconn *b = authenticated(2, "bob");
	b->last_used = now - limit + 1000;
	struct hconn *v = conns_get(3);
	v->state = HCONN_VERIFYING;
	v->last_used = now - 10 * limit;
	struct hconn *r = authenticated(4, "carol");
	r->commands = 1;
	r->last_used = now - 10 * limit;

	is_int(conns_expire(now), 1, "the sweep forgets exactly one entry");
	ok(conns_find(1) == NULL,
	   "alice's identity, idle longer than the limit, is gone");
	ok(conns_find(2) == b && b->state == HCONN_AUTHENTICATED,
	   "bob's, used within the limit, is kept");
	ok(conns_find(3) == v,
	   "an entry whose account check still runs is kept");
	ok(conns_find(4) == r && strcmp(r->identity.user, "carol") == 0,
	   "an entry with a running command is kept");

	/* Its command ends: from then on, it ages like any other. */
	r->commands = 0;
	r->last_used = now - limit - 1;
	ok(conns_find(4) == NULL,
	   "a lookup forgets an expired entry as well (no sweep)");
	is_int(conns_expire(now), 0,
	       "and the sweep then has nothing left to forget");

	/* A later request on an expired connection. */
	struct hconn *again = conns_get(1); /* what an AUTH_* request does */
	ok(again != NULL && again->state == HCONN_NEW &&
		   again->identity.user == NULL,
	   "a new authentication on it starts from scratch (no protocol violation)");
	ok(again != a || again->identity.uid == 0,
	   "with no trace of the old identity");

	conns_remove(1);
	conns_remove(2);
	v->state = HCONN_NEW;
	conns_remove(3);
	conns_set_idle_limit(0);
}

static void test_many(void)
{
	const int64_t limit = 1000;
	int64_t now = time_mono_ms();
	conns_set_idle_limit(limit);
	for (uint64_t id = 100; id < 3100; id++) {
		struct hconn *c = authenticated(id, "alice");
		c->last_used = id % 2 ? now - limit - 1 : now;
	}
	is_int(conns_expire(now), 1500,
	       "3000 entries, every other one idle: 1500 forgotten");
	int left = 0;
	for (uint64_t id = 100; id < 3100; id++)
		left += conns_find(id) != NULL;
	is_int(left, 1500, "the 1500 recent ones remain");
	for (uint64_t id = 100; id < 3100; id++)
		conns_remove(id);
	conns_set_idle_limit(0);
}

int main(void)
{
	log_init("test-conns", LOG_LVL_WARN, false);
	test_limit();
	test_expiry();
	test_many();
	return tap_done();
}

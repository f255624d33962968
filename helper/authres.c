/*
 * authres.c - the common tail of every authentication in the helper (see
 * authres.h): throttling, audit lines, verification, the answer.
 * Must not: log a value from the listener or the client unescaped
 * (LOG_ESC): names, reasons and even the remote address come from the
 * listener, which the helper does not trust.
 */
#include "autoconfig.h"

#include "helper/authres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "helper/loop.h"
#include "helper/throttle.h"
#include "helper/verify.h"

static struct throttle_policy policy(void)
{
	const struct winrmd_config *c = helper_config;
	struct throttle_policy p = {
		.max_failures = c->throttle_max_failures,
		.window_ms = c->throttle_window_s * 1000,
		.lockout_ms = c->throttle_lockout_s * 1000,
		.max_delay_ms = c->throttle_max_delay_ms,
	};
	return p;
}

/* Account keys fold case: spellings that differ only in case share one
 * counter, whether or not the mapping folds them to one account. */
static void key_user(char *k, size_t n, const char *user)
{
	int len = snprintf(k, n, "%s", user);
	for (int i = 0; i < len && (size_t)i < n; i++)
		if (k[i] >= 'A' && k[i] <= 'Z')
			k[i] = (char)(k[i] - 'A' + 'a');
}

/* An answer without identity. */
static void answer_refusal(uint32_t seq, uint32_t status, const char *reason)
{
	struct priv_auth_result res = { .status = status, .reason = reason };
	helper_answer(seq, PRIV_AUTH_RESULT, &res, NULL, 0);
}

bool authres_locked(uint32_t seq, const struct audit_peer *peer,
		    const char *claimed, const char *user, const char *method)
{
	struct throttle_policy p = policy();
	int64_t now = time_mono_ms(), left = 0;
	char k[128];
	bool locked = throttle_locked(THROTTLE_ADDR, peer->addr, now, &p,
				      &left);
	if (!locked && user != NULL) {
		key_user(k, sizeof(k), user);
		locked = throttle_locked(THROTTLE_ACCOUNT, k, now, &p, &left);
	}
	if (!locked)
		return false;
	log_audit_event(peer, "authentication",
			"method=%s claimed=\"%s\" result=failure "
			"reason=\"too many failures; refused for another %lld "
			"s\"",
			LOG_ESC(method),
			LOG_ESC(claimed != NULL ? claimed : user),
			(long long)((left + 999) / 1000));
	answer_refusal(seq, PRIV_AUTH_THROTTLED, "too many failures");
	return true;
}

/* Counts a failure of key in table t; a lockout it begins is audited. */
static int64_t count_failure(const struct audit_peer *peer,
			     enum throttle_table t, const char *key,
			     const char *shown, int64_t now,
			     const struct throttle_policy *p)
{
	int64_t left = 0;
	bool before = throttle_locked(t, key, now, p, &left);
	int64_t delay = throttle_failure(t, key, now, p);
	if (!before && throttle_locked(t, key, now, p, &left))
		log_audit_event(peer, "lockout",
				"%s=%s result=locked reason=\"%lld failures "
				"within %lld s (Throttling.MaxFailures)\" "
				"seconds=%lld",
				t == THROTTLE_ADDR ? "address" : "account",
				shown, (long long)p->max_failures,
				(long long)(p->window_ms / 1000),
				(long long)((left + 999) / 1000));
	return delay;
}

struct delayed_denial {
	uint32_t seq;
	char *reason;
};

static void deny_later(void *arg)
{
	struct delayed_denial *d = arg;
	answer_refusal(d->seq, PRIV_AUTH_DENIED, d->reason);
	free(d->reason);
	free(d);
}

void authres_refuse(uint32_t seq, const struct audit_peer *peer,
		    const char *method, const char *claimed, const char *user,
		    const char *reason)
{
	/* The local account, when a mapping found one other than the
	 * claimed name (a certificate, DOMAIN\\user...). */
	if (user != NULL && user[0] != '\0' &&
	    (claimed == NULL || strcmp(claimed, user) != 0))
		log_audit_event(peer, "authentication",
				"method=%s claimed=\"%s\" mapped=%s "
				"result=failure reason=\"%s\"",
				LOG_ESC(method), LOG_ESC(claimed),
				LOG_ESC(user), LOG_ESC(reason));
	else
		log_audit_event(peer, "authentication",
				"method=%s claimed=\"%s\" result=failure "
				"reason=\"%s\"",
				LOG_ESC(method), LOG_ESC(claimed),
				LOG_ESC(reason));
	struct throttle_policy p = policy();
	int64_t now = time_mono_ms();
	int64_t delay = count_failure(peer, THROTTLE_ADDR, peer->addr,
				      LOG_ESC(peer->addr), now, &p);
	if (user != NULL && user[0] != '\0') {
		char k[128];
		key_user(k, sizeof(k), user);
		int64_t d2 = count_failure(peer, THROTTLE_ACCOUNT, k,
					   LOG_ESC(user), now, &p);
		if (d2 > delay)
			delay = d2;
	}
	struct delayed_denial *d = xmalloc(sizeof(*d));
	d->seq = seq;
	d->reason = xstrdup(reason);
	/* The delay is a timer, not a sleep: other clients go on. */
	helper_timer_at(now + delay, deny_later, d);
}

void auth_attempt_free(struct auth_attempt *a)
{
	if (a == NULL)
		return;
	free(a->claimed);
	free(a->account);
	buf_release_secret(&a->token);
	free(a);
}

static void verified(void *arg, const struct verify_result *res)
{
	struct auth_attempt *a = arg;
	struct hconn *c = a->conn;
	const struct audit_peer *peer = &a->peer;
	const char *remote = a->peer_addr;
	if (c->id == 0) {
		/* The listener closed the connection meanwhile. */
		conns_discard(c);
		c = NULL;
	}
	if (!res->authenticated || c == NULL) {
		if (c != NULL)
			conns_reset(c);
		authres_refuse(a->seq, peer, a->method, a->claimed, a->account,
			       c == NULL ? "connection closed" : res->reason);
		auth_attempt_free(a);
		return;
	}
	char k[128];
	throttle_success(THROTTLE_ADDR, remote);
	key_user(k, sizeof(k), a->account);
	throttle_success(THROTTLE_ACCOUNT, k);

	hidentity_release(&c->identity);
	c->identity.claimed = xstrdup(a->claimed);
	c->identity.user = xstrdup(res->user);
	c->identity.uid = res->uid;
	c->identity.gid = res->gid;
	c->identity.flags = res->flags;
	c->identity.mech = a->mech;
	c->state = HCONN_AUTHENTICATED;

	log_audit_event(peer, "authentication",
			"method=%s/%s claimed=\"%s\" mapped=%s uid=%u "
			"result=success",
			a->method, a->mech, LOG_ESC(a->claimed),
			LOG_ESC(res->user), (unsigned)res->uid);
	log_audit_event(peer, "authorization",
			"user=%s result=%s%s reason=\"%s\"", LOG_ESC(res->user),
			(res->flags & PRIV_ID_AUTHORIZED) ? "allowed"
							  : "denied",
			(res->flags & PRIV_ID_ADMIN) ? " role=administrator"
						     : "",
			LOG_ESC(res->authz_reason));

	struct priv_auth_result ok = {
		.status = PRIV_AUTH_OK,
		.token = { a->token.data, a->token.len },
		.claimed = a->claimed,
		.user = res->user,
		.uid = res->uid,
		.gid = res->gid,
		.flags = res->flags,
		.mech = a->mech,
		.reason = res->authz_reason,
	};
	helper_answer(a->seq, PRIV_AUTH_RESULT, &ok, NULL, 0);
	auth_attempt_free(a);
}

struct auth_attempt *authres_attempt_new(uint32_t seq, struct hconn *conn,
					 const char *method, const char *mech,
					 char *claimed)
{
	struct auth_attempt *a = xcalloc(1, sizeof(*a));
	a->seq = seq;
	a->conn = conn;
	snprintf(a->peer_addr, sizeof(a->peer_addr), "%s", conn->remote);
	a->peer = (struct audit_peer){ conn->id, a->peer_addr, conn->port };
	a->method = method;
	a->mech = mech;
	a->claimed = claimed;
	buf_init(&a->token);
	return a;
}

void authres_verify(struct auth_attempt *a, const char *local_user,
		    const char *password)
{
	free(a->account);
	a->account = xstrdup(local_user);
	a->conn->state = HCONN_VERIFYING;
	verify_start(helper_config, local_user, password, a->conn->remote,
		     a->ntlm_local, a->fold_case, verified, a);
}

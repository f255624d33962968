/*
 * conns.c - the helper's connection table (a hash table keyed by the
 * listener's connection id).  Entries are created by the first
 * authentication request of a connection and removed by PRIV_CONN_CLOSE,
 * or when they have been idle for too long (conns_expire).  The table is
 * bounded: a listener that never reports closes cannot make the helper
 * grow without limit, nor keep an identity for ever.
 *
 * Entry points: conns_find, conns_get, conns_reset, conns_remove,
 * conns_expire, and the CONN_CLOSE request (module_conns; its start hook
 * begins the expiry sweep).
 */
#include "autoconfig.h"

#include "helper/conns.h"
#include "helper/krb5-cfx.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"

#define BUCKETS 1024
#define MAX_CONNS 200000

static struct hconn *buckets[BUCKETS];
static size_t n_conns;
static size_t n_local; /* ids with HCONN_LOCAL_BIT */

static int64_t idle_limit_ms; /* 0: entries never expire */

size_t conns_count_local(void)
{
	return n_local;
}

static size_t bucket_of(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 54) % BUCKETS;
}

void hidentity_release(struct hidentity *id)
{
	free(id->claimed);
	free(id->user);
	memset(id, 0, sizeof(*id));
}

/*
 * How long a connection may go without a request to the helper and still
 * be in legitimate use.  Between two helper requests of a live connection
 * the listener may wait
 *  - for a Receive long-poll: up to Service.MaxTimeoutms;
 *  - for a keep-alive connection's next request: up to the HTTP idle
 *    timeout (WINRMD_HTTP_IDLE_TIMEOUT_S), after which the listener
 *    closes it and sends CONN_CLOSE;
 *  - for a client that works in its shells with requests the listener
 *    answers alone (Receive, Send, Get... of an unencrypted or HTTPS
 *    connection): a shell idle that long (Winrs.IdleTimeout) is gone,
 *    so a client cannot expect more.  Running commands are covered
 *    apart: an entry whose commands still run does not expire, and the
 *    end of a command counts as a use.
 * The longest of these, plus a minute for slow clients and timers.  An
 * entry that expires all the same loses its identity: the connection's
 * next privileged request (Command, encryption, configuration) is
 * refused, and the client authenticates again on a new connection.
 */
int64_t conns_idle_limit_ms(const struct winrmd_config *cfg)
{
	int64_t limit = (int64_t)WINRMD_HTTP_IDLE_TIMEOUT_S * 1000;
	if (cfg->max_timeout_ms > limit)
		limit = cfg->max_timeout_ms;
	if (cfg->idle_timeout_ms > limit)
		limit = cfg->idle_timeout_ms;
	return limit + 60000;
}

void conns_set_idle_limit(int64_t ms)
{
	idle_limit_ms = ms > 0 ? ms : 0;
}

static bool expired(const struct hconn *c, int64_t now)
{
	return idle_limit_ms > 0 && c->state != HCONN_VERIFYING &&
	       c->commands == 0 && now - c->last_used > idle_limit_ms;
}

static void expire(struct hconn *c, int64_t now)
{
	if (c->state == HCONN_AUTHENTICATED)
		log_info("connection %llu unused for %lld s: forgetting the "
			 "identity of %s",
			 (unsigned long long)c->id,
			 (long long)((now - c->last_used) / 1000),
			 LOG_ESC(c->identity.user));
	else
		log_debug("connection %llu unused for %lld s: forgotten",
			  (unsigned long long)c->id,
			  (long long)((now - c->last_used) / 1000));
	conns_remove(c->id);
}

struct hconn *conns_find(uint64_t id)
{
	for (struct hconn *c = buckets[bucket_of(id)]; c != NULL; c = c->next)
		if (c->id == id) {
			int64_t now = time_mono_ms();
			if (expired(c, now)) {
				expire(c, now);
				return NULL;
			}
			c->last_used = now;
			return c;
		}
	return NULL;
}

size_t conns_expire(int64_t now_ms)
{
	size_t n = 0;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct hconn *c = buckets[b];
		while (c != NULL) {
			struct hconn *next = c->next;
			if (expired(c, now_ms)) {
				expire(c, now_ms);
				n++;
			}
			c = next;
		}
	}
	return n;
}

void conns_reset(struct hconn *c)
{
	if (c->ctx != GSS_C_NO_CONTEXT) {
		OM_uint32 minor;
		gss_delete_sec_context(&minor, &c->ctx, GSS_C_NO_BUFFER);
		c->ctx = GSS_C_NO_CONTEXT;
	}
	if (c->deleg != GSS_C_NO_CREDENTIAL) {
		OM_uint32 minor;
		gss_release_cred(&minor, &c->deleg);
		c->deleg = GSS_C_NO_CREDENTIAL;
	}
	cfx_free(c->cfx);
	c->cfx = NULL;
	hidentity_release(&c->identity);
	c->ctx_is_krb5 = false;
	c->state = HCONN_NEW;
}

static void conns_free(struct hconn *c)
{
	conns_reset(c);
	if (c->local)
		n_local--;
	free(c);
	n_conns--;
}

/* Drops the least recently used entry that is not mid-verification. */
static void evict_one(void)
{
	struct hconn *victim = NULL;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct hconn *c = buckets[b]; c != NULL; c = c->next)
			if (c->state != HCONN_VERIFYING &&
			    (victim == NULL ||
			     c->last_used < victim->last_used))
				victim = c;
	if (victim != NULL) {
		log_warn("connection table full; forgetting connection %llu",
			 (unsigned long long)victim->id);
		conns_remove(victim->id);
	}
}

struct hconn *conns_get(uint64_t id)
{
	struct hconn *c = conns_find(id);
	if (c != NULL)
		return c;
	if (n_conns >= MAX_CONNS)
		evict_one();
	c = xcalloc(1, sizeof(*c));
	c->id = id;
	c->ctx = GSS_C_NO_CONTEXT;
	c->last_used = time_mono_ms();
	size_t b = bucket_of(id);
	c->next = buckets[b];
	buckets[b] = c;
	n_conns++;
	return c;
}

struct hconn *conns_new_local(uint64_t id)
{
	struct hconn *c = conns_get(id);
	if (!c->local) {
		c->local = true;
		n_local++;
	}
	return c;
}

const char *conns_identity_revoked(const struct hconn *c)
{
	const struct winrmd_config *cfg = helper_config;
	const char *mech = c->identity.mech != NULL ? c->identity.mech : "";
	if (c->local)
		return NULL;
	if (strcmp(mech, "Basic") == 0)
		return cfg->auth_basic ? NULL : "Basic is disabled";
	if (strcmp(mech, "Certificate") == 0)
		return cfg->auth_certificate ? NULL : "Certificate is disabled";
	if (strcmp(mech, "Kerberos") == 0 && !cfg->auth_kerberos)
		return "Kerberos is disabled";
	if (strcmp(c->scheme, "Negotiate") == 0 && !cfg->auth_negotiate)
		return "Negotiate is disabled";
	if (strcmp(c->scheme, "Kerberos") == 0 && !cfg->auth_kerberos)
		return "Kerberos is disabled";
	return NULL;
}

void conns_remove(uint64_t id)
{
	for (struct hconn **pp = &buckets[bucket_of(id)]; *pp != NULL;
	     pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct hconn *c = *pp;
			if (c->state == HCONN_VERIFYING) {
				/* The verification callback still refers to it;
				 * it removes the entry when it finishes. */
				c->id = 0;
				return;
			}
			*pp = c->next;
			conns_free(c);
			return;
		}
	}
}

void conns_discard(struct hconn *c)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct hconn **pp = &buckets[b]; *pp != NULL;
		     pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				conns_free(c);
				return;
			}
}

static void handle_conn_close(struct helper_call *call)
{
	const struct priv_conn_close *r = call->args;
	conns_remove(r->conn);
	helper_answer(call->seq, PRIV_OK, NULL, NULL, 0);
}

static const struct helper_request requests[] = {
	{ PRIV_CONN_CLOSE, REQ_CONN, PRIV_ERROR, handle_conn_close },
};

/* Connections the listener never reported closed must not keep their
 * identities for ever: every SWEEP_MS, the idle limit of the configuration
 * in force (a reload counts from the next sweep) and the expiry;
 * conns_find checks the same limit on every lookup. */
#define SWEEP_MS 30000

static void sweep(void *arg)
{
	(void)arg;
	conns_set_idle_limit(conns_idle_limit_ms(helper_config));
	conns_expire(time_mono_ms());
	helper_timer_at(time_mono_ms() + SWEEP_MS, sweep, NULL);
}

static void start_sweep(void)
{
	sweep(NULL);
}

const struct helper_module module_conns = {
	.name = "conns",
	HELPER_REQUESTS(requests),
	.start = start_sweep,
};

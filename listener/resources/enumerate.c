/*
 * enumerate.c - WS-Enumeration for every resource (DSP0226 §8,
 * MS-WSMV 3.1.4.8-10, docs/wsman-wmi.md §3): the Enumerate answer, the
 * enumeration contexts kept for Pull, Pull and Release.
 *
 * A resource hands its rendered items over (res_enum_answer_items, or
 * res_enum_answer for a few items rendered as one block).  With
 * w:OptimizeEnumeration the EnumerateResponse carries as many items as
 * w:MaxElements and the envelope size allow, with an empty context and
 * w:EndOfSequence when that is all of them, as Windows answers; the rest
 * waits in a context for Pull, which hands out n:MaxElements items (1
 * when absent, as WS-Enumeration says) under a fresh context value each
 * time, as Windows does, and ends with n:EndOfSequence and no context.
 *
 * A context belongs to the account that made it and to its resource
 * URI; it expires after Service.EnumerationTimeoutms without a Pull; and
 * while it lives it holds one of its account's
 * Service.MaxConcurrentOperationsPerUser slots (listener/operations.c),
 * so an account cannot pile up contexts.  Expired contexts are swept by
 * every call here and by enum_sweep (called once a second by the WMI
 * provider pool's thread).
 *
 * Must not: render items (resources do) or know resources.
 */
#include "autoconfig.h"

#include "listener/resources/resources.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "lib/log.h"
#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "lib/wsman/xmltree.h"
#include "listener/operations.h"
#include "listener/request.h"

/* Contexts alive at once, all accounts together (each also holds an
 * operation slot of its account). */
#define MAX_CONTEXTS 4096
/* What the envelope around the items takes, at most. */
#define ENVELOPE_OVERHEAD 2048

struct enum_ctx {
	char id[48];
	char *uri; /* the enumerated resource */
	uid_t uid;
	int64_t expires;
	int64_t timeout_ms;
	struct enum_items items;
	size_t next; /* first item not handed out yet */
	struct enum_ctx *next_ctx;
};

static struct {
	pthread_mutex_t lock;
	struct enum_ctx *list;
	size_t count;
} E = { .lock = PTHREAD_MUTEX_INITIALIZER };

void enum_items_add(struct enum_items *it, struct buf *item)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 64;
		it->v = xrealloc(it->v, it->cap * sizeof(*it->v));
		it->len = xrealloc(it->len, it->cap * sizeof(*it->len));
	}
	it->len[it->n] = item->len;
	it->v[it->n++] = buf_steal(item);
}

void enum_items_release(struct enum_items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->v[i]);
	free(it->v);
	free(it->len);
	memset(it, 0, sizeof(*it));
}

static void ctx_free(struct enum_ctx *c)
{
	operations_release(c->uid);
	enum_items_release(&c->items);
	free(c->uri);
	free(c);
}

/* Unlinks and frees the expired contexts (lock held). */
static void sweep_locked(int64_t now)
{
	for (struct enum_ctx **pp = &E.list; *pp != NULL;) {
		struct enum_ctx *c = *pp;
		if (c->expires < now) {
			*pp = c->next_ctx;
			E.count--;
			log_debug("enumeration context %s expired", c->id);
			ctx_free(c);
		} else {
			pp = &c->next_ctx;
		}
	}
}

void enum_sweep(void)
{
	pthread_mutex_lock(&E.lock);
	sweep_locked(time_mono_ms());
	pthread_mutex_unlock(&E.lock);
}

size_t enum_count(void)
{
	pthread_mutex_lock(&E.lock);
	size_t n = E.count;
	pthread_mutex_unlock(&E.lock);
	return n;
}

static bool optimized(const struct wsman_request *req)
{
	return xml_child(req->body, NS_WSMAN, "OptimizeEnumeration") != NULL;
}

/* A positive MaxElements child of the body (namespace ns), or dflt. */
static size_t max_elements(const struct wsman_request *req, const char *ns,
			   size_t dflt)
{
	const xmlNode *n = xml_child(req->body, ns, "MaxElements");
	if (n == NULL)
		return dflt;
	char *t = xml_trimmed_text(n);
	char *end;
	unsigned long long v = strtoull(t, &end, 10);
	bool good = t[0] >= '0' && t[0] <= '9' && *end == '\0' && v > 0;
	free(t);
	if (!good)
		return dflt;
	return v > 1000000 ? 1000000 : (size_t)v;
}

/* Bytes the items of one answer may take. */
static size_t item_budget(const struct request *r,
			  const struct wsman_request *req)
{
	int64_t env = r->cfg->max_envelope_size_kb * 1024;
	if (req->max_envelope_size > 0 && req->max_envelope_size < env)
		env = req->max_envelope_size;
	return env > ENVELOPE_OVERHEAD ? (size_t)env - ENVELOPE_OVERHEAD : 0;
}

/* How many items from first fit in max elements and budget bytes; 0
 * when even the first does not fit. */
static size_t batch(const struct enum_items *it, size_t first, size_t max,
		    size_t budget)
{
	size_t n = 0, bytes = 0;
	while (first + n < it->n && n < max) {
		size_t len = it->len[first + n];
		if (bytes + len > budget)
			break;
		bytes += len;
		n++;
	}
	return n;
}

static void append_items(struct buf *out, const struct enum_items *it,
			 size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++)
		buf_append(out, it->v[i], it->len[i]);
}

/* Keeps items (from next on) in a new context for r's account and
 * resource; writes its id into id.  Returns FAULT_NONE, or the quota
 * fault (items left to the caller). */
static enum fault_id keep(struct request *r, const struct wsman_request *req,
			  struct enum_items *items, size_t next, char id[48])
{
	int64_t now = time_mono_ms();
	uid_t uid = r->identity->uid;
	if (!operations_acquire(uid,
				r->cfg->max_concurrent_operations_per_user)) {
		log_info("%s: enumeration refused: "
			 "MaxConcurrentOperationsPerUser (%lld) reached",
			 LOG_ESC(r->identity->user),
			 (long long)r->cfg->max_concurrent_operations_per_user);
		return FAULT_QUOTA_MAX_OPERATIONS;
	}
	pthread_mutex_lock(&E.lock);
	sweep_locked(now);
	if (E.count >= MAX_CONTEXTS) {
		pthread_mutex_unlock(&E.lock);
		operations_release(uid);
		log_warn("%s: enumeration refused: %d contexts are open",
			 LOG_ESC(r->identity->user), MAX_CONTEXTS);
		return FAULT_QUOTA_LIMIT;
	}
	struct enum_ctx *c = xcalloc(1, sizeof(*c));
	char guid[37];
	guid_generate(guid);
	snprintf(c->id, sizeof(c->id), "uuid:%s", guid);
	c->uri = xstrdup(req->resource_uri ? req->resource_uri : "");
	c->uid = uid;
	c->timeout_ms = r->cfg->enumeration_timeout_ms;
	c->expires = now + c->timeout_ms;
	c->items = *items;
	memset(items, 0, sizeof(*items));
	c->next = next;
	c->next_ctx = E.list;
	E.list = c;
	E.count++;
	memcpy(id, c->id, sizeof(c->id));
	pthread_mutex_unlock(&E.lock);
	return FAULT_NONE;
}

enum fault_id res_enum_answer_items(struct request *r,
				    const struct wsman_request *req,
				    struct enum_items *items, struct buf *out)
{
	size_t n = 0;
	bool opt = optimized(req);
	if (opt) {
		size_t max = max_elements(req, NS_WSMAN, 1);
		n = batch(items, 0, max, item_budget(r, req));
		if (n == 0 && items->n > 0 && max > 0) {
			enum_items_release(items);
			return FAULT_ENCODING_LIMIT_RESPONSE;
		}
	}
	char id[48] = "";
	bool end = opt && n == items->n;
	struct buf first = BUF_INIT;
	append_items(&first, items, 0, n);
	if (!end) {
		enum fault_id f = keep(r, req, items, n, id);
		if (f != FAULT_NONE) {
			enum_items_release(items);
			buf_release(&first);
			return f;
		}
	}
	enum_items_release(items);
	wsman_response_begin(out, ACTION_ENUMERATE "Response", req->message_id);
	buf_append_str(out,
		       "<n:EnumerateResponse xmlns:n=\"" NS_ENUMERATION "\">");
	buf_printf(out, "<n:EnumerationContext>%s</n:EnumerationContext>", id);
	if (opt) {
		if (first.len > 0) {
			buf_append_str(out, "<w:Items>");
			buf_append(out, first.data, first.len);
			buf_append_str(out, "</w:Items>");
		}
		if (end)
			buf_append_str(out, "<w:EndOfSequence/>");
	}
	buf_release(&first);
	buf_append_str(out, "</n:EnumerateResponse>");
	wsman_response_end(out);
	return FAULT_NONE;
}

enum fault_id res_enum_answer(struct request *r,
			      const struct wsman_request *req,
			      struct buf *items, struct buf *out)
{
	/* The few items of the configuration and shell resources travel as
	 * one block: all of them in the first answer. */
	struct enum_items it = { 0 };
	if (items->len > 0)
		enum_items_add(&it, items);
	buf_release(items);
	if (!optimized(req))
		return res_enum_answer_items(r, req, &it, out);
	/* (an empty w:Items when there is none, as winrmd always answered
	 * here; the WMI classes leave it out, as Windows' WMI plug-in) */
	wsman_response_begin(out, ACTION_ENUMERATE "Response", req->message_id);
	buf_append_str(
		out, "<n:EnumerateResponse xmlns:n=\"" NS_ENUMERATION "\">"
		     "<n:EnumerationContext></n:EnumerationContext><w:Items>");
	if (it.n > 0)
		buf_append(out, it.v[0], it.len[0]);
	buf_append_str(out,
		       "</w:Items><w:EndOfSequence/></n:EnumerateResponse>");
	wsman_response_end(out);
	enum_items_release(&it);
	return FAULT_NONE;
}

static char *context_of(const struct wsman_request *req)
{
	const xmlNode *c = xml_child(req->body, NULL, "EnumerationContext");
	return c != NULL ? xml_trimmed_text(c) : NULL;
}

/* Finds the context id of r's account and resource and unlinks it
 * (lock held); NULL when there is none. */
static struct enum_ctx *take(struct request *r, const struct wsman_request *req,
			     const char *id)
{
	for (struct enum_ctx **pp = &E.list; *pp != NULL;
	     pp = &(*pp)->next_ctx) {
		struct enum_ctx *c = *pp;
		if (c->uid == r->identity->uid && strcmp(c->id, id) == 0 &&
		    req->resource_uri != NULL &&
		    strcasecmp(c->uri, req->resource_uri) == 0) {
			*pp = c->next_ctx;
			E.count--;
			return c;
		}
	}
	return NULL;
}

static enum fault_id pull_or_release(struct request *r,
				     const struct wsman_request *req,
				     struct buf *out, bool pull)
{
	char *id = context_of(req);
	if (id == NULL)
		return FAULT_INVALID_ENUMERATION_CONTEXT;
	int64_t now = time_mono_ms();
	pthread_mutex_lock(&E.lock);
	sweep_locked(now);
	struct enum_ctx *c = take(r, req, id);
	pthread_mutex_unlock(&E.lock);
	free(id);
	if (c == NULL)
		return FAULT_INVALID_ENUMERATION_CONTEXT;
	if (!pull) {
		ctx_free(c);
		wsman_response_begin(out, ACTION_RELEASE "Response",
				     req->message_id);
		wsman_response_end(out);
		return FAULT_NONE;
	}
	size_t max = max_elements(req, NS_ENUMERATION, 1);
	size_t n = batch(&c->items, c->next, max, item_budget(r, req));
	if (n == 0 && c->next < c->items.n) {
		ctx_free(c);
		return FAULT_ENCODING_LIMIT_RESPONSE;
	}
	bool end = c->next + n == c->items.n;
	wsman_response_begin(out, ACTION_PULL "Response", req->message_id);
	buf_append_str(out, "<n:PullResponse xmlns:n=\"" NS_ENUMERATION "\">");
	if (!end) {
		/* a fresh context value for the next Pull, as Windows */
		char guid[37];
		guid_generate(guid);
		snprintf(c->id, sizeof(c->id), "uuid:%s", guid);
		buf_printf(out,
			   "<n:EnumerationContext>%s</n:EnumerationContext>",
			   c->id);
	}
	buf_append_str(out, "<n:Items>");
	append_items(out, &c->items, c->next, n);
	buf_append_str(out, "</n:Items>");
	if (end)
		buf_append_str(out, "<n:EndOfSequence/>");
	buf_append_str(out, "</n:PullResponse>");
	wsman_response_end(out);
	if (end) {
		ctx_free(c);
	} else {
		c->next += n;
		pthread_mutex_lock(&E.lock);
		c->expires = time_mono_ms() + c->timeout_ms;
		c->next_ctx = E.list;
		E.list = c;
		E.count++;
		pthread_mutex_unlock(&E.lock);
	}
	return FAULT_NONE;
}

enum fault_id res_enum_pull(struct request *r, const struct wsman_request *req,
			    struct buf *out)
{
	return pull_or_release(r, req, out, true);
}

enum fault_id res_enum_release(struct request *r,
			       const struct wsman_request *req, struct buf *out)
{
	return pull_or_release(r, req, out, false);
}

void enum_stop(void)
{
	pthread_mutex_lock(&E.lock);
	while (E.list != NULL) {
		struct enum_ctx *c = E.list;
		E.list = c->next_ctx;
		ctx_free(c);
	}
	E.count = 0;
	pthread_mutex_unlock(&E.lock);
}

/*
 * certmapping.c - winrm/config/service/certmapping (wsman-protocol.md
 * §8.4, MS-WSMV 2.2.4.3): Create, Get, Put, Delete and Enumerate of the
 * certificate mappings.  Selectors URI, Subject and Issuer name an entry;
 * the body (cfg:CertMapping, any case, in the certmapping namespace with
 * or without ".xsd") carries UserName, Enabled and perhaps Password.
 *
 * Password is accepted and dropped: winrmd checks the mapped account
 * with PAM account management like every other identity, so there is
 * nothing to store, and nothing is ever returned.  The table itself is
 * root's; the helper reads and writes it (priv/certmap-write.c) and
 * sends back the canonical text, parsed here with the same loader.
 */
#include "autoconfig.h"

#include "listener/resources/resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "lib/certmap.h"
#include "listener/helper-client.h"
#include "listener/conn.h"
#include "lib/wsman/envelope.h"
#include "lib/log.h"
#include "lib/wsman/ns.h"
#include "listener/request.h"
#include "lib/wsman/xmltree.h"

#define NS_CERTMAP NS_CONFIG "/service/certmapping"

struct certmap_call {
	struct priv_msg reply;
};

static void free_call(void *p)
{
	struct certmap_call *c = p;
	priv_msg_release(&c->reply);
	free(c);
}

/* The selectors of one entry. */
struct key {
	const char *uri, *subject, *issuer;
};

static enum fault_id key_of(struct request *r, const struct wsman_request *req,
			    struct key *k)
{
	k->uri = wsman_selector(req, "URI");
	k->subject = wsman_selector(req, "Subject");
	k->issuer = wsman_selector(req, "Issuer");
	if (k->uri == NULL || k->subject == NULL || k->issuer == NULL) {
		r->fault_message = xstrdup("the URI, Subject and Issuer "
					   "selectors are required");
		return FAULT_INSUFFICIENT_SELECTORS;
	}
	const char *why;
	const char *which = NULL;
	if ((why = certmap_check_uri(k->uri)) != NULL)
		which = "URI";
	else if ((why = certmap_check_subject(k->subject)) != NULL)
		which = "Subject";
	else if ((why = certmap_check_issuer(k->issuer)) != NULL)
		which = "Issuer";
	if (which != NULL) {
		r->fault_message = xasprintf("selector %s: %s", which, why);
		return FAULT_INVALID_SELECTORS;
	}
	return FAULT_NONE;
}

static bool is_certmap_ns(const xmlNode *n)
{
	if (n->ns == NULL)
		return false;
	const char *href = (const char *)n->ns->href;
	return strcasecmp(href, NS_CERTMAP) == 0 ||
	       strcasecmp(href, NS_CERTMAP ".xsd") == 0 ||
	       strcasecmp(href, NS_CONFIG) == 0;
}

/*
 * Reads a Create/Put body: *user_r (caller frees; "" when absent) and
 * *enabled_r (0, 1, or PRIV_CERTMAP_KEEP when absent).
 */
static enum fault_id parse_body(struct request *r,
				const struct wsman_request *req, char **user_r,
				uint32_t *enabled_r)
{
	*user_r = NULL;
	*enabled_r = PRIV_CERTMAP_KEEP;
	const xmlNode *body = req->body;
	if (body == NULL || !is_certmap_ns(body) ||
	    strcasecmp((const char *)body->name, "CertMapping") != 0) {
		r->fault_message = xstrdup(
			"the body must be a CertMapping element");
		return FAULT_SCHEMA_VALIDATION;
	}
	for (const xmlNode *c = body->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)c->name;
		if (!is_certmap_ns(c)) {
			r->fault_message = xasprintf(
				"unknown element %s in CertMapping", name);
			goto schema;
		}
		if (strcasecmp(name, "Password") == 0)
			continue; /* accepted, never stored (see above) */
		/* The selectors may be repeated in the body (Get, modify,
		 * Put); they must then agree with the selectors. */
		const char *sel = strcasecmp(name, "URI") == 0       ? "URI"
				  : strcasecmp(name, "Subject") == 0 ? "Subject"
				  : strcasecmp(name, "Issuer") == 0  ? "Issuer"
								     : NULL;
		char *text = xml_trimmed_text(c);
		if (sel != NULL) {
			bool same = strcasecmp(text,
					       wsman_selector(req, sel)) == 0;
			free(text);
			if (!same) {
				r->fault_message =
					xasprintf("%s in the body differs "
						  "from the selector",
						  sel);
				free(*user_r);
				*user_r = NULL;
				return FAULT_INVALID_REPRESENTATION;
			}
		} else if (strcasecmp(name, "UserName") == 0) {
			free(*user_r);
			*user_r = text;
		} else if (strcasecmp(name, "Enabled") == 0) {
			if (strcasecmp(text, "true") == 0)
				*enabled_r = 1;
			else if (strcasecmp(text, "false") == 0)
				*enabled_r = 0;
			else
				r->fault_message =
					xasprintf("Enabled: \"%s\" is "
						  "not true or false",
						  text);
			free(text);
			if (r->fault_message != NULL) {
				free(*user_r);
				*user_r = NULL;
				return FAULT_INVALID_REPRESENTATION;
			}
		} else {
			free(text);
			r->fault_message = xasprintf(
				"unknown element %s in CertMapping", name);
			goto schema;
		}
	}
	if (*user_r == NULL)
		*user_r = xstrdup("");
	if ((*user_r)[0] != '\0') {
		const char *why = certmap_check_user(*user_r);
		if (why != NULL) {
			r->fault_message = xasprintf("UserName: %s", why);
			free(*user_r);
			*user_r = NULL;
			return FAULT_INVALID_REPRESENTATION;
		}
	}
	return FAULT_NONE;
schema:
	free(*user_r);
	*user_r = NULL;
	return FAULT_SCHEMA_VALIDATION;
}

/* Sends the request; the handler runs again when the helper answers. */
static enum fault_id call_helper(struct request *r, enum priv_certmap_op op,
				 const struct key *k, const char *user,
				 uint32_t enabled)
{
	struct priv_certmap m = {
		.conn = r->conn->id,
		.op = op,
		.uri = k ? k->uri : "",
		.subject = k ? k->subject : "",
		.issuer = k ? k->issuer : "",
		.user = user ? user : "",
		.enabled = enabled,
	};
	struct certmap_call *c = xcalloc(1, sizeof(*c));
	priv_msg_init(&c->reply, PRIV_NONE);
	r->handler_ctx = c;
	r->handler_ctx_free = free_call;
	if (request_helper_call(r, PRIV_CERTMAP, &m, -1, &c->reply, NULL) != 0)
		return FAULT_INTERNAL_ERROR;
	r->handler_pending = true;
	return FAULT_NONE;
}

/* The helper's answer: the table (caller frees) or a fault. */
static enum fault_id helper_table(struct request *r, struct certmap **t_r)
{
	struct certmap_call *c = r->handler_ctx;
	struct priv_certmap_result res;
	*t_r = NULL;
	enum fault_id f = FAULT_NONE;
	if (priv_decode_certmap_result(&c->reply, &res, NULL) != 0) {
		f = FAULT_INTERNAL_ERROR;
	} else if (res.error != 0) {
		uint32_t error = res.error;
		const char *message = res.message;
		f = error == EEXIST   ? FAULT_ALREADY_EXISTS
		    : error == ENOENT ? FAULT_DESTINATION_UNREACHABLE
		    : error == EINVAL ? FAULT_INVALID_REPRESENTATION
		    : error == EACCES ? FAULT_ACCESS_DENIED
				      : FAULT_INTERNAL_ERROR;
		r->fault_message = xstrdup(message);
	} else {
		char *lerr = NULL;
		if (certmap_load_string(res.table, strlen(res.table),
					"certmapping", t_r, &lerr) != 0) {
			log_err("the helper's certificate mappings do not load: %s",
				lerr);
			free(lerr);
			f = FAULT_INTERNAL_ERROR;
		}
	}
	return f;
}

static void render_entry(struct buf *out, const struct certmap_entry *e)
{
	buf_append_str(out, "<cfg:CertMapping xmlns:cfg=\"" NS_CERTMAP "\">"
			    "<cfg:Enabled>");
	buf_append_str(out, e->enabled ? "true" : "false");
	buf_append_str(out, "</cfg:Enabled><cfg:Issuer>");
	xml_escape(out, e->issuer);
	buf_append_str(out, "</cfg:Issuer><cfg:Subject>");
	xml_escape(out, e->subject);
	buf_append_str(out, "</cfg:Subject><cfg:URI>");
	xml_escape(out, e->uri);
	buf_append_str(out, "</cfg:URI><cfg:UserName>");
	xml_escape(out, e->user);
	buf_append_str(out, "</cfg:UserName></cfg:CertMapping>");
}

static void render_selectors(struct buf *out, const struct certmap_entry *e)
{
	buf_append_str(out, "<w:SelectorSet><w:Selector Name=\"Issuer\">");
	xml_escape(out, e->issuer);
	buf_append_str(out, "</w:Selector><w:Selector Name=\"Subject\">");
	xml_escape(out, e->subject);
	buf_append_str(out, "</w:Selector><w:Selector Name=\"URI\">");
	xml_escape(out, e->uri);
	buf_append_str(out, "</w:Selector></w:SelectorSet>");
}

/* The entry of the answered table named by the request's selectors. */
static const struct certmap_entry *
entry_of(struct request *r, const struct certmap *t, const struct key *k)
{
	const struct certmap_entry *e = certmap_find(t, k->uri, k->subject,
						     k->issuer);
	if (e == NULL && r->fault_message == NULL)
		r->fault_message = xstrdup("no certificate mapping has these "
					   "URI, Subject and Issuer selectors");
	return e;
}

enum certmap_action { CM_GET, CM_CREATE, CM_PUT, CM_DELETE, CM_ENUMERATE };

/* First run of a handler: checks the request and asks the helper. */
static enum fault_id start(struct request *r, const struct wsman_request *req,
			   enum certmap_action act, const struct key *k)
{
	if (act == CM_GET || act == CM_ENUMERATE)
		return call_helper(r, PRIV_CERTMAP_LIST, NULL, NULL, 0);
	if (act == CM_DELETE)
		return call_helper(r, PRIV_CERTMAP_DELETE, k, NULL, 0);
	char *user = NULL;
	uint32_t enabled;
	enum fault_id f = parse_body(r, req, &user, &enabled);
	if (f == FAULT_NONE && act == CM_CREATE && user[0] == '\0') {
		r->fault_message = xstrdup("UserName is required");
		f = FAULT_INVALID_REPRESENTATION;
	}
	if (f != FAULT_NONE) {
		/* refused here, before the helper (which audits the rest) */
		log_audit_event(CONN_PEER(r->conn), "certmapping",
				"user=%s action=%s URI=\"%s\" Subject=\"%s\" "
				"Issuer=\"%s\" result=failure reason=\"%s\"",
				LOG_ESC(r->identity->user),
				act == CM_CREATE ? "create" : "set",
				LOG_ESC(k->uri), LOG_ESC(k->subject),
				LOG_ESC(k->issuer),
				r->fault_message ? LOG_ESC(r->fault_message)
						 : fault_name(f));
		free(user);
		return f;
	}
	if (act == CM_CREATE) {
		f = call_helper(r, PRIV_CERTMAP_CREATE, k, user,
				enabled == PRIV_CERTMAP_KEEP ? 1 : enabled);
	} else {
		f = call_helper(r, PRIV_CERTMAP_PUT, k, user, enabled);
	}
	free(user);
	return f;
}

/* Second run: answers from the table the helper sent back. */
static enum fault_id answer(struct request *r, const struct wsman_request *req,
			    enum certmap_action act, const struct key *k,
			    const struct certmap *t, struct buf *out)
{
	if (act == CM_ENUMERATE) {
		struct buf items = BUF_INIT;
		for (size_t i = 0; i < t->n; i++)
			render_entry(&items, &t->entries[i]);
		return res_enum_answer(r, req, &items, out);
	}
	if (act == CM_DELETE) {
		wsman_response_begin(out, ACTION_DELETE "Response",
				     req->message_id);
		wsman_response_end(out);
		return FAULT_NONE;
	}
	const struct certmap_entry *e = entry_of(r, t, k);
	if (e == NULL) /* Create and Put just made or changed it */
		return act == CM_GET ? FAULT_DESTINATION_UNREACHABLE
				     : FAULT_INTERNAL_ERROR;
	if (act == CM_CREATE) {
		wsman_response_begin(out, ACTION_CREATE "Response",
				     req->message_id);
		buf_append_str(out, "<x:ResourceCreated><a:Address>");
		xml_escape(out, req->to ? req->to : ADDR_ANONYMOUS);
		buf_append_str(out,
			       "</a:Address><a:ReferenceParameters>"
			       "<w:ResourceURI>" NS_CERTMAP "</w:ResourceURI>");
		render_selectors(out, e);
		buf_append_str(out,
			       "</a:ReferenceParameters></x:ResourceCreated>");
	} else {
		wsman_response_begin(out,
				     act == CM_GET ? ACTION_GET "Response"
						   : ACTION_PUT "Response",
				     req->message_id);
		render_entry(out, e);
	}
	wsman_response_end(out);
	return FAULT_NONE;
}

static enum fault_id handle(struct request *r, const struct wsman_request *req,
			    struct buf *out, enum certmap_action act)
{
	struct key k = { NULL, NULL, NULL };
	enum fault_id f;
	if (act != CM_ENUMERATE && (f = key_of(r, req, &k)) != FAULT_NONE)
		return f;
	if (r->handler_ctx == NULL)
		return start(r, req, act, &k);
	struct certmap *t;
	if ((f = helper_table(r, &t)) != FAULT_NONE)
		return f;
	f = answer(r, req, act, &k, t, out);
	certmap_free(t);
	return f;
}

enum fault_id res_certmap_get(struct request *r,
			      const struct wsman_request *req, struct buf *out)
{
	return handle(r, req, out, CM_GET);
}

enum fault_id res_certmap_create(struct request *r,
				 const struct wsman_request *req,
				 struct buf *out)
{
	return handle(r, req, out, CM_CREATE);
}

enum fault_id res_certmap_put(struct request *r,
			      const struct wsman_request *req, struct buf *out)
{
	return handle(r, req, out, CM_PUT);
}

enum fault_id res_certmap_delete(struct request *r,
				 const struct wsman_request *req,
				 struct buf *out)
{
	return handle(r, req, out, CM_DELETE);
}

enum fault_id res_certmap_enumerate(struct request *r,
				    const struct wsman_request *req,
				    struct buf *out)
{
	return handle(r, req, out, CM_ENUMERATE);
}

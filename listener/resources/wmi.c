/*
 * wmi.c - the WMI resource: http://schemas.microsoft.com/wbem/wsman/1/
 * wmi/root/cimv2/<Class> and the namespace's "*" (docs/wsman-wmi.md): Get by key
 * selectors, Enumerate (WQL and SelectorFilter filters, the three
 * enumeration modes, projections) with Pull and Release through the
 * shared contexts (enumerate.c), and the classes' methods as custom
 * actions <resource URI>/<Method>.
 *
 * The values come from the caller's own provider host (providers.c):
 * this file checks the request against the class schema (lib/wmi),
 * sends the host a frame, decodes its untrusted reply against the
 * schema, filters, and renders every instance from the schema
 * (lib/wmi/render.c).  A request waits for its host without holding a
 * thread: the first call of a handler queues the frame and suspends, the
 * second, once woken, answers.  Faults carry Windows' WMI plug-in detail
 * (an f:ProviderFault with the inner message).
 *
 * Must not: read any of the account's data itself, or render XML per
 * class.
 */
#include "autoconfig.h"

#include "listener/resources/resources.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "lib/log.h"
#include "lib/wmi/render.h"
#include "lib/wmi/schema.h"
#include "lib/wmi/value.h"
#include "lib/wmi/wire.h"
#include "lib/wmi/wql.h"
#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "lib/wsman/xmltree.h"
#include "listener/conn.h"
#include "listener/providers.h"
#include "listener/request.h"

#define DIALECT_WQL "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#define DIALECT_SELECTOR                                                       \
	"http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
#define SELECTOR_NAMESPACE "__cimnamespace"
#define MAX_HINTS 8

/* What a request keeps between its two calls. */
struct wmi_op {
	struct provider_call *call;
};

static void op_free(void *p)
{
	struct wmi_op *op = p;
	providers_call_end(op->call);
	free(op);
}

static struct wmi_op *op_of(struct request *r)
{
	if (r->handler_ctx == NULL) {
		r->handler_ctx = xcalloc(1, sizeof(struct wmi_op));
		r->handler_ctx_free = op_free;
	}
	return r->handler_ctx;
}

/* A fault with the WMI plug-in's detail and message as inner text. */
static enum fault_id wmi_fault(struct request *r, enum fault_id f,
			       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum fault_id wmi_fault(struct request *r, enum fault_id f,
			       const char *fmt, ...)
{
	r->fault_provider = true;
	free(r->fault_message);
	r->fault_message = NULL;
	if (fmt != NULL) {
		struct buf b = BUF_INIT;
		va_list ap;
		va_start(ap, fmt);
		buf_vprintf(&b, fmt, ap);
		va_end(ap);
		r->fault_message = buf_steal(&b);
	}
	return f;
}

static void wake_request(void *arg)
{
	request_wake(arg);
}

static int64_t timeout_of(const struct request *r,
			  const struct wsman_request *req)
{
	int64_t t = r->cfg->max_timeout_ms;
	if (req->operation_timeout_ms > 0 && req->operation_timeout_ms < t)
		t = req->operation_timeout_ms;
	return t;
}

/*
 * Sends frame to the caller's provider host (first call) or takes its
 * answer (second call).  Returns FAULT_NONE with r->handler_pending set
 * (wait), or FAULT_NONE with the answer in *payload_r and *len_r (caller
 * frees), or a fault.
 */
static enum fault_id exchange(struct request *r,
			      const struct wsman_request *req,
			      const struct buf *frame, uint8_t **payload_r,
			      size_t *len_r)
{
	struct wmi_op *op = op_of(r);
	struct provider_caller who = { .uid = r->identity->uid,
				       .user = r->identity->user,
				       .conn_id = r->conn->id };
	struct provider_waiter w = { wake_request, r };
	bool first = op->call == NULL;
	*payload_r = NULL;
	enum provider_status st = providers_call(&op->call, r->cfg, &who, frame,
						 timeout_of(r, req), &w,
						 payload_r, len_r);
	switch (st) {
	case PROVIDER_PENDING: r->handler_pending = true; return FAULT_NONE;
	case PROVIDER_OK: return FAULT_NONE;
	case PROVIDER_START_FAILED:
		return wmi_fault(r, FAULT_INTERNAL_ERROR,
				 "The WMI provider host could not be started "
				 "for this account.");
	case PROVIDER_TIMED_OUT: return wmi_fault(r, FAULT_TIMED_OUT, NULL);
	case PROVIDER_BUSY: return wmi_fault(r, FAULT_QUOTA_LIMIT, NULL);
	case PROVIDER_FAILED:
	case PROVIDER_STOPPING: break;
	}
	(void)first;
	return wmi_fault(r, FAULT_INTERNAL_ERROR,
			 "The WMI provider host failed.");
}

/* The fault for an ERROR reply of the host. */
static enum fault_id host_error(struct request *r, const struct wmi_result *res)
{
	const char *m = res->message ? res->message : "";
	switch ((enum wmi_error)res->error) {
	case WMI_E_NOT_FOUND:
		return wmi_fault(r, FAULT_DESTINATION_UNREACHABLE, NULL);
	case WMI_E_INVALID_PARAM:
		return wmi_fault(r, FAULT_INVALID_PARAMETER, "%s", m);
	case WMI_E_NOT_SUPPORTED:
		return wmi_fault(r, FAULT_ACTION_NOT_SUPPORTED, "%s", m);
	case WMI_E_ACCESS_DENIED:
		return wmi_fault(r, FAULT_ACCESS_DENIED, "%s", m);
	case WMI_E_FAILED:
	case WMI_E_PROTOCOL: break;
	}
	log_info("%s: WMI provider host: %s", LOG_ESC(r->identity->user),
		 LOG_ESC(m));
	return wmi_fault(r, FAULT_INTERNAL_ERROR, "%s", m);
}

/* Decodes the host's reply for class c; a reply that breaks the
 * protocol is the host's fault, not the client's. */
static enum fault_id decode(struct request *r, const struct wmi_class *c,
			    uint8_t *payload, size_t len,
			    struct wmi_instances *set, struct wmi_result *res)
{
	const char *why = "";
	if (wmi_wire_decode_reply(c, payload, len, set, res, &why) != 0) {
		log_warn("%s: the WMI provider host's answer is refused: %s",
			 LOG_ESC(r->identity->user), why);
		return wmi_fault(r, FAULT_INTERNAL_ERROR,
				 "The WMI provider host answered wrongly.");
	}
	return FAULT_NONE;
}

/* ---- the class and its selectors ---- */

/* The class of req's URI, or a fault (unknown class: Windows'
 * DestinationUnreachable). */
static enum fault_id class_of(struct request *r,
			      const struct wsman_request *req,
			      const struct wmi_class **c_r, bool *wildcard_r)
{
	*c_r = wmi_class_of_uri(req->resource_uri, wildcard_r);
	if (*c_r == NULL && !*wildcard_r)
		return wmi_fault(r, FAULT_DESTINATION_UNREACHABLE, NULL);
	const char *ns = wsman_selector(req, SELECTOR_NAMESPACE);
	if (ns != NULL && strcasecmp(ns, "root/cimv2") != 0 &&
	    strcasecmp(ns, "root\\cimv2") != 0)
		return wmi_fault(r, FAULT_INTERNAL_ERROR,
				 "The resource URI and __cimnamespace "
				 "selector attempted to use different "
				 "namespaces.");
	return FAULT_NONE;
}

/* The selectors of req that name properties (not __cimnamespace). */
static size_t key_selectors(const struct wsman_request *req)
{
	size_t n = 0;
	for (size_t i = 0; i < req->n_selectors; i++)
		n += strcasecmp(req->selectors[i].name, SELECTOR_NAMESPACE) !=
		     0;
	return n;
}

/*
 * Checks req's selectors against c's keys: every key given (a singleton
 * needs none), nothing else.  Fills keys (canonical names, values
 * borrowed from req) and returns FAULT_NONE, or the fault.
 */
static enum fault_id check_keys(struct request *r,
				const struct wsman_request *req,
				const struct wmi_class *c,
				struct wmi_pair *keys, size_t *n_keys)
{
	*n_keys = 0;
	for (size_t i = 0; i < req->n_selectors; i++) {
		const struct wsman_selector *s = &req->selectors[i];
		if (strcasecmp(s->name, SELECTOR_NAMESPACE) == 0)
			continue;
		int k = wmi_prop_find(c, s->name);
		if (k < 0 || !(c->props[k].flags & WMI_KEY) ||
		    *n_keys >= MAX_HINTS)
			return wmi_fault(r, FAULT_UNEXPECTED_SELECTORS,
					 "The selector %s is not a key of %s.",
					 s->name, c->name);
		keys[*n_keys] = (struct wmi_pair){ (char *)c->props[k].name,
						   s->value, false };
		(*n_keys)++;
	}
	if (!(c->flags & WMI_SINGLETON) && *n_keys < wmi_class_n_keys(c))
		return wmi_fault(r, FAULT_INSUFFICIENT_SELECTORS,
				 "%s needs its keys as selectors.", c->name);
	return FAULT_NONE;
}

/* Whether instance i has the keys' values (compared case-insensitively,
 * as Windows compares selector values). */
static bool keys_match(const struct wmi_instances *set, size_t i,
		       const struct wmi_pair *keys, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		int p = wmi_prop_find(set->cls, keys[k].name);
		const struct wmi_value *v = wmi_inst_value(set, i, (size_t)p);
		if (v->kind != WMI_V_SCALAR ||
		    strcasecmp(wmi_inst_str(set, v, 0), keys[k].value) != 0)
			return false;
	}
	return true;
}

/* ---- Get ---- */

enum fault_id res_wmi_get(struct request *r, const struct wsman_request *req,
			  struct buf *out)
{
	const struct wmi_class *c;
	bool wildcard;
	enum fault_id f = class_of(r, req, &c, &wildcard);
	if (f != FAULT_NONE)
		return f;
	if (wildcard)
		return wmi_fault(r, FAULT_DESTINATION_UNREACHABLE, NULL);
	struct wmi_pair keys[MAX_HINTS];
	size_t n_keys;
	f = check_keys(r, req, c, keys, &n_keys);
	if (f != FAULT_NONE)
		return f;
	struct buf frame = BUF_INIT;
	wmi_wire_query(&frame, c->name, 0, keys, n_keys, NULL, 0);
	uint8_t *payload;
	size_t len;
	f = exchange(r, req, &frame, &payload, &len);
	buf_release(&frame);
	if (f != FAULT_NONE || r->handler_pending)
		return f;
	struct wmi_instances set;
	struct wmi_result res;
	f = decode(r, c, payload, len, &set, &res);
	if (f == FAULT_NONE && res.type == WMI_W_ERROR)
		f = host_error(r, &res);
	size_t found = set.n;
	for (size_t i = 0; f == FAULT_NONE && i < set.n && found == set.n; i++)
		if (keys_match(&set, i, keys, n_keys))
			found = i;
	if (f == FAULT_NONE && found == set.n)
		f = wmi_fault(r, FAULT_DESTINATION_UNREACHABLE, NULL);
	if (f == FAULT_NONE) {
		wsman_response_begin(out, ACTION_GET "Response",
				     req->message_id);
		wmi_render_instance(out, &set, found);
		wsman_response_end(out);
	}
	wmi_instances_release(&set);
	wmi_result_release(&res);
	return f;
}

/* ---- Enumerate ---- */

enum mode { MODE_OBJECT = 0, MODE_EPR, MODE_OBJECT_AND_EPR };

/* Attribute without namespace, any case of the name. */
static char *attr(const xmlNode *n, const char *name)
{
	for (xmlAttr *a = n ? n->properties : NULL; a != NULL; a = a->next)
		if (a->ns == NULL &&
		    strcasecmp((const char *)a->name, name) == 0) {
			xmlChar *v = xmlNodeListGetString(a->doc, a->children,
							  1);
			char *s = xstrdup(v ? (const char *)v : "");
			xmlFree(v);
			return s;
		}
	return NULL;
}

/* The filter of an Enumerate as a query on a class.  Returns FAULT_NONE
 * with *q set (release it), or the fault. */
static enum fault_id filter_of(struct request *r, const xmlNode *body,
			       const struct wmi_class *uri_class,
			       struct wql_query *q)
{
	memset(q, 0, sizeof(*q));
	q->root = -1;
	const xmlNode *fl = xml_child(body, NS_WSMAN, "Filter");
	if (fl == NULL)
		fl = xml_child(body, NS_ENUMERATION, "Filter");
	if (fl == NULL) {
		if (uri_class == NULL)
			return wmi_fault(r, FAULT_CANNOT_PROCESS_FILTER,
					 "An enumeration of every class needs "
					 "a WQL filter naming one.");
		/* select * from the URI's class */
		struct buf why = BUF_INIT;
		wql_from_selectors(uri_class, NULL, 0, q, &why);
		buf_release(&why);
		return FAULT_NONE;
	}
	char *dialect = attr(fl, "Dialect");
	enum fault_id f = FAULT_NONE;
	struct buf why = BUF_INIT;
	if (dialect == NULL || strcasecmp(dialect, DIALECT_WQL) == 0) {
		char *text = xml_trimmed_text(fl);
		enum wql_error e = wql_parse(text, q, &why);
		free(text);
		if (e != WQL_OK)
			f = wmi_fault(r, FAULT_CANNOT_PROCESS_FILTER, "%s",
				      (const char *)why.data);
		else if (uri_class != NULL && q->cls != uri_class)
			f = wmi_fault(r, FAULT_CANNOT_PROCESS_FILTER,
				      "The class of the query (%s) is not the "
				      "class of the resource URI (%s).",
				      q->cls->name, uri_class->name);
	} else if (strcasecmp(dialect, DIALECT_SELECTOR) == 0) {
		if (uri_class == NULL) {
			f = wmi_fault(r, FAULT_CANNOT_PROCESS_FILTER,
				      "A selector filter needs a class in "
				      "the resource URI.");
		} else {
			const xmlNode *set = xml_child(fl, NS_WSMAN,
						       "SelectorSet");
			struct wmi_pair sel[64];
			size_t n = 0;
			for (const xmlNode *s = set ? set->children : NULL;
			     s != NULL && f == FAULT_NONE; s = s->next) {
				if (s->type != XML_ELEMENT_NODE)
					continue;
				char *name = attr(s, "Name");
				if (!xml_is_element(s, NS_WSMAN, "Selector") ||
				    name == NULL || n >= 64) {
					free(name);
					f = wmi_fault(
						r, FAULT_CANNOT_PROCESS_FILTER,
						"The selector filter is not a "
						"set of selectors.");
					break;
				}
				sel[n].name = name;
				sel[n].value = xml_trimmed_text(s);
				sel[n].is_null = false;
				n++;
			}
			if (f == FAULT_NONE &&
			    wql_from_selectors(uri_class, sel, n, q, &why) !=
				    WQL_OK)
				f = wmi_fault(r, FAULT_CANNOT_PROCESS_FILTER,
					      "%s", (const char *)why.data);
			for (size_t i = 0; i < n; i++) {
				free(sel[i].name);
				free(sel[i].value);
			}
		}
	} else {
		f = wmi_fault(r, FAULT_FILTER_DIALECT_UNAVAILABLE,
			      "The dialect %s is not supported; use %s or %s.",
			      dialect, DIALECT_WQL, DIALECT_SELECTOR);
	}
	free(dialect);
	buf_release(&why);
	return f;
}

static enum fault_id mode_of(struct request *r, const xmlNode *body,
			     enum mode *mode)
{
	*mode = MODE_OBJECT;
	const xmlNode *m = xml_child(body, NS_WSMAN, "EnumerationMode");
	if (m == NULL)
		return FAULT_NONE;
	char *t = xml_trimmed_text(m);
	enum fault_id f = FAULT_NONE;
	if (strcmp(t, "EnumerateEPR") == 0)
		*mode = MODE_EPR;
	else if (strcmp(t, "EnumerateObjectAndEPR") == 0)
		*mode = MODE_OBJECT_AND_EPR;
	else
		f = wmi_fault(r, FAULT_ENUMERATION_MODE_UNSUPPORTED, NULL);
	free(t);
	return f;
}

/* The properties the host must give for q (NULL: all). */
static size_t wanted_of(const struct wql_query *q, uint16_t *wanted)
{
	if (q->star)
		return 0;
	size_t n = 0;
	bool *use = xcalloc(q->cls->n_props, sizeof(*use));
	for (size_t k = 0; k < q->cls->n_props; k++)
		use[k] = q->selected[k] || (q->cls->props[k].flags & WMI_KEY);
	for (size_t i = 0; i < q->n_nodes; i++)
		if (q->nodes[i].prop >= 0)
			use[q->nodes[i].prop] = true;
	for (size_t k = 0; k < q->cls->n_props; k++)
		if (use[k])
			wanted[n++] = (uint16_t)k;
	free(use);
	return n;
}

enum fault_id res_wmi_enumerate(struct request *r,
				const struct wsman_request *req,
				struct buf *out)
{
	const xmlNode *body = req->body;
	if (!xml_is_element(body, NS_ENUMERATION, "Enumerate"))
		return FAULT_SCHEMA_VALIDATION;
	const struct wmi_class *uri_class;
	bool wildcard;
	enum fault_id f = class_of(r, req, &uri_class, &wildcard);
	if (f != FAULT_NONE)
		return f;
	if (key_selectors(req) > 0)
		return wmi_fault(r, FAULT_ENUMERATE_WITH_KEYS, NULL);
	enum mode mode;
	f = mode_of(r, body, &mode);
	if (f != FAULT_NONE)
		return f;
	struct wql_query q;
	f = filter_of(r, body, uri_class, &q);
	if (f != FAULT_NONE) {
		wql_release(&q);
		return f;
	}
	const struct wmi_class *c = q.cls;
	struct wmi_pair hints[MAX_HINTS];
	size_t n_hints = wql_hints(&q, hints, MAX_HINTS);
	uint16_t *wanted = xcalloc(c->n_props + 1, sizeof(*wanted));
	size_t n_wanted = wanted_of(&q, wanted);
	uint32_t flags = mode == MODE_EPR && q.root < 0 ? WMI_Q_KEYS_ONLY : 0;
	struct buf frame = BUF_INIT;
	wmi_wire_query(&frame, c->name, flags, hints, n_hints, wanted,
		       n_wanted);
	free(wanted);
	uint8_t *payload;
	size_t len;
	f = exchange(r, req, &frame, &payload, &len);
	buf_release(&frame);
	if (f != FAULT_NONE || r->handler_pending) {
		wql_release(&q);
		return f;
	}
	struct wmi_instances set;
	struct wmi_result res;
	f = decode(r, c, payload, len, &set, &res);
	if (f == FAULT_NONE && res.type == WMI_W_ERROR)
		f = host_error(r, &res);
	if (f == FAULT_NONE) {
		struct enum_items items = { 0 };
		struct buf item = BUF_INIT;
		for (size_t i = 0; i < set.n; i++) {
			if (!wql_match(&q, &set, i))
				continue;
			if (mode == MODE_OBJECT_AND_EPR)
				buf_append_str(&item, "<w:Item>");
			if (mode != MODE_EPR) {
				if (q.star)
					wmi_render_instance(&item, &set, i);
				else
					wmi_render_fragment(&item, &set, i,
							    q.selected);
			}
			if (mode != MODE_OBJECT)
				wmi_render_epr(&item, &set, i);
			if (mode == MODE_OBJECT_AND_EPR)
				buf_append_str(&item, "</w:Item>");
			enum_items_add(&items, &item);
		}
		f = res_enum_answer_items(r, req, &items, out);
	}
	wmi_instances_release(&set);
	wmi_result_release(&res);
	wql_release(&q);
	return f;
}

/* ---- methods ---- */

/* The method an action names: <resource URI>/<Method>. */
static const char *method_of(const struct wsman_request *req)
{
	size_t n = strlen(req->resource_uri);
	if (req->action == NULL ||
	    strncasecmp(req->action, req->resource_uri, n) != 0 ||
	    req->action[n] != '/' || req->action[n + 1] == '\0' ||
	    strchr(req->action + n + 1, '/') != NULL)
		return NULL;
	return req->action + n + 1;
}

static bool is_nil(const xmlNode *n)
{
	for (xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (a->ns != NULL && a->ns->href != NULL &&
		    strcmp((const char *)a->ns->href, NS_XSI) == 0 &&
		    strcmp((const char *)a->name, "nil") == 0) {
			xmlChar *v = xmlNodeListGetString(a->doc, a->children,
							  1);
			bool nil = v != NULL &&
				   (strcmp((const char *)v, "true") == 0 ||
				    strcmp((const char *)v, "1") == 0);
			xmlFree(v);
			return nil;
		}
	return false;
}

/* The input parameters of <p:METHOD_INPUT>, checked against m. */
static enum fault_id inputs_of(struct request *r, const xmlNode *body,
			       const struct wmi_method *m,
			       struct wmi_pair *params, size_t *n)
{
	*n = 0;
	if (body == NULL)
		return FAULT_NONE;
	char *want = xasprintf("%s_INPUT", m->name);
	bool ok = strcmp((const char *)body->name, want) == 0;
	free(want);
	if (!ok)
		return wmi_fault(r, FAULT_INVALID_PARAMETER,
				 "The body is not %s_INPUT.", m->name);
	for (const xmlNode *c = body->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		const struct wmi_member *p =
			wmi_param_find(m, WMI_M_IN, (const char *)c->name);
		if (p == NULL || *n >= WMI_WIRE_MAX_PAIRS / 4)
			return wmi_fault(r, FAULT_INVALID_PARAMETER,
					 "%s is not a parameter of %s.",
					 (const char *)c->name, m->name);
		for (size_t i = 0; i < *n; i++)
			if (strcmp(params[i].name, p->name) == 0)
				return wmi_fault(r, FAULT_INVALID_PARAMETER,
						 "%s is given twice.", p->name);
		struct wmi_pair *v = &params[(*n)++];
		v->name = (char *)p->name;
		v->is_null = is_nil(c);
		v->value = v->is_null ? xstrdup("") : xml_trimmed_text(c);
		if (!v->is_null &&
		    (strlen(v->value) > WMI_WIRE_MAX_STRING ||
		     !wmi_value_valid((enum wmi_type)p->type, v->value,
				      strlen(v->value))))
			return wmi_fault(r, FAULT_INVALID_PARAMETER,
					 "%s is not a valid %s.", p->name,
					 wmi_type_name((enum wmi_type)p->type));
	}
	return FAULT_NONE;
}

static void answer_output(struct buf *out, const struct wsman_request *req,
			  const struct wmi_class *c, const struct wmi_method *m,
			  const struct wmi_result *res)
{
	char *action = xasprintf("%sResponse", req->action);
	wsman_response_begin(out, action, req->message_id);
	free(action);
	wmi_render_output(out, c, m, res);
	wsman_response_end(out);
}

enum fault_id res_wmi_invoke(struct request *r, const struct wsman_request *req,
			     struct buf *out)
{
	const struct wmi_class *c;
	bool wildcard;
	enum fault_id f = class_of(r, req, &c, &wildcard);
	if (f != FAULT_NONE)
		return f;
	const char *name = method_of(req);
	struct wmi_method m;
	if (wildcard || name == NULL || !wmi_method_find(c, name, &m))
		return wmi_fault(r, FAULT_ACTION_NOT_SUPPORTED, NULL);
	struct wmi_pair keys[MAX_HINTS];
	size_t n_keys = 0;
	f = check_keys(r, req, c, keys, &n_keys);
	if (f == FAULT_INSUFFICIENT_SELECTORS && (m.flags & WMI_STATIC))
		f = FAULT_NONE; /* a static method needs no instance */
	if (f != FAULT_NONE)
		return f;
	if (m.flags & WMI_STATIC) {
		/* An instance's keys are accepted and ignored, as WMI runs a
		 * static method on any instance path of its class (Debian's
		 * wsl always names one). */
		n_keys = 0;
		r->fault_provider = false;
		free(r->fault_message);
		r->fault_message = NULL;
	}
	struct wmi_pair params[WMI_WIRE_MAX_PAIRS / 4];
	size_t n_params = 0;
	f = inputs_of(r, req->body, &m, params, &n_params);
	if (f == FAULT_NONE && (m.flags & WMI_ADMIN) &&
	    !(r->identity->flags & PRIV_ID_ADMIN)) {
		/* Windows: the privilege is not held (ERROR_PRIVILEGE_NOT_HELD),
		 * a successful answer with that ReturnValue */
		log_audit("wmi remote=%s user=%s method=%s.%s result=denied "
			  "reason=\"administrators only\"",
			  LOG_ESC(r->conn->remote_addr),
			  LOG_ESC(r->identity->user), c->name, m.name);
		struct wmi_result res = { .type = WMI_W_RESULT,
					  .return_value = 1314 };
		answer_output(out, req, c, &m, &res);
		for (size_t i = 0; i < n_params; i++)
			free(params[i].value);
		return FAULT_NONE;
	}
	uint8_t *payload = NULL;
	size_t len = 0;
	if (f == FAULT_NONE) {
		struct buf frame = BUF_INIT;
		wmi_wire_invoke(&frame, c->name, m.name, keys, n_keys, params,
				n_params);
		if (!r->handler_pending && op_of(r)->call == NULL)
			log_audit("wmi remote=%s user=%s method=%s.%s",
				  LOG_ESC(r->conn->remote_addr),
				  LOG_ESC(r->identity->user), c->name, m.name);
		f = exchange(r, req, &frame, &payload, &len);
		buf_release(&frame);
	}
	for (size_t i = 0; i < n_params; i++)
		free(params[i].value);
	if (f != FAULT_NONE || r->handler_pending)
		return f;
	struct wmi_instances set;
	struct wmi_result res;
	f = decode(r, NULL, payload, len, &set, &res);
	if (f == FAULT_NONE && res.type == WMI_W_ERROR)
		f = host_error(r, &res);
	else if (f == FAULT_NONE && res.type != WMI_W_RESULT)
		f = wmi_fault(r, FAULT_INTERNAL_ERROR,
			      "The WMI provider host answered wrongly.");
	if (f == FAULT_NONE)
		answer_output(out, req, c, &m, &res);
	wmi_instances_release(&set);
	wmi_result_release(&res);
	return f;
}

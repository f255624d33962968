/*
 * config-listener.c - Create, Put and Delete of winrm/config/listener, as
 * winrm.cmd sends them:
 *
 *   winrm create winrm/config/Listener?Address=*+Transport=HTTPS
 *       @{Hostname="host.example.com";CertificateFile="...";KeyFile="..."}
 *   winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{Port="5999"}
 *   winrm delete winrm/config/Listener?Address=*+Transport=HTTPS
 *
 * The selectors Address ("*" or "IP:address") and Transport (HTTP, HTTPS)
 * name the listener; the body (cfg:Listener) carries Port, Hostname,
 * Enabled, URLPrefix, CertificateFile and KeyFile.  winrmd has no
 * certificate store, so CertificateThumbprint is refused unless empty;
 * ListeningOn and the selectors repeated in the body (a Get, modify, Put)
 * are accepted when they agree.  Administrators only (dispatch).
 *
 * The helper edits winrmd.conf (helper/config-write.c: the whole file
 * validated, the certificate and key checked, then installed atomically)
 * and answers with the new effective configuration, which becomes the
 * listener's.  The listening sockets themselves change when winrmd
 * restarts, as after an edit and a reload: the answer says so (an XML
 * comment in the body), and so does the log.
 */
#include "autoconfig.h"

#include "listener/resources/resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "lib/config-edit.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/priv/msg.h"
#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "lib/wsman/xmltree.h"
#include "listener/conn.h"
#include "listener/helper-client.h"
#include "listener/request.h"
#include "listener/runtime.h"

#define NS_CFG_LISTENER NS_CONFIG "/listener"

/* What every answer carries: listeners change at a restart. */
#define RESTART_NOTE                                                           \
	"<!-- winrmd: listeners are opened and closed when winrmd restarts "   \
	"(systemctl restart winrmd) -->"

struct edit_call {
	struct priv_msg reply;
};

static void free_call(void *p)
{
	struct edit_call *c = p;
	priv_msg_release(&c->reply);
	free(c);
}

/* The selectors; a fault (and its message) when they are missing or
 * cannot name a listener. */
static enum fault_id selectors_of(struct request *r,
				  const struct wsman_request *req,
				  const char **address, const char **transport)
{
	*address = wsman_selector(req, "Address");
	*transport = wsman_selector(req, "Transport");
	if (*address == NULL || *transport == NULL) {
		r->fault_message = xstrdup("the Address and Transport "
					   "selectors are required");
		return FAULT_INSUFFICIENT_SELECTORS;
	}
	if (strcasecmp(*transport, "HTTP") != 0 &&
	    strcasecmp(*transport, "HTTPS") != 0) {
		r->fault_message = xstrdup("Transport is HTTP or HTTPS");
		return FAULT_INVALID_SELECTORS;
	}
	if ((*address)[0] == '\0' || strlen(*address) > 128) {
		r->fault_message = xstrdup("Address is * or IP:ADDRESS");
		return FAULT_INVALID_SELECTORS;
	}
	return FAULT_NONE;
}

static bool is_listener_ns(const xmlNode *n)
{
	if (n->ns == NULL)
		return false;
	const char *href = (const char *)n->ns->href;
	return strcasecmp(href, NS_CFG_LISTENER) == 0 ||
	       strcasecmp(href, NS_CFG_LISTENER ".xsd") == 0 ||
	       strcasecmp(href, NS_CONFIG) == 0;
}

/* Same address, as the selectors and the body may write it ("IP:" or
 * not, any case). */
static bool same_address(const char *a, const char *b)
{
	if (strncasecmp(a, "IP:", 3) == 0)
		a += 3;
	if (strncasecmp(b, "IP:", 3) == 0)
		b += 3;
	return strcasecmp(a, b) == 0;
}

/* The settings of a Create/Put body: (name, value) pairs, borrowed texts
 * kept in *texts (caller frees each). */
static enum fault_id parse_body(struct request *r,
				const struct wsman_request *req,
				const char *address, const char *transport,
				struct priv_setting *set, char **texts,
				size_t *n_r)
{
	size_t n = 0;
	const xmlNode *body = req->body;
	*n_r = 0;
	if (body == NULL) /* Create with no property: the defaults */
		return FAULT_NONE;
	if (!is_listener_ns(body) ||
	    strcasecmp((const char *)body->name, "Listener") != 0) {
		r->fault_message = xstrdup(
			"the body must be a Listener element");
		return FAULT_SCHEMA_VALIDATION;
	}
	for (const xmlNode *c = body->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)c->name;
		if (!is_listener_ns(c)) {
			r->fault_message = xasprintf(
				"unknown element %s in Listener", name);
			return FAULT_SCHEMA_VALIDATION;
		}
		char *text = xml_trimmed_text(c);
		const char *why = NULL;
		if (strcasecmp(name, "Address") == 0) {
			if (!same_address(text, address))
				why = "Address in the body differs from the "
				      "selector";
		} else if (strcasecmp(name, "Transport") == 0) {
			if (strcasecmp(text, transport) != 0)
				why = "Transport in the body differs from the "
				      "selector";
		} else if (strcasecmp(name, "ListeningOn") == 0) {
			/* what Get shows; not a setting */
		} else if (strcasecmp(name, "CertificateThumbprint") == 0) {
			if (text[0] != '\0')
				why = "winrmd has no certificate store: give "
				      "CertificateFile and KeyFile (PEM files) "
				      "instead of CertificateThumbprint";
		} else if (config_listener_key(name) == NULL) {
			r->fault_message = xasprintf(
				"unknown element %s in Listener", name);
			free(text);
			return FAULT_SCHEMA_VALIDATION;
		} else if (n >= PRIV_MAX_SETTINGS) {
			free(text);
			return FAULT_QUOTA_REQUEST_LIMIT;
		} else {
			bool dup = false;
			for (size_t i = 0; i < n; i++)
				dup = dup || strcasecmp(set[i].path, name) == 0;
			if (dup) {
				why = "an element is given twice";
			} else {
				set[n].path = config_listener_key(name);
				set[n].value = text;
				texts[n++] = text;
				*n_r = n;
				continue;
			}
		}
		free(text);
		if (why != NULL) {
			r->fault_message = xstrdup(why);
			return FAULT_INVALID_REPRESENTATION;
		}
	}
	return FAULT_NONE;
}

/* First run: checks the request and asks the helper. */
static enum fault_id start(struct request *r, const struct wsman_request *req,
			   enum priv_listener_op op)
{
	const char *address, *transport;
	enum fault_id f = selectors_of(r, req, &address, &transport);
	if (f != FAULT_NONE)
		return f;
	struct priv_setting set[PRIV_MAX_SETTINGS];
	char *texts[PRIV_MAX_SETTINGS];
	size_t n = 0;
	if (op != PRIV_LISTENER_DELETE)
		f = parse_body(r, req, address, transport, set, texts, &n);
	if (f == FAULT_NONE && op == PRIV_LISTENER_PUT && n == 0) {
		r->fault_message = xstrdup("no listener setting to change");
		f = FAULT_INVALID_REPRESENTATION;
	}
	if (f == FAULT_NONE) {
		struct priv_listener_edit m = {
			.conn = r->conn->id,
			.op = op,
			.address = address,
			.transport = transport,
			.n = n,
			.settings = set,
		};
		struct edit_call *c = xcalloc(1, sizeof(*c));
		priv_msg_init(&c->reply, PRIV_NONE);
		r->handler_ctx = c;
		r->handler_ctx_free = free_call;
		const char *limit = NULL;
		int rc = request_helper_call(r, PRIV_LISTENER_EDIT, &m, -1,
					     &c->reply, &limit);
		if (rc == -2) {
			r->fault_message = xasprintf("%s over the limit",
						     limit);
			f = FAULT_QUOTA_REQUEST_LIMIT;
		} else if (rc != 0) {
			f = FAULT_INTERNAL_ERROR;
		} else {
			r->handler_pending = true;
		}
	}
	if (f != FAULT_NONE)
		log_audit_event(CONN_PEER(r->conn), "config",
				"user=%s listener=\"Address=%s Transport=%s\" "
				"action=%s result=failure reason=\"%s\"",
				LOG_ESC(r->identity->user), LOG_ESC(address),
				LOG_ESC(transport),
				op == PRIV_LISTENER_CREATE ? "create"
				: op == PRIV_LISTENER_PUT  ? "set"
							   : "delete",
				r->fault_message ? LOG_ESC(r->fault_message)
						 : fault_name(f));
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	return f;
}

/* Second run: the helper's answer. */
static enum fault_id answer(struct request *r, const struct wsman_request *req,
			    enum priv_listener_op op, struct buf *out)
{
	struct edit_call *c = r->handler_ctx;
	struct priv_config_result cr;
	if (priv_decode_config_result(&c->reply, &cr, NULL) != 0)
		return FAULT_INTERNAL_ERROR;
	if (cr.error != 0) {
		uint32_t error = cr.error;
		r->fault_message = xstrdup(cr.message);
		return error == EEXIST   ? FAULT_ALREADY_EXISTS
		       : error == ENOENT ? FAULT_INVALID_SELECTORS
		       : error == EINVAL ? FAULT_INVALID_REPRESENTATION
		       : error == EACCES ? FAULT_ACCESS_DENIED
					 : FAULT_INTERNAL_ERROR;
	}
	char *lerr = NULL;
	struct winrmd_config *cfg = config_load_string(cr.dump,
						       "winrm/config/listener",
						       &lerr);
	if (cfg == NULL) {
		log_err("the new configuration does not load back: %s", lerr);
		free(lerr);
		return FAULT_INTERNAL_ERROR;
	}
	runtime_set_config(config_ref(cfg));
	log_warn("winrm/config/listener changed by %s; listeners are opened "
		 "and closed when winrmd restarts",
		 LOG_ESC(r->identity->user));
	const char *address = wsman_selector(req, "Address");
	const char *transport = wsman_selector(req, "Transport");
	long i = config_listener_find(cfg, address, transport);
	enum fault_id f = FAULT_NONE;
	if (op == PRIV_LISTENER_DELETE) {
		wsman_response_begin(out, ACTION_DELETE "Response",
				     req->message_id);
		buf_append_str(out, RESTART_NOTE);
	} else if (i < 0) {
		f = FAULT_INTERNAL_ERROR; /* just made or changed */
	} else if (op == PRIV_LISTENER_CREATE) {
		const struct listener_config *l = &cfg->listeners[i];
		wsman_response_begin(out, ACTION_CREATE "Response",
				     req->message_id);
		buf_append_str(out, "<x:ResourceCreated><a:Address>");
		xml_escape(out, req->to ? req->to : ADDR_ANONYMOUS);
		buf_append_str(out, "</a:Address><a:ReferenceParameters>"
				    "<w:ResourceURI>" NS_CFG_LISTENER
				    "</w:ResourceURI><w:SelectorSet>"
				    "<w:Selector Name=\"Address\">");
		if (strcmp(l->address, "*") != 0)
			buf_append_str(out, "IP:");
		xml_escape(out, l->address);
		buf_printf(out,
			   "</w:Selector><w:Selector Name=\"Transport\">%s"
			   "</w:Selector></w:SelectorSet>"
			   "</a:ReferenceParameters></x:ResourceCreated>",
			   config_transport_name(l->transport));
		buf_append_str(out, RESTART_NOTE);
	} else {
		wsman_response_begin(out, ACTION_PUT "Response",
				     req->message_id);
		res_listener_render(out, &cfg->listeners[i]);
		buf_append_str(out, RESTART_NOTE);
	}
	if (f == FAULT_NONE)
		wsman_response_end(out);
	config_unref(cfg);
	return f;
}

static enum fault_id handle(struct request *r, const struct wsman_request *req,
			    struct buf *out, enum priv_listener_op op)
{
	if (r->handler_ctx == NULL)
		return start(r, req, op);
	return answer(r, req, op, out);
}

enum fault_id res_listener_create(struct request *r,
				  const struct wsman_request *req,
				  struct buf *out)
{
	return handle(r, req, out, PRIV_LISTENER_CREATE);
}

enum fault_id res_listener_put(struct request *r,
			       const struct wsman_request *req, struct buf *out)
{
	return handle(r, req, out, PRIV_LISTENER_PUT);
}

enum fault_id res_listener_delete(struct request *r,
				  const struct wsman_request *req,
				  struct buf *out)
{
	return handle(r, req, out, PRIV_LISTENER_DELETE);
}

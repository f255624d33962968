/*
 * config.c - the winrm/config resources (wsman-protocol.md §8): Get of
 * winrm/config, config/service, config/service/auth, config/winrs and
 * config/listener (Get by selectors, Enumerate, Pull, Release), and Put
 * of the first four.  Element names and value formats are Windows'.
 * winrmd's own settings are shown and changed the same way: the files of
 * Service.Auth after Windows' Auth elements, and the groups
 * config/authorization, config/throttling and config/logging (also
 * inside winrm/config, after Winrs).
 *
 * Put bodies are checked here against the element tables (unknown
 * element: schema fault; Digest: not supported; a read-only element with
 * another value than the current one: invalid representation), then the
 * helper validates the values again with the configuration's own key
 * table, rewrites winrmd.conf atomically and returns the new effective
 * configuration, which takes effect at once, without dropping
 * connections or shells.  The answer is the whole updated resource.
 *
 * Settings without a POSIX meaning (MaxBatchItems, IPv4Filter...) are
 * shown with Windows' defaults and are read-only.
 */
#include "autoconfig.h"

#include "listener/resources/resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "listener/helper-client.h"
#include "lib/priv/msg.h"
#include "lib/config.h"
#include "listener/conn.h"
#include "lib/wsman/envelope.h"
#include "lib/log.h"
#include "lib/wsman/ns.h"
#include "listener/request.h"
#include "listener/runtime.h"
#include "lib/wsman/xmltree.h"

#define NS_CFG_SERVICE NS_CONFIG "/service"
#define NS_CFG_AUTH NS_CONFIG "/service/auth"
#define NS_CFG_WINRS NS_CONFIG "/winrs"
#define NS_CFG_LISTENER NS_CONFIG "/listener"
#define NS_CFG_AUTHORIZATION NS_CONFIG "/authorization"
#define NS_CFG_THROTTLING NS_CONFIG "/throttling"
#define NS_CFG_LOGGING NS_CONFIG "/logging"

struct elem {
	const char *name;          /* Windows element */
	const char *key;           /* winrmd.conf path, NULL: fixed value */
	const char *fixed;         /* shown value when key is NULL */
	const struct group *group; /* a nested group instead of a value */
};

struct group {
	const char *name;
	const struct elem *elems;
};

static const struct elem auth_elems[] = {
	{ "Basic", "Service.Auth.Basic", NULL, NULL },
	{ "Kerberos", "Service.Auth.Kerberos", NULL, NULL },
	{ "Negotiate", "Service.Auth.Negotiate", NULL, NULL },
	{ "Certificate", "Service.Auth.Certificate", NULL, NULL },
	{ "CredSSP", "Service.Auth.CredSSP", NULL, NULL },
	{ "CbtHardeningLevel", "Service.Auth.CbtHardeningLevel", NULL, NULL },
	/* winrmd's, after Windows' own */
	{ "Keytab", "Service.Auth.Keytab", NULL, NULL },
	{ "NtlmUserFile", "Service.Auth.NtlmUserFile", NULL, NULL },
	{ "PamService", "Service.Auth.PamService", NULL, NULL },
	{ "ClientCAFile", "Service.Auth.ClientCAFile", NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct group auth_group = { "Auth", auth_elems };

static const struct elem ports_elems[] = {
	{ "HTTP", NULL, "5985", NULL },
	{ "HTTPS", NULL, "5986", NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct group ports_group = { "DefaultPorts", ports_elems };

static const struct elem service_elems[] = {
	{ "MaxConcurrentOperations", NULL, "4294967295", NULL },
	{ "MaxConcurrentOperationsPerUser",
	  "Service.MaxConcurrentOperationsPerUser", NULL, NULL },
	{ "EnumerationTimeoutms", "Service.EnumerationTimeoutms", NULL, NULL },
	{ "MaxConnections", "Service.MaxConnections", NULL, NULL },
	{ "MaxPacketRetrievalTimeSeconds", NULL, "120", NULL },
	{ "AllowUnencrypted", "Service.AllowUnencrypted", NULL, NULL },
	{ "Auth", NULL, NULL, &auth_group },
	{ "DefaultPorts", NULL, NULL, &ports_group },
	{ "IPv4Filter", NULL, "*", NULL },
	{ "IPv6Filter", NULL, "*", NULL },
	{ "EnableCompatibilityHttpListener", NULL, "false", NULL },
	{ "EnableCompatibilityHttpsListener", NULL, "false", NULL },
	{ "CertificateThumbprint", NULL, "", NULL },
	{ "AllowRemoteAccess", "Service.AllowRemoteAccess", NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct group service_group = { "Service", service_elems };

static const struct elem winrs_elems[] = {
	{ "AllowRemoteShellAccess", "Winrs.AllowRemoteShellAccess", NULL,
	  NULL },
	{ "IdleTimeout", "Winrs.IdleTimeout", NULL, NULL },
	{ "MaxConcurrentUsers", "Winrs.MaxConcurrentUsers", NULL, NULL },
	{ "MaxShellRunTime", "Winrs.MaxShellRunTime", NULL, NULL },
	{ "MaxProcessesPerShell", "Winrs.MaxProcessesPerShell", NULL, NULL },
	{ "MaxMemoryPerShellMB", "Winrs.MaxMemoryPerShellMB", NULL, NULL },
	{ "MaxShellsPerUser", "Winrs.MaxShellsPerUser", NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct group winrs_group = { "Winrs", winrs_elems };

/* winrmd's own groups, without a Windows equivalent; lists are written
 * as Windows writes TrustedHosts: "sudo,wheel". */
static const struct elem authorization_elems[] = {
	{ "AdminGroups", "Authorization.AdminGroups", NULL, NULL },
	{ "RemoteUsersGroup", "Authorization.RemoteUsersGroup", NULL, NULL },
	{ "LocalAccountTokenFilterPolicy",
	  "Authorization.LocalAccountTokenFilterPolicy", NULL, NULL },
	{ "TrustedDomains", "Authorization.TrustedDomains", NULL, NULL },
	{ "KerberosCaseInsensitive", "Authorization.KerberosCaseInsensitive",
	  NULL, NULL },
	{ "DomainAccountNames", "Authorization.DomainAccountNames", NULL,
	  NULL },
	{ "BasicDomainAccounts", "Authorization.BasicDomainAccounts", NULL,
	  NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct group authorization_group = { "Authorization",
						  authorization_elems };

static const struct elem throttling_elems[] = {
	{ "MaxFailures", "Throttling.MaxFailures", NULL, NULL },
	{ "FailureWindow", "Throttling.FailureWindow", NULL, NULL },
	{ "LockoutTime", "Throttling.LockoutTime", NULL, NULL },
	{ "MaxDelayms", "Throttling.MaxDelayms", NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct group throttling_group = { "Throttling", throttling_elems };

static const struct elem logging_elems[] = {
	{ "Level", "Logging.Level", NULL, NULL },
	{ "AuditSyslog", "Logging.AuditSyslog", NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct group logging_group = { "Logging", logging_elems };

static const struct elem config_elems[] = {
	{ "MaxEnvelopeSizekb", "Service.MaxEnvelopeSizekb", NULL, NULL },
	{ "MaxTimeoutms", "Service.MaxTimeoutms", NULL, NULL },
	{ "MaxBatchItems", NULL, "32000", NULL },
	{ "MaxProviderRequests", NULL, "4294967295", NULL },
	{ "Service", NULL, NULL, &service_group },
	{ "Winrs", NULL, NULL, &winrs_group },
	{ "Authorization", NULL, NULL, &authorization_group },
	{ "Throttling", NULL, NULL, &throttling_group },
	{ "Logging", NULL, NULL, &logging_group },
	{ NULL, NULL, NULL, NULL },
};
static const struct group config_group = { "Config", config_elems };

/* The resources served here. */
struct cfg_resource {
	const char *uri;
	const char *ns; /* namespace of the rendered body */
	const struct group *group;
};

static const struct cfg_resource resources[] = {
	{ NS_CONFIG, NS_CONFIG, &config_group },
	{ NS_CFG_SERVICE, NS_CFG_SERVICE, &service_group },
	{ NS_CFG_AUTH, NS_CFG_AUTH, &auth_group },
	{ NS_CFG_WINRS, NS_CFG_WINRS, &winrs_group },
	{ NS_CFG_AUTHORIZATION, NS_CFG_AUTHORIZATION, &authorization_group },
	{ NS_CFG_THROTTLING, NS_CFG_THROTTLING, &throttling_group },
	{ NS_CFG_LOGGING, NS_CFG_LOGGING, &logging_group },
};

static const struct cfg_resource *resource_of(const struct wsman_request *req)
{
	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
		if (req->resource_uri != NULL &&
		    strcasecmp(req->resource_uri, resources[i].uri) == 0)
			return &resources[i];
	return NULL;
}

static void value_of(const struct winrmd_config *cfg, const struct elem *e,
		     struct buf *out)
{
	if (e->key != NULL)
		config_value_text(cfg, e->key, out);
	else
		buf_append_str(out, e->fixed);
}

static void render_group(struct buf *out, const struct winrmd_config *cfg,
			 const struct group *g)
{
	for (const struct elem *e = g->elems; e->name != NULL; e++) {
		buf_printf(out, "<cfg:%s>", e->name);
		if (e->group != NULL) {
			render_group(out, cfg, e->group);
		} else {
			struct buf v = BUF_INIT;
			value_of(cfg, e, &v);
			xml_escape(out, v.data ? (const char *)v.data : "");
			buf_release(&v);
		}
		buf_printf(out, "</cfg:%s>", e->name);
	}
}

static void render_resource(struct buf *out, const struct winrmd_config *cfg,
			    const struct cfg_resource *res)
{
	buf_printf(out, "<cfg:%s xmlns:cfg=\"%s\">", res->group->name, res->ns);
	render_group(out, cfg, res->group);
	buf_printf(out, "</cfg:%s>", res->group->name);
}

enum fault_id res_config_get(struct request *r, const struct wsman_request *req,
			     struct buf *out)
{
	const struct cfg_resource *res = resource_of(req);
	if (res == NULL)
		return FAULT_DESTINATION_UNREACHABLE;
	/* Administrators only, the whole tree as much as its parts, as on
	 * Windows (request.c refuses others from the dispatch flags first;
	 * this holds whatever route led here). */
	if (!(r->identity->flags & PRIV_ID_ADMIN))
		return FAULT_ACCESS_DENIED;
	wsman_response_begin(out, ACTION_GET "Response", req->message_id);
	render_resource(out, r->cfg, res);
	wsman_response_end(out);
	return FAULT_NONE;
}

/* ---- Put ---- */

struct put_state {
	bool sent;
	struct priv_msg reply;
};

static bool is_cfg_ns(const xmlNode *n)
{
	return n->ns != NULL && strncmp((const char *)n->ns->href, NS_CONFIG,
					strlen(NS_CONFIG)) == 0;
}

/* Collects the settings a Put body asks for: (path, value) pairs. */
static enum fault_id collect(const xmlNode *n, const struct group *g,
			     const struct winrmd_config *cfg, char ***paths,
			     char ***values, size_t *count, char **why)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (strcasecmp((const char *)c->name, "Digest") == 0)
			return FAULT_DIGEST_NOT_SUPPORTED;
		const struct elem *e = NULL;
		for (const struct elem *k = g->elems; k->name != NULL; k++)
			if (strcasecmp(k->name, (const char *)c->name) == 0)
				e = k;
		if (e == NULL || !is_cfg_ns(c)) {
			*why = xasprintf("unknown element %s in %s", c->name,
					 g->name);
			return FAULT_SCHEMA_VALIDATION;
		}
		if (e->group != NULL) {
			enum fault_id f = collect(c, e->group, cfg, paths,
						  values, count, why);
			if (f != FAULT_NONE)
				return f;
			continue;
		}
		char *text = xml_trimmed_text(c);
		struct buf cur = BUF_INIT;
		value_of(cfg, e, &cur);
		bool same = strcasecmp(text, cur.data ? (const char *)cur.data
						      : "") == 0;
		buf_release(&cur);
		if (e->key == NULL || !config_ws_settable(e->key)) {
			if (!same) {
				/* The CLI sends the whole fragment back (Get,
				 * modify, Put): unchanged read-only values are
				 * fine, changed ones are not. */
				*why = xasprintf("%s cannot be changed",
						 e->name);
				free(text);
				return FAULT_INVALID_REPRESENTATION;
			}
			free(text);
			continue;
		}
		if (same) {
			free(text);
			continue;
		}
		const char *err;
		struct buf lit = BUF_INIT;
		if (config_value_literal(e->key, text, &lit, &err) != 0) {
			*why = xasprintf("%s: %s", e->name, err);
			buf_release(&lit);
			free(text);
			return FAULT_INVALID_REPRESENTATION;
		}
		buf_release(&lit);
		*paths = xrealloc(*paths, sizeof(**paths) * (*count + 1));
		*values = xrealloc(*values, sizeof(**values) * (*count + 1));
		(*paths)[*count] = xstrdup(e->key);
		(*values)[*count] = text;
		(*count)++;
	}
	return FAULT_NONE;
}

static void free_put_state(void *p)
{
	struct put_state *st = p;
	priv_msg_release(&st->reply);
	free(st);
}

enum fault_id res_config_put(struct request *r, const struct wsman_request *req,
			     struct buf *out)
{
	const struct cfg_resource *res = resource_of(req);
	if (res == NULL)
		return FAULT_DESTINATION_UNREACHABLE;
	struct put_state *st = r->handler_ctx;
	if (st == NULL) {
		const xmlNode *body = req->body;
		if (body == NULL || !is_cfg_ns(body) ||
		    strcasecmp((const char *)body->name, res->group->name) != 0)
			return FAULT_SCHEMA_VALIDATION;
		char **paths = NULL, **values = NULL, *why = NULL;
		size_t n = 0;
		enum fault_id f = collect(body, res->group, r->cfg, &paths,
					  &values, &n, &why);
		if (f != FAULT_NONE) {
			log_audit_event(CONN_PEER(r->conn), "config",
					"user=%s resource=%s result=failure "
					"reason=\"%s\"",
					LOG_ESC(r->identity->user),
					LOG_ESC(req->resource_uri),
					why ? LOG_ESC(why) : fault_name(f));
			r->fault_message = why;
		} else {
			free(why);
		}
		if (f == FAULT_NONE && n == 0) {
			/* nothing changes: answer with the resource */
			wsman_response_begin(out, ACTION_PUT "Response",
					     req->message_id);
			render_resource(out, r->cfg, res);
			wsman_response_end(out);
		}
		if (f == FAULT_NONE && n > PRIV_MAX_SETTINGS) {
			/* The helper's bound (msg.h): refused here. */
			log_info("%s: winrm/config Put refused: %zu settings",
				 r->identity->user, n);
			f = FAULT_QUOTA_REQUEST_LIMIT;
		} else if (f == FAULT_NONE && n > 0) {
			struct priv_setting *set = xcalloc(n, sizeof(*set));
			for (size_t i = 0; i < n; i++)
				set[i] = (struct priv_setting){ paths[i],
								values[i] };
			struct priv_config_put m = { .conn = r->conn->id,
						     .n = n,
						     .settings = set };
			st = xcalloc(1, sizeof(*st));
			priv_msg_init(&st->reply, PRIV_NONE);
			r->handler_ctx = st;
			r->handler_ctx_free = free_put_state;
			const char *limit = NULL;
			int rc = request_helper_call(r, PRIV_CONFIG_PUT, &m, -1,
						     &st->reply, &limit);
			free(set);
			if (rc == -2) {
				log_info(
					"%s: winrm/config Put refused: %s over "
					"the limit",
					r->identity->user, limit);
				f = FAULT_QUOTA_REQUEST_LIMIT;
			} else if (rc != 0) {
				f = FAULT_INTERNAL_ERROR;
			} else {
				r->handler_pending = true;
			}
		}
		for (size_t i = 0; i < n; i++) {
			free(paths[i]);
			free(values[i]);
		}
		free(paths);
		free(values);
		return f;
	}
	/* The helper answered. */
	struct priv_config_result cr;
	enum fault_id f = FAULT_NONE;
	if (priv_decode_config_result(&st->reply, &cr, NULL) != 0) {
		f = FAULT_INTERNAL_ERROR;
	} else if (cr.error != 0) {
		uint32_t error = cr.error;
		const char *message = cr.message;
		f = error == EINVAL   ? FAULT_INVALID_REPRESENTATION
		    : error == EACCES ? FAULT_ACCESS_DENIED
				      : FAULT_INTERNAL_ERROR;
		r->fault_message = xstrdup(message);
	} else {
		char *lerr = NULL;
		struct winrmd_config *cfg =
			config_load_string(cr.dump, "winrm/config Put", &lerr);
		if (cfg == NULL) {
			log_err("the new configuration does not load back: %s",
				lerr);
			free(lerr);
			f = FAULT_INTERNAL_ERROR;
		} else {
			log_set_level((enum log_level)cfg->log_level);
			log_audit_syslog(cfg->audit_syslog);
			runtime_set_config(config_ref(cfg));
			wsman_response_begin(out, ACTION_PUT "Response",
					     req->message_id);
			render_resource(out, cfg, res);
			wsman_response_end(out);
			config_unref(cfg);
		}
	}
	return f;
}

/* ---- listeners: Get, Enumerate, Pull, Release ---- */

void res_listener_render(struct buf *out, const struct listener_config *l)
{
	bool any = strcmp(l->address, "*") == 0;
	buf_append_str(out, "<cfg:Listener xmlns:cfg=\"" NS_CFG_LISTENER
			    "\"><cfg:Address>");
	if (!any)
		buf_append_str(out, "IP:");
	xml_escape(out, l->address);
	buf_printf(out,
		   "</cfg:Address><cfg:Transport>%s</cfg:Transport>"
		   "<cfg:Port>%d</cfg:Port><cfg:Hostname>",
		   config_transport_name(l->transport), l->port);
	xml_escape(out, l->hostname);
	buf_printf(out,
		   "</cfg:Hostname><cfg:Enabled>%s</cfg:Enabled>"
		   "<cfg:URLPrefix>",
		   l->enabled ? "true" : "false");
	xml_escape(out, l->url_prefix);
	/* winrmd has no certificate store: the files instead of a
	 * thumbprint, after Windows' elements */
	buf_append_str(out,
		       "</cfg:URLPrefix><cfg:CertificateThumbprint>"
		       "</cfg:CertificateThumbprint><cfg:CertificateFile>");
	xml_escape(out, l->certificate_file);
	buf_append_str(out, "</cfg:CertificateFile><cfg:KeyFile>");
	xml_escape(out, l->key_file);
	buf_append_str(out, "</cfg:KeyFile><cfg:ListeningOn>");
	xml_escape(out, any ? "0.0.0.0" : l->address);
	buf_append_str(out, "</cfg:ListeningOn>");
	if (any)
		buf_append_str(out, "<cfg:ListeningOn>::</cfg:ListeningOn>");
	buf_append_str(out, "</cfg:Listener>");
}

static bool listener_matches(const struct listener_config *l, const char *addr,
			     const char *transport)
{
	if (addr == NULL || transport == NULL)
		return false;
	if (strncasecmp(addr, "IP:", 3) == 0)
		addr += 3;
	return strcasecmp(l->address, addr) == 0 &&
	       strcasecmp(config_transport_name(l->transport), transport) == 0;
}

enum fault_id res_listener_get(struct request *r,
			       const struct wsman_request *req, struct buf *out)
{
	const char *addr = wsman_selector(req, "Address");
	const char *transport = wsman_selector(req, "Transport");
	if (addr == NULL || transport == NULL)
		return FAULT_INSUFFICIENT_SELECTORS;
	for (size_t i = 0; i < r->cfg->n_listeners; i++) {
		if (listener_matches(&r->cfg->listeners[i], addr, transport)) {
			wsman_response_begin(out, ACTION_GET "Response",
					     req->message_id);
			res_listener_render(out, &r->cfg->listeners[i]);
			wsman_response_end(out);
			return FAULT_NONE;
		}
	}
	return FAULT_UNEXPECTED_SELECTORS;
}

static void listener_items(const struct winrmd_config *cfg, struct buf *out)
{
	for (size_t i = 0; i < cfg->n_listeners; i++)
		res_listener_render(out, &cfg->listeners[i]);
}

enum fault_id res_listener_enumerate(struct request *r,
				     const struct wsman_request *req,
				     struct buf *out)
{
	struct buf items = BUF_INIT;
	listener_items(r->cfg, &items);
	return res_enum_answer(r, req, &items, out);
}

/*
 * certmap-write.c - the winrm/config/service/certmapping resource's
 * storage, in the helper: certmapping.conf is root's (mode 0600), so the
 * listener asks here to read it (Get, Enumerate) and to change it
 * (Create, Put, Delete).  Every change reloads the file first (an
 * administrator may have edited it), applies one certmap_* operation,
 * and saves the whole table atomically (certmap_save_file); a file that
 * does not load is never overwritten.  The answer carries the table's
 * canonical text, which the listener parses with the same loader.
 *
 * Must not: serve a connection that is not an authenticated
 * administrator, or write a Password (certmap.c never stores one).
 * Entry point: module_certmap_write (CERTMAP).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/certmap.h"
#include "helper/certmap-table.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"

static void result(uint32_t seq, uint32_t error, const char *message,
		   const struct certmap *t)
{
	struct buf text = BUF_INIT;
	if (t != NULL)
		certmap_format(t, &text);
	struct priv_certmap_result res = {
		.error = error,
		.message = message,
		.table = (const char *)text.data,
	};
	helper_answer(seq, PRIV_CERTMAP_RESULT, &res, NULL, 0);
	buf_release(&text);
}

static uint32_t status_errno(int status)
{
	switch (status) {
	case CERTMAP_EEXIST: return EEXIST;
	case CERTMAP_ENOENT: return ENOENT;
	default: return EINVAL;
	}
}

static const char *const actions[] = {
	[PRIV_CERTMAP_LIST] = "list",
	[PRIV_CERTMAP_CREATE] = "create",
	[PRIV_CERTMAP_PUT] = "set",
	[PRIV_CERTMAP_DELETE] = "delete",
};

static void handle_certmap(struct helper_call *call)
{
	const struct priv_certmap *r = call->args;
	uint32_t op = r->op, enabled = r->enabled;
	const char *uri = r->uri, *subject = r->subject, *issuer = r->issuer,
		   *user = r->user;
	if (op > PRIV_CERTMAP_DELETE || enabled > PRIV_CERTMAP_KEEP)
		fatal("protocol violation: CERTMAP operation %u, Enabled %u",
		      op, enabled);

	const char *path = helper_config->certmapping_file;
	const struct hconn *hc = call->conn; /* an administrator */
	struct certmap *t = NULL;
	char *error = NULL;
	uint32_t code = 0;
	if (certmap_load_file(path, &t, &error) != 0) {
		/* Never replace a file the administrator must repair. */
		char *e = xasprintf("the certificate mapping file does not "
				    "load: %s",
				    error);
		free(error);
		error = e;
		code = EIO;
		goto done;
	}
	if (op == PRIV_CERTMAP_LIST)
		goto done;

	int status = CERTMAP_OK;
	const struct certmap_entry *cur = certmap_find(t, uri, subject, issuer);
	const char *what = "created";
	if (op == PRIV_CERTMAP_CREATE) {
		status = certmap_add(t, uri, subject, issuer, user,
				     enabled != 0, &error);
	} else if (op == PRIV_CERTMAP_PUT) {
		what = "changed";
		if (cur == NULL) {
			status = CERTMAP_ENOENT;
		} else {
			/* Put changes only what the body names. */
			char *u = xstrdup(user[0] != '\0' ? user : cur->user);
			bool en = enabled == PRIV_CERTMAP_KEEP ? cur->enabled
							       : enabled != 0;
			status = certmap_replace(t, uri, subject, issuer, u, en,
						 &error);
			free(u);
		}
	} else {
		what = "deleted";
		status = certmap_remove(t, uri, subject, issuer);
	}
	if (status != CERTMAP_OK) {
		code = status_errno(status);
		if (error == NULL)
			error = xstrdup(
				status == CERTMAP_ENOENT
					? "no certificate mapping has these "
					  "URI, Subject and Issuer selectors"
					: "a certificate mapping with these URI, "
					  "Subject and Issuer selectors exists");
		goto done;
	}
	if (certmap_save_file(path, t, &error) != 0) {
		code = EIO;
		goto done;
	}
	log_notice("certificate mapping URI=\"%s\" Subject=\"%s\" Issuer=%s "
		   "%s by %s",
		   LOG_ESC(uri), LOG_ESC(subject), LOG_ESC(issuer), what,
		   LOG_ESC(hc->identity.user));
done:
	if (op != PRIV_CERTMAP_LIST)
		log_audit_event(HCONN_PEER(hc), "certmapping",
				"user=%s action=%s URI=\"%s\" Subject=\"%s\" "
				"Issuer=\"%s\"%s%s%s result=%s%s%s%s",
				LOG_ESC(hc->identity.user), actions[op],
				LOG_ESC(uri), LOG_ESC(subject), LOG_ESC(issuer),
				op != PRIV_CERTMAP_DELETE && user[0] != '\0'
					? " UserName=\""
					: "",
				op != PRIV_CERTMAP_DELETE && user[0] != '\0'
					? LOG_ESC(user)
					: "",
				op != PRIV_CERTMAP_DELETE && user[0] != '\0'
					? "\""
					: "",
				code == 0 ? "success" : "failure",
				code == 0 ? "" : " reason=\"",
				code == 0 ? "" : LOG_ESC(error),
				code == 0 ? "" : "\"");
	if (code != 0) {
		log_warn("certificate mapping request refused: %s",
			 LOG_ESC(error));
		result(call->seq, code, error, NULL);
	} else {
		/* What was written is in use before the answer goes out: the
		 * file's identity is taken now, so that an edit made as soon
		 * as the client has its answer is seen as a change. */
		if (op != PRIV_CERTMAP_LIST)
			certmap_table_install(t);
		result(call->seq, 0, "", t);
		if (op != PRIV_CERTMAP_LIST)
			t = NULL; /* the table's now */
	}
	certmap_free(t);
	free(error);
}

static const struct helper_request requests[] = {
	{ PRIV_CERTMAP, REQ_ADMIN, PRIV_CERTMAP_RESULT, handle_certmap },
};

const struct helper_module module_certmap_write = {
	.name = "certmap-write",
	HELPER_REQUESTS(requests),
};

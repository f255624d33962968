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
 * Entry point: handle_certmap.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "conns.h"
#include "helper.h"
#include "log.h"

static void result(struct priv_msg *reply, uint32_t error, const char *message,
		   const struct certmap *t)
{
	priv_msg_init(reply, PRIV_CERTMAP_RESULT);
	priv_put_u32(reply, error);
	priv_put_str(reply, message);
	struct buf text = BUF_INIT;
	if (t != NULL)
		certmap_format(t, &text);
	priv_put_str(reply, text.data ? (const char *)text.data : "");
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

void handle_certmap(struct priv_msg *req, struct priv_msg *reply)
{
	uint64_t conn_id = priv_get_u64(req);
	uint32_t op = priv_get_u32(req);
	char *uri = priv_get_str(req);
	char *subject = priv_get_str(req);
	char *issuer = priv_get_str(req);
	char *user = priv_get_str(req);
	uint32_t enabled = priv_get_u32(req);
	if (!priv_msg_ok(req) || op > PRIV_CERTMAP_DELETE ||
	    enabled > PRIV_CERTMAP_KEEP)
		fatal("protocol violation: malformed CERTMAP");

	const char *path = helper_config->certmapping_file;
	struct hconn *hc = conns_find(conn_id);
	struct certmap *t = NULL;
	char *error = NULL;
	uint32_t code = 0;
	if (hc == NULL || hc->state != HCONN_AUTHENTICATED ||
	    !(hc->identity.flags & PRIV_ID_ADMIN)) {
		error = xstrdup("only administrators may read or change "
				"certificate mappings");
		code = EACCES;
		goto done;
	}
	if (certmap_load_file(path, &t, &error) != 0) {
		/* Never replace a file the administrator must repair. */
		char *e = xasprintf("the certificate mapping file does not "
				    "load: %s", error);
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
			error = xstrdup(status == CERTMAP_ENOENT
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
		   "%s by %s", LOG_ESC(uri), LOG_ESC(subject), LOG_ESC(issuer),
		   what, LOG_ESC(hc->identity.user));
done:
	if (code != 0) {
		log_warn("certificate mapping request refused: %s", LOG_ESC(error));
		result(reply, code, error, NULL);
	} else {
		result(reply, 0, "", t);
		if (op != PRIV_CERTMAP_LIST) {
			certmap_table_install(t); /* what was written is in use */
			t = NULL;
		}
	}
	certmap_free(t);
	free(error);
	free(uri);
	free(subject);
	free(issuer);
	free(user);
}

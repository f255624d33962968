/*
 * auth-basic.c - Basic authentication in the helper: the user name mapped
 * to a local account (Windows accepts only local accounts for Basic), then
 * PAM (pam_authenticate + pam_acct_mgmt) and the group check in a child.
 *
 * Must not: keep or log the password.
 * Entry point: handle_auth_basic.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authres.h"
#include "conns.h"
#include "helper.h"
#include "log.h"
#include "map.h"

void handle_auth_basic(struct priv_msg *req, struct priv_msg *reply)
{
	uint64_t id = priv_get_u64(req);
	char *remote = priv_get_str(req);
	uint32_t flags = priv_get_u32(req);
	char *user = priv_get_str(req);
	char *password = priv_get_str(req);
	(void)flags;
	if (!priv_msg_ok(req) || id == 0)
		fatal("protocol violation: malformed AUTH_BASIC");
	if (!helper_config->auth_basic)
		fatal("protocol violation: AUTH_BASIC while Basic is disabled");

	struct hconn *c = conns_get_for_auth(id, "AUTH_BASIC");
	conns_reset(c);
	snprintf(c->remote, sizeof(c->remote), "%s", remote);
	snprintf(c->scheme, sizeof(c->scheme), "Basic");

	char hostname[256];
	if (gethostname(hostname, sizeof(hostname)) != 0)
		hostname[0] = '\0';
	hostname[sizeof(hostname) - 1] = '\0';
	char *dot = strchr(hostname, '.');
	if (dot != NULL)
		*dot = '\0';
	struct map_rules rules = { .hostname = hostname };
	const char *why = NULL;
	char *local = map_basic(user, &rules, &why);
	if (authres_locked(remote, local, "Basic", reply)) {
		/* answered THROTTLED */
	} else if (local == NULL) {
		authres_refuse(req->seq, remote, "Basic", user, NULL, why);
	} else {
		struct auth_attempt *a = authres_attempt_new(
			req->seq, c, "Basic", "Basic", xstrdup(user));
		a->fold_case = true;    /* Windows: Basic names ignore case */
		authres_verify(a, local, password);
	}
	free(local);
	free(user);
	free_secret(password, strlen(password));
	free(remote);
}

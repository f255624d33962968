/*
 * auth-basic.c - Basic authentication in the helper: the user name mapped
 * to a local account (Windows accepts only local accounts for Basic; with
 * Authorization.BasicDomainAccounts domain accounts too, spelled as
 * DomainAccountNames says, for a PAM stack that knows them: pam_sss), then
 * PAM (pam_authenticate + pam_acct_mgmt) and the group check in a child.
 *
 * Basic = false, and Basic over plain HTTP while AllowUnencrypted = false,
 * are refused here too (the listener's check used the configuration it
 * had when the request began).
 *
 * Must not: keep or log the password.
 * Entry point: module_auth_basic (AUTH_BASIC).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper/authres.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/map.h"
#include "helper/module.h"

static void handle_auth_basic(struct helper_call *call)
{
	const struct priv_auth_basic *r = call->args;
	const char *remote = r->remote, *user = r->user;
	uint32_t flags = r->flags;
	struct hconn *c = call->conn;
	conns_reset(c);
	snprintf(c->remote, sizeof(c->remote), "%s", remote);
	snprintf(c->scheme, sizeof(c->scheme), "Basic");

	struct map_rules rules = map_rules_from(helper_config);
	const char *why = NULL;
	char *local = map_basic(user, &rules, &why);
	if (authres_locked(call->seq, remote, local, "Basic")) {
		/* answered THROTTLED */
	} else if (!helper_config->auth_basic) {
		/* The listener checked this against the configuration it had
		 * (a reload may have landed since): refused, not fatal. */
		authres_refuse(call->seq, remote, "Basic", user, NULL,
			       "method disabled");
	} else if (!(flags & PRIV_AUTH_HTTPS) &&
		   !helper_config->allow_unencrypted) {
		authres_refuse(call->seq, remote, "Basic", user, NULL,
			       "Basic over HTTP needs AllowUnencrypted=true");
	} else if (local == NULL) {
		authres_refuse(call->seq, remote, "Basic", user, NULL, why);
	} else {
		struct auth_attempt *a = authres_attempt_new(call->seq, c,
							     "Basic", "Basic",
							     xstrdup(user));
		a->fold_case = true; /* Windows: Basic names ignore case */
		authres_verify(a, local, r->password);
	}
	free(local);
}

static const struct helper_request requests[] = {
	{ PRIV_AUTH_BASIC, REQ_AUTH_STEP, PRIV_AUTH_RESULT, handle_auth_basic },
};

const struct helper_module module_auth_basic = {
	.name = "auth-basic",
	HELPER_REQUESTS(requests),
};

/*
 * auth-gss.c - Negotiate and Kerberos in the helper: one GSS acceptor
 * context per listener connection, accepting SPNEGO, raw Kerberos and raw
 * NTLMSSP tokens (pywinrm sends raw ones under Negotiate), the identity
 * mapped to a local account, then verified (account and groups) in a
 * child.  NTLM comes from gss-ntlmssp (its users from NtlmUserFile or
 * winbind); its refusals are explained from the user file
 * (ntlm-users.h).
 *
 * The helper enforces Service.Auth itself, whatever the listener checked:
 * the Negotiate scheme needs Negotiate = true, the Kerberos scheme needs
 * Kerberos = true, and Kerberos = false also refuses a Kerberos context
 * established under Negotiate (SPNEGO or a raw krb5 token), so that
 * Negotiate alone means NTLM (winrmd.conf(5), "Service.Auth").  A request
 * that the configuration forbids is refused (DENIED), never fatal: a
 * correct listener sends one when a reload lands between its check and
 * the helper's.
 *
 * Must not: accept a Kerberos-scheme login that is not Kerberos, a method
 * the configuration disables, or keep a context of a connection that
 * failed.
 * Entry point: module_auth_gss (AUTH_GSS; configures the acceptor at
 * start and after every configuration change).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "helper/authres.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/map.h"
#include "helper/module.h"
#include "helper/ntlm-norm.h"
#include "helper/ntlm-users.h"
#include "lib/x509.h"

/* 1.3.6.1.4.1.311.2.2.10, the NTLMSSP mechanism */
static gss_OID_desc ntlm_oid = {
	10, (void *)"\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"
};

static char *keytab;

/* What the keytab lacks (missing, no HTTP/ key), said at start and again
 * whenever the settings it depends on change, not at every reload. */
static void warn_keytab(const struct winrmd_config *cfg)
{
	static char *said; /* the settings last checked */
	char *now = xasprintf("%s|%d|%d", cfg->keytab, cfg->auth_kerberos,
			      cfg->auth_negotiate);
	if (said != NULL && strcmp(said, now) == 0) {
		free(now);
		return;
	}
	free(said);
	said = now;
	char *error = NULL, *warnings = NULL;
	config_check_keytab(cfg, &error, &warnings);
	if (error != NULL)
		log_warn("%s", error);
	if (warnings != NULL)
		log_warn("%s", warnings);
	free(error);
	free(warnings);
}

static void gss_configure(void)
{
	const struct winrmd_config *cfg = helper_config;
	warn_keytab(cfg);
	free(keytab);
	keytab = xstrdup(cfg->keytab);
	/*
	 * The acceptor uses the default credentials, and the keytab is named
	 * through the environment: a credential acquired from a cred store
	 * {"keytab": ...} is not a valid NTLM server credential for
	 * gss-ntlmssp 1.2 (it refuses it, or crashes), while the default
	 * credential accepts raw Kerberos, SPNEGO and raw NTLMSSP alike.
	 */
	char *ktname = xasprintf("FILE:%s", cfg->keytab);
	setenv("KRB5_KTNAME", ktname, 1);
	free(ktname);
	/* gss-ntlmssp reads its user database location from the environment
	 * at every authentication. */
	if (cfg->ntlm_user_file[0] != '\0')
		setenv("NTLM_USER_FILE", cfg->ntlm_user_file, 1);
	/* The host name and default realm the name mapping uses. */
	map_refresh();
}

/* "major/minor" text of a GSS failure, for the audit line. */
static void gss_reason(OM_uint32 major, OM_uint32 minor, const gss_OID mech,
		       char *out, size_t n)
{
	struct buf b = BUF_INIT;
	OM_uint32 ctx = 0, min2;
	gss_buffer_desc text;
	do {
		if (gss_display_status(&min2, major, GSS_C_GSS_CODE,
				       GSS_C_NO_OID, &ctx,
				       &text) != GSS_S_COMPLETE)
			break;
		buf_append(&b, text.value, text.length);
		gss_release_buffer(&min2, &text);
	} while (ctx != 0);
	if (minor != 0) {
		ctx = 0;
		if (gss_display_status(&min2, minor, GSS_C_MECH_CODE, mech,
				       &ctx, &text) == GSS_S_COMPLETE) {
			buf_append_str(&b, ": ");
			buf_append(&b, text.value, text.length);
			gss_release_buffer(&min2, &text);
		}
	}
	snprintf(out, n, "%s", b.data ? (char *)b.data : "GSSAPI failure");
	buf_release(&b);
	/* GSS messages may end in NULs or newlines; the log folds them. */
}

static char *display_name(gss_name_t name)
{
	OM_uint32 minor;
	gss_buffer_desc b;
	if (gss_display_name(&minor, name, &b, NULL) != GSS_S_COMPLETE)
		return xstrdup("");
	/* gss-ntlmssp counts a trailing NUL in the length. */
	size_t n = b.length;
	while (n > 0 && ((const char *)b.value)[n - 1] == '\0')
		n--;
	char *s = xstrndup(b.value, n);
	gss_release_buffer(&minor, &b);
	return s;
}

/* The answer to one more leg of a handshake. */
static void answer_continue(uint32_t seq, const gss_buffer_desc *out)
{
	struct priv_auth_result res = {
		.status = PRIV_AUTH_CONTINUE,
		.token = { out->value, out->length },
	};
	helper_answer(seq, PRIV_AUTH_RESULT, &res, NULL, 0);
}

static void handle_auth_gss(struct helper_call *call)
{
	const struct priv_auth_gss *r = call->args;
	uint32_t seq = call->seq;
	const char *scheme = r->scheme;
	uint32_t flags = r->flags;
	const uint8_t *tok = r->token.data, *cb = r->end_point.data;
	size_t tok_len = r->token.len, cb_len = r->end_point.len;
	bool kerberos_scheme = strcmp(scheme, "Kerberos") == 0;
	if (cb_len > X509_END_POINT_MAX ||
	    (!kerberos_scheme && strcmp(scheme, "Negotiate") != 0))
		fatal("protocol violation: AUTH_GSS with scheme \"%s\" and a "
		      "%zu-byte channel binding",
		      scheme, cb_len);

	struct buf token = BUF_INIT;
	char reason[256];
	struct map_rules rules = map_rules_from(helper_config);
	struct hconn *c = call->conn;
	snprintf(c->remote, sizeof(c->remote), "%s", r->remote);
	c->port = r->port;
	const struct audit_peer *peer = HCONN_PEER(c);
	if (authres_locked(seq, peer, NULL, NULL, scheme)) {
		conns_reset(c);
		goto out;
	}
	if (!(kerberos_scheme ? helper_config->auth_kerberos
			      : helper_config->auth_negotiate)) {
		conns_reset(c);
		authres_refuse(seq, peer, scheme, NULL, NULL,
			       "method disabled");
		goto out;
	}
	if (c->state == HCONN_AUTHENTICATED ||
	    (c->state == HCONN_HANDSHAKE && strcmp(c->scheme, scheme) != 0))
		conns_reset(c);
	snprintf(c->scheme, sizeof(c->scheme), "%s", scheme);

	buf_append(&token, tok, tok_len);
	ntlm_normalize(&token);

	/* Channel binding (RFC 5929 tls-server-end-point) over HTTPS, per
	 * CbtHardeningLevel: None passes no bindings; Relaxed passes them
	 * (a client's wrong binding fails, a missing one is accepted);
	 * Strict also requires the context to be channel-bound. */
	struct gss_channel_bindings_struct bindings;
	memset(&bindings, 0, sizeof(bindings));
	enum cbt_level cbt = helper_config->cbt_hardening_level;
	bool bind = (flags & PRIV_AUTH_HTTPS) && cbt != CBT_NONE;
	if (bind) {
		/* The listener computed it from the certificate its TLS
		 * handshake sent on this very connection. */
		if (cb_len == 0) {
			conns_reset(c);
			authres_refuse(seq, peer, scheme, NULL, NULL,
				       "no channel binding for this TLS "
				       "connection's certificate");
			goto out;
		}
		bindings.application_data.length = cb_len;
		bindings.application_data.value = (void *)cb;
	}

	OM_uint32 major, minor, ret_flags = 0;
	gss_buffer_desc in = { token.len, token.data };
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	gss_OID mech = GSS_C_NO_OID;
	gss_cred_id_t deleg = GSS_C_NO_CREDENTIAL;
	major = gss_accept_sec_context(&minor, &c->ctx, GSS_C_NO_CREDENTIAL,
				       &in,
				       bind ? &bindings
					    : GSS_C_NO_CHANNEL_BINDINGS,
				       &src, &mech, &out, &ret_flags, NULL,
				       &deleg);
	OM_uint32 min2;

	if (GSS_ERROR(major)) {
		gss_reason(major, minor, mech, reason, sizeof(reason));
		conns_reset(c);
		/* A wrong NTLM password counts against the account it named. */
		char *claimed = ntlm_claimed(&token);
		char *account = NULL;
		if (claimed != NULL) {
			bool local;
			const char *why;
			account = map_ntlm(claimed, &rules, &local, &why);
			/* gss-ntlmssp's errno texts do not say which of
			 * unknown user, wrong domain or wrong password it
			 * was: the user file does (ntlm-users.h). */
			char why_ntlm[sizeof(reason)];
			if (ntlm_users_explain(getenv("NTLM_USER_FILE"),
					       claimed, (long)minor, why_ntlm,
					       sizeof(why_ntlm))) {
				log_debug("NTLM refusal of %s: %s",
					  LOG_ESC(claimed), LOG_ESC(reason));
				memcpy(reason, why_ntlm, sizeof(reason));
			}
		}
		authres_refuse(seq, peer, scheme, claimed, account, reason);
		free(claimed);
		free(account);
		goto done;
	}
	if (major & GSS_S_CONTINUE_NEEDED) {
		c->state = HCONN_HANDSHAKE;
		answer_continue(seq, &out);
		goto done;
	}

	/* Complete: who is it, and which local account? */
	/* Kerberos, also under Microsoft's OID 1.2.840.48018.1.2.2 */
	static gss_OID_desc ms_krb5 = {
		9, (void *)"\x2a\x86\x48\x82\xf7\x12\x01\x02\x02"
	};
	bool krb5 = mech != GSS_C_NO_OID &&
		    (gss_oid_equal(mech, gss_mech_krb5) ||
		     gss_oid_equal(mech, &ms_krb5));
	bool ntlm = mech != GSS_C_NO_OID && gss_oid_equal(mech, &ntlm_oid);
	char *claimed = display_name(src);
	if (ntlm && claimed[0] == '\\' && strchr(claimed, '@') != NULL)
		/* a UPN without a domain: gss-ntlmssp writes "\\user@dom" */
		memmove(claimed, claimed + 1, strlen(claimed));
	const char *method = scheme; /* for the audit line */
	const char *why = NULL;
	char *local = NULL;
	bool ntlm_local = false;
	if (kerberos_scheme && !krb5) {
		why = "the Kerberos scheme needs a Kerberos token";
	} else if (krb5 && !helper_config->auth_kerberos) {
		/* Named as the success line would name it.  (The Kerberos
		 * scheme was refused above already.) */
		method = kerberos_scheme ? "Kerberos/Kerberos"
					 : "Negotiate/Kerberos";
		why = "Kerberos is disabled (Service.Auth.Kerberos = false), "
		      "inside Negotiate too";
	} else if (krb5) {
		local = map_kerberos(claimed, &rules, &why);
	} else if (ntlm) {
		local = map_ntlm(claimed, &rules, &ntlm_local, &why);
	} else {
		why = "unsupported GSSAPI mechanism";
	}
	if (local == NULL) {
		conns_reset(c);
		authres_refuse(seq, peer, method, claimed, NULL, why);
		free(claimed);
		goto done;
	}
	/* The account may be locked by failures through another method. */
	if (authres_locked(seq, peer, claimed, local, scheme)) {
		conns_reset(c);
		free(claimed);
		free(local);
		goto done;
	}
	if ((flags & PRIV_AUTH_HTTPS) && cbt == CBT_STRICT &&
	    !(ret_flags & GSS_C_CHANNEL_BOUND_FLAG)) {
		conns_reset(c);
		authres_refuse(
			seq, peer, scheme, claimed, local,
			"no channel binding, and CbtHardeningLevel is Strict");
		free(claimed);
		free(local);
		goto done;
	}
	c->ctx_is_krb5 = krb5;
	if (krb5 && (ret_flags & GSS_C_DELEG_FLAG) &&
	    deleg != GSS_C_NO_CREDENTIAL) {
		/* Kept with the connection; its shells' commands get it as a
		 * credential cache (spawn.c, ccache.h). */
		if (c->deleg != GSS_C_NO_CREDENTIAL)
			gss_release_cred(&min2, &c->deleg);
		c->deleg = deleg;
		deleg = GSS_C_NO_CREDENTIAL;
		log_debug("connection %llu: %s delegated credentials",
			  (unsigned long long)c->id, LOG_ESC(claimed));
	}
	struct auth_attempt *a = authres_attempt_new(
		seq, c, kerberos_scheme ? "Kerberos" : "Negotiate",
		krb5 ? "Kerberos" : "NTLM", claimed);
	buf_append(&a->token, out.value, out.length);
	a->ntlm_local = ntlm_local;
	/* NTLM names ignore case, as in Windows' directory; Kerberos
	 * principal names do not, unless the realm's directory is known to
	 * (Authorization.KerberosCaseInsensitive). */
	a->fold_case = ntlm || helper_config->kerberos_case_insensitive;
	authres_verify(a, local, NULL);
	free(local);
done:
	if (deleg != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min2, &deleg);
	gss_release_buffer(&min2, &out);
	if (src != GSS_C_NO_NAME)
		gss_release_name(&min2, &src);
out:
	buf_release_secret(&token);
}

static const struct helper_request requests[] = {
	{ PRIV_AUTH_GSS, REQ_AUTH_STEP, PRIV_AUTH_RESULT, handle_auth_gss },
};

const struct helper_module module_auth_gss = {
	.name = "auth-gss",
	HELPER_REQUESTS(requests),
	.start = gss_configure,
	.reconfigure = gss_configure,
};

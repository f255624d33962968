/*
 * negotiate.c - GSS-API client contexts for winrmctl (see negotiate.h).
 */
#include "autoconfig.h"

#include "winrmctl/negotiate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

/* 1.3.6.1.4.1.311.2.2.10, NTLMSSP (gss-ntlmssp) */
static gss_OID_desc ntlm_oid = {
	10, (void *)"\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"
};
/* 1.3.6.1.5.5.2, SPNEGO */
static gss_OID_desc spnego_oid = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };

struct ctl_gss {
	gss_ctx_id_t ctx;
	gss_name_t target;
	gss_cred_id_t cred;
	gss_OID mech;
	bool kerberos;
	const char *scheme;
};

/* "what: major text: minor text" into err. */
static void gss_text(struct buf *err, const char *what, OM_uint32 major,
		     OM_uint32 minor, gss_OID mech)
{
	OM_uint32 ctx = 0, min2;
	gss_buffer_desc text;
	buf_append_str(err, what);
	do {
		if (gss_display_status(&min2, major, GSS_C_GSS_CODE,
				       GSS_C_NO_OID, &ctx,
				       &text) != GSS_S_COMPLETE)
			break;
		buf_append_str(err, ": ");
		buf_append(err, text.value, text.length);
		gss_release_buffer(&min2, &text);
	} while (ctx != 0);
	if (minor != 0) {
		ctx = 0;
		if (gss_display_status(&min2, minor, GSS_C_MECH_CODE, mech,
				       &ctx, &text) == GSS_S_COMPLETE) {
			buf_append_str(err, ": ");
			buf_append(err, text.value, text.length);
			gss_release_buffer(&min2, &text);
		}
	}
}

/* Is mech available in this GSS-API installation? */
static bool have_mech(gss_OID mech)
{
	OM_uint32 minor;
	gss_OID_set mechs = GSS_C_NO_OID_SET;
	int present = 0;
	if (gss_indicate_mechs(&minor, &mechs) != GSS_S_COMPLETE)
		return false;
	gss_test_oid_set_member(&minor, mech, mechs, &present);
	gss_release_oid_set(&minor, &mechs);
	return present != 0;
}

struct ctl_gss *ctl_gss_new(enum ctl_auth auth, const char *host,
			    const char *user, const char *password,
			    enum ctl_gss_error *error_r, struct buf *err)
{
	struct ctl_gss *g = xcalloc(1, sizeof(*g));
	OM_uint32 major, minor;
	g->ctx = GSS_C_NO_CONTEXT;
	g->cred = GSS_C_NO_CREDENTIAL;
	g->target = GSS_C_NO_NAME;
	bool with_password = user != NULL && password != NULL;
	if (auth == CTL_AUTH_KERBEROS) {
		g->mech = (gss_OID)gss_mech_krb5;
		g->kerberos = true;
		g->scheme = "Kerberos";
	} else if (with_password) {
		g->mech = &ntlm_oid;
		g->scheme = "Negotiate";
	} else {
		g->mech = &spnego_oid;
		g->kerberos = true;
		g->scheme = "Negotiate";
	}
	*error_r = CTL_GSS_OK;

	char *service = xasprintf("HTTP@%s", host);
	gss_buffer_desc nb = { strlen(service), service };
	major = gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE,
				&g->target);
	free(service);
	if (GSS_ERROR(major)) {
		gss_text(err, "the service name HTTP/host", major, minor,
			 GSS_C_NO_OID);
		*error_r = CTL_GSS_FAILED;
		goto fail;
	}
	if (g->mech == &ntlm_oid && !have_mech(&ntlm_oid)) {
		buf_append_str(err,
			       "NTLM (-a:Negotiate with -u and -p) needs the "
			       "GSS-API NTLMSSP mechanism (the gss-ntlmssp "
			       "package), which is not installed");
		*error_r = CTL_GSS_NO_NTLM;
		goto fail;
	}
	if (with_password) {
		gss_name_t name = GSS_C_NO_NAME;
		gss_buffer_desc ub = { strlen(user), (void *)user };
		gss_buffer_desc pb = { strlen(password), (void *)password };
		gss_OID_set_desc mechs = { 1, g->mech };
		major = gss_import_name(&minor, &ub, GSS_C_NT_USER_NAME, &name);
		if (!GSS_ERROR(major))
			major = gss_acquire_cred_with_password(
				&minor, name, &pb, GSS_C_INDEFINITE, &mechs,
				GSS_C_INITIATE, &g->cred, NULL, NULL);
		if (name != GSS_C_NO_NAME) {
			OM_uint32 min2;
			gss_release_name(&min2, &name);
		}
		if (GSS_ERROR(major)) {
			gss_text(err,
				 g->kerberos ? "Kerberos refused the user name "
					       "and password"
					     : "NTLM credentials for the user "
					       "name",
				 major, minor, g->mech);
			*error_r = CTL_GSS_CREDENTIALS;
			goto fail;
		}
	}
	return g;
fail:
	ctl_gss_free(g);
	return NULL;
}

const char *ctl_gss_scheme(const struct ctl_gss *g)
{
	return g->scheme;
}

bool ctl_gss_is_kerberos(const struct ctl_gss *g)
{
	return g->kerberos;
}

enum ctl_gss_error ctl_gss_step(struct ctl_gss *g, const uint8_t *in,
				size_t in_len, struct buf *out,
				bool *complete_r, struct buf *err)
{
	OM_uint32 major, minor, min2;
	gss_buffer_desc ib = { in_len, (void *)in };
	gss_buffer_desc ob = GSS_C_EMPTY_BUFFER;
	bool first = g->ctx == GSS_C_NO_CONTEXT;
	*complete_r = false;
	major = gss_init_sec_context(&minor, g->cred, &g->ctx, g->target,
				     g->mech,
				     GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG |
					     GSS_C_CONF_FLAG,
				     0, GSS_C_NO_CHANNEL_BINDINGS,
				     in != NULL ? &ib : GSS_C_NO_BUFFER, NULL,
				     &ob, NULL, NULL);
	if (ob.length > 0)
		buf_append(out, ob.value, ob.length);
	gss_release_buffer(&min2, &ob);
	if (GSS_ERROR(major)) {
		long m = (long)(int32_t)minor;
		bool no_tgt = GSS_ROUTINE_ERROR(major) == GSS_S_NO_CRED ||
			      GSS_ROUTINE_ERROR(major) ==
				      GSS_S_CREDENTIALS_EXPIRED ||
			      m == KRB5_FCC_NOFILE || m == KRB5_CC_NOTFOUND ||
			      m == KRB5_CC_END ||
			      m == KRB5KRB_AP_ERR_TKT_EXPIRED;
		if (first && g->kerberos && g->cred == GSS_C_NO_CREDENTIAL &&
		    no_tgt) {
			gss_text(err, "no Kerberos ticket for the service",
				 major, minor, g->mech);
			return CTL_GSS_NO_TICKET;
		}
		gss_text(err,
			 first ? "GSS-API could not start the authentication"
			       : "the service's answer did not authenticate it",
			 major, minor, g->mech);
		return CTL_GSS_FAILED;
	}
	*complete_r = !(major & GSS_S_CONTINUE_NEEDED);
	return CTL_GSS_OK;
}

void ctl_gss_free(struct ctl_gss *g)
{
	OM_uint32 minor;
	if (g == NULL)
		return;
	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
	if (g->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &g->cred);
	if (g->target != GSS_C_NO_NAME)
		gss_release_name(&minor, &g->target);
	free(g);
}

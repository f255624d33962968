/*
 * negotiate.h - the client side of HTTP Negotiate and Kerberos for
 * winrmctl, on GSS-API (MIT krb5; NTLM through the gss-ntlmssp mechanism):
 *
 *   -a:Kerberos              raw Kerberos tokens under the Kerberos scheme,
 *                            from the credential cache (kinit), or from
 *                            -u/-p when given
 *   -a:Negotiate (default)   SPNEGO with the credential cache (Kerberos);
 *                            with -u and -p, NTLM (raw NTLMSSP tokens under
 *                            Negotiate, as pywinrm and Windows' WinRM send)
 *                            for DOMAIN\user, user@domain or a bare user
 *
 * The service name is HTTP/host (what Windows clients ask for).  libcurl's
 * own SPNEGO cannot do NTLM with a password, nor say why no token came
 * out (no ticket, unknown service principal...): this does both.
 *
 * Must not: print, exit, or keep the password after ctl_gss_new.
 * Entry points: ctl_gss_new, ctl_gss_step, ctl_gss_free.
 */
#ifndef WINRMCTL_NEGOTIATE_H
#define WINRMCTL_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "winrmctl/parse.h"

struct ctl_gss;

/* Why a context could not be set up or go on. */
enum ctl_gss_error {
	CTL_GSS_OK = 0,
	CTL_GSS_NO_TICKET,   /* no usable Kerberos credentials (kinit) */
	CTL_GSS_NO_NTLM,     /* the NTLM mechanism is not installed */
	CTL_GSS_CREDENTIALS, /* -u/-p refused by the mechanism itself */
	CTL_GSS_FAILED,      /* anything else (the text says what) */
};

/*
 * A client context for auth (CTL_AUTH_KERBEROS, CTL_AUTH_NEGOTIATE or
 * CTL_AUTH_DEFAULT) towards host; user and password NULL for the
 * credential cache.  On failure returns NULL, *error_r and a one-line
 * message in err.
 */
struct ctl_gss *ctl_gss_new(enum ctl_auth auth, const char *host,
			    const char *user, const char *password,
			    enum ctl_gss_error *error_r, struct buf *err);

/* The scheme word of the Authorization header: "Negotiate" or
 * "Kerberos". */
const char *ctl_gss_scheme(const struct ctl_gss *g);

/* True for a Kerberos context (SPNEGO or raw); false for NTLM. */
bool ctl_gss_is_kerberos(const struct ctl_gss *g);

/*
 * One step: in is the server's token (NULL, 0 for the first call); the
 * next token to send is appended to out (nothing when none is needed).
 * *complete_r tells whether the context is established (for Kerberos,
 * after the server's final token: mutual authentication).  Returns
 * CTL_GSS_OK, or an error with a one-line message in err.
 */
enum ctl_gss_error ctl_gss_step(struct ctl_gss *g, const uint8_t *in,
				size_t in_len, struct buf *out,
				bool *complete_r, struct buf *err);

void ctl_gss_free(struct ctl_gss *g);

#endif

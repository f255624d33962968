/*
 * seal-gss-tool.c - a GSS acceptor driven over stdin/stdout, so that
 * tests/integration/t5000-seal-gss.py can exercise helper/seal-gss.c
 * against a python-gssapi initiator (NTLM, Kerberos, SPNEGO) without the
 * daemon.  Run it with the acceptor environment of the lab
 * (KRB5_KTNAME, NTLM_USER_FILE, KRB5_CONFIG, ...).
 *
 * One command per line, arguments in base64 ("-" for empty), one answer
 * line per command:
 *   accept <token>           -> "continue <token>" | "complete <token> <mech>"
 *                               (mech: krb5, ntlm or other) | "error <text>"
 *   unwrap <header> <sealed> -> "plain <data>" | "error <text>"
 *   wrap <data>              -> "wrapped <header> <sealed>" | "error <text>"
 *   decrypt <content-type> <body>
 *                            -> "plain <data> <protocol> <type> <parts> <crlf>"
 *                               the listener's and the helper's work on a
 *                               request: seal_parse, sealgss_unwrap of every
 *                               part, seal_length_ok (type: the decrypted
 *                               body's content type; crlf: parts whose stray
 *                               CRLF was cut) | "error <text>"
 *   encrypt <protocol> <multi 0|1> <data>
 *                            -> "body <content-type> <body>": a response,
 *                               sealgss_wrap per part (16 KiB parts when
 *                               multi), seal_build, seal_finish
 *   takeover on|off          -> "ok" (whether a Kerberos context is taken
 *                               over by krb5-cfx.c at its first message,
 *                               as winrmd-priv does; default on)
 *   path                     -> "path cfx|gss|none": which code holds the
 *                               context now
 *   mode krb5|ntlm|auto      -> "ok" (force sealgss_*'s krb5 argument;
 *                               auto: from the accepted mechanism)
 *   reset                    -> "ok" (drops the context)
 *   quit
 * A malformed command is answered "error ..." and the tool goes on.
 *
 * Must not: be installed or used outside the tests.
 * Entry point: main.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#include "listener/auth/seal.h"
#include "helper/krb5-cfx.h"
#include "helper/seal-gss.h"
#include "lib/base64.h"
#include "lib/util.h"

/* 1.2.840.113554.1.2.2 and Microsoft's 1.2.840.48018.1.2.2 */
static const uint8_t krb5_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
				    0x12, 0x01, 0x02, 0x02 };
static const uint8_t mskrb5_oid[] = { 0x2a, 0x86, 0x48, 0x82, 0xf7,
				      0x12, 0x01, 0x02, 0x02 };
/* 1.3.6.1.4.1.311.2.2.10 */
static const uint8_t ntlm_oid[] = { 0x2b, 0x06, 0x01, 0x04, 0x01,
				    0x82, 0x37, 0x02, 0x02, 0x0a };

static gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
static enum { MECH_OTHER, MECH_KRB5, MECH_NTLM } mech = MECH_OTHER;
static int forced = -1; /* -1 auto, 0 NTLM, 1 Kerberos */
/* Kerberos contexts taken over by krb5-cfx.c (unless "takeover off") */
static struct krb5_cfx *cfx;
static bool takeover = true;

static struct krb5_cfx **cfx_arg(void)
{
	return takeover ? &cfx : NULL;
}

static bool oid_is(gss_OID oid, const uint8_t *der, size_t n)
{
	return oid != GSS_C_NO_OID && oid->length == n &&
	       memcmp(oid->elements, der, n) == 0;
}

/* Prints " <base64>" (or " -" when empty). */
static void put_b64(const void *p, size_t n)
{
	struct buf b = BUF_INIT;

	if (n == 0) {
		fputs(" -", stdout);
		return;
	}
	base64_encode(&b, p, n);
	printf(" %s", (const char *)b.data);
	buf_release(&b);
}

/* Decodes one argument ("-" is empty); -1 when not base64. */
static int get_b64(const char *arg, struct buf *out)
{
	if (arg == NULL)
		return -1;
	if (strcmp(arg, "-") == 0)
		return 0;
	return base64_decode(out, arg, strlen(arg));
}

static void drop_context(void)
{
	OM_uint32 m;

	if (ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&m, &ctx, GSS_C_NO_BUFFER);
	ctx = GSS_C_NO_CONTEXT;
	cfx_free(cfx);
	cfx = NULL;
	mech = MECH_OTHER;
}

static void status_text(OM_uint32 major, OM_uint32 minor)
{
	OM_uint32 m, mctx = 0;
	gss_buffer_desc t = GSS_C_EMPTY_BUFFER;

	printf("error accept:");
	if (!GSS_ERROR(gss_display_status(&m, major, GSS_C_GSS_CODE,
					  GSS_C_NO_OID, &mctx, &t))) {
		printf(" %.*s", (int)t.length, (const char *)t.value);
		gss_release_buffer(&m, &t);
	}
	mctx = 0;
	if (!GSS_ERROR(gss_display_status(&m, minor, GSS_C_MECH_CODE,
					  GSS_C_NO_OID, &mctx, &t))) {
		printf("; %.*s", (int)t.length, (const char *)t.value);
		gss_release_buffer(&m, &t);
	}
	printf("\n");
}

static void cmd_accept(const char *arg)
{
	struct buf in = BUF_INIT;
	OM_uint32 major, minor, m;
	gss_buffer_desc tin, tout = GSS_C_EMPTY_BUFFER;
	gss_OID mech_type = GSS_C_NO_OID;

	if (get_b64(arg, &in) != 0) {
		printf("error bad base64\n");
		return;
	}
	tin.length = in.len;
	tin.value = in.data;
	major = gss_accept_sec_context(&minor, &ctx, GSS_C_NO_CREDENTIAL, &tin,
				       GSS_C_NO_CHANNEL_BINDINGS, NULL,
				       &mech_type, &tout, NULL, NULL, NULL);
	buf_release(&in);
	if (GSS_ERROR(major)) {
		status_text(major, minor);
		gss_release_buffer(&m, &tout);
		drop_context();
		return;
	}
	if (major & GSS_S_CONTINUE_NEEDED) {
		fputs("continue", stdout);
		put_b64(tout.value, tout.length);
		fputs("\n", stdout);
	} else {
		if (oid_is(mech_type, krb5_oid, sizeof(krb5_oid)) ||
		    oid_is(mech_type, mskrb5_oid, sizeof(mskrb5_oid)))
			mech = MECH_KRB5;
		else if (oid_is(mech_type, ntlm_oid, sizeof(ntlm_oid)))
			mech = MECH_NTLM;
		else
			mech = MECH_OTHER;
		fputs("complete", stdout);
		put_b64(tout.value, tout.length);
		printf(" %s\n", mech == MECH_KRB5   ? "krb5"
				: mech == MECH_NTLM ? "ntlm"
						    : "other");
	}
	gss_release_buffer(&m, &tout);
}

static bool use_krb5(void)
{
	return forced >= 0 ? forced == 1 : mech == MECH_KRB5;
}

static void cmd_unwrap(const char *a1, const char *a2)
{
	struct buf hdr = BUF_INIT, sealed = BUF_INIT, plain = BUF_INIT;
	char err[512];

	if (get_b64(a1, &hdr) != 0 || get_b64(a2, &sealed) != 0) {
		printf("error bad base64\n");
	} else if (sealgss_unwrap(&ctx, cfx_arg(), use_krb5(), hdr.data,
				  hdr.len, sealed.data, sealed.len, &plain, err,
				  sizeof(err)) != 0) {
		if (plain.len != 0)
			printf("error output left behind\n");
		else
			printf("error %s\n", err);
	} else {
		fputs("plain", stdout);
		put_b64(plain.data, plain.len);
		fputs("\n", stdout);
	}
	buf_release(&hdr);
	buf_release(&sealed);
	buf_release_secret(&plain);
}

static void cmd_wrap(const char *arg)
{
	struct buf plain = BUF_INIT, hdr = BUF_INIT, sealed = BUF_INIT;
	char err[512];

	if (get_b64(arg, &plain) != 0) {
		printf("error bad base64\n");
	} else if (sealgss_wrap(&ctx, cfx_arg(), use_krb5(), plain.data,
				plain.len, &hdr, &sealed, err,
				sizeof(err)) != 0) {
		if (hdr.len != 0 || sealed.len != 0)
			printf("error output left behind\n");
		else
			printf("error %s\n", err);
	} else {
		fputs("wrapped", stdout);
		put_b64(hdr.data, hdr.len);
		put_b64(sealed.data, sealed.len);
		fputs("\n", stdout);
	}
	buf_release_secret(&plain);
	buf_release(&hdr);
	buf_release(&sealed);
}

static void cmd_decrypt(const char *a1, const char *a2)
{
	struct buf ct = BUF_INIT, body = BUF_INIT, plain = BUF_INIT;
	struct seal_message m;
	const char *perr = NULL;
	char err[512];
	size_t crlf = 0;

	if (get_b64(a1, &ct) != 0 || get_b64(a2, &body) != 0) {
		printf("error bad base64\n");
		goto out;
	}
	if (seal_parse(body.data, body.len, (const char *)ct.data, &m, &perr) !=
	    0) {
		printf("error parse: %s\n", perr);
		goto out;
	}
	for (size_t i = 0; i < m.nparts; i++) {
		const struct seal_part *p = &m.parts[i];
		size_t before = plain.len;
		if (sealgss_unwrap(&ctx, cfx_arg(), use_krb5(), p->hdr,
				   p->hdr_len, p->sealed, p->sealed_len, &plain,
				   err, sizeof(err)) != 0) {
			printf("error part %zu: %s\n", i, err);
			goto release;
		}
		if (!seal_length_ok(p->original_length, plain.len - before,
				    p->sealed_len)) {
			printf("error part %zu: Length=%zu but %zu bytes\n", i,
			       p->original_length, plain.len - before);
			goto release;
		}
		crlf += p->crlf_trimmed;
	}
	fputs("plain", stdout);
	put_b64(plain.data, plain.len);
	printf(" %s %s %zu %zu\n", m.protocol, m.content_type, m.nparts, crlf);
release:
	seal_message_release(&m);
out:
	buf_release(&ct);
	buf_release(&body);
	buf_release_secret(&plain);
}

static void cmd_encrypt(const char *proto, const char *multi_s, const char *arg)
{
	struct buf plain = BUF_INIT, out = BUF_INIT;
	bool multi = multi_s != NULL && strcmp(multi_s, "1") == 0;
	const char *ct = seal_response_content_type(proto, multi);
	char err[512];

	if (ct == NULL || get_b64(arg, &plain) != 0) {
		printf("error bad arguments\n");
		goto out;
	}
	size_t chunk = multi ? SEAL_CHUNK : plain.len, off = 0;
	do {
		size_t n = plain.len - off < chunk ? plain.len - off : chunk;
		struct buf hdr = BUF_INIT, sealed = BUF_INIT;
		int rc = sealgss_wrap(&ctx, cfx_arg(), use_krb5(),
				      plain.data + off, n, &hdr, &sealed, err,
				      sizeof(err));
		if (rc == 0)
			seal_build(&out, proto, SEAL_SOAP_TYPE ";charset=UTF-8",
				   sealed.len, hdr.data, hdr.len, sealed.data,
				   sealed.len);
		buf_release(&hdr);
		buf_release(&sealed);
		if (rc != 0) {
			printf("error %s\n", err);
			goto out;
		}
		off += n;
	} while (off < plain.len);
	seal_finish(&out);
	fputs("body", stdout);
	put_b64(ct, strlen(ct));
	put_b64(out.data, out.len);
	fputs("\n", stdout);
out:
	buf_release_secret(&plain);
	buf_release(&out);
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		char *save = NULL;
		const char *cmd = strtok_r(line, " ", &save);
		const char *a1 = strtok_r(NULL, " ", &save);
		const char *a2 = strtok_r(NULL, " ", &save);
		const char *a3 = strtok_r(NULL, " ", &save);
		if (cmd == NULL)
			printf("error empty command\n");
		else if (strcmp(cmd, "quit") == 0)
			break;
		else if (strcmp(cmd, "accept") == 0)
			cmd_accept(a1);
		else if (strcmp(cmd, "unwrap") == 0)
			cmd_unwrap(a1, a2);
		else if (strcmp(cmd, "wrap") == 0)
			cmd_wrap(a1);
		else if (strcmp(cmd, "decrypt") == 0)
			cmd_decrypt(a1, a2);
		else if (strcmp(cmd, "encrypt") == 0)
			cmd_encrypt(a1, a2, a3);
		else if (strcmp(cmd, "reset") == 0) {
			drop_context();
			printf("ok\n");
		} else if (strcmp(cmd, "takeover") == 0 && a1 != NULL) {
			takeover = strcmp(a1, "on") == 0;
			printf("ok\n");
		} else if (strcmp(cmd, "path") == 0) {
			printf("path %s\n", cfx != NULL               ? "cfx"
					    : ctx != GSS_C_NO_CONTEXT ? "gss"
								      : "none");
		} else if (strcmp(cmd, "mode") == 0 && a1 != NULL) {
			forced = strcmp(a1, "krb5") == 0   ? 1
				 : strcmp(a1, "ntlm") == 0 ? 0
							   : -1;
			printf("ok\n");
		} else
			printf("error unknown command\n");
		fflush(stdout);
	}
	free(line);
	drop_context();
	return 0;
}

/*
 * auth-cert.c - client-certificate authentication in the helper (HTTPS
 * only, Service.Auth.Certificate).
 *
 * The listener sends the whole TLS handshake of the connection as its
 * GnuTLS saw it.  First the client must have proven that it holds its
 * certificate's key (tlsproof.c): its CertificateVerify verifies over a
 * handshake that carries a randomized server signature the helper made
 * for this very connection (tls-key.c), so that no certificate ever seen
 * can be replayed.  Then the chain, taken from that Certificate message,
 * is verified with OpenSSL against ClientCAFile (16 KB cap on the leaf
 * before any parsing, validity, clientAuth EKU) and mapped to a local
 * account through the CertMapping table as Windows does (issuer
 * thumbprint, subject pattern against the UPN and e-mail names, resource
 * URI prefix; longest match, ambiguity refused).  The account then gets
 * the PAM account check and the group authorization like every other
 * method.  A request that a reload made impossible (Certificate turned
 * off) is refused, never fatal.
 *
 * Entry point: module_auth_cert (AUTH_CERT).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper/authres.h"
#include "helper/certmap-table.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"
#include "helper/tls-key.h"
#include "helper/tlsproof.h"
#include "lib/x509.h"

static void handle_auth_cert(struct helper_call *call)
{
	const struct priv_auth_cert *r = call->args;
	const char *uri = r->uri;
	struct hconn *c = call->conn;
	conns_reset(c);
	snprintf(c->remote, sizeof(c->remote), "%s", r->remote);
	c->port = r->port;
	snprintf(c->scheme, sizeof(c->scheme), "Certificate");
	const struct audit_peer *peer = HCONN_PEER(c);

	struct tls_hs_msg msgs[TLSPROOF_MAX_MSGS];
	size_t n = r->n_msgs < TLSPROOF_MAX_MSGS ? r->n_msgs
						 : TLSPROOF_MAX_MSGS;
	for (size_t i = 0; i < n; i++)
		msgs[i] = (struct tls_hs_msg){
			.type = (uint8_t)r->msgs[i].type,
			.from_client = (r->msgs[i].type &
					PRIV_HS_FROM_CLIENT) != 0,
			.body = r->msgs[i].body.data,
			.len = r->msgs[i].body.len,
		};
	bool bad_type = false;
	for (size_t i = 0; i < r->n_msgs; i++)
		bad_type = bad_type ||
			   (r->msgs[i].type & ~(PRIV_HS_FROM_CLIENT | 0xffu));

	struct x509_client client;
	memset(&client, 0, sizeof(client));
	struct tlsproof_result proof;
	uint64_t conn_id = c->id;
	char err[256];
	char *error = NULL;
	const struct certmap *t;
	const struct certmap_entry *e = NULL;
	if (authres_locked(call->seq, peer, NULL, NULL, "Certificate")) {
		/* answered */
	} else if (!helper_config->auth_certificate) {
		/* A reload may have landed since the listener checked. */
		authres_refuse(call->seq, peer, "Certificate", NULL, NULL,
			       "method disabled");
	} else if (helper_config->client_ca_file[0] == '\0') {
		authres_refuse(call->seq, peer, "Certificate", NULL, NULL,
			       "no Service.Auth.ClientCAFile is configured");
	} else if (bad_type || r->n_msgs > TLSPROOF_MAX_MSGS) {
		authres_refuse(call->seq, peer, "Certificate", NULL, NULL,
			       "not a TLS handshake");
	} else if (tlsproof_verify(msgs, n, tls_key_is_fresh, &conn_id, &proof,
				   err, sizeof(err)) != TLSPROOF_OK) {
		authres_refuse(call->seq, peer, "Certificate", NULL, NULL, err);
	} else if (x509_verify_client(proof.certs, proof.cert_lens,
				      proof.n_certs,
				      helper_config->client_ca_file, 0, &client,
				      err, sizeof(err)) != X509C_OK) {
		authres_refuse(call->seq, peer, "Certificate", NULL, NULL, err);
	} else if ((t = certmap_table_current(&error)) == NULL) {
		log_err("certificate mappings unusable: %s", LOG_ESC(error));
		authres_refuse(call->seq, peer, "Certificate", client.subject,
			       NULL, "the CertMapping table does not load");
	} else {
		int m = certmap_match(t, &client, uri, &e);
		const char *claimed = client.n_upns > 0     ? client.upns[0]
				      : client.n_emails > 0 ? client.emails[0]
							    : client.subject;
		if (m != CERTMAP_MATCH) {
			char why[300];
			snprintf(why, sizeof(why),
				 "%s for issuer %s and URI %s",
				 m == CERTMAP_AMBIGUOUS
					 ? "more than one mapping matches"
					 : "no enabled mapping matches",
				 client.issuer_thumbprint, uri);
			authres_refuse(call->seq, peer, "Certificate", claimed,
				       NULL, why);
		} else {
			char *who = xasprintf("%s (thumbprint %s)", claimed,
					      client.thumbprint);
			authres_verify(authres_attempt_new(call->seq, c,
							   "Certificate",
							   "Certificate", who),
				       e->user, NULL);
		}
	}
	x509_client_release(&client);
	free(error);
}

static const struct helper_request requests[] = {
	{ PRIV_AUTH_CERT, REQ_AUTH_STEP, PRIV_AUTH_RESULT, handle_auth_cert },
};

const struct helper_module module_auth_cert = {
	.name = "auth-cert",
	HELPER_REQUESTS(requests),
};

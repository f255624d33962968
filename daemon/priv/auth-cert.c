/*
 * auth-cert.c - client-certificate authentication in the helper (HTTPS
 * only, Service.Auth.Certificate): the chain the listener took from the
 * TLS session is verified here with OpenSSL against ClientCAFile (16 KB
 * cap on the leaf before any parsing, validity, clientAuth EKU), then
 * mapped to a local account through the CertMapping table as Windows
 * does (issuer thumbprint, subject pattern against the UPN and e-mail
 * names, resource URI prefix; longest match, ambiguity refused).  The
 * account then gets the PAM account check and the group authorization
 * like every other method.
 *
 * Entry point: handle_auth_cert.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "authres.h"
#include "certmap.h"
#include "conns.h"
#include "helper.h"
#include "log.h"
#include "x509.h"

#define MAX_CHAIN 9

/* The table, reloaded when the file changes (identity, size, times). */
static struct certmap *table;
static char *table_path;
static struct stat table_st;
static bool table_missing;
static struct stat bad_st;     /* of the last file that did not load */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void set_table(struct certmap *t, const char *path, bool missing,
		      const struct stat *st)
{
	certmap_free(table);
	table = t;
	free(table_path);
	table_path = xstrdup(path);
	table_missing = missing;
	if (!missing)
		table_st = *st;
}

static const struct certmap *current_table(char **error_r)
{
	const char *path = helper_config->certmapping_file;
	struct stat st;
	bool missing = stat(path, &st) != 0;
	if (table != NULL && table_path != NULL && strcmp(table_path, path) == 0 &&
	    missing == table_missing && (missing || same_file(&st, &table_st)))
		return table;
	struct certmap *t = NULL;
	if (certmap_load_file(path, &t, error_r) != 0) {
		/* A bad edit does not replace the good table in use. */
		if (table == NULL)
			return NULL;
		if (!missing && !same_file(&st, &bad_st)) {
			log_err("certificate mappings not reloaded, the previous "
				"ones stay in use: %s", *error_r);
			bad_st = st;
		}
		free(*error_r);
		*error_r = NULL;
		return table;
	}
	set_table(t, path, missing, &st);
	return table;
}

void certmap_table_preload(void)
{
	char *error = NULL;
	if (current_table(&error) == NULL) {
		log_err("certificate mappings unusable: %s", error);
		free(error);
	}
}

void certmap_table_install(struct certmap *t)
{
	const char *path = helper_config->certmapping_file;
	struct stat st;
	bool missing = stat(path, &st) != 0;
	set_table(t, path, missing, &st);
}

void handle_auth_cert(struct priv_msg *req, struct priv_msg *reply)
{
	uint64_t id = priv_get_u64(req);
	char *remote = priv_get_str(req);
	char *uri = priv_get_str(req);
	uint32_t n = priv_get_u32(req);
	if (n == 0 || n > MAX_CHAIN)
		fatal("protocol violation: AUTH_CERT with %u certificates", n);
	const uint8_t *ders[MAX_CHAIN];
	size_t lens[MAX_CHAIN];
	for (uint32_t i = 0; i < n; i++)
		ders[i] = priv_get_bytes(req, &lens[i]);
	if (!priv_msg_ok(req) || id == 0)
		fatal("protocol violation: malformed AUTH_CERT");
	if (!helper_config->auth_certificate)
		fatal("protocol violation: AUTH_CERT while Certificate is disabled");

	struct hconn *c = conns_get_for_auth(id, "AUTH_CERT");
	conns_reset(c);
	snprintf(c->remote, sizeof(c->remote), "%s", remote);
	snprintf(c->scheme, sizeof(c->scheme), "Certificate");

	struct x509_client client;
	memset(&client, 0, sizeof(client));
	char err[256];
	char *error = NULL;
	const struct certmap *t;
	const struct certmap_entry *e = NULL;
	if (authres_locked(remote, NULL, "Certificate", reply)) {
		/* answered */
	} else if (helper_config->client_ca_file[0] == '\0') {
		authres_refuse(req->seq, remote, "Certificate", NULL, NULL,
			       "no Service.Auth.ClientCAFile is configured");
	} else if (x509_verify_client(ders, lens, n, helper_config->client_ca_file, 0,
				      &client, err, sizeof(err)) != X509C_OK) {
		authres_refuse(req->seq, remote, "Certificate", NULL, NULL, err);
	} else if ((t = current_table(&error)) == NULL) {
		log_err("certificate mappings unusable: %s", LOG_ESC(error));
		authres_refuse(req->seq, remote, "Certificate", client.subject, NULL,
			       "the CertMapping table does not load");
	} else {
		int m = certmap_match(t, &client, uri, &e);
		const char *claimed = client.n_upns > 0 ? client.upns[0]
				    : client.n_emails > 0 ? client.emails[0]
							  : client.subject;
		if (m != CERTMAP_MATCH) {
			char why[300];
			snprintf(why, sizeof(why), "%s for issuer %s and URI %s",
				 m == CERTMAP_AMBIGUOUS ? "more than one mapping matches"
							: "no enabled mapping matches",
				 client.issuer_thumbprint, uri);
			authres_refuse(req->seq, remote, "Certificate", claimed, NULL, why);
		} else {
			char *who = xasprintf("%s (thumbprint %s)", claimed,
					      client.thumbprint);
			authres_verify(authres_attempt_new(req->seq, c, "Certificate",
							   "Certificate", who),
				       e->user, NULL);
		}
	}
	x509_client_release(&client);
	free(error);
	free(remote);
	free(uri);
}

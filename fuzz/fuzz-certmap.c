/*
 * fuzz-certmap.c - libFuzzer harness for the certificate mapping table:
 * arbitrary bytes through certmap_load_string.  A refused input must come
 * with error text and no table, an accepted one without text.  A loaded
 * table must hold only valid fields (upper-case Issuer) and no two
 * entries with the same key; its canonical text must load back to the same
 * entries and format to the same bytes; and certmap_match, run for a few
 * fixed client certificates and resource URIs, must return an enabled
 * entry of the table whose Issuer is the client's, or no entry.
 * Remove-then-add of an entry must give it back (at the end).
 *
 * libconfig 1.5 leaks a string token when a syntax error follows it
 * (upstream hyperrealm/libconfig#142, fixed after 1.5); leaks allocated
 * inside libconfig are suppressed here, ours are still reported.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/certmap.h"
#include "lib/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static void check_table(const struct certmap *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct certmap_entry *e = &t->entries[i];
		if (certmap_check_uri(e->uri) != NULL ||
		    certmap_check_subject(e->subject) != NULL ||
		    certmap_check_issuer(e->issuer) != NULL ||
		    certmap_check_user(e->user) != NULL ||
		    strspn(e->issuer, "0123456789ABCDEF") != 40)
			abort();
		if (certmap_find(t, e->uri, e->subject, e->issuer) != e)
			abort(); /* a duplicate key before it */
	}
}

static bool same(const struct certmap *a, const struct certmap *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct certmap_entry *x = &a->entries[i];
		const struct certmap_entry *y = &b->entries[i];
		if (strcmp(x->uri, y->uri) != 0 ||
		    strcmp(x->subject, y->subject) != 0 ||
		    strcmp(x->issuer, y->issuer) != 0 ||
		    strcmp(x->user, y->user) != 0 || x->enabled != y->enabled)
			return false;
	}
	return true;
}

static void check_match(const struct certmap *t)
{
	static char *upns[] = { "alice@WINRMD.TEST", "bob@example.net" };
	static char *emails[] = { "carol@example.net" };
	static const char *const uris[] = {
		"http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd",
		"http://schemas.microsoft.com/wbem/wsman/1/config",
		"x",
	};
	static const char nobody[] = "0000000000000000000000000000000000000000";
	struct x509_client c;
	const struct certmap_entry *e;

	memset(&c, 0, sizeof(c));
	for (size_t k = 0; k < 3; k++) {
		/* the first entry's issuer, then one nobody uses */
		snprintf(c.issuer_thumbprint, sizeof(c.issuer_thumbprint), "%s",
			 t->n > 0 && k < 2 ? t->entries[0].issuer : nobody);
		c.upns = k == 1 ? NULL : upns;
		c.n_upns = k == 1 ? 0 : 2;
		c.emails = emails;
		c.n_emails = 1;
		for (size_t u = 0; u < sizeof(uris) / sizeof(uris[0]); u++) {
			int r = certmap_match(t, &c, uris[u], &e);
			if (r == CERTMAP_MATCH) {
				if (e < t->entries || e >= t->entries + t->n ||
				    !e->enabled ||
				    strcasecmp(e->issuer,
					       c.issuer_thumbprint) != 0)
					abort();
			} else if ((r != CERTMAP_NO_MATCH &&
				    r != CERTMAP_AMBIGUOUS) ||
				   e != NULL) {
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certmap *t = NULL, *again = NULL;
	struct buf first = BUF_INIT, second = BUF_INIT;
	char *err = NULL;

	if (certmap_load_string((const char *)data, size, "fuzz", &t, &err) !=
	    0) {
		if (err == NULL || t != NULL)
			abort();
		free(err);
		return 0;
	}
	if (err != NULL || t == NULL)
		abort();
	check_table(t);
	check_match(t);

	certmap_format(t, &first);
	if (certmap_load_string((const char *)first.data, first.len, "format",
				&again, &err) != 0) {
		fprintf(stderr, "canonical text does not load:\n%s\n%s\n",
			(const char *)first.data, err);
		abort();
	}
	certmap_format(again, &second);
	if (!same(t, again) || first.len != second.len ||
	    memcmp(first.data, second.data, first.len) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n---\n%s\n",
			(const char *)first.data, (const char *)second.data);
		abort();
	}

	if (t->n > 0) {
		struct certmap_entry e = t->entries[0];
		char *uri = xstrdup(e.uri), *subject = xstrdup(e.subject);
		char *user = xstrdup(e.user), issuer[CERTMAP_ISSUER_LEN + 1];
		memcpy(issuer, e.issuer, sizeof(issuer));
		if (certmap_remove(t, uri, subject, issuer) != CERTMAP_OK ||
		    certmap_find(t, uri, subject, issuer) != NULL ||
		    certmap_add(t, uri, subject, issuer, user, e.enabled,
				NULL) != CERTMAP_OK ||
		    certmap_find(t, uri, subject, issuer) !=
			    &t->entries[t->n - 1])
			abort();
		free(uri);
		free(subject);
		free(user);
	}

	buf_release(&first);
	buf_release(&second);
	certmap_free(again);
	certmap_free(t);
	return 0;
}

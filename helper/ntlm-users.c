/*
 * ntlm-users.c - the NTLM user file read again to explain a refusal (see
 * ntlm-users.h).  Only names are kept from it, never the passwords.
 */
#include "autoconfig.h"

#include "helper/ntlm-users.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Lines longer than this are skipped, as gss-ntlmssp reads 1024 bytes. */
#define LINE_MAX_BYTES 1024
/* Lines read at most: the file is local and small; this bounds the time
 * the helper's loop spends in it. */
#define MAX_LINES 100000

struct scan {
	const char *dom; /* the client's domain, NULL for none; "" for a UPN
	                    (gss-ntlmssp then wants a line with no domain) */
	const char *user;
	bool exact;         /* a line for this user and domain */
	bool user_seen;     /* a line for this user, another domain */
	char other[3][128]; /* those domains (the first three) */
	int n_other;
};

/* One line; fields are cut in place. */
static void scan_line(char *line, struct scan *s)
{
	char *f1 = line, *f2, *f3, *p;
	const char *dom, *usr;
	if (line[0] == '#' || (f2 = strchr(f1, ':')) == NULL)
		return;
	*f2++ = '\0';
	if ((f3 = strchr(f2, ':')) == NULL)
		return;
	*f3++ = '\0';
	if (strchr(f3, ':') == NULL) {
		/* DOMAIN:USER:PASSWORD */
		dom = f1;
		usr = f2;
	} else {
		/* smbpasswd: [DOMAIN\]USER:UID:LM:NT:... */
		dom = NULL;
		usr = f1;
		if ((p = strchr(f1, '\\')) != NULL) {
			*p = '\0';
			dom = f1;
			usr = p + 1;
		}
	}
	if (strcasecmp(usr, s->user) != 0)
		return;
	if (s->dom == NULL || dom == NULL || strcasecmp(dom, s->dom) == 0) {
		/* as gss-ntlmssp compares: no domain on either side is a
		 * wildcard, "" only matches "" */
		s->exact = true;
		return;
	}
	s->user_seen = true;
	for (int i = 0; i < s->n_other; i++)
		if (strcasecmp(s->other[i], dom) == 0)
			return;
	if (s->n_other < 3)
		snprintf(s->other[s->n_other++], sizeof(s->other[0]), "%s",
			 dom);
}

bool ntlm_users_explain(const char *path, const char *claimed, long minor,
			char *out, size_t n)
{
	char name[LINE_MAX_BYTES];
	struct scan s;
	memset(&s, 0, sizeof(s));
	if (claimed == NULL || strlen(claimed) >= sizeof(name))
		return false;
	snprintf(name, sizeof(name), "%s", claimed);
	char *bs = strchr(name, '\\');
	if (bs != NULL) {
		*bs = '\0';
		s.dom = name[0] != '\0' ? name : NULL;
		s.user = bs + 1;
	} else {
		s.user = name;
		/* A UPN: gss-ntlmssp looks it up with an empty domain. */
		if (strchr(name, '@') != NULL)
			s.dom = "";
	}
	if (path == NULL || path[0] == '\0') {
		/* gss-ntlmssp asked winbind, which did not know the user or
		 * the password. */
		snprintf(out, n,
			 "NTLM login refused: no NTLM user file "
			 "(Service.Auth.NtlmUserFile) and winbind did not "
			 "accept %s",
			 claimed);
		return true;
	}
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		snprintf(out, n, "the NTLM user file %s cannot be read: %s",
			 path, strerror(errno));
		return true;
	}
	char line[LINE_MAX_BYTES + 2];
	for (int i = 0; i < MAX_LINES && fgets(line, sizeof(line), f) != NULL;
	     i++) {
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			/* too long: skip the rest of it */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		scan_line(line, &s);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);

	if (s.exact) {
		if (minor != EINVAL)
			return false;
		snprintf(out, n,
			 "wrong password (the NTLM response does not match "
			 "the entry for %s in %s)",
			 claimed, path);
		return true;
	}
	if (s.user_seen && s.dom[0] == '\0') {
		snprintf(out, n,
			 "%s is in the NTLM user file %s only under domain %s: "
			 "a user principal name (user@domain, no DOMAIN\\) "
			 "needs a line with an empty domain, :%s:PASSWORD",
			 s.user, path, s.other[0], s.user);
		return true;
	}
	if (s.user_seen) {
		char doms[3 * 130] = "";
		for (int i = 0; i < s.n_other; i++) {
			if (i > 0)
				strcat(doms, ", ");
			strcat(doms, s.other[i]);
		}
		snprintf(out, n,
			 "%s is in the NTLM user file %s only under domain %s, "
			 "not %s: the domain a client sends must be the one "
			 "of the file's line (log in as %s\\%s, or add a "
			 "line %s:%s:PASSWORD)",
			 s.user, path, doms, s.dom, s.other[0], s.user, s.dom,
			 s.user);
		return true;
	}
	snprintf(out, n,
		 "unknown user: the NTLM user file %s has no line for %s "
		 "(lines are DOMAIN:USER:PASSWORD)",
		 path, claimed);
	return true;
}

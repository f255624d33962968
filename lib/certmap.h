/*
 * certmap.h - the certificate mapping table (Windows'
 * winrm/config/service/certmapping, MS-WSMV 2.2.4.3 and 3.1.4.1.35):
 * which TLS client certificates authenticate as which local account.
 *
 * The table lives in /etc/winrmd/certmapping.conf (Daemon.CertMappingFile),
 * libconfig syntax, written by winrmd and readable by people:
 *
 *   CertMapping = (
 *     {
 *       URI = "*";
 *       Subject = "*@example.net";
 *       Issuer = "0123456789ABCDEF0123456789ABCDEF01234567";
 *       UserName = "bob";
 *       Enabled = true;
 *     }
 *   );
 *
 * URI, Subject and Issuer form the key (the WS-Management selectors);
 * UserName is required; Enabled is optional (default true).  There is no
 * Password: winrmd does not store passwords, the mapped account is checked
 * with PAM account management like every other identity; a Password key in
 * the file is an error (so that nobody believes a stored password is
 * checked, and none sits in the file), and certmap_save_file never writes
 * one.  Config resources that receive a Password on Create/Put ignore it.
 *
 * This module never logs and never exits: errors go back as text, one line
 * per problem, "FILE:LINE: KEY: message" as in config.h.  Not thread-safe
 * for writers; a table nobody changes may be read from several threads.
 */
#ifndef WINRMD_CERTMAP_H
#define WINRMD_CERTMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"

struct x509_client; /* x509.h */

#define CERTMAP_ISSUER_LEN 40    /* hex digits of a SHA-1 thumbprint */
#define CERTMAP_MAX_URI 2048     /* bytes */
#define CERTMAP_MAX_SUBJECT 1024 /* bytes */
#define CERTMAP_MAX_USER 64      /* bytes, as map_name_ok */
#define CERTMAP_MAX_FILE (1024 * 1024)

struct certmap_entry {
	char *uri;     /* ResourceURI, "*", or a prefix ending in "*" */
	char *subject; /* UPN / e-mail pattern: "alice@X", "*@X", "a*",
	                     or "*" (every certificate) */
	char issuer[CERTMAP_ISSUER_LEN + 1]; /* SHA-1 thumbprint of the CA
	                     that signed the client certificate, upper case */
	char *user;                          /* local account name */
	bool enabled;
	int source_line; /* of the entry in the file it came from; else 0 */
};

/* A table.  entries[0..n) are in file order, then creation order; the
 * strings are owned by the table.  Enumerate by reading them. */
struct certmap {
	struct certmap_entry *entries;
	size_t n;
};

/* Results of the changing helpers. */
enum certmap_status {
	CERTMAP_OK = 0,
	CERTMAP_EINVAL = -1, /* a field is not valid; the text says which */
	CERTMAP_EEXIST = -2, /* an entry with that URI, Subject, Issuer */
	CERTMAP_ENOENT = -3, /* no entry with that URI, Subject, Issuer */
};

/* Results of certmap_match. */
enum certmap_match {
	CERTMAP_MATCH = 0,     /* exactly one entry won */
	CERTMAP_NO_MATCH = 1,  /* no enabled entry applies */
	CERTMAP_AMBIGUOUS = 2, /* two or more tie for longest Subject, URI */
};

/* An empty table (caller frees with certmap_free; NULL is a no-op). */
struct certmap *certmap_new(void);
void certmap_free(struct certmap *t);

/*
 * Loads a table.  A missing file is an empty table, not an error.
 * Returns 0 with *table_r set (caller frees) and *error_r NULL, or -1 with
 * *table_r NULL and *error_r set (caller frees): every problem, one per
 * line, "FILE:LINE: KEY: message" (FILE:LINE alone for syntax errors, FILE
 * alone for the file as a whole), in file order, no final "\n".  KEY is
 * "CertMapping", "CertMapping.[i]" or "CertMapping.[i].Field".  Checked:
 * only known keys and types, every field valid (certmap_check_*), and no
 * two entries with the same URI, Subject and Issuer (compared without
 * regard to ASCII case, as matching does).  @include is refused.
 */
int certmap_load_file(const char *path, struct certmap **table_r,
		      char **error_r);

/* As certmap_load_file, for len bytes of text (a NUL among them is an
 * error); name (NULL: "<string>") is FILE in messages. */
int certmap_load_string(const char *text, size_t len, const char *name,
			struct certmap **table_r, char **error_r);

/*
 * Appends the canonical text of t to out: a header comment, then
 * "CertMapping = (" with one group per entry, in table order, each with
 * URI, Subject, Issuer, UserName and Enabled on lines of their own, tab
 * indented, strings quoted and escaped.  Loading it gives t again (same
 * entries, same order, source lines aside), and formatting that gives the
 * same bytes.
 */
void certmap_format(const struct certmap *t, struct buf *out);

/*
 * Writes certmap_format(t) to path atomically: a temporary file in the
 * same directory (mode 0600; owner and group of the file it replaces, when
 * there is one), fsync, rename over path, fsync of the directory.  path
 * must be missing or a regular file (a symbolic link is refused, not
 * replaced).  Returns 0, or -1 with *error_r set (caller frees; "FILE:
 * message") and path unchanged (no temporary file left behind).
 */
int certmap_save_file(const char *path, const struct certmap *t,
		      char **error_r);

/*
 * Field checks (MS-WSMV 2.2.4.3).  Each returns NULL when value is valid,
 * else a static text saying why (for "KEY: why" messages).
 *   URI:      1..CERTMAP_MAX_URI bytes of UTF-8, at most one '*' and only
 *             as the last character, no whitespace, control character
 *             or '?'.
 *   Subject:  1..CERTMAP_MAX_SUBJECT bytes of UTF-8, no control
 *             character, at most one '*' and only as the first or the last
 *             character ("*" alone: every certificate).
 *   Issuer:   exactly 40 hexadecimal digits (either case).
 *   UserName: a portable POSIX account name: 1..CERTMAP_MAX_USER bytes of
 *             [A-Za-z0-9._-], optionally ending in '$', not starting with
 *             '-', not "." or "..", not all digits.
 */
const char *certmap_check_uri(const char *uri);
const char *certmap_check_subject(const char *subject);
const char *certmap_check_issuer(const char *issuer);
const char *certmap_check_user(const char *user);

/*
 * The entry with this key (URI, Subject, Issuer compared without regard to
 * ASCII case), or NULL.  The pointer is valid until t changes.
 */
const struct certmap_entry *certmap_find(const struct certmap *t,
					 const char *uri, const char *subject,
					 const char *issuer);

/*
 * Adds an entry (copies of the strings; Issuer stored upper case) at the
 * end.  CERTMAP_EINVAL when a field is not valid, CERTMAP_EEXIST when the
 * key is taken; *error_r (may be NULL) then gets "KEY: why" text (caller
 * frees).
 */
int certmap_add(struct certmap *t, const char *uri, const char *subject,
		const char *issuer, const char *user, bool enabled,
		char **error_r);

/* Sets UserName and Enabled of the entry with this key (Put).
 * CERTMAP_EINVAL, CERTMAP_ENOENT as above. */
int certmap_replace(struct certmap *t, const char *uri, const char *subject,
		    const char *issuer, const char *user, bool enabled,
		    char **error_r);

/* Removes the entry with this key (Delete): CERTMAP_OK or CERTMAP_ENOENT;
 * the order of the others is kept. */
int certmap_remove(struct certmap *t, const char *uri, const char *subject,
		   const char *issuer);

/*
 * Windows' selection (wsman-protocol.md 8.6): among the enabled entries
 * whose Issuer is the client certificate's issuer thumbprint, whose URI
 * matches resource_uri (equal, "*", or a prefix ending in "*") and whose
 * Subject matches one of the certificate's UPNs or rfc822Names (equal, or
 * a "*" wildcard as first or last character; "*" alone matches every
 * certificate, even one without such names), keep those with the longest
 * Subject, then those with the longest URI (lengths in characters).  All
 * comparisons ignore ASCII case.  One survivor: CERTMAP_MATCH with
 * *entry_r set (valid until t changes); none: CERTMAP_NO_MATCH; more:
 * CERTMAP_AMBIGUOUS (Windows refuses both; the audit line should tell
 * them apart).  *entry_r is NULL unless CERTMAP_MATCH.
 */
int certmap_match(const struct certmap *t, const struct x509_client *c,
		  const char *resource_uri,
		  const struct certmap_entry **entry_r);

#endif

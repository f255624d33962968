/*
 * certmap.c - the certificate mapping table: loading and checking
 * certmapping.conf (libconfig), writing it back atomically in one
 * canonical format, the changes the certmapping resource makes (Create,
 * Put, Delete), and the selection of an entry for a verified client
 * certificate.  See certmap.h.
 *
 * Before libconfig sees the text, a small scanner (lcfg_lex_step) refuses
 * NUL bytes and any '@' outside strings and comments: the file is read by
 * the root helper, and an @include would make it read others.  Strings are
 * written back with lcfg_put_quoted, problems kept in file order with
 * lcfg's list: the same as winrmd.conf's (config.c), which this module
 * does not depend on.
 *
 * Must not: log, exit, keep global state, or write a Password.
 *
 * Entry points: certmap_new, certmap_free, certmap_load_file,
 * certmap_load_string, certmap_format, certmap_save_file,
 * certmap_check_uri/subject/issuer/user, certmap_find, certmap_add,
 * certmap_replace, certmap_remove, certmap_match.
 */
#include "autoconfig.h"

#include "lib/certmap.h"
#include "lib/fileio.h"
#include "lib/lcfg.h"
#include "lib/x509.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#define KEY_LIST "CertMapping"

/*
 * Field checks.
 */

/* Length of the UTF-8 sequence s starts, or 0 when it is not one valid
 * (shortest-form, no surrogates, at most U+10FFFF) sequence. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = utf8_seq(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* Characters (code points) of valid UTF-8. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

const char *certmap_check_uri(const char *uri)
{
	size_t n = strlen(uri);

	if (n == 0)
		return "must not be empty";
	if (n > CERTMAP_MAX_URI)
		return "longer than 2048 bytes";
	if (!utf8_valid(uri))
		return "not valid UTF-8";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)uri[i];
		if (c == ' ' || is_control(c))
			return "must not contain whitespace or control "
			       "characters";
		if (c == '?')
			return "must not contain '?'";
		if (c == '*' && i != n - 1)
			return "may contain '*' only as the last character";
	}
	return NULL;
}

const char *certmap_check_subject(const char *subject)
{
	size_t n = strlen(subject), stars = 0;

	if (n == 0)
		return "must not be empty";
	if (n > CERTMAP_MAX_SUBJECT)
		return "longer than 1024 bytes";
	if (!utf8_valid(subject))
		return "not valid UTF-8";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)subject[i];
		if (is_control(c))
			return "must not contain control characters";
		if (c == '*')
			stars++;
	}
	if (stars > 1)
		return "may contain at most one '*'";
	if (stars == 1 && subject[0] != '*' && subject[n - 1] != '*')
		return "may contain '*' only as the first or the last "
		       "character";
	return NULL;
}

const char *certmap_check_issuer(const char *issuer)
{
	size_t n = strspn(issuer, "0123456789abcdefABCDEF");

	if (n != CERTMAP_ISSUER_LEN || issuer[n] != '\0')
		return "must be exactly 40 hexadecimal digits (the SHA-1 "
		       "thumbprint of the issuing CA certificate)";
	return NULL;
}

const char *certmap_check_user(const char *user)
{
	static const char portable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz"
				       "0123456789._-";
	size_t n = strlen(user), body = strspn(user, portable);

	if (n == 0)
		return "must not be empty";
	if (n > CERTMAP_MAX_USER)
		return "longer than 64 bytes";
	if (body != n && !(body == n - 1 && user[body] == '$' && body > 0))
		return "may hold only letters, digits, '.', '_', '-' (and a "
		       "final '$')";
	if (user[0] == '-')
		return "must not start with '-'";
	if (strcmp(user, ".") == 0 || strcmp(user, "..") == 0)
		return "must not be \".\" or \"..\"";
	if (strspn(user, "0123456789") == n)
		return "must not be all digits (it would read as a user ID)";
	return NULL;
}

/*
 * The table.
 */

struct certmap *certmap_new(void)
{
	return xcalloc(1, sizeof(struct certmap));
}

static void entry_release(struct certmap_entry *e)
{
	free(e->uri);
	free(e->subject);
	free(e->user);
	memset(e, 0, sizeof(*e));
}

void certmap_free(struct certmap *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		entry_release(&t->entries[i]);
	free(t->entries);
	free(t);
}

static bool same_key(const struct certmap_entry *e, const char *uri,
		     const char *subject, const char *issuer)
{
	return strcasecmp(e->uri, uri) == 0 &&
	       strcasecmp(e->subject, subject) == 0 &&
	       strcasecmp(e->issuer, issuer) == 0;
}

static struct certmap_entry *find(const struct certmap *t, const char *uri,
				  const char *subject, const char *issuer)
{
	for (size_t i = 0; i < t->n; i++)
		if (same_key(&t->entries[i], uri, subject, issuer))
			return &t->entries[i];
	return NULL;
}

const struct certmap_entry *certmap_find(const struct certmap *t,
					 const char *uri, const char *subject,
					 const char *issuer)
{
	return find(t, uri, subject, issuer);
}

/* Appends an entry from checked values. */
static struct certmap_entry *append(struct certmap *t, const char *uri,
				    const char *subject, const char *issuer,
				    const char *user, bool enabled, int line)
{
	struct certmap_entry *e;

	t->entries = xrealloc(t->entries, (t->n + 1) * sizeof(*t->entries));
	e = &t->entries[t->n++];
	memset(e, 0, sizeof(*e));
	e->uri = xstrdup(uri);
	e->subject = xstrdup(subject);
	for (size_t i = 0; i < CERTMAP_ISSUER_LEN; i++) {
		char c = issuer[i];
		e->issuer[i] = c >= 'a' && c <= 'f' ? (char)(c - 'a' + 'A') : c;
	}
	e->issuer[CERTMAP_ISSUER_LEN] = '\0';
	e->user = xstrdup(user);
	e->enabled = enabled;
	e->source_line = line;
	return e;
}

static int refuse(char **error_r, int code, const char *key, const char *why)
{
	if (error_r != NULL)
		*error_r = key != NULL ? xasprintf("%s: %s", key, why)
				       : xstrdup(why);
	return code;
}

/* The first invalid field of a key, as refuse() text. */
static int check_key(const char *uri, const char *subject, const char *issuer,
		     char **error_r)
{
	const char *why;

	if ((why = certmap_check_uri(uri)) != NULL)
		return refuse(error_r, CERTMAP_EINVAL, "URI", why);
	if ((why = certmap_check_subject(subject)) != NULL)
		return refuse(error_r, CERTMAP_EINVAL, "Subject", why);
	if ((why = certmap_check_issuer(issuer)) != NULL)
		return refuse(error_r, CERTMAP_EINVAL, "Issuer", why);
	return CERTMAP_OK;
}

int certmap_add(struct certmap *t, const char *uri, const char *subject,
		const char *issuer, const char *user, bool enabled,
		char **error_r)
{
	const char *why;
	int r;

	if (error_r != NULL)
		*error_r = NULL;
	r = check_key(uri, subject, issuer, error_r);
	if (r != CERTMAP_OK)
		return r;
	if ((why = certmap_check_user(user)) != NULL)
		return refuse(error_r, CERTMAP_EINVAL, "UserName", why);
	if (find(t, uri, subject, issuer) != NULL)
		return refuse(error_r, CERTMAP_EEXIST, NULL,
			      "an entry with this URI, Subject and Issuer "
			      "exists");
	append(t, uri, subject, issuer, user, enabled, 0);
	return CERTMAP_OK;
}

int certmap_replace(struct certmap *t, const char *uri, const char *subject,
		    const char *issuer, const char *user, bool enabled,
		    char **error_r)
{
	struct certmap_entry *e;
	const char *why;

	if (error_r != NULL)
		*error_r = NULL;
	if ((why = certmap_check_user(user)) != NULL)
		return refuse(error_r, CERTMAP_EINVAL, "UserName", why);
	e = find(t, uri, subject, issuer);
	if (e == NULL)
		return refuse(error_r, CERTMAP_ENOENT, NULL,
			      "no entry with this URI, Subject and Issuer");
	free(e->user);
	e->user = xstrdup(user);
	e->enabled = enabled;
	return CERTMAP_OK;
}

int certmap_remove(struct certmap *t, const char *uri, const char *subject,
		   const char *issuer)
{
	struct certmap_entry *e = find(t, uri, subject, issuer);
	size_t i;

	if (e == NULL)
		return CERTMAP_ENOENT;
	i = (size_t)(e - t->entries);
	entry_release(e);
	memmove(&t->entries[i], &t->entries[i + 1],
		(t->n - i - 1) * sizeof(*t->entries));
	t->n--;
	return CERTMAP_OK;
}

/*
 * Matching.
 */

static bool uri_matches(const char *pattern, const char *uri)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncasecmp(uri, pattern, n - 1) == 0;
	return strcasecmp(uri, pattern) == 0;
}

static bool name_matches(const char *pattern, const char *name)
{
	size_t n = strlen(pattern), len = strlen(name);

	if (pattern[0] == '*')
		return len >= n - 1 &&
		       strcasecmp(name + len - (n - 1), pattern + 1) == 0;
	if (n > 0 && pattern[n - 1] == '*')
		return strncasecmp(name, pattern, n - 1) == 0;
	return strcasecmp(name, pattern) == 0;
}

static bool subject_matches(const char *pattern, const struct x509_client *c)
{
	if (strcmp(pattern, "*") == 0)
		return true;
	for (size_t i = 0; i < c->n_upns; i++)
		if (name_matches(pattern, c->upns[i]))
			return true;
	for (size_t i = 0; i < c->n_emails; i++)
		if (name_matches(pattern, c->emails[i]))
			return true;
	return false;
}

int certmap_match(const struct certmap *t, const struct x509_client *c,
		  const char *resource_uri,
		  const struct certmap_entry **entry_r)
{
	const struct certmap_entry *best = NULL;
	size_t best_subject = 0, best_uri = 0, ties = 0;

	*entry_r = NULL;
	if (t == NULL || c == NULL || resource_uri == NULL)
		return CERTMAP_NO_MATCH;
	for (size_t i = 0; i < t->n; i++) {
		const struct certmap_entry *e = &t->entries[i];
		if (!e->enabled ||
		    strcasecmp(e->issuer, c->issuer_thumbprint) != 0 ||
		    !uri_matches(e->uri, resource_uri) ||
		    !subject_matches(e->subject, c))
			continue;
		size_t ls = utf8_chars(e->subject), lu = utf8_chars(e->uri);
		if (best == NULL || ls > best_subject ||
		    (ls == best_subject && lu > best_uri)) {
			best = e;
			best_subject = ls;
			best_uri = lu;
			ties = 1;
		} else if (ls == best_subject && lu == best_uri) {
			ties++;
		}
	}
	if (best == NULL)
		return CERTMAP_NO_MATCH;
	if (ties > 1)
		return CERTMAP_AMBIGUOUS;
	*entry_r = best;
	return CERTMAP_MATCH;
}

/*
 * Loading.  Errors are kept with their line and sorted at the end, so
 * that they come out in file order.
 */

struct load {
	const char *name;
	struct certmap *t;
	struct lcfg_errors errors;
};

static void error_at(struct load *ld, int line, const char *key,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error_at(struct load *ld, int line, const char *key,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lcfg_verror(&ld->errors, line > 0 ? (unsigned)line : 0, ld->name, line,
		    key, fmt, ap);
	va_end(ap);
}

static int line_of(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

/* Ends a load: the table, or -1 with every error in *error_r. */
static int load_finish(struct load *ld, struct certmap **table_r,
		       char **error_r)
{
	*table_r = NULL;
	*error_r = lcfg_errors_take(&ld->errors);
	if (*error_r == NULL) {
		*table_r = ld->t;
		return 0;
	}
	certmap_free(ld->t);
	return -1;
}

/*
 * Refuses what libconfig must not see: NUL bytes, and '@' (@include) in
 * code.  Follows libconfig's lexical rules for strings and comments.
 */
static int prescan(struct load *ld, const char *text, size_t len)
{
	enum lcfg_lex state = LCFG_CODE;
	int line = 1;

	for (size_t i = 0; i < len;) {
		if (text[i] == '\0') {
			error_at(ld, line, NULL,
				 "syntax error: NUL byte in the file");
			return -1;
		}
		size_t n = lcfg_lex_step(&state, text, len, i);
		if (n == 0 && text[i] == '@') {
			error_at(ld, line, NULL,
				 "syntax error: @include is "
				 "not allowed in this file");
			return -1;
		}
		for (size_t end = i + (n > 0 ? n : 1); i < end; i++)
			line += text[i] == '\n';
	}
	return 0;
}

enum field { F_URI, F_SUBJECT, F_ISSUER, F_USER, F_ENABLED, N_FIELDS };

static const char *const field_names[N_FIELDS] = {
	[F_URI] = "URI",       [F_SUBJECT] = "Subject", [F_ISSUER] = "Issuer",
	[F_USER] = "UserName", [F_ENABLED] = "Enabled",
};

static const char *(*const field_checks[N_FIELDS])(const char *) = {
	[F_URI] = certmap_check_uri,
	[F_SUBJECT] = certmap_check_subject,
	[F_ISSUER] = certmap_check_issuer,
	[F_USER] = certmap_check_user,
	[F_ENABLED] = NULL,
};

static int field_of(const char *name)
{
	for (int f = 0; f < N_FIELDS; f++)
		if (strcmp(name, field_names[f]) == 0)
			return f;
	return -1;
}

/* For an unknown member name, the field it differs from only in case. */
static const char *field_suggestion(const char *name)
{
	for (int f = 0; f < N_FIELDS; f++)
		if (strcasecmp(name, field_names[f]) == 0)
			return field_names[f];
	return NULL;
}

/* One group of the CertMapping list; adds it to the table when valid. */
static void parse_entry(struct load *ld, const config_setting_t *g, int idx)
{
	const char *value[N_FIELDS] = { NULL };
	const config_setting_t *seen[N_FIELDS] = { NULL };
	bool ok = true, enabled = true;
	char path[64], key[96];

	snprintf(path, sizeof(path), KEY_LIST ".[%d]", idx);
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		int type = config_setting_type(s), f = field_of(name);

		snprintf(key, sizeof(key), "%s.%s", path, name);
		if (f < 0) {
			const char *hint = field_suggestion(name);
			if (strcasecmp(name, "Password") == 0)
				error_at(ld, line_of(s), key,
					 "not supported: "
					 "winrmd stores no passwords (the "
					 "mapped account is checked with PAM); "
					 "remove it");
			else if (hint != NULL)
				error_at(ld, line_of(s), key,
					 "unknown setting "
					 "(did you mean %s?)",
					 hint);
			else
				error_at(ld, line_of(s), key,
					 "unknown setting");
			ok = false;
			continue;
		}
		seen[f] = s;
		if (f == F_ENABLED) {
			if (type != CONFIG_TYPE_BOOL) {
				error_at(ld, line_of(s), key,
					 "expected a "
					 "boolean, got %s",
					 lcfg_type_name(type));
				ok = false;
			} else {
				enabled = config_setting_get_bool(s) != 0;
			}
			continue;
		}
		if (type != CONFIG_TYPE_STRING) {
			error_at(ld, line_of(s), key,
				 "expected a string, "
				 "got %s",
				 lcfg_type_name(type));
			ok = false;
			continue;
		}
		const char *v = config_setting_get_string(s);
		const char *why = field_checks[f](v);
		if (why != NULL) {
			error_at(ld, line_of(s), key, "%s", why);
			ok = false;
			continue;
		}
		value[f] = v;
	}
	for (int f = 0; f < N_FIELDS; f++) {
		if (f == F_ENABLED || seen[f] != NULL)
			continue;
		snprintf(key, sizeof(key), "%s.%s", path, field_names[f]);
		error_at(ld, line_of(g), key, "missing (required)");
		ok = false;
	}
	if (!ok)
		return;
	const struct certmap_entry *dup = find(ld->t, value[F_URI],
					       value[F_SUBJECT],
					       value[F_ISSUER]);
	if (dup != NULL) {
		error_at(ld, line_of(g), path,
			 "same URI, Subject and Issuer "
			 "as the entry on line %d",
			 dup->source_line);
		return;
	}
	append(ld->t, value[F_URI], value[F_SUBJECT], value[F_ISSUER],
	       value[F_USER], enabled, line_of(g));
}

static void parse_root(struct load *ld, const config_setting_t *root)
{
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, KEY_LIST) != 0) {
			if (strcasecmp(name, KEY_LIST) == 0)
				error_at(ld, line_of(s), name,
					 "unknown "
					 "setting (did you mean " KEY_LIST
					 "?)");
			else
				error_at(ld, line_of(s), name,
					 "unknown setting");
			continue;
		}
		if (!config_setting_is_list(s)) {
			error_at(ld, line_of(s), KEY_LIST,
				 "expected a list "
				 "of groups, got %s",
				 lcfg_type_name(config_setting_type(s)));
			continue;
		}
		for (int j = 0; j < config_setting_length(s); j++) {
			const config_setting_t *e = config_setting_get_elem(s,
									    j);
			if (!config_setting_is_group(e)) {
				char key[64];
				snprintf(key, sizeof(key), KEY_LIST ".[%d]", j);
				error_at(ld, line_of(e), key,
					 "expected a "
					 "group, got %s",
					 lcfg_type_name(
						 config_setting_type(e)));
				continue;
			}
			parse_entry(ld, e, j);
		}
	}
}

int certmap_load_string(const char *text, size_t len, const char *name,
			struct certmap **table_r, char **error_r)
{
	struct load ld = { name != NULL ? name : "<string>", certmap_new(),
			   LCFG_ERRORS_INIT };
	config_t lc;
	int line;
	char *why;

	if (len > CERTMAP_MAX_FILE) {
		error_at(&ld, 0, NULL, "larger than %d bytes",
			 CERTMAP_MAX_FILE);
		return load_finish(&ld, table_r, error_r);
	}
	if (prescan(&ld, text, len) != 0)
		return load_finish(&ld, table_r, error_r);

	config_init(&lc);
	if (lcfg_parse(&lc, text, len, &line, &why) == 0) {
		parse_root(&ld, config_root_setting(&lc));
	} else {
		error_at(&ld, line, NULL, "%s", why);
		free(why);
	}
	config_destroy(&lc);
	return load_finish(&ld, table_r, error_r);
}

int certmap_load_file(const char *path, struct certmap **table_r,
		      char **error_r)
{
	struct buf b = BUF_INIT;
	char *why;

	*table_r = NULL;
	*error_r = NULL;
	if (file_read_regular(path, CERTMAP_MAX_FILE, &b, NULL, &why) != 0) {
		bool missing = errno == ENOENT;
		buf_release(&b);
		if (missing) {
			free(why);
			*table_r = certmap_new();
			return 0;
		}
		*error_r = xasprintf("%s: %s", path, why);
		free(why);
		return -1;
	}
	int r = certmap_load_string((const char *)b.data, b.len, path, table_r,
				    error_r);
	buf_release(&b);
	return r;
}

/*
 * Writing.
 */

void certmap_format(const struct certmap *t, struct buf *out)
{
	static const char header[] =
		"# certmapping.conf - certificate mappings of winrmd\n"
		"# (winrm/config/service/certmapping): which TLS client\n"
		"# certificates authenticate as which local account.\n"
		"# Written by winrmd; keep the format when editing by hand.\n"
		"# Keys: URI, Subject, Issuer (SHA-1 thumbprint of the CA\n"
		"# that signed the client certificate), UserName, Enabled.\n";

	buf_append_str(out, header);
	if (t->n == 0) {
		buf_append_str(out, KEY_LIST " = ( );\n");
		return;
	}
	buf_append_str(out, KEY_LIST " = (\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct certmap_entry *e = &t->entries[i];
		buf_append_str(out, "\t{\n\t\tURI = ");
		lcfg_put_quoted(out, e->uri);
		buf_append_str(out, ";\n\t\tSubject = ");
		lcfg_put_quoted(out, e->subject);
		buf_append_str(out, ";\n\t\tIssuer = ");
		lcfg_put_quoted(out, e->issuer);
		buf_append_str(out, ";\n\t\tUserName = ");
		lcfg_put_quoted(out, e->user);
		buf_printf(out, ";\n\t\tEnabled = %s;\n\t}%s\n",
			   e->enabled ? "true" : "false",
			   i + 1 < t->n ? "," : "");
	}
	buf_append_str(out, ");\n");
}

int certmap_save_file(const char *path, const struct certmap *t, char **error_r)
{
	struct stat st;
	bool exists = false;

	*error_r = NULL;
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			*error_r = xasprintf("%s: not a regular file (refusing "
					     "to replace it)",
					     path);
			return -1;
		}
		exists = true;
	} else if (errno != ENOENT) {
		*error_r = xasprintf("%s: cannot stat: %s", path,
				     strerror(errno));
		return -1;
	}
	struct buf text = BUF_INIT;
	certmap_format(t, &text);
	/* keep a replaced file's owner (root's table, 0600 whatever it was) */
	const struct stat *owner = exists && (st.st_uid != geteuid() ||
					      st.st_gid != getegid())
					   ? &st
					   : NULL;
	enum atomic_step step;
	char *tmp = atomic_write_temp(path, text.data, text.len, 0600, owner,
				      &step);
	buf_release(&text);
	char *dir = path_dir(path);
	int r = -1;
	if (tmp == NULL) {
		const char *e = strerror(errno);
		if (step == ATOMIC_CREATE)
			*error_r =
				xasprintf("%s: cannot create a temporary file "
					  "in %s: %s",
					  path, dir, e);
		else if (step == ATOMIC_OWNER)
			*error_r =
				xasprintf("%s: cannot set the owner and mode "
					  "of its temporary file: %s",
					  path, e);
		else
			*error_r = xasprintf("%s: cannot write its temporary "
					     "file: %s",
					     path, e);
	} else {
		int rc = atomic_install(tmp, path);
		if (rc < 0) {
			*error_r = xasprintf("%s: cannot rename %s to it: %s",
					     path, tmp, strerror(errno));
			unlink(tmp);
		} else if (rc > 0) {
			*error_r = xasprintf("%s: written, but syncing %s "
					     "failed: %s",
					     path, dir, strerror(errno));
		} else {
			r = 0;
		}
	}
	free(tmp);
	free(dir);
	return r;
}

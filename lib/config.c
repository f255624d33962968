/*
 * config.c - the loader of winrmd.conf (libconfig syntax): builds the key
 * table from config-keys.h and, driven by it, gives an immutable,
 * reference-counted struct winrmd_config its defaults, checks every
 * setting of a file (type, range, allowed values, the rules that span
 * keys: listeners), and rejects unknown settings with a hint.
 *
 * Reading the file and what it @includes is config-source.c's (this module
 * gets one text and a line map), writing a configuration out is
 * config-dump.c's, checking the files it names is config-check.c's.
 *
 * Must not: log, exit, or keep global state.  Problems go back as text, one
 * line per problem, in file order.  A returned config is owned by the
 * caller (one reference).
 *
 * Entry points: config_new_defaults, config_load_file, config_load_string,
 * config_ref, config_unref, config_transport_name, config_cbt_name,
 * config_account_names_name, config_domain_ok, config_ws_settable,
 * config_root_file, config_key_origin.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/config-keys.h"
#include "lib/config-source.h"
#include "lib/config-table.h"
#include "lib/lcfg.h"
#include "lib/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

/*
 * The key table.
 */

static int cbt_parse(const char *s)
{
	for (int v = CBT_NONE; v <= CBT_STRICT; v++)
		if (strcasecmp(s, config_cbt_name((enum cbt_level)v)) == 0)
			return v;
	return -1;
}

static const char *cbt_name(int v)
{
	return config_cbt_name((enum cbt_level)v);
}

static int transport_parse(const char *s)
{
	if (strcasecmp(s, "HTTP") == 0)
		return TRANSPORT_HTTP;
	if (strcasecmp(s, "HTTPS") == 0)
		return TRANSPORT_HTTPS;
	return -1;
}

static const char *transport_name(int v)
{
	return config_transport_name((enum listener_transport)v);
}

static const char *level_name(int v)
{
	return log_level_name((enum log_level)v);
}

static int account_names_parse(const char *s)
{
	for (int v = ACCOUNT_NAMES_SHORT; v <= ACCOUNT_NAMES_DOWNLEVEL; v++)
		if (strcasecmp(s, config_account_names_name(
					  (enum account_names)v)) == 0)
			return v;
	return -1;
}

static const char *account_names_name(int v)
{
	return config_account_names_name((enum account_names)v);
}

static const struct enum_def enum_account_names = {
	account_names_parse, account_names_name, "Short, Qualified, DownLevel"
};
static const struct enum_def enum_cbt = { cbt_parse, cbt_name,
					  "None, Relaxed, Strict" };
static const struct enum_def enum_transport = { transport_parse, transport_name,
						"HTTP, HTTPS" };
static const struct enum_def enum_log_level = {
	log_level_parse, level_name, "err, warning, notice, info, debug"
};

#define SCOPE_TYPE_GLOBAL struct winrmd_config
#define SCOPE_TYPE_LISTENER struct listener_config
#define FIELD_OF(sc, f) (((SCOPE_TYPE_##sc *)0)->f)
#define FIELD(sc, f)                                                           \
	.scope = SCOPE_##sc, .offset = offsetof(SCOPE_TYPE_##sc, f),           \
	.size = sizeof(FIELD_OF(sc, f))

#define K_BOOL(sc, p, f, d, fl)                                                \
	{ .path = p, .type = KT_BOOL, FIELD(sc, f), .def = d, .flags = fl },
#define K_INT(sc, p, f, d, lo, hi, fl)                                         \
	{ .path = p,                                                           \
	  .type = KT_INT,                                                      \
	  FIELD(sc, f),                                                        \
	  .def = d,                                                            \
	  .min = lo,                                                           \
	  .max = hi,                                                           \
	  .flags = fl },
#define K_STR(sc, p, f, d, fl)                                                 \
	{ .path = p, .type = KT_STR, FIELD(sc, f), .def_str = d, .flags = fl },
#define K_ENUM(sc, p, f, d, v, fl)                                             \
	{ .path = p,                                                           \
	  .type = KT_ENUM,                                                     \
	  FIELD(sc, f),                                                        \
	  .def = d,                                                            \
	  .values = &enum_##v,                                                 \
	  .flags = fl },
#define K_LIST(sc, p, f, n, d, fl)                                             \
	{ .path = p,                                                           \
	  .type = KT_LIST,                                                     \
	  FIELD(sc, f),                                                        \
	  .count_offset = offsetof(SCOPE_TYPE_##sc, n),                        \
	  .def_list = d,                                                       \
	  .flags = fl },

const struct key_def config_keys[] = { CONFIG_KEYS(K_BOOL, K_INT, K_STR, K_ENUM,
						   K_LIST) };
#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))
const size_t config_n_keys = N_KEYS;

/* The table's types must match the struct fields. */
#define A_BOOL(sc, p, f, d, fl)                                                \
	_Static_assert(_Generic(FIELD_OF(sc, f), bool : 1, default : 0),       \
		       p ": field is not a bool");
#define A_INT(sc, p, f, d, lo, hi, fl)                                         \
	_Static_assert(_Generic(FIELD_OF(sc, f), int : 1, int64_t : 1,         \
				default : 0),                                  \
		       p ": field is not an integer");
#define A_STR(sc, p, f, d, fl)                                                 \
	_Static_assert(_Generic(FIELD_OF(sc, f), char * : 1, default : 0),     \
		       p ": field is not a char *");
#define A_ENUM(sc, p, f, d, v, fl)                                             \
	_Static_assert(sizeof(FIELD_OF(sc, f)) == sizeof(int),                 \
		       p ": field is not an int-sized enum");
#define A_LIST(sc, p, f, n, d, fl)                                             \
	_Static_assert(_Generic(FIELD_OF(sc, f), char ** : 1, default : 0) &&  \
			       _Generic(FIELD_OF(sc, n), size_t : 1,           \
					default : 0),                          \
		       p ": fields are not char ** and size_t");
CONFIG_KEYS(A_BOOL, A_INT, A_STR, A_ENUM, A_LIST)

static void set_int(void *base, const struct key_def *k, int64_t v)
{
	if (k->size == sizeof(int64_t))
		*(int64_t *)key_field(base, k) = v;
	else
		*(int *)key_field(base, k) = (int)v;
}

static void free_value(void *base, const struct key_def *k)
{
	if (k->type == KT_STR) {
		char **s = key_field(base, k);
		free(*s);
		*s = NULL;
	} else if (k->type == KT_LIST) {
		char ***v = key_field(base, k);
		size_t *n = (size_t *)((char *)base + k->count_offset);
		for (size_t i = 0; *v != NULL && i < *n; i++)
			free((*v)[i]);
		free(*v);
		*v = NULL;
		*n = 0;
	}
}

/* Stores an owned, NULL-terminated copy of n strings. */
static void set_list(void *base, const struct key_def *k,
		     const char *const *items, size_t n)
{
	char **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(items[i]);
	free_value(base, k);
	*(char ***)key_field(base, k) = v;
	*(size_t *)((char *)base + k->count_offset) = n;
}

static void set_default(void *base, const struct key_def *k)
{
	size_t n = 0;

	switch (k->type) {
	case KT_BOOL: *(bool *)key_field(base, k) = k->def != 0; break;
	case KT_INT:
	case KT_ENUM: set_int(base, k, k->def); break;
	case KT_STR: *(char **)key_field(base, k) = xstrdup(k->def_str); break;
	case KT_LIST:
		while (k->def_list[n] != NULL)
			n++;
		set_list(base, k, k->def_list, n);
		break;
	}
}

static void init_scope(void *base, enum key_scope scope)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].scope == scope)
			set_default(base, &config_keys[i]);
}

static void free_scope(void *base, enum key_scope scope)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].scope == scope)
			free_value(base, &config_keys[i]);
}

static void free_listeners(struct winrmd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_listeners; i++)
		free_scope(&cfg->listeners[i], SCOPE_LISTENER);
	free(cfg->listeners);
	cfg->listeners = NULL;
	cfg->n_listeners = 0;
}

/* A CK_PORT key still at 0 (not set) takes the transport's port. */
static void listener_default_port(struct listener_config *l)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		if (k->scope == SCOPE_LISTENER && (k->flags & CK_PORT) &&
		    key_get_int(l, k) == 0)
			set_int(l, k,
				l->transport == TRANSPORT_HTTPS ? 5986 : 5985);
	}
}

struct winrmd_config *config_new_defaults(void)
{
	struct winrmd_config *cfg = xcalloc(1, sizeof(*cfg));
	init_scope(cfg, SCOPE_GLOBAL);
	cfg->listeners = xcalloc(1, sizeof(*cfg->listeners));
	cfg->n_listeners = 1;
	init_scope(&cfg->listeners[0], SCOPE_LISTENER);
	listener_default_port(&cfg->listeners[0]);
	cfg->origins = xcalloc(N_KEYS, sizeof(*cfg->origins));
	atomic_init(&cfg->refcount, 1);
	cfg->source = xstrdup("<defaults>");
	return cfg;
}

struct winrmd_config *config_ref(struct winrmd_config *cfg)
{
	if (cfg != NULL)
		atomic_fetch_add_explicit(&cfg->refcount, 1,
					  memory_order_relaxed);
	return cfg;
}

void config_unref(struct winrmd_config *cfg)
{
	if (cfg == NULL || atomic_fetch_sub_explicit(&cfg->refcount, 1,
						     memory_order_acq_rel) != 1)
		return;
	free_scope(cfg, SCOPE_GLOBAL);
	free_listeners(cfg);
	for (size_t i = 0; cfg->origins != NULL && i < N_KEYS; i++)
		free(cfg->origins[i].file);
	free(cfg->origins);
	free(cfg->source);
	free(cfg);
}

int config_key_origin(const struct winrmd_config *cfg, const char *path,
		      const char **file_r)
{
	*file_r = cfg->source;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (config_keys[i].scope != SCOPE_GLOBAL ||
		    strcmp(config_keys[i].path, path) != 0)
			continue;
		if (cfg->origins[i].file == NULL)
			return 0;
		*file_r = cfg->origins[i].file;
		return cfg->origins[i].line;
	}
	return 0;
}

const char *config_transport_name(enum listener_transport t)
{
	return t == TRANSPORT_HTTPS ? "HTTPS" : "HTTP";
}

const char *config_cbt_name(enum cbt_level l)
{
	switch (l) {
	case CBT_NONE: return "None";
	case CBT_RELAXED: return "Relaxed";
	case CBT_STRICT: return "Strict";
	}
	return "Relaxed";
}

const char *config_account_names_name(enum account_names n)
{
	switch (n) {
	case ACCOUNT_NAMES_SHORT: return "Short";
	case ACCOUNT_NAMES_QUALIFIED: return "Qualified";
	case ACCOUNT_NAMES_DOWNLEVEL: return "DownLevel";
	}
	return "Short";
}

/* One domain name of a TrustedDomains item: n bytes at s. */
static const char *domain_name_ok(const char *s, size_t n, bool netbios)
{
	if (n == 0)
		return "a domain name must not be empty";
	if (n > 255)
		return "a domain name is at most 255 bytes";
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_' || c == '$'))
			return "a domain name holds only letters, digits, "
			       "'.', '-', '_' and '$' (write "
			       "\"NETBIOS=dns.name\" to pair the two names "
			       "of a domain)";
		if (c == '.' && netbios)
			return "the NetBIOS name before '=' has no dot "
			       "(\"EXAMPLE=example.com\")";
	}
	if (s[0] == '.' || s[n - 1] == '.')
		return "a domain name neither starts nor ends with '.'";
	return NULL;
}

const char *config_domain_ok(const char *item)
{
	const char *eq = strchr(item, '=');
	if (eq == NULL)
		return domain_name_ok(item, strlen(item), false);
	const char *why = domain_name_ok(item, (size_t)(eq - item), true);
	if (why == NULL)
		why = domain_name_ok(eq + 1, strlen(eq + 1), false);
	return why;
}

/*
 * Walking the libconfig tree.  Every setting must be a key of the table,
 * a group on the way to one, or the Listeners list; anything else is
 * reported, and so is a type or value that does not fit.
 */

struct load {
	struct config_source src;  /* the text, its line map, the problems */
	struct winrmd_config *cfg; /* being filled */
};

static void error_setting(struct load *ld, const config_setting_t *s,
			  const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error_setting(struct load *ld, const config_setting_t *s,
			  const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	config_source_verror(&ld->src, config_setting_source_line(s), key, fmt,
			     ap);
	va_end(ap);
}

static void error_digest(struct load *ld, const config_setting_t *s,
			 const char *path)
{
	error_setting(ld, s, path,
		      "Digest authentication is not supported by this server");
}

/* A rejected group or list may still hide a Digest key: report those. */
static void find_digest(struct load *ld, const config_setting_t *s,
			const char *path)
{
	if (!config_setting_is_aggregate(s))
		return;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *c = config_setting_get_elem(s, i);
		const char *name = config_setting_name(c);
		char *p = name != NULL ? xasprintf("%s.%s", path, name)
				       : xasprintf("%s.[%d]", path, i);
		if (key_is_digest(name))
			error_digest(ld, c, p);
		else
			find_digest(ld, c, p);
		free(p);
	}
}

static void error_type(struct load *ld, const config_setting_t *s,
		       const char *path, const char *expected)
{
	error_setting(ld, s, path, "expected %s, got %s", expected,
		      lcfg_type_name(config_setting_type(s)));
	find_digest(ld, s, path);
}

static const struct key_def *find_key(enum key_scope scope, const char *path)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].scope == scope &&
		    strcmp(config_keys[i].path, path) == 0)
			return &config_keys[i];
	return NULL;
}

/* Is path a group holding global keys ("Service", "Service.Auth")? */
static bool is_group(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].scope == SCOPE_GLOBAL &&
		    strncmp(config_keys[i].path, path, n) == 0 &&
		    config_keys[i].path[n] == '.')
			return true;
	return false;
}

/* The optimal string alignment distance of a and b (n and m bytes),
 * without case: insertions, deletions, substitutions and transpositions
 * of two neighbours cost 1.  Names are short (at most 64 bytes here). */
static size_t typo_distance(const char *a, size_t n, const char *b, size_t m)
{
	size_t d[65][65];
	if (n > 64 || m > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			char x = (char)tolower((unsigned char)a[i - 1]);
			char y = (char)tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (x != y);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    x == tolower((unsigned char)b[j - 2]) &&
			    y == tolower((unsigned char)a[i - 2]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[n][m];
}

/* For an unknown path, the known setting or group it was most likely
 * meant to be: one that differs only in case, else the nearest by
 * typo_distance (at most 2, and at most a third of the name); caller
 * frees, NULL when none is near. */
static char *suggest(enum key_scope scope, const char *path)
{
	size_t n = strlen(path);
	if (scope == SCOPE_GLOBAL &&
	    strcasecmp(path, CONFIG_LISTENERS_KEY) == 0)
		return xstrdup(CONFIG_LISTENERS_KEY);
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *k = config_keys[i].path;
		if (config_keys[i].scope == scope &&
		    strncasecmp(k, path, n) == 0 &&
		    (k[n] == '\0' || k[n] == '.'))
			return xstrndup(k, n);
	}
	/* Candidates of the same depth: the keys, and the groups on the
	 * way to them ("Service", "Service.Auth"), and Listeners. */
	size_t limit = n / 3 < 2 ? n / 3 : 2, best = SIZE_MAX;
	char *hint = NULL;
	if (limit == 0)
		return NULL;
	if (scope == SCOPE_GLOBAL && strchr(path, '.') == NULL) {
		best = typo_distance(path, n, CONFIG_LISTENERS_KEY,
				     strlen(CONFIG_LISTENERS_KEY));
		if (best <= limit)
			hint = xstrdup(CONFIG_LISTENERS_KEY);
		else
			best = SIZE_MAX;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *k = config_keys[i].path;
		if (config_keys[i].scope != scope)
			continue;
		for (const char *end = k;; end++) {
			if (*end != '.' && *end != '\0')
				continue;
			size_t len = (size_t)(end - k);
			size_t d = typo_distance(path, n, k, len);
			if (d <= limit && d < best) {
				best = d;
				free(hint);
				hint = xstrndup(k, len);
			}
			if (*end == '\0')
				break;
		}
	}
	return hint;
}

static void error_unknown(struct load *ld, const config_setting_t *s,
			  enum key_scope scope, const char *kpath,
			  const char *mpath)
{
	char *hint = suggest(scope, kpath);
	if (hint != NULL)
		error_setting(ld, s, mpath,
			      "unknown setting (did you mean %s?)", hint);
	else
		error_setting(ld, s, mpath, "unknown setting");
	free(hint);
	find_digest(ld, s, mpath);
}

static bool parse_address(const char *in, char **out_r)
{
	unsigned char bin[16];
	const char *a = in;
	bool bracketed = false;
	char *s;

	if (strcmp(in, "*") == 0) {
		*out_r = xstrdup(in);
		return true;
	}
	if (strncasecmp(a, "IP:", 3) == 0)
		a += 3;
	size_t n = strlen(a);
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		s = xstrndup(a + 1, n - 2);
		bracketed = true;
	} else {
		s = xstrdup(a);
	}
	if ((!bracketed && inet_pton(AF_INET, s, bin) == 1) ||
	    inet_pton(AF_INET6, s, bin) == 1) {
		*out_r = s;
		return true;
	}
	free(s);
	return false;
}

/* Whether text is a GnuTLS priority string libmicrohttpd will accept;
 * else *why_r (caller frees) says where it goes wrong. */
static bool tls_priorities_ok(const char *text, char **why_r)
{
	gnutls_priority_t p;
	const char *err_pos = NULL;
	int rc = gnutls_priority_init(&p, text, &err_pos);
	if (rc == GNUTLS_E_SUCCESS) {
		gnutls_priority_deinit(p);
		return true;
	}
	if (err_pos != NULL && err_pos >= text && *err_pos != '\0')
		*why_r = xasprintf("%s at \"%.40s\"", gnutls_strerror(rc),
				   err_pos);
	else
		*why_r = xstrdup(gnutls_strerror(rc));
	return false;
}

/* A string value for key k: checked, and stored unless *failed. */
static void set_string(struct load *ld, const struct key_def *k,
		       const config_setting_t *s, const char *path, void *base)
{
	const char *v = config_setting_get_string(s);
	char *q = lcfg_quoted(v), *norm = NULL;

	if (k->type == KT_ENUM) {
		int e = k->values->parse(v);
		if (e < 0)
			error_setting(ld, s, path, "%s is not one of %s", q,
				      k->values->allowed);
		else
			set_int(base, k, e);
	} else if ((k->flags & CK_NONEMPTY) && v[0] == '\0') {
		error_setting(ld, s, path, "must not be empty");
	} else if ((k->flags & CK_ADDRESS) && !parse_address(v, &norm)) {
		error_setting(ld, s, path,
			      "%s is not \"*\" or an IPv4 or IPv6 address", q);
	} else if ((k->flags & CK_URL_SEGMENT) &&
		   v[strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "abcdefghijklmnopqrstuvwxyz0123456789._-")]) {
		error_setting(ld, s, path,
			      "%s may hold only letters, digits, "
			      "'.', '_' and '-'",
			      q);
	} else if ((k->flags & CK_TLS_PRIORITIES) &&
		   !tls_priorities_ok(v, &norm)) {
		error_setting(ld, s, path,
			      "%s is not a valid GnuTLS priority "
			      "string (%s)",
			      q, norm);
		free(norm);
	} else {
		free_value(base, k);
		*(char **)key_field(base, k) = norm != NULL ? norm : xstrdup(v);
	}
	free(q);
}

static void set_string_list(struct load *ld, const struct key_def *k,
			    const config_setting_t *s, const char *path,
			    void *base)
{
	int n = config_setting_length(s);
	const char **v = xcalloc((size_t)n + 1, sizeof(*v));
	bool ok = true;

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char *p = xasprintf("%s.[%d]", path, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			error_type(ld, e, p, "a string");
			ok = false;
		} else if ((k->flags & CK_NONEMPTY) &&
			   config_setting_get_string(e)[0] == '\0') {
			error_setting(ld, e, p, "must not be empty");
			ok = false;
		} else if ((k->flags & CK_DOMAIN) &&
			   config_domain_ok(config_setting_get_string(e)) !=
				   NULL) {
			char *q = lcfg_quoted(config_setting_get_string(e));
			error_setting(ld, e, p, "%s: %s", q,
				      config_domain_ok(
					      config_setting_get_string(e)));
			free(q);
			ok = false;
		} else {
			v[i] = config_setting_get_string(e);
		}
		free(p);
	}
	if (ok)
		set_list(base, k, v, (size_t)n);
	free(v);
}

static void set_value(struct load *ld, const struct key_def *k,
		      const config_setting_t *s, const char *path, void *base)
{
	int type = config_setting_type(s);

	switch (k->type) {
	case KT_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			break;
		if (config_setting_get_bool(s) && (k->flags & CK_UNSUPPORTED))
			error_setting(ld, s, path,
				      "%s authentication is not "
				      "supported by this server",
				      key_leaf(k->path));
		else
			*(bool *)key_field(base,
					   k) = config_setting_get_bool(s);
		return;
	case KT_INT: {
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			break;
		int64_t v = type == CONFIG_TYPE_INT
				    ? config_setting_get_int(s)
				    : config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			error_setting(ld, s, path,
				      "value %" PRId64 " is "
				      "out of range (%" PRId64 "..%" PRId64 ")",
				      v, k->min, k->max);
		else
			set_int(base, k, v);
		return;
	}
	case KT_STR:
	case KT_ENUM:
		if (type != CONFIG_TYPE_STRING)
			break;
		set_string(ld, k, s, path, base);
		return;
	case KT_LIST:
		if (type == CONFIG_TYPE_STRING && (k->flags & CK_STRING_OK)) {
			/* The older one-group spelling: "g" is [ "g" ], ""
			 * is [ ]. */
			const char *v[2] = { config_setting_get_string(s),
					     NULL };
			set_list(base, k, v, v[0][0] != '\0' ? 1 : 0);
			return;
		}
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			break;
		set_string_list(ld, k, s, path, base);
		return;
	}
	static const char *const expected[] = {
		[KT_BOOL] = "a boolean",
		[KT_INT] = "an integer",
		[KT_STR] = "a string",
		[KT_ENUM] = "a string",
		[KT_LIST] = "an array of strings",
	};
	error_type(ld, s, path, expected[k->type]);
}

static void parse_listeners(struct load *ld, const config_setting_t *s);

/*
 * Walks the members of group.  Keys are looked up as kprefix + name in
 * scope; messages name them mprefix + name (the two differ inside a
 * listener: "Port" is reported as "Listeners.[0].Port").
 */
static void walk_group(struct load *ld, const config_setting_t *group,
		       const char *kprefix, const char *mprefix,
		       enum key_scope scope, void *base)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		char *kpath = xasprintf("%s%s", kprefix, name);
		char *mpath = xasprintf("%s%s", mprefix, name);
		const struct key_def *k = find_key(scope, kpath);

		if (key_is_digest(name)) {
			error_digest(ld, s, mpath);
		} else if (k != NULL) {
			set_value(ld, k, s, mpath, base);
			if (scope == SCOPE_GLOBAL) {
				struct config_origin o = config_source_origin(
					&ld->src,
					config_setting_source_line(s));
				struct config_key_origin *ko =
					&ld->cfg->origins[k - config_keys];
				free(ko->file);
				ko->file = xstrdup(o.file);
				ko->line = o.line;
			}
		} else if (scope == SCOPE_GLOBAL && is_group(kpath)) {
			if (config_setting_is_group(s)) {
				char *kp = xasprintf("%s.", kpath);
				char *mp = xasprintf("%s.", mpath);
				walk_group(ld, s, kp, mp, scope, base);
				free(kp);
				free(mp);
			} else {
				error_type(ld, s, mpath, "a group");
			}
		} else if (scope == SCOPE_GLOBAL &&
			   strcmp(kpath, CONFIG_LISTENERS_KEY) == 0) {
			parse_listeners(ld, s);
		} else {
			error_unknown(ld, s, scope, kpath, mpath);
		}
		free(kpath);
		free(mpath);
	}
}

/* Could a and b not both be bound (same port; same or wildcard address)? */
static bool listeners_clash(const struct listener_config *a,
			    const struct listener_config *b)
{
	static const unsigned char any[16];
	unsigned char x[16], y[16];
	size_t n;

	if (a->port != b->port)
		return false;
	if (strcmp(a->address, "*") == 0 || strcmp(b->address, "*") == 0)
		return true;
	if (inet_pton(AF_INET, a->address, x) == 1 &&
	    inet_pton(AF_INET, b->address, y) == 1)
		n = 4;
	else if (inet_pton(AF_INET6, a->address, x) == 1 &&
		 inet_pton(AF_INET6, b->address, y) == 1)
		n = 16;
	else
		return false;
	return memcmp(x, y, n) == 0 || memcmp(x, any, n) == 0 ||
	       memcmp(y, any, n) == 0;
}

/* Rules that span the keys of one listener, and the listeners before it. */
static void check_listener(struct load *ld, const config_setting_t *entry,
			   const char *path, size_t idx)
{
	struct listener_config *l = &ld->cfg->listeners[idx];
	bool https = l->transport == TRANSPORT_HTTPS;

	listener_default_port(l);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		if (k->scope != SCOPE_LISTENER || !(k->flags & CK_HTTPS_ONLY))
			continue;
		const char *v = *(char **)key_field(l, k);
		const config_setting_t *m = config_setting_get_member(entry,
								      k->path);
		char *p = xasprintf("%s.%s", path, k->path);
		if (https && v[0] == '\0')
			error_setting(ld, m != NULL ? m : entry, p,
				      "required for an HTTPS listener");
		else if (!https && v[0] != '\0')
			error_setting(ld, m != NULL ? m : entry, p,
				      "only allowed for an HTTPS listener");
		free(p);
	}
	for (size_t i = 0; l->enabled && i < idx; i++) {
		const struct listener_config *o = &ld->cfg->listeners[i];
		if (o->enabled && listeners_clash(o, l)) {
			error_setting(ld, entry, path,
				      "same address and port "
				      "as the listener on line %d",
				      o->source_line);
			break;
		}
	}
}

static void parse_listeners(struct load *ld, const config_setting_t *s)
{
	struct winrmd_config *cfg = ld->cfg;
	bool enabled = false;

	if (!config_setting_is_list(s)) {
		error_type(ld, s, CONFIG_LISTENERS_KEY, "a list of groups");
		return;
	}
	int n = config_setting_length(s);
	free_listeners(cfg);
	cfg->listeners = xcalloc((size_t)n + 1, sizeof(*cfg->listeners));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char *path = xasprintf(CONFIG_LISTENERS_KEY ".[%d]", i);
		if (!config_setting_is_group(e)) {
			error_type(ld, e, path, "a group");
			free(path);
			continue;
		}
		struct listener_config *l = &cfg->listeners[cfg->n_listeners];
		init_scope(l, SCOPE_LISTENER);
		cfg->n_listeners++;
		l->source_line =
			config_source_origin(&ld->src,
					     config_setting_source_line(e))
				.line;
		const config_setting_t *m =
			config_setting_get_member(e, "CertificateFile");
		l->certificate_line =
			m != NULL ? config_source_origin(
					    &ld->src,
					    config_setting_source_line(m))
					    .line
				  : l->source_line;
		m = config_setting_get_member(e, "KeyFile");
		l->key_line = m != NULL ? config_source_origin(
						  &ld->src,
						  config_setting_source_line(m))
						  .line
					: l->source_line;
		char *prefix = xasprintf("%s.", path);
		walk_group(ld, e, "", prefix, SCOPE_LISTENER, l);
		check_listener(ld, e, path, cfg->n_listeners - 1);
		enabled = enabled || l->enabled;
		free(prefix);
		free(path);
	}
	if (!enabled)
		error_setting(ld, s, CONFIG_LISTENERS_KEY,
			      "at least one listener must be enabled");
}

/* Starts a load of name: defaults until the text says otherwise. */
static void load_start(struct load *ld, const char *name)
{
	config_source_init(&ld->src, name);
	ld->cfg = config_new_defaults();
	free(ld->cfg->source);
	ld->cfg->source = xstrdup(name);
}

/* Parses and walks the spliced text unless splicing failed (spliced is
 * not 0); ends the load: returns the config, or NULL with the errors in
 * *error_r. */
static struct winrmd_config *load_end(struct load *ld, int spliced,
				      char **error_r)
{
	struct winrmd_config *cfg = ld->cfg;

	if (spliced == 0) {
		config_t lc;
		int line;
		char *why;
		config_init(&lc);
		if (lcfg_parse(&lc, (const char *)ld->src.text.data,
			       ld->src.text.len, &line, &why) == 0) {
			walk_group(ld, config_root_setting(&lc), "", "",
				   SCOPE_GLOBAL, cfg);
		} else {
			config_source_error(&ld->src, (unsigned)line, NULL,
					    "%s", why);
			free(why);
		}
		config_destroy(&lc);
	}
	*error_r = lcfg_errors_take(&ld->src.errors);
	if (*error_r != NULL) {
		config_unref(cfg);
		cfg = NULL;
	}
	config_source_release(&ld->src);
	return cfg;
}

struct winrmd_config *config_load_string(const char *text, const char *name,
					 char **error_r)
{
	struct load ld;
	load_start(&ld, name != NULL ? name : "<string>");
	return load_end(&ld, config_source_string(&ld.src, text, strlen(text)),
			error_r);
}

struct winrmd_config *config_load_file(const char *path, char **error_r)
{
	struct load ld;
	load_start(&ld, path);
	return load_end(&ld, config_source_file(&ld.src), error_r);
}

bool config_ws_settable(const char *path)
{
	static const char *const settable[] = {
		"Service.MaxEnvelopeSizekb",
		"Service.MaxTimeoutms",
		"Service.MaxConnections",
		"Service.MaxConcurrentOperationsPerUser",
		"Service.EnumerationTimeoutms",
		"Service.AllowUnencrypted",
		"Service.Auth.Basic",
		"Service.Auth.Kerberos",
		"Service.Auth.Negotiate",
		"Service.Auth.Certificate",
		"Service.Auth.CredSSP",
		"Service.Auth.CbtHardeningLevel",
		"Winrs.AllowRemoteShellAccess",
		"Winrs.IdleTimeout",
		"Winrs.MaxConcurrentUsers",
		"Winrs.MaxShellRunTime",
		"Winrs.MaxProcessesPerShell",
		"Winrs.MaxMemoryPerShellMB",
		"Winrs.MaxShellsPerUser",
		/* winrmd's own groups (winrm/config/authorization,
		 * throttling, logging) and the files of Service.Auth the
		 * helper reads (root's files only, see CK_ROOT_FILE) */
		"Service.Auth.Keytab",
		"Service.Auth.NtlmUserFile",
		"Authorization.AdminGroups",
		"Authorization.RemoteUsersGroup",
		"Authorization.LocalAccountTokenFilterPolicy",
		"Authorization.TrustedDomains",
		"Authorization.KerberosCaseInsensitive",
		"Authorization.DomainAccountNames",
		"Authorization.BasicDomainAccounts",
		"Throttling.MaxFailures",
		"Throttling.FailureWindow",
		"Throttling.LockoutTime",
		"Throttling.MaxDelayms",
		"Logging.Level",
		"Logging.AuditSyslog",
		NULL,
	};
	for (size_t i = 0; settable[i] != NULL; i++)
		if (strcmp(settable[i], path) == 0)
			return true;
	return false;
}

bool config_root_file(const char *path)
{
	const struct key_def *k = find_key(SCOPE_GLOBAL, path);
	return k != NULL && (k->flags & CK_ROOT_FILE);
}

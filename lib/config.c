/*
 * config.c - loads winrmd.conf (libconfig syntax) into an immutable,
 * reference-counted struct winrmd_config, and dumps one back as text.
 *
 * Everything is generated from the key table in config-keys.h: defaults,
 * type and range checks, the walk that rejects unknown settings, and the
 * dump.  Before libconfig sees the text, a small scanner splices @include
 * files in (keeping a line map, so that messages name the right file and
 * line) and puts an L suffix on integers outside the 32-bit range, which
 * libconfig 1.5 would otherwise silently truncate (4294967295 reads as -1).
 *
 * Must not: log, exit, or keep global state.  Problems go back as text, one
 * line per problem, in file order.
 *
 * Entry points: config_new_defaults, config_load_file, config_load_string,
 * config_dump, config_ref, config_unref.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/certmap.h"
#include "lib/config-keys.h"
#include "lib/log.h"
#include "lib/x509.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#define CONFIG_MAX_SIZE (1024 * 1024) /* per file, and all files together */
#define CONFIG_MAX_DEPTH 10           /* nested @include */

/*
 * The key table.
 */

struct enum_def {
	int (*parse)(const char *s); /* value, or -1 when not a valid name */
	const char *(*name)(int v);
	const char *allowed;         /* for messages */
};

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

static const struct enum_def enum_cbt = {
	cbt_parse, cbt_name, "None, Relaxed, Strict"
};
static const struct enum_def enum_transport = {
	transport_parse, transport_name, "HTTP, HTTPS"
};
static const struct enum_def enum_log_level = {
	log_level_parse, level_name, "err, warning, notice, info, debug"
};

enum key_type { KT_BOOL, KT_INT, KT_STR, KT_ENUM, KT_LIST };
enum key_scope { SCOPE_GLOBAL, SCOPE_LISTENER };

struct key_def {
	const char *path;         /* "Service.Auth.Basic"; LISTENER: "Port" */
	enum key_type type;
	enum key_scope scope;
	unsigned flags;           /* enum config_key_flags */
	size_t offset;            /* of the field in its struct */
	size_t size;              /* of the field (int or int64_t) */
	size_t count_offset;      /* KT_LIST: the size_t count */
	int64_t def;              /* KT_BOOL, KT_INT, KT_ENUM */
	int64_t min, max;         /* KT_INT */
	const char *def_str;      /* KT_STR */
	const char *const *def_list; /* KT_LIST, NULL-terminated */
	const struct enum_def *values; /* KT_ENUM */
};

#define SCOPE_TYPE_GLOBAL struct winrmd_config
#define SCOPE_TYPE_LISTENER struct listener_config
#define FIELD_OF(sc, f) (((SCOPE_TYPE_##sc *)0)->f)
#define FIELD(sc, f)                                                      \
	.scope = SCOPE_##sc, .offset = offsetof(SCOPE_TYPE_##sc, f),      \
	.size = sizeof(FIELD_OF(sc, f))

#define K_BOOL(sc, p, f, d, fl)                                           \
	{ .path = p, .type = KT_BOOL, FIELD(sc, f), .def = d, .flags = fl },
#define K_INT(sc, p, f, d, lo, hi, fl)                                    \
	{ .path = p, .type = KT_INT, FIELD(sc, f), .def = d, .min = lo,   \
	  .max = hi, .flags = fl },
#define K_STR(sc, p, f, d, fl)                                            \
	{ .path = p, .type = KT_STR, FIELD(sc, f), .def_str = d, .flags = fl },
#define K_ENUM(sc, p, f, d, v, fl)                                        \
	{ .path = p, .type = KT_ENUM, FIELD(sc, f), .def = d,             \
	  .values = &enum_##v, .flags = fl },
#define K_LIST(sc, p, f, n, d, fl)                                        \
	{ .path = p, .type = KT_LIST, FIELD(sc, f),                       \
	  .count_offset = offsetof(SCOPE_TYPE_##sc, n), .def_list = d,    \
	  .flags = fl },

static const struct key_def keys[] = {
	CONFIG_KEYS(K_BOOL, K_INT, K_STR, K_ENUM, K_LIST)
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* The table's types must match the struct fields. */
#define A_BOOL(sc, p, f, d, fl)                                           \
	_Static_assert(_Generic(FIELD_OF(sc, f), bool: 1, default: 0),   \
		       p ": field is not a bool");
#define A_INT(sc, p, f, d, lo, hi, fl)                                    \
	_Static_assert(_Generic(FIELD_OF(sc, f), int: 1, int64_t: 1,      \
				default: 0), p ": field is not an integer");
#define A_STR(sc, p, f, d, fl)                                            \
	_Static_assert(_Generic(FIELD_OF(sc, f), char *: 1, default: 0), \
		       p ": field is not a char *");
#define A_ENUM(sc, p, f, d, v, fl)                                        \
	_Static_assert(sizeof(FIELD_OF(sc, f)) == sizeof(int),            \
		       p ": field is not an int-sized enum");
#define A_LIST(sc, p, f, n, d, fl)                                        \
	_Static_assert(_Generic(FIELD_OF(sc, f), char **: 1, default: 0) \
			       && _Generic(FIELD_OF(sc, n), size_t: 1,    \
					   default: 0),                   \
		       p ": fields are not char ** and size_t");
CONFIG_KEYS(A_BOOL, A_INT, A_STR, A_ENUM, A_LIST)

static void *field(void *base, const struct key_def *k)
{
	return (char *)base + k->offset;
}

static const void *cfield(const void *base, const struct key_def *k)
{
	return (const char *)base + k->offset;
}

static int64_t get_int(const void *base, const struct key_def *k)
{
	return k->size == sizeof(int64_t) ? *(const int64_t *)cfield(base, k)
					  : *(const int *)cfield(base, k);
}

static void set_int(void *base, const struct key_def *k, int64_t v)
{
	if (k->size == sizeof(int64_t))
		*(int64_t *)field(base, k) = v;
	else
		*(int *)field(base, k) = (int)v;
}

static const char *leaf(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot != NULL ? dot + 1 : path;
}

static void free_value(void *base, const struct key_def *k)
{
	if (k->type == KT_STR) {
		char **s = field(base, k);
		free(*s);
		*s = NULL;
	} else if (k->type == KT_LIST) {
		char ***v = field(base, k);
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
	*(char ***)field(base, k) = v;
	*(size_t *)((char *)base + k->count_offset) = n;
}

static void set_default(void *base, const struct key_def *k)
{
	size_t n = 0;

	switch (k->type) {
	case KT_BOOL:
		*(bool *)field(base, k) = k->def != 0;
		break;
	case KT_INT:
	case KT_ENUM:
		set_int(base, k, k->def);
		break;
	case KT_STR:
		*(char **)field(base, k) = xstrdup(k->def_str);
		break;
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
		if (keys[i].scope == scope)
			set_default(base, &keys[i]);
}

static void free_scope(void *base, enum key_scope scope)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].scope == scope)
			free_value(base, &keys[i]);
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
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].scope == SCOPE_LISTENER &&
		    (keys[i].flags & CK_PORT) && get_int(l, &keys[i]) == 0)
			set_int(l, &keys[i],
				l->transport == TRANSPORT_HTTPS ? 5986 : 5985);
}

struct winrmd_config *config_new_defaults(void)
{
	struct winrmd_config *cfg = xcalloc(1, sizeof(*cfg));
	init_scope(cfg, SCOPE_GLOBAL);
	cfg->listeners = xcalloc(1, sizeof(*cfg->listeners));
	cfg->n_listeners = 1;
	init_scope(&cfg->listeners[0], SCOPE_LISTENER);
	listener_default_port(&cfg->listeners[0]);
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
	free(cfg->source);
	free(cfg);
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

/* Appends s as a libconfig string literal, quotes included. */
static void put_quoted(struct buf *b, const char *s)
{
	buf_append_byte(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': buf_append_str(b, "\\\""); break;
		case '\\': buf_append_str(b, "\\\\"); break;
		case '\n': buf_append_str(b, "\\n"); break;
		case '\r': buf_append_str(b, "\\r"); break;
		case '\t': buf_append_str(b, "\\t"); break;
		case '\f': buf_append_str(b, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(b, "\\x%02x", c);
			else
				buf_append_byte(b, c);
		}
	}
	buf_append_byte(b, '"');
}

/* Returns s quoted as above; caller frees. */
static char *quoted(const char *s)
{
	struct buf b = BUF_INIT;
	put_quoted(&b, s);
	return buf_steal(&b);
}

/*
 * Loading state.  Errors are kept with the line of the spliced text they
 * belong to and sorted at the end, so that they come out in file order.
 */

enum lex_state { LEX_CODE, LEX_STRING, LEX_LINE_COMMENT, LEX_BLOCK_COMMENT };

struct origin {
	const char *file;  /* one of load.files */
	int line;
};

struct load_error {
	unsigned tline;    /* line of the spliced text; 0 = whole file */
	size_t seq;
	char *text;
};

struct load {
	const char *name;            /* of the top file, in messages */
	struct winrmd_config *cfg;
	struct load_error *errors;
	size_t n_errors;
	struct buf text;             /* what libconfig parses */
	struct origin *lines;        /* [i]: where line i + 1 of text is from */
	size_t n_lines;
	char **files;                /* names of the files read, owned */
	size_t n_files;
	size_t total;                /* bytes read from all files */
	char *include_dir;           /* NULL: the working directory */
	enum lex_state state;
};

/* Returns v, n items of size bytes, with room for one more: arrays are
 * allocated in powers of two, so they grow when n is one (or zero). */
static void *grow(void *v, size_t n, size_t size)
{
	if ((n & (n - 1)) != 0)
		return v;
	return xrealloc(v, (n > 0 ? 2 * n : 1) * size);
}

/* Keeps a file name for messages; returns the copy (owned by ld). */
static const char *add_file(struct load *ld, char *owned_name)
{
	ld->files = grow(ld->files, ld->n_files, sizeof(*ld->files));
	ld->files[ld->n_files++] = owned_name;
	return owned_name;
}

static void load_init(struct load *ld, const char *name)
{
	memset(ld, 0, sizeof(*ld));
	buf_init(&ld->text);
	ld->name = add_file(ld, xstrdup(name));
}

static void load_release(struct load *ld)
{
	for (size_t i = 0; i < ld->n_errors; i++)
		free(ld->errors[i].text);
	free(ld->errors);
	buf_release(&ld->text);
	free(ld->lines);
	for (size_t i = 0; i < ld->n_files; i++)
		free(ld->files[i]);
	free(ld->files);
	free(ld->include_dir);
}

static struct origin origin_of(const struct load *ld, unsigned tline)
{
	if (tline == 0 || ld->n_lines == 0)
		return (struct origin){ ld->name, 0 };
	if (tline > ld->n_lines)
		tline = (unsigned)ld->n_lines;
	return ld->lines[tline - 1];
}

static void verror(struct load *ld, unsigned tline, const char *key,
		   const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void verror(struct load *ld, unsigned tline, const char *key,
		   const char *fmt, va_list ap)
{
	struct origin o = origin_of(ld, tline);
	struct buf b = BUF_INIT;

	buf_append_str(&b, o.file);
	if (o.line > 0)
		buf_printf(&b, ":%d", o.line);
	buf_append_str(&b, ": ");
	if (key != NULL)
		buf_printf(&b, "%s: ", key);
	buf_vprintf(&b, fmt, ap);
	ld->errors = grow(ld->errors, ld->n_errors, sizeof(*ld->errors));
	ld->errors[ld->n_errors] = (struct load_error){
		tline, ld->n_errors, buf_steal(&b)
	};
	ld->n_errors++;
}

static void error_at(struct load *ld, unsigned tline, const char *key,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error_at(struct load *ld, unsigned tline, const char *key,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(ld, tline, key, fmt, ap);
	va_end(ap);
}

static void error_setting(struct load *ld, const config_setting_t *s,
			  const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error_setting(struct load *ld, const config_setting_t *s,
			  const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(ld, config_setting_source_line(s), key, fmt, ap);
	va_end(ap);
}

/*
 * Reading files.  Only regular files of at most CONFIG_MAX_SIZE bytes are
 * read.  Returns the NUL-terminated text (caller frees) and its length, or
 * NULL with the reason in why.
 */
static char *read_file(const char *path, size_t *len_r, char *why,
		       size_t why_size)
{
	struct buf b = BUF_INIT;
	char *reason;
	if (file_read_regular(path, CONFIG_MAX_SIZE, &b, NULL, &reason) != 0) {
		snprintf(why, why_size, "%s", reason);
		free(reason);
		buf_release(&b);
		return NULL;
	}
	*len_r = b.len;
	return buf_steal(&b);
}

/*
 * Splicing.  A scanner that follows libconfig's lexical rules far enough to
 * know what is code, string and comment copies each file into ld->text:
 * an "@include" line at the start of a line is replaced by the included
 * file, and integer literals outside the int32 range get an L suffix.
 */

struct source {
	const char *file;  /* one of ld->files */
	const char *p;
	size_t len;
	size_t i;
	int line;
	bool bol;          /* only blanks since the start of the line */
};

static void new_line(struct load *ld, const char *file, int line)
{
	ld->lines = grow(ld->lines, ld->n_lines, sizeof(*ld->lines));
	ld->lines[ld->n_lines++] = (struct origin){ file, line };
}

static void put(struct load *ld, struct source *s, char c)
{
	buf_append_byte(&ld->text, (uint8_t)c);
	s->bol = c == '\n' || (s->bol && (c == ' ' || c == '\t'));
	if (c == '\n')
		new_line(ld, s->file, ++s->line);
}

static void put_span(struct load *ld, struct source *s, size_t end)
{
	while (s->i < end)
		put(ld, s, s->p[s->i++]);
}

static unsigned cur_line(const struct load *ld)
{
	return (unsigned)ld->n_lines;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || is_digit(c) || c == '-' || c == '_';
}

/* An exponent ("e5", "E-3") starts at j. */
static bool exponent_at(const char *p, size_t len, size_t j)
{
	if (j >= len || (p[j] != 'e' && p[j] != 'E'))
		return false;
	j++;
	if (j < len && (p[j] == '+' || p[j] == '-'))
		j++;
	return j < len && is_digit(p[j]);
}

/* A number (libconfig: integer, integer64, hex, hex64 or float) at s->i. */
static void splice_number(struct load *ld, struct source *s)
{
	const char *p = s->p;
	size_t start = s->i, j = start, d0, d1;
	bool neg = false, hex = false;

	if (p[j] == '+' || p[j] == '-')
		neg = p[j++] == '-';
	d0 = j;
	while (j < s->len && is_digit(p[j]))
		j++;
	if (j == d0 + 1 && p[d0] == '0' && d0 == start && j + 1 < s->len &&
	    (p[j] == 'x' || p[j] == 'X') && is_xdigit(p[j + 1])) {
		hex = true;
		d0 = ++j;
		while (j < s->len && is_xdigit(p[j]))
			j++;
	} else if ((j < s->len && p[j] == '.') ||
		   (j > d0 && exponent_at(p, s->len, j))) {
		/* a float: copied as it is */
		if (j < s->len && p[j] == '.')
			for (j++; j < s->len && is_digit(p[j]); j++)
				;
		if (exponent_at(p, s->len, j)) {
			j++;
			if (p[j] == '+' || p[j] == '-')
				j++;
			while (j < s->len && is_digit(p[j]))
				j++;
		}
		put_span(ld, s, j);
		return;
	}
	d1 = j;
	bool suffix = j < s->len && p[j] == 'L';
	if (suffix && ++j < s->len && p[j] == 'L')
		j++;

	uint64_t v = 0, base = hex ? 16 : 10;
	bool overflow = false;
	for (size_t k = d0; k < d1; k++) {
		char c = (char)(p[k] | 0x20); /* lower case */
		uint64_t d = is_digit(c) ? (uint64_t)(c - '0')
					 : (uint64_t)(c - 'a' + 10);
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		else
			v = v * base + d;
	}
	if (overflow || v > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
		int n = d1 - start > 40 ? 40 : (int)(d1 - start);
		error_at(ld, cur_line(ld), NULL,
			 "syntax error: integer %.*s%s is out of range", n,
			 p + start, d1 - start > 40 ? "..." : "");
	}
	put_span(ld, s, j);
	if (!suffix && v > (neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX))
		put(ld, s, 'L');
}

static int splice_file(struct load *ld, const char *file,
		       const char *text, size_t len, int depth);

/* "@include" at s->i; libconfig only knows it at the start of a line. */
static int splice_include(struct load *ld, struct source *s, int depth)
{
	const char *p = s->p + s->i;
	size_t rest = s->len - s->i, j = 8, name0;
	char why[256];

	if (!s->bol || rest <= j || memcmp(p, "@include", j) != 0 ||
	    (p[j] != ' ' && p[j] != '\t')) {
		error_at(ld, cur_line(ld), NULL,
			 "syntax error: unexpected '@'");
		return -1;
	}
	while (j < rest && (p[j] == ' ' || p[j] == '\t'))
		j++;
	if (j == rest || p[j] != '"') {
		error_at(ld, cur_line(ld), NULL,
			 "syntax error: @include needs a quoted file name");
		return -1;
	}
	name0 = ++j;
	while (j < rest && p[j] != '"' && p[j] != '\n' && p[j] != '\0')
		j++;
	if (j == rest || p[j] != '"' || j == name0) {
		error_at(ld, cur_line(ld), NULL,
			 "syntax error: @include needs a quoted file name");
		return -1;
	}
	s->i += j + 1;
	s->bol = false;
	if (depth >= CONFIG_MAX_DEPTH) {
		error_at(ld, cur_line(ld), NULL,
			 "@include nested more than %d deep", CONFIG_MAX_DEPTH);
		return -1;
	}

	const char *path;
	if (p[name0] != '/' && ld->include_dir != NULL)
		path = add_file(ld, xasprintf("%s/%.*s", ld->include_dir,
					      (int)(j - name0), p + name0));
	else
		path = add_file(ld, xstrndup(p + name0, j - name0));

	size_t len;
	char *text = read_file(path, &len, why, sizeof(why));
	if (text == NULL) {
		error_at(ld, cur_line(ld), "@include", "%s: %s", path, why);
		return -1;
	}
	ld->total += len;
	if (ld->total > CONFIG_MAX_SIZE) {
		error_at(ld, cur_line(ld), "@include",
			 "%s: the configuration with its included files is "
			 "larger than %d bytes", path, CONFIG_MAX_SIZE);
		free(text);
		return -1;
	}
	/* The included text gets lines of its own in ld->text, and the rest
	 * of the @include line a line of its own after it. */
	buf_append_byte(&ld->text, '\n');
	new_line(ld, path, 1);
	int r = splice_file(ld, path, text, len, depth + 1);
	free(text);
	if (r == 0) {
		buf_append_byte(&ld->text, '\n');
		new_line(ld, s->file, s->line);
	}
	return r;
}

static int splice_file(struct load *ld, const char *file,
		       const char *text, size_t len, int depth)
{
	struct source s = { file, text, len, 0, 1, true };

	while (s.i < len) {
		char c = text[s.i];
		char next = s.i + 1 < len ? text[s.i + 1] : '\0';

		if (c == '\0') {
			error_at(ld, cur_line(ld), NULL,
				 "syntax error: NUL byte in the file");
			return -1;
		}
		switch (ld->state) {
		case LEX_LINE_COMMENT:
			if (c == '\n')
				ld->state = LEX_CODE;
			put_span(ld, &s, s.i + 1);
			continue;
		case LEX_BLOCK_COMMENT:
			if (c == '*' && next == '/') {
				ld->state = LEX_CODE;
				put_span(ld, &s, s.i + 2);
			} else {
				put_span(ld, &s, s.i + 1);
			}
			continue;
		case LEX_STRING:
			if (c == '\\' && next != '\0') {
				put_span(ld, &s, s.i + 2);
			} else {
				if (c == '"')
					ld->state = LEX_CODE;
				put_span(ld, &s, s.i + 1);
			}
			continue;
		case LEX_CODE:
			break;
		}
		if (c == '"') {
			ld->state = LEX_STRING;
			put_span(ld, &s, s.i + 1);
		} else if (c == '#' || (c == '/' && next == '/')) {
			ld->state = LEX_LINE_COMMENT;
			put_span(ld, &s, s.i + 1);
		} else if (c == '/' && next == '*') {
			ld->state = LEX_BLOCK_COMMENT;
			put_span(ld, &s, s.i + 2);
		} else if (c == '@') {
			if (splice_include(ld, &s, depth) != 0)
				return -1;
		} else if (is_name_start(c)) {
			size_t j = s.i + 1;
			while (j < len && is_name_char(text[j]))
				j++;
			put_span(ld, &s, j);
		} else if (is_digit(c) || c == '.' ||
			   ((c == '-' || c == '+') &&
			    (is_digit(next) || next == '.'))) {
			splice_number(ld, &s);
		} else {
			put_span(ld, &s, s.i + 1);
		}
	}
	/* libconfig itself reports these in the top file; an included file
	 * must not leak a string or comment into the file around it. */
	if (depth > 0 && ld->state != LEX_CODE) {
		if (ld->state == LEX_LINE_COMMENT) {
			ld->state = LEX_CODE;
			return 0;
		}
		error_at(ld, cur_line(ld), NULL,
			 "syntax error: unterminated %s",
			 ld->state == LEX_STRING ? "string" : "comment");
		return -1;
	}
	return 0;
}

/*
 * Walking the libconfig tree.  Every setting must be a key of the table,
 * a group on the way to one, or the Listeners list; anything else is
 * reported, and so is a type or value that does not fit.
 */

const char *config_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "an unknown type";
}

static bool is_digest(const char *name)
{
	return name != NULL && strcasecmp(name, "Digest") == 0;
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
		if (is_digest(name))
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
		      config_type_name(config_setting_type(s)));
	find_digest(ld, s, path);
}

static const struct key_def *find_key(enum key_scope scope,
				      const char *path)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].scope == scope && strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

/* Is path a group holding global keys ("Service", "Service.Auth")? */
static bool is_group(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].scope == SCOPE_GLOBAL &&
		    strncmp(keys[i].path, path, n) == 0 &&
		    keys[i].path[n] == '.')
			return true;
	return false;
}

/* For an unknown path, a known one that differs only in case; caller
 * frees. */
static char *suggest(enum key_scope scope, const char *path)
{
	size_t n = strlen(path);
	if (scope == SCOPE_GLOBAL &&
	    strcasecmp(path, CONFIG_LISTENERS_KEY) == 0)
		return xstrdup(CONFIG_LISTENERS_KEY);
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *k = keys[i].path;
		if (keys[i].scope == scope && strncasecmp(k, path, n) == 0 &&
		    (k[n] == '\0' || k[n] == '.'))
			return xstrndup(k, n);
	}
	return NULL;
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
		*why_r = xasprintf("%s at \"%.40s\"", gnutls_strerror(rc), err_pos);
	else
		*why_r = xstrdup(gnutls_strerror(rc));
	return false;
}

/* A string value for key k: checked, and stored unless *failed. */
static void set_string(struct load *ld, const struct key_def *k,
		       const config_setting_t *s, const char *path,
		       void *base)
{
	const char *v = config_setting_get_string(s);
	char *q = quoted(v), *norm = NULL;

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
		error_setting(ld, s, path, "%s may hold only letters, digits, "
			      "'.', '_' and '-'", q);
	} else if ((k->flags & CK_TLS_PRIORITIES) && !tls_priorities_ok(v, &norm)) {
		error_setting(ld, s, path, "%s is not a valid GnuTLS priority "
			      "string (%s)", q, norm);
		free(norm);
	} else {
		free_value(base, k);
		*(char **)field(base, k) = norm != NULL ? norm : xstrdup(v);
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
			error_setting(ld, s, path, "%s authentication is not "
				      "supported by this server",
				      leaf(k->path));
		else
			*(bool *)field(base, k) = config_setting_get_bool(s);
		return;
	case KT_INT: {
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			break;
		int64_t v = type == CONFIG_TYPE_INT
				    ? config_setting_get_int(s)
				    : config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			error_setting(ld, s, path, "value %" PRId64 " is "
				      "out of range (%" PRId64 "..%" PRId64
				      ")", v, k->min, k->max);
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
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			break;
		set_string_list(ld, k, s, path, base);
		return;
	}
	static const char *const expected[] = {
		[KT_BOOL] = "a boolean", [KT_INT] = "an integer",
		[KT_STR] = "a string", [KT_ENUM] = "a string",
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

		if (is_digest(name)) {
			error_digest(ld, s, mpath);
		} else if (k != NULL) {
			set_value(ld, k, s, mpath, base);
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
		const struct key_def *k = &keys[i];
		if (k->scope != SCOPE_LISTENER || !(k->flags & CK_HTTPS_ONLY))
			continue;
		const char *v = *(char **)field(l, k);
		const config_setting_t *m =
			config_setting_get_member(entry, k->path);
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
			error_setting(ld, entry, path, "same address and port "
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
			origin_of(ld, config_setting_source_line(e)).line;
		const config_setting_t *m = config_setting_get_member(e, "CertificateFile");
		l->certificate_line = m != NULL
			? origin_of(ld, config_setting_source_line(m)).line : l->source_line;
		m = config_setting_get_member(e, "KeyFile");
		l->key_line = m != NULL
			? origin_of(ld, config_setting_source_line(m)).line : l->source_line;
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

static int compare_errors(const void *a, const void *b)
{
	const struct load_error *x = a, *y = b;
	if (x->tline != y->tline)
		return x->tline < y->tline ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Ends a load: returns the config, or NULL with the errors in *error_r. */
static struct winrmd_config *load_finish(struct load *ld, char **error_r)
{
	struct winrmd_config *cfg = ld->cfg;
	struct buf b = BUF_INIT;

	*error_r = NULL;
	if (ld->n_errors > 0) {
		qsort(ld->errors, ld->n_errors, sizeof(*ld->errors),
		      compare_errors);
		for (size_t i = 0; i < ld->n_errors; i++)
			buf_printf(&b, "%s%s", i > 0 ? "\n" : "",
				   ld->errors[i].text);
		*error_r = buf_steal(&b);
		config_unref(cfg);
		cfg = NULL;
	}
	load_release(ld);
	return cfg;
}

/* Splices, parses and walks text, the contents of ld->name. */
static struct winrmd_config *load_text(struct load *ld, const char *text,
				       size_t len, char **error_r)
{
	config_t lc;

	ld->cfg = config_new_defaults();
	free(ld->cfg->source);
	ld->cfg->source = xstrdup(ld->name);
	new_line(ld, ld->name, 1);
	ld->total = len;
	if (len > CONFIG_MAX_SIZE) {
		error_at(ld, 0, NULL, "larger than %d bytes", CONFIG_MAX_SIZE);
		return load_finish(ld, error_r);
	}
	if (splice_file(ld, ld->name, text, len, 0) != 0 || ld->n_errors > 0)
		return load_finish(ld, error_r);
	/* libconfig 1.5 rejects a # or // comment that ends the text */
	if (ld->text.len > 0 && ld->text.data[ld->text.len - 1] != '\n') {
		struct origin last = ld->lines[ld->n_lines - 1];
		buf_append_byte(&ld->text, '\n');
		new_line(ld, last.file, last.line + 1);
	}

	config_init(&lc);
	buf_append(&ld->text, "", 0);
	if (config_read_string(&lc, (const char *)ld->text.data)) {
		walk_group(ld, config_root_setting(&lc), "", "", SCOPE_GLOBAL,
			   ld->cfg);
	} else {
		const char *why = config_error_text(&lc);
		unsigned line = (unsigned)config_error_line(&lc);
		if (why == NULL || strcmp(why, "syntax error") == 0)
			error_at(ld, line, NULL, "syntax error");
		else
			error_at(ld, line, NULL, "syntax error: %s", why);
	}
	config_destroy(&lc);
	return load_finish(ld, error_r);
}

struct winrmd_config *config_load_string(const char *text, const char *name,
					 char **error_r)
{
	struct load ld;
	load_init(&ld, name != NULL ? name : "<string>");
	return load_text(&ld, text, strlen(text), error_r);
}

/*
 * Files named by the configuration must be usable: an HTTPS listener's
 * certificate and key (readable, PEM, matching), the client CA file.
 * Only for files on disk: the listener, which reloads from the helper's
 * dump after dropping privileges, cannot read root-only keys and need not.
 */
int config_check_files(const struct winrmd_config *cfg, const char *path,
		       unsigned flags, char **error_r, char **warnings_r)
{
	struct buf errs = BUF_INIT, warns = BUF_INIT;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *l = &cfg->listeners[i];
		if (l->transport != TRANSPORT_HTTPS || !l->enabled)
			continue;
		char err[512];
		int r = x509_check_keypair(l->certificate_file,
					   (flags & CONFIG_CHECK_KEYS) ? l->key_file : NULL,
					   err, sizeof(err));
		bool key = r == -2;
		struct buf *to = r < 0 ? &errs : &warns;
		if (r != 0)
			buf_printf(to, "%s%s:%d: Listeners.[%zu].%s: %s%s",
				   to->len ? "\n" : "", path,
				   key ? l->key_line : l->certificate_line, i,
				   key ? "KeyFile" : "CertificateFile",
				   r > 0 ? "warning: " : "", err);
	}
	if (warnings_r != NULL)
		*warnings_r = warns.len ? buf_steal(&warns) : NULL;
	buf_release(&warns);
	if (cfg->client_ca_file[0] != '\0' && access(cfg->client_ca_file, R_OK) != 0)
		buf_printf(&errs, "%s%s: Service.Auth.ClientCAFile: %s: %s",
			   errs.len ? "\n" : "", path, cfg->client_ca_file,
			   strerror(errno));
	/* The mapping table is its own file; its messages name it. */
	struct certmap *t = NULL;
	char *cm_error = NULL;
	if (certmap_load_file(cfg->certmapping_file, &t, &cm_error) != 0) {
		buf_printf(&errs, "%s%s", errs.len ? "\n" : "", cm_error);
		free(cm_error);
	}
	certmap_free(t);
	if (errs.len == 0)
		return 0;
	*error_r = buf_steal(&errs);
	return -1;
}

struct winrmd_config *config_load_file(const char *path, char **error_r)
{
	struct load ld;
	char why[256];
	size_t len;

	load_init(&ld, path);
	char *text = read_file(path, &len, why, sizeof(why));
	if (text == NULL) {
		ld.cfg = config_new_defaults();
		error_at(&ld, 0, NULL, "%s", why);
		return load_finish(&ld, error_r);
	}
	/* @include names are relative to the directory of the file */
	const char *slash = strrchr(path, '/');
	if (slash != NULL)
		ld.include_dir = xstrndup(path, slash == path
						      ? 1
						      : (size_t)(slash - path));
	struct winrmd_config *cfg = load_text(&ld, text, len, error_r);
	free(text);
	return cfg;
}

/*
 * Dump.  Keys in table order, groups opened and closed as the paths
 * change, the listeners as one list where the first listener key is.
 */

static void indent(struct buf *out, int depth)
{
	for (int i = 0; i < depth; i++)
		buf_append_byte(out, '\t');
}

static int dots(const char *path)
{
	int n = 0;
	for (; *path != '\0'; path++)
		n += *path == '.';
	return n;
}

/* Closes the groups of from that to is not in, opens those of to; returns
 * the depth of to's keys. */
static int change_groups(struct buf *out, const char *from, const char *to)
{
	int fd = dots(from), td = dots(to), common = 0;

	while (common < fd && common < td) {
		size_t a = strcspn(from, "."), b = strcspn(to, ".");
		if (a != b || memcmp(from, to, a) != 0)
			break;
		from += a + 1;
		to += b + 1;
		common++;
	}
	for (int d = fd; d > common; d--) {
		indent(out, d - 1);
		buf_append_str(out, "};\n");
	}
	for (int d = common; d < td; d++) {
		size_t b = strcspn(to, ".");
		indent(out, d);
		buf_printf(out, "%.*s = {\n", (int)b, to);
		to += b + 1;
	}
	return td;
}

static void dump_key(struct buf *out, const struct key_def *k,
		     const void *base, int depth)
{
	indent(out, depth);
	buf_printf(out, "%s = ", leaf(k->path));
	switch (k->type) {
	case KT_BOOL:
		buf_append_str(out, *(const bool *)cfield(base, k) ? "true"
								   : "false");
		break;
	case KT_INT: {
		int64_t v = get_int(base, k);
		/* libconfig 1.5 truncates larger values without the L */
		buf_printf(out, "%" PRId64 "%s", v,
			   v < INT32_MIN || v > INT32_MAX ? "L" : "");
		break;
	}
	case KT_STR:
		put_quoted(out, *(char *const *)cfield(base, k));
		break;
	case KT_ENUM:
		put_quoted(out, k->values->name((int)get_int(base, k)));
		break;
	case KT_LIST: {
		char *const *v = *(char **const *)cfield(base, k);
		size_t n = *(const size_t *)((const char *)base +
					     k->count_offset);
		buf_append_str(out, "[");
		for (size_t i = 0; i < n; i++) {
			buf_append_str(out, i > 0 ? ", " : " ");
			put_quoted(out, v[i]);
		}
		buf_append_str(out, " ]");
		break;
	}
	}
	buf_append_str(out, ";\n");
}

static void dump_listeners(const struct winrmd_config *cfg, struct buf *out)
{
	buf_append_str(out, CONFIG_LISTENERS_KEY " = (\n");
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		buf_append_str(out, "\t{\n");
		for (size_t j = 0; j < N_KEYS; j++)
			if (keys[j].scope == SCOPE_LISTENER)
				dump_key(out, &keys[j], &cfg->listeners[i], 2);
		buf_append_str(out,
			       i + 1 < cfg->n_listeners ? "\t},\n" : "\t}\n");
	}
	buf_append_str(out, ");\n");
}

void config_dump(const struct winrmd_config *cfg, struct buf *out)
{
	const char *prev = "";
	bool listeners_done = false;

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &keys[i];
		if (k->scope == SCOPE_LISTENER) {
			if (!listeners_done) {
				change_groups(out, prev, "");
				prev = "";
				dump_listeners(cfg, out);
				listeners_done = true;
			}
			continue;
		}
		dump_key(out, k, cfg, change_groups(out, prev, k->path));
		prev = k->path;
	}
	change_groups(out, prev, "");
}

/* ---- single values, for the winrm/config resources ---- */

static const struct key_def *find_global(const char *path)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].scope == SCOPE_GLOBAL &&
		    strcasecmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

int config_value_text(const struct winrmd_config *cfg, const char *path,
		      struct buf *out)
{
	const struct key_def *k = find_global(path);
	if (k == NULL || k->type == KT_LIST)
		return -1;
	switch (k->type) {
	case KT_BOOL:
		buf_append_str(out, *(const bool *)cfield(cfg, k) ? "true" : "false");
		break;
	case KT_INT:
		buf_printf(out, "%" PRId64, get_int(cfg, k));
		break;
	case KT_STR:
		buf_append_str(out, *(char *const *)cfield(cfg, k));
		break;
	case KT_ENUM:
		buf_append_str(out, k->values->name((int)get_int(cfg, k)));
		break;
	case KT_LIST:
		break;
	}
	return 0;
}

int config_value_literal(const char *path, const char *text, struct buf *out,
			 const char **error_r)
{
	const struct key_def *k = find_global(path);
	if (k == NULL || k->type == KT_LIST) {
		*error_r = "no such setting";
		return -1;
	}
	if (is_digest(leaf(k->path))) {
		*error_r = "Digest authentication is not supported by this server";
		return -1;
	}
	switch (k->type) {
	case KT_BOOL: {
		bool v;
		if (str_parse_bool(text, &v) != 0) {
			*error_r = "expected true or false";
			return -1;
		}
		if (v && (k->flags & CK_UNSUPPORTED)) {
			*error_r = "not supported by this server";
			return -1;
		}
		buf_append_str(out, v ? "true" : "false");
		return 0;
	}
	case KT_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0') {
			*error_r = "expected an integer";
			return -1;
		}
		if (v < k->min || v > k->max) {
			*error_r = "value out of range";
			return -1;
		}
		buf_printf(out, "%lld%s", v, v < INT32_MIN || v > INT32_MAX ? "L" : "");
		return 0;
	}
	case KT_ENUM: {
		int v = k->values->parse(text);
		if (v < 0) {
			*error_r = "not one of the allowed values";
			return -1;
		}
		put_quoted(out, k->values->name(v));
		return 0;
	}
	case KT_STR:
		if ((k->flags & CK_NONEMPTY) && text[0] == '\0') {
			*error_r = "must not be empty";
			return -1;
		}
		put_quoted(out, text);
		return 0;
	case KT_LIST:
		break;
	}
	*error_r = "not settable";
	return -1;
}

bool config_ws_settable(const char *path)
{
	static const char *const settable[] = {
		"Service.MaxEnvelopeSizekb", "Service.MaxTimeoutms",
		"Service.MaxConnections", "Service.MaxConcurrentOperationsPerUser",
		"Service.AllowUnencrypted",
		"Service.Auth.Basic", "Service.Auth.Kerberos",
		"Service.Auth.Negotiate", "Service.Auth.Certificate",
		"Service.Auth.CredSSP", "Service.Auth.CbtHardeningLevel",
		"Winrs.AllowRemoteShellAccess", "Winrs.IdleTimeout",
		"Winrs.MaxConcurrentUsers", "Winrs.MaxShellRunTime",
		"Winrs.MaxProcessesPerShell", "Winrs.MaxMemoryPerShellMB",
		"Winrs.MaxShellsPerUser", NULL,
	};
	for (size_t i = 0; settable[i] != NULL; i++)
		if (strcmp(settable[i], path) == 0)
			return true;
	return false;
}

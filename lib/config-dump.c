/*
 * config-dump.c - a configuration as text: the whole of it in libconfig
 * syntax (config_dump: "winrmd -T", and what the helper sends the
 * listener on a reload), and single settings, as WS-Management shows them
 * and as the libconfig literal a winrm/config Put writes into the file.
 *
 * The dump holds every key of the table (config-table.h), in table order,
 * and loads back to a configuration whose dump is byte-identical.  Strings
 * are quoted with lcfg_put_quoted.
 *
 * Must not: log, exit, keep global state, or change a configuration.
 *
 * Entry points: config_dump, config_value_text, config_value_literal,
 * config_listener_literal, config_listener_key, config_dump_listener.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/config-keys.h"
#include "lib/config-table.h"
#include "lib/lcfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define N_KEYS config_n_keys

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

static void dump_key(struct buf *out, const struct key_def *k, const void *base,
		     int depth)
{
	indent(out, depth);
	buf_printf(out, "%s = ", key_leaf(k->path));
	switch (k->type) {
	case KT_BOOL:
		buf_append_str(out, *(const bool *)key_cfield(base, k)
					    ? "true"
					    : "false");
		break;
	case KT_INT: {
		int64_t v = key_get_int(base, k);
		/* libconfig 1.5 truncates larger values without the L */
		buf_printf(out, "%" PRId64 "%s", v,
			   v < INT32_MIN || v > INT32_MAX ? "L" : "");
		break;
	}
	case KT_STR:
		lcfg_put_quoted(out, *(char *const *)key_cfield(base, k));
		break;
	case KT_ENUM:
		lcfg_put_quoted(out,
				k->values->name((int)key_get_int(base, k)));
		break;
	case KT_LIST: {
		char *const *v = *(char **const *)key_cfield(base, k);
		size_t n = *(const size_t *)((const char *)base +
					     k->count_offset);
		buf_append_str(out, "[");
		for (size_t i = 0; i < n; i++) {
			buf_append_str(out, i > 0 ? ", " : " ");
			lcfg_put_quoted(out, v[i]);
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
			if (config_keys[j].scope == SCOPE_LISTENER)
				dump_key(out, &config_keys[j],
					 &cfg->listeners[i], 2);
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
		const struct key_def *k = &config_keys[i];
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

/* A KT_BOOL, KT_INT or KT_ENUM value as a number. */
static int64_t key_get_bool_or_int(const void *base, const struct key_def *k)
{
	if (k->type == KT_BOOL)
		return *(const bool *)key_cfield(base, k) ? 1 : 0;
	return key_get_int(base, k);
}

/* ---- single values, for the winrm/config resources ---- */

static const struct key_def *find_global(const char *path)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].scope == SCOPE_GLOBAL &&
		    strcasecmp(config_keys[i].path, path) == 0)
			return &config_keys[i];
	return NULL;
}

int config_value_text(const struct winrmd_config *cfg, const char *path,
		      struct buf *out)
{
	const struct key_def *k = find_global(path);
	if (k == NULL)
		return -1;
	switch (k->type) {
	case KT_BOOL:
		buf_append_str(out, *(const bool *)key_cfield(cfg, k)
					    ? "true"
					    : "false");
		break;
	case KT_INT: buf_printf(out, "%" PRId64, key_get_int(cfg, k)); break;
	case KT_STR:
		buf_append_str(out, *(char *const *)key_cfield(cfg, k));
		break;
	case KT_ENUM:
		buf_append_str(out, k->values->name((int)key_get_int(cfg, k)));
		break;
	case KT_LIST: {
		/* As Windows writes its lists (TrustedHosts): one string,
		 * items separated by commas. */
		char *const *v = *(char **const *)key_cfield(cfg, k);
		size_t n = *(const size_t *)((const char *)cfg +
					     k->count_offset);
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				buf_append_byte(out, ',');
			buf_append_str(out, v[i]);
		}
		break;
	}
	}
	return 0;
}

/* The libconfig array for a list written as WS-Management gives it:
 * "a,b,c", blanks around items ignored, "" for no item. */
static int list_literal(const struct key_def *k, const char *text,
			struct buf *out, const char **error_r)
{
	struct buf lit = BUF_INIT;
	const char *p = text + strspn(text, " \t");
	buf_append_str(&lit, "[");
	for (size_t i = 0; *p != '\0'; i++) {
		size_t len = strcspn(p, ",");
		size_t end = len;
		while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		char *item = xstrndup(p, end);
		const char *why = NULL;
		if (item[0] == '\0')
			why = "an item of the list is empty (items are "
			      "separated by commas)";
		else if (k->flags & CK_DOMAIN)
			why = config_domain_ok(item);
		if (why != NULL) {
			*error_r = why;
			free(item);
			buf_release(&lit);
			return -1;
		}
		buf_append_str(&lit, i > 0 ? ", " : " ");
		lcfg_put_quoted(&lit, item);
		free(item);
		p += len;
		if (*p == ',') {
			p++;
			p += strspn(p, " \t");
			if (*p == '\0') {
				*error_r = "the list ends with a comma";
				buf_release(&lit);
				return -1;
			}
		}
	}
	buf_append_str(&lit, " ]");
	buf_append(out, lit.data, lit.len);
	buf_release(&lit);
	return 0;
}

static int key_literal(const struct key_def *k, const char *text,
		       struct buf *out, const char **error_r);

int config_value_literal(const char *path, const char *text, struct buf *out,
			 const char **error_r)
{
	const struct key_def *k = find_global(path);
	if (k == NULL) {
		*error_r = "no such setting";
		return -1;
	}
	return key_literal(k, text, out, error_r);
}

int config_listener_literal(const char *name, const char *text, struct buf *out,
			    const char **error_r)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		if (k->scope == SCOPE_LISTENER &&
		    strcasecmp(k->path, name) == 0)
			return key_literal(k, text, out, error_r);
	}
	*error_r = "no such listener setting";
	return -1;
}

const char *config_listener_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].scope == SCOPE_LISTENER &&
		    strcasecmp(config_keys[i].path, name) == 0)
			return config_keys[i].path;
	return NULL;
}

void config_dump_listener(const struct listener_config *l, struct buf *out)
{
	size_t first = out->len;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		if (k->scope != SCOPE_LISTENER)
			continue;
		struct buf v = BUF_INIT;
		dump_key(&v, k, l, 0);
		/* Address and Transport always; the rest where it is not the
		 * default (a port that is its transport's default included) */
		bool keep = strcmp(k->path, "Address") == 0 ||
			    strcmp(k->path, "Transport") == 0;
		if (!keep && k->type == KT_INT && (k->flags & CK_PORT))
			keep = key_get_int(l, k) !=
			       (l->transport == TRANSPORT_HTTPS ? 5986 : 5985);
		else if (!keep && k->type == KT_STR)
			keep = strcmp(*(char *const *)key_cfield(l, k),
				      k->def_str) != 0;
		else if (!keep && (k->type == KT_BOOL || k->type == KT_INT ||
				   k->type == KT_ENUM))
			keep = key_get_bool_or_int(l, k) != k->def;
		if (keep) {
			if (out->len > first)
				buf_append_byte(out, ' ');
			/* dump_key wrote "Name = value;\n" */
			buf_append(out, v.data, v.len - 1);
		}
		buf_release(&v);
	}
}

static int key_literal(const struct key_def *k, const char *text,
		       struct buf *out, const char **error_r)
{
	if (key_is_digest(key_leaf(k->path))) {
		*error_r =
			"Digest authentication is not supported by this server";
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
		buf_printf(out, "%lld%s", v,
			   v < INT32_MIN || v > INT32_MAX ? "L" : "");
		return 0;
	}
	case KT_ENUM: {
		int v = k->values->parse(text);
		if (v < 0) {
			*error_r = "not one of the allowed values";
			return -1;
		}
		lcfg_put_quoted(out, k->values->name(v));
		return 0;
	}
	case KT_STR:
		if ((k->flags & CK_NONEMPTY) && text[0] == '\0') {
			*error_r = "must not be empty";
			return -1;
		}
		lcfg_put_quoted(out, text);
		return 0;
	case KT_LIST: return list_literal(k, text, out, error_r);
	}
	*error_r = "not settable";
	return -1;
}

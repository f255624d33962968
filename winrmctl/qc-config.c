/*
 * qc-config.c - whose winrmd.conf is, and the listener groups winrmctl
 * quickconfig adds to it, as text edits.  See qc-config.h.
 *
 * Must not: read or write files, print, or exit.
 *
 * Entry points: qc_classify, qc_body_offset, qc_seal, qc_add_listener,
 * qc_listener_name.
 */
#include "autoconfig.h"

#include "winrmctl/qc-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <openssl/evp.h>

#include "lib/config-keys.h"
#include "lib/lcfg.h"

#define SHA256_HEX 64

/* ---- the checksum line ---- */

static void sha256_hex(const char *data, size_t len, char out[SHA256_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort(); /* SHA-256 is always there in OpenSSL 3 */
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

size_t qc_body_offset(const char *text, size_t len)
{
	size_t pl = strlen(QC_MARKER_PREFIX);

	if (len < pl || memcmp(text, QC_MARKER_PREFIX, pl) != 0)
		return 0;
	const char *nl = memchr(text, '\n', len);
	return nl != NULL ? (size_t)(nl - text) + 1 : len;
}

enum qc_origin qc_classify(const char *text, size_t len, const char *deflt,
			   size_t dlen)
{
	size_t off = qc_body_offset(text, len);

	if (off > 0) {
		size_t pl = strlen(QC_MARKER_PREFIX);
		char want[SHA256_HEX + 1];
		sha256_hex(text + off, len - off, want);
		if (off >= pl + SHA256_HEX &&
		    memcmp(text + pl, want, SHA256_HEX) == 0)
			return QC_OURS;
		return QC_EDITED;
	}
	if (deflt != NULL && dlen == len && memcmp(deflt, text, len) == 0)
		return QC_DEFAULT;
	return QC_EDITED;
}

void qc_seal(struct buf *out, const char *body, size_t len)
{
	char hex[SHA256_HEX + 1];

	sha256_hex(body, len, hex);
	buf_printf(out,
		   "%s%s (of the rest of this file: edited, quickconfig "
		   "needs -force)\n",
		   QC_MARKER_PREFIX, hex);
	buf_append(out, body, len);
}

/* ---- finding the Listeners list ---- */

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*';
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* From i, past white space and whole comments: the next code byte (or
 * len). */
static size_t skip_space(const char *s, size_t len, size_t i)
{
	while (i < len) {
		if (space(s[i])) {
			i++;
			continue;
		}
		enum lcfg_lex st = LCFG_CODE;
		size_t n = lcfg_lex_step(&st, s, len, i);
		if (n == 0 || st == LCFG_STRING)
			break; /* code, or a string: not to skip */
		i += n;
		while (i < len && st != LCFG_CODE)
			i += lcfg_lex_step(&st, s, len, i);
	}
	return i;
}

/*
 * The top-level setting name (outside every group, list, array, string
 * and comment) in s: the offset of its opening '(' and of the matching
 * ')' and of the last code byte before that ')' which is not white space.
 * Returns 0, 1 when there is no such setting, -1 when its value is not a
 * list.
 */
static int find_list(const char *s, size_t len, const char *name,
		     size_t *open_r, size_t *close_r, size_t *last_r)
{
	size_t nl = strlen(name);
	enum lcfg_lex st = LCFG_CODE;
	int depth = 0;

	for (size_t i = 0; i < len;) {
		size_t n = lcfg_lex_step(&st, s, len, i);
		if (n > 0) {
			i += n;
			continue;
		}
		char c = s[i];
		if (c == '{' || c == '(' || c == '[')
			depth++;
		else if (c == '}' || c == ')' || c == ']')
			depth--;
		if (depth != 0 || i + nl > len ||
		    memcmp(s + i, name, nl) != 0 ||
		    (i > 0 && name_char(s[i - 1])) ||
		    (i + nl < len && name_char(s[i + nl]))) {
			i++;
			continue;
		}
		size_t j = skip_space(s, len, i + nl);
		if (j >= len || (s[j] != '=' && s[j] != ':')) {
			i += nl;
			continue;
		}
		j = skip_space(s, len, j + 1);
		if (j >= len || s[j] != '(')
			return -1;
		/* the matching ')' */
		size_t last = j;
		int d = 0;
		enum lcfg_lex ls = LCFG_CODE;
		for (size_t k = j; k < len;) {
			enum lcfg_lex before = ls;
			size_t m = lcfg_lex_step(&ls, s, len, k);
			if (m > 0) {
				/* a string is code, and counts as "last";
				 * a comment does not */
				if (before == LCFG_STRING ||
				    (before == LCFG_CODE && s[k] == '"'))
					last = k + m - 1;
				k += m;
				continue;
			}
			char ch = s[k];
			if (ch == '{' || ch == '(' || ch == '[')
				d++;
			else if (ch == '}' || ch == ')' || ch == ']')
				d--;
			if (d == 0 && ch == ')') {
				*open_r = j;
				*close_r = k;
				*last_r = last;
				return 0;
			}
			if (!space(ch))
				last = k;
			k++;
		}
		return -1; /* unterminated: libconfig would not have parsed it */
	}
	return 1;
}

/* ---- rendering groups ---- */

static void render_group(struct buf *out, enum listener_transport t,
			 const char *address, int port, const char *prefix,
			 const char *cert, const char *key, bool enabled,
			 const char *comment)
{
	buf_append_str(out, "\t{\n");
	if (comment != NULL)
		buf_printf(out, "\t\t# %s\n", comment);
	buf_append_str(out, "\t\tAddress = ");
	lcfg_put_quoted(out, address);
	buf_printf(out, ";\n\t\tPort = %d;\n\t\tTransport = \"%s\";\n", port,
		   config_transport_name(t));
	buf_append_str(out, "\t\tURLPrefix = ");
	lcfg_put_quoted(out, prefix);
	buf_append_str(out, ";\n");
	if (t == TRANSPORT_HTTPS) {
		buf_append_str(out, "\t\tCertificateFile = ");
		lcfg_put_quoted(out, cert);
		buf_append_str(out, ";\n\t\tKeyFile = ");
		lcfg_put_quoted(out, key);
		buf_append_str(out, ";\n");
	}
	buf_printf(out, "\t\tEnabled = %s;\n\t}", enabled ? "true" : "false");
}

static void render_new(struct buf *out, const struct qc_listener *l)
{
	render_group(out, l->transport, "*", l->port, "wsman",
		     l->cert_file != NULL ? l->cert_file : "",
		     l->key_file != NULL ? l->key_file : "", true,
		     "added by winrmctl quickconfig");
}

static void splice(struct buf *t, size_t at, const char *with)
{
	struct buf out = BUF_INIT;

	buf_append(&out, t->data, at);
	buf_append_str(&out, with);
	buf_append(&out, t->data + at, t->len - at);
	buf_release(t);
	*t = out;
}

int qc_add_listener(struct buf *text, const char *dir,
		    const struct winrmd_config *cfg,
		    const struct qc_listener *l, char **error_r)
{
	config_t lc;
	int rc = -1;
	const char *s = text->data != NULL ? (const char *)text->data : "";

	config_init(&lc);
	config_set_include_dir(&lc, dir);
	if (config_read_string(&lc, s) != CONFIG_TRUE) {
		*error_r = xasprintf("the file does not parse: line %d: %s",
				     config_error_line(&lc),
				     config_error_text(&lc));
		goto out;
	}
	config_setting_t *set = config_lookup(&lc, CONFIG_LISTENERS_KEY);
	if (set != NULL && config_setting_source_file(set) != NULL) {
		*error_r = xasprintf("%s is set in the included file %s: add "
				     "the listener there",
				     CONFIG_LISTENERS_KEY,
				     config_setting_source_file(set));
		goto out;
	}
	if (set != NULL && !config_setting_is_list(set)) {
		*error_r = xasprintf("%s is not a list", CONFIG_LISTENERS_KEY);
		goto out;
	}
	size_t open = 0, close = 0, last = 0;
	int found = find_list(s, text->len, CONFIG_LISTENERS_KEY, &open, &close,
			      &last);
	if (set != NULL && found != 0) {
		*error_r = xasprintf("cannot find the %s list in the text",
				     CONFIG_LISTENERS_KEY);
		goto out;
	}
	struct buf ins = BUF_INIT;
	if (set == NULL) {
		/* No list: winrmd's listeners are cfg's (the default HTTP
		 * one); an explicit list replaces them, so it holds them. */
		if (text->len > 0 && s[text->len - 1] != '\n')
			buf_append_byte(&ins, '\n');
		buf_printf(&ins,
			   "\n# Listeners (winrm/config/listener), written by "
			   "winrmctl quickconfig.\n"
			   "# Without this setting winrmd has one listener, "
			   "HTTP on every address,\n"
			   "# port 5985.  See winrmd.conf(5).\n"
			   "%s = (\n",
			   CONFIG_LISTENERS_KEY);
		for (size_t i = 0; i < cfg->n_listeners; i++) {
			const struct listener_config *e = &cfg->listeners[i];
			render_group(&ins, e->transport, e->address, e->port,
				     e->url_prefix, e->certificate_file,
				     e->key_file, e->enabled, NULL);
			buf_append_str(&ins, ",\n");
		}
		render_new(&ins, l);
		buf_append_str(&ins, "\n);\n");
		buf_append(text, ins.data, ins.len);
		buf_release(&ins);
		rc = 0;
		goto out;
	}
	/* After the last entry, before what follows it (comments...). */
	char after = s[last];
	if (last == open)
		buf_append_str(&ins, "\n");
	else if (after == ',')
		buf_append_str(&ins, "\n");
	else if (after == '}')
		buf_append_str(&ins, ",\n");
	else {
		*error_r = xasprintf("the %s list holds something other than "
				     "groups",
				     CONFIG_LISTENERS_KEY);
		goto out;
	}
	render_new(&ins, l);
	if (last == open)
		buf_append_str(&ins, "\n");
	splice(text, last + 1, (const char *)ins.data);
	buf_release(&ins);
	(void)close;
	rc = 0;
out:
	config_destroy(&lc);
	return rc;
}

char *qc_listener_name(enum listener_transport t, const char *address, int port)
{
	int def = t == TRANSPORT_HTTPS ? 5986 : 5985;

	if (port == def || port == 0)
		return xasprintf("%s://%s", config_transport_name(t), address);
	return xasprintf("%s://%s:%d", config_transport_name(t), address, port);
}

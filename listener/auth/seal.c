/*
 * seal.c - parsing and building of MS-WSMV encrypted message bodies
 * (multipart/encrypted and multipart/x-multi-encrypted), byte level only.
 *
 * Must not: decrypt, log, exit, read outside the body it was given, or
 * accept a length field it has not checked against the bytes present.
 * Entry points: seal_is_encrypted, seal_parse, seal_message_release,
 * seal_length_ok, seal_build, seal_finish, seal_response_content_type
 * (seal.h documents the layout and every leniency).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listener/auth/seal.h"

static const char *const protocols[] = {
	SEAL_PROTO_SPNEGO,
	SEAL_PROTO_KERBEROS,
	SEAL_PROTO_CREDSSP,
};
#define N_PROTOCOLS (sizeof(protocols) / sizeof(protocols[0]))

/* Indexed like protocols[], plain then multi. */
#define RESPONSE_CT(media, proto)                                              \
	media ";protocol=\"" proto "\";boundary=\"" SEAL_BOUNDARY "\""
static const char *const response_types[2][N_PROTOCOLS] = {
	{
		RESPONSE_CT("multipart/encrypted", SEAL_PROTO_SPNEGO),
		RESPONSE_CT("multipart/encrypted", SEAL_PROTO_KERBEROS),
		RESPONSE_CT("multipart/encrypted", SEAL_PROTO_CREDSSP),
	},
	{
		RESPONSE_CT("multipart/x-multi-encrypted", SEAL_PROTO_SPNEGO),
		RESPONSE_CT("multipart/x-multi-encrypted", SEAL_PROTO_KERBEROS),
		RESPONSE_CT("multipart/x-multi-encrypted", SEAL_PROTO_CREDSSP),
	},
};

/* A (pointer, length) view of bytes that are not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

/* The Content-Type header, parsed. */
struct ctype {
	bool multi;
	int proto; /* index into protocols[] */
	char boundary[SEAL_BOUNDARY_MAX + 1];
	size_t boundary_len;
};

static bool is_ws(int c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct span span_trim(struct span s)
{
	while (s.n > 0 && is_space((unsigned char)s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_space((unsigned char)s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool span_ieq(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* A protocol name (trimmed, possibly quoted) -> index, or -1. */
static int protocol_index(struct span s)
{
	s = span_trim(s);
	if (s.n >= 2 && s.p[0] == '"' && s.p[s.n - 1] == '"') {
		s.p++;
		s.n -= 2;
	}
	for (size_t i = 0; i < N_PROTOCOLS; i++)
		if (span_ieq(s, protocols[i]))
			return (int)i;
	return -1;
}

/*
 * Reads one parameter value at *pp (quoted-string with backslash escapes,
 * or a token running to ';' with outer whitespace trimmed) into out
 * (NUL-terminated, truncated at outlen - 1; *full_len gets the real
 * length).  Returns an error text or NULL.
 */
static const char *param_value(const char **pp, char *out, size_t outlen,
			       size_t *full_len)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '"') {
		p++;
		for (;;) {
			if (*p == '\0')
				return "unterminated quoted parameter in "
				       "Content-Type";
			if (*p == '"')
				break;
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < outlen)
				out[n] = *p;
			n++;
			p++;
		}
		p++;
		while (*p != '\0' && *p != ';')
			p++;
	} else {
		const char *start = p, *end;
		while (*p != '\0' && *p != ';')
			p++;
		end = p;
		while (end > start && is_space((unsigned char)end[-1]))
			end--;
		for (const char *q = start; q < end; q++) {
			if (n + 1 < outlen)
				out[n] = *q;
			n++;
		}
	}
	out[n < outlen ? n : outlen - 1] = '\0';
	*full_len = n;
	*pp = p;
	return NULL;
}

static const char *ctype_parse(const char *ct, struct ctype *out)
{
	static const char multipart[] = "multipart/encrypted";
	static const char xmulti[] = "multipart/x-multi-encrypted";
	bool have_proto = false, have_boundary = false;
	char value[SEAL_BOUNDARY_MAX + 2];
	size_t vlen;

	memset(out, 0, sizeof(*out));
	out->proto = -1;
	if (ct == NULL)
		return "no Content-Type";
	while (is_space((unsigned char)*ct))
		ct++;
	const char *mt = ct;
	while (*ct != '\0' && *ct != ';' && !is_space((unsigned char)*ct))
		ct++;
	struct span media = { mt, (size_t)(ct - mt) };
	if (span_ieq(media, xmulti))
		out->multi = true;
	else if (!span_ieq(media, multipart))
		return "Content-Type is not multipart/encrypted";

	for (;;) {
		while (is_space((unsigned char)*ct) || *ct == ';')
			ct++;
		if (*ct == '\0')
			break;
		const char *name = ct;
		while (*ct != '\0' && *ct != '=' && *ct != ';')
			ct++;
		if (*ct != '=')
			return "malformed Content-Type parameter";
		struct span pname = span_trim(
			(struct span){ name, (size_t)(ct - name) });
		ct++;
		while (is_ws((unsigned char)*ct))
			ct++;
		const char *err = param_value(&ct, value, sizeof(value), &vlen);
		if (err != NULL)
			return err;
		if (span_ieq(pname, "protocol") && !have_proto) {
			have_proto = true;
			out->proto = protocol_index(
				(struct span){ value, strlen(value) });
			if (out->proto < 0 || vlen >= sizeof(value))
				return "unsupported encryption protocol";
		} else if (span_ieq(pname, "boundary") && !have_boundary) {
			have_boundary = true;
			if (vlen == 0)
				return "empty boundary parameter";
			if (vlen > SEAL_BOUNDARY_MAX)
				return "boundary parameter too long";
			memcpy(out->boundary, value, vlen + 1);
			out->boundary_len = vlen;
		}
	}
	if (!have_proto)
		return "Content-Type has no protocol parameter";
	if (!have_boundary) {
		strcpy(out->boundary, SEAL_BOUNDARY);
		out->boundary_len = strlen(SEAL_BOUNDARY);
	}
	return NULL;
}

bool seal_is_encrypted(const char *content_type, char *protocol,
		       size_t protocol_len)
{
	struct ctype ct;

	if (protocol != NULL && protocol_len > 0)
		protocol[0] = '\0';
	if (ctype_parse(content_type, &ct) != NULL)
		return false;
	if (protocol != NULL && protocol_len > 0)
		snprintf(protocol, protocol_len, "%s", protocols[ct.proto]);
	return true;
}

/* The body being parsed. */
struct cursor {
	const uint8_t *b;
	size_t len;
	size_t pos;
	const struct ctype *ct;
};

/*
 * Whether a delimiter starts at pos: "--", optional blanks, the boundary
 * (any case).  On success *after is the first byte after the boundary and
 * *closing tells whether "--" follows it (then *after is past that too).
 */
static bool delim_at(const struct cursor *c, size_t pos, size_t *after,
		     bool *closing)
{
	const uint8_t *b = c->b;
	size_t len = c->len, blen = c->ct->boundary_len;

	if (len - pos < 2 || b[pos] != '-' || b[pos + 1] != '-')
		return false;
	pos += 2;
	while (pos < len && is_ws(b[pos]))
		pos++;
	if (len - pos < blen ||
	    strncasecmp((const char *)b + pos, c->ct->boundary, blen) != 0)
		return false;
	pos += blen;
	*closing = len - pos >= 2 && b[pos] == '-' && b[pos + 1] == '-';
	*after = *closing ? pos + 2 : pos;
	return true;
}

/* Whether bytes [pos, len) are all whitespace. */
static bool rest_blank(const struct cursor *c, size_t pos)
{
	for (; pos < c->len; pos++)
		if (!is_space(c->b[pos]))
			return false;
	return true;
}

/*
 * After a delimiter's boundary: blanks then CRLF or LF (or the end of the
 * body).  Returns the position after the line end, or (size_t)-1.
 */
static size_t delim_line_end(const struct cursor *c, size_t pos)
{
	while (pos < c->len && is_ws(c->b[pos]))
		pos++;
	if (pos == c->len)
		return pos;
	if (c->b[pos] == '\n')
		return pos + 1;
	if (c->b[pos] == '\r' && pos + 1 < c->len && c->b[pos + 1] == '\n')
		return pos + 2;
	return (size_t)-1;
}

/*
 * Finds the next real delimiter at or after pos: "--" [blanks] boundary
 * followed by "--", by a line end or by the end of the body (a boundary
 * string inside ciphertext followed by anything else does not count).
 * Returns its position or (size_t)-1.
 */
static size_t find_delim(const struct cursor *c, size_t pos)
{
	while (pos < c->len) {
		const uint8_t *hit = memchr(c->b + pos, '-', c->len - pos);
		if (hit == NULL)
			break;
		size_t at = (size_t)(hit - c->b), after;
		bool closing;
		if (delim_at(c, at, &after, &closing) &&
		    (closing || delim_line_end(c, after) != (size_t)-1))
			return at;
		pos = at + 1;
	}
	return (size_t)-1;
}

/*
 * Reads the header line at c->pos: leading blanks skipped, the line end
 * (LF, with an optional CR before it) not included.  Returns false at the
 * end of the body; *terminated tells whether a line end was found.
 */
static bool next_line(struct cursor *c, struct span *line, size_t *start,
		      bool *terminated)
{
	if (c->pos >= c->len)
		return false;
	*start = c->pos;
	const uint8_t *b = c->b + c->pos;
	const uint8_t *nl = memchr(b, '\n', c->len - c->pos);
	size_t n = nl != NULL ? (size_t)(nl - b) : c->len - c->pos;
	*terminated = nl != NULL;
	c->pos += n + (nl != NULL);
	if (n > 0 && b[n - 1] == '\r')
		n--;
	while (n > 0 && is_ws(*b)) {
		b++;
		n--;
	}
	line->p = (const char *)b;
	line->n = n;
	return true;
}

/* Splits "Name: value" (blanks around both trimmed). */
static bool header_split(struct span line, struct span *name,
			 struct span *value)
{
	const char *colon = memchr(line.p, ':', line.n);
	if (colon == NULL)
		return false;
	*name = span_trim((struct span){ line.p, (size_t)(colon - line.p) });
	*value = span_trim((struct span){
		colon + 1, line.n - (size_t)(colon + 1 - line.p) });
	return name->n > 0;
}

/* A header value up to any ';' parameter, trimmed. */
static struct span value_main(struct span v)
{
	const char *semi = memchr(v.p, ';', v.n);
	if (semi != NULL)
		v.n = (size_t)(semi - v.p);
	return span_trim(v);
}

/* What the metadata part says about one group. */
struct group_meta {
	bool have_length;
	size_t length;
	enum seal_charset charset;
};

static const char *parse_length(struct span v, size_t *out)
{
	size_t n = 0;

	if (v.n == 0)
		return "OriginalContent Length= is empty";
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return "OriginalContent Length= is not a decimal "
			       "number";
		if (n > (SEAL_MAX_LENGTH - (size_t)(v.p[i] - '0')) / 10)
			return "OriginalContent Length= too large";
		n = n * 10 + (size_t)(v.p[i] - '0');
	}
	*out = n;
	return NULL;
}

/* "type=...;charset=...;Length=N", fields in any order and case. */
static const char *parse_original(struct span v, struct group_meta *m)
{
	bool have_charset = false;

	m->have_length = false;
	m->charset = SEAL_UTF8;
	while (v.n > 0) {
		const char *semi = memchr(v.p, ';', v.n);
		size_t flen = semi != NULL ? (size_t)(semi - v.p) : v.n;
		struct span f = span_trim((struct span){ v.p, flen });
		v.p += flen;
		v.n -= flen;
		if (v.n > 0) {
			v.p++;
			v.n--;
		}
		const char *eq = memchr(f.p, '=', f.n);
		if (eq == NULL)
			continue;
		struct span name = span_trim(
			(struct span){ f.p, (size_t)(eq - f.p) });
		struct span val = span_trim(
			(struct span){ eq + 1, f.n - (size_t)(eq + 1 - f.p) });
		if (val.n >= 2 && val.p[0] == '"' && val.p[val.n - 1] == '"') {
			val.p++;
			val.n -= 2;
		}
		if (span_ieq(name, "Length")) {
			if (m->have_length)
				return "OriginalContent has Length= twice";
			const char *err = parse_length(val, &m->length);
			if (err != NULL)
				return err;
			m->have_length = true;
		} else if (span_ieq(name, "charset")) {
			if (have_charset)
				return "OriginalContent has charset= twice";
			have_charset = true;
			if (span_ieq(val, "UTF-8"))
				m->charset = SEAL_UTF8;
			else if (span_ieq(val, "UTF-16") ||
				 span_ieq(val, "UTF-16LE") ||
				 span_ieq(val, "UTF-16BE"))
				m->charset = SEAL_UTF16;
			else
				return "unsupported charset in "
				       "OriginalContent";
		} else if (span_ieq(name, "type")) {
			if (!span_ieq(val, SEAL_SOAP_TYPE))
				return "OriginalContent type is not "
				       "application/soap+xml";
		}
	}
	if (!m->have_length)
		return "OriginalContent has no Length=";
	return NULL;
}

/*
 * The metadata part: header lines up to the next delimiter, which is
 * left at c->pos.
 */
static const char *parse_meta_part(struct cursor *c, struct group_meta *m)
{
	bool have_ct = false, have_oc = false, terminated;
	struct span line, name, value;
	size_t start, after;
	bool closing;

	for (;;) {
		if (!next_line(c, &line, &start, &terminated))
			return "body ends inside the metadata part";
		if (line.n == 0)
			continue;
		size_t lpos = (size_t)((const uint8_t *)line.p - c->b);
		if (delim_at(c, lpos, &after, &closing)) {
			c->pos = lpos;
			break;
		}
		if (!header_split(line, &name, &value))
			return "malformed header line in the metadata part";
		if (span_ieq(name, "Content-Type")) {
			have_ct = true;
			int idx = protocol_index(value_main(value));
			if (idx != c->ct->proto)
				return "metadata part Content-Type does not "
				       "match the protocol";
		} else if (span_ieq(name, "OriginalContent")) {
			if (have_oc)
				return "metadata part has OriginalContent "
				       "twice";
			have_oc = true;
			const char *err = parse_original(value, m);
			if (err != NULL)
				return err;
		}
	}
	if (!have_ct)
		return "metadata part has no Content-Type";
	if (!have_oc)
		return "metadata part has no OriginalContent";
	return NULL;
}

/*
 * The data part's header lines, up to and including the line
 * "Content-Type: application/octet-stream"; c->pos is then the first byte
 * of the length field.
 */
static const char *parse_data_headers(struct cursor *c)
{
	struct span line, name, value;
	size_t start, after;
	bool closing, terminated;

	for (;;) {
		if (!next_line(c, &line, &start, &terminated))
			return "body ends before the encrypted data";
		if (line.n == 0)
			continue;
		size_t lpos = (size_t)((const uint8_t *)line.p - c->b);
		if (delim_at(c, lpos, &after, &closing))
			return "data part has no application/octet-stream "
			       "Content-Type";
		if (!header_split(line, &name, &value))
			return "malformed header line in the data part";
		if (!span_ieq(name, "Content-Type"))
			continue;
		if (!span_ieq(value_main(value), "application/octet-stream"))
			return "data part Content-Type is not "
			       "application/octet-stream";
		if (!terminated)
			return "body ends before the encrypted data";
		return NULL;
	}
}

/* Whether a stray CRLF before the delimiter may be cut (seal.h). */
static bool crlf_trimmable(const struct seal_part *p, bool credssp)
{
	static const uint8_t ntlm_v1[4] = { 1, 0, 0, 0 };

	if (credssp || p->sealed_len != p->original_length + 2 ||
	    p->sealed[p->sealed_len - 2] != '\r' ||
	    p->sealed[p->sealed_len - 1] != '\n')
		return false;
	if (p->hdr_len == 16 && memcmp(p->hdr, ntlm_v1, 4) == 0)
		return true;
	return p->hdr_len >= 16 && p->hdr[0] == 0x05 && p->hdr[1] == 0x04;
}

/* One data part from the length field on; c->pos ends at the delimiter. */
static const char *parse_data(struct cursor *c, const struct group_meta *m,
			      bool multi, bool credssp, struct seal_part *p)
{
	size_t avail = c->len - c->pos;

	if (avail < 4)
		return "body ends inside the signature length field";
	const uint8_t *f = c->b + c->pos;
	uint32_t h = (uint32_t)f[0] | (uint32_t)f[1] << 8 |
		     (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
	if (h == 0)
		return "signature length is zero";
	if (h > SEAL_MAX_HEADER)
		return "signature length too large";
	if (h > avail - 4)
		return "signature length exceeds the data";
	size_t sealed_at = c->pos + 4 + h;
	size_t end = find_delim(c, sealed_at);
	if (end == (size_t)-1)
		return "no boundary after the encrypted data";
	p->hdr = f + 4;
	p->hdr_len = h;
	p->sealed = c->b + sealed_at;
	p->sealed_len = end - sealed_at;
	p->original_length = m->length;
	if (crlf_trimmable(p, credssp)) {
		p->sealed_len -= 2;
		p->crlf_trimmed = true;
	}
	if (p->original_length > p->sealed_len)
		return "OriginalContent Length= exceeds the sealed data";
	if (multi && p->original_length > SEAL_CHUNK)
		return "x-multi-encrypted part longer than 16384 bytes";
	c->pos = end;
	return NULL;
}

static const char *parse_body(struct cursor *c, struct seal_message *out)
{
	size_t cap = 0, after;
	bool closing;

	while (c->pos < c->len && is_space(c->b[c->pos]))
		c->pos++;
	if (c->pos == c->len)
		return "empty encrypted body";
	if (!delim_at(c, c->pos, &after, &closing))
		return "body does not start with the boundary";
	for (;;) {
		/* c->pos is at a delimiter */
		delim_at(c, c->pos, &after, &closing);
		if (closing) {
			if (!rest_blank(c, after))
				return "data after the closing boundary";
			break;
		}
		size_t next = delim_line_end(c, after);
		if (next == (size_t)-1)
			return "boundary line has trailing characters";
		if (rest_blank(c, next)) {
			/* Ruby's older transport ends with a plain delimiter */
			if (out->nparts == 0)
				return "boundary line has no part after it";
			break;
		}
		c->pos = next;

		struct group_meta m = { false, 0, SEAL_UTF8 };
		const char *err = parse_meta_part(c, &m);
		if (err != NULL)
			return err;
		if (out->nparts > 0 && m.charset != out->charset)
			return "charset differs between parts";
		out->charset = m.charset;
		delim_at(c, c->pos, &after, &closing);
		if (closing)
			return "group ends before its data part";
		next = delim_line_end(c, after);
		if (next == (size_t)-1)
			return "boundary line has trailing characters";
		c->pos = next;
		err = parse_data_headers(c);
		if (err != NULL)
			return err;

		if (out->nparts == SEAL_MAX_PARTS)
			return "too many encrypted parts";
		if (out->nparts == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			if (cap > SEAL_MAX_PARTS)
				cap = SEAL_MAX_PARTS;
			out->parts = xrealloc(out->parts,
					      cap * sizeof(*out->parts));
		}
		struct seal_part *p = &out->parts[out->nparts];
		memset(p, 0, sizeof(*p));
		err = parse_data(c, &m, out->multi, out->credssp, p);
		if (err != NULL)
			return err;
		if (out->total_length + p->original_length < out->total_length)
			return "total Length= overflows";
		out->nparts++;
		out->total_length += p->original_length;
	}
	if (out->nparts == 0)
		return "no encrypted parts";
	return NULL;
}

int seal_parse(const uint8_t *body, size_t len, const char *content_type,
	       struct seal_message *out, const char **error_r)
{
	struct ctype ct;
	const char *err;

	memset(out, 0, sizeof(*out));
	err = ctype_parse(content_type, &ct);
	if (err == NULL && body == NULL)
		err = "empty encrypted body";
	if (err == NULL) {
		snprintf(out->protocol, sizeof(out->protocol), "%s",
			 protocols[ct.proto]);
		out->multi = ct.multi;
		out->credssp = strcmp(protocols[ct.proto],
				      SEAL_PROTO_CREDSSP) == 0;
		struct cursor c = { body, len, 0, &ct };
		err = parse_body(&c, out);
	}
	if (err != NULL) {
		seal_message_release(out);
		*error_r = err;
		return -1;
	}
	snprintf(out->content_type, sizeof(out->content_type),
		 SEAL_SOAP_TYPE ";charset=%s",
		 out->charset == SEAL_UTF16 ? "UTF-16" : "UTF-8");
	*error_r = NULL;
	return 0;
}

void seal_message_release(struct seal_message *m)
{
	if (m == NULL)
		return;
	free(m->parts);
	memset(m, 0, sizeof(*m));
}

bool seal_length_ok(size_t original_length, size_t plain_len, size_t sealed_len)
{
	return original_length == plain_len || original_length == sealed_len;
}

void seal_build(struct buf *out, const char *protocol, const char *charset_type,
		size_t original_length, const uint8_t *hdr, size_t hdr_len,
		const uint8_t *sealed, size_t sealed_len)
{
	uint8_t len4[4] = {
		(uint8_t)hdr_len,
		(uint8_t)(hdr_len >> 8),
		(uint8_t)(hdr_len >> 16),
		(uint8_t)(hdr_len >> 24),
	};

	buf_printf(out,
		   "--" SEAL_BOUNDARY "\r\n"
		   "\tContent-Type: %s\r\n"
		   "\tOriginalContent: type=%s;Length=%zu\r\n"
		   "--" SEAL_BOUNDARY "\r\n"
		   "\tContent-Type: application/octet-stream\r\n",
		   protocol, charset_type, original_length);
	buf_append(out, len4, sizeof(len4));
	buf_append(out, hdr, hdr_len);
	buf_append(out, sealed, sealed_len);
}

void seal_finish(struct buf *out)
{
	buf_append_str(out, "--" SEAL_BOUNDARY "--\r\n");
}

const char *seal_response_content_type(const char *protocol, bool multi)
{
	if (protocol == NULL)
		return NULL;
	int idx = protocol_index((struct span){ protocol, strlen(protocol) });
	return idx < 0 ? NULL : response_types[multi ? 1 : 0][idx];
}

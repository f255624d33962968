/*
 * wire.c - frames between the listener and a provider host (wire.h).
 *
 * Decoding never trusts its input: a reader latches "bad" on the first
 * short read, over-long count or malformed value, and everything decoded
 * so far is dropped with it.
 *
 * Must not: log, exit, or keep state between calls.
 */
#include "autoconfig.h"

#include "lib/wmi/wire.h"

#include <stdlib.h>
#include <string.h>

#include "lib/wmi/value.h"

/* ---- encoding ---- */

void wmi_wire_begin(struct buf *out, size_t *start_r, uint8_t type)
{
	*start_r = out->len;
	static const uint8_t zero[WMI_WIRE_HEADER] = { 0 };
	buf_append(out, zero, sizeof(zero));
	buf_append_byte(out, type);
}

void wmi_wire_u8(struct buf *out, uint8_t v)
{
	buf_append_byte(out, v);
}

void wmi_wire_u16(struct buf *out, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	buf_append(out, b, 2);
}

void wmi_wire_u32(struct buf *out, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };
	buf_append(out, b, 4);
}

void wmi_wire_str(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		len = 0;
	if (len > WMI_WIRE_MAX_STRING) {
		len = WMI_WIRE_MAX_STRING;
		/* back to the start of a UTF-8 sequence */
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	size_t nuls = 0;
	for (size_t i = 0; i < len; i++)
		nuls += s[i] == '\0';
	if (nuls > 0) {
		/* U+FFFD for each NUL; cut again if that made it too long */
		struct buf t = BUF_INIT;
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '\0')
				buf_append(&t, "\xEF\xBF\xBD", 3);
			else
				buf_append_byte(&t, (uint8_t)s[i]);
		}
		size_t n = t.len;
		if (n > WMI_WIRE_MAX_STRING) {
			n = WMI_WIRE_MAX_STRING;
			while (n > 0 && (t.data[n] & 0xC0) == 0x80)
				n--;
		}
		wmi_wire_u32(out, (uint32_t)n);
		buf_append(out, t.data, n);
		buf_append_byte(out, 0);
		buf_release(&t);
		return;
	}
	wmi_wire_u32(out, (uint32_t)len);
	if (len > 0)
		buf_append(out, s, len);
	buf_append_byte(out, 0);
}

void wmi_wire_cstr(struct buf *out, const char *s)
{
	wmi_wire_str(out, s, s != NULL ? strlen(s) : 0);
}

void wmi_wire_end(struct buf *out, size_t start)
{
	uint32_t len = (uint32_t)(out->len - start - WMI_WIRE_HEADER);
	uint8_t *p = out->data + start;
	p[0] = (uint8_t)len;
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 24);
}

uint32_t wmi_wire_frame_len(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_pairs(struct buf *out, const struct wmi_pair *v, size_t n,
		      bool with_null)
{
	wmi_wire_u16(out, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		wmi_wire_cstr(out, v[i].name);
		if (with_null)
			wmi_wire_u8(out, v[i].is_null ? 1 : 0);
		wmi_wire_cstr(out, v[i].is_null ? "" : v[i].value);
	}
}

void wmi_wire_query(struct buf *out, const char *class_name, uint32_t flags,
		    const struct wmi_pair *keys, size_t n_keys,
		    const uint16_t *wanted, size_t n_wanted)
{
	size_t start;
	wmi_wire_begin(out, &start, WMI_W_QUERY);
	wmi_wire_cstr(out, class_name);
	wmi_wire_u32(out, flags);
	put_pairs(out, keys, n_keys, false);
	wmi_wire_u16(out, (uint16_t)n_wanted);
	for (size_t i = 0; i < n_wanted; i++)
		wmi_wire_u16(out, wanted[i]);
	wmi_wire_end(out, start);
}

void wmi_wire_invoke(struct buf *out, const char *class_name,
		     const char *method, const struct wmi_pair *keys,
		     size_t n_keys, const struct wmi_pair *params,
		     size_t n_params)
{
	size_t start;
	wmi_wire_begin(out, &start, WMI_W_INVOKE);
	wmi_wire_cstr(out, class_name);
	wmi_wire_cstr(out, method);
	put_pairs(out, keys, n_keys, false);
	put_pairs(out, params, n_params, true);
	wmi_wire_end(out, start);
}

void wmi_wire_error(struct buf *out, enum wmi_error code, const char *message)
{
	size_t start;
	wmi_wire_begin(out, &start, WMI_W_ERROR);
	wmi_wire_u32(out, (uint32_t)code);
	wmi_wire_cstr(out, message);
	wmi_wire_end(out, start);
}

/* ---- decoding ---- */

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static bool need(struct rd *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return false;
	}
	return true;
}

static uint8_t get_u8(struct rd *r)
{
	if (!need(r, 1))
		return 0;
	uint8_t v = r->p[0];
	r->p++;
	r->left--;
	return v;
}

static uint16_t get_u16(struct rd *r)
{
	if (!need(r, 2))
		return 0;
	uint16_t v = (uint16_t)(r->p[0] | r->p[1] << 8);
	r->p += 2;
	r->left -= 2;
	return v;
}

static uint32_t get_u32(struct rd *r)
{
	if (!need(r, 4))
		return 0;
	uint32_t v = wmi_wire_frame_len(r->p);
	r->p += 4;
	r->left -= 4;
	return v;
}

/* A string in place: returns its bytes (NUL-terminated in the frame) and
 * length, or NULL with r bad. */
static const char *get_str(struct rd *r, size_t *len_r)
{
	uint32_t n = get_u32(r);
	if (r->bad || n > WMI_WIRE_MAX_STRING || !need(r, (size_t)n + 1)) {
		r->bad = true;
		return NULL;
	}
	const char *s = (const char *)r->p;
	if (s[n] != '\0' || memchr(s, '\0', n) != NULL) {
		r->bad = true;
		return NULL;
	}
	r->p += (size_t)n + 1;
	r->left -= (size_t)n + 1;
	if (len_r != NULL)
		*len_r = n;
	return s;
}

static char *dup_str(struct rd *r)
{
	size_t n;
	const char *s = get_str(r, &n);
	return s != NULL ? xstrndup(s, n) : NULL;
}

static int get_pairs(struct rd *r, struct wmi_pair **v_r, size_t *n_r,
		     bool with_null)
{
	uint16_t n = get_u16(r);
	if (r->bad || n > WMI_WIRE_MAX_PAIRS)
		return -1;
	struct wmi_pair *v = xcalloc(n + 1u, sizeof(*v));
	*v_r = v;
	for (size_t i = 0; i < n; i++) {
		*n_r = i + 1; /* released with what it holds, even half read */
		v[i].name = dup_str(r);
		if (with_null)
			v[i].is_null = get_u8(r) != 0;
		v[i].value = dup_str(r);
		if (r->bad)
			return -1;
	}
	return 0;
}

int wmi_wire_decode_request(const uint8_t *p, size_t len,
			    struct wmi_request *req, const char **why_r)
{
	struct rd r = { p, len, false };
	memset(req, 0, sizeof(*req));
	req->type = get_u8(&r);
	if (req->type != WMI_W_QUERY && req->type != WMI_W_INVOKE) {
		*why_r = "unknown request type";
		return -1;
	}
	req->class_name = dup_str(&r);
	if (req->type == WMI_W_QUERY) {
		req->flags = get_u32(&r);
		if (get_pairs(&r, &req->keys, &req->n_keys, false) != 0) {
			*why_r = "bad key hints";
			return -1;
		}
		uint16_t n = get_u16(&r);
		if (n > 0 && !r.bad) {
			req->wanted = xcalloc(n, sizeof(*req->wanted));
			for (size_t i = 0; i < n && !r.bad; i++)
				req->wanted[i] = get_u16(&r);
			req->n_wanted = n;
		}
	} else {
		req->method = dup_str(&r);
		if (get_pairs(&r, &req->keys, &req->n_keys, false) != 0 ||
		    get_pairs(&r, &req->params, &req->n_params, true) != 0) {
			*why_r = "bad selectors or parameters";
			return -1;
		}
	}
	if (r.bad || r.left != 0) {
		*why_r = r.bad ? "truncated request" : "trailing bytes";
		return -1;
	}
	return 0;
}

static void free_pairs(struct wmi_pair *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

void wmi_request_release(struct wmi_request *req)
{
	free(req->class_name);
	free(req->method);
	free_pairs(req->keys, req->n_keys);
	free_pairs(req->params, req->n_params);
	free(req->wanted);
	memset(req, 0, sizeof(*req));
}

/* Adds a string to the set's pool; returns its index. */
static uint32_t pool_add(struct wmi_instances *s, size_t *cap, const char *v)
{
	if (s->n_strs == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		s->strs = xrealloc(s->strs, *cap * sizeof(*s->strs));
	}
	s->strs[s->n_strs] = v;
	return (uint32_t)s->n_strs++;
}

static int decode_instances(const struct wmi_class *c, struct rd *r,
			    struct wmi_instances *s, const char **why_r)
{
	uint32_t count = get_u32(r);
	/* Each instance takes at least its 2-byte count: a count the
	 * payload cannot hold is refused before anything is allocated. */
	if (r->bad || count > WMI_WIRE_MAX_INSTANCES || count > r->left / 2) {
		*why_r = "instance count out of bounds";
		return -1;
	}
	size_t np = c->n_props;
	size_t cap = 0, rows = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (i == rows) {
			/* grown as instances arrive: memory follows the data */
			size_t more = rows ? rows : 16;
			if (more > count - rows)
				more = count - rows;
			s->values = xrealloc(s->values,
					     (rows +
					      more) * np * sizeof(*s->values) +
						     sizeof(*s->values));
			memset(s->values + rows * np, 0,
			       more * np * sizeof(*s->values));
			rows += more;
		}
		struct wmi_value *row = &s->values[(size_t)i * np];
		uint16_t n = get_u16(r);
		if (r->bad || n > np) {
			*why_r = "too many values in an instance";
			return -1;
		}
		for (uint16_t k = 0; k < n; k++) {
			uint16_t idx = get_u16(r);
			uint8_t kind = get_u8(r);
			if (r->bad || idx >= np) {
				*why_r = "property index out of bounds";
				return -1;
			}
			const struct wmi_prop *pr = &c->props[idx];
			struct wmi_value *v = &row[idx];
			if (v->kind != WMI_V_NULL) {
				*why_r = "property given twice";
				return -1;
			}
			bool array = (pr->flags & WMI_ARRAY) != 0;
			uint16_t m = 1;
			if (kind == WMI_V_ARRAY && array) {
				m = get_u16(r);
				if (r->bad || m > WMI_WIRE_MAX_ARRAY) {
					*why_r = "array too long";
					return -1;
				}
			} else if (kind != WMI_V_SCALAR || array) {
				*why_r = "value kind does not match the schema";
				return -1;
			}
			v->kind = kind;
			v->first = (uint32_t)s->n_strs;
			v->n = m;
			for (uint16_t j = 0; j < m; j++) {
				size_t len;
				const char *str = get_str(r, &len);
				if (str == NULL) {
					*why_r = "truncated value";
					return -1;
				}
				if (!wmi_value_valid((enum wmi_type)pr->type,
						     str, len)) {
					*why_r = "value does not match its "
						 "type";
					return -1;
				}
				pool_add(s, &cap, str);
			}
		}
		s->n = i + 1;
	}
	return 0;
}

static int decode_result(struct rd *r, struct wmi_result *res,
			 const char **why_r)
{
	res->return_value = get_u32(r);
	uint16_t n = get_u16(r);
	if (r->bad || n > WMI_WIRE_MAX_PAIRS) {
		*why_r = "too many output parameters";
		return -1;
	}
	res->out_names = xcalloc(n + 1u, sizeof(char *));
	res->out_values = xcalloc(n + 1u, sizeof(char *));
	for (uint16_t i = 0; i < n; i++) {
		const char *name = get_str(r, NULL);
		bool null = get_u8(r) != 0;
		const char *value = get_str(r, NULL);
		if (r->bad) {
			*why_r = "truncated output parameter";
			return -1;
		}
		res->out_names[i] = name;
		res->out_values[i] = null ? NULL : value;
		res->n_outs = i + 1u;
	}
	return 0;
}

int wmi_wire_decode_reply(const struct wmi_class *c, uint8_t *payload,
			  size_t len, struct wmi_instances *set,
			  struct wmi_result *res, const char **why_r)
{
	memset(set, 0, sizeof(*set));
	memset(res, 0, sizeof(*res));
	set->cls = c;
	res->payload = payload; /* freed with res, whatever the type */
	struct rd r = { payload, len, false };
	uint8_t type = get_u8(&r);
	int rc;
	res->type = type;
	switch (type) {
	case WMI_W_INSTANCES:
		if (c == NULL) {
			*why_r = "instances without a class";
			return -1;
		}
		set->payload = payload;
		res->payload = NULL;
		rc = decode_instances(c, &r, set, why_r);
		break;
	case WMI_W_RESULT: rc = decode_result(&r, res, why_r); break;
	case WMI_W_ERROR:
		res->error = get_u32(&r);
		res->message = get_str(&r, NULL);
		rc = 0;
		if (r.bad || res->error < WMI_E_FAILED ||
		    res->error > WMI_E_PROTOCOL) {
			*why_r = "malformed error";
			rc = -1;
		}
		break;
	default: *why_r = "unknown reply type"; return -1;
	}
	if (rc == 0 && (r.bad || r.left != 0)) {
		*why_r = r.bad ? "truncated reply" : "trailing bytes";
		rc = -1;
	}
	return rc;
}

void wmi_instances_release(struct wmi_instances *set)
{
	free(set->values);
	free(set->strs);
	free(set->payload);
	memset(set, 0, sizeof(*set));
}

void wmi_result_release(struct wmi_result *res)
{
	free(res->out_names);
	free(res->out_values);
	free(res->payload);
	memset(res, 0, sizeof(*res));
}

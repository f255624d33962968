/*
 * out.c - the instance writer and method results of winrmd-wmi
 * (provider.h): values go straight into the reply frame (lib/wmi/wire.h)
 * in the form lib/wmi/value.h describes, checked by type first, so that
 * the host never writes what the listener's decoder refuses.
 *
 * Must not: write to stdout (main.c does), or know any class.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/wmi/value.h"
#include "provider/provider.h"

bool out_wants(const struct prov_out *o, int prop)
{
	if (prop < 0 || (size_t)prop >= o->cls->n_props)
		return false;
	if (o->cls->props[prop].flags & WMI_KEY)
		return true;
	if (o->keys_only)
		return false;
	return o->wanted == NULL || o->wanted[prop];
}

void out_begin(struct prov_out *o)
{
	if (o->in_instance)
		out_end(o);
	o->nvals_pos = o->b->len;
	wmi_wire_u16(o->b, 0);
	o->nvals = 0;
	o->in_instance = true;
}

void out_end(struct prov_out *o)
{
	if (!o->in_instance)
		return;
	o->b->data[o->nvals_pos] = (uint8_t)o->nvals;
	o->b->data[o->nvals_pos + 1] = (uint8_t)(o->nvals >> 8);
	o->in_instance = false;
	o->count++;
}

static bool start_value(struct prov_out *o, int prop, uint8_t kind)
{
	if (!o->in_instance || !out_wants(o, prop))
		return false;
	wmi_wire_u16(o->b, (uint16_t)prop);
	wmi_wire_u8(o->b, kind);
	o->nvals++;
	return true;
}

void out_strn(struct prov_out *o, int prop, const char *s, size_t len)
{
	if (s == NULL || prop < 0 || (size_t)prop >= o->cls->n_props)
		return;
	enum wmi_type t = (enum wmi_type)o->cls->props[prop].type;
	if (t != WMI_STRING && !wmi_value_valid(t, s, len))
		return; /* null rather than a value the listener refuses */
	if (start_value(o, prop, WMI_V_SCALAR))
		wmi_wire_str(o->b, s, len);
}

void out_str(struct prov_out *o, int prop, const char *s)
{
	if (s != NULL)
		out_strn(o, prop, s, strlen(s));
}

void out_uint(struct prov_out *o, int prop, uint64_t v)
{
	char t[24];
	snprintf(t, sizeof(t), "%" PRIu64, v);
	out_str(o, prop, t);
}

void out_sint(struct prov_out *o, int prop, int64_t v)
{
	char t[24];
	snprintf(t, sizeof(t), "%" PRId64, v);
	out_str(o, prop, t);
}

void out_bool(struct prov_out *o, int prop, bool v)
{
	out_str(o, prop, v ? "true" : "false");
}

void out_time(struct prov_out *o, int prop, int64_t sec, long usec)
{
	if (!out_wants(o, prop))
		return;
	struct buf t = BUF_INIT;
	wmi_datetime_format(&t, sec, usec,
			    wmi_local_offset_minutes((time_t)sec));
	out_strn(o, prop, (const char *)t.data, t.len);
	buf_release(&t);
}

void out_str_array(struct prov_out *o, int prop, const char *const *v, size_t n)
{
	if (n == 0 || prop < 0 || (size_t)prop >= o->cls->n_props)
		return; /* an empty array is rendered like a null one */
	enum wmi_type t = (enum wmi_type)o->cls->props[prop].type;
	if (n > WMI_WIRE_MAX_ARRAY)
		n = WMI_WIRE_MAX_ARRAY;
	for (size_t i = 0; i < n; i++)
		if (t != WMI_STRING && !wmi_value_valid(t, v[i], strlen(v[i])))
			return;
	if (!start_value(o, prop, WMI_V_ARRAY))
		return;
	wmi_wire_u16(o->b, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		wmi_wire_cstr(o->b, v[i]);
}

const char *prov_hint(const struct wmi_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_keys; i++)
		if (strcasecmp(req->keys[i].name, name) == 0)
			return req->keys[i].value;
	return NULL;
}

const char *prov_param(const struct wmi_request *req, const char *name,
		       bool *null_r)
{
	*null_r = false;
	for (size_t i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].name, name) == 0) {
			*null_r = req->params[i].is_null;
			return req->params[i].is_null ? NULL
						      : req->params[i].value;
		}
	return NULL;
}

void result_out(struct prov_result *r, const char *name, const char *value)
{
	if (r->n_outs >= sizeof(r->outs) / sizeof(r->outs[0]))
		return;
	r->outs[r->n_outs].name = (char *)name;
	r->outs[r->n_outs].value = value != NULL ? xstrdup(value) : NULL;
	r->outs[r->n_outs].is_null = value == NULL;
	r->n_outs++;
}

void result_outf(struct prov_result *r, const char *name, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	result_out(r, name, (const char *)b.data);
	buf_release(&b);
}

void result_error(struct prov_result *r, enum wmi_error e, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(r->message);
	r->error = (uint32_t)e;
	r->message = buf_steal(&b);
}

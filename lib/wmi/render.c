/*
 * render.c - WMI instances, EPRs and method results as WS-Management XML
 * (render.h), from the schema tables.
 *
 * Must not: know any class, log, or depend on libxml2.
 */
#include "autoconfig.h"

#include "lib/wmi/render.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/wmi/value.h"
#include "lib/wsman/ns.h"
#include "lib/wsman/render.h"

#define NS_CIM_COMMON "http://schemas.dmtf.org/wbem/wscim/1/common"

void wmi_render_class_uri(struct buf *out, const struct wmi_class *c)
{
	buf_append_str(out, WMI_URI_CIMV2 "/");
	buf_append_str(out, c->name);
}

/* One value inside its property element (prefix "p:" or ""). */
static void value(struct buf *out, const char *prefix, const char *name,
		  enum wmi_type t, const char *v)
{
	buf_printf(out, "<%s%s>", prefix, name);
	if (t == WMI_DATETIME) {
		buf_append_str(out,
			       prefix[0] ? "<cim:Datetime>" : "<Datetime>");
		xml_escape(out, v);
		buf_append_str(out,
			       prefix[0] ? "</cim:Datetime>" : "</Datetime>");
	} else {
		xml_escape(out, v);
	}
	buf_printf(out, "</%s%s>", prefix, name);
}

static void property(struct buf *out, const char *prefix,
		     const struct wmi_instances *set, size_t i, size_t k)
{
	const struct wmi_prop *p = &set->cls->props[k];
	const struct wmi_value *v = wmi_inst_value(set, i, k);
	if (v->kind == WMI_V_NULL) {
		if (!(p->flags & WMI_ARRAY))
			buf_printf(out, "<%s%s xsi:nil=\"true\"/>", prefix,
				   p->name);
		return; /* null arrays are left out, as Windows does */
	}
	for (size_t j = 0; j < v->n; j++)
		value(out, prefix, p->name, (enum wmi_type)p->type,
		      wmi_inst_str(set, v, j));
}

void wmi_render_instance(struct buf *out, const struct wmi_instances *set,
			 size_t i)
{
	const struct wmi_class *c = set->cls;
	buf_printf(out,
		   "<p:%s xmlns:xsi=\"" NS_XSI "\" xmlns:p=\"" WMI_URI_CIMV2
		   "/%s\" xmlns:cim=\"" NS_CIM_COMMON
		   "\" xsi:type=\"p:%s_Type\">",
		   c->name, c->name, c->name);
	for (size_t k = 0; k < c->n_props; k++)
		property(out, "p:", set, i, k);
	buf_printf(out, "</p:%s>", c->name);
}

void wmi_render_fragment(struct buf *out, const struct wmi_instances *set,
			 size_t i, const bool *selected)
{
	buf_append_str(out, "<w:XmlFragment xmlns:xsi=\"" NS_XSI "\">");
	for (size_t k = 0; k < set->cls->n_props; k++)
		if (selected[k])
			property(out, "", set, i, k);
	buf_append_str(out, "</w:XmlFragment>");
}

void wmi_render_epr(struct buf *out, const struct wmi_instances *set, size_t i)
{
	const struct wmi_class *c = set->cls;
	buf_append_str(out, "<a:EndpointReference><a:Address>" ADDR_ANONYMOUS
			    "</a:Address><a:ReferenceParameters>"
			    "<w:ResourceURI>");
	wmi_render_class_uri(out, c);
	buf_append_str(out, "</w:ResourceURI><w:SelectorSet xmlns:w=\"" NS_WSMAN
			    "\">");
	for (size_t k = 0; k < c->n_props; k++) {
		if (!(c->props[k].flags & WMI_KEY))
			continue;
		const struct wmi_value *v = wmi_inst_value(set, i, k);
		buf_printf(out, "<w:Selector Name=\"%s\">", c->props[k].name);
		if (v->kind == WMI_V_SCALAR)
			xml_escape(out, wmi_inst_str(set, v, 0));
		buf_append_str(out, "</w:Selector>");
	}
	buf_append_str(out, "</w:SelectorSet></a:ReferenceParameters>"
			    "</a:EndpointReference>");
}

static void output(struct buf *out, const char *name, enum wmi_type t,
		   const char *v)
{
	/* the host's outputs are untrusted: a value that is not of the
	 * parameter's type is rendered nil */
	if (v == NULL || !wmi_value_valid(t, v, strlen(v)))
		buf_printf(out, "<p:%s xsi:nil=\"true\"/>", name);
	else
		value(out, "p:", name, t, v);
}

void wmi_render_output(struct buf *out, const struct wmi_class *c,
		       const struct wmi_method *m, const struct wmi_result *res)
{
	buf_printf(out,
		   "<p:%s_OUTPUT xmlns:xsi=\"" NS_XSI
		   "\" xmlns:p=\"" WMI_URI_CIMV2
		   "/%s\" xmlns:cim=\"" NS_CIM_COMMON "\">",
		   m->name, c->name);
	bool rv_done = false;
	char rv[16];
	snprintf(rv, sizeof(rv), "%u", res->return_value);
	for (size_t i = 0; i < m->n_params; i++) {
		const struct wmi_member *p = &m->params[i];
		if (p->kind != WMI_M_OUT)
			continue;
		if (!rv_done && strcasecmp(p->name, "ReturnValue") > 0) {
			output(out, "ReturnValue", WMI_UINT32, rv);
			rv_done = true;
		}
		const char *v = NULL;
		for (size_t k = 0; k < res->n_outs; k++)
			if (strcmp(res->out_names[k], p->name) == 0)
				v = res->out_values[k];
		output(out, p->name, (enum wmi_type)p->type, v);
	}
	if (!rv_done)
		output(out, "ReturnValue", WMI_UINT32, rv);
	buf_printf(out, "</p:%s_OUTPUT>", m->name);
}

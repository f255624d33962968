/*
 * render.h - WMI instances and method results as WS-Management XML, from
 * the class schema alone (no per-class XML anywhere), the way Windows'
 * WMI plug-in renders them (docs/wsman-wmi.md §5, 719 captured Windows
 * instances):
 *
 *   <p:CLASS xmlns:xsi=... xmlns:p=".../root/cimv2/CLASS"
 *            xmlns:cim=".../wscim/1/common" xsi:type="p:CLASS_Type">
 *     one p:Prop per property in schema order; null scalars
 *     <p:Prop xsi:nil="true"/>; arrays one element per value, null arrays
 *     left out; datetimes <p:Prop><cim:Datetime>...</cim:Datetime></p:Prop>
 *   </p:CLASS>
 *
 * The listener's side only: it writes with lib/wsman/render.h's escaping
 * (which needs no libxml2).  Appends to a caller's buffer; never logs.
 */
#ifndef WINRMD_WMI_RENDER_H
#define WINRMD_WMI_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"
#include "lib/wmi/schema.h"
#include "lib/wmi/wire.h"

/* The instance element of instance i. */
void wmi_render_instance(struct buf *out, const struct wmi_instances *set,
			 size_t i);

/* A projection (SELECT a, b): <w:XmlFragment> with the selected
 * properties unqualified, in schema (alphabetical) order, as Windows
 * renders "select a, b" results. */
void wmi_render_fragment(struct buf *out, const struct wmi_instances *set,
			 size_t i, const bool *selected);

/* The EPR of instance i: a:EndpointReference with the anonymous address,
 * the class's resource URI and its key selectors (the SelectorSet
 * declares its own w: prefix, so that a client pasting it into a request,
 * as Debian's wsl does, keeps valid XML). */
void wmi_render_epr(struct buf *out, const struct wmi_instances *set, size_t i);

/* The resource URI of class c. */
void wmi_render_class_uri(struct buf *out, const struct wmi_class *c);

/* A method's <p:METHOD_OUTPUT> body: the output parameters the host
 * gave, and ReturnValue, in alphabetical order; a declared output the
 * host did not give is nil. */
void wmi_render_output(struct buf *out, const struct wmi_class *c,
		       const struct wmi_method *m,
		       const struct wmi_result *res);

#endif

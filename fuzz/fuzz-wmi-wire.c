/*
 * fuzz-wmi-wire.c - libFuzzer harness for the provider host protocol
 * (lib/wmi/wire.c), the listener's decoder of what a provider host
 * writes (untrusted: the host runs as the caller) and the host's decoder
 * of requests.  The first input byte picks a class; the rest is a reply
 * payload decoded against that class's schema, then a request payload.
 * Whatever decodes is rendered (lib/wmi/render.c), and every value must
 * be valid for its type.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wmi/render.h"
#include "lib/wmi/schema.h"
#include "lib/wmi/value.h"
#include "lib/wmi/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct wmi_class *c = wmi_classes[data[0] % wmi_n_classes];
	data++;
	size--;
	uint8_t *p = malloc(size + 1);
	memcpy(p, data, size);
	struct wmi_instances set;
	struct wmi_result res;
	const char *why = NULL;
	if (wmi_wire_decode_reply(c, p, size, &set, &res, &why) == 0) {
		struct buf out = BUF_INIT;
		for (size_t i = 0; i < set.n; i++) {
			for (size_t k = 0; k < c->n_props; k++) {
				const struct wmi_value *v = wmi_inst_value(&set,
									   i,
									   k);
				for (size_t j = 0; j < v->n; j++) {
					const char *s = wmi_inst_str(&set, v,
								     j);
					if (!wmi_value_valid((enum wmi_type)c
								     ->props[k]
								     .type,
							     s, strlen(s)))
						abort();
				}
			}
			wmi_render_instance(&out, &set, i);
			wmi_render_epr(&out, &set, i);
		}
		for (size_t i = 0; i < c->n_members; i++) {
			struct wmi_method m;
			if (c->members[i].kind == WMI_M_METHOD &&
			    wmi_method_find(c, c->members[i].name, &m) &&
			    res.type == WMI_W_RESULT)
				wmi_render_output(&out, c, &m, &res);
		}
		buf_release(&out);
	} else if (why == NULL) {
		abort();
	}
	wmi_instances_release(&set);
	wmi_result_release(&res);

	struct wmi_request req;
	if (wmi_wire_decode_request(data, size, &req, &why) == 0 &&
	    req.class_name == NULL)
		abort();
	wmi_request_release(&req);
	return 0;
}

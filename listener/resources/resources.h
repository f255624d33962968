/*
 * resources.h - the WS-Management resource handlers (one file each).
 * Each handler renders a complete response envelope or returns a fault.
 */
#ifndef WINRMD_RESOURCES_H
#define WINRMD_RESOURCES_H

#include "lib/config.h"
#include "lib/util.h"
#include "lib/wsman/envelope.h"
#include "lib/wsman/fault.h"
#include "listener/request.h"

/* identify.c */
enum fault_id res_identify(struct request *r, const struct wsman_request *req,
			   struct buf *out);
/* The fixed anonymous Identify body (UTF-8); built once at start. */
const struct buf *res_identify_anonymous_body(void);
void res_identify_init(void);

/* shell.c: the Windows Remote Shell */
enum fault_id res_shell_create(struct request *r,
			       const struct wsman_request *req,
			       struct buf *out);
enum fault_id res_shell_command(struct request *r,
				const struct wsman_request *req,
				struct buf *out);
enum fault_id res_shell_send(struct request *r, const struct wsman_request *req,
			     struct buf *out);
enum fault_id res_shell_receive(struct request *r,
				const struct wsman_request *req,
				struct buf *out);
enum fault_id res_shell_signal(struct request *r,
			       const struct wsman_request *req,
			       struct buf *out);
enum fault_id res_shell_delete(struct request *r,
			       const struct wsman_request *req,
			       struct buf *out);
enum fault_id res_shell_get(struct request *r, const struct wsman_request *req,
			    struct buf *out);
enum fault_id res_shell_enumerate(struct request *r,
				  const struct wsman_request *req,
				  struct buf *out);
/* Called by the gate when a request ends: ends its shell operation, if
 * any; delivered tells whether the response was fully sent (output of an
 * undelivered Receive goes back for the next one). */
void res_shell_finished(struct request *r, bool delivered);

/* config.c: winrm/config */
enum fault_id res_config_get(struct request *r, const struct wsman_request *req,
			     struct buf *out);
enum fault_id res_config_put(struct request *r, const struct wsman_request *req,
			     struct buf *out);
enum fault_id res_listener_get(struct request *r,
			       const struct wsman_request *req,
			       struct buf *out);
enum fault_id res_listener_enumerate(struct request *r,
				     const struct wsman_request *req,
				     struct buf *out);
/* A listener as the cfg:Listener element of winrm/config/listener. */
void res_listener_render(struct buf *out, const struct listener_config *l);

/* config-listener.c: Create, Put, Delete of winrm/config/listener */
enum fault_id res_listener_create(struct request *r,
				  const struct wsman_request *req,
				  struct buf *out);
enum fault_id res_listener_put(struct request *r,
			       const struct wsman_request *req,
			       struct buf *out);
enum fault_id res_listener_delete(struct request *r,
				  const struct wsman_request *req,
				  struct buf *out);

/* enumerate.c: WS-Enumeration for every resource */
/* Rendered items, one string each (owned). */
struct enum_items {
	char **v;
	size_t *len;
	size_t n, cap;
};
/* Takes item's bytes over (item is empty again). */
void enum_items_add(struct enum_items *it, struct buf *item);
void enum_items_release(struct enum_items *it);
/* Answers an Enumerate with items (consumed): with OptimizeEnumeration as
 * many as MaxElements and the envelope allow, the rest kept in a context
 * for Pull (Service.EnumerationTimeoutms, one operation slot of the
 * account while it lives). */
enum fault_id res_enum_answer_items(struct request *r,
				    const struct wsman_request *req,
				    struct enum_items *items, struct buf *out);
/* The same for items rendered as one block (consumed): all of them in
 * the first answer, or in the first Pull. */
enum fault_id res_enum_answer(struct request *r,
			      const struct wsman_request *req,
			      struct buf *items, struct buf *out);
enum fault_id res_enum_pull(struct request *r, const struct wsman_request *req,
			    struct buf *out);
enum fault_id res_enum_release(struct request *r,
			       const struct wsman_request *req,
			       struct buf *out);
/* Drops the expired contexts (any thread). */
void enum_sweep(void);
/* Contexts alive (tests, logs). */
size_t enum_count(void);
/* Drops every context (at shutdown). */
void enum_stop(void);

/* wmi.c: the WMI classes (wmi/root/cimv2/<Class>, and "*" with WQL) */
enum fault_id res_wmi_get(struct request *r, const struct wsman_request *req,
			  struct buf *out);
enum fault_id res_wmi_enumerate(struct request *r,
				const struct wsman_request *req,
				struct buf *out);
/* Any other action: a method, <resource URI>/<Method>. */
enum fault_id res_wmi_invoke(struct request *r, const struct wsman_request *req,
			     struct buf *out);

/* certmapping.c: winrm/config/service/certmapping */
enum fault_id res_certmap_get(struct request *r,
			      const struct wsman_request *req, struct buf *out);
enum fault_id res_certmap_create(struct request *r,
				 const struct wsman_request *req,
				 struct buf *out);
enum fault_id res_certmap_put(struct request *r,
			      const struct wsman_request *req, struct buf *out);
enum fault_id res_certmap_delete(struct request *r,
				 const struct wsman_request *req,
				 struct buf *out);
enum fault_id res_certmap_enumerate(struct request *r,
				    const struct wsman_request *req,
				    struct buf *out);

#endif

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
/* Answers an Enumerate with items (rendered elements; consumed): all at
 * once for OptimizeEnumeration, else kept for one Pull. */
enum fault_id res_enum_answer(struct request *r,
			      const struct wsman_request *req,
			      struct buf *items, struct buf *out);
enum fault_id res_enum_pull(struct request *r, const struct wsman_request *req,
			    struct buf *out);
enum fault_id res_enum_release(struct request *r,
			       const struct wsman_request *req,
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

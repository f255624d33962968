/*
 * dispatch.h - the table that routes a parsed envelope to its handler.
 *
 * One const table of {action, resource URI, handler, flags}: exact URIs
 * (case-insensitive), and prefixes for families such as the WMI classes.
 * Lookup is the only logic here; the request gate checks the entry's
 * flags (anonymous access, admin only) against the caller's identity.
 */
#ifndef WINRMD_DISPATCH_H
#define WINRMD_DISPATCH_H

#include <stdbool.h>

#include "lib/wsman/envelope.h"
#include "lib/wsman/fault.h"
#include "lib/util.h"

#include "listener/resources/resources.h"

enum dispatch_flags {
	DISPATCH_ANONYMOUS =
		1 << 0,          /* may answer WSMANIDENTIFY: unauthenticated */
	DISPATCH_ADMIN = 1 << 1, /* root or an admin group only */
	DISPATCH_PREFIX = 1 << 2,     /* resource_uri is a prefix: every URI
				     below it (the handler resolves the rest,
				     e.g. the WMI class) */
	DISPATCH_ANY_ACTION = 1 << 3, /* any action not matched by an
					 earlier entry (custom actions:
					 WMI methods); action is NULL */
};

/* Writes the complete response envelope to out, or returns a fault (and
 * leaves out for the caller to discard): a resource handler
 * (resources.h). */
typedef enum fault_id (*dispatch_handler)(struct request *r,
					  const struct wsman_request *req,
					  struct buf *out);

struct dispatch_entry {
	const char *action;       /* NULL: matched by req->is_identify (or any
			       action, with DISPATCH_ANY_ACTION) */
	const char *resource_uri; /* NULL: any (Identify) */
	dispatch_handler handler;
	unsigned flags;
	const char *name; /* for logs */
};

/*
 * Finds the entry for req.  Returns it, or NULL with *fault_r set:
 * unknown resource URI -> FAULT_DESTINATION_UNREACHABLE, known resource
 * but unknown action -> FAULT_ACTION_NOT_SUPPORTED.
 */
const struct dispatch_entry *dispatch_find(const struct wsman_request *req,
					   enum fault_id *fault_r);

#endif

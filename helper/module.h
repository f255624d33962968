/*
 * module.h - how a module of winrmd-priv plugs into helper.c: a table of
 * the requests it answers, each with the state the request needs, and
 * hooks for start, configuration changes and stop (OpenSSH's monitor
 * dispatch table with its per-request flags).
 *
 * helper.c checks the flags before a handler runs, in one place:
 *  - the request is decoded completely into its struct (msg.h); a frame
 *    that does not decode is a protocol violation (no correct listener
 *    sends one) and ends the helper;
 *  - REQ_ONCE: a second one is a protocol violation;
 *  - REQ_CONN: the struct starts with the listener's connection id, which
 *    must not be 0 (unless REQ_CONN_ZERO) and is looked up (call->conn,
 *    NULL if unknown);
 *  - REQ_AUTH_STEP: an authentication step: the connection entry is
 *    created if needed; one that is still verifying its account, or an id
 *    outside the listener's range, is a protocol violation;
 *  - REQ_AUTHENTICATED: the connection holds an identity the helper
 *    established, authorized to use WinRM; REQ_ADMIN: an administrator.
 *    Otherwise the request is refused with EACCES in its answer type
 *    (an identity may expire or a connection close while a request
 *    travels: a correct listener can send these, so they are refusals).
 */
#ifndef WINRMD_PRIV_MODULE_H
#define WINRMD_PRIV_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/priv/msg.h"

struct hconn; /* helper/conns.h */

enum req_flags {
	REQ_ONCE = 1 << 0,
	REQ_CONN = 1 << 1,
	REQ_CONN_ZERO = 1 << 2,     /* with REQ_CONN: id 0 is allowed */
	REQ_AUTH_STEP = 1 << 3,     /* implies REQ_CONN */
	REQ_AUTHENTICATED = 1 << 4, /* implies REQ_CONN */
	REQ_ADMIN = 1 << 5,         /* implies REQ_AUTHENTICATED */
};

/* One request being answered. */
struct helper_call {
	uint32_t seq;         /* answer with helper_answer(seq, ...) */
	struct priv_msg *msg; /* the request; its fds may be taken */
	const void *args;     /* the decoded struct (valid during the call) */
	struct hconn *conn;   /* with REQ_CONN: the connection, or NULL */
};

struct helper_request {
	uint16_t type;
	unsigned flags;       /* enum req_flags */
	uint16_t answer_type; /* what a refusal is sent as */
	/* Answers now or later (keeping call->seq); never blocks. */
	void (*handle)(struct helper_call *call);
};

struct helper_module {
	const char *name;
	const struct helper_request *requests;
	size_t n_requests;
	void (*start)(void);       /* after the first configuration load */
	void (*reconfigure)(void); /* after the configuration changed */
	void (*stop)(void);        /* before the helper exits */
};

#define HELPER_REQUESTS(table) table, sizeof(table) / sizeof(table[0])

#endif

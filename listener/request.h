/*
 * request.h - one HTTP request on its way through the gate.
 *
 * The listener (listener.c, which owns libmicrohttpd) creates a struct
 * request on the first call of a request, copies the few headers the gate
 * reads, feeds the body through request_body(), and finally calls
 * request_run() until it answers REQUEST_RESPOND.  request.c is the one
 * gate (style-exemplars.md 2b): authentication, authorization, decryption,
 * envelope parsing, dispatch, rendering, in that order, with default deny.
 * No handler checks authentication itself.
 */
#ifndef WINRMD_REQUEST_H
#define WINRMD_REQUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "listener/auth/auth.h"
#include "lib/config.h"
#include "lib/priv/proto.h"
#include "lib/util.h"

struct conn;
struct listener;

#define RESPONSE_MAX_HEADERS 8

struct response {
	int status;                 /* 0 until decided */
	const char *content_type;   /* static string; NULL for empty bodies */
	struct buf body;
	struct {
		const char *name;   /* static */
		char *value;        /* owned */
	} headers[RESPONSE_MAX_HEADERS];
	unsigned n_headers;
	bool close;                 /* close the connection after this response */
	bool shared_identify;       /* body is the cached anonymous Identify */
};

enum request_step { REQUEST_RESPOND, REQUEST_SUSPEND };

struct request {
	struct conn *conn;
	const struct listener *listener;
	struct winrmd_config *cfg;  /* reference held for the request's lifetime */

	/* request headers copied on the first call (owned, NULL if absent) */
	char *content_type;
	char *authorization;
	bool identify_unauthenticated; /* WSMANIDENTIFY: unauthenticated */
	bool has_content_length;
	uint64_t content_length;

	/* body */
	struct buf body;
	bool keep_body;             /* false: bytes are counted and dropped */
	bool too_large;
	uint64_t body_bytes;

	struct response resp;

	/* the gate's progress (request.c) */
	int phase;
	/* authentication */
	const struct auth_method *auth_method; /* awaiting the helper's verdict */
	struct priv_msg auth_reply;            /* the verdict, once arrived */
	const struct identity *identity;       /* NULL until authenticated */
	char *final_auth_header;               /* "Negotiate <final token>" */
	uint8_t basic_hash[32];                /* Basic header being verified */

	/* handlers that wait (Command, Receive) */
	struct wsman_request *wreq;            /* parsed envelope, kept while waiting */
	bool handler_pending;                  /* set by a handler: request_wake follows */
	void *shell_wait;                      /* the shell resource's struct shell_op */
	void *handler_ctx;                     /* other waiting handlers' state */
	void (*handler_ctx_free)(void *);
	char *fault_message;                   /* extra f:Message text for a fault */
	bool holds_operation;                  /* a MaxConcurrentOperationsPerUser slot */
	uid_t operation_uid;                   /* ... held for this account */

	/* message encryption (MS-WSMV 2.2.9.1) */
	bool encrypted;                        /* the request was; so is the answer */
	char seal_protocol[64];                /* protocol string to mirror */
	bool seal_multi;                       /* multipart/x-multi-encrypted */

	/* suspend/resume: see listener.c */
	pthread_mutex_t lock;
	bool suspended;
	bool wake_pending;
	void *mhd_connection;
};

/* Allocates a request (caller frees with request_free). */
struct request *request_new(struct conn *conn, const struct listener *l);
void request_free(struct request *r);
/* Called when libmicrohttpd ends the request, before request_free:
 * delivered tells whether the response was fully sent. */
void request_finished(struct request *r, bool delivered);

/*
 * Called once the headers are known.  Returns REQUEST_RESPOND when the
 * answer is already decided (for example a Content-Length over the
 * envelope limit): the listener then queues r->resp without reading the
 * body.  Otherwise decides whether the body is worth keeping.
 */
enum request_step request_begin(struct request *r);

/* Feeds body bytes; never buffers more than the envelope limit. */
void request_body(struct request *r, const char *data, size_t len);

/* Runs the gate after the whole body arrived.  REQUEST_SUSPEND means an
 * asynchronous step is under way and request_wake() will be called. */
enum request_step request_run(struct request *r);

/* Answers 500 with a w:InternalError fault. */
void request_internal_error(struct request *r);

/* Adds a response header (value copied). */
void response_add_header(struct response *resp, const char *name,
			 const char *value);
void response_release(struct response *resp);

/* Resumes a suspended request from any thread (implemented in listener.c). */
void request_wake(struct request *r);
/* Whether the client closed or reset the connection of r (a request
 * that waited may find its client gone: its answer would be lost). */
bool request_peer_gone(struct request *r);

#endif

/*
 * request.h - one HTTP request as the layers below the HTTP server see
 * it: what the client sent, the response being built, and the hooks back
 * to the HTTP layer (wake a suspended request, ask whether the client is
 * still there), which the listener hands down when it creates the
 * request, so that nothing here calls upwards.
 *
 * The listener (listener.c, which owns libmicrohttpd) creates a struct
 * request on the first call of a request and drives it through the gate
 * (gate.h): authentication, authorization, decryption, envelope parsing,
 * dispatch, rendering, in that order, with default deny.
 */
#ifndef WINRMD_REQUEST_H
#define WINRMD_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "listener/identity.h"
#include "lib/config.h"
#include "lib/priv/proto.h"
#include "lib/util.h"
#include "lib/wsman/envelope.h"
#include "lib/wsman/fault.h"

struct conn;
struct auth_method;

/* How the layers below reach the HTTP layer for this request. */
struct request_hooks {
	/* Resume the request (an asynchronous step finished); any thread. */
	void (*wake)(void *ctx);
	/* Whether the client closed or reset its connection. */
	bool (*peer_gone)(void *ctx);
	void *ctx;
};

#define RESPONSE_MAX_HEADERS 8

struct response {
	int status;               /* 0 until decided */
	const char *content_type; /* static string; NULL for empty bodies */
	struct buf body;
	struct {
		const char *name; /* static */
		char *value;      /* owned */
	} headers[RESPONSE_MAX_HEADERS];
	unsigned n_headers;
	bool close;           /* close the connection after this response */
	bool shared_identify; /* body is the cached anonymous Identify */
};

enum request_step { REQUEST_RESPOND, REQUEST_SUSPEND };

struct request {
	struct conn *conn;
	struct winrmd_config
		*cfg; /* reference held for the request's lifetime */
	struct request_hooks hooks;

	/* request headers copied on the first call (owned, NULL if absent) */
	char *content_type;
	char *authorization;
	bool identify_unauthenticated; /* WSMANIDENTIFY: unauthenticated */
	bool has_content_length;
	uint64_t content_length;

	/* body */
	struct buf body;
	bool keep_body; /* false: bytes are counted and dropped */
	bool too_large;
	uint64_t body_bytes;

	struct response resp;

	/* the gate's progress (request.c) */
	int phase;
	/* authentication */
	const struct auth_method
		*auth_method;            /* awaiting the helper's verdict */
	struct priv_msg auth_reply;      /* the verdict, once arrived */
	const struct identity *identity; /* NULL until authenticated */
	char *final_auth_header;         /* "Negotiate <final token>" */
	uint8_t basic_hash[32];          /* Basic header being verified */

	/* the parsed envelope (kept while a handler waits); parsed before
	 * authentication only for a method that needs the resource URI */
	struct wsman_request *wreq;
	const char *resource_uri; /* wreq's, or NULL */
	/* handlers that wait (Command, Receive) */
	bool handler_pending; /* set by a handler: request_wake follows */
	void *shell_wait;     /* the shell resource's struct shell_op */
	/* set by a handler that keeps state until the request ends: told
	 * whether the response was delivered (gate_finished) */
	void (*on_finished)(struct request *r, bool delivered);
	void *handler_ctx; /* other waiting handlers' state */
	void (*handler_ctx_free)(void *);
	char *fault_message;  /* extra f:Message text for a fault */
	bool fault_provider;  /* ... as the inner fault of an
				 f:ProviderFault (the WMI resource) */
	bool holds_operation; /* a MaxConcurrentOperationsPerUser slot */
	uid_t operation_uid;  /* ... held for this account */

	/* message encryption (MS-WSMV 2.2.9.1) */
	bool encrypted;         /* the request was; so is the answer */
	char seal_protocol[64]; /* protocol string to mirror */
	bool seal_multi;        /* multipart/x-multi-encrypted */
};

/* Allocates a request of conn with the configuration cfg (the request
 * takes over that reference) and the HTTP layer's hooks (copied); caller
 * frees with request_free. */
struct request *request_new(struct conn *conn, struct winrmd_config *cfg,
			    const struct request_hooks *hooks);
void request_free(struct request *r);

/* Answers 500 with a w:InternalError fault. */
void request_internal_error(struct request *r);
/* Answers with fault id (HTTP status from the fault table), relating to
 * the request's MessageID, in charset cs, with an optional f:Message. */
void request_respond_fault(struct request *r, enum fault_id id,
			   const char *relates_to, enum wsman_charset cs,
			   const char *message);

/*
 * The one way a request calls the helper: sends the typed request
 * (lib/priv/msg.h) of type for r, with descriptor fd attached unless it
 * is -1 (consumed in every case); the answer is moved into *answer
 * (released first; the caller keeps and releases it) and r is woken.
 * Returns 0 (the caller suspends: handler_pending, or AUTH_PENDING), -1
 * when the helper is gone, -2 with *why_r when req breaks the protocol's
 * bounds (nothing sent).
 */
int request_helper_call(struct request *r, uint16_t type, const void *req,
			int fd, struct priv_msg *answer, const char **why_r);

/* Adds a response header (value copied). */
void response_add_header(struct response *resp, const char *name,
			 const char *value);
void response_release(struct response *resp);

/* Resumes a suspended request from any thread (through its hooks). */
void request_wake(struct request *r);
/* Whether the client closed or reset the connection of r (a request
 * that waited may find its client gone: its answer would be lost). */
bool request_peer_gone(struct request *r);

#endif

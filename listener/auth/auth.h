/*
 * auth.h - authentication on the listener side: the method table, the
 * identity a connection carries, and the challenges of a 401.
 *
 * The listener never verifies a credential itself: every method hands the
 * credential to the helper (which keeps GSS contexts, runs PAM and decides
 * the identity) and waits for its verdict without holding a thread.  A
 * method that does not recognise the Authorization scheme answers
 * AUTH_DECLINED and the next method is asked (nginx's access phase).
 */
#ifndef WINRMD_AUTH_H
#define WINRMD_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/priv/msg.h"
#include "lib/util.h"
#include "listener/identity.h"

struct request;
struct conn;

enum auth_result {
	AUTH_DECLINED, /* not this method's scheme */
	AUTH_OK,       /* r->identity is set */
	AUTH_RESPOND,  /* r->resp is decided (401 with a token or challenges) */
	AUTH_PENDING,  /* waiting for the helper; request_wake() follows */
};

struct auth_method {
	const char *name; /* for logs */
	/* Optional: true when this method authenticates r's connection by
	 * itself, whatever the headers (the local socket); start is then
	 * called with NULL scheme and params. */
	bool (*claims_connection)(const struct request *r);
	/* Optional: true when this method, chosen by r's Authorization
	 * header, needs the resource URI of the request (certificate
	 * mappings may name one): the gate then parses the envelope before
	 * authentication and sets r->resource_uri. */
	bool (*wants_resource_uri)(const struct request *r);
	/* Is this method offered for this request (config, transport)? */
	bool (*enabled)(const struct request *r);
	/* Appends this method's WWW-Authenticate challenge(s) to r->resp. */
	void (*challenge)(struct request *r);
	/*
	 * Looks at the Authorization header (scheme word and the rest).
	 * Returns AUTH_DECLINED when the scheme is not its own; otherwise
	 * decides or starts the asynchronous verification.
	 */
	enum auth_result (*start)(struct request *r, const char *scheme,
				  const char *params);
	/* Called after the helper answered (request woken up). */
	enum auth_result (*finish)(struct request *r);
};

/*
 * The authentication step of the request gate.  Uses the connection's
 * identity when it has one, otherwise the Authorization header.  On
 * AUTH_OK r->identity points at the identity to use.
 */
enum auth_result auth_authenticate(struct request *r);
/* Whether the method r's Authorization header chooses needs
 * r->resource_uri before it authenticates. */
bool auth_wants_resource_uri(const struct request *r);
/* Continues after AUTH_PENDING. */
enum auth_result auth_resume(struct request *r);

/* Sets r->resp to 401 with one WWW-Authenticate per enabled method. */
void auth_respond_unauthorized(struct request *r);

/* Tells the helper a connection closed (no-op when it holds nothing). */
void auth_conn_closed(struct conn *c);

/* Methods (one file each) */
extern const struct auth_method auth_method_negotiate;
extern const struct auth_method auth_method_kerberos;
extern const struct auth_method auth_method_basic;
extern const struct auth_method auth_method_local;
extern const struct auth_method auth_method_certificate;

/* The helper's verdict, decoded from PRIV_AUTH_RESULT (auth.c). */
struct auth_verdict {
	uint32_t status;  /* enum priv_auth_status; 0 = no answer */
	struct buf token; /* output token (may be empty) */
	char *claimed, *user, *mech, *reason; /* owned, never NULL */
	uint32_t uid, gid, flags;
};
/* Decodes r->auth_reply; returns -1 when the helper gave no valid answer. */
int auth_verdict_read(struct request *r, struct auth_verdict *v);
void auth_verdict_release(struct auth_verdict *v);

/* Sends a PRIV_AUTH_* request (its struct, msg.h; fd: a descriptor to
 * attach, or -1) for r; the reply lands in r->auth_reply and wakes the
 * request.  Returns AUTH_PENDING, or
 * AUTH_RESPOND: 401 when the credentials break the protocol's bounds, 500
 * when the helper is gone. */
enum auth_result auth_submit(struct request *r, uint16_t type, const void *req,
			     int fd);

/*
 * The end of a one-leg method (Basic, certificate, local socket): reads
 * the helper's verdict; on success the connection is authenticated by
 * method, under the scheme word, and r->identity set (AUTH_OK); a refusal
 * prepares the 401 and sets *refused_r (AUTH_RESPOND); a broken reply
 * answers 500 (AUTH_RESPOND).  Releases the reply.
 */
enum auth_result auth_finish_one_leg(struct request *r,
				     const struct auth_method *method,
				     const char *scheme, bool *refused_r);

#endif

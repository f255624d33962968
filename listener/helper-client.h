/*
 * client.h - the listener's side of the helper protocol.
 *
 * One socket to winrmd-priv.  Any thread may send a request; one reader
 * thread receives every reply and notification and hands each reply to
 * whoever waits for it (a blocked caller of priv_call, or the callback of
 * priv_call_async).  When the helper goes away, every pending call fails
 * and the lost-helper callback runs once (the daemon then shuts down:
 * nothing privileged can happen without the helper).
 */
#ifndef WINRMD_PRIV_CLIENT_H
#define WINRMD_PRIV_CLIENT_H

#include "lib/priv/msg.h"

typedef void (*priv_reply_cb)(void *arg, struct priv_msg *reply);
typedef void (*priv_notify_cb)(struct priv_msg *msg);

/* Starts the reader thread on fd (the client owns fd from now on).
 * on_lost runs on the reader thread when the helper closes the socket or
 * breaks the protocol.  Returns 0 or -1. */
int priv_client_start(int fd, void (*on_lost)(void));

/*
 * Sends req (its seq is assigned here; req is released) and waits for the
 * reply, which is stored in *reply (initialised here; caller releases).
 * Returns 0, or -1 when the helper is gone (then *reply is PRIV_NONE).
 * A reply of type PRIV_ERROR is a successful call: check reply->type.
 */
int priv_call(struct priv_msg *req, struct priv_msg *reply);

/*
 * Sends req (released) and returns at once; cb(arg, reply) runs later on
 * the reader thread with the reply (type PRIV_NONE when the helper is
 * gone).  cb must not block and must not call priv_call; it may take fds
 * from the reply.  The reply is released after cb returns.
 * Returns 0, or -1 when the request could not be sent (cb not called).
 */
int priv_call_async(struct priv_msg *req, priv_reply_cb cb, void *arg);

/*
 * The typed forms: encode req as a message of type (msg.h) and call as
 * above.  They return 0; -1 when the helper is gone; -2 with *why_r (the
 * field) when req breaks the protocol's bounds: nothing was sent, and
 * the caller answers its client with a refusal.
 */
int priv_request(uint16_t type, const void *req, struct priv_msg *answer,
		 const char **why_r);
int priv_request_async(uint16_t type, const void *req, priv_reply_cb cb,
		       void *arg, const char **why_r);

/* Registers the handler for helper notifications (seq 0) of one type. */
void priv_client_on_notify(uint16_t type, priv_notify_cb cb);

/* Closes the socket and joins the reader thread; pending calls fail. */
void priv_client_stop(void);

#endif

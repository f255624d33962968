/*
 * gate.h - the one gate every request passes (gate.c): size limits,
 * authentication, authorization, decryption, envelope parsing, dispatch,
 * rendering, in that order, with default deny.  No handler checks
 * authentication itself.
 *
 * The listener calls gate_begin once the headers are known, gate_body
 * with the body, then gate_run until it answers REQUEST_RESPOND; a
 * REQUEST_SUSPEND means an asynchronous step is under way and the
 * request's wake hook will be called.  gate_finished comes last, before
 * request_free.
 */
#ifndef WINRMD_LISTENER_GATE_H
#define WINRMD_LISTENER_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "listener/request.h"

/* Returns REQUEST_RESPOND when the answer is already decided (for
 * example a Content-Length over the envelope limit): the listener then
 * queues r->resp without reading the body.  Otherwise decides whether
 * the body is worth keeping. */
enum request_step gate_begin(struct request *r);
/* Feeds body bytes; never buffers more than the envelope limit. */
void gate_body(struct request *r, const char *data, size_t len);
/* Runs the gate after the whole body arrived. */
enum request_step gate_run(struct request *r);
/* The request ended (delivered: its response was fully sent). */
void gate_finished(struct request *r, bool delivered);

#endif

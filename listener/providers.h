/*
 * providers.h - the WMI provider hosts of the listener (design.md,
 * decision 11): one winrmd-wmi process per account, started through the
 * helper as that account (PRIV_SPAWN with PRIV_SPAWN_PROVIDER: PAM
 * session, initgroups, setgid, setuid, as a shell command), reused for
 * the account's requests one at a time, and ended after
 * Wmi.ProviderIdleTimeout seconds without one.
 *
 * A request hands a frame (lib/wmi/wire.h) to its account's host and
 * gets the reply frame back; the host's output is untrusted: its frames
 * are bounded here (WMI_WIRE_MAX_REPLY) and decoded by the caller with
 * wmi_wire_decode_reply.  A host that breaks the protocol, dies or does
 * not answer within the call's timeout is ended (SIGKILL through the
 * helper) and the call fails; the account's next request starts a new
 * host.  What a host writes on its standard error is logged.
 *
 * The listener never reads another account's data itself: it only
 * carries frames between a request and the host of the request's own
 * account.
 *
 * All functions lock the module's state; any thread may call them.
 */
#ifndef WINRMD_PROVIDERS_H
#define WINRMD_PROVIDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/config.h"
#include "lib/util.h"

enum provider_status {
	PROVIDER_OK = 0,
	PROVIDER_PENDING,      /* the waiter runs later: call again */
	PROVIDER_START_FAILED, /* the helper could not start the host */
	PROVIDER_FAILED,       /* the host died or broke the protocol */
	PROVIDER_TIMED_OUT,    /* no answer within the timeout */
	PROVIDER_BUSY,         /* too many hosts or queued requests */
	PROVIDER_STOPPING,     /* winrmd is stopping */
};

/* Who asks (strings only read during the call). */
struct provider_caller {
	uid_t uid;
	const char *user;
	uint64_t conn_id; /* an authenticated connection of uid's */
};

/* How a pending call tells its request to call again: wake(arg) runs
 * once, on another thread, with the module's lock held (it must not
 * block nor call into this module). */
struct provider_waiter {
	void (*wake)(void *arg);
	void *arg;
};

struct provider_call; /* one exchange, kept by the request (opaque) */

/*
 * The first call (*callp NULL) queues frame (copied) for who's host,
 * starting the host if there is none, and returns PROVIDER_PENDING with
 * *callp set; once woken, call again with the same *callp: PROVIDER_OK
 * with the reply's payload in *payload_r (caller frees) and its length,
 * or the failure.  timeout_ms bounds the wait from the first call.
 */
enum provider_status providers_call(struct provider_call **callp,
				    const struct winrmd_config *cfg,
				    const struct provider_caller *who,
				    const struct buf *frame, int64_t timeout_ms,
				    const struct provider_waiter *waiter,
				    uint8_t **payload_r, size_t *len_r);
/* Ends a call (NULL: nothing); its waiter no longer runs.  A call still
 * queued is dropped; a running one is left to finish and freed then. */
void providers_call_end(struct provider_call *call);

/* The I/O thread.  providers_stop ends every host and fails every call;
 * providers_join waits for the thread after the listeners stopped. */
int providers_start(void);
void providers_stop(void);
void providers_join(void);

/* Hosts alive (tests, logs). */
size_t providers_count(void);

#endif

/*
 * proto.h - the closed message protocol between winrmd (the unprivileged
 * listener) and winrmd-priv (the root helper).
 *
 * Wire format, over a SOCK_STREAM socketpair:
 *   u32 length of what follows (seq + type + nfds + body), little endian
 *   u32 seq     request id chosen by the listener; replies echo it;
 *               0 marks an unsolicited notification from the helper
 *   u16 type    enum priv_type
 *   u16 nfds    file descriptors that follow the frame (0..PRIV_MAX_FDS)
 *   body        fields encoded with priv_put_* (u32/u64 little endian,
 *               byte strings as u32 length + bytes)
 * When nfds > 0, one extra byte travels right after the frame in a
 * sendmsg() carrying the descriptors as SCM_RIGHTS (OpenSSH's
 * monitor_fdpass idea), so the reader knows exactly where they are.
 *
 * Decoding never trusts the peer: every priv_get_* checks the remaining
 * length and latches msg->bad on the first error, after which all getters
 * return zero values.  Callers check priv_msg_ok() once at the end.
 *
 * This module never logs and never exits.
 */
#ifndef WINRMD_PRIV_PROTO_H
#define WINRMD_PRIV_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define PRIV_MAX_FRAME (16u * 1024 * 1024) /* > 2 x the largest envelope */
#define PRIV_MAX_FDS 4

enum priv_type {
	PRIV_NONE = 0,
	/* The fields of each message are its struct in msg.h. */
	PRIV_PING = 1, /* -> PRIV_PONG */
	PRIV_PONG,
	PRIV_RELOAD, /* (no fields) -> PRIV_RELOAD_RESULT */
	PRIV_RELOAD_RESULT,
	PRIV_SHUTDOWN,      /* (no fields) -> PRIV_SHUTDOWN_DONE */
	PRIV_SHUTDOWN_DONE, /* (no fields) */
	PRIV_ERROR,         /* generic refusal of a request */
	PRIV_AUTH_GSS,      /* -> PRIV_AUTH_RESULT */
	PRIV_AUTH_BASIC,    /* -> PRIV_AUTH_RESULT */
	PRIV_AUTH_RESULT,
	PRIV_CONN_CLOSE, /* -> PRIV_OK */
	PRIV_AUTH_CERT,  /* -> PRIV_AUTH_RESULT */
	PRIV_OK,         /* (no fields) */
	PRIV_SPAWN,      /* -> PRIV_SPAWN_RESULT */
	PRIV_SPAWN_RESULT,
	PRIV_SIGNAL,     /* -> PRIV_OK | PRIV_ERROR */
	PRIV_CONFIG_PUT, /* -> PRIV_CONFIG_RESULT */
	PRIV_CONFIG_RESULT,
	PRIV_AUTH_PEER, /* + fd -> PRIV_AUTH_RESULT */
	PRIV_UNWRAP,    /* -> PRIV_UNWRAP_RESULT */
	PRIV_UNWRAP_RESULT,
	PRIV_WRAP, /* -> PRIV_WRAP_RESULT */
	PRIV_WRAP_RESULT,
	PRIV_CERTMAP, /* -> PRIV_CERTMAP_RESULT */
	PRIV_CERTMAP_RESULT,
	PRIV_SIGN, /* -> PRIV_SIGN_RESULT */
	PRIV_SIGN_RESULT,
	PRIV_LOCAL_CONN,    /* notification from the helper, + fd */
	PRIV_LISTENER_EDIT, /* -> PRIV_CONFIG_RESULT */
	PRIV_SHELL_END,     /* -> PRIV_OK */
	PRIV_TYPE_MAX
};

/* PRIV_AUTH_* request flags */
enum priv_auth_flags {
	PRIV_AUTH_HTTPS = 1 << 0, /* the connection is TLS */
};

/* PRIV_AUTH_RESULT status */
enum priv_auth_status {
	PRIV_AUTH_CONTINUE =
		1,           /* send the token in a 401, await the next leg */
	PRIV_AUTH_OK,        /* authenticated; see the identity flags */
	PRIV_AUTH_DENIED,    /* bad credentials, unknown or locked account */
	PRIV_AUTH_THROTTLED, /* too many failures: refused without checking */
};

/* PRIV_AUTH_RESULT identity flags */
enum priv_identity_flags {
	PRIV_ID_AUTHORIZED = 1 << 0, /* may use WinRM (admin or remote user) */
	PRIV_ID_ADMIN =
		1 << 1, /* root or an admin group (after the UAC filter) */
	PRIV_ID_NTLM_LOCAL = 1 << 2, /* proven by NTLM as a local account */
};

/* PRIV_SPAWN flags */
enum priv_spawn_flags {
	PRIV_SPAWN_SKIP_SHELL = 1 << 0, /* exec program directly (argv) */
	PRIV_SPAWN_NOPROFILE = 1 << 1,  /* no login shell, no profile */
	PRIV_SPAWN_PROVIDER = 1 << 2,   /* the WMI provider host: program
					   must be Wmi.ProviderPath, without
					   arguments, environment or working
					   directory; allowed even when
					   remote shells are not */
};

/* PRIV_CERTMAP operations */
enum priv_certmap_op {
	PRIV_CERTMAP_LIST = 0, /* read the table (Get, Enumerate) */
	PRIV_CERTMAP_CREATE,
	PRIV_CERTMAP_PUT,
	PRIV_CERTMAP_DELETE,
};
#define PRIV_CERTMAP_KEEP 2u /* Enabled on Put: leave as it is */

/* PRIV_LISTENER_EDIT operations (winrm/config/listener) */
enum priv_listener_op {
	PRIV_LISTENER_CREATE = 0,
	PRIV_LISTENER_PUT,
	PRIV_LISTENER_DELETE,
};

/* PRIV_SIGNAL kinds (the helper picks the POSIX signal) */
enum priv_signal {
	PRIV_SIGNAL_TERMINATE =
		1,              /* SIGTERM, then SIGKILL after a grace period */
	PRIV_SIGNAL_CTRL_C,     /* SIGINT to the process group */
	PRIV_SIGNAL_CTRL_BREAK, /* SIGQUIT to the process group */
	PRIV_SIGNAL_KILL,       /* SIGKILL at once */
};

struct priv_msg {
	uint32_t seq;
	uint16_t type;
	struct buf body; /* encoded fields */
	size_t rpos;     /* decode position in body */
	bool bad;        /* a decode ran past the end or was malformed */
	int fds[PRIV_MAX_FDS];
	unsigned n_fds;
	struct priv_arena *arena; /* what decoding allocated (msg.c) */
};

/* Fill / empty a caller-owned message.  release closes any fds still held,
 * frees the decoding arena and zeroes the body and the arena (they may
 * have carried secrets). */
void priv_msg_init(struct priv_msg *m, uint16_t type);
void priv_msg_release(struct priv_msg *m);
const char *priv_type_name(uint16_t type);

/* Encoding */
void priv_put_u32(struct priv_msg *m, uint32_t v);
void priv_put_u64(struct priv_msg *m, uint64_t v);
void priv_put_bytes(struct priv_msg *m, const void *p, size_t n);
void priv_put_str(struct priv_msg *m, const char *s); /* NULL encodes as "" */
/* Attaches fd to the message (the message owns it from now on and closes
 * it on release or after sending). Returns -1 when PRIV_MAX_FDS are held. */
int priv_put_fd(struct priv_msg *m, int fd);

/* Zeroed memory that lives as long as the message (decoded strings and
 * lists); never NULL. */
void *priv_msg_alloc(struct priv_msg *m, size_t n);

/* Decoding (bounds-checked; see the latch rule above) */
uint32_t priv_get_u32(struct priv_msg *m);
uint64_t priv_get_u64(struct priv_msg *m);
/* Returns a pointer into the body (valid until release) and its length. */
const uint8_t *priv_get_bytes(struct priv_msg *m, size_t *len_r);
/* Returns a newly allocated NUL-terminated copy (caller frees); an
 * embedded NUL marks the message bad.  Never NULL. */
char *priv_get_str(struct priv_msg *m);
/* Takes the next received fd (caller owns it), or -1 when none is left. */
int priv_take_fd(struct priv_msg *m);
/* True when nothing went wrong and the whole body was consumed. */
bool priv_msg_ok(const struct priv_msg *m);

/*
 * Frame I/O on a blocking socket.  priv_send writes the whole frame (and
 * its fds, which are closed afterwards); returns 0 or -1 (errno set).
 * priv_recv reads one frame into *m (initialised by it); returns 0, 1 on
 * clean EOF before a frame, -1 on error or on a frame that breaks the
 * limits (errno EPROTO).  The caller releases *m.
 */
int priv_send(int fd, struct priv_msg *m);
int priv_recv(int fd, struct priv_msg *m);

/* Parses a frame held in memory (for the fuzzer and the tests): returns
 * the bytes consumed, 0 when more are needed, -1 when malformed. */
long priv_frame_parse(const uint8_t *data, size_t len, struct priv_msg *m);
/* Encodes a frame header + body into out (no fds). */
void priv_frame_encode(const struct priv_msg *m, struct buf *out);

#endif

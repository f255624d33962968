/*
 * msg.h - the typed messages of the listener <-> helper protocol.
 *
 * Every message type has exactly one C struct below and one field table
 * in msg.c (OpenSSH's mm_* pairs, as data).  Both sides encode and decode
 * only through priv_encode_<name> / priv_decode_<name>, so a field can
 * never be read differently from the way it was written, and the bounds
 * the helper enforces when decoding are the bounds the listener checks
 * when encoding: a request that breaks one is refused by the listener
 * (priv_encode returns -1 and nothing is sent) instead of reaching the
 * helper, where it would be a protocol violation.
 *
 * Ownership: encoding borrows every pointer of the struct.  Decoding
 * fills the struct with pointers into the message: byte strings point
 * into its body, text strings and lists live in an arena that the
 * message owns.  A decoded struct is valid until priv_msg_release of its
 * message, and needs no release of its own.
 *
 * This module never logs and never exits.
 */
#ifndef WINRMD_PRIV_MSG_H
#define WINRMD_PRIV_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/priv/proto.h"

/* Limits of the protocol (both sides). */
#define PRIV_MAX_ARGS 1024            /* SPAWN arguments */
#define PRIV_MAX_ENV 1024             /* SPAWN environment variables */
#define PRIV_MAX_SETTINGS 64          /* CONFIG_PUT settings */
#define PRIV_MAX_PARTS 4096           /* UNWRAP parts */
#define PRIV_MAX_HS_MSGS 32           /* AUTH_CERT handshake messages */
#define PRIV_MAX_CERTS 64             /* RELOAD_RESULT listener certificates */
#define PRIV_MAX_NAME 1024            /* addresses, schemes, user names */
#define PRIV_MAX_TOKEN (256 * 1024)   /* GSS tokens, channel bindings */
#define PRIV_MAX_HS_BYTES (64 * 1024) /* one handshake message */
#define PRIV_SHELL_ID_LEN 36          /* a shell id: a GUID, as shells.h */

/* No message struct is larger (msg.c checks): room for any of them. */
#define PRIV_MAX_STRUCT 256

/* A byte string: borrowed on encoding, a view into the body on decoding. */
struct priv_bytes {
	const uint8_t *data;
	size_t len;
};

struct priv_ping {
	uint64_t token;
};

struct priv_pong {
	uint64_t token;
	uint32_t pid;
};

/* Answer to RELOAD: the effective configuration (or the errors), and the
 * certificate chain (PEM) of each configured listener in order ("" where
 * it is not an enabled HTTPS listener).  Private keys never travel. */
struct priv_reload_result {
	uint32_t ok;
	const char *text;
	size_t n_certs;
	const char **certs;
};

struct priv_error {
	uint32_t code; /* errno value */
	const char *message;
};

struct priv_auth_gss {
	uint64_t conn;
	const char *remote;
	uint32_t port; /* the client's port (audit lines) */
	const char
		*scheme; /* "Negotiate" or "Kerberos" as the client wrote it */
	uint32_t flags;  /* enum priv_auth_flags */
	struct priv_bytes token;
	struct priv_bytes
		end_point; /* tls-server-end-point; empty unless TLS */
};

struct priv_auth_basic {
	uint64_t conn;
	const char *remote;
	uint32_t port;  /* the client's port (audit lines) */
	uint32_t flags; /* enum priv_auth_flags */
	const char *user;
	const char *password;
};

struct priv_auth_result {
	uint32_t status; /* enum priv_auth_status */
	struct priv_bytes token;
	const char *claimed;
	const char *user;
	uint32_t uid;
	uint32_t gid;
	uint32_t flags; /* enum priv_identity_flags */
	const char *mech;
	const char *reason;
};

struct priv_conn_close {
	uint64_t conn;
};

/* One TLS handshake message as the listener's GnuTLS saw it. */
struct priv_hs_msg {
	uint32_t type;          /* handshake type, | PRIV_HS_FROM_CLIENT */
	struct priv_bytes body; /* without the 4-byte handshake header */
};
#define PRIV_HS_FROM_CLIENT 0x100u

struct priv_auth_cert {
	uint64_t conn;
	const char *remote;
	uint32_t port;   /* the client's port (audit lines) */
	const char *uri; /* the request's ResourceURI (mappings may name one) */
	size_t n_msgs;
	const struct priv_hs_msg *msgs; /* the whole handshake, in order */
};

struct priv_env_var {
	const char *name;
	const char *value;
};

struct priv_spawn {
	uint64_t conn;
	uint32_t flags; /* enum priv_spawn_flags */
	const char *program;
	size_t argc;
	const char *const *argv;
	const char *cwd;
	size_t n_env;
	const struct priv_env_var *env;
	uint64_t max_memory; /* bytes, 0 = unlimited */
	/* The listener's shell the command belongs to (a GUID), "" for one
	 * outside any shell.  The helper uses it only to group the caller's
	 * own commands: their systemd slice and its limits, the shell's
	 * delegated Kerberos credentials (spawn.c). */
	const char *shell_id;
};

/* fds when error is 0: stdin (write), stdout, stderr, status (read) */
struct priv_spawn_result {
	uint32_t error;
	const char *message;
	uint64_t handle;
	uint32_t pid;
};

struct priv_signal_command {
	uint64_t conn; /* 0: the listener itself ends a command */
	uint64_t handle;
	uint32_t kind; /* enum priv_signal */
};

struct priv_setting {
	const char *path;
	const char *value;
};

struct priv_config_put {
	uint64_t conn;
	size_t n;
	const struct priv_setting *settings;
};

struct priv_config_result {
	uint32_t error; /* 0, EINVAL or an errno value */
	const char *message;
	const char *dump; /* effective configuration, on success */
};

/* fd: the local administration connection the helper handed over */
struct priv_auth_peer {
	uint64_t conn;
};

struct priv_sealed_part {
	struct priv_bytes hdr;
	struct priv_bytes sealed;
};

struct priv_unwrap {
	uint64_t conn;
	size_t n;
	const struct priv_sealed_part *parts;
};

struct priv_unwrap_result {
	uint32_t error;
	const char *message;
	size_t n;
	const struct priv_bytes *plain;
};

struct priv_wrap {
	uint64_t conn;
	struct priv_bytes plain;
};

struct priv_wrap_result {
	uint32_t error;
	const char *message;
	struct priv_bytes hdr;
	struct priv_bytes sealed;
};

struct priv_certmap {
	uint64_t conn;
	uint32_t op; /* enum priv_certmap_op */
	const char *uri;
	const char *subject;
	const char *issuer;
	const char *user; /* "" on Put: keep */
	uint32_t enabled; /* 0, 1, or PRIV_CERTMAP_KEEP on Put */
};

struct priv_certmap_result {
	uint32_t error;
	const char *message;
	const char *table;
};

/* Create, Put or Delete of the listener the selectors name (Address "*"
 * or "IP:a.b.c.d", Transport HTTP or HTTPS); settings are members of its
 * group ("Port" = "5986"...), none for Delete. */
struct priv_listener_edit {
	uint64_t conn;
	uint32_t op; /* enum priv_listener_op */
	const char *address;
	const char *transport;
	size_t n;
	const struct priv_setting *settings;
};

/* The TLS server signature of one handshake, made with a key only the
 * helper holds. */
struct priv_sign {
	uint64_t conn;
	struct priv_bytes
		key_id;        /* SHA-256 of the listener's leaf certificate */
	uint32_t scheme;       /* TLS SignatureScheme code point */
	uint32_t flags;        /* PRIV_SIGN_HASHED: tbs is its digest */
	struct priv_bytes tbs; /* the content to sign */
};
#define PRIV_SIGN_HASHED 1u

struct priv_sign_result {
	uint32_t error;
	const char *message;
	struct priv_bytes signature;
};

/* Notification (seq 0): a local administration connection the helper
 * accepted, bound to conn; fd: the connection. */
struct priv_local_conn {
	uint64_t conn;
};

/* The listener ended a shell of uid (deleted by its client, idle, out of
 * run time, winrmd stopping): what the helper keeps for it goes (its
 * systemd slice, its credential cache).  Its commands are ended by
 * SIGNALs of their own. */
struct priv_shell_end {
	uint32_t uid;
	const char *shell_id;
};

/*
 * Generic entry points (the typed ones below call these).
 * priv_encode initialises m with the type and encodes s; it returns 0, or
 * -1 with *why_r set (static text naming the field) when a field breaks
 * the protocol's bounds: nothing must then be sent.
 * priv_decode checks m's type, decodes its whole body into s and returns
 * 0, or -1 with *why_r when the body is malformed or out of bounds.
 * Types without fields (RELOAD, SHUTDOWN, OK...) take s == NULL.
 */
int priv_encode(struct priv_msg *m, uint16_t type, const void *s,
		const char **why_r);
int priv_decode(struct priv_msg *m, uint16_t type, void *s, const char **why_r);

/* The number of descriptors a message of this type may carry. */
unsigned priv_max_fds(uint16_t type);
/* The size of the struct of a type (0 for types without fields). */
size_t priv_struct_size(uint16_t type);
/* True for types that exist in the protocol. */
bool priv_type_known(uint16_t type);

#define PRIV_TYPED(TYPE, name)                                                 \
	static inline int priv_encode_##name(struct priv_msg *m,               \
					     const struct priv_##name *s,      \
					     const char **why_r)               \
	{                                                                      \
		return priv_encode(m, TYPE, s, why_r);                         \
	}                                                                      \
	static inline int priv_decode_##name(struct priv_msg *m,               \
					     struct priv_##name *s,            \
					     const char **why_r)               \
	{                                                                      \
		return priv_decode(m, TYPE, s, why_r);                         \
	}
PRIV_TYPED(PRIV_PING, ping)
PRIV_TYPED(PRIV_PONG, pong)
PRIV_TYPED(PRIV_RELOAD_RESULT, reload_result)
PRIV_TYPED(PRIV_ERROR, error)
PRIV_TYPED(PRIV_AUTH_GSS, auth_gss)
PRIV_TYPED(PRIV_AUTH_BASIC, auth_basic)
PRIV_TYPED(PRIV_AUTH_RESULT, auth_result)
PRIV_TYPED(PRIV_CONN_CLOSE, conn_close)
PRIV_TYPED(PRIV_AUTH_CERT, auth_cert)
PRIV_TYPED(PRIV_SPAWN, spawn)
PRIV_TYPED(PRIV_SPAWN_RESULT, spawn_result)
PRIV_TYPED(PRIV_SIGNAL, signal_command)
PRIV_TYPED(PRIV_CONFIG_PUT, config_put)
PRIV_TYPED(PRIV_CONFIG_RESULT, config_result)
PRIV_TYPED(PRIV_AUTH_PEER, auth_peer)
PRIV_TYPED(PRIV_UNWRAP, unwrap)
PRIV_TYPED(PRIV_UNWRAP_RESULT, unwrap_result)
PRIV_TYPED(PRIV_WRAP, wrap)
PRIV_TYPED(PRIV_WRAP_RESULT, wrap_result)
PRIV_TYPED(PRIV_CERTMAP, certmap)
PRIV_TYPED(PRIV_CERTMAP_RESULT, certmap_result)
PRIV_TYPED(PRIV_SIGN, sign)
PRIV_TYPED(PRIV_SIGN_RESULT, sign_result)
PRIV_TYPED(PRIV_LOCAL_CONN, local_conn)
PRIV_TYPED(PRIV_LISTENER_EDIT, listener_edit)
PRIV_TYPED(PRIV_SHELL_END, shell_end)
#undef PRIV_TYPED

#endif

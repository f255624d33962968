/*
 * identity.h - who a connection (or a request) is, as the helper
 * established it, and the connection-bound authentication state that
 * struct conn carries (design decision 2).
 *
 * A zeroed struct means nobody: a fresh connection is never authenticated.
 */
#ifndef WINRMD_LISTENER_IDENTITY_H
#define WINRMD_LISTENER_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct auth_method;

struct identity {
	char *claimed; /* name as the client gave it (owned) */
	char *user;    /* mapped local account (owned) */
	uid_t uid;
	gid_t gid;
	unsigned flags; /* enum priv_identity_flags */
	char *mech;     /* "Kerberos", "NTLM", "Basic", "Certificate" (owned) */
};

/* Frees what id holds and zeroes it (nobody again). */
void identity_release(struct identity *id);
/* Fills dst (empty) with copies of src's fields. */
void identity_copy(struct identity *dst, const struct identity *src);
/* Replaces id with copies of the helper's verdict. */
void identity_set(struct identity *id, const char *claimed, const char *user,
		  uint32_t uid, uint32_t gid, uint32_t flags, const char *mech);

enum conn_auth_state {
	CONN_UNAUTHENTICATED = 0, /* the zero value: nobody */
	CONN_HANDSHAKE,           /* a multi-leg GSS handshake is under way */
	CONN_AUTHENTICATED,
};

struct conn_auth {
	enum conn_auth_state state;
	const struct auth_method
		*method;        /* that authenticated the connection */
	char scheme[16];        /* scheme word the client used */
	uint8_t basic_hash[32]; /* SHA-256 of the verified Basic header */
	char *cert_uri;    /* resource URI the certificate was mapped for */
	bool helper_state; /* the helper holds state for this conn */
	struct identity id;
};

#endif

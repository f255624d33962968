/*
 * msg.c - the field tables of the typed helper messages (see msg.h) and
 * the one encoder and one decoder that walk them.
 *
 * Each table lists a struct's fields in wire order with their bounds;
 * tests/unit/test-priv-msg.c round-trips every type and fuzz/fuzz-priv-
 * proto.c decodes arbitrary bodies as every type.
 *
 * Must not: log, exit, or trust any length or count read from the peer.
 * Entry points: priv_encode, priv_decode, priv_max_fds.
 */
#include "autoconfig.h"

#include "lib/priv/msg.h"

#include <string.h>

enum ftype { F_U32, F_U64, F_STR, F_BYTES, F_LIST };

struct layout;

struct field {
	enum ftype type;
	const char *name;
	size_t off;                /* of the value in the struct */
	size_t max;                /* STR, BYTES: length; LIST: count */
	size_t count_off;          /* LIST: of the size_t count */
	const struct layout *elem; /* LIST: one element */
};

struct layout {
	size_t size;
	const struct field *fields;
	size_t n;
};

/* Strings and byte strings without a tighter bound are limited by the
 * frame size alone. */
#define ANY PRIV_MAX_FRAME

/* clang-format off */
#define U32(S, f) { F_U32, #f, offsetof(S, f), 0, 0, NULL }
#define U64(S, f) { F_U64, #f, offsetof(S, f), 0, 0, NULL }
#define STR(S, f, max) { F_STR, #f, offsetof(S, f), (max), 0, NULL }
#define BYTES(S, f, max) { F_BYTES, #f, offsetof(S, f), (max), 0, NULL }
#define LIST(S, f, count, max, elem)                                     \
	{ F_LIST, #f, offsetof(S, f), (max), offsetof(S, count), &(elem) }
#define LAYOUT(S, table) { sizeof(S), table, sizeof(table) / sizeof(table[0]) }
/* clang-format on */

/* Elements of lists */
static const struct field str_elem_f[] = { { F_STR, "string", 0, ANY, 0,
					     NULL } };
static const struct layout str_elem = { sizeof(const char *), str_elem_f, 1 };
static const struct field bytes_elem_f[] = { { F_BYTES, "bytes", 0, ANY, 0,
					       NULL } };
static const struct layout bytes_elem = { sizeof(struct priv_bytes),
					  bytes_elem_f, 1 };

static const struct field env_var_f[] = {
	STR(struct priv_env_var, name, ANY),
	STR(struct priv_env_var, value, ANY),
};
static const struct layout env_var = LAYOUT(struct priv_env_var, env_var_f);

static const struct field setting_f[] = {
	STR(struct priv_setting, path, PRIV_MAX_NAME),
	STR(struct priv_setting, value, ANY),
};
static const struct layout setting = LAYOUT(struct priv_setting, setting_f);

static const struct field sealed_part_f[] = {
	BYTES(struct priv_sealed_part, hdr, ANY),
	BYTES(struct priv_sealed_part, sealed, ANY),
};
static const struct layout sealed_part = LAYOUT(struct priv_sealed_part,
						sealed_part_f);

static const struct field hs_msg_f[] = {
	U32(struct priv_hs_msg, type),
	BYTES(struct priv_hs_msg, body, PRIV_MAX_HS_BYTES),
};
static const struct layout hs_msg = LAYOUT(struct priv_hs_msg, hs_msg_f);

/* Messages */
static const struct field ping_f[] = { U64(struct priv_ping, token) };
static const struct field pong_f[] = {
	U64(struct priv_pong, token),
	U32(struct priv_pong, pid),
};
static const struct field reload_result_f[] = {
	U32(struct priv_reload_result, ok),
	STR(struct priv_reload_result, text, ANY),
	LIST(struct priv_reload_result, certs, n_certs, PRIV_MAX_CERTS,
	     str_elem),
};
static const struct field error_f[] = {
	U32(struct priv_error, code),
	STR(struct priv_error, message, ANY),
};
static const struct field auth_gss_f[] = {
	U64(struct priv_auth_gss, conn),
	STR(struct priv_auth_gss, remote, PRIV_MAX_NAME),
	U32(struct priv_auth_gss, port),
	STR(struct priv_auth_gss, scheme, PRIV_MAX_NAME),
	U32(struct priv_auth_gss, flags),
	BYTES(struct priv_auth_gss, token, PRIV_MAX_TOKEN),
	BYTES(struct priv_auth_gss, end_point, PRIV_MAX_NAME),
};
static const struct field auth_basic_f[] = {
	U64(struct priv_auth_basic, conn),
	STR(struct priv_auth_basic, remote, PRIV_MAX_NAME),
	U32(struct priv_auth_basic, port),
	U32(struct priv_auth_basic, flags),
	STR(struct priv_auth_basic, user, PRIV_MAX_TOKEN),
	STR(struct priv_auth_basic, password, PRIV_MAX_TOKEN),
};
static const struct field auth_result_f[] = {
	U32(struct priv_auth_result, status),
	BYTES(struct priv_auth_result, token, PRIV_MAX_TOKEN),
	STR(struct priv_auth_result, claimed, ANY),
	STR(struct priv_auth_result, user, ANY),
	U32(struct priv_auth_result, uid),
	U32(struct priv_auth_result, gid),
	U32(struct priv_auth_result, flags),
	STR(struct priv_auth_result, mech, ANY),
	STR(struct priv_auth_result, reason, ANY),
};
static const struct field conn_close_f[] = { U64(struct priv_conn_close,
						 conn) };
static const struct field auth_cert_f[] = {
	U64(struct priv_auth_cert, conn),
	STR(struct priv_auth_cert, remote, PRIV_MAX_NAME),
	U32(struct priv_auth_cert, port),
	STR(struct priv_auth_cert, uri, ANY),
	LIST(struct priv_auth_cert, msgs, n_msgs, PRIV_MAX_HS_MSGS, hs_msg),
};
static const struct field spawn_f[] = {
	U64(struct priv_spawn, conn),
	U32(struct priv_spawn, flags),
	STR(struct priv_spawn, program, ANY),
	LIST(struct priv_spawn, argv, argc, PRIV_MAX_ARGS, str_elem),
	STR(struct priv_spawn, cwd, ANY),
	LIST(struct priv_spawn, env, n_env, PRIV_MAX_ENV, env_var),
	U64(struct priv_spawn, max_memory),
	STR(struct priv_spawn, shell_id, PRIV_SHELL_ID_LEN),
};
static const struct field spawn_result_f[] = {
	U32(struct priv_spawn_result, error),
	STR(struct priv_spawn_result, message, ANY),
	U64(struct priv_spawn_result, handle),
	U32(struct priv_spawn_result, pid),
};
static const struct field signal_f[] = {
	U64(struct priv_signal_command, conn),
	U64(struct priv_signal_command, handle),
	U32(struct priv_signal_command, kind),
};
static const struct field config_put_f[] = {
	U64(struct priv_config_put, conn),
	LIST(struct priv_config_put, settings, n, PRIV_MAX_SETTINGS, setting),
};
static const struct field config_result_f[] = {
	U32(struct priv_config_result, error),
	STR(struct priv_config_result, message, ANY),
	STR(struct priv_config_result, dump, ANY),
};
static const struct field auth_peer_f[] = { U64(struct priv_auth_peer, conn) };
static const struct field unwrap_f[] = {
	U64(struct priv_unwrap, conn),
	LIST(struct priv_unwrap, parts, n, PRIV_MAX_PARTS, sealed_part),
};
static const struct field unwrap_result_f[] = {
	U32(struct priv_unwrap_result, error),
	STR(struct priv_unwrap_result, message, ANY),
	LIST(struct priv_unwrap_result, plain, n, PRIV_MAX_PARTS, bytes_elem),
};
static const struct field wrap_f[] = {
	U64(struct priv_wrap, conn),
	BYTES(struct priv_wrap, plain, ANY),
};
static const struct field wrap_result_f[] = {
	U32(struct priv_wrap_result, error),
	STR(struct priv_wrap_result, message, ANY),
	BYTES(struct priv_wrap_result, hdr, ANY),
	BYTES(struct priv_wrap_result, sealed, ANY),
};
static const struct field certmap_f[] = {
	U64(struct priv_certmap, conn),
	U32(struct priv_certmap, op),
	STR(struct priv_certmap, uri, ANY),
	STR(struct priv_certmap, subject, ANY),
	STR(struct priv_certmap, issuer, ANY),
	STR(struct priv_certmap, user, ANY),
	U32(struct priv_certmap, enabled),
};
static const struct field certmap_result_f[] = {
	U32(struct priv_certmap_result, error),
	STR(struct priv_certmap_result, message, ANY),
	STR(struct priv_certmap_result, table, ANY),
};
static const struct field sign_f[] = {
	U64(struct priv_sign, conn),        BYTES(struct priv_sign, key_id, 32),
	U32(struct priv_sign, scheme),      U32(struct priv_sign, flags),
	BYTES(struct priv_sign, tbs, 4096),
};
static const struct field sign_result_f[] = {
	U32(struct priv_sign_result, error),
	STR(struct priv_sign_result, message, ANY),
	BYTES(struct priv_sign_result, signature, 4096),
};
static const struct field local_conn_f[] = { U64(struct priv_local_conn,
						 conn) };
static const struct field listener_edit_f[] = {
	U64(struct priv_listener_edit, conn),
	U32(struct priv_listener_edit, op),
	STR(struct priv_listener_edit, address, PRIV_MAX_NAME),
	STR(struct priv_listener_edit, transport, PRIV_MAX_NAME),
	LIST(struct priv_listener_edit, settings, n, PRIV_MAX_SETTINGS,
	     setting),
};
static const struct field shell_end_f[] = {
	U32(struct priv_shell_end, uid),
	STR(struct priv_shell_end, shell_id, PRIV_SHELL_ID_LEN),
};

struct schema {
	bool known;
	const struct layout layout; /* size 0: no fields */
	unsigned max_fds;
};

#define MSG(TYPE, S, table, fds) [TYPE] = { true, LAYOUT(S, table), fds }
#define EMPTY(TYPE) [TYPE] = { true, { 0, NULL, 0 }, 0 }

static const struct schema schemas[PRIV_TYPE_MAX] = {
	MSG(PRIV_PING, struct priv_ping, ping_f, 0),
	MSG(PRIV_PONG, struct priv_pong, pong_f, 0),
	EMPTY(PRIV_RELOAD),
	MSG(PRIV_RELOAD_RESULT, struct priv_reload_result, reload_result_f, 0),
	EMPTY(PRIV_SHUTDOWN),
	EMPTY(PRIV_SHUTDOWN_DONE),
	MSG(PRIV_ERROR, struct priv_error, error_f, 0),
	MSG(PRIV_AUTH_GSS, struct priv_auth_gss, auth_gss_f, 0),
	MSG(PRIV_AUTH_BASIC, struct priv_auth_basic, auth_basic_f, 0),
	MSG(PRIV_AUTH_RESULT, struct priv_auth_result, auth_result_f, 0),
	MSG(PRIV_CONN_CLOSE, struct priv_conn_close, conn_close_f, 0),
	MSG(PRIV_AUTH_CERT, struct priv_auth_cert, auth_cert_f, 0),
	EMPTY(PRIV_OK),
	MSG(PRIV_SPAWN, struct priv_spawn, spawn_f, 0),
	MSG(PRIV_SPAWN_RESULT, struct priv_spawn_result, spawn_result_f, 4),
	MSG(PRIV_SIGNAL, struct priv_signal_command, signal_f, 0),
	MSG(PRIV_CONFIG_PUT, struct priv_config_put, config_put_f, 0),
	MSG(PRIV_CONFIG_RESULT, struct priv_config_result, config_result_f, 0),
	MSG(PRIV_AUTH_PEER, struct priv_auth_peer, auth_peer_f, 1),
	MSG(PRIV_UNWRAP, struct priv_unwrap, unwrap_f, 0),
	MSG(PRIV_UNWRAP_RESULT, struct priv_unwrap_result, unwrap_result_f, 0),
	MSG(PRIV_WRAP, struct priv_wrap, wrap_f, 0),
	MSG(PRIV_WRAP_RESULT, struct priv_wrap_result, wrap_result_f, 0),
	MSG(PRIV_CERTMAP, struct priv_certmap, certmap_f, 0),
	MSG(PRIV_CERTMAP_RESULT, struct priv_certmap_result, certmap_result_f,
	    0),
	MSG(PRIV_SIGN, struct priv_sign, sign_f, 0),
	MSG(PRIV_SIGN_RESULT, struct priv_sign_result, sign_result_f, 0),
	MSG(PRIV_LOCAL_CONN, struct priv_local_conn, local_conn_f, 1),
	MSG(PRIV_LISTENER_EDIT, struct priv_listener_edit, listener_edit_f, 0),
	MSG(PRIV_SHELL_END, struct priv_shell_end, shell_end_f, 0),
};

#define FITS(S) _Static_assert(sizeof(S) <= PRIV_MAX_STRUCT, #S " fits")
FITS(struct priv_auth_gss);
FITS(struct priv_auth_basic);
FITS(struct priv_auth_result);
FITS(struct priv_auth_cert);
FITS(struct priv_spawn);
FITS(struct priv_certmap);
FITS(struct priv_sign);
FITS(struct priv_wrap_result);
FITS(struct priv_reload_result);
/* Answers that can be refusals start with (u32 error, string message)
 * (loop.c's helper_refuse relies on it). */
struct refusal_prefix {
	uint32_t error;
	const char *message;
};
#define REFUSABLE(S)                                                           \
	_Static_assert(offsetof(S, error) == offsetof(struct refusal_prefix,   \
						      error) &&                \
			       offsetof(S, message) ==                         \
				       offsetof(struct refusal_prefix,         \
						message),                      \
		       #S " starts like a refusal")
REFUSABLE(struct priv_spawn_result);
REFUSABLE(struct priv_config_result);
REFUSABLE(struct priv_unwrap_result);
REFUSABLE(struct priv_wrap_result);
REFUSABLE(struct priv_certmap_result);
REFUSABLE(struct priv_sign_result);
_Static_assert(offsetof(struct priv_error, code) == 0 &&
		       offsetof(struct priv_error, message) ==
			       offsetof(struct refusal_prefix, message),
	       "PRIV_ERROR starts like a refusal");

static const struct schema *schema_of(uint16_t type)
{
	return type < PRIV_TYPE_MAX && schemas[type].known ? &schemas[type]
							   : NULL;
}

bool priv_type_known(uint16_t type)
{
	return schema_of(type) != NULL;
}

unsigned priv_max_fds(uint16_t type)
{
	const struct schema *s = schema_of(type);
	return s != NULL ? s->max_fds : 0;
}

size_t priv_struct_size(uint16_t type)
{
	const struct schema *s = schema_of(type);
	return s != NULL ? s->layout.size : 0;
}

/* ---- encoding ---- */

static int encode_layout(struct priv_msg *m, const struct layout *l,
			 const uint8_t *s, const char **why_r);

/* The encoded size of s (limits unchecked: encode_layout checks them), so
 * that a large message is allocated once rather than grown by copies. */
static size_t encoded_size(const struct layout *l, const uint8_t *s)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct field *f = &l->fields[i];
		const void *at = s + f->off;
		switch (f->type) {
		case F_U32: n += 4; break;
		case F_U64: n += 8; break;
		case F_STR: {
			const char *str = *(const char *const *)at;
			n += 4 + (str != NULL ? strlen(str) : 0);
			break;
		}
		case F_BYTES:
			n += 4 + ((const struct priv_bytes *)at)->len;
			break;
		case F_LIST: {
			size_t count = *(const size_t *)(s + f->count_off);
			const uint8_t *elems = *(const uint8_t *const *)at;
			n += 4;
			if (count <= f->max)
				for (size_t k = 0; k < count; k++)
					n += encoded_size(
						f->elem,
						elems + k * f->elem->size);
			break;
		}
		}
	}
	return n;
}

static int encode_field(struct priv_msg *m, const struct field *f,
			const uint8_t *s, const char **why_r)
{
	const void *at = s + f->off;
	switch (f->type) {
	case F_U32: priv_put_u32(m, *(const uint32_t *)at); return 0;
	case F_U64: priv_put_u64(m, *(const uint64_t *)at); return 0;
	case F_STR: {
		const char *str = *(const char *const *)at;
		if (str == NULL)
			str = "";
		size_t n = strlen(str);
		if (n > f->max)
			break;
		priv_put_bytes(m, str, n);
		return 0;
	}
	case F_BYTES: {
		const struct priv_bytes *b = at;
		if (b->len > f->max)
			break;
		priv_put_bytes(m, b->data, b->len);
		return 0;
	}
	case F_LIST: {
		size_t count = *(const size_t *)(s + f->count_off);
		const uint8_t *elems = *(const uint8_t *const *)at;
		if (count > f->max)
			break;
		priv_put_u32(m, (uint32_t)count);
		for (size_t i = 0; i < count; i++)
			if (encode_layout(m, f->elem, elems + i * f->elem->size,
					  why_r) != 0)
				return -1;
		return 0;
	}
	}
	*why_r = f->name;
	return -1;
}

static int encode_layout(struct priv_msg *m, const struct layout *l,
			 const uint8_t *s, const char **why_r)
{
	for (size_t i = 0; i < l->n; i++)
		if (encode_field(m, &l->fields[i], s, why_r) != 0)
			return -1;
	return 0;
}

int priv_encode(struct priv_msg *m, uint16_t type, const void *s,
		const char **why_r)
{
	const char *why = NULL;
	priv_msg_init(m, type);
	const struct schema *sc = schema_of(type);
	if (sc == NULL) {
		why = "unknown message type";
	} else if (sc->layout.size != 0 && s == NULL) {
		why = "no fields given";
	} else if (sc->layout.size != 0) {
		size_t size = encoded_size(&sc->layout, s);
		if (size <= PRIV_MAX_FRAME)
			buf_reserve(&m->body, size);
		if (encode_layout(m, &sc->layout, s, &why) != 0)
			; /* why names the field */
		else if (m->body.len > PRIV_MAX_FRAME - 16)
			why = "the message is larger than the protocol allows";
	}
	if (why != NULL) {
		priv_msg_release(m);
		priv_msg_init(m, type);
	}
	if (why_r != NULL)
		*why_r = why;
	return why == NULL ? 0 : -1;
}

/* ---- decoding ---- */

static int decode_layout(struct priv_msg *m, const struct layout *l, uint8_t *s,
			 const char **why_r);

static int decode_field(struct priv_msg *m, const struct field *f, uint8_t *s,
			const char **why_r)
{
	void *at = s + f->off;
	switch (f->type) {
	case F_U32: *(uint32_t *)at = priv_get_u32(m); break;
	case F_U64: *(uint64_t *)at = priv_get_u64(m); break;
	case F_STR: {
		size_t n;
		const uint8_t *p = priv_get_bytes(m, &n);
		if (m->bad || n > f->max || memchr(p, '\0', n) != NULL)
			goto bad;
		char *copy = priv_msg_alloc(m, n + 1);
		memcpy(copy, p, n);
		*(const char **)at = copy;
		break;
	}
	case F_BYTES: {
		struct priv_bytes *b = at;
		b->data = priv_get_bytes(m, &b->len);
		if (m->bad || b->len > f->max)
			goto bad;
		break;
	}
	case F_LIST: {
		uint32_t count = priv_get_u32(m);
		if (m->bad || count > f->max)
			goto bad;
		/* Each element takes at least 4 bytes on the wire, so a count
		 * cannot make us allocate more than the body justifies. */
		if ((size_t)count * 4 > m->body.len - m->rpos)
			goto bad;
		uint8_t *elems = count > 0
					 ? priv_msg_alloc(m,
							  (size_t)count *
								  f->elem->size)
					 : NULL;
		for (uint32_t i = 0; i < count; i++)
			if (decode_layout(m, f->elem,
					  elems + (size_t)i * f->elem->size,
					  why_r) != 0)
				return -1;
		*(uint8_t **)at = elems;
		*(size_t *)(s + f->count_off) = count;
		break;
	}
	}
	if (m->bad)
		goto bad;
	return 0;
bad:
	m->bad = true;
	*why_r = f->name;
	return -1;
}

static int decode_layout(struct priv_msg *m, const struct layout *l, uint8_t *s,
			 const char **why_r)
{
	for (size_t i = 0; i < l->n; i++)
		if (decode_field(m, &l->fields[i], s, why_r) != 0)
			return -1;
	return 0;
}

int priv_decode(struct priv_msg *m, uint16_t type, void *s, const char **why_r)
{
	const char *why = NULL;
	const struct schema *sc = schema_of(type);
	m->rpos = 0;
	m->bad = false;
	if (sc == NULL || m->type != type) {
		why = "unexpected message type";
	} else if (m->n_fds > sc->max_fds) {
		why = "unexpected file descriptors";
	} else if (sc->layout.size != 0) {
		if (s == NULL)
			why = "no struct to decode into";
		else
			memset(s, 0, sc->layout.size);
		if (s != NULL && decode_layout(m, &sc->layout, s, &why) == 0 &&
		    !priv_msg_ok(m))
			why = "trailing bytes";
	} else if (m->body.len != 0) {
		why = "trailing bytes";
	}
	if (why_r != NULL)
		*why_r = why;
	return why == NULL ? 0 : -1;
}

/*
 * wire.h - the protocol between the listener and a provider host
 * (winrmd-wmi) over the host's stdin and stdout: one request frame in,
 * one reply frame out, strictly in turn.
 *
 * Frame: u32 length of the payload (little endian, at most the limit of
 * its direction), then the payload: u8 type, then fields.  Integers are
 * little endian; a string is u32 length, the bytes, and a NUL that is
 * checked (strings hold no NUL).
 *
 *   QUERY     (listener -> host)  str class, u32 flags, u16 n, n x (str
 *             name, str value) key hints, u16 m, m x u16 property index
 *             wanted (m = 0: all)
 *   INVOKE    (listener -> host)  str class, str method, u16 n, n x (str
 *             name, str value) selectors, u16 m, m x (str name, u8 null,
 *             str value) input parameters
 *   INSTANCES (host -> listener)  u32 count, count x (u16 n, n x (u16
 *             property index, u8 kind, SCALAR: str | ARRAY: u16 k, k x
 *             str)); a property that is absent is null
 *   RESULT    (host -> listener)  u32 ReturnValue, u16 n, n x (str name,
 *             u8 null, str value) output parameters
 *   ERROR     (host -> listener)  u32 enum wmi_error, str message
 *
 * The host's replies are untrusted input for the listener: the decoder
 * checks every length against what is left, every property index,
 * every value against its schema type (value.h), duplicates and counts,
 * and refuses the whole reply on the first fault (fuzzed:
 * fuzz/fuzz-wmi-wire.c).  Key hints are only hints: the listener checks
 * the keys of what comes back.
 *
 * Ownership is stated per function.  Never logs, never exits.
 */
#ifndef WINRMD_WMI_WIRE_H
#define WINRMD_WMI_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "lib/wmi/schema.h"

#define WMI_WIRE_MAX_REQUEST (1u << 20)  /* listener -> host */
#define WMI_WIRE_MAX_REPLY (64u << 20)   /* host -> listener */
#define WMI_WIRE_MAX_STRING (64u * 1024) /* one value */
#define WMI_WIRE_MAX_ARRAY 4096          /* values of one array */
#define WMI_WIRE_MAX_PAIRS 256           /* keys, parameters */
#define WMI_WIRE_MAX_INSTANCES 100000    /* in one reply */
#define WMI_WIRE_HEADER 4

enum wmi_wire_type {
	WMI_W_QUERY = 1,
	WMI_W_INVOKE = 2,
	WMI_W_INSTANCES = 0x81,
	WMI_W_RESULT = 0x82,
	WMI_W_ERROR = 0x83,
};

enum wmi_value_kind { WMI_V_NULL = 0, WMI_V_SCALAR = 1, WMI_V_ARRAY = 2 };

/* What a host answers instead of instances or a result. */
enum wmi_error {
	WMI_E_FAILED = 1,    /* could not collect (message says why) */
	WMI_E_NOT_FOUND,     /* no instance with these keys */
	WMI_E_INVALID_PARAM, /* a method parameter is invalid */
	WMI_E_NOT_SUPPORTED, /* class or method not in this host */
	WMI_E_ACCESS_DENIED, /* the caller may not do this */
	WMI_E_PROTOCOL,      /* the request was malformed */
};

/* QUERY flags */
enum wmi_query_flags {
	WMI_Q_KEYS_ONLY = 1 << 0, /* only the keys are needed (EPRs) */
};

struct wmi_pair {
	char *name;
	char *value; /* "" when is_null */
	bool is_null;
};

/* A decoded request (the host's side).  Owned strings; release with
 * wmi_request_release. */
struct wmi_request {
	uint8_t type; /* WMI_W_QUERY or WMI_W_INVOKE */
	char *class_name;
	char *method; /* INVOKE */
	uint32_t flags;
	struct wmi_pair *keys;
	size_t n_keys;
	struct wmi_pair *params; /* INVOKE */
	size_t n_params;
	uint16_t *wanted; /* QUERY: property indexes, NULL = all */
	size_t n_wanted;
};

/* ---- encoding (both sides) ---- */

/* Starts a frame of type in out (appends; the length is patched by
 * wmi_wire_end). */
void wmi_wire_begin(struct buf *out, size_t *start_r, uint8_t type);
void wmi_wire_u8(struct buf *out, uint8_t v);
void wmi_wire_u16(struct buf *out, uint16_t v);
void wmi_wire_u32(struct buf *out, uint32_t v);
/* A string of len bytes; a NUL inside is replaced by U+FFFD's bytes and
 * longer strings are cut at WMI_WIRE_MAX_STRING (at a UTF-8 boundary), so
 * that the encoder never writes what the decoder refuses. */
void wmi_wire_str(struct buf *out, const char *s, size_t len);
void wmi_wire_cstr(struct buf *out, const char *s); /* NULL = "" */
/* Patches the length of the frame started at start. */
void wmi_wire_end(struct buf *out, size_t start);

/* The listener's requests. */
void wmi_wire_query(struct buf *out, const char *class_name, uint32_t flags,
		    const struct wmi_pair *keys, size_t n_keys,
		    const uint16_t *wanted, size_t n_wanted);
void wmi_wire_invoke(struct buf *out, const char *class_name,
		     const char *method, const struct wmi_pair *keys,
		     size_t n_keys, const struct wmi_pair *params,
		     size_t n_params);
/* The host's error reply. */
void wmi_wire_error(struct buf *out, enum wmi_error code, const char *message);

/* ---- framing ---- */

/* The payload length a frame header announces (4 bytes at p). */
uint32_t wmi_wire_frame_len(const uint8_t *p);

/* ---- decoding ---- */

/* The host decodes a request payload (len bytes).  Returns 0, or -1 with
 * *why_r (static text); *req is filled (release it in both cases). */
int wmi_wire_decode_request(const uint8_t *p, size_t len,
			    struct wmi_request *req, const char **why_r);
void wmi_request_release(struct wmi_request *req);

/* A value of a decoded instance: kind, and where its strings are in the
 * set's pool (n of them from first; n = 1 for a scalar). */
struct wmi_value {
	uint32_t first;
	uint16_t n;
	uint8_t kind; /* enum wmi_value_kind */
};

/* The instances of one reply.  Strings point into payload, which the set
 * owns; release with wmi_instances_release. */
struct wmi_instances {
	const struct wmi_class *cls;
	size_t n;
	struct wmi_value *values; /* n * cls->n_props, row by row */
	const char **strs;        /* the string pool */
	size_t n_strs;
	uint8_t *payload; /* owned */
};

static inline const struct wmi_value *
wmi_inst_value(const struct wmi_instances *s, size_t inst, size_t prop)
{
	return &s->values[inst * s->cls->n_props + prop];
}

static inline const char *wmi_inst_str(const struct wmi_instances *s,
				       const struct wmi_value *v, size_t k)
{
	return s->strs[v->first + k];
}

/* A decoded RESULT or ERROR (the listener's side). */
struct wmi_result {
	uint8_t type;                         /* WMI_W_RESULT or WMI_W_ERROR */
	uint32_t return_value;                /* RESULT */
	const char **out_names, **out_values; /* RESULT; NULL value = null */
	size_t n_outs;
	uint32_t error; /* ERROR: enum wmi_error */
	const char *message;
	uint8_t *payload; /* owned */
};

/*
 * The listener decodes a reply payload of len bytes, taking it over
 * (payload is freed by the release, also on failure).  For an INSTANCES
 * reply the values are checked against class c; an ERROR reply to a
 * query comes back as a result.  Returns 0 with *set filled (INSTANCES)
 * or *res filled (RESULT, ERROR), or -1 with *why_r (static text).
 * Release both structs in every case.
 */
int wmi_wire_decode_reply(const struct wmi_class *c, uint8_t *payload,
			  size_t len, struct wmi_instances *set,
			  struct wmi_result *res, const char **why_r);
void wmi_instances_release(struct wmi_instances *set);
void wmi_result_release(struct wmi_result *res);

#endif

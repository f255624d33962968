/*
 * fuzz-seal.c - libFuzzer harness for the encrypted-body framing
 * (listener/auth/seal.c): seal_parse over arbitrary bytes under a few
 * Content-Types (or one taken from the input itself), then every parsed
 * part is rebuilt with seal_build/seal_finish and parsed again, which must
 * give back the same parts.  The listener runs this parser on bodies from
 * any authenticated client, so none of it may read out of bounds, leak or
 * disagree with itself.
 *
 * Input: byte 0 selects the Content-Type; with selector 7 the Content-Type
 * is the input up to the first LF and the body the rest.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listener/auth/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
	"multipart/encrypted;protocol=\"" SEAL_PROTO_SPNEGO
	"\";boundary=\"Encrypted Boundary\"",
	"multipart/encrypted;protocol=\"" SEAL_PROTO_KERBEROS
	"\";boundary=\"Encrypted Boundary\"",
	"multipart/x-multi-encrypted;protocol=\"" SEAL_PROTO_CREDSSP
	"\";boundary=\"Encrypted Boundary\"",
	"multipart/x-multi-encrypted;protocol=\"" SEAL_PROTO_SPNEGO "\"",
	"Multipart/Encrypted; protocol=" SEAL_PROTO_SPNEGO "; boundary=b",
	"multipart/encrypted;protocol=\"" SEAL_PROTO_KERBEROS
	"\";boundary=\"x\\\"y\"",
	"application/soap+xml;charset=UTF-8",
};

/* Whether p holds the default boundary in any case: rebuilt with the
 * default boundary, such bytes may legitimately split differently. */
static int has_boundary(const uint8_t *p, size_t n)
{
	static const char b[] = SEAL_BOUNDARY;
	size_t bl = sizeof(b) - 1;

	for (size_t i = 0; i + bl <= n; i++)
		if (strncasecmp((const char *)p + i, b, bl) == 0)
			return 1;
	return 0;
}

static void roundtrip(const struct seal_message *m)
{
	struct buf out = BUF_INIT;
	struct seal_message again;
	const char *err;

	for (size_t i = 0; i < m->nparts; i++) {
		const struct seal_part *p = &m->parts[i];
		if (has_boundary(p->hdr, p->hdr_len) ||
		    has_boundary(p->sealed, p->sealed_len))
			return;
	}
	for (size_t i = 0; i < m->nparts; i++) {
		const struct seal_part *p = &m->parts[i];
		seal_build(&out, m->protocol, m->content_type,
			   p->original_length, p->hdr, p->hdr_len, p->sealed,
			   p->sealed_len);
	}
	seal_finish(&out);
	const char *ct = seal_response_content_type(m->protocol, m->multi);
	if (ct == NULL)
		abort();
	if (seal_parse(out.data, out.len, ct, &again, &err) != 0)
		abort();
	if (again.nparts != m->nparts || again.charset != m->charset ||
	    again.total_length != m->total_length || again.multi != m->multi ||
	    strcmp(again.protocol, m->protocol) != 0)
		abort();
	for (size_t i = 0; i < m->nparts; i++) {
		const struct seal_part *a = &m->parts[i], *b = &again.parts[i];
		if (a->hdr_len != b->hdr_len ||
		    a->sealed_len != b->sealed_len ||
		    a->original_length != b->original_length ||
		    memcmp(a->hdr, b->hdr, a->hdr_len) != 0 ||
		    (a->sealed_len > 0 &&
		     memcmp(a->sealed, b->sealed, a->sealed_len) != 0) ||
		    b->crlf_trimmed)
			abort();
	}
	seal_message_release(&again);
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal_message m;
	const char *err = NULL;
	char *ct_copy = NULL;
	const char *ct;
	char proto[SEAL_PROTOCOL_MAX];

	if (size == 0)
		return 0;
	unsigned sel = data[0] % 8;
	data++;
	size--;
	if (sel == 7) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t n = nl != NULL ? (size_t)(nl - data) : size;
		ct_copy = xstrndup((const char *)data, n);
		data += n + (nl != NULL);
		size -= n + (nl != NULL);
		ct = ct_copy;
	} else {
		ct = content_types[sel % 7];
	}
	/* the body in its own allocation, so ASan sees any overread */
	uint8_t *body = xmalloc(size + 1);
	memcpy(body, data, size);

	bool enc = seal_is_encrypted(ct, proto, sizeof(proto));
	int rc = seal_parse(body, size, ct, &m, &err);
	if (rc == 0) {
		if (!enc || m.nparts == 0 || m.nparts > SEAL_MAX_PARTS ||
		    strcmp(proto, m.protocol) != 0)
			abort();
		for (size_t i = 0; i < m.nparts; i++) {
			const struct seal_part *p = &m.parts[i];
			if (p->hdr < body ||
			    p->sealed + p->sealed_len > body + size ||
			    p->original_length > p->sealed_len ||
			    p->hdr_len == 0 || p->hdr_len > SEAL_MAX_HEADER)
				abort();
			(void)seal_length_ok(p->original_length,
					     p->original_length, p->sealed_len);
		}
		roundtrip(&m);
	} else if (err == NULL || m.parts != NULL || m.nparts != 0) {
		abort();
	}
	seal_message_release(&m);
	free(body);
	free(ct_copy);
	return 0;
}

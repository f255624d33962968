/*
 * fuzz-priv-proto.c - libFuzzer harness for the helper protocol decoder:
 * frames parsed back to back from arbitrary bytes, each body decoded as
 * every typed message (msg.c, what the helper and the listener decode
 * from a hostile peer); what decodes must encode again to the very same
 * body.  Then the raw field getters driven by the remaining bytes.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/priv/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes m as type; what decodes must encode back to the same bytes. */
static void decode_as(struct priv_msg *m, uint16_t type)
{
	size_t size = priv_struct_size(type);
	_Alignas(max_align_t) uint8_t s[PRIV_MAX_STRUCT];
	uint16_t real = m->type;
	m->type = type;
	if (priv_decode(m, type, size > 0 ? s : NULL, NULL) == 0) {
		struct priv_msg again;
		if (priv_encode(&again, type, size > 0 ? s : NULL, NULL) != 0 ||
		    again.body.len != m->body.len ||
		    (m->body.len > 0 &&
		     memcmp(again.body.data, m->body.data, m->body.len) != 0))
			abort(); /* decode and encode disagree */
		priv_msg_release(&again);
	}
	m->type = real;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		struct priv_msg m;
		long used = priv_frame_parse(data, size, &m);
		if (used <= 0) {
			priv_msg_release(&m);
			break;
		}
		for (uint16_t t = 0; t < PRIV_TYPE_MAX; t++)
			if (priv_type_known(t))
				decode_as(&m, t);
		/* Decode the body with a getter sequence chosen by its bytes. */
		m.rpos = 0;
		m.bad = false;
		for (unsigned i = 0; i < 64 && !m.bad && m.rpos < m.body.len;
		     i++) {
			size_t n;
			switch (m.body.data[m.rpos] % 4) {
			case 0: priv_get_u32(&m); break;
			case 1: priv_get_u64(&m); break;
			case 2: priv_get_bytes(&m, &n); break;
			case 3: free(priv_get_str(&m)); break;
			}
		}
		(void)priv_msg_ok(&m);
		(void)priv_type_name(m.type);
		struct buf again = BUF_INIT;
		priv_frame_encode(&m, &again);
		buf_release(&again);
		priv_msg_release(&m);
		data += used;
		size -= (size_t)used;
	}
	return 0;
}

/*
 * fuzz-priv-proto.c - libFuzzer harness for the helper protocol decoder:
 * frames parsed back to back from arbitrary bytes, then every field getter
 * driven by the remaining bytes (the helper decodes whatever a compromised
 * listener sends, so none of this may read out of bounds or leak).
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		struct priv_msg m;
		long used = priv_frame_parse(data, size, &m);
		if (used <= 0) {
			priv_msg_release(&m);
			break;
		}
		/* Decode the body with a getter sequence chosen by its bytes. */
		for (unsigned i = 0; i < 64 && !m.bad && m.rpos < m.body.len; i++) {
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

/*
 * fuzz-tlsproof.c - libFuzzer harness for tlsproof_verify,
 * tlsproof_check_tbs and tlssign_sign on arbitrary bytes.
 *
 * Input: a list of handshake messages, each a type byte, a flags byte
 * (bit 0: from the client), a 24-bit big-endian length and the body (cut
 * short where the input ends), at most TLSPROOF_MAX_MSGS + 1 of them (one
 * over the cap, to reach its refusal).  tests/unit/test-tlsproof.c writes
 * real transcripts in this framing (TLSPROOF_CORPUS_DIR): they seed
 * fuzz/corpus/tlsproof/.  Every server signature counts as fresh, so that
 * the seeds get through to the signature checks.
 *
 * Checked: a result is one of enum tlsproof_status; a refusal comes with
 * a reason and an empty result; an acceptance with a version, a client
 * chain of 1..TLSPROOF_MAX_CHAIN certificates inside the input, the leaf
 * within X509_MAX_CLIENT_CERT, and a randomized server scheme.  The
 * whole input also goes to tlsproof_check_tbs, and what passes it must
 * be signed by tlssign_sign with a P-256 key (ecdsa_secp256r1_sha256
 * fits it in both versions): the shape check and the signer agree.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "helper/tlsproof.h"
#include "helper/tlssign.h"
#include "lib/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	key = EVP_EC_gen("P-256");
	if (key == NULL)
		abort();
	return 0;
}

static bool always_fresh(void *arg, uint16_t scheme, const uint8_t *sig,
			 size_t len)
{
	(void)arg;
	(void)scheme;
	(void)sig;
	(void)len;
	return true;
}

static bool inside(const uint8_t *p, size_t len, const uint8_t *data,
		   size_t size)
{
	return p >= data && len <= size && (size_t)(p - data) <= size - len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hs_msg m[TLSPROOF_MAX_MSGS + 1];
	struct tlsproof_result res;
	struct buf sig = BUF_INIT;
	char why[512];
	size_t n = 0, pos = 0;
	int rc, v;

	while (n < TLSPROOF_MAX_MSGS + 1 && size - pos >= 5) {
		size_t len = (size_t)data[pos + 2] << 16 |
			     (size_t)data[pos + 3] << 8 | data[pos + 4];
		m[n].type = data[pos];
		m[n].from_client = data[pos + 1] & 1;
		pos += 5;
		if (len > size - pos)
			len = size - pos;
		m[n].body = data + pos;
		m[n].len = len;
		pos += len;
		n++;
	}

	rc = tlsproof_verify(m, n, always_fresh, NULL, &res, why, sizeof(why));
	if (rc < TLSPROOF_OK || rc > TLSPROOF_INTERNAL)
		abort();
	if (rc != TLSPROOF_OK) {
		if (why[0] == '\0' || res.n_certs != 0 || res.version != 0)
			abort();
	} else {
		if (why[0] != '\0' ||
		    (res.version != TLSPROOF_TLS12 &&
		     res.version != TLSPROOF_TLS13) ||
		    res.n_certs < 1 || res.n_certs > TLSPROOF_MAX_CHAIN ||
		    res.cert_lens[0] > X509_MAX_CLIENT_CERT ||
		    !tlsproof_scheme_randomized(res.server_scheme) ||
		    tlsproof_scheme_find(res.client_scheme) == NULL)
			abort();
		for (size_t i = 0; i < res.n_certs; i++)
			if (res.cert_lens[i] == 0 ||
			    !inside(res.certs[i], res.cert_lens[i], data, size))
				abort();
	}

	v = tlsproof_check_tbs(data, size, why, sizeof(why));
	if (v != -1 && v != TLSPROOF_TLS12 && v != TLSPROOF_TLS13)
		abort();
	if (v == -1 && why[0] == '\0')
		abort();
	if (v != -1 && tlssign_sign(key, 0x0403, data, size, &sig, why,
				    sizeof(why)) != 0) {
		fprintf(stderr, "check_tbs passed, tlssign_sign refused: %s\n",
			why);
		abort();
	}
	if (v == -1 &&
	    tlssign_sign(key, 0x0403, data, size, &sig, why, sizeof(why)) == 0)
		abort();
	buf_release(&sig);
	return 0;
}

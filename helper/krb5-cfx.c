/*
 * krb5-cfx.c - RFC 4121 Wrap tokens (confidentiality, aes*-cts-hmac-sha1-96)
 * with OpenSSL for a Kerberos context taken over from MIT; krb5-cfx.h
 * explains the layouts and what is refused.
 *
 * A sealed token is header(16) || rotate_right(E(Ke, confounder(16) ||
 * data || filler(EC) || header copy(16, RRC 0)) || HMAC-SHA1(Ki, that
 * plaintext)[0..12], RRC), RFC 4121 4.2.4 with RFC 3961/3962 encryption:
 * AES-CBC with ciphertext stealing (CS3, IV 0), Ke and Ki derived with
 * RFC 3961 DK (OpenSSL's KRB5KDF) for key usage 24 (initiator seal: what
 * we unwrap) and 22 (acceptor seal: what we wrap).
 *
 * Must not: return plaintext before the checksum matched, accept a token
 * twice, log, exit, or free a key without wiping it.
 * Entry points: cfx_take_over, cfx_new, cfx_free, cfx_unwrap, cfx_wrap.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "helper/krb5-cfx.h"

#define ENCTYPE_AES128_SHA1 17
#define ENCTYPE_AES256_SHA1 18
#define USAGE_ACCEPTOR_SEAL 22
#define USAGE_INITIATOR_SEAL 24
#define FLAG_SENT_BY_ACCEPTOR 0x01
#define FLAG_SEALED 0x02
#define FLAG_ACCEPTOR_SUBKEY 0x04
#define TOK_LEN 16  /* token header */
#define CONF_LEN 16 /* confounder: one AES block */
#define MAC_LEN 12  /* HMAC-SHA1-96 */
#define RRC_OURS (TOK_LEN + MAC_LEN)
#define WINDOW 64 /* replay window, in tokens */

/* Ke and Ki for one key usage. */
struct usage_keys {
	uint8_t ke[32];
	uint8_t ki[32];
};

/* One base key (the context key or the acceptor subkey). */
struct base_key {
	bool present;
	struct usage_keys in;  /* initiator seal: tokens we unwrap */
	struct usage_keys out; /* acceptor seal: tokens we wrap */
};

struct krb5_cfx {
	size_t keylen;   /* 16 or 32 */
	const char *cts; /* OpenSSL cipher name */
	const char *cbc; /* the same cipher in CBC, for KRB5KDF */
	struct base_key ctx_key, subkey;
	uint64_t send_seq;
	uint64_t recv_base; /* the first sequence number the peer uses */
	uint64_t recv_next; /* one past the highest accepted */
	uint64_t recv_seen; /* bit i: recv_next - 1 - i was accepted */
	time_t endtime;
};

static void set_err(char *err, size_t errlen, const char *text)
{
	snprintf(err, errlen, "%s", text);
}

/* RFC 3961 DK(key, usage || kind) into out (keylen bytes); 0 or -1. */
static int derive(const struct krb5_cfx *c, const uint8_t *key, uint32_t usage,
		  uint8_t kind, uint8_t *out)
{
	uint8_t constant[5] = { (uint8_t)(usage >> 24), (uint8_t)(usage >> 16),
				(uint8_t)(usage >> 8), (uint8_t)usage, kind };
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "KRB5KDF", NULL);
	EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_CIPHER,
						 (char *)c->cbc, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						  (void *)key, c->keylen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_CONSTANT,
						  constant, sizeof(constant)),
		OSSL_PARAM_construct_end(),
	};
	int rc = kctx != NULL && EVP_KDF_derive(kctx, out, c->keylen, params) ==
					 1
			 ? 0
			 : -1;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

static int base_key_init(const struct krb5_cfx *c, struct base_key *b,
			 const uint8_t *key)
{
	b->present = true;
	return derive(c, key, USAGE_INITIATOR_SEAL, 0xAA, b->in.ke) ||
			       derive(c, key, USAGE_INITIATOR_SEAL, 0x55,
				      b->in.ki) ||
			       derive(c, key, USAGE_ACCEPTOR_SEAL, 0xAA,
				      b->out.ke) ||
			       derive(c, key, USAGE_ACCEPTOR_SEAL, 0x55,
				      b->out.ki)
		       ? -1
		       : 0;
}

struct krb5_cfx *cfx_new(int32_t enctype, const uint8_t *key, size_t keylen,
			 const uint8_t *acceptor_subkey, size_t subkeylen,
			 uint64_t send_seq, uint64_t recv_seq, time_t endtime)
{
	size_t want;
	if (enctype == ENCTYPE_AES128_SHA1)
		want = 16;
	else if (enctype == ENCTYPE_AES256_SHA1)
		want = 32;
	else
		return NULL;
	if (key == NULL || keylen != want ||
	    (acceptor_subkey != NULL && subkeylen != want))
		return NULL;
	struct krb5_cfx *c = xcalloc(1, sizeof(*c));
	c->keylen = want;
	c->cts = want == 16 ? "AES-128-CBC-CTS" : "AES-256-CBC-CTS";
	c->cbc = want == 16 ? "AES-128-CBC" : "AES-256-CBC";
	c->send_seq = send_seq;
	c->recv_base = c->recv_next = recv_seq;
	c->endtime = endtime;
	if (base_key_init(c, &c->ctx_key, key) != 0 ||
	    (acceptor_subkey != NULL &&
	     base_key_init(c, &c->subkey, acceptor_subkey) != 0)) {
		cfx_free(c);
		return NULL;
	}
	return c;
}

void cfx_free(struct krb5_cfx *c)
{
	if (c == NULL)
		return;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* The enctype of the context's current key (GSS_C_INQ_SSPI_SESSION_KEY:
 * the key, then MIT's 1.2.840.113554.1.2.2.4 with the enctype appended;
 * every enctype we take is below 128: one byte), or -1. */
static int32_t session_enctype(gss_ctx_id_t ctx)
{
	static const uint8_t prefix[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
					  0x12, 0x01, 0x02, 0x02, 0x04 };
	OM_uint32 major, minor;
	gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
	int32_t enctype = -1;

	major = gss_inquire_sec_context_by_oid(&minor, ctx,
					       GSS_C_INQ_SSPI_SESSION_KEY,
					       &set);
	if (GSS_ERROR(major) || set == GSS_C_NO_BUFFER_SET)
		return -1;
	if (set->count >= 2 && set->elements[1].length == sizeof(prefix) + 1 &&
	    memcmp(set->elements[1].value, prefix, sizeof(prefix)) == 0)
		enctype = ((const uint8_t *)set->elements[1]
				   .value)[sizeof(prefix)];
	if (set->count >= 1 && set->elements[0].value != NULL)
		OPENSSL_cleanse(set->elements[0].value,
				set->elements[0].length);
	gss_release_buffer_set(&minor, &set);
	return enctype;
}

struct krb5_cfx *cfx_take_over(gss_ctx_id_t *ctx)
{
	int32_t enctype = session_enctype(*ctx);
	if (enctype != ENCTYPE_AES128_SHA1 && enctype != ENCTYPE_AES256_SHA1)
		return NULL;
	OM_uint32 minor;
	void *lucid = NULL;
	if (GSS_ERROR(
		    gss_krb5_export_lucid_sec_context(&minor, ctx, 1, &lucid)))
		return NULL;
	/* From here on *ctx is gone: a failure below loses the context,
	 * and the caller's next wrap or unwrap reports that. */
	const gss_krb5_lucid_context_v1_t *l = lucid;
	struct krb5_cfx *c = NULL;
	const gss_krb5_cfx_keydata_t *kd = &l->cfx_kd;
	if (l->version == 1 && l->protocol == 1 && !l->initiate &&
	    (int32_t)kd->ctx_key.type == enctype)
		c = cfx_new(enctype, kd->ctx_key.data, kd->ctx_key.length,
			    kd->have_acceptor_subkey ? kd->acceptor_subkey.data
						     : NULL,
			    kd->have_acceptor_subkey
				    ? kd->acceptor_subkey.length
				    : 0,
			    l->send_seq, l->recv_seq, (time_t)l->endtime);
	if (c == NULL && l->protocol == 1 && kd->have_acceptor_subkey &&
	    (int32_t)kd->acceptor_subkey.type == enctype)
		/* the subkey has the inquired enctype, the context key
		 * another one: only the subkey is ever used then */
		c = cfx_new(enctype, kd->acceptor_subkey.data,
			    kd->acceptor_subkey.length,
			    kd->acceptor_subkey.data,
			    kd->acceptor_subkey.length, l->send_seq,
			    l->recv_seq, (time_t)l->endtime);
	if (l->protocol == 1) {
		/* MIT copies the keys for us: wipe them before its free */
		if (kd->ctx_key.data != NULL)
			OPENSSL_cleanse(kd->ctx_key.data, kd->ctx_key.length);
		if (kd->acceptor_subkey.data != NULL)
			OPENSSL_cleanse(kd->acceptor_subkey.data,
					kd->acceptor_subkey.length);
	}
	gss_krb5_free_lucid_sec_context(&minor, lucid);
	return c;
}

/* AES-CBC-CTS (CS3, IV 0) over n bytes, in place when out == in. */
static int cts(const struct krb5_cfx *c, const uint8_t *key, int enc,
	       const uint8_t *in, uint8_t *out, size_t n)
{
	static EVP_CIPHER *ciphers[2]; /* fetched once, for the process */
	int which = c->keylen == 32;
	if (ciphers[which] == NULL)
		ciphers[which] = EVP_CIPHER_fetch(NULL, c->cts, NULL);
	if (ciphers[which] == NULL || n > INT32_MAX)
		return -1;
	static const uint8_t iv[16];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_CIPHER_PARAM_CTS_MODE,
						 (char *)"CS3", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int outl = 0, fin = 0;
	int ok = x != NULL &&
		 EVP_CipherInit_ex2(x, ciphers[which], key, iv, enc, params) ==
			 1 &&
		 EVP_CipherUpdate(x, out, &outl, in, (int)n) == 1 &&
		 (size_t)outl == n && EVP_CipherFinal_ex(x, out + n, &fin) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

/* HMAC-SHA1(ki, p[0..n])[0..12] into mac; 0 or -1. */
static int checksum(const struct krb5_cfx *c, const uint8_t *ki,
		    const uint8_t *p, size_t n, uint8_t mac[MAC_LEN])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (HMAC(EVP_sha1(), ki, (int)c->keylen, p, n, full, &len) == NULL ||
	    len < MAC_LEN)
		return -1;
	memcpy(mac, full, MAC_LEN);
	return 0;
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Whether seq was already accepted or is too old; NULL if it may pass. */
static const char *replay_check(const struct krb5_cfx *c, uint64_t seq)
{
	if (seq < c->recv_base)
		return "message older than the security context refused";
	if (seq >= c->recv_next)
		return NULL;
	uint64_t back = c->recv_next - 1 - seq;
	if (back >= WINDOW)
		return "message too old (replay window) refused";
	if (c->recv_seen & (UINT64_C(1) << back))
		return "replayed message refused";
	return NULL;
}

static void replay_record(struct krb5_cfx *c, uint64_t seq)
{
	if (seq >= c->recv_next) {
		uint64_t shift = seq - c->recv_next + 1;
		c->recv_seen = shift >= WINDOW ? 0 : c->recv_seen << shift;
		c->recv_seen |= 1;
		c->recv_next = seq + 1;
	} else {
		c->recv_seen |= UINT64_C(1) << (c->recv_next - 1 - seq);
	}
}

static bool expired(const struct krb5_cfx *c)
{
	return c->endtime != 0 && time(NULL) > c->endtime;
}

/* Wipes and drops whatever was appended to b after length keep. */
static void truncate_wipe(struct buf *b, size_t keep)
{
	if (b->len > keep)
		explicit_bzero(b->data + keep, b->len - keep);
	b->len = keep;
	if (b->data != NULL)
		b->data[keep] = '\0';
}

/* Copies n bytes from offset off of the concatenation a || b. */
static void copy_concat(uint8_t *dst, const uint8_t *a, size_t alen,
			const uint8_t *b, size_t off, size_t n)
{
	if (off < alen) {
		size_t k = alen - off < n ? alen - off : n;
		memcpy(dst, a + off, k);
		dst += k;
		n -= k;
		off = alen;
	}
	if (n > 0)
		memcpy(dst, b + (off - alen), n);
}

int cfx_unwrap(struct krb5_cfx *c, const uint8_t *hdr, size_t hdr_len,
	       const uint8_t *sealed, size_t sealed_len, struct buf *plain,
	       char *err, size_t errlen)
{
	if (hdr_len < TOK_LEN || hdr[0] != 0x05 || hdr[1] != 0x04 ||
	    hdr[3] != 0xFF) {
		set_err(err, errlen, "not an RFC 4121 wrap token");
		return -1;
	}
	uint8_t flags = hdr[2];
	if (flags & FLAG_SENT_BY_ACCEPTOR) {
		set_err(err, errlen, "wrap token sent by the acceptor refused");
		return -1;
	}
	if (!(flags & FLAG_SEALED)) {
		set_err(err, errlen,
			"message is not encrypted (integrity-only token "
			"refused)");
		return -1;
	}
	if (flags &
	    ~(FLAG_SENT_BY_ACCEPTOR | FLAG_SEALED | FLAG_ACCEPTOR_SUBKEY)) {
		set_err(err, errlen, "unknown wrap token flags");
		return -1;
	}
	const struct base_key *k = flags & FLAG_ACCEPTOR_SUBKEY ? &c->subkey
								: &c->ctx_key;
	if (!k->present) {
		set_err(err, errlen,
			"wrap token names an acceptor subkey "
			"this context does not have");
		return -1;
	}
	if (expired(c)) {
		set_err(err, errlen, "the security context has expired");
		return -1;
	}
	size_t ec = (size_t)hdr[4] << 8 | hdr[5];
	size_t rrc = (size_t)hdr[6] << 8 | hdr[7];
	uint64_t seq = load_be64(hdr + 8);
	/* The IOV layout MIT's gss_unwrap_iov (HEADER, DATA) takes, which
	 * every client sends: the filler, the encrypted header copy and the
	 * checksum rotated into the header, then the confounder. */
	if (rrc != ec + TOK_LEN + MAC_LEN ||
	    hdr_len != TOK_LEN + rrc + CONF_LEN) {
		set_err(err, errlen,
			"wrap token header length or RRC not as sent by "
			"Windows and MIT (header, rotated tail, confounder)");
		return -1;
	}
	size_t tail = hdr_len - TOK_LEN;
	if (sealed_len > INT32_MAX || tail > INT32_MAX) {
		set_err(err, errlen, "wrap token too long");
		return -1;
	}
	size_t total = tail + sealed_len;
	if (total > INT32_MAX || total < CONF_LEN + ec + TOK_LEN + MAC_LEN) {
		set_err(err, errlen, "wrap token too short");
		return -1;
	}
	const char *why = replay_check(c, seq);
	if (why != NULL) {
		set_err(err, errlen, why);
		return -1;
	}

	/* Undo the rotation into plain: ciphertext || checksum. */
	size_t keep = plain->len;
	buf_reserve(plain, total);
	uint8_t *o = plain->data + keep;
	size_t r = rrc % total;
	copy_concat(o, hdr + TOK_LEN, tail, sealed, r, total - r);
	copy_concat(o + (total - r), hdr + TOK_LEN, tail, sealed, 0, r);
	plain->len = keep + total;

	size_t clen = total - MAC_LEN;
	uint8_t mac[MAC_LEN];
	why = NULL;
	if (cts(c, k->in.ke, 0, o, o, clen) != 0 ||
	    checksum(c, k->in.ki, o, clen, mac) != 0)
		why = "decryption failed";
	else if (CRYPTO_memcmp(mac, o + clen, MAC_LEN) != 0)
		why = "wrap token checksum does not match";
	else if (memcmp(o + clen - TOK_LEN, hdr, 6) != 0 ||
		 memcmp(o + clen - TOK_LEN + 8, hdr + 8, 8) != 0)
		why = "wrap token header does not match its encrypted copy";
	if (why != NULL) {
		truncate_wipe(plain, keep);
		set_err(err, errlen, why);
		return -1;
	}
	replay_record(c, seq);
	size_t n = clen - CONF_LEN - ec - TOK_LEN;
	memmove(o, o + CONF_LEN, n);
	truncate_wipe(plain, keep + n);
	return 0;
}

int cfx_wrap(struct krb5_cfx *c, const uint8_t *plain, size_t len,
	     struct buf *hdr, struct buf *sealed, char *err, size_t errlen)
{
	if (expired(c)) {
		set_err(err, errlen, "the security context has expired");
		return -1;
	}
	if (len > INT32_MAX - CONF_LEN - TOK_LEN) {
		set_err(err, errlen, "message too long to wrap");
		return -1;
	}
	const struct base_key *k = c->subkey.present ? &c->subkey : &c->ctx_key;
	uint8_t tok[TOK_LEN] = {
		0x05,
		0x04,
		FLAG_SENT_BY_ACCEPTOR | FLAG_SEALED |
			(c->subkey.present ? FLAG_ACCEPTOR_SUBKEY : 0),
		0xFF,
		0,
		0,
		0,
		0
	};
	store_be64(tok + 8, c->send_seq);

	/* The plaintext confounder || data || header (EC 0, RRC 0) in
	 * sealed, checksummed, then encrypted in place. */
	size_t keep = sealed->len, n = CONF_LEN + len + TOK_LEN;
	buf_reserve(sealed, n);
	uint8_t *p = sealed->data + keep;
	uint8_t mac[MAC_LEN];
	if (RAND_bytes(p, CONF_LEN) != 1) {
		set_err(err, errlen, "no random bytes for the confounder");
		return -1;
	}
	if (len > 0)
		memcpy(p + CONF_LEN, plain, len);
	memcpy(p + CONF_LEN + len, tok, TOK_LEN);
	sealed->len = keep + n;
	if (checksum(c, k->out.ki, p, n, mac) != 0 ||
	    cts(c, k->out.ke, 1, p, p, n) != 0) {
		truncate_wipe(sealed, keep);
		set_err(err, errlen, "encryption failed");
		return -1;
	}
	/* Rotated right by 28: the last ciphertext block and the checksum,
	 * then the confounder's block, go to the header. */
	tok[6] = 0;
	tok[7] = RRC_OURS;
	buf_append(hdr, tok, TOK_LEN);
	buf_append(hdr, p + n - TOK_LEN, TOK_LEN);
	buf_append(hdr, mac, MAC_LEN);
	buf_append(hdr, p, CONF_LEN);
	memmove(p, p + CONF_LEN, len);
	sealed->len = keep + len;
	sealed->data[sealed->len] = '\0';
	c->send_seq++;
	return 0;
}

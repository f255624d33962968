/*
 * test-x509.c - unit tests of lib/x509.c: client certificate
 * verification (every refusal), the names and thumbprints it extracts,
 * the listener key-pair check, and tls-server-end-point against the
 * Python implementation the integration tests use (gssclient.py), and
 * against RFC 5929 for SHA-224, which gssclient.py does not know.
 *
 * The certificates come from tests/integration/lib/pki.py, run once into a
 * temporary directory (removed at the end) with /usr/bin/python3; the
 * source tree is $WINRMD_SRCDIR (default ".").
 */
#include "autoconfig.h"

#include "tests/lib/tap.h"
#include "lib/util.h"
#include "lib/x509.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define PYTHON "/usr/bin/python3"

static const char *srcdir = ".";
static char pki_dir[] = "/tmp/winrmd-test-x509-XXXXXX";

/* 2030-01-01T00:00:00Z: every "valid" test certificate is valid then. */
#define T_2030 ((time_t)1893456000)
/* 2001-06-01T00:00:00Z: only client_expired (2001..2002) is valid then. */
#define T_2001 ((time_t)991353600)

/*
 * Helpers.
 */

/* Runs argv, returns its exit status (-1: not run); stdout into out (may
 * be NULL: discarded). */
static int run(char *const argv[], struct buf *out)
{
	int fds[2];
	pid_t pid;
	int status;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		char chunk[4096];
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		if (out != NULL)
			buf_append(out, chunk, (size_t)n);
	}
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *pki_path(const char *name, const char *ext)
{
	return xasprintf("%s/%s%s", pki_dir, name, ext);
}

static int read_path(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	buf_append(out, "", 0);
	return 0;
}

/* DER of a PKI certificate (caller releases). */
static struct buf der_of(const char *name)
{
	struct buf b = BUF_INIT;
	char *p = pki_path(name, ".der");
	if (read_path(p, &b) != 0)
		tap_diag("cannot read %s", p);
	free(p);
	return b;
}

/* The thumbprint pki.py computed (hashlib), without the newline. */
static char *sha1_of(const char *name)
{
	struct buf b = BUF_INIT;
	char *p = pki_path(name, ".sha1");
	read_path(p, &b);
	free(p);
	while (b.len > 0 &&
	       (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\0'))
		b.data[--b.len] = '\0';
	return buf_steal(&b);
}

static void write_path(const char *path, const void *data, size_t len,
		       mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		tap_diag("cannot write %s", path);
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* x509_verify_client on the named PKI certificates (leaf first). */
static int verify_names(const char *const *names, size_t n, const char *ca,
			time_t now, struct x509_client *c, char *err,
			size_t errlen)
{
	struct buf ders[8];
	const uint8_t *p[8];
	size_t lens[8];
	char *ca_path = ca[0] == '/' ? xstrdup(ca) : pki_path(ca, ".pem");
	int r;

	for (size_t i = 0; i < n; i++) {
		ders[i] = der_of(names[i]);
		p[i] = ders[i].data;
		lens[i] = ders[i].len;
	}
	r = x509_verify_client(p, lens, n, ca_path, now, c, err, errlen);
	for (size_t i = 0; i < n; i++)
		buf_release(&ders[i]);
	free(ca_path);
	return r;
}

static int verify1(const char *name, time_t now, struct x509_client *c,
		   char *err, size_t errlen)
{
	const char *names[] = { name };
	return verify_names(names, 1, "ca", now, c, err, errlen);
}

/*
 * Accepted certificates.
 */

static void test_valid(void)
{
	struct x509_client c;
	char err[512], *tp, *ca_tp, *inter_tp;

	ca_tp = sha1_of("ca");
	inter_tp = sha1_of("intermediate");

	is_int(verify1("client_alice", 0, &c, err, sizeof(err)), X509C_OK,
	       "alice (UPN) verifies at the current time");
	is_str(err, "", "no reason text on success");
	is_int(c.n_upns, 1, "alice: one UPN");
	if (c.n_upns == 1)
		is_str(c.upns[0], "alice@WINRMD.TEST", "alice: the UPN");
	is_int(c.n_emails, 0, "alice: no rfc822Name");
	is_str(c.subject, "CN=alice", "alice: subject DN as text");
	is_str(c.issuer, "CN=WinRM Test CA", "alice: issuer DN as text");
	tp = sha1_of("client_alice");
	is_str(c.thumbprint, tp, "alice: leaf thumbprint (40 upper hex)");
	free(tp);
	is_str(c.issuer_thumbprint, ca_tp,
	       "alice: issuer thumbprint is the CA's");
	x509_client_release(&c);
	ok(c.upns == NULL && c.subject == NULL && c.n_upns == 0,
	   "release empties the struct");
	x509_client_release(&c);
	ok(1, "releasing twice is harmless");

	is_int(verify1("client_alice", T_2030, &c, err, sizeof(err)), X509C_OK,
	       "alice verifies at a fixed time (2030)");
	x509_client_release(&c);

	is_int(verify1("client_bob", 0, &c, err, sizeof(err)), X509C_OK,
	       "bob (rfc822Name) verifies");
	is_int(c.n_upns, 0, "bob: no UPN");
	ok(c.n_emails == 1 && strcmp(c.emails[0], "bob@example.net") == 0,
	   "bob: rfc822Name bob@example.net");
	x509_client_release(&c);

	is_int(verify1("client_both", 0, &c, err, sizeof(err)), X509C_OK,
	       "carol (UPN and rfc822Name) verifies");
	ok(c.n_upns == 1 && strcmp(c.upns[0], "carol@WINRMD.TEST") == 0,
	   "carol: UPN");
	ok(c.n_emails == 1 && strcmp(c.emails[0], "carol@example.net") == 0,
	   "carol: rfc822Name");
	x509_client_release(&c);

	is_int(verify1("client_wild", 0, &c, err, sizeof(err)), X509C_OK,
	       "client_wild verifies");
	ok(c.n_upns == 1 && strcmp(c.upns[0], "alice@sub.example.net") == 0 &&
		   c.n_emails == 1 &&
		   strcmp(c.emails[0], "alice@wild.example.org") == 0,
	   "client_wild: both names");
	x509_client_release(&c);

	is_int(verify1("client_disabled", 0, &c, err, sizeof(err)), X509C_OK,
	       "erin's certificate verifies (the mapping disables her)");
	x509_client_release(&c);

	const char *chain[] = { "client_inter", "intermediate" };
	is_int(verify_names(chain, 2, "ca", 0, &c, err, sizeof(err)), X509C_OK,
	       "dave, issued by the intermediate, verifies with "
	       "the intermediate sent");
	is_str(c.issuer_thumbprint, inter_tp,
	       "dave: issuer thumbprint is "
	       "the intermediate's (the direct issuer), not the root's");
	ok(c.n_upns == 1 && strcmp(c.upns[0], "dave@WINRMD.TEST") == 0,
	   "dave: UPN");
	is_str(c.issuer, "CN=WinRM Test Intermediate CA", "dave: issuer DN");
	x509_client_release(&c);

	is_int(verify1("client_max", 0, &c, err, sizeof(err)), X509C_OK,
	       "a client certificate of exactly 16384 bytes is accepted");
	ok(c.n_upns == 1 && strcmp(c.upns[0], "alice@WINRMD.TEST") == 0,
	   "the padded certificate's UPN");
	x509_client_release(&c);

	/* a CA file with several certificates */
	char *bundle = pki_path("bundle", ".pem");
	struct buf b = BUF_INIT;
	char *p1 = pki_path("ca", ".pem"), *p2 = pki_path("rogue_ca", ".pem");
	read_path(p2, &b);
	b.len = strlen((char *)b.data);
	read_path(p1, &b);
	write_path(bundle, b.data, strlen((char *)b.data), 0644);
	const char *rogue[] = { "client_rogue" };
	is_int(verify_names(rogue, 1, bundle, 0, &c, err, sizeof(err)),
	       X509C_OK, "a CA file with two CAs trusts the second one too");
	tp = sha1_of("rogue_ca");
	is_str(c.issuer_thumbprint, tp, "issuer thumbprint of the rogue CA");
	free(tp);
	x509_client_release(&c);
	const char *alice[] = { "client_alice" };
	is_int(verify_names(alice, 1, bundle, 0, &c, err, sizeof(err)),
	       X509C_OK, "... and the first one");
	x509_client_release(&c);
	free(p1);
	free(p2);
	free(bundle);
	buf_release(&b);
	free(ca_tp);
	free(inter_tp);
}

/*
 * Refusals: the code, the reason, and an empty struct.
 */

static void refused(int got, int want, const char *err, const char *needle,
		    const struct x509_client *c, const char *what)
{
	is_int(got, want, "%s: refused", what);
	contains(err, needle, "%s: reason", what);
	ok(c->upns == NULL && c->emails == NULL && c->subject == NULL &&
		   c->thumbprint[0] == '\0',
	   "%s: nothing filled in", what);
}

static void test_size_and_der(void)
{
	struct x509_client c;
	char err[512];
	struct buf over = der_of("client_over"), alice = der_of("client_alice");
	const uint8_t *p[10];
	size_t lens[10];
	int r;

	p[0] = over.data;
	lens[0] = over.len;
	is_int(over.len, 16385, "client_over is 16385 bytes");
	r = x509_verify_client(p, lens, 1, NULL, 0, &c, err, sizeof(err));
	refused(r, X509C_TOO_LARGE, err,
		"client certificate of 16385 bytes "
		"is larger than the 16384 bytes allowed",
		&c, "16385-byte certificate");

	/* size comes first: 16385 bytes of garbage give the same reason */
	uint8_t *junk = xcalloc(1, 16385);
	p[0] = junk;
	r = x509_verify_client(p, lens, 1, "/nonexistent", 0, &c, err,
			       sizeof(err));
	refused(r, X509C_TOO_LARGE, err, "16385 bytes", &c,
		"16385 bytes of garbage (size checked before parsing)");

	lens[0] = 100;
	r = x509_verify_client(p, lens, 1, "/nonexistent", 0, &c, err,
			       sizeof(err));
	refused(r, X509C_BAD_DER, err,
		"client certificate is not a "
		"DER-encoded X.509 certificate",
		&c, "100 zero bytes");

	r = x509_verify_client(p, lens, 0, NULL, 0, &c, err, sizeof(err));
	refused(r, X509C_NO_CERT, err, "no client certificate", &c,
		"no certificate at all");
	lens[0] = 0;
	r = x509_verify_client(p, lens, 1, NULL, 0, &c, err, sizeof(err));
	refused(r, X509C_NO_CERT, err, "no client certificate", &c,
		"an empty certificate");

	/* trailing garbage */
	uint8_t *trail = xmalloc(alice.len + 1);
	memcpy(trail, alice.data, alice.len);
	trail[alice.len] = 0;
	p[0] = trail;
	lens[0] = alice.len + 1;
	char *ca = pki_path("ca", ".pem");
	r = x509_verify_client(p, lens, 1, ca, 0, &c, err, sizeof(err));
	refused(r, X509C_BAD_DER, err, "has bytes after the end", &c,
		"certificate with a trailing byte");

	/* the outer length in long form with a leading zero: BER, which
	 * d2i_X509 accepts and the signature does not cover */
	ok(alice.data[0] == 0x30 && alice.data[1] == 0x82,
	   "alice's DER starts 30 82");
	uint8_t *ber = xmalloc(alice.len + 1);
	ber[0] = 0x30;
	ber[1] = 0x83;
	ber[2] = 0x00;
	memcpy(ber + 3, alice.data + 2, alice.len - 2);
	p[0] = ber;
	lens[0] = alice.len + 1;
	r = x509_verify_client(p, lens, 1, ca, 0, &c, err, sizeof(err));
	refused(r, X509C_BAD_DER, err, "is not in DER", &c,
		"BER length encoding");

	/* intermediates: garbage, too many, too large */
	p[0] = alice.data;
	lens[0] = alice.len;
	p[1] = junk;
	lens[1] = 50;
	r = x509_verify_client(p, lens, 2, ca, 0, &c, err, sizeof(err));
	refused(r, X509C_BAD_DER, err,
		"intermediate certificate 1 is not a "
		"DER-encoded",
		&c, "garbage intermediate");
	lens[1] = 0;
	r = x509_verify_client(p, lens, 2, ca, 0, &c, err, sizeof(err));
	refused(r, X509C_NO_CERT, err, "intermediate certificate 1 is empty",
		&c, "empty intermediate");
	for (int i = 1; i < 10; i++) {
		p[i] = alice.data;
		lens[i] = alice.len;
	}
	r = x509_verify_client(p, lens, 10, ca, 0, &c, err, sizeof(err));
	refused(r, X509C_TOO_LARGE, err,
		"9 intermediate certificates sent, "
		"at most 8",
		&c, "nine intermediates");
	uint8_t *huge = xcalloc(1, 65537);
	p[1] = huge;
	lens[1] = 65537;
	r = x509_verify_client(p, lens, 2, ca, 0, &c, err, sizeof(err));
	refused(r, X509C_TOO_LARGE, err,
		"intermediate certificate 1 of "
		"65537 bytes",
		&c, "oversized intermediate");

	/* no error buffer at all, and a tiny one */
	lens[0] = 16385;
	r = x509_verify_client(p, lens, 1, ca, 0, &c, NULL, 0);
	is_int(r, X509C_TOO_LARGE, "works without an error buffer");
	char tiny[8];
	r = x509_verify_client(p, lens, 1, ca, 0, &c, tiny, sizeof(tiny));
	is_str(tiny, "client ", "a small error buffer is truncated");

	free(huge);
	free(ca);
	free(ber);
	free(trail);
	free(junk);
	buf_release(&over);
	buf_release(&alice);
}

static void test_chain_refusals(void)
{
	struct x509_client c;
	char err[512];
	int r;

	r = verify1("client_rogue", 0, &c, err, sizeof(err));
	refused(r, X509C_UNTRUSTED, err,
		"certificate verification failed at "
		"depth 0 (CN=alice, issuer CN=WinRM Rogue CA): unable to get "
		"local issuer certificate",
		&c, "certificate of the rogue CA");
	const char *rogue[] = { "client_rogue", "rogue_ca" };
	r = verify_names(rogue, 2, "ca", 0, &c, err, sizeof(err));
	refused(r, X509C_UNTRUSTED, err,
		"self-signed certificate in "
		"certificate chain",
		&c, "rogue CA sent along");

	r = verify1("client_inter", 0, &c, err, sizeof(err));
	refused(r, X509C_UNTRUSTED, err,
		"unable to get local issuer "
		"certificate",
		&c, "intermediate-issued, intermediate missing");
	const char *inter[] = { "client_inter" };
	char *ipath = pki_path("intermediate", ".pem");
	r = verify_names(inter, 1, ipath, 0, &c, err, sizeof(err));
	refused(r, X509C_UNTRUSTED, err, "unable to get issuer certificate", &c,
		"CA file holding only the intermediate (no partial "
		"chains)");
	free(ipath);

	r = verify1("client_expired", 0, &c, err, sizeof(err));
	refused(r, X509C_UNTRUSTED, err, "certificate has expired", &c,
		"expired certificate");
	r = verify1("client_future", 0, &c, err, sizeof(err));
	refused(r, X509C_UNTRUSTED, err, "certificate is not yet valid", &c,
		"certificate not yet valid");
	r = verify1("client_expired", T_2001, &c, err, sizeof(err));
	is_int(r, X509C_OK,
	       "the expired certificate verifies at a time in "
	       "its validity (2001-06-01)");
	x509_client_release(&c);
	r = verify1("client_alice", T_2001, &c, err, sizeof(err));
	refused(r, X509C_UNTRUSTED, err, "not yet valid", &c,
		"alice at 2001 (before her notBefore)");
	r = verify1("client_future", (time_t)3786912000, &c, err, sizeof(err));
	is_int(r, X509C_OK, "client_future verifies in 2090");
	x509_client_release(&c);

	r = verify1("client_noeku", 0, &c, err, sizeof(err));
	refused(r, X509C_NOT_CLIENT, err,
		"the certificate has no "
		"extendedKeyUsage: clientAuth is required",
		&c, "no extendedKeyUsage");
	r = verify1("client_serverauth", 0, &c, err, sizeof(err));
	refused(r, X509C_NOT_CLIENT, err,
		"may not be used for TLS client "
		"authentication",
		&c, "extendedKeyUsage serverAuth only");
	r = verify1("server", 0, &c, err, sizeof(err));
	refused(r, X509C_NOT_CLIENT, err, "clientAuth", &c,
		"the server's certificate as a client certificate");

	r = verify1("client_badupn", 0, &c, err, sizeof(err));
	refused(r, X509C_BAD_NAME, err,
		"subjectAltName UPN is not a "
		"UTF8String",
		&c, "UPN as IA5String");
	r = verify1("client_nulupn", 0, &c, err, sizeof(err));
	refused(r, X509C_BAD_NAME, err, "NUL or control character", &c,
		"UPN with an embedded NUL");
}

static void test_ca_file(void)
{
	struct x509_client c;
	char err[512];
	const char *alice[] = { "client_alice" };
	char *missing = pki_path("missing", ".pem");
	char *der = pki_path("ca", ".der");
	char *junk = pki_path("junk", ".pem");
	int r;

	r = verify_names(alice, 1, missing, 0, &c, err, sizeof(err));
	refused(r, X509C_CA_FILE, err,
		"missing.pem: cannot open: No such "
		"file or directory",
		&c, "missing CA file");
	r = verify_names(alice, 1, der, 0, &c, err, sizeof(err));
	refused(r, X509C_CA_FILE, err, "ca.der: no PEM certificate in it", &c,
		"CA file in DER");
	r = verify_names(alice, 1, pki_dir, 0, &c, err, sizeof(err));
	refused(r, X509C_CA_FILE, err, "not a regular file", &c,
		"CA file is a directory");
	struct buf b = BUF_INIT;
	char *ca = pki_path("ca", ".pem");
	read_path(ca, &b);
	buf_append_str(&b, "-----BEGIN CERTIFICATE-----\n!!!!\n"
			   "-----END CERTIFICATE-----\n");
	write_path(junk, b.data, strlen((char *)b.data), 0644);
	r = verify_names(alice, 1, junk, 0, &c, err, sizeof(err));
	refused(r, X509C_CA_FILE, err,
		"the PEM block after certificate 1 is "
		"malformed",
		&c, "CA file with a broken second block");

	struct buf d = der_of("client_alice");
	const uint8_t *p[1] = { d.data };
	size_t lens[1] = { d.len };
	r = x509_verify_client(p, lens, 1, NULL, 0, &c, err, sizeof(err));
	refused(r, X509C_CA_FILE, err, "no CA file is configured", &c,
		"no CA file");
	r = x509_verify_client(p, lens, 1, "", 0, &c, err, sizeof(err));
	is_int(r, X509C_CA_FILE, "an empty CA file name is refused too");
	buf_release(&d);
	buf_release(&b);
	free(ca);
	free(junk);
	free(der);
	free(missing);
}

/*
 * tls-server-end-point against gssclient.py.
 */

static void test_end_point(void)
{
	static const char *const names[] = {
		"server",        "server_ec",      "server_sha1",
		"server_sha512", "server_ed25519", "client_alice",
		"ec_ca",
	};
	static const size_t want_len[] = { 32, 48, 32, 64, 32, 32, 48 };
	enum { N = sizeof(names) / sizeof(names[0]) };
	char *libdir = xasprintf("%s/tests/integration/lib", srcdir);
	char *argv[N + 5];
	struct buf out = BUF_INIT;
	int k = 0;

	argv[k++] = (char *)PYTHON;
	argv[k++] = (char *)"-c";
	argv[k++] =
		(char *)"import sys\n"
			"sys.path.insert(0, sys.argv[1])\n"
			"from gssclient import tls_server_end_point\n"
			"for p in sys.argv[2:]:\n"
			"    print(tls_server_end_point(open(p, 'rb').read()).hex())\n";
	argv[k++] = libdir;
	for (size_t i = 0; i < N; i++)
		argv[k++] = pki_path(names[i], ".der");
	argv[k] = NULL;
	int status = run(argv, &out);
	is_int(status, 0, "gssclient.tls_server_end_point runs");
	buf_append(&out, "", 0);

	char *line = (char *)out.data;
	for (size_t i = 0; i < N; i++) {
		struct buf der = der_of(names[i]);
		uint8_t ep[X509_END_POINT_MAX];
		size_t eplen = sizeof(ep);
		int r = x509_server_end_point(der.data, der.len, ep, &eplen);
		struct buf hex = BUF_INIT;
		for (size_t j = 0; j < eplen; j++)
			buf_printf(&hex, "%02x", ep[j]);
		char *nl = line != NULL ? strchr(line, '\n') : NULL;
		if (nl != NULL)
			*nl = '\0';
		is_int(r, 0, "%s: end point computed", names[i]);
		is_int(eplen, 21 + want_len[i],
		       "%s: prefix and a %zu-byte hash", names[i], want_len[i]);
		ok(memcmp(ep, "tls-server-end-point:", 21) == 0,
		   "%s: starts with tls-server-end-point:", names[i]);
		is_str((char *)hex.data, line != NULL ? line : "",
		       "%s: same bytes as gssclient.py", names[i]);
		line = nl != NULL ? nl + 1 : NULL;
		buf_release(&hex);
		buf_release(&der);
		free(argv[4 + i]);
	}

	/* RFC 5929: the signature's hash whatever it is (but MD5/SHA-1);
	 * gssclient.py's table lacks SHA-224 and would use SHA-256 */
	struct buf d224 = der_of("server_sha224");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint8_t ep[X509_END_POINT_MAX];
	size_t eplen = sizeof(ep);
	EVP_Digest(d224.data, d224.len, md, &mdlen, EVP_sha224(), NULL);
	is_int(x509_server_end_point(d224.data, d224.len, ep, &eplen), 0,
	       "server_sha224: end point computed");
	ok(eplen == 21 + 28 && mdlen == 28 && memcmp(ep + 21, md, 28) == 0,
	   "server_sha224: SHA-224 of the certificate (RFC 5929)");
	buf_release(&d224);

	struct buf der = der_of("server_ec");
	eplen = 21 + 47;
	is_int(x509_server_end_point(der.data, der.len, ep, &eplen), -1,
	       "output one byte too small: refused");
	eplen = sizeof(ep);
	is_int(x509_server_end_point(der.data, der.len - 1, ep, &eplen), -1,
	       "truncated certificate: refused");
	is_int(x509_server_end_point((const uint8_t *)"hello", 5, ep, &eplen),
	       -1, "garbage: refused");
	is_int(x509_server_end_point(der.data, 0, ep, &eplen), -1,
	       "empty: refused");
	buf_release(&der);
	buf_release(&out);
	free(libdir);
}

/*
 * Listener key pairs.
 */

static void keypair(const char *cert, const char *key, int want,
		    const char *needle, const char *what)
{
	char err[1024];
	char *c = cert[0] == '/' ? xstrdup(cert) : pki_path(cert, "");
	char *k = key[0] == '/' ? xstrdup(key) : pki_path(key, "");
	int r = x509_check_keypair(c, k, err, sizeof(err));

	is_int(r, want, "keypair %s: result", what);
	if (needle[0] == '\0')
		is_str(err, "", "keypair %s: no message", what);
	else
		contains(err, needle, "keypair %s: message", what);
	free(c);
	free(k);
}

static void test_keypair(void)
{
	keypair("server.pem", "server.key", 0, "", "RSA server");
	keypair("server_ec.pem", "server_ec.key", 0, "", "ECDSA server");
	keypair("server.pem", "ca.key", -2,
		"ca.key does not match the "
		"certificate in",
		"mismatched");
	keypair("server.pem", "server_ec.key", -2, "does not match",
		"mismatched key type");
	keypair("server.pem", "nokey.key", -2,
		"nokey.key: cannot open: No "
		"such file or directory",
		"missing key");
	keypair("nocert.pem", "server.key", -1, "certificate file",
		"missing "
		"certificate");
	keypair("nocert.pem", "server.key", -1,
		"nocert.pem: cannot open: No "
		"such file",
		"missing certificate says why");
	keypair("server.der", "server.key", -1, "not PEM", "DER certificate");
	keypair("server.key", "server.key", -1,
		"no CERTIFICATE in it (it "
		"holds a PRIVATE KEY)",
		"key as certificate");
	keypair("server.pem", "server.pem", -2,
		"no private key in it (it "
		"holds a CERTIFICATE)",
		"certificate as key");
	keypair("server_encrypted.pem", "server_encrypted.key", -2,
		"the private key is encrypted", "encrypted key");
	keypair("client_expired.pem", "client_expired.key", 1,
		"expired on Jan  1 00:00:00 2002 GMT", "expired certificate");
	keypair("client_expired.pem", "client_expired.key", 1,
		"GMT; the certificate in", "several warnings joined");
	keypair("client_future.pem", "client_future.key", 1,
		"is not valid before Jan  1 00:00:00 2090 GMT", "future");
	keypair("client_alice.pem", "client_alice.key", 1,
		"not for TLS servers (extendedKeyUsage without serverAuth)",
		"client certificate as server certificate");
	keypair("client_inter_chain.pem", "client_inter.key", 1, "serverAuth",
		"chain file: the first certificate counts");
	keypair("client_inter_chain.pem", "intermediate.key", -2,
		"does not match", "chain file: not the second certificate");
	keypair(pki_dir, "server.key", -1, "not a regular file",
		"directory as certificate");

	char *open_key = pki_path("open", ".key");
	struct buf b = BUF_INIT;
	char *k = pki_path("server", ".key");
	read_path(k, &b);
	write_path(open_key, b.data, strlen((char *)b.data), 0644);
	keypair("server.pem", open_key, 1,
		"open.key is readable by every "
		"user",
		"world-readable key");
	buf_release_secret(&b);

	char *broken = pki_path("broken", ".pem");
	const char *text = "-----BEGIN CERTIFICATE-----\n@@@@\n"
			   "-----END CERTIFICATE-----\n";
	write_path(broken, text, strlen(text), 0644);
	keypair(broken, "server.key", -1, "malformed PEM", "broken base64");
	const char *bad_der = "-----BEGIN CERTIFICATE-----\nAAAA\n"
			      "-----END CERTIFICATE-----\n";
	write_path(broken, bad_der, strlen(bad_der), 0644);
	keypair(broken, "server.key", -1,
		"the certificate is not a "
		"DER-encoded",
		"PEM of something else");
	const char *bad_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
			      "-----END PRIVATE KEY-----\n";
	write_path(broken, bad_key, strlen(bad_key), 0600);
	keypair("server.pem", broken, -2, "the private key cannot be parsed",
		"unparsable key");
	write_path(broken, "hello\n", 6, 0600);
	keypair("server.pem", broken, -2, "not PEM", "key file of text");

	/* "openssl ecparam -genkey" style: parameters, then the key */
	char *eckey = pki_path("server_ec", ".key");
	char *withparams = pki_path("withparams", ".key");
	struct buf kb = BUF_INIT;
	buf_append_str(&kb, "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n"
			    "-----END EC PARAMETERS-----\n");
	read_path(eckey, &kb);
	write_path(withparams, kb.data, strlen((char *)kb.data), 0600);
	keypair("server_ec.pem", withparams, 0, "",
		"EC PARAMETERS before the "
		"key");
	buf_release_secret(&kb);
	free(withparams);
	free(eckey);

	char err[4];
	ok(x509_check_keypair("/nonexistent", "/nonexistent", err,
			      sizeof(err)) == -1 &&
		   strlen(err) == 3,
	   "keypair: a small error buffer is truncated");
	is_int(x509_check_keypair("/nonexistent", "/nonexistent", NULL, 0), -1,
	       "keypair: works without an error buffer");
	free(broken);
	free(k);
	free(open_key);
}

/*
 * Files over X509_MAX_FILE: an error naming the file, never the first
 * X509_MAX_FILE bytes taken for the whole file (a valid certificate up
 * front would pass).
 */

/* A copy of pki file name + ext padded with comment lines (text outside
 * PEM blocks) to exactly size bytes; returns its path (caller frees). */
static char *padded(const char *name, const char *ext, size_t size,
		    const char *out_name)
{
	char *src = pki_path(name, ext), *dst = pki_path(out_name, ext);
	struct buf b = BUF_INIT;

	read_path(src, &b);
	while (b.len < size) {
		size_t n = size - b.len > 64 ? 64 : size - b.len;
		char line[64];
		memset(line, 'x', n);
		line[n - 1] = '\n';
		buf_append(&b, line, n);
	}
	write_path(dst, b.data, b.len, 0600);
	buf_release_secret(&b);
	free(src);
	return dst;
}

static void test_file_limits(void)
{
	char want[128];
	snprintf(want, sizeof(want), "larger than %d bytes", X509_MAX_FILE);

	char *at = padded("server", ".pem", X509_MAX_FILE, "at_limit");
	char *over = padded("server", ".pem", X509_MAX_FILE + 1, "over_limit");
	struct stat st;
	ok(stat(at, &st) == 0 && st.st_size == X509_MAX_FILE &&
		   stat(over, &st) == 0 && st.st_size == X509_MAX_FILE + 1,
	   "limits: files of X509_MAX_FILE and one byte more");
	keypair(at, "server.key", 0, "", "certificate file at the limit");
	keypair(over, "server.key", -1, want,
		"certificate file over the "
		"limit");
	keypair(over, "server.key", -1, "over_limit.pem: larger than",
		"certificate file over the limit: named");
	char err[512];
	is_int(x509_check_keypair(over, NULL, err, sizeof(err)), -1,
	       "certificate over the limit without a key: still an error");

	char *key_at = padded("server", ".key", X509_MAX_FILE, "key_at_limit");
	char *key_over = padded("server", ".key", X509_MAX_FILE + 1,
				"key_over_limit");
	keypair("server.pem", key_at, 0, "", "key file at the limit");
	keypair("server.pem", key_over, -2,
		"key_over_limit.key: larger "
		"than",
		"key file over the limit");

	char *ca_at = padded("ca", ".pem", X509_MAX_FILE, "ca_at_limit");
	char *ca_over = padded("ca", ".pem", X509_MAX_FILE + 1,
			       "ca_over_limit");
	const char *alice[] = { "client_alice" };
	struct x509_client c;
	int r = verify_names(alice, 1, ca_at, 0, &c, err, sizeof(err));
	is_int(r, X509C_OK, "CA file at the limit verifies");
	x509_client_release(&c);
	r = verify_names(alice, 1, ca_over, 0, &c, err, sizeof(err));
	refused(r, X509C_CA_FILE, err, want, &c, "CA file over the limit");
	contains(err, "ca_over_limit.pem", "CA file over the limit: named");

	char *files[] = { at, over, key_at, key_over, ca_at, ca_over };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unlink(files[i]);
		free(files[i]);
	}
}

int main(void)
{
	const char *env = getenv("WINRMD_SRCDIR");
	if (env != NULL && env[0] != '\0')
		srcdir = env;

	if (mkdtemp(pki_dir) == NULL) {
		printf("Bail out! cannot create a temporary directory\n");
		return 1;
	}
	char *script = xasprintf("%s/tests/integration/lib/pki.py", srcdir);
	char *argv[] = { (char *)PYTHON, script, (char *)"--out", pki_dir,
			 NULL };
	int status = run(argv, NULL);
	free(script);
	if (status != 0) {
		printf("Bail out! pki.py failed (status %d)\n", status);
		nftw(pki_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}

	test_valid();
	test_size_and_der();
	test_chain_refusals();
	test_ca_file();
	test_end_point();
	test_keypair();
	test_file_limits();

	nftw(pki_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}

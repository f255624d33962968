/*
 * fuzz-x509.c - libFuzzer harness for x509_verify_client and
 * x509_server_end_point on arbitrary bytes.
 *
 * Input: byte 0 gives the number of extra certificates k (byte 0 mod 4);
 * then k + 1 certificates, each but the last preceded by its length (two
 * bytes, big-endian; cut short where the input ends), the last taking the
 * rest.  The first is the leaf, the others are intermediates.  The chain
 * is verified against the fixed CA below (the "WinRM Test CA" of the
 * pki.py run whose certificates seed fuzz/corpus/x509/) at a fixed time
 * (2030-01-01), so that valid seeds get through to the name extraction.
 *
 * Checked: a result is one of enum x509_status; a refusal comes with a
 * reason and an empty struct; an acceptance with two 40-digit upper-case
 * thumbprints, subject and issuer, and names without NULs or control
 * characters; a leaf over X509_MAX_CLIENT_CERT is always refused for its
 * size; an end point is the prefix and a hash (SHA-224 gives 28 bytes:
 * the first crash this harness found was a wrong assumption of at least
 * 32, fuzz/corpus/x509/sha224-signature.der).
 *
 * The CA file is written once, at start, to a temporary file removed at
 * exit.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/x509.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW ((time_t)1893456000) /* 2030-01-01T00:00:00Z */

static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIC8DCCAdigAwIBAgICEAAwDQYJKoZIhvcNAQELBQAwGDEWMBQGA1UEAwwNV2lu\n"
	"Uk0gVGVzdCBDQTAgFw0wMDAxMDEwMDAwMDBaGA8yMDk5MTIzMTIzNTk1OVowGDEW\n"
	"MBQGA1UEAwwNV2luUk0gVGVzdCBDQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCC\n"
	"AQoCggEBAKOwQOahhRVO79pI7H487VP8G3Ujp3Md4aF7npqgcV2oJWyGRnOKVldW\n"
	"8ZlOAQHbAy3g56yJiE2qyqvl9ZI687/uSZY6u30MBjoieyNQel2W9hhobs8pvrCg\n"
	"SNgty/vgvZwuaEQdykMuvshcuK3OzeK/vYue8ku0Qy1rY49ExUBpjVNgIbWpJyI8\n"
	"wu63uEbTuORvtaeq3fdvaWUpNiEUi4dzomQZ12GobCUie8FY+kIrAxa8Pt8+v7/I\n"
	"zGGHR8PRy6Mo+uTpPGCqtK6ehLuaig71Gd68j5hWFty+z1wcaWDRPJrA9m7ZtEyv\n"
	"Qk4hzbANrJBibttzA9SBGDupd+FACjcCAwEAAaNCMEAwDwYDVR0TAQH/BAUwAwEB\n"
	"/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFNtkWztg7AlMjO3DCXPPvJ29Q8UC\n"
	"MA0GCSqGSIb3DQEBCwUAA4IBAQAyt4RBtZQsmr0zuGFb0IjgsD3nowve/BsRGaQW\n"
	"aTVeCq0GmLzOUHVnlvvL1dMUUj9pj3kUE2P3z1FeqM+mIOSIJE0BKVeZRtIIkloc\n"
	"r8IhBzH06dYGh5o1qV6bEWJvnHp6+X/w6q9Z/WY4WhurTBzF2s6ADhUu0e6/Rhhv\n"
	"ks9EPI9+aEy3lByb0PWZUa6q2g7806gB6FxtwvT60l1S81AT9HybyfykgmtvdXby\n"
	"Igks3BRDUlbCN7TRepZE8Co++oqHgVWFAoHbBcUcf25BefjzS4RWs5MroS4qC93y\n"
	"mi4VfTa7YEMo4prUpvVRN+Pz2eRH69xlenlzJmp87tvmNHwk\n"
	"-----END CERTIFICATE-----\n";

static char ca_path[] = "/tmp/winrmd-fuzz-x509-ca-XXXXXX";

static void remove_ca(void)
{
	unlink(ca_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = mkstemp(ca_path);

	(void)argc;
	(void)argv;
	if (fd < 0 || write(fd, ca_pem, sizeof(ca_pem) - 1) !=
			      (ssize_t)(sizeof(ca_pem) - 1)) {
		perror("fuzz-x509: writing the CA file");
		abort();
	}
	close(fd);
	atexit(remove_ca);
	return 0;
}

static void check_thumbprint(const char *t)
{
	if (strlen(t) != 40 || strspn(t, "0123456789ABCDEF") != 40)
		abort();
}

static void check_name(const char *s)
{
	if (s == NULL || s[0] == '\0')
		abort();
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *ders[4];
	size_t lens[4], n = 0, k, pos = 1;
	struct x509_client c;
	char err[512];
	int r;

	if (size == 0)
		return 0;
	k = data[0] % 4;
	for (size_t i = 0; i <= k; i++) {
		size_t len = size - pos;
		if (i < k && size - pos >= 2) {
			len = (size_t)data[pos] << 8 | data[pos + 1];
			pos += 2;
			if (len > size - pos)
				len = size - pos;
		}
		ders[n] = data + pos;
		lens[n++] = len;
		pos += len;
	}

	r = x509_verify_client(ders, lens, n, ca_path, FUZZ_NOW, &c, err,
			       sizeof(err));
	if (r < X509C_OK || r > X509C_INTERNAL)
		abort();
	if (lens[0] > X509_MAX_CLIENT_CERT && r != X509C_TOO_LARGE)
		abort();
	if (r != X509C_OK) {
		if (err[0] == '\0' || c.subject != NULL || c.upns != NULL ||
		    c.emails != NULL || c.thumbprint[0] != '\0')
			abort();
	} else {
		if (err[0] != '\0' || c.subject == NULL || c.issuer == NULL)
			abort();
		check_thumbprint(c.thumbprint);
		check_thumbprint(c.issuer_thumbprint);
		for (size_t i = 0; i < c.n_upns; i++)
			check_name(c.upns[i]);
		for (size_t i = 0; i < c.n_emails; i++)
			check_name(c.emails[i]);
	}
	x509_client_release(&c);

	uint8_t ep[X509_END_POINT_MAX];
	size_t eplen = sizeof(ep);
	if (x509_server_end_point(ders[0], lens[0], ep, &eplen) == 0 &&
	    (eplen <= 21 || eplen > sizeof(ep) ||
	     memcmp(ep, "tls-server-end-point:", 21) != 0))
		abort();
	return 0;
}

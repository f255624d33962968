/*
 * base64-codec.c - winrmd's base64 codec (lib/base64.c) next to OpenSSL's
 * EVP_EncodeBlock / EVP_DecodeBlock, in the same run, on what a shell
 * stream carries: one Receive's worth of output (110,592 bytes, what
 * pywinrm's 153,600-byte envelope holds) encoded, and its text decoded.
 *
 *   base64-codec [SECONDS]   (default 1 per measurement)
 *
 * Each measurement runs the codec over the same buffer until SECONDS have
 * passed; the two codecs alternate for ROUNDS rounds and the best round of
 * each counts (the least disturbed by other load).  Checks that both give
 * the same text and the same bytes back, and exits 1 if not.  Prints
 * GB/s of input for each, and winrmd/OpenSSL.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/base64.h"
#include "lib/util.h"

#define CHUNK 110592 /* bytes of output per Receive (a multiple of 3) */
#define ROUNDS 3

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint8_t plain[CHUNK];
static char text[BASE64_LEN(CHUNK) + 1];
static unsigned char scratch[BASE64_LEN(CHUNK) + 1];
static struct buf decoded;

static void ours_encode(void)
{
	base64_encode_to((char *)scratch, plain, CHUNK);
}

static void openssl_encode(void)
{
	EVP_EncodeBlock(scratch, plain, CHUNK);
}

static void ours_decode(void)
{
	decoded.len = 0;
	if (base64_decode(&decoded, text, BASE64_LEN(CHUNK)) != 0)
		abort();
}

static void openssl_decode(void)
{
	if (EVP_DecodeBlock(scratch, (const unsigned char *)text,
			    BASE64_LEN(CHUNK)) < 0)
		abort();
}

/* GB/s of input over about `seconds`. */
static double rate(void (*run)(void), double seconds, size_t input)
{
	double start = now(), end;
	unsigned long n = 0;
	do {
		for (int i = 0; i < 64; i++)
			run();
		n += 64;
		end = now();
	} while (end - start < seconds);
	return (double)n * (double)input / (end - start) / 1e9;
}

static void compare(const char *what, void (*ours)(void), void (*openssl)(void),
		    double seconds, size_t input)
{
	double best_ours = 0, best_openssl = 0;
	for (int r = 0; r < ROUNDS; r++) {
		double a = rate(ours, seconds, input);
		double b = rate(openssl, seconds, input);
		best_ours = a > best_ours ? a : best_ours;
		best_openssl = b > best_openssl ? b : best_openssl;
	}
	printf("%-7s winrmd %6.2f GB/s   OpenSSL %6.2f GB/s   ratio %5.2f\n",
	       what, best_ours, best_openssl, best_ours / best_openssl);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	if (seconds <= 0 || seconds > 60) {
		fprintf(stderr, "usage: base64-codec [SECONDS (0-60)]\n");
		return 2;
	}
	unsigned seed = 1;
	for (size_t i = 0; i < CHUNK; i++) {
		seed = seed * 1103515245 + 12345;
		plain[i] = (uint8_t)(seed >> 16);
	}
	size_t len = base64_encode_to(text, plain, CHUNK);
	int want = EVP_EncodeBlock(scratch, plain, CHUNK);
	if ((size_t)want != len || memcmp(text, scratch, len) != 0) {
		fprintf(stderr, "the two encoders disagree\n");
		return 1;
	}
	ours_decode();
	if (decoded.len != CHUNK || memcmp(decoded.data, plain, CHUNK) != 0) {
		fprintf(stderr, "decoding does not give the bytes back\n");
		return 1;
	}
	printf("== base64 of %d bytes (one Receive), best of %d rounds of "
	       "%.1f s each\n",
	       CHUNK, ROUNDS, seconds);
	compare("encode", ours_encode, openssl_encode, seconds, CHUNK);
	compare("decode", ours_decode, openssl_decode, seconds, len);
	buf_release(&decoded);
	return 0;
}

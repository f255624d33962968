/*
 * util.h - allocation that cannot fail, a growable byte buffer, and small
 * helpers shared by every module of both binaries.
 *
 * Allocation policy (as OpenSSH's program code): x*alloc abort the process
 * with a log line when memory is exhausted, so callers never check for NULL.
 * A daemon out of memory is restarted by systemd; a half-served request that
 * silently dropped data would be worse.
 */
#ifndef WINRMD_UTIL_H
#define WINRMD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);                 /* caller frees */
void *xcalloc(size_t nmemb, size_t n);   /* caller frees */
void *xrealloc(void *p, size_t n);       /* caller frees the result */
char *xstrdup(const char *s);            /* caller frees */
char *xstrndup(const char *s, size_t n); /* caller frees */
char *xasprintf(const char *fmt, ...)    /* caller frees */
	__attribute__((format(printf, 1, 2)));

/* Zero then free; for buffers that held secrets.  NULL is a no-op. */
void free_secret(void *p, size_t n);
/* Tunes the allocator for messages of a few hundred KiB (see util.c);
 * call once at start, before any thread. */
void malloc_tune_for_messages(void);

/*
 * struct buf: a growable byte buffer.  data is always NUL-terminated one
 * past len (so text can be used as a C string) but may hold binary bytes.
 * buf_init/buf_release fill and empty a caller-owned struct.
 */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* clang-format off */
#define BUF_INIT { NULL, 0, 0 }
/* clang-format on */

void buf_init(struct buf *b);
void buf_release(struct buf *b);        /* frees data; b is empty again */
void buf_release_secret(struct buf *b); /* zeroes data before freeing */
void buf_reset(struct buf *b);          /* len = 0, keeps the allocation */
void buf_reserve(struct buf *b, size_t more);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_append_str(struct buf *b, const char *s);
void buf_append_byte(struct buf *b, uint8_t c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Hands the allocation to the caller (who frees it); b is empty again.
 * Never returns NULL (an empty buffer gives ""). */
char *buf_steal(struct buf *b);

/* Case-insensitive ASCII comparisons. */
bool str_ieq(const char *a, const char *b);
bool str_istarts_with(const char *s, const char *prefix);
/* Parses "true"/"false"/"1"/"0" in any case (clients send True/FALSE). */
int str_parse_bool(const char *s, bool *out);

/* Monotonic clock in milliseconds. */
int64_t time_mono_ms(void);

/* Writes an upper-case random GUID "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX"
 * (36 chars + NUL) from the kernel RNG. */
void guid_generate(char out[37]);
/* True when s is a GUID spelt as above, in either case. */
bool guid_valid(const char *s);

#endif

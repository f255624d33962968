/*
 * keytab.c - the principal names of a Kerberos keytab file (see
 * keytab.h).
 *
 * An entry: a signed 32-bit size (negative: a hole of that many bytes,
 * left by a removed key), then, within those bytes, the number of
 * components (16 bits; version 1 counts the realm too), the realm and the
 * components as 16-bit counted strings, the name type (32 bits, version
 * 2 only), a time stamp, the key version and the key.  Every count is
 * checked against the entry, and the entry against the file.
 *
 * Must not: log, exit, keep global state, or leave key bytes in memory.
 * Entry point: keytab_principals.
 */
#include "autoconfig.h"

#include "lib/keytab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fileio.h"

struct reader {
	const uint8_t *p;
	size_t left;
	bool big; /* version 2: big-endian; version 1: host order */
};

static bool get16(struct reader *r, uint16_t *v)
{
	if (r->left < 2)
		return false;
	if (r->big)
		*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	else
		memcpy(v, r->p, 2);
	r->p += 2;
	r->left -= 2;
	return true;
}

static bool get32(struct reader *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	if (r->big)
		*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
		     (uint32_t)r->p[2] << 8 | r->p[3];
	else
		memcpy(v, r->p, 4);
	r->p += 4;
	r->left -= 4;
	return true;
}

/* A counted string: its bytes at *s, its length in *n. */
static bool get_counted(struct reader *r, const uint8_t **s, size_t *n)
{
	uint16_t len;
	if (!get16(r, &len) || r->left < len)
		return false;
	*s = r->p;
	*n = len;
	r->p += len;
	r->left -= len;
	return true;
}

static void set_err(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

/* Appends one entry's principal (name) to names unless it is there. */
static void add_name(struct buf *names, const char *name)
{
	size_t n = strlen(name);
	const char *s = names->data != NULL ? (const char *)names->data : "";
	for (const char *p = s; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		if ((size_t)(nl - p) == n && memcmp(p, name, n) == 0)
			return;
		p = nl + 1;
	}
	buf_append(names, name, n);
	buf_append_byte(names, '\n');
}

/* One entry of size bytes at r (consumed); false when it is malformed. */
static bool read_entry(struct reader *r, bool v1, struct buf *names)
{
	uint16_t ncomp;
	const uint8_t *realm, *comp;
	size_t rlen, clen;
	if (!get16(r, &ncomp))
		return false;
	if (v1) {
		if (ncomp == 0)
			return false;
		ncomp--; /* version 1 counts the realm */
	}
	if (!get_counted(r, &realm, &rlen))
		return false;
	struct buf name = BUF_INIT;
	bool ok = true;
	for (uint16_t i = 0; i < ncomp && ok; i++) {
		ok = get_counted(r, &comp, &clen);
		if (ok) {
			if (i > 0)
				buf_append_byte(&name, '/');
			buf_append(&name, comp, clen);
		}
	}
	uint32_t u32;
	if (ok && !v1)
		ok = get32(r, &u32); /* name type */
	if (ok)
		ok = get32(r, &u32); /* time stamp */
	if (ok)
		ok = r->left >= 1; /* key version (8 bits) */
	if (ok) {
		buf_append_byte(&name, '@');
		buf_append(&name, realm, rlen);
		/* a NUL inside a name would cut it: show it as '?' */
		for (size_t i = 0; i < name.len; i++)
			if (name.data[i] == '\0' || name.data[i] == '\n')
				name.data[i] = '?';
		add_name(names, (const char *)name.data);
	}
	buf_release(&name);
	return ok;
}

int keytab_principals(const char *path, struct buf *names, char *err,
		      size_t errlen)
{
	struct buf file = BUF_INIT;
	char *why = NULL;
	int count = -1;
	if (file_read_regular(path, KEYTAB_MAX_FILE, &file, NULL, &why) != 0) {
		set_err(err, errlen, "%s", why);
		free(why);
		return -1;
	}
	if (file.len < 2 || file.data[0] != 5 ||
	    (file.data[1] != 1 && file.data[1] != 2)) {
		set_err(err, errlen,
			"%s is not a Kerberos keytab (no 0x0501 or 0x0502 "
			"version at its start)",
			path);
		goto out;
	}
	bool v1 = file.data[1] == 1;
	struct reader r = { file.data + 2, file.len - 2, !v1 };
	count = 0;
	while (r.left > 0) {
		uint32_t size32;
		if (!get32(&r, &size32))
			break; /* a trailing fragment: nothing more */
		int32_t size = (int32_t)size32;
		if (size == 0)
			break;
		uint32_t len = size < 0 ? (uint32_t)0 - size32 : size32;
		if (len > r.left) {
			set_err(err, errlen,
				"%s: an entry runs past the end of the file",
				path);
			count = -1;
			break;
		}
		if (size > 0) {
			struct reader e = { r.p, len, r.big };
			if (!read_entry(&e, v1, names)) {
				set_err(err, errlen, "%s: a malformed entry",
					path);
				count = -1;
				break;
			}
			count++;
		}
		r.p += len;
		r.left -= len;
	}
out:
	buf_release_secret(&file);
	return count;
}

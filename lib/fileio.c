/*
 * fileio.c - bounded reads and atomic replacement of winrmd's files (see
 * fileio.h).
 */
#include "autoconfig.h"

#include "lib/fileio.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

int file_read_regular(const char *path, size_t max, struct buf *out,
		      struct stat *st_r, char **why_r)
{
	struct stat st;
	int e;
	size_t start = out->len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		*why_r = xasprintf("cannot open: %s", strerror(e));
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		*why_r = xasprintf("cannot stat: %s", strerror(e));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		*why_r = xstrdup("not a regular file");
		goto fail;
	}
	/* Room for the whole file and one byte more, to see the end: a file
	 * that does not grow meanwhile is read without a reallocation, which
	 * would leave a copy of its bytes (a private key) in freed memory. */
	if (st.st_size >= 0 && (uintmax_t)st.st_size <= max)
		buf_reserve(out, (size_t)st.st_size + 1);
	for (;;) {
		if (out->cap - out->len <= 1)
			buf_reserve(out, 65536);
		size_t room = out->cap - out->len - 1; /* 1: the final NUL */
		/* at most one byte more than max: enough to see "too large" */
		size_t used = out->len - start; /* at most max here */
		if (room > max - used)
			room = max - used + 1;
		ssize_t n = read(fd, out->data + out->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			*why_r = xasprintf("cannot read: %s", strerror(e));
			goto fail;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len - start > max) {
			e = EFBIG;
			*why_r = xasprintf("larger than %zu bytes", max);
			goto fail;
		}
	}
	close(fd);
	buf_append(out, "", 0); /* NUL-terminated even when empty */
	if (st_r != NULL)
		*st_r = st;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	errno = e;
	return -1;
}

char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static int write_full(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

char *atomic_write_temp(const char *path, const void *data, size_t len,
			mode_t mode, const struct stat *owner,
			enum atomic_step *step_r)
{
	const char *slash = strrchr(path, '/');
	char *dir = path_dir(path);
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir,
			      slash != NULL ? slash + 1 : path);
	free(dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		*step_r = ATOMIC_CREATE;
		free(tmp);
		return NULL;
	}
	if (fchmod(fd, mode) != 0 ||
	    (owner != NULL && fchown(fd, owner->st_uid, owner->st_gid) != 0)) {
		*step_r = ATOMIC_OWNER;
		goto fail;
	}
	*step_r = ATOMIC_WRITE;
	if (write_full(fd, data, len) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return tmp;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = e;
	return NULL;
}

int atomic_install(const char *tmp, const char *path)
{
	if (rename(tmp, path) != 0)
		return -1;
	char *dir = path_dir(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return 0; /* as before: nothing to sync through */
	int r = fsync(fd) != 0 && errno != EINVAL ? 1 : 0;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

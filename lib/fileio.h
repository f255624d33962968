/*
 * fileio.h - reading and replacing winrmd's own files (winrmd.conf and
 * what it includes, certmapping.conf) and reading the PEM files they name
 * (certificates, keys, CAs).  Reads are bounded, refuse anything but a
 * regular file, and fail rather than cut a file short.  A replacement leaves, after a crash,
 * either the old contents or the new ones, never a torn file: write a
 * temporary file beside it, sync it, rename it over the old one, sync the
 * directory.
 */
#ifndef WINRMD_FILEIO_H
#define WINRMD_FILEIO_H

#include <stddef.h>
#include <sys/stat.h>

#include "lib/util.h"

/*
 * Appends the contents of the regular file path (at most max bytes) to
 * out, which stays NUL-terminated; fills *st_r when it is not NULL.
 * Returns 0, or -1 (out as it was) with errno set (EFBIG: larger than max;
 * EINVAL: not a regular file) and *why_r the reason without the path,
 * e.g. "cannot open: No such file or directory", "larger than 1048576
 * bytes" (caller frees).  Never a part of the file.  out grows once,
 * before the first read, for a file that does not grow meanwhile: no copy
 * of its bytes is left in freed memory (keys; release out with
 * buf_release_secret).
 */
int file_read_regular(const char *path, size_t max, struct buf *out,
		      struct stat *st_r, char **why_r);

/* The directory part of path: "." without a slash, "/" for "/name"
 * (caller frees). */
char *path_dir(const char *path);

/* What atomic_write_temp failed at (errno tells why). */
enum atomic_step { ATOMIC_CREATE, ATOMIC_OWNER, ATOMIC_WRITE };

/*
 * Writes data to a new file ".<name>.XXXXXX" in path's directory, with
 * mode and, when owner is not NULL, owner->st_uid and st_gid, and syncs
 * it.  Returns its name (caller frees; caller installs or unlinks it), or
 * NULL with errno set, *step_r set and nothing left behind.
 */
char *atomic_write_temp(const char *path, const void *data, size_t len,
			mode_t mode, const struct stat *owner,
			enum atomic_step *step_r);

/* Renames tmp over path, then syncs the directory.  Returns 0; -1 with
 * errno when the rename failed (path unchanged); 1 with errno when path
 * was replaced but the directory could not be synced (a file system that
 * cannot sync directories, EINVAL, counts as synced). */
int atomic_install(const char *tmp, const char *path);

#endif

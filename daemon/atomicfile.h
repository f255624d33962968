/*
 * atomicfile.h - replacing a file so that a crash leaves either the old
 * contents or the new ones, never a torn file: write a temporary file
 * beside it, sync it, rename it over the old one, sync the directory.
 * Used for winrmd.conf (winrm/config Put) and certmapping.conf.
 */
#ifndef WINRMD_ATOMICFILE_H
#define WINRMD_ATOMICFILE_H

#include <stddef.h>
#include <sys/stat.h>

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

/*
 * ccache.c - the credential caches of shells with delegated Kerberos
 * credentials (see ccache.h): one FILE cache per shell, written with
 * gss_store_cred_into into a new file, given to the user (fchown: the
 * helper keeps CAP_CHOWN for this), then renamed over the old one.
 *
 * Must not: follow a symbolic link it did not make, leave a cache
 * readable by anyone but its user, or keep one after its shell.
 * Entry points: ccache_init, ccache_clear, ccache_store, ccache_remove.
 */
#include "autoconfig.h"

#include "helper/ccache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gssapi/gssapi_ext.h>

#include "lib/log.h"
#include "lib/util.h"

static char *dir; /* NULL: no usable directory, no caches */

static void clear_dir(void)
{
	if (dir == NULL)
		return;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "krb5cc_", 7) == 0)
			unlinkat(dfd, e->d_name, 0);
	closedir(d);
}

void ccache_init(const char *admin_socket)
{
	free(dir);
	dir = NULL;
	const char *slash = strrchr(admin_socket, '/');
	if (slash == NULL)
		return;
	char *path = xasprintf("%.*s/krb5cc", (int)(slash - admin_socket),
			       admin_socket);
	struct stat st;
	if (mkdir(path, 0711) != 0 && errno != EEXIST) {
		log_warn("%s: %s: delegated Kerberos credentials will not be "
			 "kept",
			 path, strerror(errno));
		free(path);
		return;
	}
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 0022) != 0) {
		log_warn("%s is not a directory of root's that only root can "
			 "write: delegated Kerberos credentials will not be "
			 "kept",
			 path);
		free(path);
		return;
	}
	if ((st.st_mode & 07777) != 0711)
		chmod(path, 0711);
	dir = path;
	clear_dir();
}

void ccache_clear(void)
{
	clear_dir();
}

char *ccache_store(gss_cred_id_t cred, uid_t uid, gid_t gid,
		   const char *shell_id)
{
	if (dir == NULL)
		return NULL;
	char *path = xasprintf("%s/krb5cc_%u_%s", dir, (unsigned)uid, shell_id);
	char *tmp = xasprintf("%s.new", path);
	char *name = xasprintf("FILE:%s", tmp);
	unlink(tmp);
	gss_key_value_element_desc el = { "ccache", name };
	gss_key_value_set_desc store = { 1, &el };
	OM_uint32 minor = 0;
	/* overwrite, not the default credentials (FILE caches cannot be
	 * switched to) */
	OM_uint32 major = gss_store_cred_into(&minor, cred, GSS_C_INITIATE,
					      GSS_C_NO_OID, 1, 0, &store, NULL,
					      NULL);
	const char *why = NULL;
	if (GSS_ERROR(major)) {
		why = "gss_store_cred_into failed";
	} else {
		int fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != 0)
			why = "the new cache is not a file of root's";
		else if (fchmod(fd, 0600) != 0 || fchown(fd, uid, gid) != 0)
			why = strerror(errno);
		else if (rename(tmp, path) != 0)
			why = strerror(errno);
		if (fd >= 0)
			close(fd);
	}
	if (why != NULL) {
		log_warn("delegated credentials of uid %u for shell %s not "
			 "kept: %s (%u/%u)",
			 (unsigned)uid, shell_id, why, (unsigned)major,
			 (unsigned)minor);
		unlink(tmp);
		free(path);
		path = NULL;
	}
	free(name);
	free(tmp);
	return path;
}

void ccache_remove(const char *path)
{
	if (path != NULL && unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
}

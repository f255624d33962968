/*
 * certmap-table.c - the CertMapping table in use by the helper: loaded at
 * start and after a configuration change, reloaded when the file changes
 * (identity, size, times), and kept when an edit does not load, so that a
 * bad edit never leaves certificate logins without a table.
 *
 * Entry points: certmap_table_current, certmap_table_install,
 * module_certmap_table (start and reconfigure hooks).
 */
#include "autoconfig.h"

#include "helper/certmap-table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"

/* The table, reloaded when the file changes (identity, size, times). */
static struct certmap *table;
static char *table_path;
static struct stat table_st;
static bool table_missing;
static struct stat bad_st; /* of the last file that did not load */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void set_table(struct certmap *t, const char *path, bool missing,
		      const struct stat *st)
{
	certmap_free(table);
	table = t;
	free(table_path);
	table_path = xstrdup(path);
	table_missing = missing;
	if (!missing)
		table_st = *st;
}

const struct certmap *certmap_table_current(char **error_r)
{
	const char *path = helper_config->certmapping_file;
	struct stat st;
	bool missing = stat(path, &st) != 0;
	if (table != NULL && table_path != NULL &&
	    strcmp(table_path, path) == 0 && missing == table_missing &&
	    (missing || same_file(&st, &table_st)))
		return table;
	struct certmap *t = NULL;
	if (certmap_load_file(path, &t, error_r) != 0) {
		/* A bad edit does not replace the good table in use. */
		if (table == NULL)
			return NULL;
		if (!missing && !same_file(&st, &bad_st)) {
			log_err("certificate mappings not reloaded, the previous "
				"ones stay in use: %s",
				*error_r);
			bad_st = st;
		}
		free(*error_r);
		*error_r = NULL;
		return table;
	}
	set_table(t, path, missing, &st);
	return table;
}

static void certmap_table_preload(void)
{
	char *error = NULL;
	if (certmap_table_current(&error) == NULL) {
		log_err("certificate mappings unusable: %s", LOG_ESC(error));
		free(error);
	}
}

void certmap_table_install(struct certmap *t)
{
	const char *path = helper_config->certmapping_file;
	struct stat st;
	bool missing = stat(path, &st) != 0;
	set_table(t, path, missing, &st);
}

const struct helper_module module_certmap_table = {
	.name = "certmap-table",
	.start = certmap_table_preload,
	.reconfigure = certmap_table_preload,
};
